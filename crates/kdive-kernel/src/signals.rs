//! A task's signal state: its thread group's dispositions (`sighand->action[]`), the
//! signals it blocks, and what is pending — for the task (`task->pending`) and for the
//! whole group (`signal->shared_pending`) — with the queued `sigqueue`s.

use crate::{AddrExt, Kernel, Result};

/// Queued signals read per list at most.
const MAX_QUEUED: usize = 1 << 16;

/// One `struct k_sigaction`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SigAction {
    pub signo: u32,
    /// Kernel address of the `k_sigaction`.
    pub addr: u64,
    /// `sa_handler` (0 = SIG_DFL, 1 = SIG_IGN, -1 = SIG_ERR, else a user address).
    pub handler: u64,
    pub flags: u64,
    /// `sa_mask`, first word.
    pub mask: u64,
}

/// A pending set and its queue: (signal number, address of the `sigqueue.info`).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Pending {
    pub signal: u64,
    pub queue: Vec<(i32, u64)>,
    pub problem: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SignalState {
    pub signal_struct: u64,
    pub nr_threads: Option<i32>,
    pub sighand: u64,
    pub actions: Vec<SigAction>,
    /// `TIF_SIGPENDING` in the thread flags.
    pub sigpending: bool,
    pub blocked: u64,
    pub private: Pending,
    pub shared: Pending,
}

impl Kernel {
    pub fn task_signals(&self, task: u64) -> Result<SignalState> {
        let o = |s: &str, m: &str| self.layout.offset(s, m);
        let facts = self.arch_facts().ok_or_else(|| crate::Error::Corrupt {
            what: "signals".into(),
            detail: format!("signal constants of {} are not known", self.mem.arch_name()),
        })?;
        let nsig = facts.nsig;
        let signal_struct =
            self.read_u64(task.off(o("task_struct", "signal")?), "task_struct.signal")?;
        let sighand = self.read_u64(
            task.off(o("task_struct", "sighand")?),
            "task_struct.sighand",
        )?;
        let nr_threads =
            if self.layout.has_member("signal_struct", "nr_threads") && signal_struct != 0 {
                let v = self.read_u32(
                    signal_struct.off(o("signal_struct", "nr_threads")?),
                    "signal_struct.nr_threads",
                )?;
                Some(v as i32)
            } else {
                None
            };
        let mut actions = Vec::new();
        if sighand != 0 {
            let action = sighand.off(o("sighand_struct", "action")?);
            let size = self.layout.struct_size("k_sigaction")?;
            let handler_off = o("k_sigaction", "sa.sa_handler")?;
            let flags_off = o("k_sigaction", "sa.sa_flags")?;
            let mask_off = o("k_sigaction", "sa.sa_mask")?;
            for signo in 1..=nsig {
                let addr = action.off((signo as u64 - 1) * size);
                let read = |off: u64, what: &str| self.read_u64(addr.off(off), what);
                actions.push(SigAction {
                    signo,
                    addr,
                    handler: read(handler_off, "k_sigaction.sa.sa_handler")?,
                    flags: read(flags_off, "k_sigaction.sa.sa_flags")?,
                    mask: read(mask_off, "k_sigaction.sa.sa_mask")?,
                });
            }
        }
        let flags = self.read_u64(task.off(self.thread_flags_offset()?), "thread_info.flags")?;
        let sigpending = flags & (1 << facts.tif_sigpending) != 0;
        let blocked = self.read_u64(
            task.off(o("task_struct", "blocked")?),
            "task_struct.blocked",
        )?;
        let private = self.pending(task.off(o("task_struct", "pending")?))?;
        let shared = if signal_struct != 0 {
            self.pending(signal_struct.off(o("signal_struct", "shared_pending")?))?
        } else {
            Pending::default()
        };
        Ok(SignalState {
            signal_struct,
            nr_threads,
            sighand,
            actions,
            sigpending,
            blocked,
            private,
            shared,
        })
    }

    /// Offset of the thread flags from the task: `task_struct.thread_info.flags` when
    /// thread_info lives in the task (x86_64 since 4.9), as every supported kernel has it.
    fn thread_flags_offset(&self) -> Result<u64> {
        self.layout.offset("task_struct", "thread_info.flags")
    }

    /// A `struct sigpending`: its set and its queue of `sigqueue`s.
    fn pending(&self, at: u64) -> Result<Pending> {
        let o = |s: &str, m: &str| self.layout.offset(s, m);
        let signal = self.read_u64(at.off(o("sigpending", "signal")?), "sigpending.signal")?;
        let head = at.off(o("sigpending", "list")?);
        let walk = crate::list::walk_list(self, head, MAX_QUEUED);
        let list_off = o("sigqueue", "list")?;
        let info_off = o("sigqueue", "info")?;
        let signo_off = o("kernel_siginfo", "si_signo").or_else(|_| o("siginfo", "si_signo"))?;
        let mut queue = Vec::new();
        let mut problem = walk.broken;
        for node in walk.nodes {
            let q = node.back(list_off);
            match self.read_u32(q.off(info_off).off(signo_off), "sigqueue.info.si_signo") {
                Ok(signo) => queue.push((signo as i32, q.off(info_off))),
                Err(e) => {
                    problem = Some(e.to_string());
                    break;
                }
            }
        }
        Ok(Pending {
            signal,
            queue,
            problem,
        })
    }
}
