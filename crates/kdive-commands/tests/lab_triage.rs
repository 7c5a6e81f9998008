//! `triage` on every lab capture, each conclusion checked against a source that is not
//! kdive's triage: the console log the lab recorded outside the dump (dmesg.txt: the module's
//! own `priv=`/`qnapi=` line, the oops's fault address), crash 8.0.6's stored `bt -p` and
//! `foreach rmmod bt` (exception RIP, registers, the rmmod task), the test module's source file
//! (the line the writer is on), the lab guest's script (which task holds the mutex), and the
//! MANIFEST (the stack-end victim). Skipped, with a note, without captures.

mod common;
use common::*;

use kdive_lab::{capture_dirs, lab_dir, manifest};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn captures(scenario: &str) -> Vec<PathBuf> {
    let Some(lab) = lab_dir() else {
        return Vec::new();
    };
    let caps: Vec<_> = capture_dirs(&lab)
        .into_iter()
        .filter(|c| c.ends_with(scenario) && manifest(c, "vmlinux").is_some())
        .collect();
    if caps.is_empty() {
        eprintln!("note: no {scenario} capture in {}; skipped", lab.display());
    }
    caps
}

fn triage(cap: &Path, dump: &str) -> (String, Value) {
    let vmlinux = manifest(cap, "vmlinux").unwrap();
    let mut s = session(&[vmlinux.into(), cap.join(dump)]);
    let r = run(&mut s, "triage");
    (r.text, r.json)
}

