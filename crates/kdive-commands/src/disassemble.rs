//! gdb's `disassemble [/m|/s|/r] FUNC|ADDR`: `Dump of assembler code for function F:`, one
//! `   0xADDR <+OFF>:\tinsn` line per instruction, `End of assembler dump.`; `/m` groups the
//! instructions under their source lines in line order (gdb's reading of the line table:
//! `LineTable::source_centric`; lines whose rows cover no instruction are groups of their own,
//! each group followed by a blank line; instructions of other files' inlined code, which gdb
//! leaves out, come last), `/s` in address order with `FILE:` headers, `/r` adds the raw
//! bytes. Source text comes from the DWARF path (after `set substitute-path`, `directory`);
//! when the file is missing gdb's "No such file" line and `N\tin FILE` lines stand in for it. `/v` (kdive's own) adds, after each instruction,
//! the C variables live there and what its memory operand reaches (see `help dis`, `-v`).

use crate::disasm::{Insn, LineFinder, Namer};
use crate::source::SourceCache;
use crate::{CmdError, Report, Session};
use serde_json::json;

pub const USAGE: &str = "disassemble [/m|/s|/r|/v] FUNC|ADDR";

/// What `help disassemble` says about the modifiers.
pub const DETAILS: &str =
    "  /m  source lines in line order, each with its instructions (gdb's deprecated /m)
  /s  source lines in address order, with FILE: headers
  /r  raw instruction bytes
  /v  (kdive; gdb has no /v) the C variables with a location at each instruction and what its
      memory operand reaches through them, as `dis -v` (see `help dis`)
";

#[derive(Default, Clone, Copy)]
struct Mods {
    m: bool,
    s: bool,
    r: bool,
    v: bool,
}

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let mut mods = Mods::default();
    let mut pos = Vec::new();
    for a in args {
        if let Some(f) = a.strip_prefix('/') {
            for c in f.chars() {
                match c {
                    'm' => mods.m = true,
                    's' => mods.s = true,
                    'r' => mods.r = true,
                    'v' => mods.v = true,
                    _ => {
                        return Err(CmdError::Usage(format!(
                            "Invalid disassembly modifier '{c}' (usage: {USAGE})"
                        )))
                    }
                }
            }
        } else {
            pos.push(a.clone());
        }
    }
    if mods.m && mods.s {
        return Err(CmdError::Usage("Cannot specify both /m and /s.".into()));
    }
    let Some(what) = pos.first() else {
        return Err(CmdError::Usage(format!("usage: {USAGE}")));
    };
    let paths = s.source_paths.clone();
    let n = Namer::new(s);
    let t = crate::dis::parse_target(&n, what)?;
    let (fname, fs, fe) = n.function_bounds(t.addr).ok_or_else(|| {
        CmdError::Usage(format!(
            "No function contains specified address {:#x}.",
            t.addr
        ))
    })?;
    let insns = n.read_insns(fs, fe, None)?;
    let mut src = SourceCache::new(paths);
    let mut text = format!("Dump of assembler code for function {fname}:\n");
    let mut finder = LineFinder::default();
    let lines: Vec<Option<(String, u32)>> =
        insns.iter().map(|i| finder.line(n.k, i.addr)).collect();
    let annotator = std::cell::RefCell::new(
        mods.v
            .then(|| crate::annotate::Annotator::new(n.k, n.ctx.clone())),
    );
    let annotations = std::cell::RefCell::new(std::collections::HashMap::new());
    let fmt_insn = |i: &Insn| {
        let raw = if mods.r {
            let mut b = vec![0u8; i.len];
            let hex = match n.k.read(i.addr, &mut b, "instruction") {
                Ok(()) => b
                    .iter()
                    .map(|x| format!("{x:02x}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                Err(_) => String::new(),
            };
            format!("{hex:<19}\t")
        } else {
            String::new()
        };
        let text = match annotator.borrow_mut().as_mut() {
            Some(a) => {
                let ann = a.annotate(i);
                let t = ann.append_to(&i.text);
                annotations.borrow_mut().insert(i.addr, ann.json());
                t
            }
            None => i.text.clone(),
        };
        format!("   0x{:016x} <+{}>:\t{raw}{text}\n", i.addr, i.addr - fs)
    };
    if mods.m {
        // The function's file is the file of its first instruction with a line.
        let file = lines.iter().flatten().next().map(|l| l.0.clone());
        let addrs: Vec<u64> = insns.iter().map(|i| i.addr).collect();
        let m = file.as_ref().and_then(|f| {
            let (at, present) = finder.source_centric(n.k, (fs, fe), &addrs, f)?;
            let at = at
                .into_iter()
                .map(|l| l.map(|l| (f.clone(), l)))
                .collect::<Vec<_>>();
            let present = present.into_iter().map(|l| (f.clone(), l)).collect();
            Some((at, present))
        });
        let (m_lines, present) = m.unwrap_or_else(|| (lines.clone(), Vec::new()));
        by_line(&insns, &m_lines, &present, &mut src, &mut text, &fmt_insn);
    } else if mods.s {
        by_address(&insns, &lines, &mut src, &mut text, &fmt_insn);
    } else {
        for i in &insns {
            text.push_str(&fmt_insn(i));
        }
    }
    text.push_str("End of assembler dump.\n");
    let json_insns: Vec<_> = insns
        .iter()
        .zip(&lines)
        .map(|(i, l)| {
            let mut j = json!({"addr": format!("{:#x}", i.addr), "offset": i.addr - fs,
                   "text": i.text, "file": l.as_ref().map(|l| l.0.clone()),
                   "line": l.as_ref().map(|l| l.1)});
            if let Some(a) = annotations.borrow_mut().remove(&i.addr) {
                j["annotation"] = a;
            }
            j
        })
        .collect();
    Ok(Report::new(
        text,
        json!({"function": fname, "instructions": json_insns}),
    ))
}

/// Tracks gdb's "No such file" message, printed once per file.
struct SourcePrinter<'a> {
    src: &'a mut SourceCache,
    missing_said: std::collections::HashSet<String>,
}

