//! What the unwinder needs from the dump: stack words, and whether an address is kernel text.

use kdive_kspace::KernelSpace;

/// Memory and code knowledge the unwinder reads through.
pub trait UnwindEnv {
    /// An 8-byte little-endian word at a kernel virtual address; None when it cannot be read.
    fn read_u64(&self, addr: u64) -> Option<u64>;
    /// Whether `pc` lies in kernel or module text (a plausible return address).
    fn is_text(&self, pc: u64) -> bool;
}

/// A [`KernelSpace`] plus a text test.
pub struct MemEnv<'a, F: Fn(u64) -> bool> {
    pub mem: &'a KernelSpace,
    pub is_text: F,
}

impl<F: Fn(u64) -> bool> UnwindEnv for MemEnv<'_, F> {
    fn read_u64(&self, addr: u64) -> Option<u64> {
        self.mem.read_u64(addr).ok()
    }
    fn is_text(&self, pc: u64) -> bool {
        (self.is_text)(pc)
    }
}
