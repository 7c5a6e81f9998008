//! What the kernel said about its own death: the first fault report in the log (page fault,
//! general protection, BUG, soft lockup, hung task, SysRq, stack corruption) and the final
//! panic line, read from the kernel's own wording of each report.

use crate::printk::Log;
use serde::Serialize;

/// Bound on hung tasks kept from one log (a log can report thousands).
const MAX_HUNG: usize = 64;

/// The kind of event that brought the machine down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// "BUG: kernel NULL pointer dereference, address: X".
    NullPointer { address: u64 },
    /// "BUG: unable to handle page fault for address: X" (or the older paging-request line).
    PageFault { address: u64 },
    /// "general protection fault[, probably for non-canonical address X]".
    GeneralProtection { address: Option<u64> },
    /// "kernel BUG at FILE:LINE!".
    Bug { location: String },
    /// "WARNING: CPU: N PID: P at LOCATION" that panicked (panic_on_warn).
    Warning { location: String },
    /// "watchdog: BUG: soft lockup - CPU#N stuck for Ss! [COMM:PID]".
    SoftLockup {
        cpu: u32,
        seconds: u64,
        comm: String,
        pid: i32,
    },
    /// "Watchdog detected hard LOCKUP on cpu N".
    HardLockup { cpu: u32 },
    /// "INFO: task COMM:PID blocked for more than N seconds." (hung_task_panic).
    HungTask { tasks: Vec<HungTask> },
    /// "rcu: INFO: rcu_sched self-detected stall on CPU" and the like.
    RcuStall { line: String },
    /// A crash asked for by hand: "sysrq: Trigger a crash".
    Sysrq,
    /// "corrupted stack end detected inside scheduler" (CONFIG_SCHED_STACK_END_CHECK).
    StackEnd,
    /// "stack-protector: Kernel stack is corrupted in: FUNC".
    StackProtector { function: String },
    /// Any other panic: its reason.
    Panic { reason: String },
}

/// One task khungtaskd reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HungTask {
    pub comm: String,
    pub pid: i32,
    pub seconds: u64,
}

/// The fault report: its kind, the lines that describe it, and the panic that followed.
#[derive(Debug, Clone, Serialize)]
pub struct OopsReport {
    pub kind: FaultKind,
    /// The report's first line, as logged.
    pub headline: String,
    /// "supervisor read access in kernel mode" (a page fault's `#PF:` line).
    pub access: Option<String>,
    /// "error_code(0x0000) - not-present page".
    pub error_code: Option<String>,
    /// "Oops: 0000 [#1] PREEMPT SMP NOPTI".
    pub oops: Option<String>,
    /// "events kdive_race_reset [kdive_race]": the work item the CPU was running.
    pub workqueue: Option<String>,
    /// "kdive_race_reinit_rings+0x25/0xb0 [kdive_race]" from the first kernel-mode `RIP:` line.
    pub rip: Option<String>,
    /// "CPU: 1 PID: 29 Comm: kworker/1:1 ..." of the report.
    pub cpu_line: Option<String>,
    /// "Modules linked in: ..." of the report.
    pub modules: Option<String>,
    /// The reason after "Kernel panic - not syncing: ".
    pub panic_reason: Option<String>,
}

fn hex_after(line: &str, marker: &str) -> Option<u64> {
    let rest = line.split(marker).nth(1)?.trim_start();
    let rest = rest.trim_start_matches("0x");
    let digits: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
    u64::from_str_radix(&digits, 16).ok()
}

/// "COMM:PID blocked for more than N seconds."
fn hung_task(line: &str) -> Option<HungTask> {
    let rest = line.split("INFO: task ").nth(1)?;
    let (who, tail) = rest.split_once(" blocked for more than ")?;
    let (comm, pid) = who.rsplit_once(':')?;
    let seconds = tail.split_whitespace().next()?.parse().ok()?;
    Some(HungTask {
        comm: comm.to_string(),
        pid: pid.parse().ok()?,
        seconds,
    })
}

/// "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [comm:123]".
fn soft_lockup(line: &str) -> Option<FaultKind> {
    let rest = line.split("soft lockup - CPU#").nth(1)?;
    let (cpu, rest) = rest.split_once(' ')?;
    let secs = rest.split("stuck for ").nth(1)?;
    let seconds = secs
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()?;
    let who = rest.rsplit_once('[')?.1.trim_end_matches(']');
    let (comm, pid) = who.rsplit_once(':')?;
    Some(FaultKind::SoftLockup {
        cpu: cpu.parse().ok()?,
        seconds,
        comm: comm.to_string(),
        pid: pid.parse().ok()?,
    })
}

