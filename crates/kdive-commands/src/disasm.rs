//! x86_64 instructions printed the way gdb (and so crash) prints them: AT&T syntax, the
//! mnemonic padded to six columns, branch targets as `0xADDR <sym+off>`, RIP-relative operands
//! followed by `# 0xADDR <sym+off>`; and where a function's code lies (kernel or module
//! symbols), and which source line an address belongs to (vmlinux or module DWARF).

use crate::Session;
use iced_x86::{
    Decoder, DecoderOptions, Formatter, GasFormatter, Instruction, InstructionInfoFactory,
    Mnemonic, OpKind, Register,
};
use kdive_kernel::Kernel;

/// One decoded instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insn {
    pub addr: u64,
    pub len: usize,
    /// gdb's text ("mov    0x1a0(%rax),%rcx"), with the `[FTRACE NOP]` mark crash adds left to
    /// the caller.
    pub text: String,
    /// A 5-byte NOP (`nopl 0x0(%rax,%rax,1)`): what ftrace leaves at a traced function's entry.
    pub is_nop5: bool,
    /// The memory operand, when the instruction has one addressed by registers.
    pub mem: Option<MemRef>,
    /// What the instruction does beyond its text: registers and memory it writes, where it
    /// branches.
    pub effects: Effects,
}

/// An instruction's effects, as far as following a value backwards needs them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Effects {
    /// Bit N set: the instruction writes (part of) DWARF register N (0 rax .. 15 r15).
    pub writes: u32,
    /// It writes its memory operand.
    pub writes_memory: bool,
    /// For a store (`mov SRC,MEM`): the value stored, an immediate or a register.
    pub stored: Option<Stored>,
    /// A direct jump's or call's target.
    pub branch_target: Option<u64>,
    pub is_call: bool,
}

/// The source operand of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Immediate(u64),
    /// DWARF register number.
    Register(u16),
}

impl Effects {
    pub fn writes_reg(&self, r: u16) -> bool {
        r < 32 && self.writes & (1 << r) != 0
    }
}

fn effects(ins: &Instruction, info: &mut InstructionInfoFactory) -> Effects {
    use iced_x86::OpAccess;
    if ins.is_invalid() {
        return Effects::default();
    }
    let written = |a: OpAccess| {
        matches!(
            a,
            OpAccess::Write | OpAccess::CondWrite | OpAccess::ReadWrite | OpAccess::ReadCondWrite
        )
    };
    let i = info.info(ins);
    let mut writes = 0u32;
    for u in i.used_registers() {
        if written(u.access()) {
            if let Some(n) = dwarf_reg(u.register().full_register()) {
                writes |= 1 << n;
            }
        }
    }
    let writes_memory = i.used_memory().iter().any(|m| written(m.access()));
    let stored = (writes_memory && ins.mnemonic() == Mnemonic::Mov && ins.op_count() == 2)
        .then(|| match ins.op1_kind() {
            OpKind::Register => dwarf_reg(ins.op1_register().full_register()).map(Stored::Register),
            OpKind::Immediate8
            | OpKind::Immediate16
            | OpKind::Immediate32
            | OpKind::Immediate32to64
            | OpKind::Immediate64 => Some(Stored::Immediate(ins.immediate(1))),
            _ => None,
        })
        .flatten();
    let branch_target = matches!(
        ins.op0_kind(),
        OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64
    )
    .then(|| ins.near_branch_target());
    Effects {
        writes,
        writes_memory,
        stored,
        branch_target,
        is_call: ins.mnemonic() == Mnemonic::Call,
    }
}

/// A `disp(base,index,scale)` memory operand; registers as DWARF numbers (0 rax .. 15 r15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemRef {
    pub base: Option<u16>,
    pub index: Option<u16>,
    pub scale: u32,
    pub disp: i64,
    /// `lea`: the address is computed, not read or written.
    pub lea: bool,
}

/// The DWARF number of a general register used for addressing (64-bit, or 32-bit under an
/// address-size prefix: `%eax` is rax's 0).
pub fn dwarf_reg(r: Register) -> Option<u16> {
    Some(match r {
        Register::RAX | Register::EAX => 0,
        Register::RDX | Register::EDX => 1,
        Register::RCX | Register::ECX => 2,
        Register::RBX | Register::EBX => 3,
        Register::RSI | Register::ESI => 4,
        Register::RDI | Register::EDI => 5,
        Register::RBP | Register::EBP => 6,
        Register::RSP | Register::ESP => 7,
        Register::R8 | Register::R8D => 8,
        Register::R9 | Register::R9D => 9,
        Register::R10 | Register::R10D => 10,
        Register::R11 | Register::R11D => 11,
        Register::R12 | Register::R12D => 12,
        Register::R13 | Register::R13D => 13,
        Register::R14 | Register::R14D => 14,
        Register::R15 | Register::R15D => 15,
        _ => return None,
    })
}

