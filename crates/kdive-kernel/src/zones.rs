//! The memory zones of each node — sizes, watermarks, `zone.vm_stat` counters — and the
//! buddy allocator's free lists `zone.free_area[order].free_list[migratetype]` (`kmem -z/-f/-F`).

use crate::vmstat::Counters;
use crate::{AddrExt, Error, Kernel, Result};

/// Entries walked on one free list at most (4 GiB of order-0 pages with 4 KiB pages); a
/// longer list is reported as stopped there.
pub const FREE_LIST_LIMIT: usize = 1 << 20;

/// Zones per node / orders / migrate types at most, whatever the types say.
const MAX_COUNT: u64 = 64;

/// One `struct zone` of one node.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Zone {
    /// Position of the node among the online nodes (crash's NODE number).
    pub node: usize,
    /// Index in `pglist_data.node_zones[]`.
    pub index: usize,
    pub addr: u64,
    pub name: String,
    pub spanned_pages: u64,
    pub present_pages: u64,
    /// `_watermark[WMARK_MIN]`, `[WMARK_LOW]`, `[WMARK_HIGH]`.
    pub min: u64,
    pub low: u64,
    pub high: u64,
    /// `vm_stat[NR_FREE_PAGES]`.
    pub free_pages: i64,
    /// `zone.vm_stat[]` named by `enum zone_stat_item`.
    pub vm_stat: Counters,
    pub start_pfn: u64,
    /// `struct page` of the zone's first pfn; 0 for an empty zone.
    pub mem_map: u64,
    /// The first pfn's page number within its node.
    pub start_mapnr: u64,
}

/// One `free_area[order].free_list[migratetype]` list.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FreeList {
    pub order: u32,
    pub migratetype: usize,
    /// The `enum migratetype` name (`MIGRATE_MOVABLE`), when the types have it.
    pub migratetype_name: Option<String>,
    /// Address of the `list_head`.
    pub head: u64,
    /// The `struct page` heading each free block, in list order.
    pub blocks: Vec<u64>,
    /// Why the walk stopped before returning to the head.
    pub problem: Option<String>,
}

impl Kernel {
    /// Every zone of every online node, in node and zone order.
    pub fn zones(&self) -> Result<Vec<Zone>> {
        let node_zones = self.layout.offset("pglist_data", "node_zones")?;
        let zone_size = self.layout.struct_size("zone")?;
        let nr_zones = self.array_len("pglist_data", "node_zones", zone_size, || {
            self.layout
                .enumerator("enum zone_type", "MAX_NR_ZONES")
                .and_then(|v| u64::try_from(v).ok())
        })?;
        let node_start = self.layout.offset("pglist_data", "node_start_pfn")?;
        let mut out = Vec::new();
        for (n, pgdat) in self.node_pgdats()?.into_iter().enumerate() {
            let node_start_pfn =
                self.read_u64(pgdat.off(node_start), "pglist_data.node_start_pfn")?;
            for i in 0..nr_zones {
                let addr = pgdat.off(node_zones).elem(i, zone_size);
                out.push(self.zone(n, i as usize, addr, node_start_pfn)?);
            }
        }
        Ok(out)
    }

    fn zone(&self, node: usize, index: usize, addr: u64, node_start_pfn: u64) -> Result<Zone> {
        let l = &self.layout;
        let field = |m: &str| -> Result<u64> {
            self.read_u64(addr.off(l.offset("zone", m)?), &format!("zone.{m}"))
        };
        let name_ptr = field("name")?;
        let name = self
            .read_cstr(name_ptr, 64, "zone.name")
            .unwrap_or_else(|_| "(unknown)".into());
        let spanned_pages = field("spanned_pages")?;
        let present_pages = field("present_pages")?;
        let (min, low, high) = self.watermarks(addr)?;
        let stat_off = l.offset("zone", "vm_stat")?;
        let names = self.enum_items("enum zone_stat_item", "NR_VM_ZONE_STAT_ITEMS")?;
        let mut vm_stat = Vec::with_capacity(names.len());
        for (i, n) in names.into_iter().enumerate() {
            let v = self.read_u64(addr.off(stat_off).elem(i as u64, 8), "zone.vm_stat[]")?;
            vm_stat.push((n, v as i64));
        }
        let free_pages = vm_stat
            .iter()
            .find(|(n, _)| n == "NR_FREE_PAGES")
            .map(|(_, v)| *v)
            .unwrap_or(0);
        let start_pfn = field("zone_start_pfn")?;
        let mem_map = if spanned_pages == 0 {
            0
        } else {
            self.phys_to_page(start_pfn.wrapping_mul(self.page_size()))?
        };
        let start_mapnr = if mem_map == 0 {
            0
        } else {
            start_pfn.wrapping_sub(node_start_pfn)
        };
        Ok(Zone {
            node,
            index,
            addr,
            name,
            spanned_pages,
            present_pages,
            min,
            low,
            high,
            free_pages,
            vm_stat,
            start_pfn,
            mem_map,
            start_mapnr,
        })
    }

