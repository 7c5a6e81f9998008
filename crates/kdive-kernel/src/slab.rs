//! SLUB caches as `kmem -s` shows them: every `kmem_cache` on `slab_caches`, its object size,
//! slab size (order of `oo`), and object counts — slabs and objects from each node's counters
//! (`kmem_cache_node.nr_slabs`/`total_objects`), free objects from the node partial lists and
//! each CPU's partial list (`objects - inuse` of each slab); allocated is the difference.

use crate::list::{walk_chain, walk_list};
use crate::{AddrExt, Kernel, Result};

/// One slab cache.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SlabCache {
    pub addr: u64,
    pub name: String,
    pub object_size: u64,
    /// Bytes per object including metadata and alignment (`kmem_cache.size`).
    pub size: u64,
    pub allocated: u64,
    pub total: u64,
    pub slabs: u64,
    /// Bytes per slab (`PAGE_SIZE << order`).
    pub slab_size: u64,
    /// Why counts could not be read (they are then 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Offsets used for every cache, resolved once.
pub(crate) struct SlubLayout {
    pub(crate) list: u64,
    pub(crate) name: u64,
    pub(crate) object_size: u64,
    pub(crate) size: u64,
    pub(crate) oo: u64,
    pub(crate) node: u64,
    pub(crate) cpu_slab: u64,
    pub(crate) node_partial: u64,
    pub(crate) node_nr_slabs: u64,
    pub(crate) node_total_objects: u64,
    pub(crate) slab_list: u64,
    pub(crate) counters: u64,
    pub(crate) slab_next: u64,
    pub(crate) cpu_partial: Option<u64>,
    /// `kmem_cache_cpu.freelist` and `.slab` (or `.page`): the CPU's active slab.
    pub(crate) cpu_freelist: u64,
    pub(crate) cpu_active: u64,
    /// `kmem_cache.offset` (free pointer inside an object) and `.random` (hardened freelists).
    pub(crate) free_offset: u64,
    pub(crate) random: Option<u64>,
    pub(crate) nodes: Vec<u32>,
    pub(crate) cpus: Vec<u32>,
    pub(crate) page_size: u64,
}

impl SlubLayout {
    pub(crate) fn new(k: &Kernel) -> Result<SlubLayout> {
        let o = |s: &str, m: &str| k.layout.offset(s, m);
        let slab_struct = if k.layout.has_member("slab", "slab_cache") {
            "slab"
        } else {
            "page"
        };
        let cpu_slab_member = if slab_struct == "slab" {
            "slab"
        } else {
            "page"
        };
        let _ = cpu_slab_member;
        Ok(SlubLayout {
            list: o("kmem_cache", "list")?,
            name: o("kmem_cache", "name")?,
            object_size: o("kmem_cache", "object_size")?,
            size: o("kmem_cache", "size")?,
            oo: o("kmem_cache", "oo")?,
            node: o("kmem_cache", "node")?,
            cpu_slab: o("kmem_cache", "cpu_slab")?,
            node_partial: o("kmem_cache_node", "partial")?,
            node_nr_slabs: o("kmem_cache_node", "nr_slabs")?,
            node_total_objects: o("kmem_cache_node", "total_objects")?,
            slab_list: o(
                slab_struct,
                if slab_struct == "slab" {
                    "slab_list"
                } else {
                    "lru"
                },
            )?,
            counters: o(slab_struct, "counters")?,
            slab_next: o(slab_struct, "next")?,
            cpu_partial: o("kmem_cache_cpu", "partial").ok(),
            cpu_freelist: o("kmem_cache_cpu", "freelist")?,
            cpu_active: o("kmem_cache_cpu", cpu_slab_member)?,
            free_offset: o("kmem_cache", "offset")?,
            random: o("kmem_cache", "random").ok(),
            nodes: k.node_online_map().unwrap_or_else(|_| vec![0]),
            cpus: k
                .cpu_counts()
                .map(|c| c.present)
                .unwrap_or_else(|_| vec![0]),
            page_size: k.page_size(),
        })
    }
}

/// Upper bound on caches, slabs on one list.
const MAX_CACHES: usize = 100_000;
const MAX_SLABS: usize = 10_000_000;

impl Kernel {
    /// Every SLUB cache, newest first (the order of `slab_caches`).
    pub fn slab_caches(&self) -> Result<(Vec<SlabCache>, Vec<String>)> {
        let l = SlubLayout::new(self)?;
        let head = self.symbol_addr("slab_caches")?;
        let walk = walk_list(self, head, MAX_CACHES);
        let mut problems = Vec::new();
        if let Some(b) = walk.broken {
            problems.push(format!("slab_caches: {b}"));
        }
        let mut out = Vec::new();
        for node in walk.nodes {
            let addr = node.back(l.list);
            let name = self
                .read_u64(addr.off(l.name), "kmem_cache.name")
                .and_then(|p| self.read_cstr(p, 64, "kmem_cache.name string"))
                .unwrap_or_else(|e| format!("(unreadable: {e})"));
            let mut c = SlabCache {
                addr,
                name,
                object_size: 0,
                size: 0,
                allocated: 0,
                total: 0,
                slabs: 0,
                slab_size: 0,
                problem: None,
            };
            if let Err(e) = self.fill_cache(&l, &mut c) {
                c.problem = Some(e.to_string());
            }
            out.push(c);
        }
        Ok((out, problems))
    }

