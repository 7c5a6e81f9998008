//! The faulting site: the panic task's kernel-mode exception frame, the instruction at its
//! RIP, the C expression that instruction evaluates (from the DWARF variables live there), the
//! address it computed from the saved registers, and what the bad pointer looks like.

use crate::annotate::{AccessExpr, Annotator};
use crate::disasm::{Insn, Namer};
use kdive_debuginfo::dwarf::{register_name, Loc};
use kdive_kernel::stack::{StackContext, TaskTrace};
use kdive_kernel::Kernel;
use kdive_unwind::PtRegs;
use serde::Serialize;

/// Where the CPU faulted.
#[derive(Debug, Clone, Serialize)]
pub struct FaultSite {
    pub rip: u64,
    /// `kdive_race_reinit_rings+37`.
    pub location: String,
    pub module: Option<String>,
    /// Start of the function holding `rip`.
    pub function_start: u64,
    pub source: Option<(String, u32)>,
    /// The instruction, as `dis` prints it; None when `rip` is not on an instruction boundary
    /// of its function or the code could not be read.
    pub instruction: Option<String>,
    /// What the instruction reaches: `np->txq`.
    pub access: Option<Access>,
    /// The address the memory operand computed from the saved registers.
    pub effective_address: Option<u64>,
    /// The instruction writes its memory operand (else it reads it).
    pub writes_memory: bool,
    #[serde(skip)]
    pub regs: PtRegs,
    /// The function's instructions (for following values backwards).
    #[serde(skip)]
    pub insns: Vec<Insn>,
    /// Index of the faulting instruction in `insns`.
    #[serde(skip)]
    pub index: Option<usize>,
}

/// A memory access in C terms, with the values the registers held.
#[derive(Debug, Clone, Serialize)]
pub struct Access {
    /// `np->txq`.
    pub expression: String,
    /// `np in rax`.
    pub how: String,
    /// The variable the expression starts from, and its value at the fault (when it lives in
    /// a register the exception frame saved).
    pub variable: String,
    pub value: Option<u64>,
    /// The variable's pointee type, `struct kdive_race_napi`.
    pub pointee: Option<String>,
    /// The register holding the operand's base (DWARF number).
    #[serde(skip)]
    pub base_reg: Option<u16>,
}

impl Access {
    pub fn from_expr(a: &AccessExpr, base_reg: Option<u16>, regs: Option<&PtRegs>) -> Access {
        let value = match (a.var.loc, regs) {
            (Loc::Reg(r), Some(p)) => p.dwarf(r),
            _ => None,
        };
        Access {
            expression: a.text.clone(),
            how: a.how.clone(),
            variable: a.var.name.clone(),
            value,
            pointee: a.pointee.clone(),
            base_reg,
        }
    }
}

/// The exception frame of a trace: the kernel-mode registers whose RIP is the one the log's
/// report names (`kdive_race_reinit_rings+0x25/0xb0 [kdive_race]`), else the first set entry
/// code saved on the stack — not a CPU's live registers from the dump's notes (a QEMU dump
/// taken while the panic path still ran), unless the log agrees with them (kdump's notes hold
/// the oops's own registers).
pub fn exception_frame(
    k: &Kernel,
    ctx: &StackContext,
    tt: &TaskTrace,
    log_rip: Option<&str>,
) -> Option<PtRegs> {
    let kernel = |f: &kdive_unwind::Frame| f.pt_regs.filter(|r| !r.user_mode() && !r.partial);
    let want = log_rip.and_then(|r| {
        let (name, rest) = r.split_once('+')?;
        let off = rest.split('/').next()?.trim_start_matches("0x");
        Some((name.to_string(), u64::from_str_radix(off, 16).ok()?))
    });
    if let Some((name, off)) = want {
        let hit = tt.trace.frames.iter().filter_map(kernel).find(|r| {
            ctx.symbolize(k, r.ip())
                .is_some_and(|c| c.name == name && c.offset == off)
        });
        if hit.is_some() {
            return hit;
        }
    }
    tt.trace
        .frames
        .iter()
        .filter(|f| f.pt_regs_addr.is_some())
        .find_map(kernel)
}

/// The register-name spelling used in text (`rax`).
pub fn reg_name(r: u16) -> String {
    register_name(r).map_or_else(|| format!("reg{r}"), str::to_string)
}

/// The address `insn`'s memory operand computed from `regs`.
pub fn effective_address(insn: &Insn, regs: &PtRegs) -> Option<u64> {
    let m = insn.mem?;
    let mut a = m.disp as u64;
    if let Some(b) = m.base {
        a = a.wrapping_add(regs.dwarf(b)?);
    }
    if let Some(i) = m.index {
        a = a.wrapping_add(regs.dwarf(i)?.wrapping_mul(u64::from(m.scale)));
    }
    Some(a)
}

