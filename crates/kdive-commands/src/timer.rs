//! `timer [-r] [-C CPU[,CPU]]`: the pending timer-wheel timers of each CPU's timer bases, in
//! expiry order, as crash prints them — expiry and time to expire (TTE) in jiffies, the
//! `timer_list` and its callback — under the current `jiffies`. On 6.9+ kernels all three
//! bases (local, global, deferrable) are shown. `-r` shows the hrtimers instead (`hrtimer.rs`).

use crate::{CmdError, Report, Session};
use kdive_kernel::timers::TimerBase;
use serde_json::json;

pub const USAGE: &str = "timer [-r] [-C CPU[,CPU...]]";

/// Options for `help timer`.
pub const DETAILS: &str =
    "  -r           the hrtimers instead: each CPU's hrtimer_cpu_base, its clock bases with
               their current time, and the queued hrtimers in expiry order (soft and hard
               expiry, time to expire in ns, the hrtimer and its function)
  -C CPU[,CPU] only these CPUs (a list or ranges: 0,2-3)
";

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let mut cpus = None;
    let mut hrtimers = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-C" => {
                let v = it
                    .next()
                    .ok_or_else(|| CmdError::Usage(format!("timer: -C needs CPUs\n{USAGE}")))?;
                cpus = Some(crate::bt::parse_cpus(v)?);
            }
            "-r" => hrtimers = true,
            _ => {
                return Err(CmdError::Usage(format!(
                    "timer: invalid argument {a}\n{USAGE}"
                )))
            }
        }
    }
    if hrtimers {
        return crate::hrtimer::run(s, cpus);
    }
    let online = s.kernel.cpu_counts()?.online;
    let cpus: Vec<u32> = match cpus {
        Some(c) => online.iter().copied().filter(|o| c.contains(o)).collect(),
        None => online,
    };
    let jiffies = s.kernel.jiffies_64()?;
    let bases = s.kernel.timer_bases(&cpus)?;
    let ctx = crate::bt::stack_context(s).ok();
    let name_of = |f: u64| crate::bt::code_name(ctx.as_deref(), &s.kernel, f).unwrap_or_default();
    let text = render(jiffies, &bases, &name_of);
    let json = json!({
        "jiffies": jiffies,
        "bases": bases.iter().map(|b| json!({
            "cpu": b.cpu, "index": b.index, "name": b.name, "timer_base": b.addr,
            "timers": sorted(b).iter().map(|t| json!({
                "timer_list": t.addr, "expires": t.expires,
                "tte": t.expires.wrapping_sub(jiffies) as i64,
                "function": t.function, "symbol": name_of(t.function),
            })).collect::<Vec<_>>(),
            "problems": b.problems,
        })).collect::<Vec<_>>(),
    });
    Ok(Report::new(text, json))
}

/// A base's timers by expiry (stable: wheel order among equal expiries, as crash's).
fn sorted(b: &TimerBase) -> Vec<kdive_kernel::timers::Timer> {
    let mut t = b.timers.clone();
    t.sort_by_key(|t| t.expires);
    t
}

fn render(jiffies: u64, bases: &[TimerBase], name_of: &dyn Fn(u64) -> String) -> String {
    let jtext = jiffies.to_string();
    let flen = jtext.len().max("JIFFIES".len());
    let mut out = format!("{:<flen$}\n{jtext:>flen$}\n\n", "JIFFIES");
    let mut last_cpu = None;
    for b in bases {
        if last_cpu.is_some() && last_cpu != Some(b.cpu) {
            out.push('\n');
        }
        last_cpu = Some(b.cpu);
        out.push_str(&format!(
            "TIMER_BASES[{}][{}]: {:x}\n",
            b.cpu, b.name, b.addr
        ));
        let timers = sorted(b);
        let tte = |t: &kdive_kernel::timers::Timer| t.expires.wrapping_sub(jiffies) as i64;
        let highest = timers
            .iter()
            .map(|t| tte(t).unsigned_abs())
            .max()
            .unwrap_or(0);
        // One more column for a "-" sign.
        let tlen = (highest.to_string().len() + 1).max("TTE".len());
        out.push_str(&format!(
            "  {:<flen$}     {:<tlen$}     TIMER_LIST     FUNCTION\n",
            "EXPIRES", "TTE"
        ));
        for t in &timers {
            out.push_str(&format!(
                "  {:>flen$}  {:>tlen$}  {:>16x}  {:>16x}  <{}>\n",
                t.expires,
                tte(t),
                t.addr,
                t.function,
                name_of(t.function)
            ));
        }
        if timers.is_empty() {
            out.push_str("  (none)\n");
        }
        for p in &b.problems {
            out.push_str(&format!("  WARNING: {p}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kdive_kernel::timers::Timer;

    #[test]
    fn columns_fit_the_widest_time_to_expire_and_a_sign() {
        let base = TimerBase {
            cpu: 1,
            index: 1,
            name: "BASE_DEF",
            addr: 0xffff8c3fadf21c00,
            timers: vec![
                Timer {
                    addr: 0xffff8c3f81051050,
                    expires: 4294967496,
                    function: 0xffffffff8deb5fd0,
                },
                Timer {
                    addr: 0xffff8c3fadf2dde0,
                    expires: 4294894747,
                    function: 0xffffffff8deb79d0,
                },
            ],
            problems: vec![],
        };
        let text = render(4294894748, &[base], &|f| {
            if f == 0xffffffff8deb5fd0 {
                "idle_worker_timeout"
            } else {
                "delayed_work_timer_fn"
            }
            .into()
        });
        assert_eq!(
            text,
            "JIFFIES   \n4294894748\n\n\
             TIMER_BASES[1][BASE_DEF]: ffff8c3fadf21c00\n\
             \x20 EXPIRES        TTE        TIMER_LIST     FUNCTION\n\
             \x20 4294894747      -1  ffff8c3fadf2dde0  ffffffff8deb79d0  <delayed_work_timer_fn>\n\
             \x20 4294967496   72748  ffff8c3f81051050  ffffffff8deb5fd0  <idle_worker_timeout>\n"
        );
    }
}
