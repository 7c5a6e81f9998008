//! Versioned cache files keyed by a debug file's build-ID (`<cache dir>/index/<build-id>.<ext>`):
//! a header naming the file they were made from, tables of bytes, a checksum; written atomically
//! (temporary file + rename) and memory-mapped when read back. The DWARF name index and the
//! ELF symbol table are both kept this way.
//!
//! Layout (little-endian; every field and table 8-byte aligned):
//! ```text
//!   0  magic [8]                8  format version u32   12  header size u32
//!  16  build-ID length u32     20  table count u32      24  build-ID [64]
//!  88  source file size u64    96  source mtime (ns) u64
//! 104  content size u64 (the size of what was indexed, e.g. `.debug_info`)
//! 112  checksum u64 (header bytes 0..112, the table lengths and the payload)
//! 120  table lengths [u64; table count], then the tables, each padded to 8 bytes
//! ```
//! The file is not fsync'd: a torn write fails validation like any corrupt file.
//! Anything that does not match — magic, version, sizes, build-ID, the source's size or mtime,
//! the checksum — makes the file stale: it is rebuilt, never trusted.

use memmap2::Mmap;
use std::fs::File;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

const FIXED_HEADER: usize = 120;
const MAX_BUILD_ID: usize = 64;
/// More tables than any format here uses: a header claiming more is corrupt.
const MAX_TABLES: usize = 16;

/// One kind of cache file: its magic, extension and layout version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheFormat {
    pub magic: &'static [u8; 8],
    /// File name extension (`idx`, `sym`).
    pub ext: &'static str,
    /// Bump when the layout or the meaning of a table changes.
    pub version: u32,
    /// How many tables a file of this kind holds.
    pub tables: usize,
}

/// What identifies the file a cache was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey {
    pub build_id: Vec<u8>,
    pub file_size: u64,
    pub mtime_ns: u64,
    /// Size of the part that was read (`.debug_info`, `.symtab`): one more staleness check.
    pub content_size: u64,
}

impl CacheKey {
    /// The key of the file at `path` with this build-ID and content size.
    pub fn for_file(path: &Path, build_id: &[u8], content_size: u64) -> std::io::Result<CacheKey> {
        let md = std::fs::metadata(path)?;
        let mtime_ns = md
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Ok(CacheKey {
            build_id: build_id.to_vec(),
            file_size: md.len(),
            mtime_ns,
            content_size,
        })
    }

    pub fn build_id_hex(&self) -> String {
        self.build_id.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Why a cache file was not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheReject {
    #[error("no cache file")]
    Missing,
    #[error("cannot read: {0}")]
    Io(String),
    #[error("truncated")]
    Truncated,
    #[error("not a kdive cache file of this kind")]
    BadMagic,
    #[error("format version {found}, expected {expected}")]
    Version { found: u32, expected: u32 },
    #[error("built for another file ({0})")]
    OtherFile(&'static str),
    #[error("checksum mismatch")]
    Checksum,
}

/// The cache directory: `$KDIVE_CACHE_DIR`, else `$XDG_CACHE_HOME/kdive`, else `~/.cache/kdive`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("KDIVE_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("kdive"));
    }
    std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .map(|h| PathBuf::from(h).join(".cache/kdive"))
}

/// `<dir>/index/<build-id>.<ext>`.
pub fn cache_path(dir: &Path, format: &CacheFormat, key: &CacheKey) -> PathBuf {
    let id = if key.build_id.is_empty() {
        format!("nobuildid-{:x}-{:x}", key.file_size, key.mtime_ns)
    } else {
        key.build_id_hex()
    };
    dir.join("index").join(format!("{id}.{}", format.ext))
}

/// A 64-bit checksum over bytes (word-wise multiply-rotate; not cryptographic).
fn checksum(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
    for p in parts {
        let mut chunks = p.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            h = (h ^ w).wrapping_mul(0x0100_0000_01b3_0001).rotate_left(31);
        }
        for &b in chunks.remainder() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3_0001);
        }
        h = h.rotate_left(7) ^ p.len() as u64;
    }
    h ^ (h >> 29)
}

