//! `dev`, `dev -d`, `dev -i` and `dev -p` on the lab's captures, compared with crash 8.0.6 run live on
//! the same dump: the character and block device tables, the disk I/O table, the I/O port and memory
//! resource trees and the PCI buses, text for text; and the memory reserved for the capture kernel
//! (`Crash kernel` in the iomem tree) against the lab's `crashkernel=` boot parameter.
//! Skipped, with a note, when the lab cache or crash 8.0.6 is absent.

mod common;
use common::*;

use kdive_lab::{lab_dir, manifest};

#[test]
fn dev_equals_crash_806() {
    let Some(lab) = lab_dir() else { return };
    let compared = with_crash806(
        &lab,
        &["dev", "dev -d", "dev -i", "dev -p"],
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
            if c == "dev -i" {
                let mb: u64 = manifest(cap, "crashkernel")
                    .and_then(|v| v.strip_suffix('M')?.parse().ok())
                    .expect("MANIFEST crashkernel=NNNM");
                let reserved = r.json["iomem"]
                    .as_array()
                    .and_then(|a| a.iter().find(|x| x["name"] == "Crash kernel"))
                    .unwrap_or_else(|| panic!("{}: no Crash kernel in iomem", cap.display()));
                let (start, end) = (reserved["start"].as_u64(), reserved["end"].as_u64());
                assert_eq!(
                    end.zip(start).map(|(e, s)| e + 1 - s),
                    Some(mb << 20),
                    "{}: {reserved}",
                    cap.display()
                );
                assert_eq!(r.json["ioport"][0]["name"], "PCI IO");
            }
        },
    );
    eprintln!("dev compared with crash 8.0.6 on {compared} captures");
}
