//! `search`'s matching, over page-sized chunks of memory: words of 2, 4 or 8 bytes compared
//! under a mask of don't-care bits, or strings, including ones that cross into the next
//! contiguous chunk (reported as crash reports them, with up to 56 characters of context).

/// Characters of context a string hit shows (crash's `CHARS_CTX`).
const CHARS_CTX: usize = 56;

/// What is searched for.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// Little-endian words of `width` bytes (2, 4 or 8); bits set in `mask` are ignored.
    Words {
        width: usize,
        values: Vec<u64>,
        mask: u64,
    },
    /// Byte strings (never empty).
    Chars(Vec<Vec<u8>>),
}

/// One match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hit {
    /// A word: its address, its value, and which searched value it matched.
    Word { addr: u64, value: u64, which: usize },
    /// A string: its address and the characters shown (unprintable ones as `.`).
    Chars { addr: u64, shown: String },
}

impl Hit {
    pub fn addr(&self) -> u64 {
        match self {
            Hit::Word { addr, .. } | Hit::Chars { addr, .. } => *addr,
        }
    }
}

/// A string target's possible matches that run off the end of the previous chunk.
#[derive(Debug, Clone, Default)]
struct Cross {
    /// Address of the first position of the tail zone (the chunk's last `len - 1` bytes).
    addr: u64,
    /// Which tail positions matched a prefix of the target.
    hit: Vec<bool>,
}

/// The matcher, with the state string matches carry from one chunk to the next.
#[derive(Debug, Clone)]
pub struct Matcher {
    pattern: Pattern,
    cross: Vec<Cross>,
    /// Where the next chunk must start for pending cross matches to count.
    next_addr: Option<u64>,
}

fn shown(bytes: impl IntoIterator<Item = u8>) -> String {
    bytes
        .into_iter()
        .map(|b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            }
        })
        .collect()
}

impl Matcher {
    pub fn new(pattern: Pattern) -> Matcher {
        Matcher {
            pattern,
            cross: Vec::new(),
            next_addr: None,
        }
    }

    /// Searches the first `count` bytes of `data` (which runs on to the end of its page, for
    /// string context), found at `addr`; `count` is a multiple of 8 (crash searches longs).
    pub fn feed(&mut self, addr: u64, data: &[u8], count: usize, out: &mut Vec<Hit>) {
        let count = count.min(data.len());
        match &self.pattern {
            Pattern::Words {
                width,
                values,
                mask,
            } => {
                let width = *width;
                let full = if width >= 8 {
                    u64::MAX
                } else {
                    (1u64 << (width * 8)) - 1
                };
                let mask = mask & full;
                for (i, w) in data[..count].chunks_exact(width).enumerate() {
                    let mut le = [0u8; 8];
                    le[..width].copy_from_slice(w);
                    let v = u64::from_le_bytes(le);
                    for (which, &t) in values.iter().enumerate() {
                        if v | mask == (t & full) | mask {
                            out.push(Hit::Word {
                                addr: addr.wrapping_add((i * width) as u64),
                                value: v,
                                which,
                            });
                        }
                    }
                }
            }
            Pattern::Chars(targets) => {
                let targets = targets.clone();
                self.feed_chars(&targets, addr, data, count, out);
            }
        }
    }

