//! gdb's C expression syntax parsed into an [`Expr`] tree, with C's precedence: postfix
//! `[] . ->`, unary `* & - ! ~ sizeof` and casts, then `* / %`, `+ -`, `<< >>`, relations,
//! equality, `& ^ |`, `&& ||` and `?:`. crash's per-CPU suffix `symbol:cpu` / `symbol:a` is
//! accepted on identifiers.

use crate::error::{EvalError, Result};
use crate::lex::{tokenize, HistoryRef, Tok, Token};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Plus,
    Not,
    BitNot,
    Deref,
    AddrOf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Mul,
    Div,
    Rem,
    Add,
    Sub,
    Shl,
    Shr,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    BitAnd,
    BitXor,
    BitOr,
    And,
    Or,
}

/// Which CPUs a per-CPU reference (`runqueues:1`, `runqueues:a`) asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CpuSpec {
    All,
    List(Vec<u32>),
}

/// A type written in an expression: `struct task_struct *`, `unsigned long`, `pid_t`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeName {
    /// The base type in C spelling: `struct task_struct`, `unsigned long`, `pid_t`, `void`.
    pub base: String,
    /// Number of `*`s after the base.
    pub pointers: u32,
    /// Byte offset of the type in the input, for errors.
    pub pos: usize,
}

