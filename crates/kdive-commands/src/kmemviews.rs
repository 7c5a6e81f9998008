//! `kmem` views of memory layout facts: per-CPU offsets (`-o`), hugetlb hstates (`-h`), the
//! page-flag table (`-g`), memory nodes, sections and blocks (`-n`) and the page descriptors
//! (`-p`), as crash prints them.

use crate::{CmdError, Report, Session};
use kdive_kernel::pageflags::PageFlag;

/// `kmem -o`: `__per_cpu_offset[]` of each CPU up to the highest present one.
pub fn per_cpu_offsets(s: &mut Session) -> Result<Report, CmdError> {
    let w = s.kernel.per_cpu_offsets()?;
    let mut text = String::from("PER-CPU OFFSET VALUES:\n");
    for c in &w.items {
        text.push_str(&format!(
            "{:>7}: {:x}\n",
            format!("CPU {}", c.cpu),
            c.offset
        ));
    }
    warnings(&mut text, &w.problems);
    Ok(Report::new(
        text,
        serde_json::json!({"cpus": w.items, "problems": w.problems}),
    ))
}

fn warnings(text: &mut String, problems: &[String]) {
    for p in problems {
        text.push_str(&format!("WARNING: {p}\n"));
    }
}

/// `kmem -h`: each huge page size in use — its `struct hstate`, size, free and total huge
/// pages, name.
pub fn hstates(s: &mut Session) -> Result<Report, CmdError> {
    let w = s.kernel.hstates()?;
    let mut text = format!(
        "{}   SIZE    FREE   TOTAL  NAME\n",
        crate::report::centre("HSTATE", 16, false)
    );
    for h in &w.items {
        text.push_str(&format!(
            "{:x}  {:>5}  {:>6}  {:>6}  {}\n",
            h.addr,
            compact_size(h.size),
            h.free_huge_pages as i64,
            h.nr_huge_pages as i64,
            h.name
        ));
    }
    warnings(&mut text, &w.problems);
    Ok(Report::new(
        text,
        serde_json::json!({"hstates": w.items, "problems": w.problems}),
    ))
}

/// `kmem -g [FLAGS...]`: the `enum pageflags` bits, aliases included, in declaration order;
/// with FLAGS (hex), only the bits set in each value, under `FLAGS: value`.
pub fn page_flags(s: &mut Session, values: &[String]) -> Result<Report, CmdError> {
    let all = s.kernel.page_flags_enum()?;
    let mut parsed = Vec::new();
    for v in values {
        let n = u64::from_str_radix(v.trim_start_matches("0x").trim_start_matches("0X"), 16)
            .map_err(|_| CmdError::Usage(format!("kmem: invalid flags value: {v}")))?;
        parsed.push(n);
    }
    if parsed.is_empty() {
        parsed.push(0);
    }
    let mut text = String::new();
    let mut json = Vec::new();
    for (i, &flags) in parsed.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        let (t, shown) = page_flag_table(&all, flags);
        text.push_str(&t);
        json.push(serde_json::json!({"flags": flags, "page_flags": shown}));
    }
    let json = if values.is_empty() {
        serde_json::json!({"page_flags": all.iter().filter(|f| f.is_flag()).collect::<Vec<_>>()})
    } else {
        serde_json::Value::Array(json)
    };
    Ok(Report::new(text, json))
}

/// crash's page-flag table: names padded to the longest enumerator's name, values in as
/// many hex digits as the largest bit needs; with `flags` non-zero, only the set bits,
/// indented under `FLAGS: …` (`(none found)` when none is). Returns the rows shown too.
pub fn page_flag_table(all: &[PageFlag], flags: u64) -> (String, Vec<PageFlag>) {
    let longest = all.iter().map(|f| f.name.len()).max().unwrap_or(0);
    let largest = all
        .iter()
        .filter(|f| f.is_flag())
        .map(|f| f.value)
        .fold(0, i64::max);
    let digits = ((largest + 1) / 4 + 1) as usize;
    let indent = if flags != 0 { "  " } else { "" };
    let mut text = String::new();
    if flags != 0 {
        text.push_str(&format!("FLAGS: {flags:x}\n"));
    }
    text.push_str(&format!("{indent}{:<longest$} BIT  VALUE\n", "PAGE-FLAG"));
    let mut shown = Vec::new();
    for f in all.iter().filter(|f| f.is_flag()) {
        let mask = f.mask().unwrap_or(0);
        if flags == 0 || flags & mask != 0 {
            text.push_str(&format!(
                "{indent}{:<longest$}  {:>2}  {mask:0digits$x}\n",
                f.name, f.value
            ));
            shown.push(f.clone());
        }
    }
    if flags != 0 && shown.is_empty() {
        text.push_str("  (none found)\n");
    }
    (text, shown)
}

