//! System V IPC objects of an IPC namespace: shared memory segments, semaphore arrays and
//! message queues, read from `ipc_namespace.ids[]` (each an IDR of `kern_ipc_perm` pointers).

use crate::walk::Walked;
use crate::{AddrExt, Kernel, Result};

/// `ipc_namespace.ids[]` indexes (ipc/util.h: IPC_SEM_IDS, IPC_MSG_IDS, IPC_SHM_IDS).
const IPC_SEM_IDS: u64 = 0;
const IPC_MSG_IDS: u64 = 1;
const IPC_SHM_IDS: u64 = 2;

/// No namespace holds more IPC objects than this (`IPCMNI_EXTEND` is 16M; a real system holds
/// thousands): a damaged `in_use` must not make the walk unbounded.
const OBJECTS_MAX: usize = 1 << 20;

/// `shm_perm.mode` bits (include/uapi/linux/shm.h: SHM_DEST, SHM_LOCKED).
pub const SHM_DEST: u32 = 0o1000;
pub const SHM_LOCKED: u32 = 0o2000;

/// What every IPC object has: its `struct kern_ipc_perm`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IpcPerm {
    /// The object (`shmid_kernel`, `sem_array` or `msg_queue`), not its perm.
    pub addr: u64,
    pub key: i32,
    pub id: i32,
    pub uid: u32,
    /// `mode`: permission bits, and for shared memory SHM_DEST/SHM_LOCKED.
    pub mode: u32,
}

/// One shared memory segment.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ShmSegment {
    pub perm: IpcPerm,
    /// `shm_segsz`.
    pub bytes: u64,
    /// `shm_nattch`.
    pub nattch: u64,
    /// The inode of its backing shmem or hugetlbfs file.
    pub inode: u64,
    /// Base pages it holds in memory (huge pages counted in base pages).
    pub resident_pages: u64,
    /// Pages swapped out (`shmem_inode_info.swapped`; 0 for hugetlbfs).
    pub swapped_pages: u64,
    /// Backed by hugetlbfs.
    pub huge: bool,
}

/// One semaphore array.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SemArray {
    pub perm: IpcPerm,
    pub nsems: u64,
}

/// One message queue.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MsgQueue {
    pub perm: IpcPerm,
    /// `q_cbytes`: bytes queued.
    pub bytes: u64,
    /// `q_qnum`: messages queued.
    pub messages: u64,
}

/// Which of the namespace's three ID tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpcKind {
    Shm,
    Sem,
    Msg,
}

impl IpcKind {
    fn ids_index(self) -> u64 {
        match self {
            IpcKind::Shm => IPC_SHM_IDS,
            IpcKind::Sem => IPC_SEM_IDS,
            IpcKind::Msg => IPC_MSG_IDS,
        }
    }

    /// The object's struct and the member holding its `kern_ipc_perm`.
    fn container(self) -> (&'static str, &'static str) {
        match self {
            IpcKind::Shm => ("shmid_kernel", "shm_perm"),
            IpcKind::Sem => ("sem_array", "sem_perm"),
            IpcKind::Msg => ("msg_queue", "q_perm"),
        }
    }
}

impl Kernel {
    /// The IPC namespace `task` lives in (`task->nsproxy->ipc_ns`); `init_ipc_ns` for None.
    pub fn ipc_namespace(&self, task: Option<u64>) -> Result<u64> {
        let Some(task) = task else {
            return self.symbol_addr("init_ipc_ns");
        };
        let nsproxy = self.read_member_uint(task, "task_struct", "nsproxy")?;
        if nsproxy == 0 {
            return Err(crate::Error::Corrupt {
                what: format!("task {task:#x}"),
                detail: "task_struct.nsproxy is NULL (the task is exiting)".into(),
            });
        }
        self.read_member_uint(nsproxy, "nsproxy", "ipc_ns")
    }

    /// The live (not yet deleted) objects of one kind in namespace `ns`, in ID-index order, as
    /// their `kern_ipc_perm` addresses; what could not be walked is named in `problems`.
    fn ipc_perms(&self, ns: u64, kind: IpcKind) -> Result<Walked<u64>> {
        let ids = ns
            .off(self.layout.offset("ipc_namespace", "ids")?)
            .off(kind.ids_index() * self.layout.struct_size("ipc_ids")?);
        let mut out = Walked::default();
        let in_use = self.read_member_uint(ids, "ipc_ids", "in_use")? as u32 as usize;
        if in_use == 0 {
            return Ok(out);
        }
        let idr = ids.off(self.layout.offset("ipc_ids", "ipcs_idr")?);
        let xa = idr.off(self.layout.offset("idr", "idr_rt")?);
        let walk = self.xarray_entries(xa, OBJECTS_MAX)?;
        out.problems = walk.problems;
        for e in walk.items {
            if self.read_member_uint(e.entry, "kern_ipc_perm", "deleted")? != 0 {
                continue;
            }
            out.items.push(e.entry);
        }
        if out.items.len() != in_use {
            out.problems.push(format!(
                "ipc_ids.in_use is {in_use}, its IDR holds {} live objects",
                out.items.len()
            ));
        }
        Ok(out)
    }

