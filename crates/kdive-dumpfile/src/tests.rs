//! End-to-end tests over synthetic dumps: every format through `Dump::open` and `read_phys`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::testutil::*;
use crate::{Compression, CpuRegisters, Dump, DumpFormat, Error, Utsname};

const PS: u64 = 4096;

fn open_bytes(bytes: &[u8]) -> (tempfile::TempDir, crate::Result<Dump>) {
    let (dir, path) = temp_file(bytes);
    let d = Dump::open(&[path]);
    (dir, d)
}

fn regs(seed: u64) -> CpuRegisters {
    CpuRegisters {
        rip: 0xffff_ffff_8100_0000 + seed,
        rsp: 0xffff_c900_0000_0000 + seed,
        rax: seed,
        ..Default::default()
    }
}

fn cpu_notes() -> Vec<u8> {
    let mut n = note(b"CORE", 1, &prstatus_desc(100, &regs(1)));
    n.extend(note(b"CORE", 1, &prstatus_desc(0, &regs(2))));
    n
}

const VMCI: &str =
    "OSRELEASE=6.1.0-test\nPAGESIZE=4096\nNUMBER(phys_base)=16777216\nKERNELOFFSET=1c000000\n";

fn elf_spec() -> ElfSpec {
    let mut notes = cpu_notes();
    notes.extend(note(b"VMCOREINFO", 0, VMCI.as_bytes()));
    ElfSpec {
        loads: vec![
            Load {
                paddr: 0x1000,
                data: (0..3 * PS as usize).map(|i| (i % 253) as u8).collect(),
                memsz: 3 * PS,
            },
            Load {
                paddr: 0x10000,
                data: vec![0xab; PS as usize],
                memsz: 4 * PS,
            },
        ],
        notes,
        ..Default::default()
    }
}

#[test]
fn elf_implausible_pagesize_falls_back_to_4096() {
    // Fuzz find (dumpfile_open): PAGESIZE=2 in VMCOREINFO was taken as the page size.
    for bogus in ["1", "2", "8", "2097152", "0"] {
        let mut spec = elf_spec();
        spec.notes = note(b"VMCOREINFO", 0, format!("PAGESIZE={bogus}\n").as_bytes());
        let (_dir, d) = open_bytes(&spec.build());
        let d = d.unwrap();
        assert_eq!(d.header().page_size, PS, "PAGESIZE={bogus}");
        let mut buf = [0u8; 8];
        d.read_phys(0x1000 + PS - 8, &mut buf).unwrap();
    }
    // The fuzzer's input itself.
    let (_dir, d) = open_bytes(include_bytes!("../testdata/fuzz/dumpfile_open-pagesize-2"));
    if let Ok(d) = d {
        assert!(d.header().page_size >= 1024);
    }
}

#[test]
fn flat_hostile_note_size_is_not_allocated() {
    // Fuzz find (dumpfile_open): a flattened kdump whose sub-header note size (~250 PB) lies
    // inside the logical length its records claim; reading the notes allocated it all.
    let (_dir, d) = open_bytes(include_bytes!(
        "../testdata/fuzz/dumpfile_open-flat-huge-notes"
    ));
    if let Ok(d) = d {
        let _ = d.describe();
    }
}