/// Reads the function around `regs.ip()`, finds the faulting instruction and names what it
/// accesses.
pub fn fault_site(
    k: &Kernel,
    ctx: &std::sync::Arc<StackContext>,
    namer: &Namer<'_>,
    regs: PtRegs,
) -> FaultSite {
    let rip = regs.ip();
    let code = ctx.symbolize(k, rip);
    let location = code
        .as_ref()
        .map_or_else(|| format!("{rip:#x}"), |c| c.with_offset());
    let module = code.as_ref().and_then(|c| c.module.clone());
    let bounds = namer.function_bounds(rip);
    let function_start = bounds.as_ref().map_or(rip, |b| b.1);
    let insns = bounds
        .as_ref()
        .and_then(|(_, lo, hi)| namer.read_insns(*lo, *hi, None).ok())
        .unwrap_or_default();
    let index = insns.iter().position(|i| i.addr == rip);
    let insn = index.map(|i| insns[i].clone());
    let mut annot = Annotator::new(k, Some(ctx.clone()));
    let access = insn.as_ref().and_then(|i| {
        let (_, a) = annot.variables_and_access(i);
        a.map(|a| Access::from_expr(&a, i.mem.and_then(|m| m.base), Some(&regs)))
    });
    let effective_address = insn.as_ref().and_then(|i| effective_address(i, &regs));
    FaultSite {
        rip,
        location,
        module,
        function_start,
        source: crate::disasm::source_line(k, rip),
        instruction: insn.as_ref().map(|i| i.text.trim_end().to_string()),
        access,
        effective_address,
        writes_memory: insn.as_ref().is_some_and(|i| i.effects.writes_memory),
        regs,
        insns,
        index,
    }
}

/// What a pointer value is: NULL, a small offset from NULL, a poison pattern, a non-canonical
/// or user address, a free or allocated slab object; None for an ordinary kernel address.
pub fn describe_pointer(k: &Kernel, v: u64) -> Option<String> {
    if v == 0 {
        return Some("NULL".into());
    }
    if v < 0x1000 {
        return Some(format!("NULL + {v:#x} (a member of a NULL pointer)"));
    }
    // include/linux/poison.h, x86_64 (POISON_POINTER_DELTA 0xdead000000000000).
    match v {
        0xdead000000000100 => {
            return Some("LIST_POISON1 (an entry already deleted from its list)".into())
        }
        0xdead000000000122 => {
            return Some("LIST_POISON2 (an entry already deleted from its list)".into())
        }
        _ => {}
    }
    let bytes = v.to_le_bytes();
    if bytes.iter().all(|b| *b == bytes[0]) {
        match bytes[0] {
            0x6b => {
                return Some(
                    "POISON_FREE 0x6b… (memory freed under slub_debug: a use after free)".into(),
                )
            }
            0x5a => return Some("POISON_INUSE 0x5a… (memory allocated but never written)".into()),
            0xcc => return Some("0xcc… (SLUB redzone or uninitialised stack)".into()),
            _ => {}
        }
    }
    let top = v >> 47;
    if top != 0 && top != 0x1ffff {
        return Some("a non-canonical address".into());
    }
    if top == 0 {
        return Some("a user-space address".into());
    }
    match k.slab_object(v) {
        Ok(Some(o)) => Some(format!(
            "{} {} object {:#x}{}",
            if o.object_free {
                "inside a FREE"
            } else {
                "inside an allocated"
            },
            o.cache.name,
            o.object,
            if v == o.object {
                String::new()
            } else {
                format!(" (+{:#x})", v - o.object)
            }
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disasm::{Effects, MemRef};

    #[test]
    fn effective_addresses() {
        let mut regs = PtRegs {
            vals: [0; 21],
            partial: false,
        };
        // rdi (DWARF 5) is pt_regs' "di" (index 14), rdx (1) is "dx" (12).
        regs.vals[14] = 0xffff8c3f81b1e980;
        regs.vals[12] = 2;
        let insn = Insn {
            addr: 0,
            len: 8,
            text: String::new(),
            is_nop5: false,
            mem: Some(MemRef {
                base: Some(5),
                index: Some(1),
                scale: 8,
                disp: 0x100,
                lea: false,
            }),
            effects: Effects::default(),
        };
        assert_eq!(
            effective_address(&insn, &regs),
            Some(0xffff8c3f81b1e980 + 0x100 + 16)
        );
        regs.partial = true;
        assert_eq!(effective_address(&insn, &regs), None);
    }
}
