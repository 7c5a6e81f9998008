//! `bt`: kernel stack traces in crash's format — frames found by ORC/CFI/frame pointers from
//! each task's real starting registers, exception blocks for saved `pt_regs`, the user-mode
//! register block where a syscall or interrupt entered the kernel.

use crate::{CmdError, Report, Session};
use kdive_kernel::stack::{StackContext, TaskTrace};
use kdive_kernel::AddrExt;
use kdive_kernel::Kernel;
use kdive_unwind::{Frame, PtRegs, StackKind};
use serde_json::{json, Value};
use std::fmt::Write;
use std::sync::Arc;

pub const USAGE: &str =
    "bt [-a|-p|-c CPU|-g] [-f|-F] [-l] [-i] [-r] [-s [-x|-d]] [-t|-T] [-M] [-R REF] [-v] [PID|TASK ...]";

/// What to print for each task.
#[derive(Debug, Clone, Copy, Default)]
pub struct BtFlags {
    /// `-f`: every stack word of each frame.
    pub words: bool,
    /// `-F`: those words as symbols where they are kernel addresses.
    pub symbolic: bool,
    /// `-l`: file and line of each frame.
    pub lines: bool,
    /// `-i`: inlined functions (from DWARF) before each frame.
    pub inline: bool,
    /// `-r`: the raw stack instead of frames.
    pub raw: bool,
    /// `-M`: which method found each frame.
    pub methods: bool,
    /// `-t` (Some(false)): text symbols from the first frame on; `-T` (Some(true)): on the
    /// whole task stack.
    pub text_symbols: Option<bool>,
    /// `-s`: each frame's function with its offset (`-x` in hex, else decimal).
    pub offsets: bool,
    /// `-x` (with `-s`): offsets in hex.
    pub hex_offsets: bool,
}

/// `-R REF`: show only the tasks whose trace refers to REF — a function (by name) or a value
/// (a frame's return address, or any register of an exception or user frame).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    Symbol(String),
    Value(u64),
}

impl Reference {
    /// crash's rule: a hexadecimal word (with or without `0x`) is a value, anything else a
    /// symbol name.
    pub fn parse(s: &str) -> Reference {
        let digits = s.strip_prefix("0x").unwrap_or(s);
        match u64::from_str_radix(digits, 16) {
            Ok(v) if !digits.is_empty() => Reference::Value(v),
            _ => Reference::Symbol(s.to_string()),
        }
    }

    /// Whether the trace refers to it, as crash checks: each frame's function name and
    /// return address, and every register of its exception and user frames (with the
    /// interrupted function's name).
    pub fn found_in(&self, k: &Kernel, ctx: &StackContext, tt: &TaskTrace) -> bool {
        tt.trace.frames.iter().any(|f| {
            let name = ctx.frame_function(k, f).map(|c| c.name);
            let regs = f.pt_regs.as_ref().filter(|_| shape(f) != Shape::Numbered);
            match self {
                Reference::Symbol(want) => {
                    name.as_deref() == Some(want.as_str())
                        || regs.is_some_and(|r| {
                            ctx.symbolize(k, r.get("ip"))
                                .is_some_and(|c| &c.name == want)
                        })
                }
                Reference::Value(v) => {
                    (shape(f) == Shape::Numbered && f.pc == *v)
                        || regs.is_some_and(|r| r.vals.contains(v))
                }
            }
        })
    }
}

/// `function+off` of a code address (kernel or module text) through the unwind context's
/// symbol tables; None outside text or when no context could be built.
pub fn code_name(ctx: Option<&StackContext>, k: &Kernel, addr: u64) -> Option<String> {
    let c = ctx?;
    c.is_text(addr)
        .then(|| c.symbolize(k, addr))
        .flatten()
        .map(|n| n.with_offset())
}

