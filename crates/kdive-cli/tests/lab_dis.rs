//! `dis -v` / `disassemble /v` and `dis -s` on the lab's module-race dumps.
//!
//! The instruction that faulted in the panic (the exception RIP of `bt -p`) is annotated with
//! the variable the NULL pointer was in and its register. kdive_race.c says what is right: in
//! kdive_race_reinit_rings(), `np = priv->qnapi[i]` is NULL (the remove path freed the napis)
//! and `if (np->txq)` faults, so the faulting `mov 0x1a0(%rax),%rcx` must read
//! `np->txq (np in rax)` and RAX must be 0.
//!
//! `disassemble /m` groups instructions under source lines, a blank line after each group, as
//! gdb does on the same module (gdb run on the `.ko`, offsets compared).
//!
//! `dis -s` at that address lists the source as crash does (checked by hand against crash
//! 8.0.2 and 8.0.6 on the 6.1 dump): `FILE:`, `LINE:`, five lines before the marked one, then
//! up to the function's closing brace or COUNT lines.

mod common;
use common::*;

/// The exception RIP `FUNC+OFF` and the registers of the panic task's exception frame.
fn exception(bt: &str) -> Option<(String, std::collections::BTreeMap<String, u64>)> {
    let at = bt.find("[exception RIP: ")?;
    let rest = &bt[at + "[exception RIP: ".len()..];
    let rip = rest[..rest.find(']')?].to_string();
    let mut regs = std::collections::BTreeMap::new();
    for line in rest.lines().skip(1).take(6) {
        let mut it = line.split_whitespace();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            if let (Some(k), Ok(v)) = (k.strip_suffix(':'), u64::from_str_radix(v, 16)) {
                regs.insert(k.to_ascii_lowercase(), v);
            }
        }
    }
    Some((rip, regs))
}

/// The lab's module-race captures (with their `kdive_race.ko` when `with_ko`); says SKIP when
/// there are none.
fn module_race_captures(lab: &std::path::Path, with_ko: bool) -> Vec<Capture> {
    let caps: Vec<Capture> = captures(lab)
        .into_iter()
        .filter(|c| c.scenario() == "module-race")
        .filter(|c| !with_ko || c.dir.join("kdive_race.ko").is_file())
        .collect();
    if caps.is_empty() {
        eprintln!("SKIP: no module-race captures in {}", lab.display());
    }
    caps
}

#[test]
fn faulting_instruction_names_the_null_pointer() {
    let Some(lab) = lab_dir() else { return };
    let caps = module_race_captures(&lab, true);
    if caps.is_empty() {
        return;
    }
    for cap in &caps {
        let files = vec![cap.vmlinux(), cap.dir.join("vmcore.elf")];
        let (code, bt, err) = kdive(&files, &["bt -p"]);
        assert_eq!(code, 0, "{}: bt -p: {err}", cap.dir.display());
        let (rip, regs) = exception(&bt).unwrap_or_else(|| panic!("no exception frame:\n{bt}"));
        assert!(rip.starts_with("kdive_race_reinit_rings+"), "{rip}");

        let (code, dis, err) = kdive(&files, &[&format!("dis -v {rip} 1")]);
        assert_eq!(code, 0, "{}: dis -v: {err}", cap.dir.display());
        eprintln!("{}: {dis}", cap.release());
        let line = dis.lines().next().unwrap_or_default();
        assert!(line.contains(&format!("<{rip}>:")), "{line}");
        // The NULL pointer's name and register, read from the module's DWARF.
        let (_, comment) = line
            .split_once(" # ")
            .unwrap_or_else(|| panic!("no annotation: {line}"));
        let (access, vars) = comment.split_once("; ").unwrap_or((comment, ""));
        let (what, held) = access
            .split_once(" (")
            .unwrap_or_else(|| panic!("no access: {comment}"));
        assert_eq!(what, "np->txq", "{line}");
        let reg = held
            .strip_prefix("np in ")
            .and_then(|r| r.strip_suffix(')'))
            .unwrap_or_else(|| panic!("{line}"));
        assert!(vars.split(' ').any(|v| v == format!("np={reg}")), "{line}");
        assert!(vars.split(' ').any(|v| v == "priv=rdi"), "{line}");
        // That register is what was NULL when the instruction faulted.
        assert_eq!(regs.get(reg), Some(&0), "{reg} in {regs:?}");
        assert!(line.contains(&format!("0x1a0(%{reg})")), "{line}");

        // gdb's spelling of the same listing carries the same annotation.
        let func = rip.split('+').next().unwrap();
        let off = rip.split('+').nth(1).unwrap();
        let (code, gdb, err) = kdive(&files, &[&format!("disassemble /v {func}")]);
        assert_eq!(code, 0, "disassemble /v: {err}");
        let gline = gdb
            .lines()
            .find(|l| l.contains(&format!(" <+{off}>:")))
            .unwrap_or_else(|| panic!("no +{off} in:\n{gdb}"));
        assert!(
            gline.contains(&format!("# np->txq (np in {reg}); ")),
            "{gline}"
        );
        // Without -v, crash's line stays as it was.
        let (_, plain, _) = kdive(&files, &[&format!("dis {rip} 1")]);
        assert!(!plain.contains('#'), "{plain}");
    }
}

