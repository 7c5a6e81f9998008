//! Round trip on synthetic ELF vmcores: `kdive save` in every output form and compression,
//! then every page the output keeps reads back (through kdive_dumpfile) identical to the
//! source, zero pages included; nothing the source lacks appears.

use std::path::{Path, PathBuf};

use kdive_dumpfile::{Dump, ExtentKind};
use kdive_save::meta::note;
use kdive_save::{save, Codec, Options};
use proptest::prelude::*;

const PS: u64 = 4096;

/// An ELF vmcore with one PT_LOAD per `(first_pfn, pages)`; page contents from `fill`.
fn elf_vmcore(segs: &[(u64, Vec<Vec<u8>>)]) -> Vec<u8> {
    let notes = note(
        b"VMCOREINFO",
        0,
        b"OSRELEASE=6.1.0-synthetic\nPAGESIZE=4096\nCRASHTIME=1700000000\n",
    );
    let phnum = segs.len() + 1;
    let hdr = 64 + 56 * phnum;
    let data_start = (hdr + notes.len()).div_ceil(PS as usize) * PS as usize;
    let mut out = vec![0u8; data_start];
    out[0..4].copy_from_slice(b"\x7fELF");
    out[4] = 2;
    out[5] = 1;
    out[6] = 1;
    out[16..18].copy_from_slice(&4u16.to_le_bytes());
    out[18..20].copy_from_slice(&62u16.to_le_bytes());
    out[20..24].copy_from_slice(&1u32.to_le_bytes());
    out[32..40].copy_from_slice(&64u64.to_le_bytes());
    out[52..54].copy_from_slice(&64u16.to_le_bytes());
    out[54..56].copy_from_slice(&56u16.to_le_bytes());
    out[56..58].copy_from_slice(&(phnum as u16).to_le_bytes());
    let ph = |i: usize, ty: u32, off: u64, paddr: u64, size: u64, out: &mut Vec<u8>| {
        let b = &mut out[64 + i * 56..64 + (i + 1) * 56];
        b[0..4].copy_from_slice(&ty.to_le_bytes());
        b[8..16].copy_from_slice(&off.to_le_bytes());
        b[24..32].copy_from_slice(&paddr.to_le_bytes());
        b[32..40].copy_from_slice(&size.to_le_bytes());
        b[40..48].copy_from_slice(&size.to_le_bytes());
    };
    ph(0, 4, hdr as u64, 0, notes.len() as u64, &mut out);
    out[hdr..hdr + notes.len()].copy_from_slice(&notes);
    for (i, (pfn, pages)) in segs.iter().enumerate() {
        let off = out.len() as u64;
        ph(i + 1, 1, off, pfn * PS, pages.len() as u64 * PS, &mut out);
        for p in pages {
            out.extend_from_slice(p);
        }
    }
    out
}

fn page(seed: u64, kind: u8) -> Vec<u8> {
    match kind % 4 {
        0 => vec![0; PS as usize],
        1 => vec![(seed % 251) as u8; PS as usize],
        _ => {
            let mut x = seed | 1;
            (0..PS)
                .map(|i| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    if kind % 4 == 2 && i % 3 == 0 {
                        0
                    } else {
                        x as u8
                    }
                })
                .collect()
        }
    }
}

fn run(src: &Path, dest: &Path, level: u8, codec: Codec, elf: bool, flat: bool) {
    let o = Options {
        level,
        codec,
        elf,
        flat,
        threads: 3,
        quiet: true,
        ..Options::new(src.to_path_buf(), dest.to_path_buf())
    };
    let out = save(&o).expect("save");
    assert!(out.incomplete.is_none(), "{:?}", out.incomplete);
}

