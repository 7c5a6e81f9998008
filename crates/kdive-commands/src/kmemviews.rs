//! `kmem` views of memory layout facts: per-CPU offsets (`-o`), hugetlb hstates (`-h`), the
//! page-flag table (`-g`) and memory nodes, sections and blocks (`-n`), as crash prints them.

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
