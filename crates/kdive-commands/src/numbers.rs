//! `eval [-b] EXPR`, `btop ADDR...`, `ptob PFN...`: crash's calculator — an integer
//! expression shown in hex (with its KB/MB/GB size), decimal, octal and binary — and
//! byte ↔ page-frame conversions. Operands follow crash's rules: symbols, `~`, `k`/`m`/`g`
//! suffixes, all-digit numbers decimal and anything else hex; operators `# * / % + - << >>
//! & ^ |` (`#` is power) with C precedence and parentheses.

use crate::{CmdError, Report, Session};
use serde_json::json;

pub const EVAL_USAGE: &str = "eval [-b] EXPRESSION";
pub const BTOP_USAGE: &str = "btop ADDRESS...";
pub const PTOB_USAGE: &str = "ptob PAGE_FRAME_NUMBER...";

pub fn run_eval(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let mut bits = false;
    let mut rest = args;
    while let Some(first) = rest.first() {
        match first.as_str() {
            "-b" => bits = true,
            // crash's -l forces 64-bit output, which 64-bit kernels always have.
            "-l" => {}
            "-lb" | "-bl" => bits = true,
            _ => break,
        }
        rest = &rest[1..];
    }
    if rest.is_empty() {
        return Err(CmdError::Usage(EVAL_USAGE.into()));
    }
    let expr = rest.join(" ");
    let lookup = |name: &str| s.kernel.symbol_addr(name).ok();
    let value = Calc::new(&expr, &lookup)
        .evaluate()
        .map_err(|e| CmdError::Usage(format!("eval: {e}: {expr}")))?;
    let mut text = number_table(value);
    if bits {
        text.push_str(&bits_set(value));
    }
    Ok(Report::new(
        text,
        json!({"expression": expr, "value": value, "signed": value as i64}),
    ))
}

pub fn run_btop(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    convert(s, args, BTOP_USAGE, true)
}

pub fn run_ptob(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    convert(s, args, PTOB_USAGE, false)
}

/// `btop` (address, always hex, to page frame) or `ptob` (page frame, crash's number rules, to
/// address), one `VALUE: RESULT` line each, in hex.
fn convert(s: &Session, args: &[String], usage: &str, to_pfn: bool) -> Result<Report, CmdError> {
    if args.is_empty() {
        return Err(CmdError::Usage(usage.into()));
    }
    let shift = s.kernel.page_size().trailing_zeros();
    let mut text = String::new();
    let mut json = Vec::new();
    for a in args {
        let v = if to_pfn {
            parse_hex(a)
        } else {
            parse_number(a)
        }
        .ok_or_else(|| CmdError::Usage(format!("not a valid number: {a}\n{usage}")))?;
        let r = if to_pfn {
            v >> shift
        } else {
            v.checked_shl(shift)
                .filter(|r| r >> shift == v)
                .ok_or_else(|| CmdError::Usage(format!("{a}: too large a page frame")))?
        };
        text.push_str(&format!("{v:x}: {r:x}\n"));
        json.push(json!({"value": v, "result": r}));
    }
    Ok(Report::new(text, json!(json)))
}

/// crash's `eval` table for a 64-bit value.
fn number_table(v: u64) -> String {
    let size = if v < 1 << 10 {
        String::new()
    } else if v % (1 << 30) == 0 {
        format!("({}GB)", v >> 30)
    } else if v % (1 << 20) == 0 {
        format!("({}MB)", v >> 20)
    } else if v % (1 << 10) == 0 {
        format!("({}KB)", v >> 10)
    } else {
        String::new()
    };
    let signed = if (v as i64) < 0 {
        format!("({})", v as i64)
    } else {
        String::new()
    };
    format!(
        "hexadecimal: {v:x}  {size}\n    decimal: {v}  {signed}\n      octal: {v:o}\n     binary: {v:064b}\n"
    )
}

