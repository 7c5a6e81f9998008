//! `vtop [-c PID|TASK] [-u|-k] ADDR...` and `ptov PHYS...`: an address's translation as crash
//! prints it — every page-table entry the walk read, the leaf entry's flags and the `struct
//! page` — for kernel addresses and, through a task's `mm->pgd`, user addresses.

use crate::report::centre;
use crate::{CmdError, Report, Session};
use kdive_kernel::{AddrExt, Kernel};
use kdive_kspace::{Error as SpaceError, WalkTrace};
use serde_json::json;

pub const VTOP_USAGE: &str = "vtop [-c PID|TASK] [-u|-k] ADDRESS...";
pub const PTOV_USAGE: &str = "ptov PHYSICAL...";

/// Lowest kernel address: kernels take the upper half of the address space.
const KERNEL_HALF: u64 = 1 << 63;

/// The page tables a user address is translated with: the task's and its `mm->pgd`.
struct UserTables {
    pid: i32,
    comm: String,
    /// `mm->pgd`: virtual and physical.
    pgd: Option<(u64, u64)>,
    /// The task's VMAs (crash shows the one holding the address, and calls an address in
    /// none of them not accessible).
    vmas: Vec<kdive_kernel::vma::Vma>,
}

pub fn run_vtop(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let mut task_arg = None;
    let mut force = None;
    let mut addrs = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-c" => {
                task_arg = Some(
                    it.next()
                        .ok_or_else(|| {
                            CmdError::Usage(format!("vtop: -c needs a task\n{VTOP_USAGE}"))
                        })?
                        .clone(),
                )
            }
            "-u" => force = Some(true),
            "-k" => force = Some(false),
            _ if a.starts_with('-') => {
                return Err(CmdError::Usage(format!(
                    "vtop: invalid option {a}\n{VTOP_USAGE}"
                )))
            }
            _ => addrs.push(parse_hex(a, "vtop")?),
        }
    }
    if addrs.is_empty() {
        return Err(CmdError::Usage(VTOP_USAGE.into()));
    }
    let needs_user = addrs.iter().any(|&a| force.unwrap_or(a < KERNEL_HALF));
    let user = if needs_user {
        let task = match &task_arg {
            Some(t) => {
                let table = s.tasks.table(&s.kernel)?;
                let found = table.select(t)?;
                found[0].clone()
            }
            None => s.tasks.current_task(&s.kernel, s.current_task)?,
        };
        Some(UserTables {
            pid: task.pid,
            comm: task.comm.clone(),
            pgd: (task.mm != 0)
                .then(|| user_pgd(&s.kernel, task.mm))
                .transpose()?,
            vmas: match task.mm {
                0 => Vec::new(),
                mm => s.kernel.vmas(mm)?.vmas,
            },
        })
    } else {
        None
    };
    let k = &s.kernel;
    let mut blocks = Vec::new();
    let mut json = Vec::new();
    for &va in &addrs {
        let is_user = force.unwrap_or(va < KERNEL_HALF);
        let (text, j) = if is_user {
            let u = user
                .as_ref()
                .ok_or_else(|| CmdError::Usage("vtop: no task".into()))?;
            let vma = u.vmas.iter().find(|v| v.start <= va && va < v.end);
            match (u.pgd, vma) {
                (Some(pgd), Some(vma)) => translate(k, va, Some((pgd, vma))),
                (Some(_), None) => (
                    format!("{}  (not accessible)\n\n", row_header(va, true)),
                    json!({"virtual": va, "error": "in no VMA of the task"}),
                ),
                (None, _) => (
                    format!(
                        "{}  (not accessible: pid {} \"{}\" has no user address space)\n",
                        row_header(va, true),
                        u.pid,
                        u.comm
                    ),
                    json!({"virtual": va, "error": "task has no mm"}),
                ),
            }
        } else {
            translate(k, va, None)
        };
        blocks.push(text);
        json.push(j);
    }
    Ok(Report::new(blocks.join("\n"), json!(json)))
}

pub fn run_ptov(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    if args.is_empty() {
        return Err(CmdError::Usage(PTOV_USAGE.into()));
    }
    let mut text = String::new();
    let mut json = Vec::new();
    for a in args {
        let pa = parse_hex(a, "ptov")?;
        let va = s.kernel.mem.ptov(pa).map_err(kdive_kernel::Error::from)?;
        text.push_str(&format!(
            "{:<16}  {:<16}\n{va:<16x}  {pa:<16x}\n",
            "VIRTUAL", "PHYSICAL"
        ));
        json.push(json!({"virtual": va, "physical": pa}));
    }
    Ok(Report::new(text, json!(json)))
}

