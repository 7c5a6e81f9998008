//! Who wrote the bad pointer: code near the fault (the faulting module, or the faulting
//! function's source file in the vmlinux) that stores to the same member of the same type,
//! and the tasks whose stacks are inside those functions, or hold the object.

use super::origin::{member_key, Origin};
use super::site::reg_name;
use crate::annotate::Annotator;
use crate::disasm::{Namer, Stored};
use kdive_debuginfo::dwarf::Loc;
use kdive_debuginfo::SymbolKind;
use kdive_kernel::stack::StackContext;
use kdive_kernel::Kernel;
use serde::Serialize;
use std::sync::Arc;

/// Bound on functions searched for stores.
const MAX_FUNCTIONS: usize = 2000;
/// How far from the faulting function vmlinux code is searched (its source file's functions
/// lie together).
const VMLINUX_WINDOW: u64 = 64 * 1024;
/// Bound on writers reported.
const MAX_WRITERS: usize = 32;

/// One instruction that stores to the member the bad pointer was loaded from.
#[derive(Debug, Clone, Serialize)]
pub struct Writer {
    pub addr: u64,
    /// `kdive_race_remove+93`.
    pub location: String,
    /// Start and end of the function holding it.
    pub function: (u64, u64),
    /// The inlined functions it sits in, innermost first (`kdive_race_free_napis`).
    pub inlined: Vec<String>,
    pub source: Option<(String, u32)>,
    pub instruction: String,
    /// `priv->qnapi[i]`.
    pub expression: String,
    /// What it stores: `NULL`, `0x10`, a variable or a register.
    pub stores: String,
    pub stores_null: bool,
}

