//! Hugetlb page sizes: each `hstates[]` entry in use — its order, free and total huge pages
//! and name (`kmem -h`).

use crate::walk::Walked;
use crate::{AddrExt, Kernel, Result};

/// `hstates[]` slots read at most (HUGE_MAX_HSTATE is 2 on x86_64, a few more elsewhere).
const HSTATES_MAX: u64 = 64;

/// One huge page size (`struct hstate`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct HState {
    /// Index in `hstates[]`.
    pub index: u64,
    pub addr: u64,
    /// Pages of the base size per huge page, as a power of two.
    pub order: u32,
    /// Bytes per huge page.
    pub size: u64,
    pub free_huge_pages: u64,
    pub nr_huge_pages: u64,
    /// `hugepages-2048kB`.
    pub name: String,
}

impl Kernel {
    /// Every `hstates[]` entry with a non-zero order, in array order. The array's length
    /// comes from its type, else `hugetlb_max_hstate` (the entries in use); an entry that
    /// cannot be read ends the walk with a problem.
    pub fn hstates(&self) -> Result<Walked<HState>> {
        let base = self.symbol_addr("hstates")?;
        let size = self.layout.struct_size("hstate")?;
        let len = match self
            .layout
            .with_variable_type("hstates", |t, ty| t.array_len(ty))
        {
            Some(n) => n,
            None => u64::from(self.read_u32(
                self.symbol_addr("hugetlb_max_hstate")?,
                "hugetlb_max_hstate",
            )?),
        };
        let mut out = Walked::default();
        if len > HSTATES_MAX {
            out.problems
                .push(format!("hstates[] has {len} entries: read {HSTATES_MAX}"));
        }
        let name_off = self.layout.offset("hstate", "name")?;
        let name_len = self.layout.name_len("hstate", "name", 32);
        for index in 0..len.min(HSTATES_MAX) {
            let addr = base.elem(index, size);
            match self.hstate(index, addr, name_off, name_len) {
                Ok(Some(h)) => out.items.push(h),
                Ok(None) => {}
                Err(e) => {
                    out.problems
                        .push(format!("hstates[{index}] at {addr:#x}: {e}"));
                    break;
                }
            }
        }
        Ok(out)
    }

    /// `hstates[index]`, or None when its order is 0 (not set up).
    fn hstate(
        &self,
        index: u64,
        addr: u64,
        name_off: u64,
        name_len: usize,
    ) -> Result<Option<HState>> {
        let field = |m: &str| self.read_member_uint(addr, "hstate", m);
        let order = field("order")? as u32;
        if order == 0 {
            return Ok(None);
        }
        Ok(Some(HState {
            index,
            addr,
            order,
            size: self.page_size().checked_shl(order).unwrap_or(0),
            free_huge_pages: field("free_huge_pages")?,
            nr_huge_pages: field("nr_huge_pages")?,
            name: self.read_cstr(addr.off(name_off), name_len, "hstate.name")?,
        }))
    }
}
