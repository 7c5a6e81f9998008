//! `ps` views that print a block per task, as crash 8.0.6 does: -a (arguments and environment
//! read from the task's user memory), -r (resource limits from `signal->rlim[]`), -g (thread
//! groups), and the -y scheduling-policy filter.

use crate::context::TaskTable;
use crate::{CmdError, Report};
use kdive_kernel::tasks::Task;
use kdive_kernel::{AddrExt, Kernel};
use serde_json::json;

/// crash's scheduling policies, by number (`SCHED_*`).
const POLICIES: [&str; 7] = ["NORMAL", "FIFO", "RR", "BATCH", "ISO", "IDLE", "DEADLINE"];

/// `-y POLICY[,POLICY...]`: a mask of policy bits. Each item is a name (matched as a prefix
/// of the upper-cased item, as crash does), a decimal number or `0x` hex.
pub fn parse_policies(arg: &str) -> Result<u64, CmdError> {
    let mut mask = 0u64;
    for item in arg.split(',') {
        let upper = item.to_ascii_uppercase();
        let found = POLICIES.iter().enumerate().find(|(i, name)| {
            upper.starts_with(*name) || upper == i.to_string() || upper == format!("0X{i:X}")
        });
        match found {
            Some((i, _)) => mask |= 1 << i,
            None => {
                return Err(CmdError::Usage(format!(
                    "ps: {item}: invalid scheduling policy"
                )))
            }
        }
    }
    Ok(mask)
}

/// `task_struct.policy`.
pub fn task_policy(k: &Kernel, t: &Task) -> Result<u32, CmdError> {
    let off = k.layout.offset("task_struct", "policy")?;
    Ok(k.read_u32(t.addr.off(off), "task_struct.policy")?)
}

/// Whether the task's policy is in `mask` (an unreadable policy matches nothing).
pub fn has_policy(k: &Kernel, t: &Task, mask: u64) -> bool {
    task_policy(k, t)
        .ok()
        .and_then(|p| 1u64.checked_shl(p))
        .is_some_and(|bit| bit & mask != 0)
}

/// Reads `mm_struct.<member>`.
fn mm_field(k: &Kernel, mm: u64, member: &str) -> Result<u64, CmdError> {
    let off = k.layout.offset("mm_struct", member)?;
    Ok(k.read_u64(mm.off(off), &format!("mm_struct.{member}"))?)
}

/// What `ps -a` found for one task.
enum ArgsResult {
    /// A kernel thread (no `mm`).
    NoUserStack,
    /// Both strings read.
    Read { args: Vec<u8>, env: Vec<u8> },
    /// The arguments read, the environment not (crash prints the arguments first).
    ArgsOnly { args: Vec<u8>, va: u64 },
    /// Nothing user-side could be read: the first failing user address, when there is one.
    Failed { va: Option<u64>, error: String },
}

fn read_args(k: &Kernel, t: &Task) -> ArgsResult {
    if t.mm == 0 {
        return ArgsResult::NoUserStack;
    }
    let fields = || -> Result<[u64; 4], CmdError> {
        Ok([
            mm_field(k, t.mm, "arg_start")?,
            mm_field(k, t.mm, "arg_end")?,
            mm_field(k, t.mm, "env_start")?,
            mm_field(k, t.mm, "env_end")?,
        ])
    };
    let [arg_start, arg_end, env_start, env_end] = match fields() {
        Ok(f) => f,
        Err(e) => {
            return ArgsResult::Failed {
                va: None,
                error: e.to_string(),
            }
        }
    };
    let space = match k.user_space(t.mm) {
        Ok(s) => s,
        Err(e) => {
            return ArgsResult::Failed {
                va: None,
                error: e.to_string(),
            }
        }
    };
    let fail_va = |e: &kdive_kernel::Error| match e {
        kdive_kernel::Error::Read { va, .. } => Some(*va),
        _ => None,
    };
    let args = match k.read_user(space, arg_start, arg_end) {
        Ok(a) => a,
        Err(e) => {
            return ArgsResult::Failed {
                va: fail_va(&e),
                error: e.to_string(),
            }
        }
    };
    match k.read_user(space, env_start, env_end) {
        Ok(env) => ArgsResult::Read { args, env },
        Err(e) => match fail_va(&e) {
            Some(va) => ArgsResult::ArgsOnly { args, va },
            None => ArgsResult::Failed {
                va: None,
                error: e.to_string(),
            },
        },
    }
}