/// `eval -b`: the numbers of the bits set, highest first, wrapped as crash wraps them.
fn bits_set(v: u64) -> String {
    const HDR: &str = "   bits set: ";
    let mut out = String::from(HDR);
    let mut col = HDR.len();
    for bit in (0..64).rev().filter(|b| v & (1u64 << b) != 0) {
        let item = format!("{bit} ");
        out.push_str(&item);
        col += item.len();
        if col >= 77 {
            out.push('\n');
            out.push_str(&" ".repeat(HDR.len()));
            col = HDR.len();
        }
    }
    out.push('\n');
    out
}

/// A hex number, with or without `0x`.
fn parse_hex(s: &str) -> Option<u64> {
    let d = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    u64::from_str_radix(d, 16).ok()
}

/// crash's number rule: all digits are decimal, a `0x` prefix or any hex letter makes hex.
fn parse_number(s: &str) -> Option<u64> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        parse_hex(s)
    }
}

/// A small precedence-climbing evaluator over crash's operands.
struct Calc<'a> {
    tokens: Vec<Token>,
    pos: usize,
    lookup: &'a dyn Fn(&str) -> Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Op(&'static str),
    Open,
    Close,
}

/// Binary operators, loosest first (C's order; `#`, power, binds tightest).
const LEVELS: &[&[&str]] = &[
    &["|"],
    &["^"],
    &["&"],
    &["<<", ">>"],
    &["+", "-"],
    &["*", "/", "%"],
    &["#"],
];

/// Deepest nesting of parentheses and unary operators accepted.
const MAX_DEPTH: usize = 256;

