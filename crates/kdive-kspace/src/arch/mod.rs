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

    /// Direct-map virtual address of a physical address, when the direct map's base is known.
    fn ptov(&self, layout: &KernelLayout, pa: u64) -> Result<u64>;

    /// Physical address of the top-level kernel page table.
    fn root(&self) -> u64;
}
