//! `ipcs`: System V shared memory segments, semaphore arrays and message queues of an IPC
//! namespace, in crash's layout (`-m`/`-M`/`-s`/`-q`, `-n PID|TASK`, IDs or addresses).

use crate::{CmdError, Report, Session};
use kdive_kernel::ipc::{IpcPerm, MsgQueue, SemArray, ShmSegment, SHM_DEST, SHM_LOCKED};
use kdive_kernel::walk::Walked;
use serde_json::json;

pub const USAGE: &str = "ipcs [-smMq] [-n PID|TASK] [ID|ADDRESS]...";

pub const DETAILS: &str = "  -m            shared memory segments only
  -M            shared memory with pages allocated/resident/swapped and the inode
  -s            semaphore arrays only
  -q            message queues only
  -n PID|TASK   the IPC namespace of that task (default: the initial one)
  ID|ADDRESS    only the objects with that id (decimal) or structure address (hex)
";

const SHM_HEADER: &str =
    "SHMID_KERNEL     KEY      SHMID      UID   PERMS BYTES      NATTCH STATUS\n";
const SEM_HEADER: &str = "SEM_ARRAY        KEY      SEMID      UID   PERMS NSEMS     \n";
const MSG_HEADER: &str =
    "MSG_QUEUE        KEY      MSQID      UID   PERMS USED-BYTES   MESSAGES    \n";

/// What the flags asked for.
struct Wanted {
    shm: bool,
    sem: bool,
    msg: bool,
    verbose: bool,
}

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let mut want = Wanted {
        shm: false,
        sem: false,
        msg: false,
        verbose: false,
    };
    let mut task_arg = None;
    let mut values = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-n" => {
                task_arg = Some(it.next().ok_or_else(|| {
                    CmdError::Usage(format!("ipcs: -n needs a pid or task ({USAGE})"))
                })?)
            }
            f if f.starts_with('-') && f.len() > 1 => {
                for c in f[1..].chars() {
                    match c {
                        's' => want.sem = true,
                        'm' => want.shm = true,
                        'M' => {
                            want.shm = true;
                            want.verbose = true
                        }
                        'q' => want.msg = true,
                        _ => {
                            return Err(CmdError::Usage(format!(
                                "ipcs: unknown option -{c} ({USAGE})"
                            )))
                        }
                    }
                }
            }
            v => values.push((v.to_string(), parse_value(v)?)),
        }
    }
    if !(want.shm || want.sem || want.msg) {
        want = Wanted {
            shm: true,
            sem: true,
            msg: true,
            ..want
        };
    }
    let task = match task_arg {
        Some(t) => {
            let found = crate::pertask::targets(s, "ipcs", std::slice::from_ref(t))?;
            found.tasks.first().map(|t| t.addr)
        }
        None => None,
    };
    let k = &s.kernel;
    let ns = k.ipc_namespace(task)?;
    let page_size = want.verbose.then(|| k.page_size());
    let shm = if want.shm {
        k.shm_segments(ns)?
    } else {
        Walked::default()
    };
    let sem = if want.sem {
        k.sem_arrays(ns)?
    } else {
        Walked::default()
    };
    let msg = if want.msg {
        k.msg_queues(ns)?
    } else {
        Walked::default()
    };
    let problems: Vec<String> = [&shm.problems, &sem.problems, &msg.problems]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    let mut errors = Vec::new();
    let text = if values.is_empty() {
        let mut text = String::new();
        if want.shm {
            text.push_str(&shm_table(&shm.items, page_size));
        }
        if want.sem {
            text.push_str(&table(SEM_HEADER, sem.items.iter().map(sem_row)));
        }
        if want.msg {
            text.push_str(&table(MSG_HEADER, msg.items.iter().map(msg_row)));
        }
        text
    } else {
        let mut text = String::new();
        for (arg, v) in &values {
            let named = |p: &IpcPerm| p.id as i64 as u64 == *v || p.addr == *v;
            let mut found = false;
            for o in shm.items.iter().filter(|o| named(&o.perm)) {
                text.push_str(SHM_HEADER);
                text.push_str(&shm_row(o, page_size));
                text.push('\n');
                found = true;
            }
            for o in sem.items.iter().filter(|o| named(&o.perm)) {
                text.push_str(&format!("{SEM_HEADER}{}\n", sem_row(o)));
                found = true;
            }
            for o in msg.items.iter().filter(|o| named(&o.perm)) {
                text.push_str(&format!("{MSG_HEADER}{}\n", msg_row(o)));
                found = true;
            }
            if !found {
                errors.push(format!("ipcs: invalid id or address: {arg}"));
            }
        }
        if errors.len() == values.len() {
            return Err(CmdError::Usage(errors.join("\n")));
        }
        text
    };
    let mut text = text;
    for p in &problems {
        text.push_str(&format!("WARNING: {p}\n"));
    }
    let pick = |on: bool, v: serde_json::Value| if on { v } else { serde_json::Value::Null };
    Ok(Report::new(
        text,
        json!({
            "ipc_namespace": format!("{ns:x}"),
            "shm": pick(want.shm, json!(shm.items)),
            "sem": pick(want.sem, json!(sem.items)),
            "msg": pick(want.msg, json!(msg.items)),
            "problems": problems,
        }),
    )
    .with_errors(errors))
}

