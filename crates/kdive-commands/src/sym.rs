//! `sym NAME|ADDR`, `sym -l` (every symbol), `sym -q STRING` (symbols containing STRING), in
//! crash's `ffffffff81234560 (T) schedule+4` notation.

use crate::{CmdError, Report, Session};
use kdive_debuginfo::Symbol;
use kdive_kernel::AddrExt;
use serde_json::json;

fn line(s: Symbol, off: u64) -> String {
    let mut t = format!(
        "{:x} ({}) {}",
        s.addr.off(off),
        s.kind.nm_letter(s.global),
        s.name
    );
    if off != 0 {
        t.push_str(&format!("+{off}"));
    }
    if let Some(m) = &s.module {
        t.push_str(&format!(" [{m}]"));
    }
    t
}

fn sym_json(s: Symbol, off: u64) -> serde_json::Value {
    json!({
        "name": s.name, "address": s.addr.off(off), "symbol_address": s.addr, "offset": off,
        "type": s.kind.nm_letter(s.global).to_string(), "size": s.size, "module": s.module,
    })
}

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let syms = &s.kernel.symbols;
    let usage = || CmdError::Usage("usage: sym [-l] | [-q STRING] | NAME|ADDR ...".into());
    let first = args.first().ok_or_else(usage)?;
    if first == "-l" || first == "-q" {
        let pat = if first == "-q" {
            Some(args.get(1).ok_or_else(usage)?.as_str())
        } else {
            None
        };
        let mut text = String::new();
        let mut list = Vec::new();
        for sym in syms.iter() {
            if pat.is_some_and(|p| !sym.name.contains(p)) {
                continue;
            }
            text.push_str(&line(sym, 0));
            text.push('\n');
            list.push(sym_json(sym, 0));
        }
        return Ok(Report::new(text, serde_json::Value::Array(list)));
    }
    let mut text = String::new();
    let mut list = Vec::new();
    for a in args {
        if let Some(sym) = syms.lookup(a) {
            text.push_str(&line(sym, 0));
            text.push('\n');
            list.push(sym_json(sym, 0));
            continue;
        }
        let hex = a.strip_prefix("0x").unwrap_or(a);
        let addr = match u64::from_str_radix(hex, 16) {
            Ok(v) => v,
            Err(_) => {
                let near = kdive_eval::suggest::closest(a, syms.iter().map(|s| s.name), 3);
                return Err(CmdError::Usage(format!(
                    "sym: {a}: symbol not found{}",
                    if near.is_empty() {
                        String::new()
                    } else {
                        format!(" (did you mean {}?)", near.join(", "))
                    }
                )));
            }
        };
        match syms.lookup_addr(addr) {
            Some((sym, off)) if sym.size == 0 || off < sym.size || off < 1 << 20 => {
                text.push_str(&line(sym, off));
                text.push('\n');
                list.push(sym_json(sym, off));
            }
            _ => {
                return Err(CmdError::Usage(format!(
                    "sym: {addr:x}: no symbol at this address"
                )))
            }
        }
    }
    Ok(Report::new(text, serde_json::Value::Array(list)))
}
