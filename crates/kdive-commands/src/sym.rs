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
    let modules = s.eval.module_symbols(&s.kernel);
    let syms = &s.kernel.symbols;
    // The kernel's symbols first, then the loaded modules' (crash lists both).
    let all = || syms.iter().chain(modules.iter());
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
        for sym in all() {
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
        if let Some(sym) = syms.lookup(a).or_else(|| modules.lookup(a)) {
            text.push_str(&line(sym, 0));
            text.push('\n');
            list.push(sym_json(sym, 0));
            continue;
        }
        let hex = a.strip_prefix("0x").unwrap_or(a);
        let addr = match u64::from_str_radix(hex, 16) {
            Ok(v) => v,
            Err(_) => {
                let near = kdive_eval::suggest::closest(a, all().map(|s| s.name), 3);
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
        match symbol_at(syms, &modules, addr) {
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

/// The symbol an address lies in, kernel or module, and the offset into it: a module
/// address lies past the kernel's last symbol, so the module's own symbol wins when it
/// covers the address.
pub(crate) fn symbol_at<'a>(
    syms: &'a kdive_debuginfo::SymbolTable,
    modules: &'a kdive_debuginfo::SymbolTable,
    addr: u64,
) -> Option<(kdive_debuginfo::symbols::Symbol<'a>, u64)> {
    let in_module = modules
        .lookup_addr(addr)
        .filter(|(m, off)| *off < m.size.max(1))
        .filter(|(m, _)| {
            syms.lookup_addr(addr)
                .map_or(true, |(k, _)| k.addr < m.addr)
        });
    in_module.or_else(|| syms.lookup_addr(addr))
}
