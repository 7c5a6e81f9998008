//! Hung tasks: where each blocked task sleeps, and, when it waits for a mutex, which mutex
//! and which task owns it (followed from owner to owner, so a chain or a deadlock shows).
//!
//! The mutex is found without debug info for the waiting frame: a sleeping `mutex_lock` keeps
//! its `struct mutex_waiter` on the waiter's stack (`waiter.task` = the task), linked into the
//! mutex's `wait_list`; the list node whose container has a task as `owner` is the mutex.

use crate::context::TaskTable;
use kdive_kernel::addr::AddrExt;
use kdive_kernel::stack::StackContext;
use kdive_kernel::Kernel;
use kdive_unwind::StackKind;
use serde::Serialize;

/// Bound on wait-list nodes followed.
const MAX_WAITERS: usize = 4096;
/// Bound on owner-to-owner steps.
const MAX_CHAIN: usize = 16;
/// Functions of the sleeping machinery, skipped to find where a task waits.
const SLEEP_FUNCTIONS: &[&str] = &[
    "__schedule",
    "schedule",
    "schedule_timeout",
    "schedule_preempt_disabled",
    "io_schedule",
    "io_schedule_timeout",
    "__wait_for_common",
    "wait_for_common",
    "wait_for_completion",
    "wait_for_completion_timeout",
    "wait_for_completion_killable",
    "wait_for_completion_interruptible",
];

/// One blocked task and what it waits for.
#[derive(Debug, Clone, Serialize)]
pub struct Blocked {
    pub pid: i32,
    pub comm: String,
    pub task: u64,
    pub state: String,
    /// The first function outside the sleeping machinery, `kdive_race_set_config+25`.
    pub waits_in: Option<String>,
    /// The source line of that frame's call.
    pub source: Option<(String, u32)>,
    /// What it waits with: `mutex`, `completion`, `rwsem`, `schedule_timeout`…
    pub waits_on: Option<String>,
    /// The mutex it waits for, and its owner.
    pub mutex: Option<MutexWait>,
    pub trace: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MutexWait {
    pub mutex: u64,
    /// The mutex as a member of an object the waiting function's parameters point to:
    /// `priv->cfg_mutex`.
    pub member: Option<String>,
    /// A symbol, or the slab object holding it.
    pub what: Option<String>,
    pub owner_pid: Option<i32>,
    pub owner_comm: Option<String>,
    pub owner_task: u64,
}

/// The mutex a task sleeps on, from its stack-resident waiter.
fn mutex_waited(
    k: &Kernel,
    ctx: &StackContext,
    table: &TaskTable,
    stacks: &[(u64, u64)],
    task: u64,
    cpu: u32,
) -> Option<MutexWait> {
    let l = &k.layout;
    let w_task = l.offset("mutex_waiter", "task").ok()?;
    let w_list = l.offset("mutex_waiter", "list").ok()?;
    let m_wait = l.offset("mutex", "wait_list").ok()?;
    let m_owner = l.offset("mutex", "owner").ok()?;
    let (lo, buf) = super::tasks::task_stack(k, ctx, task, cpu)?;
    for (at, w) in super::tasks::words(lo, &buf) {
        if w != task {
            continue;
        }
        let Some(waiter) = at.checked_sub(w_task) else {
            continue;
        };
        let head = waiter.off(w_list);
        let mut node = head;
        for _ in 0..MAX_WAITERS {
            let Ok(next) = k.read_u64(node, "mutex_waiter.list.next") else {
                break;
            };
            if next == head || next == 0 {
                break;
            }
            node = next;
            // Other waiters' nodes lie on their tasks' stacks; the mutex does not.
            if stacks.iter().any(|(lo, hi)| node >= *lo && node < *hi) {
                continue;
            }
            let Some(m) = node.checked_sub(m_wait) else {
                continue;
            };
            let Ok(owner) = k.read_u64(m.off(m_owner), "mutex.owner") else {
                continue;
            };
            // The low bits of owner are flags (MUTEX_FLAG_*).
            let owner = owner & !0x7;
            if let Some(o) = table.by_addr(owner) {
                return Some(MutexWait {
                    mutex: m,
                    member: None,
                    what: name_of(k, m),
                    owner_pid: Some(o.pid),
                    owner_comm: Some(o.comm.clone()),
                    owner_task: owner,
                });
            }
        }
    }
    None
}

/// Bound on the bytes of a pointee searched for the mutex member.
const MAX_OBJECT: u64 = 64 * 1024;

/// The mutex as `var->member`: a pointer variable of the waiting function whose pointee type
/// has, at some offset, a member with a `wait_list` where a `struct mutex` has one, such that
/// the object it would start at (mutex - offset) is a value on the waiting task's stack (the
/// pointer the function holds, saved by its callees).
fn mutex_member(k: &Kernel, pc: u64, mutex: u64, stack: &[u64]) -> Option<String> {
    let wait_list = k.layout.offset("mutex", "wait_list").ok()?;
    let (dw, a) = crate::annotate::dwarf_for(k, pc)?;
    let f = dw.function_locals(a)?;
    for v in f.at(a) {
        let Some(t) = v.type_die else { continue };
        let Some(size) = dw
            .pointee_member(t, 0)
            .filter(|p| p.pointee_is_composite)
            .and_then(|p| p.pointee_size)
        else {
            continue;
        };
        for off in (0..size.min(MAX_OBJECT)).step_by(8) {
            let Some(base) = mutex.checked_sub(off) else {
                break;
            };
            if !stack.contains(&base) {
                continue;
            }
            let (Some(p), Some(q)) = (
                dw.pointee_member(t, off),
                dw.pointee_member(t, off + wait_list),
            ) else {
                continue;
            };
            // Both paths go down to the innermost member: the mutex is their common prefix,
            // followed by `wait_list` on the second.
            let common = p
                .steps
                .iter()
                .zip(&q.steps)
                .take_while(|(a, b)| a == b)
                .count();
            let wait = kdive_debuginfo::dwarf::MemberStep::Field("wait_list".into());
            if common > 0 && p.rest == 0 && q.steps.get(common) == Some(&wait) {
                return Some(format!("{}->{}", v.name, steps_text(&p.steps[..common])));
            }
        }
    }
    None
}

fn steps_text(steps: &[kdive_debuginfo::dwarf::MemberStep]) -> String {
    use kdive_debuginfo::dwarf::MemberStep;
    let mut s = String::new();
    for st in steps {
        match st {
            MemberStep::Field(f) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(f);
            }
            MemberStep::Elem { index, .. } => s.push_str(&format!("[{index}]")),
        }
    }
    s
}

