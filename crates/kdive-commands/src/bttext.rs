//! `bt -t` / `bt -T`: every kernel-text address on a task's stacks, with the stack slot it
//! lies in — the raw evidence beneath a backtrace (stale frames, functions that ran and
//! returned). `-t` starts at the trace's first frame (the `START:` line) and follows it onto
//! the task stack; `-T` covers the whole task stack. Both end at the stack's saved
//! `pt_regs`, printing user-mode registers as `bt` does.

use crate::bt::{header, regs_block};
use kdive_kernel::stack::{StackContext, TaskTrace};
use kdive_kernel::Kernel;
use kdive_unwind::stacks::{region_of, StackKind, StackRegion};
use serde_json::{json, Value};
use std::fmt::Write;

/// Words scanned per stack at most (stacks are 16 KiB; exception stacks smaller).
const MAX_WORDS: u64 = 1 << 16;

/// One task's text symbols: text and JSON.
pub fn render(k: &Kernel, ctx: &StackContext, tt: &TaskTrace, all: bool) -> (String, Value) {
    let (pid, comm) = crate::bt::pid_comm(k, tt.task);
    let mut out = String::new();
    let _ = writeln!(out, "{}", header(pid, tt.task, tt.cpu, &comm));
    let stacks = ctx.stacks(k, tt.task, tt.cpu);
    let regs_size = k.layout.struct_size("pt_regs").unwrap_or(0);
    let mut hits = Vec::new();
    let task_stack = stacks.iter().find(|r| r.kind == StackKind::Task).copied();
    if all {
        if let Some(r) = task_stack {
            // The lowest word holds STACK_END_MAGIC.
            scan(k, ctx, &r, r.lo + 8, regs_size, &mut out, &mut hits);
        }
    } else {
        let first = tt
            .trace
            .frames
            .iter()
            .find(|f| !(f.is_user() || f.pt_regs.is_some() && f.interrupted));
        if let Some(f) = first {
            let name = ctx
                .symbolize(k, f.pc)
                .map(|c| c.name)
                .unwrap_or_else(|| format!("{:x}", f.pc));
            let _ = writeln!(out, "{:14}START: {name} at {:x}", "", f.pc);
            let slot = f.slot.unwrap_or(f.sp);
            let here = region_of(&stacks, slot).map(|i| stacks[i]);
            if let Some(r) = here {
                scan(k, ctx, &r, slot, regs_size, &mut out, &mut hits);
            }
            // From an IRQ or exception stack, go on where the task stack was left: after an
            // exception, at the interrupted stack pointer its saved registers hold (shown as
            // crash shows them: the block, the stack left, and the interrupted function).
            if let Some(left) = here.filter(|r| r.kind != StackKind::Task) {
                let exception = tt
                    .trace
                    .frames
                    .iter()
                    .find(|f| f.interrupted && !f.is_user() && f.pt_regs.is_some());
                let resume = match exception.and_then(|f| f.pt_regs.map(|r| (f, r))) {
                    Some((f, regs)) => {
                        let at = ctx
                            .symbolize(k, f.pc)
                            .map(|c| c.with_offset())
                            .unwrap_or_else(|| "unknown or invalid address".into());
                        let _ = writeln!(out, "    [exception RIP: {at}]");
                        out.push_str(&regs_block(&regs));
                        let _ = writeln!(out, "--- <{}> ---", left.kind.crash_name());
                        let name = ctx.symbolize(k, f.pc).map(|c| c.name).unwrap_or_default();
                        // crash's slot column here is the stack's base, not a slot.
                        let _ = writeln!(out, "  [{:016x}] {name} at {:x}", left.lo, f.pc);
                        Some(regs.sp())
                    }
                    None => tt
                        .trace
                        .frames
                        .iter()
                        .filter_map(|f| f.slot.or(Some(f.sp)))
                        .find(|&a| task_stack.is_some_and(|t| t.contains(a, 8))),
                };
                if let (Some(t), Some(a)) = (task_stack, resume) {
                    if t.contains(a, 8) {
                        scan(k, ctx, &t, a, regs_size, &mut out, &mut hits);
                    }
                }
            }
        }
    }
    if let Some(user) = tt.trace.frames.iter().rev().find(|f| f.is_user()) {
        if let Some(r) = &user.pt_regs {
            out.push_str(&regs_block(r));
        }
    }
    let j = json!({
        "pid": pid,
        "task": format!("{:#x}", tt.task),
        "cpu": tt.cpu,
        "command": comm,
        "text_symbols": hits,
    });
    (out, j)
}

/// The function a text word names: a function's own address (a callback pointer) is that
/// function; any other address is a return address, in the function of the call before it.
fn text_name(k: &Kernel, ctx: &StackContext, v: u64) -> Option<kdive_kernel::stack::CodeName> {
    match ctx.symbolize(k, v) {
        Some(c) if c.offset == 0 => Some(c),
        _ => ctx.symbolize(k, v.wrapping_sub(1)),
    }
}

/// Words from `from` to the region's top (less the saved registers at the top of task and
/// exception stacks) that are kernel or module text.
fn scan(
    k: &Kernel,
    ctx: &StackContext,
    r: &StackRegion,
    from: u64,
    regs_size: u64,
    out: &mut String,
    hits: &mut Vec<Value>,
) {
    let top = match r.kind {
        StackKind::Task | StackKind::Exception(_) => r.hi.saturating_sub(regs_size),
        _ => r.hi,
    };
    // Init text counts too: the boot CPU's idle stack still holds returns into it.
    let init_text = match (k.symbol_addr("_sinittext"), k.symbol_addr("_einittext")) {
        (Ok(a), Ok(b)) => a..b,
        _ => 0..0,
    };
    let mut addr = from & !7;
    let mut words = 0;
    while addr < top && words < MAX_WORDS {
        words += 1;
        let Ok(v) = k.read_u64(addr, "stack word") else {
            let _ = writeln!(out, "  [{addr:016x}] (not in the dump)");
            break;
        };
        if ctx.is_text(v) || init_text.contains(&v) {
            if let Some(c) = text_name(k, ctx, v) {
                let modsuf = c
                    .module
                    .as_ref()
                    .map(|m| format!(" [{m}]"))
                    .unwrap_or_default();
                let _ = writeln!(out, "  [{addr:016x}] {} at {v:x}{modsuf}", c.name);
                hits.push(
                    json!({"slot": addr, "value": v, "function": c.name, "module": c.module}),
                );
            }
        }
        addr += 8;
    }
}
