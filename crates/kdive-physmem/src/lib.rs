//! Physical memory: the one trait every memory source implements (dump files today; live
//! `/proc/kcore` and QEMU later), with errors that say why an address cannot be read.

use std::sync::Arc;

pub use kdive_dumpfile::Dump;

/// Why a physical address could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhysError {
    #[error("physical address {0:#x} was excluded from the dump")]
    Excluded(u64),
    #[error("physical address {0:#x} is not in the dump")]
    NotInDump(u64),
    #[error("physical address {0:#x} lies beyond the end of the truncated dump")]
    Truncated(u64),
    #[error("physical address {addr:#x}: {detail}")]
    Corrupt { addr: u64, detail: String },
}

impl PhysError {
    pub fn addr(&self) -> u64 {
        match self {
            PhysError::Excluded(a) | PhysError::NotInDump(a) | PhysError::Truncated(a) => *a,
            PhysError::Corrupt { addr, .. } => *addr,
        }
    }
}

/// A source of physical memory.
pub trait PhysMem: Send + Sync {
    /// Fills `buf` from physical address `addr`; fails as a whole if any byte is unreadable.
    fn read_phys(&self, addr: u64, buf: &mut [u8]) -> Result<(), PhysError>;
}

impl PhysMem for Dump {
    fn read_phys(&self, addr: u64, buf: &mut [u8]) -> Result<(), PhysError> {
        use kdive_dumpfile::Error as E;
        Dump::read_phys(self, addr, buf).map_err(|e| match e {
            E::Excluded { paddr } => PhysError::Excluded(paddr),
            E::NotInDump { paddr } => PhysError::NotInDump(paddr),
            E::PageTruncated { paddr } => PhysError::Truncated(paddr),
            E::BadPage { paddr, detail } => PhysError::Corrupt {
                addr: paddr,
                detail,
            },
            other => PhysError::Corrupt {
                addr,
                detail: other.to_string(),
            },
        })
    }
}

impl<T: PhysMem + ?Sized> PhysMem for Arc<T> {
    fn read_phys(&self, addr: u64, buf: &mut [u8]) -> Result<(), PhysError> {
        (**self).read_phys(addr, buf)
    }
}

/// Physical memory held in a byte vector at a base address (for tests and synthetic images).
pub struct VecMem {
    pub base: u64,
    pub bytes: Vec<u8>,
}

impl PhysMem for VecMem {
    fn read_phys(&self, addr: u64, buf: &mut [u8]) -> Result<(), PhysError> {
        let start = addr
            .checked_sub(self.base)
            .ok_or(PhysError::NotInDump(addr))? as usize;
        let end = start
            .checked_add(buf.len())
            .ok_or(PhysError::NotInDump(addr))?;
        let src = self
            .bytes
            .get(start..end)
            .ok_or(PhysError::NotInDump(addr))?;
        buf.copy_from_slice(src);
        Ok(())
    }
}
