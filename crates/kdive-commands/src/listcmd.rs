//! `list`: crash's linked-list walker. Chains through a next pointer at an offset, `list_head`
//! lists from a standalone head (`-H`) or from an entry (`-h`), forwards or back (`-r`); each
//! entry's address, and its struct (`-s`) or members read directly (`-S`). Bounded, and a loop
//! or a bad pointer ends the walk with a warning naming the address.

use crate::eval_ctx::with_eval;
use crate::structcmd::{find_composite, member_block, member_path, parse_address};
use crate::{CmdError, Report, Session};
use kdive_eval::eval::Shape;
use kdive_eval::format_value::{format_member, format_value, quote_string, PrintOptions};
use kdive_eval::{Evaluator, Value};
use serde_json::json;
use std::collections::HashSet;

pub const USAGE: &str = "list [[-o] OFFSET] [-e END] [-s|-S STRUCT[.MEMBER[,MEMBER]] [-l OFFSET]] \
[-x|-d] [-r] [-h [-O HEAD_OFFSET]|-H] START";

pub const DETAILS: &str =
    "  START        the first structure of the list (a symbol, address or expression)
  -H START     START is a standalone list_head (LIST_HEAD()); it is not listed itself
  -h START     START is a structure with the list_head at OFFSET; it is listed first
  [-o] OFFSET  where the next pointer (or the list_head) is in each structure:
               STRUCT.MEMBER or a number of bytes (default 0)
  -O OFFSET    with -h: where the head's own list_head is, when it differs from OFFSET
  -e END       stop when a next pointer reaches END
  -r           follow list_head prev pointers instead of next (implies -h without -H)
  -s STRUCT[.MEMBER[,MEMBER]]  print each entry as STRUCT, or those members of it
  -S STRUCT.MEMBER[,MEMBER]    the same, members read directly (integers unformatted)
  -l OFFSET    with -s/-S: START and the addresses listed are of the embedded list_head
  -x, -d       integers in hexadecimal or decimal
";

/// Most entries one walk lists: longer than any real kernel list, short enough to end a walk
/// through corrupt memory that never repeats an address.
const MAX_ENTRIES: usize = 1 << 22;

/// How START is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Head {
    /// START is the first structure of a chain.
    Chain,
    /// `-h`: START is a structure with an embedded `list_head`.
    Entry,
    /// `-H`: START is a standalone `list_head`.
    Standalone,
}

/// The command line, its offsets not yet resolved against types.
struct Args {
    offset: Option<String>,
    end: Option<String>,
    /// `-s`/`-S` specs, in order.
    structs: Vec<String>,
    fast: bool,
    link_offset: Option<String>,
    head_offset: Option<String>,
    radix: u32,
    reverse: bool,
    head: Head,
    positional: Vec<String>,
}

fn parse_args(args: &[String]) -> Result<Args, CmdError> {
    let mut a = Args {
        offset: None,
        end: None,
        structs: Vec::new(),
        fast: false,
        link_offset: None,
        head_offset: None,
        radix: 10,
        reverse: false,
        head: Head::Chain,
        positional: Vec::new(),
    };
    let mut slow = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let Some(flags) = arg.strip_prefix('-').filter(|f| !f.is_empty()) else {
            a.positional.push(arg.clone());
            continue;
        };
        // A negative number is not an option.
        if flags.starts_with(|c: char| c.is_ascii_digit()) {
            a.positional.push(arg.clone());
            continue;
        }
        // getopt's clusters: flags, then at most one option that takes a value (attached or
        // the next argument).
        for (i, c) in flags.char_indices() {
            match c {
                'H' => a.head = Head::Standalone,
                'h' => {
                    if a.head != Head::Standalone {
                        a.head = Head::Entry
                    }
                }
                'r' => a.reverse = true,
                'x' => a.radix = 16,
                'd' => a.radix = 10,
                'B' => {
                    return Err(CmdError::Usage(
                        "list: -B (Brent's loop detection) is not needed: every walk detects loops"
                            .into(),
                    ))
                }
                'o' | 'e' | 's' | 'S' | 'l' | 'O' => {
                    let rest = &flags[i + c.len_utf8()..];
                    let value = if rest.is_empty() {
                        it.next()
                            .cloned()
                            .ok_or_else(|| CmdError::Usage(format!("list: -{c} needs a value")))?
                    } else {
                        rest.to_string()
                    };
                    match c {
                        'o' => set_once(&mut a.offset, value, "offset")?,
                        'e' => a.end = Some(value),
                        's' | 'S' => {
                            if c == 'S' {
                                a.fast = true
                            } else {
                                slow = true
                            }
                            a.structs.push(value);
                        }
                        'l' => a.link_offset = Some(value),
                        _ => set_once(&mut a.head_offset, value, "-O offset")?,
                    }
                    break;
                }
                _ => {
                    return Err(CmdError::Usage(format!(
                        "list: invalid option -{c}\n{USAGE}"
                    )))
                }
            }
        }
    }
    if a.fast && slow {
        return Err(CmdError::Usage(
            "list: -S and -s options are mutually exclusive".into(),
        ));
    }
    if a.link_offset.is_some() && a.structs.is_empty() {
        return Err(CmdError::Usage(
            "list: -l option can only be used with -s or -S option".into(),
        ));
    }
    if a.positional.len() > 2 {
        return Err(CmdError::Usage(format!(
            "list: too many arguments\n{USAGE}"
        )));
    }
    Ok(a)
}

