//! `dev` and `dev -d` on the lab's captures, compared with crash 8.0.6 run live on the same
//! dump: the character and block device tables and the disk I/O table, text for text.
//! Skipped, with a note, when the lab cache or crash 8.0.6 is absent.

mod common;
use common::*;

use kdive_lab::{capture_dirs as captures, lab_dir};

#[test]
fn dev_equals_crash_806() {
    let Some(lab) = lab_dir() else { return };
    let cmds = ["dev", "dev -d"];
    let mut compared = 0;
    for cap in captures(&lab) {
        if !cap.join("vmcore.elf").is_file() {
            continue;
        }
        let Some(theirs) = crash806(&cap, &cmds) else {
            eprintln!("note: crash 8.0.6 not available; dev not compared");
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
            assert_eq!(
                r.json["problems"].as_array().map(Vec::len),
                Some(0),
                "{}: {c}: {}",
                cap.display(),
                r.json["problems"]
            );
        }
        compared += 1;
    }
    eprintln!("dev compared with crash 8.0.6 on {compared} captures");
}
