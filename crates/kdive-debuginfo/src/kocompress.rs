//! Compressed kernel modules (`.ko.xz`, `.ko.zst`, `.ko.gz`, as distributions install them)
//! recognised by their magic bytes and unpacked in memory, never past a size bound.

use std::io::{Read, Write};

/// How a module file is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KoCompression {
    Xz,
    Zstd,
    Gzip,
}

impl KoCompression {
    /// The compression `data` starts with, if any.
    pub fn detect(data: &[u8]) -> Option<KoCompression> {
        if data.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Some(KoCompression::Xz)
        } else if data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(KoCompression::Zstd)
        } else if data.starts_with(&[0x1f, 0x8b]) {
            Some(KoCompression::Gzip)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            KoCompression::Xz => "xz",
            KoCompression::Zstd => "zstd",
            KoCompression::Gzip => "gzip",
        }
    }
}

/// A writer that refuses to grow past `limit` bytes.
struct Bounded {
    out: Vec<u8>,
    limit: usize,
}

impl Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.len() + buf.len() > self.limit {
            return Err(std::io::Error::other(format!(
                "unpacks to more than {} bytes",
                self.limit
            )));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Unpacks `data` (compressed with `kind`) into at most `limit` bytes; the error says why not.
pub fn unpack(kind: KoCompression, data: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    let mut w = Bounded {
        out: Vec::new(),
        limit,
    };
    let fail = |e: String| format!("{} data: {e}", kind.name());
    match kind {
        KoCompression::Xz => {
            let mut input = std::io::BufReader::new(data);
            lzma_rs::xz_decompress(&mut input, &mut w).map_err(|e| fail(format!("{e:?}")))?;
        }
        KoCompression::Zstd => {
            let mut d = zstd::stream::read::Decoder::new(data).map_err(|e| fail(e.to_string()))?;
            copy(&mut d, &mut w).map_err(fail)?;
        }
        KoCompression::Gzip => {
            let mut d = flate2::read::MultiGzDecoder::new(data);
            copy(&mut d, &mut w).map_err(fail)?;
        }
    }
    Ok(w.out)
}

fn copy(r: &mut dyn Read, w: &mut Bounded) -> Result<(), String> {
    std::io::copy(r, w).map(|_| ()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elf_like() -> Vec<u8> {
        let mut v = b"\x7fELF".to_vec();
        v.extend((0..20_000u32).map(|i| (i % 251) as u8));
        v
    }

    #[test]
    fn each_format_round_trips_and_is_bounded() {
        let plain = elf_like();
        let mut xz = Vec::new();
        lzma_rs::xz_compress(&mut &plain[..], &mut xz).unwrap();
        let zst = zstd::encode_all(&plain[..], 1).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&plain).unwrap();
        let gz = gz.finish().unwrap();
        for (data, kind) in [
            (xz, KoCompression::Xz),
            (zst, KoCompression::Zstd),
            (gz, KoCompression::Gzip),
        ] {
            assert_eq!(KoCompression::detect(&data), Some(kind));
            assert_eq!(unpack(kind, &data, 1 << 20).unwrap(), plain);
            let e = unpack(kind, &data, 1000).unwrap_err();
            assert!(e.contains("more than 1000 bytes"), "{kind:?}: {e}");
            // Damaged data is an error, never a panic.
            let cut = &data[..data.len() / 2];
            assert!(unpack(kind, cut, 1 << 20).is_err(), "{kind:?} truncated");
        }
        assert_eq!(KoCompression::detect(&plain), None);
    }
}
