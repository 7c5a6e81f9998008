//! `sys` on every format of every lab capture, compared field by field with crash (8.0.2 on
//! the full ELF vmcore, 8.0.6 on each other format) and with drgn's task list and panic task.

mod common;
use common::*;

/// Fields that must be identical to crash's.
const SAME_AS_CRASH: &[&str] = &[
    "KERNEL",
    "CPUS",
    "DATE",
    "UPTIME",
    "LOAD AVERAGE",
    "NODENAME",
    "RELEASE",
    "VERSION",
    "MACHINE",
    "MEMORY",
    "PANIC",
];

#[test]
fn sys_matches_peers_on_every_lab_dump() {
    let Some(lab) = lab_dir() else { return };
    let caps = captures(&lab);
    if caps.is_empty() {
        eprintln!("SKIP: no finished lab captures in {}", lab.display());
        return;
    }
    let mut checked = 0;
    let mut failures = Vec::new();
    for cap in &caps {
        let is_61 = cap.release().starts_with("6.1.");
        for (label, files) in cap.dumps() {
            let mut args = vec![cap.vmlinux()];
            args.extend(files.iter().cloned());
            let (code, out, err) = kdive(&args, &["sys"]);
            let what = format!("{}/{}/{label}", cap.release(), cap.scenario());
            if code != 0 {
                failures.push(format!("{what}: exit {code}: {err}"));
                continue;
            }
            let ours = header_fields(&out);
            // crash 8.0.2 (the reference) on 6.1, every format; 8.0.6 on 6.12, where 8.0.2
            // prints nothing.
            let crash_out = if is_61 {
                crash802_sys(cap, &label, &files)
            } else {
                cap.peer(&format!("crash806-sys.{label}.txt")).or_else(|| {
                    (label == "vmcore.elf")
                        .then(|| cap.peer("crash806-sys.txt"))
                        .flatten()
                })
            };
            let Some(crash_out) = crash_out.filter(|t| t.contains("RELEASE:")) else {
                eprintln!("note: {what}: no crash output to compare with");
                continue;
            };
            let theirs = header_fields(&crash_out);
            for f in SAME_AS_CRASH {
                let (a, b) = (ours.get(*f), theirs.get(*f));
                // crash 8.0.6 assumes HZ=1000 on 6.12 (the kernel has 250): its UPTIME is wrong there.
                if *f == "UPTIME" && !is_61 {
                    continue;
                }
                // crash 8.0.6 prefers "Kernel panic" lines to Oops lines; kdive keeps crash
                // 8.0.2's order (the Oops line says more), so only 8.0.2 is compared exactly.
                let reordered = *f == "PANIC"
                    && !is_61
                    && b.is_some_and(|b| b.contains("Kernel panic - not syncing: Fatal exception"))
                    && a.is_some_and(|a| a.contains("Oops: "));
                if a != b && !reordered {
                    failures.push(format!("{what}: {f}: kdive {a:?} vs crash {b:?}"));
                }
            }
            // DUMPFILE: the same file; crash marks [PARTIAL DUMP] only for kdump files, kdive also
            // for filtered ELF files (pages are missing there too).
            let dumpfile = |m: &std::collections::BTreeMap<String, String>| {
                m.get("DUMPFILE")
                    .or_else(|| m.get("DUMPFILES"))
                    .cloned()
                    .unwrap_or_default()
            };
            // UPTIME must agree with the kernel's own clock: the last log record's timestamp.
            if let Some(last) = last_log_seconds(cap) {
                let up = ours
                    .get("UPTIME")
                    .map(|u| uptime_secs(u))
                    .unwrap_or(u64::MAX);
                let same_boot = !label.starts_with("qemu");
                if same_boot && !(last.saturating_sub(1)..=last + 2).contains(&up) {
                    failures.push(format!(
                        "{what}: UPTIME {:?} but the log ends at {last} s",
                        ours.get("UPTIME")
                    ));
                }
            }
            let (ours_df, theirs_df) = (dumpfile(&ours), dumpfile(&theirs));
            // QEMU writes dump level 1: zero pages share one zero page, nothing is missing, and
            // kdive says so; crash marks every level above 0 partial.
            let level_one = label.starts_with("qemu-");
            if theirs_df.contains("[PARTIAL DUMP]")
                && !ours_df.contains("[PARTIAL DUMP]")
                && !level_one
            {
                failures.push(format!("{what}: DUMPFILE lacks [PARTIAL DUMP]: {ours_df}"));
            }
            // TASKS: the truth is drgn's for_each_task plus each CPU's idle task.
            if let Some(json) = cap.peer(&format!("drgn-{label}.json")).or_else(|| {
                cap.peer(&format!(
                    "drgn-{}.json",
                    files[0].file_name().unwrap().to_string_lossy()
                ))
            }) {
                let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
                if let Some(n) = v["task_count"].as_u64() {
                    let pid0 = v["tasks"]
                        .as_array()
                        .map(|t| t.iter().filter(|x| x["pid"] == 0).count())
                        .unwrap_or(0) as u64;
                    let cpus: u64 = ours
                        .get("CPUS")
                        .and_then(|c| c.split_whitespace().next()?.parse().ok())
                        .unwrap_or(1);
                    let expect = n - pid0 + cpus;
                    if ours.get("TASKS") != Some(&expect.to_string()) {
                        failures.push(format!(
                            "{what}: TASKS {:?}, drgn says {n} tasks (+ idle) = {expect}",
                            ours.get("TASKS")
                        ));
                    }
                }
                let pt = &v["panic_task"];
                if let Some(pid) = pt["pid"].as_u64() {
                    if ours.get("PID") != Some(&pid.to_string()) {
                        failures.push(format!("{what}: PID {:?} vs drgn {pid}", ours.get("PID")));
                    }
                    let task = pt["task"]
                        .as_str()
                        .unwrap_or("")
                        .trim_start_matches("0x")
                        .to_string();
                    if !ours.get("TASK").is_some_and(|t| t.starts_with(&task)) {
                        failures.push(format!(
                            "{what}: TASK {:?} vs drgn {task}",
                            ours.get("TASK")
                        ));
                    }
                    if ours.get("COMMAND")
                        != Some(&format!("\"{}\"", pt["comm"].as_str().unwrap_or("")))
                    {
                        failures.push(format!(
                            "{what}: COMMAND {:?} vs drgn {}",
                            ours.get("COMMAND"),
                            pt["comm"]
                        ));
                    }
                }
            }
            checked += 1;
        }
    }
    eprintln!("sys compared on {checked} dumps");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 0, "no dump was compared");
}

