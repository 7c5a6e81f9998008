//! `foreach [PID|TASK|COMMAND|STATE|kernel|user|gleader|active ...] COMMAND [args]`: runs any
//! per-task command (bt, task, files, set, ...) once per chosen task, with that task as the
//! session's current task, through the command table; `ps` gets one table of the chosen tasks.
//! Outputs are separated by a blank line, as crash prints them.

use crate::context::TaskTable;
use crate::{find_command, CmdError, Report, Session};
use kdive_kernel::tasks::Task;
use kdive_kernel::taskstate::is_state_code;
use serde_json::json;

pub const USAGE: &str =
    "foreach [PID|TASK|COMMAND|RU|IN|UN|ID|ZO|...|kernel|user|gleader|active ...] COMMAND [args]";

/// Which tasks the selectors before the command name choose (all when there are none).
fn choose<'a>(table: &'a TaskTable, sel: &[String]) -> Result<Vec<&'a Task>, CmdError> {
    let mut ids: Vec<&Task> = Vec::new(); // named by pid / task / command
    let mut states: Vec<&str> = Vec::new();
    let (mut kernel, mut user, mut leaders, mut active) = (false, false, false, false);
    for s in sel {
        match s.as_str() {
            "kernel" => kernel = true,
            "user" => user = true,
            "gleader" => leaders = true,
            "active" => active = true,
            w if is_state_code(w) => states.push(w),
            w => ids.extend(table.select(w)?),
        }
    }
    let named = !ids.is_empty();
    Ok(table
        .tasks
        .iter()
        .filter(|t| !named || ids.iter().any(|x| x.addr == t.addr))
        .filter(|t| states.is_empty() || states.contains(&table.states.crash_code(t)))
        .filter(|t| !kernel || t.is_kernel_thread())
        .filter(|t| !user || !t.is_kernel_thread())
        .filter(|t| !leaders || t.is_group_leader())
        .filter(|t| !active || table.is_active(t.addr))
        .collect())
}

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let Some(at) = args
        .iter()
        .position(|a| find_command(a).is_some() && !is_state_code(a) && a != "foreach")
    else {
        return Err(CmdError::Usage(format!(
            "foreach: no command given\n{USAGE}"
        )));
    };
    let table = s.tasks.table(&s.kernel)?;
    let chosen: Vec<Task> = choose(&table, &args[..at])?.into_iter().cloned().collect();
    let name = args[at].as_str();
    let rest = &args[at + 1..];
    let cmd = find_command(name).expect("found above");
    if name == "ps" {
        // One table: the chosen tasks as ps arguments, after ps's own flags.
        if chosen.is_empty() {
            return Ok(Report::new(String::new(), json!({"tasks": []})));
        }
        let mut a: Vec<String> = rest.to_vec();
        a.extend(chosen.iter().map(|t| format!("{:x}", t.addr)));
        let raw = a.join(" ");
        return (cmd.run)(s, &a, &raw);
    }
    let saved = s.current_task;
    let mut text = String::new();
    let mut json = Vec::new();
    for t in &chosen {
        s.current_task = Some(t.addr);
        let out = (cmd.run)(s, rest, &rest.join(" "));
        if !text.is_empty() && !text.ends_with("\n\n") {
            text.push('\n');
        }
        match out {
            Ok(r) => {
                text.push_str(&r.text);
                json.push(json!({"pid": t.pid, "task": format!("{:x}", t.addr), "comm": t.comm, "output": r.json}));
            }
            Err(e) => {
                text.push_str(&format!("{}\n{name}: {e}\n", table.header_line(t)));
                json.push(json!({"pid": t.pid, "task": format!("{:x}", t.addr), "comm": t.comm, "error": e.to_string()}));
            }
        }
    }
    s.current_task = saved;
    Ok(Report::new(text, json!({"command": name, "tasks": json})))
}
