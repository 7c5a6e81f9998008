//! Finds the kernel's `struct page` array in the dump itself: SPARSEMEM sections from
//! VMCOREINFO (`SYMBOL(mem_section)`, `LENGTH(mem_section)`, `SIZE(mem_section)`,
//! `OFFSET(mem_section.section_mem_map)`, `NUMBER(SECTION_SIZE_BITS)`,
//! `NUMBER(MAX_PHYSMEM_BITS)`), read through the kernel's own page tables.

use kdive_dumpfile::Vmcoreinfo;
use kdive_kspace::KernelSpace;

/// `SECTION_HAS_MEM_MAP` (include/linux/mmzone.h).
const SECTION_HAS_MEM_MAP: u64 = 1 << 1;
/// Flag bits below the encoded mem_map pointer (`SECTION_MAP_LAST_BIT` is at most 6 in the
/// kernels this reads; the pointer is at least 64-byte aligned).
const SECTION_MAP_FLAG_BITS: u64 = 0x3f;

/// Where the `struct page` of each section lives.
pub struct MemMap {
    /// Per section: the encoded mem_map (`struct page` of pfn N is at `coded + N * size`).
    coded: Vec<Option<u64>>,
    pfns_per_section: u64,
    struct_size: u64,
}

impl MemMap {
    /// Reads the section table for PFNs below `max_pfn`.
    pub fn load(ks: &KernelSpace, v: &Vmcoreinfo, max_pfn: u64) -> Result<MemMap, String> {
        let missing = |k: &str| format!("VMCOREINFO has no {k}");
        let root_array = v
            .symbol("mem_section")
            .ok_or_else(|| missing("SYMBOL(mem_section)"))?;
        let roots = v
            .length("mem_section")
            .ok_or_else(|| missing("LENGTH(mem_section)"))?;
        let sec_size = v
            .size("mem_section")
            .ok_or_else(|| missing("SIZE(mem_section)"))?;
        let off_map = v
            .offset("mem_section.section_mem_map")
            .ok_or_else(|| missing("OFFSET(mem_section.section_mem_map)"))?;
        let section_bits = v
            .number("SECTION_SIZE_BITS")
            .ok_or_else(|| missing("NUMBER(SECTION_SIZE_BITS)"))? as u64;
        let physmem_bits = v
            .number("MAX_PHYSMEM_BITS")
            .ok_or_else(|| missing("NUMBER(MAX_PHYSMEM_BITS)"))? as u64;
        let struct_size = v.size("page").ok_or_else(|| missing("SIZE(page)"))?;
        let page_size = v.page_size().unwrap_or(4096);
        let page_shift = page_size.trailing_zeros() as u64;
        // Hostile values must not underflow the shifts below or leave zero sections per root.
        if !(page_shift..40).contains(&section_bits)
            || !(section_bits..=64).contains(&physmem_bits)
            || sec_size == 0
            || sec_size > page_size
        {
            return Err(format!(
                "implausible SECTION_SIZE_BITS {section_bits} / MAX_PHYSMEM_BITS {physmem_bits}"
            ));
        }
        let pfns_per_section = 1u64 << (section_bits - page_shift);
        let nr_sections = 1u64 << (physmem_bits - section_bits);
        // SPARSEMEM_EXTREME: `mem_section` points to LENGTH roots of PAGE_SIZE/SIZE sections
        // each; otherwise it is one flat array of every section.
        let extreme = roots != nr_sections;
        let per_root = if extreme { page_size / sec_size } else { 1 };
        let wanted = max_pfn.div_ceil(pfns_per_section).min(nr_sections);
        let mut coded = vec![None; wanted as usize];
        let mut root_ptr = None;
        for nr in 0..wanted {
            let root = nr / per_root;
            if root >= roots {
                break;
            }
            let base = if extreme {
                if nr % per_root == 0 || root_ptr.is_none() {
                    root_ptr = Some(ks.read_u64(root_array + root * 8).unwrap_or(0));
                }
                match root_ptr {
                    Some(0) | None => continue,
                    Some(p) => p,
                }
            } else {
                root_array
            };
            let addr = base + (nr % per_root) * sec_size + off_map;
            let Ok(map) = ks.read_u64(addr) else { continue };
            if map & SECTION_HAS_MEM_MAP != 0 {
                coded[nr as usize] = Some(map & !SECTION_MAP_FLAG_BITS);
            }
        }
        if coded.iter().all(Option::is_none) {
            return Err("no memory section has a mem_map".into());
        }
        Ok(MemMap {
            coded,
            pfns_per_section,
            struct_size,
        })
    }

    pub fn struct_size(&self) -> u64 {
        self.struct_size
    }

    /// Address of `struct page` for `pfn`, when its section has a mem_map.
    pub fn page_addr(&self, pfn: u64) -> Option<u64> {
        let c = (*self.coded.get((pfn / self.pfns_per_section) as usize)?)?;
        Some(c.wrapping_add(pfn.wrapping_mul(self.struct_size)))
    }

    /// The PFN whose `struct page` is at `addr`, assuming the section layout of `near_pfn`.
    pub fn pfn_of(&self, addr: u64, near_pfn: u64) -> Option<u64> {
        let c = (*self
            .coded
            .get((near_pfn / self.pfns_per_section) as usize)?)?;
        let d = addr.checked_sub(c)?;
        (d % self.struct_size == 0).then_some(d / self.struct_size)
    }

    /// Reads the `struct page`s of `[pfn, pfn + n)` (all in one section) into `buf`.
    pub fn read_pages(&self, ks: &KernelSpace, pfn: u64, n: u64, buf: &mut Vec<u8>) -> bool {
        let Some(addr) = self.page_addr(pfn) else {
            return false;
        };
        buf.resize((n * self.struct_size) as usize, 0);
        ks.read(addr, buf).is_ok()
    }

    pub fn pfns_per_section(&self) -> u64 {
        self.pfns_per_section
    }
}
