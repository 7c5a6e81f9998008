//! The kernel's resource trees (`ioport_resource`, `iomem_resource`): every `struct resource`
//! in pre-order with its range, name and depth — what `dev -i` and /proc/ioports show.

use crate::walk::Walked;
use crate::{AddrExt, Kernel, Result};
use std::collections::HashSet;

/// Bounds against a damaged tree: resources in all, and nesting depth.
const RESOURCES_LIMIT: usize = 1 << 16;
const DEPTH_LIMIT: usize = 32;
/// Longest name read.
const NAME_MAX: usize = 256;

/// One resource.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Resource {
    /// The `struct resource`.
    pub addr: u64,
    pub start: u64,
    pub end: u64,
    /// Its name; None when `name` cannot be read.
    pub name: Option<String>,
    /// 0 for the root, 1 for its children, ...
    pub depth: usize,
}

impl Kernel {
    /// The tree under the `struct resource` called `root` (`ioport_resource`,
    /// `iomem_resource`), root first, each resource followed by its children and then its
    /// next sibling. A node that cannot be read, is met twice or lies too deep ends its branch
    /// with a problem.
    pub fn resource_tree(&self, root: &str) -> Result<Walked<Resource>> {
        let off = |m: &str| self.layout.offset("resource", m);
        let (start, end, name) = (off("start")?, off("end")?, off("name")?);
        let (child, sibling) = (off("child")?, off("sibling")?);
        let mut out = Walked::default();
        let mut seen = HashSet::new();
        // (resource, depth) still to visit; siblings are pushed before children so a node's
        // children come out before its next sibling.
        let mut stack = vec![(self.symbol_addr(root)?, 0usize)];
        while let Some((r, depth)) = stack.pop() {
            if out.items.len() >= RESOURCES_LIMIT {
                out.problems
                    .push(format!("{root}: stopped after {RESOURCES_LIMIT} resources"));
                break;
            }
            if !seen.insert(r) {
                out.problems
                    .push(format!("{root}: resource {r:#x} reached twice (a loop)"));
                continue;
            }
            let read = |o: u64, what: &str| self.read_u64(r.off(o), what);
            let node = (|| -> Result<(Resource, u64, u64)> {
                let name_ptr = read(name, "resource.name")?;
                let res = Resource {
                    addr: r,
                    start: read(start, "resource.start")?,
                    end: read(end, "resource.end")?,
                    name: (name_ptr != 0)
                        .then(|| self.read_cstr(name_ptr, NAME_MAX, "resource.name").ok())
                        .flatten(),
                    depth,
                };
                Ok((
                    res,
                    read(child, "resource.child")?,
                    read(sibling, "resource.sibling")?,
                ))
            })();
            let (res, first_child, next) = match node {
                Ok(n) => n,
                Err(e) => {
                    out.problems.push(format!("{root}: {e}"));
                    continue;
                }
            };
            out.items.push(res);
            if next != 0 {
                stack.push((next, depth));
            }
            if first_child != 0 && first_child != r {
                if depth + 1 > DEPTH_LIMIT {
                    out.problems.push(format!(
                        "{root}: resource {r:#x} nests deeper than {DEPTH_LIMIT}"
                    ));
                } else {
                    stack.push((first_child, depth + 1));
                }
            }
        }
        Ok(out)
    }
}
