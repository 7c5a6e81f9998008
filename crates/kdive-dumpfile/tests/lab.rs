//! Real dumps from the lab (`lab/lab.sh`): every format of a capture must read the same pages,
//! VMCOREINFO and CPU notes as the full ELF copy of /proc/vmcore. Skipped, with a note, when the
//! lab cache ($KDIVE_LAB_DIR or ~/.cache/kdive/lab) is absent.

use kdive_lab::lab_dir;
use std::path::{Path, PathBuf};

use kdive_dumpfile::{Dump, DumpFormat, Error};

/// Capture directories (`<release>/<scenario>/`) that hold a full `vmcore.elf`.
fn captures() -> Vec<PathBuf> {
    let Some(lab) = lab_dir() else {
        eprintln!("lab tests SKIPPED: no lab dir ($KDIVE_LAB_DIR or ~/.cache/kdive/lab)");
        return Vec::new();
    };
    let mut out = Vec::new();
    for rel in std::fs::read_dir(&lab).into_iter().flatten().flatten() {
        for sc in std::fs::read_dir(rel.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            // `*.tmp` directories are captures still being written.
            let tmp = sc.file_name().to_string_lossy().ends_with(".tmp");
            if !tmp && sc.path().join("vmcore.elf").is_file() {
                out.push(sc.path());
            }
        }
    }
    out.sort();
    if out.is_empty() {
        eprintln!(
            "lab tests SKIPPED: no capture with vmcore.elf under {}",
            lab.display()
        );
    }
    out
}

/// Deterministic PFN sample: first, last and `n` pseudo-random ones below `max_pfn`.
fn sample_pfns(max_pfn: u64, n: usize) -> Vec<u64> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut v = vec![0, max_pfn.saturating_sub(1)];
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.push(x % max_pfn.max(1));
    }
    v
}

fn open(paths: &[PathBuf]) -> Option<Dump> {
    if !paths.iter().all(|p| p.is_file()) {
        eprintln!("  (missing {:?}, skipped)", paths);
        return None;
    }
    Some(Dump::open(paths).unwrap_or_else(|e| panic!("open {paths:?}: {e}")))
}

/// Compares `cand` with `reference` page by page; returns (same, excluded, differing) counts.
/// With `exact`, any differing page fails (both files copy one frozen memory image).
fn compare_pages(
    name: &str,
    reference: &Dump,
    cand: &Dump,
    complete: bool,
    exact: bool,
) -> (usize, usize, usize) {
    let ps = reference.header().page_size;
    assert_eq!(cand.header().page_size, ps, "{name}: page size");
    let (mut same, mut excluded, mut differing) = (0, 0, 0);
    let mut a = vec![0u8; ps as usize];
    let mut b = vec![0u8; ps as usize];
    let max_pfn = reference.header().max_pfn.max(cand.header().max_pfn);
    for pfn in sample_pfns(max_pfn, 2000) {
        let r = reference.read_phys(pfn * ps, &mut a);
        let c = cand.read_phys(pfn * ps, &mut b);
        match (r, c) {
            (Ok(()), Ok(())) if a == b => same += 1,
            (Ok(()), Ok(())) => {
                assert!(!exact, "{name}: pfn {pfn:#x} differs from the reference");
                differing += 1;
            }
            (Ok(()), Err(Error::Excluded { .. })) => {
                assert!(
                    !complete,
                    "{name}: pfn {pfn:#x} excluded from a complete dump"
                );
                excluded += 1;
            }
            (Err(Error::NotInDump { .. }), Err(Error::NotInDump { .. })) => {}
            (r, c) => panic!("{name}: pfn {pfn:#x}: vmcore.elf says {r:?}, this dump says {c:?}"),
        }
    }
    (same, excluded, differing)
}

fn compare_notes(name: &str, reference: &Dump, cand: &Dump) {
    let (rv, cv) = (
        reference.vmcoreinfo().expect("vmcore.elf VMCOREINFO"),
        cand.vmcoreinfo(),
    );
    let cv = cv.unwrap_or_else(|| panic!("{name}: no VMCOREINFO"));
    assert_eq!(rv.entries(), cv.entries(), "{name}: VMCOREINFO differs");
    let (rp, cp) = (&reference.notes().prstatus, &cand.notes().prstatus);
    assert_eq!(rp.len(), cp.len(), "{name}: PRSTATUS count");
    for (i, (r, c)) in rp.iter().zip(cp).enumerate() {
        assert_eq!((r.pid, r.regs), (c.pid, c.regs), "{name}: PRSTATUS {i}");
    }
}

