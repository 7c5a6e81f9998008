//! Lab tests: the expression commands (`ptype`, `whatis`, `p`, `struct`, `sym`, `rd`) on the
//! lab's 6.1 sysrq dump, compared with crash 8.0.2 run on the same files. Passes with a note
//! when the lab or crash is absent; commands that need DWARF variable types (`p jiffies`) are
//! compared only once kdive has them.

use kdive_commands::{Outcome, Session};
use kdive_kernel::{Kernel, OpenOptions};
use kdive_lab::lab_dir;
use std::path::{Path, PathBuf};

const RELEASE: &str = "6.1.0-56-cloud-amd64";
const MARK: &str = "@@@kdive@@@";

/// (vmlinux, vmcore.elf) of the sysrq scenario.
fn lab_files() -> Option<(PathBuf, PathBuf)> {
    let dir = lab_dir()?.join(RELEASE).join("sysrq");
    let manifest = std::fs::read_to_string(dir.join("MANIFEST")).ok()?;
    let vmlinux = manifest
        .lines()
        .find_map(|l| l.strip_prefix("vmlinux="))
        .map(PathBuf::from)?;
    let dump = dir.join("vmcore.elf");
    (vmlinux.is_file() && dump.is_file()).then_some((vmlinux, dump))
}

fn open(files: Vec<PathBuf>) -> Session {
    Session::new(Kernel::open(&OpenOptions { files }).expect("open the lab dump"))
}

fn kdive(s: &mut Session, cmd: &str) -> String {
    match s.run(cmd) {
        Ok(Outcome::Report(r)) => r.text,
        Ok(Outcome::Quit) => String::new(),
        Err(e) => format!("ERROR: {e}\n"),
    }
}

/// crash's output for each command, or None when crash is not installed.
fn crash(vmlinux: &Path, dump: &Path, cmds: &[String]) -> Option<Vec<String>> {
    let mut input = format!("echo {MARK}\n");
    for c in cmds {
        input.push_str(&format!("{c}\necho {MARK}\n"));
    }
    let text = kdive_lab::crash_script(Path::new("crash"), vmlinux, dump, &input)?;
    let parts: Vec<String> = text
        .split(&format!("{MARK}\n"))
        .skip(1)
        .map(str::to_string)
        .collect();
    (parts.len() >= cmds.len()).then_some(parts)
}

