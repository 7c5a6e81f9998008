//! Pending timer-wheel timers (`timer_bases`, kernel/time/timer.c, 4.8+): every CPU's bases —
//! two (standard, deferrable) or, since 6.9, three (local, global, deferrable) — and the
//! `timer_list`s hashed in each base's `vectors[]` buckets, with expiry and callback.

use crate::{AddrExt, Kernel, Result};

/// Timers read per bucket at most (a damaged chain is cut there, with a problem).
const MAX_PER_BUCKET: usize = 1 << 16;

/// One pending `struct timer_list`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Timer {
    pub addr: u64,
    /// Expiry, in jiffies.
    pub expires: u64,
    /// `timer_list.function`.
    pub function: u64,
}

/// One `struct timer_base` of one CPU, its timers in wheel order (bucket, then chain).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TimerBase {
    pub cpu: u32,
    /// Index in the CPU's `timer_bases[]`.
    pub index: usize,
    /// The kernel's name for the index (`BASE_STD`, `BASE_DEF`, `BASE_LOCAL`, ...).
    pub name: &'static str,
    pub addr: u64,
    pub timers: Vec<Timer>,
    pub problems: Vec<String>,
}

/// The kernel's names for the bases, by how many there are.
fn base_names(count: usize) -> &'static [&'static str] {
    match count {
        1 => &["BASE_STD"],
        2 => &["BASE_STD", "BASE_DEF"],
        _ => &["BASE_LOCAL", "BASE_GLOBAL", "BASE_DEF"],
    }
}

impl Kernel {
    /// The timer bases of each of `cpus`.
    pub fn timer_bases(&self, cpus: &[u32]) -> Result<Vec<TimerBase>> {
        let bases = self.symbol_addr("timer_bases")?;
        let base_size = self.layout.struct_size("timer_base")?;
        let count = self
            .layout
            .with_variable_type("timer_bases", |t, ty| t.array_len(ty))
            .ok_or_else(|| crate::Error::MissingType("timer_bases[] length".into()))?
            as usize;
        if count == 0 || count > 3 {
            return Err(crate::Error::Corrupt {
                what: "timer_bases".into(),
                detail: format!("{count} bases per CPU (the kernel has 1 to 3)"),
            });
        }
        let vectors_off = self.layout.offset("timer_base", "vectors")?;
        let buckets = self
            .layout
            .with_type("struct timer_base", |t, id| {
                let m = t.member(id, "vectors")?;
                t.array_len(m.ty)
            })
            .ok_or_else(|| crate::Error::MissingType("timer_base.vectors[] length".into()))?;
        let entry = self.layout.offset("timer_list", "entry")?;
        let expires_off = self.layout.offset("timer_list", "expires")?;
        let function_off = self.layout.offset("timer_list", "function")?;
        let mut out = Vec::new();
        for &cpu in cpus {
            let first = self.per_cpu_addr(bases, cpu)?;
            for index in 0..count {
                let addr = first.off(index as u64 * base_size);
                let mut base = TimerBase {
                    cpu,
                    index,
                    name: base_names(count)[index],
                    addr,
                    timers: Vec::new(),
                    problems: Vec::new(),
                };
                for b in 0..buckets {
                    let head = addr.off(vectors_off).elem(b, 8);
                    let mut node = match self.read_u64(head, "timer_base.vectors[]") {
                        Ok(n) => n,
                        Err(e) => {
                            base.problems.push(e.to_string());
                            break;
                        }
                    };
                    let mut seen = 0;
                    while node != 0 {
                        if seen == MAX_PER_BUCKET {
                            base.problems.push(format!(
                                "vectors[{b}]: more than {MAX_PER_BUCKET} timers (a loop?); cut"
                            ));
                            break;
                        }
                        seen += 1;
                        let timer = node.back(entry);
                        let read = |off: u64, what| self.read_u64(timer.off(off), what);
                        match (
                            read(expires_off, "timer_list.expires"),
                            read(function_off, "timer_list.function"),
                            self.read_u64(node, "timer_list.entry.next"),
                        ) {
                            (Ok(expires), Ok(function), Ok(next)) => {
                                base.timers.push(Timer {
                                    addr: timer,
                                    expires,
                                    function,
                                });
                                node = next;
                            }
                            (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => {
                                base.problems.push(format!("vectors[{b}]: {e}"));
                                break;
                            }
                        }
                    }
                }
                out.push(base);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_names_follow_the_kernels_count() {
        assert_eq!(base_names(2), ["BASE_STD", "BASE_DEF"]);
        assert_eq!(base_names(3)[2], "BASE_DEF");
    }
}