/// The lab module's source, where `set substitute-path` points /usr/src/kdive_race.
fn module_source_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../lab/modules/kdive_race")
}

#[test]
fn dis_s_lists_the_faulting_line_like_crash() {
    let Some(lab) = lab_dir() else { return };
    let caps = module_race_captures(&lab, true);
    if caps.is_empty() {
        return;
    }
    let src_dir = module_source_dir();
    let source = std::fs::read_to_string(src_dir.join("kdive_race.c")).unwrap();
    let lines: Vec<&str> = source.lines().collect();
    for cap in &caps {
        let files = vec![cap.vmlinux(), cap.dir.join("vmcore.elf")];
        let (_, bt, _) = kdive(&files, &["bt -p"]);
        let (rip, _) = exception(&bt).unwrap();
        let subst = format!(
            "set substitute-path /usr/src/kdive_race {}",
            src_dir.display()
        );
        let (code, out, err) = kdive(
            &files,
            &[
                &subst,
                &format!("dis -s {rip} 3"),
                "dis -s kdive_race_reinit_rings",
            ],
        );
        assert_eq!(code, 0, "{err}");
        eprintln!("{}:\n{out}", cap.release());
        let mut blocks = out.split("FILE: ").skip(1);
        let first = blocks.next().unwrap();
        let marked: usize = first
            .lines()
            .nth(1)
            .and_then(|l| l.strip_prefix("LINE: "))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{first}"));
        // The faulting line is `if (np->txq) {`.
        assert!(
            lines[marked - 1].contains("if (np->txq)"),
            "{}",
            lines[marked - 1]
        );
        let mut want = "/usr/src/kdive_race/kdive_race.c\n".to_string();
        want.push_str(&format!("LINE: {marked}\n\n"));
        for l in marked - 5..=marked + 3 {
            let m = if l == marked { '*' } else { ' ' };
            want.push_str(&format!("{m} {l}\t{}\n", lines[l - 1]));
        }
        want.push('\n');
        assert_eq!(first, want);
        // The whole function: from 5 lines before its `{` to its closing `}`.
        let whole = blocks.next().unwrap();
        let body: Vec<&str> = whole.trim_end().lines().skip(3).collect();
        assert!(body.first().unwrap().starts_with("  "), "{whole}");
        assert!(
            body.iter()
                .any(|l| l.starts_with("* ") && l.ends_with("\t{")),
            "{whole}"
        );
        assert!(
            body.last().unwrap().split_once('\t').map(|x| x.1) == Some("}"),
            "{whole}"
        );
        let from_mark = body.iter().position(|l| l.starts_with("* ")).unwrap();
        let braces = body[from_mark..]
            .iter()
            .filter(|l| l.split_once('\t').map(|x| x.1) == Some("}"))
            .count();
        assert_eq!(braces, 1, "{whole}");
    }
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| std::path::Path::new(d).join(name))
        .find(|p| p.is_file())
}

/// A `disassemble /m` listing reduced to what gdb and kdive must share: source lines, blank
/// lines, and `<+OFF>` per instruction (the text differs: gdb reads the unrelocated `.ko`).
fn m_shape(text: &str) -> Vec<String> {
    text.lines()
        // gdb's warnings, and its instructions past the .ko's symbol (unpatched padding).
        .filter(|l| !l.starts_with("warning:"))
        .filter(|l| !l.starts_with("   0x") || l.contains(" <+"))
        .map(|l| match l.find(" <+") {
            Some(i) => l[i + 1..].split(':').next().unwrap_or_default().to_string(),
            None => l.trim_end().to_string(),
        })
        .collect()
}

