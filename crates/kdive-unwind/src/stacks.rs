//! Known stacks: where a stack pointer may legitimately point.

use serde::Serialize;

/// Which stack a region is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StackKind {
    /// A task's kernel stack (`task->stack`, THREAD_SIZE bytes).
    Task,
    /// A CPU's hard-IRQ stack (`hardirq_stack_ptr`).
    Irq,
    /// A CPU's exception (IST) stack: NMI, #DF, #DB, #MC, #VC.
    Exception(&'static str),
    /// A CPU's entry trampoline stack.
    Entry,
}

impl StackKind {
    /// crash's name for the stack in `--- <... stack> ---` lines.
    pub fn crash_name(self) -> String {
        match self {
            StackKind::Task => "process stack".into(),
            StackKind::Irq => "IRQ stack".into(),
            StackKind::Exception(n) => format!("{n} exception stack"),
            StackKind::Entry => "entry stack".into(),
        }
    }
}

/// `[lo, hi)`: a stack's address range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StackRegion {
    pub kind: StackKind,
    pub lo: u64,
    pub hi: u64,
}

impl StackRegion {
    pub fn new(kind: StackKind, lo: u64, hi: u64) -> StackRegion {
        StackRegion { kind, lo, hi }
    }
    /// Whether `len` bytes at `addr` lie inside.
    pub fn contains(&self, addr: u64, len: u64) -> bool {
        addr >= self.lo && addr.checked_add(len).is_some_and(|e| e <= self.hi)
    }
}

/// The region holding `addr` (8 bytes), if any.
pub fn region_of(stacks: &[StackRegion], addr: u64) -> Option<usize> {
    stacks.iter().position(|r| r.contains(addr, 8))
}
