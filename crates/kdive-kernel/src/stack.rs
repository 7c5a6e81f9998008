//! Stacks of tasks: the unwind tables of this kernel (vmlinux or in-memory ORC, module ORC from
//! `struct module`, `.debug_frame`), the stacks a task may use, its starting registers (CPU notes
//! for tasks running at the crash, `thread.sp` + `inactive_task_frame` for sleeping ones), and
//! names for addresses in modules.

use crate::list::walk_list;
use crate::{AddrExt, Error, Kernel, Result};
use kdive_debuginfo::{SymbolDef, SymbolKind, SymbolTable};
use kdive_dumpfile::CpuRegisters;
use kdive_unwind::{
    CfiTable, OrcFormat, OrcTable, PtRegs, PtRegsLayout, Reg, RegisterSet, StackKind, StackRegion,
    Start, Trace, UnwindEnv, Unwinder,
};

/// Upper bound on modules walked.
const MAX_MODULES: usize = 10_000;
/// Upper bound on one module's symbols.
const MAX_MODULE_SYMS: u64 = 1 << 20;
/// Upper bound on one stack region scanned whole (kernel stacks are 16 KiB, IST stacks less).
const MAX_STACK: u64 = 1 << 20;

/// A loaded module, as far as stacks need it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModuleText {
    pub name: String,
    pub addr: u64,
    /// `[start, end)` of its core text.
    pub text: (u64, u64),
    pub orc_entries: usize,
}

/// Unwind tables and symbol knowledge for one kernel; build once, use for every task.
pub struct StackContext {
    pub unwinder: Unwinder,
    pub modules: Vec<ModuleText>,
    /// Symbols of every module (`module` set), from their in-memory kallsyms.
    pub module_symbols: SymbolTable,
    pub thread_size: u64,
    /// Kernel text `[_stext, _etext)`.
    kernel_text: (u64, u64),
    ret_from_fork: Vec<u64>,
    /// `inactive_task_frame`: size, offset of bp, offset of ret_addr.
    itf: (u64, u64, u64),
    thread_sp_off: u64,
    stack_off: u64,
    /// Where the tables came from ("ORC: vmlinux (368456 entries)", ...).
    pub sources: Vec<String>,
}

/// How a task's trace started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum StartKind {
    /// Saved context of a task not running at the crash.
    Sleeping,
    /// Registers of the CPU it ran on, unwound from the crash/NMI handler frames that saved them.
    CpuNote,
    /// Registers of the CPU it ran on, used as they are.
    CpuNoteRegs,
}

/// A task's stack trace.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TaskTrace {
    pub task: u64,
    pub cpu: u32,
    pub active: bool,
    pub start: StartKind,
    /// The CPU note's registers, for active tasks.
    pub note_regs: Option<PtRegs>,
    pub trace: Trace,
}

/// A symbolised address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeName {
    pub name: String,
    pub offset: u64,
    pub module: Option<String>,
}

impl CodeName {
    /// `name+off` (crash prints `name` alone at offset 0).
    pub fn with_offset(&self) -> String {
        if self.offset == 0 {
            self.name.clone()
        } else {
            format!("{}+{}", self.name, self.offset)
        }
    }
}

struct Env<'a> {
    k: &'a Kernel,
    ctx: &'a StackContext,
}

impl UnwindEnv for Env<'_> {
    fn read_u64(&self, addr: u64) -> Option<u64> {
        self.k.mem.read_u64(addr).ok()
    }
    fn is_text(&self, pc: u64) -> bool {
        self.ctx.is_text(pc)
    }
}

/// pt_regs values from a CPU note, in `struct pt_regs` order.
pub fn note_pt_regs(r: &CpuRegisters) -> PtRegs {
    PtRegs::from_values([
        r.r15, r.r14, r.r13, r.r12, r.rbp, r.rbx, r.r11, r.r10, r.r9, r.r8, r.rax, r.rcx, r.rdx,
        r.rsi, r.rdi, r.orig_rax, r.rip, r.cs, r.eflags, r.rsp, r.ss,
    ])
}

