//! The memory summary `kmem -i` prints: total, free, shared, buffers, cached and slab pages,
//! huge pages, swap and the commit limit — read from the kernel's own counters
//! (`_totalram_pages`, `vm_zone_stat[]`, `vm_node_stat[]`, `hstates[]`, `total_swap_pages`,
//! `vm_committed_as`) and, for shared pages, a scan of the `struct page` array.

use crate::{AddrExt, Kernel, Result};

/// Page counts (in base pages).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct MemInfo {
    pub page_size: u64,
    pub total: u64,
    pub free: u64,
    /// Pages mapped more than once (`page_count > 1`, not reserved), from the mem_map scan.
    pub shared: Option<u64>,
    pub buffers: u64,
    pub cached: u64,
    pub slab: u64,
    pub huge_total: u64,
    pub huge_free: u64,
    pub swap_total: u64,
    pub swap_free: u64,
    pub commit_limit: u64,
    /// `vm_committed_as.count`, what /proc/meminfo's Committed_AS (`vm_memory_committed()`,
    /// `percpu_counter_read_positive`) and crash show.
    pub committed: u64,
    /// The count plus every CPU's unfolded delta (`percpu_counter_sum`).
    pub committed_exact: u64,
    /// Values that could not be read, and why (the value is then 0).
    pub problems: Vec<String>,
}

impl Kernel {
    fn enumerator(&self, enum_type: &str, name: &str) -> Result<u64> {
        self.layout
            .enumerator(enum_type, name)
            .map(|v| v as u64)
            .ok_or_else(|| crate::Error::MissingType(format!("{enum_type}: {name}")))
    }

    fn read_long_sym(&self, sym: &str) -> Result<u64> {
        self.read_u64(self.symbol_addr(sym)?, sym)
    }

    /// `vm_zone_stat[item]` / `vm_node_stat[item]` (global counters, in pages).
    fn vm_stat(&self, array: &str, item: &str) -> Result<u64> {
        let items = match array {
            "vm_zone_stat" => "enum zone_stat_item",
            _ => "enum node_stat_item",
        };
        let i = self.enumerator(items, item)?;
        let v = self.read_u64(self.symbol_addr(array)?.elem(i, 8), array)? as i64;
        Ok(v.max(0) as u64)
    }

    /// `percpu_counter` at `addr`: its count plus every present CPU's unfolded delta.
    pub fn percpu_counter_sum(&self, addr: u64) -> Result<i64> {
        let count = self.read_u64(
            addr.off(self.layout.offset("percpu_counter", "count")?),
            "percpu_counter.count",
        )? as i64;
        let counters = self.read_u64(
            addr.off(self.layout.offset("percpu_counter", "counters")?),
            "percpu_counter.counters",
        )?;
        let mut sum = count;
        if counters != 0 {
            for cpu in self.cpu_counts()?.present {
                let a = self.per_cpu_addr(counters, cpu)?;
                sum =
                    sum.saturating_add(
                        self.read_u32(a, "percpu_counter.counters[cpu]")? as i32 as i64
                    );
            }
        }
        Ok(sum)
    }

