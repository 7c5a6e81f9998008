//! `struct NAME[.member[,member]] [ADDR|SYMBOL] [-o] [-x|-d] [COUNT]`, `union ...` and crash's
//! `*NAME ADDR` short-cut: a definition with SIZE, its `-o` offsets, or values read at an
//! address in crash's layout.

use crate::eval_ctx::with_eval;
use crate::ptype::type_json;
use crate::{CmdError, Report, Session};
use kdive_debuginfo::{Type, TypeId};
use kdive_eval::format_type::struct_body;
use kdive_eval::format_value::{format_member, format_value, value_json, PrintOptions};
use kdive_eval::{Evaluator, Value};
use serde_json::json;

pub fn run_struct(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    run_kind(s, "struct", args)
}
pub fn run_union(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    run_kind(s, "union", args)
}
pub fn run_pointer(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    run_kind(s, "*", args)
}

/// An address argument: a symbol, a hex number (with or without 0x), or an expression.
pub fn parse_address(ev: &Evaluator, a: &str) -> Result<u64, CmdError> {
    if let Some(sym) = ev.target.symbol(a) {
        return Ok(sym.addr);
    }
    let hex = a.strip_prefix("0x").unwrap_or(a);
    if let Ok(v) = u64::from_str_radix(hex, 16) {
        return Ok(v);
    }
    let v = ev.eval_str(a)?;
    Ok(ev.as_int(&v)? as u64)
}

pub fn run_kind(s: &mut Session, kind: &str, args: &[String]) -> Result<Report, CmdError> {
    let mut offsets = false;
    let mut format = None;
    let mut pos: Vec<&str> = Vec::new();
    for a in args {
        match a.as_str() {
            "-o" => offsets = true,
            "-x" => format = Some('x'),
            "-d" => format = Some('d'),
            _ if a.starts_with('-')
                && a.len() > 1
                && !a[1..].starts_with(|c: char| c.is_ascii_digit()) =>
            {
                return Err(CmdError::Usage(format!("{kind}: invalid option {a}")))
            }
            _ => pos.push(a),
        }
    }
    let Some(spec) = pos.first() else {
        return Err(CmdError::Usage(format!(
            "usage: {kind} NAME[.member[,member]] [ADDR|SYMBOL] [-o] [-x|-d] [COUNT]"
        )));
    };
    let (name, members) = match spec.split_once('.') {
        Some((n, m)) => (n, m.split(',').map(str::to_string).collect::<Vec<_>>()),
        None => (*spec, Vec::new()),
    };
    let opts = PrintOptions {
        format,
        ..PrintOptions::crash()
    };
    let cmd = if kind == "*" { "struct" } else { kind };
    with_eval(s, |ev| {
        let store = ev.target.types();
        // Through the store, so types not loaded yet come from DWARF.
        let find = |kw: &'static str| {
            let id = store.find_type(&format!("{kw} {name}"))?;
            let complete = store.with_graph(|g| match g.ty(id) {
                Type::Struct(c) | Type::Union(c) => !c.is_declaration,
                _ => false,
            });
            complete.then_some((id, kw))
        };
        let found = match kind {
            "struct" => find("struct"),
            "union" => find("union"),
            _ => find("struct").or_else(|| find("union")),
        };
        let (ty, kw) = match found {
            Some(f) => f,
            None => {
                // The other kind, or a typedef of one: say what it is.
                let other = store.find_type(name).and_then(|t| {
                    store.with_graph(|g| {
                        Some(match g.ty(g.resolve(t)) {
                            Type::Struct(_) => "struct",
                            Type::Union(_) => "union",
                            _ => "other",
                        })
                    })
                });
                return Err(match other {
                    Some(o) if o != "other" => {
                        CmdError::Usage(format!("{cmd}: data type mismatch: {name} is not a {cmd}"))
                    }
                    _ => {
                        let t = store.find_type(&format!("{cmd} {name}"));
                        match t {
                            Some(_) => CmdError::Usage(format!("{cmd}: {name}: not found")),
                            None => kdive_eval::EvalError::NoType {
                                name: format!("{cmd} {name}"),
                                suggestions: Vec::new(),
                            }
                            .into(),
                        }
                    }
                });
            }
        };
        let ty = ev.strip(ty);
        let size = ev.size_of(ty);
        let Some(addr_arg) = pos.get(1) else {
            let body = struct_body(ev, ty, offsets, None);
            let mut out = format!("{body}\n");
            if let Some(n) = size {
                out.push_str(&format!("SIZE: {n}\n"));
            }
            return Ok(Report::new(
                out,
                json!({"declaration": body, "type": type_json(ev, ty)}),
            ));
        };
        let addr = parse_address(ev, addr_arg)?;
        let count: i64 = match pos.get(2) {
            Some(c) => c
                .parse()
                .map_err(|_| CmdError::Usage(format!("{cmd}: invalid count: {c}")))?,
            None => 1,
        };
        let step = size.unwrap_or(0);
        let mut blocks = Vec::new();
        let mut values = Vec::new();
        let n = count.unsigned_abs().clamp(1, 1 << 20);
        for i in 0..n {
            let a = if count < 0 {
                addr.wrapping_sub(step * i)
            } else {
                addr.wrapping_add(step * i)
            };
            let v = Value::mem(ty, a);
            if offsets && members.is_empty() {
                // crash's `struct -o NAME ADDR`: the layout with each member's address.
                let body = struct_body(ev, ty, true, Some(a));
                let size_line = size.map(|n| format!("SIZE: {n}\n")).unwrap_or_default();
                blocks.push(format!("{body}\n{size_line}"));
                values.push(json!({"address": a, "declaration": body}));
            } else if members.is_empty() {
                blocks.push(format!("{kw} {name} {}\n", format_value(ev, &v, opts)?));
                values.push(json!({"address": a, "value": value_json(ev, &v)?}));
            } else {
                let mut b = String::new();
                let mut mv = serde_json::Map::new();
                for m in &members {
                    let mut cur = v.clone();
                    for part in m.split('.') {
                        cur = ev.member(cur, part)?;
                    }
                    b.push_str(&format!("  {m} = {},\n", format_member(ev, &cur, opts, 1)?));
                    mv.insert(m.clone(), value_json(ev, &cur)?);
                }
                blocks.push(b);
                values.push(json!({"address": a, "members": mv}));
            }
        }
        let _ = TypeId::VOID;
        Ok(Report::new(
            blocks.join("\n"),
            json!({"type": ev.type_name(ty), "values": values}),
        ))
    })
}
