//! The dump being saved: its physical ranges, and page reads that never hold more than a
//! window of it. ELF vmcores (`/proc/vmcore`) are read straight from the file in mmap windows
//! (falling back to `pread`); every other format goes through `kdive_dumpfile::Dump`.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kdive_dumpfile::{Dump, ExtentKind, PhysExtent};
use kdive_physmem::{PhysError, PhysMem};
use memmap2::{Mmap, MmapOptions};

use crate::error::{Result, SaveError};

/// Highest PFN handled (4 TiB of physical address space in 4 KiB pages): the two bitmaps
/// take `2 * MAX_PFN / 8` bytes (256 MiB at the limit), like makedumpfile without --cyclic.
pub const MAX_PFN: u64 = 1 << 30;

/// The opened SOURCE.
pub struct SourceDump {
    pub path: PathBuf,
    pub dump: Arc<Dump>,
    /// The ELF file itself, for direct reads (`ExtentKind::File` extents).
    file: Option<File>,
    file_len: u64,
    pub extents: Vec<PhysExtent>,
    pub page_size: u64,
    /// One past the highest PFN any extent touches.
    pub max_pfn: u64,
    mmap_ok: std::sync::atomic::AtomicBool,
}

/// A batch of consecutive pages read from the source.
pub enum Window {
    Mapped { map: Mmap, skip: usize },
    Buffer(Vec<u8>),
}

impl Window {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Window::Mapped { map, skip } => &map[*skip..],
            Window::Buffer(b) => b,
        }
    }
}

