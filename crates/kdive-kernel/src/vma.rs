//! A process's memory map (crash's `vm`): each `vm_area_struct` with its range, flags and
//! file — from the maple tree `mm_struct.mm_mt` (6.1+) or the `mm_struct.mmap` list before.

use crate::{AddrExt, Kernel, Result};

/// Most VMAs one address space is walked for (the kernel's default `vm.max_map_count` is
/// 65530).
pub const MAX_VMAS: usize = 1 << 20;

/// One `vm_area_struct`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Vma {
    pub addr: u64,
    pub start: u64,
    pub end: u64,
    pub flags: u64,
    /// Path of `vm_file`; None for anonymous memory.
    pub file: Option<String>,
    /// `vm_file->f_path.dentry->d_inode` (0 for anonymous memory).
    pub inode: u64,
    /// `vm_pgoff`: the file offset of `start`, in pages.
    pub pgoff: u64,
}

/// The VMAs of one address space and what could not be read.
#[derive(Debug, Default, Clone)]
pub struct VmaList {
    pub vmas: Vec<Vma>,
    pub problems: Vec<String>,
}

impl Kernel {
    /// The VMAs of `mm`, in address order.
    pub fn vmas(&self, mm: u64) -> Result<VmaList> {
        let mut out = VmaList::default();
        let addrs: Vec<u64> = if self.layout.has_member("mm_struct", "mm_mt") {
            let tree = mm.off(self.layout.offset("mm_struct", "mm_mt")?);
            let walk = self.maple_entries(tree, MAX_VMAS)?;
            out.problems = walk.problems;
            walk.items.iter().map(|e| e.entry).collect()
        } else {
            let first = self.read_u64(
                mm.off(self.layout.offset("mm_struct", "mmap")?),
                "mm_struct.mmap",
            )?;
            let next = self.layout.offset("vm_area_struct", "vm_next")?;
            let walk = crate::list::walk_chain(first, MAX_VMAS, |v| {
                self.read_u64(v.off(next), "vm_area_struct.vm_next")
            })?;
            out.problems.extend(walk.broken);
            walk.nodes
        };
        let off = |m: &str| self.layout.offset("vm_area_struct", m);
        let (start, end, flags, file) = (
            off("vm_start")?,
            off("vm_end")?,
            off("vm_flags")?,
            off("vm_file")?,
        );
        let f_path = self.layout.offset("file", "f_path")?;
        let path_dentry = self.layout.offset("path", "dentry")?;
        for addr in addrs {
            let read = |o: u64, what: &str| self.read_u64(addr.off(o), what);
            let vma = (|| -> Result<Vma> {
                let vm_file = read(file, "vm_area_struct.vm_file")?;
                let inode = match vm_file {
                    0 => 0,
                    f => {
                        let d =
                            self.read_u64(f.off(f_path).off(path_dentry), "vm_file.f_path.dentry")?;
                        self.dentry_inode(d)?
                    }
                };
                Ok(Vma {
                    inode,
                    pgoff: self.read_member_uint(addr, "vm_area_struct", "vm_pgoff")?,
                    addr,
                    start: read(start, "vm_area_struct.vm_start")?,
                    end: read(end, "vm_area_struct.vm_end")?,
                    flags: read(flags, "vm_area_struct.vm_flags")?,
                    file: match vm_file {
                        0 => None,
                        f => Some(
                            self.path_at(f.off(f_path))
                                .unwrap_or_else(|e| format!("(path unreadable: {e})")),
                        ),
                    },
                })
            })();
            match vma {
                Ok(v) => out.vmas.push(v),
                Err(e) => out.problems.push(format!("VMA {addr:#x}: {e}")),
            }
        }
        Ok(out)
    }
}
