//! `sys`: the system header crash prints at start — kernel, dump, CPUs, date, uptime, load,
//! tasks, utsname, memory, panic — then the panic task's context, every value read from the dump.

use crate::{CmdError, Report, Session};
use kdive_kernel::panic::{panic_message, sysrq_crash};
use kdive_kernel::tasks::state_name_verbose;
use kdive_kernel::time::{format_load, format_uptime};
use kdive_kernel::AddrExt;
use kdive_kernel::Kernel;
use serde::Serialize;

/// Everything `sys` shows. A field that could not be read holds the reason instead.
#[derive(Debug, Serialize)]
pub struct SysInfo {
    pub kernel: String,
    pub tainted: bool,
    pub dumpfiles: Vec<String>,
    pub partial: bool,
    pub incomplete: bool,
    /// The file ends before the data its headers describe.
    pub truncated: bool,
    pub cpus: Field<u32>,
    pub cpus_offline: u32,
    pub date: Field<i64>,
    pub uptime_secs: Field<u64>,
    pub hz: Field<u32>,
    pub load_average: Field<[String; 3]>,
    pub tasks: Field<usize>,
    pub nodename: Field<String>,
    pub release: Field<String>,
    pub version: Field<String>,
    pub machine: Field<String>,
    pub mhz: Field<u64>,
    pub memory_bytes: Field<u64>,
    /// The panic line from the log (None when the log has none).
    pub panic: Field<Option<String>>,
    pub panic_task: Option<PanicTask>,
    pub problems: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct PanicTask {
    pub pid: i32,
    pub command: String,
    pub task: u64,
    pub tasks_with_pid: usize,
    pub thread_info: Option<u64>,
    pub cpu: u32,
    pub state: String,
    pub marker: String,
}

/// A value, or why it is missing.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Field<T> {
    Value(T),
    Error { error: String },
}

impl<T> Field<T> {
    fn from(r: kdive_kernel::Result<T>) -> Field<T> {
        match r {
            Ok(v) => Field::Value(v),
            Err(e) => Field::Error {
                error: e.to_string(),
            },
        }
    }
    fn show(&self, f: impl Fn(&T) -> String) -> String {
        match self {
            Field::Value(v) => f(v),
            Field::Error { error } => format!("(unknown: {error})"),
        }
    }
    fn ok(&self) -> Option<&T> {
        match self {
            Field::Value(v) => Some(v),
            Field::Error { .. } => None,
        }
    }
}

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    if args.len() == 1 && args[0] == "-t" {
        return crate::modcmd::sys_taint(s);
    }
    if let Some(a) = args.first() {
        return Err(CmdError::Usage(format!(
            "sys: unsupported argument \"{a}\" (usage: sys)"
        )));
    }
    let info = collect(&s.kernel);
    let text = render(&info);
    let json = serde_json::to_value(&info).unwrap_or(serde_json::Value::Null);
    Ok(Report::new(text, json))
}

/// Reads every `sys` fact from the kernel.
pub fn collect(k: &Kernel) -> SysInfo {
    let mut problems = Vec::new();
    let uts = k.utsname();
    let uts_field = |f: fn(&kdive_kernel::uts::Utsname) -> String| match &uts {
        Ok(u) => Field::Value(f(u)),
        Err(e) => Field::Error {
            error: e.to_string(),
        },
    };
    let counts = k.cpu_counts();
    let tasks = k.tasks();
    if let Ok(t) = &tasks {
        problems.extend(t.problems.iter().cloned());
    }
    let log = k.printk_log();
    let panic = match &log {
        Ok(l) => Field::Value(panic_message(l)),
        Err(e) => Field::Error {
            error: format!("cannot read the log: {e}"),
        },
    };
    let sysrq = log.as_ref().map(sysrq_crash).unwrap_or(false);
    let panic_task = match k.panic_context() {
        Ok(ctx) => match k.read_task(ctx.task) {
            Ok(t) => {
                let same_pid = tasks
                    .as_ref()
                    .map(|l| l.tasks.iter().filter(|x| x.pid == t.pid).count())
                    .unwrap_or(1);
                let thread_info = k
                    .layout
                    .member("task_struct", "thread_info")
                    .map(|m| ctx.task.off(m.offset));
                Some(PanicTask {
                    pid: t.pid,
                    command: t.comm.clone(),
                    task: t.addr,
                    tasks_with_pid: same_pid,
                    thread_info,
                    cpu: ctx.cpu,
                    state: state_name_verbose(t.state, t.exit_state),
                    marker: if sysrq {
                        "SYSRQ".into()
                    } else {
                        "PANIC".into()
                    },
                })
            }
            Err(e) => {
                problems.push(format!("panic task: {e}"));
                None
            }
        },
        Err(e) => {
            problems.push(format!("panic task: {e}"));
            None
        }
    };
    let tainted = k
        .symbol_addr("tainted_mask")
        .and_then(|a| k.read_u64(a, "tainted_mask"))
        .map(|v| v != 0)
        .unwrap_or(false);
    let header = k.dump.header();
    SysInfo {
        kernel: k
            .vmlinux
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "(none: kallsyms and BTF from the dump)".into()),
        tainted,
        dumpfiles: k
            .dump_paths
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        partial: k.dump.is_partial(),
        incomplete: header.incomplete,
        truncated: k.dump.is_truncated(),
        cpus_offline: counts
            .as_ref()
            .map(|c| c.cpus.saturating_sub(c.online.len() as u32))
            .unwrap_or(0),
        cpus: Field::from(counts.map(|c| c.cpus)),
        date: Field::from(k.crash_date().map(|(d, _)| d)),
        uptime_secs: Field::from(k.uptime_secs()),
        hz: Field::from(k.hz()),
        load_average: Field::from(
            k.avenrun()
                .map(|a| [format_load(a[0]), format_load(a[1]), format_load(a[2])]),
        ),
        tasks: match tasks {
            Ok(t) if t.tasks.is_empty() && !t.problems.is_empty() => Field::Error {
                error: t.problems[0].clone(),
            },
            Ok(t) => Field::Value(t.tasks.len()),
            Err(e) => Field::Error {
                error: e.to_string(),
            },
        },
        nodename: uts_field(|u| u.nodename.clone()),
        release: uts_field(|u| u.release.clone()),
        version: uts_field(|u| u.version.clone()),
        machine: uts_field(|u| u.machine.clone()),
        mhz: Field::from(
            k.symbol_addr("cpu_khz")
                .and_then(|a| k.read_u32(a, "cpu_khz"))
                .map(|khz| khz as u64 / 1000),
        ),
        memory_bytes: Field::from(k.present_pages().map(|p| p.saturating_mul(k.page_size()))),
        panic,
        panic_task,
        problems,
    }
}

