//! `kmem`: the memory summary (`-i`), VM counters (`-V`), vmalloc areas (`-v`), slab caches
//! (`-s`), what an address is; zones and free lists (`-z`, `-f`, `-F`) in `kmemzones.rs`;
//! per-CPU offsets, hugetlb sizes, page flags, nodes and sections (`-o`, `-h`, `-g`,
//! `-n`) in `kmemviews.rs`.

use crate::{CmdError, Report, Session};
use kdive_kernel::meminfo::MemInfo;

pub const USAGE: &str =
    "kmem -i | -V | -v | -o | -h | -g [FLAGS...] | -n | -p [ADDRESS...] | -z | -f | -F | -s [NAME] | -S[=CPUS] [NAME|ADDRESS] | ADDRESS";

pub const DETAILS: &str =
    "  -i  memory summary: total, free, used, shared, buffers, cached, slab, huge, swap, commit
  -V  VM zone and node statistics and the summed VM event counters
  -v  busy vmalloc areas: vmap_area, vm_struct, address range, size
  -o  each CPU's per-CPU offset (__per_cpu_offset[]), CPU 0 to the highest present one
  -h  hugetlb page sizes (hstates[] with a non-zero order): size, free and total huge pages
  -g  the page flags of enum pageflags (aliases too) with bit and mask; -g FLAGS (hex) only
      those set in FLAGS
  -p  every page descriptor (struct page: physical address, mapping, index, count, flags
      with the kernel's pageflag_names[]); -p ADDRESS... only those pages (a struct page,
      kernel virtual or physical address)
  -n  memory nodes with their zones; the present memory sections (SPARSEMEM) with their
      mem_map and state (P present, M mem_map, O online, E early, D zone device); the
      memory blocks of the memory bus with range, node, state and first section
  -z  per node and zone: size, present pages, MIN/LOW/HIGH watermarks, the zone's VM_STAT
      counters; empty zones as [unpopulated]
  -f  per zone: size, free pages, mem_map, start; per order and migrate type the
      free_area list_head with its free blocks and pages; nr_free_pages checked against
      the pages found on the lists (each list walked to at most 1048576 blocks)
  -F  as -f, with the struct page of every free block
  -s  SLUB caches (only the named ones with NAME)
  -S  every slab of the named caches (all without NAME) and each object, allocated in
      brackets, free plain; per CPU the cpu slab and partial list, per node the partial and
      full lists; -S=CPUS only those CPUs; -S ADDRESS the slab holding ADDRESS
  -f ADDRESS  the free block holding a struct page, kernel virtual or physical address
  ADDRESS  the symbol, slab object, task and struct page of an address
";

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    match args.first().map(String::as_str) {
        Some("-i") if args.len() == 1 => meminfo(s),
        Some("-V") if args.len() == 1 => vm_counters(s),
        Some("-o") if args.len() == 1 => crate::kmemviews::per_cpu_offsets(s),
        Some("-h") if args.len() == 1 => crate::kmemviews::hstates(s),
        Some("-g") => crate::kmemviews::page_flags(s, &args[1..]),
        Some("-n") if args.len() == 1 => crate::kmemviews::memory_nodes(s),
        Some("-p") => crate::kmemviews::page_descriptors(s, &args[1..]),
        Some("-v") if args.len() == 1 => vmalloc_areas(s),
        Some("-z") if args.len() == 1 => crate::kmemzones::zone_stats(s),
        Some("-f") if args.len() == 1 => crate::kmemzones::free_pages(s, false),
        Some("-F") if args.len() == 1 => crate::kmemzones::free_pages(s, true),
        Some("-f") if args.len() == 2 => crate::kmemzones::free_block_of(s, &args[1]),
        Some("-s") => slabs(s, &args[1..]),
        Some(a) if a == "-S" || a.starts_with("-S=") => crate::kmemslab::run(s, args),
        Some(a) if !a.starts_with('-') => {
            let mut r = Report::default();
            let mut items = Vec::new();
            for (i, a) in args.iter().enumerate() {
                let one = address(s, a)?;
                if i > 0 {
                    r.text.push('\n');
                }
                r.text.push_str(&one.text);
                items.push(one.json);
            }
            r.json = serde_json::Value::Array(items);
            Ok(r)
        }
        _ => Err(CmdError::Usage(format!("kmem: usage: {USAGE}"))),
    }
}

