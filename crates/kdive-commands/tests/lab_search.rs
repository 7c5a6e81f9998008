//! `search` on the lab's module-race captures, compared with crash 8.0.6 run live on the same
//! dump: pointers to init's task_struct (kernel virtual, and their low halves in physical memory), return addresses on
//! every task's stack, strings, `-x` context around the kernel image, init's user memory.
//! Skipped, with a note, when the lab cache or crash 8.0.6 is absent.

mod common;
use common::*;

use kdive_lab::{capture_dirs as captures, lab_dir};

#[test]
fn search_equals_crash_806() {
    let Some(lab) = lab_dir() else { return };
    let mut compared = 0;
    for cap in captures(&lab) {
        if !cap.ends_with("module-race") {
            continue;
        }
        let mut s = session(&[cap.join("vmcore.elf")]);
        let ps = run(&mut s, "ps");
        let init = ps.json["tasks"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["pid"].as_i64() == Some(1)))
            .and_then(|t| t["task"].as_str())
            .expect("init in ps")
            .to_string();
        let init_va = u64::from_str_radix(&init, 16).expect("task address");
        let cmds = [
            format!("search {init}"),
            format!("search -K {init}"),
            format!("search -p -w {:x}", init_va & 0xffff_ffff),
            "search -t -m ffff __schedule".to_string(),
            "search -T -m fff __schedule".to_string(),
            "search -c \"Linux version\" \"BUG: kernel\"".to_string(),
            "search -s _etext -l 0x2000 -x 2 0".to_string(),
            "set 1".to_string(),
            "search -u -m ffffffffff 0".to_string(),
        ];
        let refs: Vec<&str> = cmds.iter().map(String::as_str).collect();
        let Some(theirs) = crash806(&cap, &refs) else {
            eprintln!("note: crash 8.0.6 not available; search not compared");
            return;
        };
        for c in &cmds {
            let ours = run(&mut s, c).text;
            if c == "set 1" {
                continue;
            }
            // crash's `echo` drops the quotes from the command it echoes.
            let t = theirs
                .get(&c.replace('"', ""))
                .map(String::as_str)
                .unwrap_or("");
            // Active tasks (the panic's and idle ones) may hold no such address.
            if !c.starts_with("search -T") {
                assert!(!ours.is_empty(), "{}: {c}: no hits", cap.display());
            }
            assert_eq!(ours, t, "{}: {c} differs from crash 8.0.6", cap.display());
        }
        compared += 1;
    }
    if compared == 0 {
        eprintln!("note: no module-race capture in the lab; search not compared");
    }
}