impl SourceDump {
    /// Opens `path`; a source describing memory above page frame `limit` is refused.
    pub fn open(path: &Path, limit: u64) -> Result<SourceDump> {
        let dump = Dump::open(&[path.to_path_buf()]).map_err(|e| SaveError::NotADump {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        let extents = dump.phys_extents();
        let page_size = dump.header().page_size.max(1);
        let direct = extents
            .iter()
            .any(|e| matches!(e.kind, ExtentKind::File(_)));
        let (file, file_len) = if direct {
            let f = File::open(path).map_err(|e| SaveError::io(path, "open", e))?;
            let len = f
                .metadata()
                .map_err(|e| SaveError::io(path, "stat", e))?
                .len();
            (Some(f), len)
        } else {
            (None, 0)
        };
        let max_pfn = extents
            .iter()
            .map(|e| e.end.div_ceil(page_size))
            .max()
            .unwrap_or(0);
        if max_pfn > limit {
            return Err(SaveError::NotADump {
                path: path.to_path_buf(),
                detail: format!(
                    "it describes physical memory up to {:#x}, beyond the {} kdive save handles",
                    max_pfn.saturating_mul(page_size),
                    human_size(limit.saturating_mul(page_size))
                ),
            });
        }
        Ok(SourceDump {
            path: path.to_path_buf(),
            dump: Arc::new(dump),
            file,
            file_len,
            extents,
            page_size,
            max_pfn,
            mmap_ok: std::sync::atomic::AtomicBool::new(true),
        })
    }

    fn extent_at(&self, addr: u64) -> Option<&PhysExtent> {
        let i = self.extents.partition_point(|e| e.end <= addr);
        self.extents.get(i).filter(|e| e.start <= addr)
    }

    /// Start of the first extent after `addr` (`u64::MAX` when none).
    fn next_start(&self, addr: u64) -> u64 {
        let i = self.extents.partition_point(|e| e.start <= addr);
        self.extents.get(i).map_or(u64::MAX, |e| e.start)
    }

    /// True when the bytes of `[addr, addr+len)` that are in the source can be read: for a
    /// direct ELF file, they lie inside the file (a truncated copy ends early).
    pub fn readable(&self, addr: u64, len: u64) -> bool {
        let mut a = addr;
        while a < addr + len {
            let Some(e) = self.extent_at(a) else {
                // A hole inside the page: zero-filled like makedumpfile does for partial pages.
                a = self.next_start(a).min(addr + len);
                continue;
            };
            let n = e.end.min(addr + len) - a;
            match e.kind {
                ExtentKind::File(off) => {
                    if off + (a - e.start) + n > self.file_len {
                        return false;
                    }
                }
                ExtentKind::Present => {}
                ExtentKind::Excluded => return false,
            }
            a += n;
        }
        true
    }

    /// The first address in `[addr, end)` that cannot be read (as [`Self::readable`] judges
    /// it), or `end`.
    pub fn readable_until(&self, addr: u64, end: u64) -> u64 {
        let mut a = addr;
        while a < end {
            let Some(e) = self.extent_at(a) else {
                a = self.next_start(a).min(end);
                continue;
            };
            let stop = e.end.min(end);
            match e.kind {
                ExtentKind::File(off) => {
                    let file_end = e.start.saturating_add(self.file_len.saturating_sub(off));
                    if file_end < stop {
                        return a.max(file_end);
                    }
                }
                ExtentKind::Present => {}
                ExtentKind::Excluded => return a,
            }
            a = stop;
        }
        end
    }

    /// The first address in `[addr, end)` from which reading works again, or `end`.
    pub fn unreadable_until(&self, addr: u64, end: u64) -> u64 {
        let mut a = addr;
        while a < end {
            let Some(e) = self.extent_at(a) else {
                return a; // a hole reads as zeros
            };
            match e.kind {
                ExtentKind::File(off) => {
                    let file_end = e.start.saturating_add(self.file_len.saturating_sub(off));
                    if a < file_end {
                        return a;
                    }
                }
                ExtentKind::Present => return a,
                ExtentKind::Excluded => {}
            }
            a = e.end.min(end);
        }
        end
    }

    /// Reads `[addr, addr + buf.len())`, zero-filling bytes no extent describes (the edges of
    /// partial pages). Fails on excluded or unreadable bytes.
    pub fn read_filled(&self, addr: u64, buf: &mut [u8]) -> std::result::Result<(), PhysError> {
        let len = buf.len() as u64;
        let mut a = addr;
        while a < addr + len {
            let at = (a - addr) as usize;
            let Some(e) = self.extent_at(a) else {
                let next = self.next_start(a).min(addr + len);
                buf[at..(next - addr) as usize].fill(0);
                a = next;
                continue;
            };
            let n = (e.end.min(addr + len) - a) as usize;
            let dst = &mut buf[at..at + n];
            match e.kind {
                ExtentKind::File(off) => {
                    let f = self.file.as_ref().expect("File extents come with the file");
                    f.read_exact_at(dst, off + (a - e.start))
                        .map_err(|_| PhysError::Truncated(a))?;
                }
                ExtentKind::Present => PhysMem::read_phys(&*self.dump, a, dst)?,
                ExtentKind::Excluded => return Err(PhysError::Excluded(a)),
            }
            a += n as u64;
        }
        Ok(())
    }

    /// Reads pages `[pfn, pfn + n)`: one mmap window when one file-backed extent holds them
    /// all, else a buffer.
    pub fn read_window(&self, pfn: u64, n: u64) -> std::result::Result<Window, PhysError> {
        let ps = self.page_size;
        let (addr, len) = (pfn * ps, n * ps);
        if let (Some(f), Some(e)) = (&self.file, self.extent_at(addr)) {
            if let ExtentKind::File(off) = e.kind {
                let use_map = self.mmap_ok.load(std::sync::atomic::Ordering::Relaxed);
                if use_map && e.end >= addr + len {
                    let foff = off + (addr - e.start);
                    let aligned = foff & !(page_size::get() - 1);
                    let skip = (foff - aligned) as usize;
                    if foff + len <= self.file_len {
                        // SAFETY: read-only private mapping of a dump nobody modifies while we
                        // copy it (as every mmap reader of /proc/vmcore assumes).
                        match unsafe {
                            MmapOptions::new()
                                .offset(aligned)
                                .len(skip + len as usize)
                                .map(f)
                        } {
                            Ok(map) => {
                                #[cfg(unix)]
                                let _ = map.advise(memmap2::Advice::Sequential);
                                return Ok(Window::Mapped { map, skip });
                            }
                            Err(_) => self
                                .mmap_ok
                                .store(false, std::sync::atomic::Ordering::Relaxed),
                        }
                    }
                }
            }
        }
        let mut buf = vec![0u8; len as usize];
        self.read_filled(addr, &mut buf)?;
        Ok(Window::Buffer(buf))
    }
}

/// Physical memory of the source for the kernel address space (small reads: page tables,
/// `struct page`s), without mapping the whole file.
impl PhysMem for SourceDump {
    fn read_phys(&self, addr: u64, buf: &mut [u8]) -> std::result::Result<(), PhysError> {
        let len = buf.len() as u64;
        let mut a = addr;
        while a < addr + len {
            let e = self.extent_at(a).ok_or(PhysError::NotInDump(a))?;
            let n = (e.end.min(addr + len) - a) as usize;
            let at = (a - addr) as usize;
            self.read_filled(a, &mut buf[at..at + n])?;
            a += n as u64;
        }
        Ok(())
    }
}

mod page_size {
    /// The system's page size (mmap offsets must be multiples of it).
    pub fn get() -> u64 {
        // SAFETY: sysconf has no preconditions.
        let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if n > 0 {
            n as u64
        } else {
            4096
        }
    }
}

/// 4 TiB, 64 GiB: a power-of-two size in its largest whole unit.
fn human_size(bytes: u64) -> String {
    const UNITS: [(&str, u32); 4] = [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)];
    for (name, shift) in UNITS {
        if bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return format!("{} {name}", bytes >> shift);
        }
    }
    format!("{bytes} bytes")
}
