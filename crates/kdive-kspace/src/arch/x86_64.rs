//! x86_64 translation: 4- and 5-level page tables with 2 MiB and 1 GiB pages, the kernel image
//! mapped at `__START_KERNEL_map`, and the direct map at `page_offset_base`.

use kdive_physmem::{PhysError, PhysMem};

use super::{EntryMeaning, KernelRegions, Translation, Translator, WalkStep, WalkTrace};
use crate::error::{Error, Result};
use crate::layout::KernelLayout;

/// `__START_KERNEL_map`: kernel-image virtual addresses are `pa - phys_base + this`.
pub const START_KERNEL_MAP: u64 = 0xffff_ffff_8000_0000;
/// `KERNEL_IMAGE_SIZE` with KASLR (the module area starts right after it).
pub const DEFAULT_KERNEL_IMAGE_SIZE: u64 = 1 << 30;

/// Non-KASLR region bases, 4-level paging.
pub const PAGE_OFFSET_BASE_L4: u64 = 0xffff_8880_0000_0000;
pub const VMALLOC_BASE_L4: u64 = 0xffff_c900_0000_0000;
pub const VMEMMAP_BASE_L4: u64 = 0xffff_ea00_0000_0000;
/// Non-KASLR region bases, 5-level paging.
pub const PAGE_OFFSET_BASE_L5: u64 = 0xff11_0000_0000_0000;
pub const VMALLOC_BASE_L5: u64 = 0xffa0_0000_0000_0000;
pub const VMEMMAP_BASE_L5: u64 = 0xffd4_0000_0000_0000;

/// Largest direct map: 64 TiB (4-level), 32 PiB (5-level).
const DIRECT_MAP_MAX_L4: u64 = 1 << 46;
const DIRECT_MAP_MAX_L5: u64 = 1 << 55;

const PAGE_SHIFT: u32 = 12;
const PAGE_SIZE: u64 = 1 << PAGE_SHIFT;
const ENTRY_PRESENT: u64 = 1 << 0;
const ENTRY_LARGE: u64 = 1 << 7;
/// Page-table entry bits by name, in crash's order (`PSE` only when present, `PROTNONE` only
/// when not: they are the same bit).
const ENTRY_FLAGS: [(u64, &str); 11] = [
    (1 << 0, "PRESENT"),
    (1 << 1, "RW"),
    (1 << 2, "USER"),
    (1 << 3, "PWT"),
    (1 << 4, "PCD"),
    (1 << 5, "ACCESSED"),
    (1 << 6, "DIRTY"),
    (1 << 7, "PSE"),
    (1 << 8, "PROTNONE"),
    (1 << 8, "GLOBAL"),
    (1 << 63, "NX"),
];
/// Physical-address bits of a page-table entry (bits 12..51).
const ENTRY_ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;
/// `_PAGE_PROTNONE`: a mapped page made inaccessible (the GLOBAL bit, in a non-present entry).
const ENTRY_PROTNONE: u64 = 1 << 8;
/// Swap entries: `SWP_TYPE_BITS` and `SWP_OFFSET_FIRST_BIT` (`_PAGE_BIT_PROTNONE + 1`).
const SWP_TYPE_BITS: u32 = 5;
const SWP_OFFSET_FIRST_BIT: u32 = 9;

/// One level of the walk: its name (as error messages use it) and the VA bit it indexes from.
struct Level {
    name: &'static str,
    shift: u32,
}

const fn level(name: &'static str, shift: u32) -> Level {
    Level { name, shift }
}

const LEVELS_L5: [Level; 5] = [
    level("PGD", 48),
    level("P4D", 39),
    level("PUD", 30),
    level("PMD", 21),
    level("PTE", 12),
];
/// With 4-level paging the P4D level is folded into the PGD.
const LEVELS_L4: [Level; 4] = [
    level("PGD", 39),
    level("PUD", 30),
    level("PMD", 21),
    level("PTE", 12),
];

/// The x86_64 translator: where the kernel's top-level page table is, and how to read entries.
#[derive(Debug, Clone)]
pub struct X86_64 {
    /// Physical address of the top-level page table (`init_top_pgt`, or a CPU's CR3).
    root: u64,
    /// Mask applied to entries to get a physical address (SME's encryption bit removed).
    addr_mask: u64,
    /// `KERNEL_IMAGE_SIZE`: how far the arithmetic kernel-image mapping reaches.
    kernel_image_size: u64,
}

