//! x86_64 unwinding: ORC first (kernel and module tables), DWARF CFI where ORC has no entry,
//! frame pointers last; `pt_regs` frames restore every register and may switch stacks.

pub mod cfi;
pub mod orc;
pub mod ptregs;
pub mod regs;

use crate::env::UnwindEnv;
use crate::frame::{Frame, Method, StopReason, Trace};
use crate::stacks::{region_of, StackRegion};
use cfi::{CfiTable, DW_RBP, DW_RSP};
use orc::{OrcEntry, OrcKind, OrcTable};
use ptregs::{PtRegs, PtRegsLayout};
use regs::{Reg, RegisterSet};

/// Default frame limit (crash and the kernel stop well before this).
pub const MAX_FRAMES: usize = 256;

/// Where an unwind starts.
#[derive(Debug, Clone)]
pub struct Start {
    /// At least rip and rsp.
    pub regs: RegisterSet,
    /// Stack address the start pc was read from (a sleeping task's saved return address).
    pub slot: Option<u64>,
    /// The pc is not a return address (CPU note registers, first instruction of a function):
    /// look it up as is, not at pc-1.
    pub interrupted: bool,
    /// The start registers as a `pt_regs` (CPU notes), shown as an exception block.
    pub pt_regs: Option<PtRegs>,
}

/// Which unwinding methods a walk may use (all by default; tests turn some off).
#[derive(Debug, Clone, Copy)]
pub struct Methods {
    pub orc: bool,
    pub cfi: bool,
    pub frame_pointer: bool,
}

impl Default for Methods {
    fn default() -> Self {
        Methods {
            orc: true,
            cfi: true,
            frame_pointer: true,
        }
    }
}

/// Unwind tables for one kernel: vmlinux ORC, module ORC, CFI, and the `pt_regs` layout.
#[derive(Debug)]
pub struct Unwinder {
    kernel_orc: Option<OrcTable>,
    /// Module tables sorted by first ip.
    module_orc: Vec<OrcTable>,
    /// Each module's current core text, and the index of its table in `module_orc`: a
    /// module's table also holds entries for its freed init text, whose addresses a module
    /// loaded later may reuse, so an address is looked up in the table of the module whose
    /// text holds it first (as the kernel's `__module_address` does).
    module_text: Vec<(u64, u64, usize)>,
    cfi: Option<CfiTable>,
    pt_regs: PtRegsLayout,
    pub max_frames: usize,
    pub methods: Methods,
}

impl Unwinder {
    pub fn new(pt_regs: PtRegsLayout) -> Unwinder {
        Unwinder {
            kernel_orc: None,
            module_orc: Vec::new(),
            module_text: Vec::new(),
            cfi: None,
            pt_regs,
            max_frames: MAX_FRAMES,
            methods: Methods::default(),
        }
    }
    pub fn set_kernel_orc(&mut self, t: OrcTable) {
        self.kernel_orc = Some(t);
    }
    pub fn add_module_orc(&mut self, t: OrcTable) {
        let at = self
            .module_orc
            .partition_point(|m| m.range().0 <= t.range().0);
        self.module_orc.insert(at, t);
        for e in &mut self.module_text {
            if e.2 >= at {
                e.2 += 1;
            }
        }
    }
    /// A module's table with the range `[lo, hi)` of the module's current core text.
    pub fn add_module_orc_for_text(&mut self, text: (u64, u64), t: OrcTable) {
        let at = self
            .module_orc
            .partition_point(|m| m.range().0 <= t.range().0);
        self.add_module_orc(t);
        if text.0 < text.1 {
            self.module_text.push((text.0, text.1, at));
        }
    }
    pub fn set_cfi(&mut self, t: CfiTable) {
        self.cfi = Some(t);
    }
    pub fn kernel_orc(&self) -> Option<&OrcTable> {
        self.kernel_orc.as_ref()
    }
    pub fn module_orcs(&self) -> &[OrcTable] {
        &self.module_orc
    }
    pub fn cfi(&self) -> Option<&CfiTable> {
        self.cfi.as_ref()
    }
    pub fn pt_regs_layout(&self) -> &PtRegsLayout {
        &self.pt_regs
    }

    /// The ORC entry for `addr`, from the module that covers it or the kernel.
    pub fn orc_find(&self, addr: u64) -> Option<OrcEntry> {
        if let Some((_, _, i)) = self
            .module_text
            .iter()
            .find(|(lo, hi, _)| addr >= *lo && addr < *hi)
        {
            return self.module_orc.get(*i).and_then(|m| m.find(addr));
        }
        let i = self.module_orc.partition_point(|m| m.range().0 <= addr);
        if let Some(m) = i.checked_sub(1).map(|i| &self.module_orc[i]) {
            if addr <= m.range().1 {
                return m.find(addr);
            }
        }
        self.kernel_orc.as_ref().and_then(|k| k.find(addr))
    }

