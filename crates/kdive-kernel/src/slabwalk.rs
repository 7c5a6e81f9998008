//! Every slab and object of a SLUB cache, as `kmem -S` shows them: each CPU's active slab
//! (objects on the slab's and the CPU's lockless freelist are free) and per-CPU partial list,
//! each node's partial list, and the full list when the cache tracks it (`SLAB_STORE_USER`).
//! Freelists are decoded (hardened: `ptr ^ random ^ swab(where)`), bounded by the slab's
//! object count, and checked for loops; a break is reported with the structure and address.

use crate::list::walk_list;
use crate::slab::{SlabCache, SlabPlace, SlubLayout};
use crate::{AddrExt, Kernel, Result};
use std::collections::HashSet;

/// Upper bound on slabs followed on one list.
const MAX_LIST_SLABS: usize = 1_000_000;

/// One object of a slab.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SlabObj {
    pub addr: u64,
    pub free: bool,
}

/// One slab: its counts and, when listed in full, its objects.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SlabDetail {
    #[serde(flatten)]
    pub place: SlabPlace,
    /// The CPU whose active slab this is (its free objects are that CPU's cache).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<u32>,
    /// Every object, in address order (empty when only the counts were asked for).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub objs: Vec<SlabObj>,
    /// A freelist that could not be followed to its end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// One CPU's slabs of a cache.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CpuSlabs {
    pub cpu: u32,
    pub online: bool,
    /// This CPU's `kmem_cache_cpu`.
    pub kmem_cache_cpu: u64,
    pub slab: Option<SlabDetail>,
    /// The per-CPU partial list (None when the kernel has none).
    pub partial: Option<Vec<SlabDetail>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// One node's slabs of a cache.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NodeSlabs {
    pub node: u32,
    /// `kmem_cache_node` (0 when the cache has none on this node).
    pub addr: u64,
    pub nr_slabs: u64,
    pub nr_partial: u64,
    /// CPU active slabs on this node.
    pub per_cpu: u64,
    pub partial: Vec<SlabDetail>,
    /// The full list, when the cache tracks it (`SLAB_STORE_USER` and `kmem_cache_node.full`).
    pub full: Option<Vec<SlabDetail>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// A cache with all its slabs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CacheSlabs {
    pub cache: SlabCache,
    /// `kmem_cache.flags`.
    pub flags: u64,
    pub cpus: Vec<CpuSlabs>,
    pub nodes: Vec<NodeSlabs>,
}

/// Per-cache values the walk needs.
struct CacheCtx<'a> {
    l: &'a SlubLayout,
    /// `kmem_cache.flags`, and the `SLAB_STORE_USER` bit.
    flags: u64,
    store_user: u64,
    name: String,
    size: u64,
    fp_off: u64,
    random: Option<u64>,
    red_left_pad: u64,
    freelist_off: u64,
    /// (cpu, active slab, lockless freelist) of every present CPU with an active slab.
    active: Vec<(u32, u64, u64)>,
}

/// `SLAB_RED_ZONE` and `SLAB_STORE_USER`: bit numbers from `enum _slab_flag_bits` (6.9+),
/// else the fixed values of older kernels. crash 8.0.6 always uses the old values, so on 6.12
/// it takes `_SLAB_RECLAIM_ACCOUNT` (bit 16) for `SLAB_STORE_USER` and lists an always-empty
/// full list where the kernel does not track one; kdive follows the kernel: "(not tracked)".
fn slab_flag_bits(k: &Kernel) -> (u64, u64) {
    let bit = |n: &str| {
        k.layout
            .enumerator("enum _slab_flag_bits", n)
            .filter(|v| (0..64).contains(v))
            .map(|v| 1u64 << v)
    };
    match (bit("_SLAB_RED_ZONE"), bit("_SLAB_STORE_USER")) {
        (Some(r), Some(s)) => (r, s),
        _ => (0x400, 0x10000),
    }
}

