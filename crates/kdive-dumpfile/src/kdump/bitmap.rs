//! A kdump bitmap with a rank index: the count of set bits before every 512-bit block, so the
//! page-descriptor index of a PFN (set bits below it in the 2nd bitmap) is found in O(1).

/// Bits per rank block (8 words).
const BLOCK_WORDS: usize = 8;

/// A bitmap (bit `i` = `byte[i / 8] & (1 << (i % 8))`) with cumulative counts.
#[derive(Debug, Clone)]
pub struct RankedBitmap {
    words: Vec<u64>,
    /// `ranks[k]` = set bits in `words[..k * BLOCK_WORDS]`.
    ranks: Vec<u64>,
    bits: u64,
}

impl RankedBitmap {
    /// Builds from the first `bits` bits of `bytes` (which must hold at least `bits / 8` bytes,
    /// rounded up); bits past `bits` are ignored.
    pub fn from_bytes(bytes: &[u8], bits: u64) -> RankedBitmap {
        let nbytes = (bits.div_ceil(8) as usize).min(bytes.len());
        let bits = bits.min(nbytes as u64 * 8);
        let mut words: Vec<u64> = bytes[..nbytes]
            .chunks(8)
            .map(|c| {
                let mut a = [0u8; 8];
                a[..c.len()].copy_from_slice(c);
                u64::from_le_bytes(a)
            })
            .collect();
        if bits % 64 != 0 {
            if let Some(last) = words.last_mut() {
                *last &= (1u64 << (bits % 64)) - 1;
            }
        }
        let mut ranks = Vec::with_capacity(words.len() / BLOCK_WORDS + 1);
        let mut total = 0u64;
        for block in words.chunks(BLOCK_WORDS) {
            ranks.push(total);
            total += block.iter().map(|w| w.count_ones() as u64).sum::<u64>();
        }
        ranks.push(total);
        RankedBitmap { words, ranks, bits }
    }

    /// Number of bits described.
    pub fn len(&self) -> u64 {
        self.bits
    }

    pub fn is_empty(&self) -> bool {
        self.bits == 0
    }

    /// Bit `i` (false past the end).
    pub fn get(&self, i: u64) -> bool {
        i < self.bits && self.words[(i / 64) as usize] & (1 << (i % 64)) != 0
    }

    /// Bits `8 * byte .. 8 * byte + 8` as a byte (bit k = bit `8 * byte + k`; 0 past the end).
    pub fn byte(&self, byte: u64) -> u8 {
        self.words
            .get((byte / 8) as usize)
            .map_or(0, |w| (w >> (8 * (byte % 8))) as u8)
    }

    /// Set bits in `[0, i)`; `i` is clamped to the length.
    pub fn rank(&self, i: u64) -> u64 {
        let i = i.min(self.bits);
        let w = (i / 64) as usize;
        let block = w / BLOCK_WORDS;
        let mut r = self.ranks[block];
        r += self.words[block * BLOCK_WORDS..w]
            .iter()
            .map(|x| x.count_ones() as u64)
            .sum::<u64>();
        if i % 64 != 0 {
            r += (self.words[w] & ((1u64 << (i % 64)) - 1)).count_ones() as u64;
        }
        r
    }

    /// Total set bits.
    pub fn count(&self) -> u64 {
        *self.ranks.last().unwrap_or(&0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn rank_matches_naive_count(bytes in proptest::collection::vec(any::<u8>(), 0..300), cut in 0u64..2600) {
            let bm = RankedBitmap::from_bytes(&bytes, cut);
            let bit = |i: u64| bytes[(i / 8) as usize] & (1 << (i % 8)) != 0;
            let mut naive = 0;
            for i in 0..bm.len() {
                prop_assert_eq!(bm.rank(i), naive);
                prop_assert_eq!(bm.get(i), bit(i));
                if bit(i) { naive += 1; }
            }
            prop_assert_eq!(bm.rank(bm.len()), naive);
            prop_assert_eq!(bm.count(), naive);
            prop_assert!(!bm.get(bm.len()));
        }
    }
}
