//! `ps`, `log` and `mod` on the lab's real dumps, compared with the peers: drgn's task list and
//! modules (lab/peers/drgn_facts.py), crash 8.0.6's `ps` text, and makedumpfile's
//! `--dump-dmesg` text. Skipped, with a note, when the lab cache is absent.

mod common;
use common::*;

use kdive_commands::{Outcome, Session};
use kdive_lab::{capture_dirs as captures, lab_dir, manifest};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn drgn_facts(cap: &Path, dump: &str) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(cap.join("peers").join(format!("drgn-{dump}.json"))).ok()?;
    serde_json::from_str(&text).ok()
}

/// (pid, comm, state letter, task address) of every non-idle task.
type TaskKey = (i64, String, String, String);

#[test]
fn ps_lists_drgns_tasks_plus_idle_tasks() {
    let Some(lab) = lab_dir() else { return };
    let mut compared = 0;
    for cap in captures(&lab) {
        for dump in ["vmcore.elf", "kdump-zlib-d31"] {
            let path = cap.join(dump);
            if !path.is_file() {
                continue;
            }
            let what = format!("{}/{dump}", cap.display());
            let mut s = session(&[path]);
            let r = run(&mut s, "ps");
            let rows = r.json["tasks"].as_array().expect("tasks array");
            let ours: BTreeSet<TaskKey> = rows
                .iter()
                .filter(|t| t["pid"].as_i64() != Some(0))
                .map(|t| {
                    (
                        t["pid"].as_i64().unwrap(),
                        t["comm"].as_str().unwrap().to_string(),
                        t["state_char"].as_str().unwrap().to_string(),
                        format!("0x{}", t["task"].as_str().unwrap()),
                    )
                })
                .collect();
            let idle = rows.iter().filter(|t| t["pid"].as_i64() == Some(0)).count();
            let cpus = rows
                .iter()
                .map(|t| t["cpu"].as_u64().unwrap())
                .max()
                .unwrap_or(0) as usize
                + 1;
            assert_eq!(idle, cpus, "{what}: one idle task per CPU");
            assert!(
                r.json["problems"].as_array().unwrap().is_empty(),
                "{what}: {}",
                r.json["problems"]
            );
            let Some(facts) = drgn_facts(&cap, dump) else {
                eprintln!("note: {what}: no drgn facts to compare with");
                continue;
            };
            let theirs: BTreeSet<TaskKey> = facts["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    (
                        t["pid"].as_i64().unwrap(),
                        t["comm"].as_str().unwrap().to_string(),
                        t["state"].as_str().unwrap().to_string(),
                        t["task"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            let missing: Vec<_> = theirs.difference(&ours).collect();
            let extra: Vec<_> = ours.difference(&theirs).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{what}: drgn has, kdive lacks: {missing:?}; kdive has, drgn lacks: {extra:?}"
            );
            compared += 1;
        }
    }
    eprintln!("ps compared with drgn on {compared} dumps");
}

#[test]
fn ps_text_equals_crash_806() {
    let Some(lab) = lab_dir() else { return };
    for cap in captures(&lab) {
        let Ok(theirs) = std::fs::read_to_string(cap.join("peers/crash806-ps.txt")) else {
            eprintln!("note: {}: no crash 8.0.6 ps to compare with", cap.display());
            continue;
        };
        // The lab appends "[exit N]" when crash's batch run ends non-zero.
        let theirs: String = theirs
            .lines()
            .filter(|l| !l.starts_with("[exit "))
            .map(|l| format!("{l}\n"))
            .collect();
        let mut s = session(&[cap.join("vmcore.elf")]);
        let ours = run(&mut s, "ps").text;
        assert_eq!(
            ours,
            theirs,
            "{}: ps differs from crash 8.0.6",
            cap.display()
        );
    }
}

#[test]
fn ps_with_vmlinux_equals_ps_without() {
    let Some(lab) = lab_dir() else { return };
    let Some(cap) = captures(&lab).into_iter().next() else {
        return;
    };
    let Some(vmlinux) = manifest(&cap, "vmlinux").map(PathBuf::from) else {
        return;
    };
    if !vmlinux.is_file() {
        eprintln!("note: {} missing", vmlinux.display());
        return;
    }
    let a = run(&mut session(&[cap.join("vmcore.elf")]), "ps").text;
    let b = run(&mut session(&[vmlinux, cap.join("vmcore.elf")]), "ps").text;
    assert_eq!(a, b);
}

#[allow(dead_code)]
fn by_pid(rows: &[serde_json::Value]) -> BTreeMap<i64, serde_json::Value> {
    rows.iter()
        .map(|r| (r["pid"].as_i64().unwrap(), r.clone()))
        .collect()
}

/// makedumpfile 1.7.6 prints the PRINTK_CALLER column (`[      T9] `) after the time stamp,
/// 1.7.2 does not; crash's `log` never does (kdive's `log -c` does). Removes that column — and
/// the same width from the indent of a multi-line record's later lines — from dmesg.txt.
fn without_callers(dmesg: &str) -> (String, bool) {
    let mut found = false;
    let mut out = String::new();
    for line in dmesg.lines() {
        let stripped = line.get(15..26).filter(|c| {
            c.starts_with('[')
                && c.ends_with("] ")
                && c[1..9].trim_start().len() >= 2
                && matches!(c[1..9].trim_start().as_bytes()[0], b'T' | b'C')
                && c[1..9].trim_start()[1..]
                    .bytes()
                    .all(|b| b.is_ascii_digit())
        });
        if line.starts_with('[') && stripped.is_some() {
            found = true;
            out.push_str(&line[..15]);
            out.push_str(&line[26..]);
        } else if found && line.starts_with(&" ".repeat(26)) {
            out.push_str(&line[11..]);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    (out, found)
}

#[test]
fn log_equals_makedumpfile_dump_dmesg() {
    let Some(lab) = lab_dir() else { return };
    let mut compared = 0;
    for cap in captures(&lab) {
        let Ok(dmesg) = std::fs::read_to_string(cap.join("dmesg.txt")) else {
            eprintln!("note: {}: no dmesg.txt", cap.display());
            continue;
        };
        for dump in ["vmcore.elf", "kdump-zlib-d31"] {
            if !cap.join(dump).is_file() {
                continue;
            }
            let mut s = session(&[cap.join(dump)]);
            let (plain, had_callers) = without_callers(&dmesg);
            assert_eq!(
                run(&mut s, "log").text,
                plain,
                "{}/{dump}: log differs from dmesg.txt",
                cap.display()
            );
            if had_callers {
                assert_eq!(
                    run(&mut s, "log -c").text,
                    dmesg,
                    "{}/{dump}: log -c differs from dmesg.txt",
                    cap.display()
                );
            }
            compared += 1;
        }
    }
    eprintln!("log compared with makedumpfile on {compared} dumps");
}

/// `set` with no argument shows the panic task: the PID, TASK, CPU and COMMAND of the task
/// crash 8.0.6's `bt -p` shows, marked (PANIC) or (SYSRQ).
#[test]
fn set_shows_crashs_panic_context() {
    let Some(lab) = lab_dir() else { return };
    for cap in captures(&lab) {
        let Ok(bt) = std::fs::read_to_string(cap.join("peers/crash806-bt-p.txt")) else {
            continue;
        };
        let Some(first) = bt.lines().find(|l| l.starts_with("PID: ")) else {
            continue;
        };
        let mut s = session(&[cap.join("vmcore.elf")]);
        let set = run(&mut s, "set");
        let t = &set.json;
        let ours = format!(
            "PID: {:<8} TASK: {}  CPU: {:<3}  COMMAND: \"{}\"",
            t["pid"].as_i64().unwrap(),
            t["task"].as_str().unwrap(),
            t["cpu"].as_u64().unwrap(),
            t["command"].as_str().unwrap()
        );
        assert_eq!(ours, first, "{}", cap.display());
        assert!(set.text.ends_with("(PANIC)\n") || set.text.ends_with("(SYSRQ)\n"));
        // Changing the context to a pid and back.
        let pid = run(&mut s, "ps -u").json["tasks"][0]["pid"]
            .as_i64()
            .unwrap();
        let r = run(&mut s, &format!("set {pid}"));
        assert_eq!(r.json["pid"].as_i64(), Some(pid));
        assert_eq!(run(&mut s, "set").json["pid"].as_i64(), Some(pid));
        assert!(run(&mut s, "task -R pid")
            .text
            .contains(&format!("  pid = {pid},")));
        run(&mut s, "set -p");
        assert_eq!(run(&mut s, "set").text, set.text);
    }
}

/// `mod` lists drgn's `for_each_module` (names and bases) and prints what crash 8.0.6 prints.
#[test]
fn mod_equals_drgns_modules_and_crashs_text() {
    let Some(lab) = lab_dir() else { return };
    for cap in captures(&lab) {
        let mut s = session(&[cap.join("vmcore.elf")]);
        // kdive loads a .ko found beside the dump at open; crash lists it as not loaded.
        run(&mut s, "mod -D");
        let r = run(&mut s, "mod");
        if let Some(facts) = drgn_facts(&cap, "vmcore.elf") {
            let theirs: BTreeSet<(String, String)> = facts["modules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    (
                        m["name"].as_str().unwrap().to_string(),
                        m["base"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            let ours: BTreeSet<(String, String)> = r.json["modules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    (
                        m["name"].as_str().unwrap().to_string(),
                        format!("0x{}", m["base"].as_str().unwrap()),
                    )
                })
                .collect();
            assert_eq!(ours, theirs, "{}", cap.display());
        }
        if let Ok(crash) = std::fs::read_to_string(cap.join("peers/crash806-mod.txt")) {
            let crash: String = crash
                .lines()
                .filter(|l| !l.starts_with("[exit "))
                .map(|l| format!("{l}\n"))
                .collect();
            // OBJECT FILE names the module's debuginfo when kdive found it (crash ran without).
            let cols = |t: &str| -> Vec<String> {
                t.lines()
                    .map(|l| l.split("  (not loaded)").next().unwrap_or(l).to_string())
                    .map(|l| match l.find(" /") {
                        Some(i) if !l.contains("OBJECT FILE") => l[..i].trim_end().to_string(),
                        _ => l,
                    })
                    .collect()
            };
            assert_eq!(cols(&r.text), cols(&crash), "{}", cap.display());
        }
    }
}

/// `foreach NAME bt` equals crash 8.0.6's where the lab recorded one; `foreach STATE ps` is
/// `ps` cut to that state; the current task is the same afterwards.
#[test]
fn foreach_runs_per_task_commands() {
    let Some(lab) = lab_dir() else { return };
    for cap in captures(&lab) {
        let mut s = session(&[cap.join("vmcore.elf")]);
        let before = run(&mut s, "set").text;
        for entry in std::fs::read_dir(cap.join("peers"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let f = entry.file_name().to_string_lossy().to_string();
            let Some(comm) = f
                .strip_prefix("crash806-foreach-")
                .and_then(|r| r.strip_suffix("-bt.txt"))
            else {
                continue;
            };
            let crash: String = std::fs::read_to_string(entry.path())
                .unwrap()
                .lines()
                .filter(|l| !l.starts_with("[exit "))
                .map(|l| format!("{l}\n"))
                .collect();
            let ours = run(&mut s, &format!("foreach {comm} bt")).text;
            assert_eq!(ours, crash, "{}: foreach {comm} bt", cap.display());
        }
        let all = run(&mut s, "ps").json["tasks"].as_array().unwrap().clone();
        for st in ["RU", "IN", "UN", "ID"] {
            let want: Vec<i64> = all
                .iter()
                .filter(|t| t["state"] == st)
                .map(|t| t["pid"].as_i64().unwrap())
                .collect();
            let got: Vec<i64> = run(&mut s, &format!("foreach {st} ps")).json["tasks"]
                .as_array()
                .map(|v| v.iter().map(|t| t["pid"].as_i64().unwrap()).collect())
                .unwrap_or_default();
            assert_eq!(got, want, "{}: foreach {st} ps", cap.display());
        }
        let r = run(&mut s, "foreach UN task -R pid");
        assert_eq!(
            r.json["tasks"].as_array().unwrap().len(),
            all.iter().filter(|t| t["state"] == "UN").count()
        );
        assert_eq!(run(&mut s, "set").text, before);
    }
}

/// `kmem -i`, `kmem -s`, `kmem ADDRESS`, `files 1`, `mount`, `runq`, `net`, `irq -s`, `vtop`
/// (kernel and user addresses), `vm` (every task's, through `foreach`) and `tree` (rbtree,
/// XArray, maple) equal crash 8.0.6's (run now, on the module-race capture of
/// each kernel), and the filtered kdump gives the same numbers as the full ELF dump.
#[test]
fn kmem_and_vtop_equal_crash_806() {
    let Some(lab) = lab_dir() else { return };
    for cap in captures(&lab) {
        let mut s = session(&[cap.join("vmcore.elf")]);
        let ours_i = run(&mut s, "kmem -i").text;
        let ours_s = run(&mut s, "kmem -s").text;
        assert!(!ours_i.contains("WARNING"), "{}: {ours_i}", cap.display());
        assert!(!ours_s.contains("WARNING"), "{}: {ours_s}", cap.display());
        if cap.join("kdump-zlib-d31").is_file() {
            let mut d = session(&[cap.join("kdump-zlib-d31")]);
            assert_eq!(run(&mut d, "kmem -i").text, ours_i, "{}", cap.display());
            assert_eq!(run(&mut d, "kmem -s").text, ours_s, "{}", cap.display());
        }
        if !cap.ends_with("module-race") {
            continue;
        }
        // kmem ADDRESS: a task in its slab, an address inside it, init_task, jiffies.
        let task = run(&mut s, "ps -u").json["tasks"][0]["task"]
            .as_str()
            .unwrap()
            .to_string();
        let inside = format!("{:x}", u64::from_str_radix(&task, 16).unwrap() + 0x100);
        let sym = |s: &mut Session, n: &str| {
            let k = &s.kernel;
            format!("{:x}", k.symbol_addr(n).unwrap())
        };
        let addrs = [
            task.clone(),
            inside,
            sym(&mut s, "init_task"),
            sym(&mut s, "jiffies"),
        ];
        let kmem_addr: Vec<String> = addrs.iter().map(|a| format!("kmem {a}")).collect();
        // vtop: a slab object (direct map), init_task (kernel image), a module's code (vmalloc,
        // 4 KiB pages) and, through init's page tables, init's user stack pointer.
        let module_base = run(&mut s, "mod").json["modules"][0]["base"]
            .as_str()
            .expect("the module-race module")
            .to_string();
        let init_bt = run(&mut s, "bt 1").text;
        let user_sp = init_bt
            .rfind("RSP: ")
            .map(|at| init_bt[at + 5..at + 21].to_string())
            .expect("init's user registers");
        let init_mm = run(&mut s, "vm 1").json[0]["mm"]["mm"]
            .as_u64()
            .expect("init's mm");
        let vtops = [
            format!("vtop {}", addrs[0]),
            format!("vtop {}", addrs[2]),
            format!("vtop {module_base}"),
            format!("vtop -c 1 {user_sp}"),
            // A user address in no VMA.
            "vtop -c 1 1000".to_string(),
            // The direct map beyond RAM (the dumps' guests have 1 GiB): no page maps it, its
            // physical address is arithmetic.
            format!("vtop {:x}", s.kernel.mem.layout().page_offset_base.value + (2 << 30)),
            // Address spaces: init's, a kernel thread's (none), and every task's at once.
            "vm 1".to_string(),
            "vm 2".to_string(),
            "foreach vm".to_string(),
            // Trees: vmalloc's free areas (red-black; crash's pre-order, then sorted with
            // positions and members), the pid IDR (an XArray) and init's VMAs (a maple tree).
            "tree -t rbtree -o vmap_area.rb_node free_vmap_area_root".to_string(),
            "tree -t rbtree -l -p -o vmap_area.rb_node -s vmap_area.va_start,va_end free_vmap_area_root"
                .to_string(),
            "tree -t xarray -p -s pid.level -r pid_namespace.idr init_pid_ns".to_string(),
            format!("tree -t maple -p -r mm_struct.mm_mt {init_mm:x}"),
        ];
        let mut cmds = vec![
            "kmem -i", "kmem -s", "files 1", "mount", "runq", "net", "irq -s",
        ];
        cmds.extend(kmem_addr.iter().map(String::as_str));
        cmds.extend(vtops.iter().map(String::as_str));
        match crash806(&cap, &cmds) {
            Some(theirs)
                if theirs
                    .get("kmem -i")
                    .is_some_and(|t| t.contains("TOTAL MEM")) =>
            {
                assert_eq!(ours_i, theirs["kmem -i"], "{}: kmem -i", cap.display());
                assert_eq!(ours_s, theirs["kmem -s"], "{}: kmem -s", cap.display());
                for c in ["files 1", "mount", "runq", "net", "irq -s"] {
                    assert_eq!(run(&mut s, c).text, theirs[c], "{}: {c}", cap.display());
                }
                for c in &kmem_addr {
                    assert_eq!(run(&mut s, c).text, theirs[c], "{}: {c}", cap.display());
                }
                for c in &vtops {
                    assert_eq!(
                        trimmed(&run(&mut s, c).text),
                        trimmed(&theirs[c]),
                        "{}: {c}",
                        cap.display()
                    );
                }
            }
            _ => eprintln!("note: {}: crash 8.0.6 not available", cap.display()),
        }
    }
}

/// Commands compared as text with crash 8.0.6 on every capture it can open: `ps -l`/`-m`
/// (when tasks last ran; for a task given by pid the times align on the days), `eval`, `btop`,
/// `ptob`, `ascii VALUE`, `swap` (no swap in these guests: the header), `pte` of present and empty entries (crash's number rules; no shell metacharacters here, crash's `echo` separator would
/// expand them), `timer` (on 6.9+ kernels kdive shows the third, deferrable timer base that
/// crash 8.0.6 misses; the comparison drops it), `sig` (dispositions, pending and blocked sets), `kmem -V` (VM counters named by the kernel's enums), `kmem -v` (vmalloc areas; 6.9+ from the per-node busy lists), `irq` (descriptors, in use, affinity, softirqs).
#[test]
fn task_and_system_views_equal_crash_806() {
    let Some(lab) = lab_dir() else { return };
    let cmds = [
        "ps -l",
        "ps -m",
        "ps -m 1",
        "ps -l -u 2",
        "eval 0x3000 / 3",
        "eval -b 0xff00",
        "eval jiffies + 8",
        "eval -1",
        "eval 2g / 4m",
        "btop 0x5000 fff 12345678",
        "ptob 12 0x10 ff",
        "ascii 62696c2f7273752f 0x7f41 ffffffff8e810e3d",
        "swap",
        "pte 8000000082554067 0 1e3 8000000001a001e3",
        "timer",
        "timer -C 1",
        "sig 1",
        "sig -g 1",
        "sig 2",
        "sig -l",
        "sig -s 0x80000000000d0101",
        "kmem -V",
        "kmem -v",
        "irq",
        "irq -u",
        "irq -a",
        "irq -b",
        "irq 1 4",
    ];
    for cap in captures(&lab) {
        let Some(theirs) =
            crash806(&cap, &cmds).filter(|t| t.get("ps -l").is_some_and(|t| t.contains("PID:")))
        else {
            eprintln!("note: {}: crash 8.0.6 not available", cap.display());
            continue;
        };
        let mut s = session(&[cap.join("vmcore.elf")]);
        for c in cmds {
            let mut ours = run(&mut s, c).text;
            if c.starts_with("timer") && ours.contains("[BASE_GLOBAL]") {
                ours = as_crash_806_sees_three_timer_bases(&ours);
            }
            assert_eq!(ours, theirs[c], "{}: {c}", cap.display());
        }
    }
}

/// 6.9+ kernels have three timer bases per CPU (local, global, deferrable); crash 8.0.6 reads
/// two, calls them BASE_STD and BASE_DEF, and misses the deferrable timers. Our `timer`
/// text with the third base's blocks dropped and the first two renamed, for comparison.
fn as_crash_806_sees_three_timer_bases(ours: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in ours.split_inclusive('\n') {
        if line.starts_with("TIMER_BASES[") {
            skipping = line.contains("[BASE_DEF]");
        } else if line == "\n" {
            skipping = false;
        }
        if !skipping {
            out.push_str(
                &line
                    .replace("[BASE_LOCAL]", "[BASE_STD]")
                    .replace("[BASE_GLOBAL]", "[BASE_DEF]"),
            );
        }
    }
    out
}

/// `mach` equals crash 8.0.6's except where crash is wrong: on 6.1 it labels the MCE stack
/// "(unknown)" with size 0 and the stack's top as its base, it omits the VC2 stack, and on
/// 6.12 says HZ 1000 — kdive's HZ must equal the kernel's own CONFIG_HZ (the lab keeps
/// the config beside the vmlinux).
#[test]
fn mach_equals_crash_806_where_crash_is_right() {
    let Some(lab) = lab_dir() else { return };
    for cap in captures(&lab) {
        if !cap.ends_with("module-race") {
            continue;
        }
        let Some(theirs) = crash806(&cap, &["mach"]).and_then(|t| t.get("mach").cloned()) else {
            eprintln!("note: {}: crash 8.0.6 not available", cap.display());
            continue;
        };
        let mut s = session(&[cap.join("vmcore.elf")]);
        let ours = run(&mut s, "mach").text;
        let vmlinux = PathBuf::from(manifest(&cap, "vmlinux").expect("vmlinux in MANIFEST"));
        if let Ok(config) = std::fs::read_to_string(vmlinux.with_file_name("config")) {
            let hz = config
                .lines()
                .find_map(|l| l.strip_prefix("CONFIG_HZ="))
                .expect("CONFIG_HZ");
            assert!(
                ours.contains(&format!("\n                    HZ: {hz}\n")),
                "{}: {ours}",
                cap.display()
            );
        }
        // crash 8.0.6 names the MCE stack on 6.12, not on 6.1.
        let ours_dropped: &[&str] = if theirs.contains("(unknown) STACK SIZE") {
            &["MCE", "VC2"]
        } else {
            &["VC2"]
        };
        assert_eq!(
            without_stacks(&ours, ours_dropped),
            without_stacks(&theirs, &["(unknown)"]),
            "{}",
            cap.display()
        );
    }
}

/// `mach` text without the HZ line and without the named stacks' blocks.
fn without_stacks(text: &str, labels: &[&str]) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        let t = line.trim_start();
        if labels
            .iter()
            .any(|l| t.starts_with(&format!("{l} STACK SIZE:")))
        {
            skipping = true;
            continue;
        }
        if skipping && (t.ends_with("STACKS:") || t.starts_with("CPU ")) {
            continue;
        }
        skipping = false;
        if !t.starts_with("HZ:") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// `bt -t` / `bt -T` (text symbols on the stacks) equal crash 8.0.6's on both kernels: the
/// sleeping module remover, init, a kernel thread's whole stack, the panic task, and the
/// idle task (on 6.12 interrupted by the crash NMI: the exception block, then the task
/// stack). Names may differ only where one address has two names: kdive keeps the symbol's
/// own name (`kdive_race_exit`, `set_ptes.isra.0`) where crash shows an alias
/// (`cleanup_module`) or drops the compiler's suffix.
#[test]
fn bt_text_symbols_equal_crash_806() {
    let Some(lab) = lab_dir() else { return };
    for cap in captures(&lab) {
        if !cap.ends_with("module-race") {
            continue;
        }
        // With the vmlinux: its ORC tables find the crash handler's frames below the oops.
        let Some(vmlinux) = manifest(&cap, "vmlinux") else {
            continue;
        };
        let mut s = session(&[PathBuf::from(vmlinux), cap.join("vmcore.elf")]);
        let rmmod = run(&mut s, "ps rmmod").json["tasks"][0]["pid"]
            .as_i64()
            .expect("the rmmod task");
        let cmds: Vec<String> = [
            format!("bt -t {rmmod}"),
            format!("bt -T {rmmod}"),
            "bt -t 1".into(),
            "bt -T 2".into(),
            "bt -t".into(),
            "bt -t 0".into(),
        ]
        .into();
        let refs: Vec<&str> = cmds.iter().map(String::as_str).collect();
        let Some(theirs) =
            crash806(&cap, &refs).filter(|t| t.values().any(|v| v.contains("START:")))
        else {
            eprintln!("note: {}: crash 8.0.6 not available", cap.display());
            continue;
        };
        for c in &cmds {
            let ours = run(&mut s, c).text;
            let (a, b): (Vec<&str>, Vec<&str>) =
                (ours.lines().collect(), theirs[c].lines().collect());
            assert_eq!(
                a.len(),
                b.len(),
                "{}: {c}\nkdive:\n{ours}\ncrash:\n{}",
                cap.display(),
                theirs[c]
            );
            for (x, y) in a.iter().zip(&b) {
                if x == y {
                    continue;
                }
                let (nx, ny) = (text_line_name(x), text_line_name(y));
                let same_place = x.replace(nx, "") == y.replace(ny, "");
                let one_address = |s: &mut Session, n: &str| match s.run(&format!("sym {n}")) {
                    Ok(Outcome::Report(r)) => r.text.split_whitespace().next().map(str::to_string),
                    _ => None,
                };
                let suffix = nx.split('.').next() == Some(ny);
                let alias = suffix || {
                    let a = one_address(&mut s, nx);
                    a.is_some() && a == one_address(&mut s, ny)
                };
                assert!(
                    same_place && (alias || suffix),
                    "{}: {c}: {x:?} vs crash {y:?}",
                    cap.display()
                );
            }
        }
    }
}

/// The function name of a `  [SLOT] NAME at ADDR` line.
fn text_line_name(line: &str) -> &str {
    line.split_whitespace().nth(1).unwrap_or("")
}