impl TypeName {
    pub fn spelling(&self) -> String {
        if self.pointers == 0 {
            self.base.clone()
        } else {
            format!("{} {}", self.base, "*".repeat(self.pointers as usize))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Int {
        value: u128,
        unsigned: bool,
        longs: u8,
        decimal: bool,
    },
    Char(u8),
    Str(Vec<u8>),
    Ident {
        name: String,
        pos: usize,
    },
    History(HistoryRef),
    PerCpu {
        name: String,
        pos: usize,
        cpus: CpuSpec,
    },
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    Cast(TypeName, Box<Expr>),
    SizeofType(TypeName),
    SizeofExpr(Box<Expr>),
    /// `e.member`
    Member(Box<Expr>, String),
    /// `e->member`
    Arrow(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
}

impl Expr {
    /// The per-CPU reference in this expression, if any (the first found).
    pub fn per_cpu(&self) -> Option<(&str, &CpuSpec)> {
        match self {
            Expr::PerCpu { name, cpus, .. } => Some((name, cpus)),
            Expr::Unary(_, e)
            | Expr::Cast(_, e)
            | Expr::SizeofExpr(e)
            | Expr::Member(e, _)
            | Expr::Arrow(e, _) => e.per_cpu(),
            Expr::Binary(_, a, b) | Expr::Index(a, b) => a.per_cpu().or_else(|| b.per_cpu()),
            Expr::Cond(a, b, c) => a.per_cpu().or_else(|| b.per_cpu()).or_else(|| c.per_cpu()),
            _ => None,
        }
    }
}

/// Words that start a type name.
const TYPE_WORDS: [&str; 16] = [
    "struct", "union", "enum", "unsigned", "signed", "char", "short", "int", "long", "void",
    "_Bool", "float", "double", "const", "volatile", "__int128",
];
const BASE_WORDS: [&str; 10] = [
    "unsigned", "signed", "char", "short", "int", "long", "void", "_Bool", "float", "double",
];

/// Parses `input`; `is_type(name)` says whether an identifier names a type (a typedef), which
/// decides whether `(name)` starts a cast.
pub fn parse_expression(input: &str, is_type: &dyn Fn(&str) -> bool) -> Result<Expr> {
    let toks = tokenize(input)?;
    let mut p = Parser {
        input,
        toks,
        i: 0,
        is_type,
        cond_depth: 0,
        depth: 0,
    };
    if matches!(p.peek(), Tok::Eof) {
        return Err(p.error("expression expected"));
    }
    let e = p.expr()?;
    if !matches!(p.peek(), Tok::Eof) {
        return Err(p.error("unexpected token"));
    }
    Ok(e)
}

/// Parses a type name alone (`struct task_struct *`, `unsigned long`).
pub fn parse_type_name(input: &str, is_type: &dyn Fn(&str) -> bool) -> Result<TypeName> {
    let toks = tokenize(input)?;
    let mut p = Parser {
        input,
        toks,
        i: 0,
        is_type,
        cond_depth: 0,
        depth: 0,
    };
    let t = p.type_name()?;
    if !matches!(p.peek(), Tok::Eof) {
        return Err(p.error("unexpected token after type"));
    }
    Ok(t)
}

/// Bound on nesting, so hostile input cannot overflow the stack.
const MAX_NESTING: u32 = 200;

struct Parser<'a> {
    input: &'a str,
    toks: Vec<Token>,
    i: usize,
    is_type: &'a dyn Fn(&str) -> bool,
    /// Inside the middle of `?:`, a `:` ends the operand instead of starting a CPU spec.
    cond_depth: u32,
    depth: u32,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.i.min(self.toks.len() - 1)].tok
    }
    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.i + n).min(self.toks.len() - 1)].tok
    }
    fn pos(&self) -> usize {
        self.toks[self.i.min(self.toks.len() - 1)].pos
    }
    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.i < self.toks.len() - 1 {
            self.i += 1;
        }
        t
    }
    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }
    fn eat(&mut self, p: &str) -> bool {
        if self.is_punct(p) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, p: &str) -> Result<()> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(self.error(&format!("expected `{p}'")))
        }
    }
    fn error(&self, msg: &str) -> EvalError {
        let pos = self.pos();
        EvalError::Syntax {
            pos,
            msg: msg.to_string(),
            near: self
                .input
                .get(pos..)
                .unwrap_or("")
                .chars()
                .take(20)
                .collect(),
        }
    }

    fn expr(&mut self) -> Result<Expr> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.error("expression nested too deeply"));
        }
        let r = self.conditional();
        self.depth -= 1;
        r
    }

    fn conditional(&mut self) -> Result<Expr> {
        let c = self.binary(0)?;
        if !self.eat("?") {
            if self.is_punct("=") || self.is_punct("+=") || self.is_punct("-=") {
                return Err(self.error("assignment is not allowed: the dump is read-only"));
            }
            return Ok(c);
        }
        self.cond_depth += 1;
        let a = self.expr();
        self.cond_depth -= 1;
        let a = a?;
        self.expect(":")?;
        let b = self.conditional()?;
        Ok(Expr::Cond(Box::new(c), Box::new(a), Box::new(b)))
    }

    /// Precedence climbing over the binary operators; level 0 is `||`.
    fn binary(&mut self, level: usize) -> Result<Expr> {
        const LEVELS: [&[(&str, BinOp)]; 10] = [
            &[("||", BinOp::Or)],
            &[("&&", BinOp::And)],
            &[("|", BinOp::BitOr)],
            &[("^", BinOp::BitXor)],
            &[("&", BinOp::BitAnd)],
            &[("==", BinOp::Eq), ("!=", BinOp::Ne)],
            &[
                ("<", BinOp::Lt),
                ("<=", BinOp::Le),
                (">", BinOp::Gt),
                (">=", BinOp::Ge),
            ],
            &[("<<", BinOp::Shl), (">>", BinOp::Shr)],
            &[("+", BinOp::Add), ("-", BinOp::Sub)],
            &[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Rem)],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut lhs = self.binary(level + 1)?;
        loop {
            let op = match self.peek() {
                Tok::Punct(p) => LEVELS[level].iter().find(|(s, _)| s == p).map(|x| x.1),
                _ => None,
            };
            let Some(op) = op else { return Ok(lhs) };
            self.i += 1;
            let rhs = self.binary(level + 1)?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
    }

    fn starts_type(&self, at: usize) -> bool {
        match self.peek_at(at) {
            Tok::Ident(w) => TYPE_WORDS.contains(&w.as_str()) || (self.is_type)(w),
            _ => false,
        }
    }

    fn unary(&mut self) -> Result<Expr> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.error("expression nested too deeply"));
        }
        let r = self.unary_inner();
        self.depth -= 1;
        r
    }

    fn unary_inner(&mut self) -> Result<Expr> {
        let op = match self.peek() {
            Tok::Punct("-") => Some(UnOp::Neg),
            Tok::Punct("+") => Some(UnOp::Plus),
            Tok::Punct("!") => Some(UnOp::Not),
            Tok::Punct("~") => Some(UnOp::BitNot),
            Tok::Punct("*") => Some(UnOp::Deref),
            Tok::Punct("&") => Some(UnOp::AddrOf),
            Tok::Punct("++") | Tok::Punct("--") => {
                return Err(
                    self.error("increment and decrement are not allowed: the dump is read-only")
                )
            }
            _ => None,
        };
        if let Some(op) = op {
            self.i += 1;
            let e = self.unary()?;
            return Ok(Expr::Unary(op, Box::new(e)));
        }
        if matches!(self.peek(), Tok::Ident(w) if w == "sizeof") {
            self.i += 1;
            if self.is_punct("(") && self.starts_type(1) {
                self.i += 1;
                let t = self.type_name()?;
                self.expect(")")?;
                return Ok(Expr::SizeofType(t));
            }
            let e = self.unary()?;
            return Ok(Expr::SizeofExpr(Box::new(e)));
        }
        if self.is_punct("(") && self.starts_type(1) {
            self.i += 1;
            let t = self.type_name()?;
            self.expect(")")?;
            let e = self.unary()?;
            return Ok(Expr::Cast(t, Box::new(e)));
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Expr> {
        let mut e = self.primary()?;
        loop {
            if self.eat("[") {
                let idx = self.expr()?;
                self.expect("]")?;
                e = Expr::Index(Box::new(e), Box::new(idx));
            } else if self.eat(".") {
                let m = self.member_name()?;
                e = Expr::Member(Box::new(e), m);
            } else if self.eat("->") {
                let m = self.member_name()?;
                e = Expr::Arrow(Box::new(e), m);
            } else if self.is_punct("(") {
                return Err(self.error("function calls are not possible in a dump"));
            } else if self.is_punct("++") || self.is_punct("--") {
                return Err(
                    self.error("increment and decrement are not allowed: the dump is read-only")
                );
            } else {
                return Ok(e);
            }
        }
    }

    fn member_name(&mut self) -> Result<String> {
        match self.bump() {
            Tok::Ident(n) => Ok(n),
            _ => {
                self.i -= 1;
                Err(self.error("member name expected"))
            }
        }
    }

    fn primary(&mut self) -> Result<Expr> {
        let pos = self.pos();
        match self.bump() {
            Tok::Int {
                value,
                unsigned,
                longs,
                decimal,
            } => Ok(Expr::Int {
                value,
                unsigned,
                longs,
                decimal,
            }),
            Tok::Char(c) => Ok(Expr::Char(c)),
            Tok::Str(mut s) => {
                while let Tok::Str(more) = self.peek().clone() {
                    s.extend(more);
                    self.i += 1;
                }
                Ok(Expr::Str(s))
            }
            Tok::History(h) => Ok(Expr::History(h)),
            Tok::Ident(name) => {
                if self.cond_depth == 0 && self.is_punct(":") {
                    self.i += 1;
                    let cpus = self.cpu_spec()?;
                    return Ok(Expr::PerCpu { name, pos, cpus });
                }
                Ok(Expr::Ident { name, pos })
            }
            Tok::Punct("(") => {
                let e = self.expr()?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Eof => {
                self.i = self.toks.len() - 1;
                Err(self.error("expression expected"))
            }
            _ => {
                self.i -= 1;
                Err(self.error("expression expected"))
            }
        }
    }

    /// `a`, `all`, or a list like `0,2-3`.
    fn cpu_spec(&mut self) -> Result<CpuSpec> {
        if let Tok::Ident(w) = self.peek() {
            if w == "a" || w == "all" {
                self.i += 1;
                return Ok(CpuSpec::All);
            }
        }
        let mut cpus = Vec::new();
        loop {
            let a = self.cpu_number()?;
            if self.eat("-") {
                let b = self.cpu_number()?;
                if b < a || b - a > 65536 {
                    return Err(self.error("bad CPU range"));
                }
                cpus.extend(a..=b);
            } else {
                cpus.push(a);
            }
            if !self.eat(",") {
                return Ok(CpuSpec::List(cpus));
            }
        }
    }

    fn cpu_number(&mut self) -> Result<u32> {
        match self.peek() {
            Tok::Int { value, .. } if *value < u32::MAX as u128 => {
                let v = *value as u32;
                self.i += 1;
                Ok(v)
            }
            _ => Err(self.error("CPU number or `a' expected after `:'")),
        }
    }

    fn type_name(&mut self) -> Result<TypeName> {
        let pos = self.pos();
        let mut words: Vec<String> = Vec::new();
        let mut base: Option<String> = None;
        while let Tok::Ident(w) = self.peek().clone() {
            match w.as_str() {
                "const" | "volatile" | "restrict" | "__restrict" => {
                    self.i += 1;
                }
                "struct" | "union" | "enum" if base.is_none() && words.is_empty() => {
                    self.i += 1;
                    match self.bump() {
                        Tok::Ident(tag) => base = Some(format!("{w} {tag}")),
                        _ => {
                            self.i -= 1;
                            return Err(self.error(&format!("{w} tag expected")));
                        }
                    }
                }
                _ if BASE_WORDS.contains(&w.as_str()) && base.is_none() => {
                    self.i += 1;
                    words.push(w);
                }
                _ if base.is_none() && words.is_empty() && (self.is_type)(&w) => {
                    self.i += 1;
                    base = Some(w);
                }
                _ => break,
            }
        }
        let base = match base {
            Some(b) => b,
            None if words.is_empty() => return Err(self.error("type name expected")),
            None => normalize_base_words(&words),
        };
        let mut pointers = 0;
        loop {
            if self.eat("*") {
                pointers += 1;
            } else if matches!(self.peek(), Tok::Ident(w) if w == "const" || w == "volatile") {
                self.i += 1;
            } else {
                break;
            }
        }
        Ok(TypeName {
            base,
            pointers,
            pos,
        })
    }
}

/// `unsigned` → `unsigned int`, `signed` → `int`, `long unsigned int` → `unsigned long`.
fn normalize_base_words(words: &[String]) -> String {
    let has = |w: &str| words.iter().any(|x| x == w);
    let longs = words.iter().filter(|w| *w == "long").count();
    if has("void") {
        return "void".into();
    }
    if has("_Bool") {
        return "_Bool".into();
    }
    if has("float") {
        return "float".into();
    }
    if has("double") {
        return if longs > 0 { "long double" } else { "double" }.into();
    }
    let sign = if has("unsigned") { "unsigned " } else { "" };
    if has("char") {
        return if has("signed") && !has("unsigned") {
            "signed char".into()
        } else {
            format!("{sign}char")
        };
    }
    let core = if has("short") {
        "short"
    } else if longs >= 2 {
        "long long"
    } else if longs == 1 {
        "long"
    } else {
        "int"
    };
    format!("{sign}{core}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_type(n: &str) -> bool {
        matches!(n, "pid_t" | "u64")
    }
    fn p(s: &str) -> Expr {
        parse_expression(s, &is_type).unwrap()
    }
    fn id(n: &str, pos: usize) -> Box<Expr> {
        Box::new(Expr::Ident {
            name: n.into(),
            pos,
        })
    }
    fn int(v: u128) -> Box<Expr> {
        Box::new(Expr::Int {
            value: v,
            unsigned: false,
            longs: 0,
            decimal: true,
        })
    }

    #[test]
    fn precedence() {
        assert_eq!(
            p("1+2*3"),
            Expr::Binary(
                BinOp::Add,
                int(1),
                Box::new(Expr::Binary(BinOp::Mul, int(2), int(3)))
            )
        );
        assert_eq!(
            p("a == 1 || b"),
            Expr::Binary(
                BinOp::Or,
                Box::new(Expr::Binary(BinOp::Eq, id("a", 0), int(1))),
                id("b", 10)
            )
        );
        // Unary binds tighter than binary, postfix tighter than unary.
        assert_eq!(
            p("*a->b"),
            Expr::Unary(UnOp::Deref, Box::new(Expr::Arrow(id("a", 1), "b".into())))
        );
        assert_eq!(
            p("a ? b : c"),
            Expr::Cond(id("a", 0), id("b", 4), id("c", 8))
        );
    }

    #[test]
    fn casts_and_types() {
        let e = p("((struct alx_priv*)0xffff888262589880)->qnapi");
        let Expr::Arrow(inner, m) = e else { panic!() };
        assert_eq!(m, "qnapi");
        let Expr::Cast(t, _) = *inner else { panic!() };
        assert_eq!(t.base, "struct alx_priv");
        assert_eq!(t.pointers, 1);
        let Expr::Cast(t, _) = p("(long unsigned int)x") else {
            panic!()
        };
        assert_eq!(t.base, "unsigned long");
        let Expr::Cast(t, _) = p("(const pid_t * const *)x") else {
            panic!()
        };
        assert_eq!((t.base.as_str(), t.pointers), ("pid_t", 2));
        assert!(matches!(p("sizeof(struct list_head)"), Expr::SizeofType(_)));
        assert!(matches!(p("sizeof(x)"), Expr::SizeofExpr(_)));
        assert!(matches!(p("sizeof x.y"), Expr::SizeofExpr(_)));
        // (x) with x not a type is a parenthesised expression.
        assert_eq!(p("(x)"), *id("x", 1));
        assert_eq!(
            parse_type_name("unsigned", &is_type).unwrap().base,
            "unsigned int"
        );
    }

    #[test]
    fn per_cpu() {
        assert_eq!(
            p("runqueues:1"),
            Expr::PerCpu {
                name: "runqueues".into(),
                pos: 0,
                cpus: CpuSpec::List(vec![1])
            }
        );
        assert_eq!(p("x:a").per_cpu().map(|c| c.1.clone()), Some(CpuSpec::All));
        assert_eq!(
            p("x:0,2-3").per_cpu().map(|c| c.1.clone()),
            Some(CpuSpec::List(vec![0, 2, 3]))
        );
        assert!(matches!(p("c ? x : y"), Expr::Cond(..)));
    }

    #[test]
    fn errors_have_positions() {
        let e = parse_expression("a +", &is_type).unwrap_err();
        assert!(matches!(e, EvalError::Syntax { pos: 3, .. }), "{e:?}");
        let e = parse_expression("a b", &is_type).unwrap_err();
        assert!(matches!(e, EvalError::Syntax { pos: 2, .. }), "{e}");
        assert!(parse_expression("a = 1", &is_type).is_err());
        assert!(parse_expression("f(1)", &is_type).is_err());
        assert!(parse_expression("", &is_type).is_err());
        assert!(parse_expression(&"(".repeat(1000), &is_type).is_err());
        assert!(parse_expression(&"-".repeat(1000), &is_type).is_err());
    }
}
