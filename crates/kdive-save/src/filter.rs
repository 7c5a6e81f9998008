//! Pass one: decides, before any page is copied, which pages the output holds. RAM pages of
//! the source form the 1st bitmap; the 2nd bitmap drops what the dump level excludes (from the
//! kernel's `struct page`s) and what the source cannot provide (excluded, truncated).
//! Zero pages are decided later, while copying: they stay in the 2nd bitmap (kdump format);
//! an ELF output, whose segment table is written first, drops them here in a read-only scan
//! ([`exclude_zero_pages`]).

use std::collections::BTreeMap;

use kdive_dumpfile::ExtentKind;
use kdive_kspace::KernelSpace;

use crate::bitmap::{BitsMut, PfnBitmap};
use crate::level::{DumpLevel, PageClass, PageFields, PageRules};
use crate::memmap::MemMap;
use crate::source::SourceDump;

/// Pages read per `struct page` batch: aligned to the largest buddy block (1024 pages), so a
/// free block never straddles two batches.
const CHUNK: u64 = 1024;

/// Counts of what pass one decided.
#[derive(Debug, Clone, Default)]
pub struct FilterStats {
    /// RAM pages of the source (1st bitmap).
    pub ram: u64,
    /// Excluded, by class.
    pub excluded: BTreeMap<PageClass, u64>,
    /// Pages the source itself had excluded already.
    pub absent_in_source: u64,
    /// Pages the source describes but cannot provide (a truncated file).
    pub unreadable: u64,
    /// Pages whose `struct page` could not be read (kept).
    pub undecided: u64,
    /// Zero pages dropped before copying (`--elf` at a level with bit 1).
    pub zero: u64,
    /// Why filtering by `struct page` was not possible, if it was not.
    pub no_mem_map: Option<String>,
}

pub struct Plan {
    pub ram: PfnBitmap,
    pub keep: PfnBitmap,
    pub stats: FilterStats,
    /// The dump level actually applied (lower when mem_map could not be read).
    pub level: DumpLevel,
}

/// Builds the bitmaps for `level`, reading `struct page`s on `threads` threads.
pub fn plan(src: &SourceDump, ks: Option<&KernelSpace>, level: DumpLevel, threads: usize) -> Plan {
    let ps = src.page_size;
    let mut ram = PfnBitmap::new(src.max_pfn);
    let mut keep = PfnBitmap::new(src.max_pfn);
    let mut stats = FilterStats::default();
    for e in &src.extents {
        let (first, end) = (e.start / ps, e.end.div_ceil(ps));
        ram.set_range(first, end, true);
        if e.kind != ExtentKind::Excluded {
            keep.set_range(first, end, true);
        }
    }
    // A page partly excluded by the source is excluded as a whole; one that cannot be read
    // (past the end of a truncated file) is recorded as absent.
    for e in &src.extents {
        let (first, end) = (e.start / ps, e.end.div_ceil(ps));
        if e.kind == ExtentKind::Excluded {
            keep.set_range(first, end, false);
        }
    }
    let runs: Vec<(u64, u64)> = keep.runs().collect();
    // Whole unreadable stretches at a time: a hostile header can describe terabytes past the
    // end of a truncated file, and a page-by-page walk of them never ends.
    for &(s, e) in &runs {
        let end = e.saturating_mul(ps);
        let mut a = s.saturating_mul(ps);
        while a < end {
            let bad = src.readable_until(a, end);
            if bad >= end {
                break;
            }
            let good = src.unreadable_until(bad, end);
            let (first, last) = (bad / ps, good.div_ceil(ps).max(bad / ps + 1).min(e));
            keep.set_range(first, last, false);
            stats.unreadable += last - first;
            a = last.saturating_mul(ps);
        }
    }
    stats.ram = ram.count();
    stats.absent_in_source = stats.ram - keep.count() - stats.unreadable;

    let mut level = level;
    if level.needs_mem_map() {
        let rules = src
            .dump
            .vmcoreinfo()
            .ok_or_else(|| "the source has no VMCOREINFO".to_string())
            .and_then(PageRules::from_vmcoreinfo);
        let ks = ks.ok_or_else(|| "the kernel's address space could not be set up".to_string());
        let setup = rules.and_then(|r| {
            let ks = ks?;
            let v = src.dump.vmcoreinfo().expect("checked above");
            let mm = MemMap::load(ks, v, src.max_pfn)?;
            Ok((r, ks, mm))
        });
        match setup {
            Ok((rules, ks, mm)) => {
                exclude_by_mem_map(&rules, ks, &mm, level, &mut keep, &mut stats, threads)
            }
            Err(why) => {
                stats.no_mem_map = Some(why);
                level = DumpLevel(level.0 & DumpLevel::ZERO);
            }
        }
    }
    Plan {
        ram,
        keep,
        stats,
        level,
    }
}

/// What one thread's share of the `struct page` scan decided.
#[derive(Default)]
struct ScanCounts {
    excluded: BTreeMap<PageClass, u64>,
    undecided: u64,
}

