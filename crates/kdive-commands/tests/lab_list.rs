//! `list` on the lab's dumps against crash's own answers for the same dump: walking the task
//! list (`-h init_task`, forwards, backwards, from a standalone head, with `-s`/`-S` members)
//! lists exactly the tasks crash's `ps` shows (its idle tasks of other CPUs aside, which are on
//! no list), and walking `modules` lists the modules crash's `mod` shows. A chain through
//! `file_system_type.next` starts at `*file_systems`. Skipped, with a note, when the lab cache
//! is absent.

use kdive_commands::{Outcome, Session};
use kdive_kernel::{Kernel, OpenOptions};
use kdive_lab::{capture_dirs, lab_dir, manifest};
use std::path::{Path, PathBuf};

/// Captures with crash's outputs (`peers/`), with their vmlinux.
fn captures(lab: &Path) -> Vec<(PathBuf, PathBuf)> {
    capture_dirs(lab)
        .into_iter()
        .filter(|cap| cap.join("peers").is_dir())
        .filter_map(|cap| Some((cap.clone(), PathBuf::from(manifest(&cap, "vmlinux")?))))
        .collect()
}

fn run(s: &mut Session, line: &str) -> String {
    match s.run(line) {
        Ok(Outcome::Report(r)) => r.text,
        Ok(Outcome::Quit) => panic!("{line}: quit"),
        Err(e) => panic!("{line}: {e}"),
    }
}

/// The crash output named `what` (`ps`, `mod`): crash 8.0.6's (8.0.2 misses the PID hash of
/// 6.1 and cannot open 6.12), else 8.0.2's.
fn crash_output(cap: &Path, what: &str) -> Option<String> {
    ["crash806", "crash"].iter().find_map(|tag| {
        let t =
            std::fs::read_to_string(cap.join("peers").join(format!("{tag}-{what}.txt"))).ok()?;
        (!t.contains("[exit ")).then_some(t)
    })
}

/// crash `ps` rows as (task address, pid, comm), with the CPU: `>` marks and kernel threads'
/// brackets removed.
fn ps_rows(ps: &str) -> Vec<(u64, u32, String, u32)> {
    ps.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.trim_start_matches('>').split_whitespace().collect();
            if f.len() < 9 {
                return None;
            }
            let pid = f[0].parse().ok()?;
            let cpu = f[2].parse().ok()?;
            let task = u64::from_str_radix(f[3], 16).ok()?;
            let comm = f[8..].join(" ");
            let comm = comm
                .strip_prefix('[')
                .and_then(|c| c.strip_suffix(']'))
                .unwrap_or(&comm)
                .to_string();
            Some((task, pid, comm, cpu))
        })
        .collect()
}

/// `list ... -s task_struct.pid,comm` output as (address, pid, comm).
fn listed_tasks(out: &str) -> Vec<(u64, u32, String)> {
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        !out.contains("WARNING"),
        "the task list walk was cut short:\n{out}"
    );
    lines
        .chunks(3)
        .map(|c| {
            let addr = u64::from_str_radix(c[0], 16).unwrap_or_else(|_| panic!("address: {c:?}"));
            let pid = c[1]
                .trim()
                .strip_prefix("pid = ")
                .and_then(|p| p.trim_end_matches(',').parse().ok())
                .unwrap_or_else(|| panic!("pid line: {c:?}"));
            let comm = c[2]
                .trim()
                .strip_prefix("comm = \"")
                .map(|c| c.split(['"', '\\']).next().unwrap_or("").to_string())
                .unwrap_or_else(|| panic!("comm line: {c:?}"));
            (addr, pid, comm)
        })
        .collect()
}

fn addresses(out: &str) -> Vec<String> {
    out.lines().map(str::to_string).collect()
}