#[test]
fn disassemble_m_groups_like_gdb() {
    let Some(lab) = lab_dir() else { return };
    let Some(gdb) = which("gdb") else {
        eprintln!("SKIP: no gdb");
        return;
    };
    let caps = module_race_captures(&lab, true);
    if caps.is_empty() {
        return;
    }
    let src_dir = module_source_dir();
    let subst = format!(
        "set substitute-path /usr/src/kdive_race {}",
        src_dir.display()
    );
    let mut compared = 0;
    // gdb reads the unrelocated .ko; with 6.12's (one section per function) it lays the
    // sections over each other and lists the wrong code, so 6.1's only.
    for cap in caps.iter().filter(|c| c.release().starts_with("6.1.")) {
        let files = vec![cap.vmlinux(), cap.dir.join("vmcore.elf")];
        for f in [
            "kdive_race_reinit_rings",
            "kdive_race_reset",
            "kdive_race_remove",
            "kdive_race_intr_timer",
            "kdive_race_activate",
            "kdive_race_proc_write",
            "kdive_race_free_napis",
        ] {
            let g = std::process::Command::new(&gdb)
                .args(["-nx", "-batch", "-ex", &subst, "-ex"])
                .arg(format!("disassemble /m {f}"))
                .arg(cap.dir.join("kdive_race.ko"))
                .output()
                .expect("run gdb");
            let g = String::from_utf8_lossy(&g.stdout).into_owned();
            // Functions split in parts or absent (inlined in this build): not compared.
            let header = format!("Dump of assembler code for function {f}:");
            if g.contains("Address range") || !g.contains(&header) {
                eprintln!("note: {}: gdb cannot show {f} from the .ko", cap.release());
                continue;
            }
            let (code, k, err) = kdive(&files, &[&subst, &format!("disassemble /m {f}")]);
            assert_eq!(code, 0, "{f}: {err}");
            let g = m_shape(&g);
            let gdb_offs: std::collections::HashSet<&String> =
                g.iter().filter(|l| l.starts_with("<+")).collect();
            // kdive also lists, after the groups, instructions of other files' inlined code
            // that gdb's /m leaves out; drop those, then blank runs are one blank.
            let mut k: Vec<String> = m_shape(&k)
                .into_iter()
                .filter(|l| !l.starts_with("<+") || gdb_offs.contains(l))
                .collect();
            k.dedup_by(|a, b| a.is_empty() && b.is_empty());
            let mut g = g;
            g.dedup_by(|a, b| a.is_empty() && b.is_empty());
            assert_eq!(k, g, "{}: disassemble /m {f}", cap.release());
            compared += 1;
        }
    }
    if compared == 0 {
        eprintln!("SKIP: no 6.1 module-race capture to compare with gdb");
    }
}

/// Stack slots DWARF places relative to the CFA are shown relative to the register ORC says
/// holds it: schedule_timeout()'s on-stack `struct process_timer timer` sits at the stack
/// pointer once the frame is set up (`sub $N,%rsp`), on 6.1 and 6.12 alike, and a store into
/// it is named by member.
#[test]
fn stack_slots_through_orc() {
    let Some(lab) = lab_dir() else { return };
    let caps = module_race_captures(&lab, false);
    if caps.is_empty() {
        return;
    }
    for cap in &caps {
        let files = vec![cap.vmlinux(), cap.dir.join("vmcore.elf")];
        let (code, out, err) = kdive(&files, &["dis -v schedule_timeout"]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(" timeout=rdi"), "{out}");
        let after_frame = out
            .lines()
            .skip_while(|l| !l.contains("sub    $"))
            .nth(1)
            .unwrap_or_default();
        assert!(after_frame.contains(" timer=[rsp]"), "{after_frame}");
        assert!(!out.contains("[CFA"), "{out}");
        // `timer.task = current`: a member of the on-stack struct, named from its type.
        assert!(out.contains("# timer.task (timer in [rsp]); "), "{out}");
    }
}