    /// Walks from `start` until the end of the stack, a user-mode frame, or a reason to stop.
    /// `stacks` are the stacks the sp may use (empty: no bounds check, for tests).
    pub fn unwind(&self, env: &dyn UnwindEnv, start: &Start, stacks: &[StackRegion]) -> Trace {
        let mut trace = Trace::default();
        let sp0 = start.regs.sp();
        let mut region = region_of(stacks, sp0);
        let mut visited: Vec<usize> = region.into_iter().collect();
        let mut cur = Frame {
            pc: start.regs.pc(),
            sp: sp0,
            slot: start.slot,
            interrupted: start.interrupted,
            method: Method::Start,
            stack: region.map(|r| stacks[r].kind),
            regs: start.regs,
            pt_regs: start.pt_regs,
            pt_regs_addr: None,
        };
        loop {
            if trace.frames.len() >= self.max_frames {
                trace.stop = Some(StopReason::TooManyFrames(self.max_frames));
                return trace;
            }
            let user = cur.is_user();
            trace.frames.push(cur.clone());
            if user {
                return trace;
            }
            let mut next = match self.step(env, &cur, stacks) {
                Ok(Some(n)) => n,
                Ok(None) => return trace,
                Err(r) => {
                    trace.stop = Some(r);
                    return trace;
                }
            };
            if next.is_user() {
                cur = next;
                continue;
            }
            if !stacks.is_empty() {
                let Some(r) = region_of(stacks, next.sp) else {
                    trace.stop = Some(StopReason::SpOutsideStack(next.sp));
                    return trace;
                };
                if Some(r) == region {
                    if next.sp <= cur.sp {
                        trace.stop = Some(StopReason::SpWrongDirection {
                            sp: next.sp,
                            prev: cur.sp,
                        });
                        return trace;
                    }
                } else {
                    if visited.contains(&r) {
                        trace.stop = Some(StopReason::StackRevisited(next.sp));
                        return trace;
                    }
                    visited.push(r);
                    region = Some(r);
                }
                next.stack = Some(stacks[r].kind);
            }
            if !env.is_text(next.pc) {
                trace.stop = Some(StopReason::BadReturnAddress(next.pc));
                return trace;
            }
            cur = next;
        }
    }

    /// One frame up from `cur`: Ok(None) at the end of the stack.
    fn step(
        &self,
        env: &dyn UnwindEnv,
        cur: &Frame,
        stacks: &[StackRegion],
    ) -> Result<Option<Frame>, StopReason> {
        let lookup = if cur.interrupted {
            cur.pc
        } else {
            cur.pc.wrapping_sub(1)
        };
        let mut undefined = false;
        if self.methods.orc {
            if let Some(e) = self.orc_find(lookup) {
                // objtool leaves some code without ORC (undefined entries, e.g. after inline
                // asm it cannot follow): try CFI and frame pointers there, as drgn does.
                if e.kind != OrcKind::Undefined {
                    return self.orc_step(env, cur, &e);
                }
                undefined = true;
            }
        }
        if self.methods.cfi {
            if let Some(row) = self.cfi.as_ref().and_then(|c| c.find(lookup)) {
                return self.cfi_step(env, cur, &row).map(Some);
            }
        }
        if self.methods.frame_pointer {
            if let Some(f) = self.fp_step(env, cur, stacks)? {
                return Ok(Some(f));
            }
        }
        Err(if undefined {
            StopReason::UndefinedOrc(cur.pc)
        } else {
            StopReason::NoUnwindInfo(cur.pc)
        })
    }