fn set_once(slot: &mut Option<String>, value: String, what: &str) -> Result<(), CmdError> {
    if let Some(old) = slot {
        return Err(CmdError::Usage(format!(
            "list: {what} already entered ({old})"
        )));
    }
    *slot = Some(value);
    Ok(())
}

/// A number as crash's `stol` reads it: decimal, or hexadecimal with `0x`.
fn parse_number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// An offset: a number of bytes or `STRUCT.MEMBER[.MEMBER...]` (the member's offset).
pub(crate) fn resolve_offset(ev: &Evaluator, s: &str) -> Result<u64, CmdError> {
    if let Some(n) = parse_number(s) {
        return Ok(n);
    }
    match member_offset(ev, s) {
        Some(r) => r,
        None => Err(CmdError::Usage(format!(
            "list: invalid offset: {s} (not a number or STRUCT.MEMBER)"
        ))),
    }
}

/// `Some` when `s` is `STRUCT.MEMBER...` naming a struct or union: the member's offset, or
/// why it has none.
fn member_offset(ev: &Evaluator, s: &str) -> Option<Result<u64, CmdError>> {
    let (name, path) = s.split_once('.')?;
    let (ty, _) = find_composite(ev, "*", name).ok()?;
    Some((|| {
        let m = member_path(ev, &Value::mem(ev.strip(ty), 0), path)?;
        m.address().ok_or_else(|| {
            CmdError::Usage(format!("list: {s} is a bitfield, which has no byte offset"))
        })
    })())
}

/// The walk's parameters, crash's way round: `start` is the first link read, each entry is
/// listed at `link - list_head_offset`.
struct Walk {
    start: u64,
    end: Option<u64>,
    /// Offset of the pointer followed, within each link.
    next_offset: u64,
    /// Offset of the link within each listed structure (list_head lists), else 0.
    list_head_offset: u64,
    /// `list_head` semantics: a NULL pointer is corruption, not the end.
    list_head: bool,
}

/// Splits the positional arguments into START and OFFSET as crash does: `STRUCT.MEMBER` is
/// an offset, a symbol or an expression is a start, and of two numbers the one that is a
/// readable address is the start.
fn start_and_offset(ev: &Evaluator, a: &Args) -> Result<(u64, u64), CmdError> {
    let mut offset = match &a.offset {
        Some(o) => Some(resolve_offset(ev, o)?),
        None => None,
    };
    let mut start = None;
    let pos = &a.positional;
    for (i, p) in pos.iter().enumerate() {
        if let Some(o) = member_offset(ev, p) {
            if offset.is_some() {
                return Err(CmdError::Usage(format!(
                    "list: offset already entered: {p}"
                )));
            }
            offset = Some(o?);
            continue;
        }
        let number = parse_number(p)
            .or_else(|| u64::from_str_radix(p, 16).ok())
            .filter(|_| ev.target.symbol(p).is_none());
        let is_start = match number {
            None => true,
            Some(_) if start.is_some() => false,
            Some(_) if offset.is_some() || i + 1 == pos.len() => true,
            Some(n) => {
                // Two numbers: the readable one is the address.
                let hex = u64::from_str_radix(p.strip_prefix("0x").unwrap_or(p), 16).unwrap_or(n);
                ev.read(hex, 8).is_ok()
            }
        };
        if is_start {
            if start.is_some() {
                return Err(CmdError::Usage(format!("list: start already entered: {p}")));
            }
            start = Some(parse_address(ev, p)?);
        } else {
            offset = Some(number.unwrap_or(0));
        }
    }
    let start = start
        .ok_or_else(|| CmdError::Usage(format!("list: starting address required\n{USAGE}")))?;
    Ok((start, offset.unwrap_or(0)))
}