/// crash's number rule: all decimal digits is decimal, anything else hexadecimal.
fn parse_value(v: &str) -> Result<u64, CmdError> {
    let parsed = if v.bytes().all(|b| b.is_ascii_digit()) {
        v.parse().ok()
    } else {
        u64::from_str_radix(v.strip_prefix("0x").unwrap_or(v), 16).ok()
    };
    parsed.ok_or_else(|| CmdError::Usage(format!("ipcs: not a valid number: {v} ({USAGE})")))
}

/// A header, its rows, `(none allocated)` when there are none, and a blank line.
fn table(header: &str, rows: impl Iterator<Item = String>) -> String {
    let mut text = String::from(header);
    let mut any = false;
    for r in rows {
        text.push_str(&r);
        any = true;
    }
    if !any {
        text.push_str("(none allocated)\n");
    }
    text.push('\n');
    text
}

/// The shared memory table; `-M` gives each segment its own header and page counts.
fn shm_table(items: &[ShmSegment], page_size: Option<u64>) -> String {
    if page_size.is_none() || items.is_empty() {
        return table(SHM_HEADER, items.iter().map(|o| shm_row(o, None)));
    }
    items
        .iter()
        .map(|o| format!("{SHM_HEADER}{}\n", shm_row(o, page_size)))
        .collect()
}

/// The columns every kind starts with: address, key, id, uid, permission bits.
fn perm_columns(p: &IpcPerm) -> String {
    format!(
        "{:<16} {:08x} {:<10} {:<5} {:<5o}",
        format!("{:x}", p.addr),
        p.key as u32,
        p.id,
        p.uid,
        p.mode & 0o777
    )
}

/// One segment's row; with `page_size`, `-M`'s page counts and inode too.
fn shm_row(o: &ShmSegment, page_size: Option<u64>) -> String {
    let flag = |bit: u32, name: &'static str| if o.perm.mode & bit != 0 { name } else { "" };
    let mut row = format!(
        "{} {:<10} {:<6} {} {}\n",
        perm_columns(&o.perm),
        o.bytes,
        o.nattch,
        flag(SHM_DEST, "dest"),
        flag(SHM_LOCKED, "locked")
    );
    if let Some(page_size) = page_size {
        row.push_str(&format!(
            "PAGES ALLOCATED/RESIDENT/SWAPPED: {}/{}/{}\nINODE: {:x}\n",
            o.bytes.div_ceil(page_size),
            o.resident_pages,
            o.swapped_pages,
            o.inode
        ));
    }
    row
}

fn sem_row(o: &SemArray) -> String {
    format!("{} {:<10}\n", perm_columns(&o.perm), o.nsems)
}

fn msg_row(o: &MsgQueue) -> String {
    format!(
        "{} {:<12} {:<12}\n",
        perm_columns(&o.perm),
        o.bytes,
        o.messages
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_crash() {
        assert_eq!(parse_value("32768").unwrap(), 32768);
        assert_eq!(parse_value("ffff8aa681e8c500").unwrap(), 0xffff8aa681e8c500);
        assert_eq!(parse_value("0x10").unwrap(), 16);
        assert!(parse_value("zz").is_err());
    }

    #[test]
    fn empty_tables_say_none_allocated() {
        assert_eq!(
            table(SEM_HEADER, std::iter::empty()),
            format!("{SEM_HEADER}(none allocated)\n\n")
        );
    }
}
