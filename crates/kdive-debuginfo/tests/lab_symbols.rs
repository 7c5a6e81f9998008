//! The vmlinux symbol table on the lab's real Debian vmlinux files: the cached table (mapped,
//! link-time addresses moved by the KASLR offset) answers exactly as the table read from the ELF
//! file, and a damaged cache file is rebuilt. Skipped with a note when the lab is absent.

use kdive_debuginfo::cachefile::CacheOutcome;
use kdive_debuginfo::{SymbolKind, VmlinuxElf};
use kdive_lab::lab_dir;

const RELEASES: &[&str] = &["6.1.0-56-cloud-amd64", "6.12.118+deb13-cloud-amd64"];
/// A KASLR offset as the lab's dumps have them (2 MiB aligned).
const KASLR: u64 = 0x1c00_0000;

#[test]
fn cached_table_equals_the_elf_table() {
    let Some(lab) = lab_dir() else {
        eprintln!("note: lab not found ($KDIVE_LAB_DIR or ~/.cache/kdive/lab): skipping");
        return;
    };
    for r in RELEASES {
        let path = lab.join("kernels").join(r).join("vmlinux");
        if !path.is_file() {
            eprintln!("note: {} absent: skipping {r}", path.display());
            continue;
        }
        let elf = VmlinuxElf::open(&path).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let direct = elf.symbols(KASLR).unwrap();
        let (built, how) = elf.symbols_cached(KASLR, Some(dir.path())).unwrap();
        assert!(matches!(
            how,
            CacheOutcome::Built {
                rejected: None,
                write_error: None
            }
        ));
        let (mapped, how) = elf.symbols_cached(KASLR, Some(dir.path())).unwrap();
        assert_eq!(how, CacheOutcome::Mapped, "{r}");
        assert!(direct.len() > 50_000, "{r}: {} symbols", direct.len());
        for t in [&built, &mapped] {
            assert_eq!(t.len(), direct.len());
            assert!(
                t.iter().eq(direct.iter()),
                "{r}: symbols differ in order or value"
            );
        }
        // Absolute symbols keep their value; relocated ones move.
        let text = elf.find_symbol("_text").unwrap().value;
        assert_eq!(mapped.lookup("_text").unwrap().addr, text + KASLR);
        let abs: Vec<_> = mapped
            .iter()
            .filter(|s| s.kind == SymbolKind::Absolute)
            .collect();
        assert!(!abs.is_empty(), "{r}: no absolute symbols to check");
        for s in abs
            .into_iter()
            .filter(|s| mapped.lookup_all(s.name).count() == 1)
        {
            assert_eq!(
                Some(s.addr),
                elf.find_symbol(s.name).map(|e| e.value),
                "{}",
                s.name
            );
        }
        // Every address lookup agrees, at symbol starts and just inside them.
        for s in direct.iter().step_by(97) {
            for a in [s.addr, s.addr + 1] {
                assert_eq!(mapped.lookup_addr(a), direct.lookup_addr(a), "{r}: {a:#x}");
            }
            assert_eq!(
                mapped.lookup(s.name),
                direct.lookup(s.name),
                "{r}: {}",
                s.name
            );
        }
        // A damaged file is noticed and rebuilt.
        let file = std::fs::read_dir(dir.path().join("index"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let mut bytes = std::fs::read(&file).unwrap();
        let n = bytes.len();
        bytes[n / 2] ^= 0x40;
        std::fs::write(&file, bytes).unwrap();
        let (again, how) = elf.symbols_cached(KASLR, Some(dir.path())).unwrap();
        assert!(
            matches!(
                how,
                CacheOutcome::Built {
                    rejected: Some(_),
                    ..
                }
            ),
            "{how:?}"
        );
        assert!(again.iter().eq(direct.iter()));
    }
}
