//! The persistent index cache: `<cache dir>/index/<build-id>.idx`, one versioned file per
//! vmlinux, written atomically (temporary file + rename) and memory-mapped when read back.
//!
//! Layout (little-endian; every field 8-byte aligned):
//! ```text
//!   0  magic "KDIVEIDX"         8  format version u32   12  header size u32
//!  16  build-ID length u32     20  reserved u32         24  build-ID [64]
//!  88  vmlinux size u64        96  vmlinux mtime (ns) u64
//! 104  units u64              112  records u64         120  ranges u64
//! 128  .debug_info size u64   136  checksum u64 (header bytes 0..136 and the payload)
//! 144  payload: unit offsets [u64; units], records [(hash u64, entry u64); records],
//!      ranges [(low u64, high u64, DIE u64); ranges]
//! ```
//! The file is not fsync'd: a torn write fails validation like any corrupt file.
//! Anything that does not match — magic, version, sizes, build-ID, the vmlinux's size or mtime,
//! the checksum — makes the file stale: it is rebuilt, never trusted.

use super::index::{Built, IndexView};
use memmap2::Mmap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const MAGIC: &[u8; 8] = b"KDIVEIDX";
/// Bump when the layout, the name hash or what is indexed changes.
pub const FORMAT_VERSION: u32 = 1;
const HEADER_SIZE: usize = 144;
const MAX_BUILD_ID: usize = 64;

/// What identifies the vmlinux an index was built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexKey {
    pub build_id: Vec<u8>,
    pub file_size: u64,
    pub mtime_ns: u64,
    pub debug_info_size: u64,
}

