//! Values as gdb's `print` shows them with crash's settings (`set print pretty on`, no
//! `<repeats>` folding, no element limit): `{\n  next = 0x..,\n  prev = 0x..\n}`, arrays
//! `{0x0, 0x0}`, char arrays as strings with `\000`, pointers `0x.. <symbol+off>`, enums by name,
//! `p/x`-style formats. Also the same value as JSON.

use crate::error::{EvalError, Result};
use crate::eval::{extract_bits, Evaluator, Shape};
use crate::value::{bytes_to_i128, Value, ValueKind};
use kdive_debuginfo::{Type, TypeId};

/// How to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrintOptions {
    /// gdb's `/FMT` letter: x d u o t c a (None: natural).
    pub format: Option<char>,
    /// Fold runs of more than this many identical elements into `<repeats N times>`; None
    /// never folds (crash's setting; gdb's default is 10).
    pub repeats: Option<usize>,
    /// Stop arrays and strings after this many elements with `...`; None is unlimited
    /// (crash's setting; gdb's default is 200).
    pub elements: Option<usize>,
    /// gdb's output radix (crash's `-x`/`-d`, `hex`/`dec`): 16 prints integers in hex but
    /// leaves enums, bools, strings and pointers as they are, unlike `/x`. 10 otherwise.
    pub radix: u32,
}

impl PrintOptions {
    /// crash's settings.
    pub fn crash() -> PrintOptions {
        PrintOptions {
            format: None,
            repeats: None,
            elements: None,
            radix: 10,
        }
    }
    /// gdb's defaults.
    pub fn gdb() -> PrintOptions {
        PrintOptions {
            format: None,
            repeats: Some(10),
            elements: Some(200),
            radix: 10,
        }
    }
}

/// Longest string read behind a `char *`.
const MAX_STRING: usize = 4096;

struct Printer<'e, 'a> {
    ev: &'e Evaluator<'a>,
    opts: PrintOptions,
}

/// The text after `$N = ` for a value.
pub fn format_value(ev: &Evaluator, v: &Value, opts: PrintOptions) -> Result<String> {
    let p = Printer { ev, opts };
    if let ValueKind::Untyped { name, addr, text } = &v.kind {
        if *text {
            return Ok(format!(
                "{{<text variable, no debug info>}} {addr:#x} <{name}>"
            ));
        }
        return Err(EvalError::UntypedSymbol { name: name.clone() });
    }
    let shape = ev.shape(v.ty);
    if shape == Shape::Function {
        let addr = v.address().unwrap_or(0);
        return Ok(format!(
            "{{{}}} {addr:#x}{}",
            ev.type_name(v.ty),
            p.symbol_suffix(addr)
        ));
    }
    let bytes = ev.fetch(v)?;
    let body = p.fmt(v.ty, &bytes, 0)?;
    // Top-level pointers show their type, except strings.
    if let Shape::Pointer { target } = shape {
        if opts.format.is_none() && !p.is_char(target) {
            return Ok(format!("({}) {body}", ev.type_name(v.ty)));
        }
    }
    Ok(body)
}

impl Printer<'_, '_> {
    fn is_char(&self, ty: TypeId) -> bool {
        matches!(
            self.ev.shape(ty),
            Shape::Int {
                size: 1,
                is_char: true,
                ..
            }
        )
    }

    fn symbol_suffix(&self, addr: u64) -> String {
        match self.ev.target.symbol_at(addr) {
            Some((name, 0)) => format!(" <{name}>"),
            Some((name, off)) => format!(" <{name}+{off}>"),
            None => String::new(),
        }
    }