fn check(src: &Path, dest: &Path, level: u8, elf: bool) -> u64 {
    let a = Dump::open(&[src.to_path_buf()]).unwrap();
    let b = Dump::open(&[dest.to_path_buf()]).unwrap();
    assert!(!b.header().incomplete);
    assert_eq!(b.vmcoreinfo().unwrap().osrelease(), Some("6.1.0-synthetic"));
    let (mut pa, mut pb) = (vec![0u8; PS as usize], vec![0u8; PS as usize]);
    let mut checked = 0;
    for e in a.phys_extents() {
        assert!(matches!(e.kind, ExtentKind::File(_)));
        for pfn in e.start / PS..e.end / PS {
            a.read_phys(pfn * PS, &mut pa).unwrap();
            match b.read_phys(pfn * PS, &mut pb) {
                Ok(()) => {
                    assert_eq!(pa, pb, "pfn {pfn:#x} differs");
                    checked += 1;
                }
                Err(kdive_dumpfile::Error::Excluded { .. }) => {
                    // Only zero pages may be left out (levels 0/1 need no mem_map).
                    assert!(elf && level & 1 != 0, "pfn {pfn:#x} excluded");
                    assert!(pa.iter().all(|&x| x == 0));
                }
                Err(e) => panic!("pfn {pfn:#x}: {e}"),
            }
        }
    }
    // Nothing outside the source.
    for e in b.phys_extents() {
        for pfn in e.start / PS..e.end / PS {
            assert!(
                a.read_phys(pfn * PS, &mut pa).is_ok(),
                "pfn {pfn:#x} invented"
            );
        }
    }
    checked
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn saved_pages_read_back_identical(
        layout in prop::collection::vec((0u64..40, prop::collection::vec((any::<u64>(), any::<u8>()), 1..40)), 1..5),
        level in prop::sample::select(vec![0u8, 1]),
        codec in prop::sample::select(vec![Codec::Zstd, Codec::Zlib, Codec::Lzo, Codec::Snappy, Codec::None]),
        form in 0u8..3,
    ) {
        let mut segs = Vec::new();
        let mut next = 0u64;
        for (gap, pages) in layout {
            let first = next + gap;
            let pages: Vec<Vec<u8>> = pages.iter().map(|(s, k)| page(*s, *k)).collect();
            next = first + pages.len() as u64;
            segs.push((first, pages));
        }
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("vmcore");
        std::fs::write(&src, elf_vmcore(&segs)).unwrap();
        let dest: PathBuf = dir.path().join("out");
        let (elf, flat) = (form == 1, form == 2);
        run(&src, &dest, level, codec, elf, flat);
        let total: u64 = segs.iter().map(|s| s.1.len() as u64).sum();
        let checked = check(&src, &dest, level, elf);
        if !elf {
            prop_assert_eq!(checked, total);
        }
        // Saving the saved dump again (kdump → kdump) changes nothing either.
        if !elf {
            let again = dir.path().join("again");
            run(&dest, &again, level, Codec::Zstd, false, false);
            prop_assert_eq!(check(&src, &again, level, false), total);
        }
    }
}

#[test]
fn output_is_private_and_dest_is_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("vmcore");
    std::fs::write(&src, elf_vmcore(&[(1, vec![page(7, 3), page(0, 0)])])).unwrap();
    let dest = dir.path().join("out");
    run(&src, &dest, 31, Codec::Zstd, false, false);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // The defaults (level 31, zstd, no --force) but one thread, quietly.
    let o = Options {
        threads: 1,
        quiet: true,
        ..Options::new(src.clone(), dest.clone())
    };
    assert!(save(&o).is_err());
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn not_a_dump_is_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("notes.txt");
    std::fs::write(&src, b"hello, this is not a dump\n").unwrap();
    let bin = env!("CARGO_BIN_EXE_kdive-save");
    let out = std::process::Command::new(bin)
        .arg(&src)
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("notes.txt"), "{err}");
    assert!(!dir.path().join("out").exists());
}

/// `kdive save -d 31 --compress lzo` on two threads, quietly: the fuzz-find replays.
fn lzo_d31(source: std::path::PathBuf, dest: std::path::PathBuf) -> Options {
    Options {
        codec: Codec::Lzo,
        threads: 2,
        quiet: true,
        ..Options::new(source, dest)
    }
}

/// Fuzz find (save_any_dump, timeout): a 64 KiB ELF whose PT_LOAD claims ~560 GB of file
/// bytes (3 TB in memory) past the end of the file. The unreadable stretch is marked in one
/// step instead of page by page; the save ends in well under a second.
#[test]
fn terabyte_segment_past_the_end_is_not_walked_page_by_page() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::write(
        &src,
        include_bytes!("../testdata/fuzz/save_any_dump-terabyte-segment"),
    )
    .unwrap();
    let t0 = std::time::Instant::now();
    let _ = save(&lzo_d31(src, dir.path().join("out")));
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        t0.elapsed()
    );
}

