//! The bytes of a dump file: either the memory-mapped file itself, or the logical file a
//! flattened stream describes (read in place through its record index).

use std::borrow::Cow;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;

use crate::error::{Error, Result};
use crate::flat::FlatIndex;

/// One opened, memory-mapped file.
pub(crate) struct MappedFile {
    path: PathBuf,
    map: Option<Mmap>,
}

impl MappedFile {
    pub(crate) fn open(path: &Path) -> Result<MappedFile> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        // SAFETY: the dump is opened read-only; as with every mmap reader, another process
        // truncating the file under us could fault. Dumps are not modified while read.
        let map = if len == 0 {
            None
        } else {
            Some(unsafe { Mmap::map(&file) }.map_err(io)?)
        };
        Ok(MappedFile {
            path: path.to_path_buf(),
            map,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }
}

/// The bytes a format reader sees, addressed by offset in the (logical) dump file.
pub(crate) enum Source {
    Mapped(Arc<MappedFile>),
    Flat {
        file: Arc<MappedFile>,
        index: FlatIndex,
    },
}

impl Source {
    pub(crate) fn path(&self) -> &Path {
        match self {
            Source::Mapped(f) | Source::Flat { file: f, .. } => f.path(),
        }
    }

    /// Length of the (logical) file.
    pub(crate) fn len(&self) -> u64 {
        match self {
            Source::Mapped(f) => f.bytes().len() as u64,
            Source::Flat { index, .. } => index.logical_len(),
        }
    }

    /// `len` bytes at `off`, or `None` when they run past the end. Never allocates more than
    /// `len`, and only after checking that `off + len` lies inside the file.
    pub(crate) fn get(&self, off: u64, len: usize) -> Option<Cow<'_, [u8]>> {
        let end = off.checked_add(len as u64)?;
        if end > self.len() {
            return None;
        }
        match self {
            Source::Mapped(f) => f.bytes().get(off as usize..end as usize).map(Cow::Borrowed),
            Source::Flat { file, index } => index.get(file.bytes(), off, len),
        }
    }

    /// Like [`Source::get`], with a `Truncated` error naming `what`.
    pub(crate) fn bytes(&self, off: u64, len: u64, what: &'static str) -> Result<Cow<'_, [u8]>> {
        let needed = off.saturating_add(len);
        let len_usize = usize::try_from(len).ok();
        len_usize
            .and_then(|l| self.get(off, l))
            .ok_or_else(|| Error::Truncated {
                path: self.path().to_path_buf(),
                what,
                needed,
                len: self.len(),
            })
    }

    /// True when the flattened stream ended without its end marker.
    pub(crate) fn stream_truncated(&self) -> bool {
        match self {
            Source::Mapped(_) => false,
            Source::Flat { index, .. } => index.truncated(),
        }
    }

    pub(crate) fn is_flat(&self) -> bool {
        matches!(self, Source::Flat { .. })
    }

    pub(crate) fn corrupt(
        &self,
        what: &'static str,
        offset: u64,
        detail: impl Into<String>,
    ) -> Error {
        Error::Corrupt {
            path: self.path().to_path_buf(),
            what,
            offset,
            detail: detail.into(),
        }
    }

    pub(crate) fn unsupported(&self, detail: impl Into<String>) -> Error {
        Error::Unsupported {
            path: self.path().to_path_buf(),
            detail: detail.into(),
        }
    }
}

/// Little-endian field readers over a byte slice known to be long enough.
pub(crate) fn le_u16(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}

pub(crate) fn le_u32(b: &[u8], off: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[off..off + 4]);
    u32::from_le_bytes(a)
}

pub(crate) fn le_u64(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(a)
}

pub(crate) fn be_i64(b: &[u8], off: usize) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    i64::from_be_bytes(a)
}