/// The session's unwind tables, built on first use.
pub fn stack_context(s: &mut Session) -> Result<Arc<StackContext>, CmdError> {
    if let Some(c) = &s.stacks {
        return Ok(c.clone());
    }
    let c = Arc::new(StackContext::new(&s.kernel)?);
    s.stacks = Some(c.clone());
    Ok(c)
}

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let mut flags = BtFlags::default();
    let mut all = false;
    let mut panic = false;
    let mut cpus: Vec<u32> = Vec::new();
    let mut targets: Vec<String> = Vec::new();
    let mut reference = None;
    let (mut group, mut overflow) = (false, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "-R" {
            let v = it
                .next()
                .ok_or_else(|| CmdError::Usage("bt -R needs a symbol or value".into()))?;
            reference = Some(Reference::parse(v));
            continue;
        }
        if a == "-c" {
            let v = it
                .next()
                .ok_or_else(|| CmdError::Usage("bt -c needs a CPU".into()))?;
            cpus.extend(parse_cpus(v)?);
            continue;
        }
        if let Some(opts) = a.strip_prefix('-') {
            if opts.is_empty() {
                return Err(CmdError::Usage(USAGE.into()));
            }
            for c in opts.chars() {
                match c {
                    'a' => all = true,
                    'p' => panic = true,
                    'f' => flags.words = true,
                    'F' => {
                        flags.words = true;
                        flags.symbolic = true
                    }
                    'l' => flags.lines = true,
                    'i' => flags.inline = true,
                    'r' => flags.raw = true,
                    'M' => flags.methods = true,
                    't' => flags.text_symbols = Some(flags.text_symbols.unwrap_or(false)),
                    'T' => flags.text_symbols = Some(true),
                    's' => flags.offsets = true,
                    'x' => flags.hex_offsets = true,
                    'd' => flags.hex_offsets = false,
                    'g' => group = true,
                    'v' => overflow = true,
                    _ => return Err(CmdError::Usage(format!("bt: unknown option -{c}\n{USAGE}"))),
                }
            }
            continue;
        }
        targets.push(a.clone());
    }
    if overflow {
        return crate::btcheck::stack_overflows(s);
    }
    let ctx = stack_context(s)?;
    let k = &s.kernel;
    let mut tasks: Vec<u64> = Vec::new();
    if all {
        for cpu in k.cpu_counts()?.online {
            tasks.push(k.cpu_current(cpu)?);
        }
    }
    for cpu in cpus {
        tasks.push(k.cpu_current(cpu)?);
    }
    // crash reports a bad pid among several and goes on with the others.
    let mut errors = Vec::new();
    for t in &targets {
        match resolve_task(k, t) {
            Ok(v) => tasks.extend(v),
            Err(e) => errors.push(format!("bt: {e}")),
        }
    }
    if tasks.is_empty() && !errors.is_empty() {
        return Err(CmdError::Usage(errors.join("\n")));
    }
    if tasks.is_empty() || panic && tasks.is_empty() {
        let task = match s.current_task {
            Some(t) if !panic => t,
            _ => k.panic_context()?.task,
        };
        tasks.push(task);
    }
    if group {
        tasks = crate::btcheck::thread_groups(s, &tasks)?;
    }
    let k = &s.kernel;
    match reference {
        Some(r) => crate::btcheck::render_referring(k, &ctx, &tasks, flags, &r),
        None => render_tasks(k, &ctx, &tasks, flags),
    }
    .map(|r| r.with_errors(errors))
}

/// Text and JSON for several tasks (blank line between them, as crash does).
pub fn render_tasks(
    k: &Kernel,
    ctx: &StackContext,
    tasks: &[u64],
    flags: BtFlags,
) -> Result<Report, CmdError> {
    let mut text = String::new();
    let mut json = Vec::new();
    for (i, &task) in tasks.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        match ctx.task_trace(k, task) {
            Ok(tt) => {
                let (t, j) = render_trace(k, ctx, &tt, flags);
                text.push_str(&t);
                json.push(j);
            }
            Err(e) => {
                let _ = writeln!(text, "bt: task {task:x}: {e}");
                json.push(json!({"task": format!("{task:#x}"), "error": e.to_string()}));
            }
        }
    }
    Ok(Report::new(
        text,
        if json.len() == 1 {
            json.remove(0)
        } else {
            Value::Array(json)
        },
    ))
}

