//! `bt`'s task-set options: `-v` (every task's stack-end canary checked for an overflow),
//! `-g` (every thread of the named tasks' thread groups) and `-R REF` (only the traces that
//! refer to a function or value).

use crate::bt::{render_trace, BtFlags, Reference};
use crate::{CmdError, Report, Session};
use kdive_kernel::stack::StackContext;
use kdive_kernel::{AddrExt, Kernel};
use serde_json::json;

/// `STACK_END_MAGIC` (include/uapi/linux/magic.h): fork writes it at the lowest word of every
/// task stack, and the scheduler checks it when CONFIG_SCHED_STACK_END_CHECK is set.
pub const STACK_END_MAGIC: u64 = 0x57ac_6e9d;

/// `bt -v`: each task whose stack's lowest word is not `STACK_END_MAGIC` (the initial task,
/// whose stack is the kernel image's, is not checked), as crash prints them, or
/// `No stack overflows detected`.
pub fn stack_overflows(s: &mut Session) -> Result<Report, CmdError> {
    let table = s.tasks.table(&s.kernel)?;
    let k = &s.kernel;
    let stack_off = k.layout.offset("task_struct", "stack")?;
    let init_task = k.symbol_addr("init_task").ok();
    let mut text = String::new();
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let mut checked = 0usize;
    for t in &table.tasks {
        if Some(t.addr) == init_task {
            continue;
        }
        let base = match k.read_u64(t.addr.off(stack_off), "task_struct.stack") {
            Ok(0) => continue, // an exited task's stack is already freed
            Ok(b) => b,
            Err(e) => {
                problems.push(format!("pid {}: {e}", t.pid));
                continue;
            }
        };
        let word = match k.read_u64(base, "stack end (STACK_END_MAGIC)") {
            Ok(w) => w,
            Err(e) => {
                problems.push(format!("pid {}: {e}", t.pid));
                continue;
            }
        };
        checked += 1;
        if word != STACK_END_MAGIC {
            text.push_str(&format!(
                "{}\n  possible stack overflow: {base:x}: {word:x} != STACK_END_MAGIC\n\n",
                table.header_line(t)
            ));
            found.push(json!({"pid": t.pid, "task": format!("{:x}", t.addr),
                "comm": t.comm, "location": format!("{base:x}"), "value": format!("{word:x}")}));
        }
    }
    if found.is_empty() {
        text.push_str("No stack overflows detected\n");
    }
    for p in &problems {
        text.push_str(&format!("WARNING: {p}\n"));
    }
    Ok(Report::new(
        text,
        json!({"checked": checked, "overflows": found, "problems": problems}),
    ))
}

/// `bt -g`: for each task, every thread of its thread group (leader first, in task-list
/// order), each thread once.
pub fn thread_groups(s: &mut Session, tasks: &[u64]) -> Result<Vec<u64>, CmdError> {
    let table = s.tasks.table(&s.kernel)?;
    let mut out: Vec<u64> = Vec::new();
    for &task in tasks {
        let tgid = table.by_addr(task).map(|t| t.tgid).ok_or_else(|| {
            CmdError::Usage(format!("bt -g: task {task:x} is not in the task list"))
        })?;
        let mut group: Vec<&kdive_kernel::tasks::Task> =
            table.tasks.iter().filter(|t| t.tgid == tgid).collect();
        group.sort_by_key(|t| t.pid != tgid);
        for t in group {
            if !out.contains(&t.addr) {
                out.push(t.addr);
            }
        }
    }
    Ok(out)
}

/// `bt -R REF`: the traces that refer to `reference`, each followed by a blank line as crash
/// prints them; nothing for the others.
pub fn render_referring(
    k: &Kernel,
    ctx: &StackContext,
    tasks: &[u64],
    flags: BtFlags,
    reference: &Reference,
) -> Result<Report, CmdError> {
    let mut text = String::new();
    let mut shown = Vec::new();
    for &task in tasks {
        let Ok(tt) = ctx.task_trace(k, task) else {
            continue;
        };
        if !reference.found_in(k, ctx, &tt) {
            continue;
        }
        let (t, j) = render_trace(k, ctx, &tt, flags);
        text.push_str(&t);
        text.push('\n');
        shown.push(j);
    }
    Ok(Report::new(text, json!(shown)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_follow_crash_hex_rule() {
        assert_eq!(
            Reference::parse("schedule"),
            Reference::Symbol("schedule".into())
        );
        assert_eq!(
            Reference::parse("ffffffff8e81154a"),
            Reference::Value(0xffffffff8e81154a)
        );
        assert_eq!(Reference::parse("0x10"), Reference::Value(16));
        // crash, too, reads a word of hex digits as a value.
        assert_eq!(Reference::parse("add"), Reference::Value(0xadd));
        assert_eq!(Reference::parse("0x"), Reference::Symbol("0x".into()));
    }
}