    fn fmt(&self, ty: TypeId, bytes: &[u8], level: usize) -> Result<String> {
        let shape = self.ev.shape(ty);
        Ok(match shape {
            Shape::Int {
                size,
                signed,
                is_char,
                is_bool,
            } => {
                let v = bytes_to_i128(bytes, signed);
                match self.opts.format {
                    Some(f) => format_int(v, size, signed, f),
                    None if is_bool && (v == 0 || v == 1) => {
                        (if v == 1 { "true" } else { "false" }).to_string()
                    }
                    None if is_char && size == 1 && self.opts.radix == 16 => {
                        format!("{} {}", format_int(v, 1, false, 'x'), char_literal(v as u8))
                    }
                    None if is_char && size == 1 => format!("{v} {}", char_literal(v as u8)),
                    None if self.opts.radix == 16 => format_int(v, size, signed, 'x'),
                    None => v.to_string(),
                }
            }
            Shape::Enum { size, signed } => {
                let v = bytes_to_i128(bytes, signed);
                if let Some(f) = self.opts.format {
                    return Ok(format_int(v, size, signed, f));
                }
                let id = self.ev.strip(ty);
                let name = self.ev.target.types().with_graph(|g| match g.ty(id) {
                    Type::Enum { values, .. } => values
                        .iter()
                        .find(|(_, x)| *x as i128 == v || (!signed && (*x as u64) as i128 == v))
                        .map(|(n, _)| n.clone()),
                    _ => None,
                });
                name.unwrap_or_else(|| v.to_string())
            }
            Shape::Float { size } => match size {
                4 => format!(
                    "{}",
                    f32::from_le_bytes(bytes[..4].try_into().unwrap_or([0; 4]))
                ),
                8 => format!(
                    "{}",
                    f64::from_le_bytes(bytes[..8].try_into().unwrap_or([0; 8]))
                ),
                _ => format!("<{size}-byte float>"),
            },
            Shape::Pointer { target } => {
                let v = bytes_to_i128(bytes, false) as u64;
                match self.opts.format {
                    Some('a') | None => {}
                    Some(f) => return Ok(format_int(v as i128, 8, false, f)),
                }
                if v != 0 && self.opts.format.is_none() && self.is_char(target) {
                    return Ok(format!(
                        "{v:#x}{} {}",
                        self.symbol_suffix(v),
                        self.c_string(v)
                    ));
                }
                format!("{v:#x}{}", self.symbol_suffix(v))
            }
            Shape::Array { elem, len } => self.array(elem, len.unwrap_or(0), bytes, level)?,
            Shape::Struct(id) | Shape::Union(id) => self.composite(id, bytes, level)?,
            Shape::Incomplete(id) => format!("<incomplete type {}>", self.ev.type_name(id)),
            Shape::Function => "{...}".into(),
            Shape::Void | Shape::Other => "void".into(),
        })
    }

    /// A NUL-terminated string read from `addr`, quoted; an unreadable address says why.
    fn c_string(&self, addr: u64) -> String {
        let limit = self.opts.elements.unwrap_or(MAX_STRING).min(MAX_STRING);
        let mut out = Vec::new();
        let mut a = addr;
        // Read page by page so a string near the end of a mapping still prints.
        while out.len() < limit {
            let chunk = (4096 - (a & 4095)) as usize;
            let chunk = chunk.min(limit - out.len());
            let mut buf = vec![0u8; chunk];
            if let Err(e) = self.ev.target.read(a, &mut buf) {
                if out.is_empty() {
                    return format!("<error: Cannot access memory at address {a:#x}: {e}>");
                }
                break;
            }
            if let Some(n) = buf.iter().position(|&b| b == 0) {
                out.extend_from_slice(&buf[..n]);
                return quote_string(&out, self.opts.repeats, false);
            }
            out.extend_from_slice(&buf);
            a += chunk as u64;
        }
        format!("{}...", quote_string(&out, self.opts.repeats, false))
    }

    fn array(&self, elem: TypeId, len: u64, bytes: &[u8], level: usize) -> Result<String> {
        let esize = self.ev.size_of(elem).unwrap_or(0) as usize;
        if esize == 0 || len == 0 {
            return Ok("{}".into());
        }
        let n = (len as usize).min(bytes.len() / esize);
        if self.opts.format.is_none() && self.is_char(elem) {
            let limit = self.opts.elements.unwrap_or(usize::MAX);
            let mut s = &bytes[..n];
            let truncated = s.len() > limit;
            if truncated {
                s = &s[..limit];
            } else if s.last() == Some(&0) {
                s = &s[..s.len() - 1];
            }
            let mut out = quote_string(s, self.opts.repeats, true);
            if truncated {
                out.push_str("...");
            }
            return Ok(out);
        }
        let mut parts: Vec<String> = Vec::new();
        let limit = self.opts.elements.unwrap_or(usize::MAX);
        let mut printed = 0usize;
        let mut i = 0;
        while i < n {
            if printed >= limit {
                let last = parts.pop().unwrap_or_default();
                parts.push(format!("{last}..."));
                break;
            }
            let e = &bytes[i * esize..(i + 1) * esize];
            let mut reps = 1;
            while i + reps < n && &bytes[(i + reps) * esize..(i + reps + 1) * esize] == e {
                reps += 1;
            }
            let text = self.fmt(elem, e, level + 1)?;
            match self.opts.repeats {
                Some(t) if reps > t => {
                    parts.push(format!("{text} <repeats {reps} times>"));
                    i += reps;
                    printed += t;
                }
                _ => {
                    parts.push(text);
                    i += 1;
                    printed += 1;
                }
            }
        }
        Ok(format!("{{{}}}", parts.join(", ")))
    }

