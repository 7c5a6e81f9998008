//! Walks an XArray (`struct xarray`, also the radix tree and the IDR): every entry with its
//! index and slot path (`root/1/46`), in index order. Bounded in depth and entries; a node
//! reached twice or unreadable ends that branch with a problem.

use crate::{AddrExt, Kernel, Result};
use std::collections::HashSet;

/// `XA_CHUNK_SIZE`: slots per node (CONFIG_BASE_SMALL=0).
const SLOTS: u64 = 64;
/// Deepest tree: 64-bit indexes in 6-bit steps.
const MAX_DEPTH: usize = 11;
/// Internal entries below this are the array's markers (siblings, retry, zero), not nodes.
const INTERNAL_MAX: u64 = 4096;

/// One entry: its index, its value, and its slot path from the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XaEntry {
    pub index: u64,
    pub entry: u64,
    pub position: String,
}

/// The entries reached and what stopped parts of the walk.
pub type XaWalk = crate::walk::Walked<XaEntry>;

impl Kernel {
    /// Entries of the XArray at `xa` (a `struct xarray` or `radix_tree_root`), at most `limit`.
    pub fn xarray_entries(&self, xa: u64, limit: usize) -> Result<XaWalk> {
        let head = self.read_u64(
            xa.off(self.layout.offset("xarray", "xa_head")?),
            "xarray.xa_head",
        )?;
        let mut out = XaWalk::default();
        if head == 0 {
            return Ok(out);
        }
        if !is_node(head) {
            if !is_internal(head) {
                out.items.push(XaEntry {
                    index: 0,
                    entry: head,
                    position: "root".into(),
                });
            }
            return Ok(out);
        }
        let slots = self.layout.offset("xa_node", "slots")?;
        let shift = self.layout.offset("xa_node", "shift")?;
        let mut seen = HashSet::new();
        // Depth first, each node's slots pushed in reverse: entries come out in index order.
        let mut stack = vec![Item::Node {
            node: head - 2,
            base: 0,
            position: "root".into(),
            depth: 0,
        }];
        while let Some(item) = stack.pop() {
            let (node, base, position, depth) = match item {
                Item::Leaf(e) => {
                    if out.items.len() >= limit {
                        out.problems
                            .push(format!("more than {limit} entries: stopped"));
                        break;
                    }
                    out.items.push(e);
                    continue;
                }
                Item::Node {
                    node,
                    base,
                    position,
                    depth,
                } => (node, base, position, depth),
            };
            if depth > MAX_DEPTH || !seen.insert(node) {
                out.problems.push(format!(
                    "xa_node {node:#x} at {position}: {}",
                    if depth > MAX_DEPTH {
                        "deeper than any index needs"
                    } else {
                        "reached twice: a loop in the tree"
                    }
                ));
                continue;
            }
            let read = || -> Result<(u64, Vec<u64>)> {
                let mut sh = [0u8];
                self.read(node.off(shift), &mut sh, "xa_node.shift")?;
                let sh = sh[0] as u64;
                let mut v = vec![0u8; (SLOTS * 8) as usize];
                self.read(node.off(slots), &mut v, "xa_node.slots")?;
                let words = v
                    .chunks_exact(8)
                    .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                    .collect();
                Ok((sh, words))
            };
            let (sh, words) = match read() {
                Ok(x) if x.0 < 64 => x,
                Ok((sh, _)) => {
                    out.problems
                        .push(format!("xa_node {node:#x} at {position}: shift {sh}"));
                    continue;
                }
                Err(e) => {
                    out.problems
                        .push(format!("xa_node {node:#x} at {position}: {e}"));
                    continue;
                }
            };
            for (i, &e) in words.iter().enumerate().rev() {
                if e == 0 || (is_internal(e) && !is_node(e)) {
                    continue;
                }
                let index = base.wrapping_add((i as u64) << sh);
                let position = format!("{position}/{i}");
                stack.push(if is_node(e) {
                    Item::Node {
                        node: e - 2,
                        base: index,
                        position,
                        depth: depth + 1,
                    }
                } else {
                    Item::Leaf(XaEntry {
                        index,
                        entry: e,
                        position,
                    })
                });
            }
        }
        Ok(out)
    }
}

/// A node still to walk, or an entry found in one.
enum Item {
    Node {
        node: u64,
        base: u64,
        position: String,
        depth: usize,
    },
    Leaf(XaEntry),
}

/// `xa_is_internal`: low bits `10`.
pub(crate) fn is_internal(v: u64) -> bool {
    v & 3 == 2
}

/// `xa_is_node`: an internal entry above the markers.
pub(crate) fn is_node(v: u64) -> bool {
    is_internal(v) && v > INTERNAL_MAX
}