/// A hexadecimal address, with or without `0x`.
fn parse_hex(a: &str, cmd: &str) -> Result<u64, CmdError> {
    u64::from_str_radix(a.strip_prefix("0x").unwrap_or(a), 16)
        .map_err(|_| CmdError::Usage(format!("{cmd}: invalid address: {a}")))
}

/// `mm->pgd`: the virtual address of an address space's top-level page table.
pub(crate) fn mm_pgd(k: &Kernel, mm: u64) -> Result<u64, CmdError> {
    let off = k.layout.offset("mm_struct", "pgd")?;
    Ok(k.read_u64(mm.off(off), "mm_struct.pgd")?)
}

/// `mm->pgd`, virtual and physical.
fn user_pgd(k: &Kernel, mm: u64) -> Result<(u64, u64), CmdError> {
    let pgd = mm_pgd(k, mm)?;
    let pa = k.mem.vtop(pgd).map_err(kdive_kernel::Error::from)?;
    Ok((pgd, pa))
}

/// The header and the address's own column, crash's widths: 16 for kernel addresses, 10 for
/// user ones (a longer address overflows it).
fn row_header(va: u64, user: bool) -> String {
    let w = if user { 10 } else { 16 };
    format!("{:<w$}  {:<16}\n{va:<w$x}", "VIRTUAL", "PHYSICAL")
}

/// The kernel's own top-level table as crash names it: the kernel-image symbol that holds it
/// (`init_top_pgt`), else its direct-map address.
fn kernel_root_va(k: &Kernel, root_pa: u64) -> u64 {
    ["init_top_pgt", "swapper_pg_dir"]
        .iter()
        .filter_map(|n| k.symbol_addr(n).ok())
        .find(|&va| k.mem.vtop(va).ok() == Some(root_pa))
        .or_else(|| k.mem.ptov(root_pa).ok())
        .unwrap_or(root_pa)
}

/// The arithmetic physical address of a kernel direct-map address (not the kernel image's,
/// whose unmapped part stands for nothing).
fn direct_map_pa(k: &Kernel, va: u64, user: bool) -> Option<u64> {
    if user || va >= k.mem.regions().image_start {
        return None;
    }
    k.mem.linear_pa(va)
}

