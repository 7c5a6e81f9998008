//! The kernel's VM counters by name: the global zone and node statistics (`vm_zone_stat[]`,
//! `vm_node_stat[]`, named by `enum zone_stat_item` / `node_stat_item`) and the VM events
//! (per-CPU `vm_event_states`, summed, named by `enum vm_event_item`) — `kmem -V`.

use crate::{AddrExt, Kernel, Result};

/// Counters in one enum at most (the kernel has about 100 per enum).
const MAX_ITEMS: usize = 4096;

/// Named counter values, in the enum's order.
pub type Counters = Vec<(String, i64)>;

#[derive(Debug, Clone, serde::Serialize)]
pub struct VmStat {
    pub zone: Counters,
    pub node: Counters,
    /// Summed over the possible CPUs; empty without `CONFIG_VM_EVENT_COUNTERS`.
    pub events: Counters,
}

impl Kernel {
    pub fn vm_counters(&self) -> Result<VmStat> {
        let zone = self.global_counters(
            "vm_zone_stat",
            "enum zone_stat_item",
            "NR_VM_ZONE_STAT_ITEMS",
        )?;
        let node = self.global_counters(
            "vm_node_stat",
            "enum node_stat_item",
            "NR_VM_NODE_STAT_ITEMS",
        )?;
        let events = match self.symbol_addr("vm_event_states") {
            Ok(base) => {
                let names = self.enum_items("enum vm_event_item", "NR_VM_EVENT_ITEMS")?;
                let cpus = crate::cpus::read_cpumask(self, "__cpu_possible_mask")
                    .or_else(|_| self.cpu_counts().map(|c| c.present))?;
                let mut sums = vec![0u64; names.len()];
                for cpu in cpus {
                    let at = self.per_cpu_addr(base, cpu)?;
                    for (i, sum) in sums.iter_mut().enumerate() {
                        let v = self.read_u64(at.elem(i as u64, 8), "vm_event_states.event[]")?;
                        *sum = sum.wrapping_add(v);
                    }
                }
                names
                    .into_iter()
                    .zip(sums.into_iter().map(|v| v as i64))
                    .collect()
            }
            Err(_) => Vec::new(),
        };
        Ok(VmStat { zone, node, events })
    }

    /// A global `atomic_long_t` array named by an enum.
    fn global_counters(&self, symbol: &str, enum_name: &str, count: &str) -> Result<Counters> {
        let base = self.symbol_addr(symbol)?;
        let names = self.enum_items(enum_name, count)?;
        let mut out = Vec::with_capacity(names.len());
        for (i, n) in names.into_iter().enumerate() {
            let v = self.read_u64(base.elem(i as u64, 8), symbol)? as i64;
            out.push((n, v));
        }
        Ok(out)
    }

    /// The enumerators of `enum_name` below its count enumerator, in value order.
    pub(crate) fn enum_items(&self, enum_name: &str, count: &str) -> Result<Vec<String>> {
        let values = self
            .layout
            .with_type(enum_name, |g, id| match g.ty(g.resolve(id)) {
                kdive_debuginfo::types::Type::Enum { values, .. } => Some(values.clone()),
                _ => None,
            })
            .ok_or_else(|| crate::Error::MissingType(enum_name.into()))?;
        let n = values
            .iter()
            .find(|(name, _)| name == count)
            .map(|(_, v)| *v)
            .ok_or_else(|| crate::Error::MissingType(format!("{enum_name} {count}")))?;
        if n < 0 || n as usize > MAX_ITEMS {
            return Err(crate::Error::Corrupt {
                what: enum_name.into(),
                detail: format!("{count} = {n}"),
            });
        }
        // Aliases share a value (`NR_LRU_BASE` = `NR_INACTIVE_ANON`): the later, specific
        // name is the one shown.
        let mut names = vec![String::new(); n as usize];
        for (name, v) in values {
            if (0..n).contains(&v) {
                names[v as usize] = name;
            }
        }
        Ok(names)
    }
}
