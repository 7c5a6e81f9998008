//! Evaluates an [`Expr`] against a [`Target`]: symbols typed through the type store, C's
//! arithmetic and conversions, pointer arithmetic scaled by the target size, member access
//! through declaration stubs, indexing, `&` and `*`, and reads that say why they failed.

use crate::error::{EvalError, Result};
use crate::lex::HistoryRef;
use crate::parse::{parse_expression, BinOp, CpuSpec, Expr, TypeName, UnOp};
use crate::suggest::closest;
use crate::target::Target;
use crate::value::{bytes_to_i128, wrap, Value, ValueKind};
use kdive_debuginfo::{SymbolKind, Type, TypeId};
use std::cell::RefCell;
use std::collections::HashMap;

/// Largest value the evaluator reads in one piece (gdb's `max-value-size` is 64 KiB).
pub const MAX_VALUE_SIZE: u64 = 1 << 20;

/// What a type is, once typedefs and qualifiers are stripped and stubs completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    Void,
    Int {
        size: u64,
        signed: bool,
        is_char: bool,
        is_bool: bool,
    },
    Float {
        size: u64,
    },
    Enum {
        size: u64,
        signed: bool,
    },
    Pointer {
        target: TypeId,
    },
    Array {
        elem: TypeId,
        len: Option<u64>,
    },
    /// A complete struct (its id after completion).
    Struct(TypeId),
    Union(TypeId),
    Function,
    /// An incomplete struct/union/enum nobody could complete.
    Incomplete(TypeId),
    Other,
}

impl Shape {
    pub fn is_scalar(&self) -> bool {
        matches!(
            self,
            Shape::Int { .. } | Shape::Enum { .. } | Shape::Pointer { .. }
        )
    }
}

/// An evaluator over one target, with the session's value history (`$1` is `history[0]`).
pub struct Evaluator<'a> {
    pub target: &'a dyn Target,
    pub history: &'a [Value],
    /// The CPU a `symbol:a` reference stands for in this evaluation.
    pub cpu: Option<u32>,
    bases: RefCell<HashMap<&'static str, TypeId>>,
}