pub(crate) fn parse_cpus(v: &str) -> Result<Vec<u32>, CmdError> {
    let mut out = Vec::new();
    for part in v.split(',') {
        if let Some((a, b)) = part.split_once('-') {
            let (a, b): (u32, u32) = (
                a.parse().map_err(|_| bad_cpu(v))?,
                b.parse().map_err(|_| bad_cpu(v))?,
            );
            out.extend(a..=b.min(a.saturating_add(4096)));
        } else {
            out.push(part.parse().map_err(|_| bad_cpu(v))?);
        }
    }
    Ok(out)
}

fn bad_cpu(v: &str) -> CmdError {
    CmdError::Usage(format!("invalid cpu specification: {v}"))
}

/// A pid (all its threads with that pid) or a task address.
pub fn resolve_task(k: &Kernel, arg: &str) -> Result<Vec<u64>, CmdError> {
    let hex = arg.strip_prefix("0x").unwrap_or(arg);
    if arg.len() >= 9 || arg.starts_with("0x") {
        if let Ok(a) = u64::from_str_radix(hex, 16) {
            k.read_task(a)?;
            return Ok(vec![a]);
        }
    }
    let pid: i32 = arg
        .parse()
        .map_err(|_| CmdError::Usage(format!("invalid task or pid value: {arg}")))?;
    let list = k.tasks()?;
    let v: Vec<u64> = list
        .tasks
        .iter()
        .filter(|t| t.pid == pid)
        .map(|t| t.addr)
        .collect();
    if v.is_empty() {
        return Err(crate::context::no_such_task(arg, &list.problems));
    }
    Ok(v)
}

/// crash's task header line.
pub fn header(pid: i32, task: u64, cpu: u32, comm: &str) -> String {
    format!("PID: {pid:<7}  TASK: {task:x}  CPU: {cpu:<3}  COMMAND: \"{comm}\"")
}

/// crash's register block (exception or user mode).
pub fn regs_block(r: &PtRegs) -> String {
    let g = |m: &str| r.get(m);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "    RIP: {:016x}  RSP: {:016x}  RFLAGS: {:08x}",
        g("ip"),
        g("sp"),
        g("flags")
    );
    for row in [
        [("RAX", "ax"), ("RBX", "bx"), ("RCX", "cx")],
        [("RDX", "dx"), ("RSI", "si"), ("RDI", "di")],
        [("RBP", "bp"), ("R8", "r8"), ("R9", "r9")],
        [("R10", "r10"), ("R11", "r11"), ("R12", "r12")],
        [("R13", "r13"), ("R14", "r14"), ("R15", "r15")],
    ] {
        let cells: Vec<String> = row
            .iter()
            .map(|(n, m)| format!("{n:>3}: {:016x}", g(m)))
            .collect();
        let _ = writeln!(s, "    {}", cells.join("  "));
    }
    let _ = writeln!(
        s,
        "    ORIG_RAX: {:016x}  CS: {:04x}  SS: {:04x}",
        g("orig_ax"),
        g("cs"),
        g("ss")
    );
    s
}

fn name_of(k: &Kernel, ctx: &StackContext, f: &Frame) -> (String, Option<String>) {
    match ctx.frame_function(k, f) {
        Some(c) => (c.name, c.module),
        None => (format!("{:x}", f.pc), None),
    }
}

/// How a frame prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// ` #N [SP] func at PC`
    Numbered,
    /// `[exception RIP: func+off]` + registers (kernel-mode saved registers).
    Exception,
    /// The user-mode register block (the stack ends).
    User,
}

pub(crate) fn shape(f: &Frame) -> Shape {
    if f.is_user() {
        Shape::User
    } else if f.pt_regs.is_some() && f.interrupted {
        Shape::Exception
    } else {
        Shape::Numbered
    }
}

/// A task's pid and command for its header line; -1 and nothing when the task is unreadable.
pub(crate) fn pid_comm(k: &Kernel, task: u64) -> (i32, String) {
    k.read_task(task)
        .map(|t| (t.pid, t.comm))
        .unwrap_or((-1, String::new()))
}

