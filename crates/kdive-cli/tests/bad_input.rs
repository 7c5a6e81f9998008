//! Bad input gets a one-line error naming the file and exit status 1 — never a panic.

use std::path::Path;
use std::process::Command;

fn kdive(args: &[&Path]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kdive"))
        .args(args)
        .arg("-c")
        .arg("sys")
        .output()
        .expect("run kdive");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_clean_error(args: &[&Path], expect: &str) {
    let (code, _out, err) = kdive(args);
    assert_eq!(code, 1, "exit status for {args:?}: stderr {err}");
    assert!(!err.contains("panicked"), "panic for {args:?}: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected for {args:?}: {err}"
    );
    assert!(
        err.contains(expect),
        "{args:?}: expected {expect:?} in {err:?}"
    );
}

#[test]
fn missing_file() {
    assert_clean_error(&[Path::new("/nonexistent/vmcore")], "/nonexistent/vmcore");
}

#[test]
fn directory() {
    let d = tempfile::tempdir().unwrap();
    assert_clean_error(&[d.path()], "is a directory");
}

#[test]
fn empty_file() {
    let f = tempfile::NamedTempFile::new().unwrap();
    assert_clean_error(&[f.path()], "empty");
}

#[test]
fn garbage_file() {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        f.path(),
        b"this is not a dump at all, just some text\n".repeat(100),
    )
    .unwrap();
    assert_clean_error(&[f.path()], "not a crash dump");
}

#[test]
fn program_without_dump() {
    assert_clean_error(&[Path::new("/bin/ls")], "no dump file");
}

#[test]
fn truncated_kdump_header() {
    let f = tempfile::NamedTempFile::new().unwrap();
    let mut bytes = b"KDUMP   ".to_vec();
    bytes.extend_from_slice(&6u32.to_le_bytes());
    bytes.resize(300, 0);
    std::fs::write(f.path(), &bytes).unwrap();
    let (code, _, err) = kdive(&[f.path()]);
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains(&f.path().display().to_string()),
        "error names the file: {err}"
    );
}

#[test]
fn hostile_kdump_header_sizes() {
    // Huge block size, bitmap blocks and max_mapnr must not make kdive allocate them.
    let f = tempfile::NamedTempFile::new().unwrap();
    let mut b = vec![0u8; 8192];
    b[..8].copy_from_slice(b"KDUMP   ");
    b[8..12].copy_from_slice(&6u32.to_le_bytes());
    b[428..432].copy_from_slice(&4096u32.to_le_bytes()); // block_size
    b[432..436].copy_from_slice(&1u32.to_le_bytes()); // sub_hdr_size
    b[436..440].copy_from_slice(&u32::MAX.to_le_bytes()); // bitmap_blocks
    b[440..444].copy_from_slice(&u32::MAX.to_le_bytes()); // max_mapnr
    b[4096 + 96..4096 + 104].copy_from_slice(&u64::MAX.to_le_bytes()); // max_mapnr_64
    std::fs::write(f.path(), &b).unwrap();
    let (code, _, err) = kdive(&[f.path()]);
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