/// One address's walk: crash's `vtop` block and its JSON.
fn translate(
    k: &Kernel,
    va: u64,
    user: Option<((u64, u64), &kdive_kernel::vma::Vma)>,
) -> (String, serde_json::Value) {
    let user_pgd = user.map(|u| u.0);
    let trace: WalkTrace = k.mem.walk_trace(user_pgd.map(|p| p.1), va);
    let root_va = match user_pgd {
        Some((v, _)) => v,
        None => kernel_root_va(k, trace.root),
    };
    let mut text = row_header(va, user_pgd.is_some());
    match &trace.result {
        Ok(t) => text.push_str(&format!("  {:<16x}\n", t.pa)),
        // A direct-map address stands for a physical address by arithmetic even where no
        // page maps it (beyond RAM, a hole): crash shows that address, then the walk.
        Err(SpaceError::NotMapped { .. }) => match direct_map_pa(k, va, user_pgd.is_some()) {
            Some(pa) => text.push_str(&format!("  {pa:<16x}\n")),
            None => text.push_str("  (not mapped)\n"),
        },
        Err(e) => text.push_str(&format!("  (not accessible: {e})\n")),
    }
    let steps: Vec<_> = trace
        .steps
        .iter()
        .map(|s| json!({"level": s.level, "entry_address": s.entry_pa, "entry": s.entry}))
        .collect();
    let mut j = json!({"virtual": va, "page_table": root_va, "steps": steps});
    if trace.steps.is_empty() {
        return (text, j);
    }
    text.push('\n');
    if user_pgd.is_none() {
        text.push_str(&format!("PGD DIRECTORY: {root_va:x}\n"));
    }
    for (i, s) in trace.steps.iter().enumerate() {
        // The kernel's top entry is shown by value alone, as crash does; a user walk's like
        // the others.
        if i == 0 && user_pgd.is_none() {
            text.push_str(&format!("PAGE DIRECTORY: {:x}\n", s.entry));
        } else {
            text.push_str(&format!(
                "{:>6}: {:x} => {:x}\n",
                s.level, s.entry_pa, s.entry
            ));
        }
    }
    let Ok(t) = &trace.result else {
        if let Err(e) = &trace.result {
            j["error"] = json!(e.to_string());
            // A user page swapped out: its PTE names the swap area and slot (crash's block).
            let last = trace.steps[trace.steps.len() - 1];
            if let (Some((_, vma)), "PTE", kdive_kspace::EntryMeaning::Swap { kind, offset }) =
                (user, last.level, k.mem.decode_entry(last.entry))
            {
                let device = k.swap_device_path(kind);
                text.push('\n');
                text.push_str(&crate::swapcmd::swap_table(
                    last.entry,
                    device.as_deref(),
                    kind,
                    offset,
                ));
                text.push_str(&format!(
                    "\n{}\n{}\n",
                    crate::vm::VMA_HEADER,
                    crate::vm::vma_line(vma)
                ));
                let dev = device
                    .clone()
                    .unwrap_or_else(|| format!("(swap type {kind})"));
                text.push_str(&format!("\nSWAP: {dev}  OFFSET: {offset}\n\n"));
                j["swap"] = json!({"type": kind, "offset": offset, "device": device});
                j["vma"] = json!(vma);
            }
            // crash ends a kernel walk that found no page with a blank line.
            if user_pgd.is_none() && matches!(e, SpaceError::NotMapped { .. }) {
                text.push('\n');
            }
        }
        return (text, j);
    };
    let leaf = trace.steps[trace.steps.len() - 1].entry;
    let page = t.pa & !(t.page_size - 1);
    text.push_str(&format!("  PAGE: {page:x}"));
    if t.page_size > k.mem.translator().page_size() {
        text.push_str(&format!("  ({})", size_label(t.page_size)));
    }
    text.push_str("\n\n");
    let flags = k.mem.entry_flags(leaf);
    text.push_str(&pte_table(leaf, page, &flags));
    j["physical"] = json!(t.pa);
    j["page_size"] = json!(t.page_size);
    j["flags"] = json!(flags);
    if let Some((_, vma)) = user {
        text.push_str(&format!(
            "\n{}\n{}\n",
            crate::vm::VMA_HEADER,
            crate::vm::vma_line(vma)
        ));
        j["vma"] = json!(vma);
    }
    match k.page_info_phys(t.pa) {
        Ok(p) => {
            text.push('\n');
            text.push_str(&crate::kmem::page_table(&p));
            j["page"] = serde_json::to_value(&p).unwrap_or_default();
        }
        Err(e) => {
            text.push_str(&format!("\n(struct page: {e})\n"));
            j["page_error"] = json!(e.to_string());
        }
    }
    (text, j)
}

/// crash's PTE table: each column centred over its value, the value right-justified; an
/// empty entry's flags read "no mapping".
pub fn pte_table(entry: u64, page: u64, flags: &[&str]) -> String {
    let pte = format!("{entry:x}");
    let phys = format!("{page:x}");
    let (w1, w2) = (pte.len().max(3), phys.len().max(8));
    let flags = if entry == 0 {
        "no mapping".to_string()
    } else {
        flags.join("|")
    };
    format!(
        "{}  {}  FLAGS\n{}  {}  ({flags})\n",
        centre("PTE", w1, false),
        centre("PHYSICAL", w2, false),
        centre(&pte, w1, true),
        centre(&phys, w2, true),
    )
}

/// 2MB, 1GB: a large page's size as crash writes it.
fn size_label(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes % (1 << 30) == 0 {
        format!("{}GB", bytes >> 30)
    } else if bytes >= 1 << 20 && bytes % (1 << 20) == 0 {
        format!("{}MB", bytes >> 20)
    } else {
        format!("{}KB", bytes >> 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_centre_as_crash_centres_them() {
        assert_eq!(centre("PTE", 16, false), "      PTE       ");
        assert_eq!(centre("PTE", 7, false), "  PTE  ");
        assert_eq!(centre("1a00000", 8, true), " 1a00000");
        assert_eq!(centre("PHYSICAL", 8, false), "PHYSICAL");
        assert_eq!(size_label(2 << 20), "2MB");
        assert_eq!(size_label(1 << 30), "1GB");
    }

    #[test]
    fn the_virtual_column_is_as_wide_as_crash_makes_it() {
        assert_eq!(
            row_header(0x7ffd1d3abcd8, true),
            "VIRTUAL     PHYSICAL        \n7ffd1d3abcd8"
        );
        assert_eq!(
            row_header(0xffff_8c3f_81b1_e980, false),
            "VIRTUAL           PHYSICAL        \nffff8c3f81b1e980"
        );
    }
}
