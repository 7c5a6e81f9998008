//! `vm [-p] [PID|TASK|COMMAND]...`: a task's address space as crash prints it — the
//! `mm_struct`, its page table, RSS and total size, then every VMA with its range, flags and
//! file; with `-p` each VMA's pages: physical address, swap area and slot, file offset, or
//! not mapped.

use crate::context::TaskTable;
use crate::report::centre;
use crate::{CmdError, Report, Session};
use kdive_kernel::taskmem::MmReader;
use kdive_kernel::usermem::{UserPage, UserSpace};
use kdive_kernel::vma::Vma;
use kdive_kernel::Kernel;
use serde_json::json;

pub const USAGE: &str = "vm [-p] [PID|TASK|COMMAND]...";

/// crash's VMA table header.
pub const VMA_HEADER: &str = "      VMA           START       END     FLAGS FILE";

/// One VMA row: address, start and end right-aligned in 10, flags, file.
pub fn vma_line(v: &Vma) -> String {
    format!(
        "{:<16x} {:>10x} {:>10x} {:>6x} {}",
        v.addr,
        v.start,
        v.end,
        v.flags,
        v.file.as_deref().unwrap_or("")
    )
}

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let mut pages = false;
    let mut names = Vec::new();
    for a in args {
        match a.as_str() {
            "-p" => pages = true,
            o if o.starts_with('-') => {
                return Err(CmdError::Usage(format!(
                    "vm: option {o} is not supported\n{USAGE}"
                )))
            }
            _ => names.push(a.clone()),
        }
    }
    let targets = crate::pertask::targets(s, "vm", &names)?;
    let tasks = targets.tasks;
    let table = s.tasks.table(&s.kernel)?;
    let k = &s.kernel;
    let reader = MmReader::new(k);
    let mut text = String::new();
    let mut json = Vec::new();
    for t in &tasks {
        text.push_str(&table.header_line(t));
        text.push('\n');
        let (block, j) = address_space(k, &table, reader.as_ref().ok(), t.mm, pages)?;
        text.push_str(&block);
        json.push(json!({"pid": t.pid, "task": format!("{:x}", t.addr), "comm": t.comm, "mm": j}));
    }
    Ok(Report::new(text, json!(json)).with_errors(targets.errors))
}

/// The MM line and the VMA table of `mm` (0: a kernel thread, zeros and no VMAs).
fn address_space(
    k: &Kernel,
    table: &TaskTable,
    reader: Option<&MmReader>,
    mm: u64,
    pages: bool,
) -> Result<(String, serde_json::Value), CmdError> {
    let mut text = format!(
        "{}  {}  {}  {}\n",
        centre("MM", 16, false),
        centre("PGD", 16, false),
        centre("RSS", 6, false),
        centre("TOTAL_VM", 8, false)
    );
    if mm == 0 {
        text.push_str(&format!(
            "{}  {}  {}  {}\n",
            centre("0", 16, false),
            centre("0", 16, false),
            centre("0k", 6, false),
            centre("0k", 8, false)
        ));
        return Ok((text, serde_json::Value::Null));
    }
    let pgd = crate::vtop::mm_pgd(k, mm)?;
    let threads: Vec<u64> = table
        .tasks
        .iter()
        .filter(|t| t.mm == mm)
        .map(|t| t.addr)
        .collect();
    let page_kb = k.page_size() / 1024;
    let usage = reader.map(|r| r.usage(k, mm, &threads));
    let (rss, total) = match &usage {
        Some(Ok(u)) => (
            format!("{}k", u.rss * page_kb),
            format!("{}k", u.total_vm * page_kb),
        ),
        _ => ("?".into(), "?".into()),
    };
    text.push_str(&format!(
        "{}  {}  {}  {}\n",
        centre(&format!("{mm:x}"), 16, false),
        centre(&format!("{pgd:x}"), 16, false),
        centre(&rss, 6, false),
        centre(&total, 8, false)
    ));
    let list = k.vmas(mm)?;
    let mut page_json = Vec::new();
    if pages {
        let space = k.user_space(mm)?;
        for v in &list.vmas {
            text.push_str(&format!("{VMA_HEADER}\n{}\n", vma_line(v)));
            let (block, j) = vma_pages(k, space, v);
            text.push_str(&block);
            page_json.push(j);
        }
    } else {
        text.push_str(VMA_HEADER);
        text.push('\n');
        for v in &list.vmas {
            text.push_str(&vma_line(v));
            text.push('\n');
        }
    }
    let mut problems = list.problems.clone();
    if let Some(Err(e)) = &usage {
        problems.push(format!("RSS and TOTAL_VM: {e}"));
    }
    for p in &problems {
        text.push_str(&format!("WARNING: {p}\n"));
    }
    let j = json!({
        "mm": mm,
        "pgd": pgd,
        "rss_kb": usage.as_ref().and_then(|u| u.as_ref().ok()).map(|u| u.rss * page_kb),
        "total_vm_kb": usage.as_ref().and_then(|u| u.as_ref().ok()).map(|u| u.total_vm * page_kb),
        "vmas": list.vmas,
        "pages": pages.then_some(page_json),
        "problems": problems,
    });
    Ok((text, j))
}

/// `vm -p`'s block for one VMA: each page's physical address, or its swap area and slot, or
/// (in a file mapping) its file and offset, or `(not mapped)` — crash's columns.
fn vma_pages(k: &Kernel, space: UserSpace, v: &Vma) -> (String, serde_json::Value) {
    let ps = k.page_size();
    let mut text = format!("{:<10}  {:<8}\n", "VIRTUAL", "PHYSICAL");
    let mut rows = Vec::new();
    let mut va = v.start;
    while va < v.end {
        let page = k.user_page(space, va);
        let what = match page {
            UserPage::Present(pa) => format!("{pa:>8x}"),
            UserPage::Swapped { kind, offset } => format!(
                "SWAP: {}  OFFSET: {offset}",
                k.swap_device_path(kind)
                    .unwrap_or_else(|| format!("(swap type {kind})"))
            ),
            UserPage::Absent => match &v.file {
                Some(f) => format!(
                    "FILE: {f}  OFFSET: {:x}",
                    v.pgoff.wrapping_mul(ps).wrapping_add(va - v.start)
                ),
                None => "(not mapped)".to_string(),
            },
        };
        text.push_str(&format!("{va:<10x}  {what}\n"));
        rows.push(json!({"virtual": va, "page": page}));
        va = match va.checked_add(ps) {
            Some(n) => n,
            None => break,
        };
    }
    (text, json!({"vma": v.addr, "pages": rows}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_line_up_as_crashs() {
        let v = Vma {
            addr: 0xffff8c3f8272d980,
            start: 0x400000,
            end: 0x401000,
            flags: 0x8000071,
            file: Some("/bin/busybox".into()),
            inode: 0,
            pgoff: 0,
        };
        assert_eq!(
            vma_line(&v),
            "ffff8c3f8272d980     400000     401000 8000071 /bin/busybox"
        );
        let anon = Vma {
            file: None,
            flags: 0x100173,
            ..v
        };
        assert!(vma_line(&anon).ends_with(" 100173 "));
        let head = format!(
            "{}  {}  {}  {}",
            centre("MM", 16, false),
            centre("PGD", 16, false),
            centre("RSS", 6, false),
            centre("TOTAL_VM", 8, false)
        );
        assert_eq!(head, "       MM               PGD          RSS    TOTAL_VM");
        assert_eq!(
            format!(
                "{}  {}",
                centre("1040k", 6, false),
                centre("2260k", 8, false)
            ),
            "1040k    2260k  "
        );
    }
}
