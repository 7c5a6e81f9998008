//! Helpers the lab tests share: a session on a capture, a command that must succeed, and
//! crash 8.0.6 run live on the same dump for comparison.
#![allow(dead_code)] // each test binary uses a different subset

use kdive_commands::{Outcome, Session};
use kdive_kernel::{Kernel, OpenOptions};
use kdive_lab::manifest;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub fn session(files: &[PathBuf]) -> Session {
    let k = Kernel::open(&OpenOptions {
        files: files.to_vec(),
    })
    .unwrap_or_else(|e| panic!("open {files:?}: {e}"));
    Session::new(k)
}

pub fn run(s: &mut Session, line: &str) -> kdive_commands::Report {
    match s.run(line) {
        Ok(Outcome::Report(r)) => r,
        Ok(Outcome::Quit) => panic!("{line}: quit"),
        Err(e) => panic!("{line}: {e}"),
    }
}

/// crash 8.0.6 (the lab's trixie build), run here on several commands in one session; each
/// command's output by command. None when it is not installed.
pub fn crash806(cap: &Path, cmds: &[&str]) -> Option<BTreeMap<String, String>> {
    let bin = kdive_lab::crash806_bin()?;
    let vmlinux = manifest(cap, "vmlinux")?;
    let script: String = cmds
        .iter()
        .map(|c| format!("echo ===kdive=== {c}\n{c}\n"))
        .collect();
    let text = kdive_lab::crash_script(&bin, vmlinux.as_ref(), &cap.join("vmcore.elf"), &script)?;
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

/// Text with each line's trailing blanks removed: crash 8.0.6 pads `vtop`'s `PAGE:` lines.
pub fn trimmed(text: &str) -> String {
    text.lines()
        .map(|l| format!("{}\n", l.trim_end()))
        .collect()
}

/// Runs `cmds` through crash 8.0.6 on each capture (with a vmcore.elf and a vmlinux) that
/// `keep` accepts, and hands each command's kdive report and crash's text to `check`.
/// Returns how many captures were compared; notes (and compares nothing) when crash 8.0.6 is
/// absent, and skips a capture it cannot open.
pub fn with_crash806(
    lab: &Path,
    cmds: &[&str],
    keep: impl Fn(&Path) -> bool,
    check: impl FnMut(&Path, &str, &kdive_commands::Report, &str),
) -> usize {
    compare_with_crash806(lab, cmds, keep, check, |cap| {
        crash806(cap, cmds).map(std::sync::Arc::new)
    })
}

/// crash 8.0.6's outputs for every command of `all` on one capture: crash runs once per
/// capture in a test binary, whichever test asks first; the others wait for it and share it.
pub fn crash806_shared(
    cap: &Path,
    all: &[&str],
) -> Option<std::sync::Arc<BTreeMap<String, String>>> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    type Cell = Arc<OnceLock<Option<Arc<BTreeMap<String, String>>>>>;
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Cell>>> = OnceLock::new();
    let cell = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(cap.to_path_buf())
        .or_default()
        .clone();
    cell.get_or_init(|| crash806(cap, all).map(Arc::new))
        .clone()
}

/// [`with_crash806`] for tests of one binary that share a crash run per capture: `all` lists
/// every command those tests compare, `cmds` this test's.
pub fn with_shared_crash806(
    lab: &Path,
    all: &[&str],
    cmds: &[&str],
    keep: impl Fn(&Path) -> bool,
    check: impl FnMut(&Path, &str, &kdive_commands::Report, &str),
) -> usize {
    compare_with_crash806(lab, cmds, keep, check, |cap| crash806_shared(cap, all))
}

fn compare_with_crash806(
    lab: &Path,
    cmds: &[&str],
    keep: impl Fn(&Path) -> bool,
    mut check: impl FnMut(&Path, &str, &kdive_commands::Report, &str),
    crash: impl Fn(&Path) -> Option<std::sync::Arc<BTreeMap<String, String>>>,
) -> usize {
    let mut compared = 0;
    for cap in kdive_lab::capture_dirs(lab) {
        if !keep(&cap) || !cap.join("vmcore.elf").is_file() || manifest(&cap, "vmlinux").is_none() {
            continue;
        }
        let Some(theirs) = crash(&cap) else {
            eprintln!("note: crash 8.0.6 not available; {cmds:?} not compared");
            return 0;
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
            check(&cap, c, &r, &theirs[*c]);
        }
        compared += 1;
    }
    compared
}

/// The rows where two outputs of the same command differ, after checking they have as many rows.
pub fn differing_rows<'a>(
    cap: &Path,
    c: &str,
    ours: &'a str,
    theirs: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let (a, b): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), theirs.lines().collect());
    assert_eq!(
        a.len(),
        b.len(),
        "{}: {c} rows\n{ours}\n{theirs}",
        cap.display()
    );
    a.into_iter().zip(b).filter(|(x, y)| x != y).collect()
}

/// Asserts two `bt` outputs are equal line for line, except frames named after different
/// aliases of one function (`__do_sys_pause`/`__x64_sys_pause`, `kdive_race_exit`/
/// `cleanup_module`): crash names a return address after the alphabetically last symbol at
/// the function's start, kdive after the function, as the kernel's `kallsyms_lookup()` does.
/// Each such pair is checked to be at one address (`sym`). Returns how many frames differed so.
pub fn assert_same_frames(cap: &Path, s: &mut Session, c: &str, ours: &str, theirs: &str) -> usize {
    let mut aliases = 0;
    for (x, y) in differing_rows(cap, c, ours, theirs) {
        // " #2 [ffffcc0f80437d70] __do_sys_pause+36 at ffffffff8c4ad434 [module]"
        let (xs, ys): (Vec<&str>, Vec<&str>) = (
            x.split_whitespace().collect(),
            y.split_whitespace().collect(),
        );
        assert!(
            xs.len() == ys.len()
                && xs.len() >= 5
                && xs[0].starts_with('#')
                && xs[..2] == ys[..2]
                && xs[3..] == ys[3..],
            "{}: {c}: frame differs beyond its name:\n{x}\n{y}",
            cap.display()
        );
        let split = |w: &str| -> (String, String) {
            match w.split_once('+') {
                Some((n, off)) => (n.to_string(), off.to_string()),
                None => (w.to_string(), String::new()),
            }
        };
        let ((xn, xo), (yn, yo)) = (split(xs[2]), split(ys[2]));
        assert_eq!(xo, yo, "{}: {c}: offsets differ:\n{x}\n{y}", cap.display());
        let at = |s: &mut Session, name: &str| {
            run(s, &format!("sym {name}"))
                .text
                .split_whitespace()
                .next()
                .map(str::to_string)
        };
        let (p, q) = (at(s, &xn), at(s, &yn));
        assert!(
            p.is_some() && p == q,
            "{}: {c}: {xn} ({p:?}) and {yn} ({q:?}) are not aliases",
            cap.display()
        );
        aliases += 1;
    }
    aliases
}
