//! `kmem -z` (each zone's sizes, watermarks and VM_STAT counters) and `kmem -f` / `-F` (the
//! buddy free lists per zone, order and migrate type), laid out as crash prints them.

use crate::report::centre;
use crate::{CmdError, Report, Session};
use kdive_kernel::zones::{FreeList, Zone};

/// `kmem -z`.
pub fn zone_stats(s: &mut Session) -> Result<Report, CmdError> {
    let zones = s.kernel.zones()?;
    Ok(Report::new(
        render_zone_stats(&zones),
        serde_json::json!({ "zones": zones }),
    ))
}

/// One block per zone: `NODE/ZONE/ADDR/NAME`, then `[unpopulated]` or SIZE (PRESENT when
/// smaller), MIN/LOW/HIGH and the zone's `vm_stat` counters, names right-aligned to the
/// longest.
pub fn render_zone_stats(zones: &[Zone]) -> String {
    let mut o = String::new();
    for z in zones {
        o.push_str(&format!(
            "NODE: {}  ZONE: {}  ADDR: {:x}  NAME: \"{}\"\n",
            z.node, z.index, z.addr, z.name
        ));
        if z.spanned_pages == 0 {
            o.push_str("  [unpopulated]\n\n");
            continue;
        }
        o.push_str(&format!("  SIZE: {}", z.spanned_pages));
        if z.present_pages < z.spanned_pages {
            o.push_str(&format!("  PRESENT: {}", z.present_pages));
        }
        o.push_str(&format!("  MIN/LOW/HIGH: {}/{}/{}", z.min, z.low, z.high));
        o.push_str("\n  VM_STAT:\n");
        let w = z.vm_stat.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        for (n, v) in &z.vm_stat {
            o.push_str(&format!("{n:>w$}: {v}\n"));
        }
        o.push_str("\n\n");
    }
    o
}

/// `kmem -f` (`verbose`: `-F`, every free block's `struct page`).
pub fn free_pages(s: &mut Session, verbose: bool) -> Result<Report, CmdError> {
    let zones = s.kernel.zones()?;
    let mut walked = Vec::with_capacity(zones.len());
    for z in zones {
        // crash walks a zone's lists only when its NR_FREE_PAGES is not zero.
        let lists = if z.free_pages != 0 {
            Some(s.kernel.free_lists(&z)?)
        } else {
            None
        };
        walked.push((z, lists));
    }
    let page_size = s.kernel.page_size();
    let text = render_free(&walked, page_size, verbose);
    let (sum, found) = totals(&walked);
    let json_zones: Vec<_> = walked
        .iter()
        .map(|(z, lists)| {
            let mut v = serde_json::to_value(z).unwrap_or_default();
            v["free_lists"] = lists
                .iter()
                .flatten()
                .map(|l| {
                    let mut j = serde_json::json!({
                        "order": l.order,
                        "migratetype": l.migratetype,
                        "migratetype_name": l.migratetype_name,
                        "head": l.head,
                        "blocks": l.blocks.len(),
                        "pages": (l.blocks.len() as u64) << l.order,
                        "problem": l.problem,
                    });
                    if verbose {
                        j["block_pages"] = serde_json::json!(l.blocks);
                    }
                    j
                })
                .collect();
            v
        })
        .collect();
    Ok(Report::new(
        text,
        serde_json::json!({
            "zones": json_zones,
            "nr_free_pages": sum,
            "found": found,
            "verified": u64::try_from(sum).ok() == Some(found),
        }),
    ))
}

/// The zones' summed NR_FREE_PAGES and the pages found on their free lists.
fn totals(walked: &[(Zone, Option<Vec<FreeList>>)]) -> (i64, u64) {
    let sum = walked.iter().map(|(z, _)| z.free_pages).sum();
    let found = walked
        .iter()
        .flat_map(|(_, l)| l.iter().flatten())
        .map(|l| (l.blocks.len() as u64) << l.order.min(63))
        .sum();
    (sum, found)
}

