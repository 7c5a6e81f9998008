//! `dis -v` / `disassemble /v` on the lab's module-race dumps: the instruction that faulted in
//! the panic (the exception RIP of `bt -p`) is annotated with the variable the NULL pointer
//! was in and its register. kdive_race.c says what is right: in kdive_race_reinit_rings(),
//! `np = priv->qnapi[i]` is NULL (the remove path freed the napis) and `if (np->txq)` faults,
//! so the faulting `mov 0x1a0(%rax),%rcx` must read `np->txq (np in rax)` and RAX must be 0.

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

#[test]
fn faulting_instruction_names_the_null_pointer() {
    let Some(lab) = lab_dir() else { return };
    let caps: Vec<Capture> = captures(&lab)
        .into_iter()
        .filter(|c| c.scenario() == "module-race" && c.dir.join("kdive_race.ko").is_file())
        .collect();
    if caps.is_empty() {
        eprintln!("SKIP: no module-race captures in {}", lab.display());
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