/// The fault a line starts, if it starts one. (6.12 prefixes some reports with "Oops: ".)
fn fault_of(line: &str) -> Option<FaultKind> {
    let line = line.strip_prefix("Oops: ").unwrap_or(line);
    if line.contains("BUG: kernel NULL pointer dereference") {
        return Some(FaultKind::NullPointer {
            address: hex_after(line, "address:").unwrap_or(0),
        });
    }
    if line.contains("BUG: unable to handle page fault for address:") {
        return Some(FaultKind::PageFault {
            address: hex_after(line, "address:")?,
        });
    }
    if line.contains("unable to handle kernel paging request at") {
        return Some(FaultKind::PageFault {
            address: hex_after(line, "request at")?,
        });
    }
    if line.contains("unable to handle kernel NULL pointer dereference at") {
        return Some(FaultKind::NullPointer {
            address: hex_after(line, "dereference at").unwrap_or(0),
        });
    }
    if line.starts_with("general protection fault") {
        return Some(FaultKind::GeneralProtection {
            address: hex_after(line, "non-canonical address"),
        });
    }
    if let Some(rest) = line.split("kernel BUG at ").nth(1) {
        return Some(FaultKind::Bug {
            location: rest.trim_end_matches('!').to_string(),
        });
    }
    if line.contains("soft lockup - CPU#") {
        return soft_lockup(line);
    }
    if let Some(rest) = line.split("hard LOCKUP on cpu ").nth(1) {
        return Some(FaultKind::HardLockup {
            cpu: rest.trim().parse().ok()?,
        });
    }
    if line.contains("INFO: task ") && line.contains(" blocked for more than ") {
        return Some(FaultKind::HungTask {
            tasks: hung_task(line).into_iter().collect(),
        });
    }
    if line.contains("stall on CPU") || line.contains("detected stalls on CPUs") {
        return Some(FaultKind::RcuStall {
            line: line.to_string(),
        });
    }
    if line.contains("Trigger a crash") && line.to_ascii_lowercase().starts_with("sysrq") {
        return Some(FaultKind::Sysrq);
    }
    if let Some(rest) = line.split("Kernel stack is corrupted in: ").nth(1) {
        return Some(FaultKind::StackProtector {
            function: rest.trim().to_string(),
        });
    }
    if line.starts_with("WARNING: CPU: ") {
        let location = line
            .split(" at ")
            .nth(1)
            .unwrap_or_default()
            .trim()
            .to_string();
        return Some(FaultKind::Warning { location });
    }
    None
}