/// Columns of an address (crash's VADDR_PRLEN on 64-bit machines).
const VADDR_W: usize = 16;
/// Columns of a physical address in the memory-block ranges (crash's PADDR_PRLEN).
const PADDR_W: usize = 8;

/// `kmem -n`: each node with its zones, then (SPARSEMEM) every present memory section and
/// the memory blocks of the `memory` bus.
pub fn memory_nodes(s: &mut Session) -> Result<Report, CmdError> {
    use crate::report::centre;
    let k = &s.kernel;
    let nodes = k.memory_nodes()?;
    let mut text = String::new();
    let mut problems = nodes.problems.clone();
    let zone_hdr = format!(
        "ZONE  NAME         SIZE  {}  START_PADDR  START_MAPNR",
        centre("MEM_MAP", VADDR_W, true)
    );
    let ps = k.page_size();
    for (n, node) in nodes.items.iter().enumerate() {
        if n > 0 {
            text.push('\n');
            text.push_str(&"-".repeat(zone_hdr.len()));
        }
        text.push_str(&format!(
            "{}NODE  {}  {}  {}  {}\n",
            if n > 0 { "\n\n" } else { "" },
            centre("SIZE", 8, false),
            centre("PGLIST_DATA", VADDR_W, false),
            centre("BOOTMEM_DATA", VADDR_W, false),
            centre("NODE_ZONES", VADDR_W, false)
        ));
        let size = centre(&node.spanned_pages.to_string(), 8, false);
        let pgdat = centre(&format!("{:x}", node.pgdat), VADDR_W, false);
        let bdata = match node.bdata {
            Some(b) => centre(&format!("{b:x}"), VADDR_W, false),
            None => centre("----", VADDR_W, false),
        };
        let first_zone = node.zones.first().map_or(0, |z| z.addr);
        text.push_str(&format!(
            " {:>2}   {size}  {pgdat}  {bdata}  {}\n",
            node.id,
            centre(&format!("{first_zone:x}"), VADDR_W, false)
        ));
        let indent = 12 + size.len() + pgdat.len() + bdata.len();
        for z in node.zones.iter().skip(1) {
            text.push_str(&format!("{:indent$}{:x}\n", "", z.addr));
        }
        text.push_str(&format!(
            "{}     START_PADDR    START_MAPNR\n",
            centre("MEM_MAP", VADDR_W, false)
        ));
        text.push_str(&format!(
            "{}  {}  {}\n",
            centre(
                &format!("{:x}", node.mem_map.unwrap_or(u64::MAX)),
                VADDR_W,
                false
            ),
            centre(
                &format!("{:x}", node.start_pfn.wrapping_mul(ps)),
                "   START_PADDR  ".len(),
                true
            ),
            centre(&node.start_pfn.to_string(), "START_MAPNR".len(), true)
        ));
        text.push_str(&format!("\n{zone_hdr}\n"));
        for z in &node.zones {
            let mapnr = if z.spanned_pages == 0 { 0 } else { z.start_pfn };
            text.push_str(&format!(
                " {:>2}   {:<9} {:>7}  {:>VADDR_W$x}  {:>11x}  {:>11}\n",
                z.index,
                z.name.as_deref().unwrap_or("(unknown) "),
                z.spanned_pages,
                z.mem_map,
                z.start_pfn.wrapping_mul(ps),
                mapnr
            ));
        }
    }
    let sections = match k.mem_sections() {
        Ok(w) => Some(w),
        Err(e) => {
            problems.push(format!("memory sections: {e}"));
            None
        }
    };
    let mut section_rows = Vec::new();
    if let Some(w) = &sections {
        problems.extend(w.problems.iter().cloned());
        text.push('\n');
        text.push_str(&"-".repeat(67));
        text.push_str(&format!(
            "\n\nNR  {}  {}  {}  {} PFN\n",
            centre("SECTION", VADDR_W, false),
            centre("CODED_MEM_MAP", VADDR_W, false),
            centre("MEM_MAP", VADDR_W, false),
            "STATE"
        ));
        for sec in &w.items {
            let state = kdive_kernel::sections::SectionBits::letters(sec);
            text.push_str(&format!(
                "{:>2}  {}  {}  {}  {} {:<VADDR_W$}\n",
                sec.nr,
                centre(&format!("{:x}", sec.addr), VADDR_W, false),
                centre(&format!("{:x}", sec.coded_mem_map), VADDR_W, true),
                centre(&format!("{:x}", sec.mem_map), VADDR_W, true),
                centre(&state, 5, false),
                sec.pfn
            ));
            let mut j = serde_json::to_value(sec).unwrap_or_default();
            j["state"] = serde_json::json!(state);
            section_rows.push(j);
        }
    }
    let blocks = if sections.is_some() {
        match k.memory_blocks() {
            Ok(b) => b,
            Err(e) => {
                problems.push(format!("memory blocks: {e}"));
                None
            }
        }
    } else {
        None
    };
    if let Some(w) = &blocks {
        problems.extend(w.problems.iter().cloned());
        text.push_str(&memory_block_table(w));
    }
    warnings(&mut text, &problems);
    Ok(Report::new(
        text,
        serde_json::json!({
            "nodes": nodes.items,
            "sections": section_rows,
            "memory_blocks": blocks.map(|w| w.blocks),
            "problems": problems,
        }),
    ))
}

