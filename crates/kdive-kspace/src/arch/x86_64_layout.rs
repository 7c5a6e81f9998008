//! x86_64 bootstrap: the layout and the page-table root from VMCOREINFO alone (no vmlinux),
//! falling back to QEMU's CPU-state notes (CR3, CR4) when VMCOREINFO lacks them.

use kdive_dumpfile::{Notes, Vmcoreinfo};

use super::x86_64::{
    DEFAULT_KERNEL_IMAGE_SIZE, PAGE_OFFSET_BASE_L4, PAGE_OFFSET_BASE_L5, START_KERNEL_MAP,
    VMALLOC_BASE_L4, VMALLOC_BASE_L5, VMEMMAP_BASE_L4, VMEMMAP_BASE_L5, X86_64,
};
use crate::error::{Error, Result};
use crate::layout::{Fact, KernelLayout, Source};

/// CR4.LA57: five-level paging enabled.
const CR4_LA57: u64 = 1 << 12;

/// The default (non-KASLR) bases for the paging depth.
pub fn default_bases(pgtable_l5: bool) -> (u64, u64, u64) {
    if pgtable_l5 {
        (PAGE_OFFSET_BASE_L5, VMALLOC_BASE_L5, VMEMMAP_BASE_L5)
    } else {
        (PAGE_OFFSET_BASE_L4, VMALLOC_BASE_L4, VMEMMAP_BASE_L4)
    }
}

