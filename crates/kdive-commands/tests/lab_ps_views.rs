//! `ps -a` (arguments and environment from user memory), `ps -r` (resource limits), `ps -y`
//! (scheduling-policy filter) and `ps -g` (thread groups) on the lab's module-race captures
//! (6.1 and 6.12) must print exactly what crash 8.0.6 prints; on the filtered kdump (no user
//! pages) `ps -a` must say which user address it could not read, never print garbage.
//! Skipped, with a note, when the lab or crash 8.0.6 is absent.

mod common;
use common::*;
use kdive_lab::{capture_dirs, lab_dir, manifest};

#[test]
fn ps_views_equal_crash_806() {
    let Some(lab) = lab_dir() else {
        eprintln!("note: no lab cache; skipped");
        return;
    };
    let cmds = [
        "ps -a 1",
        "ps -a 2",
        "ps -a",
        "ps -r 1",
        "ps -r 2",
        "ps -y FIFO,RR",
        "ps -y 0",
        "ps -k -y fifo",
        "ps -g",
        "ps -g sh",
        "ps -a -y 1",
    ];
    let mut compared = 0;
    for cap in capture_dirs(&lab) {
        if !cap.ends_with("module-race") || manifest(&cap, "vmlinux").is_none() {
            continue;
        }
        let Some(theirs) =
            crash806(&cap, &cmds).filter(|t| t.get("ps -a 1").is_some_and(|t| t.contains("PID:")))
        else {
            eprintln!("note: {}: crash 8.0.6 not available", cap.display());
            continue;
        };
        let mut s = session(&[cap.join("vmcore.elf")]);
        for c in cmds {
            assert_eq!(run(&mut s, c).text, theirs[c], "{}: {c}", cap.display());
        }
        let j = run(&mut s, "ps -a 1").json;
        assert!(
            j["tasks"][0]["args"]
                .as_array()
                .is_some_and(|a| !a.is_empty()),
            "{}: {j}",
            cap.display()
        );
        compared += 1;

        // The filtered kdump: every line is a header, ARG/ENV text or crash's note.
        let kdump = cap.join("kdump-zlib-d31");
        if kdump.is_file() {
            let mut d = session(&[kdump]);
            let text = run(&mut d, "ps -a").text;
            for line in text.lines() {
                assert!(
                    line.is_empty()
                        || line.starts_with("PID: ")
                        || line.starts_with("ARG: ")
                        || line.starts_with("ENV: ")
                        || line.starts_with("     ")
                        || line == "ps: no user stack"
                        || line.starts_with("ps: cannot access user stack address: "),
                    "{}: kdump ps -a: {line:?}",
                    cap.display()
                );
            }
        }
    }
    eprintln!("ps -a/-r/-y/-g compared with crash 8.0.6 on {compared} captures");
}

