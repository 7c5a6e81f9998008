//! The persistent DWARF name index: a [`crate::cachefile`] of kind `idx`
//! (`<cache dir>/index/<build-id>.idx`) with three tables — unit offsets `[u64]`, name records
//! `[(hash u64, entry u64)]` and function ranges `[(low u64, high u64, DIE u64)]`.

use super::index::{Built, IndexView};
pub use crate::cachefile::{cache_path, default_cache_dir, write_atomic, CacheKey, CacheReject};
use crate::cachefile::{CacheBuf, CacheFormat};
use std::path::Path;

/// What identifies the vmlinux an index was built from (`content_size`: `.debug_info`'s).
pub type IndexKey = CacheKey;

/// The index file kind; bump the version when the name hash or what is indexed changes.
pub const FORMAT: CacheFormat = CacheFormat {
    magic: b"KDIVEIDX",
    ext: "idx",
    version: 2,
    tables: 3,
};

/// Serialises an index with its header.
pub(crate) fn serialize(key: &IndexKey, built: &Built) -> Vec<u8> {
    let mut cus = Vec::with_capacity(built.cus.len() * 8);
    for c in &built.cus {
        cus.extend_from_slice(&c.to_le_bytes());
    }
    let mut records = Vec::with_capacity(built.records.len() * 16);
    for (h, p) in &built.records {
        records.extend_from_slice(&h.to_le_bytes());
        records.extend_from_slice(&p.to_le_bytes());
    }
    let mut ranges = Vec::with_capacity(built.ranges.len() * 24);
    for (lo, hi, die) in &built.ranges {
        for v in [lo, hi, die] {
            ranges.extend_from_slice(&v.to_le_bytes());
        }
    }
    crate::cachefile::serialize(&FORMAT, key, &[&cus, &records, &ranges])
}

/// A validated index (in memory or mapped).
pub(crate) struct StoredIndex {
    buf: CacheBuf,
}

impl StoredIndex {
    fn checked(buf: CacheBuf) -> Result<StoredIndex, CacheReject> {
        let whole = |t: usize, size: usize| buf.table(t).len() % size == 0;
        if !(whole(0, 8) && whole(1, 16) && whole(2, 24)) {
            return Err(CacheReject::Truncated);
        }
        Ok(StoredIndex { buf })
    }

    pub fn from_owned(bytes: Vec<u8>, key: &IndexKey) -> Result<StoredIndex, CacheReject> {
        StoredIndex::checked(CacheBuf::from_owned(bytes, &FORMAT, key)?)
    }

    /// Maps and validates the cache file at `path`.
    pub fn open(path: &Path, key: &IndexKey) -> Result<StoredIndex, CacheReject> {
        StoredIndex::checked(CacheBuf::open(path, &FORMAT, key)?)
    }

    pub fn is_mapped(&self) -> bool {
        self.buf.is_mapped()
    }

    pub fn view(&self) -> IndexView<'_> {
        IndexView {
            cus: self.buf.table(0),
            records: self.buf.table(1),
            ranges: self.buf.table(2),
        }
    }
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
            content_size: 500,
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
        let p = cache_path(dir.path(), &FORMAT, &k);
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
    }

    #[test]
    fn a_table_of_partial_records_is_rejected() {
        let k = key();
        let bytes = crate::cachefile::serialize(&FORMAT, &k, &[&[0u8; 8], &[0u8; 15], &[]]);
        assert_eq!(
            StoredIndex::from_owned(bytes, &k).err(),
            Some(CacheReject::Truncated)
        );
    }
}
