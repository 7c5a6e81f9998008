//! `ptype TYPE|EXPR` (gdb's, `type = ...` with the innermost struct expanded) and `whatis`
//! (crash's: a type's definition and SIZE, a symbol's declaration, an expression's type name).

use crate::eval_ctx::with_eval;
use crate::{CmdError, Report, Session};
use kdive_debuginfo::{Type, TypeId};
use kdive_eval::format_type::{declaration, ptype, struct_body, typedef_declaration};
use kdive_eval::parse::parse_type_name;
use kdive_eval::{Evaluator, Expr, ValueKind};
use serde_json::json;

/// A type written as text, if the text is one (`struct x *`, `pid_t`, `unsigned long`).
pub fn as_type(ev: &Evaluator, text: &str) -> Result<Option<TypeId>, CmdError> {
    let first = text.split_whitespace().next().unwrap_or("");
    let keyword = matches!(
        first,
        "struct"
            | "union"
            | "enum"
            | "unsigned"
            | "signed"
            | "char"
            | "short"
            | "int"
            | "long"
            | "void"
            | "_Bool"
            | "const"
            | "volatile"
    );
    let word = first.trim_end_matches('*');
    if !keyword && !ev.is_type_name(word) {
        return Ok(None);
    }
    match parse_type_name(text, &|n| ev.is_type_name(n)) {
        Ok(t) => Ok(Some(ev.resolve_type_name(&t)?)),
        Err(_) if !keyword => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// JSON for a type: its name, size, and members with offsets.
pub fn type_json(ev: &Evaluator, ty: TypeId) -> serde_json::Value {
    let id = ev.strip(ty);
    let members = ev.target.types().with_graph(|g| {
        g.members(id).map(|ms| {
            ms.iter()
                .map(|m| {
                    json!({
                        "name": m.name,
                        "type": g.type_name(m.ty),
                        "offset": m.bit_offset / 8,
                        "bit_offset": m.bit_offset,
                        "bit_size": m.bit_size,
                    })
                })
                .collect::<Vec<_>>()
        })
    });
    json!({"name": ev.type_name(ty), "size": ev.size_of(ty), "members": members})
}

pub fn run_ptype(s: &mut Session, _args: &[String], raw: &str) -> Result<Report, CmdError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(CmdError::Usage("usage: ptype TYPE|EXPR".into()));
    }
    with_eval(s, |ev| {
        let ty = match as_type(ev, text)? {
            Some(t) => t,
            None => {
                let v = ev.eval_str(text)?;
                if let ValueKind::Untyped { text: is_text, .. } = v.kind {
                    let t = if is_text {
                        "int (void)"
                    } else {
                        "<data variable, no debug info>"
                    };
                    return Ok(Report::new(
                        format!("type = {t}\n"),
                        json!({"declaration": t, "type": null}),
                    ));
                }
                v.ty
            }
        };
        let decl = ptype(ev, ty);
        Ok(Report::new(
            format!("type = {decl}\n"),
            json!({"declaration": decl, "type": type_json(ev, ty)}),
        ))
    })
}

pub fn run_whatis(s: &mut Session, _args: &[String], raw: &str) -> Result<Report, CmdError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(CmdError::Usage("usage: whatis TYPE|SYMBOL|EXPR".into()));
    }
    with_eval(s, |ev| {
        if let Some(ty) = as_type(ev, text)? {
            let kind = ev.target.types().ty(ty);
            let size = ev.size_of(ty);
            let body = match kind {
                Type::Struct(_) | Type::Union(_) | Type::Enum { .. } => {
                    struct_body(ev, ty, false, None)
                }
                Type::Typedef { .. } => typedef_declaration(ev, ty).unwrap_or_default() + ";",
                _ => format!("type = {}", ev.type_name(ty)),
            };
            let mut out = format!("{body}\n");
            if let Some(n) = size {
                out.push_str(&format!("SIZE: {n}\n"));
            }
            return Ok(Report::new(
                out,
                json!({"declaration": body, "type": type_json(ev, ty)}),
            ));
        }
        let expr = ev.parse(text)?;
        let v = ev.eval(&expr)?;
        let line = match (&expr, &v.kind) {
            (_, ValueKind::Untyped { name, text: t, .. }) => {
                if *t {
                    format!("<text variable, no debug info> {name};")
                } else {
                    format!("<data variable, no debug info> {name};")
                }
            }
            (Expr::Ident { name, .. }, _) => format!("{};", declaration(ev, v.ty, name)),
            _ => ev.type_name(v.ty),
        };
        Ok(Report::new(
            format!("{line}\n"),
            json!({"declaration": line, "type": type_json(ev, v.ty)}),
        ))
    })
}