/// The memory-block table of `kmem -n`, with its leading blank line.
pub fn memory_block_table(w: &kdive_kernel::sections::MemoryBlocks) -> String {
    use crate::report::centre;
    let range_hdr = if w.ranged {
        "PHYSICAL RANGE"
    } else {
        "PHYSICAL START"
    };
    let mut text = if w.has_nid {
        format!(
            "\n{} {}   {}   NODE  {:<7} START_SECTION_NO\n",
            centre("MEM_BLOCK", VADDR_W, false),
            centre("NAME", 10, false),
            centre(range_hdr, PADDR_W * 2 + 2, false),
            "STATE"
        )
    } else {
        format!(
            "\n{} {}   {}    {:<7} START_SECTION_NO\n",
            centre("MEM_BLOCK", VADDR_W, false),
            centre("NAME", 10, false),
            centre(range_hdr, PADDR_W * 2, false),
            "STATE"
        )
    };
    for b in &w.blocks {
        let range = match b.end_phys {
            Some(end) => format!("{:>PADDR_W$x} - {end:>PADDR_W$x}", b.start_phys),
            None => centre(&format!("{:x}", b.start_phys), PADDR_W * 2 + 3, false),
        };
        let state = b.state_name.as_deref().unwrap_or("UNKNOWN");
        match b.nid {
            Some(nid) => text.push_str(&format!(
                " {:<VADDR_W$x} {} {range} {}  {state:<7} {:<12}\n",
                b.addr,
                centre(&b.name, 12, false),
                centre(&nid.to_string(), 4, false),
                b.start_section_nr
            )),
            None => text.push_str(&format!(
                " {:<VADDR_W$x} {} {range}  {state:<7} {:<12}\n",
                b.addr,
                centre(&b.name, 10, false),
                b.start_section_nr
            )),
        }
    }
    text
}

/// A size as crash's `kmem -h` shows it: `2MB`, `1GB`, `1.5GB`, `64KB` (one decimal above a
/// megabyte, dropped when it is `.0`; whole kilobytes below).
pub fn compact_size(bytes: u64) -> String {
    const KB: u64 = 1024;
    let b = bytes as f64;
    let s = if bytes == 0 {
        "0".to_string()
    } else if bytes >= KB * KB * KB {
        format!("{:.1}GB", b / (KB * KB * KB) as f64)
    } else if bytes >= KB * KB {
        format!("{:.1}MB", b / (KB * KB) as f64)
    } else {
        format!("{}KB", bytes / KB)
    };
    s.replacen(".0", "", 1)
}

/// crash's `kmem -p` header.
const PAGE_HEADER: &str = "      PAGE       PHYSICAL      MAPPING       INDEX CNT FLAGS\n";

