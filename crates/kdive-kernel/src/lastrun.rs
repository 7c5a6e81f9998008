//! When each task last ran: its own timestamp (`task_struct.last_run`, `.timestamp`, or
//! `sched_info.last_arrival` since 2.6.23) and the clock of a CPU's run queue (`rq.clock`) it
//! is measured against — what `ps -l`/`ps -m` show and what hung-task triage needs.

use crate::{AddrExt, Kernel, Result};

impl Kernel {
    /// The task's last-run timestamp, in the member this kernel has (nanoseconds of its CPU's
    /// `rq.clock` for `sched_info.last_arrival`, jiffies on kernels with `last_run`).
    pub fn task_last_run(&self, task: u64) -> Result<u64> {
        for member in ["last_run", "timestamp"] {
            if self.layout.has_member("task_struct", member) {
                let off = self.layout.offset("task_struct", member)?;
                return self.read_u64(task.off(off), &format!("task_struct.{member}"));
            }
        }
        let off = self.layout.offset("task_struct", "sched_info")?
            + self.layout.offset("sched_info", "last_arrival")?;
        self.read_u64(task.off(off), "task_struct.sched_info.last_arrival")
    }

    /// `rq.clock` of a CPU's run queue: the time the scheduler last took, in nanoseconds.
    pub fn rq_clock(&self, cpu: u32) -> Result<u64> {
        let rq = self.per_cpu_addr(self.symbol_addr("runqueues")?, cpu)?;
        let off = self.layout.offset("rq", "clock")?;
        self.read_u64(rq.off(off), &format!("runqueues[{cpu}].clock"))
    }
}
