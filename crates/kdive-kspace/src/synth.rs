//! Synthetic x86_64 page tables in a [`VecMem`], for tests (here and in dependent crates).

use std::sync::Arc;

use kdive_physmem::VecMem;

use crate::arch::x86_64::X86_64;
use crate::layout::{Fact, KernelLayout, Source};
use crate::space::KernelSpace;

const PRESENT_RW: u64 = 0x3;
const LARGE: u64 = 1 << 7;
/// Physical address of the first page table; tables are allocated upward from here.
const FIRST_TABLE: u64 = 0x1000;

/// Physical memory starting at 0 with a page-table tree and a bump allocator for tables.
pub struct SynthMem {
    pub bytes: Vec<u8>,
    pub l5: bool,
    pub root: u64,
    next_table: u64,
    table_limit: u64,
}

impl SynthMem {
    /// `size` bytes of memory; page tables live in `[0x1000, table_limit)`.
    pub fn new(size: usize, table_limit: u64, l5: bool) -> SynthMem {
        SynthMem {
            bytes: vec![0; size],
            l5,
            root: FIRST_TABLE,
            next_table: FIRST_TABLE + 0x1000,
            table_limit,
        }
    }

    pub fn write(&mut self, pa: u64, data: &[u8]) {
        self.bytes[pa as usize..pa as usize + data.len()].copy_from_slice(data);
    }

    pub fn write_u64(&mut self, pa: u64, v: u64) {
        self.write(pa, &v.to_le_bytes());
    }

    pub fn read_u64(&self, pa: u64) -> u64 {
        u64::from_le_bytes(self.bytes[pa as usize..pa as usize + 8].try_into().unwrap())
    }

    fn shifts(&self) -> &'static [u32] {
        if self.l5 {
            &[48, 39, 30, 21, 12]
        } else {
            &[39, 30, 21, 12]
        }
    }

    /// Physical address of the entry for `va` at the level indexing from bit `shift`,
    /// creating intermediate tables as needed.
    pub fn entry_pa(&mut self, va: u64, shift: u32) -> u64 {
        let mut table = self.root;
        for &s in self.shifts() {
            let entry_pa = table + ((va >> s) & 0x1ff) * 8;
            if s == shift {
                return entry_pa;
            }
            let entry = self.read_u64(entry_pa);
            table = if entry & 1 != 0 {
                entry & 0x000f_ffff_ffff_f000
            } else {
                let t = self.next_table;
                assert!(t < self.table_limit, "synthetic page-table area full");
                self.next_table += 0x1000;
                self.write_u64(entry_pa, t | PRESENT_RW);
                t
            };
        }
        unreachable!("shift {shift} is not a paging level")
    }

    /// Maps a page of `size` (4 KiB, 2 MiB or 1 GiB) at `va` to `pa`.
    pub fn map(&mut self, va: u64, pa: u64, size: u64) {
        let (shift, flags) = match size {
            0x1000 => (12, PRESENT_RW),
            0x20_0000 => (21, PRESENT_RW | LARGE),
            0x4000_0000 => (30, PRESENT_RW | LARGE),
            _ => panic!("bad page size {size:#x}"),
        };
        let e = self.entry_pa(va, shift);
        self.write_u64(e, pa | flags);
    }

    /// A layout with only the paging depth known (everything else defaulted).
    pub fn layout(&self) -> KernelLayout {
        let (pob, vmalloc, vmemmap) = crate::arch::x86_64_layout::default_bases(self.l5);
        KernelLayout {
            kaslr_offset: Fact::default_value(0),
            phys_base: Fact::default_value(0),
            page_offset_base: Fact::default_value(pob),
            vmalloc_base: Fact::default_value(vmalloc),
            vmemmap_base: Fact::default_value(vmemmap),
            pgtable_l5: Fact::new(self.l5, Source::Vmcoreinfo),
        }
    }

    /// A kernel space over this memory that translates only by page walks.
    pub fn into_space(self) -> KernelSpace {
        let layout = self.layout();
        let arch = X86_64::new(self.root, 0, 1 << 30);
        KernelSpace::new(
            Arc::new(VecMem {
                base: 0,
                bytes: self.bytes,
            }),
            Box::new(arch),
            layout,
        )
    }
}
