//! Synthetic DWARF 5 in a minimal ELF file: the indexer, the cache and the loader end to end.

use super::*;
use crate::types::Type;
use crate::{TypeGraph, TypeStore};

/// Assembles one DWARF 5 compile unit: DIE bytes with labels and ref4 fix-ups.
#[derive(Default)]
struct Cu {
    body: Vec<u8>,
    labels: std::collections::HashMap<&'static str, u32>,
    fixups: Vec<(usize, &'static str)>,
}

const HDR: u32 = 12; // unit header size: DIE offsets are relative to the unit start

impl Cu {
    fn label(&mut self, l: &'static str) -> &mut Self {
        self.labels.insert(l, HDR + self.body.len() as u32);
        self
    }
    fn code(&mut self, c: u8) -> &mut Self {
        self.body.push(c);
        self
    }
    fn str(&mut self, s: &str) -> &mut Self {
        self.body.extend_from_slice(s.as_bytes());
        self.body.push(0);
        self
    }
    fn u8(&mut self, v: u8) -> &mut Self {
        self.body.push(v);
        self
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.body.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.body.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn r(&mut self, l: &'static str) -> &mut Self {
        self.fixups.push((self.body.len(), l));
        self.u32(0)
    }
    fn end(&mut self) -> &mut Self {
        self.u8(0)
    }
    fn finish(mut self) -> Vec<u8> {
        for (at, l) in std::mem::take(&mut self.fixups) {
            let v = self.labels[l];
            self.body[at..at + 4].copy_from_slice(&v.to_le_bytes());
        }
        let mut u = Vec::new();
        u.extend_from_slice(&((self.body.len() + 8) as u32).to_le_bytes());
        u.extend_from_slice(&5u16.to_le_bytes());
        u.extend_from_slice(&[1, 8]); // DW_UT_compile, address size
        u.extend_from_slice(&0u32.to_le_bytes()); // abbrev offset
        u.extend_from_slice(&self.body);
        u
    }
}

// Forms.
const STRING: u8 = 0x08;
const DATA1: u8 = 0x0b;
const DATA4: u8 = 0x06;
const SDATA: u8 = 0x0d;
const REF4: u8 = 0x13;
const STRP: u8 = 0x0e;
const PRESENT: u8 = 0x19;
const EXPRLOC: u8 = 0x18;
const ADDR: u8 = 0x01;

/// (code, tag, children, [(attribute, form)])
type AbbrevSpec = (u8, u8, u8, &'static [(u8, u8)]);

fn abbrevs() -> Vec<u8> {
    let table: &[AbbrevSpec] = &[
        (1, 0x11, 1, &[(0x03, STRING)]),
        (2, 0x24, 0, &[(0x03, STRING), (0x0b, DATA1), (0x3e, DATA1)]),
        (3, 0x13, 1, &[(0x03, STRING), (0x0b, DATA1)]),
        (4, 0x0d, 0, &[(0x03, STRING), (0x49, REF4), (0x38, DATA1)]),
        (
            5,
            0x0d,
            0,
            &[(0x03, STRING), (0x49, REF4), (0x0d, DATA1), (0x6b, DATA1)],
        ),
        (6, 0x0f, 0, &[(0x0b, DATA1), (0x49, REF4)]),
        (8, 0x01, 1, &[(0x49, REF4)]),
        (9, 0x21, 0, &[(0x37, DATA1)]),
        (10, 0x21, 0, &[(0x2f, DATA1)]),
        (11, 0x16, 0, &[(0x03, STRING), (0x49, REF4)]),
        (12, 0x13, 0, &[(0x03, STRING), (0x3c, PRESENT)]),
        (13, 0x17, 1, &[(0x0b, DATA1)]),
        (14, 0x0d, 0, &[(0x49, REF4), (0x38, DATA1)]),
        (15, 0x04, 1, &[(0x03, STRING), (0x0b, DATA1), (0x49, REF4)]),
        (16, 0x28, 0, &[(0x03, STRING), (0x1c, SDATA)]),
        (
            17,
            0x34,
            0,
            &[
                (0x03, STRING),
                (0x49, REF4),
                (0x3f, PRESENT),
                (0x02, EXPRLOC),
            ],
        ),
        (
            18,
            0x2e,
            1,
            &[
                (0x03, STRING),
                (0x49, REF4),
                (0x3f, PRESENT),
                (0x11, ADDR),
                (0x12, DATA4),
            ],
        ),
        (19, 0x05, 0, &[(0x03, STRING), (0x49, REF4)]),
        (20, 0x18, 0, &[]),
        (21, 0x26, 0, &[(0x49, REF4)]),
        (22, 0x21, 0, &[]),
        (23, 0x15, 1, &[(0x49, REF4)]),
        (24, 0x05, 0, &[(0x49, REF4)]),
        (
            25,
            0x34,
            0,
            &[
                (0x03, STRING),
                (0x49, REF4),
                (0x3f, PRESENT),
                (0x3c, PRESENT),
            ],
        ),
        (26, 0x24, 0, &[(0x03, STRP), (0x0b, DATA1), (0x3e, DATA1)]),
        (27, 0x13, 1, &[(0x03, STRING), (0x0b, DATA1), (0x01, REF4)]),
    ];
    let mut b = Vec::new();
    for (code, tag, children, attrs) in table {
        b.extend_from_slice(&[*code, *tag, *children]);
        for (a, f) in *attrs {
            b.extend_from_slice(&[*a, *f]);
        }
        b.extend_from_slice(&[0, 0]);
    }
    b.push(0);
    b
}

/// The test program's DWARF (see the C in the comments).
fn debug_info() -> Vec<u8> {
    let mut c = Cu::default();
    c.code(1).str("test.c");
    c.label("int").code(26).u32(0).u8(4).u8(5); // "int" via .debug_str offset 0
    c.label("char").code(2).str("char").u8(1).u8(6);
    c.label("ulong")
        .code(2)
        .str("long unsigned int")
        .u8(8)
        .u8(7);
    // struct foo { int a; int b:3; char name[4]; union { int x; unsigned long y; };
    //              struct bar *p; int m[2][3]; char tail[]; };
    c.label("foo").code(27).str("foo").u8(64).r("after_foo");
    c.code(4).str("a").r("int").u8(0);
    c.code(5).str("b").r("int").u8(3).u8(32);
    c.code(4).str("name").r("char4").u8(8);
    c.code(14).r("anon").u8(16);
    c.code(4).str("p").r("pbar").u8(24);
    c.code(4).str("m").r("int23").u8(32);
    c.code(4).str("tail").r("flex").u8(56);
    c.end();
    c.label("after_foo");
    c.label("char4").code(8).r("char").code(9).u8(4).end();
    c.label("int23")
        .code(8)
        .r("int")
        .code(9)
        .u8(2)
        .code(10)
        .u8(2)
        .end();
    c.label("flex").code(8).r("char").code(22).end();
    c.label("anon").code(13).u8(8);
    c.code(4).str("x").r("int").u8(0);
    c.code(4).str("y").r("ulong").u8(0);
    c.end();
    c.label("bardecl").code(12).str("bar");
    c.label("pbar").code(6).u8(8).r("bardecl");
    c.label("bar").code(3).str("bar").u8(4);
    c.code(4).str("z").r("int").u8(0);
    c.end();
    c.label("foo_t").code(11).str("foo_t").r("foo");
    // enum color : int { RED = -1, BLUE = 2 };
    c.label("color").code(15).str("color").u8(4).r("int");
    c.code(16).str("RED").u8(0x7f);
    c.code(16).str("BLUE").u8(2);
    c.end();
    // foo_t the_foo; (at 0xffffffff81000000)
    c.code(17)
        .str("the_foo")
        .r("foo_t")
        .u8(9)
        .u8(0x03)
        .u64(0xffff_ffff_8100_0000);
    // extern const char *ext_var;
    c.label("cchar").code(21).r("char");
    c.label("pcchar").code(6).u8(8).r("cchar");
    c.code(25).str("ext_var").r("pcchar");
    // int do_it(int a, ...) at 0x1000..0x1020
    c.code(18).str("do_it").r("int").u64(0x1000).u32(0x20);
    c.code(19).str("a").r("int");
    c.code(20);
    c.end();
    // typedef int (*cb_t)(char);
    c.label("fn").code(23).r("int").code(24).r("char").end();
    c.label("pfn").code(6).u8(8).r("fn");
    c.code(11).str("cb_t").r("pfn");
    c.end();
    c.finish()
}

/// A minimal ELF64 file holding the given sections.
fn elf(sections: &[(&str, &[u8])]) -> Vec<u8> {
    let mut shstr = vec![0u8];
    let mut names = Vec::new();
    for (n, _) in sections.iter().chain([(".shstrtab", &[][..])].iter()) {
        names.push(shstr.len() as u32);
        shstr.extend_from_slice(n.as_bytes());
        shstr.push(0);
    }
    let mut data = vec![0u8; 64];
    let mut offs = Vec::new();
    for (_, d) in sections {
        offs.push(data.len() as u64);
        data.extend_from_slice(d);
    }
    offs.push(data.len() as u64);
    data.extend_from_slice(&shstr);
    while data.len() % 8 != 0 {
        data.push(0);
    }
    let shoff = data.len() as u64;
    let shnum = sections.len() as u16 + 2;
    data.extend_from_slice(&[0u8; 64]); // null section
    for i in 0..=sections.len() {
        let (ty, size) = if i == sections.len() {
            (3u32, shstr.len() as u64)
        } else {
            (1u32, sections[i].1.len() as u64)
        };
        let mut sh = Vec::new();
        sh.extend_from_slice(&names[i].to_le_bytes());
        sh.extend_from_slice(&ty.to_le_bytes());
        sh.extend_from_slice(&0u64.to_le_bytes()); // flags
        sh.extend_from_slice(&0u64.to_le_bytes()); // addr
        sh.extend_from_slice(&offs[i].to_le_bytes());
        sh.extend_from_slice(&size.to_le_bytes());
        sh.extend_from_slice(&[0u8; 8]); // link, info
        sh.extend_from_slice(&1u64.to_le_bytes());
        sh.extend_from_slice(&0u64.to_le_bytes());
        data.extend_from_slice(&sh);
    }
    let mut h = Vec::new();
    h.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    h.extend_from_slice(&[0u8; 8]);
    h.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    h.extend_from_slice(&62u16.to_le_bytes()); // x86_64
    h.extend_from_slice(&1u32.to_le_bytes());
    h.extend_from_slice(&0u64.to_le_bytes()); // entry
    h.extend_from_slice(&0u64.to_le_bytes()); // phoff
    h.extend_from_slice(&shoff.to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes());
    h.extend_from_slice(&64u16.to_le_bytes());
    h.extend_from_slice(&56u16.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes());
    h.extend_from_slice(&64u16.to_le_bytes());
    h.extend_from_slice(&shnum.to_le_bytes());
    h.extend_from_slice(&(shnum - 1).to_le_bytes());
    data[..64].copy_from_slice(&h);
    data
}

fn write_elf(dir: &Path) -> PathBuf {
    let info = debug_info();
    let abbrev = abbrevs();
    let bytes = elf(&[
        (".debug_info", &info),
        (".debug_abbrev", &abbrev),
        (".debug_str", b"int\0"),
    ]);
    let p = dir.join("vmlinux.test");
    std::fs::write(&p, bytes).unwrap();
    p
}

fn open(path: &Path, cache: Option<&Path>) -> Arc<DwarfInfo> {
    let elf = Arc::new(VmlinuxElf::open_elf(path).unwrap());
    Arc::new(
        DwarfInfo::open(
            elf,
            &IndexOptions {
                cache_dir: cache.map(Path::to_path_buf),
            },
        )
        .unwrap(),
    )
}

fn store(info: &Arc<DwarfInfo>) -> TypeStore {
    TypeStore::new(
        TypeGraph::new(),
        Some(Box::new(DwarfLoader::new(info.clone()))),
    )
}

#[test]
fn index_finds_top_level_names() {
    let dir = tempfile::tempdir().unwrap();
    let info = open(&write_elf(dir.path()), None);
    let stats = info.build_stats().unwrap();
    assert_eq!((stats.units, stats.units_failed), (1, 0), "{stats:?}");
    let kinds = |n: &str| info.lookup(n).iter().map(|e| e.kind).collect::<Vec<_>>();
    assert_eq!(kinds("foo"), vec![EntryKind::Struct]);
    assert_eq!(kinds("int"), vec![EntryKind::Base]);
    // The definition wins over the declaration.
    let bar = info.lookup("bar");
    assert_eq!(bar.len(), 1);
    assert!(!bar[0].declaration);
    assert_eq!(kinds("the_foo"), vec![EntryKind::Var]);
    assert_eq!(kinds("ext_var"), vec![EntryKind::VarDecl]);
    assert_eq!(kinds("do_it"), vec![EntryKind::Func]);
    assert_eq!(kinds("color"), vec![EntryKind::Enum]);
    // Members and parameters are not top-level names.
    assert!(info.lookup("tail").is_empty());
    assert!(info.lookup("a").is_empty());
    let f = info.function_at(0x1010).unwrap();
    assert_eq!(
        (f.name.as_str(), f.low_pc, f.high_pc),
        ("do_it", 0x1000, 0x1020)
    );
    assert!(info.function_at(0x1020).is_none());
}

#[test]
fn structs_members_bitfields_arrays() {
    let dir = tempfile::tempdir().unwrap();
    let info = open(&write_elf(dir.path()), None);
    let s = store(&info);
    let foo = s.find_type("struct foo").unwrap();
    s.with_graph(|g| {
        assert_eq!(g.size_of(foo), Some(64));
        let names: Vec<_> = g
            .members(foo)
            .unwrap()
            .iter()
            .map(|m| m.name.clone())
            .collect();
        assert_eq!(names.len(), 7);
        assert_eq!(names[3], None);
        let b = g.member(foo, "b").unwrap();
        assert_eq!((b.bit_offset, b.bit_size), (32, Some(3)));
        assert_eq!(g.member(foo, "y").unwrap().offset, 16);
        assert_eq!(g.type_name(g.member(foo, "name").unwrap().ty), "char [4]");
        assert_eq!(g.type_name(g.member(foo, "m").unwrap().ty), "int [2][3]");
        assert_eq!(g.size_of(g.member(foo, "m").unwrap().ty), Some(24));
        assert_eq!(g.array_len(g.member(foo, "tail").unwrap().ty), None);
        assert_eq!(g.type_name(g.member(foo, "p").unwrap().ty), "struct bar *");
    });
    // The pointer target is a stub until completed.
    let p = s.with_graph(|g| g.member(foo, "p").unwrap().ty);
    let Type::Pointer { target } = s.ty(p) else {
        panic!("p is not a pointer")
    };
    assert!(s.ty(target).is_declaration());
    let full = s.complete(target);
    assert_eq!(s.with_graph(|g| g.size_of(full)), Some(4));
    assert!(s.with_graph(|g| g.member(full, "z").is_some()));
    // Loading the same type again reuses it.
    assert_eq!(s.find_type("struct foo"), Some(foo));
    assert_eq!(
        s.find_type("foo_t").map(|t| s.with_graph(|g| g.size_of(t))),
        Some(Some(64))
    );
}

#[test]
fn base_types_enums_typedefs_functions_variables() {
    let dir = tempfile::tempdir().unwrap();
    let info = open(&write_elf(dir.path()), None);
    let s = store(&info);
    let ul = s.find_type("unsigned long").unwrap();
    assert!(matches!(
        s.ty(ul),
        Type::Int {
            size: 8,
            signed: false,
            ..
        }
    ));
    let ch = s.find_type("char").unwrap();
    assert!(matches!(
        s.ty(ch),
        Type::Int {
            is_char: true,
            signed: true,
            ..
        }
    ));
    let e = s.find_type("enum color").unwrap();
    match s.ty(e) {
        Type::Enum { signed, values, .. } => {
            assert!(signed);
            assert_eq!(
                values,
                vec![("RED".to_string(), -1), ("BLUE".to_string(), 2)]
            );
        }
        t => panic!("{t:?}"),
    }
    let cb = s.find_type("cb_t").unwrap();
    assert_eq!(
        s.with_graph(|g| g.type_name(g.strip_typedefs_and_qualifiers(cb))),
        "int (*)(char)"
    );
    let v = s.variable("the_foo").unwrap();
    assert_eq!(v.addr, Some(0xffff_ffff_8100_0000));
    assert_eq!(s.with_graph(|g| g.type_name(v.ty)), "foo_t");
    assert_eq!(s.with_graph(|g| g.size_of(v.ty)), Some(64));
    let x = s.variable("ext_var").unwrap();
    assert_eq!(x.addr, None);
    assert_eq!(s.with_graph(|g| g.type_name(x.ty)), "const char *");
    let f = s.function("do_it").unwrap();
    assert_eq!(f.addr, Some(0x1000));
    assert_eq!(s.with_graph(|g| g.type_name(f.ty)), "int (int, ...)");
    assert!(s.with_graph(|g| g.find_function("do_it").is_some()));
    assert!(s.find_type("struct nope").is_none());
    assert!(s.variable("nope").is_none());
}

#[test]
fn cache_is_reused_and_stale_files_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let path = write_elf(dir.path());
    let cold = open(&path, Some(&cache));
    let IndexOrigin::Built {
        written: Some(file),
        stale: None,
        ..
    } = cold.origin().clone()
    else {
        panic!("{:?}", cold.origin())
    };
    let warm = open(&path, Some(&cache));
    assert_eq!(warm.origin(), &IndexOrigin::Cached { path: file.clone() });
    assert_eq!(warm.lookup("foo"), cold.lookup("foo"));
    // Corrupt, truncated, other version: detected and rebuilt.
    let good = std::fs::read(&file).unwrap();
    let mut corrupt = good.clone();
    let n = corrupt.len();
    corrupt[n - 1] ^= 0xff;
    let mut version = good.clone();
    version[8] = 77;
    for (what, bytes) in [
        ("checksum", corrupt),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("version", version),
    ] {
        std::fs::write(&file, &bytes).unwrap();
        let again = open(&path, Some(&cache));
        match again.origin() {
            IndexOrigin::Built {
                stale: Some(why),
                written: Some(_),
                ..
            } => assert!(why.contains(what), "{what}: {why}"),
            o => panic!("{what}: {o:?}"),
        }
        assert_eq!(std::fs::read(&file).unwrap(), good, "{what}: rewritten");
        let lookups = again.lookup("foo");
        assert_eq!(lookups, cold.lookup("foo"));
    }
    // A vmlinux that changed (mtime) does not use the old index (without a build-ID the file
    // name itself carries size and mtime; with one, the header check rejects it).
    let t = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(t)
        .unwrap();
    let changed = open(&path, Some(&cache));
    assert!(matches!(changed.origin(), IndexOrigin::Built { .. }));
}

#[test]
fn hostile_bytes_do_not_panic() {
    let info = debug_info();
    let abbrev = abbrevs();
    // Every truncation and a sweep of byte flips.
    for cut in 0..info.len() {
        let _ = index_raw_sections(&info[..cut], &abbrev, b"int\0");
    }
    for i in 0..info.len() {
        for v in [0u8, 0x7f, 0x80, 0xff] {
            let mut b = info.clone();
            b[i] = v;
            let _ = index_raw_sections(&b, &abbrev, b"int\0");
        }
    }
    for i in 0..abbrev.len() {
        let mut a = abbrev.clone();
        a[i] ^= 0x55;
        let _ = index_raw_sections(&info, &a, b"");
    }
}

#[test]
fn hostile_dwarf_through_the_loader() {
    // Flip bytes of .debug_info behind a valid ELF; every load must return, not panic or hang.
    let dir = tempfile::tempdir().unwrap();
    let good = debug_info();
    let abbrev = abbrevs();
    for i in (0..good.len()).step_by(3) {
        for v in [0u8, 0x13, 0xff] {
            let mut info = good.clone();
            info[i] = v;
            let bytes = elf(&[
                (".debug_info", &info),
                (".debug_abbrev", &abbrev),
                (".debug_str", b"int\0"),
            ]);
            let p = dir.path().join("hostile");
            std::fs::write(&p, bytes).unwrap();
            let info = open(&p, None);
            let s = store(&info);
            for t in ["struct foo", "foo_t", "enum color", "cb_t", "struct bar *"] {
                if let Some(id) = s.find_type(t) {
                    s.with_graph(|g| {
                        let _ = g.type_name(id);
                        let _ = g.size_of(id);
                    });
                    let _ = s.complete(id);
                }
            }
            let _ = s.variable("the_foo");
            let _ = s.function("do_it");
            let _ = info.function_at(0x1010);
        }
    }
}
