//! Tasks: every thread of every process from `init_task.tasks`, plus each CPU's idle task,
//! with pid, command, state and CPU read from `task_struct`.

use crate::list::{walk_list, walk_list_recovering};
use crate::{AddrExt, Kernel, Result};
use std::collections::HashSet;

/// Upper bound on tasks walked (a corrupted list must not run forever).
pub const MAX_TASKS: usize = 4_000_000;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Task {
    pub addr: u64,
    pub pid: i32,
    pub tgid: i32,
    pub comm: String,
    /// `__state` (or `state` on older kernels).
    pub state: u64,
    pub exit_state: u64,
    pub cpu: u32,
    /// This is a CPU's idle task (pid 0).
    pub idle: bool,
    /// `task_struct.parent` (the real parent, or the tracer while ptraced).
    pub parent: u64,
    /// Pid of `parent` (0 when unreadable or for the idle tasks).
    pub ppid: i32,
    /// `task_struct.mm` (0 for kernel threads and exited tasks).
    pub mm: u64,
    /// `task_struct.flags` (PF_*).
    pub flags: u32,
}

/// `PF_KTHREAD` in `task_struct.flags` (stable since 2.6.27).
pub const PF_KTHREAD: u32 = 0x0020_0000;

impl Task {
    /// Kernel threads (and idle tasks) have no user address space; crash prints them in brackets.
    pub fn is_kernel_thread(&self) -> bool {
        self.idle || self.pid == 0 || self.flags & PF_KTHREAD != 0 || self.mm == 0
    }
    /// The thread-group leader (pid == tgid).
    pub fn is_group_leader(&self) -> bool {
        self.pid == self.tgid
    }
}

/// All tasks, and what broke while walking them.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TaskList {
    pub tasks: Vec<Task>,
    pub problems: Vec<String>,
}

impl Kernel {
    /// Reads one `task_struct`.
    pub fn read_task(&self, addr: u64) -> Result<Task> {
        let off = |m: &str| self.layout.offset("task_struct", m);
        let state_member = if self.layout.has_member("task_struct", "__state") {
            "__state"
        } else {
            "state"
        };
        let state_place = self.layout.member("task_struct", state_member);
        let state = match state_place {
            Some(p) if p.size == Some(4) => {
                self.read_u32(addr.off(p.offset), "task_struct.__state")? as u64
            }
            Some(p) => self.read_u64(addr.off(p.offset), "task_struct.state")?,
            None => 0,
        };
        let comm = self.read_cstr(addr.off(off("comm")?), 16, "task_struct.comm")?;
        let cpu = if let Ok(o) = off("cpu") {
            self.read_u32(addr.off(o), "task_struct.cpu")?
        } else if let Ok(o) = off("thread_info.cpu") {
            self.read_u32(addr.off(o), "thread_info.cpu")?
        } else {
            0
        };
        let exit_state = match off("exit_state") {
            Ok(o) => self.read_u32(addr.off(o), "task_struct.exit_state")? as u64,
            Err(_) => 0,
        };
        let pid_off = off("pid")?;
        let parent = match off("parent").or_else(|_| off("real_parent")) {
            Ok(o) => self.read_u64(addr.off(o), "task_struct.parent")?,
            Err(_) => 0,
        };
        // A parent that cannot be read leaves ppid 0 rather than losing the task.
        let ppid = if parent != 0 && parent != addr {
            self.read_u32(parent.off(pid_off), "parent task_struct.pid")
                .map(|p| p as i32)
                .unwrap_or(0)
        } else {
            0
        };
        let mm = match off("mm") {
            Ok(o) => self.read_u64(addr.off(o), "task_struct.mm")?,
            Err(_) => 0,
        };
        let flags = match off("flags") {
            Ok(o) => self.read_u32(addr.off(o), "task_struct.flags")?,
            Err(_) => 0,
        };
        Ok(Task {
            addr,
            pid: self.read_u32(addr.off(pid_off), "task_struct.pid")? as i32,
            tgid: self.read_u32(addr.off(off("tgid")?), "task_struct.tgid")? as i32,
            comm,
            state,
            exit_state,
            cpu,
            idle: false,
            parent,
            ppid,
            mm,
            flags,
        })
    }

    /// The idle task of each present CPU (`runqueues[cpu].idle`; `init_task` for CPU 0).
    pub fn idle_tasks(&self) -> Result<Vec<u64>> {
        let rq = self.symbol_addr("runqueues")?;
        let idle = self.layout.offset("rq", "idle")?;
        let mut out = Vec::new();
        for cpu in self.cpu_counts()?.present {
            let a = self.per_cpu_addr(rq, cpu)?;
            out.push(self.read_u64(a.off(idle), "rq.idle")?);
        }
        Ok(out)
    }

