//! The crate's one error type: which virtual address failed, and at which step.

use kdive_physmem::PhysError;

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A page-table entry on the way to `va` was not present.
    #[error("virtual address {va:#x} is not mapped ({level} entry not present)")]
    NotMapped { va: u64, level: &'static str },
    /// The translation worked but the physical memory behind it (or a page table on the way)
    /// could not be read; `source` names the physical address.
    #[error("virtual address {va:#x}: {source}")]
    Phys { va: u64, source: PhysError },
    #[error("virtual address {va:#x} is not canonical")]
    NonCanonical { va: u64 },
    /// A page-table entry that the hardware would reject (e.g. a large-page bit where none is
    /// allowed, or a table address outside physical memory).
    #[error("virtual address {va:#x}: corrupt {level} entry {entry:#x}")]
    BadEntry {
        va: u64,
        level: &'static str,
        entry: u64,
    },
    /// Something about the kernel's layout is not known (yet) or not credible.
    #[error("kernel layout unknown: {0}")]
    NoLayout(String),
}

impl Error {
    /// The virtual address that failed, when there is one.
    pub fn va(&self) -> Option<u64> {
        match self {
            Error::NotMapped { va, .. }
            | Error::Phys { va, .. }
            | Error::NonCanonical { va }
            | Error::BadEntry { va, .. } => Some(*va),
            Error::NoLayout(_) => None,
        }
    }
}
