//! The session's task context (crash's `set`): which task per-task commands act on, and the
//! task table they share — every task read once, sorted as crash sorts them (pid, then CPU
//! for the idle tasks), with the active task of each CPU and the panic task marked.

use crate::CmdError;
use kdive_kernel::panic::PanicContext;
use kdive_kernel::tasks::{state_name_verbose, Task};
use kdive_kernel::taskstate::StateTable;
use kdive_kernel::AddrExt;
use kdive_kernel::Kernel;
use std::sync::Arc;

/// Every task of the dump, as the task-listing commands see it.
#[derive(Debug, Clone)]
pub struct TaskTable {
    /// Sorted by pid (idle tasks by CPU).
    pub tasks: Vec<Task>,
    /// Why the walk missed tasks (broken lists, unreadable pages).
    pub problems: Vec<String>,
    /// The task each online CPU was running: (cpu, task).
    pub active: Vec<(u32, u64)>,
    pub states: StateTable,
    pub panic: Option<PanicContext>,
    /// The log shows a SysRq-triggered crash (crash marks the panic task SYSRQ, not PANIC).
    pub sysrq: bool,
}

impl TaskTable {
    pub fn read(k: &Kernel) -> Result<TaskTable, CmdError> {
        let list = k.tasks()?;
        let mut tasks = list.tasks;
        tasks.sort_by_key(|t| (t.pid, t.cpu, t.addr));
        let sysrq = k
            .printk_log()
            .map(|l| kdive_kernel::panic::sysrq_crash(&l))
            .unwrap_or(false);
        Ok(TaskTable {
            tasks,
            problems: list.problems,
            active: k.active_tasks(),
            states: StateTable::read(k),
            panic: k.panic_context().ok(),
            sysrq,
        })
    }

    pub fn by_addr(&self, addr: u64) -> Option<&Task> {
        self.tasks.iter().find(|t| t.addr == addr)
    }

    pub fn is_active(&self, addr: u64) -> bool {
        self.active.iter().any(|(_, t)| *t == addr)
    }

    /// crash's context marker: PANIC/SYSRQ for the panic task, ACTIVE for other running ones.
    pub fn marker(&self, t: &Task) -> Option<&'static str> {
        if self.panic.as_ref().map(|p| p.task) == Some(t.addr) {
            Some(if self.sysrq { "SYSRQ" } else { "PANIC" })
        } else if self.is_active(t.addr) {
            Some("ACTIVE")
        } else {
            None
        }
    }

    /// Tasks named by a pid, a task address, a command name, or a `'REGEX'` matched against
    /// command names (crash's `ps`/`set` arguments).
    pub fn select(&self, arg: &str) -> Result<Vec<&Task>, CmdError> {
        if let Some(pattern) = arg
            .strip_prefix('\'')
            .and_then(|a| a.strip_suffix('\''))
            .filter(|_| arg.len() >= 2)
        {
            let re = regex::Regex::new(pattern)
                .map_err(|e| CmdError::Usage(format!("invalid regular expression {arg}: {e}")))?;
            // As crash: a pattern that matches nothing selects nothing, without an error.
            return Ok(self.tasks.iter().filter(|t| re.is_match(&t.comm)).collect());
        }
        if let Some(addr) = parse_task_addr(arg) {
            if let Some(t) = self.by_addr(addr) {
                return Ok(vec![t]);
            }
            if arg.starts_with("0x") || arg.len() >= 16 {
                return Err(CmdError::Usage(format!("invalid task or pid value: {arg}")));
            }
        }
        if let Ok(pid) = arg.parse::<i32>() {
            let v: Vec<&Task> = self.tasks.iter().filter(|t| t.pid == pid).collect();
            if v.is_empty() {
                return Err(no_such_task(arg, &self.problems));
            }
            return Ok(v);
        }
        let name = arg.trim_start_matches('\\');
        let v: Vec<&Task> = self.tasks.iter().filter(|t| t.comm == name).collect();
        if v.is_empty() {
            return Err(no_such_task(arg, &self.problems));
        }
        Ok(v)
    }

    /// The tasks each argument names, in argument order, and for every argument that names
    /// none an error prefixed with `cmd` — crash prints those and goes on with the rest
    /// (`ps 1 999 2`). Fails only when no argument names a task.
    pub fn select_each<'a>(
        &'a self,
        cmd: &str,
        args: &[String],
    ) -> Result<(Vec<&'a Task>, Vec<String>), CmdError> {
        let mut found = Vec::new();
        let mut errors = Vec::new();
        for a in args {
            match self.select(a) {
                Ok(v) => found.extend(v),
                Err(e) => errors.push(format!("{cmd}: {e}")),
            }
        }
        if found.is_empty() && !errors.is_empty() {
            return Err(CmdError::Usage(errors.join("\n")));
        }
        Ok((found, errors))
    }

    /// The `PID: N  TASK: ...  CPU: N  COMMAND: "..."` line crash prints above per-task output.
    pub fn header_line(&self, t: &Task) -> String {
        format!(
            "PID: {:<8} TASK: {:x}  CPU: {:<3}  COMMAND: \"{}\"",
            t.pid,
            t.addr,
            cpu_label(t, self),
            t.comm
        )
    }

    /// crash's context block (`set`, `sys`, `kmem ADDR`).
    pub fn context_block(&self, k: &Kernel, t: &Task) -> String {
        let same = self.tasks.iter().filter(|x| x.pid == t.pid).count();
        let nth = self
            .tasks
            .iter()
            .filter(|x| x.pid == t.pid)
            .position(|x| x.addr == t.addr)
            .unwrap_or(0)
            + 1;
        let mut task = format!("{:x}  ", t.addr);
        if same > 1 {
            task.push_str(&format!("({nth} of {same})  "));
        }
        if let Some(m) = k.layout.member("task_struct", "thread_info") {
            task.push_str(&format!("[THREAD_INFO: {:x}]", t.addr.off(m.offset)));
        }
        format!(
            "    PID: {}\nCOMMAND: \"{}\"\n   TASK: {}\n    CPU: {}\n  STATE: {} {}\n",
            t.pid,
            t.comm,
            task.trim_end(),
            cpu_label(t, self),
            state_name_verbose(t.state, t.exit_state),
            self.marker(t).map(|m| format!("({m})")).unwrap_or_default()
        )
    }
}