#[test]
fn elf_reads_segments_tails_and_holes() {
    // QEMU layout: program headers at 192, e_ehsize 8.
    let spec = ElfSpec {
        phoff: 192,
        ehsize: 8,
        ..elf_spec()
    };
    let (_d, dump) = open_bytes(&spec.build());
    let dump = dump.unwrap();
    assert_eq!(dump.format(), &DumpFormat::Elf { qemu: false });
    let mut buf = vec![0u8; 10];
    dump.read_phys(0x1000 + PS - 5, &mut buf).unwrap();
    let want: Vec<u8> = (PS as usize - 5..PS as usize + 5)
        .map(|i| (i % 253) as u8)
        .collect();
    assert_eq!(buf, want);
    dump.read_phys(0x10000, &mut buf).unwrap();
    assert_eq!(buf, vec![0xab; 10]);
    assert!(matches!(
        dump.read_phys(0x10000 + PS, &mut buf),
        Err(Error::Excluded { paddr: 0x11000 })
    ));
    assert!(matches!(
        dump.read_phys(0x10000 + PS - 4, &mut buf),
        Err(Error::Excluded { paddr: 0x11000 })
    ));
    assert!(matches!(
        dump.read_phys(0x8000, &mut buf),
        Err(Error::NotInDump { paddr: 0x8000 })
    ));
    assert!(matches!(
        dump.read_phys(0x14000, &mut buf),
        Err(Error::NotInDump { .. })
    ));
    assert!(dump.is_partial());
    assert!(!dump.is_truncated());
    let h = dump.header();
    assert_eq!(
        (h.page_size, h.max_pfn, h.nr_cpus, h.incomplete),
        (4096, 0x14, Some(2), false)
    );
    assert_eq!(dump.notes().prstatus[0].pid, 100);
    assert_eq!(dump.notes().prstatus[1].regs, regs(2));
    let v = dump.vmcoreinfo().unwrap();
    assert_eq!(
        (v.osrelease(), v.phys_base()),
        (Some("6.1.0-test"), Some(0x1000000))
    );
    assert_eq!(dump.pages_present(), 4);
    let d = dump.describe();
    assert!(
        d.contains("ELF vmcore") && d.contains("2 PT_LOAD") && d.contains("6.1.0-test"),
        "{d}"
    );
}

#[test]
fn elf_overlapping_kernel_text_segment_and_flags() {
    let mut spec = elf_spec();
    // A kernel-text style segment overlapping the first one with the same bytes.
    spec.loads.push(Load {
        paddr: 0x2000,
        data: (PS as usize..2 * PS as usize)
            .map(|i| (i % 253) as u8)
            .collect(),
        memsz: PS,
    });
    spec.loads[1].memsz = PS;
    spec.e_flags = 1;
    spec.notes.extend(note(
        b"QEMU",
        0,
        &qemu_desc(&regs(3), 0x5000, 0xfffffe0000000000, true),
    ));
    let (_d, dump) = open_bytes(&spec.build());
    let dump = dump.unwrap();
    let mut buf = vec![0u8; 3 * PS as usize];
    dump.read_phys(0x1000, &mut buf).unwrap();
    assert!(buf.iter().enumerate().all(|(i, &b)| b == (i % 253) as u8));
    assert!(dump.header().incomplete && dump.is_partial());
    assert_eq!(dump.format(), &DumpFormat::Elf { qemu: true });
    assert_eq!(dump.notes().qemu_cpus[0].cr3, 0x5000);
}

#[test]
fn elf_truncated_file_reads_what_is_there() {
    let bytes = elf_spec().build();
    let cut = &bytes[..bytes.len() - 100];
    let (_d, dump) = open_bytes(cut);
    let dump = dump.unwrap();
    assert!(dump.is_truncated() && dump.is_partial());
    let mut buf = [0u8; 8];
    dump.read_phys(0x1000, &mut buf).unwrap();
    assert!(matches!(
        dump.read_phys(0x10000 + PS - 8, &mut buf),
        Err(Error::PageTruncated { .. })
    ));
}

#[test]
fn elf_other_flavours_are_refused_clearly() {
    let good = elf_spec().build();
    let mut elf32 = good.clone();
    elf32[4] = 1;
    let mut be = good.clone();
    be[5] = 2;
    let mut exec = good.clone();
    exec[16] = 2;
    let mut arm = good.clone();
    arm[18] = 183;
    for (bytes, want) in [
        (elf32, "ELF32"),
        (be, "big-endian"),
        (exec, "not a core"),
        (arm, "machine 183"),
    ] {
        let (_d, r) = open_bytes(&bytes);
        match r {
            Err(e @ Error::Unsupported { .. }) => assert!(e.to_string().contains(want), "{e}"),
            Err(e) => panic!("{want}: unexpected error {e}"),
            Ok(_) => panic!("{want}: opened"),
        }
    }
    let (_d, path) = temp_file(&good);
    assert!(Dump::sniff(&path));
    let mut exec = good.clone();
    exec[16] = 2;
    let (_d2, path) = temp_file(&exec);
    assert!(!Dump::sniff(&path));
    let (_d3, path) = temp_file(b"hello");
    assert!(!Dump::sniff(&path));
    assert!(!Dump::sniff(std::path::Path::new("/nonexistent/kdive")));
}