impl StackContext {
    /// Builds the unwind tables: ORC from the vmlinux file when given (else from memory via
    /// kallsyms symbols), module ORC from memory, and `.debug_frame` from the vmlinux.
    pub fn new(k: &Kernel) -> Result<StackContext> {
        let l = &k.layout;
        let pt = PtRegsLayout::from_lookup(l.struct_size("pt_regs").ok(), |m| {
            l.offset("pt_regs", m).ok()
        });
        let mut unwinder = Unwinder::new(pt);
        let mut sources = Vec::new();
        let release = k.vmcoreinfo.osrelease().unwrap_or("");
        let mut format = OrcFormat::for_release(release);
        let kaslr = k.vmcoreinfo.kernel_offset().unwrap_or(0);
        let mut kernel_orc = None;
        if let Some(path) = &k.vmlinux {
            if let Ok(elf) = kdive_debuginfo::VmlinuxElf::open(path) {
                if elf.section(".orc_header").is_some() {
                    format = OrcFormat::V2;
                }
                if let (Some(ips), Some(ents), Some(sec)) = (
                    elf.section_data(".orc_unwind_ip"),
                    elf.section_data(".orc_unwind"),
                    elf.section(".orc_unwind_ip"),
                ) {
                    match OrcTable::parse("vmlinux", sec.addr.off(kaslr), ips, ents, format) {
                        Ok(t) => {
                            sources.push(format!("ORC: {} ({} entries)", path.display(), t.len()));
                            kernel_orc = Some(t);
                        }
                        Err(e) => sources.push(format!("ORC in {}: {e}", path.display())),
                    }
                }
                if std::env::var_os("KDIVE_NO_CFI").is_none() {
                    if let Some(df) = elf.section_data(".debug_frame") {
                        if let Ok(t) = CfiTable::parse(df.to_vec(), kaslr) {
                            sources.push(format!("CFI: .debug_frame ({} FDEs)", t.len()));
                            unwinder.set_cfi(t);
                        }
                    }
                }
            }
        }
        if kernel_orc.is_none() {
            match orc_from_memory(k, format) {
                Ok(t) => {
                    sources.push(format!("ORC: kernel memory ({} entries)", t.len()));
                    kernel_orc = Some(t);
                }
                Err(e) => sources.push(format!("no kernel ORC: {e}")),
            }
        }
        if let Some(t) = kernel_orc {
            unwinder.set_kernel_orc(t);
            // An ORC kernel is built without frame pointers: rbp is a general register there,
            // and following it invents frames. Frame pointers only when there is no ORC.
            unwinder.methods.frame_pointer = false;
        }
        let (modules, module_symbols, tables) = read_modules(k, Some(format));
        for (text, t) in tables {
            unwinder.add_module_orc_for_text(text, t);
        }
        if !modules.is_empty() {
            sources.push(format!("ORC: {} modules from memory", modules.len()));
        }
        let sym = |n: &str| k.symbols.lookup(n).map(|s| s.addr);
        let kernel_text = (
            sym("_stext").or(sym("_text")).unwrap_or(0),
            sym("_etext").unwrap_or(u64::MAX),
        );
        let thread_size = thread_size(k);
        let itf_size = l.struct_size("inactive_task_frame").unwrap_or(7 * 8);
        let itf = (
            itf_size,
            l.offset("inactive_task_frame", "bp").unwrap_or(5 * 8),
            l.offset("inactive_task_frame", "ret_addr")
                .unwrap_or(itf_size.saturating_sub(8)),
        );
        Ok(StackContext {
            unwinder,
            modules,
            module_symbols,
            thread_size,
            kernel_text,
            ret_from_fork: ["ret_from_fork", "ret_from_fork_asm"]
                .iter()
                .filter_map(|n| sym(n))
                .collect(),
            itf,
            thread_sp_off: l.offset("task_struct", "thread.sp")?,
            stack_off: l.offset("task_struct", "stack")?,
            sources,
        })
    }

    /// Kernel or module text.
    pub fn is_text(&self, pc: u64) -> bool {
        (self.kernel_text.0..self.kernel_text.1).contains(&pc) || self.module_of(pc).is_some()
    }

    pub fn module_of(&self, pc: u64) -> Option<&ModuleText> {
        self.modules
            .iter()
            .find(|m| (m.text.0..m.text.1).contains(&pc))
    }

