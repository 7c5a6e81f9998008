//! Kernel time: HZ, jiffies, uptime, the wall clock at the crash, and the load average.

use crate::{AddrExt, Kernel, Result};

/// Where the crash's wall-clock time was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum DateSource {
    /// `timekeeper.xtime_sec` of `shadow_timekeeper` (what crash reads).
    ShadowTimekeeper,
    /// VMCOREINFO `CRASHTIME=`.
    Crashtime,
    /// The kdump header's timestamp.
    DumpHeader,
}

impl Kernel {
    /// The kernel's tick rate, derived from `tick_nsec` (NSEC_PER_SEC / HZ, NTP-adjusted by ppm).
    pub fn hz(&self) -> Result<u32> {
        let at = self.symbol_addr("tick_nsec")?;
        let tick_nsec = self.read_u64(at, "tick_nsec")?;
        if tick_nsec == 0 {
            return Err(crate::Error::Corrupt {
                what: format!("tick_nsec at {at:#x}"),
                detail: "is zero".into(),
            });
        }
        let hz = (1_000_000_000f64 / tick_nsec as f64).round() as u32;
        // Snap to the nearest configurable value when within 1%.
        for cand in [100u32, 250, 300, 1000] {
            if (hz as i64 - cand as i64).unsigned_abs() * 100 <= cand as u64 {
                return Ok(cand);
            }
        }
        Ok(hz)
    }

    pub fn jiffies_64(&self) -> Result<u64> {
        let addr = self
            .symbol_addr("jiffies_64")
            .or_else(|_| self.symbol_addr("jiffies"))?;
        self.read_u64(addr, "jiffies_64")
    }

    /// Seconds since boot: jiffies less INITIAL_JIFFIES (`(u32)(-300*HZ)`), divided by HZ.
    pub fn uptime_secs(&self) -> Result<u64> {
        Ok(self.uptime_jiffies()? / self.hz()? as u64)
    }

    /// Jiffies since boot: jiffies less INITIAL_JIFFIES (`(u32)(-300*HZ)`).
    pub fn uptime_jiffies(&self) -> Result<u64> {
        let hz = self.hz()? as u64;
        let j = self.jiffies_64()?;
        let initial = (-(300i64 * hz as i64)) as u32 as u64;
        Ok(j.wrapping_sub(initial))
    }

    /// `avenrun[3]`, fixed point with 11 fractional bits.
    pub fn avenrun(&self) -> Result<[u64; 3]> {
        let a = self.symbol_addr("avenrun")?;
        Ok([
            self.read_u64(a, "avenrun[0]")?,
            self.read_u64(a.off(8), "avenrun[1]")?,
            self.read_u64(a.off(16), "avenrun[2]")?,
        ])
    }

    /// The wall-clock time (seconds since the epoch) at the crash, and where it came from.
    pub fn crash_date(&self) -> Result<(i64, DateSource)> {
        if let (Ok(tk), Ok(off)) = (
            self.symbol_addr("shadow_timekeeper"),
            self.layout.offset("timekeeper", "xtime_sec"),
        ) {
            if let Ok(v) = self.read_u64(tk.off(off), "shadow_timekeeper.xtime_sec") {
                return Ok((v as i64, DateSource::ShadowTimekeeper));
            }
        }
        if let Some(t) = self.vmcoreinfo.crash_time() {
            return Ok((t, DateSource::Crashtime));
        }
        if let Some((s, _)) = self.dump.header().timestamp {
            return Ok((s, DateSource::DumpHeader));
        }
        Err(crate::Error::MissingSymbol(
            "shadow_timekeeper (and no CRASHTIME)".into(),
        ))
    }
}

/// Formats a load average the way the kernel's /proc/loadavg and crash do ("0.05").
pub fn format_load(v: u64) -> String {
    const FSHIFT: u64 = 11;
    const FIXED_1: u64 = 1 << FSHIFT;
    let v = v.saturating_add(FIXED_1 / 200); // avenrun comes from the dump
    format!(
        "{}.{:02}",
        v >> FSHIFT,
        ((v & (FIXED_1 - 1)) * 100) >> FSHIFT
    )
}

/// Formats seconds as crash's uptime: `[N days, ]HH:MM:SS`.
pub fn format_uptime(total: u64) -> String {
    let days = total / 86400;
    let rest = total % 86400;
    let hms = format!(
        "{:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    );
    if days > 0 {
        format!("{days} days, {hms}")
    } else {
        hms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loadavg_format() {
        assert_eq!(format_load(0), "0.00");
        assert_eq!(format_load(2048), "1.00");
        assert_eq!(format_load(5141), "2.51");
    }

    #[test]
    fn uptime_format() {
        assert_eq!(format_uptime(68927), "19:08:47");
        assert_eq!(format_uptime(86400 * 2 + 5), "2 days, 00:00:05");
    }

    #[test]
    fn a_hostile_load_average_formats() {
        assert!(!format_load(u64::MAX).is_empty());
    }
}
