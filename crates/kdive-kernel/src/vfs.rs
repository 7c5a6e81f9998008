//! The VFS as `files` and `mount` show it: a task's root, cwd and open files (file, dentry,
//! inode, type, path), and the mounts of its namespace. Paths are built the kernel's way
//! (`prepend_path`): dentry names up to the mount's root, then across to the mountpoint in
//! the parent mount, until the namespace's root mount.

use crate::list::walk_list;
use crate::{AddrExt, Kernel, Result};

/// One open file descriptor.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OpenFile {
    pub fd: u64,
    pub file: u64,
    pub dentry: u64,
    pub inode: u64,
    /// REG, DIR, CHR, BLK, FIFO, SOCK, LNK (from `i_mode`).
    pub kind: &'static str,
    pub path: String,
}

/// A task's file context.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TaskFiles {
    pub root: String,
    pub cwd: String,
    /// Inodes of root and cwd (`dentry->d_inode`; 0 when unknown).
    pub root_inode: u64,
    pub cwd_inode: u64,
    pub files: Vec<OpenFile>,
    /// The task has no `files_struct` (exited, or a kernel thread without one).
    pub no_files: bool,
}

/// One mount.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MountInfo {
    pub mount: u64,
    pub superblock: u64,
    pub fstype: String,
    pub devname: String,
    pub dirname: String,
}

/// Bounds: path depth, descriptors, mounts.
const MAX_DEPTH: usize = 256;
const MAX_FDS: u64 = 1 << 20;
const MAX_MOUNTS: usize = 1 << 16;

/// The file type letters of `S_IFMT`.
pub fn mode_kind(mode: u32) -> &'static str {
    match mode & 0o170000 {
        0o100000 => "REG",
        0o040000 => "DIR",
        0o020000 => "CHR",
        0o060000 => "BLK",
        0o010000 => "FIFO",
        0o140000 => "SOCK",
        0o120000 => "LNK",
        _ => "UNKN",
    }
}

impl Kernel {
    fn off(&self, s: &str, m: &str) -> Result<u64> {
        self.layout.offset(s, m)
    }

    /// `dentry->d_name` as a string.
    pub fn dentry_name(&self, dentry: u64) -> Result<String> {
        let qstr = dentry.off(self.off("dentry", "d_name")?);
        let name = self.read_u64(qstr.off(self.off("qstr", "name")?), "dentry.d_name.name")?;
        self.read_cstr(name, 256, "dentry name")
    }

    /// The path of (`vfsmount`, `dentry`), as the kernel's d_path builds it.
    pub fn d_path(&self, vfsmount: u64, dentry: u64) -> Result<String> {
        let d_parent = self.off("dentry", "d_parent")?;
        let mnt_root = self.off("vfsmount", "mnt_root")?;
        let mnt_in_mount = self.off("mount", "mnt")?;
        let mnt_parent = self.off("mount", "mnt_parent")?;
        let mnt_mountpoint = self.off("mount", "mnt_mountpoint")?;
        let mut parts: Vec<String> = Vec::new();
        let (mut mnt, mut d) = (vfsmount, dentry);
        // A (mount, dentry) pair met twice is a loop in damaged parent pointers.
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_DEPTH {
            if d == 0 {
                break;
            }
            if !seen.insert((mnt, d)) {
                return Err(crate::Error::Corrupt {
                    what: format!("path of dentry {dentry:#x}"),
                    detail: format!("parent pointers loop back to dentry {d:#x}"),
                });
            }
            let parent = self.read_u64(d.off(d_parent), "dentry.d_parent")?;
            let root = if mnt != 0 {
                self.read_u64(mnt.off(mnt_root), "vfsmount.mnt_root")?
            } else {
                0
            };
            if d == root || d == parent {
                // A pseudo filesystem's unnamed dentry (a pipe's) outside its mount's root:
                // crash prints no path for it.
                if d != root && parts.is_empty() && self.dentry_name(d)?.is_empty() {
                    return Ok(String::new());
                }
                if mnt == 0 {
                    break;
                }
                let mount = mnt.back(mnt_in_mount);
                let pm = self.read_u64(mount.off(mnt_parent), "mount.mnt_parent")?;
                if pm == mount || pm == 0 {
                    break;
                }
                d = self.read_u64(mount.off(mnt_mountpoint), "mount.mnt_mountpoint")?;
                mnt = pm.off(mnt_in_mount);
                continue;
            }
            parts.push(self.dentry_name(d)?);
            d = parent;
        }
        parts.reverse();
        Ok(format!("/{}", parts.join("/")))
    }