fn hex(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// "kdive_race: loaded, mode=race priv=ffff8c3f81b1e980 qnapi=ffff8c3f81b1ea80 num_napi=4"
fn logged(cap: &Path, key: &str) -> u64 {
    let dmesg = std::fs::read_to_string(cap.join("dmesg.txt")).unwrap();
    let v = dmesg
        .lines()
        .find_map(|l| l.split("kdive_race: loaded, ").nth(1))
        .and_then(|l| l.split_whitespace().find_map(|w| w.strip_prefix(key)))
        .unwrap_or_else(|| panic!("{}: no {key} in the module's load line", cap.display()));
    u64::from_str_radix(v, 16).unwrap()
}

/// The text of line `n` of the test module's source.
fn module_line(n: u64) -> String {
    let src =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../lab/modules/kdive_race/kdive_race.c");
    std::fs::read_to_string(src)
        .unwrap()
        .lines()
        .nth(n as usize - 1)
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[test]
fn module_race_root_cause() {
    for cap in captures("module-race") {
        let c = cap.display();
        let crash_bt = std::fs::read_to_string(cap.join("peers/crash806-bt-p.txt")).ok();
        let crash_rmmod =
            std::fs::read_to_string(cap.join("peers/crash806-foreach-rmmod-bt.txt")).ok();
        for dump in ["vmcore.elf", "kdump-zlib-d31"] {
            let (text, j) = triage(&cap, dump);
            let ctx = format!("{c}: {dump}:\n{text}");
            // The fault, as the console recorded it.
            let dmesg = std::fs::read_to_string(cap.join("dmesg.txt")).unwrap();
            let addr = dmesg
                .lines()
                .find_map(|l| l.split("NULL pointer dereference, address: ").nth(1))
                .map(|a| u64::from_str_radix(a.trim(), 16).unwrap())
                .expect("oops line in dmesg.txt");
            assert_eq!(j["report"]["kind"]["kind"], "null_pointer", "{ctx}");
            assert_eq!(hex(&j["report"]["kind"]["address"]), addr, "{ctx}");
            assert_eq!(j["address_agrees"], true, "{ctx}");
            // The site and the register, as crash 8.0.6 shows them.
            if let Some(bt) = &crash_bt {
                let rip = bt
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("[exception RIP: "))
                    .map(|l| l.trim_end_matches(']'))
                    .unwrap();
                assert_eq!(j["site"]["location"], rip, "{ctx}");
                let rax = bt
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("RAX: "))
                    .and_then(|l| l.split_whitespace().next())
                    .unwrap();
                assert_eq!(j["pointer"]["register"], "rax", "{ctx}");
                assert_eq!(
                    hex(&j["pointer"]["value"]),
                    u64::from_str_radix(rax, 16).unwrap()
                );
            }
            assert_eq!(j["pointer"]["looks_like"], "NULL", "{ctx}");
            assert_eq!(j["site"]["access"]["expression"], "np->txq", "{ctx}");
            assert_eq!(
                j["site"]["access"]["pointee"], "struct kdive_race_napi",
                "{ctx}"
            );
            // The C source agrees with the lines named.
            let line = |v: &Value| hex(&v[1]);
            assert!(
                module_line(line(&j["site"]["source"])).contains("np->txq"),
                "{ctx}"
            );
            // Where np came from: priv->qnapi[0], at the addresses the module logged.
            let o = &j["origin"];
            assert_eq!(o["access"]["expression"], "priv->qnapi[i]", "{ctx}");
            assert!(
                module_line(line(&o["source"])).contains("np = priv->qnapi[i]"),
                "{ctx}"
            );
            assert_eq!(hex(&o["access"]["value"]), logged(&cap, "priv="), "{ctx}");
            assert_eq!(hex(&o["slot"]), logged(&cap, "qnapi="), "{ctx}");
            assert_eq!(hex(&o["slot_now"]), 0, "{ctx}");
            assert!(
                j["container"]
                    .as_str()
                    .unwrap()
                    .starts_with("priv->qnapi = {0x0, 0x0, 0x0, 0x0"),
                "{ctx}"
            );
            // Who stores NULL there: the line of the module that does.
            let nulls: Vec<&Value> = j["writes"]["stores"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|w| w["stores_null"] == true)
                .collect();
            assert!(!nulls.is_empty(), "{ctx}");
            for w in &nulls {
                assert!(
                    module_line(line(&w["source"])).contains("priv->qnapi[i] = NULL"),
                    "{ctx}"
                );
            }
            // The rmmod task crash shows, inside the remove path past that store.
            let inv: Vec<&Value> = j["involved"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|i| !i["in_writer"].is_null())
                .collect();
            assert_eq!(inv.len(), 1, "{ctx}");
            assert_eq!(inv[0]["comm"], "rmmod", "{ctx}");
            assert_eq!(inv[0]["in_writer"]["past"], true, "{ctx}");
            assert!(
                inv[0]["in_writer"]["at"]
                    .as_str()
                    .unwrap()
                    .starts_with("kdive_race_remove+"),
                "{ctx}"
            );
            if let Some(rm) = &crash_rmmod {
                let pid = rm
                    .split_whitespace()
                    .nth(1)
                    .and_then(|p| p.parse::<i64>().ok())
                    .unwrap();
                assert_eq!(inv[0]["pid"].as_i64(), Some(pid), "{ctx}");
            }
            assert!(text.contains("the two paths race"), "{ctx}");
        }
    }
}

