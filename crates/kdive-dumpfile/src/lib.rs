//! Crash dump file formats: turns the bytes of an ELF vmcore, a kdump-compressed file, a
//! flattened stream or a split set into pages of physical memory, CPU notes and VMCOREINFO.
//!
//! This crate knows nothing about the kernel beyond the dump formats themselves.
//! (Skeleton: the format readers are being written; see ARCHITECTURE.md.)

pub mod error;
pub mod notes;
pub mod vmcoreinfo;

pub use error::{Error, Result};
pub use notes::{CpuRegisters, Notes, PrStatus, QemuCpuState};
pub use vmcoreinfo::Vmcoreinfo;

use std::path::{Path, PathBuf};

/// Page compression used inside a kdump-compressed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Zlib,
    Lzo,
    Snappy,
    Zstd,
}

/// Which format a dump file is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DumpFormat {
    /// ELF core (a /proc/vmcore copy, `makedumpfile -E`, QEMU `dump-guest-memory`).
    Elf { qemu: bool },
    /// makedumpfile's kdump-compressed format ("KDUMP   " signature).
    Kdump { header_version: u32, compression: Compression },
    /// A flattened stream wrapping another format.
    Flattened(Box<DumpFormat>),
    /// A `--split` set of kdump-compressed files.
    Split { parts: usize, inner: Box<DumpFormat> },
}

/// Facts from the dump's own header (kdump header, ELF flags).
#[derive(Debug, Clone, Default)]
pub struct HeaderInfo {
    /// makedumpfile dump level (-d), when the format records it.
    pub dump_level: Option<u32>,
    /// The writer marked the dump incomplete (kdump status 0x8, ELF e_flags 1).
    pub incomplete: bool,
    /// utsname fields from a kdump header (may be empty: QEMU leaves them empty).
    pub utsname: Option<Utsname>,
    /// Dump timestamp (seconds, microseconds) from a kdump header.
    pub timestamp: Option<(i64, i64)>,
    /// Number of CPUs the header records.
    pub nr_cpus: Option<u32>,
    /// CPU that was current when the dump was written (kdump header).
    pub current_cpu: Option<u32>,
    pub page_size: u64,
    /// Highest page frame number + 1 the dump describes.
    pub max_pfn: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Utsname {
    pub sysname: String,
    pub nodename: String,
    pub release: String,
    pub version: String,
    pub machine: String,
    pub domainname: String,
}

/// An opened dump: read-only, lazily decoded.
pub struct Dump {
    _private: (),
}

impl Dump {
    /// Opens one dump file, or all files of a split set (given together, in any order).
    pub fn open(paths: &[PathBuf]) -> Result<Dump> {
        let _ = paths;
        Err(Error::Unsupported { path: PathBuf::new(), detail: "dump readers not yet built".into() })
    }

    /// True when the file starts like a dump this crate reads (used to tell vmlinux from dump).
    pub fn sniff(path: &Path) -> bool {
        let _ = path;
        false
    }

    pub fn format(&self) -> &DumpFormat {
        unimplemented!()
    }
    pub fn header(&self) -> &HeaderInfo {
        unimplemented!()
    }
    pub fn notes(&self) -> &Notes {
        unimplemented!()
    }
    pub fn vmcoreinfo(&self) -> Option<&Vmcoreinfo> {
        unimplemented!()
    }
    /// Reads physical memory; a page the dump level excluded is `Error::Excluded`, never zeros.
    pub fn read_phys(&self, paddr: u64, buf: &mut [u8]) -> Result<()> {
        let _ = (paddr, buf);
        unimplemented!()
    }
    /// True when some RAM pages are not in the dump (filtered, incomplete).
    pub fn is_partial(&self) -> bool {
        unimplemented!()
    }
}
