//! Per-CPU variables: `__per_cpu_offset[cpu]` added to a per-CPU symbol's address.

use crate::{AddrExt, Kernel, Result};

impl Kernel {
    /// The per-CPU offset of `cpu` (0 on a kernel without `__per_cpu_offset`).
    pub fn per_cpu_offset(&self, cpu: u32) -> Result<u64> {
        match self.symbol_addr("__per_cpu_offset") {
            // `cpu` may come from damaged data: an address that wraps is simply unreadable.
            Ok(base) => self.read_u64(base.elem(u64::from(cpu), 8), "__per_cpu_offset[]"),
            Err(_) => Ok(0),
        }
    }

    /// Address of per-CPU variable `addr` (as linked) for `cpu`.
    pub fn per_cpu_addr(&self, addr: u64, cpu: u32) -> Result<u64> {
        Ok(addr.off(self.per_cpu_offset(cpu)?))
    }
}