#[test]
fn hung_tasks_lead_to_the_mutex_owner() {
    for cap in captures("hung") {
        let (text, j) = triage(&cap, "vmcore.elf");
        let ctx = format!("{}:\n{text}", cap.display());
        assert_eq!(j["report"]["kind"]["kind"], "hung_task", "{ctx}");
        let blocked = j["blocked"].as_array().unwrap();
        let by = |comm: &str| {
            blocked
                .iter()
                .find(|b| b["comm"] == comm)
                .unwrap_or_else(|| panic!("{comm} not blocked: {ctx}"))
        };
        // lab/guest/init: `echo hold | dd` takes cfg_mutex and waits for a completion,
        // `echo cfg | tee` then blocks on cfg_mutex.
        let (dd, tee) = (by("dd"), by("tee"));
        assert_eq!(dd["waits_on"], "completion", "{ctx}");
        assert!(dd["waits_in"]
            .as_str()
            .unwrap()
            .starts_with("kdive_race_wait_link+"));
        assert_eq!(tee["waits_on"], "mutex", "{ctx}");
        assert_eq!(tee["mutex"]["owner_pid"], dd["pid"], "{ctx}");
        assert_eq!(tee["mutex"]["member"], "priv->cfg_mutex", "{ctx}");
        assert!(
            text.contains("holds priv->cfg_mutex while it sleeps on a completion"),
            "{ctx}"
        );
        // The mutex is priv->cfg_mutex of the priv the module logged.
        let vmlinux = manifest(&cap, "vmlinux").unwrap();
        let mut s = session(&[vmlinux.into(), cap.join("vmcore.elf")]);
        let priv_addr = logged(&cap, "priv=");
        let p = run(
            &mut s,
            &format!("p &((struct kdive_race_priv *){priv_addr:#x})->cfg_mutex"),
        );
        let want = p
            .text
            .split_whitespace()
            .find_map(|w| w.strip_prefix("0x"))
            .map(|h| u64::from_str_radix(h, 16).unwrap())
            .unwrap();
        assert_eq!(hex(&tee["mutex"]["mutex"]), want, "{ctx}");
    }
}

#[test]
fn sysrq_and_stack_end_are_named() {
    for scn in ["sysrq", "busy"] {
        for cap in captures(scn) {
            let (text, j) = triage(&cap, "vmcore.elf");
            assert_eq!(
                j["report"]["kind"]["kind"],
                "sysrq",
                "{}:\n{text}",
                cap.display()
            );
            // crash 8.0.6's sys names the same panic task.
            if let Ok(sys) = std::fs::read_to_string(cap.join("peers/crash806-sys.txt")) {
                let pid = sys
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("PID: "))
                    .and_then(|p| p.trim().parse::<i64>().ok());
                if pid.is_some() {
                    assert_eq!(j["panic_task"]["pid"].as_i64(), pid, "{}", cap.display());
                }
            }
            assert!(
                text.contains("/proc/sysrq-trigger"),
                "{}:\n{text}",
                cap.display()
            );
        }
    }
    for cap in captures("stack-end") {
        let (text, j) = triage(&cap, "vmcore.elf");
        assert_eq!(j["report"]["kind"]["kind"], "stack_end", "{text}");
        let pid: i64 = manifest(&cap, "stack_end_smash_pid")
            .unwrap()
            .parse()
            .unwrap();
        let o = j["stack_overflows"].as_array().unwrap();
        assert_eq!(o.len(), 1, "{text}");
        assert_eq!(o[0]["pid"].as_i64(), Some(pid), "{text}");
    }
}