    /// The task that was current on `cpu` at the crash.
    pub fn cpu_current(&self, cpu: u32) -> Result<u64> {
        if let Ok(ct) = self.symbol_addr("current_task") {
            return self.read_u64(self.per_cpu_addr(ct, cpu)?, "current_task");
        }
        if let (Ok(hot), Ok(o)) = (
            self.symbol_addr("pcpu_hot"),
            self.layout.offset("pcpu_hot", "current_task"),
        ) {
            return self.read_u64(self.per_cpu_addr(hot, cpu)?.off(o), "pcpu_hot.current_task");
        }
        let rq = self.symbol_addr("runqueues")?;
        let curr = self.layout.offset("rq", "curr")?;
        self.read_u64(self.per_cpu_addr(rq, cpu)?.off(curr), "rq.curr")
    }

    /// Every task: idle tasks first (CPU order), then each process's threads in list order.
    pub fn tasks(&self) -> Result<TaskList> {
        let mut list = TaskList::default();
        let mut seen = HashSet::new();
        let init_task = self.symbol_addr("init_task")?;
        let idle = self.idle_tasks().unwrap_or_else(|e| {
            list.problems.push(format!("idle tasks: {e}"));
            vec![init_task]
        });
        for addr in idle {
            if seen.insert(addr) {
                match self.read_task(addr) {
                    Ok(mut t) => {
                        t.idle = true;
                        list.tasks.push(t);
                    }
                    Err(e) => list.problems.push(format!("idle task {addr:#x}: {e}")),
                }
            }
        }
        let tasks_off = self.layout.offset("task_struct", "tasks")?;
        let prev_off = self.layout.offset("list_head", "prev").unwrap_or(8);
        let procs = walk_list_recovering(self, init_task.off(tasks_off), prev_off, MAX_TASKS);
        if let Some(b) = procs.broken {
            list.problems.push(format!("task list: {b}"));
        }
        let threads = self.thread_list_offsets();
        for node in procs.nodes {
            let leader = node.back(tasks_off);
            let members = match threads {
                Some((head_off, node_off)) => {
                    match self.read_u64(
                        leader.off(self.layout.offset("task_struct", "signal")?),
                        "task_struct.signal",
                    ) {
                        Ok(signal) => {
                            let w = walk_list(self, signal.off(head_off), MAX_TASKS);
                            if let Some(b) = w.broken {
                                list.problems.push(format!("threads of {leader:#x}: {b}"));
                            }
                            let v: Vec<u64> = w.nodes.iter().map(|n| n.back(node_off)).collect();
                            if v.is_empty() {
                                vec![leader]
                            } else {
                                v
                            }
                        }
                        Err(e) => {
                            list.problems.push(format!("task {leader:#x}: {e}"));
                            vec![leader]
                        }
                    }
                }
                None => vec![leader],
            };
            for addr in members {
                if list.tasks.len() >= MAX_TASKS {
                    list.problems
                        .push(format!("more than {MAX_TASKS} tasks; stopped"));
                    return Ok(list);
                }
                if !seen.insert(addr) {
                    continue;
                }
                match self.read_task(addr) {
                    Ok(t) => list.tasks.push(t),
                    Err(e) => list.problems.push(format!("task {addr:#x}: {e}")),
                }
            }
        }
        Ok(list)
    }

    /// (offset of `signal_struct.thread_head`, offset of `task_struct.thread_node`), when the
    /// kernel keeps threads on that list (3.14+).
    fn thread_list_offsets(&self) -> Option<(u64, u64)> {
        Some((
            self.layout.offset("signal_struct", "thread_head").ok()?,
            self.layout.offset("task_struct", "thread_node").ok()?,
        ))
    }
}

/// Task state as crash prints it in `sys`/`set` (TASK_RUNNING, TASK_INTERRUPTIBLE, ...).
pub fn state_name_verbose(state: u64, exit_state: u64) -> String {
    let s = state | exit_state;
    if s == 0 {
        return "TASK_RUNNING".into();
    }
    let mut names = Vec::new();
    for (bit, name) in [
        (0x1, "TASK_INTERRUPTIBLE"),
        (0x2, "TASK_UNINTERRUPTIBLE"),
        (0x4, "TASK_STOPPED"),
        (0x8, "TASK_TRACED"),
        (0x10, "EXIT_DEAD"),
        (0x20, "EXIT_ZOMBIE"),
        (0x40, "TASK_PARKED"),
        (0x80, "TASK_DEAD"),
        (0x100, "TASK_WAKEKILL"),
        (0x200, "TASK_WAKING"),
        (0x400, "TASK_NOLOAD"),
        (0x800, "TASK_NEW"),
    ] {
        if s & bit != 0 {
            names.push(name);
        }
    }
    names.join("|")
}

impl Kernel {
    /// The task each online CPU was running at the crash, as (cpu, task) pairs; crash calls
    /// these the active tasks and marks them with `>`.
    pub fn active_tasks(&self) -> Vec<(u32, u64)> {
        let cpus = self
            .cpu_counts()
            .map(|c| c.online)
            .unwrap_or_else(|_| vec![0]);
        cpus.into_iter()
            .filter_map(|cpu| self.cpu_current(cpu).ok().map(|t| (cpu, t)))
            .filter(|(_, t)| *t != 0)
            .collect()
    }
}
