//! DWARF on the lab's real Debian vmlinux files (6.1 and 6.12): the index, the cache, and types
//! cross-checked against the same file's BTF. Skipped with a note when the lab is absent
//! ($KDIVE_LAB_DIR or ~/.cache/kdive/lab).

use kdive_debuginfo::dwarf::{DwarfInfo, DwarfLoader, IndexOptions, IndexOrigin};
use kdive_debuginfo::types::Type;
use kdive_debuginfo::{Btf, TypeGraph, TypeStore, VmlinuxElf};
use kdive_lab::lab_dir;
use std::path::PathBuf;
use std::sync::Arc;

const RELEASES: &[&str] = &["6.1.0-56-cloud-amd64", "6.12.118+deb13-cloud-amd64"];

fn vmlinuxes() -> Vec<(String, PathBuf)> {
    let Some(lab) = lab_dir() else {
        eprintln!("note: lab not found ($KDIVE_LAB_DIR or ~/.cache/kdive/lab): skipping");
        return Vec::new();
    };
    let mut v = Vec::new();
    for r in RELEASES {
        let p = lab.join("kernels").join(r).join("vmlinux");
        if p.is_file() {
            v.push((r.to_string(), p));
        } else {
            eprintln!("note: {} absent: skipping {r}", p.display());
        }
    }
    v
}

struct Opened {
    info: Arc<DwarfInfo>,
    btf: Arc<TypeGraph>,
    store: TypeStore,
    elf: Arc<VmlinuxElf>,
}

fn open(path: &PathBuf, cache: &std::path::Path) -> Opened {
    let elf = Arc::new(VmlinuxElf::open(path).unwrap());
    let info = Arc::new(
        DwarfInfo::open(
            elf.clone(),
            &IndexOptions {
                cache_dir: Some(cache.to_path_buf()),
            },
        )
        .unwrap(),
    );
    let btf = Btf::parse(elf.btf_bytes().unwrap()).unwrap().graph();
    // DWARF alone (an empty graph), so every answer below comes from DWARF.
    let store = TypeStore::new(
        TypeGraph::new(),
        Some(Box::new(DwarfLoader::new(info.clone()))),
    );
    Opened {
        info,
        btf,
        store,
        elf,
    }
}

#[test]
fn index_cache_cold_then_warm() {
    for (release, path) in vmlinuxes() {
        let cache = tempfile::tempdir().unwrap();
        let o = open(&path, cache.path());
        let stats = o.info.build_stats().unwrap();
        assert_eq!(stats.units_failed, 0, "{release}: {stats:?}");
        assert!(matches!(
            o.info.origin(),
            IndexOrigin::Built {
                written: Some(_),
                ..
            }
        ));
        assert!(o.info.unit_count() > 1000);
        let warm = open(&path, cache.path());
        assert!(matches!(warm.info.origin(), IndexOrigin::Cached { .. }));
        assert!(warm.info.index_is_mapped());
        assert_eq!(warm.info.entry_count(), o.info.entry_count());
        eprintln!(
            "{release}: {} units, {} entries; cold {}",
            o.info.unit_count(),
            o.info.entry_count(),
            o.info.origin_summary()
        );
    }
}

#[test]
fn task_struct_matches_btf() {
    for (release, path) in vmlinuxes() {
        let cache = tempfile::tempdir().unwrap();
        let o = open(&path, cache.path());
        let dw = o.store.find_type("struct task_struct").unwrap();
        let bt = o.btf.find_struct("task_struct").unwrap();
        let btf_members = o.btf.members(bt).unwrap().to_vec();
        o.store.with_graph(|g| {
            assert_eq!(g.size_of(dw), o.btf.size_of(bt), "{release}");
            let dm = g.members(dw).unwrap();
            assert_eq!(dm.len(), btf_members.len(), "{release}: member count");
            for (b, d) in btf_members.iter().zip(dm) {
                assert_eq!(b.name, d.name, "{release}");
                assert_eq!(b.bit_offset, d.bit_offset, "{release}: {:?}", b.name);
                assert_eq!(b.bit_size, d.bit_size, "{release}: {:?}", b.name);
                let (bs, ds) = (o.btf.size_of(b.ty), g.size_of(d.ty));
                // Pointer targets may be stubs, but sizes of by-value members are complete.
                assert_eq!(bs, ds, "{release}: size of {:?}", b.name);
            }
            // Named members through anonymous ones, with BTF's offsets.
            for path in [
                "pid",
                "comm",
                "tasks.next",
                "se.on_rq",
                "thread.sp",
                "__state",
            ] {
                let want = o.btf.member(bt, path).map(|m| (m.offset, m.bit_size));
                let got = g.member(dw, path).map(|m| (m.offset, m.bit_size));
                assert_eq!(got, want, "{release}: {path}");
            }
        });
    }
}