/// One listed entry: its address and what was printed for it.
struct Entry {
    text: String,
    json: serde_json::Value,
}

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let a = parse_args(args)?;
    with_eval(s, |ev| {
        let (start, member_offset) = start_and_offset(ev, &a)?;
        let end = match &a.end {
            Some(e) => Some(parse_address(ev, e)?),
            None => None,
        };
        let link_offset = match &a.link_offset {
            Some(l) => resolve_offset(ev, l)?,
            None => 0,
        };
        if a.offset.is_some() && link_offset != 0 {
            return Err(CmdError::Usage(
                "list: -l and -o are mutually exclusive".into(),
            ));
        }
        let specs = a
            .structs
            .iter()
            .map(|spec| StructSpec::resolve(ev, spec))
            .collect::<Result<Vec<_>, _>>()?;
        let head = if a.reverse && a.head == Head::Chain {
            Head::Entry
        } else {
            a.head
        };
        let walk = match head {
            Head::Chain => Walk {
                start,
                end,
                next_offset: member_offset,
                list_head_offset: 0,
                list_head: false,
            },
            _ => {
                let next_offset = if a.reverse { 8 } else { 0 };
                let read_head = |at: u64| -> Result<(u64, Option<u64>), CmdError> {
                    let first = read_pointer(ev, at.wrapping_add(next_offset))
                        .map_err(|e| CmdError::Usage(format!("list: LIST_HEAD contents: {e}")))?;
                    Ok((first, Some(end.unwrap_or(at))))
                };
                let (first, end) = match (head, &a.head_offset) {
                    (Head::Standalone, _) => read_head(start)?,
                    (_, Some(o)) => read_head(start.wrapping_add(resolve_offset(ev, o)?))?,
                    _ => (start.wrapping_add(member_offset), end),
                };
                if Some(first) == end {
                    return Ok(Report::new(
                        "(empty)\n".into(),
                        json!({"entries": [], "problems": []}),
                    ));
                }
                Walk {
                    start: first,
                    end,
                    next_offset,
                    list_head_offset: member_offset,
                    list_head: true,
                }
            }
        };
        let opts = PrintOptions {
            radix: a.radix,
            ..PrintOptions::crash()
        };
        let show = |link: u64| -> Entry {
            let addr = link.wrapping_sub(walk.list_head_offset);
            let at = addr.wrapping_sub(link_offset);
            let mut text = format!("{addr:x}\n");
            let shown = show_structs(&specs, ev, at, opts, a.fast, &mut text);
            Entry {
                text,
                json: json!({"address": addr, "structs": shown}),
            }
        };
        let (entries, problem) = walk_entries(ev, &walk, show);
        let mut text: String = entries.iter().map(|e| e.text.as_str()).collect();
        if let Some(p) = &problem {
            text.push_str(&format!("WARNING: {p}\n"));
        }
        let entries: Vec<_> = entries.into_iter().map(|e| e.json).collect();
        Ok(Report::new(
            text,
            json!({"entries": entries, "problems": problem.into_iter().collect::<Vec<_>>()}),
        ))
    })
}

/// The pointer at `addr`.
fn read_pointer(ev: &Evaluator, addr: u64) -> Result<u64, kdive_eval::EvalError> {
    let b = ev.read(addr, 8)?;
    let mut w = [0u8; 8];
    w.copy_from_slice(&b);
    Ok(u64::from_le_bytes(w))
}

