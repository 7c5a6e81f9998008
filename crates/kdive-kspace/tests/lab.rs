//! Lab test: on real dumps (when present), bootstrap from VMCOREINFO alone and read
//! `init_uts_ns`; its release string must equal VMCOREINFO's OSRELEASE.
//! QEMU dumps are also bootstrapped from CR3 alone (VMCOREINFO withheld), which walks the
//! page tables for kernel-image addresses too.
//! Dumps: $KDIVE_LAB_DIR or ~/.cache/kdive/lab, as <release>/<scenario>/<format>.

use std::path::PathBuf;
use std::sync::Arc;

use kdive_dumpfile::Dump;
use kdive_kspace::KernelSpace;
use kdive_physmem::PhysMem;

/// `struct new_utsname`: six fields of `__NEW_UTS_LEN + 1` bytes.
const UTS_FIELD: u64 = 65;

/// The single-file dump formats the lab writes for each scenario.
const LAB_FORMATS: [&str; 5] = [
    "vmcore.elf",
    "elf-d31",
    "kdump-zlib-d31",
    "qemu.elf",
    "qemu-kdump-zlib",
];

fn lab_dumps() -> Vec<PathBuf> {
    kdive_lab::dump_files(&LAB_FORMATS)
}

#[test]
fn init_uts_ns_release_matches_vmcoreinfo() {
    let dumps = lab_dumps();
    if dumps.is_empty() {
        eprintln!("SKIP: no lab dumps (set KDIVE_LAB_DIR or fill ~/.cache/kdive/lab/<release>/<scenario>/)");
        return;
    }
    let mut checked = 0;
    for path in dumps {
        let dump = match Dump::open(std::slice::from_ref(&path)) {
            Ok(d) => Arc::new(d),
            Err(e) => {
                eprintln!("SKIP {}: cannot open: {e}", path.display());
                continue;
            }
        };
        let Some(vmci) = dump.vmcoreinfo().cloned() else {
            eprintln!("SKIP {}: no VMCOREINFO", path.display());
            continue;
        };
        let notes = dump.notes().clone();
        let mem: Arc<dyn PhysMem> = dump;
        let ks = KernelSpace::bootstrap(mem.clone(), Some(&vmci), Some(&notes)).expect("bootstrap");
        let uts = vmci.symbol("init_uts_ns").expect("SYMBOL(init_uts_ns)");
        let name = uts
            + vmci
                .offset("uts_namespace.name")
                .expect("OFFSET(uts_namespace.name)");
        let sysname = ks.read_cstr(name, UTS_FIELD as usize).expect("sysname");
        let release = ks
            .read_cstr(name + 2 * UTS_FIELD, UTS_FIELD as usize)
            .expect("release");
        let release = String::from_utf8_lossy(&release);
        eprintln!(
            "{}: {} {release}\n{}",
            path.display(),
            String::from_utf8_lossy(&sysname),
            ks.layout()
        );
        assert_eq!(sysname, b"Linux", "{}", path.display());
        assert_eq!(
            Some(release.as_ref()),
            vmci.osrelease(),
            "{}",
            path.display()
        );
        // A page walk of the same kernel-image address agrees with the arithmetic.
        let walked = ks
            .translator()
            .walk(&**ks.mem(), &ks.layout(), name)
            .expect("walk init_uts_ns");
        assert_eq!(walked.pa, ks.vtop(name).unwrap(), "{}", path.display());
        // QEMU notes carry CR3: the same read must work with no VMCOREINFO at all.
        if !notes.qemu_cpus.is_empty() {
            let by_cr3 =
                KernelSpace::bootstrap(mem, None, Some(&notes)).expect("bootstrap from CR3");
            let release2 = by_cr3
                .read_cstr(name + 2 * UTS_FIELD, UTS_FIELD as usize)
                .expect("release via CR3");
            assert_eq!(
                String::from_utf8_lossy(&release2),
                release,
                "{}: via CR3",
                path.display()
            );
            eprintln!("  also via CR3 {:#x} alone", by_cr3.translator().root());
        }
        checked += 1;
    }
    eprintln!("checked {checked} dump(s)");
}