fn padded(len: usize) -> usize {
    len.div_ceil(8) * 8
}

fn header_size(tables: usize) -> usize {
    FIXED_HEADER + 8 * tables
}

/// Serialises `tables` with a header for `key`. Panics if the count differs from the format's
/// (a programming error, not a data one).
pub fn serialize(format: &CacheFormat, key: &CacheKey, tables: &[&[u8]]) -> Vec<u8> {
    assert_eq!(tables.len(), format.tables, "table count of a cache file");
    let hsize = header_size(tables.len());
    let payload: usize = tables.iter().map(|t| padded(t.len())).sum();
    let mut b = Vec::with_capacity(hsize + payload);
    b.extend_from_slice(format.magic);
    b.extend_from_slice(&format.version.to_le_bytes());
    b.extend_from_slice(&(hsize as u32).to_le_bytes());
    let id = &key.build_id[..key.build_id.len().min(MAX_BUILD_ID)];
    b.extend_from_slice(&(id.len() as u32).to_le_bytes());
    b.extend_from_slice(&(tables.len() as u32).to_le_bytes());
    let mut idbuf = [0u8; MAX_BUILD_ID];
    idbuf[..id.len()].copy_from_slice(id);
    b.extend_from_slice(&idbuf);
    for v in [key.file_size, key.mtime_ns, key.content_size, 0] {
        b.extend_from_slice(&v.to_le_bytes()); // the last is the checksum, filled below
    }
    for t in tables {
        b.extend_from_slice(&(t.len() as u64).to_le_bytes());
    }
    debug_assert_eq!(b.len(), hsize);
    for t in tables {
        b.extend_from_slice(t);
        b.resize(padded(b.len()), 0);
    }
    let sum = checksum(&[&b[..112], &b[FIXED_HEADER..]]);
    b[112..120].copy_from_slice(&sum.to_le_bytes());
    b
}

/// Little-endian u32 at byte `at` of a cache table (callers checked the bounds).
pub(crate) fn rd_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
/// Little-endian u64 at byte `at` of a cache table (callers checked the bounds).
pub(crate) fn rd_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Checks `b` against `format` and `key`; on success, where each table lies.
pub fn validate(
    b: &[u8],
    format: &CacheFormat,
    key: &CacheKey,
) -> Result<Vec<Range<usize>>, CacheReject> {
    if b.len() < FIXED_HEADER {
        return Err(if b.len() >= 8 && &b[..8] != format.magic {
            CacheReject::BadMagic
        } else {
            CacheReject::Truncated
        });
    }
    if &b[..8] != format.magic {
        return Err(CacheReject::BadMagic);
    }
    let version = rd_u32(b, 8);
    let n_tables = rd_u32(b, 20) as usize;
    if version != format.version
        || n_tables != format.tables
        || n_tables > MAX_TABLES
        || rd_u32(b, 12) as usize != header_size(n_tables)
    {
        return Err(CacheReject::Version {
            found: version,
            expected: format.version,
        });
    }
    let id_len = rd_u32(b, 16) as usize;
    let want = &key.build_id[..key.build_id.len().min(MAX_BUILD_ID)];
    if id_len != want.len() || &b[24..24 + id_len.min(MAX_BUILD_ID)] != want {
        return Err(CacheReject::OtherFile("build-ID"));
    }
    if rd_u64(b, 88) != key.file_size {
        return Err(CacheReject::OtherFile("size"));
    }
    if rd_u64(b, 96) != key.mtime_ns {
        return Err(CacheReject::OtherFile("modification time"));
    }
    if rd_u64(b, 104) != key.content_size {
        return Err(CacheReject::OtherFile("content size"));
    }
    let hsize = header_size(n_tables);
    if b.len() < hsize {
        return Err(CacheReject::Truncated);
    }
    let mut ranges = Vec::with_capacity(n_tables);
    let mut at = hsize as u64;
    for i in 0..n_tables {
        let len = rd_u64(b, FIXED_HEADER + 8 * i);
        let end = at.checked_add(len).ok_or(CacheReject::Truncated)?;
        if end > b.len() as u64 {
            return Err(CacheReject::Truncated);
        }
        ranges.push(at as usize..end as usize);
        at = end.div_ceil(8) * 8;
    }
    if at != b.len() as u64 {
        return Err(CacheReject::Truncated);
    }
    if checksum(&[&b[..112], &b[FIXED_HEADER..]]) != rd_u64(b, 112) {
        return Err(CacheReject::Checksum);
    }
    Ok(ranges)
}

