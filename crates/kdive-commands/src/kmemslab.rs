//! `kmem -S [CACHE|ADDRESS...]`: every slab and object of SLUB caches in crash's layout — per CPU the
//! active slab (free objects plain, allocated in brackets, the CPU's cache marked) and the
//! per-CPU partial list, then each node's counts, partial and full lists; for an address, the
//! slab holding it.

use crate::kmem::{slab_row, SLAB_HEADER};
use crate::{CmdError, Report, Session};
use kdive_kernel::slab::SlabPlace;
use kdive_kernel::slabwalk::{CacheSlabs, SlabDetail};

pub(crate) const SLAB_HDR: &str =
    "  SLAB              MEMORY            NODE  TOTAL  ALLOCATED  FREE\n";

/// `kmem -S[=CPUS]`: all caches, or those named, or the slabs holding the addresses given;
/// with `=CPUS` ("1,3,5-7", "a" or "all") only those CPUs' slabs.
pub fn run(s: &mut Session, args: &[String]) -> Result<Report, CmdError> {
    let cpus = match args.first().and_then(|a| a.strip_prefix("-S=")) {
        Some(spec) => Some(cpu_spec(s, spec)?),
        None => None,
    };
    let args = args.get(1..).unwrap_or_default();
    let (caches, problems) = s.kernel.slab_caches()?;
    let mut text = String::new();
    let mut json = Vec::new();
    if args.is_empty() {
        for c in &caches {
            one_cache(s, c, cpus.as_deref(), &mut text, &mut json);
        }
    }
    for a in args {
        // As crash: the first cache of that name; otherwise a hexadecimal address.
        if let Some(c) = caches.iter().find(|c| &c.name == a) {
            one_cache(s, c, cpus.as_deref(), &mut text, &mut json);
            continue;
        }
        let Ok(va) = u64::from_str_radix(a.trim_start_matches("0x"), 16) else {
            return Err(crate::kmem::no_such_cache(a, &problems));
        };
        match s.kernel.slab_containing(va) {
            Ok(Some((c, d))) => {
                text.push_str(SLAB_HEADER);
                text.push_str(&slab_row(&c));
                slab_verbose(&mut text, &d);
                json.push(serde_json::json!({"address": va, "cache": c, "slab": d}));
            }
            Ok(None) => {
                text.push_str(&format!(
                    "kmem: address is not allocated in slab subsystem: {va:x}\n"
                ));
                json.push(serde_json::json!({"address": va, "problem": "not in a slab"}));
            }
            Err(e) => {
                text.push_str(&format!("kmem: {va:x}: {e}\n"));
                json.push(serde_json::json!({"address": va, "problem": e.to_string()}));
            }
        }
    }
    for p in &problems {
        text.push_str(&format!("WARNING: {p}\n"));
    }
    Ok(Report::new(
        text,
        serde_json::json!({"caches": json, "problems": problems}),
    ))
}

/// One cache: its line, then every slab (crash's `kmem -S NAME`).
fn one_cache(
    s: &mut Session,
    c: &kdive_kernel::slab::SlabCache,
    cpus: Option<&[u32]>,
    text: &mut String,
    json: &mut Vec<serde_json::Value>,
) {
    text.push_str(SLAB_HEADER);
    text.push_str(&slab_row(c));
    if let Some(p) = &c.problem {
        text.push_str(&format!("WARNING: {}: {p}\n", c.name));
        json.push(serde_json::json!({"cache": c, "problem": p}));
        return;
    }
    match s.kernel.cache_slabs(c) {
        Ok(cs) => {
            render(text, &cs, cpus);
            json.push(serde_json::to_value(&cs).unwrap_or_default());
        }
        Err(e) => {
            text.push_str(&format!("WARNING: {}: {e}\n\n", c.name));
            json.push(serde_json::json!({"cache": c, "problem": e.to_string()}));
        }
    }
}

