//! Modules' debug info on the lab's module-race dumps (6.1 and 6.12): the `.ko` beside the dump
//! is loaded at open, `mod -s` loads it on demand, `dis -l`, `ptype` and `p` on the module's
//! code and types equal crash's, `disassemble /m` puts source lines beside the instructions,
//! the same `ptype`/`p` work without a vmlinux, and a `.ko` of another build is refused.
//! Skipped, with a note, when the lab cache is absent.

use kdive_commands::{Outcome, Session};
use kdive_kernel::{Kernel, OpenOptions};
use kdive_lab::lab_dir;
use std::path::{Path, PathBuf};

/// Complete module-race captures with their vmlinux.
fn captures(lab: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for rel in std::fs::read_dir(lab).into_iter().flatten().flatten() {
        let cap = rel.path().join("module-race");
        let Ok(m) = std::fs::read_to_string(cap.join("MANIFEST")) else {
            continue;
        };
        let Some(v) = m.lines().find_map(|l| l.strip_prefix("vmlinux=")) else {
            continue;
        };
        if cap.join("vmcore.elf").is_file() && cap.join("kdive_race.ko").is_file() {
            out.push((cap, PathBuf::from(v)));
        }
    }
    out.sort();
    out
}

fn open(files: &[PathBuf]) -> Session {
    let k = Kernel::open(&OpenOptions {
        files: files.to_vec(),
    })
    .unwrap_or_else(|e| panic!("open {files:?}: {e}"));
    Session::new(k)
}

fn run(s: &mut Session, line: &str) -> String {
    match s.run(line) {
        Ok(Outcome::Report(r)) => r.text,
        Ok(Outcome::Quit) => panic!("{line}: quit"),
        Err(e) => panic!("{line}: {e}"),
    }
}

/// A crash peer output without its warnings, blank lines and exit marker.
fn peer(cap: &Path, name: &str) -> Option<String> {
    let t = std::fs::read_to_string(cap.join("peers").join(name)).ok()?;
    Some(
        t.lines()
            .filter(|l| !l.starts_with("WARNING:") && !l.is_empty() && !l.starts_with("[exit "))
            .map(|l| format!("{l}\n"))
            .collect(),
    )
}

/// The faulting function's first argument (RDI in the exception frame of `bt -p`).
fn priv_addr(bt: &str) -> String {
    let at = bt.find("RDI: ").expect("exception frame with RDI");
    bt[at + 5..at + 21].to_string()
}