    pub fn meminfo(&self) -> Result<MemInfo> {
        let mut m = MemInfo {
            page_size: self.page_size(),
            ..Default::default()
        };
        m.total = self
            .read_long_sym("_totalram_pages")
            .or_else(|_| self.read_long_sym("totalram_pages"))?;
        let mut problems = Vec::new();
        let mut get = |what: &str, r: Result<u64>| match r {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("{what}: {e}"));
                0
            }
        };
        m.free = get("FREE", self.vm_stat("vm_zone_stat", "NR_FREE_PAGES"));
        m.buffers = get("BUFFERS", self.blockdev_pages());
        let file = get("CACHED", self.vm_stat("vm_node_stat", "NR_FILE_PAGES"));
        let swapcache = self.vm_stat("vm_node_stat", "NR_SWAPCACHE").unwrap_or(0);
        m.cached = file.saturating_sub(swapcache).saturating_sub(m.buffers);
        m.slab = get(
            "SLAB",
            self.vm_stat("vm_node_stat", "NR_SLAB_RECLAIMABLE_B")
                .and_then(|r| {
                    Ok(r.saturating_add(self.vm_stat("vm_node_stat", "NR_SLAB_UNRECLAIMABLE_B")?))
                }),
        );
        let (ht, hf) = self.huge_pages().unwrap_or((0, 0));
        m.huge_total = ht;
        m.huge_free = hf;
        m.swap_total = get("TOTAL SWAP", self.read_long_sym("total_swap_pages"));
        m.swap_free = get("SWAP FREE", self.read_long_sym("nr_swap_pages"));
        let kbytes = self.read_long_sym("sysctl_overcommit_kbytes").unwrap_or(0);
        m.commit_limit = if kbytes != 0 {
            kbytes / (m.page_size / 1024)
        } else {
            let ratio = get(
                "COMMIT LIMIT",
                self.symbol_addr("sysctl_overcommit_ratio")
                    .and_then(|a| self.read_u32(a, "sysctl_overcommit_ratio"))
                    .map(|v| v as u64),
            );
            m.total.saturating_sub(m.huge_total).saturating_mul(ratio) / 100
        }
        .saturating_add(m.swap_total);
        let committed = self.symbol_addr("vm_committed_as");
        m.committed = get(
            "COMMITTED",
            committed
                .as_ref()
                .map_err(|e| crate::Error::MissingSymbol(e.to_string()))
                .and_then(|a| {
                    let off = self.layout.offset("percpu_counter", "count")?;
                    Ok((self.read_u64(a.off(off), "vm_committed_as.count")? as i64).max(0) as u64)
                }),
        );
        m.committed_exact = committed
            .and_then(|a| self.percpu_counter_sum(a))
            .map(|v| v.max(0) as u64)
            .unwrap_or(m.committed);
        m.shared = match self.shared_pages() {
            Ok(v) => Some(v),
            Err(e) => {
                problems.push(format!("SHARED: {e}"));
                None
            }
        };
        m.problems = problems;
        Ok(m)
    }

    /// Pages cached for block devices: each bdev inode's `i_mapping->nrpages`
    /// (`blockdev_superblock->s_inodes`), what the kernel's `nr_blockdev_pages()` sums.
    pub fn blockdev_pages(&self) -> Result<u64> {
        let sb = self.read_long_sym("blockdev_superblock")?;
        if sb == 0 {
            return Ok(0);
        }
        let head = sb.off(self.layout.offset("super_block", "s_inodes")?);
        let link = self.layout.offset("inode", "i_sb_list")?;
        let mapping = self.layout.offset("inode", "i_mapping")?;
        let nrpages = self.layout.offset("address_space", "nrpages")?;
        let walk = crate::list::walk_list(self, head, 1 << 20);
        if let Some(b) = walk.broken {
            return Err(crate::Error::Corrupt {
                what: "blockdev inode list".into(),
                detail: b,
            });
        }
        let mut total = 0u64;
        for node in walk.nodes {
            let m = self.read_u64(node.back(link).off(mapping), "inode.i_mapping")?;
            if m != 0 {
                total =
                    total.saturating_add(self.read_u64(m.off(nrpages), "address_space.nrpages")?);
            }
        }
        Ok(total)
    }

    /// (total, free) huge pages of every hstate, in base pages.
    pub fn huge_pages(&self) -> Result<(u64, u64)> {
        let hstates = self.symbol_addr("hstates")?;
        let n = self
            .symbol_addr("hugetlb_max_hstate")
            .and_then(|a| self.read_u32(a, "hugetlb_max_hstate"))?
            .min(16) as u64;
        let size = self.layout.struct_size("hstate")?;
        let order = self.layout.offset("hstate", "order")?;
        let nr = self.layout.offset("hstate", "nr_huge_pages")?;
        let free = self.layout.offset("hstate", "free_huge_pages")?;
        let (mut t, mut f) = (0, 0);
        for i in 0..n {
            let h = hstates.elem(i, size);
            let pages = 1u64 << self.read_u32(h.off(order), "hstate.order")?.min(30);
            t = self
                .read_u64(h.off(nr), "hstate.nr_huge_pages")?
                .saturating_mul(pages)
                .saturating_add(t);
            f = self
                .read_u64(h.off(free), "hstate.free_huge_pages")?
                .saturating_mul(pages)
                .saturating_add(f);
        }
        Ok((t, f))
    }

    /// Pages with more than one reference that are not reserved, from every `struct page`
    /// (sparse vmemmap: `vmemmap_base + pfn * sizeof(struct page)`); holes are skipped.
    pub fn shared_pages(&self) -> Result<u64> {
        let vmemmap = self.mem.layout().vmemmap_base.value;
        if vmemmap == 0 {
            return Err(crate::Error::MissingSymbol("vmemmap_base".into()));
        }
        // `max_pfn` comes from the dump: scan no further than the memory the dump describes.
        let ps = self.page_size();
        let dump_pfns = self
            .dump
            .phys_extents()
            .last()
            .map_or(0, |e| e.end.div_ceil(ps));
        let max_pfn = self.read_long_sym("max_pfn")?.min(dump_pfns);
        let page_size = self.layout.struct_size("page")?;
        let flags = self.layout.offset("page", "flags")?;
        let refcount = self.layout.offset("page", "_refcount")?;
        if page_size > 4096
            || flags.saturating_add(8) > page_size
            || refcount.saturating_add(4) > page_size
        {
            return Err(crate::Error::Corrupt {
                what: "struct page".into(),
                detail: format!(
                    "size {page_size} with flags at {flags} and _refcount at {refcount} is implausible"
                ),
            });
        }
        let reserved = 1u64 << self.enumerator("enum pageflags", "PG_reserved")?;
        let per_chunk = 4096 / page_size.max(1);
        let mut buf = vec![0u8; (per_chunk * page_size) as usize];
        let mut shared = 0;
        let mut pfn = 0;
        while pfn < max_pfn {
            let n = per_chunk.min(max_pfn - pfn);
            let chunk = &mut buf[..(n * page_size) as usize];
            if self.mem.read(vmemmap.elem(pfn, page_size), chunk).is_ok() {
                for i in 0..n {
                    let p = (i * page_size) as usize;
                    let f = le_u64(&chunk[p + flags as usize..]);
                    let c = le_u32(&chunk[p + refcount as usize..]) as i32;
                    if f & reserved == 0 && c > 1 {
                        shared += 1;
                    }
                }
            }
            pfn += n;
        }
        Ok(shared)
    }
}

fn le_u64(b: &[u8]) -> u64 {
    u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]))
}
fn le_u32(b: &[u8]) -> u32 {
    u32::from_le_bytes(b[..4].try_into().unwrap_or([0; 4]))
}
