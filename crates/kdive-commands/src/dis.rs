//! `dis [-l] [-r] [-s] ADDR|FUNC [COUNT]`: crash's disassembler — one line per instruction,
//! `0xADDR <func+off>:\tmnemonic operands` in gdb's AT&T spelling, `[FTRACE NOP]` on the
//! 5-byte NOP ftrace leaves at a function's entry, `FILE: LINE` headers with `-l`, crash's
//! source listing (no instructions) with `-s`, and (kdive's own `-v`) the C variables live at each
//! instruction and what its memory operand reaches through them.

use crate::disasm::{Insn, LineFinder, Namer};
use crate::{CmdError, Report, Session};
use kdive_kernel::AddrExt;
use serde_json::json;

pub const USAGE: &str = "dis [-l] [-r] [-s] [-v] ADDR|FUNC[+OFF] [COUNT]";

/// What `help dis` says about the options.
pub const DETAILS: &str = "  -l  source file and line before each group of instructions
  -s  no instructions: FILE: and LINE: of the address, then its source (found through
      `set substitute-path` / `directory`) from 5 lines before it, the line marked `*`,
      to the function's closing brace (the next line starting with `}`), or COUNT lines
      past the marked one
  -r  from the function's start up to ADDR
  -v  (kdive; crash has no -v) after each instruction, the C variables with a location there,
      from the DWARF location lists: `np=rax` in a register, `x=[rsp+0x10]` in a stack slot
      (slots DWARF gives from the frame address are put on rsp/rbp through the ORC unwind
      table, `[CFA-0x20]` where it has no answer), `hw=rdi+0x8` a value computed from a register, `p=entry(rdi)` the
      value rdi had at the function's entry, `i=0` a constant; and, when the memory operand
      is addressed through a register holding a variable, what it reaches:
      `np->txq (np in rax)` for `mov 0x1a0(%rax),%rcx` (the member from np's type),
      `np->??? (np in rax)` when no member is at that offset. Nothing where DWARF says nothing.
";

/// A resolved start: the address, and whether it was given as a function name (then the whole
/// function is shown).
pub struct Target {
    pub addr: u64,
    pub whole_function: bool,
}

/// Parses `sym`, `sym+off`, `0xADDR` or `ADDR` (hex); module function names included.
pub fn parse_target(n: &Namer<'_>, arg: &str) -> Result<Target, CmdError> {
    let arg = arg.trim().trim_start_matches('(').trim_end_matches(')');
    let arg = arg.strip_prefix('*').unwrap_or(arg);
    let (name, off) = match arg.split_once('+') {
        Some((n, o)) => (n.trim(), Some(parse_num(o.trim())?)),
        None => (arg, None),
    };
    if n.lookup(name).is_none() {
        if let Ok(a) = parse_hex(name) {
            return Ok(Target {
                addr: a.off(off.unwrap_or(0)),
                whole_function: false,
            });
        }
    }
    let addr = n
        .lookup(name)
        .ok_or_else(|| CmdError::Usage(format!("invalid address or symbol: \"{name}\"")))?;
    Ok(Target {
        addr: addr.off(off.unwrap_or(0)),
        whole_function: off.is_none(),
    })
}

fn parse_hex(t: &str) -> Result<u64, CmdError> {
    let h = t.strip_prefix("0x").unwrap_or(t);
    u64::from_str_radix(h, 16).map_err(|_| CmdError::Usage(format!("dis: invalid address \"{t}\"")))
}

fn parse_num(t: &str) -> Result<u64, CmdError> {
    match t.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => t.parse(),
    }
    .map_err(|_| CmdError::Usage(format!("dis: invalid number \"{t}\"")))
}

/// crash's line for one instruction.
pub fn crash_line(n: &Namer<'_>, i: &Insn, fstart: Option<u64>) -> String {
    annotated_line(n, i, fstart, None)
}

