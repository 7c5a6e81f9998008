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

/// One CPU's `__per_cpu_offset[]` entry (`kmem -o`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct CpuOffset {
    pub cpu: u32,
    pub offset: u64,
    /// In `__cpu_online_mask` at the crash.
    pub online: bool,
}

impl Kernel {
    /// `__per_cpu_offset[]` of CPUs 0 to the highest present one (crash's CPUS), each marked
    /// online or not; an entry that cannot be read is named in `problems`.
    pub fn per_cpu_offsets(&self) -> Result<crate::walk::Walked<CpuOffset>> {
        let base = self.symbol_addr("__per_cpu_offset")?;
        let counts = self.cpu_counts()?;
        let mut out = crate::walk::Walked::default();
        for cpu in 0..counts.cpus {
            match self.read_u64(base.elem(u64::from(cpu), 8), "__per_cpu_offset[]") {
                Ok(offset) => out.items.push(CpuOffset {
                    cpu,
                    offset,
                    online: counts.online.contains(&cpu),
                }),
                Err(e) => out.problems.push(format!("__per_cpu_offset[{cpu}]: {e}")),
            }
        }
        Ok(out)
    }
}