#[test]
fn list_walks_what_crash_sees() {
    let Some(lab) = lab_dir() else { return };
    let caps = captures(&lab);
    if caps.is_empty() {
        eprintln!("SKIP: no captures with peer outputs in {}", lab.display());
    }
    for (cap, vmlinux) in &caps {
        let name = cap.display();
        let Some(ps) = crash_output(cap, "ps") else {
            eprintln!("SKIP {name}: no crash ps output");
            continue;
        };
        let k = Kernel::open(&OpenOptions {
            files: vec![vmlinux.clone(), cap.join("vmcore.elf")],
        })
        .unwrap_or_else(|e| panic!("open {name}: {e}"));
        let mut s = Session::new(k);

        // The task list from init_task equals crash's ps, less the idle tasks of other CPUs
        // (each is its CPU's own, on no list) and threads that are not group leaders.
        let rows = ps_rows(&ps);
        assert!(rows.len() > 20, "{name}: crash ps rows: {}", rows.len());
        let out = run(
            &mut s,
            "list task_struct.tasks -s task_struct.pid,comm -h init_task",
        );
        let listed = listed_tasks(&out);
        let leaders: Vec<(u64, u32, String)> = rows
            .iter()
            .filter(|r| !(r.1 == 0 && r.3 != 0))
            .map(|r| (r.0, r.1, r.2.clone()))
            .collect();
        let mut sorted = listed.clone();
        sorted.sort();
        let mut want = leaders.clone();
        want.sort();
        assert_eq!(sorted, want, "{name}: task list vs crash ps");
        // The task list is in fork order: init_task first, then pid 1.
        assert_eq!((listed[0].1, listed[1].1), (0, 1), "{name}");

        // From the standalone head: the same tasks without init_task; backwards: reversed.
        let forward = addresses(&run(&mut s, "list -H init_task.tasks -o task_struct.tasks"));
        let task_addrs: Vec<String> = listed[1..].iter().map(|t| format!("{:x}", t.0)).collect();
        assert_eq!(forward, task_addrs, "{name}: -H init_task.tasks");
        let mut backward = addresses(&run(
            &mut s,
            "list -r -H &init_task.tasks task_struct.tasks",
        ));
        backward.reverse();
        assert_eq!(backward, task_addrs, "{name}: -r -H");

        // -S reads the same members directly; -l lists the list_head addresses.
        let fast = run(
            &mut s,
            "list -H init_task.tasks -S task_struct.pid,comm -l task_struct.tasks",
        );
        let tasks_off = {
            let o = run(&mut s, "p &((struct task_struct *)0)->tasks");
            let hex = o.rsplit("0x").next().unwrap_or("").trim().to_string();
            u64::from_str_radix(&hex, 16).unwrap_or_else(|_| panic!("{name}: offset in {o}"))
        };
        let first = &listed[1];
        let expect = format!(
            "{:x}\n  pid = {}\n  comm = \"{}\"\n",
            first.0 + tasks_off,
            first.1,
            first.2
        );
        assert!(
            fast.starts_with(&expect),
            "{name}: -S:\n{fast}\nwant:\n{expect}"
        );

        // Modules: `list -H modules` against crash's mod.
        if let Some(m) = crash_output(cap, "mod").filter(|m| m.contains("MODULE")) {
            let mods = run(&mut s, "list -H modules -o module.list -s module.name");
            let want: Vec<String> = m
                .lines()
                .skip_while(|l| !l.contains("MODULE"))
                .skip(1)
                .filter_map(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    (f.len() > 2).then(|| format!("{} {}", f[0], f[1]))
                })
                .collect();
            let got: Vec<String> = mods
                .lines()
                .collect::<Vec<_>>()
                .chunks(2)
                .map(|c| {
                    let n = c[1].split('"').nth(1).unwrap_or("");
                    format!("{} {}", c[0], n.split('\\').next().unwrap_or(""))
                })
                .collect();
            assert_eq!(got, want, "{name}: list -H modules vs crash mod");
        }

        // A NULL-terminated chain: the registered filesystem types from *file_systems.
        let fs = run(
            &mut s,
            "list file_system_type.next -s file_system_type.name *file_systems",
        );
        assert!(!fs.contains("WARNING"), "{name}: {fs}");
        let names: Vec<&str> = fs.lines().filter_map(|l| l.split('"').nth(1)).collect();
        for want in ["sysfs", "proc", "tmpfs"] {
            assert!(names.contains(&want), "{name}: {want} not in {names:?}");
        }
    }
}