    /// `struct path` at `addr` as a string.
    pub(crate) fn path_at(&self, addr: u64) -> Result<String> {
        let mnt = self.read_u64(addr.off(self.off("path", "mnt")?), "path.mnt")?;
        let dentry = self.read_u64(addr.off(self.off("path", "dentry")?), "path.dentry")?;
        self.d_path(mnt, dentry)
    }

    /// `fs_struct.<member>.dentry->d_inode` (0 when the dentry is NULL).
    fn path_inode(&self, fs: u64, member: &str) -> Result<u64> {
        let path = fs.off(self.off("fs_struct", member)?);
        let dentry = self.read_u64(path.off(self.off("path", "dentry")?), "path.dentry")?;
        self.dentry_inode(dentry)
    }

    /// `dentry->d_inode` (0 for a NULL dentry).
    pub fn dentry_inode(&self, dentry: u64) -> Result<u64> {
        if dentry == 0 {
            return Ok(0);
        }
        self.read_u64(dentry.off(self.off("dentry", "d_inode")?), "dentry.d_inode")
    }

    /// The open descriptors of `files` (a `files_struct`): (fd, `struct file`) for each
    /// non-NULL slot of `fdt->fd[0..max_fds]`, bounded.
    pub fn fd_files(&self, files: u64) -> Result<Vec<(u64, u64)>> {
        let fdt = self.read_u64(
            files.off(self.off("files_struct", "fdt")?),
            "files_struct.fdt",
        )?;
        let max =
            self.read_u32(fdt.off(self.off("fdtable", "max_fds")?), "fdtable.max_fds")? as u64;
        let fd_array = self.read_u64(fdt.off(self.off("fdtable", "fd")?), "fdtable.fd")?;
        let mut out = Vec::new();
        for fd in 0..max.min(MAX_FDS) {
            let file = self.read_u64(fd_array.elem(fd, 8), "fdtable.fd[]")?;
            if file != 0 {
                out.push((fd, file));
            }
        }
        Ok(out)
    }

    /// Root, cwd and open files of a task.
    pub fn task_files(&self, task: u64) -> Result<TaskFiles> {
        let mut out = TaskFiles::default();
        let fs = self.read_u64(task.off(self.off("task_struct", "fs")?), "task_struct.fs")?;
        if fs != 0 {
            out.root = self.path_at(fs.off(self.off("fs_struct", "root")?))?;
            out.cwd = self.path_at(fs.off(self.off("fs_struct", "pwd")?))?;
            out.root_inode = self.path_inode(fs, "root")?;
            out.cwd_inode = self.path_inode(fs, "pwd")?;
        }
        let files = self.read_u64(
            task.off(self.off("task_struct", "files")?),
            "task_struct.files",
        )?;
        if files == 0 {
            out.no_files = true;
            return Ok(out);
        }
        let f_path = self.off("file", "f_path")?;
        let f_inode = self.off("file", "f_inode")?;
        let i_mode = self.off("inode", "i_mode")?;
        let i_ino = self.off("inode", "i_ino")?;
        let path_dentry = self.off("path", "dentry")?;
        let path_mnt = self.off("path", "mnt")?;
        for (fd, file) in self.fd_files(files)? {
            let dentry = self.read_u64(file.off(f_path).off(path_dentry), "file.f_path.dentry")?;
            let mnt = self.read_u64(file.off(f_path).off(path_mnt), "file.f_path.mnt")?;
            let inode = self.read_u64(file.off(f_inode), "file.f_inode")?;
            let mode = if inode != 0 {
                self.read_u32(inode.off(i_mode), "inode.i_mode")? as u16 as u32
            } else {
                0
            };
            let kind = mode_kind(mode);
            let path = match kind {
                // Pseudo filesystems name their dentries through d_op->d_dname.
                "SOCK" => format!(
                    "socket:[{}]",
                    self.read_u64(inode.off(i_ino), "inode.i_ino")?
                ),
                _ => self
                    .d_path(mnt, dentry)
                    .unwrap_or_else(|e| format!("(unreadable: {e})")),
            };
            out.files.push(OpenFile {
                fd,
                file,
                dentry,
                inode,
                kind,
                path,
            });
        }
        Ok(out)
    }

