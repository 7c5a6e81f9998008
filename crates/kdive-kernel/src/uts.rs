//! The kernel's utsname (`init_uts_ns.name`): node name, release, version, machine.

use crate::{AddrExt, Kernel, Result};

pub use kdive_dumpfile::Utsname;

impl Kernel {
    pub fn utsname(&self) -> Result<Utsname> {
        let ns = self.symbol_addr("init_uts_ns")?;
        let off = self.layout.offset("uts_namespace", "name")?;
        let mut buf = [0u8; Utsname::LEN];
        self.read(ns.off(off), &mut buf, "init_uts_ns.name")?;
        Ok(Utsname::from_bytes(&buf))
    }
}
