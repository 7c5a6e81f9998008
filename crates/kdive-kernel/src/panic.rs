//! The panic: which CPU and task panicked, and the message crash shows as PANIC.

use crate::printk::Log;
use crate::{Kernel, Result};

/// The panicking CPU and its task.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PanicContext {
    pub cpu: u32,
    pub task: u64,
    /// Where the CPU number came from.
    pub source: &'static str,
}

impl Kernel {
    /// The CPU that panicked (`panic_cpu`, set by panic() and crash_kexec()), then `crashing_cpu`,
    /// then the kdump header's current CPU.
    pub fn panic_cpu(&self) -> Result<(u32, &'static str)> {
        for sym in ["panic_cpu", "crashing_cpu"] {
            if let Ok(a) = self.symbol_addr(sym) {
                let v = self.read_u32(a, sym)? as i32;
                if v >= 0 {
                    return Ok((v as u32, sym));
                }
            }
        }
        if let Some(c) = self.dump.header().current_cpu {
            return Ok((c, "dump header"));
        }
        Err(crate::Error::MissingSymbol("panic_cpu".into()))
    }

    pub fn panic_context(&self) -> Result<PanicContext> {
        let (cpu, source) = self.panic_cpu()?;
        Ok(PanicContext {
            cpu,
            task: self.cpu_current(cpu)?,
            source,
        })
    }
}

/// The panic line crash shows, searched in the log the way crash 8 does: fault lines first,
/// then SysRq crash, then Oops/BUG lines, then "Kernel panic" lines.
pub fn panic_message(log: &Log) -> Option<String> {
    let lines: Vec<&str> = log
        .records
        .iter()
        .flat_map(|r| r.text.split('\n'))
        .collect();
    let find = |pats: &[&str]| {
        lines
            .iter()
            .find(|l| pats.iter().any(|p| l.contains(p)))
            .map(|l| l.trim_end().to_string())
    };
    find(&[
        "general protection fault: ",
        "double fault: ",
        "divide error: ",
        "stack segment: ",
    ])
    .or_else(|| {
        find(&[
            "SysRq : Netdump",
            "SysRq : Crash",
            "SysRq : Trigger a crash",
        ])
    })
    .or_else(|| {
        find(&[
            "Oops: ",
            "Kernel BUG at",
            "kernel BUG at",
            "Unable to handle kernel paging request",
            "Unable to handle kernel NULL pointer dereference",
            "BUG: unable to handle kernel ",
        ])
    })
    .or_else(|| find(&["Kernel panic: ", "Kernel panic - "]))
    .or_else(|| find(&["[Hardware Error]: "]))
    .or_else(|| find(&["Bad mode in "]))
}

/// True when the log shows a SysRq-triggered crash in crash's spelling.
pub fn sysrq_crash(log: &Log) -> bool {
    log.records
        .iter()
        .any(|r| r.text.contains("SysRq : Crash") || r.text.contains("SysRq : Trigger a crash"))
}
