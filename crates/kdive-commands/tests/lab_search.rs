//! `search` on the lab's module-race captures, compared with crash 8.0.6 run live on the same
//! dump: pointers to init's task_struct (kernel virtual, and their low halves in physical memory), return addresses on
//! every task's stack, strings, `-x` context around the kernel image, init's user memory.
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
