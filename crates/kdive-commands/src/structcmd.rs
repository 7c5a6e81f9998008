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

/// An address argument: a symbol, a hex number (with or without 0x), or an expression (a
/// pointer or integer, or the address of an lvalue such as `init_task.tasks`).
pub fn parse_address(ev: &Evaluator, a: &str) -> Result<u64, CmdError> {
    if let Some(sym) = ev.target.symbol(a) {
        return Ok(sym.addr);
    }
    let hex = a.strip_prefix("0x").unwrap_or(a);
    if let Ok(v) = u64::from_str_radix(hex, 16) {
        return Ok(v);
    }
    let v = ev.eval_str(a)?;
    match ev.as_int(&v) {
        Ok(i) => Ok(i as u64),
        Err(e) => v.address().ok_or(e.into()),
    }
}

pub fn run_kind(s: &mut Session, kind: &str, args: &[String]) -> Result<Report, CmdError> {
    let mut offsets = false;
    let mut radix = 10;
    let mut pos: Vec<&str> = Vec::new();
    for a in args {
        match a.as_str() {
            "-o" => offsets = true,
            "-x" => radix = 16,
            "-d" => radix = 10,
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
        radix,
        ..PrintOptions::crash()
    };
    let cmd = if kind == "*" { "struct" } else { kind };
    with_eval(s, |ev| {
        let (ty, kw) = find_composite(ev, kind, name)?;
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
                let (b, mv) = member_block(ev, &v, &members, opts)?;
                blocks.push(b);
                values.push(json!({"address": a, "members": mv}));
            }
        }
        Ok(Report::new(
            blocks.join("\n"),
            json!({"type": ev.type_name(ty), "values": values}),
        ))
    })
}

/// The struct or union `name` names (`kind` "struct", "union", or "*" for either), complete,
/// with its keyword; an error that says whether it is the other kind or unknown.
pub fn find_composite(
    ev: &Evaluator,
    kind: &str,
    name: &str,
) -> Result<(TypeId, &'static str), CmdError> {
    let cmd = if kind == "*" { "struct" } else { kind };
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
    if let Some(f) = found {
        return Ok(f);
    }
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
    Err(match other {
        Some(o) if o != "other" => {
            CmdError::Usage(format!("{cmd}: data type mismatch: {name} is not a {cmd}"))
        }
        _ => match store.find_type(&format!("{cmd} {name}")) {
            Some(_) => CmdError::Usage(format!("{cmd}: {name}: not found")),
            None => kdive_eval::EvalError::NoType {
                name: format!("{cmd} {name}"),
                suggestions: Vec::new(),
            }
            .into(),
        },
    })
}

/// crash's member lines for the value `v` of a struct: `  member.path = value,` for each
/// (dotted paths reach into embedded structs), and the same as JSON.
pub fn member_block(
    ev: &Evaluator,
    v: &Value,
    members: &[String],
    opts: PrintOptions,
) -> Result<(String, serde_json::Map<String, serde_json::Value>), CmdError> {
    let mut text = String::new();
    let mut json = serde_json::Map::new();
    for m in members {
        let cur = member_path(ev, v, m)?;
        text.push_str(&format!("  {m} = {},\n", format_member(ev, &cur, opts, 1)?));
        json.insert(m.clone(), value_json(ev, &cur)?);
    }
    Ok((text, json))
}

/// The member `path` (`a.b.c`) of the struct value `v`.
pub fn member_path(ev: &Evaluator, v: &Value, path: &str) -> Result<Value, CmdError> {
    let mut cur = v.clone();
    for part in path.split('.') {
        cur = ev.member(cur, part)?;
    }
    Ok(cur)
}
