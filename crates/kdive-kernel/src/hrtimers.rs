//! Queued high-resolution timers (`hrtimer_bases`, kernel/time/hrtimer.c): every CPU's
//! `hrtimer_cpu_base`, its clock bases, and the `hrtimer`s in each base's timerqueue (an
//! `rb_root_cached`) in expiry order.

use crate::rbtree::RbOrder;
use crate::{AddrExt, Kernel, Result};

/// Timers read per clock base at most (a damaged tree is cut there, with a problem).
const MAX_PER_BASE: usize = 1 << 16;

/// One queued `struct hrtimer`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Hrtimer {
    pub addr: u64,
    /// `hrtimer._softexpires` (ns), when the kernel has it.
    pub softexpires: Option<i64>,
    /// `hrtimer.node.expires` (ns): the hard expiry the queue is sorted by.
    pub expires: i64,
    /// `hrtimer.function`.
    pub function: u64,
}

/// One `struct hrtimer_clock_base` of one CPU.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HrtimerClockBase {
    /// Index in `hrtimer_cpu_base.clock_base[]`.
    pub index: usize,
    pub addr: u64,
    /// `get_time` (the clock's read function, `ktime_get`, ...); None when the kernel has
    /// no such member (6.18+).
    pub get_time: Option<u64>,
    /// The `enum hrtimer_base_type` name of the base's `index` member (`HRTIMER_BASE_MONOTONIC`).
    pub type_name: Option<String>,
    /// `offset` (ns): this clock less CLOCK_MONOTONIC; 0 when the kernel has no member.
    pub offset: i64,
    pub timers: Vec<Hrtimer>,
    pub problems: Vec<String>,
}

/// One CPU's `struct hrtimer_cpu_base`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HrtimerCpuBase {
    pub cpu: u32,
    pub addr: u64,
    pub clock_bases: Vec<HrtimerClockBase>,
}

/// Member offsets the reader needs, looked up once.
struct Offsets {
    clock_base: u64,
    base_size: u64,
    count: u64,
    get_time: Option<u64>,
    index: Option<u64>,
    offset: Option<u64>,
    /// `hrtimer_clock_base.active.rb_root.rb_root` (the tree's `rb_node`).
    root: u64,
    /// `hrtimer_clock_base.active.rb_root.rb_leftmost`.
    leftmost: Option<u64>,
    /// `hrtimer.node.node`: from an `rb_node` back to its `hrtimer`.
    node: u64,
    expires: u64,
    softexpires: Option<u64>,
    function: u64,
}

impl Kernel {
    fn hrtimer_offsets(&self) -> Result<Offsets> {
        let l = &self.layout;
        let count = l
            .with_type("struct hrtimer_cpu_base", |t, id| {
                let m = t.member(id, "clock_base")?;
                t.array_len(m.ty)
            })
            .ok_or_else(|| {
                crate::Error::MissingType("hrtimer_cpu_base.clock_base[] length".into())
            })?;
        if count == 0 || count > 64 {
            return Err(crate::Error::Corrupt {
                what: "hrtimer_cpu_base.clock_base[]".into(),
                detail: format!("{count} clock bases (the kernel has 2 to 8)"),
            });
        }
        let active = l.offset("hrtimer_clock_base", "active")?;
        // timerqueue_head: rb_root_cached since 4.15 (`rb_root`), before that an rb_root
        // (`head`) and a `next` pointer to the first node.
        let (root, leftmost) = match l.member("timerqueue_head", "rb_root.rb_root.rb_node") {
            Some(m) => (
                active.off(m.offset),
                l.member("timerqueue_head", "rb_root.rb_leftmost")
                    .map(|lm| active.off(lm.offset)),
            ),
            None => (
                active.off(l.offset("timerqueue_head", "head")?),
                l.member("timerqueue_head", "next")
                    .map(|n| active.off(n.offset)),
            ),
        };
        let node = l
            .offset("hrtimer", "node")?
            .off(l.offset("timerqueue_node", "node")?);
        let expires = match l.member("hrtimer", "node.expires") {
            Some(m) => m.offset,
            None => l.offset("hrtimer", "expires")?,
        };
        Ok(Offsets {
            clock_base: l.offset("hrtimer_cpu_base", "clock_base")?,
            base_size: l.struct_size("hrtimer_clock_base")?,
            count,
            get_time: l.member("hrtimer_clock_base", "get_time").map(|m| m.offset),
            index: l.member("hrtimer_clock_base", "index").map(|m| m.offset),
            offset: l.member("hrtimer_clock_base", "offset").map(|m| m.offset),
            root,
            leftmost,
            node,
            expires,
            softexpires: l.member("hrtimer", "_softexpires").map(|m| m.offset),
            function: l.offset("hrtimer", "function")?,
        })
    }