/// One slab's line under `SLAB_HDR` (`kmem -S` and `kmem ADDRESS`).
pub(crate) fn slab_line(text: &mut String, p: &SlabPlace) {
    text.push_str(&format!(
        "  {:<16x}  {:<16x}  {:>4}  {:>5}  {:>9}  {:>4}\n",
        p.slab, p.memory, p.node, p.objects, p.allocated, p.free
    ));
}

/// A slab with its objects: free ones plain (with the CPU when its cache), allocated ones
/// in brackets.
fn slab_verbose(text: &mut String, d: &SlabDetail) {
    text.push_str(SLAB_HDR);
    slab_line(text, &d.place);
    text.push_str("  FREE / [ALLOCATED]\n");
    for o in &d.objs {
        if o.free {
            text.push_str(&format!("   {:x}  ", o.addr));
            if let Some(cpu) = d.cpu {
                text.push_str(&format!("(cpu {cpu} cache)"));
            }
            text.push('\n');
        } else {
            text.push_str(&format!("  [{:x}]\n", o.addr));
        }
    }
    if let Some(p) = &d.problem {
        text.push_str(&format!("WARNING: {p}\n"));
    }
}

/// The CPUs of a `-S=` list, as crash: numbers and ranges below the CPU count, "a" or "all".
fn cpu_spec(s: &Session, spec: &str) -> Result<Vec<u32>, CmdError> {
    let n = s.kernel.cpu_counts()?.cpus;
    let bad = || CmdError::Usage(format!("kmem: invalid cpu specification: {spec}"));
    let mut out = Vec::new();
    for part in spec.split(',') {
        if part == "a" || part == "all" {
            out.extend(0..n);
        } else {
            let v = crate::bt::parse_cpus(part).map_err(|_| bad())?;
            if v.is_empty() || v.iter().any(|&c| c >= n) {
                return Err(bad());
            }
            out.extend(v);
        }
    }
    Ok(out)
}

/// A cache's slabs; with `only`, just those CPUs (crash counts only their slabs in PER-CPU).
fn render(text: &mut String, cs: &CacheSlabs, only: Option<&[u32]>) {
    let shown = |cpu: u32| only.map_or(true, |o| o.contains(&cpu));
    for c in cs.cpus.iter().filter(|c| shown(c.cpu)) {
        if !c.online {
            text.push_str(&format!("CPU {} [OFFLINE]\n", c.cpu));
            continue;
        }
        text.push_str(&format!(
            "CPU {} KMEM_CACHE_CPU:\n  {:x}\n",
            c.cpu, c.kmem_cache_cpu
        ));
        text.push_str(&format!("CPU {} SLAB:\n", c.cpu));
        match &c.slab {
            Some(d) => slab_verbose(text, d),
            None if c.problems.is_empty() => text.push_str("  (empty)\n"),
            None => {}
        }
        if let Some(partial) = &c.partial {
            text.push_str(&format!("CPU {} PARTIAL:\n", c.cpu));
            if partial.is_empty() {
                text.push_str("  (empty)\n");
            }
            for d in partial {
                slab_verbose(text, d);
            }
        }
        for p in &c.problems {
            text.push_str(&format!("WARNING: {p}\n"));
        }
    }
    for n in &cs.nodes {
        let per_cpu = match only {
            None => n.per_cpu,
            Some(_) => cs
                .cpus
                .iter()
                .filter(|c| shown(c.cpu) && c.slab.as_ref().is_some_and(|d| d.place.node == n.node))
                .count() as u64,
        };
        text.push_str("KMEM_CACHE_NODE   NODE  SLABS  PARTIAL  PER-CPU\n");
        text.push_str(&format!(
            "{:x}  {:>4}  {:>5}  {:>7}  {:>7}\n",
            n.addr, n.node, n.nr_slabs, n.nr_partial, per_cpu
        ));
        if n.addr != 0 {
            text.push_str(&format!("NODE {} PARTIAL:\n", n.node));
            list(text, &n.partial);
            text.push_str(&format!("NODE {} FULL:\n", n.node));
            match &n.full {
                Some(f) => list(text, f),
                None => text.push_str("  (not tracked)\n"),
            }
        }
        for p in &n.problems {
            text.push_str(&format!("WARNING: {p}\n"));
        }
    }
    text.push('\n');
}

