//! Walks kernel `list_head` lists and NULL-terminated chains: bounded, cycle-detecting, and
//! honest about breaks.

use crate::{AddrExt, Error, Kernel, Result};
use kdive_kspace::KernelSpace;
use std::collections::HashSet;

/// Reads the u64 at a kernel virtual address, naming what it is when it cannot: the [`Kernel`],
/// or a bare [`KernelSpace`] (the walks' tests run over synthetic memory).
pub trait ReadWord {
    fn read_word(&self, va: u64, what: &str) -> Result<u64>;
}

impl ReadWord for Kernel {
    fn read_word(&self, va: u64, what: &str) -> Result<u64> {
        self.read_u64(va, what)
    }
}

impl ReadWord for KernelSpace {
    fn read_word(&self, va: u64, what: &str) -> Result<u64> {
        self.read_u64(va).map_err(|source| Error::Read {
            what: what.to_string(),
            va,
            source,
        })
    }
}

/// The result of walking a list: the entries reached and, if the walk stopped early, why.
#[derive(Debug, Default, Clone)]
pub struct ListWalk {
    /// Addresses of the `list_head` nodes, in order (the head itself excluded).
    pub nodes: Vec<u64>,
    /// Why the walk ended before returning to the head, if it did.
    pub broken: Option<String>,
}

/// Walks `head->next` until it returns to `head`, at most `limit` nodes; a node seen twice
/// (a loop that does not pass through the head) ends the walk.
pub fn walk_list<M: ReadWord + ?Sized>(k: &M, head: u64, limit: usize) -> ListWalk {
    let mut out = ListWalk::default();
    let mut seen = HashSet::new();
    let mut cur = match k.read_word(head, "list_head.next") {
        Ok(v) => v,
        Err(e) => {
            out.broken = Some(e.to_string());
            return out;
        }
    };
    while cur != head {
        if out.nodes.len() >= limit {
            out.broken = Some(format!(
                "list at {head:#x} longer than {limit} entries; stopped"
            ));
            break;
        }
        if cur == 0 || !seen.insert(cur) {
            out.broken = Some(if cur == 0 {
                format!(
                    "NULL next pointer after {:#x}",
                    out.nodes.last().copied().unwrap_or(head)
                )
            } else {
                format!("list at {head:#x} loops back to {cur:#x} without reaching its head")
            });
            break;
        }
        out.nodes.push(cur);
        match k.read_word(cur, "list_head.next") {
            Ok(next) => cur = next,
            Err(e) => {
                out.broken = Some(e.to_string());
                break;
            }
        }
    }
    out
}

/// Follows a NULL-terminated singly linked chain from `first` (`next(node)` reads the node
/// after `node`), at most `limit` nodes; a node seen twice ends the walk as a loop. A read
/// that fails is the caller's error; a loop or the limit sets `broken`.
pub fn walk_chain(
    first: u64,
    limit: usize,
    mut next: impl FnMut(u64) -> Result<u64>,
) -> Result<ListWalk> {
    let mut out = ListWalk::default();
    let mut seen = HashSet::new();
    let mut cur = first;
    while cur != 0 {
        if out.nodes.len() >= limit {
            out.broken = Some(format!(
                "chain from {first:#x} longer than {limit} entries; stopped"
            ));
            break;
        }
        if !seen.insert(cur) {
            out.broken = Some(format!("chain from {first:#x} loops back to {cur:#x}"));
            break;
        }
        out.nodes.push(cur);
        cur = next(cur)?;
    }
    Ok(out)
}

