//! Interrupts: every `irq_desc` (from the sparse-IRQ radix tree `irq_desc_tree` before 6.5,
//! the maple tree `sparse_irqs` since) by number, with its actions and affinity (`irq`,
//! `irq -a`); those with an action with their per-CPU counts (`kstat_irqs`), chip and flow
//! handler names (`irq -s`); and the softirq vector (`irq -b`).

use crate::list::walk_chain;
use crate::{AddrExt, Kernel, Result};

#[derive(Debug, Clone, serde::Serialize)]
pub struct IrqInfo {
    pub irq: u32,
    pub desc: u64,
    /// Count per online CPU, in CPU order.
    pub counts: Vec<u64>,
    /// `chip->name` and `desc->name` ("IO-APIC", "edge").
    pub chip: String,
    pub handler: String,
    pub actions: Vec<String>,
}

const MAX_ENTRIES: usize = 1 << 16;
/// Actions chained on one shared interrupt at most.
const MAX_ACTIONS: usize = 64;

/// One interrupt number and its descriptor, for `irq`/`irq -a`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IrqDesc {
    pub irq: u32,
    /// The `irq_desc`, or None for a number with no descriptor.
    pub desc: Option<u64>,
    /// The chained `irqaction`s: address and name.
    pub actions: Vec<(u64, String)>,
    /// CPUs in `irq_common_data.affinity` (only read for interrupts with an action).
    pub affinity: Vec<u32>,
    /// `irq_data.chip` (0 without a descriptor).
    pub chip: u64,
}

impl Kernel {
    /// Every entry of the sparse-IRQ tree: (interrupt number, `irq_desc`).
    fn irq_descs(&self) -> Result<Vec<(u64, u64)>> {
        let mut out = Vec::new();
        if let Ok(tree) = self.symbol_addr("sparse_irqs") {
            let walk = self.maple_entries(tree, MAX_ENTRIES)?;
            out.extend(walk.items.iter().map(|e| (e.first, e.entry)));
        } else {
            let tree = self.symbol_addr("irq_desc_tree")?;
            let walk = self.xarray_entries(tree, MAX_ENTRIES)?;
            // Value entries (low bit set) are not descriptors.
            out.extend(
                walk.items
                    .iter()
                    .filter(|e| e.entry & 1 == 0)
                    .map(|e| (e.index, e.entry)),
            );
        }
        Ok(out)
    }

    /// The chained actions of a descriptor: address and name.
    fn irq_actions(&self, desc: u64) -> Result<Vec<(u64, String)>> {
        let o = |s: &str, m: &str| self.layout.offset(s, m);
        let action = self.read_u64(desc.off(o("irq_desc", "action")?), "irq_desc.action")?;
        if action == 0 {
            return Ok(Vec::new());
        }
        let (name_off, next_off) = (o("irqaction", "name")?, o("irqaction", "next")?);
        let chain = walk_chain(action, MAX_ACTIONS, |a| {
            self.read_u64(a.off(next_off), "irqaction.next")
        })?;
        let mut out = Vec::new();
        for a in chain.nodes {
            let p = self.read_u64(a.off(name_off), "irqaction.name")?;
            let name = if p == 0 {
                String::new()
            } else {
                self.read_cstr(p, 64, "irqaction.name").unwrap_or_default()
            };
            out.push((a, name));
        }
        Ok(out)
    }

    /// Interrupt numbers 0..`nr_irqs`, each with its descriptor (if any), actions and, for
    /// those with an action, affinity.
    pub fn irq_table(&self) -> Result<Vec<IrqDesc>> {
        let nr = self.read_u32(self.symbol_addr("nr_irqs")?, "nr_irqs")?;
        if nr as usize > MAX_ENTRIES {
            return Err(crate::Error::Corrupt {
                what: "nr_irqs".into(),
                detail: format!("{nr} interrupts"),
            });
        }
        let descs: std::collections::BTreeMap<u64, u64> = self.irq_descs()?.into_iter().collect();
        let mut out = Vec::with_capacity(nr as usize);
        for irq in 0..nr {
            let desc = descs.get(&u64::from(irq)).copied();
            let actions = match desc {
                Some(d) => self.irq_actions(d)?,
                None => Vec::new(),
            };
            let affinity = match desc {
                Some(d) if !actions.is_empty() => self.irq_affinity(d)?,
                _ => Vec::new(),
            };
            let chip = match desc {
                Some(d) => self.read_u64(
                    d.off(self.layout.offset("irq_desc", "irq_data")?)
                        .off(self.layout.offset("irq_data", "chip")?),
                    "irq_data.chip",
                )?,
                None => 0,
            };
            out.push(IrqDesc {
                irq,
                desc,
                actions,
                affinity,
                chip,
            });
        }
        Ok(out)
    }