/// Builds the translator and what is known of the layout from VMCOREINFO and the CPU notes.
pub fn bootstrap(
    vmcoreinfo: Option<&Vmcoreinfo>,
    notes: Option<&Notes>,
) -> Result<(X86_64, KernelLayout)> {
    let number = |key: &str| vmcoreinfo.and_then(|v| v.number(key));
    // The first QEMU CPU with a page-table root set.
    let qemu_cpu = notes.and_then(|n| n.qemu_cpus.iter().find(|c| c.cr3 != 0));

    let pgtable_l5 = match (number("pgtable_l5_enabled"), qemu_cpu) {
        (Some(n), _) => Fact::new(n != 0, Source::Vmcoreinfo),
        (None, Some(cpu)) => Fact::new(cpu.cr4 & CR4_LA57 != 0, Source::QemuCpuState),
        (None, None) => Fact::default_value(false),
    };
    let kaslr_offset = match vmcoreinfo.and_then(|v| v.kernel_offset()) {
        Some(off) => Fact::new(off, Source::Vmcoreinfo),
        None => Fact::default_value(0),
    };
    let phys_base = match number("phys_base") {
        Some(n) => Fact::new(n as u64, Source::Vmcoreinfo),
        None => Fact::default_value(0),
    };
    let (pob, vmalloc, vmemmap) = default_bases(pgtable_l5.value);
    let vmalloc_base = match number("VMALLOC_START") {
        Some(n) => Fact::new(n as u64, Source::Vmcoreinfo),
        None => Fact::default_value(vmalloc),
    };
    let layout = KernelLayout {
        kaslr_offset,
        phys_base,
        page_offset_base: Fact::default_value(pob),
        vmalloc_base,
        vmemmap_base: Fact::default_value(vmemmap),
        pgtable_l5,
    };

    let sme_mask = number("sme_mask").unwrap_or(0) as u64;
    let image_size = number("KERNEL_IMAGE_SIZE").map_or(DEFAULT_KERNEL_IMAGE_SIZE, |n| n as u64);
    let root_va = vmcoreinfo.and_then(|v| {
        v.symbol("init_top_pgt")
            .or_else(|| v.symbol("swapper_pg_dir"))
    });
    let root = match (root_va, phys_base.is_known(), qemu_cpu) {
        (Some(va), true, _) => X86_64::kernel_image_pa(va, phys_base.value).ok_or_else(|| {
            Error::NoLayout(format!("SYMBOL(init_top_pgt)={va:#x} is not above {START_KERNEL_MAP:#x}"))
        })?,
        (_, _, Some(cpu)) => cpu.cr3,
        _ => {
            return Err(Error::NoLayout(
                "no page-table root: VMCOREINFO lacks SYMBOL(init_top_pgt)/NUMBER(phys_base) and no QEMU CPU note \
                 gives CR3"
                    .into(),
            ))
        }
    };
    Ok((X86_64::new(root, sme_mask, image_size), layout))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use kdive_dumpfile::{Notes, QemuCpuState, Vmcoreinfo};
    use kdive_physmem::VecMem;

    use super::*;
    use crate::arch::Translator;
    use crate::space::KernelSpace;
    use crate::synth::SynthMem;

    /// Kernel image linked at 16 MiB but loaded at 0 (phys_base is negative: VMCOREINFO prints
    /// it signed), with a KASLR slide of 0x1e00_0000. init_top_pgt is the synthetic root table.
    const KASLR: u64 = 0x1e00_0000;
    const PHYS_BASE_SIGNED: i64 = -0x100_0000;
    const PHYS_BASE: u64 = PHYS_BASE_SIGNED as u64;

    fn vmcoreinfo(extra: &str) -> Vmcoreinfo {
        let root_va = START_KERNEL_MAP + 0x1000 + 0x100_0000;
        Vmcoreinfo::parse(&format!(
            "OSRELEASE=6.1.0-test\nKERNELOFFSET={KASLR:x}\nNUMBER(phys_base)={PHYS_BASE_SIGNED}\n\
             SYMBOL(init_top_pgt)={root_va:x}\nNUMBER(pgtable_l5_enabled)=0\n{extra}"
        ))
    }

    #[test]
    fn from_vmcoreinfo() {
        let v = vmcoreinfo("NUMBER(VMALLOC_START)=0xffffb7c000000000\n");
        let (arch, layout) = bootstrap(Some(&v), None).unwrap();
        assert_eq!(arch.root(), 0x1000);
        assert_eq!(layout.kaslr_offset, Fact::new(KASLR, Source::Vmcoreinfo));
        assert_eq!(layout.phys_base, Fact::new(PHYS_BASE, Source::Vmcoreinfo));
        assert_eq!(
            layout.vmalloc_base,
            Fact::new(0xffff_b7c0_0000_0000, Source::Vmcoreinfo)
        );
        assert_eq!(
            layout.page_offset_base,
            Fact::default_value(PAGE_OFFSET_BASE_L4)
        );
        assert!(!layout.pgtable_l5.value);
        // Kernel-image addresses translate by arithmetic, without touching page tables.
        let image_va = START_KERNEL_MAP + 0x100_0000 + KASLR + 0x123;
        assert_eq!(arch.linear(&layout, image_va), Some(KASLR + 0x123));
        // With KASLR on and page_offset_base unread, the direct map is walked, not guessed.
        assert_eq!(arch.linear(&layout, PAGE_OFFSET_BASE_L4 + 0x1000), None);
    }

    #[test]
    fn reads_through_the_kernel_image_and_the_tables() {
        let mut m = SynthMem::new(4 << 20, 1 << 20, false);
        m.map(0xffff_8880_0000_0000, 0x10_0000, 0x1000);
        m.write(0x10_0000, b"direct");
        m.write(0x30_0000, b"image");
        let ks = KernelSpace::bootstrap(
            Arc::new(VecMem {
                base: 0,
                bytes: m.bytes,
            }),
            Some(&vmcoreinfo("")),
            None,
        )
        .unwrap();
        let image_va = START_KERNEL_MAP + 0x30_0000 + 0x100_0000;
        assert_eq!(ks.read_cstr(image_va, 16).unwrap(), b"image");
        assert_eq!(ks.read_cstr(0xffff_8880_0000_0000, 16).unwrap(), b"direct");
    }

    #[test]
    fn qemu_cr3_fallback() {
        let notes = Notes {
            qemu_cpus: vec![
                QemuCpuState::default(),
                QemuCpuState {
                    cr3: 0x8000_0000_0012_3801,
                    cr4: CR4_LA57,
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let (arch, layout) = bootstrap(None, Some(&notes)).unwrap();
        assert_eq!(arch.root(), 0x12_3000);
        assert_eq!(layout.pgtable_l5, Fact::new(true, Source::QemuCpuState));
        assert_eq!(layout.page_offset_base.value, PAGE_OFFSET_BASE_L5);
        assert!(!layout.phys_base.is_known());
        // VMCOREINFO without the x86 keys: still CR3.
        let v = Vmcoreinfo::parse("OSRELEASE=6.1.0\nKERNELOFFSET=0\n");
        let (arch, layout) = bootstrap(Some(&v), Some(&notes)).unwrap();
        assert_eq!(arch.root(), 0x12_3000);
        assert_eq!(layout.kaslr_offset, Fact::new(0, Source::Vmcoreinfo));
    }

    #[test]
    fn nothing_to_go_on() {
        assert!(matches!(bootstrap(None, None), Err(Error::NoLayout(_))));
        let v = Vmcoreinfo::parse("SYMBOL(init_top_pgt)=1000\nNUMBER(phys_base)=0\n");
        assert!(matches!(bootstrap(Some(&v), None), Err(Error::NoLayout(_))));
    }
}