/// Fuzz find (save_any_dump, timeout): a 30 KiB ELF whose segments lie near 2^46 physical; the
/// saved kdump file's bitmaps describe every page below that (sparse), and
/// `Dump::phys_extents` on the output walked its 1st bitmap bit by bit through one byte read at
/// a time (2.7 s in a debug build, over the fuzzer's 10 s with sanitizers; now ~70 ms).
#[test]
fn extents_of_a_sparse_huge_bitmap_are_quick() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::write(
        &src,
        include_bytes!("../testdata/fuzz/save_any_dump-huge-bitmap-extents"),
    )
    .unwrap();
    let dest = dir.path().join("out");
    let t0 = std::time::Instant::now();
    let out = save(&lzo_d31(src, dest.clone()));
    let t_save = t0.elapsed();
    if let Ok(o) = out {
        if o.incomplete.is_none() {
            let d = kdive_dumpfile::Dump::open(&[dest]).expect("kdive save output must open");
            let e = d.phys_extents();
            assert!(e.iter().all(|x| x.start < x.end), "{e:?}");
        }
    }
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(10),
        "save {t_save:?}, in all {:?}",
        t0.elapsed()
    );
}

/// Fuzz find (save_any_dump, slow under sanitizers): a 1 KiB file describing ~260M pages of
/// physical memory, almost all outside the file. The output's bitmaps cover every one of them
/// (the format sizes them by the highest PFN: 65 MB here, bounded by `MAX_PFN`); the save is
/// marked incomplete, names what it could not read, and the summary does not pretend the
/// output is a share of the source.
#[test]
fn a_kilobyte_describing_a_terabyte_is_bounded_and_marked_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let bytes = include_bytes!("../testdata/fuzz/save_any_dump-kilobyte-describing-a-terabyte");
    std::fs::write(&src, bytes).unwrap();
    let t0 = std::time::Instant::now();
    let out = save(&lzo_d31(src, dir.path().join("out"))).expect("a damaged source still saves");
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        t0.elapsed()
    );
    let why = out.incomplete.expect("marked incomplete");
    assert!(why.contains("could not be read"), "{why}");
    assert!(
        out.summary
            .contains(&format!("(source: {} bytes)", bytes.len())),
        "{}",
        out.summary
    );
}

/// Fuzz find (save_any_dump, ~7 s under the sanitizers): an 8 KiB ELF describing memory up to
/// 2.6 TB, just under the 4 TiB limit; its output bitmaps alone are 163 MB. A caller that
/// sets a lower `max_pfn` (the fuzz target does) has it refused at once, with the limit named.
#[test]
fn a_source_above_the_callers_pfn_limit_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::write(
        &src,
        include_bytes!("../testdata/fuzz/save_any_dump-near-max-pfn"),
    )
    .unwrap();
    let dest = dir.path().join("out");
    let t0 = std::time::Instant::now();
    let err = save(&Options {
        max_pfn: 1 << 24,
        ..lzo_d31(src, dest.clone())
    })
    .expect_err("refused");
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        t0.elapsed()
    );
    let msg = err.to_string();
    assert!(
        msg.contains("beyond the 64 GiB kdive save handles"),
        "{msg}"
    );
    assert!(!dest.exists(), "nothing written");
}

/// Fuzz find (save_any_dump, panic): VMCOREINFO with MAX_PHYSMEM_BITS below
/// SECTION_SIZE_BITS underflowed the section count while mem_map was set up. Now the values are
/// refused as implausible and the save falls back to a lower dump level.
#[test]
fn physmem_bits_below_section_bits_is_refused_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::write(
        &src,
        include_bytes!("../testdata/fuzz/save_any_dump-physmem-bits-below-section-bits"),
    )
    .unwrap();
    // Any outcome but a panic: the source is damaged in many ways besides.
    if let Ok(out) = save(&lzo_d31(src, dir.path().join("out"))) {
        assert!(
            out.warnings.iter().any(|w| w.contains("implausible")) || out.incomplete.is_some(),
            "{:?}",
            out.warnings
        );
    }
}