    /// The function containing `pc`: module symbols for module text, else kernel symbols.
    pub fn symbolize(&self, k: &Kernel, pc: u64) -> Option<CodeName> {
        if let Some(m) = self.module_of(pc) {
            let (s, off) = self.module_symbols.lookup_addr(pc)?;
            if s.module != Some(m.name.as_str()) {
                return None;
            }
            return Some(CodeName {
                name: s.name.to_string(),
                offset: off,
                module: Some(m.name.clone()),
            });
        }
        let (s, off) = k.symbols.lookup_addr(pc)?;
        Some(CodeName {
            name: s.name.to_string(),
            offset: off,
            module: None,
        })
    }

    /// The function a frame is in: a return address belongs to the call before it (a call to a
    /// noreturn function can be a function's last instruction), so look up pc-1 for those.
    pub fn frame_function(&self, k: &Kernel, f: &kdive_unwind::Frame) -> Option<CodeName> {
        if f.interrupted {
            return self.symbolize(k, f.pc);
        }
        let mut c = self.symbolize(k, f.pc.wrapping_sub(1))?;
        c.offset += 1;
        Some(c)
    }

    /// The stacks `task` may run on: its own, and its CPU's IRQ and exception stacks.
    pub fn stacks(&self, k: &Kernel, task: u64, cpu: u32) -> Vec<StackRegion> {
        let mut out = Vec::new();
        // A stack region never wraps past 2^64: a base read from a damaged dump that would
        // make it wrap gives no region.
        if let Ok(base) = k.read_u64(task.off(self.stack_off), "task_struct.stack") {
            if let Some(hi) = base.checked_add(self.thread_size) {
                out.push(StackRegion::new(StackKind::Task, base, hi));
            }
        }
        out.extend(cpu_stacks(k, cpu, self.thread_size));
        out
    }

    /// The trace of one task.
    pub fn task_trace(&self, k: &Kernel, task: u64) -> Result<TaskTrace> {
        let t = k.read_task(task)?;
        let stacks = self.stacks(k, task, t.cpu);
        let env = Env { k, ctx: self };
        let active = k.cpu_current(t.cpu).ok() == Some(task);
        if active {
            if let Some(regs) = cpu_note_regs(k, t.cpu) {
                let note = note_pt_regs(&regs);
                if let Some(trace) = self.unwind_crash_handler(k, &env, &stacks, &note) {
                    return Ok(TaskTrace {
                        task,
                        cpu: t.cpu,
                        active,
                        start: StartKind::CpuNote,
                        note_regs: Some(note),
                        trace,
                    });
                }
                let start = Start {
                    regs: note.to_registers(&RegisterSet::default()),
                    slot: None,
                    interrupted: true,
                    pt_regs: Some(note),
                };
                return Ok(TaskTrace {
                    task,
                    cpu: t.cpu,
                    active,
                    start: StartKind::CpuNoteRegs,
                    note_regs: Some(note),
                    trace: self.unwinder.unwind(&env, &start, &stacks),
                });
            }
        }
        let start = self.sleeping_start(k, task)?;
        Ok(TaskTrace {
            task,
            cpu: t.cpu,
            active,
            start: StartKind::Sleeping,
            note_regs: None,
            trace: self.unwinder.unwind(&env, &start, &stacks),
        })
    }

    /// A sleeping task's saved context: `thread.sp` points at its `inactive_task_frame`.
    pub fn sleeping_start(&self, k: &Kernel, task: u64) -> Result<Start> {
        let sp = k.read_u64(task.off(self.thread_sp_off), "task_struct.thread.sp")?;
        let (size, bp_off, ret_off) = self.itf;
        let ret = k.read_u64(sp.off(ret_off), "inactive_task_frame.ret_addr")?;
        let bp = k.read_u64(sp.off(bp_off), "inactive_task_frame.bp")?;
        let mut regs = RegisterSet::pc_sp(ret, sp.off(size));
        regs.set(Reg::Rbp, bp);
        Ok(Start {
            regs,
            slot: Some(sp.off(ret_off)),
            // A task that never ran resumes at ret_from_fork's first instruction.
            interrupted: self.ret_from_fork.contains(&ret),
            pt_regs: None,
        })
    }