/// `ps -H`, `ps -l/-m -C CPUS`, `ps 'REGEX'`, and a bad pid among good ones (`ps`, `bt`, `files`, `vm`,
/// `sig`): the text crash 8.0.6 prints, the bad pid named in an error beside it. `ps -I` and
/// `ps -Y` (newer than 8.0.6) are checked against kdive's own `ps` and `ps -y`.
#[test]
fn ps_flags_and_bad_pids_equal_crash_806() {
    let Some(lab) = lab_dir() else {
        eprintln!("note: no lab cache; skipped");
        return;
    };
    let cmds = [
        "mach",
        "ps 1 999 2",
        "ps -H 1 2",
        "ps -t 1 rmmod",
        "ps 'kworker/[01]:1'",
        "ps 'rcu_.*' 1",
        "ps 'zzz'",
        "ps -k 'sle+p'",
        "ps -l -C 0",
        "ps -m -C all",
        "ps -l -C 1",
        "bt 999 1",
        "files 1 999",
        "vm 999 1",
        "sig 999 1",
    ];
    let mut hz_differs = false;
    let compared = with_crash806(
        &lab,
        &cmds,
        |c| c.ends_with("module-race"),
        |cap, c, r, theirs| {
            let hz = |t: &str| {
                t.lines()
                    .find_map(|l| l.trim().strip_prefix("HZ: ").map(str::to_string))
            };
            if c == "mach" {
                // `mach` is compared in lab_views; here only whether crash's HZ is the
                // kernel's (crash 8.0.6 says 1000 on 6.12, whose CONFIG_HZ is 250).
                hz_differs = hz(&r.text) != hz(theirs);
                return;
            }
            // With the wrong HZ crash's uptime, and so `ps -t`'s RUN TIME, is wrong.
            let wrong_run_time = |l: &str| hz_differs && l.starts_with("    RUN TIME: ");
            // crash prints the error on stderr, kdive reports it beside the text.
            let theirs: String = theirs
                .lines()
                .filter(|l| !l.contains("invalid task or pid value") && !wrong_run_time(l))
                .map(|l| format!("{l}\n"))
                .collect();
            let ours: String = r
                .text
                .trim_start_matches('\n')
                .lines()
                .filter(|l| !wrong_run_time(l))
                .map(|l| format!("{l}\n"))
                .collect();
            assert_eq!(
                trimmed(&ours).trim_end(),
                trimmed(&theirs).trim_matches('\n'),
                "{}: {c}",
                cap.display()
            );
            let cmd = c.split(' ').next().unwrap_or_default();
            let want: Vec<String> = if c.contains("999") {
                vec![format!("{cmd}: invalid task or pid value: 999")]
            } else {
                vec![]
            };
            assert_eq!(r.errors, want, "{}: {c}", cap.display());
        },
    );
    eprintln!("ps -H/-C and bad pids compared with crash 8.0.6 on {compared} captures");

    for cap in capture_dirs(&lab) {
        if !cap.ends_with("module-race") {
            continue;
        }
        let mut s = session(&[cap.join("vmcore.elf")]);
        // -t: init started within a second of boot, so its run time is `sys`'s uptime (what
        // crash gets wrong where it misreads HZ).
        let uptime = run(&mut s, "sys").json["uptime_secs"].as_u64();
        let init = run(&mut s, "ps -t 1").json;
        let init_run = init["tasks"][0]["run_time_secs"].as_u64();
        assert!(
            uptime
                .zip(init_run)
                .is_some_and(|(u, r)| r <= u && r + 1 >= u),
            "{}: uptime {uptime:?}, init ran {init_run:?}",
            cap.display()
        );
        // -I: the table without the idle tasks (pid 0), nothing else changed.
        let all = run(&mut s, "ps -H").text;
        let no_idle = run(&mut s, "ps -H -I").text;
        let expect: String = all
            .lines()
            .filter(|l| l.split_whitespace().find(|w| *w != ">") != Some("0"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(no_idle, expect, "{}", cap.display());
        assert!(all.lines().count() > no_idle.lines().count());
        // -Y: the FIFO rows are exactly the tasks `ps -y FIFO` selects, at RT priority 0..99;
        // NORMAL tasks sit at 100..139.
        let policy = run(&mut s, "ps -Y -H").json;
        let fifo = run(&mut s, "ps -y FIFO").json;
        let pids = |j: &serde_json::Value, f: &dyn Fn(&serde_json::Value) -> bool| -> Vec<i64> {
            j["tasks"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|t| f(t))
                .filter_map(|t| t["pid"].as_i64())
                .collect()
        };
        let fifo_y = pids(&policy, &|t| t["policy_name"] == "FIFO");
        assert!(
            !fifo_y.is_empty(),
            "{}: no FIFO task (migration/N)",
            cap.display()
        );
        assert_eq!(fifo_y, pids(&fifo, &|_| true), "{}", cap.display());
        for t in policy["tasks"].as_array().into_iter().flatten() {
            let prio = t["prio"].as_i64().unwrap_or(-1);
            match t["policy_name"].as_str() {
                Some("FIFO" | "RR") => assert!((0..100).contains(&prio), "{t}"),
                Some("NORMAL" | "BATCH" | "IDLE") => assert!((100..140).contains(&prio), "{t}"),
                _ => {}
            }
        }
    }
}
