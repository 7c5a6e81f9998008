//! Per-page compression as the kdump format stores it: a zlib stream, an LZO1X block, a raw
//! snappy block or a zstd frame; a page that does not shrink is stored raw (flags 0).

use std::str::FromStr;

/// kdump `page_desc.flags` / header status bits.
pub const FLAG_ZLIB: u32 = 0x1;
pub const FLAG_LZO: u32 = 0x2;
pub const FLAG_SNAPPY: u32 = 0x4;
pub const FLAG_ZSTD: u32 = 0x20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    None,
    Zlib,
    Lzo,
    Snappy,
    Zstd,
}

impl Codec {
    pub fn flag(self) -> u32 {
        match self {
            Codec::None => 0,
            Codec::Zlib => FLAG_ZLIB,
            Codec::Lzo => FLAG_LZO,
            Codec::Snappy => FLAG_SNAPPY,
            Codec::Zstd => FLAG_ZSTD,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Codec::None => "none",
            Codec::Zlib => "zlib",
            Codec::Lzo => "lzo",
            Codec::Snappy => "snappy",
            Codec::Zstd => "zstd",
        }
    }
}

impl FromStr for Codec {
    type Err = String;
    fn from_str(s: &str) -> Result<Codec, String> {
        Ok(match s {
            "none" => Codec::None,
            "zlib" => Codec::Zlib,
            "lzo" => Codec::Lzo,
            "snappy" => Codec::Snappy,
            "zstd" => Codec::Zstd,
            _ => {
                return Err(format!(
                    "unknown compression {s:?} (zstd, zlib, lzo, snappy, none)"
                ))
            }
        })
    }
}

/// One thread's compressor state (reused across pages).
pub struct PageCompressor {
    codec: Codec,
    zstd: Option<zstd::bulk::Compressor<'static>>,
    zlib: Option<flate2::Compress>,
    lzo: Option<crate::lzo::LzoCompressor>,
    snappy: Option<snap::raw::Encoder>,
    scratch: Vec<u8>,
}

/// zstd level. Measured per 4 KiB page on the lab's 6.1 `-d 31` saves (sysrq / module-race):
/// level 1 (makedumpfile's) 16.72 / 30.34 MB, level 2 16.55 / 30.16 MB for ~2% more CPU,
/// level 3 16.33 / 29.92 MB for ~15% more. makedumpfile -c (zlib) writes 17.31 / 30.29 MB, so
/// level 1 is not always smaller than it; level 2 is, at almost no cost.
const ZSTD_LEVEL: i32 = 2;

/// zlib level (miniz_oxide's deflate). On the lab's 6.1 sysrq dump at `-d 31`, one thread:
/// level 1 writes 18.0 MB in 0.40 s of CPU, level 2 17.0 MB in 0.59 s, level 3 16.7 MB in
/// 0.67 s; makedumpfile -c (zlib's level 1) 17.3 MB in 0.72 s. Level 2 is the lowest whose
/// output is smaller than makedumpfile's, still for less CPU: zlib is the choice for readers
/// without zstd (older crash), and they should not pay for it in size.
const ZLIB_LEVEL: u32 = 2;

/// A zstd context for single pages: no content size in the frame header (the page descriptor
/// and the reader's buffer already say 4 KiB), which saves a byte or two per page.
///
/// Huffman coding of literals stays on for every page: skipping it on pages over half zero
/// bytes saved 12% CPU but made the lab's 6.1 module-race output 1.7% larger, past makedumpfile
/// -c's; size is kept as the tie-breaker.
fn zstd_compressor() -> zstd::bulk::Compressor<'static> {
    use zstd::zstd_safe::CParameter;
    let mut c = zstd::bulk::Compressor::new(ZSTD_LEVEL).expect("zstd context");
    let _ = c.set_parameter(CParameter::ContentSizeFlag(false));
    c
}

impl PageCompressor {
    pub fn new(codec: Codec) -> PageCompressor {
        PageCompressor {
            codec,
            zstd: (codec == Codec::Zstd).then(zstd_compressor),
            zlib: (codec == Codec::Zlib)
                .then(|| flate2::Compress::new(flate2::Compression::new(ZLIB_LEVEL), true)),
            lzo: (codec == Codec::Lzo).then(crate::lzo::LzoCompressor::new),
            snappy: (codec == Codec::Snappy).then(snap::raw::Encoder::new),
            scratch: Vec::new(),
        }
    }

    /// Appends the stored form of `page` to `out`; returns the descriptor flags
    /// (0 = stored raw).
    pub fn compress(&mut self, page: &[u8], out: &mut Vec<u8>) -> u32 {
        let n = page.len();
        self.scratch.clear();
        let packed: Option<&[u8]> = match self.codec {
            Codec::None => None,
            Codec::Zstd => {
                self.scratch.reserve(zstd::zstd_safe::compress_bound(n));
                let z = self.zstd.as_mut().expect("zstd");
                z.compress_to_buffer(page, &mut self.scratch)
                    .ok()
                    .map(|_| &self.scratch[..])
            }
            Codec::Zlib => {
                let z = self.zlib.as_mut().expect("zlib");
                z.reset();
                self.scratch.reserve(n + n / 100 + 64);
                match z.compress_vec(page, &mut self.scratch, flate2::FlushCompress::Finish) {
                    Ok(flate2::Status::StreamEnd) => Some(&self.scratch[..]),
                    _ => None,
                }
            }
            Codec::Lzo => {
                let l = self.lzo.as_mut().expect("lzo");
                l.compress(page, &mut self.scratch);
                Some(&self.scratch[..])
            }
            Codec::Snappy => {
                let e = self.snappy.as_mut().expect("snappy");
                self.scratch.resize(snap::raw::max_compress_len(n), 0);
                match e.compress(page, &mut self.scratch) {
                    Ok(len) => Some(&self.scratch[..len]),
                    Err(_) => None,
                }
            }
        };
        match packed {
            Some(p) if p.len() < n => {
                out.extend_from_slice(p);
                self.codec.flag()
            }
            _ => {
                out.extend_from_slice(page);
                0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kdive_dumpfile::{compress::decompress, Compression};

    fn reader_kind(c: Codec) -> Compression {
        match c {
            Codec::None => Compression::None,
            Codec::Zlib => Compression::Zlib,
            Codec::Lzo => Compression::Lzo,
            Codec::Snappy => Compression::Snappy,
            Codec::Zstd => Compression::Zstd,
        }
    }

    #[test]
    fn every_codec_round_trips_through_the_reader() {
        let mut page: Vec<u8> = (0..4096u32)
            .map(|i| (i % 251) as u8 ^ (i / 512) as u8)
            .collect();
        page[100..200].fill(7);
        let random: Vec<u8> = (0..4096u64)
            .map(|i| (i.wrapping_mul(6364136223846793005).rotate_left(17) >> 7) as u8)
            .collect();
        for c in [
            Codec::Zlib,
            Codec::Lzo,
            Codec::Snappy,
            Codec::Zstd,
            Codec::None,
        ] {
            let mut pc = PageCompressor::new(c);
            for p in [&page, &random] {
                let mut out = Vec::new();
                let flags = pc.compress(p, &mut out);
                if flags == 0 {
                    assert_eq!(&out, p);
                    continue;
                }
                assert_eq!(flags, c.flag());
                assert!(out.len() < 4096);
                let mut back = vec![0u8; 4096];
                decompress(reader_kind(c), &out, &mut back).unwrap();
                assert_eq!(&back, p, "{c:?}");
            }
        }
    }
}