/// crash's MEMORY: rounded up to the next GiB when within 64 MiB of it, "%.1f GB" with ".0" dropped.
pub fn format_memory(bytes: u64) -> String {
    const GB: u64 = 1 << 30;
    const MB: u64 = 1 << 20;
    let mut total = bytes;
    let next = total.div_ceil(GB).saturating_mul(GB);
    if next.saturating_sub(total) <= 64 * MB {
        total = next;
    }
    if total == 0 {
        return "0".into();
    }
    let t = total as f64;
    let s = if total >= GB {
        format!("{:.1} GB", t / GB as f64)
    } else if total >= MB {
        format!("{:.1} MB", t / MB as f64)
    } else {
        format!("{} KB", total / 1024)
    };
    s.replacen(".0 ", " ", 1)
}

/// Local time as crash prints it: `%a %b %e %T %Z %Y`.
pub fn format_date(secs: i64) -> String {
    let t = secs as libc::time_t;
    // SAFETY: localtime_r and strftime write only into the buffers given; tm is plain data.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return secs.to_string();
        }
        let mut buf = [0u8; 64];
        let fmt = b"%a %b %e %T %Z %Y\0";
        let n = libc::strftime(
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
            fmt.as_ptr() as *const libc::c_char,
            &tm,
        );
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

/// The header in crash's layout.
pub fn render(i: &SysInfo) -> String {
    let mut o = String::new();
    let mut line = |label: &str, value: String| o.push_str(&format!("{label:>12}: {value}\n"));
    line(
        "KERNEL",
        format!("{}{}", i.kernel, if i.tainted { "  [TAINTED]" } else { "" }),
    );
    let marks = format!(
        "{}{}{}",
        if i.partial { " [PARTIAL DUMP]" } else { "" },
        if i.incomplete { " [INCOMPLETE]" } else { "" },
        if i.truncated { " [TRUNCATED]" } else { "" }
    );
    if i.dumpfiles.len() > 1 {
        let files: Vec<String> = i.dumpfiles.iter().map(|f| format!("{f}{marks}")).collect();
        line("DUMPFILES", files.join(&format!("\n{:14}", "")));
    } else {
        let f = i.dumpfiles.first().cloned().unwrap_or_default();
        line(
            "DUMPFILE",
            if marks.is_empty() {
                f
            } else {
                format!("{f} {marks}")
            },
        );
    }
    line(
        "CPUS",
        i.cpus.show(|c| {
            if i.cpus_offline > 0 {
                format!("{c} [OFFLINE: {}]", i.cpus_offline)
            } else {
                c.to_string()
            }
        }),
    );
    line("DATE", i.date.show(|d| format_date(*d)));
    line("UPTIME", i.uptime_secs.show(|u| format_uptime(*u)));
    line("LOAD AVERAGE", i.load_average.show(|l| l.join(", ")));
    line("TASKS", i.tasks.show(|t| t.to_string()));
    line("NODENAME", i.nodename.show(|s| s.clone()));
    line("RELEASE", i.release.show(|s| s.clone()));
    line("VERSION", i.version.show(|s| s.clone()));
    line(
        "MACHINE",
        format!(
            "{}  ({})",
            i.machine.show(|s| s.clone()),
            i.mhz
                .ok()
                .filter(|m| **m > 0)
                .map(|m| format!("{m} Mhz"))
                .unwrap_or_else(|| "unknown Mhz".into())
        ),
    );
    line("MEMORY", i.memory_bytes.show(|b| format_memory(*b)));
    line(
        "PANIC",
        i.panic.show(|p| {
            let p = p.clone().unwrap_or_default();
            let check = if p.contains("Oops: ") {
                " (check log for details)"
            } else {
                ""
            };
            format!("\"{p}\"{check}")
        }),
    );
    if let Some(p) = &i.panic_task {
        line("PID", p.pid.to_string());
        line("COMMAND", format!("\"{}\"", p.command));
        let mut task = format!("{:x}  ", p.task);
        if p.tasks_with_pid > 1 {
            task.push_str(&format!("(1 of {})  ", p.tasks_with_pid));
        }
        if let Some(ti) = p.thread_info {
            task.push_str(&format!("[THREAD_INFO: {ti:x}]"));
        }
        line("TASK", task.trim_end().to_string());
        line("CPU", p.cpu.to_string());
        line("STATE", format!("{} ({})", p.state, p.marker));
    }
    for p in &i.problems {
        o.push_str(&format!("WARNING: {p}\n"));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_like_crash() {
        assert_eq!(format_memory((1 << 30) - (20 << 20)), "1 GB");
        assert_eq!(format_memory(7_900_000_000), "7.4 GB");
        assert_eq!(format_memory(717 << 20), "717 MB");
        assert_eq!(format_memory(0), "0");
    }
}
