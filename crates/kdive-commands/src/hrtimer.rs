//! `timer -r [-C CPU[,CPU]]`: each CPU's `hrtimer_cpu_base` and clock bases with their queued
//! hrtimers in expiry order, as crash prints them — soft and hard expiry, time to expire
//! (TTE) against the base's current time, the `hrtimer` and its callback.

use crate::{CmdError, Report, Session};
use kdive_kernel::hrtimers::{HrtimerClockBase, HrtimerCpuBase};
use serde_json::json;

/// Width of an address column (crash's VADDR_PRLEN on 64-bit kernels).
const VADDR_PRLEN: usize = 16;

pub fn run(s: &mut Session, cpus: Option<Vec<u32>>) -> Result<Report, CmdError> {
    let all = s.kernel.cpu_counts()?.cpus;
    let cpus: Vec<u32> = (0..all)
        .filter(|c| cpus.as_ref().map_or(true, |want| want.contains(c)))
        .collect();
    if cpus.is_empty() {
        return Err(CmdError::Usage(format!(
            "timer -r: no such CPU (the dump has CPUs 0-{})",
            all.saturating_sub(1)
        )));
    }
    let hz = s.kernel.hz()?;
    let jiffies = s.kernel.jiffies_64()?;
    let uptime = s.kernel.uptime_jiffies()?;
    let now0 = monotonic_from_jiffies(uptime, hz);
    let bases = s.kernel.hrtimer_bases(&cpus)?;
    let ctx = crate::bt::stack_context(s).ok();
    let name_of = |f: u64| crate::bt::code_name(ctx.as_deref(), &s.kernel, f).unwrap_or_default();
    let text = render(&bases, now0, &name_of);
    let json = json!({
        "hz": hz,
        "jiffies": jiffies,
        "uptime_jiffies": uptime,
        "cpus": bases.iter().map(|c| json!({
            "cpu": c.cpu, "hrtimer_cpu_base": c.addr,
            "clock_bases": c.clock_bases.iter().map(|b| {
                let now = now_of(b, now0);
                json!({
                    "clock": b.index, "hrtimer_clock_base": b.addr,
                    "get_time": b.get_time, "get_time_symbol": b.get_time.map(name_of),
                    "type": b.type_name, "offset": b.offset, "now": now,
                    "timers": b.timers.iter().map(|t| json!({
                        "hrtimer": t.addr, "softexpires": t.softexpires,
                        "expires": t.expires, "tte": t.expires.wrapping_sub(now),
                        "function": t.function, "symbol": name_of(t.function),
                    })).collect::<Vec<_>>(),
                    "problems": b.problems,
                })
            }).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    Ok(Report::new(text, json))
}

/// CLOCK_MONOTONIC in ns as crash estimates it: jiffies since boot times the tick length.
pub fn monotonic_from_jiffies(uptime_jiffies: u64, hz: u32) -> u64 {
    uptime_jiffies.wrapping_mul(1_000_000_000 / u64::from(hz.max(1)))
}

/// A clock base's current time: the monotonic estimate plus the base's offset.
fn now_of(b: &HrtimerClockBase, now0: u64) -> i64 {
    now0.wrapping_add(b.offset as u64) as i64
}

/// crash's `mkstring(.., CENTER|RJUST)` (`rjust`) or `CENTER|LJUST`: `s` centered in
/// `width`, an odd space on the left (RJUST) or right; a longer `s` as it is.
fn center(s: &str, width: usize, rjust: bool) -> String {
    let extra = width.saturating_sub(s.len());
    let (left, right) = match (extra % 2, rjust) {
        (1, true) => (extra / 2 + 1, extra / 2),
        (1, false) => (extra / 2, extra / 2 + 1),
        _ => (extra / 2, extra / 2),
    };
    format!("{}{s}{}", " ".repeat(left), " ".repeat(right))
}

/// The text of `timer -r`, each clock base's current time `now0` plus its offset. Public so
/// the lab tests can render the same bases under crash's idea of HZ.
pub fn render(bases: &[HrtimerCpuBase], now0: u64, name_of: &dyn Fn(u64) -> String) -> String {
    let mut out = String::new();
    for (i, c) in bases.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!("CPU: {}  HRTIMER_CPU_BASE: {:x}\n", c.cpu, c.addr));
        for (j, b) in c.clock_bases.iter().enumerate() {
            if j > 0 {
                out.push('\n');
            }
            render_clock_base(&mut out, b, now_of(b, now0), name_of);
        }
    }
    out
}

fn render_clock_base(
    out: &mut String,
    b: &HrtimerClockBase,
    now: i64,
    name_of: &dyn Fn(u64) -> String,
) {
    let label = match (b.get_time, &b.type_name) {
        (Some(f), _) => format!("  [{}]", name_of(f)),
        (None, Some(t)) => format!("  [{t}]"),
        (None, None) => String::new(),
    };
    out.push_str(&format!(
        "  CLOCK: {}  HRTIMER_CLOCK_BASE: {:x}{label}\n",
        b.index, b.addr
    ));
    let Some(last) = b.timers.last() else {
        out.push_str("  (empty)\n");
        warnings(out, b);
        return;
    };
    // crash sizes the columns by the last (latest) timer, not the widest.
    let explen = last.expires.to_string().len().max("EXPIRES".len());
    let softlen = last
        .softexpires
        .map(|s| s.to_string().len().max("SOFTEXPIRES".len()));
    let ttelen = last.expires.wrapping_sub(now).to_string().len();
    let first = softlen.unwrap_or(explen);
    out.push_str(&format!("  {}\n", center("CURRENT", first, true)));
    out.push_str(&format!("  {}\n", center(&now.to_string(), first, true)));
    let mut head = String::from("  ");
    if let Some(w) = softlen {
        head.push_str(&format!("{}  ", center("SOFTEXPIRES", w, true)));
    }
    out.push_str(&format!(
        "{head}{}  {}  {}  {}\n",
        center("EXPIRES", explen, true),
        center("TTE", ttelen, true),
        center("HRTIMER", VADDR_PRLEN, false),
        center("FUNCTION", VADDR_PRLEN, false),
    ));
    for t in &b.timers {
        out.push_str("  ");
        if let (Some(w), Some(s)) = (softlen, t.softexpires) {
            out.push_str(&format!("{}  ", center(&s.to_string(), w, true)));
        }
        out.push_str(&format!(
            "{}  {:>ttelen$}  {:x}  {:x}  <{}>\n",
            center(&t.expires.to_string(), explen, true),
            t.expires.wrapping_sub(now),
            t.addr,
            t.function,
            name_of(t.function)
        ));
    }
    warnings(out, b);
}

fn warnings(out: &mut String, b: &HrtimerClockBase) {
    for p in &b.problems {
        out.push_str(&format!("  WARNING: {p}\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kdive_kernel::hrtimers::Hrtimer;

    fn base(index: usize, addr: u64, timers: Vec<Hrtimer>) -> HrtimerClockBase {
        HrtimerClockBase {
            index,
            addr,
            get_time: Some(0xffffffff8df48f60),
            type_name: None,
            offset: 0,
            timers,
            problems: vec![],
        }
    }

    fn timer(addr: u64, soft: i64, expires: i64) -> Hrtimer {
        Hrtimer {
            addr,
            softexpires: Some(soft),
            expires,
            function: 0xffffffff8df45bd0,
        }
    }

    #[test]
    fn columns_center_on_the_last_timer_as_crash_does() {
        let cpu = HrtimerCpuBase {
            cpu: 1,
            addr: 0xffff8c3fadf22e80,
            clock_bases: vec![
                base(
                    0,
                    0xffff8c3fadf22ec0,
                    vec![
                        timer(0xffff8c3fadf23440, 9812000000, 9812000000),
                        timer(0xffffd17cc0413ab8, 100006707738880, 100006707788880),
                    ],
                ),
                base(1, 0xffff8c3fadf22f00, vec![]),
            ],
        };
        let text = render(&[cpu], 9808000000, &|f| {
            if f == 0xffffffff8df48f60 {
                "ktime_get"
            } else {
                "hrtimer_wakeup"
            }
            .into()
        });
        assert_eq!(
            text,
            "CPU: 1  HRTIMER_CPU_BASE: ffff8c3fadf22e80\n\
             \x20 CLOCK: 0  HRTIMER_CLOCK_BASE: ffff8c3fadf22ec0  [ktime_get]\n\
             \x20     CURRENT    \n\
             \x20    9808000000  \n\
             \x20   SOFTEXPIRES        EXPIRES            TTE           HRTIMER           FUNCTION    \n\
             \x20    9812000000       9812000000           4000000  ffff8c3fadf23440  ffffffff8df45bd0  <hrtimer_wakeup>\n\
             \x20 100006707738880  100006707788880  99996899788880  ffffd17cc0413ab8  ffffffff8df45bd0  <hrtimer_wakeup>\n\
             \n\
             \x20 CLOCK: 1  HRTIMER_CLOCK_BASE: ffff8c3fadf22f00  [ktime_get]\n\
             \x20 (empty)\n"
        );
    }

    #[test]
    fn centering_follows_mkstring() {
        assert_eq!(center("CURRENT", 11, true), "  CURRENT  ");
        assert_eq!(center("9808000000", 11, true), " 9808000000");
        assert_eq!(center("HRTIMER", 16, false), "    HRTIMER     ");
        assert_eq!(center("TTE", 1, true), "TTE");
    }
}