fn kdump_spec(kind: Compression) -> KdumpSpec {
    let mut pages = BTreeMap::new();
    for pfn in [0u64, 1, 2, 5, 8, 9, 10, 31, 40, 63] {
        pages.insert(pfn, page_for(pfn, PS as usize));
    }
    pages.insert(3, vec![0; PS as usize]);
    // Incompressible: stored raw even with a codec.
    let mut x = 0x9e37_79b9u32;
    pages.insert(
        4,
        (0..PS)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect(),
    );
    KdumpSpec {
        pages,
        excluded: [6u64, 7, 20].into_iter().collect(),
        compression: kind,
        notes: cpu_notes(),
        vmcoreinfo: Some(VMCI.into()),
        ..Default::default()
    }
}

fn check_kdump_reads(dump: &Dump, spec: &KdumpSpec) {
    for pfn in 0..spec.max_pfn + 2 {
        let mut buf = vec![0u8; PS as usize];
        let r = dump.read_phys(pfn * PS, &mut buf);
        match spec.pages.get(&pfn) {
            Some(p) => {
                r.unwrap_or_else(|e| panic!("pfn {pfn}: {e}"));
                assert_eq!(&buf, p, "pfn {pfn}");
            }
            None if spec.excluded.contains(&pfn) => {
                assert!(
                    matches!(r, Err(Error::Excluded { paddr }) if paddr == pfn * PS),
                    "pfn {pfn}: {r:?}"
                )
            }
            None => assert!(
                matches!(r, Err(Error::NotInDump { paddr }) if paddr == pfn * PS),
                "pfn {pfn}: {r:?}"
            ),
        }
    }
    // Across a page boundary (8 → 9) and into an excluded page partway.
    let mut buf = vec![0u8; 100];
    dump.read_phys(9 * PS - 50, &mut buf).unwrap();
    assert_eq!(&buf[..50], &spec.pages[&8][PS as usize - 50..]);
    assert_eq!(&buf[50..], &spec.pages[&9][..50]);
    assert!(
        matches!(dump.read_phys(6 * PS - 10, &mut buf), Err(Error::Excluded { paddr }) if paddr == 6 * PS)
    );
}

#[test]
fn kdump_every_codec_reads_pages_and_classifies_the_rest() {
    for kind in [
        Compression::None,
        Compression::Zlib,
        Compression::Lzo,
        Compression::Snappy,
        Compression::Zstd,
    ] {
        let spec = kdump_spec(kind);
        let (_d, dump) = open_bytes(&spec.build());
        let dump = dump.unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(
            dump.format(),
            &DumpFormat::Kdump {
                header_version: 6,
                compression: kind
            }
        );
        check_kdump_reads(&dump, &spec);
        // Again, now through the cache.
        check_kdump_reads(&dump, &spec);
        let h = dump.header();
        assert_eq!(h.dump_level, Some(31));
        assert_eq!(h.utsname.as_ref().unwrap().release, "6.1.0-test");
        assert_eq!(h.utsname.as_ref().unwrap().machine, "x86_64");
        assert_eq!(
            (h.nr_cpus, h.current_cpu, h.timestamp),
            (Some(2), Some(1), Some((1_764_000_000, 123)))
        );
        assert_eq!((h.page_size, h.max_pfn), (4096, 64));
        assert!(dump.is_partial() && !dump.is_truncated());
        assert_eq!(dump.notes().prstatus.len(), 2);
        assert_eq!(dump.vmcoreinfo().unwrap().kernel_offset(), Some(0x1c000000));
        assert_eq!(dump.pages_present(), 12);
        assert!(dump.describe().contains(kind.name()), "{}", dump.describe());
    }
}

#[test]
fn kdump_level_zero_is_not_partial_and_zero_pages_are_real_data() {
    let mut spec = kdump_spec(Compression::Zlib);
    spec.dump_level = 0;
    spec.excluded.clear();
    let (_d, dump) = open_bytes(&spec.build());
    let dump = dump.unwrap();
    assert!(!dump.is_partial());
    spec.dump_level = 1;
    let (_d, dump) = open_bytes(&spec.build());
    let dump = dump.unwrap();
    assert!(!dump.is_partial(), "level 1 shares zero pages, loses none");
    let mut buf = vec![1u8; PS as usize];
    dump.read_phys(3 * PS, &mut buf).unwrap();
    assert!(buf.iter().all(|&b| b == 0));
}

