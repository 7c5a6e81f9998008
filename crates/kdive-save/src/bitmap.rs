//! A plain bit set over page frame numbers, serialized the way kdump bitmaps are stored
//! (bit `pfn & 7` of byte `pfn >> 3`, least significant bit first).

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PfnBitmap {
    words: Vec<u64>,
    len: u64,
}

impl PfnBitmap {
    pub fn new(len: u64) -> PfnBitmap {
        PfnBitmap {
            words: vec![0; len.div_ceil(64) as usize],
            len,
        }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, i: u64) -> bool {
        i < self.len && self.words[(i / 64) as usize] & (1 << (i % 64)) != 0
    }

    pub fn set(&mut self, i: u64, v: bool) {
        if i >= self.len {
            return;
        }
        let w = &mut self.words[(i / 64) as usize];
        if v {
            *w |= 1 << (i % 64);
        } else {
            *w &= !(1 << (i % 64));
        }
    }

    /// Sets `[start, end)` (clamped to the length) to `v`.
    pub fn set_range(&mut self, start: u64, end: u64, v: bool) {
        let end = end.min(self.len);
        let mut i = start;
        while i < end {
            if i % 64 == 0 && end - i >= 64 {
                self.words[(i / 64) as usize] = if v { !0 } else { 0 };
                i += 64;
            } else {
                self.set(i, v);
                i += 1;
            }
        }
    }

    pub fn count(&self) -> u64 {
        self.words.iter().map(|w| w.count_ones() as u64).sum()
    }

    /// First bit `>= from` whose value is `v`, or `len`.
    fn next(&self, from: u64, v: bool) -> u64 {
        let mut i = from;
        while i < self.len {
            let raw = self.words[(i / 64) as usize];
            let w = if v { raw } else { !raw } >> (i % 64);
            if w != 0 {
                return (i + w.trailing_zeros() as u64).min(self.len);
            }
            i = (i / 64 + 1) * 64;
        }
        self.len
    }

    /// Runs `[start, end)` of set bits, in order.
    pub fn runs(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        let mut i = 0u64;
        std::iter::from_fn(move || {
            let start = self.next(i, true);
            if start >= self.len {
                return None;
            }
            let end = self.next(start, false);
            i = end;
            Some((start, end))
        })
    }

    /// The bitmap as stored in a kdump file: `byte_len` bytes (zero-padded).
    pub fn to_bytes(&self, byte_len: usize) -> Vec<u8> {
        let mut out: Vec<u8> = self.words.iter().flat_map(|w| w.to_le_bytes()).collect();
        out.resize(byte_len, 0);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_and_bytes() {
        let mut b = PfnBitmap::new(300);
        b.set_range(3, 5, true);
        b.set_range(60, 200, true);
        b.set(299, true);
        assert_eq!(
            b.runs().collect::<Vec<_>>(),
            vec![(3, 5), (60, 200), (299, 300)]
        );
        assert_eq!(b.count(), 2 + 140 + 1);
        let bytes = b.to_bytes(64);
        assert_eq!(bytes[0], 0b0001_1000);
        assert_eq!(bytes.len(), 64);
        b.set_range(0, 300, false);
        assert_eq!(b.count(), 0);
        assert_eq!(b.runs().count(), 0);
    }
}