    fn fill_cache(&self, l: &SlubLayout, c: &mut SlabCache) -> Result<()> {
        let a = c.addr;
        c.object_size = self.read_u32(a.off(l.object_size), "kmem_cache.object_size")? as u64;
        c.size = self.read_u32(a.off(l.size), "kmem_cache.size")? as u64;
        let oo = self.read_u32(a.off(l.oo), "kmem_cache.oo")?;
        c.slab_size = l.page_size << (oo >> 16).min(20);
        let mut free = 0u64;
        for &n in &l.nodes {
            let node = self.read_u64(a.off(l.node).elem(n as u64, 8), "kmem_cache.node[]")?;
            if node == 0 {
                continue;
            }
            let slabs = self.read_u64(node.off(l.node_nr_slabs), "kmem_cache_node.nr_slabs")?;
            c.slabs = c.slabs.saturating_add(slabs);
            let total = self.read_u64(
                node.off(l.node_total_objects),
                "kmem_cache_node.total_objects",
            )?;
            c.total = c.total.saturating_add(total);
            let partial = walk_list(self, node.off(l.node_partial), MAX_SLABS);
            if let Some(b) = partial.broken {
                return Err(crate::Error::Corrupt {
                    what: format!("{} partial list", c.name),
                    detail: b,
                });
            }
            for s in partial.nodes {
                free += self.slab_free(l, s.back(l.slab_list))?;
            }
        }
        let pcpu = self.read_u64(a.off(l.cpu_slab), "kmem_cache.cpu_slab")?;
        let fp_off = self.read_u32(a.off(l.free_offset), "kmem_cache.offset")? as u64;
        let random = match l.random {
            Some(r) => self.read_u64(a.off(r), "kmem_cache.random")?,
            None => 0,
        };
        for &cpu in &l.cpus {
            let kc = self.per_cpu_addr(pcpu, cpu)?;
            // The active slab: objects the slab itself has free, plus the CPU's lockless freelist.
            let active = self.read_u64(kc.off(l.cpu_active), "kmem_cache_cpu.slab")?;
            if active != 0 {
                let (objects, free_in_slab) = self.slab_counts(l, active)?;
                let head = self.read_u64(kc.off(l.cpu_freelist), "kmem_cache_cpu.freelist")?;
                free += free_in_slab + self.freelist_len(head, fp_off, random, objects)?;
            }
            if let Some(cp) = l.cpu_partial {
                let first = self.read_u64(kc.off(cp), "kmem_cache_cpu.partial")?;
                let chain = walk_chain(first, MAX_SLABS, |s| {
                    self.read_u64(s.off(l.slab_next), "slab.next")
                })?;
                if let Some(b) = chain.broken {
                    return Err(crate::Error::Corrupt {
                        what: format!("{} per-CPU partial list", c.name),
                        detail: b,
                    });
                }
                for s in chain.nodes {
                    free += self.slab_free(l, s)?;
                }
            }
        }
        c.allocated = c.total.saturating_sub(free);
        Ok(())
    }

    /// `objects - inuse` of one slab (`counters`: inuse:16, objects:15, frozen:1).
    fn slab_free(&self, l: &SlubLayout, slab: u64) -> Result<u64> {
        Ok(self.slab_counts(l, slab)?.1)
    }

    /// A slab's memory, node and counts, from its `struct slab`.
    pub(crate) fn slab_place(&self, l: &SlubLayout, slab: u64) -> Result<SlabPlace> {
        let phys = self.page_to_phys(slab)?;
        let (objects, free) = self.slab_counts(l, slab)?;
        Ok(SlabPlace {
            slab,
            memory: self.mem.ptov(phys)?,
            node: self.phys_node(phys)?,
            objects,
            allocated: objects - free,
            free,
        })
    }

    /// (objects, objects - inuse) of one slab.
    pub(crate) fn slab_counts(&self, l: &SlubLayout, slab: u64) -> Result<(u64, u64)> {
        let v = self.read_u32(slab.off(l.counters), "slab.counters")?;
        let inuse = (v & 0xffff) as u64;
        let objects = ((v >> 16) & 0x7fff) as u64;
        Ok((objects, objects.saturating_sub(inuse)))
    }

    /// Length of a SLUB freelist: each free object holds the next one's address at `offset`,
    /// XORed with the cache's `random` and the byte-swapped address it is stored at when
    /// freelists are hardened. Stops at NULL, at a loop, or after `max` objects.
    fn freelist_len(&self, head: u64, offset: u64, random: u64, max: u64) -> Result<u64> {
        Ok(self.freelist(head, offset, random, max)?.len() as u64)
    }
}