/// crash's free-area report: per zone a summary line, then (for zones with free pages) one
/// row per free list — order, block size, `list_head` address and, without `verbose`, the
/// blocks and pages on it; with `verbose` a header per list and each block's page.
pub fn render_free(
    walked: &[(Zone, Option<Vec<FreeList>>)],
    page_size: u64,
    verbose: bool,
) -> String {
    let many_nodes = walked.iter().any(|(z, _)| z.node > 0);
    let mut o = String::new();
    let mut problems = Vec::new();
    for (z, lists) in walked {
        if many_nodes && z.index == 0 {
            if z.node > 0 {
                o.push_str(&format!("\n{}\n", "-".repeat(74)));
            }
            let lead = if z.node > 0 { "\n" } else { "" };
            o.push_str(&format!("{lead}NODE\n {:2}\n", z.node));
        }
        if z.index > 0 {
            o.push('\n');
        }
        o.push_str(&zone_lines(z, page_size));
        let Some(lists) = lists else { continue };
        if !verbose {
            o.push_str("AREA    SIZE  FREE_AREA_STRUCT  BLOCKS  PAGES\n");
        }
        for l in lists {
            if verbose {
                o.push_str("AREA    SIZE  FREE_AREA_STRUCT\n");
            }
            o.push_str(&area_line(l, page_size));
            if verbose {
                o.push('\n');
                for b in &l.blocks {
                    o.push_str(&format!("{b:x}\n"));
                }
            } else {
                let n = l.blocks.len() as u64;
                o.push_str(&format!("{n:>6} {:>6}\n", n << l.order.min(63)));
            }
            problems.extend(l.problem.clone());
        }
    }
    let (sum, found) = totals(walked);
    o.push_str(&format!("\nnr_free_pages: {sum}  "));
    if u64::try_from(sum).ok() == Some(found) {
        o.push_str("(verified)\n");
    } else {
        o.push_str(&format!("(found {found})\n"));
    }
    for p in problems {
        o.push_str(&format!("WARNING: {p}\n"));
    }
    o
}

/// A zone's header and summary line.
fn zone_lines(z: &Zone, page_size: u64) -> String {
    format!(
        "ZONE  NAME        SIZE    FREE  {}  START_PADDR  START_MAPNR\n{:>3}   {:<9} {:>6}  {:>6}  {}  {}  {}\n",
        centre("MEM_MAP", 16, false),
        z.index,
        z.name,
        z.spanned_pages,
        z.free_pages,
        centre(&format!("{:x}", z.mem_map), 16, false),
        centre(
            &format!("{:x}", z.start_pfn.wrapping_mul(page_size)),
            11,
            true
        ),
        centre(&z.start_mapnr.to_string(), 11, true),
    )
}

/// A free list's order, block size and `list_head` (the start of its row).
fn area_line(l: &FreeList, page_size: u64) -> String {
    let size = format!(
        "{}k",
        (page_size << l.order.min(63))
            .checked_div(1024)
            .unwrap_or(0)
    );
    format!(
        "{:>3}  {size:>7}  {}  ",
        l.order,
        centre(&format!("{:x}", l.head), 16, false)
    )
}

/// `kmem -f ADDRESS`: the free block holding ADDRESS (a `struct page`, a kernel virtual or a
/// physical address), with its zone and free list, and which of the block's pages it is.
pub fn free_block_of(s: &mut Session, arg: &str) -> Result<Report, CmdError> {
    let addr = u64::from_str_radix(arg.strip_prefix("0x").unwrap_or(arg), 16)
        .map_err(|_| CmdError::Usage(format!("kmem -f: invalid address: {arg}")))?;
    let k = &s.kernel;
    let page_size = k.page_size();
    let vmemmap = k.mem.layout().vmemmap_base.value;
    // struct pages live in the vmemmap (64 TiB of it at most); other kernel addresses are
    // translated; anything below the kernel's half is physical.
    let pa = if vmemmap != 0 && addr >= vmemmap && addr - vmemmap < 1 << 46 {
        k.page_to_phys(addr)?
    } else if addr >= 0xffff_8000_0000_0000 {
        k.mem.vtop(addr).map_err(kdive_kernel::Error::from)?
    } else {
        addr
    };
    let pfn = pa / page_size.max(1);
    for z in k.zones()? {
        if z.free_pages == 0 {
            continue;
        }
        for l in k.free_lists(&z)? {
            let n = 1u64 << l.order.min(63);
            for &b in &l.blocks {
                let start = k.page_to_phys(b)? / page_size.max(1);
                if (start..start.saturating_add(n)).contains(&pfn) {
                    let text = format!(
                        "{}AREA    SIZE  FREE_AREA_STRUCT\n{}\n{b:x}  ({arg} is {} of {n} pages)\n",
                        zone_lines(&z, page_size),
                        area_line(&l, page_size),
                        ordinal(pfn - start + 1),
                    );
                    let json = serde_json::json!({
                        "address": addr, "found": true, "zone": z.name, "node": z.node,
                        "order": l.order, "migratetype": l.migratetype, "free_area": l.head,
                        "block": b, "block_phys": start * page_size, "page_index": pfn - start,
                        "pages": n,
                    });
                    return Ok(Report::new(text, json));
                }
            }
        }
    }
    Ok(Report::new(
        format!("{arg}: not in a free block on any zone's free lists\n"),
        serde_json::json!({"address": addr, "found": false}),
    ))
}