#[test]
fn kdump_vmcoreinfo_falls_back_to_offset_vmcoreinfo() {
    let spec = kdump_spec(Compression::Zlib);
    let mut bytes = spec.build();
    let at = bytes.windows(10).position(|w| w == b"VMCOREINFO").unwrap();
    bytes[at] = b'X';
    let (_d, dump) = open_bytes(&bytes);
    let dump = dump.unwrap();
    assert_eq!(dump.vmcoreinfo().unwrap().osrelease(), Some("6.1.0-test"));
}

#[test]
fn flattened_kdump_and_elf_read_like_the_originals() {
    for kind in [Compression::Zlib, Compression::Lzo] {
        let spec = kdump_spec(kind);
        let flat = flatten(&spec.build(), 777, true);
        let (_d, dump) = open_bytes(&flat);
        let dump = dump.unwrap();
        assert_eq!(
            dump.format(),
            &DumpFormat::Flattened(Box::new(DumpFormat::Kdump {
                header_version: 6,
                compression: kind
            }))
        );
        check_kdump_reads(&dump, &spec);
        assert!(!dump.is_truncated());
    }
    let elf = elf_spec().build();
    let (_d, dump) = open_bytes(&flatten(&elf, 1000, true));
    let dump = dump.unwrap();
    assert_eq!(
        dump.format(),
        &DumpFormat::Flattened(Box::new(DumpFormat::Elf { qemu: false }))
    );
    let mut a = vec![0u8; 3 * PS as usize];
    dump.read_phys(0x1000, &mut a).unwrap();
    assert!(a.iter().enumerate().all(|(i, &b)| b == (i % 253) as u8));
    assert_eq!(dump.notes().prstatus.len(), 2);
}

#[test]
fn flattened_stream_cut_short_is_truncated() {
    let spec = kdump_spec(Compression::Zlib);
    let flat = flatten(&spec.build(), 777, false);
    let (_d, dump) = open_bytes(&flat[..flat.len() - 2000]);
    let dump = dump.unwrap();
    assert!(dump.is_truncated());
    let mut buf = vec![0u8; PS as usize];
    dump.read_phys(0, &mut buf).unwrap();
    assert!(matches!(
        dump.read_phys(63 * PS, &mut buf),
        Err(Error::PageTruncated { .. })
    ));
}

fn split_parts(spec: &KdumpSpec, cut: u64) -> (Vec<u8>, Vec<u8>) {
    let a = KdumpSpec {
        split: Some((0, cut)),
        ..spec.clone()
    };
    let b = KdumpSpec {
        split: Some((cut, spec.max_pfn)),
        ..spec.clone()
    };
    (a.build(), b.build())
}

#[test]
fn split_pair_reads_as_one_dump_in_any_order() {
    let spec = kdump_spec(Compression::Zlib);
    let (a, b) = split_parts(&spec, 9);
    let dir = tempfile::tempdir().unwrap();
    let (pa, pb) = (dir.path().join("d.1"), dir.path().join("d.2"));
    std::fs::write(&pa, &a).unwrap();
    std::fs::write(&pb, &b).unwrap();
    let dump = Dump::open(&[pb.clone(), pa.clone()]).unwrap();
    assert!(matches!(dump.format(), DumpFormat::Split { parts: 2, .. }));
    check_kdump_reads(&dump, &spec);
    assert_eq!(dump.pages_present(), 12);
    assert_eq!(dump.notes().prstatus.len(), 2);

    // One part alone: the missing range is named.
    match Dump::open(std::slice::from_ref(&pa)) {
        Err(
            e @ Error::SplitIncomplete {
                start_pfn: 9,
                end_pfn: 64,
                ..
            },
        ) => assert!(e.to_string().contains("0x9")),
        other => panic!("{:?}", other.map(|_| ())),
    }
    match Dump::open(std::slice::from_ref(&pb)) {
        Err(Error::SplitIncomplete {
            start_pfn: 0,
            end_pfn: 9,
            ..
        }) => {}
        other => panic!("{:?}", other.map(|_| ())),
    }
    // The same part twice overlaps.
    assert!(matches!(
        Dump::open(&[pa.clone(), pa.clone(), pb.clone()]),
        Err(Error::Corrupt { .. })
    ));
    // An ELF file cannot join a set.
    let pe = dir.path().join("e");
    std::fs::write(&pe, elf_spec().build()).unwrap();
    assert!(matches!(
        Dump::open(&[pa, pe]),
        Err(Error::Unsupported { .. })
    ));
}

