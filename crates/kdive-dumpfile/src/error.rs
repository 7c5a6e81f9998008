//! The crate's one error type: what was being read, in which file, at which offset or address.

use std::path::PathBuf;

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a crash dump this tool reads: {detail}")]
    Unsupported { path: PathBuf, detail: String },
    #[error("{path}: corrupt {what} at file offset {offset:#x}: {detail}")]
    Corrupt {
        path: PathBuf,
        what: &'static str,
        offset: u64,
        detail: String,
    },
    #[error("{path}: file is truncated: {what} needs bytes up to {needed:#x}, file has {len:#x}")]
    Truncated {
        path: PathBuf,
        what: &'static str,
        needed: u64,
        len: u64,
    },
    #[error("physical address {paddr:#x} was excluded from the dump")]
    Excluded { paddr: u64 },
    #[error("physical address {paddr:#x} is not in the dump")]
    NotInDump { paddr: u64 },
    #[error("physical address {paddr:#x}: page data lies beyond the end of the truncated file")]
    PageTruncated { paddr: u64 },
    #[error("physical address {paddr:#x}: cannot decompress page: {detail}")]
    BadPage { paddr: u64, detail: String },
    #[error(
        "{path}: split dump set is incomplete: no file given covers PFNs [{start_pfn:#x}, {end_pfn:#x}) \
         ({given} file(s) given)"
    )]
    SplitIncomplete {
        path: PathBuf,
        start_pfn: u64,
        end_pfn: u64,
        given: usize,
    },
}
