//! DWARF from a vmlinux: a parallel name index over `.debug_info` (persisted per build-ID),
//! lazy conversion of the DIEs a command asks for into the shared [`TypeGraph`](crate::TypeGraph)
//! ([`DwarfLoader`], a [`TypeLoader`](crate::TypeLoader)), and line tables / function ranges for
//! addresses.
//!
//! - `scan.rs`: bytes → unit headers, abbreviations, the DIE walk the indexer uses.
//! - `index.rs`: the parallel indexer and lookups over the serialised index.
//! - `cache.rs`: the on-disk index file (versioned, checksummed, atomically written, mmap'd).
//! - `loader.rs`: DIEs → types (gimli), deduplicated per kind and name.
//! - `lines.rs`: address → file:line and function (addr2line over the same sections).
//! - `locals.rs`: variables live at an address (parameters, locals, inlined ones) and where.
//!
//! Relocation sections (`.rela.debug_*`) are never applied: in the kernel's ET_EXEC vmlinux
//! the DWARF addresses are final.

pub mod cache;
pub mod index;
mod lines;
mod loader;
mod locals;
mod relocated;
mod rows;
mod scan;

pub use cache::{default_cache_dir, CacheReject, IndexKey};
pub use index::{BuildStats, Entry, EntryKind};
pub use lines::{Frame, FunctionRange};
pub use loader::DwarfLoader;
pub use locals::{register_name, FunctionLocals, Loc, Local, MemberPath, MemberStep};
pub use rows::{LineRow, LineTable};

use crate::elf::VmlinuxElf;
use cache::StoredIndex;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Errors reading DWARF: what was being read and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DwarfError {
    #[error("{path}: no DWARF debug info (.debug_info/.debug_abbrev missing)")]
    NoDebugInfo { path: PathBuf },
    #[error("{path}: compressed debug sections are not supported")]
    Compressed { path: PathBuf },
    #[error("malformed {section} at offset {offset:#x}: {what}")]
    Malformed {
        section: &'static str,
        offset: u64,
        what: &'static str,
    },
    #[error("{path}: {what}")]
    Io { path: PathBuf, what: String },
}

/// The DWARF sections the indexer reads (empty slices for absent ones).
#[derive(Clone, Copy, Default)]
pub(crate) struct Sections<'a> {
    pub info: &'a [u8],
    pub abbrev: &'a [u8],
    pub str: &'a [u8],
    pub line_str: &'a [u8],
    pub str_offsets: &'a [u8],
    pub addr: &'a [u8],
    pub rnglists: &'a [u8],
    pub ranges: &'a [u8],
    /// `info` is a file mapping whose pages may be released once scanned.
    pub release_scanned: bool,
}

pub(crate) type R = gimli::EndianSlice<'static, gimli::LittleEndian>;

impl Sections<'static> {
    /// The sections the index reads, and gimli's view of all of them, from one lookup by name
    /// (a missing section is empty).
    pub(crate) fn load(
        get: impl Fn(&str) -> &'static [u8],
        release_scanned: bool,
    ) -> (Sections<'static>, gimli::Dwarf<R>) {
        let secs = Sections {
            info: get(".debug_info"),
            abbrev: get(".debug_abbrev"),
            str: get(".debug_str"),
            line_str: get(".debug_line_str"),
            str_offsets: get(".debug_str_offsets"),
            addr: get(".debug_addr"),
            rnglists: get(".debug_rnglists"),
            ranges: get(".debug_ranges"),
            release_scanned,
        };
        let dwarf = gimli::Dwarf::load(|id| -> Result<R, ()> {
            Ok(gimli::EndianSlice::new(get(id.name()), gimli::LittleEndian))
        })
        .unwrap_or_default();
        (secs, dwarf)
    }
}

/// Where the index came from, for the "sources in use" line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexOrigin {
    /// Mapped from this cache file.
    Cached { path: PathBuf },
    /// Built now; `written` is the cache file it was saved to, `stale` why an existing cache
    /// file was not used, `write_error` why it could not be saved.
    Built {
        elapsed: Duration,
        written: Option<PathBuf>,
        stale: Option<String>,
        write_error: Option<String>,
    },
}

/// How to find or keep the index.
#[derive(Debug, Clone)]
pub struct IndexOptions {
    /// The cache directory (`index/<build-id>.idx` below it); None: no persistent cache.
    pub cache_dir: Option<PathBuf>,
}

impl Default for IndexOptions {
    /// The user's cache directory ($KDIVE_CACHE_DIR, else ~/.cache/kdive).
    fn default() -> Self {
        IndexOptions {
            cache_dir: default_cache_dir(),
        }
    }
}

/// A vmlinux's DWARF: sections, the name index, and a lazily built line-table context.
pub struct DwarfInfo {
    pub(crate) dwarf: gimli::Dwarf<R>,
    index: StoredIndex,
    origin: IndexOrigin,
    stats: Option<BuildStats>,
    lines: Mutex<lines::LineState>,
    path: PathBuf,
    // Keeps the mapping every `R` above borrows from alive; dropped last.
    /// (None for a module: its relocated sections are in `_owned`.)
    _elf: Option<Arc<VmlinuxElf>>,
    /// Relocated section copies (modules) that `dwarf` borrows from.
    _owned: Vec<Vec<u8>>,
}

impl std::fmt::Debug for DwarfInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DwarfInfo")
            .field("path", &self.path)
            .field("origin", &self.origin)
            .finish()
    }
}

