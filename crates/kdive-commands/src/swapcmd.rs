//! `swap` (the swap areas in use: size, pages used, priority, path — crash's layout) and
//! `pte ENTRY...` (a page-table entry decoded: the page and its flags, or the swap area and
//! slot a swapped-out page went to).

use crate::report::centre;
use crate::{CmdError, Report, Session};
use kdive_kspace::EntryMeaning;
use serde_json::json;

pub const SWAP_USAGE: &str = "swap";
pub const PTE_USAGE: &str = "pte HEX_ENTRY ...";

const SWAP_HEADER: &str = "SWAP_INFO_STRUCT    TYPE       SIZE       USED     PCT  PRI  FILENAME\n";

pub fn run_swap(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    if !args.is_empty() {
        return Err(CmdError::Usage(format!(
            "swap: no arguments ({SWAP_USAGE})"
        )));
    }
    let k = &s.kernel;
    let devices = k.swap_devices()?;
    let page_kb = k.page_size() / 1024;
    let mut text = String::from(SWAP_HEADER);
    for d in &devices.items {
        let size_kb = d.pages * page_kb;
        let used_kb = d.inuse_pages * page_kb;
        let pct = (used_kb * 100).checked_div(size_kb).unwrap_or(0);
        text.push_str(&format!(
            "{:<16}  {} {} {} {} {:>4}  {}\n",
            format!("{:x}", d.addr),
            if d.partition {
                "PARTITION"
            } else {
                "  FILE   "
            },
            centre(&format!("{size_kb}k"), 10, true),
            centre(&format!("{used_kb}k"), 10, true),
            centre(&format!("{pct:2}%"), 4, true),
            d.prio,
            d.path
        ));
    }
    for p in &devices.problems {
        text.push_str(&format!("WARNING: {p}\n"));
    }
    Ok(Report::new(
        text,
        json!({"devices": devices.items, "problems": devices.problems}),
    ))
}

pub fn run_pte(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    if args.is_empty() {
        return Err(CmdError::Usage(PTE_USAGE.into()));
    }
    let k = &s.kernel;
    let mut text = String::new();
    let mut out = Vec::new();
    for a in args {
        let digits = a.strip_prefix("0x").unwrap_or(a);
        let entry = u64::from_str_radix(digits, 16)
            .map_err(|_| CmdError::Usage(format!("pte: invalid entry: {a} ({PTE_USAGE})")))?;
        match k.mem.decode_entry(entry) {
            EntryMeaning::Swap { kind, offset } => {
                let device = k.swap_device_path(kind);
                text.push_str(&swap_table(entry, device.as_deref(), kind, offset));
                out.push(
                    json!({"pte": entry, "swap_type": kind, "swap_offset": offset,
                    "swap_device": device}),
                );
            }
            meaning => {
                let page = match meaning {
                    EntryMeaning::Page(pa) => pa,
                    _ => 0,
                };
                let flags = k.mem.entry_flags(entry);
                text.push_str(&crate::vtop::pte_table(entry, page, &flags));
                out.push(json!({"pte": entry, "physical": page, "flags": flags}));
            }
        }
    }
    Ok(Report::new(text, json!(out)))
}

/// crash's swap-entry table (PTE, SWAP device, OFFSET); an entry whose type names no swap
/// area in use (crash gives up on it) shows its type number instead.
pub(crate) fn swap_table(entry: u64, device: Option<&str>, kind: u64, offset: u64) -> String {
    let pte = format!("{entry:x}");
    let dev = device.map_or_else(|| format!("(swap type {kind})"), str::to_string);
    let off = offset.to_string();
    let (w1, w2, w3) = (pte.len().max(3), dev.len().max(4), off.len().max(6));
    format!(
        "{}  {}  {}\n{}  {}  {}\n",
        centre("PTE", w1, false),
        centre("SWAP", w2, false),
        centre("OFFSET", w3, false),
        centre(&pte, w1, true),
        centre(&dev, w2, true),
        centre(&off, w3, true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swap_entries_print_as_crash_lays_them_out() {
        assert_eq!(
            swap_table(0x7fff_ffff_f6dc_be00, Some("/dev/vdb"), 0, 0x1234),
            "      PTE           SWAP    OFFSET\n7ffffffff6dcbe00  /dev/vdb   4660 \n"
        );
        assert!(swap_table(0x200, None, 3, 7).contains("(swap type 3)"));
    }
}