/// Follows the list as crash does: it ends at NULL (for chains), at END, back at the start,
/// at a node pointing to itself, or back at the second node (a circular list entered through
/// an outside head). A node seen twice, a NULL `list_head` pointer, an unreadable node or
/// [`MAX_ENTRIES`] ends it with the reason.
fn walk_entries(
    ev: &Evaluator,
    w: &Walk,
    mut show: impl FnMut(u64) -> Entry,
) -> (Vec<Entry>, Option<String>) {
    let mut out = Vec::new();
    let first = match read_pointer(ev, w.start.wrapping_add(w.next_offset)) {
        Ok(f) => f,
        Err(e) => return (out, Some(format!("invalid list entry: {:x}: {e}", w.start))),
    };
    let mut seen = HashSet::new();
    let mut next = w.start;
    loop {
        if !seen.insert(next) {
            return (
                out,
                Some(format!(
                    "duplicate list entry: {:x}: the list loops without returning to its start",
                    next.wrapping_sub(w.list_head_offset)
                )),
            );
        }
        out.push(show(next));
        if out.len() >= MAX_ENTRIES {
            return (
                out,
                Some(format!("more than {MAX_ENTRIES} entries; stopped")),
            );
        }
        let last = next;
        next = match read_pointer(ev, last.wrapping_add(w.next_offset)) {
            Ok(n) => n,
            Err(e) => return (out, Some(format!("invalid list entry: {last:x}: {e}"))),
        };
        if next == 0 {
            let problem = w.list_head.then(|| {
                format!("invalid list entry: 0 (NULL pointer in the list_head at {last:x})")
            });
            return (out, problem);
        }
        if Some(next) == w.end
            || next == w.start
            || next == last
            || (next == first && out.len() != 1)
        {
            return (out, None);
        }
    }
}

/// Each `-s`/`-S` struct at `addr`, appended to `text` (an error in its place when one cannot
/// be read); their JSON.
pub(crate) fn show_structs(
    specs: &[StructSpec],
    ev: &Evaluator,
    addr: u64,
    opts: PrintOptions,
    fast: bool,
    text: &mut String,
) -> Vec<serde_json::Value> {
    let mut shown = Vec::new();
    for spec in specs {
        match spec.show(ev, addr, opts, fast) {
            Ok((t, j)) => {
                text.push_str(&t);
                shown.push(j);
            }
            Err(e) => {
                text.push_str(&format!("  ({}: {e})\n", spec.text));
                shown.push(json!({"error": e.to_string()}));
            }
        }
    }
    shown
}

/// One `-s`/`-S` argument: a struct or union, and the members to show (none: all of it).
pub(crate) struct StructSpec {
    text: String,
    ty: kdive_debuginfo::TypeId,
    keyword: &'static str,
    name: String,
    members: Vec<String>,
}

impl StructSpec {
    pub(crate) fn resolve(ev: &Evaluator, spec: &str) -> Result<StructSpec, CmdError> {
        let (name, members) = match spec.split_once('.') {
            Some((n, m)) => (n, m.split(',').map(str::to_string).collect()),
            None => (spec, Vec::new()),
        };
        let (ty, keyword) = find_composite(ev, "*", name)?;
        let ty = ev.strip(ty);
        // Every member must exist before the walk starts, as crash checks.
        for m in &members {
            member_path(ev, &Value::mem(ty, 0), m)?;
        }
        Ok(StructSpec {
            text: spec.to_string(),
            ty,
            keyword,
            name: name.to_string(),
            members,
        })
    }

    /// The struct (or its members) at `addr`: text as crash prints it, and JSON.
    pub(crate) fn show(
        &self,
        ev: &Evaluator,
        addr: u64,
        opts: PrintOptions,
        fast: bool,
    ) -> Result<(String, serde_json::Value), CmdError> {
        let v = Value::mem(self.ty, addr);
        if self.members.is_empty() {
            let text = format!(
                "{} {} {}\n",
                self.keyword,
                self.name,
                format_value(ev, &v, opts)?
            );
            return Ok((text, kdive_eval::format_value::value_json(ev, &v)?));
        }
        let (slow_text, json) = member_block(ev, &v, &self.members, opts)?;
        if !fast {
            return Ok((slow_text, serde_json::Value::Object(json)));
        }
        let mut text = String::new();
        for m in &self.members {
            text.push_str(&fast_member(ev, &member_path(ev, &v, m)?, m, opts)?);
        }
        Ok((text, serde_json::Value::Object(json)))
    }
}