impl<'a> Evaluator<'a> {
    pub fn new(target: &'a dyn Target, history: &'a [Value]) -> Evaluator<'a> {
        Evaluator {
            target,
            history,
            cpu: None,
            bases: RefCell::new(HashMap::new()),
        }
    }

    /// Parses and evaluates `text`.
    pub fn eval_str(&self, text: &str) -> Result<Value> {
        let e = self.parse(text)?;
        self.eval(&e)
    }

    pub fn parse(&self, text: &str) -> Result<Expr> {
        parse_expression(text, &|n| self.is_type_name(n))
    }

    /// Whether an identifier names a type rather than a symbol (decides casts).
    pub fn is_type_name(&self, name: &str) -> bool {
        if self.target.symbol(name).is_some() {
            return false;
        }
        self.target.types().find_type(name).is_some()
    }

    // ---- types ----

    pub fn type_name(&self, ty: TypeId) -> String {
        self.target.types().with_graph(|g| g.type_name(ty))
    }

    /// Strips typedefs and qualifiers, completing struct/union/enum stubs.
    pub fn strip(&self, ty: TypeId) -> TypeId {
        let store = self.target.types();
        let id = store.with_graph(|g| g.strip_typedefs_and_qualifiers(ty));
        if store.with_graph(|g| g.ty(id).is_declaration()) {
            store.complete(id)
        } else {
            id
        }
    }

    pub fn shape(&self, ty: TypeId) -> Shape {
        let id = self.strip(ty);
        self.target.types().with_graph(|g| match g.ty(id) {
            Type::Void => Shape::Void,
            Type::Int {
                size,
                signed,
                is_char,
                is_bool,
                ..
            } => Shape::Int {
                size: *size,
                signed: *signed,
                is_char: *is_char,
                is_bool: *is_bool,
            },
            Type::Float { size, .. } => Shape::Float { size: *size },
            Type::Enum {
                size,
                signed,
                is_declaration,
                ..
            } => {
                if *is_declaration {
                    Shape::Incomplete(id)
                } else {
                    Shape::Enum {
                        size: *size,
                        signed: *signed,
                    }
                }
            }
            Type::Pointer { target } => Shape::Pointer { target: *target },
            Type::Array { elem, len } => Shape::Array {
                elem: *elem,
                len: *len,
            },
            Type::Struct(c) if c.is_declaration => Shape::Incomplete(id),
            Type::Union(c) if c.is_declaration => Shape::Incomplete(id),
            Type::Struct(_) => Shape::Struct(id),
            Type::Union(_) => Shape::Union(id),
            Type::Function { .. } | Type::Func { .. } => Shape::Function,
            Type::Var { .. } => Shape::Other,
            _ => Shape::Other,
        })
    }

    /// `sizeof`, completing stubs on the way (array elements included).
    pub fn size_of(&self, ty: TypeId) -> Option<u64> {
        match self.shape(ty) {
            Shape::Array { elem, len } => self.size_of(elem)?.checked_mul(len.unwrap_or(0)),
            Shape::Struct(id) | Shape::Union(id) => {
                self.target.types().with_graph(|g| g.size_of(id))
            }
            Shape::Pointer { .. } => Some(self.target.types().with_graph(|g| g.pointer_size())),
            Shape::Int { size, .. } | Shape::Float { size } | Shape::Enum { size, .. } => {
                Some(size)
            }
            _ => None,
        }
    }

    /// A base integer type by C name, added to the graph when the source lacks it.
    pub fn base_int(&self, name: &'static str, size: u64, signed: bool) -> TypeId {
        if let Some(id) = self.bases.borrow().get(name) {
            return *id;
        }
        let store = self.target.types();
        let found = store.with_graph(|g| {
            g.find_base(name).filter(
                |&id| matches!(g.ty(id), Type::Int { size: s, signed: sg, .. } if *s == size && *sg == signed),
            )
        });
        let id = found.unwrap_or_else(|| {
            store.add_type(Type::Int {
                name: name.to_string(),
                size,
                signed,
                is_char: name.ends_with("char"),
                is_bool: name == "_Bool",
            })
        });
        self.bases.borrow_mut().insert(name, id);
        id
    }

    fn int_type(&self, size: u64, signed: bool) -> TypeId {
        match (size, signed) {
            (1, true) => self.base_int("char", 1, true),
            (1, false) => self.base_int("unsigned char", 1, false),
            (2, true) => self.base_int("short", 2, true),
            (2, false) => self.base_int("unsigned short", 2, false),
            (4, true) => self.base_int("int", 4, true),
            (4, false) => self.base_int("unsigned int", 4, false),
            (_, true) => self.base_int("long", 8, true),
            (_, false) => self.base_int("unsigned long", 8, false),
        }
    }

    /// gdb's built-in integer types, for names the debug info lacks.
    fn builtin_int(&self, name: &str) -> Option<TypeId> {
        Some(match name {
            "char" => self.base_int("char", 1, true),
            "signed char" => self.base_int("signed char", 1, true),
            "unsigned char" => self.base_int("unsigned char", 1, false),
            "short" => self.base_int("short", 2, true),
            "unsigned short" => self.base_int("unsigned short", 2, false),
            "int" => self.base_int("int", 4, true),
            "unsigned int" => self.base_int("unsigned int", 4, false),
            "long" => self.base_int("long", 8, true),
            "unsigned long" => self.base_int("unsigned long", 8, false),
            "long long" => self.base_int("long long", 8, true),
            "unsigned long long" => self.base_int("unsigned long long", 8, false),
            "_Bool" => self.base_int("_Bool", 1, false),
            _ => return None,
        })
    }

    /// A type written in an expression, with suggestions when it is unknown.
    pub fn resolve_type_name(&self, t: &TypeName) -> Result<TypeId> {
        let store = self.target.types();
        let base = if t.base == "void" {
            TypeId::VOID
        } else {
            match store
                .find_type(&t.base)
                .or_else(|| self.builtin_int(&t.base))
            {
                Some(id) => id,
                None => {
                    let (kw, bare) = match t.base.split_once(' ') {
                        Some((k @ ("struct" | "union" | "enum"), n)) => (Some(k), n),
                        _ => (None, t.base.as_str()),
                    };
                    let suggestions = store.with_graph(|g| {
                        let names = g.iter().filter_map(|(_, ty)| match (kw, ty) {
                            (Some("struct"), Type::Struct(c)) => c.name.as_deref(),
                            (Some("union"), Type::Union(c)) => c.name.as_deref(),
                            (Some("enum"), Type::Enum { name, .. }) => name.as_deref(),
                            (None, Type::Typedef { name, .. }) => Some(name.as_str()),
                            _ => None,
                        });
                        closest(bare, names, 3)
                    });
                    let prefix = kw.map(|k| format!("{k} ")).unwrap_or_default();
                    return Err(EvalError::NoType {
                        name: t.base.clone(),
                        suggestions: suggestions
                            .into_iter()
                            .map(|s| format!("{prefix}{s}"))
                            .collect(),
                    });
                }
            }
        };
        let mut id = base;
        for _ in 0..t.pointers {
            id = store.pointer_to(id);
        }
        Ok(id)
    }

    // ---- memory ----

    pub fn read(&self, addr: u64, len: u64) -> Result<Vec<u8>> {
        if len > MAX_VALUE_SIZE {
            return Err(EvalError::Invalid(format!(
                "value requires {len} bytes, which is more than the limit of {MAX_VALUE_SIZE}"
            )));
        }
        let mut buf = vec![0u8; len as usize];
        self.target
            .read(addr, &mut buf)
            .map_err(|reason| EvalError::Memory { addr, reason })?;
        Ok(buf)
    }

    /// The bytes of a value (reading memory for lvalues; bitfields extracted into the
    /// member type's size).
    pub fn fetch(&self, v: &Value) -> Result<Vec<u8>> {
        match &v.kind {
            ValueKind::Bytes(b) => Ok(b.clone()),
            ValueKind::Untyped { name, .. } => Err(EvalError::UntypedSymbol { name: name.clone() }),
            ValueKind::Mem { addr, bits: None } => {
                let size = self.size_of(v.ty).ok_or_else(|| {
                    EvalError::Invalid(format!(
                        "cannot read a value of incomplete type {}",
                        self.type_name(v.ty)
                    ))
                })?;
                self.read(*addr, size)
            }
            ValueKind::Mem {
                addr,
                bits: Some((off, width)),
            } => {
                let nbytes = (*off as u64 + *width as u64).div_ceil(8);
                let raw = self.read(*addr, nbytes.min(16))?;
                let signed = matches!(
                    self.shape(v.ty),
                    Shape::Int { signed: true, .. } | Shape::Enum { signed: true, .. }
                );
                let val = extract_bits(&raw, *off, *width, signed);
                let size = self.size_of(v.ty).unwrap_or(8).min(16);
                Ok(val.to_le_bytes()[..size as usize].to_vec())
            }
        }
    }

    /// An integer view of a scalar value (integers, enums, bools, chars, pointers; arrays and
    /// functions decay to their address).
    pub fn as_int(&self, v: &Value) -> Result<i128> {
        match self.shape(v.ty) {
            Shape::Int { signed, .. } | Shape::Enum { signed, .. } => {
                Ok(bytes_to_i128(&self.fetch(v)?, signed))
            }
            Shape::Pointer { .. } => Ok(bytes_to_i128(&self.fetch(v)?, false)),
            Shape::Array { .. } | Shape::Function => match v.address() {
                Some(a) => Ok(a as i128),
                None => Err(EvalError::Invalid(
                    "Attempt to take address of value not located in memory.".into(),
                )),
            },
            Shape::Float { .. } => Err(EvalError::Invalid(
                "floating-point arithmetic is not supported".into(),
            )),
            _ => Err(EvalError::Invalid(format!(
                "Value of type {} is not a scalar.",
                self.type_name(v.ty)
            ))),
        }
    }

    fn untyped_check(&self, v: &Value) -> Result<()> {
        if let ValueKind::Untyped { name, .. } = &v.kind {
            return Err(EvalError::UntypedSymbol { name: name.clone() });
        }
        Ok(())
    }

    // ---- evaluation ----

    pub fn eval(&self, e: &Expr) -> Result<Value> {
        match e {
            Expr::Int {
                value,
                unsigned,
                longs,
                decimal,
            } => self.literal(*value, *unsigned, *longs, *decimal),
            Expr::Char(c) => Ok(Value::int(self.base_int("char", 1, true), *c as u64, 1)),
            Expr::Str(s) => {
                let ch = self.base_int("char", 1, true);
                let mut bytes = s.clone();
                bytes.push(0);
                let arr = self.target.types().add_type(Type::Array {
                    elem: ch,
                    len: Some(bytes.len() as u64),
                });
                Ok(Value::bytes(arr, bytes))
            }
            Expr::Ident { name, .. } => self.symbol(name),
            Expr::History(h) => self.history_value(*h),
            Expr::PerCpu { name, cpus, .. } => {
                let cpu = match cpus {
                    CpuSpec::List(l) if l.len() == 1 => l[0],
                    _ => self.cpu.ok_or_else(|| {
                        EvalError::Invalid(format!(
                            "{name}: a per-CPU reference to several CPUs must stand alone"
                        ))
                    })?,
                };
                self.per_cpu_symbol(name, cpu)
            }
            Expr::Unary(op, a) => self.unary(*op, a),
            Expr::Binary(op, a, b) => self.binary(*op, a, b),
            Expr::Cond(c, a, b) => {
                let c = self.eval(c)?;
                if self.truth(&c)? {
                    self.eval(a)
                } else {
                    self.eval(b)
                }
            }
            Expr::Cast(t, a) => {
                let ty = self.resolve_type_name(t)?;
                let v = self.eval(a)?;
                self.cast(v, ty)
            }
            Expr::SizeofType(t) => {
                let ty = self.resolve_type_name(t)?;
                self.sizeof_value(ty)
            }
            Expr::SizeofExpr(a) => {
                let v = self.eval(a)?;
                self.untyped_check(&v)?;
                self.sizeof_value(v.ty)
            }
            Expr::Member(a, m) => {
                let v = self.eval(a)?;
                self.member(v, m)
            }
            Expr::Arrow(a, m) => {
                let v = self.eval(a)?;
                self.untyped_check(&v)?;
                match self.shape(v.ty) {
                    Shape::Pointer { .. } => {
                        let d = self.deref(v)?;
                        self.member(d, m)
                    }
                    _ => Err(EvalError::Invalid(format!(
                        "The -> operator needs a pointer; {} is not one.",
                        self.type_name(v.ty)
                    ))),
                }
            }
            Expr::Index(a, i) => {
                let v = self.eval(a)?;
                let i = self.eval(i)?;
                let i = self.as_int(&i)?;
                self.index(v, i)
            }
        }
    }

    fn literal(&self, value: u128, unsigned: bool, longs: u8, _decimal: bool) -> Result<Value> {
        if value > u64::MAX as u128 {
            return Err(EvalError::Invalid("Numeric constant too large.".into()));
        }
        let v = value as u64;
        let (size, signed) = if longs == 0 && !unsigned && v <= i32::MAX as u64 {
            (4, true)
        } else if longs == 0 && v <= u32::MAX as u64 {
            (4, false)
        } else if !unsigned && v <= i64::MAX as u64 {
            (8, true)
        } else {
            (8, false)
        };
        Ok(Value::int(self.int_type(size, signed), v, size))
    }

    fn sizeof_value(&self, ty: TypeId) -> Result<Value> {
        let size = match self.shape(ty) {
            Shape::Void | Shape::Function => Some(1),
            _ => self.size_of(ty),
        }
        .ok_or_else(|| {
            EvalError::Invalid(format!("sizeof of incomplete type {}", self.type_name(ty)))
        })?;
        Ok(Value::int(self.int_type(8, false), size, 8))
    }

    pub fn history_value(&self, h: HistoryRef) -> Result<Value> {
        let n = self.history.len();
        let idx = match h {
            HistoryRef::Absolute(0) | HistoryRef::Back(0) => n.checked_sub(1),
            HistoryRef::Absolute(k) => (k <= n).then(|| k - 1),
            HistoryRef::Back(k) => n.checked_sub(k + 1),
        };
        match idx {
            Some(i) => Ok(self.history[i].clone()),
            None => match h {
                HistoryRef::Absolute(k) if k > 0 => Err(EvalError::NoHistory(k)),
                _ => Err(EvalError::Invalid("History is empty.".into())),
            },
        }
    }

    /// A symbol by name: a typed variable, a function, an enumerator, or an untyped symbol.
    pub fn symbol(&self, name: &str) -> Result<Value> {
        let store = self.target.types();
        let sym = self.target.symbol(name);
        if let Some(s) = &sym {
            if s.per_cpu {
                return match self.cpu {
                    Some(cpu) => self.per_cpu_symbol(name, cpu),
                    None => Err(EvalError::Invalid(format!(
                        "{name} is a per-CPU variable: say which CPU ({name}:0, or {name}:a for all)"
                    ))),
                };
            }
            if s.kind != SymbolKind::Text {
                if let Some(v) = store.variable(name) {
                    return Ok(Value::mem(self.bound_by_symbol(v.ty, s.size), s.addr));
                }
            }
            if let Some(f) = store.function(name) {
                return Ok(Value::mem(f.ty, s.addr));
            }
            return Ok(Value {
                ty: TypeId::VOID,
                kind: ValueKind::Untyped {
                    name: name.to_string(),
                    addr: s.addr,
                    text: s.kind == SymbolKind::Text,
                },
            });
        }
        if let Some((ety, val)) = store.with_graph(|g| g.find_enumerator(name)) {
            let size = self.size_of(ety).unwrap_or(4);
            return Ok(Value::int(ety, val as u64, size));
        }
        Err(EvalError::NoSymbol {
            name: name.to_string(),
            suggestions: closest(name, self.target.symbol_names(), 3),
        })
    }

    /// A variable declared `T name[]` whose definition has no debug info (`linux_banner`: its
    /// file is built without -g) takes its bound from the symbol's size, as gdb does. Qualifiers
    /// on the array already sit on its elements, so they are dropped with it.
    fn bound_by_symbol(&self, ty: TypeId, size: u64) -> TypeId {
        let store = self.target.types();
        let open = store.with_graph(|g| match g.ty(g.strip_typedefs_and_qualifiers(ty)) {
            Type::Array { elem, len: None } => g.size_of(*elem).map(|s| (*elem, s)),
            _ => None,
        });
        match open {
            Some((elem, esize)) if size != 0 && esize != 0 && size % esize == 0 => {
                store.add_type(Type::Array {
                    elem,
                    len: Some(size / esize),
                })
            }
            _ => ty,
        }
    }

    /// Per-CPU variable `name` on `cpu`.
    pub fn per_cpu_symbol(&self, name: &str, cpu: u32) -> Result<Value> {
        let s = self
            .target
            .symbol(name)
            .ok_or_else(|| EvalError::NoSymbol {
                name: name.to_string(),
                suggestions: closest(name, self.target.symbol_names(), 3),
            })?;
        if !s.per_cpu {
            return Err(EvalError::Invalid(format!(
                "{name} is not a per-CPU symbol"
            )));
        }
        let off = self.target.per_cpu_offset(cpu).ok_or_else(|| {
            EvalError::Invalid(format!(
                "invalid cpu: {cpu} (the dump has {} CPUs)",
                self.target.nr_cpus()
            ))
        })?;
        let addr = s.addr.wrapping_add(off);
        match self.target.types().variable(name) {
            Some(v) => Ok(Value::mem(v.ty, addr)),
            None => Ok(Value {
                ty: TypeId::VOID,
                kind: ValueKind::Untyped {
                    name: name.to_string(),
                    addr,
                    text: false,
                },
            }),
        }
    }

    pub fn truth(&self, v: &Value) -> Result<bool> {
        Ok(self.as_int(v)? != 0)
    }

    /// `*v`: a pointer's target (or an array's first element) as an lvalue.
    pub fn deref(&self, v: Value) -> Result<Value> {
        self.untyped_check(&v)?;
        match self.shape(v.ty) {
            Shape::Pointer { target } => {
                if matches!(self.shape(target), Shape::Void) {
                    return Err(EvalError::Invalid(
                        "Attempt to take contents of a non-pointer value.".into(),
                    ));
                }
                let addr = self.as_int(&v)? as u64;
                Ok(Value::mem(target, addr))
            }
            Shape::Array { .. } => self.index(v, 0),
            Shape::Function => Ok(v),
            _ => Err(EvalError::Invalid(
                "Attempt to take contents of a non-pointer value.".into(),
            )),
        }
    }

    /// `&v`
    pub fn address_of(&self, v: Value) -> Result<Value> {
        let store = self.target.types();
        match &v.kind {
            ValueKind::Mem { addr, bits: None } => {
                let p = store.pointer_to(v.ty);
                Ok(Value::int(p, *addr, 8))
            }
            ValueKind::Mem { .. } => Err(EvalError::Invalid(
                "Attempt to take address of value not located in memory.".into(),
            )),
            ValueKind::Untyped { addr, text, .. } => {
                let label = if *text {
                    "<text variable, no debug info>"
                } else {
                    "<data variable, no debug info>"
                };
                let marker = store
                    .with_graph(|g| g.find_typedef(label))
                    .unwrap_or_else(|| {
                        store.add_type(Type::Typedef {
                            name: label.to_string(),
                            target: TypeId::VOID,
                        })
                    });
                Ok(Value::int(store.pointer_to(marker), *addr, 8))
            }
            ValueKind::Bytes(_) => Err(EvalError::Invalid(
                "Attempt to take address of value not located in memory.".into(),
            )),
        }
    }

    /// `v.m` (also on a pointer, as gdb allows).
    pub fn member(&self, v: Value, m: &str) -> Result<Value> {
        self.untyped_check(&v)?;
        let sid = match self.shape(v.ty) {
            Shape::Struct(id) | Shape::Union(id) => id,
            Shape::Pointer { .. } => return self.member(self.deref(v)?, m),
            Shape::Incomplete(_) => {
                return Err(EvalError::Invalid(format!(
                    "{} is incomplete: no definition in the debug info",
                    self.type_name(v.ty)
                )))
            }
            _ => {
                return Err(EvalError::Invalid(format!(
                    "Attempt to extract a component of a value that is not a structure ({}).",
                    self.type_name(v.ty)
                )))
            }
        };
        let store = self.target.types();
        let info = store.with_graph(|g| g.member(sid, m));
        let Some(info) = info else {
            let (ty, names) = store.with_graph(|g| {
                let mut names = Vec::new();
                collect_member_names(g, sid, &mut names, 0);
                (g.type_name(sid), names)
            });
            return Err(EvalError::NoMember {
                ty,
                member: m.to_string(),
                suggestions: closest(m, names.iter().map(String::as_str), 3),
            });
        };
        let bit_in = (info.bit_offset - info.offset * 8) as u32;
        let bits = info
            .bit_size
            .map(|w| (bit_in, w))
            .or((bit_in != 0).then_some((bit_in, 0)));
        let bits = match bits {
            Some((_, 0)) | None => None,
            b => b,
        };
        match v.kind {
            ValueKind::Mem { addr, .. } => Ok(Value {
                ty: info.ty,
                kind: ValueKind::Mem {
                    addr: addr.wrapping_add(info.offset),
                    bits,
                },
            }),
            ValueKind::Bytes(b) => {
                if let Some((off, width)) = bits {
                    let start = info.offset as usize;
                    let end = (start + (off as usize + width as usize).div_ceil(8)).min(b.len());
                    let signed = matches!(self.shape(info.ty), Shape::Int { signed: true, .. });
                    let val = extract_bits(b.get(start..end).unwrap_or(&[]), off, width, signed);
                    let size = self.size_of(info.ty).unwrap_or(4).min(16);
                    return Ok(Value::bytes(
                        info.ty,
                        val.to_le_bytes()[..size as usize].to_vec(),
                    ));
                }
                let size = self.size_of(info.ty).unwrap_or(0) as usize;
                let start = info.offset as usize;
                let slice = b.get(start..start + size).ok_or_else(|| {
                    EvalError::Invalid(format!("member {m} lies outside the value"))
                })?;
                Ok(Value::bytes(info.ty, slice.to_vec()))
            }
            ValueKind::Untyped { .. } => unreachable!("checked above"),
        }
    }

    /// `v[i]` for arrays and pointers.
    pub fn index(&self, v: Value, i: i128) -> Result<Value> {
        self.untyped_check(&v)?;
        match self.shape(v.ty) {
            Shape::Array { elem, .. } => {
                let esize = self.size_of(elem).ok_or_else(|| {
                    EvalError::Invalid(format!(
                        "array element of incomplete type {}",
                        self.type_name(elem)
                    ))
                })?;
                let off = (i as i64).wrapping_mul(esize as i64);
                match v.kind {
                    ValueKind::Mem { addr, .. } => {
                        Ok(Value::mem(elem, addr.wrapping_add(off as u64)))
                    }
                    ValueKind::Bytes(b) => {
                        let start = usize::try_from(off).ok();
                        let slice = start
                            .and_then(|s| b.get(s..s + esize as usize))
                            .ok_or_else(|| {
                                EvalError::Invalid(format!("no such vector element: {i}"))
                            })?;
                        Ok(Value::bytes(elem, slice.to_vec()))
                    }
                    ValueKind::Untyped { .. } => unreachable!(),
                }
            }
            Shape::Pointer { target } => {
                let esize = match self.shape(target) {
                    Shape::Void => 1,
                    _ => self.size_of(target).ok_or_else(|| {
                        EvalError::Invalid(format!(
                            "cannot index a pointer to incomplete type {}",
                            self.type_name(target)
                        ))
                    })?,
                };
                let base = self.as_int(&v)? as u64;
                let addr = base.wrapping_add((i as i64).wrapping_mul(esize as i64) as u64);
                Ok(Value::mem(target, addr))
            }
            _ => Err(EvalError::Invalid(format!(
                "cannot subscript something of type `{}'",
                self.type_name(v.ty)
            ))),
        }
    }

    /// `(ty) v`
    pub fn cast(&self, v: Value, ty: TypeId) -> Result<Value> {
        let to = self.shape(ty);
        if let ValueKind::Untyped { addr, .. } = &v.kind {
            // gdb: an untyped symbol cast to a type is read as that type.
            return Ok(Value::mem(ty, *addr));
        }
        match &to {
            Shape::Int {
                size,
                signed,
                is_bool,
                ..
            } => {
                let x = self.as_int(&v)?;
                let x = if *is_bool {
                    (x != 0) as i128
                } else {
                    wrap(x, *size, *signed)
                };
                Ok(Value::int(ty, x as u64, *size))
            }
            Shape::Enum { size, signed } => {
                let x = wrap(self.as_int(&v)?, *size, *signed);
                Ok(Value::int(ty, x as u64, *size))
            }
            Shape::Pointer { .. } => {
                let x = self.as_int(&v)?;
                Ok(Value::int(ty, x as u64, 8))
            }
            Shape::Void => Ok(Value::bytes(ty, Vec::new())),
            Shape::Struct(_) | Shape::Union(_) | Shape::Array { .. } => match v.kind {
                ValueKind::Mem { addr, bits: None } => Ok(Value::mem(ty, addr)),
                _ => Err(EvalError::Invalid("Invalid cast.".into())),
            },
            _ => Err(EvalError::Invalid("Invalid cast.".into())),
        }
    }

    fn unary(&self, op: UnOp, a: &Expr) -> Result<Value> {
        let v = self.eval(a)?;
        match op {
            UnOp::Deref => self.deref(v),
            UnOp::AddrOf => self.address_of(v),
            UnOp::Not => {
                self.untyped_check(&v)?;
                let t = self.truth(&v)?;
                Ok(Value::int(self.int_type(4, true), (!t) as u64, 4))
            }
            UnOp::Neg | UnOp::Plus | UnOp::BitNot => {
                self.untyped_check(&v)?;
                let (size, signed) = self.promoted(v.ty)?;
                let x = self.as_int(&v)?;
                let r = match op {
                    UnOp::Neg => x.wrapping_neg(),
                    UnOp::BitNot => !x,
                    _ => x,
                };
                Ok(Value::int(
                    self.int_type(size, signed),
                    wrap(r, size, signed) as u64,
                    size,
                ))
            }
        }
    }

    /// The integer promotion of an arithmetic type: (size, signed).
    fn promoted(&self, ty: TypeId) -> Result<(u64, bool)> {
        match self.shape(ty) {
            Shape::Int { size, signed, .. } | Shape::Enum { size, signed } => {
                if size < 4 {
                    Ok((4, true))
                } else {
                    Ok((size.min(8), signed))
                }
            }
            _ => Err(EvalError::Invalid(format!(
                "Argument to arithmetic operation not a number or boolean ({}).",
                self.type_name(ty)
            ))),
        }
    }

    /// The element size a pointer (or decayed array) steps by; None for non-pointers.
    fn pointer_step(&self, ty: TypeId) -> Option<(TypeId, u64)> {
        let target = match self.shape(ty) {
            Shape::Pointer { target } => target,
            Shape::Array { elem, .. } => elem,
            _ => return None,
        };
        let step = match self.shape(target) {
            Shape::Void | Shape::Function => 1,
            _ => self.size_of(target).unwrap_or(1),
        };
        Some((target, step.max(1)))
    }

    fn binary(&self, op: BinOp, a: &Expr, b: &Expr) -> Result<Value> {
        let int = self.int_type(4, true);
        if matches!(op, BinOp::And | BinOp::Or) {
            let l = self.eval(a)?;
            self.untyped_check(&l)?;
            let lt = self.truth(&l)?;
            let r = match (op, lt) {
                (BinOp::And, false) => false,
                (BinOp::Or, true) => true,
                _ => {
                    let r = self.eval(b)?;
                    self.untyped_check(&r)?;
                    self.truth(&r)?
                }
            };
            return Ok(Value::int(int, r as u64, 4));
        }
        let l = self.eval(a)?;
        let r = self.eval(b)?;
        self.untyped_check(&l)?;
        self.untyped_check(&r)?;
        let lp = self.pointer_step(l.ty);
        let rp = self.pointer_step(r.ty);
        // Pointer arithmetic and comparisons.
        if lp.is_some() || rp.is_some() {
            let x = self.as_int(&l)?;
            let y = self.as_int(&r)?;
            let cmp = |c: bool| Ok(Value::int(int, c as u64, 4));
            return match (op, lp, rp) {
                (BinOp::Add, Some((t, s)), None) | (BinOp::Sub, Some((t, s)), None) => {
                    let d = y.wrapping_mul(s as i128);
                    let v = if op == BinOp::Add {
                        x.wrapping_add(d)
                    } else {
                        x.wrapping_sub(d)
                    };
                    let pty = self.pointer_type_of(l.ty, t);
                    Ok(Value::int(pty, v as u64, 8))
                }
                (BinOp::Add, None, Some((t, s))) => {
                    let v = y.wrapping_add(x.wrapping_mul(s as i128));
                    let pty = self.pointer_type_of(r.ty, t);
                    Ok(Value::int(pty, v as u64, 8))
                }
                (BinOp::Sub, Some((_, s)), Some(_)) => {
                    let d = (x as i64).wrapping_sub(y as i64) / s as i64;
                    Ok(Value::int(self.int_type(8, true), d as u64, 8))
                }
                (BinOp::Eq, ..) => cmp(x == y),
                (BinOp::Ne, ..) => cmp(x != y),
                (BinOp::Lt, ..) => cmp((x as u64) < (y as u64)),
                (BinOp::Le, ..) => cmp((x as u64) <= (y as u64)),
                (BinOp::Gt, ..) => cmp((x as u64) > (y as u64)),
                (BinOp::Ge, ..) => cmp((x as u64) >= (y as u64)),
                (BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor, ..) => {
                    let v = match op {
                        BinOp::BitAnd => x & y,
                        BinOp::BitOr => x | y,
                        _ => x ^ y,
                    };
                    Ok(Value::int(self.int_type(8, false), v as u64, 8))
                }
                _ => Err(EvalError::Invalid(
                    "Argument to arithmetic operation not a number or boolean.".into(),
                )),
            };
        }
        let (ls, lsg) = self.promoted(l.ty)?;
        let (rs, rsg) = self.promoted(r.ty)?;
        let size = ls.max(rs);
        let signed = if ls == rs {
            lsg && rsg
        } else if ls > rs {
            lsg
        } else {
            rsg
        };
        let x = wrap(self.as_int(&l)?, size, signed);
        let y = wrap(self.as_int(&r)?, size, signed);
        let cmp = |c: bool| Ok(Value::int(int, c as u64, 4));
        let v = match op {
            BinOp::Mul => x.wrapping_mul(y),
            BinOp::Div | BinOp::Rem => {
                if y == 0 {
                    return Err(EvalError::Invalid("Division by zero".into()));
                }
                if op == BinOp::Div {
                    x.wrapping_div(y)
                } else {
                    x.wrapping_rem(y)
                }
            }
            BinOp::Add => x.wrapping_add(y),
            BinOp::Sub => x.wrapping_sub(y),
            BinOp::Shl | BinOp::Shr => {
                // The result has the promoted left operand's type.
                let sh = (y as u32) & 127;
                let x = wrap(self.as_int(&l)?, ls, lsg);
                let v = if op == BinOp::Shl {
                    x.wrapping_shl(sh)
                } else {
                    x >> sh
                };
                return Ok(Value::int(
                    self.int_type(ls, lsg),
                    wrap(v, ls, lsg) as u64,
                    ls,
                ));
            }
            BinOp::Lt => return cmp(x < y),
            BinOp::Le => return cmp(x <= y),
            BinOp::Gt => return cmp(x > y),
            BinOp::Ge => return cmp(x >= y),
            BinOp::Eq => return cmp(x == y),
            BinOp::Ne => return cmp(x != y),
            BinOp::BitAnd => x & y,
            BinOp::BitXor => x ^ y,
            BinOp::BitOr => x | y,
            BinOp::And | BinOp::Or => unreachable!("handled above"),
        };
        Ok(Value::int(
            self.int_type(size, signed),
            wrap(v, size, signed) as u64,
            size,
        ))
    }

    /// The pointer type for arithmetic on `ty` (an array decays to a pointer to its element).
    fn pointer_type_of(&self, ty: TypeId, elem: TypeId) -> TypeId {
        match self.shape(ty) {
            Shape::Pointer { .. } => ty,
            _ => self.target.types().pointer_to(elem),
        }
    }
}

/// Bits `[off, off+width)` of little-endian `raw`, sign-extended when `signed`.
pub fn extract_bits(raw: &[u8], off: u32, width: u32, signed: bool) -> u128 {
    let v = bytes_to_i128(raw, false) as u128;
    let width = width.min(64);
    if width == 0 {
        return 0;
    }
    let mask = (1u128 << width) - 1;
    let x = (v >> off) & mask;
    if signed && (x >> (width - 1)) & 1 == 1 {
        x | !mask
    } else {
        x
    }
}

/// Member names of a struct, looking into anonymous members, for suggestions.
fn collect_member_names(
    g: &kdive_debuginfo::TypeGraph,
    id: TypeId,
    out: &mut Vec<String>,
    depth: u32,
) {
    if depth > 16 || out.len() > 4096 {
        return;
    }
    for m in g.members(id).unwrap_or(&[]) {
        match &m.name {
            Some(n) => out.push(n.clone()),
            None => collect_member_names(g, m.ty, out, depth + 1),
        }
    }
}
