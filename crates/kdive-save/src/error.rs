//! The one error type of `kdive save`: what failed, on which file, and why.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// SOURCE could not be opened as a dump.
    #[error("{path}: not a dump kdive can read: {detail}")]
    NotADump { path: PathBuf, detail: String },
    /// An I/O error while doing `what` on `path`.
    #[error("{path}: {what}: {source}")]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: io::Error,
    },
    /// The dump level cannot be applied (no VMCOREINFO, unreadable mem_map, ...).
    #[error("cannot filter: {0}")]
    Filter(String),
    /// The command line asks for something impossible.
    #[error("{0}")]
    Usage(String),
    /// A signal asked us to stop.
    #[error("interrupted by signal {0}")]
    Interrupted(i32),
}

impl SaveError {
    pub(crate) fn io(path: impl Into<PathBuf>, what: &'static str, source: io::Error) -> Self {
        SaveError::Io {
            path: path.into(),
            what,
            source,
        }
    }

    /// True for "no space left on device" (and quota) errors.
    pub fn is_out_of_space(&self) -> bool {
        matches!(self, SaveError::Io { source, .. }
            if matches!(source.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT)))
    }
}

pub type Result<T> = std::result::Result<T, SaveError>;