    fn composite(&self, id: TypeId, bytes: &[u8], level: usize) -> Result<String> {
        let members = self
            .ev
            .target
            .types()
            .with_graph(|g| g.members(id).map(|m| m.to_vec()).unwrap_or_default());
        if members.is_empty() {
            return Ok("{}".into());
        }
        let pad = " ".repeat(2 + 2 * level);
        let mut lines = Vec::with_capacity(members.len());
        for m in &members {
            let off = (m.bit_offset / 8) as usize;
            let text = if let Some(width) = m.bit_size {
                let shift = (m.bit_offset % 8) as u32;
                let end = (off + (shift as usize + width as usize).div_ceil(8)).min(bytes.len());
                let signed = matches!(
                    self.ev.shape(m.ty),
                    Shape::Int { signed: true, .. } | Shape::Enum { signed: true, .. }
                );
                let v = extract_bits(bytes.get(off..end).unwrap_or(&[]), shift, width, signed);
                let size = self.ev.size_of(m.ty).unwrap_or(8).min(16) as usize;
                self.fmt(m.ty, &v.to_le_bytes()[..size], level + 1)?
            } else {
                let size = self.ev.size_of(m.ty).unwrap_or(0) as usize;
                match bytes.get(off..off + size) {
                    Some(b) => self.fmt(m.ty, b, level + 1)?,
                    None => "<unavailable>".into(),
                }
            };
            match &m.name {
                Some(n) => lines.push(format!("{pad}{n} = {text}")),
                None => lines.push(format!("{pad}{text}")),
            }
        }
        Ok(format!(
            "{{\n{}\n{}}}",
            lines.join(",\n"),
            " ".repeat(2 * level)
        ))
    }
}

/// An integer in gdb's `/FMT` notation.
pub fn format_int(v: i128, size: u64, signed: bool, f: char) -> String {
    let bits = (size.clamp(1, 16) * 8) as u32;
    let u = if bits >= 128 {
        v as u128
    } else {
        (v as u128) & ((1u128 << bits) - 1)
    };
    match f {
        'x' | 'a' | 'z' => format!("{u:#x}"),
        'o' => {
            if u == 0 {
                "0".into()
            } else {
                format!("0{u:o}")
            }
        }
        't' => format!("{u:b}"),
        'd' => {
            let s = crate::value::wrap(v, size, true);
            s.to_string()
        }
        'u' => u.to_string(),
        'c' => {
            let c = crate::value::wrap(v, 1, signed) as i8;
            format!("{} {}", c, char_literal(c as u8))
        }
        _ => {
            if signed {
                v.to_string()
            } else {
                u.to_string()
            }
        }
    }
}

/// gdb's escape for one byte inside quotes `q`.
fn escape(b: u8, q: u8, out: &mut String) {
    match b {
        b'\\' => out.push_str("\\\\"),
        7 => out.push_str("\\a"),
        8 => out.push_str("\\b"),
        12 => out.push_str("\\f"),
        b'\n' => out.push_str("\\n"),
        b'\r' => out.push_str("\\r"),
        b'\t' => out.push_str("\\t"),
        11 => out.push_str("\\v"),
        _ if b == q => {
            out.push('\\');
            out.push(b as char);
        }
        0x20..=0x7e => out.push(b as char),
        _ => out.push_str(&format!("\\{b:03o}")),
    }
}

/// `'A'`, `'\000'`
pub fn char_literal(b: u8) -> String {
    let mut s = String::from("'");
    escape(b, b'\'', &mut s);
    s.push('\'');
    s
}

