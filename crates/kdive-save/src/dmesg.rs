//! `--dump-dmesg`: the kernel log as `makedumpfile --dump-dmesg` writes it: `[%5d.%06d] text`,
//! since makedumpfile 1.7.3 with the caller (`[    T159] `, `C` for a CPU) when the kernel
//! records it; continuation lines indented to the text column, non-printable bytes as `\xNN`.

use kdive_kernel::printk::Log;

/// The caller column: `T<pid>` or `C<cpu>` (bit 31), right-aligned in 8.
fn caller(id: u32) -> String {
    let c = if id & 0x8000_0000 != 0 { 'C' } else { 'T' };
    format!("[{:>8}] ", format!("{c}{}", id & 0x7fff_ffff))
}

/// `with_caller`: print the caller column (makedumpfile >= 1.7.3 does when the kernel's
/// VMCOREINFO has `OFFSET(printk_info.caller_id)`).
pub fn render(log: &Log, with_caller: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for r in &log.records {
        let mut prefix = format!("{} ", r.timestamp());
        if with_caller {
            prefix += &caller(r.caller_id);
        }
        out.extend_from_slice(prefix.as_bytes());
        for &b in r.text.as_bytes() {
            match b {
                b'\n' => {
                    out.push(b'\n');
                    out.resize(out.len() + prefix.len(), b' ');
                }
                b' '..=b'~' | b'\t' => out.push(b),
                _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
            }
        }
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kdive_kernel::printk::LogRecord;

    #[test]
    fn formats_like_makedumpfile() {
        let rec = |ts, caller_id, text: &str| LogRecord {
            seq: 0,
            ts_nsec: ts,
            level: None,
            caller_id,
            text: text.into(),
        };
        let log = Log {
            records: vec![
                rec(3_695_272_000, 159, "sysrq: Trigger a crash"),
                rec(40_275_000, 0x8000_0001, "a\n  b\x01"),
            ],
            problems: vec![],
        };
        let plain = String::from_utf8(render(&log, false)).unwrap();
        assert_eq!(
            plain,
            "[    3.695272] sysrq: Trigger a crash\n[    0.040275] a\n                 b\\x01\n"
        );
        let with = String::from_utf8(render(&log, true)).unwrap();
        assert!(
            with.starts_with("[    3.695272] [    T159] sysrq"),
            "{with}"
        );
        assert!(
            with.contains("[    0.040275] [      C1] a\n                            b"),
            "{with}"
        );
    }
}