impl X86_64 {
    /// `root` is the physical address of the top-level table; `sme_mask` is VMCOREINFO's
    /// `NUMBER(sme_mask)` (0 without memory encryption).
    pub fn new(root: u64, sme_mask: u64, kernel_image_size: u64) -> X86_64 {
        X86_64 {
            root: root & ENTRY_ADDR_MASK & !sme_mask,
            addr_mask: ENTRY_ADDR_MASK & !sme_mask,
            kernel_image_size: kernel_image_size.clamp(PAGE_SIZE, DEFAULT_KERNEL_IMAGE_SIZE),
        }
    }

    /// Physical address of a kernel-image virtual address (`__pa_symbol`), by arithmetic.
    pub fn kernel_image_pa(va: u64, phys_base: u64) -> Option<u64> {
        let off = va.checked_sub(START_KERNEL_MAP)?;
        (off < DEFAULT_KERNEL_IMAGE_SIZE).then(|| off.wrapping_add(phys_base))
    }

    /// Base of the direct map when it can be trusted: read from the kernel, or the default on
    /// a kernel known to run without KASLR.
    fn direct_map_base(layout: &KernelLayout) -> Option<u64> {
        let pob = layout.page_offset_base;
        let no_kaslr = layout.kaslr_offset.is_known() && layout.kaslr_offset.value == 0;
        (pob.is_known() || no_kaslr).then_some(pob.value)
    }

    /// Walks the tables from the top-level one at physical `root`, telling `step` each entry
    /// read.
    fn walk_from(
        &self,
        mem: &dyn PhysMem,
        layout: &KernelLayout,
        root: u64,
        va: u64,
        step: &mut dyn FnMut(WalkStep),
    ) -> Result<Translation> {
        let levels: &[Level] = if layout.pgtable_l5.value {
            &LEVELS_L5
        } else {
            &LEVELS_L4
        };
        let mut table = root;
        for level in levels {
            let index = (va >> level.shift) & 0x1ff;
            let entry_pa = table + index * 8;
            let entry = read_entry(mem, entry_pa).map_err(|source| Error::Phys { va, source })?;
            step(WalkStep {
                level: level.name,
                entry_pa,
                entry,
            });
            if entry & ENTRY_PRESENT == 0 {
                return Err(Error::NotMapped {
                    va,
                    level: level.name,
                });
            }
            let addr = entry & self.addr_mask;
            let is_leaf = level.shift == PAGE_SHIFT || entry & ENTRY_LARGE != 0;
            if is_leaf {
                // Large pages exist only at PUD (1 GiB) and PMD (2 MiB); PGD/P4D have no PS bit.
                if level.shift > 30 {
                    return Err(Error::BadEntry {
                        va,
                        level: level.name,
                        entry,
                    });
                }
                let size = 1u64 << level.shift;
                // In large-page entries bit 12 is PAT, not an address bit: mask to the page size.
                let pa = (addr & !(size - 1)) | (va & (size - 1));
                return Ok(Translation {
                    pa,
                    page_size: size,
                });
            }
            table = addr;
        }
        // Unreachable: the last level always returns.
        Err(Error::BadEntry {
            va,
            level: "PTE",
            entry: 0,
        })
    }

    fn direct_map_end(layout: &KernelLayout, base: u64) -> u64 {
        let max = if layout.pgtable_l5.value {
            DIRECT_MAP_MAX_L5
        } else {
            DIRECT_MAP_MAX_L4
        };
        let end = base.saturating_add(max);
        let vmalloc = layout.vmalloc_base.value;
        if layout.vmalloc_base.is_known() && vmalloc > base && vmalloc < end {
            vmalloc
        } else {
            end
        }
    }
}

fn read_entry(mem: &dyn PhysMem, pa: u64) -> std::result::Result<u64, PhysError> {
    let mut b = [0u8; 8];
    mem.read_phys(pa, &mut b)?;
    Ok(u64::from_le_bytes(b))
}

