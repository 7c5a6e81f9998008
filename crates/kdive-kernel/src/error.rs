//! The kernel model's one error type: which structure, symbol or address could not be read.

use std::path::PathBuf;

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Dump(#[from] kdive_dumpfile::Error),
    #[error("cannot read {what} at {va:#x}: {source}")]
    Read {
        what: String,
        va: u64,
        source: kdive_kspace::Error,
    },
    #[error("{0}")]
    Memory(#[from] kdive_kspace::Error),
    #[error("symbol not found: {0}")]
    MissingSymbol(String),
    #[error("no type information for {0}")]
    MissingType(String),
    #[error("{path}: {detail}")]
    File { path: PathBuf, detail: String },
    #[error("{0}")]
    Usage(String),
    #[error("{what}: {detail}")]
    Corrupt { what: String, detail: String },
    #[error("{0}")]
    Debuginfo(String),
}
