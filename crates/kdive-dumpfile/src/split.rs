//! `makedumpfile --split` sets: several kdump-compressed files, each with `split = 1` and its own
//! `[start_pfn_64, end_pfn_64)`. A set opens only when its parts agree and cover every PFN.

use crate::error::{Error, Result};
use crate::kdump::KdumpFile;

/// Sorts `parts` by PFN range and checks that they agree on page size and `max_pfn`, do not
/// overlap (empty parts are ignored), and leave no PFN uncovered (naming the first missing range). `parts` is non-empty.
pub(crate) fn check_parts(parts: &mut [KdumpFile]) -> Result<()> {
    parts.sort_by_key(|p| (p.start_pfn, p.end_pfn));
    let first = &parts[0];
    let (page_size, max_pfn) = (first.hdr.block_size, first.max_pfn());
    for p in &parts[1..] {
        if p.hdr.block_size != page_size || p.max_pfn() != max_pfn {
            return Err(p.src.corrupt(
                "kdump header",
                0,
                format!(
                    "split part disagrees with {}: block size {} vs {page_size}, max_pfn {:#x} vs {max_pfn:#x}",
                    first.src.path().display(),
                    p.hdr.block_size,
                    p.max_pfn()
                ),
            ));
        }
    }
    let mut covered = 0u64;
    for p in parts.iter().filter(|p| p.start_pfn < p.end_pfn) {
        if p.start_pfn > covered {
            return Err(missing(parts, covered, p.start_pfn));
        }
        if p.start_pfn < covered {
            return Err(p.src.corrupt(
                "kdump sub-header start_pfn",
                p.hdr.block_size,
                format!(
                    "split part [{:#x}, {:#x}) overlaps another part",
                    p.start_pfn, p.end_pfn
                ),
            ));
        }
        covered = p.end_pfn;
    }
    if covered < max_pfn {
        return Err(missing(parts, covered, max_pfn));
    }
    Ok(())
}

fn missing(parts: &[KdumpFile], start: u64, end: u64) -> Error {
    Error::SplitIncomplete {
        path: parts[0].src.path().to_path_buf(),
        start_pfn: start,
        end_pfn: end,
        given: parts.len(),
    }
}
