//! `search [-s start] [-e end | -l length] [-m mask] [-k|-K|-V|-u|-p|-t|-T] [-w|-h|-c]
//! [-x count] value ...`: crash's memory search — kernel virtual memory range by range (direct
//! map, vmalloc, modules, vmemmap, kernel image), user memory of the current task, physical
//! memory, or task stacks — read page by page, pages absent from the dump skipped silently.

use crate::searchmatch::{Hit, Matcher, Pattern};
use crate::{CmdError, Report, Session};
use kdive_kernel::{AddrExt, Kernel};
use serde_json::json;

pub const USAGE: &str = "search [-s start] [-k|-K|-V|-u|-p|-t|-T] [-e end | -l length] [-m mask] \
[-x count] [-c|-w|-h] VALUE|(EXPRESSION)|SYMBOL|STRING ...";

pub const DETAILS: &str =
    "  Searches memory for values: 64-bit words by default, -w 32-bit, -h 16-bit (all within
  each aligned 64-bit word), -c strings (shown with up to 56 characters of context).
  Values are hexadecimal, symbols, or simple expressions such as (init_task+0x10).
    -s start   start address (hexadecimal or symbol)     -e end / -l length
    -m mask    ignore the bits set in mask                -x count   words of context
    -k  kernel virtual memory (default): direct map, vmalloc, modules, vmemmap, kernel image
    -K  only the direct map and kernel image   -V  only vmalloc, modules and vmemmap
    -u  the current task's user memory         -p  physical memory
    -t  every task's kernel stack (a header per task with hits)   -T  active tasks only
  Output stops after 100000 hits.";

/// Hits reported before the search stops.
const MAX_HITS: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Space {
    Kernel,
    /// -K: leave out vmalloc, modules, vmemmap.
    KernelUnity,
    /// -V: leave out the direct map and kernel image.
    KernelMapped,
    User,
    Phys,
    /// -t (false) / -T (true: active tasks only).
    Stacks(bool),
}

struct Opts {
    start: Option<u64>,
    end: Option<u64>,
    len: Option<u64>,
    mask: u64,
    width: usize,
    chars: bool,
    context: usize,
    space: Option<Space>,
    values: Vec<String>,
}

fn usage(msg: &str) -> CmdError {
    if msg.is_empty() {
        CmdError::Usage(format!("Usage: {USAGE}"))
    } else {
        CmdError::Usage(format!("search: {msg}\nUsage: {USAGE}"))
    }
}

fn parse_hex(a: &str) -> Option<u64> {
    let t = a.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    u64::from_str_radix(t, 16).ok()
}

/// A symbol's address or a hexadecimal number (crash's `-s`/`-e` and plain values).
fn sym_or_hex(k: &Kernel, a: &str) -> Option<u64> {
    k.symbol_addr(a).ok().or_else(|| parse_hex(a))
}

/// crash's `can_eval`: `(...)`, or an operator with something on both sides.
fn is_expression(a: &str) -> bool {
    if a.len() > 2 && a.starts_with('(') && a.ends_with(')') {
        return a.matches('(').count() == 1 && a.matches(')').count() == 1;
    }
    a.find(|c| "><+-&|*/%^".contains(c))
        .is_some_and(|i| i > 0 && i + 1 < a.len())
}

/// A simple expression: `(a OP b)` or `a OP b` with hex numbers or symbols on each side.
fn eval(k: &Kernel, a: &str) -> Option<u64> {
    let e = a
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .trim();
    for op in ["<<", ">>", "+", "-", "*", "/", "%", "&", "|", "^"] {
        if let Some(i) = e.find(op).filter(|&i| i > 0) {
            let l = sym_or_hex(k, e[..i].trim())?;
            let r = sym_or_hex(k, e[i + op.len()..].trim())?;
            return Some(match op {
                "<<" => l.checked_shl(r as u32).unwrap_or(0),
                ">>" => l.checked_shr(r as u32).unwrap_or(0),
                "+" => l.wrapping_add(r),
                "-" => l.wrapping_sub(r),
                "*" => l.wrapping_mul(r),
                "/" => l.checked_div(r)?,
                "%" => l.checked_rem(r)?,
                "&" => l & r,
                "|" => l | r,
                _ => l ^ r,
            });
        }
    }
    sym_or_hex(k, e)
}