    /// MIN/LOW/HIGH: `_watermark[]` (5.0+; `watermark[]` before) indexed by
    /// `enum zone_watermarks`, or the older `pages_min/low/high`.
    fn watermarks(&self, zone: u64) -> Result<(u64, u64, u64)> {
        let l = &self.layout;
        let arr = ["_watermark", "watermark"]
            .into_iter()
            .find_map(|m| l.offset("zone", m).ok());
        if let Some(off) = arr {
            let idx = |name: &str, dflt: i64| {
                l.enumerator("enum zone_watermarks", name)
                    .unwrap_or(dflt)
                    .clamp(0, 16) as u64
            };
            let at = |i: u64| self.read_u64(zone.off(off).elem(i, 8), "zone._watermark[]");
            return Ok((
                at(idx("WMARK_MIN", 0))?,
                at(idx("WMARK_LOW", 1))?,
                at(idx("WMARK_HIGH", 2))?,
            ));
        }
        let f = |m: &str| -> Result<u64> {
            self.read_u64(zone.off(l.offset("zone", m)?), &format!("zone.{m}"))
        };
        Ok((f("pages_min")?, f("pages_low")?, f("pages_high")?))
    }

    /// The free lists of `zone`, order by order, each walked through `page.buddy_list`
    /// (`page.lru` before 6.0; the same place in `struct page`), at most
    /// [`FREE_LIST_LIMIT`] entries each.
    pub fn free_lists(&self, zone: &Zone) -> Result<Vec<FreeList>> {
        let l = &self.layout;
        let area_off = l.offset("zone", "free_area")?;
        let area_size = l.struct_size("free_area")?;
        let orders = self.array_len("zone", "free_area", area_size, || {
            self.vmcoreinfo.length("zone.free_area")
        })?;
        let head_size = l.struct_size("list_head")?;
        let list_off = l.offset("free_area", "free_list")?;
        let types = self.array_len("free_area", "free_list", head_size, || {
            self.vmcoreinfo.length("free_area.free_list")
        })?;
        let link = l
            .offset("page", "buddy_list")
            .or_else(|_| l.offset("page", "lru"))?;
        let type_names = self.migratetype_names(types as usize);
        let mut out = Vec::new();
        for order in 0..orders {
            let area = zone.addr.off(area_off).elem(order, area_size);
            for t in 0..types {
                let head = area.off(list_off).elem(t, head_size);
                let walk = crate::list::walk_list(self, head, FREE_LIST_LIMIT);
                out.push(FreeList {
                    order: order as u32,
                    migratetype: t as usize,
                    migratetype_name: type_names.get(t as usize).cloned().flatten(),
                    head,
                    blocks: walk.nodes.iter().map(|n| n.back(link)).collect(),
                    problem: walk.broken.map(|b| {
                        format!(
                            "zone {:x} free_area[{order}].free_list[{t}] at {head:x}: {b}",
                            zone.addr
                        )
                    }),
                });
            }
        }
        Ok(out)
    }

    /// Elements of array member `sname.member` of `elem_size` bytes each: from the member's
    /// type, else from `fallback` (VMCOREINFO or an enumerator).
    fn array_len(
        &self,
        sname: &str,
        member: &str,
        elem_size: u64,
        fallback: impl FnOnce() -> Option<u64>,
    ) -> Result<u64> {
        let n = self
            .layout
            .member(sname, member)
            .and_then(|m| m.size)
            .and_then(|s| s.checked_div(elem_size))
            .or_else(fallback)
            .ok_or_else(|| Error::MissingType(format!("struct {sname}.{member} length")))?;
        if n > MAX_COUNT {
            return Err(Error::Corrupt {
                what: format!("struct {sname}.{member}"),
                detail: format!("{n} elements"),
            });
        }
        Ok(n)
    }

    /// `enum migratetype` names by value; aliases that only count (`MIGRATE_PCPTYPES`) lose
    /// to the type they share a value with.
    fn migratetype_names(&self, n: usize) -> Vec<Option<String>> {
        let mut names = vec![None; n];
        let values = self
            .layout
            .with_type("enum migratetype", |g, id| match g.ty(g.resolve(id)) {
                kdive_debuginfo::types::Type::Enum { values, .. } => Some(values.clone()),
                _ => None,
            });
        for (name, v) in values.unwrap_or_default() {
            if name == "MIGRATE_PCPTYPES" || name == "MIGRATE_TYPES" {
                continue;
            }
            if let Some(slot) = usize::try_from(v).ok().and_then(|v| names.get_mut(v)) {
                slot.get_or_insert(name);
            }
        }
        names
    }
}
