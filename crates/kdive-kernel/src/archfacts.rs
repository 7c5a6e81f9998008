//! Architecture facts the kernel model needs beyond address translation — thread-flag bit
//! numbers and `sigaction` flag values are per-architecture #defines with no debug info —
//! chosen by the address space's architecture (the one seam for such constants here).

use crate::Kernel;

/// Per-architecture constants (arch/*/include/asm/thread_info.h, uapi/asm/signal.h).
#[derive(Debug, Clone, Copy)]
pub struct ArchFacts {
    /// `TIF_SIGPENDING`: the thread-info flag bit set while a signal is pending.
    pub tif_sigpending: u32,
    /// `SA_*` flag values and names, in the order crash prints them.
    pub sa_flags: &'static [(u64, &'static str)],
    /// `_NSIG`: signals per set (1..=_NSIG), real-time ones from 32 (`SIGRTMIN`).
    pub nsig: u32,
}

const X86_64: ArchFacts = ArchFacts {
    tif_sigpending: 2,
    sa_flags: &[
        (0x0000_0001, "SA_NOCLDSTOP"),
        (0x0400_0000, "SA_RESTORER"),
        (0x0000_0002, "SA_NOCLDWAIT"),
        (0x0000_0004, "SA_SIGINFO"),
        (0x0800_0000, "SA_ONSTACK"),
        (0x1000_0000, "SA_RESTART"),
        (0x4000_0000, "SA_NODEFER"),
        (0x8000_0000, "SA_RESETHAND"),
    ],
    nsig: 64,
};

impl Kernel {
    /// The facts for this dump's architecture, or None for one kdive does not know.
    pub fn arch_facts(&self) -> Option<ArchFacts> {
        match self.mem.arch_name() {
            "x86_64" => Some(X86_64),
            _ => None,
        }
    }
}
