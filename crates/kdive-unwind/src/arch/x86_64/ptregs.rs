//! `struct pt_regs`: the registers entry code saves on the stack (exceptions, interrupts,
//! syscalls). Member offsets come from the kernel's types; [`PtRegsLayout::abi`] is the x86_64
//! order (also the ptrace ABI) for tests and for kernels without type information.

use super::regs::{Reg, RegisterSet};
use crate::env::UnwindEnv;
use serde::Serialize;

/// Member names of `struct pt_regs` on x86_64, in the kernel's order.
pub const PT_REGS_MEMBERS: [&str; 21] = [
    "r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx", "dx", "si", "di",
    "orig_ax", "ip", "cs", "flags", "sp", "ss",
];

const IP: usize = 16;
const CS: usize = 17;
const FLAGS: usize = 18;
const SP: usize = 19;
const SS: usize = 20;

/// Where each member lies in `struct pt_regs`, and the structure's size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtRegsLayout {
    pub offsets: [u64; 21],
    pub size: u64,
}

impl PtRegsLayout {
    /// The x86_64 layout: 21 consecutive 8-byte words.
    pub fn abi() -> PtRegsLayout {
        let mut offsets = [0u64; 21];
        for (i, o) in offsets.iter_mut().enumerate() {
            *o = i as u64 * 8;
        }
        PtRegsLayout {
            offsets,
            size: 21 * 8,
        }
    }
    /// From a member-offset lookup (types); members it does not know keep the ABI offset.
    pub fn from_lookup(size: Option<u64>, mut offset_of: impl FnMut(&str) -> Option<u64>) -> Self {
        let mut l = PtRegsLayout::abi();
        for (i, name) in PT_REGS_MEMBERS.iter().enumerate() {
            if let Some(o) = offset_of(name) {
                l.offsets[i] = o;
            }
        }
        if let Some(s) = size {
            l.size = s;
        }
        l
    }
    /// Offset of `ip`: the hardware (iret) frame starts here.
    pub fn iret_offset(&self) -> u64 {
        self.offsets[IP]
    }
    /// Reads a `pt_regs` at `addr`; `partial` reads only the iret frame (the rest is shown but
    /// not trusted for unwinding).
    pub fn read(&self, env: &dyn UnwindEnv, addr: u64, partial: bool) -> Result<PtRegs, u64> {
        let mut vals = [0u64; 21];
        for (i, v) in vals.iter_mut().enumerate() {
            let a = addr.wrapping_add(self.offsets[i]);
            match env.read_u64(a) {
                Some(x) => *v = x,
                None if partial && i < IP => *v = 0,
                None => return Err(a),
            }
        }
        Ok(PtRegs { vals, partial })
    }
}

/// A `pt_regs` read from the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PtRegs {
    /// In [`PT_REGS_MEMBERS`] order.
    pub vals: [u64; 21],
    /// Only the iret frame (ip, cs, flags, sp, ss) is valid (ORC REGS_PARTIAL).
    pub partial: bool,
}

impl PtRegs {
    pub fn get(&self, member: &str) -> u64 {
        PT_REGS_MEMBERS
            .iter()
            .position(|m| *m == member)
            .map(|i| self.vals[i])
            .unwrap_or(0)
    }
    pub fn ip(&self) -> u64 {
        self.vals[IP]
    }
    pub fn sp(&self) -> u64 {
        self.vals[SP]
    }
    pub fn cs(&self) -> u64 {
        self.vals[CS]
    }
    pub fn flags(&self) -> u64 {
        self.vals[FLAGS]
    }
    pub fn ss(&self) -> u64 {
        self.vals[SS]
    }
    /// The value of DWARF register `n` (x86_64 numbering: 0 rax, 1 rdx, 2 rcx, 3 rbx, 4 rsi,
    /// 5 rdi, 6 rbp, 7 rsp, 8-15 r8-r15, 16 rip); None for other numbers, and for all but
    /// rsp and rip in a partial frame.
    pub fn dwarf(&self, n: u16) -> Option<u64> {
        const BY_DWARF: [&str; 17] = [
            "ax", "dx", "cx", "bx", "si", "di", "bp", "sp", "r8", "r9", "r10", "r11", "r12", "r13",
            "r14", "r15", "ip",
        ];
        let m = *BY_DWARF.get(usize::from(n))?;
        if self.partial && m != "sp" && m != "ip" {
            return None;
        }
        Some(self.get(m))
    }
    /// Saved in user mode (RPL 3 in `cs`).
    pub fn user_mode(&self) -> bool {
        self.cs() & 3 == 3
    }
    /// The registers for the interrupted context; partial frames keep `base`'s other values.
    pub fn to_registers(&self, base: &RegisterSet) -> RegisterSet {
        let mut r = if self.partial {
            *base
        } else {
            RegisterSet::default()
        };
        r.set(Reg::Rip, self.ip());
        r.set(Reg::Rsp, self.sp());
        if !self.partial {
            for (reg, m) in [
                (Reg::R15, "r15"),
                (Reg::R14, "r14"),
                (Reg::R13, "r13"),
                (Reg::R12, "r12"),
                (Reg::Rbp, "bp"),
                (Reg::Rbx, "bx"),
                (Reg::R11, "r11"),
                (Reg::R10, "r10"),
                (Reg::R9, "r9"),
                (Reg::R8, "r8"),
                (Reg::Rax, "ax"),
                (Reg::Rcx, "cx"),
                (Reg::Rdx, "dx"),
                (Reg::Rsi, "si"),
                (Reg::Rdi, "di"),
            ] {
                r.set(reg, self.get(m));
            }
        }
        r
    }
    /// A full `pt_regs` from CPU registers (a CPU note), for printing.
    pub fn from_values(vals: [u64; 21]) -> PtRegs {
        PtRegs {
            vals,
            partial: false,
        }
    }
}
