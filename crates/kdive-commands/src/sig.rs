//! `sig [-g] [PID|TASK|COMMAND]...`, `sig -l`, `sig -s SIGSET`: a task's signal handling as
//! crash prints it — every signal's disposition (handler, mask, flags), whether a signal is
//! pending, the blocked set, the private and shared pending sets with their queues — and
//! the signal names (`-l`) or the names in a set (`-s`).

use crate::context::TaskTable;
use crate::report::centre;
use crate::{CmdError, Report, Session};
use kdive_kernel::archfacts::ArchFacts;
use kdive_kernel::signals::{Pending, SignalState};
use kdive_kernel::tasks::Task;
use serde_json::json;

pub const USAGE: &str = "sig [-g] [PID|TASK|COMMAND]... | sig -l | sig -s SIGSET";

/// First real-time signal (`SIGRTMIN` as the kernel numbers it).
const SIGRTMIN: u32 = 32;

/// Names of the classic signals 1..=31 and their alternative names.
const NAMES: [(&str, Option<&str>); 31] = [
    ("SIGHUP", None),
    ("SIGINT", None),
    ("SIGQUIT", None),
    ("SIGILL", None),
    ("SIGTRAP", None),
    ("SIGABRT", Some("SIGIOT")),
    ("SIGBUS", None),
    ("SIGFPE", None),
    ("SIGKILL", None),
    ("SIGUSR1", None),
    ("SIGSEGV", None),
    ("SIGUSR2", None),
    ("SIGPIPE", None),
    ("SIGALRM", None),
    ("SIGTERM", None),
    ("SIGSTKFLT", None),
    ("SIGCHLD", Some("SIGCLD")),
    ("SIGCONT", None),
    ("SIGSTOP", None),
    ("SIGTSTP", None),
    ("SIGTTIN", None),
    ("SIGTTOU", None),
    ("SIGURG", None),
    ("SIGXCPU", None),
    ("SIGXFSZ", None),
    ("SIGVTALRM", None),
    ("SIGPROF", None),
    ("SIGWINCH", None),
    ("SIGIO", Some("SIGPOLL")),
    ("SIGPWR", None),
    ("SIGSYS", Some("SIGUNUSED")),
];

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let facts = s
        .kernel
        .arch_facts()
        .ok_or_else(|| CmdError::Usage("sig: this architecture's signals are not known".into()))?;
    let mut group = false;
    let mut selectors = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-l" => return Ok(Report::new(list(facts.nsig), json!(names_json(facts.nsig)))),
            "-s" => {
                let v = it
                    .next()
                    .ok_or_else(|| CmdError::Usage(format!("sig: -s needs a set\n{USAGE}")))?;
                let set = u64::from_str_radix(v.trim_start_matches("0x"), 16)
                    .map_err(|_| CmdError::Usage(format!("sig -s: not a hex set: {v}")))?;
                let names = set_names(set, facts.nsig);
                let text = if names.is_empty() {
                    "(none)\n".to_string()
                } else {
                    wrap_names(&names)
                };
                return Ok(Report::new(text, json!(names)));
            }
            "-g" => group = true,
            o if o.starts_with('-') => {
                return Err(CmdError::Usage(format!("sig: invalid option {o}\n{USAGE}")))
            }
            _ => selectors.push(a.clone()),
        }
    }
    let targets = crate::pertask::targets(s, "sig", &selectors)?;
    let tasks: Vec<Task> = targets.tasks;
    let table = s.tasks.table(&s.kernel)?;
    let k = &s.kernel;
    let mut text = String::new();
    let mut json = Vec::new();
    for t in &tasks {
        if group {
            text.push_str(&thread_group(k, &table, t, &facts)?);
            continue;
        }
        let st = k.task_signals(t.addr)?;
        text.push_str(&table.header_line(t));
        text.push('\n');
        text.push_str(&dispositions(&st, &facts, ""));
        text.push_str(&task_level(&st, ""));
        text.push_str(&shared(&st));
        text.push('\n');
        json.push(
            json!({"pid": t.pid, "task": format!("{:x}", t.addr), "comm": t.comm, "signals": st}),
        );
    }
    Ok(Report::new(text, json!(json)).with_errors(targets.errors))
}

/// `sig -g`: the group's dispositions and shared queue once, then each thread's own state.
fn thread_group(
    k: &kdive_kernel::Kernel,
    table: &TaskTable,
    t: &Task,
    facts: &ArchFacts,
) -> Result<String, CmdError> {
    let leader = table
        .tasks
        .iter()
        .find(|x| x.pid == t.tgid && x.is_group_leader())
        .unwrap_or(t);
    let st = k.task_signals(leader.addr)?;
    let mut out = format!("{}\n", table.header_line(leader));
    out.push_str(&dispositions(&st, facts, ""));
    out.push_str(&shared(&st));
    for th in table.tasks.iter().filter(|x| x.tgid == leader.tgid) {
        let ts = k.task_signals(th.addr)?;
        out.push_str(&format!("\n  {}\n", table.header_line(th)));
        out.push_str(&task_level(&ts, "  "));
    }
    out.push('\n');
    Ok(out)
}

