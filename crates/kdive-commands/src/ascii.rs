//! `ascii [VALUE...]`: a 64-bit hexadecimal value's bytes as text, lowest byte first (how a
//! string sits in a register or a memory word), or, with no value, the ASCII chart.

use crate::{CmdError, Report, Session};
use serde_json::json;

pub const USAGE: &str = "ascii [HEX_VALUE ...]";

/// Names of the control characters 0x00–0x1f.
const CONTROL: [&str; 32] = [
    "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR",
    "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC",
    "FS", "GS", "RS", "US",
];

pub fn run(_s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    if args.is_empty() {
        return Ok(Report::text(chart()));
    }
    let mut text = String::new();
    let mut json = Vec::new();
    for a in args {
        let digits = a
            .strip_prefix("0x")
            .or_else(|| a.strip_prefix("0X"))
            .unwrap_or(a);
        let value = u64::from_str_radix(digits, 16).map_err(|_| {
            CmdError::Usage(format!("ascii: invalid hexadecimal value: {a}\n{USAGE}"))
        })?;
        let s = bytes_text(value);
        text.push_str(&format!("{value:016x}: {s}\n"));
        json.push(json!({"value": value, "text": s}));
    }
    Ok(Report::new(text, json!(json)))
}

/// The eight bytes of `value`, lowest first: printable ones as themselves, control
/// characters by name (`<NUL>`), the rest in hex (`<e2>`).
fn bytes_text(value: u64) -> String {
    value
        .to_le_bytes()
        .iter()
        .map(|&b| match b {
            0x20..=0x7e => (b as char).to_string(),
            0x7f => "<DEL>".into(),
            0..=0x1f => format!("<{}>", CONTROL[b as usize]),
            _ => format!("<{b:02x}>"),
        })
        .collect()
}

/// The 128 ASCII codes as a table: the row is the low hex digit, the column the high one.
/// (Built from the codes themselves; crash's printed chart swaps `'`/`` ` `` and `-`/`_`.)
fn chart() -> String {
    let mut out = String::from("\n      0    1   2   3   4   5   6   7\n");
    out.push_str("    +-------------------------------\n");
    for low in 0u8..16 {
        let mut line = format!("  {low:X} |");
        for high in 0u8..8 {
            let code = high * 16 + low;
            let cell = match code {
                0..=0x1f => format!("{:>4}", CONTROL[code as usize]),
                0x20 => "  SP".into(),
                0x7f => " DEL".into(),
                _ => format!("  {} ", code as char),
            };
            line.push_str(&cell);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_read_lowest_byte_first() {
        assert_eq!(bytes_text(0x62696c2f7273752f), "/usr/lib");
        assert_eq!(
            bytes_text(0x0a00_0000_0000_6968),
            "hi<NUL><NUL><NUL><NUL><NUL><LF>"
        );
        assert_eq!(
            bytes_text(0xff7f),
            format!("<DEL><ff>{}", "<NUL>".repeat(6))
        );
    }

    #[test]
    fn chart_rows_hold_their_codes() {
        let c = chart();
        let lines: Vec<&str> = c.lines().collect();
        assert_eq!(lines[3], "  0 | NUL DLE  SP  0   @   P   `   p");
        assert_eq!(lines[10], "  7 | BEL ETB  '   7   G   W   g   w");
        assert_eq!(lines[16], "  D |  CR  GS  -   =   M   ]   m   }");
        assert_eq!(lines[18], "  F |  SI  US  /   ?   O   _   o  DEL");
        assert_eq!(lines.len(), 20);
    }
}