#[test]
fn hostile_kdump_headers_fail_with_named_errors() {
    let spec = kdump_spec(Compression::Zlib);
    let (good, layout) = spec.build_with_layout();
    let set32 =
        |b: &mut Vec<u8>, off: usize, v: u32| b[off..off + 4].copy_from_slice(&v.to_le_bytes());

    let mut b = good.clone();
    set32(&mut b, 428, 3000);
    let (_d, r) = open_bytes(&b);
    assert!(
        matches!(
            r,
            Err(Error::Corrupt {
                what: "kdump header block_size",
                ..
            })
        ),
        "{:?}",
        r.err()
    );

    let mut b = good.clone();
    set32(&mut b, 436, u32::MAX); // bitmap_blocks
    let (_d, r) = open_bytes(&b);
    assert!(matches!(r, Err(Error::Truncated { .. })), "{:?}", r.err());

    let mut b = good.clone();
    b[440..444].copy_from_slice(&u32::MAX.to_le_bytes());
    b[4096 + 96..4096 + 104].copy_from_slice(&u64::MAX.to_le_bytes()); // max_mapnr_64
    let (_d, r) = open_bytes(&b);
    let dump = r.unwrap(); // clamped to what the bitmap describes
    assert_eq!(dump.header().max_pfn, 4096 * 8);

    let mut b = good.clone();
    set32(&mut b, 432, u32::MAX); // sub_hdr_size negative
    let (_d, r) = open_bytes(&b);
    assert!(matches!(r, Err(Error::Corrupt { .. })), "{:?}", r.err());

    let mut b = good.clone();
    set32(&mut b, 428, 0);
    set32(&mut b, 416, 4096); // 32-bit layout
    let (_d, r) = open_bytes(&b);
    assert!(matches!(r, Err(Error::Unsupported { .. })), "{:?}", r.err());

    let (_d, r) = open_bytes(&good[..300]);
    assert!(
        matches!(
            r,
            Err(Error::Truncated {
                what: "kdump header",
                ..
            })
        ),
        "{:?}",
        r.err()
    );
    let (_d, r) = open_bytes(&[]);
    assert!(matches!(r, Err(Error::Unsupported { .. })));
    let (_d, r) = open_bytes(b"KDUMP   ");
    assert!(matches!(r, Err(Error::Truncated { .. })));

    // Bitmaps cut off.
    let (_d, r) = open_bytes(&good[..layout.bitmap2 as usize + 2]);
    assert!(
        matches!(
            r,
            Err(Error::Truncated {
                what: "kdump 2nd bitmap",
                ..
            })
        ),
        "{:?}",
        r.err()
    );
}

#[test]
fn hostile_page_descriptors_fail_per_page() {
    let spec = kdump_spec(Compression::Zlib);
    let (good, layout) = spec.build_with_layout();
    let desc = |i: u64| (layout.desc_base + i * 24) as usize;
    let mut buf = vec![0u8; PS as usize];

    // Descriptor 1 (pfn 1) pointing past the end.
    let mut b = good.clone();
    b[desc(1)..desc(1) + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let (_d, dump) = open_bytes(&b);
    let dump = dump.unwrap();
    assert!(matches!(
        dump.read_phys(PS, &mut buf),
        Err(Error::PageTruncated { paddr: 0x1000 })
    ));
    dump.read_phys(0, &mut buf).unwrap();

    // Garbage compressed data, unknown flags, raw page of the wrong size, zero size.
    for (field, val) in [
        (0usize, layout.data_start + 4096 + 1),
        (12, 0x40),
        (12, 0),
        (8, 0),
    ] {
        let mut b = good.clone();
        let at = desc(1) + field;
        if field == 0 {
            b[at..at + 8].copy_from_slice(&val.to_le_bytes());
        } else {
            b[at..at + 4].copy_from_slice(&(val as u32).to_le_bytes());
        }
        let (_d, dump) = open_bytes(&b);
        let dump = dump.unwrap();
        let r = dump.read_phys(PS, &mut buf);
        assert!(
            matches!(r, Err(Error::BadPage { paddr: 0x1000, .. })),
            "field {field}: {r:?}"
        );
    }

    // Cut in the middle of the page data.
    let (_d, dump) = open_bytes(&good[..good.len() - 10]);
    let dump = dump.unwrap();
    assert!(dump.is_truncated());
    assert!(matches!(
        dump.read_phys(63 * PS, &mut buf),
        Err(Error::PageTruncated { .. })
    ));

    // Incomplete dump: zeroed descriptors are lost pages.
    let mut inc = kdump_spec(Compression::Zlib);
    inc.status_extra = 0x8;
    let (mut b, layout) = inc.build_with_layout();
    let d = (layout.desc_base + 11 * 24) as usize;
    b[d..d + 24].fill(0);
    let (_d, dump) = open_bytes(&b);
    let dump = dump.unwrap();
    assert!(dump.header().incomplete && dump.is_partial());
    assert!(matches!(
        dump.read_phys(63 * PS, &mut buf),
        Err(Error::PageTruncated { .. })
    ));
}

#[test]
fn dump_is_send_and_sync_and_reads_from_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Dump>();
    let spec = kdump_spec(Compression::Zstd);
    let (_d, dump) = open_bytes(&spec.build());
    let dump = dump.unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..20 {
                    check_kdump_reads(&dump, &spec);
                }
            });
        }
    });
}