/// The SIGNAL_STRUCT line and the table of dispositions.
fn dispositions(st: &SignalState, facts: &ArchFacts, indent: &str) -> String {
    let mut out = format!("{indent}SIGNAL_STRUCT: {:x}  ", st.signal_struct);
    match st.nr_threads {
        Some(n) => out.push_str(&format!("NR_THREADS: {n}\n")),
        None => out.push('\n'),
    }
    out.push_str(&format!(
        "{indent} SIG {} {:>10} {} {:<16}\n",
        centre("SIGACTION", 16, false),
        "HANDLER",
        centre("MASK", 16, false),
        "FLAGS"
    ));
    for a in &st.actions {
        let handler = match a.handler as i64 {
            -1 => "SIG_ERR".to_string(),
            0 => "SIG_DFL".to_string(),
            1 => "SIG_IGN".to_string(),
            _ => format!("{:x}", a.handler),
        };
        let pad = if a.signo < 10 { " " } else { "" };
        out.push_str(&format!(
            "{indent}{pad}[{}] {:<10x} {handler:>10} {:016x} {:x} {}\n",
            a.signo,
            a.addr,
            a.mask,
            a.flags,
            flag_names(a.flags, facts)
        ));
    }
    out
}

/// `(SA_RESTORER|SA_RESTART)`, or nothing for no flags.
fn flag_names(flags: u64, facts: &ArchFacts) -> String {
    let names: Vec<&str> = facts
        .sa_flags
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, n)| *n)
        .collect();
    if names.is_empty() {
        String::new()
    } else {
        format!("({})", names.join("|"))
    }
}

/// SIGPENDING, BLOCKED and the task's private pending set.
fn task_level(st: &SignalState, indent: &str) -> String {
    let mut out = format!(
        "{indent}SIGPENDING: {}\n{indent}   BLOCKED: {:016x}\n{indent}PRIVATE_PENDING\n",
        if st.sigpending { "yes" } else { "no" },
        st.blocked
    );
    out.push_str(&pending(&st.private, indent));
    out
}

fn shared(st: &SignalState) -> String {
    format!("SHARED_PENDING\n{}", pending(&st.shared, ""))
}

fn pending(p: &Pending, indent: &str) -> String {
    let mut out = format!("{indent}    SIGNAL: {:016x}\n", p.signal);
    if p.queue.is_empty() {
        out.push_str(&format!("{indent}  SIGQUEUE: (empty)\n"));
    } else {
        out.push_str(&format!(
            "{indent}  SIGQUEUE:  SIG  {}\n",
            centre("SIGINFO", 16, false)
        ));
        for (signo, info) in &p.queue {
            out.push_str(&format!("{indent}             {signo:>3}  {info:x}\n"));
        }
    }
    if let Some(e) = &p.problem {
        out.push_str(&format!("{indent}  WARNING: queue cut short: {e}\n"));
    }
    out
}

/// The name crash gives signal `n`: classic names, then SIGRTMIN, SIGRTMIN+1.., SIGRTMAX-n..,
/// SIGRTMAX.
fn name(n: u32, nsig: u32) -> String {
    if n == 0 {
        return String::new();
    }
    if n < SIGRTMIN {
        return NAMES[n as usize - 1].0.to_string();
    }
    if n == SIGRTMIN {
        return "SIGRTMIN".into();
    }
    if n == nsig {
        return "SIGRTMAX".into();
    }
    // Between them: the lower half counted up from SIGRTMIN, the upper down from SIGRTMAX.
    let between = nsig - SIGRTMIN - 1;
    let up = between - between / 2;
    if n - SIGRTMIN <= up {
        format!("SIGRTMIN+{}", n - SIGRTMIN)
    } else {
        format!("SIGRTMAX-{}", nsig - n)
    }
}

/// `sig -l`.
fn list(nsig: u32) -> String {
    let mut out = String::new();
    for n in 1..=nsig {
        let pad = if n < 10 { " " } else { "" };
        if n < SIGRTMIN {
            let (main, alt) = NAMES[n as usize - 1];
            match alt {
                Some(a) => out.push_str(&format!("{pad}[{n}] {main}/{a}\n")),
                None => out.push_str(&format!("{pad}[{n}] {main}\n")),
            }
        } else {
            out.push_str(&format!("[{n}] {}\n", name(n, nsig)));
        }
    }
    out
}

fn names_json(nsig: u32) -> Vec<serde_json::Value> {
    (1..=nsig)
        .map(|n| json!({"signal": n, "name": name(n, nsig)}))
        .collect()
}

/// The names of the signals in a set (bit 0 is signal 1).
fn set_names(set: u64, nsig: u32) -> Vec<String> {
    (1..=nsig.min(64))
        .filter(|n| set & (1u64 << (n - 1)) != 0)
        .map(|n| name(n, nsig))
        .collect()
}

/// Names separated by spaces, a new line before one that would pass 80 columns.
fn wrap_names(names: &[String]) -> String {
    let mut out = String::new();
    let mut len = 0;
    for (i, n) in names.iter().enumerate() {
        let item = if i == 0 { n.clone() } else { format!(" {n}") };
        if len + item.len() > 80 {
            out.push('\n');
            out.push_str(item.trim_start());
            len = item.len() - 1;
        } else {
            out.push_str(&item);
            len += item.len();
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_time_signals_are_named_from_both_ends() {
        assert_eq!(name(9, 64), "SIGKILL");
        assert_eq!(name(32, 64), "SIGRTMIN");
        assert_eq!(name(33, 64), "SIGRTMIN+1");
        assert_eq!(name(48, 64), "SIGRTMIN+16");
        assert_eq!(name(49, 64), "SIGRTMAX-15");
        assert_eq!(name(63, 64), "SIGRTMAX-1");
        assert_eq!(name(64, 64), "SIGRTMAX");
    }

    #[test]
    fn a_set_reads_as_names() {
        assert_eq!(set_names(0, 64), Vec::<String>::new());
        assert_eq!(set_names(0x101, 64), ["SIGHUP", "SIGKILL"]);
        assert_eq!(set_names(1 << 63, 64), ["SIGRTMAX"]);
    }
}