/// One slab: where it is and how full — the line `kmem ADDRESS` and `kmem -S` print for it.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct SlabPlace {
    /// The slab's `struct slab` (head `struct page`).
    pub slab: u64,
    /// Start of the slab's memory.
    pub memory: u64,
    pub node: u32,
    pub objects: u64,
    pub allocated: u64,
    /// Free objects: `objects - inuse`; a CPU's active slab adds that CPU's lockless
    /// freelist (the readers that know it adjust this and `allocated`).
    pub free: u64,
}

impl SlabPlace {
    /// The same slab with `free` free objects (bounded by the slab's size).
    pub fn with_free(mut self, free: u64) -> SlabPlace {
        self.free = free.min(self.objects);
        self.allocated = self.objects - self.free;
        self
    }
}

/// Where an address lies inside a slab.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SlabObject {
    pub cache: SlabCache,
    #[serde(flatten)]
    pub place: SlabPlace,
    /// Start of the object holding the address.
    pub object: u64,
    pub object_free: bool,
}

impl Kernel {
    /// The slab object holding `va`, when `va` is in a page owned by a SLUB cache (its head
    /// page's `slab_cache` is one of the caches on `slab_caches`).
    pub fn slab_object(&self, va: u64) -> Result<Option<SlabObject>> {
        let l = SlubLayout::new(self)?;
        let page = self.page_info(va)?;
        let sc = self
            .layout
            .offset("slab", "slab_cache")
            .or_else(|_| self.layout.offset("page", "slab_cache"))?;
        let cache_addr = self.read_u64(page.head.off(sc), "slab.slab_cache")?;
        let (caches, _) = self.slab_caches()?;
        let Some(mut cache) = caches.into_iter().find(|c| c.addr == cache_addr) else {
            return Ok(None);
        };
        let slab = page.head;
        let place = self.slab_place(&l, slab)?;
        let objects = place.objects;
        let mut free = place.free;
        // Free objects: the slab's freelist, plus a CPU's lockless freelist if it is active there.
        let fp_off = self.read_u32(cache.addr.off(l.free_offset), "kmem_cache.offset")? as u64;
        let random = match l.random {
            Some(r) => self.read_u64(cache.addr.off(r), "kmem_cache.random")?,
            None => 0,
        };
        let freelist_off = self
            .layout
            .offset("slab", "freelist")
            .or_else(|_| self.layout.offset("page", "freelist"))?;
        let mut free_objs = self.freelist(
            self.read_u64(slab.off(freelist_off), "slab.freelist")?,
            fp_off,
            random,
            objects,
        )?;
        let pcpu = self.read_u64(cache.addr.off(l.cpu_slab), "kmem_cache.cpu_slab")?;
        for &cpu in &l.cpus {
            let kc = self.per_cpu_addr(pcpu, cpu)?;
            if self.read_u64(kc.off(l.cpu_active), "kmem_cache_cpu.slab")? == slab {
                let head = self.read_u64(kc.off(l.cpu_freelist), "kmem_cache_cpu.freelist")?;
                let cpu_free = self.freelist(head, fp_off, random, objects)?;
                free += cpu_free.len() as u64;
                free_objs.extend(cpu_free);
            }
        }
        let size = cache.size.max(1);
        // With red zoning (slub_debug=Z) each slot starts with a left red zone; the object (what
        // freelists and callers point to) follows it.
        let red_left = self
            .read_member_uint(cache.addr, "kmem_cache", "red_left_pad")
            .unwrap_or(0)
            .min(size);
        let object = place
            .memory
            .off(va.back(place.memory) / size * size)
            .off(red_left);
        cache.problem = None;
        Ok(Some(SlabObject {
            cache,
            place: place.with_free(free),
            object,
            object_free: free_objs.contains(&object),
        }))
    }

    /// The NUMA node whose span holds physical address `phys`.
    pub fn phys_node(&self, phys: u64) -> Result<u32> {
        let pfn = phys / self.page_size();
        let start = self.layout.offset("pglist_data", "node_start_pfn")?;
        let spanned = self.layout.offset("pglist_data", "node_spanned_pages")?;
        let id = self.layout.offset("pglist_data", "node_id")?;
        for pgdat in self.node_pgdats()? {
            let s = self.read_u64(pgdat.off(start), "pglist_data.node_start_pfn")?;
            let n = self.read_u64(pgdat.off(spanned), "pglist_data.node_spanned_pages")?;
            if pfn >= s && pfn < s.saturating_add(n) {
                return self.read_u32(pgdat.off(id), "pglist_data.node_id");
            }
        }
        Ok(0)
    }

    /// The objects on a SLUB freelist (see `freelist_len`).
    fn freelist(&self, head: u64, offset: u64, random: u64, max: u64) -> Result<Vec<u64>> {
        let limit = max.clamp(1, MAX_SLABS as u64) as usize;
        let chain = walk_chain(head, limit, |cur| {
            let at = cur.off(offset);
            let raw = self.read_u64(at, "slab free pointer")?;
            Ok(if random != 0 {
                raw ^ random ^ at.swap_bytes()
            } else {
                raw
            })
        })?;
        Ok(chain.nodes)
    }
}