/// A symbol holding `addr`, else the slab object it lies in.
fn name_of(k: &Kernel, addr: u64) -> Option<String> {
    if let Some((s, off)) = k.symbols.lookup_addr(addr) {
        if off < s.size.max(1) {
            return Some(if off == 0 {
                s.name.to_string()
            } else {
                format!("{}+{off}", s.name)
            });
        }
    }
    match k.slab_object(addr) {
        Ok(Some(o)) => Some(format!(
            "in {} object {:#x} (+{:#x})",
            o.cache.name,
            o.object,
            addr - o.object
        )),
        _ => None,
    }
}

/// How a task sleeps, from the functions on its trace.
fn wait_kind(trace: &[String]) -> Option<String> {
    let has = |p: &str| trace.iter().any(|f| f.starts_with(p));
    Some(
        if has("__mutex_lock") || has("mutex_lock") {
            "mutex"
        } else if has("rwsem_down") || has("down_read") || has("down_write") {
            "rw_semaphore"
        } else if has("__wait_for_common") || has("wait_for_completion") {
            "completion"
        } else if has("__down") {
            "semaphore"
        } else if has("io_schedule") {
            "I/O"
        } else if has("schedule_timeout") {
            "timeout"
        } else {
            return None;
        }
        .to_string(),
    )
}

/// Each hung task (by pid) with its wait, then the owners they lead to.
pub fn blocked(k: &Kernel, ctx: &StackContext, table: &TaskTable, pids: &[i32]) -> Vec<Blocked> {
    let mut out: Vec<Blocked> = Vec::new();
    let mut queue: Vec<u64> = pids
        .iter()
        .filter_map(|p| table.tasks.iter().find(|t| t.pid == *p).map(|t| t.addr))
        .collect();
    let stacks: Vec<(u64, u64)> = table
        .tasks
        .iter()
        .filter_map(|t| {
            let r = ctx
                .stacks(k, t.addr, t.cpu)
                .into_iter()
                .find(|r| r.kind == StackKind::Task)?;
            Some((r.lo, r.hi))
        })
        .collect();
    let mut steps = 0;
    while let Some(task) = queue.first().copied() {
        queue.remove(0);
        if out.iter().any(|b| b.task == task) || steps > pids.len() + MAX_CHAIN {
            continue;
        }
        steps += 1;
        let Some(t) = table.by_addr(task) else {
            continue;
        };
        let mut trace = Vec::new();
        let mut waits_in = None;
        let mut waiter_pc = None;
        let mut source = None;
        if let Ok(tt) = ctx.task_trace(k, task) {
            for f in &tt.trace.frames {
                let Some(n) = ctx.frame_function(k, f) else {
                    continue;
                };
                let base = n.name.split('.').next().unwrap_or(&n.name).to_string();
                let sleeping = SLEEP_FUNCTIONS.contains(&base.as_str())
                    || base.contains("mutex_lock")
                    || base.starts_with("rwsem_down")
                    || base.starts_with("__down");
                if waits_in.is_none() && !sleeping {
                    waits_in = Some(n.with_offset());
                    waiter_pc = Some(f.pc.saturating_sub(1));
                    // A return address: the call is the byte before it.
                    source = crate::disasm::source_line(k, f.pc.saturating_sub(1));
                }
                trace.push(n.name);
            }
        }
        let waits_on = wait_kind(&trace);
        let mutex = (waits_on.as_deref() == Some("mutex"))
            .then(|| mutex_waited(k, ctx, table, &stacks, task, t.cpu))
            .flatten();
        if let Some(m) = &mutex {
            queue.push(m.owner_task);
        }
        let mutex = mutex.map(|mut m| {
            let stack: Vec<u64> = super::tasks::task_stack(k, ctx, task, t.cpu)
                .map(|(lo, b)| super::tasks::words(lo, &b).map(|(_, w)| w).collect())
                .unwrap_or_default();
            m.member = waiter_pc.and_then(|pc| mutex_member(k, pc, m.mutex, &stack));
            m
        });
        out.push(Blocked {
            pid: t.pid,
            comm: t.comm.clone(),
            task,
            state: table.states.crash_code(t).to_string(),
            waits_in,
            source,
            waits_on,
            mutex,
            trace,
        });
    }
    out
}
