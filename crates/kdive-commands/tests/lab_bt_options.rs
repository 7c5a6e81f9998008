//! `bt`'s options `-s`/`-sx` (offsets), `-v` (stack-end canaries), `-R REF` (only traces that
//! refer to a function or value) and `-g` (thread groups) on every lab capture, compared with
//! crash 8.0.6 run live on the same dump (frames named after another alias of the same
//! function are allowed, and checked to be aliases). `bt -s` is also checked on its own: each
//! frame's `name+off` is the frame's pc. Where crash's plain `bt` of the panic task has other
//! frames than kdive's (6.12: crash loses `panic`; lab_bt checks kdive's frames against drgn),
//! `bt -s` of that task, and its block in `foreach` output, are not compared with crash, and the
//! test says so.

mod common;
use common::*;

use kdive_commands::Session;
use kdive_lab::{capture_dirs, lab_dir, manifest};
use std::path::Path;

/// Each `#N [SP] name+off at PC` frame of `bt -s` text: `sym name` + off must be PC.
fn offsets_are_pcs(cap: &Path, s: &mut Session, text: &str, hex: bool) -> usize {
    let mut n = 0;
    for l in text.lines() {
        let w: Vec<&str> = l.split_whitespace().collect();
        if w.len() < 5 || !w[0].starts_with('#') || w[3] != "at" {
            continue;
        }
        let Some((name, off)) = w[2].split_once('+') else {
            continue;
        };
        let off = if hex {
            u64::from_str_radix(off.trim_start_matches("0x"), 16)
        } else {
            off.parse()
        }
        .unwrap_or_else(|_| panic!("{}: offset in {l}", cap.display()));
        let pc = u64::from_str_radix(w[4], 16).unwrap();
        let start = run(s, &format!("sym {name}"));
        let start = u64::from_str_radix(start.text.split_whitespace().next().unwrap(), 16).unwrap();
        assert_eq!(start + off, pc, "{}: {l}", cap.display());
        n += 1;
    }
    n
}

/// `foreach bt -R` text without the block (header to blank line) of the task whose header line
/// is `header`.
fn without_block(text: &str, header: &str) -> String {
    text.split_inclusive("\n\n")
        .filter(|b| !b.starts_with(header))
        .collect()
}

#[test]
fn bt_options_equal_crash_806() {
    let Some(lab) = lab_dir() else { return };
    let mut compared = 0;
    for cap in capture_dirs(&lab) {
        if !cap.join("vmcore.elf").is_file() || manifest(&cap, "vmlinux").is_none() {
            continue;
        }
        let group = manifest(&cap, "busy_threads_pid");
        let mut cmds = vec![
            "bt".to_string(),
            "bt -s".into(),
            "bt -sx".into(),
            "bt -v".into(),
            "foreach bt -R do_nanosleep".into(),
            "foreach bt -R schedule -s".into(),
            "bt -R ffffffffffffffff".into(),
        ];
        if let Some(g) = &group {
            cmds.push(format!("bt -g {g}"));
        }
        let refs: Vec<&str> = cmds.iter().map(String::as_str).collect();
        let Some(theirs) = crash806(&cap, &refs) else {
            eprintln!("note: crash 8.0.6 not available; skipped");
            return;
        };
        if refs.iter().any(|c| !theirs.contains_key(*c)) {
            eprintln!(
                "note: {}: crash 8.0.6 cannot open it; skipped",
                cap.display()
            );
            continue;
        }
        let vmlinux = manifest(&cap, "vmlinux").unwrap();
        let mut s = session(&[vmlinux.into(), cap.join("vmcore.elf")]);
        let plain = run(&mut s, "bt").text;
        let same_frames = plain.lines().count() == theirs["bt"].lines().count();
        for c in &refs[1..] {
            let r = run(&mut s, c);
            match *c {
                "bt -s" | "bt -sx" => {
                    let n = offsets_are_pcs(&cap, &mut s, &r.text, *c == "bt -sx");
                    assert!(n > 0, "{}: {c}: no frames\n{}", cap.display(), r.text);
                    if !same_frames {
                        eprintln!(
                            "note: {}: {c}: crash's panic-task frames differ from kdive's; not compared",
                            cap.display()
                        );
                        continue;
                    }
                }
                "bt -v" => {
                    // The stack-end scenario smashed one canary (lab_stack_end checks which).
                    let want = usize::from(cap.ends_with("stack-end"));
                    assert_eq!(
                        r.json["overflows"].as_array().map(Vec::len),
                        Some(want),
                        "{}: {}",
                        cap.display(),
                        r.text
                    );
                    assert!(r.json["checked"].as_u64() > Some(10), "{}", r.json);
                }
                "foreach bt -R do_nanosleep" => {
                    // Exactly the tasks whose trace has a do_nanosleep frame.
                    let all = run(&mut s, "foreach bt").text;
                    let want = all
                        .split("\n\n")
                        .filter(|b| b.contains(" do_nanosleep at "))
                        .count();
                    assert!(want > 0, "{}: no sleeper", cap.display());
                    assert_eq!(r.text.matches("PID: ").count(), want, "{}", cap.display());
                }
                _ => {}
            }
            if same_frames || !c.starts_with("foreach") {
                assert_same_frames(&cap, &mut s, c, &r.text, &theirs[*c]);
            } else {
                // The panic task's block is the one crash unwinds differently: compare the rest.
                let header = plain.lines().next().unwrap();
                assert_same_frames(
                    &cap,
                    &mut s,
                    c,
                    &without_block(&r.text, header),
                    &without_block(&theirs[*c], header),
                );
            }
        }
        compared += 1;
    }
    eprintln!("bt options compared with crash 8.0.6 on {compared} captures");
}