/// crash's `-S` line for one member: integers, enums and bools of up to 8 bytes as raw
/// unsigned numbers, char arrays as the string up to its NUL, pointers as in `-s`; anything
/// bigger as `-s` prints it.
fn fast_member(
    ev: &Evaluator,
    v: &Value,
    name: &str,
    opts: PrintOptions,
) -> Result<String, CmdError> {
    let size = ev.size_of(v.ty).unwrap_or(0);
    match ev.shape(v.ty) {
        Shape::Int { .. } | Shape::Enum { .. } if (1..=8).contains(&size) => {
            let raw = ev.fetch(v)?;
            let mut w = [0u8; 8];
            w[..raw.len().min(8)].copy_from_slice(&raw[..raw.len().min(8)]);
            let n = u64::from_le_bytes(w);
            Ok(if opts.radix == 16 {
                format!("  {name} = {n:#x}\n")
            } else {
                format!("  {name} = {n}\n")
            })
        }
        Shape::Array { elem, .. }
            if matches!(
                ev.shape(elem),
                Shape::Int {
                    is_char: true,
                    size: 1,
                    ..
                }
            ) =>
        {
            let raw = ev.fetch(v)?;
            let s = raw.split(|b| *b == 0).next().unwrap_or_default();
            Ok(format!("  {name} = {}\n", quote_string(s, None, true)))
        }
        Shape::Pointer { .. } => Ok(format!("  {name} = {}\n", format_member(ev, v, opts, 1)?)),
        _ => Ok(format!("  {name} = {},\n", format_member(ev, v, opts, 1)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(line: &str) -> Args {
        let v: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        parse_args(&v).unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    #[test]
    fn options_parse_as_getopt_does() {
        let a = parsed("-H modules -o module.list -s module.name,state -x");
        assert!(a.head == Head::Standalone && a.radix == 16);
        assert_eq!(a.offset.as_deref(), Some("module.list"));
        assert_eq!(a.structs, ["module.name,state"]);
        assert_eq!(a.positional, ["modules"]);
        let a = parsed("-rH -omodule.list -Smodule.name -l 8 ffff0000");
        assert!(a.reverse && a.head == Head::Standalone && a.fast);
        assert_eq!(a.offset.as_deref(), Some("module.list"));
        assert_eq!(a.link_offset.as_deref(), Some("8"));
        assert_eq!(a.positional, ["ffff0000"]);
        let a = parsed("task_struct.tasks -h init_task -O 16");
        assert!(a.head == Head::Entry);
        assert_eq!(a.head_offset.as_deref(), Some("16"));
        assert_eq!(a.positional, ["task_struct.tasks", "init_task"]);
    }

    #[test]
    fn bad_command_lines_are_usage_errors() {
        let err = |line: &str| {
            let v: Vec<String> = line.split_whitespace().map(str::to_string).collect();
            match parse_args(&v) {
                Err(e) => e.to_string(),
                Ok(_) => panic!("{line}: accepted"),
            }
        };
        assert!(err("-s a.b -S a.c x").contains("mutually exclusive"));
        assert!(err("-l 8 x").contains("only be used with -s"));
        assert!(err("-o 1 -o 2 x").contains("already entered"));
        assert!(err("-q x").contains("invalid option -q"));
        assert!(err("-s").contains("needs a value"));
        assert!(err("a b c").contains("too many"));
        assert!(err("-B x").contains("detects loops"));
    }

    /// Words of memory at chosen addresses; everything else is unreadable.
    struct Words {
        store: kdive_debuginfo::TypeStore,
        words: std::collections::HashMap<u64, u64>,
    }

    impl kdive_eval::Target for Words {
        fn types(&self) -> &kdive_debuginfo::TypeStore {
            &self.store
        }
        fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), String> {
            let w = self.words.get(&addr).ok_or("not in the dump")?;
            buf.copy_from_slice(&w.to_le_bytes()[..buf.len()]);
            Ok(())
        }
        fn symbol(&self, _: &str) -> Option<kdive_eval::SymbolInfo> {
            None
        }
        fn symbol_at(&self, _: u64) -> Option<(String, u64)> {
            None
        }
        fn per_cpu_offset(&self, _: u32) -> Option<u64> {
            None
        }
        fn nr_cpus(&self) -> u32 {
            1
        }
        fn symbol_names(&self) -> Box<dyn Iterator<Item = &str> + '_> {
            Box::new(std::iter::empty())
        }
    }

    /// Walks memory holding `words` (address, value) as `w` says; the entries' addresses and
    /// the warning.
    fn walk(words: &[(u64, u64)], w: Walk) -> (Vec<u64>, Option<String>) {
        let t = Words {
            store: kdive_debuginfo::TypeStore::new(kdive_debuginfo::TypeGraph::new(), None),
            words: words.iter().copied().collect(),
        };
        let ev = Evaluator::new(&t, &[]);
        let lho = w.list_head_offset;
        let (entries, problem) = walk_entries(&ev, &w, |link| Entry {
            text: String::new(),
            json: json!(link - lho),
        });
        let addrs = entries.iter().map(|e| e.json.as_u64().unwrap()).collect();
        (addrs, problem)
    }

    fn chain(start: u64, next_offset: u64, end: Option<u64>) -> Walk {
        Walk {
            start,
            end,
            next_offset,
            list_head_offset: 0,
            list_head: false,
        }
    }

    #[test]
    fn a_chain_ends_at_null_at_end_or_back_at_its_start() {
        // 0x100 -> 0x200 -> 0x300 -> NULL, next pointers at +8.
        let mem = [(0x108, 0x200), (0x208, 0x300), (0x308, 0)];
        assert_eq!(
            walk(&mem, chain(0x100, 8, None)),
            (vec![0x100, 0x200, 0x300], None)
        );
        assert_eq!(
            walk(&mem, chain(0x100, 8, Some(0x300))),
            (vec![0x100, 0x200], None)
        );
        let ring = [(0x108, 0x200), (0x208, 0x300), (0x308, 0x100)];
        assert_eq!(
            walk(&ring, chain(0x100, 8, None)),
            (vec![0x100, 0x200, 0x300], None)
        );
        // A node pointing to itself ends the list (crash's rule).
        let tail = [(0x108, 0x200), (0x208, 0x200)];
        assert_eq!(
            walk(&tail, chain(0x100, 8, None)),
            (vec![0x100, 0x200], None)
        );
        // Entered through an outside head: the walk stops when it is back at the first node.
        let outside = [(0x8, 0x100), (0x108, 0x200), (0x208, 0x100)];
        assert_eq!(
            walk(&outside, chain(0x0, 8, None)),
            (vec![0x0, 0x100, 0x200], None)
        );
    }

    #[test]
    fn a_loop_a_null_list_head_or_a_hole_ends_the_walk_with_a_warning() {
        // 0x100 -> 0x200 -> 0x300 -> 0x400 -> 0x300: loops without returning to the start.
        let mem = [
            (0x100, 0x200),
            (0x200, 0x300),
            (0x300, 0x400),
            (0x400, 0x300),
        ];
        let (got, why) = walk(&mem, chain(0x100, 0, None));
        assert_eq!(got, [0x100, 0x200, 0x300, 0x400]);
        assert!(why.unwrap().contains("duplicate list entry: 300"));
        // list_head entries at +0x10 in their structs: a NULL next is corruption.
        let lh = Walk {
            start: 0x1010,
            end: Some(0x9000),
            next_offset: 0,
            list_head_offset: 0x10,
            list_head: true,
        };
        let (got, why) = walk(&[(0x1010, 0x2010), (0x2010, 0)], lh);
        assert_eq!(got, [0x1000, 0x2000]);
        assert!(why
            .unwrap()
            .contains("NULL pointer in the list_head at 2010"));
        // The next pointer lies in memory the dump does not have.
        let (got, why) = walk(&[(0x108, 0x200)], chain(0x100, 8, None));
        assert_eq!(got, [0x100, 0x200]);
        let why = why.unwrap();
        assert!(
            why.contains("invalid list entry: 200") && why.contains("not in the dump"),
            "{why}"
        );
        // Not even the start is readable.
        let (got, why) = walk(&[], chain(0x100, 8, None));
        assert!(got.is_empty() && why.unwrap().contains("invalid list entry: 100"));
    }

    #[test]
    fn numbers_read_as_crash_reads_offsets() {
        assert_eq!(parse_number("136"), Some(136));
        assert_eq!(parse_number("0x88"), Some(0x88));
        assert_eq!(parse_number("ffff"), None);
    }
}
