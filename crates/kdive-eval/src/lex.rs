//! Tokens of gdb's C expression syntax: numbers with suffixes, char and string literals,
//! identifiers, `$N` history references and punctuators.

use crate::error::{EvalError, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// An integer literal: value, `u` suffix, number of `l`s, and whether it was written in
    /// decimal (C types decimal and hex literals differently).
    Int {
        value: u128,
        unsigned: bool,
        longs: u8,
        decimal: bool,
    },
    Char(u8),
    Str(Vec<u8>),
    Ident(String),
    /// `$` (last), `$N`, `$$` (one before last), `$$N` (N before last).
    History(HistoryRef),
    Punct(&'static str),
    Eof,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryRef {
    /// `$N`
    Absolute(usize),
    /// `$` is Back(0), `$$` is Back(1), `$$N` is Back(N).
    Back(usize),
}

/// A token and its byte offset in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    pub pos: usize,
}

const PUNCTS: [&str; 36] = [
    "<<=", ">>=", "->", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "++", "--", "+=", "-=",
    "*=", "/=", "(", ")", "[", "]", ".", ",", "?", ":", "+", "-", "*", "/", "%", "<", ">", "&",
    "^", "|", "!",
];
const MORE_PUNCTS: [&str; 3] = ["~", "=", "@"];

fn err(pos: usize, msg: &str, input: &str) -> EvalError {
    EvalError::Syntax {
        pos,
        msg: msg.to_string(),
        near: input.get(pos..).unwrap_or("").chars().take(20).collect(),
    }
}

pub fn tokenize(input: &str) -> Result<Vec<Token>> {
    let b = input.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c.is_ascii_digit() {
            let (tok, n) = number(&input[i..]).ok_or_else(|| err(i, "invalid number", input))?;
            i += n;
            out.push(Token { tok, pos: start });
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Ident(input[start..i].to_string()),
                pos: start,
            });
            continue;
        }
        if c == b'$' {
            i += 1;
            let double = i < b.len() && b[i] == b'$';
            if double {
                i += 1;
            }
            let ds = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let n: Option<usize> = input[ds..i].parse().ok();
            if i < b.len() && (b[i].is_ascii_alphabetic() || b[i] == b'_') {
                return Err(err(start, "convenience variables are not supported", input));
            }
            let r = match (double, n) {
                (false, None) => HistoryRef::Back(0),
                (false, Some(n)) => HistoryRef::Absolute(n),
                (true, None) => HistoryRef::Back(1),
                (true, Some(n)) => HistoryRef::Back(n),
            };
            out.push(Token {
                tok: Tok::History(r),
                pos: start,
            });
            continue;
        }
        if c == b'\'' {
            let (v, n) = char_body(&b[i + 1..], b'\'')
                .ok_or_else(|| err(i, "bad character literal", input))?;
            if v.len() != 1 {
                return Err(err(i, "character literal must hold one character", input));
            }
            i += 1 + n;
            out.push(Token {
                tok: Tok::Char(v[0]),
                pos: start,
            });
            continue;
        }
        if c == b'"' {
            let (v, n) =
                char_body(&b[i + 1..], b'"').ok_or_else(|| err(i, "unterminated string", input))?;
            i += 1 + n;
            out.push(Token {
                tok: Tok::Str(v),
                pos: start,
            });
            continue;
        }
        let rest = &input[i..];
        let p = PUNCTS
            .iter()
            .chain(MORE_PUNCTS.iter())
            .find(|p| rest.starts_with(**p));
        match p {
            Some(p) => {
                i += p.len();
                out.push(Token {
                    tok: Tok::Punct(p),
                    pos: start,
                });
            }
            None => return Err(err(i, "unexpected character", input)),
        }
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: input.len(),
    });
    Ok(out)
}

/// Parses a number at the start of `s`; returns the token and its length.
fn number(s: &str) -> Option<(Tok, usize)> {
    let b = s.as_bytes();
    let (radix, mut i) = if s.starts_with("0x") || s.starts_with("0X") {
        (16, 2)
    } else if s.starts_with("0b") || s.starts_with("0B") {
        (2, 2)
    } else if b[0] == b'0' && b.len() > 1 && b[1].is_ascii_digit() {
        (8, 1)
    } else {
        (10, 0)
    };
    let ds = i;
    while i < b.len() && (b[i] as char).is_digit(radix) {
        i += 1;
    }
    if i == ds && radix != 8 {
        return None;
    }
    let value = u128::from_str_radix(&s[ds..i], radix).ok()?;
    let mut unsigned = false;
    let mut longs = 0u8;
    while i < b.len() {
        match b[i] {
            b'u' | b'U' if !unsigned => unsigned = true,
            b'l' | b'L' if longs < 2 => longs += 1,
            _ => break,
        }
        i += 1;
    }
    if i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
        return None;
    }
    Some((
        Tok::Int {
            value,
            unsigned,
            longs,
            decimal: radix == 10,
        },
        i,
    ))
}

/// Reads characters up to the closing `quote`; returns the bytes and the length consumed
/// (including the closing quote).
fn char_body(b: &[u8], quote: u8) -> Option<(Vec<u8>, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let c = *b.get(i)?;
        i += 1;
        if c == quote {
            return Some((out, i));
        }
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let e = *b.get(i)?;
        i += 1;
        let v = match e {
            b'n' => b'\n',
            b't' => b'\t',
            b'r' => b'\r',
            b'a' => 7,
            b'b' => 8,
            b'f' => 12,
            b'v' => 11,
            b'e' => 27,
            b'x' => {
                let start = i;
                while i < b.len() && b[i].is_ascii_hexdigit() && i - start < 2 {
                    i += 1;
                }
                u8::from_str_radix(std::str::from_utf8(&b[start..i]).ok()?, 16).ok()?
            }
            b'0'..=b'7' => {
                let start = i - 1;
                while i < b.len() && (b'0'..=b'7').contains(&b[i]) && i - start < 3 {
                    i += 1;
                }
                u32::from_str_radix(std::str::from_utf8(&b[start..i]).ok()?, 8).ok()? as u8
            }
            other => other,
        };
        out.push(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn numbers_and_literals() {
        assert_eq!(
            toks("0x10UL 017 'a' '\\0' \"a\\n\""),
            vec![
                Tok::Int {
                    value: 16,
                    unsigned: true,
                    longs: 1,
                    decimal: false
                },
                Tok::Int {
                    value: 15,
                    unsigned: false,
                    longs: 0,
                    decimal: false
                },
                Tok::Char(b'a'),
                Tok::Char(0),
                Tok::Str(b"a\n".to_vec()),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("$ $3 $$ $$2 a->b"),
            vec![
                Tok::History(HistoryRef::Back(0)),
                Tok::History(HistoryRef::Absolute(3)),
                Tok::History(HistoryRef::Back(1)),
                Tok::History(HistoryRef::Back(2)),
                Tok::Ident("a".into()),
                Tok::Punct("->"),
                Tok::Ident("b".into()),
                Tok::Eof
            ]
        );
        assert!(tokenize("12abc").is_err());
        assert!(tokenize("'ab'").is_err());
        assert!(tokenize("\"abc").is_err());
        assert!(tokenize("#").is_err());
    }
}
