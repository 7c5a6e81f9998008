//! `waitq` on the lab's module-race captures (6.1 and 6.12) prints what crash 8.0.6 prints:
//! kernel threads asleep on their global wait queues (by symbol), an empty queue, and init
//! asleep in wait4 on its `signal_struct.wait_chldexit` (struct.member form and raw address).
//! Skipped, with a note, when the lab or crash 8.0.6 is absent.

mod common;
use common::*;
use kdive_lab::{capture_dirs, lab_dir, manifest};

#[test]
fn waitq_equals_crash_806() {
    let Some(lab) = lab_dir() else {
        eprintln!("note: no lab cache; skipped");
        return;
    };
    let mut compared = 0;
    for cap in capture_dirs(&lab) {
        if !cap.ends_with("module-race") || manifest(&cap, "vmlinux").is_none() {
            continue;
        }
        let mut s = session(&[cap.join("vmcore.elf")]);
        let init = run(&mut s, "ps 1").json["tasks"][0]["task"]
            .as_str()
            .map(str::to_string)
            .expect("init's task address");
        let signal = run(
            &mut s,
            &format!("p/x ((struct task_struct *)0x{init})->signal"),
        )
        .text
        .split_whitespace()
        .last()
        .and_then(|v| u64::from_str_radix(v.trim_start_matches("0x"), 16).ok())
        .expect("init's signal_struct");
        let off = s
            .kernel
            .layout
            .offset("signal_struct", "wait_chldexit")
            .expect("signal_struct.wait_chldexit");
        let member = format!("waitq signal_struct.wait_chldexit {signal:x}");
        let raw = format!("waitq {:x}", signal + off);
        let cmds = [
            "waitq kauditd_wait",
            "waitq oom_reaper_wait",
            "waitq khugepaged_wait",
            "waitq ksm_thread_wait",
            "waitq log_wait",
            member.as_str(),
            raw.as_str(),
        ];
        let Some(theirs) = crash806(&cap, &cmds).filter(|t| t.len() == cmds.len()) else {
            eprintln!("note: {}: crash 8.0.6 not available", cap.display());
            continue;
        };
        for c in cmds {
            let ours = run(&mut s, c);
            assert_eq!(ours.text, theirs[c], "{}: {c}", cap.display());
        }
        // The waiter is init, by pid, in the JSON too.
        let j = run(&mut s, &member).json;
        assert_eq!(j["waiters"][0]["pid"], 1, "{}: {j}", cap.display());
        compared += 1;
    }
    eprintln!("waitq compared with crash 8.0.6 on {compared} captures");
}
