//! `task [-R member,...] [PID|TASK|COMMAND ...]`: a task's `task_struct` (and `thread_info`)
//! printed as crash does, through the `struct` command's value printer; and `set [-p]
//! [PID|TASK]`: show or change the session's current task (crash's context block).

use crate::context::{parse_task_addr, TaskTable};
use crate::{CmdError, Report, Session};
use kdive_kernel::tasks::Task;
use kdive_kernel::AddrExt;
use serde_json::json;

pub const TASK_USAGE: &str = "task [-R member[,member...]] [-x|-d] [PID | TASK | COMMAND] ...";
pub const SET_USAGE: &str = "set [-p] [PID | TASK]";

pub fn run_task(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let mut members: Option<String> = None;
    let mut radix: Option<&str> = None;
    let mut names = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-R" => {
                let m = it.next().ok_or_else(|| {
                    CmdError::Usage(format!("task -R needs members ({TASK_USAGE})"))
                })?;
                members = Some(match members {
                    Some(prev) => format!("{prev},{m}"),
                    None => m.clone(),
                });
            }
            "-x" => radix = Some("-x"),
            "-d" => radix = Some("-d"),
            o if o.starts_with('-') && o.len() > 1 => {
                return Err(CmdError::Usage(format!(
                    "task: invalid option {o} ({TASK_USAGE})"
                )))
            }
            _ => names.push(a.clone()),
        }
    }
    let targets = crate::pertask::targets(s, "task", &names)?;
    let tasks = targets.tasks;
    let table = s.tasks.table(&s.kernel)?;
    let ti = s
        .kernel
        .layout
        .member("task_struct", "thread_info")
        .map(|m| m.offset);
    let mut text = String::new();
    let mut json = Vec::new();
    for t in &tasks {
        text.push_str(&table.header_line(t));
        text.push('\n');
        let what = match &members {
            Some(m) => format!("task_struct.{m}"),
            None => "task_struct".to_string(),
        };
        let mut args = vec![what, format!("{:x}", t.addr)];
        if let Some(r) = radix {
            args.push(r.to_string());
        }
        let r = crate::structcmd::run_kind(s, "struct", &args)?;
        text.push_str(&r.text);
        let mut thread_info = None;
        if let (None, Some(off)) = (&members, ti) {
            // thread_info is inside task_struct (THREAD_INFO_IN_TASK): crash prints it too.
            let mut args = vec!["thread_info".to_string(), format!("{:x}", t.addr.off(off))];
            if let Some(r) = radix {
                args.push(r.to_string());
            }
            if let Ok(r) = crate::structcmd::run_kind(s, "struct", &args) {
                text.push('\n');
                text.push_str(&r.text);
                thread_info = Some(r.json);
            }
        }
        text.push('\n');
        json.push(json!({
            "pid": t.pid,
            "task": format!("{:x}", t.addr),
            "cpu": t.cpu,
            "comm": t.comm,
            "task_struct": r.json,
            "thread_info": thread_info,
        }));
    }
    Ok(Report::new(text, json!(json)).with_errors(targets.errors))
}

/// The context block and its JSON.
fn context_report(s: &Session, table: &TaskTable, t: &Task) -> Report {
    Report::new(
        table.context_block(&s.kernel, t),
        json!({
            "pid": t.pid,
            "command": t.comm,
            "task": format!("{:x}", t.addr),
            "cpu": t.cpu,
            "state": kdive_kernel::tasks::state_name_verbose(t.state, t.exit_state),
            "marker": table.marker(t),
        }),
    )
}

pub fn run_set(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    if args.first().is_some_and(|a| a == "substitute-path") {
        return crate::source::set_substitute_path(s, &args[1..]);
    }
    let table = s.tasks.table(&s.kernel)?;
    match args {
        [] => {
            let t = s.tasks.current_task(&s.kernel, s.current_task)?;
            Ok(context_report(s, &table, &t))
        }
        [p] if p == "-p" => {
            let panic = table
                .panic
                .as_ref()
                .ok_or_else(|| CmdError::Usage("set -p: no panic task in this dump".into()))?
                .task;
            s.current_task = Some(panic);
            let t = s.tasks.current_task(&s.kernel, s.current_task)?;
            Ok(context_report(s, &table, &t))
        }
        [arg] if arg.parse::<i32>().is_ok() || parse_task_addr(arg).is_some() => {
            let t = table
                .select(arg)?
                .first()
                .map(|t| (*t).clone())
                .ok_or_else(|| CmdError::Usage(format!("set: invalid task or pid value: {arg}")))?;
            s.current_task = Some(t.addr);
            Ok(context_report(s, &table, &t))
        }
        _ => Err(CmdError::Usage(format!(
            "set: unsupported arguments \"{}\" (usage: {SET_USAGE})",
            args.join(" ")
        ))),
    }
}