    /// The hrtimer bases of each of `cpus`, every clock base with its queued timers.
    pub fn hrtimer_bases(&self, cpus: &[u32]) -> Result<Vec<HrtimerCpuBase>> {
        let bases = self.symbol_addr("hrtimer_bases")?;
        let o = self.hrtimer_offsets()?;
        let mut out = Vec::new();
        for &cpu in cpus {
            let addr = self.per_cpu_addr(bases, cpu)?;
            let clock_bases = (0..o.count)
                .map(|i| {
                    let base = addr.off(o.clock_base).elem(i, o.base_size);
                    self.hrtimer_clock_base(&o, i as usize, base)
                })
                .collect();
            out.push(HrtimerCpuBase {
                cpu,
                addr,
                clock_bases,
            });
        }
        Ok(out)
    }

    fn hrtimer_clock_base(&self, o: &Offsets, index: usize, addr: u64) -> HrtimerClockBase {
        let mut problems = Vec::new();
        let mut field = |off: Option<u64>, what: &str| {
            let off = off?;
            self.read_u64(addr.off(off), what)
                .map_err(|e| problems.push(e.to_string()))
                .ok()
        };
        let get_time = field(o.get_time, "hrtimer_clock_base.get_time");
        let offset = field(o.offset, "hrtimer_clock_base.offset").unwrap_or(0) as i64;
        let type_name = o.index.and_then(|off| {
            let i = self
                .read_u32(addr.off(off), "hrtimer_clock_base.index")
                .map_err(|e| problems.push(e.to_string()))
                .ok()?;
            self.layout.with_type("enum hrtimer_base_type", |t, id| {
                t.enumerator_name(id, i as i64).map(str::to_string)
            })
        });
        let mut base = HrtimerClockBase {
            index,
            addr,
            get_time,
            type_name,
            offset,
            timers: Vec::new(),
            problems,
        };
        self.read_hrtimers(o, &mut base);
        base
    }

    /// Fills `base.timers` from its timerqueue, sorted; each damaged node or timer a problem.
    fn read_hrtimers(&self, o: &Offsets, base: &mut HrtimerClockBase) {
        let at = base.addr;
        let root = match self.read_u64(at.off(o.root), "hrtimer_clock_base.active") {
            Ok(r) => r,
            Err(e) => {
                base.problems.push(e.to_string());
                return;
            }
        };
        let walk = match self.rb_walk(root, RbOrder::In, MAX_PER_BASE) {
            Ok(w) => w,
            Err(e) => {
                base.problems.push(e.to_string());
                return;
            }
        };
        base.problems.extend(
            walk.problems
                .iter()
                .map(|p| format!("hrtimer_clock_base {at:#x} timerqueue: {p}")),
        );
        // The cached first node must be the tree's first; a mismatch is damage worth naming.
        if let Some(off) = o.leftmost {
            match self.read_u64(at.off(off), "hrtimer_clock_base.active leftmost") {
                Ok(lm) if walk.problems.is_empty() => {
                    let first = walk.items.first().map_or(0, |n| n.node);
                    if lm != first {
                        base.problems.push(format!(
                            "hrtimer_clock_base {at:#x}: timerqueue leftmost {lm:#x} is not \
                             the tree's first node {first:#x}"
                        ));
                    }
                }
                Ok(_) => {}
                Err(e) => base.problems.push(e.to_string()),
            }
        }
        for n in &walk.items {
            let t = n.node.back(o.node);
            let read = |off: u64, what| self.read_u64(t.off(off), what);
            let soft = o.softexpires.map(|s| read(s, "hrtimer._softexpires"));
            match (
                read(o.expires, "hrtimer.node.expires"),
                read(o.function, "hrtimer.function"),
                soft.transpose(),
            ) {
                (Ok(expires), Ok(function), Ok(soft)) => base.timers.push(Hrtimer {
                    addr: t,
                    softexpires: soft.map(|s| s as i64),
                    expires: expires as i64,
                    function,
                }),
                (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => {
                    base.problems.push(format!("hrtimer {t:#x}: {e}"))
                }
            }
        }
    }
}