    fn feed_chars(
        &mut self,
        targets: &[Vec<u8>],
        addr: u64,
        data: &[u8],
        count: usize,
        out: &mut Vec<Hit>,
    ) {
        if self.cross.len() != targets.len() {
            self.cross = vec![Cross::default(); targets.len()];
        }
        // Matches begun at the end of the previous, contiguous chunk.
        if self.next_addr == Some(addr) {
            for (t, c) in targets.iter().zip(&self.cross) {
                let len = t.len();
                for (i, _) in c.hit.iter().enumerate().filter(|(_, h)| **h) {
                    if data.starts_with(&t[len - 1 - i..]) {
                        let from = (i + 1).min(data.len());
                        let to = (i + 1 + CHARS_CTX.saturating_sub(len)).min(data.len());
                        out.push(Hit::Chars {
                            addr: c.addr.wrapping_add(i as u64),
                            shown: shown(t.iter().chain(&data[from..to]).copied()),
                        });
                    }
                }
            }
        }
        self.next_addr = addr.checked_add(count as u64);
        for (t, c) in targets.iter().zip(self.cross.iter_mut()) {
            let len = t.len();
            c.addr = addr
                .wrapping_add(count as u64)
                .wrapping_sub(len.saturating_sub(1) as u64);
            c.hit = vec![false; len.saturating_sub(1)];
        }
        for i in 0..count {
            for (t, c) in targets.iter().zip(self.cross.iter_mut()) {
                let len = t.len();
                if i + len > count {
                    if data[i..count] == t[..count - i] {
                        if let Some(h) = c.hit.get_mut(len + i - count - 1) {
                            *h = true;
                        }
                    }
                } else if data[i..i + len] == t[..] {
                    let slen = CHARS_CTX.min(count - i);
                    out.push(Hit::Chars {
                        addr: addr.wrapping_add(i as u64),
                        shown: shown(data[i..i + slen].iter().copied()),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(width: usize, values: &[u64], mask: u64) -> Matcher {
        Matcher::new(Pattern::Words {
            width,
            values: values.to_vec(),
            mask,
        })
    }

    #[test]
    fn longs_match_whole_aligned_words() {
        let mut buf = vec![0u8; 32];
        buf[8..16].copy_from_slice(&0xdead_beef_u64.to_le_bytes());
        buf[20..28].copy_from_slice(&0xdead_beef_u64.to_le_bytes()); // unaligned: not a hit
        let mut out = Vec::new();
        words(8, &[0xdead_beef], 0).feed(0x1000, &buf, 32, &mut out);
        assert_eq!(
            out,
            vec![Hit::Word {
                addr: 0x1008,
                value: 0xdead_beef,
                which: 0
            }]
        );
    }

    #[test]
    fn mask_ignores_bits_and_values_report_in_order() {
        let mut buf = vec![0u8; 16];
        buf[0..4].copy_from_slice(&0x1234_abcd_u32.to_le_bytes());
        buf[4..8].copy_from_slice(&0x0000_abcd_u32.to_le_bytes());
        buf[8..12].copy_from_slice(&0x0000_abce_u32.to_le_bytes());
        let mut out = Vec::new();
        words(4, &[0xabcd], 0xffff_0000).feed(0, &buf, 16, &mut out);
        let addrs: Vec<u64> = out.iter().map(Hit::addr).collect();
        assert_eq!(addrs, vec![0, 4]);
        // Two values: each position reports each value it matches, values in given order.
        let mut out = Vec::new();
        words(2, &[0xabcd, 0x1234], 0).feed(0, &buf, 8, &mut out);
        let got: Vec<(u64, usize)> = out
            .iter()
            .map(|h| match h {
                Hit::Word { addr, which, .. } => (*addr, *which),
                Hit::Chars { .. } => unreachable!(),
            })
            .collect();
        assert_eq!(got, vec![(0, 0), (2, 1), (4, 0)]);
    }

    #[test]
    fn count_limits_the_search() {
        let buf = vec![0u8; 16];
        let mut out = Vec::new();
        words(8, &[0], 0).feed(0, &buf, 8, &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn strings_in_a_chunk_show_context_to_its_end() {
        let mut buf = vec![0u8; 64];
        buf[40..46].copy_from_slice(b"hello\n");
        let mut m = Matcher::new(Pattern::Chars(vec![b"hello".to_vec()]));
        let mut out = Vec::new();
        m.feed(0x100, &buf, 64, &mut out);
        assert_eq!(
            out,
            vec![Hit::Chars {
                addr: 0x128,
                shown: "hello...................".into()
            }]
        );
    }

    #[test]
    fn strings_crossing_into_the_next_contiguous_chunk() {
        let mut a = vec![b'x'; 16];
        a[13..16].copy_from_slice(b"hel");
        let mut b = vec![b'y'; 16];
        b[0..2].copy_from_slice(b"lo");
        let mut m = Matcher::new(Pattern::Chars(vec![b"hello".to_vec()]));
        let mut out = Vec::new();
        m.feed(0x0, &a, 16, &mut out);
        assert!(out.is_empty());
        m.feed(0x10, &b, 16, &mut out);
        assert_eq!(
            out,
            vec![Hit::Chars {
                addr: 0xd,
                shown: "helloyyyyyyyyyyyyyy".into()
            }]
        );
        // Not contiguous: the pending prefix is dropped.
        let mut m = Matcher::new(Pattern::Chars(vec![b"hello".to_vec()]));
        let mut out = Vec::new();
        m.feed(0x0, &a, 16, &mut out);
        m.feed(0x20, &b, 16, &mut out);
        assert!(out.is_empty());
    }
}
