//! LZO1X decompression (the format liblzo2's `lzo1x_1_compress` writes and makedumpfile `-l`
//! stores), written from the published bitstream description. Bounded: it never reads past the
//! input, never writes past the output, and never copies from before the start of the output.

use std::fmt;

/// Why an LZO1X stream could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LzoError {
    /// The input ended in the middle of an instruction.
    InputOverrun,
    /// The stream decodes to more bytes than the output holds.
    OutputOverrun,
    /// A match refers to bytes before the start of the output.
    LookbehindOverrun,
}

impl fmt::Display for LzoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LzoError::InputOverrun => "input ends inside an instruction",
            LzoError::OutputOverrun => "output larger than the buffer",
            LzoError::LookbehindOverrun => "match distance points before the output start",
        })
    }
}

impl std::error::Error for LzoError {}

struct Decoder<'a, 'b> {
    src: &'a [u8],
    ip: usize,
    out: &'b mut [u8],
    op: usize,
}

impl Decoder<'_, '_> {
    fn byte(&mut self) -> Result<usize, LzoError> {
        let b = *self.src.get(self.ip).ok_or(LzoError::InputOverrun)?;
        self.ip += 1;
        Ok(b as usize)
    }

    fn le16(&mut self) -> Result<usize, LzoError> {
        Ok(self.byte()? | (self.byte()? << 8))
    }

    /// A length continued in extra bytes: each zero byte adds 255, the first non-zero ends it.
    fn extended(&mut self, base: usize) -> Result<usize, LzoError> {
        let mut n = base;
        loop {
            match self.byte()? {
                0 => n = n.checked_add(255).ok_or(LzoError::OutputOverrun)?,
                b => return n.checked_add(b).ok_or(LzoError::OutputOverrun),
            }
        }
    }

    fn literals(&mut self, n: usize) -> Result<(), LzoError> {
        let src = self
            .src
            .get(self.ip..self.ip.checked_add(n).ok_or(LzoError::InputOverrun)?);
        let src = src.ok_or(LzoError::InputOverrun)?;
        let dst = self
            .out
            .get_mut(self.op..self.op + n)
            .ok_or(LzoError::OutputOverrun)?;
        dst.copy_from_slice(src);
        self.ip += n;
        self.op += n;
        Ok(())
    }

    fn copy_match(&mut self, dist: usize, len: usize) -> Result<(), LzoError> {
        if dist > self.op {
            return Err(LzoError::LookbehindOverrun);
        }
        if len > self.out.len() - self.op {
            return Err(LzoError::OutputOverrun);
        }
        let from = self.op - dist;
        if dist >= len {
            self.out.copy_within(from..from + len, self.op);
        } else {
            // Overlapping copy: repeats the last `dist` bytes.
            for i in 0..len {
                self.out[self.op + i] = self.out[from + i];
            }
        }
        self.op += len;
        Ok(())
    }
}