impl<'a> Calc<'a> {
    fn new(expr: &str, lookup: &'a dyn Fn(&str) -> Option<u64>) -> Calc<'a> {
        Calc {
            tokens: tokenize(expr),
            pos: 0,
            lookup,
        }
    }

    fn evaluate(mut self) -> Result<u64, String> {
        if self.tokens.is_empty() {
            return Err("empty expression".into());
        }
        let v = self.binary(0, 0)?;
        match self.tokens.get(self.pos) {
            None => Ok(v),
            Some(t) => Err(format!("unexpected {t:?}")),
        }
    }

    fn binary(&mut self, level: usize, depth: usize) -> Result<u64, String> {
        if level == LEVELS.len() {
            return self.unary(depth);
        }
        let mut left = self.binary(level + 1, depth)?;
        while let Some(Token::Op(op)) = self.tokens.get(self.pos).cloned() {
            if !LEVELS[level].contains(&op) {
                break;
            }
            self.pos += 1;
            let right = self.binary(level + 1, depth)?;
            left = apply(op, left, right)?;
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<u64, String> {
        if depth > MAX_DEPTH {
            return Err("expression nested too deeply".into());
        }
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        match t {
            Some(Token::Op("-")) => Ok(self.unary(depth + 1)?.wrapping_neg()),
            Some(Token::Op("~")) => Ok(!self.unary(depth + 1)?),
            Some(Token::Open) => {
                let v = self.binary(0, depth + 1)?;
                match self.tokens.get(self.pos) {
                    Some(Token::Close) => {
                        self.pos += 1;
                        Ok(v)
                    }
                    _ => Err("missing )".into()),
                }
            }
            Some(Token::Word(w)) => self.operand(&w),
            Some(t) => Err(format!("unexpected {t:?}")),
            None => Err("expression ends early".into()),
        }
    }

    /// A symbol, or a number with an optional `k`/`m`/`g` factor.
    fn operand(&self, w: &str) -> Result<u64, String> {
        if let Some(v) = (self.lookup)(w) {
            return Ok(v);
        }
        let (digits, factor) = match w.as_bytes().last() {
            Some(b'k' | b'K') => (&w[..w.len() - 1], 1u64 << 10),
            Some(b'm' | b'M') => (&w[..w.len() - 1], 1 << 20),
            Some(b'g' | b'G') => (&w[..w.len() - 1], 1 << 30),
            _ => (w, 1),
        };
        parse_number(digits)
            .map(|v| v.wrapping_mul(factor))
            .ok_or_else(|| format!("not a number or symbol: {w}"))
    }
}

fn apply(op: &str, a: u64, b: u64) -> Result<u64, String> {
    Ok(match op {
        "+" => a.wrapping_add(b),
        "-" => a.wrapping_sub(b),
        "*" => a.wrapping_mul(b),
        "/" => a.checked_div(b).ok_or("divide by zero")?,
        "%" => a.checked_rem(b).ok_or("divide by zero")?,
        "&" => a & b,
        "|" => a | b,
        "^" => a ^ b,
        "<<" => a.checked_shl(b as u32).filter(|_| b < 64).unwrap_or(0),
        ">>" => a.checked_shr(b as u32).filter(|_| b < 64).unwrap_or(0),
        "#" => a.wrapping_pow(b.min(u32::MAX as u64) as u32),
        _ => return Err(format!("unknown operator {op}")),
    })
}

fn tokenize(expr: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<Token>| {
        if !word.is_empty() {
            out.push(Token::Word(std::mem::take(word)));
        }
    };
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        let op = match c {
            '<' | '>' if chars.peek() == Some(&c) => {
                chars.next();
                Some(if c == '<' { "<<" } else { ">>" })
            }
            '+' => Some("+"),
            '-' => Some("-"),
            '*' => Some("*"),
            '/' => Some("/"),
            '%' => Some("%"),
            '&' => Some("&"),
            '|' => Some("|"),
            '^' => Some("^"),
            '#' => Some("#"),
            '~' => Some("~"),
            _ => None,
        };
        if let Some(op) = op {
            flush(&mut word, &mut out);
            out.push(Token::Op(op));
        } else if c == '(' || c == ')' {
            flush(&mut word, &mut out);
            out.push(if c == '(' { Token::Open } else { Token::Close });
        } else if c.is_whitespace() {
            flush(&mut word, &mut out);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calc(e: &str) -> Result<u64, String> {
        let lookup = |n: &str| (n == "jiffies").then_some(0xffff_ffff_8000_1000u64);
        Calc::new(e, &lookup).evaluate()
    }

    #[test]
    fn operands_follow_crashs_number_rules() {
        assert_eq!(calc("0x1000 * 3"), Ok(0x3000));
        assert_eq!(calc("1000 * 3"), Ok(3000));
        assert_eq!(calc("ff + 1"), Ok(0x100));
        assert_eq!(calc("4k"), Ok(4096));
        assert_eq!(calc("2g / 4m"), Ok(512));
        assert_eq!(calc("jiffies + 8"), Ok(0xffff_ffff_8000_1008));
        assert_eq!(calc("~0"), Ok(u64::MAX));
        assert_eq!(calc("-1"), Ok(u64::MAX));
        assert_eq!(calc("2 # 10"), Ok(1024));
    }

    #[test]
    fn precedence_and_parentheses_are_cs() {
        assert_eq!(calc("1 + 2 * 3"), Ok(7));
        assert_eq!(calc("(1 + 2) * 3"), Ok(9));
        assert_eq!(calc("1 << 4 | 1"), Ok(17));
        assert_eq!(calc("0xff & 0xf0 >> 4"), Ok(0xf));
    }

    #[test]
    fn bad_expressions_are_errors_not_panics() {
        assert!(calc("1 / 0").is_err());
        assert!(calc("5 % 0").is_err());
        assert!(calc("(1 + 2").is_err());
        assert!(calc("1 +").is_err());
        assert!(calc("xyz!").is_err());
        assert!(calc("").is_err());
        assert_eq!(calc("1 << 70"), Ok(0));
        let deep = "(".repeat(10_000) + "1" + &")".repeat(10_000);
        assert!(calc(&deep).is_err());
    }

    #[test]
    fn table_matches_crash() {
        assert_eq!(
            number_table(0x3000),
            "hexadecimal: 3000  (12KB)\n    decimal: 12288  \n      octal: 30000\n     binary: 0000000000000000000000000000000000000000000000000011000000000000\n"
        );
        assert!(number_table(u64::MAX).contains("decimal: 18446744073709551615  (-1)\n"));
        assert_eq!(bits_set(0b1010), "   bits set: 3 1 \n");
    }
}
