//! Walks a red-black tree (`struct rb_node`): every node with its position from the root
//! (`root/l/r`), in crash's pre-order or in sorted (in-) order. Bounded in depth and nodes;
//! a node reached twice or an unreadable child ends that branch with a problem.

use crate::{AddrExt, Kernel, Result};
use std::collections::HashSet;

/// Deepest tree walked: a red-black tree of 2^32 nodes is at most 64 deep.
const MAX_DEPTH: usize = 64;

/// The order nodes are listed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RbOrder {
    /// A node, then its left subtree, then its right (crash's `tree` default).
    Pre,
    /// Sorted: left subtree, node, right subtree (`tree -l`, kernel iteration order).
    In,
}

/// One node and where it hangs: `root`, `root/l`, `root/l/r`, ...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RbNode {
    pub node: u64,
    pub position: String,
}

/// The nodes reached and what stopped parts of the walk.
pub type RbWalk = crate::walk::Walked<RbNode>;

impl Kernel {
    /// The tree below `node` (an `rb_node`, usually `rb_root.rb_node`), at most `limit` nodes.
    pub fn rb_walk(&self, node: u64, order: RbOrder, limit: usize) -> Result<RbWalk> {
        let left = self.layout.offset("rb_node", "rb_left")?;
        let right = self.layout.offset("rb_node", "rb_right")?;
        let mut w = Walk {
            k: self,
            left,
            right,
            order,
            limit,
            seen: HashSet::new(),
            out: RbWalk::default(),
        };
        w.visit(node, "root".to_string(), 0);
        Ok(w.out)
    }
}

struct Walk<'a> {
    k: &'a Kernel,
    left: u64,
    right: u64,
    order: RbOrder,
    limit: usize,
    seen: HashSet<u64>,
    out: RbWalk,
}

impl Walk<'_> {
    fn visit(&mut self, node: u64, position: String, depth: usize) {
        if node == 0 {
            return;
        }
        if self.out.items.len() >= self.limit {
            if !self.out.problems.iter().any(|p| p.starts_with("more than")) {
                self.out
                    .problems
                    .push(format!("more than {} nodes: stopped", self.limit));
            }
            return;
        }
        if depth >= MAX_DEPTH {
            self.out.problems.push(format!(
                "rb_node {node:#x} at {position}: deeper than {MAX_DEPTH}: stopped"
            ));
            return;
        }
        if !self.seen.insert(node) {
            self.out.problems.push(format!(
                "rb_node {node:#x} reached twice (at {position}): a loop in the tree"
            ));
            return;
        }
        let child = |off: u64, what: &str| self.k.read_u64(node.off(off), what);
        let (l, r) = match (
            child(self.left, "rb_node.rb_left"),
            child(self.right, "rb_node.rb_right"),
        ) {
            (Ok(l), Ok(r)) => (l, r),
            (Err(e), _) | (_, Err(e)) => {
                self.out
                    .problems
                    .push(format!("rb_node {node:#x} at {position}: {e}"));
                return;
            }
        };
        let this = RbNode {
            node,
            position: position.clone(),
        };
        if self.order == RbOrder::Pre {
            self.out.items.push(this.clone());
        }
        self.visit(l, format!("{position}/l"), depth + 1);
        if self.order == RbOrder::In && self.out.items.len() < self.limit {
            self.out.items.push(this);
        }
        self.visit(r, format!("{position}/r"), depth + 1);
    }
}
