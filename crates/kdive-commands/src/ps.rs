//! `ps`: crash's process table — PID PPID CPU TASK ST %MEM VSZ RSS COMM, `>` on the task each
//! CPU was running, kernel threads in brackets, every thread and each CPU's idle task — and its
//! views: -k/-u (kernel/user only), -G (group leaders), -s (kernel stack pointer), -p
//! (parents), -c (children), -t (times), -l/-m (when each task last ran, most recent first),
//! -A (active only), -S (state summary), -y (by scheduling policy), -I (no idle tasks), -H (no
//! header), -C (per-CPU blocks of -l/-m), filtered by pid, task address or command name (a bad
//! one is reported and the rest shown, as crash does); -a, -r, -g and -Y live in `psviews`.

use crate::context::TaskTable;
use crate::psviews;
use crate::{CmdError, Report, Session};
use kdive_kernel::taskmem::{MmReader, MmUsage};
use kdive_kernel::tasks::Task;
use kdive_kernel::AddrExt;
use kdive_kernel::Kernel;
use serde_json::json;
use std::collections::HashMap;

/// The table header of crash 8.0.6 (wider PID/VSZ/RSS than 8.0.2).
pub const HEADER: &str =
    "      PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM";
const HEADER_KSTACKP: &str =
    "      PID    PPID  CPU      KSTACKP      ST  %MEM      VSZ      RSS  COMM";

#[derive(Default)]
struct Opts {
    kernel: bool,
    user: bool,
    leaders: bool,
    kstackp: bool,
    parents: bool,
    children: bool,
    times: bool,
    last_run: bool,
    msecs: bool,
    active: bool,
    summary: bool,
    args_env: bool,
    rlimits: bool,
    groups: bool,
    /// `-y`: a mask of scheduling-policy bits.
    policy: Option<u64>,
    /// `-H`: no header line.
    no_header: bool,
    /// `-I`: leave out each CPU's idle task.
    no_idle: bool,
    /// `-Y`: scheduling policy and priority instead of memory.
    policy_data: bool,
    /// `-C CPUS` (with `-l`/`-m`): one block per CPU.
    cpus: Option<Vec<u32>>,
    filters: Vec<String>,
}

fn parse(args: &[String]) -> Result<Opts, CmdError> {
    let mut o = Opts::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.strip_prefix('-') {
            Some(flags) if !flags.is_empty() && !flags.chars().all(|c| c.is_ascii_digit()) => {
                for (i, c) in flags.char_indices() {
                    match c {
                        'y' | 'C' => {
                            // Like getopt: the rest of this word, else the next one.
                            let rest = &flags[i + 1..];
                            let arg = if rest.is_empty() {
                                it.next().map(String::as_str).ok_or_else(|| {
                                    CmdError::Usage(format!(
                                        "ps: -{c} needs an argument (usage: {USAGE})"
                                    ))
                                })?
                            } else {
                                rest
                            };
                            if c == 'y' {
                                let mask = crate::psviews::parse_policies(arg)?;
                                o.policy = Some(o.policy.unwrap_or(0) | mask);
                            } else {
                                o.cpus = Some(match arg {
                                    "a" | "all" => Vec::new(),
                                    _ => crate::bt::parse_cpus(arg)?,
                                });
                            }
                            break;
                        }
                        'H' => o.no_header = true,
                        'I' => o.no_idle = true,
                        'Y' => o.policy_data = true,
                        'a' => o.args_env = true,
                        'r' => o.rlimits = true,
                        'g' => o.groups = true,
                        'k' => o.kernel = true,
                        'u' => o.user = true,
                        'G' => o.leaders = true,
                        's' => o.kstackp = true,
                        'p' => o.parents = true,
                        'c' => o.children = true,
                        't' => o.times = true,
                        'l' => o.last_run = true,
                        'm' => o.msecs = true,
                        'A' => o.active = true,
                        'S' => o.summary = true,
                        _ => {
                            return Err(CmdError::Usage(format!(
                                "ps: invalid option -{c} (usage: {})",
                                USAGE
                            )))
                        }
                    }
                }
            }
            _ => o.filters.push(a.clone()),
        }
    }
    let views = [
        o.parents,
        o.children,
        o.times,
        o.last_run,
        o.msecs,
        o.summary,
        o.args_env,
        o.rlimits,
        o.groups,
        o.active,
        o.policy_data,
    ];
    if views.iter().filter(|&&v| v).count() > 1 {
        return Err(CmdError::Usage(
            "ps: -a, -t, -c, -p, -g, -l, -m, -S, -r, -A and -Y flags are all mutually-exclusive"
                .into(),
        ));
    }
    if o.cpus.is_some() && !(o.last_run || o.msecs) {
        return Err(CmdError::Usage(
            "ps: -C option is only applicable with -l and -m".into(),
        ));
    }
    if o.cpus.is_some() && !o.filters.is_empty() {
        return Err(CmdError::Usage(
            "ps: -C option is not applicable with specified tasks".into(),
        ));
    }
    if o.kernel && o.user {
        return Err(CmdError::Usage(
            "ps: -k and -u are mutually exclusive".into(),
        ));
    }
    Ok(o)
}