/// One task's trace as `flags` ask: its text symbols (`-t`/`-T`) or its frames.
pub fn render_trace(
    k: &Kernel,
    ctx: &StackContext,
    tt: &TaskTrace,
    flags: BtFlags,
) -> (String, Value) {
    match flags.text_symbols {
        Some(all) => crate::bttext::render(k, ctx, tt, all),
        None => render(k, ctx, tt, flags),
    }
}

/// One task's trace in crash's layout, and as JSON.
pub fn render(k: &Kernel, ctx: &StackContext, tt: &TaskTrace, flags: BtFlags) -> (String, Value) {
    let (pid, comm) = pid_comm(k, tt.task);
    let mut out = String::new();
    let _ = writeln!(out, "{}", header(pid, tt.task, tt.cpu, &comm));
    if flags.raw {
        raw_stack(k, ctx, tt, &mut out);
        return (out, json!({"pid": pid, "task": format!("{:#x}", tt.task)}));
    }
    let kaslr = k.vmcoreinfo.kernel_offset().unwrap_or(0);
    let frames = &tt.trace.frames;
    let mut n = 0usize;
    let mut jframes = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        if i > 0 {
            if let (Some(a), Some(b)) = (frames[i - 1].stack, f.stack) {
                if a != b && a != StackKind::Task {
                    let _ = writeln!(out, "--- <{}> ---", a.crash_name());
                }
            }
        }
        let (name, module) = name_of(k, ctx, f);
        let method = if flags.methods {
            format!("  ({})", f.method.name())
        } else {
            String::new()
        };
        let sh = shape(f);
        if flags.inline && sh != Shape::User {
            if let Some(d) = &k.dwarf {
                let look = if f.interrupted {
                    f.pc
                } else {
                    f.pc.wrapping_sub(1)
                };
                let fr = d.frames_at(look.wrapping_sub(kaslr));
                for inl in fr.iter().take(fr.len().saturating_sub(1)) {
                    let _ = writeln!(
                        out,
                        "    (inline) {} at {}:{}",
                        inl.function.as_deref().unwrap_or("??"),
                        inl.file.as_deref().unwrap_or("??"),
                        inl.line.unwrap_or(0)
                    );
                }
            }
        }
        match sh {
            Shape::Numbered => {
                let sp = f.slot.unwrap_or(f.sp);
                let name = match ctx.frame_function(k, f).filter(|_| flags.offsets) {
                    Some(c) if c.offset == 0 => c.name,
                    Some(c) if flags.hex_offsets => format!("{}+{:#x}", c.name, c.offset),
                    Some(c) => format!("{}+{}", c.name, c.offset),
                    None => name.clone(),
                };
                let modsuf = module
                    .as_ref()
                    .map(|m| format!(" [{m}]"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "{:>3} [{sp:016x}] {name} at {:016x}{modsuf}{method}",
                    format!("#{n}"),
                    f.pc
                );
                n += 1;
            }
            Shape::Exception => {
                let off = ctx.symbolize(k, f.pc).map(|c| c.with_offset());
                let _ = writeln!(
                    out,
                    "    [exception RIP: {}]{method}",
                    off.unwrap_or_else(|| "unknown or invalid address".into())
                );
                out.push_str(&regs_block(f.pt_regs.as_ref().expect("exception regs")));
            }
            Shape::User => {
                out.push_str(&regs_block(f.pt_regs.as_ref().expect("user regs")));
            }
        }
        if flags.lines && sh != Shape::User {
            match &k.dwarf {
                Some(d) => {
                    let look = if f.interrupted {
                        f.pc
                    } else {
                        f.pc.wrapping_sub(1)
                    };
                    if let Some((file, line)) = d.addr_to_line(look.wrapping_sub(kaslr)) {
                        let _ = writeln!(out, "    {file}: {line}");
                    }
                }
                None if i == 0 => {
                    let _ = writeln!(out, "    (no line numbers: no vmlinux with DWARF)");
                }
                None => {}
            }
        }
        if flags.words && sh != Shape::User {
            if let Some(next) = frames.get(i + 1) {
                frame_words(k, ctx, f, next, flags.symbolic, &mut out);
            }
        }
        jframes.push(frame_json(f, &name, module.as_deref(), sh));
    }
    if let Some(r) = &tt.trace.stop {
        let _ = writeln!(out, "    [unwind stopped: {r}]");
    }
    let j = json!({
        "pid": pid,
        "task": format!("{:#x}", tt.task),
        "cpu": tt.cpu,
        "command": comm,
        "active": tt.active,
        "start": tt.start,
        "frames": jframes,
        "stopped": tt.trace.stop.as_ref().map(|r| r.to_string()),
    });
    (out, j)
}