    fn orc_step(
        &self,
        env: &dyn UnwindEnv,
        cur: &Frame,
        e: &OrcEntry,
    ) -> Result<Option<Frame>, StopReason> {
        match e.kind {
            OrcKind::Undefined => return Err(StopReason::UndefinedOrc(cur.pc)),
            OrcKind::EndOfStack => return Ok(None),
            _ => {}
        }
        let read = |a: u64| env.read_u64(a).ok_or(StopReason::Unreadable(a));
        let reg = |r: Reg| {
            cur.regs.get(r).ok_or(StopReason::UnknownRegister {
                pc: cur.pc,
                reg: r.name(),
            })
        };
        let off = e.sp_offset as i64 as u64;
        let sp = match e.sp_reg {
            orc::REG_SP => cur.sp.wrapping_add(off),
            orc::REG_BP => reg(Reg::Rbp)?.wrapping_add(off),
            orc::REG_SP_INDIRECT => read(cur.sp)?.wrapping_add(off),
            orc::REG_BP_INDIRECT => read(reg(Reg::Rbp)?.wrapping_add(off))?,
            orc::REG_R10 => reg(Reg::R10)?,
            orc::REG_R13 => reg(Reg::R13)?,
            orc::REG_DI => reg(Reg::Rdi)?,
            orc::REG_DX => reg(Reg::Rdx)?,
            _ => return Err(StopReason::UndefinedOrc(cur.pc)),
        };
        let mut next = match e.kind {
            OrcKind::Call => {
                let slot = sp.wrapping_sub(8);
                let ret = read(slot)?;
                let mut regs = RegisterSet::pc_sp(ret, sp);
                regs.set_opt(Reg::Rbp, cur.regs.get(Reg::Rbp));
                Frame {
                    pc: ret,
                    sp,
                    slot: Some(slot),
                    interrupted: false,
                    method: Method::Orc,
                    stack: None,
                    regs,
                    pt_regs: None,
                    pt_regs_addr: None,
                }
            }
            OrcKind::Regs | OrcKind::RegsPartial => {
                let partial = e.kind == OrcKind::RegsPartial;
                let base = if partial {
                    sp.wrapping_sub(self.pt_regs.iret_offset())
                } else {
                    sp
                };
                let pr = self
                    .pt_regs
                    .read(env, base, partial)
                    .map_err(StopReason::Unreadable)?;
                // A kernel thread's first frame: zeroed pt_regs at the top of its stack.
                if pr.ip() == 0 && pr.cs() == 0 {
                    return Ok(None);
                }
                Frame {
                    pc: pr.ip(),
                    sp: pr.sp(),
                    slot: None,
                    interrupted: true,
                    method: Method::PtRegs,
                    stack: None,
                    regs: pr.to_registers(&cur.regs),
                    pt_regs: Some(pr),
                    pt_regs_addr: Some(base),
                }
            }
            OrcKind::Undefined | OrcKind::EndOfStack => unreachable!(),
        };
        let boff = e.bp_offset as i64 as u64;
        match e.bp_reg {
            orc::REG_PREV_SP => next.regs.set(Reg::Rbp, read(sp.wrapping_add(boff))?),
            orc::REG_BP => {
                let bp = reg(Reg::Rbp)?;
                next.regs.set(Reg::Rbp, read(bp.wrapping_add(boff))?)
            }
            _ => {}
        }
        Ok(Some(next))
    }

    fn cfi_step(
        &self,
        env: &dyn UnwindEnv,
        cur: &Frame,
        row: &cfi::CfiRow,
    ) -> Result<Frame, StopReason> {
        let read = |a: u64| env.read_u64(a).ok_or(StopReason::Unreadable(a));
        let base = match row.cfa_reg {
            DW_RSP => cur.sp,
            DW_RBP => cur.regs.get(Reg::Rbp).ok_or(StopReason::UnknownRegister {
                pc: cur.pc,
                reg: "rbp",
            })?,
            _ => return Err(StopReason::NoUnwindInfo(cur.pc)),
        };
        let cfa = base.wrapping_add(row.cfa_offset as u64);
        let ra_at = cfa.wrapping_add(row.ra_offset.unwrap_or(-8) as u64);
        let ret = read(ra_at)?;
        let mut regs = RegisterSet::pc_sp(ret, cfa);
        match row.rbp_offset {
            Some(o) => regs.set(Reg::Rbp, read(cfa.wrapping_add(o as u64))?),
            None => regs.set_opt(Reg::Rbp, cur.regs.get(Reg::Rbp)),
        }
        Ok(Frame {
            pc: ret,
            sp: cfa,
            slot: Some(ra_at),
            interrupted: false,
            method: Method::Cfi,
            stack: None,
            regs,
            pt_regs: None,
            pt_regs_addr: None,
        })
    }

    /// Frame-pointer step: `[bp]` is the caller's bp, `[bp+8]` the return address.
    fn fp_step(
        &self,
        env: &dyn UnwindEnv,
        cur: &Frame,
        stacks: &[StackRegion],
    ) -> Result<Option<Frame>, StopReason> {
        let Some(bp) = cur.regs.get(Reg::Rbp) else {
            return Ok(None);
        };
        if bp < cur.sp || bp & 7 != 0 || (!stacks.is_empty() && region_of(stacks, bp).is_none()) {
            return Ok(None);
        }
        let read = |a: u64| env.read_u64(a).ok_or(StopReason::Unreadable(a));
        let ret = read(bp.wrapping_add(8))?;
        let mut regs = RegisterSet::pc_sp(ret, bp.wrapping_add(16));
        regs.set(Reg::Rbp, read(bp)?);
        Ok(Some(Frame {
            pc: ret,
            sp: bp.wrapping_add(16),
            slot: Some(bp.wrapping_add(8)),
            interrupted: false,
            method: Method::FramePointer,
            stack: None,
            regs,
            pt_regs: None,
            pt_regs_addr: None,
        }))
    }
}

#[cfg(test)]
mod tests;
