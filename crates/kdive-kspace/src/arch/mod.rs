//! The architecture seam: everything that knows a CPU's page-table format and address-space
//! layout implements [`Translator`]. x86_64 is the only implementation today; aarch64 plugs in
//! here with its own module and nothing above this trait changes.

pub mod x86_64;
pub mod x86_64_layout;

use kdive_physmem::PhysMem;

use crate::error::Result;
use crate::layout::KernelLayout;

/// The result of translating one virtual address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Translation {
    /// Physical address of the byte at the virtual address.
    pub pa: u64,
    /// Size of the mapping that holds it (4 KiB, 2 MiB, 1 GiB, ...); for arithmetic
    /// translations, the base page size.
    pub page_size: u64,
}

/// One page-table entry a walk read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkStep {
    /// The level's name as the kernel calls it (`PGD`, `P4D`, `PUD`, `PMD`, `PTE`).
    pub level: &'static str,
    /// Physical address of the entry.
    pub entry_pa: u64,
    /// Its value.
    pub entry: u64,
}

/// A page-table walk step by step (crash's `vtop`): every entry read, and where it led.
#[derive(Debug)]
pub struct WalkTrace {
    /// Physical address of the top-level table the walk started from.
    pub root: u64,
    pub steps: Vec<WalkStep>,
    pub result: Result<Translation>,
}

/// What one page-table entry holds, as the architecture encodes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryMeaning {
    /// Zero: nothing mapped, nothing swapped.
    Empty,
    /// A page (present, or made inaccessible with PROT_NONE) at this physical address.
    Page(u64),
    /// A swap entry: the swap area's index (`swap_info[]`; the kernel's special entries —
    /// migration, hwpoison, device — use the types past the last area) and the page's slot.
    Swap { kind: u64, offset: u64 },
}

/// An architecture's knowledge of virtual → physical translation.
pub trait Translator: Send + Sync {
    /// Architecture name as `uname -m` prints it.
    fn name(&self) -> &'static str;

    /// Base page size in bytes (the granule reads are split at).
    fn page_size(&self) -> u64 {
        4096
    }

    /// Fails with `NonCanonical` for addresses the CPU could never translate.
    fn check_canonical(&self, layout: &KernelLayout, va: u64) -> Result<()>;

    /// Translation by arithmetic for linearly mapped regions (kernel image, direct map), when
    /// the layout facts needed for it are known; `None` means "walk the page tables".
    fn linear(&self, layout: &KernelLayout, va: u64) -> Option<u64>;

    /// Translation by walking the kernel page tables in physical memory.
    fn walk(&self, mem: &dyn PhysMem, layout: &KernelLayout, va: u64) -> Result<Translation>;

    /// The same walk from the top-level table at physical `root` (the kernel's when None, a
    /// process's `mm->pgd` for user addresses), recording every entry read.
    fn walk_trace(
        &self,
        mem: &dyn PhysMem,
        layout: &KernelLayout,
        root: Option<u64>,
        va: u64,
    ) -> WalkTrace;

    /// Names of the bits set in a page-table entry, in the order crash prints them.
    fn entry_flags(&self, entry: u64) -> Vec<&'static str>;

    /// What a leaf page-table entry holds: a page, a swap entry, or nothing.
    fn decode_entry(&self, entry: u64) -> EntryMeaning;

    /// Direct-map virtual address of a physical address, when the direct map's base is known.
    fn ptov(&self, layout: &KernelLayout, pa: u64) -> Result<u64>;

    /// Physical address of the top-level kernel page table.
    fn root(&self) -> u64;

    /// Bytes of address space one entry at `level` (a [`WalkStep::level`] name) maps: a walk
    /// that found that entry not present can skip this much, aligned.
    fn entry_span(&self, layout: &KernelLayout, level: &str) -> u64;

    /// The kernel's virtual regions as `search` walks them, for this layout.
    fn regions(&self, layout: &KernelLayout) -> KernelRegions;
}

/// Where the kernel's virtual regions lie (what the layout says; the ends of the direct map
/// and of the vmemmap depend on how much memory there is and are the kernel model's to find).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelRegions {
    /// The vmalloc area: start and end (exclusive).
    pub vmalloc: (u64, u64),
    /// First address of the kernel image mapping (`__START_KERNEL_map`).
    pub image_start: u64,
    /// First module address (`MODULES_VADDR`: the image mapping's end).
    pub modules_start: u64,
}