    /// For a task running at the crash, the CPU note holds the registers its crash or NMI
    /// handler saved (the oops `pt_regs`, or `crash_setup_regs` in `__crash_kexec`). The handler
    /// frames that saved them are still on the stack: find the return address into the
    /// function the CPU stopped in (`machine_kexec`, `crash_nmi_callback`), unwind from there,
    /// and keep the trace only if it passes through the note's registers.
    fn unwind_crash_handler(
        &self,
        k: &Kernel,
        env: &Env<'_>,
        stacks: &[StackRegion],
        note: &PtRegs,
    ) -> Option<Trace> {
        let anchors = ["machine_kexec", "crash_nmi_callback"];
        let note_fn = self.symbolize(k, note.ip()).map(|c| c.name);
        for region in stacks {
            let len = region.hi.saturating_sub(region.lo);
            if len > MAX_STACK {
                continue;
            }
            let mut buf = vec![0u8; len as usize];
            if k.mem.read(region.lo, &mut buf).is_err() {
                continue;
            }
            for (i, w) in buf.chunks_exact(8).enumerate() {
                let word = u64::from_le_bytes(w.try_into().ok()?);
                if !self.is_text(word) {
                    continue;
                }
                let Some(name) = self.symbolize(k, word) else {
                    continue;
                };
                if !anchors.contains(&name.name.as_str()) || name.offset == 0 {
                    continue;
                }
                let slot = region.lo.elem(i as u64, 8);
                let start = Start {
                    regs: RegisterSet::pc_sp(word, slot.off(8)),
                    slot: Some(slot),
                    interrupted: false,
                    pt_regs: None,
                };
                let trace = self.unwinder.unwind(env, &start, stacks);
                let passes = trace.frames.iter().any(|f| {
                    f.pt_regs
                        .is_some_and(|r| r.ip() == note.ip() && r.sp() == note.sp())
                        || (f.sp == note.sp()
                            && note_fn.is_some()
                            && self.symbolize(k, f.pc).map(|c| c.name) == note_fn)
                });
                if passes {
                    return Some(trace);
                }
            }
        }
        None
    }
}

/// The registers of `cpu` at the crash: its NT_PRSTATUS note (notes are in CPU order), or
/// QEMU's CPU state.
pub fn cpu_note_regs(k: &Kernel, cpu: u32) -> Option<CpuRegisters> {
    let notes = k.dump.notes();
    notes
        .prstatus
        .get(cpu as usize)
        .map(|p| p.regs)
        .or_else(|| notes.qemu_cpus.get(cpu as usize).map(|q| q.regs))
}

/// THREAD_SIZE: `union thread_union`'s size, else the init task's stack symbols, else 16 KiB.
pub fn thread_size(k: &Kernel) -> u64 {
    if let Some(s) = k
        .layout
        .with_type("union thread_union", |t, id| t.size_of(id))
    {
        return s;
    }
    let sym = |n: &str| k.symbols.lookup(n).map(|s| s.addr);
    if let (Some(a), Some(b)) = (sym("__start_init_task"), sym("__end_init_task")) {
        if b > a && b - a <= (1 << 20) {
            return b - a;
        }
    }
    16 << 10
}

/// A CPU's own stacks: its hard-IRQ stack (`irq_size` bytes, THREAD_SIZE on x86_64) and its
/// exception (IST) stacks.
pub fn cpu_stacks(k: &Kernel, cpu: u32, irq_size: u64) -> Vec<StackRegion> {
    let mut out = Vec::new();
    // hardirq_stack_ptr points at the last word of the IRQ stack.
    if let Some(hi) = hardirq_stack_top(k, cpu).and_then(|top| top.checked_add(8)) {
        if let Some(lo) = hi.checked_sub(irq_size) {
            out.push(StackRegion::new(StackKind::Irq, lo, hi));
        }
    }
    out.extend(exception_stacks(k, cpu));
    out
}

/// The last word of `cpu`'s hard-IRQ stack (`hardirq_stack_ptr`, in `pcpu_hot` since 6.2).
fn hardirq_stack_top(k: &Kernel, cpu: u32) -> Option<u64> {
    let addr = if let Ok(a) = k.symbol_addr("hardirq_stack_ptr") {
        k.per_cpu_addr(a, cpu).ok()?
    } else {
        let hot = k.symbol_addr("pcpu_hot").ok()?;
        let off = k.layout.offset("pcpu_hot", "hardirq_stack_ptr").ok()?;
        k.per_cpu_addr(hot, cpu).ok()?.off(off)
    };
    k.read_u64(addr, "hardirq_stack_ptr")
        .ok()
        .filter(|&v| v != 0)
}