/// `kmem -V`: the VM zone and node statistics and the summed VM event counters, each name
/// right-aligned to the longest of its block (zone and node share one width), as crash.
fn vm_counters(s: &mut Session) -> Result<Report, CmdError> {
    let v = s.kernel.vm_counters()?;
    let stat_width = v
        .zone
        .iter()
        .chain(&v.node)
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(0);
    let mut text = String::from("  VM_ZONE_STAT:\n");
    let line = |text: &mut String, w: usize, n: &str, val: String| {
        text.push_str(&format!("{n:>w$}: {val}\n"));
    };
    for (n, val) in &v.zone {
        line(&mut text, stat_width, n, val.to_string());
    }
    text.push_str("\n  VM_NODE_STAT:\n");
    for (n, val) in &v.node {
        line(&mut text, stat_width, n, val.to_string());
    }
    if !v.events.is_empty() {
        let w = v.events.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        text.push_str("\n  VM_EVENT_STATES:\n");
        for (n, val) in &v.events {
            line(&mut text, w, n, (*val as u64).to_string());
        }
    }
    Ok(Report::new(
        text,
        serde_json::to_value(&v).unwrap_or(serde_json::Value::Null),
    ))
}

/// `kmem -v`: the busy vmalloc areas — vmap_area, vm_struct, range and size.
fn vmalloc_areas(s: &mut Session) -> Result<Report, CmdError> {
    use crate::report::centre;
    let w = s.kernel.vmap_areas()?;
    let mut text = String::new();
    if !w.items.is_empty() {
        text.push_str(&format!(
            "{}  {}  {}     SIZE\n",
            centre("VMAP_AREA", 16, false),
            centre("VM_STRUCT", 16, false),
            centre("ADDRESS RANGE", 35, false)
        ));
    }
    for a in &w.items {
        text.push_str(&format!(
            "{:x}  {:x}  {:>16x} - {:<16x}  {:>7}\n",
            a.addr,
            a.vm_struct,
            a.start,
            a.end,
            a.end.wrapping_sub(a.start)
        ));
    }
    for p in &w.problems {
        text.push_str(&format!("WARNING: {p}\n"));
    }
    Ok(Report::new(
        text,
        serde_json::json!({"areas": w.items, "problems": w.problems}),
    ))
}

fn meminfo(s: &mut Session) -> Result<Report, CmdError> {
    let m = s.kernel.meminfo()?;
    let text = render_meminfo(&m);
    Ok(Report::new(
        text,
        serde_json::to_value(&m).unwrap_or(serde_json::Value::Null),
    ))
}

/// `kmem -s [NAME...]`: crash's SLUB cache table.
fn slabs(s: &mut Session, names: &[String]) -> Result<Report, CmdError> {
    let (caches, problems) = s.kernel.slab_caches()?;
    let chosen: Vec<_> = caches
        .iter()
        .filter(|c| names.is_empty() || names.contains(&c.name))
        .collect();
    if chosen.is_empty() && !names.is_empty() {
        return Err(no_such_cache(&names.join(" "), &problems));
    }
    let mut text = String::from(SLAB_HEADER);
    for c in &chosen {
        text.push_str(&slab_row(c));
    }
    for c in &chosen {
        if let Some(p) = &c.problem {
            text.push_str(&format!("WARNING: {}: {p}\n", c.name));
        }
    }
    for p in &problems {
        text.push_str(&format!("WARNING: {p}\n"));
    }
    Ok(Report::new(
        text,
        serde_json::json!({"caches": chosen, "problems": problems}),
    ))
}