/// A section's bytes with the lifetime of the mapping that `DwarfInfo` keeps alive.
fn static_section(elf: &VmlinuxElf, name: &str) -> &'static [u8] {
    let s = elf.section_data(name).unwrap_or(&[]);
    // SAFETY: `s` borrows from the read-only mmap inside `elf`; every `DwarfInfo` holding such
    // slices also holds the `Arc<VmlinuxElf>` (dropped after them), and a mapping never moves.
    // The slices never leave this module with the 'static lifetime.
    unsafe { std::slice::from_raw_parts(s.as_ptr(), s.len()) }
}

impl DwarfInfo {
    /// Opens the DWARF of `elf`, mapping a valid cached index or building (and caching) one.
    pub fn open(elf: Arc<VmlinuxElf>, opts: &IndexOptions) -> Result<DwarfInfo, DwarfError> {
        let path = elf.path().to_path_buf();
        for name in [".debug_info", ".debug_abbrev"] {
            match elf.section(name) {
                None => return Err(DwarfError::NoDebugInfo { path }),
                Some(s) if s.flags & u64::from(object::elf::SHF_COMPRESSED) != 0 => {
                    return Err(DwarfError::Compressed { path })
                }
                Some(_) => {}
            }
        }
        let get = |n: &str| static_section(&elf, n);
        let (secs, dwarf) = Sections::load(get, true);
        let build_id = elf.build_id().unwrap_or_default();
        let key = IndexKey::for_file(&path, &build_id, secs.info.len() as u64).map_err(|e| {
            DwarfError::Io {
                path: path.clone(),
                what: e.to_string(),
            }
        })?;
        let cache_file = opts
            .cache_dir
            .as_deref()
            .map(|d| cache::cache_path(d, &cache::FORMAT, &key));
        let mut stale = None;
        if let Some(cf) = &cache_file {
            match StoredIndex::open(cf, &key) {
                Ok(index) => {
                    return Ok(DwarfInfo {
                        dwarf,
                        index,
                        origin: IndexOrigin::Cached { path: cf.clone() },
                        stats: None,
                        lines: Mutex::new(lines::LineState::default()),
                        path,
                        _elf: Some(elf),
                        _owned: Vec::new(),
                    })
                }
                Err(CacheReject::Missing) => {}
                Err(e) => stale = Some(e.to_string()),
            }
        }
        let t0 = Instant::now();
        let built = index::build(&secs);
        let bytes = cache::serialize(&key, &built);
        let elapsed = t0.elapsed();
        let (mut written, mut write_error) = (None, None);
        if let Some(cf) = &cache_file {
            match cache::write_atomic(cf, &bytes) {
                Ok(()) => written = Some(cf.clone()),
                Err(e) => write_error = Some(format!("{}: {e}", cf.display())),
            }
        }
        let index = StoredIndex::from_owned(bytes, &key).map_err(|e| DwarfError::Io {
            path: path.clone(),
            what: format!("index: {e}"),
        })?;
        Ok(DwarfInfo {
            dwarf,
            index,
            origin: IndexOrigin::Built {
                elapsed,
                written,
                stale,
                write_error,
            },
            stats: Some(built.stats),
            lines: Mutex::new(lines::LineState::default()),
            path,
            _elf: Some(elf),
            _owned: Vec::new(),
        })
    }

    /// Opens `path` (a vmlinux or any ELF file with DWARF) with the default cache.
    pub fn open_path(path: impl AsRef<Path>) -> Result<DwarfInfo, DwarfError> {
        let elf = VmlinuxElf::open_elf(path.as_ref()).map_err(|e| DwarfError::Io {
            path: path.as_ref().to_path_buf(),
            what: e.to_string(),
        })?;
        DwarfInfo::open(Arc::new(elf), &IndexOptions::default())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn origin(&self) -> &IndexOrigin {
        &self.origin
    }

    /// Statistics of the index build (None when the index came from the cache).
    pub fn build_stats(&self) -> Option<&BuildStats> {
        self.stats.as_ref()
    }

    /// Number of compile units indexed.
    pub fn unit_count(&self) -> usize {
        self.index.view().n_cus()
    }

    /// Number of function address ranges indexed.
    pub fn function_range_count(&self) -> usize {
        self.index.view().n_ranges()
    }

    /// Whether the index is memory-mapped from the cache file (else built in memory).
    pub fn index_is_mapped(&self) -> bool {
        self.index.is_mapped()
    }

    /// Number of index entries.
    pub fn entry_count(&self) -> usize {
        self.index.view().n_records()
    }

    /// Index entries for `name` (a bare name: `task_struct`, `jiffies`, `schedule`), best first
    /// within each kind. Hash collisions are possible: callers check the DIE's name.
    pub fn lookup(&self, name: &str) -> Vec<Entry> {
        self.index.view().lookup(name)
    }

    /// Offset of the unit containing DIE offset `die`.
    pub(crate) fn unit_of(&self, die: u64) -> Option<u64> {
        self.index.view().unit_of(die)
    }

    pub(crate) fn function_ranges_at(&self, addr: u64) -> Vec<(u64, u64, u64)> {
        self.index.view().functions_at(addr)
    }

    /// "index cached" / "index built in N ms" for the sources line.
    pub fn origin_summary(&self) -> String {
        match &self.origin {
            IndexOrigin::Cached { .. } => "index cached".into(),
            IndexOrigin::Built { elapsed, .. } => {
                format!("index built in {} ms", elapsed.as_millis())
            }
        }
    }
}

/// Runs the indexer over raw sections (for fuzzing): returns the number of entries.
pub fn index_raw_sections(info: &[u8], abbrev: &[u8], str: &[u8]) -> usize {
    let secs = Sections {
        info,
        abbrev,
        str,
        ..Sections::default()
    };
    let built = index::build(&secs);
    built.records.len() + built.ranges.len()
}

#[cfg(test)]
mod tests;
