//! `p`/`print [-x|-d|-u] EXPR`, `p/FMT EXPR`: gdb's print with crash's settings, `$N =`
//! history, `symbol = $N =` for a bare symbol, and crash's per-CPU forms (`p runqueues` lists
//! the per-CPU addresses, `p runqueues:1` / `:a` prints per CPU).

use crate::eval_ctx::with_eval;
use crate::{CmdError, Report, Session};
use kdive_eval::format_type::declaration;
use kdive_eval::format_value::{format_value, value_json, PrintOptions};
use kdive_eval::{CpuSpec, Evaluator, Expr, Value};
use serde_json::json;

pub fn run(s: &mut Session, _args: &[String], raw: &str) -> Result<Report, CmdError> {
    let (format, radix, text) = options(raw)?;
    if text.is_empty() {
        return Err(CmdError::Usage(
            "usage: p [-x|-d] EXPR | p/FMT EXPR | p symbol[:cpuspec]".into(),
        ));
    }
    let opts = PrintOptions {
        format,
        radix,
        ..PrintOptions::crash()
    };
    let base = s.eval.history.len();
    let out = with_eval(s, |ev| print(ev, text, opts, base))?;
    let mut report_text = String::new();
    let mut items = Vec::new();
    for item in out.items {
        match item {
            Item::Value {
                label,
                value,
                text,
                json,
            } => {
                s.eval.history.push(value);
                let n = s.eval.history.len();
                report_text.push_str(&format!(
                    "{}${n} = {text}\n",
                    label
                        .as_deref()
                        .map(|l| format!("{l} = "))
                        .unwrap_or_default()
                ));
                items.push(json!({"history": n, "label": label, "type": json["type"], "value": json["value"], "text": text}));
            }
            Item::Text(t) => {
                report_text.push_str(&t);
                items.push(json!({"text": t}));
            }
        }
    }
    Ok(Report::new(
        report_text,
        json!({"expression": text, "results": items}),
    ))
}

/// gdb's `/FMT` letter, or crash's `-x`/`-d` (an output radix: enums and strings stay as
/// they are), ahead of the expression.
fn options(raw: &str) -> Result<(Option<char>, u32, &str), CmdError> {
    let mut rest = raw.trim();
    let mut format = None;
    let mut radix = 10;
    if let Some(r) = rest.strip_prefix('/') {
        let end = r.find(char::is_whitespace).unwrap_or(r.len());
        let f = &r[..end];
        let c = f.chars().last().filter(|c| "xduotcaz".contains(*c));
        if c.is_none() {
            return Err(CmdError::Usage(format!("Undefined output format \"{f}\".")));
        }
        format = c;
        rest = r[end..].trim_start();
    }
    while let Some(r) = rest.strip_prefix('-') {
        let Some(c) = r.chars().next().filter(|c| "xdu".contains(*c)) else {
            break;
        };
        if r.len() > 1 && !r[1..].starts_with(char::is_whitespace) {
            break;
        }
        match c {
            'x' => radix = 16,
            'd' => radix = 10,
            _ => {
                return Err(CmdError::Usage(
                    "p -u: reading user-space addresses is not supported".into(),
                ))
            }
        }
        rest = r[1..].trim_start();
    }
    Ok((format, radix, rest))
}

enum Item {
    Value {
        label: Option<String>,
        value: Value,
        text: String,
        json: serde_json::Value,
    },
    Text(String),
}

struct Printed {
    items: Vec<Item>,
}

fn print(
    ev: &Evaluator,
    text: &str,
    opts: PrintOptions,
    _base: usize,
) -> Result<Printed, CmdError> {
    let expr = ev.parse(text)?;
    let mut items = Vec::new();
    // A bare per-CPU symbol: crash lists its type and per-CPU addresses.
    if let Expr::Ident { name, .. } = &expr {
        if let Some(sym) = ev.target.symbol(name).filter(|s| s.per_cpu) {
            let ty = ev.target.types().variable(name).map(|v| v.ty);
            let mut t = String::from("PER-CPU DATA TYPE:\n");
            match ty {
                Some(ty) => t.push_str(&format!("  {};\n", declaration(ev, ty, name))),
                None => t.push_str(&format!("  [unknown type] {name};\n")),
            }
            t.push_str("PER-CPU ADDRESSES:\n");
            for cpu in 0..ev.target.nr_cpus() {
                if let Some(off) = ev.target.per_cpu_offset(cpu) {
                    t.push_str(&format!("  [{cpu}]: {:x}\n", sym.addr.wrapping_add(off)));
                }
            }
            items.push(Item::Text(t));
            return Ok(Printed { items });
        }
    }
    let cpus: Option<(String, Vec<u32>)> = expr.per_cpu().map(|(n, spec)| {
        let list = match spec {
            CpuSpec::All => (0..ev.target.nr_cpus()).collect(),
            CpuSpec::List(l) => l.clone(),
        };
        (n.to_string(), list)
    });
    let label = match &expr {
        Expr::Ident { name, .. } if ev.target.symbol(name).is_some() => Some(name.clone()),
        _ => None,
    };
    let runs: Vec<(Option<String>, Option<u32>)> = match &cpus {
        Some((name, list)) => list
            .iter()
            .map(|&c| {
                let l =
                    matches!(expr, Expr::PerCpu { .. }).then(|| format!("per_cpu({name}, {c})"));
                (l, Some(c))
            })
            .collect(),
        None => vec![(label, None)],
    };
    for (label, cpu) in runs {
        let mut e2 = Evaluator::new(ev.target, ev.history);
        e2.cpu = cpu;
        let v = e2.eval(&expr)?;
        let text = format_value(&e2, &v, opts)?;
        let value = value_json(&e2, &v).unwrap_or(serde_json::Value::Null);
        let ty = e2.type_name(v.ty);
        items.push(Item::Value {
            label,
            value: v,
            text,
            json: json!({"type": ty, "value": value}),
        });
    }
    Ok(Printed { items })
}
