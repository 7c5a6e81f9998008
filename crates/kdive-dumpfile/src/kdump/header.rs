//! The kdump-compressed `disk_dump_header` (block 0) and `kdump_sub_header` (block 1), 64-bit
//! little-endian layout. Other layouts (32-bit targets, big-endian) are recognised and refused.

use crate::compress;
use crate::error::Result;
use crate::source::{le_u32, le_u64, Source};
use crate::{Compression, Utsname};

pub const KDUMP_SIGNATURE: &[u8; 8] = b"KDUMP   ";
pub const DISKDUMP_SIGNATURE: &[u8; 8] = b"DISKDUMP";

/// `disk_dump_header` field offsets, 64-bit target.
mod off {
    pub const VERSION: usize = 8;
    pub const UTSNAME: usize = 12;
    pub const TIMESTAMP: usize = 408;
    pub const STATUS: usize = 424;
    pub const BLOCK_SIZE: usize = 428;
    pub const SUB_HDR_SIZE: usize = 432;
    pub const BITMAP_BLOCKS: usize = 436;
    pub const MAX_MAPNR: usize = 440;
    pub const CURRENT_CPU: usize = 456;
    pub const NR_CPUS: usize = 460;
    pub const HEADER_SIZE: usize = 464;
    /// `block_size` in the 32-bit (ia32, arm) layout.
    pub const BLOCK_SIZE_32: usize = 416;
}

/// `kdump_sub_header` field offsets, 64-bit target.
mod sub {
    pub const PHYS_BASE: usize = 0;
    pub const DUMP_LEVEL: usize = 8;
    pub const SPLIT: usize = 12;
    pub const START_PFN: usize = 16;
    pub const END_PFN: usize = 24;
    pub const OFFSET_VMCOREINFO: usize = 32;
    pub const SIZE_VMCOREINFO: usize = 40;
    pub const OFFSET_NOTE: usize = 48;
    pub const SIZE_NOTE: usize = 56;
    pub const OFFSET_ERASEINFO: usize = 64;
    pub const SIZE_ERASEINFO: usize = 72;
    pub const START_PFN_64: usize = 80;
    pub const END_PFN_64: usize = 88;
    pub const MAX_MAPNR_64: usize = 96;
    pub const SIZE: usize = 104;
}

/// kdump `status` bits beside the compression ones.
pub const STATUS_INCOMPLETE: u32 = 0x8;
pub const STATUS_EXCLUDED_VMEMMAP: u32 = 0x10;

/// The fields of `kdump_sub_header` that a reader uses (those valid for the header version).
#[derive(Debug, Clone, Default)]
pub struct SubHeader {
    pub phys_base: u64,
    pub dump_level: Option<u32>,
    /// `(start_pfn, end_pfn)` when the file is one part of a `--split` set.
    pub split: Option<(u64, u64)>,
    /// `(offset, size)` of the VMCOREINFO text.
    pub vmcoreinfo: Option<(u64, u64)>,
    /// `(offset, size)` of the ELF notes blob.
    pub notes: Option<(u64, u64)>,
    /// `(offset, size)` of the ERASEINFO text.
    pub eraseinfo: Option<(u64, u64)>,
    pub max_mapnr_64: Option<u64>,
}

/// A parsed kdump-compressed header.
#[derive(Debug, Clone)]
pub struct KdumpHeader {
    /// "DISKDUMP" rather than "KDUMP   ".
    pub legacy: bool,
    pub version: u32,
    pub utsname: Utsname,
    pub timestamp: (i64, i64),
    pub status: u32,
    pub block_size: u64,
    pub sub_hdr_size: u64,
    pub bitmap_blocks: u64,
    /// PFNs the dump describes (`max_mapnr_64`, or the 32-bit `max_mapnr` before version 6).
    pub max_pfn: u64,
    pub current_cpu: u32,
    pub nr_cpus: u32,
    pub sub: SubHeader,
}

fn sane_block_size(v: u32) -> bool {
    v.is_power_of_two() && (1024..=1 << 20).contains(&v)
}

