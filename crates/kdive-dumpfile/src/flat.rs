//! makedumpfile's flattened format (`-F`, QEMU `kdump-*`): a 4096-byte header, then
//! big-endian `(offset, size)` records with data, in write order. The records are indexed once
//! at open into a sorted extent map over the original file, so the wrapped dump is read in
//! place, never rewritten.

use std::borrow::Cow;
use std::path::Path;

use crate::error::{Error, Result};
use crate::extents::{self, Extent, ExtentBuilder};
use crate::source::be_i64;

/// Signature at offset 0 of a flattened stream (NUL-padded to 16 bytes).
pub const FLAT_SIGNATURE: &[u8; 12] = b"makedumpfile";
/// Size of the stream's header block.
pub const FLAT_HEADER_SIZE: u64 = 4096;
const RECORD_HEADER: u64 = 16;

/// Where each byte of the logical (rearranged) file lies in the flattened stream.
#[derive(Debug, Clone)]
pub struct FlatIndex {
    extents: Vec<Extent>,
    logical_len: u64,
    records: usize,
    truncated: bool,
}

impl FlatIndex {
    /// True when `bytes` starts with a flattened-stream header.
    pub fn is_flat(bytes: &[u8]) -> bool {
        bytes.len() >= 16 && &bytes[..12] == FLAT_SIGNATURE && bytes[12..16].iter().all(|&b| b == 0)
    }

    /// Walks the record headers of the stream in `bytes` (the file at `path`).
    pub fn build(path: &Path, bytes: &[u8]) -> Result<FlatIndex> {
        let corrupt = |offset: u64, detail: String| Error::Corrupt {
            path: path.to_path_buf(),
            what: "flattened stream",
            offset,
            detail,
        };
        if bytes.len() < 32 || !Self::is_flat(bytes) {
            return Err(corrupt(0, "no makedumpfile flattened header".into()));
        }
        let (ty, version) = (be_i64(bytes, 16), be_i64(bytes, 24));
        if ty != 1 {
            return Err(corrupt(16, format!("header type {ty}, expected 1")));
        }
        if version != 1 {
            return Err(corrupt(24, format!("header version {version}, expected 1")));
        }
        let file_len = bytes.len() as u64;
        let mut raw = Vec::new();
        let mut pos = FLAT_HEADER_SIZE;
        let mut truncated = true;
        while pos.saturating_add(RECORD_HEADER) <= file_len {
            let p = pos as usize;
            let (offset, size) = (be_i64(bytes, p), be_i64(bytes, p + 8));
            if offset == -1 && size == -1 {
                truncated = false;
                break;
            }
            if offset < 0 || size < 0 {
                return Err(corrupt(
                    pos,
                    format!("record with offset {offset} and size {size}"),
                ));
            }
            let (offset, size) = (offset as u64, size as u64);
            let data = pos + RECORD_HEADER;
            // A record cut short by the end of the file keeps the bytes that are there.
            let avail = size.min(file_len - data);
            if offset.checked_add(size).is_none() {
                return Err(corrupt(
                    pos,
                    format!("record offset {offset:#x} + size {size:#x} overflows"),
                ));
            }
            if avail > 0 {
                raw.push(Extent {
                    start: offset,
                    end: offset + avail,
                    file: Some(data),
                });
            }
            if avail < size {
                break;
            }
            pos = data + size;
        }
        let records = raw.len();
        let extents = match extents::sorted_if_disjoint(raw) {
            Ok(e) => e,
            Err(mut overlapping) => {
                // Later records override earlier ones (as `-R` would write them). Stream
                // position gives the write order; claiming in reverse lets the last write win.
                overlapping.sort_by_key(|e| std::cmp::Reverse(e.file));
                let mut b = ExtentBuilder::default();
                for e in overlapping {
                    b.claim(e.start, e.end, e.file);
                }
                b.finish()
            }
        };
        let logical_len = extents.last().map_or(0, |e| e.end);
        Ok(FlatIndex {
            extents,
            logical_len,
            records,
            truncated,
        })
    }