/// Lines with trailing blanks removed, blank lines dropped.
fn norm(s: &str) -> String {
    s.lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn expression_commands_match_crash() {
    let Some((vmlinux, dump)) = lab_files() else {
        eprintln!("note: lab {RELEASE}/sysrq absent; skipping");
        return;
    };
    let mut s = open(vec![vmlinux.clone(), dump.clone()]);
    let task = s.kernel.panic_context().expect("panic task").task;
    let t = format!("((struct task_struct *){task:#x})");
    let exact: Vec<String> = vec![
        "ptype struct list_head".into(),
        "ptype struct kobject".into(),
        "ptype struct task_struct".into(),
        "ptype struct page".into(),
        "whatis schedule".into(),
        "ptype schedule".into(),
        "whatis struct list_head".into(),
        "whatis pid_t".into(),
        "whatis spinlock_t".into(),
        "ptype enum pid_type".into(),
        "rd -64 jiffies 4".into(),
        "rd -32 init_task 8".into(),
        "rd -8 init_task 20".into(),
        "rd -16 init_task 10".into(),
        "rd init_task 5".into(),
        "struct list_head -o".into(),
        "struct kobject -o".into(),
        format!("struct task_struct.pid,comm {task:x}"),
        format!("struct list_head {task:x}"),
        // The seed's shape: an array of NULL pointers in a struct reached through a cast.
        format!("p {t}->perf_event_ctxp"),
        format!("p {t}->comm"),
        format!("p/x {t}->pid"),
        format!("p {t}->se.load"),
        format!("ptype {t}"),
        format!("p &{t}->tasks"),
        "p sizeof(struct task_struct)".into(),
        "p (enum pid_type)1".into(),
        "p &((struct task_struct *)0)->tasks".into(),
        "p/x 255".into(),
        "p 1+2*3".into(),
        "p runqueues".into(),
        "p $2".into(),
        "p jiffies".into(),
        "p init_task.comm".into(),
        "p/x init_task.pid".into(),
        "whatis init_task".into(),
        // Declared `const char linux_banner[]`; its definition has no debug info: the bound
        // comes from the symbol's size, as gdb takes it.
        "p linux_banner".into(),
        "whatis linux_banner".into(),
        // Defined with DW_FORM_data1 bound 132 (not -124): 133 chars.
        "whatis linux_proc_banner".into(),
        "p linux_proc_banner".into(),
        "whatis boot_command_line".into(),
        "struct -o list_head ffffffff82a0c6c0".into(),
        "struct -o kobject ffffffff82a0c6c0".into(),
    ];
    // Compared only when kdive finds DWARF variable types (all of them do now).
    let dwarf: Vec<String> = vec![];
    let ours: Vec<String> = exact.iter().map(|c| kdive(&mut s, c)).collect();
    let mut ours_dwarf = Vec::new();
    for c in &dwarf {
        let out = kdive(&mut s, c);
        ours_dwarf.push(out);
    }
    for (c, o) in exact.iter().zip(&ours) {
        assert!(!o.starts_with("ERROR"), "{c}: {o}");
    }
    let sym = kdive(&mut s, "sym schedule");
    let mut all = exact.clone();
    all.extend(dwarf.iter().cloned());
    all.push("sym schedule".into());
    let Some(theirs) = crash(&vmlinux, &dump, &all) else {
        eprintln!("note: crash is not installed (apt-get install crash); outputs not compared");
        return;
    };
    let mut failures = Vec::new();
    for (i, c) in exact.iter().enumerate() {
        if norm(&ours[i]) != norm(&theirs[i]) {
            failures.push(format!(
                "{c}\n--- kdive\n{}\n--- crash\n{}",
                ours[i], theirs[i]
            ));
        }
    }
    for (j, c) in dwarf.iter().enumerate() {
        let o = &ours_dwarf[j];
        if o.contains("has unknown type") || o.contains("no debug info") {
            eprintln!(
                "note: {c}: needs DWARF variable types (not loaded): {}",
                o.trim()
            );
            continue;
        }
        let th = &theirs[exact.len() + j];
        if norm(o) != norm(th) {
            failures.push(format!("{c}\n--- kdive\n{o}\n--- crash\n{th}"));
        }
    }
    // crash adds the source file and line (DWARF line tables) after the symbol.
    let crash_sym = theirs[all.len() - 1].trim();
    assert!(
        crash_sym.starts_with(sym.trim()),
        "sym schedule: kdive {sym:?}, crash {crash_sym:?}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn btf_only_answers_like_vmlinux() {
    let Some((vmlinux, dump)) = lab_files() else {
        eprintln!("note: lab {RELEASE}/sysrq absent; skipping");
        return;
    };
    let mut with = open(vec![vmlinux, dump.clone()]);
    let mut without = open(vec![dump]);
    let task = with.kernel.panic_context().expect("panic task").task;
    for c in [
        "ptype struct list_head".to_string(),
        "ptype struct task_struct".into(),
        format!("struct task_struct.pid,comm {task:x}"),
        format!("p ((struct task_struct *){task:#x})->perf_event_ctxp"),
        "sym schedule".into(),
        "rd -64 jiffies 2".into(),
        "struct kobject -o".into(),
    ] {
        assert_eq!(kdive(&mut with, &c), kdive(&mut without, &c), "{c}");
    }
    let e = kdive(&mut without, "p jiffies");
    assert!(e.contains("'jiffies' has unknown type; cast it"), "{e}");
    let v = kdive(&mut without, "p *(unsigned long *)&jiffies");
    assert!(v.starts_with('$') && v.contains(" = "), "{v}");
}
