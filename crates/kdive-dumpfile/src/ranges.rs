//! The source's physical memory as ranges (for tools that copy a dump, like `kdive save`):
//! which ranges hold data, which the writer excluded, and where an ELF vmcore keeps the bytes.

use crate::{Body, Dump};

/// How a physical range is held by the dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtentKind {
    /// Data at this byte offset of the dump's (single, unflattened) file: read it directly.
    File(u64),
    /// Data readable through [`Dump::read_phys`] (compressed, flattened, split).
    Present,
    /// RAM the dump's writer excluded (filtered, or past an ELF segment's `p_filesz`).
    Excluded,
}

/// `[start, end)` in physical bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhysExtent {
    pub start: u64,
    pub end: u64,
    pub kind: ExtentKind,
}

impl Dump {
    /// Every physical range the dump describes, sorted and disjoint. Kdump files are described
    /// page by page from their bitmaps (runs of equal pages are merged).
    pub fn phys_extents(&self) -> Vec<PhysExtent> {
        match &self.body {
            Body::Elf(e) => {
                let direct = !e.src.is_flat();
                e.extents()
                    .iter()
                    .map(|x| PhysExtent {
                        start: x.start,
                        end: x.end,
                        kind: match x.file {
                            Some(off) if direct => ExtentKind::File(off),
                            Some(_) => ExtentKind::Present,
                            None => ExtentKind::Excluded,
                        },
                    })
                    .collect()
            }
            Body::Kdump(k) => {
                let ps = k.page_size;
                let mut out: Vec<PhysExtent> = Vec::new();
                for part in &k.parts {
                    for (start, end, present) in part.pfn_runs() {
                        let kind = if present {
                            ExtentKind::Present
                        } else {
                            ExtentKind::Excluded
                        };
                        match out.last_mut() {
                            Some(l) if l.end == start * ps && l.kind == kind => l.end = end * ps,
                            _ => out.push(PhysExtent {
                                start: start * ps,
                                end: end * ps,
                                kind,
                            }),
                        }
                    }
                }
                out
            }
        }
    }

    /// The dump's ELF notes as stored (PT_NOTE segments, or a kdump file's note area), for
    /// copying them into another dump.
    pub fn note_blob(&self) -> &[u8] {
        &self.note_blob
    }
}