/// `kmem -p [ADDRESS...]`: every page descriptor of every present section, or those of the
/// named pages (a `struct page`, a kernel virtual address, or a physical address), with the
/// kernel's own flag names (`pageflag_names[]`).
pub fn page_descriptors(s: &mut Session, args: &[String]) -> Result<Report, CmdError> {
    let k = &s.kernel;
    let names = k.pageflag_names()?;
    let row_text = |r: &kdive_kernel::pagemap::PageRow| -> String {
        let Some(f) = r.fields else {
            // crash's blank columns for a `struct page` the dump does not hold
            return format!(
                "{:<16x} {:>8x} {:16} {:8}    (struct page unreadable)\n",
                r.page, r.phys, "", ""
            );
        };
        let mut flags = format!("{:x}", f.flags);
        if f.flags != 0 {
            let set: Vec<&str> = names
                .iter()
                .filter(|(mask, _)| f.flags & mask != 0)
                .map(|(_, n)| n.as_str())
                .collect();
            if !set.is_empty() {
                flags = format!("{flags} {}", set.join(","));
            }
        }
        format!(
            "{:<16x} {:>8x} {:>16x} {:>8x} {:>2} {flags}\n",
            r.page, r.phys, f.mapping, f.index, f.count
        )
    };
    let mut text = String::new();
    let mut rows = Vec::new();
    if args.is_empty() {
        text.push_str(PAGE_HEADER);
        let walk = k.for_each_page(|r| {
            text.push_str(&row_text(&r));
            rows.push(r);
            true
        })?;
        for p in &walk.problems {
            text.push_str(&format!("WARNING: {p}\n"));
        }
        return Ok(Report::new(
            text,
            serde_json::json!({"columns": PAGE_COLUMNS, "pages": page_rows_json(&rows),
                "problems": walk.problems}),
        ));
    }
    let ps = k.page_size();
    let page_size = k.layout.struct_size("page")?.max(1);
    let vmemmap = k.mem.layout().vmemmap_base.value;
    let mut errors = Vec::new();
    for a in args {
        let v = u64::from_str_radix(a.trim_start_matches("0x"), 16)
            .map_err(|_| CmdError::Usage(format!("kmem -p: invalid address: {a}")))?;
        // A `struct page` of a present section, else a kernel virtual address, else physical.
        let as_page = (v >= vmemmap && (v - vmemmap) % page_size == 0)
            .then(|| k.page_to_phys(v).ok())
            .flatten()
            .filter(|&phys| k.pfn_to_page_sparse(phys / ps).ok().flatten() == Some(v));
        let phys = match as_page {
            Some(p) => p,
            None if v >= 0xffff_8000_0000_0000 => match k.mem.vtop(v) {
                Ok(p) => p,
                Err(e) => {
                    errors.push(format!("kmem -p: {a}: {e}"));
                    continue;
                }
            },
            None => v,
        };
        let pfn = phys / ps;
        // As crash: an address outside every present section prints nothing.
        if let Some(page) = k.pfn_to_page_sparse(pfn)? {
            if text.is_empty() {
                text.push_str(PAGE_HEADER);
            }
            let r = k.page_row(page, pfn * ps);
            text.push_str(&row_text(&r));
            rows.push(r);
        }
    }
    Ok(Report::new(
        text,
        serde_json::json!({"columns": PAGE_COLUMNS, "pages": page_rows_json(&rows)}),
    )
    .with_errors(errors))
}

/// What each `kmem -p` JSON row holds (null fields: a `struct page` not in the dump).
const PAGE_COLUMNS: [&str; 6] = ["page", "phys", "mapping", "index", "count", "flags"];

/// Rows as compact arrays: a full listing has one per page of RAM.
fn page_rows_json(rows: &[kdive_kernel::pagemap::PageRow]) -> serde_json::Value {
    rows.iter()
        .map(|r| match r.fields {
            Some(f) => serde_json::json!([r.page, r.phys, f.mapping, f.index, f.count, f.flags]),
            None => serde_json::json!([r.page, r.phys, null, null, null, null]),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_crash_hstates() {
        assert_eq!(compact_size(2 << 20), "2MB");
        assert_eq!(compact_size(1 << 30), "1GB");
        assert_eq!(compact_size(3 << 29), "1.5GB");
        assert_eq!(compact_size(64 << 10), "64KB");
        assert_eq!(compact_size(0), "0");
    }

    fn flag(name: &str, value: i64) -> PageFlag {
        PageFlag {
            name: name.into(),
            value,
        }
    }

    #[test]
    fn page_flag_table_like_crash() {
        let all = [
            flag("PG_locked", 0),
            flag("PG_slab", 9),
            flag("PG_arch_2", 23),
            flag("__NR_PAGEFLAGS", 24),
            flag("PG_checked", 9),
            flag("PG_vmemmap_self_hosted", 9),
        ];
        let (text, shown) = page_flag_table(&all, 0);
        assert_eq!(shown.len(), 5);
        assert_eq!(
            text,
            "PAGE-FLAG              BIT  VALUE\n\
             PG_locked                0  0000001\n\
             PG_slab                  9  0000200\n\
             PG_arch_2               23  0800000\n\
             PG_checked               9  0000200\n\
             PG_vmemmap_self_hosted   9  0000200\n"
        );
        let (text, shown) = page_flag_table(&all, 0x201);
        assert_eq!(shown.len(), 4);
        assert!(text.starts_with("FLAGS: 201\n  PAGE-FLAG "), "{text}");
        let (text, _) = page_flag_table(&all[..2], 0x4);
        assert_eq!(text, "FLAGS: 4\n  PAGE-FLAG BIT  VALUE\n  (none found)\n");
    }
}