/// The register-addressed memory operand of `ins` (not RIP-relative, not absolute).
fn mem_ref(ins: &Instruction) -> Option<MemRef> {
    // A multi-byte NOP's operand (`nopl 0x0(%rax,%rax,1)`) is never accessed.
    if ins.is_invalid()
        || ins.mnemonic() == Mnemonic::Nop
        || !(0..ins.op_count()).any(|i| ins.op_kind(i) == OpKind::Memory)
    {
        return None;
    }
    let base = dwarf_reg(ins.memory_base());
    let index = dwarf_reg(ins.memory_index());
    if base.is_none() && index.is_none() {
        return None;
    }
    Some(MemRef {
        base,
        index,
        scale: ins.memory_index_scale(),
        disp: ins.memory_displacement64() as i64,
        lea: ins.mnemonic() == Mnemonic::Lea,
    })
}

/// Decodes `bytes` (code at `start`) and formats every instruction; `sym` names addresses.
pub fn decode(bytes: &[u8], start: u64, sym: &dyn Fn(u64) -> Option<String>) -> Vec<Insn> {
    let mut dec = Decoder::with_ip(64, bytes, start, DecoderOptions::NONE);
    let mut fmt = GasFormatter::new();
    {
        let o = fmt.options_mut();
        o.set_hex_prefix("0x");
        o.set_hex_suffix("");
        o.set_uppercase_hex(false);
        o.set_small_hex_numbers_in_decimal(false);
        o.set_space_after_operand_separator(false);
        o.set_branch_leading_zeros(false);
        o.set_leading_zeros(false);
        o.set_displacement_leading_zeros(false);
        o.set_signed_memory_displacements(true);
        o.set_signed_immediate_operands(false);
        o.set_rip_relative_addresses(true);
        o.set_show_branch_size(false);
        o.set_gas_naked_registers(false);
        o.set_show_zero_displacements(true);
        o.set_always_show_scale(true);
    }
    let mut out = Vec::new();
    let mut info = InstructionInfoFactory::new();
    let mut ins = Instruction::default();
    while dec.can_decode() {
        let off = (dec.ip() - start) as usize;
        dec.decode_out(&mut ins);
        let len = ins.len();
        let raw = &bytes[off..(off + len).min(bytes.len())];
        let text = if ins.is_invalid() {
            format!(
                "(bad)  {}",
                raw.first().map(|b| format!("0x{b:x}")).unwrap_or_default()
            )
        } else {
            format_insn(&mut fmt, &ins, sym)
        };
        out.push(Insn {
            addr: ins.ip(),
            len,
            text,
            is_nop5: raw == [0x0f, 0x1f, 0x44, 0x00, 0x00],
            mem: mem_ref(&ins),
            effects: effects(&ins, &mut info),
        });
    }
    out
}

fn format_insn(
    fmt: &mut GasFormatter,
    ins: &Instruction,
    sym: &dyn Fn(u64) -> Option<String>,
) -> String {
    let mut mnem = String::new();
    fmt.format_mnemonic(ins, &mut mnem);
    let mnem = gdb_mnemonic(ins, mnem);
    let mut ops = String::new();
    let branch = ins.op_count() == 1
        && matches!(
            ins.op0_kind(),
            OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64
        );
    if branch {
        let t = ins.near_branch_target();
        ops = format!("0x{t:x}");
        if let Some(s) = sym(t) {
            ops.push_str(&format!(" <{s}>"));
        }
    } else {
        fmt.format_all_operands(ins, &mut ops);
        // Scale shown always (gdb's `(%rax,%rax,1)`), but a base without an index has none.
        ops = ops.replace(",)", ")");
        if ins.is_ip_rel_memory_operand() {
            let t = ins.ip_rel_memory_address();
            ops.push_str(&format!("        # 0x{t:x}"));
            if let Some(s) = sym(t) {
                ops.push_str(&format!(" <{s}>"));
            }
        }
    }
    format!("{mnem:<6} {ops}")
}

/// Spellings where gdb differs from iced's GAS output.
fn gdb_mnemonic(ins: &Instruction, m: String) -> String {
    match ins.mnemonic() {
        // gdb: `ret`, `call`, `jmp`, `push`, `pop` without the q suffix iced adds for near forms.
        Mnemonic::Ret | Mnemonic::Call | Mnemonic::Jmp | Mnemonic::Push | Mnemonic::Pop
            if m.ends_with('q') && ins.op_count() <= 1 && !ins.is_ip_rel_memory_operand() =>
        {
            let kind = ins.op_count() == 1 && ins.op0_kind() == OpKind::Memory;
            if kind {
                m
            } else {
                m.trim_end_matches('q').to_string()
            }
        }
        _ => m,
    }
}