/// A node list: the header once, one line per slab.
fn list(text: &mut String, slabs: &[SlabDetail]) {
    if slabs.is_empty() {
        text.push_str("  (empty)\n");
        return;
    }
    text.push_str(SLAB_HDR);
    for d in slabs {
        slab_line(text, &d.place);
    }
}

#[cfg(test)]
mod tests {
    use super::render;
    use kdive_kernel::slab::{SlabCache, SlabPlace};
    use kdive_kernel::slabwalk::{CacheSlabs, CpuSlabs, NodeSlabs, SlabDetail, SlabObj};

    fn slab(cpu: Option<u32>, objs: Vec<SlabObj>) -> SlabDetail {
        SlabDetail {
            place: SlabPlace {
                slab: 0xfffff2a100096800,
                memory: 0xffff8c3f825a0000,
                node: 0,
                objects: 2,
                allocated: 1,
                free: 1,
            },
            cpu,
            objs,
            problem: None,
        }
    }

    #[test]
    fn crash_layout() {
        let objs = vec![
            SlabObj {
                addr: 0xffff8c3f825a0000,
                free: false,
            },
            SlabObj {
                addr: 0xffff8c3f825a1800,
                free: true,
            },
        ];
        let cs = CacheSlabs {
            cache: SlabCache {
                addr: 0xffff8c3f811b7800,
                name: "t".into(),
                object_size: 6144,
                size: 6144,
                allocated: 1,
                total: 2,
                slabs: 1,
                slab_size: 32768,
                problem: None,
            },
            flags: 0,
            cpus: vec![
                CpuSlabs {
                    cpu: 0,
                    online: true,
                    kmem_cache_cpu: 0xffff8c3fade379b0,
                    slab: Some(slab(Some(0), objs.clone())),
                    partial: Some(vec![slab(None, objs)]),
                    problems: vec![],
                },
                CpuSlabs {
                    cpu: 1,
                    online: false,
                    kmem_cache_cpu: 0,
                    slab: None,
                    partial: None,
                    problems: vec![],
                },
            ],
            nodes: vec![NodeSlabs {
                node: 0,
                addr: 0xffff8c3f811b8f00,
                nr_slabs: 1,
                nr_partial: 0,
                per_cpu: 1,
                partial: vec![],
                full: None,
                problems: vec![],
            }],
        };
        let mut text = String::new();
        render(&mut text, &cs, None);
        let want = "CPU 0 KMEM_CACHE_CPU:
  ffff8c3fade379b0
CPU 0 SLAB:
  SLAB              MEMORY            NODE  TOTAL  ALLOCATED  FREE
  fffff2a100096800  ffff8c3f825a0000     0      2          1     1
  FREE / [ALLOCATED]
  [ffff8c3f825a0000]
   ffff8c3f825a1800  (cpu 0 cache)
CPU 0 PARTIAL:
  SLAB              MEMORY            NODE  TOTAL  ALLOCATED  FREE
  fffff2a100096800  ffff8c3f825a0000     0      2          1     1
  FREE / [ALLOCATED]
  [ffff8c3f825a0000]
   ffff8c3f825a1800  \n\
CPU 1 [OFFLINE]
KMEM_CACHE_NODE   NODE  SLABS  PARTIAL  PER-CPU
ffff8c3f811b8f00     0      1        0        1
NODE 0 PARTIAL:
  (empty)
NODE 0 FULL:
  (not tracked)

";
        assert_eq!(text, want);
    }
}