fn frame_json(f: &Frame, name: &str, module: Option<&str>, sh: Shape) -> Value {
    json!({
        "function": name,
        "pc": format!("{:#x}", f.pc),
        "sp": format!("{:#x}", f.sp),
        "slot": f.slot.map(|s| format!("{s:#x}")),
        "module": module,
        "kind": match sh { Shape::Numbered => "call", Shape::Exception => "exception", Shape::User => "user" },
        "method": f.method.name(),
        "stack": f.stack.map(|s| s.crash_name()),
        "registers": f.regs,
        "pt_regs": f.pt_regs.map(|r| {
            let m: serde_json::Map<String, Value> = kdive_unwind::arch::x86_64::ptregs::PT_REGS_MEMBERS
                .iter()
                .zip(r.vals.iter())
                .map(|(n, v)| (n.to_string(), Value::String(format!("{v:#x}"))))
                .collect();
            Value::Object(m)
        }),
    })
}

/// `-f`/`-F`: the words from just above this frame's return-address slot up to and including
/// the next frame's slot, two a line.
fn frame_words(
    k: &Kernel,
    ctx: &StackContext,
    f: &Frame,
    next: &Frame,
    sym: bool,
    out: &mut String,
) {
    let from = match (f.pt_regs_addr, f.slot) {
        (Some(a), _) if f.interrupted => a,
        (_, Some(s)) => s.off(8),
        _ => f.sp,
    };
    let Some(to) = next.slot.or(next.pt_regs_addr) else {
        return;
    };
    if to < from || to - from > 64 << 10 {
        return;
    }
    let mut words = Vec::new();
    let mut a = from;
    while a <= to {
        words.push((a, k.mem.read_u64(a).ok()));
        a += 8;
    }
    for pair in words.chunks(2) {
        let _ = write!(out, "    {:x}: ", pair[0].0);
        for (_, w) in pair {
            match w {
                Some(v) if sym && ctx.is_text(*v) => {
                    let s = ctx
                        .symbolize(k, *v)
                        .map(|c| c.with_offset())
                        .unwrap_or_else(|| format!("{v:016x}"));
                    let _ = write!(out, "{s:<16} ");
                }
                Some(v) => {
                    let _ = write!(out, "{v:016x} ");
                }
                None => out.push_str("???????????????? "),
            }
        }
        out.push('\n');
    }
}

/// `-r`: the whole task stack, two words a line.
fn raw_stack(k: &Kernel, ctx: &StackContext, tt: &TaskTrace, out: &mut String) {
    let stacks = ctx.stacks(k, tt.task, tt.cpu);
    let Some(r) = stacks.iter().find(|r| r.kind == StackKind::Task) else {
        out.push_str("bt: task stack unknown\n");
        return;
    };
    let mut buf = vec![0u8; r.hi.saturating_sub(r.lo) as usize];
    if let Err(e) = k.mem.read(r.lo, &mut buf) {
        let _ = writeln!(out, "bt: cannot read stack at {:x}: {e}", r.lo);
        return;
    }
    for (i, line) in buf.chunks(16).enumerate() {
        let _ = write!(out, "{:x}:  ", r.lo.elem(i as u64, 16));
        for w in line.chunks_exact(8) {
            let _ = write!(out, "{:016x} ", u64::from_le_bytes(w.try_into().unwrap()));
        }
        out.push('\n');
    }
}
