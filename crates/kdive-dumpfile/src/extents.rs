//! Disjoint, sorted address ranges mapped to file offsets: the lookup structure behind ELF
//! PT_LOAD segments and flattened-stream records, where the first claim on an address wins.

use std::collections::BTreeMap;

/// `[start, end)` backed by file bytes starting at `file` (or by nothing: `file == None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Extent {
    pub start: u64,
    pub end: u64,
    pub file: Option<u64>,
}

impl Extent {
    /// File offset of `addr`, which must lie inside the extent.
    pub(crate) fn file_offset(&self, addr: u64) -> Option<u64> {
        self.file.map(|f| f + (addr - self.start))
    }
}

/// Builds a disjoint extent list from possibly overlapping claims; earlier claims win.
#[derive(Default)]
pub(crate) struct ExtentBuilder {
    map: BTreeMap<u64, (u64, Option<u64>)>,
}

impl ExtentBuilder {
    /// Adds the parts of `[start, end)` that no earlier claim covers.
    pub(crate) fn claim(&mut self, start: u64, end: u64, file: Option<u64>) {
        let mut pos = start;
        while pos < end {
            // The extent that covers `pos`, or the next one after it.
            let covering = self
                .map
                .range(..=pos)
                .next_back()
                .filter(|(_, (e, _))| *e > pos);
            if let Some((_, (e, _))) = covering {
                pos = *e;
                continue;
            }
            let gap_end = match self.map.range(pos..).next() {
                Some((s, _)) => (*s).min(end),
                None => end,
            };
            let f = file.map(|f| f + (pos - start));
            self.map.insert(pos, (gap_end, f));
            pos = gap_end;
        }
    }

    pub(crate) fn finish(self) -> Vec<Extent> {
        self.map
            .into_iter()
            .map(|(start, (end, file))| Extent { start, end, file })
            .collect()
    }
}

/// Sorts `extents` and returns them if none overlap; otherwise `None`.
pub(crate) fn sorted_if_disjoint(mut extents: Vec<Extent>) -> Result<Vec<Extent>, Vec<Extent>> {
    extents.sort_by_key(|e| e.start);
    if extents.windows(2).all(|w| w[0].end <= w[1].start) {
        Ok(extents)
    } else {
        Err(extents)
    }
}

/// The extent containing `addr`, if any.
pub(crate) fn find(extents: &[Extent], addr: u64) -> Option<&Extent> {
    let i = extents.partition_point(|e| e.start <= addr);
    extents[..i].last().filter(|e| addr < e.end)
}

/// The first extent starting after `addr` (to skip a hole).
pub(crate) fn next_after(extents: &[Extent], addr: u64) -> Option<&Extent> {
    let i = extents.partition_point(|e| e.start <= addr);
    extents.get(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earlier_claims_win_and_gaps_fill() {
        let mut b = ExtentBuilder::default();
        b.claim(100, 200, Some(1000));
        b.claim(50, 300, Some(5000));
        b.claim(150, 160, None);
        let e = b.finish();
        assert_eq!(
            e,
            vec![
                Extent {
                    start: 50,
                    end: 100,
                    file: Some(5000)
                },
                Extent {
                    start: 100,
                    end: 200,
                    file: Some(1000)
                },
                Extent {
                    start: 200,
                    end: 300,
                    file: Some(5150)
                },
            ]
        );
        assert_eq!(find(&e, 120).unwrap().file_offset(120), Some(1020));
        assert_eq!(find(&e, 250).unwrap().file_offset(250), Some(5200));
        assert!(find(&e, 300).is_none());
        assert!(find(&e, 10).is_none());
        assert_eq!(next_after(&e, 10).unwrap().start, 50);
    }

    #[test]
    fn disjoint_check() {
        let a = Extent {
            start: 10,
            end: 20,
            file: None,
        };
        let b = Extent {
            start: 0,
            end: 10,
            file: None,
        };
        assert!(sorted_if_disjoint(vec![a, b]).is_ok());
        let c = Extent {
            start: 5,
            end: 15,
            file: None,
        };
        assert!(sorted_if_disjoint(vec![a, c]).is_err());
    }
}