/// The `uaf` captures (slub_debug=FZPU): the remove path freed the napis without clearing
/// `qnapi[]`, and the worker wrote through the freed napi's poisoned `txq`. Checked against
/// the module's own log (the freed napi addresses, the fault address) and the kernel's poison.
#[test]
fn use_after_free_names_who_freed_it() {
    for cap in captures("uaf") {
        let (text, j) = triage(&cap, "vmcore.elf");
        let ctx = format!("{}:\n{text}", cap.display());
        let dmesg = std::fs::read_to_string(cap.join("dmesg.txt")).unwrap();
        // "kdive_race: uaf: freed napi 0 at ffff8ac0c2d58200"
        let napi0 = dmesg
            .lines()
            .find_map(|l| l.split("kdive_race: uaf: freed napi 0 at ").nth(1))
            .map(|a| u64::from_str_radix(a.trim(), 16).unwrap())
            .expect("the module's freed-napi line");
        let gpf = dmesg
            .lines()
            .find_map(|l| l.split("non-canonical address 0x").nth(1))
            .and_then(|a| a.split(':').next())
            .map(|a| u64::from_str_radix(a, 16).unwrap())
            .expect("the GPF line");
        assert_eq!(j["report"]["kind"]["kind"], "general_protection", "{ctx}");
        assert_eq!(hex(&j["report"]["kind"]["address"]), gpf, "{ctx}");
        assert_eq!(j["address_agrees"], true, "{ctx}");
        // POISON_FREE, loaded from the freed napi's txq.
        assert_eq!(hex(&j["pointer"]["value"]), 0x6b6b6b6b6b6b6b6b, "{ctx}");
        assert_eq!(j["origin"]["access"]["expression"], "np->txq", "{ctx}");
        assert_eq!(hex(&j["origin"]["access"]["value"]), napi0, "{ctx}");
        assert_eq!(hex(&j["origin"]["slot_now"]), 0x6b6b6b6b6b6b6b6b, "{ctx}");
        let o = &j["object"];
        assert_eq!(hex(&o["object"]), napi0, "{ctx}");
        assert_eq!(o["free"], true, "{ctx}");
        assert_eq!(o["tracked"], true, "{ctx}");
        // Freed by rmmod in the module's uaf free path; allocated in the module's init.
        let f = &o["freed_by"];
        assert!(
            f["caller"]
                .as_str()
                .unwrap()
                .starts_with("kdive_race_free_napis_uaf+"),
            "{ctx}"
        );
        assert!(
            f["stack"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s.as_str().unwrap().starts_with("kdive_race_remove_uaf+")),
            "{ctx}"
        );
        let vmlinux = manifest(&cap, "vmlinux").unwrap();
        let mut s = session(&[vmlinux.into(), cap.join("vmcore.elf")]);
        let ps = run(&mut s, "ps rmmod").text;
        let rmmod_pid = ps
            .lines()
            .nth(1)
            .and_then(|l| l.split_whitespace().find_map(|w| w.parse::<i64>().ok()))
            .unwrap_or_else(|| panic!("no rmmod in ps: {ps}"));
        assert_eq!(f["pid"].as_i64(), Some(rmmod_pid), "{ctx}");
        assert_eq!(
            o["freer_still_in"]["function"]
                .as_str()
                .map(|f| f.starts_with("kdive_race_remove_uaf")),
            Some(true),
            "{ctx}"
        );
        assert!(
            o["allocated_by"]["caller"]
                .as_str()
                .unwrap()
                .starts_with("kdive_race_init+"),
            "{ctx}"
        );
        // The object really holds the free poison (after its free pointer, if inside).
        let rd = run(&mut s, &format!("rd {:#x} 8", napi0 + 0x100)).text;
        assert!(rd.contains("6b6b6b6b6b6b6b6b"), "{rd}");
        assert!(text.contains("the two paths race"), "{ctx}");
    }
}

/// One bug, one signature: the same scenario gives the same signature on both kernels and
/// every boot (the kdump captures and the separate QEMU boot); different bugs differ.
#[test]
fn signatures_group_the_same_bug() {
    let mut by_scenario: std::collections::BTreeMap<&str, std::collections::BTreeSet<String>> =
        Default::default();
    for scn in ["module-race", "uaf", "hung", "stack-end"] {
        for cap in captures(scn) {
            let dumps: Vec<&str> = ["vmcore.elf", "qemu.elf"]
                .into_iter()
                .filter(|d| cap.join(d).is_file())
                .collect();
            for dump in dumps {
                let (_, j) = triage(&cap, dump);
                by_scenario
                    .entry(scn)
                    .or_default()
                    .insert(j["signature"].as_str().unwrap().to_string());
            }
        }
    }
    for (scn, sigs) in &by_scenario {
        assert_eq!(sigs.len(), 1, "{scn}: {sigs:?}");
    }
    let all: std::collections::BTreeSet<&String> = by_scenario.values().flatten().collect();
    assert_eq!(all.len(), by_scenario.len(), "{by_scenario:?}");
    if let Some(s) = by_scenario.get("module-race") {
        assert_eq!(
            s.iter().next().unwrap(),
            "null_pointer kdive_race_reinit_rings np->txq [kdive_race]"
        );
    }
}