    /// Length of the rearranged file.
    pub fn logical_len(&self) -> u64 {
        self.logical_len
    }

    /// Number of data records in the stream.
    pub fn records(&self) -> usize {
        self.records
    }

    /// True when the stream had no end marker (cut short).
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// `len` bytes of the logical file at `off`, read from `stream` (the flattened file's bytes).
    /// Holes (never written) read as zeros, as in the rearranged file.
    pub fn get<'a>(&self, stream: &'a [u8], off: u64, len: usize) -> Option<Cow<'a, [u8]>> {
        let end = off.checked_add(len as u64)?;
        if end > self.logical_len {
            return None;
        }
        if let Some(e) = extents::find(&self.extents, off) {
            if end <= e.end {
                let f = e.file_offset(off)? as usize;
                return stream.get(f..f + len).map(Cow::Borrowed);
            }
        }
        // A legitimate read is backed by stream bytes bar small holes; one larger than the whole
        // stream comes from a hostile size in a header and is refused before allocating.
        if len > stream.len().max(1 << 20) {
            return None;
        }
        let mut out = vec![0u8; len];
        let mut pos = off;
        while pos < end {
            let e = match extents::find(&self.extents, pos) {
                Some(e) => e,
                None => match extents::next_after(&self.extents, pos) {
                    Some(n) if n.start < end => {
                        pos = n.start;
                        continue;
                    }
                    _ => break,
                },
            };
            let stop = e.end.min(end);
            let f = e.file_offset(pos)? as usize;
            let n = (stop - pos) as usize;
            let dst = (pos - off) as usize;
            out[dst..dst + n].copy_from_slice(stream.get(f..f + n)?);
            pos = stop;
        }
        Some(Cow::Owned(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::flatten;

    #[test]
    fn indexes_out_of_order_records_and_reads_across_them() {
        let logical: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let stream = flatten(&logical, 333, true);
        let idx = FlatIndex::build(Path::new("t"), &stream).unwrap();
        assert!(!idx.truncated());
        assert_eq!(idx.logical_len(), logical.len() as u64);
        for (off, len) in [(0u64, 10usize), (330, 10), (9990, 10), (1, 5000)] {
            let got = idx.get(&stream, off, len).unwrap();
            assert_eq!(&got[..], &logical[off as usize..off as usize + len]);
        }
        assert!(idx.get(&stream, 9995, 10).is_none());
    }

    #[test]
    fn later_records_override_earlier_ones() {
        let mut s = crate::testutil::flat_header();
        crate::testutil::flat_record(&mut s, 0, b"aaaaaaaa");
        crate::testutil::flat_record(&mut s, 2, b"BB");
        crate::testutil::flat_end(&mut s);
        let idx = FlatIndex::build(Path::new("t"), &s).unwrap();
        assert_eq!(&idx.get(&s, 0, 8).unwrap()[..], b"aaBBaaaa");
    }

    #[test]
    fn holes_read_as_zero_and_cut_streams_are_flagged() {
        let mut s = crate::testutil::flat_header();
        crate::testutil::flat_record(&mut s, 10, b"xy");
        crate::testutil::flat_record(&mut s, 0, b"ab");
        let idx = FlatIndex::build(Path::new("t"), &s).unwrap();
        assert!(idx.truncated());
        assert_eq!(&idx.get(&s, 0, 12).unwrap()[..], b"ab\0\0\0\0\0\0\0\0xy");
    }

    #[test]
    fn rejects_bad_headers_and_negative_records() {
        let mut s = crate::testutil::flat_header();
        s[31] = 2;
        assert!(FlatIndex::build(Path::new("t"), &s).is_err());
        let mut s = crate::testutil::flat_header();
        s.extend_from_slice(&(-5i64).to_be_bytes());
        s.extend_from_slice(&(1i64).to_be_bytes());
        assert!(FlatIndex::build(Path::new("t"), &s).is_err());
        assert!(FlatIndex::build(Path::new("t"), b"short").is_err());
    }
}
