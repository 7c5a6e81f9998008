//! The printk log of kernels before 5.10: one byte ring (`log_buf`, `log_buf_len`) of
//! `struct printk_log` records from `log_first_idx` to `log_next_idx`, each followed by its
//! text; a record of length 0 means "wrap to the start". Layout from VMCOREINFO (kdump tools
//! rely on the same lines) or types.

use crate::printk::{Log, LogRecord};
use crate::{Error, Kernel, Result};

/// Where the fields of `struct printk_log` lie.
#[derive(Debug, Clone, Copy)]
pub struct RecordLayout {
    pub size: u64,
    pub ts_nsec: u64,
    pub len: u64,
    pub text_len: u64,
    /// Offset of the byte holding `flags:5, level:3`, when known.
    pub flags_level: Option<u64>,
    pub caller_id: Option<u64>,
}

/// Upper bound on the ring (a hostile `log_buf_len`).
const MAX_LOG_BUF: u64 = 1 << 30;

impl Kernel {
    /// Reads the legacy ring, oldest record first.
    pub fn legacy_printk_log(&self) -> Result<Log> {
        let vi = &self.vmcoreinfo;
        let sym = |n: &str| vi.symbol(n).map(Ok).unwrap_or_else(|| self.symbol_addr(n));
        let off = |m: &str| {
            vi.offset(&format!("printk_log.{m}"))
                .map(Ok)
                .unwrap_or_else(|| self.layout.offset("printk_log", m))
        };
        let l = RecordLayout {
            size: vi
                .size("printk_log")
                .map(Ok)
                .unwrap_or_else(|| self.layout.struct_size("printk_log"))?,
            ts_nsec: off("ts_nsec")?,
            len: off("len")?,
            text_len: off("text_len")?,
            // flags/level follow facility, right after dict_len.
            flags_level: off("dict_len").ok().map(|o| o.saturating_add(3)),
            caller_id: off("caller_id").ok(),
        };
        let buf = self.read_u64(sym("log_buf")?, "log_buf")?;
        let len = self.read_u32(sym("log_buf_len")?, "log_buf_len")? as u64;
        if len == 0 || len > MAX_LOG_BUF {
            return Err(Error::Corrupt {
                what: "legacy printk ring".into(),
                detail: format!("log_buf_len {len} is implausible"),
            });
        }
        let first = self.read_u32(sym("log_first_idx")?, "log_first_idx")? as u64;
        let next = self.read_u32(sym("log_next_idx")?, "log_next_idx")? as u64;
        let mut data = vec![0u8; len as usize];
        self.read(buf, &mut data, "log_buf")?;
        Ok(parse_ring(&data, first, next, &l))
    }
}

/// Records of a legacy ring held in `data`, from `first` to `next`.
pub fn parse_ring(data: &[u8], first: u64, next: u64, l: &RecordLayout) -> Log {
    let mut log = Log::default();
    let rd = |at: u64, n: usize| -> Option<u64> {
        let at = usize::try_from(at).ok()?;
        let s = data.get(at..at.checked_add(n)?)?;
        let mut b = [0u8; 8];
        b[..n].copy_from_slice(s);
        Some(u64::from_le_bytes(b))
    };
    let mut idx = first;
    let mut seq = 0u64;
    let mut wrapped = false;
    while idx != next {
        // A zero length, or no room left for a header, means "continue at the start".
        let len = if idx.saturating_add(l.size) > data.len() as u64 {
            0
        } else {
            rd(idx.saturating_add(l.len), 2).unwrap_or(0)
        };
        if len == 0 {
            if wrapped {
                log.problems.push("legacy ring wraps twice; stopped".into());
                break;
            }
            wrapped = true;
            idx = 0;
            continue;
        }
        let text_len = rd(idx.saturating_add(l.text_len), 2).unwrap_or(0) as usize;
        let start = idx.saturating_add(l.size) as usize;
        let text = data
            .get(start..start.saturating_add(text_len.min(len as usize)))
            .map(|t| String::from_utf8_lossy(t).into_owned())
            .unwrap_or_default();
        log.records.push(LogRecord {
            seq,
            ts_nsec: rd(idx.saturating_add(l.ts_nsec), 8).unwrap_or(0),
            level: l
                .flags_level
                .and_then(|o| rd(idx.saturating_add(o), 1))
                .map(|b| (b >> 5) as u8),
            caller_id: l
                .caller_id
                .and_then(|o| rd(idx.saturating_add(o), 4))
                .unwrap_or(0) as u32,
            text,
        });
        seq += 1;
        idx = idx.saturating_add(len);
        if log.records.len() > data.len() {
            break; // cannot happen with len > 0; a guard against loops all the same
        }
    }
    log
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: RecordLayout = RecordLayout {
        size: 16,
        ts_nsec: 0,
        len: 8,
        text_len: 10,
        flags_level: Some(15),
        caller_id: None,
    };

    fn record(ts: u64, level: u8, text: &str) -> Vec<u8> {
        let len = (16 + text.len()).div_ceil(8) * 8;
        let mut r = vec![0u8; len];
        r[0..8].copy_from_slice(&ts.to_le_bytes());
        r[8..10].copy_from_slice(&(len as u16).to_le_bytes());
        r[10..12].copy_from_slice(&(text.len() as u16).to_le_bytes());
        r[15] = level << 5;
        r[16..16 + text.len()].copy_from_slice(text.as_bytes());
        r
    }

    #[test]
    fn reads_records_and_wraps() {
        let a = record(1_000, 6, "first");
        let b = record(2_000, 4, "second one");
        let c = record(3_000, 3, "third");
        // Ring: [c][pad: len 0 marker at end after b], first record a at offset 64.
        let mut data = vec![0u8; 128];
        data[64..64 + a.len()].copy_from_slice(&a);
        let b_at = 64 + a.len();
        data[b_at..b_at + b.len()].copy_from_slice(&b);
        // After b: a zero-length header (wrap marker), then c at 0.
        data[..c.len()].copy_from_slice(&c);
        let log = parse_ring(&data, 64, c.len() as u64, &L);
        let texts: Vec<&str> = log.records.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, ["first", "second one", "third"]);
        assert_eq!(log.records[1].level, Some(4));
        assert_eq!(log.records[2].ts_nsec, 3_000);
        assert!(log.problems.is_empty());
    }

    #[test]
    fn hostile_ring_stops() {
        // Every header says length 0: wrap once, then stop.
        let data = vec![0u8; 64];
        let log = parse_ring(&data, 8, 16, &L);
        assert!(log.records.is_empty());
        assert!(!log.problems.is_empty());
    }
}
