//! Memory scanning: the readable pages of a virtual or physical range, page by page (holes in
//! the page tables skipped a whole table at a time, pages absent from the dump skipped
//! silently), and the kernel's virtual regions in the order crash's `search` walks them.

use crate::{Kernel, Result};

/// Which kernel region a [`KvRange`] is (crash's `KVADDR_*` range types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum KvKind {
    /// The direct map of RAM (`page_offset_base` .. `high_memory`).
    DirectMap,
    /// The kernel image mapping (`__START_KERNEL_map` .. `_end`).
    Image,
    /// The vmalloc area.
    Vmalloc,
    /// Module memory (crash walks it with the vmalloc area, where modules are allocated).
    Modules,
    /// The `struct page` array.
    Vmemmap,
}

impl KvKind {
    /// Unity-mapped memory: the direct map and the kernel image (what `search -V` leaves out
    /// and `search -K` keeps).
    pub fn is_unity(self) -> bool {
        matches!(self, KvKind::DirectMap | KvKind::Image)
    }
}

/// One kernel virtual range: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct KvRange {
    pub kind: KvKind,
    pub start: u64,
    pub end: u64,
}

impl Kernel {
    /// `high_memory`: the end of the direct map of RAM.
    pub fn high_memory(&self) -> Result<u64> {
        let sym = self.symbol_addr("high_memory")?;
        self.read_u64(sym, "high_memory")
    }

    /// The physical end of RAM the direct map covers (`high_memory`'s physical address).
    pub fn phys_end(&self) -> Result<u64> {
        let base = self.mem.layout().page_offset_base.value;
        Ok(self.high_memory()?.saturating_sub(base))
    }

    /// The kernel's virtual ranges in crash's `search` order: sorted by start address, except
    /// that module memory follows the vmalloc area (crash's vmalloc range runs to the end of
    /// the last vmalloc allocation, which is a module's).
    pub fn kernel_vranges(&self) -> Result<Vec<KvRange>> {
        let layout = self.mem.layout();
        let regions = self.mem.regions();
        let ps = self.page_size();
        let mut out = vec![KvRange {
            kind: KvKind::DirectMap,
            start: layout.page_offset_base.value,
            end: self.high_memory()?,
        }];
        out.push(KvRange {
            kind: KvKind::Vmalloc,
            start: regions.vmalloc.0,
            end: regions.vmalloc.1,
        });
        if let Ok(size) = self.layout.struct_size("page") {
            let pages = self.phys_end()? / ps.max(1);
            let start = layout.vmemmap_base.value;
            out.push(KvRange {
                kind: KvKind::Vmemmap,
                start,
                end: start.saturating_add(pages.saturating_mul(size)),
            });
        }
        out.push(KvRange {
            kind: KvKind::Image,
            start: regions.image_start,
            end: self.symbol_addr("_end")?,
        });
        out.sort_by_key(|r| r.start);
        if let Some(mods) = self.module_extent() {
            let at = out
                .iter()
                .position(|r| r.kind == KvKind::Vmalloc)
                .map_or(out.len(), |i| i + 1);
            out.insert(at, mods);
        }
        Ok(out)
    }

    /// The lowest and (page-rounded) highest address of the loaded modules' memory.
    fn module_extent(&self) -> Option<KvRange> {
        let mods = self.modules().ok()?.modules;
        let ps = self.page_size().max(1);
        let start = mods.iter().map(|m| m.base).min()?;
        let end = mods
            .iter()
            .map(|m| m.base.saturating_add(m.size))
            .max()?
            .checked_next_multiple_of(ps)?;
        Some(KvRange {
            kind: KvKind::Modules,
            start,
            end,
        })
    }

    /// Calls `f(page_va, page)` for each readable page overlapping virtual `[start, end)`, in
    /// address order, under the top-level table at physical `root` (the kernel's when None).
    /// Unmapped stretches are skipped a whole table at a time; pages the dump lacks are
    /// skipped silently. Stops when `f` returns false.
    pub fn scan_virtual(
        &self,
        root: Option<u64>,
        start: u64,
        end: u64,
        mut f: impl FnMut(u64, &[u8]) -> bool,
    ) {
        let ps = self.page_size();
        let mut buf = vec![0u8; ps as usize];
        let mut va = start & !(ps - 1);
        while va < end {
            match self.mem.probe_page(root, va) {
                Ok(pa) => {
                    if self.mem.read_phys(pa, &mut buf).is_ok() && !f(va, &buf) {
                        return;
                    }
                    match va.checked_add(ps) {
                        Some(n) => va = n,
                        None => return,
                    }
                }
                Err(Some(next)) => va = next,
                Err(None) => return,
            }
        }
    }

    /// The first page at or after `start` (below `end`) that the kernel page tables do not
    /// map; `end` when they map all of it.
    pub fn mapped_run_end(&self, start: u64, end: u64) -> u64 {
        let ps = self.page_size();
        let mut va = start & !(ps - 1);
        while va < end {
            if self.mem.probe_page(None, va).is_err() {
                return va.max(start);
            }
            match va.checked_add(ps) {
                Some(n) => va = n,
                None => return end,
            }
        }
        end
    }

    /// Calls `f(page_pa, page)` for each readable page overlapping physical `[start, end)`.
    /// Stops when `f` returns false.
    pub fn scan_physical(&self, start: u64, end: u64, mut f: impl FnMut(u64, &[u8]) -> bool) {
        let ps = self.page_size();
        let mut buf = vec![0u8; ps as usize];
        let mut pa = start & !(ps - 1);
        while pa < end {
            if self.mem.read_phys(pa, &mut buf).is_ok() && !f(pa, &buf) {
                return;
            }
            match pa.checked_add(ps) {
                Some(n) => pa = n,
                None => return,
            }
        }
    }
}
