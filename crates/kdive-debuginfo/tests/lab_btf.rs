//! Lab tests against the real Debian vmlinux files the lab extracts to
//! `$KDIVE_LAB_DIR/kernels/<release>/vmlinux` (default `~/.cache/kdive/lab`): ELF symbols and
//! build ID, BTF parsing, and BTF member offsets/sizes cross-checked with gdb reading the same
//! file's DWARF. Each test prints a note and passes when no vmlinux is there.

use kdive_lab::lab_dir;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use kdive_debuginfo::{Btf, SymbolKind, Type, VmlinuxElf};

/// Every `kernels/<release>/vmlinux` in the lab.
fn lab_vmlinuxes() -> Vec<(String, PathBuf)> {
    let Some(dir) = lab_dir() else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(dir.join("kernels")) else {
        return Vec::new();
    };
    let mut v: Vec<(String, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                e.path().join("vmlinux"),
            )
        })
        .filter(|(_, p)| p.is_file())
        .collect();
    v.sort();
    v
}

fn with_vmlinuxes(test: &str, f: impl Fn(&str, &VmlinuxElf)) {
    let all = lab_vmlinuxes();
    if all.is_empty() {
        eprintln!("note: {test}: no lab vmlinux (set KDIVE_LAB_DIR or run lab/lab.sh); skipping");
        return;
    }
    for (release, path) in all {
        let elf = VmlinuxElf::open(&path).unwrap_or_else(|e| panic!("{release}: {e}"));
        f(&release, &elf);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn elf_symbols_and_build_id() {
    with_vmlinuxes("elf_symbols_and_build_id", |release, elf| {
        let build_id = elf.build_id().expect("build id");
        assert_eq!(build_id.len(), 20, "{release}");
        let t = Instant::now();
        let syms = elf.symbols(0).unwrap();
        eprintln!(
            "{release}: {} ELF symbols in {:?}, build id {}",
            syms.len(),
            t.elapsed(),
            hex(&build_id)
        );
        assert!(syms.len() > 50_000);
        for name in ["init_task", "jiffies", "linux_banner", "_text", "runqueues"] {
            assert!(syms.lookup(name).is_some(), "{release}: {name}");
        }
        let init_task = syms.lookup("init_task").unwrap();
        assert_eq!(init_task.kind, SymbolKind::Data);
        assert!(init_task.addr >= 0xffff_ffff_8000_0000);
        assert_eq!(syms.lookup("_text").unwrap().addr, 0xffff_ffff_8100_0000);
        assert!(syms
            .lookup("schedule")
            .is_some_and(|s| s.kind == SymbolKind::Text && s.size > 0));

        // KASLR: kernel-image symbols move, per-CPU offsets do not.
        let slide = 0x1e00_0000;
        let slid = elf.symbols(slide).unwrap();
        assert_eq!(
            slid.lookup("init_task").unwrap().addr,
            init_task.addr + slide
        );
        let rq = syms.lookup("runqueues").unwrap().addr;
        assert!(rq < 0x100_0000, "runqueues is a per-CPU offset: {rq:#x}");
        assert_eq!(slid.lookup("runqueues").unwrap().addr, rq);

        let banner = elf.linux_banner().unwrap();
        eprintln!("{release}: {}", banner.trim_end());
        assert!(banner.starts_with("Linux version "), "{banner}");
        let version = release.split('-').next().unwrap();
        assert!(banner.contains(version), "{banner} vs {release}");

        // The BTF symbols bracket the .BTF section.
        let btf = elf.btf_bytes().unwrap();
        let (start, stop) = (
            syms.lookup("__start_BTF").unwrap(),
            syms.lookup("__stop_BTF").unwrap(),
        );
        assert_eq!(stop.addr - start.addr, btf.len() as u64);
    });
}

/// One comparison: a struct member offset (`member` Some) or a struct size.
struct Check {
    ty: &'static str,
    member: Option<&'static str>,
}

const CHECKS: &[(&str, &[&str])] = &[
    (
        "task_struct",
        &[
            "__state",
            "stack",
            "pid",
            "tgid",
            "comm",
            "tasks",
            "thread_group",
            "signal",
            "mm",
            "active_mm",
            "real_parent",
            "children",
            "sibling",
            "on_cpu",
            "se.vruntime",
            "thread.sp",
            "files",
            "cred",
            "stack_canary",
        ],
    ),
    ("uts_namespace", &["name", "name.release", "name.version"]),
    (
        "timekeeper",
        &[
            "tkr_mono",
            "xtime_sec",
            "wall_to_monotonic",
            "tkr_mono.base",
        ],
    ),
    ("rq", &["curr", "nr_running", "clock", "cpu", "idle", "cfs"]),
    (
        "mm_struct",
        &["pgd", "mmap_base", "mm_users", "start_stack", "owner"],
    ),
    ("qstr", &["hash", "len", "hash_len", "name"]),
    (
        "page",
        &[
            "flags",
            "lru",
            "mapping",
            "index",
            "_refcount",
            "compound_head",
        ],
    ),
    ("dentry", &["d_name", "d_parent", "d_inode", "d_iname"]),
    ("module", &["list", "name", "state"]),
    ("signal_struct", &["nr_threads", "thread_head", "rlim"]),
    ("pid", &["count", "level", "numbers"]),
    ("list_head", &["next", "prev"]),
    ("file", &["f_path", "f_inode", "f_op"]),
    ("cpumask", &["bits"]),
];

fn checks_for(btf: &kdive_debuginfo::TypeGraph) -> Vec<Check> {
    let mut v = Vec::new();
    for &(ty, members) in CHECKS {
        let Some(id) = btf.find_struct(ty) else {
            continue;
        };
        v.push(Check { ty, member: None });
        for &m in members {
            if btf.has_member(id, m) {
                v.push(Check {
                    ty,
                    member: Some(m),
                });
            }
        }
    }
    v
}

/// gdb's answers for `checks`, from the same vmlinux's DWARF; cached in the temp dir by build
/// ID (gdb takes ~30 s to load a debug vmlinux). None when gdb is missing or fails.
fn gdb_answers(elf: &VmlinuxElf, checks: &[Check]) -> Option<Vec<Option<u64>>> {
    let exprs: Vec<String> = checks
        .iter()
        .map(|c| match c.member {
            Some(m) => format!("(long)&((struct {} *)0)->{m}", c.ty),
            None => format!("(long)sizeof(struct {})", c.ty),
        })
        .collect();
    let mut h = DefaultHasher::new();
    exprs.hash(&mut h);
    let cache = std::env::temp_dir().join(format!(
        "kdive-gdb-{}-{:016x}.txt",
        hex(&elf.build_id()?),
        h.finish()
    ));
    let text = match std::fs::read_to_string(&cache) {
        Ok(t) => t,
        Err(_) => {
            let mut cmd = Command::new("gdb");
            cmd.args(["-batch", "-nx"]);
            for (i, e) in exprs.iter().enumerate() {
                cmd.arg("-ex").arg(format!("printf \"@@ {i} %ld\\n\", {e}"));
            }
            cmd.arg(elf.path());
            let t = Instant::now();
            let out = cmd.output().ok()?;
            eprintln!("gdb took {:?}", t.elapsed());
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            if !text.contains("@@ ") {
                eprintln!(
                    "note: gdb gave no answers: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                return None;
            }
            std::fs::write(&cache, &text).ok();
            text
        }
    };
    let mut answers = vec![None; checks.len()];
    for line in text.lines() {
        let mut w = line.split_whitespace();
        if w.next() != Some("@@") {
            continue;
        }
        let (Some(i), Some(v)) = (w.next().and_then(|s| s.parse::<usize>().ok()), w.next()) else {
            continue;
        };
        if let (Some(slot), Ok(v)) = (answers.get_mut(i), v.parse::<u64>()) {
            *slot = Some(v);
        }
    }
    Some(answers)
}

#[test]
fn btf_matches_dwarf() {
    with_vmlinuxes("btf_matches_dwarf", |release, elf| {
        let bytes = elf.btf_bytes().expect(".BTF section");
        let t = Instant::now();
        let btf = Btf::parse(bytes).unwrap_or_else(|e| panic!("{release}: {e}"));
        eprintln!(
            "{release}: {} bytes of BTF, {} types, parsed in {:?}",
            bytes.len(),
            btf.type_count(),
            t.elapsed()
        );
        let g = btf.types();

        // The members the kernel model relies on.
        let ts = g.find_struct("task_struct").unwrap();
        let m = |p: &str| {
            g.member(ts, p)
                .unwrap_or_else(|| panic!("{release}: task_struct.{p}"))
        };
        assert_eq!(g.type_name(m("comm").ty), "char [16]");
        assert_eq!(g.size_of(m("comm").ty), Some(16));
        assert_eq!(g.type_name(m("tasks").ty), "struct list_head");
        assert_eq!(g.type_name(m("mm").ty), "struct mm_struct *");
        assert_eq!(g.type_name(m("pid").ty), "pid_t");
        assert_eq!(g.type_name(m("__state").ty), "unsigned int");
        assert_eq!(g.type_name(m("stack_canary").ty), "unsigned long");
        assert_eq!(
            g.find_base("long unsigned int"),
            g.find_base("unsigned long")
        );
        assert!(matches!(
            g.ty(g.find_base("char").unwrap()),
            Type::Int {
                is_char: true,
                size: 1,
                ..
            }
        ));
        assert_eq!(
            g.type_name(g.strip_typedefs_and_qualifiers(m("pid").ty)),
            "int"
        );
        assert_eq!(g.enum_value("pid_type", "PIDTYPE_PID"), Some(0));
        assert_eq!(g.enum_value("pid_type", "PIDTYPE_TGID"), Some(1));
        let rq_var = g.find_var("runqueues").expect("runqueues per-CPU var");
        let Type::Var { ty, .. } = g.ty(rq_var) else {
            panic!()
        };
        assert_eq!(g.type_name(*ty), "struct rq");
        assert_eq!(
            g.type_name(g.member(g.find_struct("rq").unwrap(), "curr").unwrap().ty),
            "struct task_struct *"
        );

        let checks = checks_for(g);
        assert!(checks.len() > 60, "{release}: only {} checks", checks.len());
        let Some(answers) = gdb_answers(elf, &checks) else {
            eprintln!("note: {release}: gdb unavailable; DWARF cross-check skipped");
            return;
        };
        let mut compared = 0;
        let mut mismatches = Vec::new();
        for (c, gdb) in checks.iter().zip(&answers) {
            let id = g.find_struct(c.ty).unwrap();
            let ours = match c.member {
                Some(m) => g.member(id, m).map(|i| i.offset),
                None => g.size_of(id),
            };
            let what = format!(
                "{}{}",
                c.ty,
                c.member
                    .map(|m| format!(".{m}"))
                    .unwrap_or_else(|| " size".into())
            );
            match gdb {
                Some(v) => {
                    compared += 1;
                    if ours != Some(*v) {
                        mismatches.push(format!("{what}: BTF {ours:?}, DWARF {v}"));
                    }
                }
                None => eprintln!("note: {release}: gdb could not evaluate {what}"),
            }
        }
        eprintln!("{release}: {compared} offsets/sizes compared with gdb (DWARF)");
        assert!(mismatches.is_empty(), "{release}: {mismatches:#?}");
        assert!(compared > 60, "{release}: only {compared} compared");
    });
}

/// The `vmcore.elf` captures of `release` in the lab (`<lab>/<release>/<scenario>/vmcore.elf`).
fn lab_vmcores(release: &str) -> Vec<PathBuf> {
    let Some(dir) = lab_dir() else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(dir.join(release)) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("vmcore.elf"))
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// BTF read out of a crash dump's memory between `__start_BTF` and `__stop_BTF` (what kdive does
/// without a vmlinux) parses, and is byte-identical to the vmlinux's `.BTF` section.
#[test]
fn btf_from_dump_memory() {
    use object::read::elf::{FileHeader, ProgramHeader};
    with_vmlinuxes("btf_from_dump_memory", |release, elf| {
        let Some(core_path) = lab_vmcores(release).into_iter().next() else {
            eprintln!("note: {release}: no vmcore.elf capture; skipping");
            return;
        };
        let file = std::fs::File::open(&core_path).unwrap();
        let map = unsafe { memmap2::Mmap::map(&file) }.unwrap();
        let data: &[u8] = &map;
        let header = object::elf::FileHeader64::<object::Endianness>::parse(data).unwrap();
        let endian = header.endian().unwrap();
        let phdrs = header.program_headers(endian, data).unwrap();

        // VMCOREINFO: the KASLR offset and the build ID.
        let mut vmcoreinfo = String::new();
        for ph in phdrs {
            if let Ok(Some(mut notes)) = ph.notes(endian, data) {
                while let Ok(Some(n)) = notes.next() {
                    if n.name() == b"VMCOREINFO" {
                        vmcoreinfo = String::from_utf8_lossy(n.desc()).into_owned();
                    }
                }
            }
        }
        let field = |k: &str| {
            vmcoreinfo
                .lines()
                .find_map(|l| l.strip_prefix(k))
                .map(str::to_string)
        };
        let kaslr =
            u64::from_str_radix(&field("KERNELOFFSET=").expect("KERNELOFFSET"), 16).unwrap();
        if let Some(id) = field("BUILD-ID=") {
            assert_eq!(
                id,
                hex(&elf.build_id().unwrap()),
                "{release}: dump and vmlinux builds differ"
            );
        }

        let syms = elf.symbols(kaslr).unwrap();
        let start = syms.lookup("__start_BTF").unwrap().addr;
        let stop = syms.lookup("__stop_BTF").unwrap().addr;
        let seg = phdrs
            .iter()
            .find(|ph| {
                let (v, sz) = (ph.p_vaddr(endian), ph.p_filesz(endian));
                ph.p_type(endian) == object::elf::PT_LOAD && start >= v && stop <= v + sz
            })
            .expect("a PT_LOAD covering the kernel image");
        let off = (seg.p_offset(endian) + (start - seg.p_vaddr(endian))) as usize;
        let bytes = &data[off..off + (stop - start) as usize];
        assert_eq!(
            bytes,
            elf.btf_bytes().unwrap(),
            "{release}: BTF in memory differs from .BTF"
        );
        let btf = Btf::parse(bytes).unwrap();
        assert_eq!(
            btf.types().offset_of("task_struct", "comm"),
            Btf::parse(elf.btf_bytes().unwrap())
                .unwrap()
                .types()
                .offset_of("task_struct", "comm")
        );
        eprintln!(
            "{release}: {} bytes of BTF read from {} at {start:#x} (KASLR offset {kaslr:#x}) parse to {} types",
            bytes.len(),
            core_path.display(),
            btf.type_count()
        );
    });
}

/// Modules' `.BTF` is split BTF on top of vmlinux's: ids continue, names refer to base strings.
#[test]
fn module_split_btf() {
    with_vmlinuxes("module_split_btf", |release, elf| {
        let base = Btf::parse(elf.btf_bytes().unwrap()).unwrap();
        let dir = elf.path().parent().unwrap().join("modules");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            eprintln!("note: {release}: no modules directory; skipping");
            return;
        };
        let mut parsed = 0;
        for path in entries.filter_map(|e| e.ok()).map(|e| e.path()) {
            if path.extension().map_or(true, |e| e != "ko") {
                continue;
            }
            let ko = VmlinuxElf::open_elf(&path).unwrap();
            let Some(bytes) = ko.btf_bytes() else {
                continue;
            };
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let split =
                Btf::parse_split(bytes, &base).unwrap_or_else(|e| panic!("{release} {name}: {e}"));
            let g = split.types();
            assert!(split.type_count() > base.type_count(), "{name}");
            assert_eq!(g.first_id().0, base.type_count());
            // Own types can refer to base types, and every own type spells.
            let mut cross = 0;
            for (id, ty) in g.iter().skip(base.type_count() as usize) {
                let _ = g.type_name(id);
                ty.for_each_ref(|t| cross += usize::from(t.0 < base.type_count() && t.0 != 0));
            }
            assert!(cross > 0, "{name}: no references into vmlinux BTF");
            assert!(
                g.find_struct("task_struct").is_some(),
                "base types reachable"
            );
            if name == "virtio_blk" {
                let vblk = g.find_struct("virtio_blk").expect("struct virtio_blk");
                assert!(vblk.0 >= base.type_count());
                assert_eq!(
                    g.type_name(g.member(vblk, "vdev").unwrap().ty),
                    "struct virtio_device *"
                );
            }
            parsed += 1;
        }
        eprintln!("{release}: {parsed} module BTFs parsed as split BTF");
        assert!(parsed > 0);
    });
}