#[test]
fn open_with_no_paths_or_missing_file() {
    assert!(matches!(Dump::open(&[]), Err(Error::Unsupported { .. })));
    let r = Dump::open(&[PathBuf::from("/nonexistent/vmcore")]);
    assert!(matches!(r, Err(Error::Io { .. })));
}

mod round_trip {
    use super::*;
    use proptest::prelude::*;

    fn page_strategy() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(vec![0u8; PS as usize]),
            any::<u8>().prop_map(|b| vec![b; PS as usize]),
            proptest::collection::vec(any::<u8>(), PS as usize),
            (any::<u8>(), 1usize..64)
                .prop_map(|(s, m)| (0..PS as usize).map(|i| (i % m) as u8 ^ s).collect()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
        #[test]
        fn kdump_pages_round_trip(
            pages in proptest::collection::btree_map(0u64..200, page_strategy(), 0..12),
            excluded in proptest::collection::btree_set(0u64..200, 0..8),
            codec in 0usize..5,
            share in any::<bool>(),
            flat_chunk in prop_oneof![Just(0usize), 100usize..5000],
        ) {
            let kind = [Compression::None, Compression::Zlib, Compression::Lzo, Compression::Snappy, Compression::Zstd][codec];
            let excluded = excluded.into_iter().filter(|p| !pages.contains_key(p)).collect();
            let spec = KdumpSpec { max_pfn: 200, pages, excluded, compression: kind, share_zero_page: share, ..Default::default() };
            let mut bytes = spec.build();
            if flat_chunk > 0 {
                bytes = flatten(&bytes, flat_chunk, true);
            }
            let (_d, dump) = open_bytes(&bytes);
            let dump = dump.unwrap();
            for pfn in 0..200u64 {
                let mut buf = vec![0u8; PS as usize];
                let r = dump.read_phys(pfn * PS, &mut buf);
                match spec.pages.get(&pfn) {
                    Some(p) => { prop_assert!(r.is_ok(), "{:?}", r); prop_assert_eq!(&buf, p); }
                    None if spec.excluded.contains(&pfn) => prop_assert!(matches!(r, Err(Error::Excluded { .. })), "{:?}", r),
                    None => prop_assert!(matches!(r, Err(Error::NotInDump { .. })), "{:?}", r),
                }
            }
        }
    }
}