pub const USAGE: &str = "ps [-k|-u|-G|-I|-y policy] [-s] [-p|-c|-t|-[l|m][-C cpus]|-a|-g|-r|-S|-A|-H|-Y] [pid | task | command] ...";

/// One row of the table, with everything the text and JSON show.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PsRow {
    pub active: bool,
    pub pid: i32,
    pub ppid: i32,
    pub cpu: u32,
    pub task: String,
    pub state: &'static str,
    /// The kernel's own state letter (what /proc and drgn show).
    pub state_char: char,
    pub pct_mem: f64,
    pub vsz_kb: u64,
    pub rss_kb: u64,
    pub comm: String,
    pub kernel_thread: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kstackp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_error: Option<String>,
}

/// RSS and VSZ of every user task, computed once per address space.
pub struct MemTable {
    usage: HashMap<u64, Result<MmUsage, String>>,
    total_pages: u64,
    page_kb: u64,
}

impl MemTable {
    pub fn read(k: &Kernel, table: &TaskTable) -> MemTable {
        let page_kb = k.page_size() / 1024;
        let total_pages = k.total_pages_for_pct().unwrap_or(0);
        let mut threads: HashMap<u64, Vec<u64>> = HashMap::new();
        for t in &table.tasks {
            if t.mm != 0 && !t.is_kernel_thread() {
                threads.entry(t.mm).or_default().push(t.addr);
            }
        }
        let reader = MmReader::new(k);
        let usage = threads
            .iter()
            .map(|(mm, ts)| {
                let u = match &reader {
                    Ok(r) => r.usage(k, *mm, ts).map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                (*mm, u)
            })
            .collect();
        MemTable {
            usage,
            total_pages,
            page_kb,
        }
    }
}

/// The row for one task.
pub fn row(k: &Kernel, table: &TaskTable, mem: &MemTable, t: &Task, kstackp: bool) -> PsRow {
    let kernel_thread = t.is_kernel_thread();
    let (usage, mem_error) = if kernel_thread {
        (MmUsage::default(), None)
    } else {
        match mem.usage.get(&t.mm) {
            Some(Ok(u)) => (*u, None),
            Some(Err(e)) => (MmUsage::default(), Some(e.clone())),
            None => (MmUsage::default(), None),
        }
    };
    let pct_mem = if mem.total_pages > 0 {
        usage.rss as f64 * 100.0 / mem.total_pages as f64
    } else {
        0.0
    };
    let active = table.is_active(t.addr);
    PsRow {
        active,
        pid: t.pid,
        ppid: t.ppid,
        cpu: t.cpu,
        task: format!("{:x}", t.addr),
        state: table.states.crash_code(t),
        state_char: table.states.letter(t.state, t.exit_state),
        pct_mem,
        vsz_kb: usage.total_vm.saturating_mul(mem.page_kb),
        rss_kb: usage.rss.saturating_mul(mem.page_kb),
        comm: t.comm.clone(),
        kernel_thread,
        kstackp: kstackp.then(|| {
            if active {
                "--".to_string()
            } else {
                saved_sp(k, t.addr)
                    .map(|sp| format!("{sp:x}"))
                    .unwrap_or_else(|| "--".into())
            }
        }),
        mem_error,
    }
}

/// The 16-column TASK (or, with `-s`, KSTACKP) field of a task's line, as crash prints it.
pub fn pointer_field(k: &Kernel, table: &TaskTable, t: &Task, kstackp: bool) -> String {
    if !kstackp {
        return format!("{:>16x}", t.addr);
    }
    match saved_sp(k, t.addr).filter(|_| !table.is_active(t.addr)) {
        Some(sp) => format!("{sp:>16x}"),
        None => format!("{:^16}", "--"),
    }
}

/// The stack pointer saved at the last context switch (`thread.sp`).
fn saved_sp(k: &Kernel, task: u64) -> Option<u64> {
    let off = k.layout.offset("task_struct", "thread.sp").ok()?;
    k.read_u64(task.off(off), "task_struct.thread.sp").ok()
}

/// One table line exactly as crash 8.0.6 prints it.
pub fn format_row(r: &PsRow) -> String {
    let pct = format!("{:.1}", r.pct_mem);
    let pad = if r.state.len() > 3 { " " } else { "  " };
    let comm = if r.kernel_thread {
        format!("[{}]", r.comm)
    } else {
        r.comm.clone()
    };
    let pointer = match &r.kstackp {
        Some(sp) if sp == "--" => format!("{:^16}", "--"),
        Some(sp) => format!("{sp:>16}"),
        None => format!("{:>16}", r.task),
    };
    format!(
        "{}{:>8} {:>7} {:>3}  {}  {}{}{:>4} {:>8} {:>8}  {}",
        if r.active { '>' } else { ' ' },
        r.pid,
        r.ppid,
        r.cpu,
        pointer,
        r.state,
        pad,
        pct,
        r.vsz_kb,
        r.rss_kb,
        comm
    )
}

pub fn run(s: &mut Session, args: &[String], raw: &str) -> Result<Report, CmdError> {
    // The raw line keeps `'REGEX'` quotes; a caller whose raw text is not these arguments
    // (none today) gets its arguments taken as they are.
    let words = if crate::session::split_args(raw) == args {
        crate::session::split_args_keeping_regex(raw)
    } else {
        args.to_vec()
    };
    let o = parse(&words)?;
    let table = s.tasks.table(&s.kernel)?;
    let k = &s.kernel;
    // Which tasks: the filters (pid, task address, command), else all.
    let mut errors = Vec::new();
    let mut chosen: Vec<&Task> = if o.filters.is_empty() {
        table.tasks.iter().collect()
    } else {
        let (found, bad) = table.select_each("ps", &o.filters)?;
        errors = bad;
        let mut v: Vec<&Task> = Vec::new();
        for t in found {
            if !v.iter().any(|x| x.addr == t.addr) {
                v.push(t);
            }
        }
        v.sort_by_key(|t| (t.pid, t.cpu, t.addr));
        if o.groups {
            // crash: a command name picks only its group leaders.
            v.retain(|t| t.is_group_leader() || !o.filters.contains(&t.comm));
        }
        v
    };
    chosen.retain(|t| {
        (!o.kernel || t.is_kernel_thread())
            && (!o.user || !t.is_kernel_thread())
            && (!o.leaders || t.is_group_leader())
            && (!o.active || table.is_active(t.addr))
            && (!o.no_idle || !t.idle)
            && o.policy.map_or(true, |m| {
                o.times || o.summary || psviews::has_policy(k, t, m)
            })
    });
    render(k, &table, &o, &chosen).map(|r| r.with_errors(errors))
}

/// The view `o` asks for, of the chosen tasks.
fn render(k: &Kernel, table: &TaskTable, o: &Opts, chosen: &[&Task]) -> Result<Report, CmdError> {
    if o.args_env {
        return Ok(psviews::args_view(k, table, chosen));
    }
    if o.rlimits {
        return Ok(psviews::rlimit_view(k, table, chosen));
    }
    if o.groups {
        return Ok(psviews::tgid_view(table, chosen, !o.filters.is_empty()));
    }
    if o.parents {
        return Ok(parents(table, chosen));
    }
    if o.children {
        return Ok(children(table, chosen));
    }
    if o.times {
        return times(k, table, chosen);
    }
    if o.last_run || o.msecs {
        let all = o.filters.is_empty();
        let cpus = match &o.cpus {
            Some(c) if c.is_empty() => Some(k.cpu_counts()?.online),
            c => c.clone(),
        };
        return Ok(last_runs(k, table, chosen, o.msecs, all, cpus.as_deref()));
    }
    if o.policy_data {
        return Ok(psviews::policy_view(
            k,
            table,
            chosen,
            o.kstackp,
            o.no_header,
        ));
    }
    let mem = MemTable::read(k, table);
    let rows: Vec<PsRow> = chosen
        .iter()
        .map(|t| row(k, table, &mem, t, o.kstackp))
        .collect();
    if o.summary {
        return Ok(summary(&rows));
    }
    let mut text = String::new();
    if !o.no_header {
        text.push_str(if o.kstackp { HEADER_KSTACKP } else { HEADER });
        text.push('\n');
    }
    for r in &rows {
        text.push_str(&format_row(r));
        text.push('\n');
    }
    let mut problems = table.problems.clone();
    problems.extend(
        rows.iter()
            .filter_map(|r| r.mem_error.as_ref().map(|e| format!("pid {}: {e}", r.pid))),
    );
    for p in &problems {
        text.push_str(&format!("WARNING: {p}\n"));
    }
    Ok(Report::new(
        text,
        json!({"tasks": rows, "problems": problems}),
    ))
}

/// `ps -S`: how many tasks are in each state.
fn summary(rows: &[PsRow]) -> Report {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for r in rows {
        match counts.iter_mut().find(|(s, _)| *s == r.state) {
            Some(c) => c.1 += 1,
            None => counts.push((r.state, 1)),
        }
    }
    let text = counts
        .iter()
        .map(|(s, n)| format!("  {s}: {n}"))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    let json = counts
        .iter()
        .map(|(s, n)| (s.to_string(), json!(n)))
        .collect::<serde_json::Map<_, _>>();
    Report::new(text, serde_json::Value::Object(json))
}

/// `ps -p`: each chosen task's ancestry from the root, one more space of indent per level.
fn parents(table: &TaskTable, chosen: &[&Task]) -> Report {
    let mut text = String::new();
    let mut json = Vec::new();
    for t in chosen {
        let mut chain = vec![*t];
        let mut cur = *t;
        while cur.parent != 0 && cur.parent != cur.addr && chain.len() < 4096 {
            match table.by_addr(cur.parent) {
                Some(p) if !chain.iter().any(|c| c.addr == p.addr) => {
                    chain.push(p);
                    cur = p;
                }
                _ => break,
            }
        }
        chain.reverse();
        for (depth, c) in chain.iter().enumerate() {
            text.push_str(&format!("{}{}\n", " ".repeat(depth), table.header_line(c)));
        }
        text.push('\n');
        json.push(json!({"pid": t.pid, "ancestry": chain.iter().map(|c| json!({"pid": c.pid, "task": format!("{:x}", c.addr), "comm": c.comm})).collect::<Vec<_>>()}));
    }
    Report::new(text, json!(json))
}

/// `ps -c`: each chosen task and its children, indented two spaces.
fn children(table: &TaskTable, chosen: &[&Task]) -> Report {
    let mut text = String::new();
    let mut json = Vec::new();
    for t in chosen {
        text.push_str(&table.header_line(t));
        text.push('\n');
        let kids: Vec<&Task> = table
            .tasks
            .iter()
            .filter(|c| c.parent == t.addr && c.addr != t.addr)
            .collect();
        if kids.is_empty() {
            text.push_str("  (no children)\n");
        }
        for c in &kids {
            text.push_str(&format!("  {}\n", table.header_line(c)));
        }
        text.push('\n');
        json.push(json!({"pid": t.pid, "task": format!("{:x}", t.addr), "children": kids.iter().map(|c| json!({"pid": c.pid, "task": format!("{:x}", c.addr), "comm": c.comm})).collect::<Vec<_>>()}));
    }
    Report::new(text, json!(json))
}

/// `ps -t`: run time, start time and user/system time of each chosen task.
fn times(k: &Kernel, table: &TaskTable, chosen: &[&Task]) -> Result<Report, CmdError> {
    let read = |t: &Task, m: &str| -> Result<u64, kdive_kernel::Error> {
        let off = k.layout.offset("task_struct", m)?;
        k.read_u64(t.addr.off(off), &format!("task_struct.{m}"))
    };
    let mut problems = Vec::new();
    // Uptime as crash counts it: jiffies since INITIAL_JIFFIES (-300 s, wrapped at 32 bits).
    let uptime_ns = match k.hz().and_then(|hz| Ok((hz as u64, k.jiffies_64()?))) {
        Ok((hz, j)) if hz > 0 => {
            Some(j.wrapping_sub((-(300i64 * hz as i64)) as u32 as u64) * (1_000_000_000 / hz))
        }
        Ok(_) => None,
        Err(e) => {
            problems.push(format!("run times unknown: {e}"));
            None
        }
    };
    let mut text = String::new();
    let mut json = Vec::new();
    for t in chosen {
        let mut field = |m: &str| match read(t, m) {
            Ok(v) => Some(v),
            Err(e) => {
                problems.push(format!("pid {}: {e}", t.pid));
                None
            }
        };
        let (start, utime, stime) = (field("start_time"), field("utime"), field("stime"));
        let run = uptime_ns
            .zip(start)
            .map(|(u, s)| u.saturating_sub(s) / 1_000_000_000);
        let shown = |v: Option<u64>| v.map_or("(unknown)".to_string(), |v| v.to_string());
        text.push_str(&table.header_line(t));
        text.push('\n');
        text.push_str(&format!(
            "    RUN TIME: {}\n  START TIME: {}\n       UTIME: {}\n       STIME: {}\n\n",
            run.map(kdive_kernel::time::format_uptime)
                .unwrap_or_else(|| "(unknown)".into()),
            shown(start),
            shown(utime),
            shown(stime),
        ));
        json.push(json!({"pid": t.pid, "task": format!("{:x}", t.addr), "run_time_secs": run, "start_time": start, "utime": utime, "stime": stime}));
    }
    for p in &problems {
        text.push_str(&format!("WARNING: {p}\n"));
    }
    Ok(Report::new(
        text,
        json!({"tasks": json, "problems": problems}),
    ))
}

/// `ps -l` / `ps -m`: each task's last-run timestamp (`-l`, raw) or the time since it
/// (`-m`, against its CPU's `rq.clock`, as days hh:mm:ss.ms), with its state, most recent
/// first — a task stuck in `UN` shows how long it has been waiting. Given tasks by name, pid
/// or address, they are printed in that order instead, the times aligned on the days.
fn last_runs(
    k: &Kernel,
    table: &TaskTable,
    chosen: &[&Task],
    msecs: bool,
    all: bool,
    cpus: Option<&[u32]>,
) -> Report {
    let mut problems = table.problems.clone();
    // Every task's stamp, read once: the chosen rows use theirs, and crash sizes the `-l`
    // column by the most recent stamp of all tasks.
    let stamps: HashMap<u64, Result<u64, String>> = table
        .tasks
        .iter()
        .map(|t| (t.addr, k.task_last_run(t.addr).map_err(|e| e.to_string())))
        .collect();
    let width = stamps
        .values()
        .filter_map(|r| r.as_ref().ok().copied())
        .max()
        .unwrap_or(0)
        .to_string()
        .len();
    let mut rows: Vec<(&Task, Option<u64>)> = Vec::new();
    for t in chosen {
        let stamp = match stamps.get(&t.addr) {
            Some(Ok(v)) => Ok(*v),
            Some(Err(e)) => Err(e.clone()),
            None => k.task_last_run(t.addr).map_err(|e| e.to_string()),
        };
        match stamp {
            Ok(v) => rows.push((t, Some(v))),
            Err(e) => {
                problems.push(format!("pid {}: {e}", t.pid));
                rows.push((t, None));
            }
        }
    }
    if all {
        rows.sort_by_key(|r| std::cmp::Reverse(r.1));
    }
    let mut clocks: HashMap<u32, Option<u64>> = HashMap::new();
    let mut lines: Vec<(u32, String)> = Vec::new();
    let mut json = Vec::new();
    for (t, last) in rows {
        let state = table.states.crash_code(t);
        let clock = *clocks
            .entry(t.cpu)
            .or_insert_with(|| match k.rq_clock(t.cpu) {
                Ok(c) => Some(c),
                Err(e) => {
                    problems.push(format!("cpu {}: {e}", t.cpu));
                    None
                }
            });
        let since = match (last, clock) {
            (Some(l), Some(c)) => Some(c.saturating_sub(l)),
            _ => None,
        };
        let stamp_text = if msecs {
            match (since, clock) {
                (Some(d), Some(c)) => {
                    let d = days_hms(d);
                    let pad = if all {
                        0
                    } else {
                        days_width(c).saturating_sub(days_width(since.unwrap_or(0)))
                    };
                    format!("{}{d}", " ".repeat(pad))
                }
                _ => "(unknown)".into(),
            }
        } else {
            match last {
                Some(l) => format!("{l:>width$}"),
                None => format!("{:>width$}", "?"),
            }
        };
        lines.push((
            t.cpu,
            format!("[{stamp_text}] [{state}]  {}\n", table.header_line(t)),
        ));
        json.push(
            json!({"pid": t.pid, "task": format!("{:x}", t.addr), "comm": t.comm,
            "state": state, "last_run": last, "rq_clock": clock, "since_ns": since}),
        );
    }
    let mut text = String::new();
    match cpus {
        // `-C`: one block per CPU, most recent first within it.
        Some(cpus) => {
            for (n, cpu) in cpus.iter().enumerate() {
                if n > 0 {
                    text.push('\n');
                }
                text.push_str(&format!("CPU: {cpu}\n"));
                for (_, l) in lines.iter().filter(|(c, _)| c == cpu) {
                    text.push_str(l);
                }
            }
        }
        None => lines.iter().for_each(|(_, l)| text.push_str(l)),
    }
    for p in &problems {
        text.push_str(&format!("WARNING: {p}\n"));
    }
    Report::new(text, json!({"tasks": json, "problems": problems}))
}

/// Nanoseconds as crash's `days hh:mm:ss.mmm`.
fn days_hms(ns: u64) -> String {
    let ms = ns / 1_000_000;
    let (secs, ms) = (ms / 1000, ms % 1000);
    let (mins, secs) = (secs / 60, secs % 60);
    let (hours, mins) = (mins / 60, mins % 60);
    let (days, hours) = (hours / 24, hours % 24);
    format!("{days} {hours:02}:{mins:02}:{secs:02}.{ms:03}")
}

/// Digits of the day count of `days_hms(ns)`.
fn days_width(ns: u64) -> usize {
    (ns / 86_400_000_000_000).to_string().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nanoseconds_read_as_crashs_days_and_clock() {
        assert_eq!(days_hms(0), "0 00:00:00.000");
        assert_eq!(days_hms(28_123_456), "0 00:00:00.028");
        assert_eq!(
            days_hms((86_400 * 3 + 3_600 * 5 + 61) * 1_000_000_000),
            "3 05:01:01.000"
        );
        assert_eq!(days_width(86_400_000_000_000 * 12), 2);
    }

    fn r(pid: i32, active: bool, kt: bool, pct: f64, vsz: u64, rss: u64, comm: &str) -> PsRow {
        PsRow {
            active,
            pid,
            ppid: if pid == 17 { 2 } else { 0 },
            cpu: 0,
            task: "ffff8d6201254800".into(),
            state: "RU",
            state_char: 'R',
            pct_mem: pct,
            vsz_kb: vsz,
            rss_kb: rss,
            comm: comm.into(),
            kernel_thread: kt,
            kstackp: None,
            mem_error: None,
        }
    }

    #[test]
    fn rows_like_crash_806() {
        assert_eq!(
            format_row(&r(17, true, true, 0.0, 0, 0, "kworker/0:1")),
            ">      17       2   0  ffff8d6201254800  RU   0.0        0        0  [kworker/0:1]"
        );
        assert_eq!(
            format_row(&r(1, false, false, 0.1656, 2260, 1736, "init")),
            "        1       0   0  ffff8d6201254800  RU   0.2     2260     1736  init"
        );
        let mut k = r(17, true, true, 0.0, 0, 0, "kworker/0:1");
        k.kstackp = Some("--".into());
        assert_eq!(
            format_row(&k),
            ">      17       2   0         --         RU   0.0        0        0  [kworker/0:1]"
        );
    }
}
