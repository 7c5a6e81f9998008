//! x86_64 general registers and a set of known values.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// The registers an unwind tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reg {
    Rax,
    Rbx,
    Rcx,
    Rdx,
    Rsi,
    Rdi,
    Rbp,
    Rsp,
    R8,
    R9,
    R10,
    R11,
    R12,
    R13,
    R14,
    R15,
    Rip,
}

impl Reg {
    pub const ALL: [Reg; 17] = [
        Reg::Rip,
        Reg::Rsp,
        Reg::Rbp,
        Reg::Rax,
        Reg::Rbx,
        Reg::Rcx,
        Reg::Rdx,
        Reg::Rsi,
        Reg::Rdi,
        Reg::R8,
        Reg::R9,
        Reg::R10,
        Reg::R11,
        Reg::R12,
        Reg::R13,
        Reg::R14,
        Reg::R15,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Reg::Rax => "rax",
            Reg::Rbx => "rbx",
            Reg::Rcx => "rcx",
            Reg::Rdx => "rdx",
            Reg::Rsi => "rsi",
            Reg::Rdi => "rdi",
            Reg::Rbp => "rbp",
            Reg::Rsp => "rsp",
            Reg::R8 => "r8",
            Reg::R9 => "r9",
            Reg::R10 => "r10",
            Reg::R11 => "r11",
            Reg::R12 => "r12",
            Reg::R13 => "r13",
            Reg::R14 => "r14",
            Reg::R15 => "r15",
            Reg::Rip => "rip",
        }
    }
    fn index(self) -> usize {
        self as usize
    }
}

/// Register values known in one frame (unknown ones are None).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegisterSet {
    vals: [Option<u64>; 17],
}

impl RegisterSet {
    /// Only pc and sp known.
    pub fn pc_sp(pc: u64, sp: u64) -> RegisterSet {
        let mut r = RegisterSet::default();
        r.set(Reg::Rip, pc);
        r.set(Reg::Rsp, sp);
        r
    }
    pub fn get(&self, r: Reg) -> Option<u64> {
        self.vals[r.index()]
    }
    pub fn set(&mut self, r: Reg, v: u64) {
        self.vals[r.index()] = Some(v);
    }
    pub fn set_opt(&mut self, r: Reg, v: Option<u64>) {
        self.vals[r.index()] = v;
    }
    pub fn pc(&self) -> u64 {
        self.get(Reg::Rip).unwrap_or(0)
    }
    pub fn sp(&self) -> u64 {
        self.get(Reg::Rsp).unwrap_or(0)
    }
    /// Known registers in a fixed order (rip, rsp, rbp, then the rest).
    pub fn known(&self) -> impl Iterator<Item = (Reg, u64)> + '_ {
        Reg::ALL
            .iter()
            .filter_map(move |&r| self.get(r).map(|v| (r, v)))
    }
}

impl Serialize for RegisterSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let known: Vec<_> = self.known().collect();
        let mut m = s.serialize_map(Some(known.len()))?;
        for (r, v) in known {
            m.serialize_entry(r.name(), &format!("{v:#x}"))?;
        }
        m.end()
    }
}