/// `cpu`'s IST stacks from `cea_exception_stacks` (per-CPU pointer into the CPU entry area).
fn exception_stacks(k: &Kernel, cpu: u32) -> Vec<StackRegion> {
    let mut out = Vec::new();
    let Ok(sym) = k.symbol_addr("cea_exception_stacks") else {
        return out;
    };
    let Some(base) = k
        .per_cpu_addr(sym, cpu)
        .ok()
        .and_then(|a| k.read_u64(a, "cea_exception_stacks").ok())
    else {
        return out;
    };
    for (member, name) in [
        ("NMI_stack", "NMI"),
        ("DF_stack", "DOUBLEFAULT"),
        ("DB_stack", "DEBUG"),
        ("MCE_stack", "MCE"),
        ("VC_stack", "VC"),
        ("VC2_stack", "VC2"),
    ] {
        if let Some(m) = k.layout.member("cea_exception_stacks", member) {
            let size = m.size.unwrap_or(4096);
            let lo = base.checked_add(m.offset);
            if let Some((lo, hi)) = lo.and_then(|lo| Some((lo, lo.checked_add(size)?))) {
                out.push(StackRegion::new(StackKind::Exception(name), lo, hi));
            }
        }
    }
    out
}

/// The kernel's ORC table from memory: `__start_orc_unwind_ip`.. and `__start_orc_unwind`.
fn orc_from_memory(k: &Kernel, format: OrcFormat) -> Result<OrcTable> {
    let ip0 = k.symbol_addr("__start_orc_unwind_ip")?;
    let ip1 = k.symbol_addr("__stop_orc_unwind_ip")?;
    let e0 = k.symbol_addr("__start_orc_unwind")?;
    let n = (ip1.saturating_sub(ip0) / 4) as usize;
    if n == 0 || n > kdive_unwind::arch::x86_64::orc::MAX_ORC_ENTRIES {
        return Err(Error::Corrupt {
            what: "ORC table".into(),
            detail: format!("{n} entries between __start/__stop_orc_unwind_ip"),
        });
    }
    let mut ips = vec![0u8; n * 4];
    k.read(ip0, &mut ips, "__start_orc_unwind_ip")?;
    let mut ents = vec![0u8; n * 6];
    k.read(e0, &mut ents, "__start_orc_unwind")?;
    OrcTable::parse("vmlinux", ip0, &ips, &ents, format).map_err(|e| Error::Corrupt {
        what: "ORC table".into(),
        detail: e.to_string(),
    })
}

/// The symbols of every loaded module, from the kernel's own module symbol tables (what `p`
/// and `sym` need; no unwind tables are read).
pub fn module_symbol_table(k: &Kernel) -> SymbolTable {
    read_modules(k, None).1
}

/// Every module on the `modules` list: name, core text, ORC table (when `format` is given)
/// and symbols.
/// A module's ORC table and its current core text `[lo, hi)`.
type ModuleOrc = ((u64, u64), OrcTable);

fn read_modules(
    k: &Kernel,
    format: Option<OrcFormat>,
) -> (Vec<ModuleText>, SymbolTable, Vec<ModuleOrc>) {
    let mut mods = Vec::new();
    let mut syms = Vec::new();
    let mut tables = Vec::new();
    let l = &k.layout;
    let (Ok(head), Ok(list_off), Ok(name_off)) = (
        k.symbol_addr("modules"),
        l.offset("module", "list"),
        l.offset("module", "name"),
    ) else {
        return (mods, SymbolTable::new(syms), tables);
    };
    for node in walk_list(k, head, MAX_MODULES).nodes {
        let m = node.back(list_off);
        let Ok(name) = k.read_cstr(m.off(name_off), 56, "module.name") else {
            continue;
        };
        let text = module_text(k, m).unwrap_or((0, 0));
        let mut orc_entries = 0;
        if let Some(t) = format.and_then(|f| module_orc(k, m, &name, f)) {
            orc_entries = t.len();
            tables.push((text, t));
        }
        module_symbols(k, m, &name, &mut syms);
        mods.push(ModuleText {
            name,
            addr: m,
            text,
            orc_entries,
        });
    }
    (mods, SymbolTable::new(syms), tables)
}