/// Decodes the LZO1X stream `src` into `out`; returns the number of bytes written.
pub fn decompress(src: &[u8], out: &mut [u8]) -> Result<usize, LzoError> {
    let mut d = Decoder {
        src,
        ip: 0,
        out,
        op: 0,
    };
    // `state`: literals the previous instruction copied (0..=3), or 4 after a long literal run.
    let mut state = 0usize;
    match src.first() {
        None => return Err(LzoError::InputOverrun),
        Some(&b) if b > 17 => {
            d.ip = 1;
            let n = b as usize - 17;
            d.literals(n)?;
            state = n.min(4);
        }
        Some(_) => {}
    }
    loop {
        let inst = d.byte()?;
        // (distance, length, literals that follow the match)
        let (dist, len, trailing) = if inst >= 128 {
            // 1LLDDDSS HHHHHHHH: 5..8 bytes within 2 KiB.
            let h = d.byte()?;
            (
                (h << 3) + ((inst >> 2) & 7) + 1,
                5 + ((inst >> 5) & 3),
                inst & 3,
            )
        } else if inst >= 64 {
            // 01LDDDSS HHHHHHHH: 3..4 bytes within 2 KiB.
            let h = d.byte()?;
            (
                (h << 3) + ((inst >> 2) & 7) + 1,
                3 + ((inst >> 5) & 1),
                inst & 3,
            )
        } else if inst >= 32 {
            // 001LLLLL + LE16 (DDDDDDDD DDDDDDSS): within 16 KiB.
            let l = match inst & 31 {
                0 => d.extended(31)?,
                l => l,
            };
            let v = d.le16()?;
            ((v >> 2) + 1, l + 2, v & 3)
        } else if inst >= 16 {
            // 0001HLLL + LE16: 16..48 KiB; distance 16384 exactly ends the stream.
            let l = match inst & 7 {
                0 => d.extended(7)?,
                l => l,
            };
            let v = d.le16()?;
            let dist = 16384 + ((inst & 8) << 11) + (v >> 2);
            if dist == 16384 {
                return Ok(d.op);
            }
            (dist, l + 2, v & 3)
        } else {
            match state {
                0 => {
                    // 0000LLLL: a literal run of 3.. bytes.
                    let n = match inst {
                        0 => d.extended(15)?,
                        l => l,
                    } + 3;
                    d.literals(n)?;
                    state = 4;
                    continue;
                }
                // 0000DDSS HHHHHHHH after 1..3 literals: 2 bytes within 1 KiB.
                1..=3 => ((d.byte()? << 2) + ((inst >> 2) & 3) + 1, 2, inst & 3),
                // ... after a long literal run: 3 bytes at 2049..3072.
                _ => ((d.byte()? << 2) + ((inst >> 2) & 3) + 2049, 3, inst & 3),
            }
        };
        d.copy_match(dist, len)?;
        d.literals(trailing)?;
        state = trailing;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(data: &[u8]) {
        let c = lzokay_native::compress(data).unwrap();
        let mut out = vec![0u8; data.len()];
        let n = decompress(&c, &mut out).unwrap();
        assert_eq!(n, data.len());
        assert_eq!(out, data);
    }

    #[test]
    fn decodes_lzokay_output() {
        round_trip(b"hello hello hello hello hello world");
        round_trip(&[0u8; 4096]);
        round_trip(&(0..65536u32).map(|i| (i % 251) as u8).collect::<Vec<_>>());
        let mut x = 0x1234_5678u32;
        let noisy: Vec<u8> = (0..20000)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                if i % 1000 < 300 {
                    0
                } else {
                    (x % 7) as u8
                }
            })
            .collect();
        round_trip(&noisy);
        // lzokay writes nothing at all for empty input (liblzo2 writes the end marker); an
        // empty stream is not a valid page, so the decoder rejects it.
        assert!(lzokay_native::compress(&[]).unwrap().len() < 3);
    }

    #[test]
    fn hostile_streams_fail_cleanly() {
        let mut out = [0u8; 64];
        assert_eq!(decompress(&[], &mut out), Err(LzoError::InputOverrun));
        // A literal run longer than the output.
        assert_eq!(
            decompress(&[0xff; 300], &mut out),
            Err(LzoError::OutputOverrun)
        );
        assert_eq!(
            decompress(&[17 + 100], &mut out),
            Err(LzoError::InputOverrun)
        );
        // A match before any output.
        assert_eq!(
            decompress(&[1, 1, 2, 3, 4, 0x80, 0x10], &mut out),
            Err(LzoError::LookbehindOverrun)
        );
        // The end marker alone.
        assert_eq!(decompress(&[0x11, 0, 0], &mut out), Ok(0));
        let c = lzokay_native::compress(&[7u8; 200]).unwrap();
        assert_eq!(decompress(&c, &mut out), Err(LzoError::OutputOverrun));
    }

    proptest! {
        #[test]
        fn round_trips_any_bytes(data in proptest::collection::vec(prop_oneof![Just(0u8), any::<u8>()], 1..5000)) {
            round_trip(&data);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut out = vec![0u8; 512];
            let _ = decompress(&data, &mut out);
        }
    }
}
