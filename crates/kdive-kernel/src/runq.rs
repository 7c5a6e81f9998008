//! Run queues as `runq` shows them: each online CPU's `rq` (per-CPU `runqueues`), its current
//! task, the tasks queued on the RT priority array (`rq.rt.active.queue[]`) and on the CFS
//! timeline (`rq.cfs.tasks_timeline`, an rbtree of `sched_entity.run_node`; group entities'
//! own queues are walked in place).

use crate::{AddrExt, Kernel, Result};
use std::collections::HashSet;

/// A queued task: (kernel priority, task address).
pub type Queued = (u32, u64);

#[derive(Debug, Clone, serde::Serialize)]
pub struct RunQueue {
    pub cpu: u32,
    pub rq: u64,
    pub curr: u64,
    pub rt_array: u64,
    pub rt: Vec<Queued>,
    pub cfs_root: u64,
    pub cfs: Vec<Queued>,
    pub problems: Vec<String>,
}

const MAX_RT_PRIO: u64 = 100;
const MAX_QUEUED: usize = 1 << 20;

impl Kernel {
    pub fn run_queues(&self) -> Result<Vec<RunQueue>> {
        let runqueues = self.symbol_addr("runqueues")?;
        let o = |s: &str, m: &str| self.layout.offset(s, m);
        let (rq_curr, rq_rt, rq_cfs) = (o("rq", "curr")?, o("rq", "rt")?, o("rq", "cfs")?);
        let rt_active = o("rt_rq", "active")?;
        let queue = o("rt_prio_array", "queue")?;
        let run_list = o("sched_rt_entity", "run_list")?;
        let task_rt = o("task_struct", "rt")?;
        let timeline = o("cfs_rq", "tasks_timeline")?;
        let mut out = Vec::new();
        for cpu in self.cpu_counts()?.online {
            let rq = self.per_cpu_addr(runqueues, cpu)?;
            let mut problems = Vec::new();
            let rt_array = rq.off(rq_rt).off(rt_active);
            let mut rt = Vec::new();
            for prio in 0..MAX_RT_PRIO {
                let head = rt_array.off(queue).elem(prio, 16);
                let w = crate::list::walk_list(self, head, MAX_QUEUED);
                if let Some(b) = w.broken {
                    problems.push(format!("RT queue {prio}: {b}"));
                }
                rt.extend(
                    w.nodes
                        .iter()
                        .map(|n| (prio as u32, n.back(run_list).back(task_rt))),
                );
            }
            let cfs_root = rq.off(rq_cfs).off(timeline);
            let mut cfs = Vec::new();
            self.cfs_tasks(cfs_root, 0, &mut cfs, &mut problems, &mut HashSet::new())?;
            out.push(RunQueue {
                cpu,
                rq,
                curr: self.read_u64(rq.off(rq_curr), "rq.curr")?,
                rt_array,
                rt,
                cfs_root,
                cfs,
                problems,
            });
        }
        Ok(out)
    }

    /// Tasks on a CFS timeline, in order, descending into group entities (`se.my_q`).
    fn cfs_tasks(
        &self,
        root: u64,
        depth: u32,
        out: &mut Vec<Queued>,
        problems: &mut Vec<String>,
        seen: &mut HashSet<u64>,
    ) -> Result<()> {
        // Each group runqueue is walked once: a `my_q` pointing back up the hierarchy would
        // otherwise multiply the walk at every level.
        if !seen.insert(root) {
            problems.push(format!("CFS runqueue {root:#x} reached twice: skipped"));
            return Ok(());
        }
        let o = |s: &str, m: &str| self.layout.offset(s, m);
        let run_node = o("sched_entity", "run_node")?;
        let my_q = o("sched_entity", "my_q").ok();
        let task_se = o("task_struct", "se")?;
        let prio = o("task_struct", "prio")?;
        let timeline = o("cfs_rq", "tasks_timeline")?;
        let top = self.read_u64(root, "rb_root.rb_node")?;
        for node in self.rb_inorder(top, MAX_QUEUED, problems)? {
            let se = node.back(run_node);
            let q = match my_q {
                Some(m) => self.read_u64(se.off(m), "sched_entity.my_q")?,
                None => 0,
            };
            if q != 0 {
                if depth < 16 {
                    self.cfs_tasks(q.off(timeline), depth + 1, out, problems, seen)?;
                }
                continue;
            }
            let task = se.back(task_se);
            out.push((self.read_u32(task.off(prio), "task_struct.prio")?, task));
        }
        Ok(())
    }
}