/// Drops the pages `level` excludes by their `struct page`s. The chunks of kept pages are
/// split into `threads` contiguous stretches, each scanned on its own thread with its own
/// window of `keep` (a large machine's `mem_map` is gigabytes: one thread would hold up the
/// copy).
fn exclude_by_mem_map(
    rules: &PageRules,
    ks: &KernelSpace,
    mm: &MemMap,
    level: DumpLevel,
    keep: &mut PfnBitmap,
    stats: &mut FilterStats,
    threads: usize,
) {
    let chunks: Vec<u64> = {
        let mut v: Vec<u64> = keep
            .runs()
            .flat_map(|(s, e)| (s / CHUNK..e.div_ceil(CHUNK)).map(|c| c * CHUNK))
            .collect();
        v.dedup();
        v
    };
    // Sections are at least CHUNK pages, so a chunk lies in one section.
    debug_assert!(mm.pfns_per_section() >= CHUNK || mm.pfns_per_section() == 0);
    let per_thread = chunks.len().div_ceil(threads.max(1)).max(1);
    let groups: Vec<&[u64]> = chunks.chunks(per_thread).collect();
    // Window g holds group g's pages: it starts at the group's first chunk (CHUNK-aligned).
    let cuts: Vec<u64> = groups.iter().skip(1).map(|g| g[0]).collect();
    let mut windows = keep.windows_mut(&cuts);
    let counts: Vec<ScanCounts> = std::thread::scope(|s| {
        let handles: Vec<_> = groups
            .iter()
            .zip(windows.iter_mut())
            .map(|(group, window)| {
                s.spawn(move || scan_chunks(rules, ks, mm, level, group, window))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    for c in counts {
        stats.undecided += c.undecided;
        for (class, n) in c.excluded {
            *stats.excluded.entry(class).or_default() += n;
        }
    }
}

/// Scans the `struct page`s of `chunks` (CHUNK pages each, cut at the end of `keep`, the
/// window that holds them), clearing in `keep` the pages `level` excludes.
fn scan_chunks(
    rules: &PageRules,
    ks: &KernelSpace,
    mm: &MemMap,
    level: DumpLevel,
    chunks: &[u64],
    keep: &mut BitsMut<'_>,
) -> ScanCounts {
    let size = mm.struct_size() as usize;
    let mut counts = ScanCounts::default();
    let mut buf = Vec::new();
    let mut head_buf = vec![0u8; size];
    for &start in chunks {
        let end = (start + CHUNK).min(keep.end());
        if !mm.read_pages(ks, start, end - start, &mut buf) {
            counts.undecided += (start..end).filter(|p| keep.get(*p)).count() as u64;
            continue;
        }
        let entry = |pfn: u64| rules.fields(&buf[(pfn - start) as usize * size..][..size]);
        let mut pfn = start;
        while pfn < end {
            let own = entry(pfn);
            if let Some(order) = rules.buddy_order(&own) {
                let block_end = (pfn + (1 << order)).min(end);
                if level.excludes(PageClass::Free) {
                    for p in pfn..block_end {
                        if keep.get(p) {
                            keep.clear(p);
                            *counts.excluded.entry(PageClass::Free).or_default() += 1;
                        }
                    }
                }
                pfn = block_end;
                continue;
            }
            if keep.get(pfn) {
                let head = match rules.head_of(&own) {
                    None => own,
                    Some(addr) => match mm.pfn_of(addr, pfn) {
                        Some(h) if (start..end).contains(&h) => entry(h),
                        _ if ks.read(addr, &mut head_buf).is_ok() => rules.fields(&head_buf),
                        _ => PageFields::default(),
                    },
                };
                let class = rules.classify(&own, &head);
                if level.excludes(class) {
                    keep.clear(pfn);
                    *counts.excluded.entry(class).or_default() += 1;
                }
            }
            pfn += 1;
        }
    }
    counts
}

/// Pages read per window of the zero-page scan.
const ZERO_SCAN_PAGES: u64 = 256;

/// Clears the kept pages that hold only zero bytes (dump level bit 1, for an ELF output whose
/// segments must be known before the first page is written); returns how many. A window that
/// cannot be read is left as it is (the copy reports it).
pub fn exclude_zero_pages(src: &SourceDump, plan: &mut Plan) -> u64 {
    let ps = src.page_size;
    let runs: Vec<(u64, u64)> = plan.keep.runs().collect();
    let mut zero = 0;
    for (start, end) in runs {
        let mut pfn = start;
        while pfn < end {
            let n = (end - pfn).min(ZERO_SCAN_PAGES);
            if let Ok(w) = src.read_window(pfn, n) {
                for (i, page) in w.bytes().chunks_exact(ps as usize).enumerate() {
                    if crate::pipeline::is_zero(page) {
                        plan.keep.set(pfn + i as u64, false);
                        zero += 1;
                    }
                }
            }
            pfn += n;
        }
    }
    plan.stats.zero += zero;
    zero
}