impl Kernel {
    /// What walking `cache`'s slabs needs, and its CPUs with no slab read yet.
    fn cache_ctx<'a>(
        &self,
        l: &'a SlubLayout,
        cache: &SlabCache,
    ) -> Result<(CacheCtx<'a>, Vec<CpuSlabs>)> {
        let a = cache.addr;
        let o = |s: &str, m: &str| self.layout.offset(s, m);
        let slab_struct = if self.layout.has_member("slab", "slab_cache") {
            "slab"
        } else {
            "page"
        };
        let (red_zone, store_user) = slab_flag_bits(self);
        let flags = match o("kmem_cache", "flags") {
            Ok(f) => self.read_u32(a.off(f), "kmem_cache.flags")? as u64,
            Err(_) => 0,
        };
        let red_left_pad = match o("kmem_cache", "red_left_pad") {
            Ok(r) if flags & red_zone != 0 => {
                self.read_u32(a.off(r), "kmem_cache.red_left_pad")? as u64
            }
            _ => 0,
        };
        let random = match l.random {
            Some(r) => Some(self.read_u64(a.off(r), "kmem_cache.random")?),
            None => None,
        };
        let pcpu = self.read_u64(a.off(l.cpu_slab), "kmem_cache.cpu_slab")?;
        let counts = self.cpu_counts()?;
        let mut cx = CacheCtx {
            l,
            flags,
            store_user,
            name: cache.name.clone(),
            size: cache.size.max(1),
            fp_off: self.read_u32(a.off(l.free_offset), "kmem_cache.offset")? as u64,
            random,
            red_left_pad,
            freelist_off: o(slab_struct, "freelist")?,
            active: Vec::new(),
        };
        let mut cpus = Vec::new();
        for cpu in 0..counts.cpus {
            let online = counts.online.contains(&cpu);
            let kc = self.per_cpu_addr(pcpu, cpu)?;
            let c = CpuSlabs {
                cpu,
                online,
                kmem_cache_cpu: kc,
                slab: None,
                partial: None,
                problems: Vec::new(),
            };
            if online {
                let active = self.read_u64(kc.off(l.cpu_active), "kmem_cache_cpu.slab")?;
                let fl = self.read_u64(kc.off(l.cpu_freelist), "kmem_cache_cpu.freelist")?;
                if active != 0 {
                    cx.active.push((cpu, active, fl));
                }
            }
            cpus.push(c);
        }
        Ok((cx, cpus))
    }

    /// The slab holding `va` — an address inside one of its objects, or the slab's own
    /// `struct slab` (head page) — with its cache and every object (`kmem -S ADDRESS`).
    pub fn slab_containing(&self, va: u64) -> Result<Option<(SlabCache, SlabDetail)>> {
        let mut found = self.slab_object(va).ok().flatten();
        let vmemmap = self.mem.layout().vmemmap_base.value;
        let page_size = self.layout.struct_size("page")?.max(1);
        if found.is_none() && va >= vmemmap && va.back(vmemmap) % page_size == 0 {
            // A `struct slab` address: the slab whose memory that page maps, if it is its head.
            let as_page = self
                .page_to_phys(va)
                .and_then(|phys| Ok(self.mem.ptov(phys)?))
                .ok()
                .and_then(|m| self.slab_object(m).ok().flatten());
            found = as_page.filter(|o| o.place.slab == va);
        }
        let Some(o) = found else { return Ok(None) };
        let l = SlubLayout::new(self)?;
        let (cx, _) = self.cache_ctx(&l, &o.cache)?;
        let d = self.slab_detail(&cx, o.place.slab, true)?;
        Ok(Some((o.cache, d)))
    }

    /// The slabs of `cache` (one of [`Kernel::slab_caches`]).
    pub fn cache_slabs(&self, cache: &SlabCache) -> Result<CacheSlabs> {
        let l = SlubLayout::new(self)?;
        let a = cache.addr;
        let o = |s: &str, m: &str| self.layout.offset(s, m);
        let (cx, mut cpus) = self.cache_ctx(&l, cache)?;
        let (flags, store_user) = (cx.flags, cx.store_user);
        let mut per_node = std::collections::BTreeMap::<u32, u64>::new();
        for c in cpus.iter_mut().filter(|c| c.online) {
            let active = cx
                .active
                .iter()
                .find(|(cpu, _, _)| *cpu == c.cpu)
                .map(|x| x.1);
            if let Some(s) = active {
                match self.slab_detail(&cx, s, true) {
                    Ok(d) => {
                        *per_node.entry(d.place.node).or_default() += 1;
                        c.slab = Some(d);
                    }
                    Err(e) => {
                        c.problems.push(format!("{}: slab {s:#x}: {e}", cx.name));
                        continue;
                    }
                }
            }
            if let Some(cp) = l.cpu_partial {
                let mut list = Vec::new();
                let mut seen = HashSet::new();
                let mut cur = self.read_u64(c.kmem_cache_cpu.off(cp), "kmem_cache_cpu.partial")?;
                while cur != 0 {
                    if !seen.insert(cur) || list.len() >= MAX_LIST_SLABS {
                        c.problems.push(format!(
                            "{}: CPU {} partial list loops back to slab {cur:#x}",
                            cx.name, c.cpu
                        ));
                        break;
                    }
                    match self.slab_detail(&cx, cur, true) {
                        Ok(d) => list.push(d),
                        Err(e) => {
                            c.problems
                                .push(format!("{}: partial slab {cur:#x}: {e}", cx.name));
                            break;
                        }
                    }
                    match self.read_u64(cur.off(l.slab_next), "slab.next") {
                        Ok(n) => cur = n,
                        Err(e) => {
                            c.problems.push(format!("{}: {e}", cx.name));
                            break;
                        }
                    }
                }
                c.partial = Some(list);
            }
        }
        let nr_partial = o("kmem_cache_node", "nr_partial")?;
        let full_off = o("kmem_cache_node", "full").ok();
        let mut nodes = Vec::new();
        for &n in &l.nodes {
            let node = self.read_u64(a.off(l.node).elem(n as u64, 8), "kmem_cache.node[]")?;
            let mut ns = NodeSlabs {
                node: n,
                addr: node,
                nr_slabs: 0,
                nr_partial: 0,
                per_cpu: per_node.get(&n).copied().unwrap_or(0),
                partial: Vec::new(),
                full: None,
                problems: Vec::new(),
            };
            if node != 0 {
                ns.nr_partial =
                    self.read_u64(node.off(nr_partial), "kmem_cache_node.nr_partial")?;
                ns.nr_slabs =
                    self.read_u64(node.off(l.node_nr_slabs), "kmem_cache_node.nr_slabs")?;
                ns.partial = self.slab_list(&cx, node.off(l.node_partial), &mut ns.problems);
                if let Some(f) = full_off.filter(|_| flags & store_user != 0) {
                    ns.full = Some(self.slab_list(&cx, node.off(f), &mut ns.problems));
                }
            }
            nodes.push(ns);
        }
        Ok(CacheSlabs {
            cache: cache.clone(),
            flags,
            cpus,
            nodes,
        })
    }

    /// The slabs on a node list (`slab_list`), counts only.
    fn slab_list(&self, cx: &CacheCtx, head: u64, problems: &mut Vec<String>) -> Vec<SlabDetail> {
        let walk = walk_list(self, head, MAX_LIST_SLABS);
        let mut out = Vec::new();
        for n in walk.nodes {
            let s = n.back(cx.l.slab_list);
            match self.slab_detail(cx, s, false) {
                Ok(d) => out.push(d),
                Err(e) => {
                    problems.push(format!("{}: slab {s:#x}: {e}", cx.name));
                    return out;
                }
            }
        }
        if let Some(b) = walk.broken {
            problems.push(format!("{}: node list at {head:#x}: {b}", cx.name));
        }
        out
    }

    /// One slab's counts, and with `verbose` its objects and which are free. A CPU's active
    /// slab counts as free the CPU's lockless freelist plus, when the slab's own freelist is
    /// not empty, `objects - inuse` (as crash does).
    fn slab_detail(&self, cx: &CacheCtx, slab: u64, verbose: bool) -> Result<SlabDetail> {
        let place = self.slab_place(cx.l, slab)?;
        let (memory, objects, free) = (place.memory, place.objects, place.free);
        let mut d = SlabDetail {
            place,
            cpu: None,
            objs: Vec::new(),
            problem: None,
        };
        if !verbose {
            return Ok(d);
        }
        let freelist = self.read_u64(slab.off(cx.freelist_off), "slab.freelist")?;
        let mut free_set = HashSet::new();
        let mut problems = Vec::new();
        if let Some(&(cpu, _, cpu_fl)) = cx.active.iter().find(|x| x.1 == slab) {
            d.cpu = Some(cpu);
            let mut n = self.freelist_walk(cx, slab, cpu_fl, objects, &mut free_set, &mut problems);
            if freelist != 0 {
                n += free;
            }
            d.place = place.with_free(n);
        }
        self.freelist_walk(cx, slab, freelist, objects, &mut free_set, &mut problems);
        for i in 0..objects {
            let p = memory.off(i * cx.size);
            d.objs.push(SlabObj {
                addr: p.off(cx.red_left_pad),
                free: free_set.contains(&p.off(cx.red_left_pad)),
            });
        }
        if !problems.is_empty() {
            d.problem = Some(problems.join("; "));
        }
        Ok(d)
    }

    /// Follows a freelist from `head`, adding its objects to `set`; returns how many it held.
    /// A loop, an over-long list or an unreadable free pointer is reported in `problems`.
    fn freelist_walk(
        &self,
        cx: &CacheCtx,
        slab: u64,
        head: u64,
        objects: u64,
        set: &mut HashSet<u64>,
        problems: &mut Vec<String>,
    ) -> u64 {
        let (objs, end) = follow_freelist(
            head,
            objects,
            cx.fp_off,
            |at| self.read_u64(at, "slab free pointer").ok(),
            |raw, at| match cx.random {
                Some(r) => {
                    decode_hardened(raw, r, at, |a| self.read_u64(a, "slab free object").is_ok())
                }
                None => raw,
            },
        );
        if let Some(e) = end {
            problems.push(format!("{}: slab {slab:#x}: {e}", cx.name));
        }
        let n = objs.len() as u64;
        set.extend(objs);
        n
    }
}

