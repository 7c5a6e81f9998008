//! `kmem -o` (per-CPU offsets), `-h` (hugetlb hstates), `-g [FLAGS]` (page flags) and `-n`
//! (memory nodes, sections and blocks) on every lab capture of both kernels, compared with
//! crash 8.0.6 run live on the same dump, text for text; and the JSON carries the numbers the
//! text shows. crash runs once per capture for all of them. Skipped, with a note, when the lab
//! cache or crash 8.0.6 is absent.

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

/// `kmem -p` on a few physical addresses, one per region of the lab's 1 GiB guests.
const SOME_PAGES: &str = "kmem -p 1000 1000000 2000000 3ffff000 40000000";

/// Every command this file's tests compare: crash runs them all once per capture
/// ([`with_shared_crash806`]), not once per test.
const ALL: &[&str] = &[
    "kmem -o",
    "kmem -h",
    "kmem -g",
    "kmem -g 200",
    "kmem -g 10400 4",
    "kmem -g 8000000000",
    "kmem -n",
    "kmem -p",
    SOME_PAGES,
];

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
    let compared = with_shared_crash806(
        &lab,
        ALL,
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
    let compared = with_shared_crash806(
        &lab,
        ALL,
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
    let compared = with_shared_crash806(
        &lab,
        ALL,
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

/// How crash 8.0.6 names a memory block's state: it reads 8 bytes at `memory_block.state`
/// and knows only the MEM_* bit values of include/linux/memory.h before 6.x.
fn crash_block_state(word: u64) -> &'static str {
    match word {
        1 => "ONLINE",
        2 => "GOING_OFFLINE",
        4 => "OFFLINE",
        8 => "GOING_ONLINE",
        16 => "CANCEL_ONLINE",
        32 => "CANCEL_OFFLINE",
        _ => "UNKNOWN",
    }
}

/// `kmem -n`: nodes, zones, memory sections and memory blocks equal crash's text where crash
/// is right, and the JSON carries the numbers shown. On 6.12 the kernel declares `enum
/// memory_block_state` with MEM_ONLINE = 0 (and `state` is 4 bytes, followed by
/// `online_type`), while crash 8.0.6 reads 8 bytes and matches the old bit values
/// (MEM_ONLINE = 1): it prints every online block as UNKNOWN. There kdive must print the
/// dump's own state names, and its text with each block's state read crash's way must equal
/// crash's exactly.
#[test]
fn memory_nodes_equal_crash_806_where_crash_is_right() {
    let Some(lab) = lab_dir() else {
        eprintln!("note: no lab cache; skipped");
        return;
    };
    let mut crash_wrong = 0;
    let compared = with_shared_crash806(
        &lab,
        ALL,
        &["kmem -n"],
        |_| true,
        |cap, c, r, theirs| {
            let what = format!("{}: {c}", cap.display());
            let blocks = r.json["memory_blocks"].as_array().expect("memory_blocks");
            assert!(!blocks.is_empty(), "{what}: no memory blocks");
            if r.text != theirs {
                let s = session(&[cap.join("vmcore.elf")]);
                let k = &s.kernel;
                let state_off = k
                    .layout
                    .offset("memory_block", "state")
                    .expect("memory_block.state");
                assert_eq!(
                    k.layout.enumerator("enum memory_block_state", "MEM_ONLINE"),
                    Some(0),
                    "{what}: kdive differs from crash though the kernel has crash's MEM_* values"
                );
                let mut as_crash = r.text.clone();
                for b in blocks {
                    let addr = hex(&b["addr"]);
                    let word = k
                        .read_u64(addr + state_off, "memory_block.state")
                        .expect("memory_block.state");
                    let ours = b["state_name"].as_str().unwrap_or("UNKNOWN");
                    assert_ne!(ours, "UNKNOWN", "{what}: block {addr:x}");
                    let head = format!(" {addr:<16x} ");
                    as_crash = as_crash
                        .lines()
                        .map(|l| {
                            let l = if l.starts_with(&head) {
                                l.replacen(
                                    &format!(" {ours:<7} "),
                                    &format!(" {:<7} ", crash_block_state(word)),
                                    1,
                                )
                            } else {
                                l.to_string()
                            };
                            format!("{l}\n")
                        })
                        .collect();
                }
                assert_eq!(as_crash, theirs, "{what} (states read crash's way)");
                crash_wrong += 1;
            }
            // Sections: number, mem_section, coded mem_map, mem_map, pfn.
            let sections = r.json["sections"].as_array().expect("sections");
            let rows: Vec<Vec<&str>> = theirs
                .lines()
                .skip_while(|l| !l.starts_with("NR "))
                .skip(1)
                .take_while(|l| !l.trim().is_empty())
                .map(|l| l.split_whitespace().collect())
                .collect();
            assert_eq!(rows.len(), sections.len(), "{what}");
            for (row, j) in rows.iter().zip(sections) {
                assert_eq!(row[0].parse().ok(), j["nr"].as_u64(), "{what}");
                assert_eq!(u64::from_str_radix(row[1], 16).ok(), j["addr"].as_u64());
                assert_eq!(
                    u64::from_str_radix(row[2], 16).ok(),
                    j["coded_mem_map"].as_u64()
                );
                assert_eq!(u64::from_str_radix(row[3], 16).ok(), j["mem_map"].as_u64());
                assert_eq!(row[4], j["state"].as_str().expect("state"), "{what}");
                assert_eq!(row[5].parse().ok(), j["pfn"].as_u64(), "{what}");
            }
            // Nodes: id, size, pglist_data; zones: size, mem_map, start.
            let nodes = r.json["nodes"].as_array().expect("nodes");
            let node_rows = hex_fields(theirs, "0 ");
            assert!(!nodes.is_empty(), "{what}");
            assert_eq!(node_rows[0][2], hex(&nodes[0]["pgdat"]), "{what}");
            let zone_rows: Vec<Vec<&str>> = theirs
                .lines()
                .skip_while(|l| !l.starts_with("ZONE "))
                .skip(1)
                .take_while(|l| !l.trim().is_empty())
                .map(|l| l.split_whitespace().collect())
                .collect();
            let zones = nodes[0]["zones"].as_array().expect("zones");
            assert_eq!(zone_rows.len(), zones.len(), "{what}");
            for (row, z) in zone_rows.iter().zip(zones) {
                assert_eq!(row[1], z["name"].as_str().expect("name"));
                assert_eq!(row[2].parse().ok(), z["spanned_pages"].as_u64(), "{what}");
                assert_eq!(u64::from_str_radix(row[3], 16).ok(), z["mem_map"].as_u64());
            }
            // Memory blocks: address, name, start section.
            let block_rows: Vec<Vec<&str>> = theirs
                .lines()
                .skip_while(|l| !l.contains("MEM_BLOCK"))
                .skip(1)
                .map(|l| l.split_whitespace().collect())
                .collect();
            assert_eq!(block_rows.len(), blocks.len(), "{what}");
            for (row, b) in block_rows.iter().zip(blocks) {
                assert_eq!(u64::from_str_radix(row[0], 16).ok(), b["addr"].as_u64());
                assert_eq!(row[1], b["name"].as_str().expect("name"));
                assert_eq!(
                    row.last().and_then(|v| v.parse().ok()),
                    b["start_section_nr"].as_u64()
                );
            }
        },
    );
    eprintln!(
        "kmem -n compared with crash 8.0.6 on {compared} captures ({crash_wrong} where crash \
         misreads the memory block state)"
    );
}

/// `kmem -p`: every page descriptor of every capture, and `kmem -p` of physical addresses
/// (one beyond RAM: nothing), text for text with crash; then the same page named by its
/// `struct page` and by its direct-map address gives the same row.
#[test]
fn page_descriptors_equal_crash_806() {
    let Some(lab) = lab_dir() else {
        eprintln!("note: no lab cache; skipped");
        return;
    };
    let some = SOME_PAGES;
    let mut rows = String::new();
    let compared = with_shared_crash806(
        &lab,
        ALL,
        &["kmem -p", some],
        |_| true,
        |cap, c, r, theirs| {
            assert_eq!(r.text, theirs, "{}: {c}", cap.display());
            if c == "kmem -p" {
                let n = r.json["pages"].as_array().map(Vec::len).unwrap_or(0);
                assert_eq!(n + 1, r.text.lines().count(), "{}", cap.display());
                assert!(n > 1000, "{}: {n} pages", cap.display());
            } else {
                rows = r.text.clone();
            }
        },
    );
    eprintln!("kmem -p compared with crash 8.0.6 on {compared} captures");
    // The last capture's rows: each page again by its struct page and by its direct-map
    // address (page_offset_base from `mach`).
    let Some(cap) = kdive_lab::capture_dirs(&lab)
        .into_iter()
        .rfind(|c| c.join("vmcore.elf").is_file() && kdive_lab::manifest(c, "vmlinux").is_some())
    else {
        return;
    };
    if rows.is_empty() {
        return;
    }
    let mut s = session(&[cap.join("vmcore.elf")]);
    let base = run(&mut s, "mach")
        .text
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("KERNEL VIRTUAL BASE: "))
        .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
        .expect("KERNEL VIRTUAL BASE");
    for row in rows.lines().skip(1) {
        let w: Vec<&str> = row.split_whitespace().collect();
        let phys = u64::from_str_radix(w[1], 16).unwrap();
        for by in [w[0].to_string(), format!("{:x}", base + phys)] {
            let again = run(&mut s, &format!("kmem -p {by}")).text;
            assert_eq!(
                again.lines().nth(1),
                Some(row),
                "{}: kmem -p {by}",
                cap.display()
            );
        }
    }
}
