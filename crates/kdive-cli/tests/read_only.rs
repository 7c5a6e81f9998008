//! Reading never writes: a dump's size, mtime and contents are unchanged after kdive runs
//! commands on it, and a read-only copy (mode 0400) opens and answers just the same.

mod common;

use std::collections::hash_map::DefaultHasher;
use std::hash::Hasher;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// (size, mtime, content hash) of a file.
fn fingerprint(p: &Path) -> (u64, std::time::SystemTime, u64) {
    let meta = std::fs::metadata(p).unwrap();
    let mut h = DefaultHasher::new();
    let mut f = std::fs::File::open(p).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.write(&buf[..n]);
    }
    (meta.len(), meta.modified().unwrap(), h.finish())
}

#[test]
fn dumps_are_only_read() {
    let Some(lab) = common::lab_dir() else { return };
    let Some(cap) = common::captures(&lab)
        .into_iter()
        .find(|c| c.release().starts_with("6.1.") && c.scenario() == "module-race")
    else {
        eprintln!("SKIP: no 6.1 module-race capture in {}", lab.display());
        return;
    };
    let src = cap.dir.join("kdump-zlib-d31");
    if !src.is_file() {
        eprintln!("SKIP: {} is missing", src.display());
        return;
    }
    // A private copy, so the check does not depend on other tests' use of the lab file.
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("kdump-zlib-d31");
    std::fs::copy(&src, &dump).unwrap();
    let before = fingerprint(&dump);
    let commands = ["sys", "ps", "bt -a", "log", "mod"];
    let (code, out, err) = common::kdive(&[cap.vmlinux(), dump.clone()], &commands);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        fingerprint(&dump),
        before,
        "kdive changed {}",
        dump.display()
    );

    // Read-only: mode 0400 (and, when run as root, permission bits do not stop a writer, so
    // the same output also shows nothing needed write access).
    std::fs::set_permissions(&dump, std::fs::Permissions::from_mode(0o400)).unwrap();
    let (code2, out2, err2) = common::kdive(&[cap.vmlinux(), dump.clone()], &commands);
    assert_eq!(code2, 0, "read-only dump: {err2}");
    assert_eq!(out2, out, "read-only dump answers differently");
    assert_eq!(fingerprint(&dump), before);
}

#[test]
fn dump_is_opened_read_only() {
    // A running kdive (waiting at its prompt on a pipe) maps the dump without write permission
    // and keeps any descriptor on it O_RDONLY (/proc/PID/maps and fdinfo say so).
    let Some(lab) = common::lab_dir() else { return };
    let Some(cap) = common::captures(&lab)
        .into_iter()
        .find(|c| c.release().starts_with("6.1.") && c.scenario() == "module-race")
    else {
        return;
    };
    let dump = cap.dir.join("kdump-zlib-d31");
    if !dump.is_file() {
        return;
    }
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kdive"))
        .arg(cap.vmlinux())
        .arg(&dump)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .env("KDIVE_NO_MODULE_AUTOLOAD", "1")
        .spawn()
        .unwrap();
    let pid = child.id();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let name = dump.to_string_lossy().into_owned();
    // Mappings of the dump (perms column "r--s"/"r--p") and open descriptors' flags.
    let (mut maps, mut fd_flags) = (Vec::new(), Vec::new());
    while maps.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/maps")) else {
            break;
        };
        maps = text
            .lines()
            .filter(|l| l.ends_with(name.as_str()))
            .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
            .collect();
        for fd in std::fs::read_dir(format!("/proc/{pid}/fd"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if std::fs::read_link(fd.path()).ok().as_deref() == Some(dump.as_path()) {
                let info = std::fs::read_to_string(format!(
                    "/proc/{pid}/fdinfo/{}",
                    fd.file_name().to_string_lossy()
                ))
                .unwrap_or_default();
                fd_flags.extend(
                    info.lines()
                        .find_map(|l| l.strip_prefix("flags:"))
                        .and_then(|v| u32::from_str_radix(v.trim(), 8).ok()),
                );
            }
        }
    }
    drop(child.stdin.take());
    let _ = child.kill();
    let _ = child.wait();
    assert!(!maps.is_empty(), "kdive never mapped {name}");
    for perms in &maps {
        assert!(!perms.contains('w'), "{name} mapped {perms}");
    }
    for f in &fd_flags {
        assert_eq!(f & 0o3, 0, "{name} open with flags {f:o}, not O_RDONLY");
    }
}
