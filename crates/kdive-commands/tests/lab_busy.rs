//! The lab's `busy` captures (6.1 and 6.12: swap in use, a thread group, TCP/UDP/UNIX sockets,
//! direct I/O in flight; see lab/README.md) compared with crash 8.0.6 run live on the same dump:
//! `ps -g`, `ps` (the thread rows), `net -s` of the socket holders, `dev -d`, `kmem -i`, `swap`,
//! `bt` of every task of the thread group, `files` of the socket holders, `ipcs` (all, `-M`,
//! `-n PID`, by ID and by address); and the IPC objects against what the guest made.
//!
//! Three differences are crash's, and the test proves each one instead of skipping the line:
//! - `ps` RSS on 6.1 (SPLIT_RSS_COUNTING): crash drops each negative counter before adding
//!   (`mm->rss_stat.count[]` and every thread's `task_struct.rss_stat.count[]` clamped one by
//!   one), so a task whose anon pages were counted up in its thread cache and down in the mm
//!   (faulted in, then `madvise(MADV_PAGEOUT)`ed: `try_to_unmap` decrements the mm counter
//!   directly) gets the negative part back. kdive adds the signed counters, then clamps the sum:
//!   the number of pages the task really maps.
//! - `files`: for a socket crash prints the dentry's `d_name` (`sock_alloc_file()` names it after
//!   `sk_prot_creator->name`: TCP, UNIX-STREAM ...); kdive prints the file's path as the kernel
//!   gives it (`d_path()` calls `d_op->d_dname` = `sockfs_dname()`: `socket:[INODE]`, what
//!   `/proc/PID/fd/N` shows).
//! - `bt` through `pause()`: `SYSCALL_DEFINE0(pause)` makes `__x64_sys_pause` and
//!   `__ia32_sys_pause` aliases of the static `__do_sys_pause`. crash names a return address
//!   after the alphabetically last symbol at the function's start; kdive after the function
//!   (the local one), as the kernel's own `kallsyms_lookup()` does (the first alias in
//!   kallsyms order, ties in `nm -n` name order). The test checks that both names are at the
//!   same address.
//!
//! Skipped, with a note, when the busy captures or crash 8.0.6 are absent.

mod common;
use common::*;

use kdive_commands::Session;
use kdive_lab::{capture_dirs, lab_dir, manifest};
use std::path::Path;

