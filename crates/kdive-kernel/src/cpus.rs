//! CPU masks: which CPUs were present, online and possible at the crash.

use crate::{Kernel, Result};

/// The set of CPU numbers in a `struct cpumask`.
pub fn read_cpumask(k: &Kernel, symbol: &str) -> Result<Vec<u32>> {
    let addr = k.symbol_addr(symbol)?;
    let size = k.layout.struct_size("cpumask").unwrap_or(1024).min(1024) as usize;
    let mut buf = vec![0u8; size];
    k.read(addr, &mut buf, symbol)?;
    Ok(bits_set(&buf))
}

/// Numbers of the bits set in a little-endian kernel bitmap.
pub fn bits_set(buf: &[u8]) -> Vec<u32> {
    let mut out = Vec::new();
    for (i, b) in buf.iter().enumerate() {
        for bit in 0..8 {
            if b & (1 << bit) != 0 {
                out.push((i * 8 + bit) as u32);
            }
        }
    }
    out
}

/// CPU counts as `sys` shows them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CpuCounts {
    /// Highest present CPU + 1 (crash's CPUS).
    pub cpus: u32,
    pub online: Vec<u32>,
    pub present: Vec<u32>,
}

impl Kernel {
    pub fn cpu_counts(&self) -> Result<CpuCounts> {
        let present = read_cpumask(self, "__cpu_present_mask")?;
        let online = read_cpumask(self, "__cpu_online_mask").unwrap_or_else(|_| present.clone());
        let cpus = present.iter().max().map(|m| m + 1).unwrap_or(1);
        Ok(CpuCounts {
            cpus,
            online,
            present,
        })
    }
}