impl Translator for X86_64 {
    fn name(&self) -> &'static str {
        "x86_64"
    }

    fn check_canonical(&self, layout: &KernelLayout, va: u64) -> Result<()> {
        let unused_bits = if layout.pgtable_l5.value { 7 } else { 16 };
        if (((va as i64) << unused_bits) >> unused_bits) as u64 == va {
            Ok(())
        } else {
            Err(Error::NonCanonical { va })
        }
    }

    fn linear(&self, layout: &KernelLayout, va: u64) -> Option<u64> {
        if va >= START_KERNEL_MAP {
            let off = va - START_KERNEL_MAP;
            return (layout.phys_base.is_known() && off < self.kernel_image_size)
                .then(|| off.wrapping_add(layout.phys_base.value));
        }
        let base = Self::direct_map_base(layout)?;
        (va >= base && va < Self::direct_map_end(layout, base)).then(|| va - base)
    }

    fn walk(&self, mem: &dyn PhysMem, layout: &KernelLayout, va: u64) -> Result<Translation> {
        self.walk_from(mem, layout, self.root, va, &mut |_| {})
    }

    fn walk_trace(
        &self,
        mem: &dyn PhysMem,
        layout: &KernelLayout,
        root: Option<u64>,
        va: u64,
    ) -> WalkTrace {
        let root = root.map_or(self.root, |r| r & self.addr_mask);
        let mut steps = Vec::new();
        let result = self.walk_from(mem, layout, root, va, &mut |s| steps.push(s));
        WalkTrace {
            root,
            steps,
            result,
        }
    }

    fn entry_flags(&self, entry: u64) -> Vec<&'static str> {
        let present = entry & ENTRY_PRESENT != 0;
        ENTRY_FLAGS
            .iter()
            .filter(|(bit, name)| {
                entry & bit != 0
                    && match *name {
                        "PSE" => present,
                        "PROTNONE" => !present,
                        _ => true,
                    }
            })
            .map(|(_, name)| *name)
            .collect()
    }

    fn decode_entry(&self, entry: u64) -> EntryMeaning {
        if entry == 0 {
            EntryMeaning::Empty
        } else if entry & (ENTRY_PRESENT | ENTRY_PROTNONE) != 0 {
            EntryMeaning::Page(entry & self.addr_mask)
        } else {
            // arch/x86/include/asm/pgtable_64.h (L1TF-safe since 4.19): the type in the top
            // SWP_TYPE_BITS, the offset inverted in the bits from SWP_OFFSET_FIRST_BIT up.
            EntryMeaning::Swap {
                kind: entry >> (64 - SWP_TYPE_BITS),
                offset: (!entry << SWP_TYPE_BITS) >> (SWP_OFFSET_FIRST_BIT + SWP_TYPE_BITS),
            }
        }
    }

    fn ptov(&self, layout: &KernelLayout, pa: u64) -> Result<u64> {
        let base = Self::direct_map_base(layout).ok_or_else(|| {
            Error::NoLayout("page_offset_base has not been read from the kernel".into())
        })?;
        let va = base
            .checked_add(pa)
            .filter(|&va| va < Self::direct_map_end(layout, base));
        va.ok_or_else(|| {
            Error::NoLayout(format!(
                "physical address {pa:#x} lies beyond the direct map"
            ))
        })
    }

    fn root(&self) -> u64 {
        self.root
    }

    fn entry_span(&self, layout: &KernelLayout, level: &str) -> u64 {
        let levels: &[Level] = if layout.pgtable_l5.value {
            &LEVELS_L5
        } else {
            &LEVELS_L4
        };
        levels
            .iter()
            .find(|l| l.name == level)
            .map_or(PAGE_SIZE, |l| 1 << l.shift)
    }

    fn regions(&self, layout: &KernelLayout) -> KernelRegions {
        // VMALLOC_SIZE_TB: 32 TiB with 4-level paging, 12800 TiB with 5-level.
        let size: u64 = if layout.pgtable_l5.value {
            12800 << 40
        } else {
            32 << 40
        };
        let start = layout.vmalloc_base.value;
        KernelRegions {
            vmalloc: (start, start.saturating_add(size)),
            image_start: START_KERNEL_MAP,
            modules_start: START_KERNEL_MAP + self.kernel_image_size,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{EntryMeaning, Translator, ENTRY_ADDR_MASK, X86_64};
    use crate::error::Error;
    use crate::synth::SynthMem;

    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    /// A direct-map-looking address that the synthetic spaces map by walking.
    const VA: u64 = 0xffff_8880_0123_4000;

    fn mem(l5: bool) -> SynthMem {
        SynthMem::new(8 * MIB as usize, 2 * MIB, l5)
    }

    #[test]
    fn a_traced_walk_records_every_entry_it_read() {
        let mut m = mem(false);
        m.map(VA, 0x30_1000, 0x1000);
        let va2 = 0xffff_c900_0020_0000;
        m.map(va2, 0x40_0000, 2 * MIB);
        let ks = m.into_space();
        let t = ks.walk_trace(None, VA + 0x10);
        let levels: Vec<_> = t.steps.iter().map(|s| s.level).collect();
        assert_eq!(levels, ["PGD", "PUD", "PMD", "PTE"]);
        assert_eq!(t.result.unwrap().pa, 0x30_1010);
        assert_eq!(t.steps[3].entry & ENTRY_ADDR_MASK, 0x30_1000);
        // Each entry lies in the table the one before it points to.
        for w in t.steps.windows(2) {
            assert_eq!(w[1].entry_pa & !0xfff, w[0].entry & ENTRY_ADDR_MASK);
        }
        assert_eq!(t.steps[0].entry_pa & !0xfff, t.root);
        let t = ks.walk_trace(None, va2 + 0x1234);
        assert_eq!(t.steps.len(), 3, "a 2 MiB page ends at the PMD");
        assert_eq!(t.result.unwrap().page_size, 2 * MIB);
        // Not mapped: the walk shows the entry that was not present.
        let t = ks.walk_trace(None, 0xffff_8880_7fff_0000);
        assert!(matches!(t.result, Err(Error::NotMapped { .. })));
        assert_eq!(t.steps.last().map(|s| s.entry & 1), Some(0));
        // Another root: a walk from a table that maps nothing stops at its first entry.
        let t = ks.walk_trace(Some(0x7f_f000), VA);
        assert_eq!(t.root, 0x7f_f000);
        assert_eq!(t.steps.len(), 1);
        assert!(t.result.is_err());
    }

    #[test]
    fn entries_decode_to_pages_and_swap_slots() {
        let t = X86_64::new(0, 0, 1 << 30);
        assert_eq!(t.decode_entry(0), EntryMeaning::Empty);
        assert_eq!(
            t.decode_entry(0x8000_0000_8255_4067),
            EntryMeaning::Page(0x8255_4000)
        );
        // PROT_NONE: not present, still a page.
        assert_eq!(t.decode_entry(0x8255_4100), EntryMeaning::Page(0x8255_4000));
        // The kernel's __swp_entry(type, offset), L1TF layout.
        let swp = |kind: u64, offset: u64| ((!offset << 14) >> 5) | (kind << 59);
        for (kind, offset) in [(0, 0), (1, 0x1234), (3, 0x3ff_ffff), (31, 1)] {
            assert_eq!(
                t.decode_entry(swp(kind, offset)),
                EntryMeaning::Swap { kind, offset },
                "{kind} {offset:#x}"
            );
        }
    }

    #[test]
    fn entry_flags_are_named_as_crash_names_them() {
        let ks = mem(false).into_space();
        // From crash's vtop on the lab's 6.1 dump: a 2 MiB direct-map page, a 4 KiB module page.
        assert_eq!(
            ks.entry_flags(0x8000_0000_01a0_01e3).join("|"),
            "PRESENT|RW|ACCESSED|DIRTY|PSE|GLOBAL|NX"
        );
        assert_eq!(
            ks.entry_flags(0x273_1161).join("|"),
            "PRESENT|ACCESSED|DIRTY|GLOBAL"
        );
        // Not present with bit 8: a PROT_NONE page (and crash still says GLOBAL).
        assert_eq!(ks.entry_flags(0x1000 | 0x100).join("|"), "PROTNONE|GLOBAL");
    }

    #[test]
    fn four_level_small_page() {
        let mut m = mem(false);
        m.map(VA, 0x30_1000, 0x1000);
        m.write_u64(0x30_1008, 0x1122_3344_5566_7788);
        let ks = m.into_space();
        assert_eq!(ks.vtop(VA + 0x10).unwrap(), 0x30_1010);
        assert_eq!(ks.read_u64(VA + 8).unwrap(), 0x1122_3344_5566_7788);
        assert_eq!(ks.translate(VA).unwrap().page_size, 0x1000);
    }

    #[test]
    fn two_mib_page() {
        let mut m = mem(false);
        let va = 0xffff_c900_0020_0000;
        m.map(va, 0x40_0000, 2 * MIB);
        m.write_u64(0x40_0000 + 0x1_2348, 42);
        let ks = m.into_space();
        assert_eq!(ks.vtop(va + 0x1_2345).unwrap(), 0x41_2345);
        assert_eq!(ks.read_u64(va + 0x1_2348).unwrap(), 42);
        assert_eq!(ks.translate(va).unwrap().page_size, 2 * MIB);
    }

    #[test]
    fn large_page_pat_bit_is_not_an_address_bit() {
        let mut m = mem(false);
        let va = 0xffff_c900_0020_0000;
        m.map(va, 0x40_0000, 2 * MIB);
        let e = m.entry_pa(va, 21);
        let entry = m.read_u64(e);
        m.write_u64(e, entry | 1 << 12); // PAT
        let ks = m.into_space();
        assert_eq!(ks.vtop(va + 5).unwrap(), 0x40_0005);
    }

    #[test]
    fn one_gib_page() {
        let mut m = mem(false);
        let va = 0xffff_8881_4000_0000;
        m.map(va, 0, GIB);
        m.write_u64(0x70_0000, 7);
        let ks = m.into_space();
        assert_eq!(ks.vtop(va + 0x70_0000).unwrap(), 0x70_0000);
        assert_eq!(ks.read_u64(va + 0x70_0000).unwrap(), 7);
        assert_eq!(ks.translate(va + 0x3fff_ffff).unwrap().page_size, GIB);
    }

    #[test]
    fn five_level() {
        let mut m = mem(true);
        let va = 0xff11_0000_1234_5000;
        m.map(va, 0x30_2000, 0x1000);
        m.write(0x30_2000, b"five");
        let ks = m.into_space();
        assert_eq!(ks.vtop(va + 3).unwrap(), 0x30_2003);
        assert_eq!(ks.read_u32(va).unwrap(), u32::from_le_bytes(*b"five"));
        // A 5-level address with bits 47..55 in use is canonical here but not under 4-level.
        assert!(matches!(
            ks.vtop(0xff11_8000_0000_0000),
            Err(Error::NotMapped { level: "P4D", .. })
        ));
    }

    #[test]
    fn not_present_at_each_level() {
        let mut m = mem(false);
        m.map(VA, 0x30_1000, 0x1000);
        let ks = m.into_space();
        let level = |va| match ks.vtop(va) {
            Err(Error::NotMapped { level, va: v }) if v == va => level,
            other => panic!("{va:#x}: {other:?}"),
        };
        assert_eq!(level(0xffff_9000_0000_0000), "PGD");
        assert_eq!(level(VA + GIB), "PUD");
        assert_eq!(level(VA + 4 * MIB), "PMD");
        assert_eq!(level(VA + 0x1000), "PTE");
    }

    #[test]
    fn five_level_not_present_names_p4d() {
        let mut m = mem(true);
        m.map(0xff11_0000_0000_0000, 0x30_0000, 0x1000);
        let ks = m.into_space();
        assert!(matches!(
            ks.vtop(0xff11_0080_0000_0000),
            Err(Error::NotMapped { level: "P4D", .. })
        ));
        assert!(matches!(
            ks.vtop(0xff12_0000_0000_0000),
            Err(Error::NotMapped { level: "PGD", .. })
        ));
    }

    #[test]
    fn non_canonical() {
        let ks = mem(false).into_space();
        assert_eq!(
            ks.vtop(0x0000_8000_0000_0000),
            Err(Error::NonCanonical {
                va: 0x0000_8000_0000_0000
            })
        );
        assert_eq!(
            ks.vtop(0xff11_0000_0000_0000),
            Err(Error::NonCanonical {
                va: 0xff11_0000_0000_0000
            })
        );
    }

    #[test]
    fn large_bit_at_top_level_is_corrupt() {
        let mut m = mem(false);
        let e = m.entry_pa(VA, 39);
        m.write_u64(e, 0x8000_0000 | 0x83);
        let ks = m.into_space();
        assert!(matches!(
            ks.vtop(VA),
            Err(Error::BadEntry { level: "PGD", .. })
        ));
    }

    #[test]
    fn table_outside_memory_is_a_phys_error() {
        let mut m = mem(false);
        let e = m.entry_pa(VA, 39);
        m.write_u64(e, 0x7_0000_0000 | 0x3);
        let ks = m.into_space();
        match ks.vtop(VA) {
            Err(Error::Phys { va, source }) => {
                assert_eq!(va, VA);
                assert_eq!(source.addr() & !0xfff, 0x7_0000_0000);
            }
            other => panic!("{other:?}"),
        }
    }

    /// Garbage page tables (pseudo-random entries) must give errors or answers, never panics.
    #[test]
    fn garbage_tables_never_panic() {
        let mut m = mem(false);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for pa in (0x1000..0x20_0000).step_by(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Keep addresses mostly inside memory so walks go deep.
            m.write_u64(pa, x & 0x8000_0000_007f_f0ff);
        }
        let ks = m.into_space();
        let mut mapped = 0;
        for i in 0..20_000u64 {
            let va =
                0xffff_8000_0000_0000 | i.wrapping_mul(0x9e37_79b9_7f4a_7c15) & 0x7fff_ffff_f000;
            if ks.vtop(va).is_ok() {
                mapped += 1;
            }
            let mut buf = [0u8; 64];
            let _ = ks.read(va + 0xfe0, &mut buf);
        }
        assert!(mapped > 0);
    }
}