impl SourcePrinter<'_> {
    fn line(&mut self, out: &mut String, file: &str, n: u32) {
        if self.src.file(file).is_some() {
            let l = self.src.line(file, n).unwrap_or_default();
            out.push_str(&format!("{n}\t{l}\n"));
        } else if self.missing_said.insert(file.to_string()) {
            out.push_str(&format!("{n}\t{file}: No such file or directory.\n"));
        } else {
            out.push_str(&format!("{n}\tin {file}\n"));
        }
    }
}

/// `/m`: the function's own file, line order, each line once with all its instructions and a
/// blank line after it; lines whose rows cover no instruction (`present` only) are groups of
/// their own, without instructions.
fn by_line(
    insns: &[Insn],
    lines: &[Option<(String, u32)>],
    present: &[(String, u32)],
    src: &mut SourceCache,
    out: &mut String,
    fmt: &dyn Fn(&Insn) -> String,
) {
    // The function's file is the file of its first instruction with a line.
    let Some(file) = lines.iter().flatten().next().map(|l| l.0.clone()) else {
        for i in insns {
            out.push_str(&fmt(i));
        }
        return;
    };
    let mut groups: std::collections::BTreeMap<u32, Vec<&Insn>> = Default::default();
    for (f, n) in present {
        if *f == file {
            groups.entry(*n).or_default();
        }
    }
    let mut orphans = Vec::new();
    for (i, l) in insns.iter().zip(lines) {
        match l {
            Some((f, n)) if *f == file => groups.entry(*n).or_default().push(i),
            _ => orphans.push(i),
        }
    }
    let mut p = SourcePrinter {
        src,
        missing_said: Default::default(),
    };
    let mut next: Option<u32> = None;
    for (n, is) in &groups {
        let from = match next {
            Some(x) if x < *n && n - x <= 64 => x,
            _ => *n,
        };
        for l in from..=*n {
            p.line(out, &file, l);
        }
        for i in is {
            out.push_str(&fmt(i));
        }
        out.push('\n');
        next = Some(n + 1);
    }
    // Instructions from inlined code in other files keep gdb's address order at the end.
    for i in &orphans {
        out.push_str(&fmt(i));
    }
    if !orphans.is_empty() && !groups.is_empty() {
        out.push('\n');
    }
}

/// `/s`: address order, a `FILE:` header when the file changes, the lines since the last one
/// shown in that file (when going forward), a blank line between groups.
fn by_address(
    insns: &[Insn],
    lines: &[Option<(String, u32)>],
    src: &mut SourceCache,
    out: &mut String,
    fmt: &dyn Fn(&Insn) -> String,
) {
    let mut p = SourcePrinter {
        src,
        missing_said: Default::default(),
    };
    let mut cur_file: Option<String> = None;
    let mut cur: Option<(String, u32)> = None;
    let mut last_in_file: std::collections::HashMap<String, u32> = Default::default();
    let mut first = true;
    for (i, l) in insns.iter().zip(lines) {
        if let Some((f, n)) = l.clone().filter(|_| *l != cur) {
            if !first {
                out.push('\n');
            }
            first = false;
            if cur_file.as_deref() != Some(f.as_str()) {
                out.push_str(&format!("{f}:\n"));
                cur_file = Some(f.clone());
            }
            let from = match last_in_file.get(&f) {
                Some(&x) if x < n && n - x <= 16 => x + 1,
                _ => n,
            };
            for k in from..=n {
                p.line(out, &f, k);
            }
            let e = last_in_file.entry(f.clone()).or_insert(n);
            *e = (*e).max(n);
            cur = Some((f, n));
        }
        out.push_str(&fmt(i));
    }
}