/// crash's line with `-v`'s annotation after it.
fn annotated_line(
    n: &Namer<'_>,
    i: &Insn,
    fstart: Option<u64>,
    ann: Option<&crate::annotate::Annotation>,
) -> String {
    let name = n
        .name(i.addr)
        .map(|t| format!(" <{t}>"))
        .unwrap_or_default();
    let ftrace = if i.is_nop5 && fstart == Some(i.addr) {
        " [FTRACE NOP]"
    } else {
        ""
    };
    let insn = format!("{}{ftrace}", i.text);
    let insn = match ann {
        Some(a) => a.append_to(&insn),
        None => insn,
    };
    format!("0x{:x}{name}:\t{insn}\n", i.addr)
}

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let (mut lines, mut reverse, mut source, mut vars) = (false, false, false, false);
    let mut pos = Vec::new();
    for a in args {
        match a.as_str() {
            "-l" => lines = true,
            "-r" => reverse = true,
            "-s" => source = true,
            "-v" => vars = true,
            "-u" => {
                return Err(CmdError::Usage(
                    "dis: -u (user-space addresses) is not supported".into(),
                ))
            }
            "-x" | "-d" | "-f" => {}
            f if f.starts_with('-') && f.len() > 1 && !f[1..].starts_with(char::is_numeric) => {
                for c in f[1..].chars() {
                    match c {
                        'l' => lines = true,
                        'r' => reverse = true,
                        's' => source = true,
                        'v' => vars = true,
                        'x' | 'd' | 'f' => {}
                        _ => {
                            return Err(CmdError::Usage(format!(
                                "dis: unknown option -{c} (usage: {USAGE})"
                            )))
                        }
                    }
                }
            }
            _ => pos.push(a.clone()),
        }
    }
    let Some(first) = pos.first() else {
        return Err(CmdError::Usage(format!("usage: {USAGE}")));
    };
    let paths = s.source_paths.clone();
    let n = Namer::new(s);
    let t = parse_target(&n, first)?;
    let count = match pos.get(1) {
        Some(c) => Some(parse_num(c)? as usize),
        None => None,
    };
    let bounds = n.function_bounds(t.addr);
    if source {
        return source_listing(&n, first, t.addr, count, paths);
    }
    let fstart = bounds.as_ref().map(|b| b.1);
    let insns = if reverse {
        let (_, fs, _) = bounds
            .clone()
            .ok_or_else(|| CmdError::Usage(format!("dis: no function contains {:#x}", t.addr)))?;
        let mut v = n.read_insns(fs, t.addr.saturating_add(16), None)?;
        v.retain(|i| i.addr <= t.addr);
        v
    } else if let Some(c) = count {
        n.read_insns(
            t.addr,
            t.addr.saturating_add((c as u64).saturating_mul(16)),
            Some(c),
        )?
    } else if t.whole_function {
        let fe = bounds
            .as_ref()
            .map(|b| b.2)
            .unwrap_or(t.addr.saturating_add(16));
        n.read_insns(t.addr, fe, None)?
    } else {
        n.read_insns(t.addr, t.addr.saturating_add(16), Some(1))?
    };
    let mut text = String::new();
    let mut last: Option<(String, u32)> = None;
    let mut json_insns = Vec::new();
    let mut finder = LineFinder::default();
    let mut annotator = vars.then(|| crate::annotate::Annotator::new(n.k, n.ctx.clone()));
    for i in &insns {
        let line = if lines {
            finder.line(n.k, i.addr)
        } else {
            None
        };
        if let Some(l) = &line {
            if last.as_ref() != Some(l) {
                text.push_str(&format!("{}: {}\n", l.0, l.1));
                last = line.clone();
            }
        }
        let ann = annotator.as_mut().map(|a| a.annotate(i));
        text.push_str(&annotated_line(&n, i, fstart, ann.as_ref()));
        let mut j = json!({
            "addr": format!("{:#x}", i.addr),
            "text": i.text,
            "file": line.as_ref().map(|l| l.0.clone()),
            "line": line.as_ref().map(|l| l.1),
        });
        if let Some(a) = &ann {
            j["annotation"] = a.json();
        }
        json_insns.push(j);
    }
    Ok(Report::new(text, json!({ "instructions": json_insns })))
}

/// Lines shown before the marked one (gdb's `listsize` 10, centred).
const LINES_BEFORE: u32 = 5;

/// crash's `dis -s`: `FILE:` and `LINE:` of `addr`, then the source from a few lines before it
/// (marked `*`) to the end of the function's text (the next line beginning with `}`), or
/// `count` lines past it.
fn source_listing(
    n: &Namer<'_>,
    arg: &str,
    addr: u64,
    count: Option<usize>,
    paths: crate::source::SourcePaths,
) -> Result<Report, CmdError> {
    let mut finder = LineFinder::default();
    let (file, marked) = finder
        .line(n.k, addr)
        .ok_or_else(|| CmdError::Usage(format!("dis: {arg}: no source line information")))?;
    let shown_name = finder.recorded_name(&file);
    let mut text = format!("FILE: {shown_name}\nLINE: {marked}\n\n");
    let mut src = crate::source::SourceCache::new(paths);
    let mut shown = Vec::new();
    // The full path, else the recorded name under a `directory` (gdb finds both).
    let found = if src.file(&file).is_some() {
        file.clone()
    } else {
        shown_name.clone()
    };
    match src.file(&found) {
        None => text.push_str(&format!("dis: {arg}: source code is not available\n")),
        Some(lines) => {
            let eof = u32::try_from(lines.len()).unwrap_or(u32::MAX);
            // COUNT lines past the marked one, else up to the function's closing brace: the
            // next line (after the marked one) that starts with `}`, else the file's end.
            let end = match count {
                Some(c) => marked.saturating_add(u32::try_from(c).unwrap_or(u32::MAX)),
                None => (marked + 1..=eof)
                    .find(|&l| lines[(l - 1) as usize].starts_with('}'))
                    .unwrap_or(eof),
            };
            let last = end.min(eof);
            for l in marked.saturating_sub(LINES_BEFORE).max(1)..=last {
                let t = &lines[(l - 1) as usize];
                let mark = if l == marked { '*' } else { ' ' };
                text.push_str(&format!("{mark} {l}\t{t}\n"));
                shown.push(json!({"line": l, "text": t, "marked": l == marked}));
            }
        }
    }
    text.push('\n');
    Ok(Report::new(
        text,
        json!({"file": shown_name, "path": file, "line": marked, "source": shown}),
    ))
}
