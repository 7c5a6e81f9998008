//! The kernel's utsname (`init_uts_ns.name`): node name, release, version, machine.

use crate::{AddrExt, Kernel, Result};

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Utsname {
    pub sysname: String,
    pub nodename: String,
    pub release: String,
    pub version: String,
    pub machine: String,
    pub domainname: String,
}

const FIELD: usize = 65;

impl Kernel {
    pub fn utsname(&self) -> Result<Utsname> {
        let ns = self.symbol_addr("init_uts_ns")?;
        let off = self.layout.offset("uts_namespace", "name")?;
        let mut buf = [0u8; FIELD * 6];
        self.read(ns.off(off), &mut buf, "init_uts_ns.name")?;
        let field = |i: usize| {
            let f = &buf[i * FIELD..(i + 1) * FIELD];
            let end = f.iter().position(|&b| b == 0).unwrap_or(FIELD);
            String::from_utf8_lossy(&f[..end]).into_owned()
        };
        Ok(Utsname {
            sysname: field(0),
            nodename: field(1),
            release: field(2),
            version: field(3),
            machine: field(4),
            domainname: field(5),
        })
    }
}