/// The objects on a SLUB freelist from `head`: each free object holds the next one's
/// (encoded) address at `fp_off`; `read` reads that word, `decode(raw, where)` decodes it.
/// Stops at NULL or a tagged pointer (bit 0, as crash); a loop, more than `max` objects, or an
/// unreadable free pointer also ends it, with the reason.
fn follow_freelist(
    head: u64,
    max: u64,
    fp_off: u64,
    mut read: impl FnMut(u64) -> Option<u64>,
    decode: impl Fn(u64, u64) -> u64,
) -> (Vec<u64>, Option<String>) {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut q = head;
    while q != 0 && q & 1 == 0 {
        if !seen.insert(q) {
            return (out, Some(format!("freelist loops back to object {q:#x}")));
        }
        if out.len() as u64 >= max {
            return (
                out,
                Some(format!("freelist longer than {max} objects at {q:#x}")),
            );
        }
        out.push(q);
        let at = q.off(fp_off);
        let Some(raw) = read(at) else {
            return (out, Some(format!("invalid free pointer at {at:#x}")));
        };
        q = decode(raw, at);
    }
    (out, None)
}

/// A hardened free pointer (`CONFIG_SLAB_FREELIST_HARDENED`): `ptr ^ random ^ swab(where)`
/// since 5.7, `ptr ^ random ^ where` before; as crash, the swabbed form unless it decodes to
/// memory that cannot be read.
fn decode_hardened(raw: u64, random: u64, at: u64, readable: impl Fn(u64) -> bool) -> u64 {
    let swabbed = raw ^ random ^ at.swap_bytes();
    if swabbed == 0 || readable(swabbed) {
        swabbed
    } else {
        raw ^ random ^ at
    }
}