fn parse(args: &[String]) -> Result<Opts, CmdError> {
    let mut o = Opts {
        start: None,
        end: None,
        len: None,
        mask: 0,
        width: 8,
        chars: false,
        context: 0,
        space: None,
        values: Vec::new(),
    };
    let mut raw_start = None;
    let mut raw_end = None;
    let mut it = args.iter();
    let set_space = |o: &mut Opts, s: Space| -> Result<(), CmdError> {
        if matches!(o.space, Some(Space::Stacks(_))) != matches!(s, Space::Stacks(_))
            && o.space.is_some()
        {
            return Err(usage(
                "-t/-T cannot be used with other memory-selection options",
            ));
        }
        o.space = Some(s);
        Ok(())
    };
    while let Some(a) = it.next() {
        if !a.starts_with('-') || a.len() < 2 || o.chars && !o.values.is_empty() {
            o.values.push(a.clone());
            continue;
        }
        let mut need = |what: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| usage(&format!("{what} needs a value")))
        };
        match a.as_str() {
            "-s" => raw_start = Some(need("-s")?),
            "-e" => raw_end = Some(need("-e")?),
            "-l" => {
                let v = need("-l")?;
                o.len = Some(
                    v.parse()
                        .ok()
                        .or_else(|| parse_hex(&v))
                        .ok_or_else(|| usage(&format!("invalid length: {v}")))?,
                )
            }
            "-m" => {
                let v = need("-m")?;
                o.mask = parse_hex(&v).ok_or_else(|| usage(&format!("invalid mask: {v}")))?
            }
            "-x" => {
                let v = need("-x")?;
                o.context = v
                    .parse()
                    .map_err(|_| usage(&format!("invalid count: {v}")))?
            }
            "-w" => o.width = 4,
            "-h" => o.width = 2,
            "-c" => o.chars = true,
            "-k" => set_space(&mut o, Space::Kernel)?,
            "-K" => set_space(&mut o, Space::KernelUnity)?,
            "-V" => set_space(&mut o, Space::KernelMapped)?,
            "-u" => set_space(&mut o, Space::User)?,
            "-p" => set_space(&mut o, Space::Phys)?,
            "-t" => set_space(&mut o, Space::Stacks(false))?,
            "-T" => set_space(&mut o, Space::Stacks(true))?,
            _ => return Err(usage(&format!("invalid option: {a}"))),
        }
    }
    o.start = raw_start.as_deref().map(|_| 0);
    o.end = raw_end.as_deref().map(|_| 0);
    if o.values.is_empty() || (o.len.is_some() && raw_end.is_some()) {
        return Err(usage(""));
    }
    if o.chars && o.context > 0 {
        return Err(usage("-x option is not allowed with -c"));
    }
    // Keep the raw forms for resolving against the kernel.
    o.values.insert(0, raw_end.unwrap_or_default());
    o.values.insert(0, raw_start.unwrap_or_default());
    Ok(o)
}

/// One searched value: its number and crash's note after each hit (`(symbol)`, `(expr)`).
fn resolve_values(
    k: &Kernel,
    raw: &[String],
    o: &Opts,
) -> Result<(Vec<u64>, Vec<String>), CmdError> {
    let mut values = Vec::new();
    let mut notes = Vec::new();
    for a in raw {
        let (v, note) = if is_expression(a) {
            let v = eval(k, a).ok_or_else(|| usage(&format!("invalid expression: {a}")))?;
            (
                v,
                if a.starts_with('(') {
                    a.clone()
                } else {
                    format!("({a})")
                },
            )
        } else if let Ok(v) = k.symbol_addr(a) {
            (v, format!("({a})"))
        } else {
            let v = parse_hex(a).ok_or_else(|| usage(&format!("invalid value: {a}")))?;
            (v, String::new())
        };
        let note = if o.mask != 0 { String::new() } else { note };
        let limit = match o.width {
            4 => Some(("-w", u32::MAX as u64)),
            2 => Some(("-h", u16::MAX as u64)),
            _ => None,
        };
        if let Some((opt, _)) = limit.filter(|(_, m)| v > *m) {
            return Err(CmdError::Usage(format!(
                "search: value too large for {opt} option: {v:x} {note}"
            )));
        }
        values.push(v);
        notes.push(note);
    }
    Ok((values, notes))
}

/// The search's state: the matcher, hits so far, and whether the limit stopped it.
struct Run {
    matcher: Matcher,
    hits: Vec<Hit>,
    full: bool,
}

impl Run {
    /// Searches `[lo, hi)` of one page whose first byte is at `page_addr`.
    fn page(&mut self, page_addr: u64, page: &[u8], lo: u64, hi: u64) -> bool {
        let from = lo.max(page_addr);
        let to = hi.min(page_addr.saturating_add(page.len() as u64));
        if to > from {
            let off = (from - page_addr) as usize;
            let count = ((to - from) & !7) as usize;
            self.matcher.feed(from, &page[off..], count, &mut self.hits);
        }
        if self.hits.len() >= MAX_HITS {
            self.hits.truncate(MAX_HITS);
            self.full = true;
        }
        !self.full
    }

