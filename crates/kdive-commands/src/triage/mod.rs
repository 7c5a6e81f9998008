//! `triage` (and `kdive triage VMLINUX VMCORE`): the crash's root cause, found without a
//! session of commands. It reads the kernel's fault report from the log, then follows the
//! seed investigation's steps by itself: the exception frame and the faulting instruction, the
//! C expression behind it, the bad pointer and the load it came from, what that slot holds
//! now, the code that stores to the same member, and the tasks caught inside that code or
//! holding the object. Every line is read from the dump and its debug info; where a step
//! cannot be taken, the report says which and why.

mod blocked;
mod object;
mod origin;
mod site;
mod tasks;
mod writers;

use crate::disasm::Namer;
use crate::{CmdError, Report, Session};
use kdive_kernel::oops::{oops_report, FaultKind, OopsReport};
use serde::Serialize;
use serde_json::json;

pub use site::describe_pointer;

/// The bad pointer: the faulting operand's base register and what its value looks like.
#[derive(Debug, Clone, Serialize)]
pub struct BadPointer {
    pub register: String,
    pub value: u64,
    pub looks_like: Option<String>,
}

/// Everything triage found.
#[derive(Debug, Clone, Serialize)]
pub struct Triage {
    /// What identifies this crash across dumps, kernels and boots (for grouping many dumps):
    /// the fault's kind, the faulting function without its offset, the C expression, the
    /// module — no addresses, pids or offsets.
    pub signature: String,
    pub report: Option<OopsReport>,
    pub panic_task: Option<TaskRef>,
    /// The panic task's functions, innermost first.
    pub panic_trace: Vec<String>,
    pub site: Option<site::FaultSite>,
    pub pointer: Option<BadPointer>,
    /// The log's fault address equals the address computed from the saved registers.
    pub address_agrees: Option<bool>,
    pub origin: Option<origin::Origin>,
    /// The slab object behind the bad pointer (or the freed object it was loaded from), with
    /// who allocated and freed it when SLUB kept records.
    pub object: Option<object::ObjectFact>,
    /// The array the pointer was loaded from, as `p` prints it now.
    pub container: Option<String>,
    pub writes: writers::Writes,
    pub involved: Vec<tasks::Involved>,
    /// Hung tasks, what they wait for, and the owners of their locks.
    pub blocked: Vec<blocked::Blocked>,
    /// Tasks whose stack end (STACK_END_MAGIC) is overwritten.
    pub stack_overflows: serde_json::Value,
    /// Debug info loaded on the way, or missing.
    pub notes: Vec<String>,
    pub verdict: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskRef {
    pub pid: i32,
    pub comm: String,
    pub task: u64,
    pub cpu: u32,
}

pub const USAGE: &str = "triage";

pub const DETAILS: &str = "  CRASH..PANIC   the kernel's own fault report, from the log
  TASK, RIP      the panic task and the registers of its exception frame (the log's RIP)
  INSTRUCTION    the faulting instruction; ACCESS: the C expression it evaluates (DWARF)
  ADDRESS        the address computed from the saved registers, checked against the log's
  POINTER        the operand's base register: NULL, poison, non-canonical, a slab object
  LOADED FROM    the load that put the pointer there, its variables, what the slot holds now
  OBJECT         the slab object behind it; FREED BY / ALLOCATED BY when SLUB kept records
  WRITTEN BY     module (or source-file) code storing to the same member; OTHER TASKS: tasks
                 inside that code, or holding the object on their stacks
  BLOCKED        hung tasks: what each waits on; a mutex's owner, owner to owner
  VERDICT        the conclusions, each from the facts above; --json has all of it
";

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    if let Some(a) = args.first() {
        return Err(CmdError::Usage(format!(
            "triage: unexpected argument \"{a}\" (usage: {USAGE})"
        )));
    }
    let t = triage(s)?;
    Ok(Report::new(
        render(&t),
        serde_json::to_value(&t).unwrap_or(json!(null)),
    ))
}

/// Loads the debug info of the module holding `addr` from the default places, when it is not
/// loaded yet; says what happened.
fn ensure_module_debug(s: &mut Session, module: &str) -> Option<String> {
    if s.kernel.module_debug.iter().any(|d| d.name == module) {
        return None;
    }
    let list = s.kernel.modules().ok()?;
    let m = list.modules.into_iter().find(|m| m.name == module)?;
    let dirs = s.kernel.default_module_dirs();
    let found = s
        .kernel
        .find_module_files(std::slice::from_ref(&m.name), &dirs)
        .remove(&m.name)
        .unwrap_or_default();
    if found.is_empty() {
        return Some(format!(
            "no debug info for module {module}: no {module}.ko in {} (load it with `mod -s {module} FILE`)",
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    match s.kernel.load_first_matching(&m, &found) {
        Ok(d) => Some(format!(
            "loaded module {module}'s debug info from {} ({})",
            d.path.display(),
            d.matched_by
        )),
        Err(why) => Some(format!(
            "no debug info for module {module}: {}",
            why.join("; ")
        )),
    }
}

/// Runs every step it can, then draws the conclusions.
pub fn triage(s: &mut Session) -> Result<Triage, CmdError> {
    let mut t = gather(s)?;
    t.verdict = verdict(&t);
    t.signature = signature(&t);
    Ok(t)
}

/// The facts: every step that can be taken on this dump (a damaged one stops early).
fn gather(s: &mut Session) -> Result<Triage, CmdError> {
    let mut notes = Vec::new();
    let report = match s.kernel.printk_log() {
        Ok(log) => oops_report(&log),
        Err(e) => {
            notes.push(format!("log unreadable: {e}"));
            None
        }
    };
    let mut t = Triage {
        signature: String::new(),
        report,
        panic_task: None,
        panic_trace: Vec::new(),
        site: None,
        pointer: None,
        address_agrees: None,
        origin: None,
        object: None,
        container: None,
        writes: Default::default(),
        involved: Vec::new(),
        blocked: Vec::new(),
        stack_overflows: json!(null),
        notes,
        verdict: Vec::new(),
    };
    // A damaged dump may lack the unwinder's tables or the task list: the log's report alone
    // is still worth having.
    let ctx = match crate::bt::stack_context(s) {
        Ok(c) => c,
        Err(e) => {
            t.notes.push(format!("no stacks: {e}"));
            return Ok(t);
        }
    };
    let table = match s.tasks.table(&s.kernel) {
        Ok(tb) => tb,
        Err(e) => {
            t.notes.push(format!("no task list: {e}"));
            return Ok(t);
        }
    };
    let panic = table.panic.clone();
    t.panic_task = panic.as_ref().and_then(|p| {
        let x = table.by_addr(p.task)?;
        Some(TaskRef {
            pid: x.pid,
            comm: x.comm.clone(),
            task: x.addr,
            cpu: p.cpu,
        })
    });
    let kind = t.report.as_ref().map(|r| r.kind.clone());
    if matches!(kind, Some(FaultKind::StackEnd)) {
        match crate::btcheck::stack_overflows(s) {
            Ok(r) => t.stack_overflows = r.json["overflows"].clone(),
            Err(e) => t.notes.push(format!("stack ends unread: {e}")),
        }
    }
    if let Some(FaultKind::HungTask { tasks }) = &kind {
        let pids: Vec<i32> = tasks.iter().map(|h| h.pid).collect();
        t.blocked = blocked::blocked(&s.kernel, &ctx, &table, &pids);
    }
    // The exception frame of the panic task.
    let panic_trace = panic
        .as_ref()
        .and_then(|p| ctx.task_trace(&s.kernel, p.task).ok());
    if let Some(tt) = &panic_trace {
        t.panic_trace = tt
            .trace
            .frames
            .iter()
            .filter_map(|f| ctx.frame_function(&s.kernel, f).map(|n| n.name))
            .collect();
    }
    let log_rip = t.report.as_ref().and_then(|r| r.rip.clone());
    let regs = panic_trace
        .as_ref()
        .and_then(|tt| site::exception_frame(&s.kernel, &ctx, tt, log_rip.as_deref()));
    if let Some(regs) = regs {
        if let Some(m) = ctx.module_of(regs.ip()) {
            let name = m.name.clone();
            if let Some(n) = ensure_module_debug(s, &name) {
                t.notes.push(n);
            }
        }
        let k = &s.kernel;
        let namer = Namer {
            k,
            ctx: Some(ctx.clone()),
        };
        let fs = site::fault_site(k, &ctx, &namer, regs);
        let base = fs
            .insns
            .get(fs.index.unwrap_or(usize::MAX))
            .and_then(|i| i.mem?.base);
        if let Some(b) = base {
            if let Some(v) = fs.regs.dwarf(b) {
                t.pointer = Some(BadPointer {
                    register: site::reg_name(b),
                    value: v,
                    looks_like: describe_pointer(k, v),
                });
            }
        }
        let log_addr = match &kind {
            Some(FaultKind::NullPointer { address } | FaultKind::PageFault { address }) => {
                Some(*address)
            }
            Some(FaultKind::GeneralProtection { address }) => *address,
            _ => None,
        };
        t.address_agrees = match (log_addr, fs.effective_address) {
            (Some(a), Some(e)) => Some(a == e),
            _ => None,
        };
        if let Some(b) = base {
            t.origin = origin::origin(k, &ctx, &namer, &fs, b);
        }
        if let Some(o) = &t.origin {
            t.writes = writers::writers(k, &ctx, &namer, o, fs.function_start);
        }
        t.site = Some(fs);
    }
    // The object the pointer was loaded from: print its array, find who holds it.
    let object = t.origin.as_ref().and_then(|o| {
        let a = o.access.as_ref()?;
        Some((
            a.value?,
            a.pointee.clone(),
            a.expression.clone(),
            a.variable.clone(),
        ))
    });
    if let Some((addr, Some(pointee), expr, var)) = &object {
        if let Some(member) = origin::array_member(expr, var) {
            let e = format!("(({pointee} *){addr:#x}){member}");
            if let Ok(r) = crate::print::run(s, &[], &e) {
                t.container = Some(format!(
                    "{var}{member} = {}",
                    r.text
                        .trim_end()
                        .split_once(" = ")
                        .map_or(r.text.trim_end(), |x| x.1)
                ));
            }
        }
    }
    // The object: the bad pointer's own, else a freed one the pointer was loaded from.
    if let Some(p) = &t.pointer {
        let k = &s.kernel;
        t.object = object::object_fact(k, &ctx, &table, &p.register, p.value).or_else(|| {
            let a = t.origin.as_ref()?.access.as_ref()?;
            object::object_fact(k, &ctx, &table, &a.variable, a.value?).filter(|o| o.free)
        });
    }
    if t.site.is_some() {
        let skip = t.panic_task.as_ref().map_or(0, |p| p.task);
        t.involved = tasks::involved(
            &s.kernel,
            &ctx,
            &table,
            &t.writes,
            object.as_ref().map(|o| o.0),
            skip,
        );
    }
    Ok(t)
}

/// See [`Triage::signature`]: `null_pointer kdive_race_reinit_rings np->txq [kdive_race]`.
fn signature(t: &Triage) -> String {
    let kind = match t.report.as_ref().map(|r| &r.kind) {
        None => return "unknown".into(),
        Some(FaultKind::Panic { reason }) => {
            // The reason's words, numbers and addresses left out.
            let words: Vec<&str> = reason
                .split_whitespace()
                .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
                .collect();
            format!("panic: {}", words.join(" "))
        }
        Some(FaultKind::Bug { location } | FaultKind::Warning { location }) => {
            let what = if matches!(
                t.report.as_ref().map(|r| &r.kind),
                Some(FaultKind::Bug { .. })
            ) {
                "bug"
            } else {
                "warning"
            };
            // "mm/slub.c:321": the file, not the line (it moves between builds).
            format!("{what} {}", location.split(':').next().unwrap_or(location))
        }
        Some(k) => serde_json::to_value(k)
            .ok()
            .and_then(|v| v["kind"].as_str().map(str::to_string))
            .unwrap_or_else(|| "fault".into()),
    };
    let mut parts = vec![kind];
    if let Some(site) = &t.site {
        parts.push(base_name(&site.location).to_string());
        if let Some(a) = &site.access {
            parts.push(a.expression.clone());
        } else if let Some(o) = t.origin.as_ref().and_then(|o| o.access.as_ref()) {
            parts.push(format!("via {}", o.expression));
        }
        if let Some(m) = &site.module {
            parts.push(format!("[{m}]"));
        }
    } else if let Some(f) = t.blocked.iter().find_map(|b| b.waits_in.as_deref()) {
        parts.push(format!("in {}", base_name(f)));
    }
    parts.join(" ")
}

fn kind_text(k: &FaultKind) -> String {
    match k {
        FaultKind::NullPointer { address } => {
            format!("NULL pointer dereference (address {address:#x})")
        }
        FaultKind::PageFault { address } => format!("page fault at {address:#x}"),
        FaultKind::GeneralProtection { address: Some(a) } => {
            format!("general protection fault (non-canonical address {a:#x})")
        }
        FaultKind::GeneralProtection { address: None } => "general protection fault".into(),
        FaultKind::Bug { location } => format!("BUG() at {location}"),
        FaultKind::Warning { location } => format!("WARNING at {location} (panic_on_warn)"),
        FaultKind::SoftLockup {
            cpu,
            seconds,
            comm,
            pid,
        } => format!("soft lockup: CPU {cpu} stuck for {seconds}s in {comm}:{pid}"),
        FaultKind::HardLockup { cpu } => format!("hard lockup on CPU {cpu}"),
        FaultKind::HungTask { tasks } => format!("hung tasks ({} reported)", tasks.len()),
        FaultKind::RcuStall { line } => format!("RCU stall: {line}"),
        FaultKind::Sysrq => "crash requested by SysRq 'c'".into(),
        FaultKind::StackEnd => "kernel stack end overwritten (detected by the scheduler)".into(),
        FaultKind::StackProtector { function } => {
            format!("stack protector: stack corrupted in {function}")
        }
        FaultKind::Panic { reason } => format!("panic: {reason}"),
    }
}

fn src(s: &Option<(String, u32)>) -> String {
    s.as_ref()
        .map(|(f, l)| format!("{}:{l}", f.rsplit('/').next().unwrap_or(f)))
        .unwrap_or_default()
}

/// The conclusions, each built from facts above.
fn verdict(t: &Triage) -> Vec<String> {
    let mut v = Vec::new();
    let Some(r) = &t.report else {
        v.push("the log holds no fault report or panic line".into());
        return v;
    };
    match &r.kind {
        FaultKind::Sysrq => {
            let by_write = t.panic_trace.iter().any(|f| f == "write_sysrq_trigger");
            match &t.panic_task {
                Some(p) if by_write => v.push(format!(
                    "the crash was requested by hand: PID {} ({}) wrote 'c' to /proc/sysrq-trigger; no kernel fault to chase",
                    p.pid, p.comm
                )),
                _ => v.push(
                    "the crash was requested by hand (SysRq 'c'); no kernel fault to chase".into(),
                ),
            }
            return v;
        }
        FaultKind::StackEnd => {
            if let Some(list) = t.stack_overflows.as_array() {
                for o in list {
                    v.push(format!(
                        "PID {} ({}) has its stack end at {} overwritten with {}: a stack overflow, or a stray write into the bottom of its stack",
                        o["pid"], o["comm"].as_str().unwrap_or("?"),
                        o["location"].as_str().unwrap_or("?"), o["value"].as_str().unwrap_or("?")
                    ));
                }
            }
            return v;
        }
        FaultKind::HungTask { .. } => {
            for b in &t.blocked {
                let at = b
                    .waits_in
                    .as_ref()
                    .map(|w| format!(" in {w} ({})", src(&b.source)))
                    .unwrap_or_default();
                match &b.mutex {
                    Some(m) => v.push(format!(
                        "PID {} ({}) waits{at} for mutex {}{:#x}{} owned by PID {} ({})",
                        b.pid,
                        b.comm,
                        m.member
                            .as_ref()
                            .map(|x| format!("{x} = "))
                            .unwrap_or_default(),
                        m.mutex,
                        m.what
                            .as_ref()
                            .map(|w| format!(" ({w})"))
                            .unwrap_or_default(),
                        m.owner_pid.unwrap_or(0),
                        m.owner_comm.as_deref().unwrap_or("?")
                    )),
                    None => v.push(format!(
                        "PID {} ({}, {}) sleeps{at}{}",
                        b.pid,
                        b.comm,
                        b.state,
                        b.waits_on
                            .as_ref()
                            .map(|w| format!(" waiting on a {w}"))
                            .unwrap_or_default()
                    )),
                }
            }
            // The end of each chain: a holder that sleeps on something else.
            for b in &t.blocked {
                if b.mutex.is_some() {
                    continue;
                }
                let held: Vec<String> = t
                    .blocked
                    .iter()
                    .filter_map(|w| w.mutex.as_ref())
                    .filter(|m| m.owner_task == b.task)
                    .map(|m| {
                        m.member
                            .clone()
                            .unwrap_or_else(|| format!("{:#x}", m.mutex))
                    })
                    .collect();
                if held.is_empty() {
                    continue;
                }
                v.push(format!(
                    "PID {} ({}) holds {} while it sleeps{}{}: the tasks waiting for it hang until that wait ends",
                    b.pid,
                    b.comm,
                    held.join(", "),
                    b.waits_on.as_ref().map(|w| format!(" on a {w}")).unwrap_or_default(),
                    b.waits_in.as_ref().map(|w| format!(" in {w}")).unwrap_or_default(),
                ));
            }
            // A holder that waits for a lock its waiter holds: a deadlock.
            for b in &t.blocked {
                let Some(m) = &b.mutex else { continue };
                let mut owner = m.owner_task;
                for _ in 0..t.blocked.len() {
                    let Some(o) = t.blocked.iter().find(|x| x.task == owner) else {
                        break;
                    };
                    let Some(om) = &o.mutex else { break };
                    if om.owner_task == b.task {
                        v.push(format!(
                            "deadlock: PID {} and PID {} each wait for a mutex the other holds",
                            b.pid, o.pid
                        ));
                        break;
                    }
                    owner = om.owner_task;
                }
            }
            return v;
        }
        _ => {}
    }
    let (Some(site), Some(p)) = (&t.site, &t.pointer) else {
        return v;
    };
    let what = match (&site.access, site.effective_address) {
        (Some(a), _) => a.expression.clone(),
        (None, Some(e)) => format!("memory at {e:#x}"),
        (None, None) => "memory".to_string(),
    };
    let ptr = p
        .looks_like
        .clone()
        .unwrap_or_else(|| format!("{:#x}", p.value));
    let var = site.access.as_ref().map(|a| a.variable.clone());
    let verb = match r.access.as_deref() {
        Some(a) if a.contains("instruction fetch") => "jumped to",
        Some(a) if a.contains("write") => "wrote",
        _ if site.writes_memory => "wrote",
        _ => "read",
    };
    v.push(format!(
        "{} {verb} {what} in {} ({}) with {} = {ptr}",
        t.panic_task.as_ref().map_or_else(
            || "the CPU".into(),
            |p| format!("PID {} ({})", p.pid, p.comm)
        ),
        site.location,
        src(&site.source),
        var.as_deref().unwrap_or(&p.register),
    ));
    if let Some(o) = &t.origin {
        if let Some(a) = &o.access {
            let now = match o.slot_now {
                Some(0) => " and it is still NULL in the dump".to_string(),
                Some(x) if x == p.value => format!(" and it still holds {x:#x}"),
                Some(x) => format!(" but it holds {x:#x} now (changed after the load)"),
                None => String::new(),
            };
            v.push(format!(
                "{} came from {} at {} ({}){now}",
                var.as_deref().unwrap_or(&p.register),
                a.expression,
                o.location,
                src(&o.source)
            ));
        }
    }
    if let Some(o) = &t.object {
        v.push(format!(
            "{} = {:#x} lies in {} {} object {:#x}{}",
            o.name,
            o.addr,
            if o.free { "a FREE" } else { "an allocated" },
            o.cache,
            o.object,
            if o.free {
                ": the code used memory already freed (a use after free)"
            } else {
                ""
            }
        ));
        if let Some(f) = &o.freed_by {
            v.push(format!(
                "it was freed by PID {}{} on CPU {} in {}{}",
                f.pid,
                f.comm
                    .as_ref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default(),
                f.cpu,
                f.caller,
                f.ms_before_dump
                    .map(|ms| format!(", {ms} ms before the dump"))
                    .unwrap_or_default()
            ));
            if let Some(n) = &o.freer_still_in {
                let panicked = t
                    .panic_task
                    .as_ref()
                    .map(|p| format!("PID {} ({})", p.pid, p.comm))
                    .unwrap_or_else(|| "the faulting task".into());
                v.push(format!(
                    "PID {} ({}, {}) is still inside {}, the path that freed it (now in {}): {panicked} used the object after that path freed it — the two paths race",
                    n.pid,
                    n.comm,
                    n.state,
                    base_name(&n.function),
                    n.trace.iter().find(|f| !is_sleep(f)).map_or("?", String::as_str)
                ));
            }
        } else if o.free && !o.tracked {
            v.push(format!(
                "SLUB kept no alloc/free records for {} (boot with slub_debug=U to have them next time)",
                o.cache
            ));
        }
    }
    let nulls: Vec<&writers::Writer> = t
        .writes
        .stores
        .iter()
        .filter(|w| w.stores_null == (p.value < 0x1000))
        .collect();
    for w in &nulls {
        let inl = w
            .inlined
            .first()
            .map(|f| format!(" (in {f}, inlined)"))
            .unwrap_or_default();
        v.push(format!(
            "{} = {} is stored at {}{inl} ({})",
            w.expression,
            w.stores,
            w.location,
            src(&w.source)
        ));
    }
    for i in &t.involved {
        let Some(w) = &i.in_writer else { continue };
        // Only stores of the kind of value that faulted (NULL for a NULL pointer) explain it.
        if !nulls.iter().any(|n| n.location == w.store) {
            continue;
        }
        v.push(format!(
            "PID {} ({}, {}) is in {}, {}{}",
            i.pid,
            i.comm,
            i.state,
            w.at,
            w.how,
            match (&t.panic_task, w.past) {
                (Some(p), true) => format!(
                    ": this path had already cleared the pointer that PID {} ({}) then loaded — the two paths race",
                    p.pid, p.comm
                ),
                _ => String::new(),
            }
        ));
    }
    v
}

fn base_name(n: &str) -> &str {
    n.split('+').next().unwrap_or(n)
}

/// The scheduler's own functions at the top of a sleeping task's trace.
fn is_sleep(f: &str) -> bool {
    let f = f.split('.').next().unwrap_or(f);
    matches!(
        f,
        "__schedule" | "schedule" | "schedule_timeout" | "__wait_for_common" | "wait_for_common"
    )
}

/// The first `n` functions of a trace, innermost first: `  a < b < c`.
fn chain(trace: &[String], n: usize) -> String {
    let shown: Vec<&str> = trace.iter().take(n).map(String::as_str).collect();
    format!("  {}", shown.join(" < "))
}

fn hex(v: Option<u64>) -> String {
    v.map_or_else(|| "?".into(), |x| format!("{x:#x}"))
}

/// The report as text: crash `sys`-style labels, then the verdict.
pub fn render(t: &Triage) -> String {
    let mut o = String::new();
    let mut line = |label: &str, text: String| {
        if text.is_empty() {
        } else if label.is_empty() {
            o.push_str(&format!("{:14}{text}\n", ""));
        } else {
            o.push_str(&format!("{label:>12}: {text}\n"));
        }
    };
    line("SIGNATURE", t.signature.clone());
    match &t.report {
        Some(r) => {
            line("CRASH", kind_text(&r.kind));
            line("REPORT", r.headline.clone());
            if let Some(a) = &r.access {
                line("", format!("#PF: {a}"));
            }
            if let Some(e) = &r.error_code {
                line("", format!("#PF: {e}"));
            }
            if let Some(x) = &r.oops {
                line("OOPS", x.clone());
            }
            if let Some(p) = &r.panic_reason {
                line("PANIC", format!("\"{p}\""));
            }
            if let Some(w) = &r.workqueue {
                line("WORKQUEUE", w.clone());
            }
            if let Some(m) = &r.modules {
                line("MODULES", m.clone());
            }
        }
        None => line("CRASH", "no fault report in the log".into()),
    }
    if let Some(p) = &t.panic_task {
        line(
            "TASK",
            format!(
                "PID {}  COMMAND \"{}\"  TASK {:x}  CPU {}",
                p.pid, p.comm, p.task, p.cpu
            ),
        );
    }
    if let Some(sf) = &t.site {
        let m = sf
            .module
            .as_ref()
            .map(|m| format!(" [{m}]"))
            .unwrap_or_default();
        line("RIP", format!("{}{m}  ({:#x})", sf.location, sf.rip));
        line("SOURCE", src(&sf.source));
        if let Some(i) = &sf.instruction {
            line("INSTRUCTION", i.clone());
        }
        if let Some(a) = &sf.access {
            let ty = a
                .pointee
                .as_ref()
                .map(|p| format!("; {} is {p} *", a.variable))
                .unwrap_or_default();
            line("ACCESS", format!("{}  ({}{ty})", a.expression, a.how));
        }
        if let Some(e) = sf.effective_address {
            let agree = match t.address_agrees {
                Some(true) => " = the fault address the log reports",
                Some(false) => " (differs from the fault address the log reports)",
                None => "",
            };
            line("ADDRESS", format!("{e:#x}{agree}"));
        }
    }
    if let Some(p) = &t.pointer {
        line(
            "POINTER",
            format!(
                "{} = {:#x}{}",
                p.register,
                p.value,
                p.looks_like
                    .as_ref()
                    .map(|l| format!(": {l}"))
                    .unwrap_or_default()
            ),
        );
    }
    if let Some(og) = &t.origin {
        let what = og.access.as_ref().map_or_else(
            || og.instruction.clone(),
            |a| format!("{} ({})", a.expression, a.how),
        );
        line(
            "LOADED FROM",
            format!("{what} at {} ({})", og.location, src(&og.source)),
        );
        line("", og.instruction.clone());
        if let Some(a) = &og.access {
            if let Some(v) = a.value {
                let ty = a
                    .pointee
                    .as_ref()
                    .map(|p| format!(" ({p} *)"))
                    .unwrap_or_default();
                line("", format!("{} = {v:#x}{ty}", a.variable));
            }
        }
        if let Some(ix) = &og.index {
            line("", ix.clone());
        }
        if let Some(slot) = og.slot {
            line("", format!("slot {slot:#x} holds {} now", hex(og.slot_now)));
        }
    }
    if let Some(c) = &t.container {
        line("NOW", c.clone());
    }
    if let Some(o) = &t.object {
        line(
            "OBJECT",
            format!(
                "{} = {:#x}: {} {} object {:#x}",
                o.name,
                o.addr,
                if o.free { "FREE" } else { "allocated" },
                o.cache,
                o.object
            ),
        );
        for (label, tv) in [("FREED BY", &o.freed_by), ("ALLOCATED BY", &o.allocated_by)] {
            let Some(tv) = tv else { continue };
            line(
                label,
                format!(
                    "PID {}{} on CPU {} in {}{}",
                    tv.pid,
                    tv.comm
                        .as_ref()
                        .map(|c| format!(" {c}"))
                        .unwrap_or_default(),
                    tv.cpu,
                    tv.caller,
                    tv.ms_before_dump
                        .map(|ms| format!(", {ms} ms before the dump"))
                        .unwrap_or_default()
                ),
            );
            if !tv.stack.is_empty() {
                line("", chain(&tv.stack, 10));
            }
        }
    }
    for (n, w) in t.writes.stores.iter().enumerate() {
        let inl = if w.inlined.is_empty() {
            String::new()
        } else {
            format!(" (inlined {})", w.inlined.join(" < "))
        };
        line(
            if n == 0 { "WRITTEN BY" } else { "" },
            format!(
                "{} = {}  at {}{inl} ({})",
                w.expression,
                w.stores,
                w.location,
                src(&w.source)
            ),
        );
    }
    for (n, i) in t.involved.iter().enumerate() {
        let mut why = Vec::new();
        if let Some(w) = &i.in_writer {
            why.push(format!("in {}, {}", w.at, w.how));
        }
        if !i.holds_object.is_empty() {
            why.push(format!(
                "holds the object on its stack at {}",
                i.holds_object
                    .iter()
                    .map(|a| format!("{a:x}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        line(
            if n == 0 { "OTHER TASKS" } else { "" },
            format!("PID {} {} {}: {}", i.pid, i.comm, i.state, why.join("; ")),
        );
        if !i.trace.is_empty() {
            line("", chain(&i.trace, 8));
        }
    }
    for (n, b) in t.blocked.iter().enumerate() {
        let how = match &b.mutex {
            Some(m) => format!(
                "waits for mutex {}{:#x} owned by PID {} {}",
                m.member
                    .as_ref()
                    .map(|x| format!("{x} = "))
                    .unwrap_or_default(),
                m.mutex,
                m.owner_pid.unwrap_or(0),
                m.owner_comm.as_deref().unwrap_or("?")
            ),
            None => b
                .waits_on
                .as_ref()
                .map_or_else(|| "sleeps".into(), |w| format!("sleeps on a {w}")),
        };
        line(
            if n == 0 { "BLOCKED" } else { "" },
            format!("PID {} {} {}: {how}", b.pid, b.comm, b.state),
        );
        if let Some(w) = &b.waits_in {
            line("", format!("  in {w} ({})", src(&b.source)));
        }
        if !b.trace.is_empty() {
            line("", chain(&b.trace, 8));
        }
    }
    for n in &t.notes {
        line("NOTE", n.clone());
    }
    if !t.verdict.is_empty() {
        o.push_str("\nVERDICT\n");
        for v in &t.verdict {
            o.push_str(&format!("  - {v}\n"));
        }
    }
    o
}
