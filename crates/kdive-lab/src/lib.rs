//! Test support for the lab's real dumps (made by `lab/lab.sh`): where the lab cache is, which
//! captures are complete, and what their MANIFEST says. Tests skip (with a note) without a lab.

use std::path::{Path, PathBuf};

/// `$KDIVE_LAB_DIR`, else `~/.cache/kdive/lab`; None (after printing a SKIP note) when absent.
pub fn lab_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("KDIVE_LAB_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kdive/lab")))?;
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIP: no lab dumps at {} (run lab/lab.sh ensure)",
            dir.display()
        );
        None
    }
}

/// Complete captures (`<lab>/<release>/<scenario>/` with a MANIFEST and a full `vmcore.elf`;
/// `*.tmp` directories are still being written), sorted.
pub fn capture_dirs(lab: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(lab)
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|rel| {
            std::fs::read_dir(rel.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|e| e.path())
        .filter(|p| {
            !p.to_string_lossy().ends_with(".tmp")
                && p.join("MANIFEST").is_file()
                && p.join("vmcore.elf").is_file()
        })
        .collect();
    out.sort();
    out
}

/// The dump files of every complete capture whose names are in `formats` (`vmcore.elf`,
/// `kdump-zlib-d31`, ...), capture by capture in `formats` order; empty without a lab.
pub fn dump_files(formats: &[&str]) -> Vec<PathBuf> {
    let Some(lab) = lab_dir() else {
        return Vec::new();
    };
    capture_dirs(&lab)
        .into_iter()
        .flat_map(|cap| formats.iter().map(move |f| cap.join(f)))
        .filter(|p| p.is_file())
        .collect()
}

/// The value of `key=` in a capture's MANIFEST.
pub fn manifest(cap: &Path, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(cap.join("MANIFEST")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('=').map(str::to_string))
}

/// The lab's crash 8.0.6 (Debian trixie's, run through its own loader by the peers cache:
/// `~/.cache/kdive/peers/crash806`), when installed.
pub fn crash806_bin() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cache/kdive/peers/crash806"))
        .filter(|p| p.is_file())
}

/// Runs crash (`bin`: a path, or `crash` from PATH) silently on `vmlinux` and `dump` with
/// `script` on its stdin; its stdout, or None when it cannot be started.
pub fn crash_script(bin: &Path, vmlinux: &Path, dump: &Path, script: &str) -> Option<String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(bin)
        .arg("-s")
        .arg(vmlinux)
        .arg(dump)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(script.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_keys_are_exact() {
        let d = std::env::temp_dir().join(format!("kdive-lab-test-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("MANIFEST"), "release=6.1\nrelease_x=no\n").unwrap();
        assert_eq!(manifest(&d, "release").as_deref(), Some("6.1"));
        assert_eq!(manifest(&d, "rel"), None);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