/// Names addresses: module symbols for module text, kernel symbols elsewhere.
pub struct Namer<'a> {
    pub k: &'a Kernel,
    pub ctx: Option<std::sync::Arc<kdive_kernel::stack::StackContext>>,
}

impl<'a> Namer<'a> {
    /// Builds the session's unwind context (module symbols) if needed.
    pub fn new(s: &'a mut Session) -> Namer<'a> {
        let ctx = crate::bt::stack_context(s).ok();
        Namer { k: &s.kernel, ctx }
    }

    fn table_for(&self, addr: u64) -> (&kdive_debuginfo::SymbolTable, Option<&str>) {
        if let Some(c) = &self.ctx {
            if let Some(m) = c.module_of(addr) {
                return (&c.module_symbols, Some(m.name.as_str()));
            }
        }
        (&self.k.symbols, None)
    }

    /// (name, offset, symbol address) of the symbol containing `addr`.
    pub fn symbolize(&self, addr: u64) -> Option<(String, u64, u64)> {
        let (table, module) = self.table_for(addr);
        let (sy, off) = table.lookup_addr(addr)?;
        if module.is_some() && sy.module != module {
            return None;
        }
        Some((sy.name.to_string(), off, sy.addr))
    }

    /// `name+off` text.
    pub fn name(&self, addr: u64) -> Option<String> {
        self.symbolize(addr).map(|(n, o, _)| sym_text(&n, o))
    }

    /// A function's code `[start, end)`: the symbol containing `addr`, its ELF/kallsyms size,
    /// else up to the next symbol.
    pub fn function_bounds(&self, addr: u64) -> Option<(String, u64, u64)> {
        let (table, _) = self.table_for(addr);
        let (sy, _) = table.lookup_addr(addr)?;
        let start = sy.addr;
        let end = if sy.size > 0 {
            start.saturating_add(sy.size)
        } else {
            table
                .iter()
                .filter(|o| o.addr > start)
                .map(|o| o.addr)
                .min()
                .unwrap_or(start.saturating_add(256))
        };
        Some((
            sy.name.to_string(),
            start,
            end.min(start.saturating_add(1 << 20)),
        ))
    }

    /// A kernel or module symbol's address.
    pub fn lookup(&self, name: &str) -> Option<u64> {
        if let Some(sy) = self.k.symbols.lookup(name) {
            return Some(sy.addr);
        }
        self.ctx
            .as_ref()?
            .module_symbols
            .lookup(name)
            .map(|sy| sy.addr)
    }

    /// Reads `[start, end)` and decodes it, `count` instructions at most.
    pub fn read_insns(
        &self,
        start: u64,
        end: u64,
        count: Option<usize>,
    ) -> Result<Vec<Insn>, crate::CmdError> {
        let len = end.saturating_sub(start).clamp(1, 1 << 20);
        let mut buf = vec![0u8; len as usize];
        self.k.read(start, &mut buf, "instructions")?;
        let cache = std::cell::RefCell::new(std::collections::HashMap::new());
        let sym = |a: u64| -> Option<String> {
            cache
                .borrow_mut()
                .entry(a)
                .or_insert_with(|| self.name(a))
                .clone()
        };
        let mut v = decode(&buf, start, &sym);
        if let Some(c) = count {
            v.truncate(c);
        }
        Ok(v)
    }
}

/// The source file and line of `addr`: the module's DWARF for module code, else the vmlinux's.
pub fn source_line(k: &Kernel, addr: u64) -> Option<(String, u32)> {
    LineFinder::default().line(k, addr)
}

/// gdb's line for each address, reusing the unit's line table across a function.
#[derive(Default)]
pub struct LineFinder {
    /// (is module, table) of the last unit read.
    table: Option<(bool, std::sync::Arc<kdive_debuginfo::dwarf::LineTable>)>,
}

impl LineFinder {
    pub fn line(&mut self, k: &Kernel, addr: u64) -> Option<(String, u32)> {
        let kaslr = k.vmcoreinfo.kernel_offset().unwrap_or(0);
        let (dw, a, module) = match k.module_debug_at(addr) {
            Some(d) => (d.dwarf.clone(), addr, true),
            None => (k.dwarf.clone()?, addr.wrapping_sub(kaslr), false),
        };
        if let Some((m, t)) = &self.table {
            if *m == module {
                if let Some(l) = t.gdb_line(a) {
                    return Some(l);
                }
            }
        }
        if let Some(t) = dw.line_table_at(a) {
            let t = std::sync::Arc::new(t);
            self.table = Some((module, t.clone()));
            if let Some(l) = t.gdb_line(a) {
                return Some(l);
            }
        }
        dw.addr_to_line(a)
    }

