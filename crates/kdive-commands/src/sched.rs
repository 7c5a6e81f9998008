//! `runq` (each CPU's run queue: current task, RT and CFS queued tasks), in crash's layout.

use crate::{CmdError, Report, Session};
use serde_json::json;

pub const RUNQ_USAGE: &str = "runq";

pub fn run_runq(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    if !args.is_empty() {
        return Err(CmdError::Usage(format!("runq: usage: {RUNQ_USAGE}")));
    }
    let table = s.tasks.table(&s.kernel)?;
    let k = &s.kernel;
    let rqs = k.run_queues()?;
    let line = |addr: u64| -> String {
        match table.by_addr(addr) {
            Some(t) => format!(
                "PID: {:<6} TASK: {:x}  COMMAND: \"{}\"",
                t.pid, t.addr, t.comm
            ),
            None => format!("TASK: {addr:x}"),
        }
    };
    let mut blocks = Vec::new();
    for rq in &rqs {
        let mut b = format!("CPU {} RUNQUEUE: {:x}\n", rq.cpu, rq.rq);
        b.push_str(&format!("  CURRENT: {}\n", line(rq.curr)));
        b.push_str(&format!("  RT PRIO_ARRAY: {:x}\n", rq.rt_array));
        if rq.rt.is_empty() {
            b.push_str("     [no tasks queued]\n");
        }
        for (prio, t) in &rq.rt {
            b.push_str(&format!("     [{prio:3}] {}\n", line(*t)));
        }
        b.push_str(&format!("  CFS RB_ROOT: {:x}\n", rq.cfs_root));
        if rq.cfs.is_empty() {
            b.push_str("     [no tasks queued]\n");
        }
        for (prio, t) in &rq.cfs {
            b.push_str(&format!("     [{prio}] {}\n", line(*t)));
        }
        for p in &rq.problems {
            b.push_str(&format!("WARNING: {p}\n"));
        }
        blocks.push(b);
    }
    Ok(Report::new(blocks.join("\n"), json!(rqs)))
}