impl IndexKey {
    /// The key of the file at `path` with this build-ID and `.debug_info` size.
    pub fn for_file(
        path: &Path,
        build_id: &[u8],
        debug_info_size: u64,
    ) -> std::io::Result<IndexKey> {
        let md = std::fs::metadata(path)?;
        let mtime_ns = md
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Ok(IndexKey {
            build_id: build_id.to_vec(),
            file_size: md.len(),
            mtime_ns,
            debug_info_size,
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
    #[error("not an index file")]
    BadMagic,
    #[error("format version {0}, expected {FORMAT_VERSION}")]
    Version(u32),
    #[error("built for another vmlinux ({0})")]
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

/// `<dir>/index/<build-id>.idx`.
pub fn cache_path(dir: &Path, key: &IndexKey) -> PathBuf {
    let id = if key.build_id.is_empty() {
        format!("nobuildid-{:x}-{:x}", key.file_size, key.mtime_ns)
    } else {
        key.build_id_hex()
    };
    dir.join("index").join(format!("{id}.idx"))
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

/// Serialises an index with its header.
pub(crate) fn serialize(key: &IndexKey, built: &Built) -> Vec<u8> {
    let payload_len = built.cus.len() * 8 + built.records.len() * 16 + built.ranges.len() * 24;
    let mut b = Vec::with_capacity(HEADER_SIZE + payload_len);
    b.extend_from_slice(MAGIC);
    b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    b.extend_from_slice(&(HEADER_SIZE as u32).to_le_bytes());
    let id = &key.build_id[..key.build_id.len().min(MAX_BUILD_ID)];
    b.extend_from_slice(&(id.len() as u32).to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    let mut idbuf = [0u8; MAX_BUILD_ID];
    idbuf[..id.len()].copy_from_slice(id);
    b.extend_from_slice(&idbuf);
    for v in [
        key.file_size,
        key.mtime_ns,
        built.cus.len() as u64,
        built.records.len() as u64,
        built.ranges.len() as u64,
        key.debug_info_size,
    ] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(&0u64.to_le_bytes()); // checksum, filled below
    debug_assert_eq!(b.len(), HEADER_SIZE);
    for c in &built.cus {
        b.extend_from_slice(&c.to_le_bytes());
    }
    for (h, p) in &built.records {
        b.extend_from_slice(&h.to_le_bytes());
        b.extend_from_slice(&p.to_le_bytes());
    }
    for (lo, hi, die) in &built.ranges {
        b.extend_from_slice(&lo.to_le_bytes());
        b.extend_from_slice(&hi.to_le_bytes());
        b.extend_from_slice(&die.to_le_bytes());
    }
    let sum = checksum(&[&b[..136], &b[HEADER_SIZE..]]);
    b[136..144].copy_from_slice(&sum.to_le_bytes());
    b
}

fn rd_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn rd_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Section boundaries within a validated index buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    cus: (usize, usize),
    records: (usize, usize),
    ranges: (usize, usize),
}

/// Checks `b` against `key`; on success, where the tables are.
pub(crate) fn validate(b: &[u8], key: &IndexKey) -> Result<Layout, CacheReject> {
    if b.len() < HEADER_SIZE {
        return Err(if b.len() >= 8 && &b[..8] != MAGIC {
            CacheReject::BadMagic
        } else {
            CacheReject::Truncated
        });
    }
    if &b[..8] != MAGIC {
        return Err(CacheReject::BadMagic);
    }
    let version = rd_u32(b, 8);
    if version != FORMAT_VERSION || rd_u32(b, 12) as usize != HEADER_SIZE {
        return Err(CacheReject::Version(version));
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
    if rd_u64(b, 128) != key.debug_info_size {
        return Err(CacheReject::OtherFile(".debug_info size"));
    }
    let (n_cus, n_rec, n_rng) = (rd_u64(b, 104), rd_u64(b, 112), rd_u64(b, 120));
    let total = n_cus
        .checked_mul(8)
        .and_then(|a| n_rec.checked_mul(16).and_then(|r| a.checked_add(r)))
        .and_then(|a| n_rng.checked_mul(24).and_then(|r| a.checked_add(r)))
        .and_then(|a| a.checked_add(HEADER_SIZE as u64))
        .ok_or(CacheReject::Truncated)?;
    if total != b.len() as u64 {
        return Err(CacheReject::Truncated);
    }
    if checksum(&[&b[..136], &b[HEADER_SIZE..]]) != rd_u64(b, 136) {
        return Err(CacheReject::Checksum);
    }
    let c0 = HEADER_SIZE;
    let r0 = c0 + n_cus as usize * 8;
    let g0 = r0 + n_rec as usize * 16;
    Ok(Layout {
        cus: (c0, r0),
        records: (r0, g0),
        ranges: (g0, b.len()),
    })
}

/// An index buffer: built in memory or mapped from the cache.
pub(crate) enum Backing {
    Owned(Vec<u8>),
    Mapped(Mmap),
}

/// A validated index.
pub(crate) struct StoredIndex {
    backing: Backing,
    layout: Layout,
}

impl StoredIndex {
    pub fn from_owned(bytes: Vec<u8>, key: &IndexKey) -> Result<StoredIndex, CacheReject> {
        let layout = validate(&bytes, key)?;
        Ok(StoredIndex {
            backing: Backing::Owned(bytes),
            layout,
        })
    }

    /// Maps and validates the cache file at `path`.
    pub fn open(path: &Path, key: &IndexKey) -> Result<StoredIndex, CacheReject> {
        let f = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(CacheReject::Missing),
            Err(e) => return Err(CacheReject::Io(e.to_string())),
        };
        // SAFETY: read-only mapping of a file only kdive writes, and only by atomic rename:
        // an existing file is never modified in place.
        let map = unsafe { Mmap::map(&f) }.map_err(|e| CacheReject::Io(e.to_string()))?;
        let layout = validate(&map, key)?;
        Ok(StoredIndex {
            backing: Backing::Mapped(map),
            layout,
        })
    }

    pub fn bytes(&self) -> &[u8] {
        match &self.backing {
            Backing::Owned(v) => v,
            Backing::Mapped(m) => m,
        }
    }

    pub fn is_mapped(&self) -> bool {
        matches!(self.backing, Backing::Mapped(_))
    }

    pub fn view(&self) -> IndexView<'_> {
        let b = self.bytes();
        let l = self.layout;
        IndexView {
            cus: &b[l.cus.0..l.cus.1],
            records: &b[l.records.0..l.records.1],
            ranges: &b[l.ranges.0..l.ranges.1],
        }
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, then rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("index"),
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

#[cfg(test)]
mod tests {
    use super::super::index::BuildStats;
    use super::*;

    fn key() -> IndexKey {
        IndexKey {
            build_id: vec![0xab; 20],
            file_size: 1000,
            mtime_ns: 42,
            debug_info_size: 500,
        }
    }

    fn built() -> Built {
        Built {
            cus: vec![0, 100],
            records: vec![(5 | 1 << 63, 7), (9 | 1 << 63, 8)],
            ranges: vec![(0x1000, 0x1010, 120)],
            stats: BuildStats::default(),
        }
    }

    #[test]
    fn round_trip_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let k = key();
        let p = cache_path(dir.path(), &k);
        assert!(p.ends_with(format!("index/{}.idx", "ab".repeat(20))));
        assert_eq!(StoredIndex::open(&p, &k).err(), Some(CacheReject::Missing));
        write_atomic(&p, &serialize(&k, &built())).unwrap();
        let s = StoredIndex::open(&p, &k).unwrap();
        assert!(s.is_mapped());
        let v = s.view();
        assert_eq!((v.n_cus(), v.n_records(), v.n_ranges()), (2, 2, 1));
        assert_eq!(v.unit_of(150), Some(100));
        assert_eq!(v.unit_of(99), Some(0));
        assert_eq!(v.functions_at(0x1008), vec![(0x1000, 0x1010, 120)]);
        assert!(v.functions_at(0x1010).is_empty());
        // No temporary file left behind.
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn stale_and_corrupt_files_are_rejected() {
        let k = key();
        let good = serialize(&k, &built());
        assert!(validate(&good, &k).is_ok());
        // Wrong format version.
        let mut b = good.clone();
        b[8] = 99;
        assert_eq!(validate(&b, &k).err(), Some(CacheReject::Version(99)));
        // Wrong build-ID.
        let mut other = k.clone();
        other.build_id[0] = 0;
        assert_eq!(
            validate(&good, &other).err(),
            Some(CacheReject::OtherFile("build-ID"))
        );
        // The vmlinux changed (size, mtime).
        let mut other = k.clone();
        other.file_size += 1;
        assert!(matches!(
            validate(&good, &other),
            Err(CacheReject::OtherFile("size"))
        ));
        let mut other = k.clone();
        other.mtime_ns += 1;
        assert!(matches!(
            validate(&good, &other),
            Err(CacheReject::OtherFile(_))
        ));
        // A flipped payload bit.
        let mut b = good.clone();
        let n = b.len();
        b[n - 3] ^= 1;
        assert_eq!(validate(&b, &k).err(), Some(CacheReject::Checksum));
        // A flipped header count.
        let mut b = good.clone();
        b[112] ^= 1;
        assert!(validate(&b, &k).is_err());
        // Truncated anywhere.
        for cut in [0, 7, 100, HEADER_SIZE, good.len() - 1] {
            assert!(validate(&good[..cut], &k).is_err(), "cut at {cut}");
        }
        // Not an index.
        assert_eq!(validate(&[0u8; 200], &k).err(), Some(CacheReject::BadMagic));
    }
}
