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
