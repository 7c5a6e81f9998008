//! `kdive save` on the lab's real dumps ($KDIVE_LAB_DIR or ~/.cache/kdive/lab; skipped with a
//! note when absent), checked by the peers: crash `sys`, drgn (every task, the crashed
//! thread's stack), makedumpfile `--dump-dmesg`; kdive itself reads every kept page back
//! identical to the full vmcore. Also: QEMU's kdump-zlib passed through, and the failure
//! modes (killed halfway, disk full, truncated source).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kdive_dumpfile::{Dump, ExtentKind};
use kdive_lab::{capture_dirs, lab_dir, manifest};

const BIN: &str = env!("CARGO_BIN_EXE_kdive-save");

/// The `sysrq` capture of each kernel series (`6.1`, `6.12`) present in the lab.
fn captures(test: &str) -> Vec<(String, PathBuf)> {
    let Some(lab) = lab_dir() else {
        eprintln!("note: {test}: no lab; skipping");
        return Vec::new();
    };
    let v: Vec<(String, PathBuf)> = capture_dirs(&lab)
        .into_iter()
        .filter(|c| c.file_name().is_some_and(|n| n == "sysrq"))
        .filter_map(|c| {
            let release = c.parent()?.file_name()?.to_string_lossy().into_owned();
            Some((release, c))
        })
        .collect();
    if v.is_empty() {
        eprintln!("note: {test}: no sysrq capture with vmcore.elf in the lab; skipping");
    }
    v
}

fn vmlinux(cap: &Path) -> Option<PathBuf> {
    manifest(cap, "vmlinux")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
}

fn is_6_12(release: &str) -> bool {
    release.starts_with("6.12")
}

