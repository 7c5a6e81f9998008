//! The lab's `stack-end` captures (6.1 and 6.12): the test module overwrote a shell's stack-end
//! canary and the scheduler's CONFIG_SCHED_STACK_END_CHECK panicked ("corrupted stack end
//! detected inside scheduler"). `bt -v` must name exactly that shell, at the address the module
//! logged, with the value the module wrote (lab/modules/kdive_race: KDIVE_RACE_SMASH), on both
//! dump formats; its text must equal crash 8.0.6's, and so must the panic task's `bt` (frames
//! named after another alias of one function allowed) — except that on 6.12 crash drops the
//! frames whose return address lies past the end of their function (a call to the noreturn
//! `panic`/`vpanic` as the function's last instruction): the test proves each extra frame of
//! kdive's is such a frame and that crash's frames are kdive's others, in order. Skipped, with a
//! note, without captures.

mod common;
use common::*;

use kdive_lab::{capture_dirs, lab_dir, manifest};

/// What the module writes over STACK_END_MAGIC.
const SMASH: &str = "6b6469766b646976";

#[test]
fn stack_end_overflow_is_found() {
    let Some(lab) = lab_dir() else { return };
    let caps: Vec<_> = capture_dirs(&lab)
        .into_iter()
        .filter(|c| c.ends_with("stack-end") && manifest(c, "vmlinux").is_some())
        .collect();
    if caps.is_empty() {
        eprintln!(
            "note: no stack-end capture in {} (lab/lab.sh build --scenario stack-end); skipped",
            lab.display()
        );
        return;
    }
    for cap in &caps {
        let pid: i64 = manifest(cap, "stack_end_smash_pid")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{}: MANIFEST has no stack_end_smash_pid", cap.display()));
        let vmlinux = manifest(cap, "vmlinux").unwrap();
        let mut last_text = None;
        for dump in ["vmcore.elf", "kdump-zlib-d31"] {
            let mut s = session(&[vmlinux.clone().into(), cap.join(dump)]);
            let log = run(&mut s, "log").text;
            assert!(
                log.contains("corrupted stack end detected inside scheduler"),
                "{}: {dump}: no stack-end panic in the log",
                cap.display()
            );
            // "kdive_race: smashing the stack end of pid 97 at ffffd17cc0410000"
            let logged = log
                .lines()
                .find_map(|l| l.split("smashing the stack end of pid ").nth(1))
                .unwrap_or_else(|| {
                    panic!("{}: the module's line is not in the log", cap.display())
                });
            let (logged_pid, logged_at) = logged.split_once(" at ").unwrap();
            assert_eq!(logged_pid.parse::<i64>().unwrap(), pid);

            let r = run(&mut s, "bt -v");
            let found = r.json["overflows"].as_array().expect("overflows");
            assert_eq!(found.len(), 1, "{}: {dump}: {}", cap.display(), r.text);
            assert_eq!(found[0]["pid"].as_i64(), Some(pid), "{}", r.json);
            assert_eq!(found[0]["value"], SMASH);
            assert_eq!(found[0]["location"], logged_at.trim(), "{}", r.json);
            // The word really is there.
            let word = run(&mut s, &format!("rd -64 {} 1", logged_at.trim())).text;
            assert!(word.contains(SMASH), "{}: {word}", cap.display());
            // ... and the task that hit the check is the one that panicked.
            let sys = run(&mut s, "sys").text;
            assert!(
                sys.lines()
                    .any(|l| l.trim_start().strip_prefix("PID: ") == Some(&pid.to_string())),
                "{}: {sys}",
                cap.display()
            );
            if let Some(prev) = &last_text {
                assert_eq!(prev, &r.text, "{}: formats disagree", cap.display());
            }
            last_text = Some(r.text.clone());
        }
        let cmds = ["bt -v", "bt", "bt -s"];
        let Some(theirs) = crash806(cap, &cmds) else {
            eprintln!(
                "note: crash 8.0.6 not available; {} not compared",
                cap.display()
            );
            continue;
        };
        let mut s = session(&[vmlinux.into(), cap.join("vmcore.elf")]);
        for c in cmds {
            let r = run(&mut s, c);
            if c == "bt -v" {
                assert_eq!(r.text, theirs[c], "{}: {c}", cap.display());
            } else if r.text.lines().count() == theirs[c].lines().count() {
                assert_same_frames(cap, &mut s, c, &r.text, &theirs[c]);
            } else {
                let extra = frames_past_function_ends(&mut s, &r.text, &theirs[c]);
                eprintln!("{}: {c}: crash 8.0.6 drops {extra:?}", cap.display());
            }
        }
    }
}

/// `[SP] name at PC` of each numbered frame.
fn frames(text: &str) -> Vec<(String, String, String)> {
    text.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() >= 5 && w[0].starts_with('#') && w[3] == "at")
                .then(|| (w[1].to_string(), w[2].to_string(), w[4].to_string()))
        })
        .collect()
}

/// crash's frames are kdive's without some, in order; each of those is a frame whose return
/// address is past its function's end (`sym PC` names the next symbol). Their names.
fn frames_past_function_ends(
    s: &mut kdive_commands::Session,
    ours: &str,
    theirs: &str,
) -> Vec<String> {
    let (ours, theirs) = (frames(ours), frames(theirs));
    let mut extra = Vec::new();
    let mut j = 0;
    for f in &ours {
        if theirs.get(j) == Some(f) {
            j += 1;
            continue;
        }
        let at = run(s, &format!("sym {}", f.2)).text;
        let function = f.1.split('+').next().unwrap();
        assert!(
            !at.contains(&format!(" {function}+"))
                && !at.trim_end().ends_with(&format!(" {function}")),
            "kdive's extra frame {f:?} is inside its function: {at}"
        );
        extra.push(f.1.clone());
    }
    assert_eq!(
        j,
        theirs.len(),
        "crash has frames kdive lacks: {theirs:?} / {ours:?}"
    );
    assert!(!extra.is_empty());
    extra
}
