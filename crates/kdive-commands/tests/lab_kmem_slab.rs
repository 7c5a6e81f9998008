//! `kmem -S CACHE` on the lab's module-race captures (6.1 and 6.12), compared with crash 8.0.6
//! run live on the same dump: every CPU slab with its free and allocated objects, the per-CPU
//! partial lists, the node lists, text for text. Skipped, with a note, when the lab cache or
//! crash 8.0.6 is absent.

mod common;
use common::*;

use kdive_lab::{capture_dirs as captures, lab_dir};

const CMDS: [&str; 9] = [
    "kmem -S task_struct",
    "kmem -S=1 task_struct",
    "kmem -S=0,1 kmalloc-192",
    "kmem -S kmalloc-192",
    "kmem -S files_cache",
    "kmem -S mm_struct",
    "kmem -S kmalloc-64",
    "kmem -S dentry",
    "kmem -S",
];

/// crash 8.0.6 tests `SLAB_STORE_USER` as 0x10000, which since 6.9 (`enum _slab_flag_bits`)
/// is `_SLAB_RECLAIM_ACCOUNT`: on 6.12 it prints an "(empty)" full list for such caches
/// (dentry, inode_cache, ...) although the kernel tracks none. kdive follows the kernel and
/// prints "(not tracked)"; this makes crash's text say so for the caches where that applies
/// (flag 0x10000 set, no full list in kdive's JSON), cache by cache.
fn crash_fixed(theirs: &str, json: &serde_json::Value) -> String {
    let caches = json["caches"].as_array().expect("caches array");
    let starts: Vec<usize> = theirs
        .match_indices("CACHE             OBJSIZE")
        .map(|(i, _)| i)
        .filter(|&i| i == 0 || theirs.as_bytes()[i - 1] == b'\n')
        .collect();
    assert_eq!(starts.len(), caches.len(), "one crash block per cache");
    let mut out = String::new();
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(theirs.len());
        let block = &theirs[start..end];
        let c = &caches[n];
        let misread = c["flags"].as_u64().unwrap_or(0) & 0x10000 != 0
            && c["nodes"]
                .as_array()
                .is_some_and(|v| v.iter().all(|n| n["full"].is_null()));
        if misread {
            out.push_str(&block.replace("FULL:\n  (empty)\n", "FULL:\n  (not tracked)\n"));
        } else {
            out.push_str(block);
        }
    }
    out
}

#[test]
fn kmem_slab_equals_crash_806() {
    let Some(lab) = lab_dir() else { return };
    let module_race = |cap: &std::path::Path| cap.ends_with("module-race");
    let compared = with_crash806(&lab, &CMDS, module_race, |cap, c, r, theirs| {
        assert_eq!(
            r.text,
            crash_fixed(theirs, &r.json),
            "{}: {c} differs from crash 8.0.6",
            cap.display()
        );
        let caches = r.json["caches"].as_array().expect("caches array");
        assert!(
            caches
                .iter()
                .all(|x| x["cpus"].as_array().is_some_and(|v| !v.is_empty())),
            "{c}: per-CPU slabs in the JSON"
        );
    });
    eprintln!("kmem -S compared with crash 8.0.6 on {compared} captures");
}

/// The free objects `kmem -S` lists are those `kmem ADDRESS` calls free, and the other way
/// round, for every object of the CPU slabs of a cache.
#[test]
fn kmem_slab_agrees_with_kmem_address() {
    let Some(lab) = lab_dir() else { return };
    for cap in captures(&lab) {
        if !cap.ends_with("module-race") {
            continue;
        }
        let mut s = session(&[cap.join("vmcore.elf")]);
        let r = run(&mut s, "kmem -S kmalloc-192");
        let mut checked = 0;
        for cpu in r.json["caches"][0]["cpus"].as_array().expect("cpus") {
            let Some(objs) = cpu["slab"]["objs"].as_array() else {
                continue;
            };
            for o in objs.iter().take(8) {
                let addr = o["addr"].as_u64().expect("addr");
                let a = run(&mut s, &format!("kmem {addr:x}"));
                assert_eq!(
                    a.json[0]["slab"]["object_free"].as_bool(),
                    o["free"].as_bool(),
                    "{}: {addr:x}",
                    cap.display()
                );
                checked += 1;
            }
        }
        assert!(checked > 0, "{}: no CPU slab objects", cap.display());
    }
}

/// `kmem -S ADDRESS` — an address inside an object, a slab's own `struct slab`, a partial
/// slab's object, and an address outside any slab — equals crash 8.0.6.
#[test]
fn kmem_slab_address_equals_crash_806() {
    let Some(lab) = lab_dir() else { return };
    for cap in captures(&lab) {
        if !cap.ends_with("module-race") {
            continue;
        }
        let mut s = session(&[cap.join("vmcore.elf")]);
        let r = run(&mut s, "kmem -S task_struct");
        let cache = &r.json["caches"][0];
        let mut cmds = Vec::new();
        for cpu in cache["cpus"].as_array().expect("cpus") {
            if let Some(objs) = cpu["slab"]["objs"].as_array() {
                let last = objs.last().and_then(|o| o["addr"].as_u64()).expect("addr");
                cmds.push(format!("kmem -S {:x}", last + 0x10));
                cmds.push(format!(
                    "kmem -S {:x}",
                    cpu["slab"]["slab"].as_u64().expect("slab")
                ));
            }
            for p in cpu["partial"].as_array().into_iter().flatten() {
                let first = p["objs"][0]["addr"].as_u64().expect("addr");
                cmds.push(format!("kmem -S {first:x}"));
            }
        }
        let stext = s.kernel.symbol_addr("_stext").expect("_stext");
        cmds.push(format!("kmem -S {stext:x}"));
        let refs: Vec<&str> = cmds.iter().map(String::as_str).collect();
        let Some(theirs) = crash806(&cap, &refs) else {
            eprintln!("note: crash 8.0.6 not available; kmem -S ADDRESS not compared");
            return;
        };
        for c in &refs {
            let Some(t) = theirs.get(*c) else {
                eprintln!("note: {}: crash 8.0.6 gave nothing for {c}", cap.display());
                continue;
            };
            assert_eq!(&run(&mut s, c).text, t, "{}: {c}", cap.display());
        }
    }
}
