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

    /// Splits the bitmap at `cuts` (ascending; multiples of 64) into disjoint windows
    /// that can be changed at the same time: `[0, cuts[0])`, `[cuts[0], cuts[1])`, …, `[last, len)`.
    pub fn windows_mut(&mut self, cuts: &[u64]) -> Vec<BitsMut<'_>> {
        let mut out = Vec::with_capacity(cuts.len() + 1);
        let mut rest: &mut [u64] = &mut self.words;
        let mut first = 0u64;
        for &cut in cuts.iter().chain(std::iter::once(&self.len)) {
            // A cut inside a word moves down to the word's start.
            let cut = if cut >= self.len {
                self.len
            } else {
                (cut & !63).max(first)
            };
            let n_words = if cut == self.len {
                rest.len()
            } else {
                (((cut - first) / 64) as usize).min(rest.len())
            };
            let (mine, tail) = std::mem::take(&mut rest).split_at_mut(n_words);
            out.push(BitsMut {
                words: mine,
                first,
                end: cut,
            });
            rest = tail;
            first = cut;
        }
        out
    }

    /// Bytes `[at, at + len)` of the bitmap as stored in a kdump file (zero past its end)
    /// into `out`: a big bitmap is written a chunk at a time, never copied whole.
    pub fn bytes_into(&self, at: usize, len: usize, out: &mut Vec<u8>) {
        out.clear();
        out.resize(len, 0);
        if at % 8 == 0 {
            // Whole words (the writer's chunks are word-aligned).
            let words = self.words.get(at / 8..).unwrap_or_default();
            for (dst, w) in out.chunks_mut(8).zip(words) {
                dst.copy_from_slice(&w.to_le_bytes()[..dst.len()]);
            }
            return;
        }
        let mut i = 0;
        while i < len {
            let byte = at + i;
            let Some(w) = self.words.get(byte / 8) else {
                break;
            };
            let b = w.to_le_bytes();
            let from = byte % 8;
            let n = (8 - from).min(len - i);
            out[i..i + n].copy_from_slice(&b[from..from + n]);
            i += n;
        }
    }
}

/// Bits `[first, end)` of a [`PfnBitmap`], borrowed for change (see
/// [`PfnBitmap::windows_mut`]); indices are the bitmap's own.
pub struct BitsMut<'a> {
    words: &'a mut [u64],
    first: u64,
    end: u64,
}

impl BitsMut<'_> {
    /// One past the last bit this window holds.
    pub fn end(&self) -> u64 {
        self.end
    }

    pub fn get(&self, i: u64) -> bool {
        (self.first..self.end).contains(&i) && {
            let k = i - self.first;
            self.words[(k / 64) as usize] & (1 << (k % 64)) != 0
        }
    }

    pub fn clear(&mut self, i: u64) {
        if (self.first..self.end).contains(&i) {
            let k = i - self.first;
            self.words[(k / 64) as usize] &= !(1 << (k % 64));
        }
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
        let mut bytes = Vec::new();
        b.bytes_into(0, 64, &mut bytes);
        assert_eq!(bytes[0], 0b0001_1000);
        assert_eq!(bytes.len(), 64);
        // Any window reads the same bytes, padding included.
        for (at, len) in [(0, 64), (3, 7), (7, 2), (30, 20), (37, 27), (60, 4)] {
            let mut w = Vec::new();
            b.bytes_into(at, len, &mut w);
            assert_eq!(w, bytes[at..at + len], "window {at}+{len}");
        }
        b.set_range(0, 300, false);
        assert_eq!(b.count(), 0);
        assert_eq!(b.runs().count(), 0);
    }

    #[test]
    fn windows_change_only_their_own_bits() {
        let mut b = PfnBitmap::new(300);
        b.set_range(0, 300, true);
        {
            let mut w = b.windows_mut(&[128, 256]);
            assert_eq!(w.len(), 3);
            w[0].clear(5);
            w[0].clear(130); // not its bit: ignored
            w[1].clear(130);
            w[2].clear(299);
            w[2].clear(300); // past the end: ignored
            assert!(!w[1].get(5) && w[1].get(131) && !w[2].get(299));
        }
        assert_eq!(b.count(), 297);
        assert!(!b.get(5) && !b.get(130) && !b.get(299) && b.get(128));
        assert_eq!(b.windows_mut(&[]).len(), 1);
        let w = b.windows_mut(&[100, 1000]); // 100 moves down to 64; 1000 is past the end
        assert_eq!(
            (w[0].end, w[1].first, w[1].end, w[2].first),
            (64, 64, 300, 300)
        );
    }
}