/// crash 8.0.2's `sys` on one dump of a 6.1 capture: the lab's output for vmcore.elf, else run
/// crash once and keep its output beside the lab's peer outputs.
fn crash802_sys(cap: &Capture, label: &str, files: &[std::path::PathBuf]) -> Option<String> {
    if label == "vmcore.elf" {
        if let Some(t) = cap.peer("crash-sys.txt") {
            return Some(t);
        }
    }
    let cached = cap.dir.join("peers").join(format!("crash-sys.{label}.txt"));
    // Kept output is used only while it is newer than the dump (a recaptured file, such as
    // `lab.sh kdive-save`'s, is another boot).
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let fresh = match (
        modified(&cached),
        files.iter().filter_map(|f| modified(f)).max(),
    ) {
        (Some(c), Some(d)) => c >= d,
        _ => false,
    };
    if fresh {
        if let Ok(t) = std::fs::read_to_string(&cached) {
            return Some(t);
        }
    }
    let crash = which("crash")?;
    let mut cmd = std::process::Command::new("timeout");
    cmd.arg("300")
        .arg(crash)
        .arg("-s")
        .arg(cap.vmlinux())
        .args(files);
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().ok()?;
    {
        use std::io::Write;
        child.stdin.take()?.write_all(b"sys\n").ok()?;
    }
    let out = child.wait_with_output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if text.contains("RELEASE:") {
        let _ = std::fs::write(&cached, &text);
    }
    Some(text)
}

/// Seconds of the last `[ sss.uuuuuu]` timestamp in the capture's makedumpfile dmesg.
fn last_log_seconds(cap: &Capture) -> Option<u64> {
    let text = std::fs::read_to_string(cap.dir.join("dmesg.txt")).ok()?;
    let line = text.lines().rev().find(|l| l.starts_with('['))?;
    line[1..].split('.').next()?.trim().parse().ok()
}

/// Seconds in crash's `[N days, ]HH:MM:SS`.
fn uptime_secs(s: &str) -> u64 {
    let (days, hms) = match s.split_once(" days, ") {
        Some((d, h)) => (d.parse().unwrap_or(0), h),
        None => (0u64, s),
    };
    let p: Vec<u64> = hms.split(':').map(|x| x.parse().unwrap_or(0)).collect();
    days * 86400
        + p.first().unwrap_or(&0) * 3600
        + p.get(1).unwrap_or(&0) * 60
        + p.get(2).unwrap_or(&0)
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| std::path::Path::new(d).join(name))
        .find(|p| p.is_file())
}

#[test]
fn sys_without_vmlinux_agrees_with_vmlinux() {
    let Some(lab) = lab_dir() else { return };
    for cap in captures(&lab) {
        let dump = cap.dir.join("kdump-zlib-d31");
        if !dump.exists() {
            continue;
        }
        let (c1, with, e1) = kdive(&[cap.vmlinux(), dump.clone()], &["sys"]);
        let (c2, without, e2) = kdive(&[dump], &["sys"]);
        assert_eq!((c1, c2), (0, 0), "{e1}{e2}");
        let (a, b) = (header_fields(&with), header_fields(&without));
        for (k, v) in &a {
            if k != "KERNEL" {
                assert_eq!(
                    Some(v),
                    b.get(k),
                    "{}/{}: {k} differs without vmlinux",
                    cap.release(),
                    cap.scenario()
                );
            }
        }
    }
}
