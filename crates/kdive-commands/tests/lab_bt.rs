//! `bt` on the lab's real dumps: for every task of every capture (6.1 and 6.12; vmcore.elf,
//! kdump-zlib-d31 and QEMU's qemu.elf; with and without the vmlinux), kdive's non-inline frames must equal drgn's
//! stack trace for the same task, and the panic task's exception block must equal crash's
//! `bt -p`. drgn's stacks are produced once per dump by lab/peers/drgn_stacks.py and cached
//! beside the capture's peer outputs. Skipped, with a note, when the lab cache is absent.

use kdive_commands::{Outcome, Session};
use kdive_kernel::stack::{StackContext, StartKind, TaskTrace};
use kdive_kernel::{Kernel, OpenOptions};
use kdive_lab::{capture_dirs as captures, lab_dir, manifest};
use std::path::{Path, PathBuf};

fn drgn() -> Option<PathBuf> {
    let p = PathBuf::from(std::env::var_os("HOME")?).join(".cache/kdive/peers/venv/bin/drgn");
    p.is_file().then_some(p)
}

/// drgn's stacks for every task of `dump`: cached JSON, or produced now.
fn drgn_stacks(cap: &Path, dump: &str, vmlinux: &Path) -> Option<serde_json::Value> {
    let dir = if cap.join("peers").is_dir() {
        cap.join("peers")
    } else {
        cap.join("peers-bt")
    };
    let cache = dir.join(format!("drgn-stacks-{dump}.json"));
    if let Ok(text) = std::fs::read_to_string(&cache) {
        return serde_json::from_str(&text).ok();
    }
    let drgn = drgn()?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../lab/peers/drgn_stacks.py");
    let mut cmd = std::process::Command::new(drgn);
    cmd.arg("-c").arg(cap.join(dump)).arg("-s").arg(vmlinux);
    if cap.join("kdive_race.ko").is_file() {
        cmd.arg("-s").arg(cap.join("kdive_race.ko"));
    }
    let out = cmd.arg(script).output().ok()?;
    if !out.status.success() {
        eprintln!(
            "drgn failed on {}: {}",
            cap.join(dump).display(),
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    std::fs::create_dir_all(&dir).ok()?;
    std::fs::write(&cache, &out.stdout).ok()?;
    serde_json::from_slice(&out.stdout).ok()
}

/// Compiler suffixes drgn (DWARF names) does not show.
fn base_name(n: &str) -> &str {
    n.split('.').next().unwrap_or(n)
}

fn same_function(kdive: &str, drgn: &str) -> bool {
    let (k, d) = (base_name(kdive), base_name(drgn));
    // Symbol-table labels inside a function: entry_SYSCALL_64_after_hwframe in entry_SYSCALL_64.
    k == d || k.starts_with(d)
}

/// kdive's function names for a trace (user-mode frames left out), starting where drgn starts:
/// at the CPU note's registers for tasks that were running.
fn kdive_names(k: &Kernel, ctx: &StackContext, tt: &TaskTrace) -> Vec<String> {
    let frames = &tt.trace.frames;
    let mut from = 0;
    if let (StartKind::CpuNote, Some(note)) = (tt.start, tt.note_regs) {
        let note_fn = ctx.symbolize(k, note.ip()).map(|c| c.name);
        from = frames
            .iter()
            .position(|f| {
                f.pt_regs
                    .is_some_and(|r| r.ip() == note.ip() && r.sp() == note.sp())
                    || (f.sp == note.sp() && ctx.symbolize(k, f.pc).map(|c| c.name) == note_fn)
            })
            .unwrap_or(0);
    }
    frames[from..]
        .iter()
        .filter(|f| !f.is_user())
        .map(|f| {
            ctx.frame_function(k, f)
                .map(|c| c.name)
                .unwrap_or_else(|| format!("{:#x}", f.pc))
        })
        .collect()
}

fn compare_all_tasks(
    k: &Kernel,
    ctx: &StackContext,
    drgn: &serde_json::Value,
    what: &str,
    with_vmlinux: bool,
) -> usize {
    let mut checked = 0;
    let mut bad = Vec::new();
    for t in drgn["tasks"].as_array().into_iter().flatten() {
        let Some(frames) = t["frames"].as_array() else {
            continue;
        };
        let want: Vec<&str> = frames
            .iter()
            .filter(|f| !f["inline"].as_bool().unwrap_or(false))
            .filter_map(|f| f["function"].as_str())
            .filter(|n| !n.starts_with("0x"))
            .collect();
        let addr =
            u64::from_str_radix(t["task"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
        let tt = match ctx.task_trace(k, addr) {
            Ok(tt) => tt,
            Err(e) => {
                bad.push(format!("{} {}: {e}", t["pid"], t["comm"]));
                continue;
            }
        };
        let got = kdive_names(k, ctx, &tt);
        let same = |n: usize| {
            got.iter()
                .zip(&want)
                .take(n)
                .all(|(a, b)| same_function(a, b))
        };
        // Without a vmlinux there is no .debug_frame: where objtool left code without ORC
        // (__crash_kexec after crash_setup_regs) kdive stops with a marker, never guesses.
        let stopped_early = !with_vmlinux
            && matches!(
                tt.trace.stop,
                Some(kdive_unwind::StopReason::UndefinedOrc(_))
            )
            && got.len() < want.len()
            && same(got.len());
        // A task forked but never run (no CPU time yet) starts at its fork frame's return
        // address, `ret_from_fork[_asm]`: the kernel's own unwinder (`__unwind_start` for a
        // task that is not running: ip = inactive_task_frame.ret_addr) reports that one
        // frame, and so does kdive; drgn (and crash) show none.
        let never_ran = want.is_empty()
            && tt.trace.frames.len() == 1
            && k.read_member_uint(addr, "task_struct", "se.sum_exec_runtime")
                .is_ok_and(|ns| ns == 0)
            && ctx
                .symbolize(k, tt.trace.frames[0].pc)
                .is_some_and(|c| c.offset == 0 && c.name.starts_with("ret_from_fork"));
        let ok = got.len() == want.len() && same(got.len()) || stopped_early || never_ran;
        if !ok {
            bad.push(format!(
                "pid {} {}: kdive {:?} (stop {:?}) vs drgn {:?}",
                t["pid"], t["comm"], got, tt.trace.stop, want
            ));
        }
        checked += 1;
    }
    assert!(
        bad.is_empty(),
        "{what}: {} of {checked} tasks differ from drgn:\n{}",
        bad.len(),
        bad.join("\n")
    );
    checked
}

fn open(files: &[PathBuf]) -> Kernel {
    Kernel::open(&OpenOptions {
        files: files.to_vec(),
    })
    .unwrap_or_else(|e| panic!("open {files:?}: {e}"))
}

#[test]
fn every_task_matches_drgn() {
    let Some(lab) = lab_dir() else { return };
    if drgn().is_none() {
        eprintln!("SKIP: drgn not installed");
    }
    let mut total = 0;
    for cap in captures(&lab) {
        let Some(vmlinux) = manifest(&cap, "vmlinux").map(PathBuf::from) else {
            continue;
        };
        // qemu.elf: QEMU's dump of a separate boot, where more modules were loaded (one
        // module's freed init text reused by the next: module ORC by module text).
        for dump in ["vmcore.elf", "kdump-zlib-d31", "qemu.elf"] {
            if !cap.join(dump).is_file() {
                continue;
            }
            let Some(stacks) = drgn_stacks(&cap, dump, &vmlinux) else {
                eprintln!("SKIP: no drgn stacks for {}", cap.join(dump).display());
                continue;
            };
            for with_vmlinux in [true, false] {
                let mut files = vec![cap.join(dump)];
                if with_vmlinux {
                    files.insert(0, vmlinux.clone());
                }
                let k = open(&files);
                let ctx = StackContext::new(&k).expect("stack context");
                let what = format!("{} vmlinux={with_vmlinux}", cap.join(dump).display());
                total += compare_all_tasks(&k, &ctx, &stacks, &what, with_vmlinux);
            }
        }
    }
    eprintln!("compared {total} task stacks with drgn");
}

/// The register lines of the first `[exception RIP: ...]` block.
fn exception_block(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(i) = lines.iter().position(|l| l.contains("[exception RIP:")) else {
        return Vec::new();
    };
    lines[i..]
        .iter()
        .take(8)
        .map(|l| l.trim_end().to_string())
        .collect()
}

#[test]
fn panic_task_exception_block_matches_crash() {
    let Some(lab) = lab_dir() else { return };
    for cap in captures(&lab) {
        let crash = ["crash806-bt-p.txt", "crash-bt-p.txt"]
            .iter()
            .find_map(|f| std::fs::read_to_string(cap.join("peers").join(f)).ok());
        let Some(crash) = crash else { continue };
        let want = exception_block(&crash);
        let Some(vmlinux) = manifest(&cap, "vmlinux").map(PathBuf::from) else {
            continue;
        };
        for files in [
            vec![vmlinux.clone(), cap.join("vmcore.elf")],
            vec![cap.join("kdump-zlib-d31")],
        ] {
            let mut s = Session::new(open(&files));
            let Ok(Outcome::Report(r)) = s.run("bt -p") else {
                panic!("bt -p failed")
            };
            let got = exception_block(&r.text);
            assert_eq!(got, want, "{files:?}\nkdive:\n{}\ncrash:\n{crash}", r.text);
            if want.is_empty() {
                continue;
            }
            // With the vmlinux, every frame line is crash's (crash may add stale ones).
            if files.len() == 2 {
                for l in r.text.lines().filter(|l| l.contains(" at ffff")) {
                    assert!(
                        crash.contains(l),
                        "{files:?}: {l:?} not in crash's bt -p:\n{crash}"
                    );
                }
            }
        }
    }
}
