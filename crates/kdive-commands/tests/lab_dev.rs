//! `dev`, `dev -d` and `dev -p` on the lab's captures, compared with crash 8.0.6 run live on the same
//! dump: the character and block device tables, the disk I/O table and the PCI buses, text for text.
//! Skipped, with a note, when the lab cache or crash 8.0.6 is absent.

mod common;
use common::*;

use kdive_lab::lab_dir;

#[test]
fn dev_equals_crash_806() {
    let Some(lab) = lab_dir() else { return };
    let compared = with_crash806(
        &lab,
        &["dev", "dev -d", "dev -p"],
        |_| true,
        |cap, c, r, theirs| {
            assert_eq!(
                r.text,
                theirs,
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
        },
    );
    eprintln!("dev compared with crash 8.0.6 on {compared} captures");
}