/// The CPU column: the task's CPU.
fn cpu_label(t: &Task, _table: &TaskTable) -> String {
    t.cpu.to_string()
}

/// A hexadecimal kernel address (`0x...` or bare hex that is not a decimal pid).
pub fn parse_task_addr(arg: &str) -> Option<u64> {
    let h = arg.strip_prefix("0x").unwrap_or(arg);
    if h.is_empty() || !h.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    if !arg.starts_with("0x") && arg.chars().all(|c| c.is_ascii_digit()) && arg.len() < 16 {
        return None;
    }
    u64::from_str_radix(h, 16).ok()
}

/// The task table the task commands share, read once per session (the dump does not change).
/// The current task itself is `Session::current_task`.
#[derive(Default)]
pub struct TaskCache {
    table: Option<Arc<TaskTable>>,
}

impl TaskCache {
    /// The task table, read on first use (the dump does not change).
    pub fn table(&mut self, k: &Kernel) -> Result<Arc<TaskTable>, CmdError> {
        if let Some(t) = &self.table {
            return Ok(t.clone());
        }
        let t = Arc::new(TaskTable::read(k)?);
        self.table = Some(t.clone());
        Ok(t)
    }

    /// The current task: the one `set` chose (`current`), else the panic task, else the
    /// first active one.
    pub fn current_task(&mut self, k: &Kernel, current: Option<u64>) -> Result<Task, CmdError> {
        let table = self.table(k)?;
        let addr = match current {
            Some(a) => a,
            None => match &table.panic {
                Some(p) => p.task,
                None => table
                    .active
                    .first()
                    .map(|(_, t)| *t)
                    .ok_or_else(|| CmdError::Usage("no current task".into()))?,
            },
        };
        match table.by_addr(addr) {
            Some(t) => Ok(t.clone()),
            None => Ok(k.read_task(addr)?),
        }
    }
}

/// A task, pid or command not found — and, when the task list could not be read whole, why:
/// the task may be on the part that could not be read.
pub(crate) fn no_such_task(arg: &str, problems: &[String]) -> CmdError {
    if problems.is_empty() {
        let what = if arg.parse::<i32>().is_ok() {
            "task or pid value"
        } else {
            "task, pid or command name"
        };
        CmdError::Usage(format!("invalid {what}: {arg}"))
    } else {
        CmdError::Usage(format!(
            "no task {arg} among those read ({})",
            problems.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_task_addr;

    #[test]
    fn task_addresses() {
        assert_eq!(
            parse_task_addr("ffff8d6202580000"),
            Some(0xffff8d6202580000)
        );
        assert_eq!(parse_task_addr("0x10"), Some(0x10));
        assert_eq!(parse_task_addr("110"), None);
        assert_eq!(parse_task_addr("sleep"), None);
    }
}
