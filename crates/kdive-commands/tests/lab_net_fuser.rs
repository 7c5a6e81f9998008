//! `net -s` (a task's open sockets) and `fuser` (the tasks using a file) on the lab's
//! module-race captures, compared with crash 8.0.6 run live on the same dump, text for text.
//! Skipped, with a note, when the lab cache or crash 8.0.6 is absent.

mod common;
use common::*;

use kdive_lab::{capture_dirs, lab_dir, manifest};

#[test]
fn net_sockets_and_fuser_equal_crash_806() {
    let Some(lab) = lab_dir() else { return };
    let cmds = [
        "net -s",
        "net -s 1",
        "net -s 1 2",
        "foreach net -s",
        "fuser /",
        "fuser /dev/console",
        "fuser /dev/null",
        "fuser /bin/busybox",
        "fuser /nonexistent",
    ];
    let mut compared = 0;
    for cap in capture_dirs(&lab) {
        if !cap.ends_with("module-race") || !cap.join("vmcore.elf").is_file() {
            continue;
        }
        if manifest(&cap, "vmlinux").is_none() {
            continue;
        }
        let Some(theirs) = crash806(&cap, &cmds) else {
            eprintln!("note: crash 8.0.6 not available; net -s and fuser not compared");
            return;
        };
        if cmds.iter().any(|c| !theirs.contains_key(*c)) {
            eprintln!(
                "note: {}: crash 8.0.6 cannot open it; skipped",
                cap.display()
            );
            continue;
        }
        let mut s = session(&[cap.join("vmcore.elf")]);
        for c in cmds {
            let r = run(&mut s, c);
            assert_eq!(
                r.text,
                theirs[c],
                "{}: {c} differs from crash 8.0.6",
                cap.display()
            );
        }
        compared += 1;
    }
    eprintln!("net -s and fuser compared with crash 8.0.6 on {compared} captures");
}