/// A cache buffer: built in memory or mapped from the cache.
enum Backing {
    Owned(Vec<u8>),
    Mapped(Mmap),
}

/// A validated cache file's bytes and tables.
pub struct CacheBuf {
    backing: Backing,
    tables: Vec<Range<usize>>,
}

impl CacheBuf {
    /// Validates bytes just serialised (so in-memory and mapped data share one reader).
    pub fn from_owned(
        bytes: Vec<u8>,
        format: &CacheFormat,
        key: &CacheKey,
    ) -> Result<CacheBuf, CacheReject> {
        let tables = validate(&bytes, format, key)?;
        Ok(CacheBuf {
            backing: Backing::Owned(bytes),
            tables,
        })
    }

    /// Maps and validates the cache file at `path`.
    pub fn open(
        path: &Path,
        format: &CacheFormat,
        key: &CacheKey,
    ) -> Result<CacheBuf, CacheReject> {
        let f = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(CacheReject::Missing),
            Err(e) => return Err(CacheReject::Io(e.to_string())),
        };
        // SAFETY: read-only mapping of a file only kdive writes, and only by atomic rename:
        // an existing file is never modified in place.
        let map = unsafe { Mmap::map(&f) }.map_err(|e| CacheReject::Io(e.to_string()))?;
        let tables = validate(&map, format, key)?;
        Ok(CacheBuf {
            backing: Backing::Mapped(map),
            tables,
        })
    }

    fn bytes(&self) -> &[u8] {
        match &self.backing {
            Backing::Owned(v) => v,
            Backing::Mapped(m) => m,
        }
    }

    /// Table `i` (empty when out of range).
    pub fn table(&self, i: usize) -> &[u8] {
        self.tables
            .get(i)
            .map(|r| &self.bytes()[r.clone()])
            .unwrap_or(&[])
    }

    pub fn is_mapped(&self) -> bool {
        matches!(self.backing, Backing::Mapped(_))
    }
}

impl std::fmt::Debug for CacheBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheBuf")
            .field("mapped", &self.is_mapped())
            .field("tables", &self.tables)
            .finish()
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, then rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("cache"),
        std::process::id()
    ));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        // No fsync: a file torn by a crash fails validation (length, checksum) and is rebuilt.
        f.write_all(bytes)?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Maps the cache file for `key`, or builds the tables with `build`, keeps them (best effort)
/// and returns them in memory. The second value says why a cache file was not used and whether
/// writing a new one failed, for the "sources in use" line. A failed build writes nothing.
pub fn load_or_build<E>(
    dir: Option<&Path>,
    format: &CacheFormat,
    key: &CacheKey,
    build: impl FnOnce() -> Result<Vec<Vec<u8>>, E>,
) -> Result<(CacheBuf, CacheOutcome), E> {
    let path = dir.map(|d| cache_path(d, format, key));
    let mut rejected = None;
    if let Some(p) = &path {
        match CacheBuf::open(p, format, key) {
            Ok(buf) => return Ok((buf, CacheOutcome::Mapped)),
            Err(CacheReject::Missing) => {}
            Err(e) => rejected = Some(e),
        }
    }
    let tables = build()?;
    let refs: Vec<&[u8]> = tables.iter().map(|t| t.as_slice()).collect();
    let bytes = serialize(format, key, &refs);
    drop(tables);
    let write_error = path.as_ref().and_then(|p| {
        write_atomic(p, &bytes)
            .err()
            .map(|e| format!("{}: {e}", p.display()))
    });
    let buf = match CacheBuf::from_owned(bytes, format, key) {
        Ok(b) => b,
        // serialize() and validate() agree by construction; say so if they ever do not.
        Err(e) => unreachable!("a freshly serialised cache file failed validation: {e}"),
    };
    Ok((
        buf,
        CacheOutcome::Built {
            rejected,
            write_error,
        },
    ))
}