fn tool(names: &[&str]) -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    let extra = [
        home.join(".cache/kdive/peers/venv/bin"),
        home.join(".cache/kdive/peers"),
    ];
    let path = std::env::var_os("PATH").unwrap_or_default();
    for n in names {
        for d in std::env::split_paths(&path).chain(extra.iter().cloned()) {
            let p = d.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn save(args: &[&str], src: &Path, dest: &Path) -> std::process::Output {
    let out = Command::new(BIN)
        .args(args)
        .arg("-q")
        .arg(src)
        .arg(dest)
        .output()
        .expect("run kdive-save");
    out
}

fn save_ok(args: &[&str], src: &Path, dest: &Path) {
    let out = save(args, src, dest);
    assert!(
        out.status.success(),
        "kdive save {args:?} {}: {}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// drgn's view: task count and the crashed thread's (tid, frames).
const DRGN_SCRIPT: &str = r#"
from drgn.helpers.linux.pid import for_each_task
n = 0
for t in for_each_task(prog):
    t.comm.string_()
    n += 1
th = prog.crashed_thread()
print("tasks", n)
print("crashed", th.tid, len(th.stack_trace()))
"#;

fn drgn_facts(drgn: &Path, dump: &Path, vmlinux: Option<&Path>) -> Result<String, String> {
    let mut c = Command::new(drgn);
    c.arg("-q").arg("-c").arg(dump);
    match vmlinux {
        Some(v) => c.arg("-s").arg(v),
        None => c.arg("--no-default-symbols"),
    };
    let out = c
        .arg("-e")
        .arg(DRGN_SCRIPT)
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!("{text}{}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(text)
}

#[test]
fn every_kept_page_reads_back_identical() {
    for (rel, cap) in captures("every_kept_page_reads_back_identical") {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("zstd-d31");
        save_ok(&["-d", "31"], &cap.join("vmcore.elf"), &out);
        let a = Dump::open(&[cap.join("vmcore.elf")]).unwrap();
        let b = Dump::open(std::slice::from_ref(&out)).unwrap();
        assert_eq!(b.header().dump_level, Some(31), "{rel}");
        assert!(!b.header().incomplete && !b.is_truncated(), "{rel}");
        let u = b.header().utsname.clone().unwrap();
        assert_eq!(u.machine, "x86_64");
        assert_eq!(
            Some(u.release.as_str()),
            a.vmcoreinfo().unwrap().osrelease()
        );
        let ps = 4096u64;
        let (mut pa, mut pb) = (vec![0u8; 4096], vec![0u8; 4096]);
        let mut kept = 0;
        for e in b.phys_extents() {
            if e.kind != ExtentKind::Present {
                continue;
            }
            for pfn in e.start / ps..e.end / ps {
                b.read_phys(pfn * ps, &mut pb).unwrap();
                if a.read_phys(pfn * ps, &mut pa).is_ok() {
                    assert!(pa == pb, "{rel}: pfn {pfn:#x} differs");
                } else {
                    // A partial page (RAM ends inside it): the part the source has must match,
                    // the rest is zero-filled as makedumpfile does.
                    for (i, chunk) in pb.chunks(256).enumerate() {
                        let mut part = vec![0u8; 256];
                        match a.read_phys(pfn * ps + i as u64 * 256, &mut part) {
                            Ok(()) => assert!(part == chunk, "{rel}: pfn {pfn:#x} differs"),
                            Err(_) => assert!(chunk.iter().all(|&x| x == 0)),
                        }
                    }
                }
                kept += 1;
            }
        }
        // Filtering must leave out most of a freshly booted guest, and keep the kernel.
        assert!(kept > 5_000 && kept < 80_000, "{rel}: {kept} pages kept");
        eprintln!("{rel}: {kept} kept pages identical");
    }
}

/// The `struct page` scan and the compression are split over threads; the file must not
/// depend on how many.
#[test]
fn output_is_the_same_whatever_the_thread_count() {
    for (rel, cap) in captures("output_is_the_same_whatever_the_thread_count") {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<Vec<u8>> = ["1", "2", "5"]
            .iter()
            .map(|t| {
                let out = dir.path().join(format!("t{t}"));
                save_ok(&["-d", "31", "--threads", t], &cap.join("vmcore.elf"), &out);
                std::fs::read(&out).unwrap()
            })
            .collect();
        assert!(files[0] == files[1], "{rel}: 1 and 2 threads differ");
        assert!(files[0] == files[2], "{rel}: 1 and 5 threads differ");
    }
}

#[test]
fn drgn_walks_every_task_of_each_compression() {
    let Some(drgn) = tool(&["drgn"]) else {
        eprintln!("note: drgn not installed (pip install drgn); skipping");
        return;
    };
    for (rel, cap) in captures("drgn_walks_every_task_of_each_compression") {
        let Some(vml) = vmlinux(&cap) else { continue };
        let want = drgn_facts(&drgn, &cap.join("vmcore.elf"), Some(&vml)).unwrap();
        assert!(want.contains("tasks "), "{want}");
        let dir = tempfile::tempdir().unwrap();
        for c in ["zstd", "zlib", "lzo"] {
            let out = dir.path().join(c);
            save_ok(
                &["-d", "31", "--compress", c],
                &cap.join("vmcore.elf"),
                &out,
            );
            let got =
                drgn_facts(&drgn, &out, Some(&vml)).unwrap_or_else(|e| panic!("{rel} {c}: {e}"));
            assert_eq!(got, want, "{rel} {c}");
        }
        eprintln!(
            "{rel}: drgn on kdive's -d 31 outputs: {}",
            want.replace('\n', "; ")
        );
    }
}

fn sys_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| {
            let k = l.trim_start();
            k.starts_with("PANIC:") || k.starts_with("RELEASE:") || k.starts_with("TASKS:")
        })
        .map(|l| l.trim().to_string())
        .collect()
}

fn crash_sys(crash: &Path, vmlinux: &Path, dump: &Path) -> std::thread::JoinHandle<String> {
    let (crash, vmlinux, dump) = (
        crash.to_path_buf(),
        vmlinux.to_path_buf(),
        dump.to_path_buf(),
    );
    std::thread::spawn(move || {
        let mut child = Command::new(&crash)
            .arg("-s")
            .arg(&vmlinux)
            .arg(&dump)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run crash");
        use std::io::Write;
        let _ = child.stdin.take().unwrap().write_all(b"sys\nquit\n");
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    })
}

/// crash `sys` on kdive's zstd/zlib/lzo/ELF `-d 31` outputs of one kernel's capture answers like
/// on makedumpfile's `-c -d 31` output (the lab's recorded peer output when present).
fn crash_sys_check(series: &str) {
    let test = format!("crash_sys_{series}");
    let Some((rel, cap)) = captures(&test)
        .into_iter()
        .find(|(r, _)| is_6_12(r) == (series == "6.12"))
    else {
        return;
    };
    // trixie's crash 8.0.6 (lab peers) reads both kernels and zstd; bookworm's 8.0.2 only 6.1.
    let (crash, name) = match tool(&["crash806"]) {
        Some(c) => (Some(c), "crash806"),
        None if series == "6.1" => (tool(&["crash"]), "crash"),
        None => (None, ""),
    };
    let (Some(crash), Some(vml)) = (crash, vmlinux(&cap)) else {
        eprintln!("note: {test}: no crash that opens {rel}; skipping");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    let recorded = cap.join(format!("peers/{name}-sys.kdump-zlib-d31.txt"));
    let reference = if recorded.is_file() {
        None
    } else {
        Some(crash_sys(&crash, &vml, &cap.join("kdump-zlib-d31")))
    };
    for c in ["zstd", "zlib", "lzo", "elf"] {
        let out = dir.path().join(c);
        // --elf: a filtered ELF vmcore placed as the source's PT_LOADs (kernel text included).
        let args: &[&str] = if c == "elf" {
            &["-d", "31", "--elf"]
        } else {
            &["-d", "31", "--compress", c]
        };
        save_ok(args, &cap.join("vmcore.elf"), &out);
        runs.push((c, crash_sys(&crash, &vml, &out)));
    }
    let want = match reference {
        Some(h) => sys_lines(&h.join().unwrap()),
        None => sys_lines(&std::fs::read_to_string(&recorded).unwrap()),
    };
    assert_eq!(
        want.len(),
        3,
        "{rel}: {name} on makedumpfile's output: {want:?}"
    );
    for (c, h) in runs {
        assert_eq!(
            sys_lines(&h.join().unwrap()),
            want,
            "{rel}: {name} sys on kdive's {c} output"
        );
    }
    eprintln!("{rel}: {name} sys: {want:?}");
}

#[test]
fn crash_sys_6_1() {
    crash_sys_check("6.1");
}

#[test]
fn crash_sys_6_12() {
    crash_sys_check("6.12");
}

fn mdf_dmesg(mdf: &Path, dump: &Path, out: &Path) -> Vec<u8> {
    let st = Command::new(mdf)
        .arg("--dump-dmesg")
        .arg(dump)
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(
        st.success(),
        "makedumpfile --dump-dmesg {} failed",
        dump.display()
    );
    std::fs::read(out).unwrap()
}

#[test]
fn makedumpfile_dump_dmesg_reads_zlib_and_lzo_outputs() {
    let Some(mdf) = tool(&["makedumpfile"]) else {
        eprintln!("note: makedumpfile not installed; skipping");
        return;
    };
    for (rel, cap) in captures("makedumpfile_dump_dmesg_reads_zlib_and_lzo_outputs") {
        let dir = tempfile::tempdir().unwrap();
        let want = mdf_dmesg(&mdf, &cap.join("vmcore.elf"), &dir.path().join("elf.dmesg"));
        for c in ["zlib", "lzo"] {
            let out = dir.path().join(c);
            save_ok(
                &["-d", "31", "--compress", c],
                &cap.join("vmcore.elf"),
                &out,
            );
            let got = mdf_dmesg(&mdf, &out, &dir.path().join(format!("{c}.dmesg")));
            assert!(
                got == want,
                "{rel} {c}: makedumpfile reads another log from kdive's output"
            );
        }
    }
}

#[test]
fn dump_dmesg_equals_the_labs_makedumpfile_log() {
    for (rel, cap) in captures("dump_dmesg_equals_the_labs_makedumpfile_log") {
        let want = std::fs::read(cap.join("dmesg.txt")).unwrap();
        // The lab wrote dmesg.txt with makedumpfile 1.7.2 (no caller column) or newer.
        let old = manifest(&cap, "makedumpfile").is_some_and(|v| v.contains("1.7.2"));
        let dir = tempfile::tempdir().unwrap();
        let mine = dir.path().join("kdive.dmesg");
        let args: &[&str] = if old {
            &["--dump-dmesg", "--no-caller"]
        } else {
            &["--dump-dmesg"]
        };
        save_ok(args, &cap.join("vmcore.elf"), &mine);
        let got = std::fs::read(&mine).unwrap();
        assert!(
            got == want,
            "{rel}: kdive save --dump-dmesg differs from the lab's dmesg.txt"
        );
    }
}

#[test]
fn qemu_kdump_zlib_passed_through_opens_in_drgn() {
    let Some(drgn) = tool(&["drgn"]) else {
        eprintln!("note: drgn not installed; skipping");
        return;
    };
    for (rel, cap) in captures("qemu_kdump_zlib_passed_through_opens_in_drgn") {
        let src = cap.join("qemu-kdump-zlib");
        let Some(vml) = vmlinux(&cap).filter(|_| src.is_file()) else {
            continue;
        };
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("qemu.kdump");
        save_ok(&["-d", "31"], &src, &out);
        let got = drgn_facts(&drgn, &out, Some(&vml)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let tasks = |s: &str| {
            s.lines()
                .find_map(|l| l.strip_prefix("tasks ").map(str::to_string))
        };
        let n: u64 = tasks(&got).unwrap().parse().unwrap();
        assert!(n > 20, "{rel}: {got}");
        // Same guest state as QEMU's ELF dump of that boot.
        if cap.join("qemu.elf").is_file() {
            let want = drgn_facts(&drgn, &cap.join("qemu.elf"), Some(&vml)).unwrap();
            assert_eq!(tasks(&got), tasks(&want), "{rel}");
        }
    }
}

fn header_incomplete(p: &Path) -> bool {
    Dump::open(&[p.to_path_buf()]).unwrap().header().incomplete
}

#[test]
fn truncated_source_gives_an_incomplete_dump_and_an_error() {
    let Some((rel, cap)) = captures("truncated_source").into_iter().next() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.elf");
    let full = std::fs::File::open(cap.join("vmcore.elf")).unwrap();
    let mut w = std::fs::File::create(&cut).unwrap();
    std::io::copy(&mut std::io::Read::take(full, 200 << 20), &mut w).unwrap();
    drop(w);
    let out = dir.path().join("out");
    let r = save(&["-d", "31"], &cut, &out);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success(), "{rel}: {err}");
    assert!(err.contains("INCOMPLETE"), "{err}");
    assert!(header_incomplete(&out), "{rel}: DEST not marked incomplete");
}

#[test]
fn killed_halfway_leaves_no_dest() {
    let Some((rel, cap)) = captures("killed_halfway").into_iter().next() else {
        return;
    };
    for sig in [libc::SIGTERM, libc::SIGKILL] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        // Level 0, one thread: long enough to be caught in the middle.
        let child = Command::new(BIN)
            .args(["-d", "0", "--threads", "1", "--compress", "zlib", "-q"])
            .arg(cap.join("vmcore.elf"))
            .arg(&out)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        // Wait until the temporary file has data, then signal.
        loop {
            let busy = std::fs::read_dir(dir.path())
                .unwrap()
                .flatten()
                .any(|e| e.metadata().map(|m| m.len() > (2 << 20)).unwrap_or(false));
            if busy || t0.elapsed() > Duration::from_secs(20) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        unsafe { libc::kill(child.id() as i32, sig) };
        let o = child.wait_with_output().unwrap();
        assert!(!o.status.success(), "{rel}: finished before the signal");
        assert!(!out.exists(), "{rel}: DEST exists after signal {sig}");
        if sig == libc::SIGTERM {
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(err.contains("interrupted"), "{err}");
            // The temporary file is cleaned up too.
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        }
    }
}

#[test]
fn full_disk_gives_an_incomplete_dump_and_an_error() {
    let Some((rel, cap)) = captures("full_disk").into_iter().next() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("small");
    std::fs::create_dir(&mnt).unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=5m", "tmpfs"])
        .arg(&mnt)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("note: full_disk: cannot mount a tmpfs here (needs root); skipping");
        return;
    }
    let out = mnt.join("out");
    let r = save(&["-d", "31"], &cap.join("vmcore.elf"), &out);
    let err = String::from_utf8_lossy(&r.stderr).into_owned();
    let incomplete = out.exists().then(|| header_incomplete(&out));
    let leftovers = std::fs::read_dir(&mnt).unwrap().count();
    let _ = Command::new("umount").arg(&mnt).status();
    assert!(!r.status.success(), "{rel}: {err}");
    assert!(err.contains("full") || err.contains("space"), "{err}");
    assert_eq!(
        incomplete,
        Some(true),
        "{rel}: DEST missing or not marked incomplete"
    );
    assert_eq!(leftovers, 1, "{rel}: temporary file left behind");
}

#[test]
fn capture_kernel_kdive_save_dumps_open_in_drgn() {
    let Some(drgn) = tool(&["drgn"]) else {
        eprintln!("note: drgn not installed; skipping");
        return;
    };
    for (rel, cap) in captures("capture_kernel_kdive_save_dumps") {
        // Made by the opt-in `lab/lab.sh kdive-save` (kdive save inside the capture kernel).
        let dump = cap.join("kdive-save-zstd-d31");
        let Some(vml) = vmlinux(&cap).filter(|_| dump.is_file()) else {
            eprintln!("note: {rel}: no kdive-save-zstd-d31 (lab/lab.sh kdive-save); skipping");
            continue;
        };
        let d = Dump::open(std::slice::from_ref(&dump)).unwrap();
        assert_eq!(d.header().dump_level, Some(31));
        assert!(!d.header().incomplete && !d.is_truncated(), "{rel}");
        let got = drgn_facts(&drgn, &dump, Some(&vml)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let n: u64 = got
            .lines()
            .find_map(|l| l.strip_prefix("tasks "))
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(n > 20 && got.contains("crashed "), "{rel}: {got}");
    }
}