/// Walks forward like [`walk_list`]; when that walk breaks, walks `prev` pointers back from
/// the head to reach the entries behind the break, so a single bad pointer loses no entry.
/// Entries found going backwards are appended in list order. `prev_off` is the offset of
/// `list_head.prev`.
pub fn walk_list_recovering<M: ReadWord + ?Sized>(
    k: &M,
    head: u64,
    prev_off: u64,
    limit: usize,
) -> ListWalk {
    let mut out = walk_list(k, head, limit);
    if out.broken.is_none() {
        return out;
    }
    let mut seen: HashSet<u64> = out.nodes.iter().copied().collect();
    let mut back = Vec::new();
    let mut cur = match k.read_word(head.off(prev_off), "list_head.prev") {
        Ok(v) => v,
        Err(_) => return out,
    };
    let mut stop = None;
    while cur != head && cur != 0 && back.len() + out.nodes.len() < limit {
        if !seen.insert(cur) {
            break; // met the forward walk (or a loop)
        }
        back.push(cur);
        match k.read_word(cur.off(prev_off), "list_head.prev") {
            Ok(p) => cur = p,
            Err(e) => {
                stop = Some(e.to_string());
                break;
            }
        }
    }
    if !back.is_empty() {
        let b = out.broken.take().unwrap_or_default();
        out.broken = Some(format!(
            "{b}; {} more reached backwards through prev pointers{}",
            back.len(),
            stop.map(|s| format!(" (then: {s})")).unwrap_or_default()
        ));
        back.reverse();
        out.nodes.extend(back);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kdive_kspace::synth::SynthMem;

    /// A kernel-text page at `LOW` (physical 0x20000) and the last page of the address space
    /// at `TOP` (physical 0x30000); words are written by virtual address.
    const LOW: u64 = 0xffff_ffff_8100_0000;
    const TOP: u64 = 0xffff_ffff_ffff_f000;

    struct Image(SynthMem);

    impl Image {
        fn new() -> Image {
            let mut m = SynthMem::new(0x40000, 0x10000, false);
            m.map(LOW, 0x20000, 0x1000);
            m.map(TOP, 0x30000, 0x1000);
            Image(m)
        }
        fn put(&mut self, va: u64, v: u64) {
            let pa = if va >= TOP {
                0x30000 + (va - TOP)
            } else {
                0x20000 + (va - LOW)
            };
            self.0.write_u64(pa, v);
        }
        fn space(self) -> KernelSpace {
            self.0.into_space()
        }
    }

    /// `list_head` at `LOW + 0x100 * i` (next at +0, prev at +8).
    fn node(i: u64) -> u64 {
        LOW + 0x100 * i
    }

    #[test]
    fn a_whole_list_returns_to_its_head() {
        let mut m = Image::new();
        m.put(node(0), node(1));
        m.put(node(1), node(2));
        m.put(node(2), node(0));
        let w = walk_list(&m.space(), node(0), 100);
        assert_eq!(w.nodes, [node(1), node(2)]);
        assert!(w.broken.is_none());
    }

    #[test]
    fn a_list_that_loops_back_mid_list_stops_once_round() {
        let mut m = Image::new();
        m.put(node(0), node(1));
        m.put(node(1), node(2));
        m.put(node(2), node(3));
        m.put(node(3), node(2)); // back to the second entry, never to the head
        let w = walk_list(&m.space(), node(0), 1000);
        assert_eq!(w.nodes, [node(1), node(2), node(3)]);
        let b = w.broken.unwrap();
        assert!(b.contains("loops back to 0xffffffff81000200"), "{b}");
    }

    #[test]
    fn a_node_pointing_to_itself_stops_the_walk() {
        let mut m = Image::new();
        m.put(node(0), node(1));
        m.put(node(1), node(1));
        let w = walk_list(&m.space(), node(0), 1000);
        assert_eq!(w.nodes, [node(1)]);
        assert!(w.broken.unwrap().contains("loops back"));
    }

    #[test]
    fn an_empty_list_is_its_head_pointing_to_itself() {
        let mut m = Image::new();
        m.put(node(0), node(0));
        let w = walk_list(&m.space(), node(0), 1000);
        assert!(w.nodes.is_empty() && w.broken.is_none());
    }

    #[test]
    fn a_long_list_stops_at_the_limit() {
        let mut m = Image::new();
        for i in 0..10 {
            m.put(node(i), node(i + 1));
        }
        m.put(node(10), node(0));
        let w = walk_list(&m.space(), node(0), 4);
        assert_eq!(w.nodes.len(), 4);
        assert!(w.broken.unwrap().contains("longer than 4"));
    }

    #[test]
    fn the_recovering_walk_goes_back_through_prev_and_stops_at_a_loop() {
        let mut m = Image::new();
        // Forward: head -> 1 -> NULL. Backward: head <- 3 <- 2 <- 3 (a loop in prev).
        m.put(node(0), node(1));
        m.put(node(1), 0);
        m.put(node(0) + 8, node(3));
        m.put(node(3) + 8, node(2));
        m.put(node(2) + 8, node(3));
        let w = walk_list_recovering(&m.space(), node(0), 8, 1000);
        assert_eq!(w.nodes, [node(1), node(2), node(3)]);
        let b = w.broken.unwrap();
        assert!(
            b.contains("NULL next pointer") && b.contains("2 more reached backwards"),
            "{b}"
        );
    }

    #[test]
    fn chains_end_at_null_and_stop_at_loops() {
        let mut m = Image::new();
        m.put(node(1) + 0x10, node(2));
        m.put(node(2) + 0x10, node(3));
        m.put(node(3) + 0x10, 0);
        m.put(node(4) + 0x10, node(5));
        m.put(node(5) + 0x10, node(4)); // 4 -> 5 -> 4
        m.put(node(6) + 0x10, node(6)); // 6 -> 6
        let ks = m.space();
        let next = |n: u64| ks.read_word(n.off(0x10), "test.next");
        let w = walk_chain(node(1), 100, next).unwrap();
        assert_eq!(w.nodes, [node(1), node(2), node(3)]);
        assert!(w.broken.is_none());
        let w = walk_chain(node(4), 100, next).unwrap();
        assert_eq!(w.nodes, [node(4), node(5)]);
        assert!(w
            .broken
            .unwrap()
            .contains("loops back to 0xffffffff81000400"));
        let w = walk_chain(node(6), 100, next).unwrap();
        assert_eq!(w.nodes, [node(6)]);
        assert!(w.broken.is_some());
        assert!(walk_chain(0, 100, next).unwrap().nodes.is_empty());
        let w = walk_chain(node(1), 2, next).unwrap();
        assert!(w.broken.unwrap().contains("longer than 2"));
    }

    /// Pointers at the very top of the address space: member offsets added to them wrap, and
    /// the wrapped address fails its read. In a debug build a plain `+` would panic here.
    #[test]
    fn pointers_near_the_top_of_the_address_space_are_errors_not_panics() {
        let mut m = Image::new();
        let top = 0xffff_ffff_ffff_fff0;
        // Forward: head -> top -> NULL. Backward: head <- 0xffff_ffff_ffff_fffc (whose prev, 8
        // bytes further, lies past 2^64).
        m.put(node(0), top);
        m.put(top, 0);
        m.put(node(0) + 8, 0xffff_ffff_ffff_fff8);
        m.put(0xffff_ffff_ffff_fff8, 0xffff_ffff_ffff_fffc);
        let ks = m.space();
        let w = walk_list_recovering(&ks, node(0), 8, 1000);
        assert_eq!(w.nodes[0], top);
        let b = w.broken.unwrap();
        assert!(
            b.contains("NULL next pointer after 0xfffffffffffffff0"),
            "{b}"
        );
        // A task-walk style use of the node: container_of, then members past 2^64.
        let (tasks_off, pid_off) = (0x4a0u64, 0x5c0u64);
        for n in &w.nodes {
            let task = n.back(tasks_off);
            let e = ks
                .read_word(task.off(pid_off), "task_struct.pid")
                .unwrap_err();
            assert!(e.to_string().contains("task_struct.pid"), "{e}");
        }
        // A read that starts in the last page and runs past 2^64.
        assert!(ks.read_word(0xffff_ffff_ffff_fffc, "x").is_err());
        // A chain whose next pointer sits 0x20 past a node near the top.
        let e = walk_chain(top, 10, |n| ks.read_word(n.off(0x20), "chain.next")).unwrap_err();
        assert!(e.to_string().contains("chain.next at 0x10"), "{e}");
    }
}