/// Writes small synthetic dumps as fuzzing seeds into `$KDIVE_FUZZ_SEEDS` (run by hand:
/// `KDIVE_FUZZ_SEEDS=fuzz/corpus/dumpfile_open cargo test -p kdive-dumpfile write_fuzz_seeds -- --ignored`).
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let Some(dir) = std::env::var_os("KDIVE_FUZZ_SEEDS") else {
        return;
    };
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let small = |kind| {
        let mut pages = BTreeMap::new();
        for pfn in [0u64, 1, 3, 7] {
            pages.insert(pfn, page_for(pfn, 1024));
        }
        pages.insert(2, vec![0; 1024]);
        KdumpSpec {
            block_size: 1024,
            max_pfn: 16,
            pages,
            excluded: [5u64].into_iter().collect(),
            compression: kind,
            notes: note(b"CORE", 1, &prstatus_desc(1, &regs(1))),
            vmcoreinfo: Some("OSRELEASE=6.1\nPAGESIZE=1024\n".into()),
            ..Default::default()
        }
    };
    for (i, kind) in [
        Compression::None,
        Compression::Zlib,
        Compression::Lzo,
        Compression::Snappy,
        Compression::Zstd,
    ]
    .into_iter()
    .enumerate()
    {
        std::fs::write(
            dir.join(format!("kdump-{}", kind.name())),
            small(kind).build(),
        )
        .unwrap();
        if i < 2 {
            std::fs::write(
                dir.join(format!("flat-{}", kind.name())),
                flatten(&small(kind).build(), 900, true),
            )
            .unwrap();
        }
    }
    let elf = ElfSpec {
        loads: vec![Load {
            paddr: 0x1000,
            data: vec![7; 512],
            memsz: 2048,
        }],
        notes: note(b"VMCOREINFO", 0, b"PAGESIZE=4096\n"),
        phoff: 192,
        ehsize: 8,
        ..Default::default()
    };
    std::fs::write(dir.join("elf"), elf.build()).unwrap();
}

/// `phys_extents` of a kdump file (whole and split at a PFN inside a bitmap byte) equals a
/// page-by-page classification: runs of whole bitmap bytes take the fast path, the edges the
/// slow one.
#[test]
fn kdump_extents_match_a_page_by_page_walk() {
    use crate::ranges::{ExtentKind, PhysExtent};
    let mut spec = KdumpSpec {
        max_pfn: 300,
        compression: Compression::Zlib,
        vmcoreinfo: Some(VMCI.into()),
        notes: cpu_notes(),
        ..Default::default()
    };
    for pfn in (16..41).chain([3, 5, 120, 121, 299]) {
        spec.pages.insert(pfn, page_for(pfn, PS as usize));
    }
    spec.excluded = (41..72).chain(128..200).chain([4, 122]).collect();
    let expect = |lo: u64, hi: u64| {
        let mut out: Vec<PhysExtent> = Vec::new();
        for pfn in lo..hi {
            let kind = if spec.pages.contains_key(&pfn) {
                ExtentKind::Present
            } else if spec.excluded.contains(&pfn) {
                ExtentKind::Excluded
            } else {
                continue;
            };
            match out.last_mut() {
                Some(l) if l.end == pfn * PS && l.kind == kind => l.end += PS,
                _ => out.push(PhysExtent {
                    start: pfn * PS,
                    end: (pfn + 1) * PS,
                    kind,
                }),
            }
        }
        out
    };
    let (_d, dump) = open_bytes(&spec.build());
    assert_eq!(dump.unwrap().phys_extents(), expect(0, 300));
    let (a, b) = split_parts(&spec, 19);
    let dir = tempfile::tempdir().unwrap();
    let (pa, pb) = (dir.path().join("d.1"), dir.path().join("d.2"));
    std::fs::write(&pa, &a).unwrap();
    std::fs::write(&pb, &b).unwrap();
    let dump = Dump::open(&[pa, pb]).unwrap();
    assert_eq!(dump.phys_extents(), expect(0, 300));
}

#[test]
fn utsname_fields_are_nul_terminated_and_a_short_buffer_leaves_the_rest_empty() {
    let mut b = vec![0u8; Utsname::LEN];
    b[..5].copy_from_slice(b"Linux");
    b[Utsname::FIELD_LEN..][..4].copy_from_slice(b"host");
    b[2 * Utsname::FIELD_LEN..][..Utsname::FIELD_LEN].fill(b'r'); // no NUL: all 65 bytes
    let u = Utsname::from_bytes(&b);
    assert_eq!((u.sysname.as_str(), u.nodename.as_str()), ("Linux", "host"));
    assert_eq!(u.release.len(), Utsname::FIELD_LEN);
    let short = Utsname::from_bytes(&b[..Utsname::FIELD_LEN + 2]);
    assert_eq!(
        (short.nodename.as_str(), short.machine.as_str()),
        ("ho", "")
    );
}
