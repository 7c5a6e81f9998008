//! Walks a maple tree (`struct maple_tree`, lib/maple_tree.c; a process's VMAs since 6.1):
//! every entry with the index range it covers, in order. Bounded in depth and nodes, and a
//! damaged node ends its subtree with a problem naming its address.

use crate::xarray::{is_internal, is_node};
use crate::{AddrExt, Kernel, Result};
use std::collections::HashSet;

/// Low bits of an encoded node pointer (`MAPLE_NODE_MASK`): the node is 256-byte aligned.
const NODE_MASK: u64 = 0xff;
/// `MAPLE_NODE_TYPE_SHIFT` / `MAPLE_NODE_TYPE_MASK`: the child's `enum maple_type`.
const TYPE_SHIFT: u32 = 3;
const TYPE_MASK: u64 = 0xf;
/// `MAPLE_HEIGHT_MAX`.
const MAX_HEIGHT: usize = 31;
/// Values below this with the low bits `10` are the tree's own markers, not entries
/// (`xa_is_internal`, `MAPLE_RESERVED_RANGE`).
const RESERVED_RANGE: u64 = 4096;

/// One entry of the tree: it covers indexes `first..=last`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapleEntry {
    pub first: u64,
    pub last: u64,
    pub entry: u64,
    /// Slot path from the root: `root/3/12`.
    pub position: String,
}

/// The entries reached and, if parts of the tree could not be walked, why.
pub type MapleWalk = crate::walk::Walked<MapleEntry>;

/// Where the pivots and slots of one kind of node are.
#[derive(Debug, Clone, Copy)]
struct NodeShape {
    pivots: u64,
    pivot_off: u64,
    slot_off: u64,
}

/// The node kinds a walk needs, read from the kernel's types.
struct Shapes {
    /// `maple_leaf_64` and `maple_range_64` share `struct maple_range_64`.
    range: NodeShape,
    arange: NodeShape,
    leaf_64: u64,
    range_64: u64,
    arange_64: u64,
}

impl Shapes {
    fn read(k: &Kernel) -> Result<Shapes> {
        let shape = |s: &str| -> Result<NodeShape> {
            let pivot = k
                .layout
                .member(s, "pivot")
                .ok_or_else(|| crate::Error::MissingType(format!("struct {s}.pivot")))?;
            let pivots = pivot.size.unwrap_or(0) / 8;
            if pivots == 0 || pivots > 64 {
                return Err(crate::Error::MissingType(format!(
                    "struct {s}.pivot: array of {pivots} pivots"
                )));
            }
            Ok(NodeShape {
                pivots,
                pivot_off: pivot.offset,
                slot_off: k.layout.offset(s, "slot")?,
            })
        };
        let kind = |name: &str, default: u64| {
            k.layout
                .enumerator("enum maple_type", name)
                .map_or(default, |v| v as u64)
        };
        Ok(Shapes {
            range: shape("maple_range_64")?,
            arange: shape("maple_arange_64")?,
            leaf_64: kind("maple_leaf_64", 1),
            range_64: kind("maple_range_64", 2),
            arange_64: kind("maple_arange_64", 3),
        })
    }
}

impl Kernel {
    /// Entries of the maple tree at `tree` (a `struct maple_tree`), in index order; at most
    /// `limit` of them.
    pub fn maple_entries(&self, tree: u64, limit: usize) -> Result<MapleWalk> {
        let root = self.read_u64(
            tree.off(self.layout.offset("maple_tree", "ma_root")?),
            "maple_tree.ma_root",
        )?;
        let mut walk = MapleWalk::default();
        if !is_node(root) {
            // A tree holding only index 0 keeps the entry in the root itself.
            if root != 0 && !is_reserved(root) {
                walk.items.push(MapleEntry {
                    first: 0,
                    last: 0,
                    entry: root,
                    position: "root".into(),
                });
            }
            return Ok(walk);
        }
        let shapes = Shapes::read(self)?;
        let mut w = Walker {
            k: self,
            shapes: &shapes,
            seen: HashSet::new(),
            limit,
            out: walk,
        };
        w.node(root, 0, u64::MAX, "root", 0);
        Ok(w.out)
    }
}

struct Walker<'a> {
    k: &'a Kernel,
    shapes: &'a Shapes,
    seen: HashSet<u64>,
    limit: usize,
    out: MapleWalk,
}

impl Walker<'_> {
    /// The subtree of encoded node `enode`, covering indexes `min..=max`.
    fn node(&mut self, enode: u64, min: u64, max: u64, position: &str, depth: usize) {
        let node = enode & !NODE_MASK;
        let kind = (enode >> TYPE_SHIFT) & TYPE_MASK;
        if depth > MAX_HEIGHT {
            self.out.problems.push(format!(
                "maple node {node:#x}: deeper than {MAX_HEIGHT} levels"
            ));
            return;
        }
        if !self.seen.insert(node) {
            self.out.problems.push(format!(
                "maple node {node:#x} reached twice: a loop in the tree"
            ));
            return;
        }
        let s = self.shapes;
        let (shape, leaf) = if kind == s.leaf_64 {
            (s.range, true)
        } else if kind == s.range_64 {
            (s.range, false)
        } else if kind == s.arange_64 {
            (s.arange, false)
        } else {
            self.out.problems.push(format!(
                "maple node {node:#x}: type {kind} is not one a tree of ranges holds"
            ));
            return;
        };
        let mut lo = min;
        for i in 0..=shape.pivots {
            if self.out.items.len() >= self.limit {
                self.out
                    .problems
                    .push(format!("more than {} entries: stopped", self.limit));
                return;
            }
            let read = |off: u64, what: &str| self.k.read_u64(node.off(off).elem(i, 8), what);
            let pivot = if i < shape.pivots {
                match read(shape.pivot_off, "maple node pivot") {
                    Ok(p) => p,
                    Err(e) => return self.out.problems.push(e.to_string()),
                }
            } else {
                max
            };
            // A zero pivot after the first slot ends the node's data.
            if i > 0 && pivot == 0 {
                break;
            }
            let hi = pivot.min(max);
            if hi < lo {
                self.out.problems.push(format!(
                    "maple node {node:#x}: pivot {i} ({pivot:#x}) below the range's start {lo:#x}"
                ));
                return;
            }
            let slot = match read(shape.slot_off, "maple node slot") {
                Ok(v) => v,
                Err(e) => return self.out.problems.push(e.to_string()),
            };
            if leaf {
                if slot != 0 && !is_reserved(slot) {
                    self.out.items.push(MapleEntry {
                        first: lo,
                        last: hi,
                        entry: slot,
                        position: format!("{position}/{i}"),
                    });
                }
            } else if slot != 0 {
                self.node(slot, lo, hi, &format!("{position}/{i}"), depth + 1);
            }
            if hi >= max {
                break;
            }
            lo = hi + 1;
        }
    }
}

/// The tree's own marker values (`xa_is_internal` below the reserved range).
fn is_reserved(v: u64) -> bool {
    is_internal(v) && v < RESERVED_RANGE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_pointers_and_markers_are_told_apart() {
        // A leaf_64 node at 0xffff888012345600: type 1 in bits 3-6, low bits 10.
        assert!(is_node(0xffff_8880_1234_5600 | (1 << 3) | 2));
        assert!(!is_node(0xffff_8880_1234_5600)); // a plain (VMA) pointer
        assert!(is_reserved(2) && is_reserved(4094) && !is_reserved(4098));
        assert!(!is_reserved(0xffff_8880_1234_5600));
    }
}