fn pid(cap: &Path, key: &str) -> u64 {
    manifest(cap, key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{}: MANIFEST has no {key}", cap.display()))
}

/// The pids of `ps -g PID`'s thread lines (indented `PID:` lines).
fn threads(text: &str) -> Vec<u64> {
    text.lines()
        .filter_map(|l| l.strip_prefix("  PID: "))
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

/// The `{a, b, c, d}` after `count = ` in `task -R rss_stat` text.
fn task_cache(text: &str) -> Vec<i64> {
    let l = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("count = {"))
        .unwrap_or_else(|| panic!("no rss_stat count in {text}"));
    l.trim_end_matches(['}', ','])
        .split(',')
        .map(|v| v.trim().parse().unwrap())
        .collect()
}

/// RSS in kB of the pid's mm as kdive computes it (signed sum, clamped) and as crash 8.0.6 does
/// (each counter clamped): `(exact, crash)`. 6.1 layout: `mm_struct.rss_stat.count[]` atomics
/// plus each thread's `task_struct.rss_stat.count[]`; MM_FILEPAGES 0, MM_ANONPAGES 1,
/// MM_SHMEMPAGES 3.
fn rss_both_ways(s: &mut Session, tids: &[u64]) -> (i64, i64) {
    let t = run(s, &format!("task -R mm {}", tids[0])).text;
    let mm = t
        .lines()
        .find_map(|l| l.trim().strip_prefix("mm = "))
        .map(|v| v.trim_end_matches(',').to_string())
        .unwrap_or_else(|| panic!("no mm in {t}"));
    let m = run(s, &format!("struct mm_struct.rss_stat {mm}")).text;
    let mm_counts: Vec<i64> = m
        .lines()
        .filter_map(|l| l.trim().strip_prefix("counter = "))
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(mm_counts.len(), 4, "{m}");
    let caches: Vec<Vec<i64>> = tids
        .iter()
        .map(|t| task_cache(&run(s, &format!("task -R rss_stat {t}")).text))
        .collect();
    let idx = [0, 1, 3];
    let exact: i64 = idx
        .iter()
        .map(|&i| mm_counts[i] + caches.iter().map(|c| c[i]).sum::<i64>())
        .sum();
    let crash: i64 = idx
        .iter()
        .map(|&i| mm_counts[i].max(0) + caches.iter().map(|c| c[i].max(0)).sum::<i64>())
        .sum();
    (exact.max(0) * 4, crash * 4)
}

/// `ps`: every row equal, except one whose RSS differs only as crash's per-counter clamping
/// explains (then %MEM may differ too).
fn check_ps(cap: &Path, s: &mut Session, ours: &str, theirs: &str) {
    for (x, y) in differing_rows(cap, "ps", ours, theirs) {
        let (xs, ys): (Vec<&str>, Vec<&str>) = (
            x.split_whitespace().collect(),
            y.split_whitespace().collect(),
        );
        // PID PPID CPU TASK ST %MEM VSZ RSS COMM ("> " marks the active tasks)
        let n = xs.len();
        assert!(
            n == ys.len()
                && n >= 9
                && xs[..n - 4] == ys[..n - 4]
                && xs[n - 3] == ys[n - 3]
                && xs[n - 1] == ys[n - 1],
            "{}: ps row differs beyond %MEM/RSS:\n{x}\n{y}",
            cap.display()
        );
        let pid: u64 = xs[n - 9].trim_start_matches('>').parse().unwrap();
        let tids = {
            let mut t = vec![pid];
            t.extend(threads(&run(s, &format!("ps -g {pid}")).text));
            t
        };
        let (exact, crash) = rss_both_ways(s, &tids);
        assert_ne!(exact, crash, "{}: pid {pid}: {x} / {y}", cap.display());
        assert_eq!(
            xs[n - 2],
            exact.to_string(),
            "{}: kdive RSS {x}",
            cap.display()
        );
        assert_eq!(
            ys[n - 2],
            crash.to_string(),
            "{}: crash RSS {y}",
            cap.display()
        );
        eprintln!(
            "{}: ps pid {pid}: RSS {exact} kB (crash: {crash} kB, negative counters clamped one by one)",
            cap.display()
        );
    }
}

/// `files`: equal but for socket rows' last column (`socket:[INODE]` here, crash's protocol
/// name from the dentry).
fn check_files(cap: &Path, c: &str, ours: &str, theirs: &str) {
    let mut sockets = 0;
    for (x, y) in differing_rows(cap, c, ours, theirs) {
        let (xp, xn) = x.rsplit_once(' ').unwrap();
        let (yp, yn) = y.rsplit_once(' ').unwrap();
        assert!(
            xp == yp
                && xp.ends_with(" SOCK")
                && xn
                    .strip_prefix("socket:[")
                    .and_then(|v| v.strip_suffix(']'))
                    .is_some_and(|v| v.parse::<u64>().is_ok())
                && !yn.is_empty()
                && yn.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-'),
            "{}: {c}: row differs beyond a socket's name:\n{x}\n{y}",
            cap.display()
        );
        sockets += 1;
    }
    eprintln!(
        "{}: {c}: {sockets} socket rows named as d_path does",
        cap.display()
    );
}

/// `vm -p`: equal but for the MM row's RSS (crash's per-counter clamping; kdive's must equal
/// its own `ps`, which `check_ps` proves) and, on 6.10+, the swap area crash cannot name
/// (`SWAP:   OFFSET: 7`; kdive: `SWAP: /dev/vdb  OFFSET: 7`). The swap helper's 16 MiB buffer
/// must be wholly in swap: 4096 `SWAP:` pages, no more than the guest reported in use.
fn check_vm_pages(cap: &Path, s: &mut Session, c: &str, ours: &str, theirs: &str, buffer: u64) {
    let pid: u64 = c.rsplit(' ').next().unwrap().parse().unwrap();
    for (x, y) in differing_rows(cap, c, ours, theirs) {
        if let Some(rest) = y.split_once("  SWAP:   OFFSET: ") {
            assert_eq!(
                x,
                format!("{}  SWAP: /dev/vdb  OFFSET: {}", rest.0, rest.1),
                "{}: {c}",
                cap.display()
            );
            continue;
        }
        let (xs, ys): (Vec<&str>, Vec<&str>) = (
            x.split_whitespace().collect(),
            y.split_whitespace().collect(),
        );
        // MM  PGD  RSS  TOTAL_VM
        assert!(
            xs.len() == 4 && ys.len() == 4 && xs[..2] == ys[..2] && xs[3] == ys[3],
            "{}: {c}: row differs beyond RSS:\n{x}\n{y}",
            cap.display()
        );
        let ps = run(s, &format!("ps {pid}")).text;
        let rss = ps
            .lines()
            .nth(1)
            .and_then(|l| l.split_whitespace().nth(7))
            .unwrap();
        assert_eq!(
            xs[2],
            format!("{rss}k"),
            "{}: {c}: RSS vs ps\n{ps}",
            cap.display()
        );
    }
    if pid != 1 {
        let block = ours
            .split(VMA_HEADER_LINE)
            .find(|b| b.contains(&format!(" {buffer:x} ")))
            .unwrap_or_else(|| panic!("{}: no VMA at {buffer:x} in {c}", cap.display()));
        let swapped = block.matches("  SWAP: /dev/vdb  OFFSET: ").count() as u64;
        assert_eq!(swapped, (16 << 20) / 4096, "{}: {c}", cap.display());
        let used_kb: u64 = manifest(cap, "busy_swap_used_kb").unwrap().parse().unwrap();
        assert!(
            swapped * 4 <= used_kb,
            "{}: {swapped} pages, {used_kb} kB",
            cap.display()
        );
    }
}

const VMA_HEADER_LINE: &str = "      VMA           START       END     FLAGS FILE\n";

/// The numbers of a `kmem -i` line (`SWAP USED  4120  16.1 MB ...`): its PAGES column.
fn kmem_pages(text: &str, label: &str) -> u64 {
    text.lines()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {label} in {text}"))
}

/// The busy guest's IPC objects (lab/guest/kdive-busy.c `ipc`), as kdive reads them, checked
/// against what the guest made; None (with a note) for a capture older than that mode.
struct IpcFacts {
    pid: u64,
    shm_dest_id: u64,
    sem_id: u64,
    msg_addr: u64,
}

fn ipc_facts(cap: &Path, s: &mut Session) -> Option<IpcFacts> {
    let Some(pid) = manifest(cap, "busy_ipc_pid").and_then(|v| v.parse().ok()) else {
        eprintln!(
            "note: {}: no IPC objects in this capture (older scenario)",
            cap.display()
        );
        return None;
    };
    let id = |k: &str| self::pid(cap, k) as i64;
    let j = run(s, "ipcs -M").json;
    let shm = j["shm"].as_array().expect("shm");
    let by_id = |v: &serde_json::Value, id: i64| {
        v.as_array()
            .and_then(|a| a.iter().find(|o| o["perm"]["id"].as_i64() == Some(id)))
            .cloned()
            .unwrap_or_else(|| panic!("{}: no id {id} in {v}", cap.display()))
    };
    let seg = by_id(&j["shm"], id("busy_ipc_shm_id"));
    // 256 KiB, key 0x6b646976, mode 0640, attached once, 16 pages touched.
    assert_eq!(seg["perm"]["key"], 0x6b646976, "{}: {seg}", cap.display());
    assert_eq!(seg["perm"]["mode"].as_u64().unwrap() & 0o777, 0o640);
    assert_eq!(seg["bytes"], 256 * 1024);
    assert_eq!(seg["nattch"], 1);
    assert_eq!(seg["resident_pages"], 16, "{}: {seg}", cap.display());
    // The private segment removed while attached: key IPC_PRIVATE, SHM_DEST set.
    let dest = by_id(&j["shm"], id("busy_ipc_shm_dest_id"));
    assert_eq!(dest["perm"]["key"], 0);
    assert_ne!(dest["perm"]["mode"].as_u64().unwrap() & 0o1000, 0, "{dest}");
    assert_eq!(shm.len(), 2, "{}: {j}", cap.display());
    let j = run(s, "ipcs -s -q").json;
    let sem = by_id(&j["sem"], id("busy_ipc_sem_id"));
    assert_eq!(sem["perm"]["key"], 0x6b646977);
    assert_eq!(sem["perm"]["uid"], 1000, "{sem}");
    assert_eq!(sem["nsems"], 3);
    let msg = by_id(&j["msg"], id("busy_ipc_msg_id"));
    assert_eq!(msg["perm"]["key"], 0x6b646978);
    assert_eq!(msg["bytes"], 128, "{msg}");
    assert_eq!(msg["messages"], 2);
    Some(IpcFacts {
        pid,
        shm_dest_id: id("busy_ipc_shm_dest_id") as u64,
        sem_id: id("busy_ipc_sem_id") as u64,
        msg_addr: msg["perm"]["addr"].as_u64().unwrap(),
    })
}

#[test]
fn busy_equals_crash_806() {
    let Some(lab) = lab_dir() else { return };
    let caps: Vec<_> = capture_dirs(&lab)
        .into_iter()
        .filter(|c| c.ends_with("busy") && manifest(c, "vmlinux").is_some())
        .collect();
    if caps.is_empty() {
        eprintln!(
            "note: no busy capture in {} (lab/lab.sh build --kernel all --scenario busy); skipped",
            lab.display()
        );
        return;
    }
    let mut compared = 0;
    for cap in &caps {
        let group = pid(cap, "busy_threads_pid");
        let sockets = pid(cap, "busy_sockets_pid");
        let nc = [
            pid(cap, "busy_nc_listen_pid"),
            pid(cap, "busy_nc_connect_pid"),
        ];
        let mut s = session(&[cap.join("vmcore.elf")]);
        let tids = threads(&run(&mut s, &format!("ps -g {group}")).text);
        assert_eq!(tids.len(), 3, "{}: threads of {group}", cap.display());

        let mut cmds: Vec<String> = vec![
            "ps -g".into(),
            format!("ps -g {group}"),
            format!(
                "ps {group} {}",
                tids.iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            "ps".into(),
            "dev -d".into(),
            "kmem -i".into(),
            "swap".into(),
            format!("net -s {sockets}"),
            format!("net -s {} {}", nc[0], nc[1]),
            format!("net -s {group}"),
            format!("files {sockets}"),
            format!("files {}", nc[0]),
            format!("files {}", nc[1]),
            format!("bt {sockets}"),
        ];
        // A page of the swap helper's 16 MiB buffer, paged out: vtop shows its swap slot,
        // and pte decodes the same entry.
        let swapper = pid(cap, "busy_swap_pid");
        let buffer = run(&mut s, &format!("vm {swapper}"))
            .text
            .lines()
            .filter_map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                let start = u64::from_str_radix(w.get(1)?, 16).ok()?;
                let end = u64::from_str_radix(w.get(2)?, 16).ok()?;
                (end - start == 16 << 20).then_some(start)
            })
            .next()
            .unwrap_or_else(|| panic!("{}: no 16 MiB VMA in pid {swapper}", cap.display()));
        let vtop = format!("vtop -c {swapper} {:x}", buffer + 0x1123);
        let j = run(&mut s, &vtop).json;
        assert_eq!(j[0]["swap"]["device"], "/dev/vdb", "{}: {j}", cap.display());
        let entry = j[0]["steps"]
            .as_array()
            .and_then(|st| st.last())
            .and_then(|st| st["entry"].as_u64())
            .expect("the PTE");
        cmds.push(vtop);
        cmds.push(format!("vtop -c {swapper} {buffer:x}"));
        cmds.push(format!("pte {entry:x}"));
        cmds.push(format!("vm -p {swapper}"));
        cmds.push("vm -p 1".into());
        cmds.extend(
            std::iter::once(group)
                .chain(tids.iter().copied())
                .map(|t| format!("bt {t}")),
        );
        let ipc = ipc_facts(cap, &mut s);
        if let Some(ipc) = &ipc {
            cmds.extend([
                "ipcs".to_string(),
                "ipcs -M".into(),
                "ipcs -s -q".into(),
                format!("ipcs -n {}", ipc.pid),
                format!("ipcs -m {}", ipc.shm_dest_id),
                format!("ipcs {}", ipc.sem_id),
                format!("ipcs -q {:x}", ipc.msg_addr),
            ]);
        }
        let refs: Vec<&str> = cmds.iter().map(String::as_str).collect();
        let Some(theirs) =
            crash806(cap, &refs).filter(|t| t.get("ps").is_some_and(|p| p.contains("PID")))
        else {
            eprintln!(
                "note: {}: crash 8.0.6 not available; skipped",
                cap.display()
            );
            continue;
        };
        for c in &refs {
            let r = run(&mut s, c);
            let ours = trimmed(&r.text);
            let theirs = trimmed(&theirs[*c]);
            if c.starts_with("ps") && !c.starts_with("ps -g") {
                check_ps(cap, &mut s, &ours, &theirs);
            } else if c.starts_with("files") {
                check_files(cap, c, &ours, &theirs);
            } else if c.starts_with("bt") {
                assert_same_frames(cap, &mut s, c, &ours, &theirs);
            } else if c.starts_with("vm -p") {
                check_vm_pages(cap, &mut s, c, &ours, &theirs, buffer);
            } else if let Some(cut) = theirs.find("cannot determine swap location") {
                // crash 8.0.6 cannot name the swap area on 6.10+ kernels (swap_info_struct
                // lost old_block_size) and stops inside the table; kdive names it (`swap`
                // above lists the same /dev/vdb). Everything before crash gave up is equal.
                let head = &theirs[..theirs[..cut].rfind('\n').unwrap_or(0)];
                assert!(
                    ours.starts_with(head) && ours.contains(" /dev/vdb "),
                    "{}: {c}: {ours}",
                    cap.display()
                );
            } else {
                assert_eq!(
                    ours,
                    theirs,
                    "{}: {c} differs from crash 8.0.6",
                    cap.display()
                );
            }
            if *c == "kmem -i" {
                // The state the scenario is for: swap in use.
                assert!(
                    kmem_pages(&ours, "SWAP USED") > 0,
                    "{}: {ours}",
                    cap.display()
                );
                assert!(
                    kmem_pages(&ours, "TOTAL SWAP") > 0,
                    "{}: {ours}",
                    cap.display()
                );
            }
            if *c == "swap" {
                assert!(ours.contains(" /dev/vdb"), "{}: {ours}", cap.display());
            }
            if *c == "dev -d" {
                // ... and I/O in flight on the throttled disk.
                let vdc = ours
                    .lines()
                    .find(|l| l.split_whitespace().nth(2) == Some("vdc"))
                    .unwrap_or_else(|| panic!("{}: no vdc in {ours}", cap.display()));
                let total: u64 = vdc.split_whitespace().nth(4).unwrap().parse().unwrap();
                assert!(
                    total > 0,
                    "{}: nothing in flight on vdc: {vdc}",
                    cap.display()
                );
            }
            if c.starts_with("net -s") && *c != format!("net -s {group}") {
                assert!(ours.contains(":STREAM"), "{}: {c}: {ours}", cap.display());
            }
        }
        // The socket holder's table has every kind the helper opened.
        let net = run(&mut s, &format!("net -s {sockets}")).text;
        for kind in ["INET:STREAM", "INET:DGRAM", "UNIX:STREAM", "UNIX:DGRAM"] {
            assert!(net.contains(kind), "{}: no {kind} in {net}", cap.display());
        }
        compared += 1;
    }
    eprintln!("busy: compared with crash 8.0.6 on {compared} captures");
}