/// A cache name not found — and, when the cache list could not be walked whole, why: the
/// name may be on the part that could not be read.
pub(crate) fn no_such_cache(name: &str, problems: &[String]) -> CmdError {
    if problems.is_empty() {
        CmdError::Usage(format!("kmem: invalid slab cache name: {name}"))
    } else {
        CmdError::Usage(format!(
            "kmem: no slab cache {name} among those read ({})",
            problems.join("; ")
        ))
    }
}

pub const SLAB_HEADER: &str =
    "CACHE             OBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE  NAME\n";

/// One cache line as crash prints it.
pub fn slab_row(c: &kdive_kernel::slab::SlabCache) -> String {
    format!(
        "{:x} {:>8} {:>10} {:>9} {:>6} {:>5}k  {}\n",
        c.addr,
        c.object_size,
        c.allocated,
        c.total,
        c.slabs,
        c.slab_size / 1024,
        c.name
    )
}

/// `kmem ADDRESS`: what the address is — a kernel symbol, an object in a slab cache (and
/// whether it is allocated), a task — and the `struct page` holding it.
fn address(s: &mut Session, arg: &str) -> Result<Report, CmdError> {
    let va = u64::from_str_radix(arg.trim_start_matches("0x"), 16)
        .map_err(|_| CmdError::Usage(format!("kmem: invalid address: {arg}")))?;
    let table = s.tasks.table(&s.kernel)?;
    let k = &s.kernel;
    let mut text = String::new();
    let mut json = serde_json::json!({"address": format!("{va:x}")});
    if let Some((sym, off)) = k
        .symbols
        .lookup_addr(va)
        .filter(|(sym, off)| *off < sym.size.max(1) || (sym.size == 0 && *off < 4096))
    {
        // Of several names for one address (jiffies, jiffies_64), the shortest, as crash shows.
        let sym = k
            .symbols
            .iter()
            .filter(|x| x.addr == sym.addr)
            .min_by_key(|x| (x.name.len(), x.name.to_string()))
            .unwrap_or(sym);
        let name = if off > 0 {
            format!("{}+{off}", sym.name)
        } else {
            sym.name.to_string()
        };
        text.push_str(&format!(
            "{va:x} ({}) {name}\n\n",
            sym.kind.nm_letter(sym.global)
        ));
        json["symbol"] = serde_json::json!(name);
    }
    match k.slab_object(va) {
        Ok(Some(o)) => {
            text.push_str(SLAB_HEADER);
            text.push_str(&slab_row(&o.cache));
            text.push_str(crate::kmemslab::SLAB_HDR);
            crate::kmemslab::slab_line(&mut text, &o.place);
            text.push_str("  FREE / [ALLOCATED]\n");
            if o.object_free {
                text.push_str(&format!("   {:x}\n\n", o.object));
            } else {
                text.push_str(&format!("  [{:x}]\n\n", o.object));
            }
            json["slab"] = serde_json::to_value(&o).unwrap_or_default();
        }
        Ok(None) => {}
        Err(e) => json["slab_error"] = serde_json::json!(e.to_string()),
    }
    let task = table
        .by_addr(va)
        .or_else(|| {
            json["slab"]["object"]
                .as_u64()
                .and_then(|o| table.by_addr(o))
        })
        .cloned();
    if let Some(t) = task {
        text.push_str(&table.context_block(k, &t));
        text.push('\n');
        json["task"] = serde_json::json!({"pid": t.pid, "task": format!("{:x}", t.addr)});
    }
    match k.page_info(va) {
        Ok(p) => {
            text.push_str(&page_table(&p));
            json["page"] = serde_json::to_value(&p).unwrap_or_default();
        }
        Err(e) => {
            text.push_str(&format!("kmem: {va:x}: {e}\n"));
            json["page_error"] = serde_json::json!(e.to_string());
        }
    }
    Ok(Report::new(text, json))
}

