//! `timer -r` (hrtimers) on the lab's real dumps, compared with crash 8.0.6 as text. Skipped,
//! with a note, when the lab cache or crash 8.0.6 is absent.

mod common;
use common::*;

use kdive_lab::{capture_dirs as captures, lab_dir, manifest};
use std::collections::HashMap;
use std::path::PathBuf;

/// A number printed after `label` in `text` (`HZ: 1000`, `$1 = 8649377116`).
fn number_after(text: &str, label: &str) -> Option<u64> {
    let at = text.find(label)? + label.len();
    text[at..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// `timer -r` and `timer -r -C 1` equal crash 8.0.6's text where crash is right. crash
/// computes each clock base's CURRENT time as jiffies since boot times its HZ's tick length,
/// plus the base's offset (kdive does the same). On 6.12 crash 8.0.6 takes HZ to be 1000
/// (see `mach`) where the kernel has CONFIG_HZ=250, so its jiffies since boot (jiffies less
/// -300 * HZ) and tick length are both wrong: CURRENT is 227 s where the kernel is 8.9 s
/// past boot, and every TTE is off by as much (the timers seem long expired). There kdive must use the kernel's
/// own HZ, and its bases rendered under crash's HZ must then equal crash's text exactly: the
/// clock bases, timers, expiries, addresses and functions all agree.
#[test]
fn hrtimers_equal_crash_806_where_crash_is_right() {
    let Some(lab) = lab_dir() else { return };
    let cmds = ["timer -r", "timer -r -C 1", "mach"];
    let mut compared = 0;
    // Every capture: module-race, hung, sysrq, and on 6.1 `scale` (many CPUs).
    for cap in captures(&lab) {
        let Some(theirs) =
            crash806(&cap, &cmds).filter(|t| t.get("mach").is_some_and(|m| m.contains("HZ:")))
        else {
            eprintln!("note: {}: crash 8.0.6 not available", cap.display());
            continue;
        };
        let their_hz = number_after(&theirs["mach"], "HZ:").expect("crash's HZ") as u32;
        let vmlinux = PathBuf::from(manifest(&cap, "vmlinux").expect("vmlinux in MANIFEST"));
        // With the vmlinux: its DWARF types `tk_core`, read below.
        let mut s = session(&[vmlinux.clone(), cap.join("vmcore.elf")]);
        let config_hz = std::fs::read_to_string(vmlinux.with_file_name("config"))
            .ok()
            .and_then(|c| number_after(&c, "\nCONFIG_HZ="));
        // The jiffies clock must be within a few ticks of the timekeeper's last update.
        let mono = number_after(&run(&mut s, "p tk_core.timekeeper.tkr_mono.base").text, "=")
            .expect("tkr_mono.base");
        for c in ["timer -r", "timer -r -C 1"] {
            let what = format!("{}: {c}", cap.display());
            let ours = run(&mut s, c);
            let hz = ours.json["hz"].as_u64().expect("hz") as u32;
            if let Some(config_hz) = config_hz {
                assert_eq!(u64::from(hz), config_hz, "{what}");
            }
            let uptime = ours.json["uptime_jiffies"]
                .as_u64()
                .expect("uptime_jiffies");
            let now0 = kdive_commands::hrtimer::monotonic_from_jiffies(uptime, hz);
            assert!(
                now0 >= mono && now0 - mono < 2_000_000_000,
                "{what}: jiffies clock {now0} vs tkr_mono.base {mono}"
            );
            if hz == their_hz {
                assert_eq!(ours.text, theirs[c], "{what}");
                continue;
            }
            assert_ne!(
                ours.text, theirs[c],
                "{what}: crash's HZ {their_hz} should show"
            );
            // Our bases, rendered with crash's CURRENT (its HZ), named as we named them.
            let mut names = HashMap::new();
            let mut cpus = Vec::new();
            for cpu in ours.json["cpus"].as_array().expect("cpus") {
                cpus.push(cpu["cpu"].as_u64().expect("cpu") as u32);
                for b in cpu["clock_bases"].as_array().expect("clock_bases") {
                    if let (Some(f), Some(n)) =
                        (b["get_time"].as_u64(), b["get_time_symbol"].as_str())
                    {
                        names.insert(f, n.to_string());
                    }
                    for t in b["timers"].as_array().expect("timers") {
                        let f = t["function"].as_u64().expect("function");
                        names.insert(f, t["symbol"].as_str().expect("symbol").to_string());
                    }
                }
            }
            // crash's jiffies since boot: less its INITIAL_JIFFIES, (u32)(-300 * HZ).
            let jiffies = ours.json["jiffies"].as_u64().expect("jiffies");
            let their_uptime = jiffies.wrapping_sub(u64::from((-300 * their_hz as i32) as u32));
            let bases = s.kernel.hrtimer_bases(&cpus).expect("hrtimer bases");
            let as_crash = kdive_commands::hrtimer::render(
                &bases,
                kdive_commands::hrtimer::monotonic_from_jiffies(their_uptime, their_hz),
                &|f| names.get(&f).cloned().unwrap_or_default(),
            );
            assert_eq!(as_crash, theirs[c], "{what} (under crash's HZ {their_hz})");
        }
        compared += 1;
    }
    eprintln!("compared timer -r on {compared} captures");
}
