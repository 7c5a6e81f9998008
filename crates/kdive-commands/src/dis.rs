//! `dis [-l] [-r] [-s] ADDR|FUNC [COUNT]`: crash's disassembler — one line per instruction,
//! `0xADDR <func+off>:\tmnemonic operands` in gdb's AT&T spelling, `[FTRACE NOP]` on the
//! 5-byte NOP ftrace leaves at a function's entry, `FILE: LINE` headers with `-l`, the source
//! text around each line with `-s`.

use crate::disasm::{Insn, LineFinder, Namer};
use crate::{CmdError, Report, Session};
use kdive_kernel::AddrExt;
use serde_json::json;

pub const USAGE: &str = "dis [-l] [-r] [-s] ADDR|FUNC[+OFF] [COUNT]";

/// A resolved start: the address, and whether it was given as a function name (then the whole
/// function is shown).
pub struct Target {
    pub addr: u64,
    pub whole_function: bool,
}

/// Parses `sym`, `sym+off`, `0xADDR` or `ADDR` (hex); module function names included.
pub fn parse_target(n: &Namer<'_>, arg: &str) -> Result<Target, CmdError> {
    let arg = arg.trim().trim_start_matches('(').trim_end_matches(')');
    let arg = arg.strip_prefix('*').unwrap_or(arg);
    let (name, off) = match arg.split_once('+') {
        Some((n, o)) => (n.trim(), Some(parse_num(o.trim())?)),
        None => (arg, None),
    };
    if n.lookup(name).is_none() {
        if let Ok(a) = parse_hex(name) {
            return Ok(Target {
                addr: a.off(off.unwrap_or(0)),
                whole_function: false,
            });
        }
    }
    let addr = n
        .lookup(name)
        .ok_or_else(|| CmdError::Usage(format!("invalid address or symbol: \"{name}\"")))?;
    Ok(Target {
        addr: addr.off(off.unwrap_or(0)),
        whole_function: off.is_none(),
    })
}

fn parse_hex(t: &str) -> Result<u64, CmdError> {
    let h = t.strip_prefix("0x").unwrap_or(t);
    u64::from_str_radix(h, 16).map_err(|_| CmdError::Usage(format!("dis: invalid address \"{t}\"")))
}

fn parse_num(t: &str) -> Result<u64, CmdError> {
    match t.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => t.parse(),
    }
    .map_err(|_| CmdError::Usage(format!("dis: invalid number \"{t}\"")))
}

/// crash's line for one instruction.
pub fn crash_line(n: &Namer<'_>, i: &Insn, fstart: Option<u64>) -> String {
    let name = n
        .name(i.addr)
        .map(|t| format!(" <{t}>"))
        .unwrap_or_default();
    let ftrace = if i.is_nop5 && fstart == Some(i.addr) {
        " [FTRACE NOP]"
    } else {
        ""
    };
    format!("0x{:x}{name}:\t{}{ftrace}\n", i.addr, i.text)
}

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let (mut lines, mut reverse, mut source) = (false, false, false);
    let mut pos = Vec::new();
    for a in args {
        match a.as_str() {
            "-l" => lines = true,
            "-r" => reverse = true,
            "-s" => source = true,
            "-u" => {
                return Err(CmdError::Usage(
                    "dis: -u (user-space addresses) is not supported".into(),
                ))
            }
            "-x" | "-d" | "-f" => {}
            f if f.starts_with('-') && f.len() > 1 && !f[1..].starts_with(char::is_numeric) => {
                for c in f[1..].chars() {
                    match c {
                        'l' => lines = true,
                        'r' => reverse = true,
                        's' => source = true,
                        'x' | 'd' | 'f' => {}
                        _ => {
                            return Err(CmdError::Usage(format!(
                                "dis: unknown option -{c} (usage: {USAGE})"
                            )))
                        }
                    }
                }
            }
            _ => pos.push(a.clone()),
        }
    }
    let Some(first) = pos.first() else {
        return Err(CmdError::Usage(format!("usage: {USAGE}")));
    };
    let paths = s.source_paths.clone();
    let n = Namer::new(s);
    let t = parse_target(&n, first)?;
    let count = match pos.get(1) {
        Some(c) => Some(parse_num(c)? as usize),
        None => None,
    };
    let bounds = n.function_bounds(t.addr);
    let fstart = bounds.as_ref().map(|b| b.1);
    let insns = if reverse {
        let (_, fs, _) = bounds
            .clone()
            .ok_or_else(|| CmdError::Usage(format!("dis: no function contains {:#x}", t.addr)))?;
        let mut v = n.read_insns(fs, t.addr.saturating_add(16), None)?;
        v.retain(|i| i.addr <= t.addr);
        v
    } else if let Some(c) = count {
        n.read_insns(
            t.addr,
            t.addr.saturating_add((c as u64).saturating_mul(16)),
            Some(c),
        )?
    } else if t.whole_function {
        let fe = bounds
            .as_ref()
            .map(|b| b.2)
            .unwrap_or(t.addr.saturating_add(16));
        n.read_insns(t.addr, fe, None)?
    } else {
        n.read_insns(t.addr, t.addr.saturating_add(16), Some(1))?
    };
    let mut text = String::new();
    let mut last: Option<(String, u32)> = None;
    let mut srcs = crate::source::SourceCache::new(paths);
    let mut json_insns = Vec::new();
    let mut finder = LineFinder::default();
    for i in &insns {
        let line = if lines || source {
            finder.line(n.k, i.addr)
        } else {
            None
        };
        if let Some(l) = &line {
            if last.as_ref() != Some(l) {
                text.push_str(&format!("{}: {}\n", l.0, l.1));
                if source {
                    if let Some(src) = srcs.line(&l.0, l.1) {
                        text.push_str(&format!("  {:<5} {src}\n", l.1));
                    }
                }
                last = line.clone();
            }
        }
        text.push_str(&crash_line(&n, i, fstart));
        json_insns.push(json!({
            "addr": format!("{:#x}", i.addr),
            "text": i.text,
            "file": line.as_ref().map(|l| l.0.clone()),
            "line": line.as_ref().map(|l| l.1),
        }));
    }
    Ok(Report::new(text, json!({ "instructions": json_insns })))
}
