//! Tasks caught in the act: those whose stacks are inside a function that writes the bad
//! pointer (and whether they are past the write), and those whose stacks hold the object the
//! pointer was loaded from.

use super::writers::Writes;
use crate::context::TaskTable;
use kdive_kernel::stack::StackContext;
use kdive_kernel::Kernel;
use kdive_unwind::StackKind;
use serde::Serialize;

/// Bound on tasks examined.
const MAX_TASKS: usize = 100_000;
/// Bound on stack bytes read per task.
const MAX_STACK: u64 = 64 * 1024;

/// One task with a part in the story.
#[derive(Debug, Clone, Serialize)]
pub struct Involved {
    pub pid: i32,
    pub comm: String,
    pub task: u64,
    /// crash's state code (`UN`, `RU`).
    pub state: String,
    /// Its frame inside a function that stores the pointer or calls one that does.
    pub in_writer: Option<WriterFrame>,
    /// Stack addresses holding the object's address.
    pub holds_object: Vec<u64>,
    /// Its trace, function names only, innermost first.
    pub trace: Vec<String>,
}

/// A frame inside code that writes the pointer.
#[derive(Debug, Clone, Serialize)]
pub struct WriterFrame {
    /// `kdive_race_remove+138`.
    pub at: String,
    /// The frame's address lies after the store, or after the call leading to it: the task
    /// has been through it.
    pub past: bool,
    /// `past its call to kdive_race_free_napis+0 (which stores it at kdive_race_free_napis+69)`.
    pub how: String,
    /// The store it concerns (its location).
    pub store: String,
}

/// Where frame address `pc` stands relative to the writes: inside a storing function, or a
/// function calling one.
fn writer_frame(writes: &Writes, pc: u64, at: String) -> Option<WriterFrame> {
    let inside = |f: (u64, u64)| pc >= f.0 && pc < f.1;
    let stores: Vec<_> = writes
        .stores
        .iter()
        .filter(|w| inside(w.function))
        .collect();
    if !stores.is_empty() {
        let past = stores.iter().find(|w| pc > w.addr);
        let w = past.unwrap_or(&stores[0]);
        let how = format!(
            "{} the store at {}",
            if past.is_some() { "past" } else { "before" },
            w.location
        );
        return Some(WriterFrame {
            at,
            past: past.is_some(),
            how,
            store: w.location.clone(),
        });
    }
    let calls: Vec<_> = writes.calls.iter().filter(|c| inside(c.function)).collect();
    let first = calls.first()?;
    let past = calls.iter().find(|c| pc > c.addr);
    let c = past.unwrap_or(first);
    let how = format!(
        "{} its call to {} (which leads to the store at {})",
        if past.is_some() { "past" } else { "before" },
        c.callee,
        c.leads_to
    );
    Some(WriterFrame {
        at,
        past: past.is_some(),
        how,
        store: c.leads_to.clone(),
    })
}

/// The tasks inside the writers' functions, and those holding `object` on their stacks.
pub fn involved(
    k: &Kernel,
    ctx: &StackContext,
    table: &TaskTable,
    writes: &Writes,
    object: Option<u64>,
    skip_task: u64,
) -> Vec<Involved> {
    let states = &table.states;
    let mut out = Vec::new();
    for t in table.tasks.iter().take(MAX_TASKS) {
        if t.addr == skip_task || t.idle {
            continue;
        }
        let mut in_writer = None;
        let mut trace = Vec::new();
        if !writes.stores.is_empty() {
            if let Ok(tt) = ctx.task_trace(k, t.addr) {
                for f in &tt.trace.frames {
                    let name = ctx.frame_function(k, f);
                    if let Some(n) = &name {
                        trace.push(n.name.clone());
                    }
                    if in_writer.is_some() {
                        continue;
                    }
                    let at = name.map_or_else(|| format!("{:#x}", f.pc), |n| n.with_offset());
                    in_writer = writer_frame(writes, f.pc, at);
                }
            }
        }
        let holds_object = object
            .map(|o| stack_words_equal(k, ctx, t.addr, t.cpu, o))
            .unwrap_or_default();
        if in_writer.is_none() && holds_object.is_empty() {
            continue;
        }
        if trace.is_empty() {
            if let Ok(tt) = ctx.task_trace(k, t.addr) {
                trace = tt
                    .trace
                    .frames
                    .iter()
                    .filter_map(|f| ctx.frame_function(k, f).map(|n| n.name))
                    .collect();
            }
        }
        out.push(Involved {
            pid: t.pid,
            comm: t.comm.clone(),
            task: t.addr,
            state: states.crash_code(t).to_string(),
            in_writer,
            holds_object,
            trace,
        });
    }
    // Tasks inside a writer first.
    out.sort_by_key(|i| (i.in_writer.is_none(), i.pid));
    out
}

/// The task's own kernel stack: its lowest address and its bytes (at most [`MAX_STACK`]).
pub fn task_stack(k: &Kernel, ctx: &StackContext, task: u64, cpu: u32) -> Option<(u64, Vec<u8>)> {
    let r = ctx
        .stacks(k, task, cpu)
        .into_iter()
        .find(|r| r.kind == StackKind::Task)?;
    let len = r.hi.saturating_sub(r.lo).min(MAX_STACK);
    let mut buf = vec![0u8; len as usize];
    k.read(r.lo, &mut buf, "task stack").ok()?;
    Some((r.lo, buf))
}

/// The stack words of `stack` (from [`task_stack`]) with their addresses.
pub fn words(lo: u64, stack: &[u8]) -> impl Iterator<Item = (u64, u64)> + '_ {
    stack.chunks_exact(8).enumerate().map(move |(i, w)| {
        (
            lo + 8 * i as u64,
            u64::from_le_bytes(w.try_into().unwrap_or([0; 8])),
        )
    })
}

/// Addresses in the task's own kernel stack holding `value`.
fn stack_words_equal(k: &Kernel, ctx: &StackContext, task: u64, cpu: u32, value: u64) -> Vec<u64> {
    let Some((lo, buf)) = task_stack(k, ctx, task, cpu) else {
        return Vec::new();
    };
    words(lo, &buf)
        .filter(|(_, w)| *w == value)
        .map(|(a, _)| a)
        .collect()
}
