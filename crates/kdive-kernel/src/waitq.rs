//! Wait queues: the tasks sleeping on a `wait_queue_head` (each `wait_queue_entry` on its
//! `head` list, its `private` the waiting task).

use crate::list::walk_list;
use crate::walk::Walked;
use crate::{AddrExt, Kernel, Result};

/// At most this many waiters are read from one queue.
const WAITERS_LIMIT: usize = 1 << 16;

/// One entry on a wait queue.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Waiter {
    /// The `wait_queue_entry`.
    pub entry: u64,
    /// Its `private`: the waiting task for the usual entries (an exclusive or custom waker
    /// may store something else there).
    pub private: u64,
    /// Its wake function.
    pub func: u64,
}

impl Kernel {
    /// The entries of the `wait_queue_head` at `head`, in queue order; a broken list ends the
    /// walk with the reason in `problems`.
    pub fn wait_queue(&self, head: u64) -> Result<Walked<Waiter>> {
        let list = head.off(self.layout.offset("wait_queue_head", "head")?);
        let entry_o = self.layout.offset("wait_queue_entry", "entry")?;
        let private_o = self.layout.offset("wait_queue_entry", "private")?;
        let func_o = self.layout.offset("wait_queue_entry", "func")?;
        let walk = walk_list(self, list, WAITERS_LIMIT);
        let mut out = Walked::default();
        for node in walk.nodes {
            let entry = node.wrapping_sub(entry_o);
            let read = |o: u64, what: &str| self.read_u64(entry.off(o), what);
            match (
                read(private_o, "wait_queue_entry.private"),
                read(func_o, "wait_queue_entry.func"),
            ) {
                (Ok(private), Ok(func)) => out.items.push(Waiter {
                    entry,
                    private,
                    func,
                }),
                (Err(e), _) | (_, Err(e)) => {
                    out.problems.push(e.to_string());
                    break;
                }
            }
        }
        out.problems.extend(walk.broken);
        Ok(out)
    }
}
