//! The object behind a bad pointer: which slab cache holds it, whether it is free, and — when
//! SLUB kept the records (`slub_debug=U`) — who allocated it and who freed it, with when and
//! the call stacks, read from the object's `struct track`s and the stack depot.

use crate::context::TaskTable;
use kdive_kernel::slabtrack::SlabTrack;
use kdive_kernel::stack::StackContext;
use kdive_kernel::Kernel;
use serde::Serialize;

/// A slab object and its history.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectFact {
    /// The pointer that led here (`np`), and its value.
    pub name: String,
    pub addr: u64,
    pub cache: String,
    pub object: u64,
    pub free: bool,
    /// False when the cache keeps no alloc/free records (SLAB_STORE_USER off).
    pub tracked: bool,
    pub allocated_by: Option<TrackView>,
    pub freed_by: Option<TrackView>,
    /// The freeing task, when it still runs the code that freed the object: the function of
    /// the free stack still on its stack, and its trace.
    pub freer_still_in: Option<FreerNow>,
}

/// Where the task that freed the object is now.
#[derive(Debug, Clone, Serialize)]
pub struct FreerNow {
    pub pid: i32,
    pub comm: String,
    pub state: String,
    /// The innermost function of its trace that is also on the free stack.
    pub function: String,
    pub trace: Vec<String>,
}

/// Functions of the system-call path, on every user task's stack: not evidence.
fn generic(f: &str) -> bool {
    f.starts_with("do_syscall")
        || f.starts_with("entry_SYSCALL")
        || f.starts_with("__do_sys_")
        || f.starts_with("__x64_sys_")
}

fn base(n: &str) -> &str {
    n.split('+').next().unwrap_or(n)
}

/// The freeing task's frames that are on the free stack too.
fn freer_now(k: &Kernel, ctx: &StackContext, table: &TaskTable, f: &TrackView) -> Option<FreerNow> {
    let t = table.tasks.iter().find(|x| x.pid == f.pid && !x.idle)?;
    let tt = ctx.task_trace(k, t.addr).ok()?;
    let trace: Vec<String> = tt
        .trace
        .frames
        .iter()
        .filter_map(|fr| ctx.frame_function(k, fr).map(|c| c.name))
        .collect();
    let freeing: Vec<&str> = std::iter::once(f.caller.as_str())
        .chain(f.stack.iter().map(String::as_str))
        .map(base)
        .filter(|n| !generic(n))
        .collect();
    let function = trace
        .iter()
        .find(|n| !generic(n) && freeing.contains(&base(n)))?
        .clone();
    Some(FreerNow {
        pid: t.pid,
        comm: t.comm.clone(),
        state: table.states.crash_code(t).to_string(),
        function,
        trace,
    })
}

/// One record, named.
#[derive(Debug, Clone, Serialize)]
pub struct TrackView {
    pub pid: i32,
    /// The task's name, when a task with that pid still exists.
    pub comm: Option<String>,
    pub cpu: i32,
    /// `kdive_race_free_napis_uaf+0x5e`: the caller of kmalloc/kfree.
    pub caller: String,
    /// The call stack, innermost first, named.
    pub stack: Vec<String>,
    /// Jiffies between this and the dump, and that in milliseconds when HZ is known.
    pub jiffies_before_dump: Option<u64>,
    pub ms_before_dump: Option<u64>,
}

/// A code address named: kernel or module text; else a module's freed init code, named by the
/// module's DWARF (its `.init.text` keeps the address it was loaded at); else the number.
fn name(k: &Kernel, ctx: &StackContext, a: u64) -> String {
    if ctx.is_text(a) {
        if let Some(c) = ctx.symbolize(k, a) {
            return c.with_offset();
        }
    }
    for d in &k.module_debug {
        if let Some(f) = d.dwarf.function_at(a) {
            return format!("{}+{} [{}, freed init code]", f.name, a - f.low_pc, d.name);
        }
    }
    format!("{a:#x}")
}

fn view(k: &Kernel, ctx: &StackContext, table: &TaskTable, t: &SlabTrack) -> TrackView {
    let now = k.jiffies_64().ok();
    let jiffies = now.map(|n| n.wrapping_sub(t.when)).filter(|d| *d < 1 << 40);
    let hz = k.hz().ok().filter(|h| *h > 0);
    TrackView {
        pid: t.pid,
        comm: table
            .tasks
            .iter()
            .find(|x| x.pid == t.pid)
            .map(|x| x.comm.clone()),
        cpu: t.cpu,
        caller: name(k, ctx, t.addr),
        stack: t.stack.iter().map(|a| name(k, ctx, *a)).collect(),
        jiffies_before_dump: jiffies,
        ms_before_dump: jiffies.zip(hz).map(|(j, h)| j * 1000 / u64::from(h)),
    }
}

/// The slab object `addr` points into, with its records; None when it is not a slab object.
pub fn object_fact(
    k: &Kernel,
    ctx: &StackContext,
    table: &TaskTable,
    name: &str,
    addr: u64,
) -> Option<ObjectFact> {
    let o = k.slab_object(addr).ok()??;
    let tracks = k.slab_tracks(&o).ok().flatten();
    let freed_by = tracks
        .as_ref()
        .and_then(|t| t.free.as_ref())
        .map(|t| view(k, ctx, table, t));
    let freer_still_in = freed_by
        .as_ref()
        .filter(|_| o.object_free)
        .and_then(|f| freer_now(k, ctx, table, f));
    Some(ObjectFact {
        name: name.to_string(),
        addr,
        cache: o.cache.name.clone(),
        object: o.object,
        free: o.object_free,
        tracked: tracks.is_some(),
        allocated_by: tracks
            .as_ref()
            .and_then(|t| t.alloc.as_ref())
            .map(|t| view(k, ctx, table, t)),
        freed_by,
        freer_still_in,
    })
}