/// crash's `struct page` table (`kmem ADDR`, `vtop`): the header and the page's row.
pub fn page_table(p: &kdive_kernel::page::PageInfo) -> String {
    let names = if p.names.is_empty() {
        String::new()
    } else {
        format!(" {}", p.names.join(","))
    };
    format!(
        "      PAGE       PHYSICAL      MAPPING       INDEX CNT FLAGS\n\
         {:x} {:>8x} {:>16x} {:>8x} {:>2} {:x}{names}\n",
        p.page, p.phys, p.mapping, p.index, p.count, p.flags
    )
}

/// Bytes as crash's `kmem -i` shows them: `0`, `256 KB`, `1.8 MB`, `717 MB`, `1.2 GB`.
pub fn size_label(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    if bytes == 0 {
        return "0".into();
    }
    let b = bytes as f64;
    let (v, unit) = if b < KB * KB {
        (b / KB, "KB")
    } else if b < KB * KB * KB {
        (b / (KB * KB), "MB")
    } else {
        (b / (KB * KB * KB), "GB")
    };
    let s = format!("{v:.1}");
    let s = s.strip_suffix(".0").unwrap_or(&s);
    format!("{s} {unit}")
}

pub fn render_meminfo(m: &MemInfo) -> String {
    let ps = m.page_size;
    let mut o = String::from("                 PAGES        TOTAL      PERCENTAGE\n");
    let total_row = |o: &mut String, label: &str, pages: u64| {
        o.push_str(&format!(
            "{label:>13}{pages:>9}{:>13}{:>13}\n",
            size_label(pages.saturating_mul(ps)),
            "----"
        ));
    };
    let pct_row = |o: &mut String, label: &str, pages: u64, of: u64, what: &str| {
        let pct = pages.saturating_mul(100).checked_div(of).unwrap_or(0);
        o.push_str(&format!(
            "{label:>13}{pages:>9}{:>13}{pct:>5}% of TOTAL {what}\n",
            size_label(pages.saturating_mul(ps))
        ));
    };
    total_row(&mut o, "TOTAL MEM", m.total);
    pct_row(&mut o, "FREE", m.free, m.total, "MEM");
    pct_row(
        &mut o,
        "USED",
        m.total.saturating_sub(m.free),
        m.total,
        "MEM",
    );
    pct_row(&mut o, "SHARED", m.shared.unwrap_or(0), m.total, "MEM");
    pct_row(&mut o, "BUFFERS", m.buffers, m.total, "MEM");
    pct_row(&mut o, "CACHED", m.cached, m.total, "MEM");
    pct_row(&mut o, "SLAB", m.slab, m.total, "MEM");
    o.push('\n');
    total_row(&mut o, "TOTAL HUGE", m.huge_total);
    pct_row(&mut o, "HUGE FREE", m.huge_free, m.huge_total, "HUGE");
    o.push('\n');
    total_row(&mut o, "TOTAL SWAP", m.swap_total);
    pct_row(
        &mut o,
        "SWAP USED",
        m.swap_total.saturating_sub(m.swap_free),
        m.swap_total,
        "SWAP",
    );
    pct_row(&mut o, "SWAP FREE", m.swap_free, m.swap_total, "SWAP");
    o.push('\n');
    total_row(&mut o, "COMMIT LIMIT", m.commit_limit);
    pct_row(&mut o, "COMMITTED", m.committed, m.commit_limit, "LIMIT");
    for p in &m.problems {
        o.push_str(&format!("WARNING: {p}\n"));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::size_label;

    #[test]
    fn sizes_like_crash() {
        assert_eq!(size_label(183556 * 4096), "717 MB");
        assert_eq!(size_label(172048 * 4096), "672.1 MB");
        assert_eq!(size_label(64 * 4096), "256 KB");
        assert_eq!(size_label(0), "0");
    }
}