/// Where a [`CacheBuf`] came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOutcome {
    Mapped,
    Built {
        /// Why an existing file was not used (stale, corrupt).
        rejected: Option<CacheReject>,
        /// Why the new file was not written.
        write_error: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    const FMT: CacheFormat = CacheFormat {
        magic: b"KDIVETST",
        ext: "tst",
        version: 3,
        tables: 2,
    };

    fn key() -> CacheKey {
        CacheKey {
            build_id: vec![0xab; 20],
            file_size: 1000,
            mtime_ns: 42,
            content_size: 500,
        }
    }

    #[test]
    fn round_trip_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let k = key();
        let p = cache_path(dir.path(), &FMT, &k);
        assert!(p.ends_with(format!("index/{}.tst", "ab".repeat(20))));
        assert_eq!(
            CacheBuf::open(&p, &FMT, &k).err(),
            Some(CacheReject::Missing)
        );
        let failed: Result<_, &str> = load_or_build(Some(dir.path()), &FMT, &k, || Err("bad"));
        assert_eq!(failed.err(), Some("bad"));
        assert!(!p.exists(), "a failed build leaves no file");
        let (buf, how) = load_or_build(Some(dir.path()), &FMT, &k, || {
            Ok::<_, ()>(vec![b"hello".to_vec(), vec![1, 2, 3, 4, 5, 6, 7, 8, 9]])
        })
        .unwrap();
        assert!(matches!(
            how,
            CacheOutcome::Built {
                rejected: None,
                write_error: None
            }
        ));
        assert!(!buf.is_mapped());
        let (buf, how) =
            load_or_build::<()>(Some(dir.path()), &FMT, &k, || unreachable!()).unwrap();
        assert_eq!(how, CacheOutcome::Mapped);
        assert_eq!(buf.table(0), b"hello");
        assert_eq!(buf.table(1), &[1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(buf.table(2), b"");
        // No temporary file left behind.
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn stale_and_corrupt_files_are_rejected() {
        let k = key();
        let good = serialize(&FMT, &k, &[b"abc", b"0123456789"]);
        assert!(validate(&good, &FMT, &k).is_ok());
        let mut b = good.clone();
        b[8] = 99;
        assert_eq!(
            validate(&b, &FMT, &k).err(),
            Some(CacheReject::Version {
                found: 99,
                expected: 3
            })
        );
        let other_kind = CacheFormat {
            magic: b"KDIVEOTH",
            ..FMT
        };
        assert_eq!(
            validate(&good, &other_kind, &k).err(),
            Some(CacheReject::BadMagic)
        );
        let mut other = k.clone();
        other.build_id[0] = 0;
        assert_eq!(
            validate(&good, &FMT, &other).err(),
            Some(CacheReject::OtherFile("build-ID"))
        );
        for change in [
            |k: &mut CacheKey| k.file_size += 1,
            |k: &mut CacheKey| k.mtime_ns += 1,
            |k: &mut CacheKey| k.content_size += 1,
        ] {
            let mut other = k.clone();
            change(&mut other);
            assert!(matches!(
                validate(&good, &FMT, &other),
                Err(CacheReject::OtherFile(_))
            ));
        }
        // A flipped payload bit.
        let mut b = good.clone();
        let n = b.len();
        b[n - 9] ^= 1;
        assert_eq!(validate(&b, &FMT, &k).err(), Some(CacheReject::Checksum));
        // A flipped table length.
        let mut b = good.clone();
        b[FIXED_HEADER] ^= 1;
        assert!(validate(&b, &FMT, &k).is_err());
        let mut b = good.clone();
        b[FIXED_HEADER + 7] = 0xff;
        assert!(validate(&b, &FMT, &k).is_err());
        // Truncated anywhere.
        for cut in [0, 7, 100, FIXED_HEADER, good.len() - 1] {
            assert!(validate(&good[..cut], &FMT, &k).is_err(), "cut at {cut}");
        }
        assert_eq!(
            validate(&[0u8; 200], &FMT, &k).err(),
            Some(CacheReject::BadMagic)
        );
    }
}