    /// The common fields of the object whose `kern_ipc_perm` is at `perm`.
    fn ipc_perm(&self, perm: u64, kind: IpcKind) -> Result<IpcPerm> {
        let (sname, member) = kind.container();
        let field = |m: &str| self.read_member_uint(perm, "kern_ipc_perm", m);
        Ok(IpcPerm {
            addr: perm.back(self.layout.offset(sname, member)?),
            key: field("key")? as u32 as i32,
            id: field("id")? as u32 as i32,
            uid: field("uid")? as u32,
            mode: field("mode")? as u32,
        })
    }

    /// Each object of `kind` in `ns`, read by `read`; an object that cannot be read is named
    /// in `problems` and skipped.
    fn ipc_objects<T>(
        &self,
        ns: u64,
        kind: IpcKind,
        read: impl Fn(IpcPerm) -> Result<T>,
    ) -> Result<Walked<T>> {
        let perms = self.ipc_perms(ns, kind)?;
        let mut out = Walked {
            items: Vec::new(),
            problems: perms.problems,
        };
        for p in perms.items {
            match self.ipc_perm(p, kind).and_then(&read) {
                Ok(o) => out.items.push(o),
                Err(e) => out.problems.push(format!("kern_ipc_perm {p:#x}: {e}")),
            }
        }
        Ok(out)
    }

    /// The shared memory segments of namespace `ns`.
    pub fn shm_segments(&self, ns: u64) -> Result<Walked<ShmSegment>> {
        self.ipc_objects(ns, IpcKind::Shm, |perm| {
            let shp = perm.addr;
            let field = |m: &str| self.read_member_uint(shp, "shmid_kernel", m);
            let file = field("shm_file")?;
            let inode = self.read_member_uint(file, "file", "f_inode")?;
            let mapping = self.read_member_uint(inode, "inode", "i_mapping")?;
            let nrpages = self.read_member_uint(mapping, "address_space", "nrpages")?;
            let huge_order = self.hugetlbfs_order(file, inode)?;
            let (resident_pages, swapped_pages) = match huge_order {
                Some(order) => (nrpages << order, 0),
                None => {
                    let info = inode.back(self.layout.offset("shmem_inode_info", "vfs_inode")?);
                    (
                        nrpages,
                        self.read_member_uint(info, "shmem_inode_info", "swapped")?,
                    )
                }
            };
            Ok(ShmSegment {
                perm,
                bytes: field("shm_segsz")?,
                nattch: field("shm_nattch")?,
                inode,
                resident_pages,
                swapped_pages,
                huge: huge_order.is_some(),
            })
        })
    }

    /// For a hugetlbfs file, the order of its huge pages (its superblock's `hstate->order`);
    /// None for any other file.
    fn hugetlbfs_order(&self, file: u64, inode: u64) -> Result<Option<u32>> {
        let Ok(hugetlbfs_fops) = self.symbol_addr("hugetlbfs_file_operations") else {
            return Ok(None);
        };
        let f_op = self.read_member_uint(file, "file", "f_op")?;
        if f_op != hugetlbfs_fops {
            return Ok(None);
        }
        let sb = self.read_member_uint(inode, "inode", "i_sb")?;
        let info = self.read_member_uint(sb, "super_block", "s_fs_info")?;
        let hstate = self.read_member_uint(info, "hugetlbfs_sb_info", "hstate")?;
        let order = self.read_member_uint(hstate, "hstate", "order")? as u32;
        if order >= 32 {
            return Err(crate::Error::Corrupt {
                what: format!("hstate {hstate:#x}"),
                detail: format!("huge page order {order}"),
            });
        }
        Ok(Some(order))
    }

    /// The semaphore arrays of namespace `ns`.
    pub fn sem_arrays(&self, ns: u64) -> Result<Walked<SemArray>> {
        self.ipc_objects(ns, IpcKind::Sem, |perm| {
            let nsems = self.read_member_uint(perm.addr, "sem_array", "sem_nsems")?;
            Ok(SemArray {
                perm,
                nsems: nsems as u32 as u64,
            })
        })
    }

    /// The message queues of namespace `ns`.
    pub fn msg_queues(&self, ns: u64) -> Result<Walked<MsgQueue>> {
        self.ipc_objects(ns, IpcKind::Msg, |perm| {
            let field = |m: &str| self.read_member_uint(perm.addr, "msg_queue", m);
            Ok(MsgQueue {
                bytes: field("q_cbytes")?,
                messages: field("q_qnum")?,
                perm,
            })
        })
    }
}