impl KdumpHeader {
    pub(crate) fn parse(src: &Source) -> Result<KdumpHeader> {
        let h = src
            .bytes(0, off::HEADER_SIZE as u64, "kdump header")?
            .into_owned();
        let legacy = match &h[..8] {
            s if s == KDUMP_SIGNATURE => false,
            s if s == DISKDUMP_SIGNATURE => true,
            _ => return Err(src.corrupt("kdump header", 0, "no KDUMP or DISKDUMP signature")),
        };
        let block_size = le_u32(&h, off::BLOCK_SIZE);
        if !sane_block_size(block_size) {
            let be = |o: usize| u32::from_be_bytes([h[o], h[o + 1], h[o + 2], h[o + 3]]);
            if sane_block_size(le_u32(&h, off::BLOCK_SIZE_32)) {
                return Err(
                    src.unsupported("kdump header of a 32-bit target (ia32/arm): not supported")
                );
            }
            if sane_block_size(be(off::BLOCK_SIZE)) || sane_block_size(be(off::BLOCK_SIZE_32)) {
                return Err(src.unsupported("big-endian kdump header: not supported"));
            }
            return Err(src.corrupt(
                "kdump header block_size",
                off::BLOCK_SIZE as u64,
                format!("{block_size} is not a power of two between 1 KiB and 1 MiB"),
            ));
        }
        let sub_hdr_size = le_u32(&h, off::SUB_HDR_SIZE) as i32;
        if sub_hdr_size < 0 {
            return Err(src.corrupt(
                "kdump header sub_hdr_size",
                off::SUB_HDR_SIZE as u64,
                format!("{sub_hdr_size}"),
            ));
        }
        let mut hdr = KdumpHeader {
            legacy,
            version: le_u32(&h, off::VERSION),
            utsname: Utsname::from_bytes(&h[off::UTSNAME..][..Utsname::LEN]),
            timestamp: (
                le_u64(&h, off::TIMESTAMP) as i64,
                le_u64(&h, off::TIMESTAMP + 8) as i64,
            ),
            status: le_u32(&h, off::STATUS),
            block_size: block_size as u64,
            sub_hdr_size: sub_hdr_size as u64,
            bitmap_blocks: le_u32(&h, off::BITMAP_BLOCKS) as u64,
            max_pfn: le_u32(&h, off::MAX_MAPNR) as u64,
            current_cpu: le_u32(&h, off::CURRENT_CPU),
            nr_cpus: le_u32(&h, off::NR_CPUS),
            sub: SubHeader::default(),
        };
        if !legacy && hdr.version >= 1 && hdr.sub_hdr_size >= 1 {
            hdr.sub = hdr.parse_sub(src)?;
            if let Some(m) = hdr.sub.max_mapnr_64.filter(|&m| m != 0) {
                hdr.max_pfn = m;
            }
        }
        Ok(hdr)
    }

    fn parse_sub(&self, src: &Source) -> Result<SubHeader> {
        let s = src.bytes(self.block_size, sub::SIZE as u64, "kdump sub-header")?;
        let v = self.version;
        let q = |o: usize| le_u64(&s, o);
        let pair =
            |o: usize, size: usize, min: u32| (v >= min && q(size) != 0).then(|| (q(o), q(size)));
        let split = (v >= 2 && le_u32(&s, sub::SPLIT) != 0).then(|| {
            if v >= 6 {
                (q(sub::START_PFN_64), q(sub::END_PFN_64))
            } else {
                (q(sub::START_PFN), q(sub::END_PFN))
            }
        });
        Ok(SubHeader {
            phys_base: q(sub::PHYS_BASE),
            dump_level: (v >= 1).then(|| le_u32(&s, sub::DUMP_LEVEL)),
            split,
            vmcoreinfo: pair(sub::OFFSET_VMCOREINFO, sub::SIZE_VMCOREINFO, 3),
            notes: pair(sub::OFFSET_NOTE, sub::SIZE_NOTE, 4),
            eraseinfo: pair(sub::OFFSET_ERASEINFO, sub::SIZE_ERASEINFO, 5),
            max_mapnr_64: (v >= 6).then(|| q(sub::MAX_MAPNR_64)),
        })
    }

    /// Compression named by the header's status bits (pages say their own in descriptors).
    pub fn compression(&self) -> Compression {
        let bits = self.status
            & (compress::FLAG_ZLIB
                | compress::FLAG_LZO
                | compress::FLAG_SNAPPY
                | compress::FLAG_ZSTD);
        compress::from_flags(bits).unwrap_or(Compression::None)
    }

    /// The writer marked the dump incomplete (ran out of space). Legacy DISKDUMP used bit 0x8
    /// for "compressed" instead.
    pub fn incomplete(&self) -> bool {
        !self.legacy && self.status & STATUS_INCOMPLETE != 0
    }
}
