//! kdump-compressed files ("KDUMP   ", legacy "DISKDUMP"): header, bitmaps, page descriptors,
//! and the sets of such files `makedumpfile --split` writes.

pub mod bitmap;
pub mod header;
pub mod pages;

use crate::cache::PageCache;
use crate::compress;
use crate::error::{Error, Result};
use crate::source::Source;
use bitmap::RankedBitmap;
use header::KdumpHeader;
use pages::{PageData, PageDesc, PAGE_DESC_SIZE};

/// One kdump-compressed file (a whole dump, or one part of a split set).
pub(crate) struct KdumpFile {
    pub src: Source,
    pub hdr: KdumpHeader,
    /// Offset of the 1st bitmap (RAM present), read on demand to tell excluded from absent.
    bitmap1_off: u64,
    /// The 2nd bitmap (page dumped), ranked.
    bitmap2: RankedBitmap,
    /// File offset of `page_desc[0]`.
    desc_base: u64,
    /// PFNs this file holds descriptors for.
    pub start_pfn: u64,
    pub end_pfn: u64,
    /// Rank of `start_pfn` in the 2nd bitmap: descriptor index = rank(pfn) - base_rank.
    base_rank: u64,
}

/// Where a PFN stands in one file.
pub(crate) enum Lookup {
    Dumped(PageDesc),
    Excluded,
    NotInDump,
}

impl KdumpFile {
    pub(crate) fn open(src: Source) -> Result<KdumpFile> {
        let hdr = KdumpHeader::parse(&src)?;
        let bs = hdr.block_size;
        let blocks = |n: u64, what: &'static str| {
            n.checked_mul(bs)
                .ok_or_else(|| src.corrupt(what, 0, format!("{n} blocks of {bs} bytes overflow")))
        };
        let bitmap1_off = blocks(1 + hdr.sub_hdr_size, "kdump header sub_hdr_size")?;
        let bitmaps_len = blocks(hdr.bitmap_blocks, "kdump header bitmap_blocks")?;
        let one_bitmap = bitmaps_len / 2;
        let desc_base = bitmap1_off
            .checked_add(bitmaps_len)
            .ok_or_else(|| src.corrupt("kdump header bitmap_blocks", 0, "bitmap end overflows"))?;
        // The bitmaps bound the PFNs: a larger max_mapnr is clamped to what they describe.
        let max_pfn = hdr.max_pfn.min(one_bitmap.saturating_mul(8));
        let bitmap2_off = bitmap1_off + one_bitmap;
        let used = max_pfn.div_ceil(8);
        let bm2 = src.bytes(bitmap2_off, used, "kdump 2nd bitmap")?;
        let bitmap2 = RankedBitmap::from_bytes(&bm2, max_pfn);
        drop(bm2);
        let (start_pfn, end_pfn) = hdr.sub.split.unwrap_or((0, max_pfn));
        if start_pfn > end_pfn || end_pfn > max_pfn.max(hdr.max_pfn) {
            return Err(src.corrupt(
                "kdump sub-header start_pfn/end_pfn",
                hdr.block_size,
                format!(
                    "split range [{start_pfn:#x}, {end_pfn:#x}) does not fit max_pfn {max_pfn:#x}"
                ),
            ));
        }
        let base_rank = bitmap2.rank(start_pfn);
        Ok(KdumpFile {
            src,
            hdr,
            bitmap1_off,
            bitmap2,
            desc_base,
            start_pfn,
            end_pfn,
            base_rank,
        })
    }

    pub(crate) fn max_pfn(&self) -> u64 {
        self.bitmap2.len()
    }

    /// Pages this file holds data for.
    pub(crate) fn pages_present(&self) -> u64 {
        self.bitmap2.rank(self.end_pfn) - self.base_rank
    }

    fn in_bitmap1(&self, pfn: u64) -> bool {
        let Some(off) = self.bitmap1_off.checked_add(pfn / 8) else {
            return false;
        };
        self.src
            .get(off, 1)
            .is_some_and(|b| b[0] & (1 << (pfn % 8)) != 0)
    }

    fn desc(&self, index: u64, paddr: u64) -> Result<PageDesc> {
        let off = index
            .checked_mul(PAGE_DESC_SIZE)
            .and_then(|o| o.checked_add(self.desc_base))
            .ok_or(Error::PageTruncated { paddr })?;
        let b = self
            .src
            .get(off, PAGE_DESC_SIZE as usize)
            .ok_or(Error::PageTruncated { paddr })?;
        Ok(PageDesc::parse(&b))
    }

    /// Classifies `pfn` (which must lie in `[start_pfn, end_pfn)` for `Dumped`).
    pub(crate) fn lookup(&self, pfn: u64, paddr: u64) -> Result<Lookup> {
        if pfn >= self.max_pfn() {
            return Ok(Lookup::NotInDump);
        }
        if !self.bitmap2.get(pfn) || pfn < self.start_pfn || pfn >= self.end_pfn {
            return Ok(if self.in_bitmap1(pfn) {
                Lookup::Excluded
            } else {
                Lookup::NotInDump
            });
        }
        let d = self.desc(self.bitmap2.rank(pfn) - self.base_rank, paddr)?;
        if d.is_unwritten() {
            // An incomplete dump stopped before this page; otherwise the descriptor is corrupt.
            return Err(if self.hdr.incomplete() {
                Error::PageTruncated { paddr }
            } else {
                Error::BadPage {
                    paddr,
                    detail: "page descriptor is all zeros".into(),
                }
            });
        }
        Ok(Lookup::Dumped(d))
    }

    /// Runs `(start_pfn, end_pfn, dumped)` of this file's RAM pages (1st bitmap), in order;
    /// `dumped` is false for pages the writer excluded.
    /// The 1st bitmap is read 64 KiB at a time and zero bytes are skipped whole: a sparse
    /// bitmap for terabytes of address space (fuzz find) takes milliseconds, not minutes.
    pub(crate) fn pfn_runs(&self) -> Vec<(u64, u64, bool)> {
        const CHUNK: u64 = 1 << 16;
        let mut runs: Vec<(u64, u64, bool)> = Vec::new();
        let end = self.end_pfn.min(self.max_pfn());
        let push = |runs: &mut Vec<(u64, u64, bool)>, pfn: u64| {
            let dumped = self.bitmap2.get(pfn);
            match runs.last_mut() {
                Some(r) if r.1 == pfn && r.2 == dumped => r.1 = pfn + 1,
                _ => runs.push((pfn, pfn + 1, dumped)),
            }
        };
        let mut byte_at = self.start_pfn / 8;
        while byte_at.saturating_mul(8) < end {
            let n = CHUNK.min((end - 1) / 8 + 1 - byte_at);
            let off = self.bitmap1_off.checked_add(byte_at);
            // A chunk that is not all in the file is read byte by byte (absent bytes are 0).
            let chunk: Vec<u8> = match off.and_then(|o| self.src.get(o, n as usize)) {
                Some(c) => c.into_owned(),
                None => (0..n)
                    .map(|i| {
                        off.and_then(|o| o.checked_add(i))
                            .and_then(|o| self.src.get(o, 1))
                            .map_or(0, |b| b[0])
                    })
                    .collect(),
            };
            for (i, &byte) in chunk.iter().enumerate() {
                if byte == 0 {
                    continue;
                }
                let base = (byte_at + i as u64) * 8;
                // Eight RAM pages all dumped or all excluded, continuing the last run.
                let whole = byte == 0xff && base >= self.start_pfn && base + 8 <= end;
                if let (true, Some(r)) = (whole, runs.last_mut()) {
                    let dumped = match self.bitmap2.byte(base / 8) {
                        0 => Some(false),
                        0xff => Some(true),
                        _ => None,
                    };
                    if r.1 == base && Some(r.2) == dumped {
                        r.1 = base + 8;
                        continue;
                    }
                }
                for bit in 0..8 {
                    let pfn = base + bit;
                    if byte & (1 << bit) != 0 && pfn >= self.start_pfn && pfn < end {
                        push(&mut runs, pfn);
                    }
                }
            }
            byte_at += n;
        }
        if let Some(r) = runs.last_mut() {
            r.1 = r.1.min(self.end_pfn);
        }
        runs
    }

    /// True when the file visibly ends early: the flattened stream had no end marker, or the
    /// descriptor table or the last page's data runs past the end.
    pub(crate) fn truncated(&self) -> bool {
        let n = self.pages_present();
        if self.src.stream_truncated() {
            return true;
        }
        if n == 0 {
            return false;
        }
        match self.desc(n - 1, 0) {
            Ok(d) => d.offset.saturating_add(d.size as u64) > self.src.len(),
            Err(_) => true,
        }
    }
}