    fn virt(&mut self, k: &Kernel, root: Option<u64>, lo: u64, hi: u64) {
        if !self.full {
            k.scan_virtual(root, lo, hi, |va, page| self.page(va, page, lo, hi));
        }
    }
}

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let o = parse(args)?;
    let (raw_start, raw_end) = (&o.values[0], &o.values[1]);
    let k = &s.kernel;
    let resolve = |a: &str, what: &str| {
        sym_or_hex(k, a).ok_or_else(|| usage(&format!("invalid {what} address: {a}")))
    };
    let start = (!raw_start.is_empty())
        .then(|| resolve(raw_start, "starting"))
        .transpose()?;
    let mut end = (!raw_end.is_empty())
        .then(|| resolve(raw_end, "ending"))
        .transpose()?;
    if end == Some(0) {
        return Err(usage("invalid ending address: 0"));
    }
    let space = o.space.unwrap_or(Space::Kernel);
    if matches!(space, Space::Stacks(_)) && (start.is_some() || end.is_some() || o.len.is_some()) {
        return Err(usage(
            "-t option cannot be used with other memory-selection options",
        ));
    }
    if let (Some(s0), Some(l)) = (start, o.len) {
        end = Some(s0.saturating_add(l));
    }
    let raw_values = &o.values[2..];
    let pattern = if o.chars {
        Pattern::Chars(
            raw_values
                .iter()
                .filter(|v| !v.is_empty())
                .map(|v| v.as_bytes().to_vec())
                .collect(),
        )
    } else {
        let (values, _) = resolve_values(k, raw_values, &o)?;
        Pattern::Words {
            width: o.width,
            values,
            mask: o.mask,
        }
    };
    let notes = if o.chars {
        Vec::new()
    } else {
        resolve_values(k, raw_values, &o)?.1
    };
    if let Some(max) = (o.context > 0).then(|| k.page_size() as usize / o.width) {
        if o.context > max {
            return Err(CmdError::Usage(format!(
                "search: context value {} is too large: maximum is {max}",
                o.context
            )));
        }
    }
    let mut run = Run {
        matcher: Matcher::new(pattern),
        hits: Vec::new(),
        full: false,
    };
    let mut text = String::new();
    let mut json_hits = Vec::new();
    let mut notes_out = Vec::new();
    // Output in sections: for -t, a task header and its stack's hits.
    let mut sections: Vec<(String, Vec<Hit>)> = Vec::new();
    let round = |lo: u64, text: &mut String| {
        if lo & 7 != 0 {
            text.push_str(&format!(
                "search: rounding down start address to: {:x}\n",
                lo & !7
            ));
        }
        lo & !7
    };
    match space {
        Space::Phys => {
            let lo = round(start.unwrap_or(0), &mut text);
            let hi = end.unwrap_or(k.phys_end()?);
            if hi < lo {
                return Err(usage(&format!(
                    "ending address {hi:x} is below starting address {lo:x}"
                )));
            }
            k.scan_physical(lo, hi, |pa, page| run.page(pa, page, lo, hi));
        }
        Space::User => {
            let task = s.tasks.current_task(k, s.current_task)?;
            if task.mm == 0 {
                return Err(CmdError::Usage(
                    "search: current context has no user address space".into(),
                ));
            }
            let vmas = k.vmas(task.mm)?.vmas;
            let pgd = crate::vtop::mm_pgd(k, task.mm)?;
            let root = k.mem.vtop(pgd).map_err(kdive_kernel::Error::from)?;
            let first = vmas.first().map_or(0, |v| v.start);
            let lo = round(start.unwrap_or(first), &mut text);
            let hi = end.unwrap_or(1 << 47);
            for v in &vmas {
                let (a, b) = (v.start.max(lo), v.end.min(hi));
                if a < b {
                    run.virt(k, Some(root), a, b);
                }
            }
        }
        Space::Stacks(active_only) => {
            let table = s.tasks.table(k)?;
            let stack_off = k.layout.offset("task_struct", "stack")?;
            let size = kdive_kernel::stack::thread_size(k);
            for t in &table.tasks {
                if active_only && !table.is_active(t.addr) {
                    continue;
                }
                let Ok(base) = k.read_u64(t.addr.off(stack_off), "task_struct.stack") else {
                    continue;
                };
                let before = run.hits.len();
                run.virt(k, None, base, base.saturating_add(size));
                if run.hits.len() > before {
                    let header = crate::bt::header(t.pid, t.addr, t.cpu, &t.comm);
                    let sep = if sections.is_empty() { "" } else { "\n" };
                    let hits = run.hits[before..].to_vec();
                    json_hits.extend(hits.iter().map(|h| hit_json(h, Some(t))));
                    sections.push((format!("{sep}{header}\n"), hits));
                }
                if run.full {
                    break;
                }
            }
        }
        _ => {
            let ranges = k.kernel_vranges()?;
            let lo = start.unwrap_or_else(|| ranges.first().map_or(0, |r| r.start));
            let hi = end.unwrap_or_else(|| ranges.iter().map(|r| r.end).max().unwrap_or(0));
            if hi < lo {
                return Err(usage(&format!(
                    "ending address {hi:x} is below starting address {lo:x}"
                )));
            }
            let vmalloc_end = ranges
                .iter()
                .find(|r| r.kind == kdive_kernel::scan::KvKind::Vmalloc)
                .map(|r| r.end);
            for r in &ranges {
                let skip = match space {
                    Space::KernelUnity => !r.kind.is_unity(),
                    Space::KernelMapped => r.kind.is_unity(),
                    _ => false,
                };
                // crash's vmalloc range runs on to the modules' end: a start between the two
                // (the kernel image) is searched there too, as far as it is mapped without a
                // hole, before the modules (and again in the image's own range).
                let stray = r.kind == kdive_kernel::scan::KvKind::Modules
                    && vmalloc_end.is_some_and(|e| lo >= e)
                    && lo < r.start;
                if skip || (!stray && (lo >= r.end || hi <= r.start)) {
                    continue;
                }
                sections.push((String::new(), std::mem::take(&mut run.hits)));
                let mut note = String::new();
                if stray {
                    let a = round(lo, &mut note);
                    let run_end = k.mapped_run_end(a, hi.min(r.start));
                    sections.push((note, Vec::new()));
                    note = String::new();
                    run.virt(k, None, a, run_end);
                    sections.push((String::new(), std::mem::take(&mut run.hits)));
                    run.virt(k, None, r.start, hi.min(r.end));
                    continue;
                }
                let a = round(lo.max(r.start), &mut note);
                sections.push((note, Vec::new()));
                run.virt(k, None, a, hi.min(r.end));
            }
        }
    }
    if !matches!(space, Space::Stacks(_)) {
        sections.push((String::new(), std::mem::take(&mut run.hits)));
        json_hits = sections
            .iter()
            .flat_map(|(_, hits)| hits.iter().map(|h| hit_json(h, None)))
            .collect();
    }
    for (header, hits) in &sections {
        text.push_str(header);
        emit(s, hits, &notes, o.width, o.context, space, &mut text);
    }
    if run.full {
        text.push_str(&format!("search: stopped after {MAX_HITS} matches\n"));
        notes_out.push(format!("stopped after {MAX_HITS} matches"));
    }
    let j = if notes_out.is_empty() {
        json!(json_hits)
    } else {
        json!({"hits": json_hits, "truncated": true})
    };
    Ok(Report::new(text, j))
}