/// The text ranges searched: the faulting module's functions, or the vmlinux functions
/// around the faulting one that share its source file.
fn functions_to_search(
    k: &Kernel,
    ctx: &StackContext,
    namer: &Namer<'_>,
    fault_fn: u64,
) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    if let Some(m) = ctx.module_of(fault_fn) {
        let (lo, hi) = m.text;
        for s in ctx.module_symbols.iter() {
            if s.kind == SymbolKind::Text && s.addr >= lo && s.addr < hi {
                if let Some((_, a, b)) = namer.function_bounds(s.addr) {
                    if a == s.addr {
                        out.push((a, b.min(hi)));
                    }
                }
            }
        }
    } else {
        let file = crate::disasm::source_line(k, fault_fn).map(|(f, _)| f);
        let lo = fault_fn.saturating_sub(VMLINUX_WINDOW);
        let hi = fault_fn.saturating_add(VMLINUX_WINDOW);
        for s in k.symbols.iter() {
            if s.kind != SymbolKind::Text || s.addr < lo || s.addr >= hi {
                continue;
            }
            if file.is_some() && crate::disasm::source_line(k, s.addr).map(|(f, _)| f) != file {
                continue;
            }
            if let Some((_, a, b)) = namer.function_bounds(s.addr) {
                if a == s.addr {
                    out.push((a, b));
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out.truncate(MAX_FUNCTIONS);
    out
}

/// A direct call, in the searched code, to a function that stores the pointer (or to one of
/// its callers).
#[derive(Debug, Clone, Serialize)]
pub struct Call {
    pub addr: u64,
    /// `kdive_race_remove+88`.
    pub location: String,
    /// The calling function's range.
    pub function: (u64, u64),
    /// The function called.
    pub callee: String,
    /// The store the call leads to.
    pub leads_to: String,
}

/// Bound on call levels followed up from a storing function.
const MAX_CALL_DEPTH: usize = 3;

/// What stores the member, and the calls leading there.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Writes {
    pub stores: Vec<Writer>,
    pub calls: Vec<Call>,
}

/// Stores whose operand has the load's shape (displacement, scale, index) and whose C
/// expression names the same member of the same type; then the direct calls to the storing
/// functions (and to their callers, a few levels up) in the same code.
pub fn writers(
    k: &Kernel,
    ctx: &Arc<StackContext>,
    namer: &Namer<'_>,
    origin: &Origin,
    fault_fn: u64,
) -> Writes {
    let (Some(m), Some(acc)) = (origin.mem, origin.access.as_ref()) else {
        return Writes::default();
    };
    let Some(key) = member_key(&acc.expression, &acc.variable) else {
        return Writes::default();
    };
    let code: Vec<((u64, u64), Vec<crate::disasm::Insn>)> =
        functions_to_search(k, ctx, namer, fault_fn)
            .into_iter()
            .filter_map(|r| Some((r, namer.read_insns(r.0, r.1, None).ok()?)))
            .collect();
    let stores = stores(k, ctx, namer, &code, m, acc, &key);
    let calls = calls_to(namer, &code, &stores);
    Writes { stores, calls }
}

/// The calls leading to each storing function, up to [`MAX_CALL_DEPTH`] levels.
fn calls_to(
    namer: &Namer<'_>,
    code: &[((u64, u64), Vec<crate::disasm::Insn>)],
    stores: &[Writer],
) -> Vec<Call> {
    let mut out: Vec<Call> = Vec::new();
    // (function start, the store it leads to)
    let mut level: Vec<(u64, String)> = stores
        .iter()
        .map(|w| (w.function.0, w.location.clone()))
        .collect();
    level.dedup();
    for _ in 0..MAX_CALL_DEPTH {
        let mut next = Vec::new();
        for ((lo, hi), insns) in code {
            for i in insns {
                let Some(t) = i.effects.branch_target.filter(|_| i.effects.is_call) else {
                    continue;
                };
                let Some((_, leads)) = level.iter().find(|(f, _)| *f == t) else {
                    continue;
                };
                if out.iter().any(|c| c.addr == i.addr) || *lo == t {
                    continue;
                }
                out.push(Call {
                    addr: i.addr,
                    location: namer
                        .name(i.addr)
                        .unwrap_or_else(|| format!("{:#x}", i.addr)),
                    function: (*lo, *hi),
                    callee: namer.name(t).unwrap_or_else(|| format!("{t:#x}")),
                    leads_to: leads.clone(),
                });
                if !next.iter().any(|(f, _): &(u64, String)| *f == *lo) {
                    next.push((*lo, leads.clone()));
                }
            }
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }
    out
}

fn stores(
    k: &Kernel,
    ctx: &Arc<StackContext>,
    namer: &Namer<'_>,
    code: &[((u64, u64), Vec<crate::disasm::Insn>)],
    m: crate::disasm::MemRef,
    acc: &super::site::Access,
    key: &str,
) -> Vec<Writer> {
    let mut annot = Annotator::new(k, Some(ctx.clone()));
    let mut out = Vec::new();
    for ((lo, hi), insns) in code {
        let (lo, hi) = (*lo, *hi);
        for i in insns {
            let Some(im) = i.mem else { continue };
            if !i.effects.writes_memory
                || im.lea
                || im.disp != m.disp
                || im.scale != m.scale
                || im.index.is_some() != m.index.is_some()
            {
                continue;
            }
            let (vars, expr) = annot.variables_and_access(i);
            let Some(e) = expr else { continue };
            if e.pointee != acc.pointee || member_key(&e.text, &e.var.name).as_deref() != Some(key)
            {
                continue;
            }
            let (stores, stores_null) = match i.effects.stored {
                Some(Stored::Immediate(0)) => ("NULL".to_string(), true),
                Some(Stored::Immediate(v)) => (format!("{v:#x}"), false),
                Some(Stored::Register(r)) => (
                    vars.iter()
                        .find(|v| v.loc == Loc::Reg(r))
                        .map_or_else(|| reg_name(r), |v| v.name.clone()),
                    false,
                ),
                None => ("(computed)".to_string(), false),
            };
            out.push(Writer {
                addr: i.addr,
                location: namer
                    .name(i.addr)
                    .unwrap_or_else(|| format!("{:#x}", i.addr)),
                function: (lo, hi),
                inlined: inlined_at(k, i.addr),
                source: crate::disasm::source_line(k, i.addr),
                instruction: i.text.trim_end().to_string(),
                expression: e.text.clone(),
                stores,
                stores_null,
            });
            if out.len() >= MAX_WRITERS {
                return out;
            }
        }
    }
    out
}

/// The inlined functions at `addr`, innermost first (not the containing function).
fn inlined_at(k: &Kernel, addr: u64) -> Vec<String> {
    let Some((dw, a)) = crate::annotate::dwarf_for(k, addr) else {
        return Vec::new();
    };
    let frames = dw.frames_at(a);
    let n = frames.len().saturating_sub(1);
    frames
        .into_iter()
        .take(n)
        .filter_map(|f| f.function)
        .collect()
}