/// The files of one dump (a single file, or the parts of a split set sorted by PFN range).
pub(crate) struct KdumpSet {
    pub parts: Vec<KdumpFile>,
    pub page_size: u64,
    pub max_pfn: u64,
}

impl KdumpSet {
    /// Checks that the parts agree and together cover every PFN (see [`crate::split`]).
    pub(crate) fn new(mut parts: Vec<KdumpFile>) -> Result<KdumpSet> {
        crate::split::check_parts(&mut parts)?;
        let (page_size, max_pfn) = (parts[0].hdr.block_size, parts[0].max_pfn());
        Ok(KdumpSet {
            parts,
            page_size,
            max_pfn,
        })
    }

    fn part_for(&self, pfn: u64) -> &KdumpFile {
        let i = self.parts.partition_point(|p| p.start_pfn <= pfn);
        &self.parts[i.saturating_sub(1)]
    }

    pub(crate) fn pages_present(&self) -> u64 {
        self.parts.iter().map(KdumpFile::pages_present).sum()
    }

    /// Reads physical memory page by page; compressed pages go through `cache`.
    pub(crate) fn read_phys(&self, paddr: u64, buf: &mut [u8], cache: &PageCache) -> Result<()> {
        let ps = self.page_size;
        let mut done = 0usize;
        while done < buf.len() {
            let addr = paddr
                .checked_add(done as u64)
                .ok_or(Error::NotInDump { paddr })?;
            let pfn = addr / ps;
            let in_page = (addr % ps) as usize;
            let n = (ps as usize - in_page).min(buf.len() - done);
            let dst = &mut buf[done..done + n];
            if cache.read(pfn, in_page, dst) {
                done += n;
                continue;
            }
            let part = self.part_for(pfn);
            let d = match part.lookup(pfn, addr)? {
                Lookup::Dumped(d) => d,
                Lookup::Excluded => return Err(Error::Excluded { paddr: addr }),
                Lookup::NotInDump => return Err(Error::NotInDump { paddr: addr }),
            };
            let page_addr = pfn * ps;
            match pages::page_data(&part.src, &d, ps, page_addr)? {
                PageData::Raw(bytes) => dst.copy_from_slice(&bytes[in_page..in_page + n]),
                PageData::Packed(bytes, kind) => {
                    let mut page = vec![0u8; ps as usize];
                    compress::decompress(kind, &bytes, &mut page).map_err(|detail| {
                        Error::BadPage {
                            paddr: page_addr,
                            detail,
                        }
                    })?;
                    dst.copy_from_slice(&page[in_page..in_page + n]);
                    cache.insert(pfn, page);
                }
            }
            done += n;
        }
        Ok(())
    }
}