/// 1st, 2nd, 3rd, 4th, 11th, 21st...
fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn ordinals_read_as_english() {
        let o: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 32, 111]
            .map(super::ordinal)
            .into();
        assert_eq!(
            o,
            ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "32nd", "111th"]
        );
    }

    use super::*;

    fn zone(index: usize, spanned: u64, free: i64) -> Zone {
        Zone {
            node: 0,
            index,
            addr: 0xffff8c3fbf142000 + index as u64 * 0x600,
            name: if index == 0 { "DMA" } else { "Normal" }.into(),
            spanned_pages: spanned,
            present_pages: spanned.saturating_sub(97),
            min: 190,
            low: 237,
            high: 284,
            free_pages: free,
            vm_stat: vec![
                ("NR_FREE_PAGES".into(), free),
                ("NR_ZONE_INACTIVE_ANON".into(), 0),
            ],
            start_pfn: if spanned == 0 { 0 } else { 1 },
            mem_map: if spanned == 0 { 0 } else { 0xfffff2a100000040 },
            start_mapnr: 0,
        }
    }

    #[test]
    fn zone_stats_like_crash() {
        let t = render_zone_stats(&[zone(0, 4095, 3808), zone(2, 0, 0)]);
        assert_eq!(
            t,
            "NODE: 0  ZONE: 0  ADDR: ffff8c3fbf142000  NAME: \"DMA\"\n\
             \x20 SIZE: 4095  PRESENT: 3998  MIN/LOW/HIGH: 190/237/284\n\
             \x20 VM_STAT:\n\
             \x20       NR_FREE_PAGES: 3808\n\
             NR_ZONE_INACTIVE_ANON: 0\n\n\n\
             NODE: 0  ZONE: 2  ADDR: ffff8c3fbf142c00  NAME: \"Normal\"\n\
             \x20 [unpopulated]\n\n"
        );
    }

    #[test]
    fn free_areas_like_crash() {
        let lists = vec![
            FreeList {
                order: 0,
                migratetype: 0,
                migratetype_name: None,
                head: 0xffff8c3fbf142100,
                blocks: vec![],
                problem: None,
            },
            FreeList {
                order: 10,
                migratetype: 1,
                migratetype_name: None,
                head: 0xffff8c3fbf142480,
                blocks: vec![0xfffff2a100010000, 0xfffff2a100020000],
                problem: None,
            },
        ];
        let walked = vec![(zone(0, 4095, 2048), Some(lists)), (zone(2, 0, 0), None)];
        let t = render_free(&walked, 4096, false);
        assert_eq!(
            t,
            "ZONE  NAME        SIZE    FREE      MEM_MAP       START_PADDR  START_MAPNR\n\
             \x20 0   DMA         4095    2048  fffff2a100000040      1000          0     \n\
             AREA    SIZE  FREE_AREA_STRUCT  BLOCKS  PAGES\n\
             \x20 0       4k  ffff8c3fbf142100       0      0\n\
             \x2010    4096k  ffff8c3fbf142480       2   2048\n\
             \n\
             ZONE  NAME        SIZE    FREE      MEM_MAP       START_PADDR  START_MAPNR\n\
             \x20 2   Normal         0       0         0               0            0     \n\
             \n\
             nr_free_pages: 2048  (verified)\n"
        );
        let v = render_free(&walked, 4096, true);
        assert!(v.contains(
            "AREA    SIZE  FREE_AREA_STRUCT\n 10    4096k  ffff8c3fbf142480  \n\
             fffff2a100010000\nfffff2a100020000\n"
        ));
    }

    #[test]
    fn unverified_total_and_broken_list_are_reported() {
        let lists = vec![FreeList {
            order: 1,
            migratetype: 0,
            migratetype_name: None,
            head: 0x1000,
            blocks: vec![0x2000],
            problem: Some("free_area[1].free_list[0] at 1000: loops".into()),
        }];
        let t = render_free(&[(zone(0, 10, 5), Some(lists))], 4096, false);
        assert!(t.ends_with(
            "nr_free_pages: 5  (found 2)\nWARNING: free_area[1].free_list[0] at 1000: loops\n"
        ));
    }
}
