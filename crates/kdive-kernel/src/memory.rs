//! Memory size: the pages each NUMA node reports present (what crash's MEMORY shows).

use crate::{AddrExt, Kernel, Result};

impl Kernel {
    /// Sum of `pglist_data.node_present_pages` over the online nodes, in pages.
    pub fn present_pages(&self) -> Result<u64> {
        let present = self.layout.offset("pglist_data", "node_present_pages")?;
        let nodes = self.node_pgdats()?;
        let mut total = 0u64;
        for pgdat in nodes {
            total = total.saturating_add(
                self.read_u64(pgdat.off(present), "pglist_data.node_present_pages")?,
            );
        }
        Ok(total)
    }

    /// Addresses of the `pglist_data` of each online node.
    pub fn node_pgdats(&self) -> Result<Vec<u64>> {
        if let Ok(node_data) = self.symbol_addr("node_data") {
            let len = self
                .vmcoreinfo
                .length("node_data")
                .unwrap_or(1024)
                .min(1 << 16);
            let online = self.node_online_map().ok();
            let mut out = Vec::new();
            for i in 0..len {
                let p = self.read_u64(node_data.elem(i, 8), "node_data[]")?;
                if p == 0 {
                    continue;
                }
                if let Some(on) = &online {
                    if !on.contains(&(i as u32)) {
                        continue;
                    }
                }
                out.push(p);
            }
            return Ok(out);
        }
        Ok(vec![self.symbol_addr("contig_page_data")?])
    }

    /// Online node numbers, from VMCOREINFO's `SYMBOL(node_online_map)` / `SIZE(nodemask_t)`.
    pub fn node_online_map(&self) -> Result<Vec<u32>> {
        let addr = self
            .vmcoreinfo
            .symbol("node_online_map")
            .ok_or_else(|| crate::Error::MissingSymbol("node_online_map".into()))?;
        let size = self.vmcoreinfo.size("nodemask_t").unwrap_or(8).min(1024) as usize;
        let mut buf = vec![0u8; size];
        self.read(addr, &mut buf, "node_online_map")?;
        Ok(crate::cpus::bits_set(&buf))
    }
}