#[test]
fn every_format_matches_the_full_elf() {
    for cap in captures() {
        eprintln!("capture {}", cap.display());
        let reference = Dump::open(&[cap.join("vmcore.elf")]).expect("open vmcore.elf");
        assert!(!reference.is_partial(), "vmcore.elf should be complete");
        assert!(Dump::sniff(&cap.join("vmcore.elf")));
        if let Some(vmlinux) = cap.parent().and_then(|r| r.parent()).map(|lab| {
            lab.join("kernels")
                .join(cap.parent().unwrap().file_name().unwrap())
                .join("vmlinux")
        }) {
            if vmlinux.is_file() {
                assert!(!Dump::sniff(&vmlinux), "vmlinux sniffed as a dump");
            }
        }
        assert!(!reference.notes().prstatus.is_empty());
        let rv = reference.vmcoreinfo().expect("VMCOREINFO in vmcore.elf");
        assert_eq!(rv.page_size(), Some(reference.header().page_size));
        eprintln!("  vmcore.elf: {}", reference.describe());
        let p = |n: &str| cap.join(n);
        let sets: Vec<(&str, Vec<PathBuf>, bool)> = vec![
            ("elf-d31", vec![p("elf-d31")], false),
            ("kdump-zlib-d31", vec![p("kdump-zlib-d31")], false),
            ("kdump-lzo-d31", vec![p("kdump-lzo-d31")], false),
            ("kdump-none-d31", vec![p("kdump-none-d31")], false),
            ("kdump-zlib-d0", vec![p("kdump-zlib-d0")], true),
            ("flat-zlib-d31", vec![p("flat-zlib-d31")], false),
            (
                "split-zlib-d31",
                vec![p("split-zlib-d31.2"), p("split-zlib-d31.1")],
                false,
            ),
        ];
        for (name, paths, complete) in sets {
            let Some(d) = open(&paths) else { continue };
            assert!(paths.iter().all(|p| Dump::sniff(p)), "{name}: sniff");
            let (same, excluded, _) = compare_pages(name, &reference, &d, complete, true);
            eprintln!(
                "  {name}: {} | {same} pages equal, {excluded} excluded",
                d.describe()
            );
            assert!(same > 50, "{name}: too few comparable pages ({same})");
            compare_notes(name, &reference, &d);
            assert!(!d.is_truncated(), "{name}: truncated");
            assert_eq!(d.is_partial(), !complete, "{name}: is_partial");
            if name.starts_with("kdump") {
                let h = d.header();
                assert_eq!(
                    h.utsname.as_ref().map(|u| u.release.as_str()),
                    rv.osrelease(),
                    "{name}: utsname"
                );
                assert_eq!(
                    h.dump_level,
                    Some(if complete { 0 } else { 31 }),
                    "{name}: dump level"
                );
            }
            match name {
                "flat-zlib-d31" => assert!(matches!(d.format(), DumpFormat::Flattened(_))),
                "split-zlib-d31" => {
                    assert!(matches!(d.format(), DumpFormat::Split { parts: 2, .. }))
                }
                _ => {}
            }
        }
        // A part alone opens only if it covers every PFN (makedumpfile 1.7.2 may put all pages
        // in part 1 and leave part 2 empty); otherwise it is refused, naming the missing range.
        let mut refused = 0;
        for part in ["split-zlib-d31.1", "split-zlib-d31.2"]
            .map(p)
            .iter()
            .filter(|f| f.is_file())
        {
            match Dump::open(std::slice::from_ref(part)) {
                Err(e @ Error::SplitIncomplete { .. }) => {
                    eprintln!("  {} alone: {e}", part.display());
                    refused += 1;
                }
                Ok(d) => eprintln!(
                    "  {} alone covers every PFN: {}",
                    part.display(),
                    d.describe()
                ),
                Err(e) => panic!("{} alone: {e}", part.display()),
            }
        }
        if p("split-zlib-d31.2").is_file() {
            assert!(refused >= 1, "no split part alone was refused");
        }
        qemu_pair(&cap);
    }
}

/// QEMU's own dumps (a separate boot): its kdump-zlib must match its ELF. QEMU writes them one
/// after the other while the guest keeps running its panic loop, so a few pages and the
/// volatile registers may differ; the page tables and descriptor tables may not.
fn qemu_pair(cap: &Path) {
    let (Some(elf), Some(kd)) = (
        open(&[cap.join("qemu.elf")]),
        open(&[cap.join("qemu-kdump-zlib")]),
    ) else {
        return;
    };
    eprintln!("  qemu.elf: {}", elf.describe());
    assert!(matches!(elf.format(), DumpFormat::Elf { qemu: true }));
    assert!(!elf.notes().qemu_cpus.is_empty(), "qemu.elf: no QEMU notes");
    assert!(!kd.is_partial(), "QEMU's level-1 kdump loses no page");
    let (same, excluded, differing) = compare_pages("qemu-kdump-zlib", &elf, &kd, true, false);
    eprintln!(
        "  qemu-kdump-zlib: {} | {same} pages equal, {differing} differ, {excluded} excluded",
        kd.describe()
    );
    assert!(
        same > 50 && differing * 20 < same,
        "too many differing pages: {differing} of {}",
        same + differing
    );
    let (eq, kq) = (&elf.notes().qemu_cpus, &kd.notes().qemu_cpus);
    assert_eq!(eq.len(), kq.len(), "QEMU note count");
    for (a, b) in eq.iter().zip(kq) {
        assert_eq!(
            (a.cr3, a.cr4, a.idt_base, a.gdt_base),
            (b.cr3, b.cr4, b.idt_base, b.gdt_base)
        );
    }
    if let (Some(a), Some(b)) = (elf.vmcoreinfo(), kd.vmcoreinfo()) {
        assert_eq!(a.entries(), b.entries(), "QEMU VMCOREINFO");
    }
    let u = kd.header().utsname.clone().unwrap_or_default();
    eprintln!(
        "  qemu-kdump-zlib utsname release: {:?} (QEMU leaves it empty)",
        u.release
    );
}
