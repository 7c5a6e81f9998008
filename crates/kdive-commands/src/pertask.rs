//! Per-task commands (`task`, `files`, `net`, `vm`, `sig`): the tasks named on the command line
//! (or the current task), and the loop that prints each one's block under crash's header line.

use crate::context::TaskTable;
use crate::{CmdError, Session};
use kdive_kernel::tasks::Task;
use serde_json::json;

/// The tasks a command runs on, and an error for each name that matched none.
pub struct Targets {
    pub tasks: Vec<Task>,
    /// `cmd: invalid task or pid value: 999` — printed, and the other tasks still answered.
    pub errors: Vec<String>,
}

/// The tasks `names` select (pid, task address or command; each task once, in the order
/// named), or the current task when there are none. Fails only when no name matched.
pub fn targets(s: &mut Session, cmd: &str, names: &[String]) -> Result<Targets, CmdError> {
    if names.is_empty() {
        let t = s.tasks.current_task(&s.kernel, s.current_task)?;
        return Ok(Targets {
            tasks: vec![t],
            errors: Vec::new(),
        });
    }
    let table = s.tasks.table(&s.kernel)?;
    let (found, errors) = table.select_each(cmd, names)?;
    let mut tasks: Vec<Task> = Vec::new();
    for t in found {
        if !tasks.iter().any(|x| x.addr == t.addr) {
            tasks.push(t.clone());
        }
    }
    Ok(Targets { tasks, errors })
}

/// Text and JSON of a per-task view: for each task crash's header line, then `block`'s text
/// (a blank line between tasks); JSON `{pid, task, comm, KEY: value}`. A task whose block
/// cannot be read shows `cmd: why` in its place and the next task is still shown.
pub fn per_task<E: std::fmt::Display>(
    table: &TaskTable,
    tasks: &[Task],
    cmd: &str,
    key: &str,
    mut block: impl FnMut(&Task) -> Result<(String, serde_json::Value), E>,
) -> (String, serde_json::Value) {
    let mut text = String::new();
    let mut out = Vec::new();
    for (i, t) in tasks.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        text.push_str(&table.header_line(t));
        text.push('\n');
        let mut entry = json!({"pid": t.pid, "task": format!("{:x}", t.addr), "comm": t.comm});
        match block(t) {
            Ok((b, v)) => {
                text.push_str(&b);
                entry[key] = v;
            }
            Err(e) => {
                text.push_str(&format!("{cmd}: {e}\n"));
                entry["error"] = json!(e.to_string());
            }
        }
        out.push(entry);
    }
    (text, json!(out))
}