/// A byte string in gdb's notation: `"abc"`, with runs longer than `repeats` folded as
/// `"ab", 'c' <repeats 20 times>`.
pub fn quote_string(s: &[u8], repeats: Option<usize>, _array: bool) -> String {
    if s.is_empty() {
        return "\"\"".into();
    }
    let mut segs: Vec<String> = Vec::new();
    let mut cur: Option<String> = None;
    let mut i = 0;
    while i < s.len() {
        let mut reps = 1;
        while i + reps < s.len() && s[i + reps] == s[i] {
            reps += 1;
        }
        if let Some(t) = repeats {
            if reps > t {
                if let Some(mut c) = cur.take() {
                    c.push('"');
                    segs.push(c);
                }
                segs.push(format!("{} <repeats {reps} times>", char_literal(s[i])));
                i += reps;
                continue;
            }
        }
        let c = cur.get_or_insert_with(|| String::from("\""));
        escape(s[i], b'"', c);
        i += 1;
    }
    if let Some(mut c) = cur.take() {
        c.push('"');
        segs.push(c);
    }
    segs.join(", ")
}

/// The value as JSON: numbers, strings for char arrays, objects for structs, arrays.
pub fn value_json(ev: &Evaluator, v: &Value) -> Result<serde_json::Value> {
    let bytes = match &v.kind {
        ValueKind::Untyped { name, addr, .. } => {
            return Ok(serde_json::json!({"symbol": name, "address": addr, "type": null}))
        }
        _ if ev.shape(v.ty) == Shape::Function => {
            return Ok(serde_json::json!({"function": v.address()}));
        }
        _ => ev.fetch(v)?,
    };
    json_of(ev, v.ty, &bytes, 0)
}

fn json_of(ev: &Evaluator, ty: TypeId, bytes: &[u8], depth: u32) -> Result<serde_json::Value> {
    use serde_json::json;
    if depth > 64 {
        return Ok(serde_json::Value::Null);
    }
    Ok(match ev.shape(ty) {
        Shape::Int {
            signed, is_bool, ..
        } => {
            let v = bytes_to_i128(bytes, signed);
            if is_bool {
                json!(v != 0)
            } else if signed {
                json!(v as i64)
            } else {
                json!(v as u64)
            }
        }
        Shape::Enum { signed, .. } => {
            let v = bytes_to_i128(bytes, signed);
            let p = Printer {
                ev,
                opts: PrintOptions::crash(),
            };
            json!({"value": v as i64, "name": p.fmt(ty, bytes, 0)?})
        }
        Shape::Pointer { .. } => json!(bytes_to_i128(bytes, false) as u64),
        Shape::Float { .. } => json!(format!("{:?}", bytes)),
        Shape::Array { elem, len } => {
            let esize = ev.size_of(elem).unwrap_or(0) as usize;
            if esize == 1 && matches!(ev.shape(elem), Shape::Int { is_char: true, .. }) {
                let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                return Ok(json!(String::from_utf8_lossy(&bytes[..end])));
            }
            let n = (len.unwrap_or(0) as usize).min(bytes.len().checked_div(esize).unwrap_or(0));
            let mut a = Vec::with_capacity(n);
            for i in 0..n {
                a.push(json_of(
                    ev,
                    elem,
                    &bytes[i * esize..(i + 1) * esize],
                    depth + 1,
                )?);
            }
            serde_json::Value::Array(a)
        }
        Shape::Struct(id) | Shape::Union(id) => {
            let members = ev
                .target
                .types()
                .with_graph(|g| g.members(id).map(|m| m.to_vec()).unwrap_or_default());
            let mut o = serde_json::Map::new();
            for (i, m) in members.iter().enumerate() {
                let off = (m.bit_offset / 8) as usize;
                let val = if let Some(w) = m.bit_size {
                    let shift = (m.bit_offset % 8) as u32;
                    let end = (off + (shift as usize + w as usize).div_ceil(8)).min(bytes.len());
                    json!(extract_bits(bytes.get(off..end).unwrap_or(&[]), shift, w, false) as u64)
                } else {
                    let size = ev.size_of(m.ty).unwrap_or(0) as usize;
                    match bytes.get(off..off + size) {
                        Some(b) => json_of(ev, m.ty, b, depth + 1)?,
                        None => serde_json::Value::Null,
                    }
                };
                let key = m.name.clone().unwrap_or_else(|| format!("<anonymous {i}>"));
                o.insert(key, val);
            }
            serde_json::Value::Object(o)
        }
        _ => serde_json::Value::Null,
    })
}

/// A value as it appears inside a struct printed at `level` (no `(type *)` prefix): what
/// crash's `struct NAME.member ADDR` shows after `member = `.
pub fn format_member(
    ev: &Evaluator,
    v: &Value,
    opts: PrintOptions,
    level: usize,
) -> Result<String> {
    let p = Printer { ev, opts };
    let bytes = ev.fetch(v)?;
    p.fmt(v.ty, &bytes, level)
}