fn hit_json(h: &Hit, task: Option<&kdive_kernel::tasks::Task>) -> serde_json::Value {
    let mut j = match h {
        Hit::Word { addr, value, .. } => json!({"address": addr, "value": value}),
        Hit::Chars { addr, shown } => json!({"address": addr, "value": shown}),
    };
    if let Some(t) = task {
        j["pid"] = json!(t.pid);
        j["task"] = json!(t.addr);
    }
    j
}

/// Appends crash's lines for `hits`: `ADDR: VALUE (note)`, or with `-x` the words around.
fn emit(
    s: &mut Session,
    hits: &[Hit],
    notes: &[String],
    width: usize,
    context: usize,
    space: Space,
    text: &mut String,
) {
    for h in hits {
        match h {
            Hit::Chars { addr, shown } => text.push_str(&format!("{addr:x}: {shown}\n")),
            Hit::Word { addr, value, which } => {
                let note = notes.get(*which).map_or("", String::as_str);
                if context == 0 {
                    text.push_str(&format!("{addr:x}: {value:x} {note}\n"));
                    continue;
                }
                let amount = (context * width) as u64;
                text.push_str(&around(s, addr.wrapping_sub(amount), context, width, space));
                text.push_str(&format!("{addr:>16x}:  {value:x} {note}\n"));
                text.push_str(&around(
                    s,
                    addr.wrapping_add(width as u64),
                    context,
                    width,
                    space,
                ));
                text.push('\n');
            }
        }
    }
}

/// `count` words of `width` bytes from `addr`, as `rd` shows them (crash's `-x` context).
fn around(s: &mut Session, addr: u64, count: usize, width: usize, space: Space) -> String {
    let mut args = vec![format!("-{}", width * 8)];
    if space == Space::Phys {
        args.push("-p".into());
    }
    args.push(format!("{addr:x}"));
    args.push(count.to_string());
    crate::rd::run(s, &args, "").map_or_else(|e| format!("{e}\n"), |r| r.text)
}
