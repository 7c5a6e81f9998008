//! `ps -a` (arguments and environment from user memory), `ps -r` (resource limits), `ps -y`
//! (scheduling-policy filter) and `ps -g` (thread groups) on the lab's module-race captures
//! (6.1 and 6.12) must print exactly what crash 8.0.6 prints; on the filtered kdump (no user
//! pages) `ps -a` must say which user address it could not read, never print garbage.
//! Skipped, with a note, when the lab or crash 8.0.6 is absent.

mod common;
use common::*;
use kdive_lab::{capture_dirs, lab_dir, manifest};

#[test]
fn ps_views_equal_crash_806() {
    let Some(lab) = lab_dir() else {
        eprintln!("note: no lab cache; skipped");
        return;
    };
    let cmds = [
        "ps -a 1",
        "ps -a 2",
        "ps -a",
        "ps -r 1",
        "ps -r 2",
        "ps -y FIFO,RR",
        "ps -y 0",
        "ps -k -y fifo",
        "ps -g",
        "ps -g sh",
        "ps -a -y 1",
    ];
    let mut compared = 0;
    for cap in capture_dirs(&lab) {
        if !cap.ends_with("module-race") || manifest(&cap, "vmlinux").is_none() {
            continue;
        }
        let Some(theirs) =
            crash806(&cap, &cmds).filter(|t| t.get("ps -a 1").is_some_and(|t| t.contains("PID:")))
        else {
            eprintln!("note: {}: crash 8.0.6 not available", cap.display());
            continue;
        };
        let mut s = session(&[cap.join("vmcore.elf")]);
        for c in cmds {
            assert_eq!(run(&mut s, c).text, theirs[c], "{}: {c}", cap.display());
        }
        let j = run(&mut s, "ps -a 1").json;
        assert!(
            j["tasks"][0]["args"]
                .as_array()
                .is_some_and(|a| !a.is_empty()),
            "{}: {j}",
            cap.display()
        );
        compared += 1;

        // The filtered kdump: every line is a header, ARG/ENV text or crash's note.
        let kdump = cap.join("kdump-zlib-d31");
        if kdump.is_file() {
            let mut d = session(&[kdump]);
            let text = run(&mut d, "ps -a").text;
            for line in text.lines() {
                assert!(
                    line.is_empty()
                        || line.starts_with("PID: ")
                        || line.starts_with("ARG: ")
                        || line.starts_with("ENV: ")
                        || line.starts_with("     ")
                        || line == "ps: no user stack"
                        || line.starts_with("ps: cannot access user stack address: "),
                    "{}: kdump ps -a: {line:?}",
                    cap.display()
                );
            }
        }
    }
    eprintln!("ps -a/-r/-y/-g compared with crash 8.0.6 on {compared} captures");
}