#[test]
fn bitfields_and_anonymous_members() {
    for (release, path) in vmlinuxes() {
        let cache = tempfile::tempdir().unwrap();
        let o = open(&path, cache.path());
        let dw = o.store.find_type("struct task_struct").unwrap();
        let bt = o.btf.find_struct("task_struct").unwrap();
        o.store.with_graph(|g| {
            let m = g.member(dw, "sched_reset_on_fork").unwrap();
            assert_eq!(m.bit_size, Some(1), "{release}");
            assert_eq!(
                Some(m.bit_offset),
                o.btf
                    .member(bt, "sched_reset_on_fork")
                    .map(|m| m.bit_offset)
            );
        });
        // struct page is mostly anonymous unions of anonymous structs.
        let page = o.store.find_type("struct page").unwrap();
        let bpage = o.btf.find_struct("page").unwrap();
        o.store.with_graph(|g| {
            for path in [
                "flags",
                "lru",
                "mapping",
                "index",
                "compound_head",
                "_refcount",
            ] {
                let want = o.btf.member(bpage, path).map(|m| m.offset);
                assert!(want.is_some(), "{release}: BTF has page.{path}");
                assert_eq!(
                    g.member(page, path).map(|m| m.offset),
                    want,
                    "{release}: {path}"
                );
            }
            assert_eq!(g.size_of(page), o.btf.size_of(bpage));
        });
    }
}

#[test]
fn variables_and_functions() {
    for (release, path) in vmlinuxes() {
        let cache = tempfile::tempdir().unwrap();
        let o = open(&path, cache.path());
        // jiffies: declared in a header, defined by the linker script: a declaration.
        let j = o.store.variable("jiffies").unwrap();
        assert_eq!(
            o.store.with_graph(|g| g.type_name(j.ty)),
            "volatile unsigned long",
            "{release}"
        );
        let it = o.store.variable("init_task").unwrap();
        assert_eq!(
            o.store.with_graph(|g| g.type_name(it.ty)),
            "struct task_struct",
            "{release}"
        );
        let sym = o.elf.find_symbol("init_task").unwrap();
        assert_eq!(it.addr, Some(sym.value), "{release}");
        assert_eq!(
            o.store.with_graph(|g| g.size_of(it.ty)),
            o.btf.size_of(o.btf.find_struct("task_struct").unwrap())
        );
        // Functions.
        let s = o.store.function("schedule").unwrap();
        assert_eq!(
            o.store.with_graph(|g| g.type_name(s.ty)),
            "void (void)",
            "{release}"
        );
        assert_eq!(
            s.addr,
            o.elf.find_symbol("schedule").map(|s| s.value),
            "{release}"
        );
        let p = o.store.function("_printk").unwrap();
        assert_eq!(
            o.store.with_graph(|g| g.type_name(p.ty)),
            "int (const char *, ...)",
            "{release}"
        );
        // An inline-only function (abstract instances in many units, no code of its own).
        let la = o.store.function("list_add").unwrap();
        assert_eq!(
            o.store.with_graph(|g| g.type_name(la.ty)),
            "void (struct list_head *, struct list_head *)",
            "{release}"
        );
        // A pointer member's target is a stub until completed.
        let mm = o.store.find_type("struct task_struct").unwrap();
        let mm_ty = o.store.with_graph(|g| g.member(mm, "mm").unwrap().ty);
        let target = match o.store.ty(mm_ty) {
            Type::Pointer { target } => target,
            t => panic!("{release}: mm is {t:?}"),
        };
        let full = o.store.complete(target);
        let want = o.btf.size_of(o.btf.find_struct("mm_struct").unwrap());
        assert_eq!(o.store.with_graph(|g| g.size_of(full)), want, "{release}");
        // Base types by C spelling.
        let ul = o.store.find_type("unsigned long").unwrap();
        assert_eq!(o.store.with_graph(|g| g.size_of(ul)), Some(8));
        let lh = o.store.find_type("struct list_head *").unwrap();
        assert_eq!(
            o.store.with_graph(|g| g.type_name(lh)),
            "struct list_head *"
        );
    }
}

#[test]
fn lines_and_functions_at_addresses() {
    for (release, path) in vmlinuxes() {
        let cache = tempfile::tempdir().unwrap();
        let o = open(&path, cache.path());
        let sched = o.elf.find_symbol("schedule").unwrap();
        let f = o.info.function_at(sched.value + 4).unwrap();
        assert_eq!(f.name, "schedule", "{release}");
        assert_eq!(f.low_pc, sched.value);
        assert!(f.high_pc > f.low_pc + 4);
        let (file, line) = o.info.addr_to_line(sched.value).unwrap();
        assert!(file.ends_with("kernel/sched/core.c"), "{release}: {file}");
        assert!(line > 0);
        let frames = o.info.frames_at(sched.value + 4);
        assert!(!frames.is_empty());
        assert_eq!(
            frames.last().unwrap().function.as_deref(),
            Some("schedule"),
            "{release}"
        );
    }
}
