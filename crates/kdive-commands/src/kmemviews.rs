//! `kmem` views of memory layout facts: per-CPU offsets (`-o`), hugetlb hstates (`-h`), the
//! page-flag table (`-g`) and memory nodes, sections and blocks (`-n`), as crash prints them.

use crate::{CmdError, Report, Session};

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
}
