//! Page decompression for kdump-compressed files: zlib, LZO1X, snappy (raw), zstd. Every
//! decoder writes into a page-sized buffer and must fill it exactly.

pub mod lzo;

use crate::Compression;

/// kdump page-descriptor / header-status compression bits.
pub const FLAG_ZLIB: u32 = 0x1;
pub const FLAG_LZO: u32 = 0x2;
pub const FLAG_SNAPPY: u32 = 0x4;
pub const FLAG_ZSTD: u32 = 0x20;

/// The compression a descriptor's `flags` name (`None` for raw). Unknown bits are an error.
pub fn from_flags(flags: u32) -> Result<Compression, String> {
    match flags {
        0 => Ok(Compression::None),
        f if f & FLAG_ZLIB != 0 => Ok(Compression::Zlib),
        f if f & FLAG_LZO != 0 => Ok(Compression::Lzo),
        f if f & FLAG_SNAPPY != 0 => Ok(Compression::Snappy),
        f if f & FLAG_ZSTD != 0 => Ok(Compression::Zstd),
        f => Err(format!("unknown compression flags {f:#x}")),
    }
}

impl Compression {
    /// Lower-case name, as makedumpfile and QEMU call it.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Zlib => "zlib",
            Compression::Lzo => "lzo",
            Compression::Snappy => "snappy",
            Compression::Zstd => "zstd",
        }
    }
}

/// Decompresses `src` into `out`, which it must fill exactly.
pub fn decompress(kind: Compression, src: &[u8], out: &mut [u8]) -> Result<(), String> {
    let n = match kind {
        Compression::None => {
            if src.len() != out.len() {
                return Err(format!(
                    "raw page holds {} bytes, expected {}",
                    src.len(),
                    out.len()
                ));
            }
            out.copy_from_slice(src);
            src.len()
        }
        Compression::Zlib => zlib(src, out)?,
        Compression::Lzo => lzo::decompress(src, out).map_err(|e| format!("lzo: {e}"))?,
        Compression::Snappy => snappy(src, out)?,
        Compression::Zstd => {
            zstd::bulk::decompress_to_buffer(src, out).map_err(|e| format!("zstd: {e}"))?
        }
    };
    if n != out.len() {
        return Err(format!(
            "{} data decompressed to {n} bytes, expected {}",
            kind.name(),
            out.len()
        ));
    }
    Ok(())
}

fn zlib(src: &[u8], out: &mut [u8]) -> Result<usize, String> {
    use flate2::{Decompress, FlushDecompress, Status};
    let mut d = Decompress::new(true);
    let status = d
        .decompress(src, out, FlushDecompress::Finish)
        .map_err(|e| format!("zlib: {e}"))?;
    match status {
        Status::StreamEnd => Ok(d.total_out() as usize),
        _ if d.total_out() as usize == out.len() => Err("zlib data is larger than a page".into()),
        _ => Err("zlib stream ends early".into()),
    }
}

fn snappy(src: &[u8], out: &mut [u8]) -> Result<usize, String> {
    let len = snap::raw::decompress_len(src).map_err(|e| format!("snappy: {e}"))?;
    if len != out.len() {
        return Err(format!(
            "snappy data decompresses to {len} bytes, expected {}",
            out.len()
        ));
    }
    snap::raw::Decoder::new()
        .decompress(src, out)
        .map_err(|e| format!("snappy: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::compress;

    fn page() -> Vec<u8> {
        (0..4096u32)
            .map(|i| if i % 97 < 40 { 0 } else { (i * 31 % 256) as u8 })
            .collect()
    }

    const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Zlib,
        Compression::Lzo,
        Compression::Snappy,
        Compression::Zstd,
    ];

    #[test]
    fn each_codec_round_trips_a_page() {
        let p = page();
        for kind in ALL {
            let c = compress(kind, &p);
            let mut out = vec![0u8; 4096];
            decompress(kind, &c, &mut out).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            assert_eq!(out, p, "{kind:?}");
        }
    }

    #[test]
    fn wrong_sizes_are_errors() {
        let p = page();
        for kind in ALL {
            let c = compress(kind, &p);
            let mut small = vec![0u8; 2048];
            assert!(
                decompress(kind, &c, &mut small).is_err(),
                "{kind:?} into a small buffer"
            );
            let mut big = vec![0u8; 8192];
            assert!(
                decompress(kind, &c, &mut big).is_err(),
                "{kind:?} into a big buffer"
            );
            let mut out = vec![0u8; 4096];
            let _ = decompress(kind, &c[..c.len() / 2], &mut out); // must not panic
        }
    }

    #[test]
    fn flags_map_to_codecs() {
        assert_eq!(from_flags(0), Ok(Compression::None));
        assert_eq!(from_flags(1), Ok(Compression::Zlib));
        assert_eq!(from_flags(2), Ok(Compression::Lzo));
        assert_eq!(from_flags(4), Ok(Compression::Snappy));
        assert_eq!(from_flags(0x20), Ok(Compression::Zstd));
        assert!(from_flags(0x40).is_err());
    }
}
