//! `struct page` of an address (sparse vmemmap): the fields `kmem ADDR` shows — physical
//! address, mapping, index, reference count, flags and their PG_* names — and its compound
//! head.

use crate::{AddrExt, Kernel, Result};

/// One `struct page`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PageInfo {
    /// Address of the `struct page`.
    pub page: u64,
    pub phys: u64,
    pub mapping: u64,
    pub index: u64,
    pub count: i32,
    pub flags: u64,
    /// Names of the set PG_* bits, lower case without `PG_` (crash's spelling).
    pub names: Vec<String>,
    /// The compound head's `struct page` (this page when it is not a tail page).
    pub head: u64,
}

impl Kernel {
    /// `struct page` address of physical address `phys`.
    pub fn phys_to_page(&self, phys: u64) -> Result<u64> {
        let vmemmap = self.mem.layout().vmemmap_base.value;
        if vmemmap == 0 {
            return Err(crate::Error::MissingSymbol("vmemmap_base".into()));
        }
        let ps = self.page_size();
        Ok(vmemmap.elem(phys / ps.max(1), self.layout.struct_size("page")?))
    }

    /// Physical address of the memory a `struct page` describes.
    pub fn page_to_phys(&self, page: u64) -> Result<u64> {
        let vmemmap = self.mem.layout().vmemmap_base.value;
        let ps = self.page_size();
        Ok((page.back(vmemmap) / self.layout.struct_size("page")?.max(1)).wrapping_mul(ps))
    }

    /// The page holding kernel virtual address `va`.
    pub fn page_info(&self, va: u64) -> Result<PageInfo> {
        self.page_info_phys(self.mem.vtop(va)?)
    }

    /// The page holding physical address `phys`.
    pub fn page_info_phys(&self, phys: u64) -> Result<PageInfo> {
        let ps = self.page_size();
        let page = self.phys_to_page(phys)?;
        let off = |m: &str| self.layout.offset("page", m);
        let flags = self.read_u64(page.off(off("flags")?), "page.flags")?;
        let mapping = self.read_u64(page.off(off("mapping")?), "page.mapping")?;
        let index = self.read_u64(page.off(off("index")?), "page.index")?;
        let count = self.read_u32(page.off(off("_refcount")?), "page._refcount")? as i32;
        let ch = self.read_u64(page.off(off("compound_head")?), "page.compound_head")?;
        let head = if ch & 1 != 0 { ch - 1 } else { page };
        Ok(PageInfo {
            page,
            phys: phys / ps * ps,
            mapping,
            index,
            count,
            flags,
            names: self.page_flag_names(flags),
            head,
        })
    }

    /// Names of the PG_* bits set in `flags` (from `enum pageflags`), in bit order.
    pub fn page_flag_names(&self, flags: u64) -> Vec<String> {
        self.layout
            .with_type("enum pageflags", |t, eid| {
                let nr = t.enumerator_value(eid, "__NR_PAGEFLAGS")?;
                Some(
                    (0..nr.clamp(0, 64))
                        .filter(|b| flags & (1u64 << b) != 0)
                        .filter_map(|b| t.enumerator_name(eid, b))
                        .filter_map(|n| n.strip_prefix("PG_").map(str::to_string))
                        .collect(),
                )
            })
            .unwrap_or_default()
    }
}