/// Core text range: `mem[MOD_TEXT]` (6.4+) or `core_layout` (base, text_size).
fn module_text(k: &Kernel, m: u64) -> Option<(u64, u64)> {
    let l = &k.layout;
    if let (Ok(mem), Ok(b), Ok(s)) = (
        l.offset("module", "mem"),
        l.offset("module_memory", "base"),
        l.offset("module_memory", "size"),
    ) {
        let base = k.read_u64(m.off(mem).off(b), "module_memory.base").ok()?;
        let size = k.read_u32(m.off(mem).off(s), "module_memory.size").ok()? as u64;
        return Some((base, base.saturating_add(size)));
    }
    let base = k
        .read_u64(
            m.off(l.offset("module", "core_layout.base").ok()?),
            "core_layout.base",
        )
        .ok()?;
    let size = k
        .read_u32(
            m.off(l.offset("module", "core_layout.text_size").ok()?),
            "core_layout.text_size",
        )
        .ok()? as u64;
    Some((base, base.saturating_add(size)))
}

/// `module->arch.orc_unwind_ip / orc_unwind / num_orcs`.
fn module_orc(k: &Kernel, m: u64, name: &str, format: OrcFormat) -> Option<OrcTable> {
    let l = &k.layout;
    let ip = k
        .read_u64(
            m.off(l.offset("module", "arch.orc_unwind_ip").ok()?),
            "orc_unwind_ip",
        )
        .ok()?;
    let ent = k
        .read_u64(
            m.off(l.offset("module", "arch.orc_unwind").ok()?),
            "orc_unwind",
        )
        .ok()?;
    let n = k
        .read_u32(m.off(l.offset("module", "arch.num_orcs").ok()?), "num_orcs")
        .ok()? as usize;
    if ip == 0 || ent == 0 || n == 0 || n > 1 << 20 {
        return None;
    }
    let mut ib = vec![0u8; n * 4];
    k.read(ip, &mut ib, "module orc_unwind_ip").ok()?;
    let mut eb = vec![0u8; n * 6];
    k.read(ent, &mut eb, "module orc_unwind").ok()?;
    OrcTable::parse(name, ip, &ib, &eb, format).ok()
}

/// Symbols from `module->kallsyms` (`Elf64_Sym` array and string table).
fn module_symbols(k: &Kernel, m: u64, name: &str, out: &mut Vec<SymbolDef>) {
    let l = &k.layout;
    let Ok(ks_off) = l.offset("module", "kallsyms") else {
        return;
    };
    let Ok(ks) = k.read_u64(m.off(ks_off), "module.kallsyms") else {
        return;
    };
    let field = |f: &str| l.offset("mod_kallsyms", f).ok();
    let (Some(st), Some(ns), Some(strt)) = (field("symtab"), field("num_symtab"), field("strtab"))
    else {
        return;
    };
    let (Ok(symtab), Ok(num), Ok(strtab)) = (
        k.read_u64(ks.off(st), "mod_kallsyms.symtab"),
        k.read_u32(ks.off(ns), "mod_kallsyms.num_symtab"),
        k.read_u64(ks.off(strt), "mod_kallsyms.strtab"),
    ) else {
        return;
    };
    let num = (num as u64).min(MAX_MODULE_SYMS);
    let mut buf = vec![0u8; (num * 24) as usize];
    if k.read(symtab, &mut buf, "module symtab").is_err() {
        return;
    }
    for e in buf.chunks_exact(24) {
        let st_name = u32::from_le_bytes(e[0..4].try_into().unwrap()) as u64;
        let info = e[4];
        let shndx = u16::from_le_bytes([e[6], e[7]]);
        let value = u64::from_le_bytes(e[8..16].try_into().unwrap());
        let size = u64::from_le_bytes(e[16..24].try_into().unwrap());
        if st_name == 0 || value == 0 || shndx == 0 {
            continue;
        }
        let Ok(sname) = k.read_cstr(strtab.off(st_name), 128, "module strtab") else {
            continue;
        };
        if sname.is_empty() {
            continue;
        }
        out.push(SymbolDef {
            name: sname,
            addr: value,
            size,
            kind: if info & 0xf == 2 {
                SymbolKind::Text
            } else {
                SymbolKind::Other
            },
            global: info >> 4 == 1,
            module: Some(name.to_string()),
        });
    }
}