    /// `irq_common_data.affinity`: a pointer with CONFIG_CPUMASK_OFFSTACK (the kernel has
    /// `alloc_cpumask_var_node`), else the mask itself.
    fn irq_affinity(&self, desc: u64) -> Result<Vec<u32>> {
        let at = desc
            .off(self.layout.offset("irq_desc", "irq_common_data")?)
            .off(self.layout.offset("irq_common_data", "affinity")?);
        let mask = if self.symbol_addr("alloc_cpumask_var_node").is_ok() {
            self.read_u64(at, "irq_common_data.affinity")?
        } else {
            at
        };
        let cpus = u64::from(self.cpu_counts()?.cpus);
        let mut buf = vec![0u8; cpus.div_ceil(64) as usize * 8];
        self.read(mask, &mut buf, "irq affinity mask")?;
        Ok(crate::cpus::bits_set(&buf)
            .into_iter()
            .filter(|&c| u64::from(c) < cpus)
            .collect())
    }

    /// The softirq vector: (number, handler) for each set `softirq_vec[]` action.
    pub fn softirq_actions(&self) -> Result<Vec<(u32, u64)>> {
        let base = self.symbol_addr("softirq_vec")?;
        // The array's declared length (DWARF), else NR_SOFTIRQS (BTF has the enum).
        let len = self
            .layout
            .with_variable_type("softirq_vec", |t, ty| t.array_len(ty))
            .or_else(|| {
                self.layout
                    .loaded_enumerator("NR_SOFTIRQS")
                    .and_then(|v| u64::try_from(v).ok())
            })
            .ok_or_else(|| crate::Error::MissingType("softirq_vec[] length".into()))?
            .min(64);
        let size = self.layout.struct_size("softirq_action")?;
        let action = self.layout.offset("softirq_action", "action")?;
        let mut out = Vec::new();
        for i in 0..len {
            let f = self.read_u64(base.off(i * size).off(action), "softirq_vec[].action")?;
            if f != 0 {
                out.push((i as u32, f));
            }
        }
        Ok(out)
    }

    /// Interrupts that have an action, by number.
    pub fn irqs(&self) -> Result<Vec<IrqInfo>> {
        let o = |s: &str, m: &str| self.layout.offset(s, m);
        let irq_data = o("irq_desc", "irq_data")?;
        let irq_no = o("irq_data", "irq")?;
        let chip_off = o("irq_data", "chip")?;
        let kstat = o("irq_desc", "kstat_irqs")?;
        let action_off = o("irq_desc", "action")?;
        let name_off = o("irq_desc", "name")?;
        let chip_name = o("irq_chip", "name")?;
        let act_name = o("irqaction", "name")?;
        let act_next = o("irqaction", "next")?;
        let cpus = self.cpu_counts()?.online;
        let str_at = |p: u64, what: &str| -> String {
            if p == 0 {
                String::new()
            } else {
                self.read_cstr(p, 64, what).unwrap_or_default()
            }
        };
        let mut out = Vec::new();
        for (_, desc) in self.irq_descs()? {
            let action = self.read_u64(desc.off(action_off), "irq_desc.action")?;
            if action == 0 {
                continue;
            }
            // Shared interrupts chain their actions; a loop or a long chain just ends the list.
            let chain = walk_chain(action, 64, |a| {
                self.read_u64(a.off(act_next), "irqaction.next")
            })?;
            let mut actions = Vec::new();
            for a in chain.nodes {
                actions.push(str_at(
                    self.read_u64(a.off(act_name), "irqaction.name")?,
                    "irqaction.name",
                ));
            }
            let pc = self.read_u64(desc.off(kstat), "irq_desc.kstat_irqs")?;
            let mut counts = Vec::new();
            for &cpu in &cpus {
                counts.push(if pc == 0 {
                    0
                } else {
                    self.read_u32(self.per_cpu_addr(pc, cpu)?, "kstat_irqs[cpu]")? as u64
                });
            }
            let chip = self.read_u64(desc.off(irq_data).off(chip_off), "irq_data.chip")?;
            out.push(IrqInfo {
                irq: self.read_u32(desc.off(irq_data).off(irq_no), "irq_data.irq")?,
                desc,
                counts,
                chip: if chip != 0 {
                    str_at(
                        self.read_u64(chip.off(chip_name), "irq_chip.name")?,
                        "irq_chip.name",
                    )
                } else {
                    String::new()
                },
                handler: str_at(
                    self.read_u64(desc.off(name_off), "irq_desc.name")?,
                    "irq_desc.name",
                ),
                actions,
            });
        }
        out.sort_by_key(|i| i.irq);
        Ok(out)
    }
}