#[cfg(test)]
mod tests {
    use super::{decode_hardened, follow_freelist};
    use std::collections::HashMap;

    const RANDOM: u64 = 0x5a5a_1234_dead_beef;

    /// Memory holding a hardened freelist through `objs` (free pointer at offset 8).
    fn hardened(objs: &[u64], last_next: u64) -> HashMap<u64, u64> {
        let mut m = HashMap::new();
        for (i, &o) in objs.iter().enumerate() {
            let next = objs.get(i + 1).copied().unwrap_or(last_next);
            let at = o + 8;
            m.insert(at, next ^ RANDOM ^ at.swap_bytes());
        }
        m
    }

    fn walk(m: &HashMap<u64, u64>, head: u64, max: u64) -> (Vec<u64>, Option<String>) {
        follow_freelist(
            head,
            max,
            8,
            |at| m.get(&at).copied(),
            |raw, at| decode_hardened(raw, RANDOM, at, |a| m.contains_key(&(a + 8))),
        )
    }

    #[test]
    fn decodes_hardened_list_to_null() {
        let objs = [
            0xffff_8880_0100_0000,
            0xffff_8880_0100_00c0,
            0xffff_8880_0100_0180,
        ];
        let m = hardened(&objs, 0);
        assert_eq!(walk(&m, objs[0], 21), (objs.to_vec(), None));
    }

    #[test]
    fn loop_is_reported_with_the_object() {
        let objs = [0xffff_8880_0100_0000, 0xffff_8880_0100_00c0];
        let m = hardened(&objs, objs[0]);
        let (got, end) = walk(&m, objs[0], 21);
        assert_eq!(got, objs.to_vec());
        assert_eq!(
            end.as_deref(),
            Some("freelist loops back to object 0xffff888001000000")
        );
    }

    #[test]
    fn bounded_by_objects_and_unreadable_pointer_named() {
        let objs = [
            0xffff_8880_0100_0000,
            0xffff_8880_0100_00c0,
            0xffff_8880_0100_0180,
        ];
        let m = hardened(&objs, 0);
        let (got, end) = walk(&m, objs[0], 2);
        assert_eq!(got.len(), 2);
        assert!(end.unwrap().starts_with("freelist longer than 2 objects"));
        let (got, end) = walk(&m, 0xffff_8880_0200_0000, 21);
        assert_eq!(got, vec![0xffff_8880_0200_0000]);
        assert_eq!(
            end.as_deref(),
            Some("invalid free pointer at 0xffff888002000008")
        );
    }

    #[test]
    fn pre_5_7_encoding_when_swabbed_is_unreadable() {
        let (next, at) = (0xffff_8880_0100_00c0u64, 0xffff_8880_0100_0008u64);
        let raw = next ^ RANDOM ^ at;
        assert_eq!(decode_hardened(raw, RANDOM, at, |a| a == next), next);
    }
}
