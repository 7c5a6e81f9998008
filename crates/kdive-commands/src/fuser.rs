//! `fuser PATH|INODE ...`: the tasks that use a file as root, cwd, an open descriptor or a
//! mapping. crash finds them by searching its own `files`/`vm` text (with inode addresses) for
//! the argument — its first occurrence in a line, followed by a blank or the line's end — so
//! the same lines are built here and searched the same way.

use crate::{CmdError, Report, Session};
use kdive_kernel::tasks::Task;
use kdive_kernel::Kernel;
use serde_json::json;

pub const USAGE: &str = "fuser [pathname | inode]";

/// Lowest kernel virtual address (x86_64): crash accepts an inode argument only above it.
const KERNEL_START: u64 = 0xffff_8000_0000_0000;

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    if args.is_empty() {
        return Err(CmdError::Usage(format!("fuser: usage: {USAGE}")));
    }
    let table = s.tasks.table(&s.kernel)?;
    let k = &s.kernel;
    let mut text = String::new();
    let mut out = Vec::new();
    for arg in args {
        let spec = spec_of(arg)?;
        let mut users = Vec::new();
        let mut problems = Vec::new();
        for t in &table.tasks {
            let uses = match task_uses(k, t, &spec) {
                Ok(u) => u,
                Err(e) => {
                    problems.push(format!("PID {} (task {:x}): {e}", t.pid, t.addr));
                    continue;
                }
            };
            if uses.is_empty() {
                continue;
            }
            if users.is_empty() {
                text.push_str(&format!(
                    " PID   {}  COMM             USAGE\n",
                    crate::report::centre("TASK", 16, false)
                ));
            }
            let line: String = uses.iter().map(|u| format!("{u} ")).collect();
            text.push_str(&format!(
                "{:>5}  {:>16x}  {} {line}\n",
                t.pid,
                t.addr,
                comm16(&t.comm)
            ));
            users.push(json!({"pid": t.pid, "task": format!("{:x}", t.addr),
                "comm": t.comm, "uses": uses}));
        }
        if users.is_empty() {
            text.push_str(&format!("No users of {spec} found\n"));
        }
        for p in &problems {
            text.push_str(&format!("WARNING: {p}\n"));
        }
        out.push(json!({"file": spec, "users": users, "problems": problems}));
    }
    Ok(Report::new(text, json!(out)))
}

/// The argument as searched for: an absolute path, or a kernel address (an inode) in hex
/// without its `0x`.
fn spec_of(arg: &str) -> Result<String, CmdError> {
    if arg.starts_with('/') {
        return Ok(arg.to_string());
    }
    let hex = arg.strip_prefix("0x").unwrap_or(arg);
    match u64::from_str_radix(hex, 16) {
        Ok(a) if a >= KERNEL_START => Ok(hex.to_string()),
        _ => Err(CmdError::Usage(format!(
            "fuser: invalid argument: {arg}\nUsage: {USAGE}"
        ))),
    }
}

/// crash's COMM column: `"comm"` cut to 15 characters and a blank, padded to 16.
fn comm16(comm: &str) -> String {
    let quoted: Vec<char> = format!("\"{comm}\"\n").chars().take(16).collect();
    let mut c: String = quoted[..quoted.len() - 1].iter().collect();
    while c.chars().count() < 16 {
        c.push(' ');
    }
    c
}

/// `spec`'s first occurrence in `line` (from `from`), when a blank or the end follows it.
fn found_at(line: &str, spec: &str, from: usize) -> Option<usize> {
    let i = from + line.get(from..)?.find(spec)?;
    match line.as_bytes().get(i + spec.len()) {
        None | Some(b' ') | Some(b'\n') => Some(i),
        _ => None,
    }
}

/// How task `t` uses `spec`: "root", "cwd", "fd", "mmap", in that order.
fn task_uses(k: &Kernel, t: &Task, spec: &str) -> kdive_kernel::Result<Vec<&'static str>> {
    let mut uses = Vec::new();
    let f = k.task_files(t.addr)?;
    if f.root_inode != 0 || f.cwd_inode != 0 {
        let root = format!(
            "ROOT: {:x} {}    CWD: {:x} {}",
            f.root_inode, f.root, f.cwd_inode, f.cwd
        );
        if let Some(i) = found_at(&root, spec, 0) {
            if root[i..].contains("CWD:") {
                uses.push("root");
                if found_at(&root, spec, i + spec.len()).is_some() {
                    uses.push("cwd");
                }
            } else {
                uses.push("cwd");
            }
        }
    }
    let fd = f.files.iter().any(|o| {
        let line = format!(
            "{:>3} {:x} {:x} {:x} {:<4} {}",
            o.fd, o.file, o.dentry, o.inode, o.kind, o.path
        );
        found_at(&line, spec, 0).is_some()
    });
    if fd {
        uses.push("fd");
    }
    if t.mm != 0 {
        let vmas = k.vmas(t.mm)?;
        let mapped = vmas.vmas.iter().any(|v| {
            let line = if v.inode != 0 {
                format!(
                    "{:x} {:>10x} {:>10x} {:>6x} {:x} {}",
                    v.addr,
                    v.start,
                    v.end,
                    v.flags,
                    v.inode,
                    v.file.as_deref().unwrap_or("")
                )
            } else {
                crate::vm::vma_line(v)
            };
            found_at(&line, spec, 0).is_some()
        });
        if mapped {
            uses.push("mmap");
        }
    }
    Ok(uses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_need_a_blank_or_the_end_after_the_first_occurrence() {
        assert_eq!(found_at("ROOT: ff /    CWD: ff /", "/", 0), Some(9));
        assert_eq!(found_at("x /bin/busybox", "/busybox", 0), Some(6));
        assert_eq!(found_at("x /dev/null", "/dev", 0), None);
        // Only the first occurrence counts.
        assert_eq!(found_at("/root /", "/", 0), None);
    }

    #[test]
    fn comm_column_is_crashs() {
        assert_eq!(comm16("init"), "\"init\"          ");
        assert_eq!(comm16("rcu_tasks_kthre"), "\"rcu_tasks_kthr ");
        assert_eq!(comm16("kworker/0:0H"), "\"kworker/0:0H\"  ");
    }

    #[test]
    fn arguments() {
        assert_eq!(spec_of("/dev/console").unwrap(), "/dev/console");
        assert_eq!(spec_of("0xffff8c3f812e4cd0").unwrap(), "ffff8c3f812e4cd0");
        assert!(spec_of("12").is_err());
        assert!(spec_of("console").is_err());
    }
}
