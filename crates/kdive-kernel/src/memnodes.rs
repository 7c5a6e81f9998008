//! Memory nodes as `kmem -n` shows them: each online node's `pglist_data` — size, start,
//! `struct page` of its first pfn — and every zone of `node_zones[]` with its span.

use crate::walk::Walked;
use crate::{AddrExt, Error, Kernel, Result};

/// Zones per node at most, whatever the types say.
const ZONES_MAX: u64 = 64;

/// One node (`struct pglist_data`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct MemNode {
    /// `node_id`.
    pub id: i64,
    pub pgdat: u64,
    /// `node_spanned_pages`.
    pub spanned_pages: u64,
    pub present_pages: u64,
    pub start_pfn: u64,
    /// `node_mem_map` (FLATMEM), else the `struct page` of `start_pfn` through its section;
    /// None when neither can be had.
    pub mem_map: Option<u64>,
    /// `bdata` (bootmem, before 4.x); None where the member is gone.
    pub bdata: Option<u64>,
    pub zones: Vec<NodeZone>,
}

/// One `node_zones[]` entry.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NodeZone {
    pub index: u64,
    pub addr: u64,
    /// `zone.name`; None when it cannot be read.
    pub name: Option<String>,
    pub spanned_pages: u64,
    pub start_pfn: u64,
    /// `struct page` of `start_pfn`; 0 for an empty zone or one whose first pfn has none.
    pub mem_map: u64,
}

impl Kernel {
    /// Every online node with its zones, in node order; a node that cannot be read is named
    /// in `problems`.
    pub fn memory_nodes(&self) -> Result<Walked<MemNode>> {
        let zone_size = self.layout.struct_size("zone")?;
        let nr_zones = self
            .layout
            .member("pglist_data", "node_zones")
            .and_then(|m| m.size)
            .and_then(|s| s.checked_div(zone_size))
            .or_else(|| {
                self.layout
                    .enumerator("enum zone_type", "MAX_NR_ZONES")
                    .and_then(|v| u64::try_from(v).ok())
            })
            .ok_or_else(|| Error::MissingType("struct pglist_data.node_zones length".into()))?;
        if nr_zones > ZONES_MAX {
            return Err(Error::Corrupt {
                what: "struct pglist_data.node_zones".into(),
                detail: format!("{nr_zones} zones"),
            });
        }
        let mut out = Walked::default();
        for pgdat in self.node_pgdats()? {
            match self.memory_node(pgdat, nr_zones, zone_size) {
                Ok(n) => out.items.push(n),
                Err(e) => out.problems.push(format!("pglist_data {pgdat:#x}: {e}")),
            }
        }
        Ok(out)
    }

    fn memory_node(&self, pgdat: u64, nr_zones: u64, zone_size: u64) -> Result<MemNode> {
        let l = &self.layout;
        let field = |m: &str| self.read_member_uint(pgdat, "pglist_data", m);
        let start_pfn = field("node_start_pfn")?;
        let mem_map = if l.has_member("pglist_data", "node_mem_map") {
            Some(field("node_mem_map")?)
        } else {
            self.page_of_pfn(start_pfn)
        };
        let bdata = if l.has_member("pglist_data", "bdata") {
            Some(field("bdata")?)
        } else {
            None
        };
        let node_zones = pgdat.off(l.offset("pglist_data", "node_zones")?);
        let mut zones = Vec::new();
        for index in 0..nr_zones {
            let addr = node_zones.elem(index, zone_size);
            let zf = |m: &str| self.read_member_uint(addr, "zone", m);
            let name = self
                .read_cstr(zf("name")?, 64, "zone.name")
                .ok()
                .filter(|n| !n.is_empty());
            let spanned_pages = zf("spanned_pages")?;
            let start_pfn = zf("zone_start_pfn")?;
            let mem_map = if spanned_pages == 0 {
                0
            } else {
                self.page_of_pfn(start_pfn).unwrap_or(0)
            };
            zones.push(NodeZone {
                index,
                addr,
                name,
                spanned_pages,
                start_pfn,
                mem_map,
            });
        }
        Ok(MemNode {
            id: field("node_id")? as u32 as i32 as i64,
            pgdat,
            spanned_pages: field("node_spanned_pages")?,
            present_pages: field("node_present_pages")?,
            start_pfn,
            mem_map,
            bdata,
            zones,
        })
    }

    /// The `struct page` of `pfn`: through its memory section (SPARSEMEM), else the
    /// virtual memory map.
    fn page_of_pfn(&self, pfn: u64) -> Option<u64> {
        match self.pfn_to_page_sparse(pfn) {
            Ok(p) => p,
            Err(_) => self.phys_to_page(pfn.wrapping_mul(self.page_size())).ok(),
        }
    }
}
