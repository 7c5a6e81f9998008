//! `kmem -z`, `kmem -f` and `kmem -F` on the lab's captures, compared with crash 8.0.6 run live
//! on the same dump: zone sizes, watermarks and VM_STAT counters, and the buddy free lists,
//! text for text. Skipped, with a note, when the lab cache or crash 8.0.6 is absent.

mod common;
use common::*;

use kdive_lab::{capture_dirs as captures, lab_dir};

const CMDS: [&str; 3] = ["kmem -z", "kmem -f", "kmem -F"];

#[test]
fn kmem_zones_and_free_lists_equal_crash_806() {
    let Some(lab) = lab_dir() else { return };
    let compared = with_crash806(
        &lab,
        &CMDS,
        |_| true,
        |cap, c, r, theirs| {
            assert_eq!(
                r.text,
                theirs,
                "{}: {c} differs from crash 8.0.6",
                cap.display()
            );
        },
    );
    eprintln!("kmem -z/-f/-F compared with crash 8.0.6 on {compared} captures");
}

/// The free lists are walked through `struct page`s, which a filtered dump keeps (it drops
/// the free pages themselves): `kmem -F` reads the same there as in the full ELF dump, and
/// the pages on the lists add up to the zones' NR_FREE_PAGES.
#[test]
fn free_lists_read_the_same_from_a_filtered_dump() {
    let Some(lab) = lab_dir() else { return };
    for cap in captures(&lab) {
        let (elf, d31) = (cap.join("vmcore.elf"), cap.join("kdump-zlib-d31"));
        if !elf.is_file() || !d31.is_file() {
            continue;
        }
        let full = run(&mut session(&[elf]), "kmem -F");
        let filtered = run(&mut session(&[d31]), "kmem -F");
        assert_eq!(full.text, filtered.text, "{}", cap.display());
        assert_eq!(full.json["verified"], true, "{}", cap.display());
        let zones = full.json["zones"].as_array().expect("zones array");
        for z in zones {
            for l in z["free_lists"].as_array().expect("free_lists array") {
                assert!(l["problem"].is_null(), "{}: {l}", cap.display());
            }
        }
    }
}
