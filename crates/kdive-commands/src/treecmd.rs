//! `tree [-t rbtree|radix|xarray|maple] [-r OFF] [-o OFF] [-s|-S STRUCT...] [-l] [-p] [-N]
//! START`: crash's tree walker — a red-black tree's nodes (crash's pre-order, or sorted with
//! `-l`), an XArray's (radix tree's, IDR's) entries by index, a maple tree's entries by
//! range; each with its position and, with `-s`/`-S`, its struct. Bounded, loops reported.

use crate::eval_ctx::with_eval_kernel;
use crate::listcmd::{resolve_offset, show_structs, StructSpec};
use crate::structcmd::parse_address;
use crate::{CmdError, Report, Session};
use kdive_eval::format_value::PrintOptions;
use kdive_kernel::rbtree::RbOrder;
use serde_json::json;

pub const USAGE: &str = "tree [-t rbtree|radix|xarray|maple] [-r OFFSET] [-o OFFSET] \
[-s|-S STRUCT[.MEMBER[,MEMBER]]] [-x|-d] [-l] [-p] [-N] START";

pub const DETAILS: &str =
    "  -t TYPE      rbtree (the default; also rb), radix or xarray (ra, x; the IDR too), maple (m)
  -r OFFSET    START is a structure holding the rb_root / xarray / maple_tree at OFFSET
               (STRUCT.MEMBER or bytes)
  -o OFFSET    rbtree: where the rb_node is in each entry's structure
  -N           START is a tree node (rb_node), not the root
  -l           rbtree: sorted order (leftmost first) instead of crash's pre-order
  -p           each entry's position: root/l/r (rbtree), index and slot path (xarray),
               entry number and slot path (maple)
  -s|-S STRUCT[.MEMBER[,MEMBER]]  print each entry as STRUCT, or those members of it
  -x, -d       integers in hexadecimal or decimal
";

/// Most entries one walk lists.
const MAX_ENTRIES: usize = 1 << 22;

/// One entry a walk found: its address, crash's position line for `-p`, and its JSON.
struct Found {
    addr: u64,
    position: String,
    json: serde_json::Value,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rb,
    Xarray,
    Maple,
}

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let mut kind = Kind::Rb;
    let (mut root_off, mut node_off) = (None, None);
    let mut specs = Vec::new();
    let (mut fast, mut slow) = (false, false);
    let (mut linear, mut position, mut node_start) = (false, false, false);
    let mut radix = 10;
    let mut start = None;
    let mut it = args.iter();
    let value = |it: &mut std::slice::Iter<String>, o: &str| {
        it.next()
            .cloned()
            .ok_or_else(|| CmdError::Usage(format!("tree: {o} needs a value\n{USAGE}")))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "-t" => {
                kind = match value(&mut it, "-t")?.as_str() {
                    "rbtree" | "rb" => Kind::Rb,
                    "radix" | "ra" | "xarray" | "x" => Kind::Xarray,
                    "maple" | "m" => Kind::Maple,
                    t => return Err(CmdError::Usage(format!("tree: invalid tree type: {t}"))),
                }
            }
            "-r" => root_off = Some(value(&mut it, "-r")?),
            "-o" => node_off = Some(value(&mut it, "-o")?),
            "-s" => {
                slow = true;
                specs.push(value(&mut it, "-s")?)
            }
            "-S" => {
                fast = true;
                specs.push(value(&mut it, "-S")?)
            }
            "-l" => linear = true,
            "-p" => position = true,
            "-N" => node_start = true,
            "-x" => radix = 16,
            "-d" => radix = 10,
            o if o.starts_with('-') => {
                return Err(CmdError::Usage(format!(
                    "tree: invalid option {o}\n{USAGE}"
                )))
            }
            _ if start.is_some() => {
                return Err(CmdError::Usage(format!(
                    "tree: too many arguments\n{USAGE}"
                )))
            }
            _ => start = Some(a.clone()),
        }
    }
    if fast && slow {
        return Err(CmdError::Usage(
            "tree: -S and -s options are mutually exclusive".into(),
        ));
    }
    if kind != Kind::Rb && (node_off.is_some() || linear || node_start) {
        return Err(CmdError::Usage(
            "tree: -o, -l and -N apply to red-black trees only".into(),
        ));
    }
    let start =
        start.ok_or_else(|| CmdError::Usage(format!("tree: start address required\n{USAGE}")))?;
    with_eval_kernel(s, |ev, k| {
        let at = parse_address(ev, &start)?;
        let root = match &root_off {
            Some(o) => at.wrapping_add(resolve_offset(ev, o)?),
            None => at,
        };
        let node_off = match &node_off {
            Some(o) => resolve_offset(ev, o)?,
            None => 0,
        };
        let specs = specs
            .iter()
            .map(|spec| StructSpec::resolve(ev, spec))
            .collect::<Result<Vec<_>, _>>()?;
        // Each entry with its position line, and the walk's problems.
        let (entries, problems): (Vec<Found>, Vec<String>) = match kind {
            Kind::Rb => {
                let first = if node_start {
                    root
                } else {
                    k.read_u64(
                        root.wrapping_add(k.layout.offset("rb_root", "rb_node")?),
                        "rb_root.rb_node",
                    )?
                };
                let order = if linear { RbOrder::In } else { RbOrder::Pre };
                let w = k.rb_walk(first, order, MAX_ENTRIES)?;
                let e = w
                    .items
                    .into_iter()
                    .map(|n| {
                        let addr = n.node.wrapping_sub(node_off);
                        let j = json!({"address": addr, "position": n.position});
                        Found {
                            addr,
                            position: format!("  position: {}", n.position),
                            json: j,
                        }
                    })
                    .collect();
                (e, w.problems)
            }
            Kind::Xarray => {
                let w = k.xarray_entries(root, MAX_ENTRIES)?;
                let e = w
                    .items
                    .into_iter()
                    .map(|x| {
                        let j =
                            json!({"address": x.entry, "index": x.index, "position": x.position});
                        let p = format!("  index: {}  position: {}", x.index, x.position);
                        Found {
                            addr: x.entry,
                            position: p,
                            json: j,
                        }
                    })
                    .collect();
                (e, w.problems)
            }
            Kind::Maple => {
                let w = k.maple_entries(root, MAX_ENTRIES)?;
                let e = w
                    .items
                    .into_iter()
                    .enumerate()
                    .map(|(n, m)| {
                        let j = json!({"address": m.entry, "first": m.first, "last": m.last,
                                           "position": m.position});
                        // crash numbers maple entries from 1 and gives their slot path.
                        let p = format!("  index: {}  position: {}", n + 1, m.position);
                        Found {
                            addr: m.entry,
                            position: p,
                            json: j,
                        }
                    })
                    .collect();
                (e, w.problems)
            }
        };
        let opts = PrintOptions {
            radix,
            ..PrintOptions::crash()
        };
        let mut text = String::new();
        let mut json_entries = Vec::new();
        for Found {
            addr,
            position: pos,
            json: mut j,
        } in entries
        {
            text.push_str(&format!("{addr:x}\n"));
            if position {
                text.push_str(&pos);
                text.push('\n');
            }
            let shown = show_structs(&specs, ev, addr, opts, fast, &mut text);
            if !specs.is_empty() {
                j["structs"] = json!(shown);
            }
            json_entries.push(j);
        }
        for p in &problems {
            text.push_str(&format!("WARNING: {p}\n"));
        }
        Ok(Report::new(
            text,
            json!({"entries": json_entries, "problems": problems}),
        ))
    })
}