/// crash's `ARG:` line body: the strings joined by spaces, each followed by one.
fn arg_text(buf: &[u8]) -> String {
    let mut out = Vec::new();
    let mut c = 0;
    for &b in buf {
        if b == 0 {
            if c > 0 {
                out.push(b' ');
            }
            c = 0;
        } else {
            out.push(b);
            c += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// crash's `ENV:` body: one string a line, continuation lines indented five spaces, ending
/// with a blank line (two when the environment is empty).
fn env_text(buf: &[u8]) -> String {
    let mut out = Vec::new();
    let (mut c, mut d) = (0, 0);
    for (i, &b) in buf.iter().enumerate() {
        if b == 0 {
            if c > 0 {
                out.push(b'\n');
            }
            c = 0;
        } else {
            if c == 0 && i != 0 {
                out.extend_from_slice(b"     ");
            }
            out.push(b);
            c += 1;
            d += 1;
        }
    }
    out.extend_from_slice(if d > 0 { b"\n" } else { b"\n\n" });
    String::from_utf8_lossy(&out).into_owned()
}

fn strings(buf: &[u8]) -> Vec<String> {
    buf.split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// `ps -Y`: each task's scheduling policy and priority (`task_struct.policy`, `.prio`), in
/// the layout of crash's `ps -Y`; `-H` leaves out the header.
pub fn policy_view(
    k: &Kernel,
    table: &TaskTable,
    chosen: &[&Task],
    kstackp: bool,
    no_header: bool,
) -> Report {
    let mut text = String::new();
    if !no_header {
        let column = if kstackp {
            crate::report::centre("KSTACKP", 16, true)
        } else {
            crate::report::centre("TASK", 16, false)
        };
        text.push_str(&format!(
            "      PID    PPID  CPU {column}  POLICY       PRIO  COMM\n"
        ));
    }
    let mut json = Vec::new();
    let mut problems = Vec::new();
    for t in chosen {
        let policy = task_policy(k, t);
        let prio = k
            .layout
            .offset("task_struct", "prio")
            .and_then(|off| k.read_u32(t.addr.off(off), "task_struct.prio"))
            .map(|p| p as i32);
        let name = match &policy {
            Ok(p) => POLICIES.get(*p as usize).copied().unwrap_or("UNKNOWN"),
            Err(_) => "?",
        };
        for e in [
            policy.as_ref().err().map(|e| e.to_string()),
            prio.as_ref().err().map(|e| e.to_string()),
        ]
        .into_iter()
        .flatten()
        {
            problems.push(format!("pid {}: {e}", t.pid));
        }
        let comm = if t.is_kernel_thread() {
            format!("[{}]", t.comm)
        } else {
            t.comm.clone()
        };
        let prio_text = prio.as_ref().map_or("?".to_string(), |p| p.to_string());
        text.push_str(&format!(
            "{} {:>7} {:>7} {:>3}  {}  {name:<12} {prio_text:>4}  {comm}\n",
            if table.is_active(t.addr) { '>' } else { ' ' },
            t.pid,
            t.ppid,
            t.cpu,
            crate::ps::pointer_field(k, table, t, kstackp),
        ));
        json.push(json!({"pid": t.pid, "ppid": t.ppid, "cpu": t.cpu,
            "task": format!("{:x}", t.addr), "comm": t.comm,
            "policy": policy.ok(), "policy_name": name, "prio": prio.ok()}));
    }
    for p in &problems {
        text.push_str(&format!("WARNING: {p}\n"));
    }
    Report::new(text, json!({"tasks": json, "problems": problems}))
}

/// `ps -a`: each task's command-line arguments and environment.
pub fn args_view(k: &Kernel, table: &TaskTable, chosen: &[&Task]) -> Report {
    let mut text = String::new();
    let mut json = Vec::new();
    for t in chosen {
        text.push_str(&table.header_line(t));
        text.push('\n');
        let mut j = json!({"pid": t.pid, "task": format!("{:x}", t.addr), "comm": t.comm});
        match read_args(k, t) {
            ArgsResult::NoUserStack => {
                text.push_str("ps: no user stack\n\n");
                j["error"] = json!("no user stack");
            }
            ArgsResult::Read { args, env } => {
                text.push_str(&format!(
                    "ARG: {}\nENV: {}",
                    arg_text(&args),
                    env_text(&env)
                ));
                j["args"] = json!(strings(&args));
                j["env"] = json!(strings(&env));
            }
            ArgsResult::ArgsOnly { args, va } => {
                text.push_str(&format!(
                    "ARG: {}\nps: cannot access user stack address: {va:x}\n\n",
                    arg_text(&args)
                ));
                j["args"] = json!(strings(&args));
                j["error"] = json!(format!("cannot access user stack address: {va:x}"));
                j["unreadable_address"] = json!(format!("{va:x}"));
            }
            ArgsResult::Failed {
                va: Some(va),
                error,
            } => {
                text.push_str(&format!("ps: cannot access user stack address: {va:x}\n\n"));
                j["error"] = json!(error);
                j["unreadable_address"] = json!(format!("{va:x}"));
            }
            ArgsResult::Failed { va: None, error } => {
                text.push_str(&format!("ps: {error}\n\n"));
                j["error"] = json!(error);
            }
        }
        json.push(j);
    }
    Report::new(text, json!({"tasks": json, "problems": table.problems}))
}

/// `RLIMIT_*` names by index, as crash prints them.
const RLIMITS: [&str; 16] = [
    "CPU",
    "FSIZE",
    "DATA",
    "STACK",
    "CORE",
    "RSS",
    "NPROC",
    "NOFILE",
    "MEMLOCK",
    "AS",
    "LOCKS",
    "SIGPENDING",
    "MSGQUEUE",
    "NICE",
    "RTPRIO",
    "RTTIME",
];

/// `s` centred in `width`, the odd space on the right.
fn centre(s: &str, width: usize) -> String {
    let pad = width.saturating_sub(s.len());
    format!("{}{s}{}", " ".repeat(pad / 2), " ".repeat(pad - pad / 2))
}

/// `signal->rlim[]`: (current, maximum) of each limit.
fn read_rlimits(k: &Kernel, t: &Task) -> Result<Vec<(u64, u64)>, CmdError> {
    let sig_off = k.layout.offset("task_struct", "signal")?;
    let signal = k.read_u64(t.addr.off(sig_off), "task_struct.signal")?;
    let place = k
        .layout
        .member("signal_struct", "rlim")
        .ok_or_else(|| kdive_kernel::Error::MissingType("signal_struct.rlim".into()))?;
    let one = k.layout.struct_size("rlimit")?;
    let count = match place.size {
        Some(size) if one > 0 && size >= one => (size / one).min(64),
        _ => {
            return Err(kdive_kernel::Error::Corrupt {
                what: "signal_struct.rlim".into(),
                detail: "cannot determine the rlimit array size".into(),
            }
            .into())
        }
    };
    let base = signal.off(place.offset);
    let mut buf = vec![0u8; (count * one) as usize];
    k.read(base, &mut buf, "signal_struct rlimit array")?;
    Ok(buf
        .chunks_exact(one as usize)
        .map(|c| {
            let v = |i: usize| {
                c.get(i * 8..i * 8 + 8)
                    .and_then(|b| b.try_into().ok())
                    .map(u64::from_le_bytes)
                    .unwrap_or(0)
            };
            (v(0), v(1))
        })
        .collect())
}

/// `ps -r`: each task's resource limits, current and maximum.
pub fn rlimit_view(k: &Kernel, table: &TaskTable, chosen: &[&Task]) -> Report {
    let mut text = String::new();
    let mut json = Vec::new();
    for t in chosen {
        text.push_str(&table.header_line(t));
        text.push('\n');
        let limits = match read_rlimits(k, t) {
            Ok(l) => l,
            Err(e) => {
                text.push_str(&format!("ps: {e}\n\n"));
                json.push(
                    json!({"pid": t.pid, "task": format!("{:x}", t.addr), "error": e.to_string()}),
                );
                continue;
            }
        };
        let name = |i: usize| RLIMITS.get(i).copied().unwrap_or("(unknown)");
        let len1 = (0..limits.len())
            .filter_map(|i| RLIMITS.get(i))
            .map(|n| n.len())
            .max()
            .unwrap_or(0);
        let len2 = "(unlimited)".len();
        let value = |v: u64| {
            if v == u64::MAX {
                "(unlimited)".to_string()
            } else {
                centre(&v.to_string(), len2)
            }
        };
        text.push_str(&format!(
            "  {:>len1$}   {}   {}\n",
            "RLIMIT",
            centre("CURRENT", len2),
            centre("MAXIMUM", len2)
        ));
        let mut rows = Vec::new();
        for (i, (cur, max)) in limits.iter().enumerate() {
            text.push_str(&format!(
                "  {:>len1$}   {}   {}\n",
                name(i),
                value(*cur),
                value(*max)
            ));
            let j = |v: u64| if v == u64::MAX { json!(null) } else { json!(v) };
            rows.push(json!({"resource": name(i), "current": j(*cur), "maximum": j(*max)}));
        }
        text.push('\n');
        json.push(
            json!({"pid": t.pid, "task": format!("{:x}", t.addr), "comm": t.comm, "limits": rows}),
        );
    }
    Report::new(text, json!({"tasks": json, "problems": table.problems}))
}

/// `ps -g`: each thread group — its leader, then its other threads indented two spaces.
/// Without task arguments only leaders start a group; a named thread shows its leader's
/// group. The idle tasks form one group (tgid 0), shown once.
pub fn tgid_view(table: &TaskTable, chosen: &[&Task], specified: bool) -> Report {
    let mut text = String::new();
    let mut json = Vec::new();
    let mut idle_shown = false;
    for t in chosen {
        let leader = if t.pid == t.tgid {
            *t
        } else if specified {
            match table.tasks.iter().find(|x| x.pid == t.tgid) {
                Some(l) => l,
                None => continue,
            }
        } else {
            continue;
        };
        if leader.pid == 0 && idle_shown {
            continue;
        }
        text.push_str(&table.header_line(leader));
        text.push('\n');
        let threads: Vec<&Task> = table
            .tasks
            .iter()
            .filter(|x| x.addr != leader.addr && x.tgid == leader.tgid)
            .collect();
        for th in &threads {
            text.push_str(&format!("  {}\n", table.header_line(th)));
            if th.pid == 0 {
                idle_shown = true;
            }
        }
        if threads.is_empty() {
            text.push_str("  (no threads)\n");
        }
        text.push('\n');
        let brief =
            |x: &Task| json!({"pid": x.pid, "task": format!("{:x}", x.addr), "comm": x.comm});
        json.push(json!({"tgid": leader.tgid, "leader": brief(leader), "threads": threads.iter().map(|x| brief(x)).collect::<Vec<_>>()}));
    }
    Report::new(text, json!({"groups": json, "problems": table.problems}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_like_crash() {
        assert_eq!(parse_policies("FIFO,RR").ok(), Some(0b110));
        assert_eq!(parse_policies("normal").ok(), Some(1));
        assert_eq!(parse_policies("0x6").ok(), Some(1 << 6));
        assert_eq!(parse_policies("5").ok(), Some(1 << 5));
        assert!(parse_policies("9").is_err());
        assert!(parse_policies("FIFO,").is_err());
    }

    #[test]
    fn arguments_and_environment_print_like_crash() {
        assert_eq!(arg_text(b"/bin/sh\0/init\0"), "/bin/sh /init ");
        assert_eq!(
            env_text(b"HOME=/\0TERM=linux\0"),
            "HOME=/\n     TERM=linux\n\n"
        );
        assert_eq!(env_text(b""), "\n\n");
        assert_eq!(env_text(b"A=1"), "A=1\n");
    }

    fn task(pid: i32, tgid: i32, addr: u64) -> Task {
        Task {
            addr,
            pid,
            tgid,
            comm: format!("t{pid}"),
            state: 0,
            exit_state: 0,
            cpu: 0,
            idle: pid == 0,
            parent: 0,
            ppid: 0,
            mm: 0,
            flags: 0,
        }
    }

    #[test]
    fn thread_groups_like_crash() {
        let table = TaskTable {
            tasks: vec![
                task(0, 0, 0x10),
                task(0, 0, 0x20),
                task(5, 5, 0x50),
                task(6, 5, 0x60),
                task(7, 5, 0x70),
                task(8, 8, 0x80),
            ],
            problems: vec![],
            active: vec![],
            states: Default::default(),
            panic: None,
            sysrq: false,
        };
        let all: Vec<&Task> = table.tasks.iter().collect();
        let r = tgid_view(&table, &all, false);
        let h = |t: &Task| table.header_line(t);
        let t = &table.tasks;
        assert_eq!(
            r.text,
            format!(
                "{}\n  {}\n\n{}\n  {}\n  {}\n\n{}\n  (no threads)\n\n",
                h(&t[0]),
                h(&t[1]),
                h(&t[2]),
                h(&t[3]),
                h(&t[4]),
                h(&t[5])
            )
        );
        // A named thread shows its leader's group.
        let r = tgid_view(&table, &[&t[4]], true);
        assert!(r.text.starts_with(&h(&t[2])), "{}", r.text);
        assert_eq!(
            r.json["groups"][0]["threads"].as_array().map(Vec::len),
            Some(2)
        );
    }

    #[test]
    fn limits_centre_with_the_odd_space_right() {
        assert_eq!(centre("0", 11), "     0     ");
        assert_eq!(centre("2777", 11), "   2777    ");
        assert_eq!(centre("CURRENT", 11), "  CURRENT  ");
    }
}
