//! Where the kernel put things: KASLR slide, physical base, and the randomized region bases,
//! each with a note of where the value came from.

use std::fmt;

/// Where a layout value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A VMCOREINFO key (`KERNELOFFSET`, `NUMBER(phys_base)`, `NUMBER(VMALLOC_START)`, ...).
    Vmcoreinfo,
    /// A kernel variable read from the dump's memory (`page_offset_base`, ...).
    KernelVariable,
    /// A QEMU CPU-state note (CR3, CR4).
    QemuCpuState,
    /// Nothing said; the architecture's non-KASLR default is assumed.
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Vmcoreinfo => "vmcoreinfo",
            Source::KernelVariable => "kernel variable",
            Source::QemuCpuState => "qemu cpu state",
            Source::Default => "default",
        })
    }
}

/// A layout value and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fact<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Fact<T> {
    pub fn new(value: T, source: Source) -> Fact<T> {
        Fact { value, source }
    }
    pub fn default_value(value: T) -> Fact<T> {
        Fact {
            value,
            source: Source::Default,
        }
    }
    /// True when the value was read from the dump rather than assumed.
    pub fn is_known(&self) -> bool {
        self.source != Source::Default
    }
}

/// The kernel's virtual memory layout, as far as it is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelLayout {
    /// KASLR slide of the kernel image (virtual).
    pub kaslr_offset: Fact<u64>,
    /// Physical address the kernel image was loaded at, minus its link-time physical address.
    pub phys_base: Fact<u64>,
    /// Start of the direct map of all physical memory.
    pub page_offset_base: Fact<u64>,
    /// Start of the vmalloc area.
    pub vmalloc_base: Fact<u64>,
    /// Start of the `struct page` array (`vmemmap`).
    pub vmemmap_base: Fact<u64>,
    /// Five-level paging in use.
    pub pgtable_l5: Fact<bool>,
}

impl fmt::Display for KernelLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: [(&str, u64, Source); 5] = [
            (
                "kaslr_offset",
                self.kaslr_offset.value,
                self.kaslr_offset.source,
            ),
            ("phys_base", self.phys_base.value, self.phys_base.source),
            (
                "page_offset_base",
                self.page_offset_base.value,
                self.page_offset_base.source,
            ),
            (
                "vmalloc_base",
                self.vmalloc_base.value,
                self.vmalloc_base.source,
            ),
            (
                "vmemmap_base",
                self.vmemmap_base.value,
                self.vmemmap_base.source,
            ),
        ];
        for (name, value, source) in rows {
            writeln!(f, "{name:>16}: {value:#018x} ({source})")?;
        }
        write!(
            f,
            "{:>16}: {} ({})",
            "pgtable_l5", self.pgtable_l5.value, self.pgtable_l5.source
        )
    }
}
