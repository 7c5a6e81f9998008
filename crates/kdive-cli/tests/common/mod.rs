//! Shared helpers for tests that run kdive on the lab's real dumps.
#![allow(dead_code)]

pub use kdive_lab::lab_dir;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One finished capture: its directory and MANIFEST.
pub struct Capture {
    pub dir: PathBuf,
    pub manifest: BTreeMap<String, String>,
}

impl Capture {
    pub fn release(&self) -> &str {
        &self.manifest["release"]
    }
    pub fn scenario(&self) -> &str {
        &self.manifest["scenario"]
    }
    pub fn vmlinux(&self) -> PathBuf {
        PathBuf::from(&self.manifest["vmlinux"])
    }
    /// Dump files (split parts grouped) in MANIFEST order: (label, paths).
    pub fn dumps(&self) -> Vec<(String, Vec<PathBuf>)> {
        let mut out: Vec<(String, Vec<PathBuf>)> = Vec::new();
        for k in self.manifest.keys() {
            let Some(f) = k.strip_prefix("format.") else {
                continue;
            };
            if let Some(base) = f.strip_suffix(".1").filter(|b| b.starts_with("split-")) {
                let parts: Vec<PathBuf> = (1..=9)
                    .map(|i| self.dir.join(format!("{base}.{i}")))
                    .filter(|p| p.exists())
                    .collect();
                out.push((base.to_string(), parts));
            } else if f.starts_with("split-") {
                continue;
            } else {
                out.push((f.to_string(), vec![self.dir.join(f)]));
            }
        }
        out
    }
    pub fn peer(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.join("peers").join(name)).ok()
    }
}

/// Every complete capture in the lab (directories being written end in .tmp and are skipped).
pub fn captures(lab: &Path) -> Vec<Capture> {
    let mut out = Vec::new();
    let Ok(releases) = std::fs::read_dir(lab) else {
        return out;
    };
    let mut dirs: Vec<PathBuf> = releases
        .flatten()
        .flat_map(|r| {
            std::fs::read_dir(r.path())
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
        })
        .filter(|p| p.join("MANIFEST").is_file() && !p.to_string_lossy().ends_with(".tmp"))
        .collect();
    dirs.sort();
    for dir in dirs {
        let text = std::fs::read_to_string(dir.join("MANIFEST")).unwrap_or_default();
        let manifest = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        out.push(Capture { dir, manifest });
    }
    out
}

/// Runs kdive with `files` and one `-c` per command, without startup files; returns (exit
/// code, stdout, stderr).
pub fn kdive(files: &[PathBuf], commands: &[&str]) -> (i32, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kdive"));
    // A developer's own ~/.kdiverc must not change what the tests see.
    c.arg("--no-kdiverc").args(files);
    for cmd in commands {
        c.arg("-c").arg(cmd);
    }
    let out = c.output().expect("run kdive");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `LABEL: value` lines of a crash-style header, label trimmed.
pub fn header_fields(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        if let Some((k, v)) = line.split_once(": ") {
            let k = k.trim();
            if !k.is_empty() && k.chars().all(|c| c.is_ascii_uppercase() || c == ' ') {
                out.insert(k.to_string(), v.trim_end().to_string());
                last = Some(k.to_string());
                continue;
            }
        }
        // Continuation lines (split dump files).
        if let (Some(k), true) = (&last, line.starts_with("              ")) {
            let v = out.get(k).cloned().unwrap_or_default();
            out.insert(k.clone(), format!("{v}\n{}", line.trim()));
        }
    }
    out
}