    /// The mounts of the namespace of `task` (`nsproxy->mnt_ns`): its `list` before 6.8, its
    /// `mounts` rbtree since.
    pub fn mounts(&self, task: u64) -> Result<(Vec<MountInfo>, Vec<String>)> {
        let nsproxy = self.read_u64(
            task.off(self.off("task_struct", "nsproxy")?),
            "task_struct.nsproxy",
        )?;
        let ns = self.read_u64(
            nsproxy.off(self.off("nsproxy", "mnt_ns")?),
            "nsproxy.mnt_ns",
        )?;
        let mut problems = Vec::new();
        let mounts: Vec<u64> = if let Ok(list) = self.off("mnt_namespace", "list") {
            let link = self.off("mount", "mnt_list")?;
            let w = walk_list(self, ns.off(list), MAX_MOUNTS);
            if let Some(b) = w.broken {
                problems.push(format!("mount list: {b}"));
            }
            w.nodes.iter().map(|n| n.back(link)).collect()
        } else {
            let root = self.read_u64(
                ns.off(self.off("mnt_namespace", "mounts")?),
                "mnt_namespace.mounts",
            )?;
            let link = self.off("mount", "mnt_node")?;
            self.rb_inorder(root, MAX_MOUNTS, &mut problems)?
                .into_iter()
                .map(|n| n.back(link))
                .collect()
        };
        let mnt = self.off("mount", "mnt")?;
        let sb_off = self.off("vfsmount", "mnt_sb")?;
        let root_off = self.off("vfsmount", "mnt_root")?;
        let mut out = Vec::new();
        for m in mounts {
            let sb = self.read_u64(m.off(mnt).off(sb_off), "vfsmount.mnt_sb")?;
            let ty = self.read_u64(
                sb.off(self.off("super_block", "s_type")?),
                "super_block.s_type",
            )?;
            let name = self.read_u64(
                ty.off(self.off("file_system_type", "name")?),
                "file_system_type.name",
            )?;
            let devname = self.read_u64(
                m.off(self.off("mount", "mnt_devname")?),
                "mount.mnt_devname",
            )?;
            let root = self.read_u64(m.off(mnt).off(root_off), "vfsmount.mnt_root")?;
            out.push(MountInfo {
                mount: m,
                superblock: sb,
                fstype: self.read_cstr(name, 64, "file_system_type.name")?,
                devname: if devname != 0 {
                    self.read_cstr(devname, 256, "mount.mnt_devname")?
                } else {
                    "none".into()
                },
                dirname: self
                    .d_path(m.off(mnt), root)
                    .unwrap_or_else(|e| format!("(unreadable: {e})")),
            });
        }
        Ok((out, problems))
    }

    /// Nodes of an rbtree in order (`rb_node.rb_left`/`rb_right`), bounded; a node reached
    /// twice (a loop in a damaged tree) ends the walk.
    pub fn rb_inorder(
        &self,
        root: u64,
        limit: usize,
        problems: &mut Vec<String>,
    ) -> Result<Vec<u64>> {
        let walk = self.rb_walk(root, crate::rbtree::RbOrder::In, limit)?;
        problems.extend(walk.problems);
        let out = walk.items.into_iter().map(|n| n.node).collect();
        Ok(out)
    }
}
