//! Frames and traces: what an unwind produced and why it stopped.

use crate::arch::x86_64::{ptregs::PtRegs, regs::RegisterSet};
use crate::stacks::StackKind;
use serde::Serialize;

/// How a frame's pc and sp were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Method {
    /// The starting registers (CPU note, saved task context).
    Start,
    /// ORC entry of the callee.
    Orc,
    /// DWARF CFI (`.debug_frame`) of the callee.
    Cfi,
    /// The callee's frame-pointer chain.
    FramePointer,
    /// A `pt_regs` saved on the stack by entry code (exception, interrupt, syscall).
    PtRegs,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Start => "start",
            Method::Orc => "orc",
            Method::Cfi => "cfi",
            Method::FramePointer => "fp",
            Method::PtRegs => "pt_regs",
        }
    }
}

/// One frame of a trace.
#[derive(Debug, Clone, Serialize)]
pub struct Frame {
    /// Where execution is (a return address, or an interrupted pc).
    pub pc: u64,
    /// The stack pointer while executing in this frame.
    pub sp: u64,
    /// Stack address the pc was read from (crash's `[SP]` column); None for register starts.
    pub slot: Option<u64>,
    /// The pc was interrupted (came from registers, not a return address): look up `pc`, not `pc-1`.
    pub interrupted: bool,
    pub method: Method,
    /// Which stack `sp` lies on, when known.
    pub stack: Option<StackKind>,
    /// Registers known in this frame.
    pub regs: RegisterSet,
    /// The saved registers this frame's pc came from (exception/interrupt/syscall entry).
    pub pt_regs: Option<PtRegs>,
    /// Where the `pt_regs` lay on the stack.
    pub pt_regs_addr: Option<u64>,
}

impl Frame {
    /// A user-mode frame (saved `cs` has RPL 3): the kernel stack ends here.
    pub fn is_user(&self) -> bool {
        self.pt_regs.as_ref().is_some_and(|r| r.user_mode())
    }
}

/// Why a walk ended early.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum StopReason {
    /// A stack word could not be read.
    Unreadable(u64),
    /// A return address that is not kernel text.
    BadReturnAddress(u64),
    /// The stack pointer left every known stack.
    SpOutsideStack(u64),
    /// The stack pointer did not move up on the same stack.
    SpWrongDirection { sp: u64, prev: u64 },
    /// Returned to a stack already walked.
    StackRevisited(u64),
    /// No unwind information for the pc and no usable frame pointer.
    NoUnwindInfo(u64),
    /// ORC says the pc has no valid unwind state (undefined entry).
    UndefinedOrc(u64),
    /// A register ORC needs is not known in this frame.
    UnknownRegister { pc: u64, reg: &'static str },
    /// The frame limit was reached.
    TooManyFrames(usize),
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Unreadable(a) => write!(f, "stack address {a:x} unreadable"),
            StopReason::BadReturnAddress(a) => write!(f, "return address {a:x} is not kernel text"),
            StopReason::SpOutsideStack(s) => write!(f, "sp {s:x} outside known stacks"),
            StopReason::SpWrongDirection { sp, prev } => {
                write!(f, "sp {sp:x} not above previous sp {prev:x}")
            }
            StopReason::StackRevisited(s) => {
                write!(f, "sp {s:x} returns to a stack already walked")
            }
            StopReason::NoUnwindInfo(pc) => write!(f, "no unwind info for {pc:x}"),
            StopReason::UndefinedOrc(pc) => write!(f, "ORC undefined at {pc:x}"),
            StopReason::UnknownRegister { pc, reg } => {
                write!(f, "ORC at {pc:x} needs unknown register {reg}")
            }
            StopReason::TooManyFrames(n) => write!(f, "more than {n} frames"),
        }
    }
}

/// An unwind: frames innermost first, and the reason it stopped early (None: reached the end).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Trace {
    pub frames: Vec<Frame>,
    pub stop: Option<StopReason>,
}
