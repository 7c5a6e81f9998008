//! `waitq SYMBOL | STRUCT.MEMBER ADDR | ADDR`: the tasks sleeping on a wait queue head, one
//! crash task header each; entries whose `private` is not a task (epoll, custom wakers) are
//! shown with their wake function where crash stops.

use crate::structcmd::parse_address;
use crate::{CmdError, Report, Session};
use serde_json::json;

pub const USAGE: &str = "waitq SYMBOL | STRUCT.MEMBER ADDRESS | ADDRESS";

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let usage = || CmdError::Usage(format!("waitq: {USAGE}"));
    let (first, addr_arg) = match args {
        [a] => (a.as_str(), None),
        [a, b] => (a.as_str(), Some(b.as_str())),
        _ => return Err(usage()),
    };
    let is_number = first.starts_with("0x") || first.chars().all(|c| c.is_ascii_hexdigit());
    let (head, name) = if is_number {
        (parse_hex(first)?, None)
    } else if let Some((st, member)) = first.split_once('.') {
        let addr = addr_arg
            .ok_or_else(|| CmdError::Usage(format!("waitq: must supply an address for {st}")))?;
        let sname = if st.starts_with("struct ") {
            st.to_string()
        } else {
            format!("struct {st}")
        };
        let off =
            s.kernel.layout.offset(st, member).map_err(|_| {
                CmdError::Usage(format!("waitq: {member} is not a member of {sname}"))
            })?;
        (parse_hex(addr)?.wrapping_add(off), None)
    } else {
        let addr = crate::eval_ctx::with_eval_kernel(s, |ev, _| parse_address(ev, first))?;
        (addr, Some(first.to_string()))
    };
    let table = s.tasks.table(&s.kernel)?;
    let ctx = crate::bt::stack_context(s).ok();
    let k = &s.kernel;
    let waiters = k.wait_queue(head)?;
    let mut text = String::new();
    let mut json = Vec::new();
    for w in &waiters.items {
        match table.by_addr(w.private) {
            Some(t) => {
                text.push_str(&table.header_line(t));
                text.push('\n');
                json.push(json!({"entry": w.entry, "task": w.private, "pid": t.pid,
                    "comm": t.comm, "func": w.func}));
            }
            None => {
                let func = crate::bt::code_name(ctx.as_deref(), k, w.func)
                    .unwrap_or_else(|| format!("{:x}", w.func));
                text.push_str(&format!(
                    "(wait_queue_entry {:x}: private {:x} is not a task; func {func})\n",
                    w.entry, w.private
                ));
                json.push(json!({"entry": w.entry, "private": w.private, "func": w.func}));
            }
        }
    }
    if waiters.items.is_empty() && waiters.problems.is_empty() {
        match &name {
            Some(n) => text.push_str(&format!("wait queue \"{n}\" ({head:x}) is empty\n")),
            None => text.push_str(&format!("wait queue {head:x} is empty\n")),
        }
    }
    for p in &waiters.problems {
        text.push_str(&format!("WARNING: {p}\n"));
    }
    Ok(Report::new(
        text,
        json!({"head": head, "waiters": json, "problems": waiters.problems}),
    ))
}

fn parse_hex(a: &str) -> Result<u64, CmdError> {
    u64::from_str_radix(a.strip_prefix("0x").unwrap_or(a), 16)
        .map_err(|_| CmdError::Usage(format!("waitq: invalid address: {a}")))
}