#[test]
fn module_race_debug_info() {
    let Some(lab) = lab_dir() else { return };
    let caps = captures(&lab);
    if caps.is_empty() {
        eprintln!("SKIP: no module-race captures in {}", lab.display());
    }
    for (cap, vmlinux) in &caps {
        let ko = cap.join("kdive_race.ko");
        // Zero commands: the .ko beside the dump is found, matched and loaded at open.
        let mut s = open(&[vmlinux.clone(), cap.join("vmcore.elf")]);
        assert!(
            s.kernel.module_debug.iter().any(|d| d.name == "kdive_race"),
            "{}: not autoloaded: {:?}",
            cap.display(),
            s.kernel.warnings
        );
        let bt = run(&mut s, "bt -p");
        assert!(
            bt.contains("[exception RIP: kdive_race_reinit_rings+37]"),
            "{bt}"
        );
        assert!(bt.contains("kdive_race_activate at ") && bt.contains(" [kdive_race]"));
        let addr = priv_addr(&bt);
        let qnapi = format!("p ((struct kdive_race_priv *)0x{addr})->qnapi");
        assert_eq!(
            run(&mut s, &qnapi),
            "$1 = {0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0}\n"
        );
        // Module globals, as crash prints them after mod -s: the module's kallsyms give the
        // address, its DWARF the type (num_napi is 4: the lab loads the module without it).
        let sym = run(&mut s, "sym num_napi");
        assert!(sym.ends_with(" num_napi [kdive_race]\n"), "{sym}");
        let p = run(&mut s, "p num_napi");
        assert!(
            p.starts_with("num_napi = $") && p.ends_with(" = 4\n"),
            "{p}"
        );
        let at = sym.split_whitespace().next().unwrap();
        assert_eq!(run(&mut s, &format!("sym {at}")), sym);
        assert!(
            run(&mut s, &format!("rd -32 {at} 1")).contains(":  00000004"),
            "num_napi's word at {at}"
        );
        let dev = run(&mut s, "p kdive_race_dev");
        assert!(
            dev.starts_with("kdive_race_dev = $")
                && dev.contains(" = (struct kdive_race_priv *) 0x"),
            "{dev}"
        );
        // Explicitly, as crash: mod -s NAME FILE, then its dis -l and ptype.
        run(&mut s, "mod -D");
        let table = run(&mut s, &format!("mod -s kdive_race {}", ko.display()));
        assert!(
            table.ends_with(&format!("  {} \n", ko.display())),
            "{table}"
        );
        let dis = run(&mut s, "dis -l kdive_race_reinit_rings");
        let ptype = run(&mut s, "ptype struct kdive_race_priv");
        if let Some(c) = peer(cap, "crash-dis-l-kdive_race_reinit_rings.txt") {
            assert_eq!(dis, c, "{}", cap.display());
        } else if let Some(c) = peer(cap, "crash806-dis-l-kdive_race_reinit_rings.txt") {
            // crash 8.0.6 misreads this module's line table on 6.12: compare instructions.
            let insns = |t: &str| -> Vec<String> {
                t.lines()
                    .filter(|l| l.starts_with("0x"))
                    .map(str::to_string)
                    .collect()
            };
            // It also stops part-way through the function on some runs: its instructions
            // must be where ours begin.
            let (ours, theirs) = (insns(&dis), insns(&c));
            assert!(
                !theirs.is_empty() && ours.starts_with(&theirs),
                "{}: crash 8.0.6 {theirs:?} is not a prefix of kdive {ours:?}",
                cap.display()
            );
        }
        assert!(
            dis.contains("/usr/src/kdive_race/kdive_race.c: 193\n"),
            "{dis}"
        );
        assert!(dis.contains("<kdive_race_reinit_rings+37>:\tmov    0x1a0(%rax),%rcx\n"));
        assert!(dis.contains("<kdive_race_reinit_rings>:\tnopl   0x0(%rax,%rax,1) [FTRACE NOP]\n"));
        let crash_ptype = peer(cap, "crash-ptype-struct-kdive_race_priv.txt")
            .or_else(|| peer(cap, "crash806-ptype-struct-kdive_race_priv.txt"));
        if let Some(c) = &crash_ptype {
            assert_eq!(&ptype, c, "{}", cap.display());
        }
        // gdb's disassemble /m with the module's source found through substitute-path.
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../lab/modules/kdive_race");
        run(
            &mut s,
            &format!("set substitute-path /usr/src/kdive_race {}", src.display()),
        );
        let m = run(&mut s, "disassemble /m kdive_race_reinit_rings");
        assert!(m.starts_with("Dump of assembler code for function kdive_race_reinit_rings:\n"));
        assert!(m.ends_with("End of assembler dump.\n"));
        assert!(
            m.contains("193\t\t\tif (np->txq) {\n   0x")
                && m.contains(" <+37>:\tmov    0x1a0(%rax),%rcx\n"),
            "{m}"
        );
        // Without a vmlinux: kernel BTF plus the module's DWARF answer the same.
        let mut nv = open(&[cap.join("vmcore.elf")]);
        assert_eq!(
            run(&mut nv, &qnapi),
            "$1 = {0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0}\n"
        );
        let nv_ptype = run(&mut nv, "ptype struct kdive_race_priv");
        assert_eq!(nv_ptype, ptype, "{}: no-vmlinux ptype", cap.display());
    }
    // Another build's .ko is refused, with the reason.
    if caps.len() >= 2 {
        let (cap, vmlinux) = &caps[0];
        let other = caps[1].0.join("kdive_race.ko");
        let mut s = open(&[vmlinux.clone(), cap.join("vmcore.elf")]);
        let e = s
            .run(&format!("mod -s kdive_race {}", other.display()))
            .expect_err("a .ko of another kernel build is refused");
        assert!(e.to_string().contains("was built for kernel"), "{e}");
    }
}
