//! Kernel stack unwinding for post-mortem dumps: from a task's starting registers to a list of
//! frames, each saying which method found it (ORC, DWARF CFI, frame pointer, saved `pt_regs`).
//!
//! The crate knows stacks, registers and unwind tables; it does not know tasks or CPUs (the
//! kernel model in `kdive-kernel` picks starting registers and stack bounds). Everything
//! architecture-specific sits under `arch/` — the one seam; x86_64 is the only implementation.
//! Every walk is bounded: a frame limit, and a stack pointer that must move up within a known
//! stack (each stack visited once), so corrupted stacks end with a reason instead of looping.

pub mod arch;
pub mod env;
pub mod frame;
pub mod stacks;

pub use arch::x86_64::{
    cfi::CfiTable,
    orc::{OrcEntry, OrcFormat, OrcKind, OrcTable},
    ptregs::{PtRegs, PtRegsLayout},
    regs::{Reg, RegisterSet},
    Start, Unwinder,
};
pub use env::{MemEnv, UnwindEnv};
pub use frame::{Frame, Method, StopReason, Trace};
pub use stacks::{StackKind, StackRegion};