    /// gdb's `disassemble /m` lines (in source file `file`) for the instructions at `addrs`
    /// of the function `[start, end)`, and every line of `file` a row of the range names (see
    /// `LineTable::source_centric`); None without a line table.
    pub fn source_centric(
        &mut self,
        k: &Kernel,
        (start, end): (u64, u64),
        addrs: &[u64],
        file: &str,
    ) -> Option<(Vec<Option<u32>>, Vec<u32>)> {
        let kaslr = k.vmcoreinfo.kernel_offset().unwrap_or(0);
        let (dw, slide) = match k.module_debug_at(start) {
            Some(d) => (d.dwarf.clone(), 0),
            None => (k.dwarf.clone()?, kaslr),
        };
        let t = dw.line_table_at(start.wrapping_sub(slide))?;
        let a: Vec<u64> = addrs.iter().map(|x| x.wrapping_sub(slide)).collect();
        Some(t.source_centric(start.wrapping_sub(slide), end.wrapping_sub(slide), &a, file))
    }

    /// The name the unit records for `path` (a file [`line`](Self::line) returned last):
    /// `kernel/time/timer.c` for `debian/build/.../kernel/time/timer.c`; else `path`.
    pub fn recorded_name(&self, path: &str) -> String {
        self.table
            .as_ref()
            .and_then(|(_, t)| t.recorded_name(path))
            .unwrap_or(path)
            .to_string()
    }
}

/// Symbol text for `<...>`: `name` or `name+off`.
pub fn sym_text(name: &str, off: u64) -> String {
    if off == 0 {
        name.to_string()
    } else {
        format!("{name}+{off}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(bytes: &[u8]) -> String {
        decode(bytes, 0xffffffffc0391000, &|a| {
            Some(sym_text("f", a - 0xffffffffc0391000))
        })[0]
            .text
            .clone()
    }

    fn mem(bytes: &[u8]) -> Option<MemRef> {
        decode(bytes, 0xffffffffc0391000, &|_| None)[0].mem
    }

    #[test]
    fn memory_operands() {
        let m = mem(&[0x48, 0x8b, 0x88, 0xa0, 1, 0, 0]).unwrap();
        assert_eq!(
            (m.base, m.index, m.disp, m.lea),
            (Some(0), None, 0x1a0, false)
        );
        let m = mem(&[0x48, 0x8b, 0x84, 0xd7, 0, 1, 0, 0]).unwrap();
        assert_eq!(
            (m.base, m.index, m.scale, m.disp),
            (Some(5), Some(1), 8, 0x100)
        );
        // lea -0x180(%rdi),%rbp
        let m = mem(&[0x48, 0x8d, 0xaf, 0x80, 0xfe, 0xff, 0xff]).unwrap();
        assert_eq!((m.base, m.disp, m.lea), (Some(5), -0x180, true));
        // The ftrace NOP's operand, RIP-relative and register-only instructions: none.
        assert_eq!(mem(&[0x0f, 0x1f, 0x44, 0, 0]), None);
        assert_eq!(mem(&[0x48, 0x8b, 0x05, 0x10, 0, 0, 0]), None);
        assert_eq!(mem(&[0x48, 0x83, 0xc2, 0x01]), None);
    }

    #[test]
    fn gdb_spelling() {
        assert_eq!(one(&[0x0f, 0x1f, 0x44, 0, 0]), "nopl   0x0(%rax,%rax,1)");
        assert_eq!(
            one(&[0x48, 0x8b, 0x88, 0xa0, 1, 0, 0]),
            "mov    0x1a0(%rax),%rcx"
        );
        assert_eq!(one(&[0xc3]), "ret    ");
        assert_eq!(one(&[0x48, 0x8b, 0x00]), "mov    (%rax),%rax");
        assert_eq!(one(&[0x48, 0x8b, 0x45, 0xf8]), "mov    -0x8(%rbp),%rax");
        assert_eq!(
            one(&[0x48, 0x83, 0xe4, 0xf0]),
            "and    $0xfffffffffffffff0,%rsp"
        );
        assert_eq!(one(&[0xcc]), "int3   ");
        assert_eq!(one(&[0x0f, 0xb7, 0x49, 0x28]), "movzwl 0x28(%rcx),%ecx");
        assert_eq!(one(&[0x48, 0x83, 0xc2, 0x01]), "add    $0x1,%rdx");
        assert_eq!(
            one(&[0x48, 0x8b, 0x84, 0xd7, 0, 1, 0, 0]),
            "mov    0x100(%rdi,%rdx,8),%rax"
        );
        assert_eq!(
            one(&[0x0f, 0x8e, 0x8f, 0, 0, 0]),
            "jle    0xffffffffc0391095 <f+149>"
        );
        assert_eq!(
            one(&[0x66, 0x44, 0x89, 0x59, 0x20]),
            "mov    %r11w,0x20(%rcx)"
        );
    }
}
