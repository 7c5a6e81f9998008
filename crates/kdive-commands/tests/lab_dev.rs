//! `dev` and `dev -d` on the lab's captures, compared with crash 8.0.6 run live on the same
//! dump: the character and block device tables and the disk I/O table, text for text.
//! Skipped, with a note, when the lab cache or crash 8.0.6 is absent.

use kdive_commands::{Outcome, Session};
use kdive_kernel::{Kernel, OpenOptions};
use kdive_lab::{capture_dirs as captures, lab_dir, manifest};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn session(files: &[PathBuf]) -> Session {
    let k = Kernel::open(&OpenOptions {
        files: files.to_vec(),
    })
    .unwrap_or_else(|e| panic!("open {files:?}: {e}"));
    Session::new(k)
}

fn run(s: &mut Session, line: &str) -> kdive_commands::Report {
    match s.run(line) {
        Ok(Outcome::Report(r)) => r,
        Ok(Outcome::Quit) => panic!("{line}: quit"),
        Err(e) => panic!("{line}: {e}"),
    }
}

/// crash 8.0.6's output of each of `cmds` on the capture's vmcore.elf, by command.
fn crash806(cap: &Path, cmds: &[&str]) -> Option<BTreeMap<String, String>> {
    let bin = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cache/kdive/peers/crash806"))
        .filter(|p| p.is_file())?;
    let vmlinux = manifest(cap, "vmlinux")?;
    let mut child = std::process::Command::new(bin)
        .args(["-s", &vmlinux])
        .arg(cap.join("vmcore.elf"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    use std::io::Write;
    let script: String = cmds
        .iter()
        .map(|c| format!("echo ===kdive=== {c}\n{c}\n"))
        .collect();
    child.stdin.take()?.write_all(script.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut map = BTreeMap::new();
    let mut cur: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some(c) = line.strip_prefix("===kdive=== ") {
            if let Some((k, v)) = cur.take() {
                map.insert(k, v);
            }
            cur = Some((c.to_string(), String::new()));
        } else if let Some((_, v)) = cur.as_mut() {
            v.push_str(line);
            v.push('\n');
        }
    }
    if let Some((k, v)) = cur {
        map.insert(k, v);
    }
    Some(map)
}

#[test]
fn dev_equals_crash_806() {
    let Some(lab) = lab_dir() else { return };
    let cmds = ["dev", "dev -d"];
    let mut compared = 0;
    for cap in captures(&lab) {
        if !cap.join("vmcore.elf").is_file() {
            continue;
        }
        let Some(theirs) = crash806(&cap, &cmds) else {
            eprintln!("note: crash 8.0.6 not available; dev not compared");
            return;
        };
        if cmds.iter().any(|c| !theirs.contains_key(*c)) {
            eprintln!(
                "note: {}: crash 8.0.6 cannot open it; skipped",
                cap.display()
            );
            continue;
        }
        let mut s = session(&[cap.join("vmcore.elf")]);
        for c in cmds {
            let r = run(&mut s, c);
            assert_eq!(
                r.text,
                theirs[c],
                "{}: {c} differs from crash 8.0.6",
                cap.display()
            );
            assert_eq!(
                r.json["problems"].as_array().map(Vec::len),
                Some(0),
                "{}: {c}: {}",
                cap.display(),
                r.json["problems"]
            );
        }
        compared += 1;
    }
    eprintln!("dev compared with crash 8.0.6 on {compared} captures");
}
