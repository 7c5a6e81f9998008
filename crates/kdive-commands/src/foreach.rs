//! `foreach [PID|TASK|NAME ...] bt [flags]`: a command over many tasks (bt only, for now).

use crate::bt::{render_tasks, stack_context, BtFlags};
use crate::{CmdError, Report, Session};

pub const USAGE: &str = "foreach [PID|TASK|COMMAND ...] bt [-f|-F|-l|-i|-M]";

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let Some(at) = args.iter().position(|a| a == "bt") else {
        return Err(CmdError::Usage(format!(
            "foreach: only bt is supported\n{USAGE}"
        )));
    };
    let mut flags = BtFlags::default();
    for a in &args[at + 1..] {
        for c in a.trim_start_matches('-').chars() {
            match c {
                'f' => flags.words = true,
                'F' => {
                    flags.words = true;
                    flags.symbolic = true
                }
                'l' => flags.lines = true,
                'i' => flags.inline = true,
                'M' => flags.methods = true,
                _ => return Err(CmdError::Usage(format!("foreach bt: unknown option -{c}"))),
            }
        }
    }
    let ctx = stack_context(s)?;
    let k = &s.kernel;
    let mut list = k.tasks()?.tasks;
    list.sort_by_key(|t| (t.pid, t.cpu, t.addr));
    let filters = &args[..at];
    let tasks: Vec<u64> = list
        .iter()
        .filter(|t| {
            filters.is_empty()
                || filters.iter().any(|f| {
                    f.parse::<i32>().ok() == Some(t.pid)
                        || u64::from_str_radix(f.trim_start_matches("0x"), 16).ok() == Some(t.addr)
                        || *f == t.comm
                })
        })
        .map(|t| t.addr)
        .collect();
    render_tasks(k, &ctx, &tasks, flags)
}
