//! Interrupts as `irq -s` shows them: every `irq_desc` (from the sparse-IRQ radix tree
//! `irq_desc_tree` before 6.5, the maple tree `sparse_irqs` since) that has an action, with its
//! per-CPU counts (`kstat_irqs`), chip and flow handler names, and action names.

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

impl Kernel {
    /// Every entry of the sparse-IRQ tree.
    fn irq_descs(&self) -> Result<Vec<u64>> {
        let mut out = Vec::new();
        if let Ok(tree) = self.symbol_addr("sparse_irqs") {
            let walk = self.maple_entries(tree, MAX_ENTRIES)?;
            out.extend(walk.items.iter().map(|e| e.entry));
        } else {
            let tree = self.symbol_addr("irq_desc_tree")?;
            let walk = self.xarray_entries(tree, MAX_ENTRIES)?;
            // Value entries (low bit set) are not descriptors.
            out.extend(walk.items.iter().map(|e| e.entry).filter(|e| e & 1 == 0));
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
        for desc in self.irq_descs()? {
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