/// Reads the fault report out of the log: the first fault line (a later oops is usually a
/// consequence of the first), its detail lines up to the next fault, and the last panic line.
/// None when the log shows neither a fault nor a panic.
pub fn oops_report(log: &Log) -> Option<OopsReport> {
    let lines: Vec<&str> = log
        .records
        .iter()
        .flat_map(|r| r.text.split('\n'))
        .map(str::trim_end)
        .collect();
    // The panic's own line, not its "---[ end Kernel panic - not syncing: X ]---" trailer.
    let panic_reason = lines
        .iter()
        .rev()
        .filter(|l| !l.starts_with("---[ end "))
        .find_map(|l| l.split("Kernel panic - not syncing: ").nth(1))
        .map(str::to_string);
    let start = lines.iter().position(|l| fault_of(l).is_some());
    let (mut kind, headline, start) = match start {
        Some(i) => (fault_of(lines[i])?, lines[i].to_string(), i),
        None => {
            let reason = panic_reason.clone()?;
            let kind = if reason.contains("corrupted stack end detected") {
                FaultKind::StackEnd
            } else {
                FaultKind::Panic {
                    reason: reason.clone(),
                }
            };
            let i = lines.iter().rposition(|l| {
                l.contains("Kernel panic - not syncing: ") && !l.starts_with("---[ end ")
            })?;
            (kind, lines[i].to_string(), i)
        }
    };
    let mut r = OopsReport {
        kind: FaultKind::Sysrq,
        headline,
        access: None,
        error_code: None,
        oops: None,
        workqueue: None,
        rip: None,
        cpu_line: None,
        modules: None,
        panic_reason,
    };
    // Hung tasks: every report, not only the first.
    if let FaultKind::HungTask { tasks } = &mut kind {
        tasks.clear();
        for l in &lines[start..] {
            if let Some(t) = hung_task(l) {
                if tasks.len() < MAX_HUNG && !tasks.contains(&t) {
                    tasks.push(t);
                }
            }
        }
    }
    for l in &lines[start + 1..] {
        if fault_of(l).is_some() && !matches!(kind, FaultKind::HungTask { .. }) {
            break;
        }
        let set = |slot: &mut Option<String>, v: &str| {
            if slot.is_none() {
                *slot = Some(v.trim().to_string());
            }
        };
        if let Some(v) = l.strip_prefix("#PF: error_code") {
            set(&mut r.error_code, &format!("error_code{v}"));
        } else if let Some(v) = l.strip_prefix("#PF: ") {
            set(&mut r.access, v);
        } else if let Some(v) = l
            .split("Oops: ")
            .last()
            .filter(|_| l.starts_with("Oops: ") && fault_of(l).is_none())
        {
            set(&mut r.oops, v);
        } else if let Some(v) = l.strip_prefix("Workqueue: ") {
            set(&mut r.workqueue, v);
        } else if let Some(v) = l.strip_prefix("RIP: 0010:") {
            set(&mut r.rip, v);
        } else if l.starts_with("CPU: ") && l.contains(" PID: ") {
            set(&mut r.cpu_line, l);
        } else if let Some(v) = l.strip_prefix("Modules linked in:") {
            set(&mut r.modules, v);
        }
    }
    r.kind = kind;
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printk::LogRecord;

    fn log(lines: &[&str]) -> Log {
        Log {
            records: lines
                .iter()
                .enumerate()
                .map(|(i, t)| LogRecord {
                    seq: i as u64,
                    ts_nsec: 0,
                    level: None,
                    caller_id: 0,
                    text: t.to_string(),
                })
                .collect(),
            problems: vec![],
        }
    }

    #[test]
    fn null_pointer_oops() {
        let r = oops_report(&log(&[
            "kdive_race: fatal interrupt 0x4001607, resetting",
            "BUG: kernel NULL pointer dereference, address: 00000000000001a0",
            "#PF: supervisor read access in kernel mode",
            "#PF: error_code(0x0000) - not-present page",
            "PGD 0 P4D 0 ",
            "Oops: Oops: 0000 [#1] PREEMPT SMP NOPTI",
            "CPU: 1 PID: 29 Comm: kworker/1:1 Kdump: loaded Tainted: G OE 6.1.0 #1",
            "Workqueue: events kdive_race_reset [kdive_race]",
            "RIP: 0010:kdive_race_reinit_rings+0x25/0xb0 [kdive_race]",
            "Modules linked in: kdive_race(OE-)",
            "Kernel panic - not syncing: Fatal exception",
            "---[ end Kernel panic - not syncing: Fatal exception ]---",
        ]))
        .unwrap();
        assert_eq!(r.kind, FaultKind::NullPointer { address: 0x1a0 });
        assert_eq!(
            r.access.as_deref(),
            Some("supervisor read access in kernel mode")
        );
        assert_eq!(
            r.error_code.as_deref(),
            Some("error_code(0x0000) - not-present page")
        );
        assert_eq!(r.oops.as_deref(), Some("0000 [#1] PREEMPT SMP NOPTI"));
        assert_eq!(
            r.workqueue.as_deref(),
            Some("events kdive_race_reset [kdive_race]")
        );
        assert_eq!(
            r.rip.as_deref(),
            Some("kdive_race_reinit_rings+0x25/0xb0 [kdive_race]")
        );
        assert_eq!(r.modules.as_deref(), Some("kdive_race(OE-)"));
        assert_eq!(r.panic_reason.as_deref(), Some("Fatal exception"));
    }

    /// Lines the kernel writes around a fault, each cut anywhere and mixed with noise.
    const FRAGMENTS: &[&str] = &[
        "BUG: kernel NULL pointer dereference, address: 00000000000001a0",
        "BUG: unable to handle page fault for address: ffffc90000a1b000",
        "Oops: general protection fault, probably for non-canonical address 0x6b6b6b6b6b6b6b8b: 0000",
        "watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [insmod:812]",
        "INFO: task dd:109 blocked for more than 3 seconds.",
        "Watchdog detected hard LOCKUP on cpu 3",
        "kernel BUG at mm/slub.c:321!",
        "WARNING: CPU: 0 PID: 1 at kernel/foo.c:12 foo+0x1/0x2",
        "#PF: supervisor read access in kernel mode",
        "#PF: error_code(0x0000) - not-present page",
        "Oops: 0000 [#1] PREEMPT SMP NOPTI",
        "Kernel panic - not syncing: Fatal exception",
        "---[ end Kernel panic - not syncing: Fatal exception ]---",
        "sysrq: Trigger a crash",
        "stack-protector: Kernel stack is corrupted in: foo",
        "RIP: 0010:kdive_race_reinit_rings+0x25/0xb0 [kdive_race]",
    ];

    proptest::proptest! {
        /// Whatever the log holds (cut, mixed, garbage), reading the report never panics,
        /// and a report's headline is one of the log's lines.
        #[test]
        fn any_log_reads(parts in proptest::collection::vec(
            (0..FRAGMENTS.len(), 0usize..120, "\\PC{0,40}"), 0..24)
        ) {
            let lines: Vec<String> = parts
                .iter()
                .map(|(i, cut, noise)| {
                    let f = FRAGMENTS[*i];
                    let mut end = (*cut).min(f.len());
                    while !f.is_char_boundary(end) {
                        end -= 1;
                    }
                    format!("{}{noise}", &f[..end])
                })
                .collect();
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            if let Some(r) = oops_report(&log(&refs)) {
                proptest::prop_assert!(lines.iter().any(|l| l.trim_end() == r.headline));
            }
        }
    }

    #[test]
    fn other_kinds() {
        let kind = |lines: &[&str]| oops_report(&log(lines)).map(|r| r.kind);
        assert_eq!(
            kind(&[
                "INFO: task dd:109 blocked for more than 3 seconds.",
                "INFO: task tee:113 blocked for more than 3 seconds.",
                "Kernel panic - not syncing: hung_task: blocked tasks",
            ]),
            Some(FaultKind::HungTask {
                tasks: vec![
                    HungTask {
                        comm: "dd".into(),
                        pid: 109,
                        seconds: 3
                    },
                    HungTask {
                        comm: "tee".into(),
                        pid: 113,
                        seconds: 3
                    }
                ]
            })
        );
        assert_eq!(
            kind(&[
                "sysrq: Trigger a crash",
                "Kernel panic - not syncing: sysrq triggered crash"
            ]),
            Some(FaultKind::Sysrq)
        );
        assert_eq!(
            kind(&["Kernel panic - not syncing: corrupted stack end detected inside scheduler"]),
            Some(FaultKind::StackEnd)
        );
        assert_eq!(
            kind(&["watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [insmod:812]"]),
            Some(FaultKind::SoftLockup {
                cpu: 1,
                seconds: 22,
                comm: "insmod".into(),
                pid: 812
            })
        );
        assert_eq!(
            kind(&["general protection fault, probably for non-canonical address 0xdead000000000122: 0000 [#1] SMP"]),
            Some(FaultKind::GeneralProtection {
                address: Some(0xdead000000000122)
            })
        );
        assert_eq!(
            kind(&["Oops: general protection fault, probably for non-canonical address 0x6b6b6b6b6b6b6b8b: 0000 [#1] PREEMPT SMP NOPTI"]),
            Some(FaultKind::GeneralProtection {
                address: Some(0x6b6b6b6b6b6b6b8b)
            })
        );
        assert_eq!(
            kind(&["kernel BUG at mm/slub.c:321!"]),
            Some(FaultKind::Bug {
                location: "mm/slub.c:321".into()
            })
        );
        assert_eq!(
            kind(&["BUG: unable to handle page fault for address: ffffc90000a1b000"]),
            Some(FaultKind::PageFault {
                address: 0xffffc90000a1b000
            })
        );
        assert_eq!(kind(&["all quiet"]), None);
        assert_eq!(
            kind(&["Kernel panic - not syncing: VFS: Unable to mount root fs"]),
            Some(FaultKind::Panic {
                reason: "VFS: Unable to mount root fs".into()
            })
        );
    }
}
