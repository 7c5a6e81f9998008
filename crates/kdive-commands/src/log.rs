//! `log`: the kernel's printk ring as crash prints it — `[    5.123456] text`, one line per
//! line of each record — with `-T` (wall-clock time of each record), `-t` (no time stamps),
//! `-m` (the `<level>` of each record) and `-c` (the caller: `[     T42]` thread or `[    C1]`
//! CPU, as the kernel's PRINTK_CALLER prints it and makedumpfile 1.7.6 shows it).

use crate::sys::format_date;
use crate::{CmdError, Report, Session};
use kdive_kernel::printk::LogRecord;
use serde_json::json;

pub const USAGE: &str = "log [-T|-t] [-m] [-c]";

#[derive(Default, Clone, Copy)]
struct Opts {
    wall: bool,
    no_time: bool,
    level: bool,
    caller: bool,
}

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let mut o = Opts::default();
    for a in args {
        let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) else {
            return Err(CmdError::Usage(format!(
                "log: unexpected argument \"{a}\" ({USAGE})"
            )));
        };
        for c in flags.chars() {
            match c {
                'T' => o.wall = true,
                't' => o.no_time = true,
                'm' => o.level = true,
                'c' => o.caller = true,
                _ => {
                    return Err(CmdError::Usage(format!(
                        "log: invalid option -{c} ({USAGE})"
                    )))
                }
            }
        }
    }
    let k = &s.kernel;
    let log = k.printk_log()?;
    // Wall clock of boot: the crash's date less the uptime, to the second (as crash does).
    let boot = if o.wall {
        Some(
            k.crash_date()
                .map(|(d, _)| d)
                .and_then(|d| k.uptime_secs().map(|u| d.saturating_sub(u as i64)))?,
        )
    } else {
        None
    };
    let mut text = String::new();
    for r in &log.records {
        text.push_str(&format_record(r, o, boot));
    }
    for p in &log.problems {
        text.push_str(&format!("WARNING: {p}\n"));
    }
    let records: Vec<serde_json::Value> = log
        .records
        .iter()
        .map(|r| {
            json!({
                "seq": r.seq,
                "ts_nsec": r.ts_nsec,
                "level": r.level,
                "caller": caller_label(r.caller_id),
                "text": r.text,
            })
        })
        .collect();
    Ok(Report::new(
        text,
        json!({"records": records, "boot_time": boot, "problems": log.problems}),
    ))
}

/// `T<pid>` for a task, `C<cpu>` for a CPU (bit 31 of `caller_id`).
pub fn caller_label(id: u32) -> String {
    if id & 0x8000_0000 != 0 {
        format!("C{}", id & 0x7fff_ffff)
    } else {
        format!("T{id}")
    }
}

/// One record: the prefix (time, caller, level), then its text.
fn format_record(r: &LogRecord, o: Opts, boot: Option<i64>) -> String {
    let mut prefix = String::new();
    if !o.no_time {
        match boot {
            Some(b) => {
                let secs = b.saturating_add((r.ts_nsec / 1_000_000_000) as i64);
                prefix.push_str(&format!("[{}] ", format_date(secs)));
            }
            None => {
                prefix.push_str(&r.timestamp());
                prefix.push(' ');
            }
        }
    }
    if o.caller {
        prefix.push_str(&format!("[{:>8}] ", caller_label(r.caller_id)));
    }
    if o.level {
        if let Some(l) = r.level {
            prefix.push_str(&format!("<{l}>"));
        }
    }
    // Later lines of a multi-line record are indented under the first line's text.
    let indent = " ".repeat(prefix.chars().count());
    let mut out = String::new();
    let text = r.text.strip_suffix('\n').unwrap_or(&r.text);
    for (i, line) in text.split('\n').enumerate() {
        out.push_str(if i == 0 { &prefix } else { &indent });
        out.push_str(&escape(line));
        out.push('\n');
    }
    out
}

/// Control characters other than tab as `\xNN`, as the kernel's console and crash print them.
fn escape(line: &str) -> String {
    if !line.chars().any(|c| c.is_control() && c != '\t') {
        return line.to_string();
    }
    line.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                format!("\\x{:02x}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(text: &str) -> LogRecord {
        LogRecord {
            seq: 0,
            ts_nsec: 6_480_645_000,
            level: Some(4),
            caller_id: 9,
            text: text.into(),
        }
    }

    #[test]
    fn formats() {
        let o = Opts::default();
        assert_eq!(format_record(&rec("hi"), o, None), "[    6.480645] hi\n");
        let m = Opts { level: true, ..o };
        assert_eq!(format_record(&rec("hi"), m, None), "[    6.480645] <4>hi\n");
        let c = Opts { caller: true, ..o };
        assert_eq!(
            format_record(&rec("hi"), c, None),
            "[    6.480645] [      T9] hi\n"
        );
        assert_eq!(
            format_record(&rec("a\nb"), o, None),
            "[    6.480645] a\n               b\n"
        );
        assert_eq!(caller_label(0x8000_0001), "C1");
    }
}
