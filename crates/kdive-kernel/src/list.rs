//! Walks kernel `list_head` lists: bounded, cycle-detecting, and honest about breaks.

use crate::Kernel;
use std::collections::HashSet;

/// The result of walking a list: the entries reached and, if the walk stopped early, why.
#[derive(Debug, Default, Clone)]
pub struct ListWalk {
    /// Addresses of the `list_head` nodes, in order (the head itself excluded).
    pub nodes: Vec<u64>,
    /// Why the walk ended before returning to the head, if it did.
    pub broken: Option<String>,
}

/// Walks `head->next` until it returns to `head`, at most `limit` nodes.
pub fn walk_list(k: &Kernel, head: u64, limit: usize) -> ListWalk {
    let mut out = ListWalk::default();
    let mut seen = HashSet::new();
    let mut cur = match k.read_u64(head, "list_head.next") {
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
        match k.read_u64(cur, "list_head.next") {
            Ok(next) => cur = next,
            Err(e) => {
                out.broken = Some(e.to_string());
                break;
            }
        }
    }
    out
}

/// Walks forward like [`walk_list`]; when that walk breaks, walks `prev` pointers back from
/// the head to reach the entries behind the break, so a single bad pointer loses no entry.
/// Entries found going backwards are appended in list order.
pub fn walk_list_recovering(k: &Kernel, head: u64, limit: usize) -> ListWalk {
    let mut out = walk_list(k, head, limit);
    if out.broken.is_none() {
        return out;
    }
    let prev_off = k.layout.offset("list_head", "prev").unwrap_or(8);
    let mut seen: HashSet<u64> = out.nodes.iter().copied().collect();
    let mut back = Vec::new();
    let mut cur = match k.read_u64(head + prev_off, "list_head.prev") {
        Ok(v) => v,
        Err(_) => return out,
    };
    let mut stop = None;
    while cur != head && cur != 0 && back.len() + out.nodes.len() < limit {
        if !seen.insert(cur) {
            break; // met the forward walk (or a loop)
        }
        back.push(cur);
        match k.read_u64(cur + prev_off, "list_head.prev") {
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
