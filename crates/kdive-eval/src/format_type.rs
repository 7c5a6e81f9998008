//! C declarations as gdb's `ptype`/`whatis` print them: struct bodies with 4-space indents,
//! anonymous structs and unions expanded inline, arrays, function pointers, bitfields, enums
//! with `= value` where the numbering jumps, and `ptype EXPR` of a pointer as `struct x {...} *`.
//! Also crash's `struct -o` layout with `[offset]` columns.

use crate::eval::Evaluator;
use kdive_debuginfo::{Type, TypeGraph, TypeId};

/// Bound on nesting of anonymous members and declarators (hostile graphs).
const MAX_DEPTH: u32 = 32;

/// How a base type (struct/union/enum) is printed inside a declaration.
#[derive(Clone, Copy)]
enum Expand {
    /// Only anonymous composites are expanded (member declarations).
    Anonymous,
    /// `target` (and anonymous composites) are expanded: the type `ptype` was asked about.
    Target(TypeId),
}

pub struct TypePrinter<'g> {
    g: &'g TypeGraph,
    /// Print `[offset]` columns (crash's `struct -o`), with this column width.
    offsets: Option<usize>,
    /// With `offsets`: print each member's address (`[ffff8880...]`) from this base instead.
    base_addr: Option<u64>,
}

impl<'g> TypePrinter<'g> {
    pub fn new(g: &'g TypeGraph) -> TypePrinter<'g> {
        TypePrinter {
            g,
            offsets: None,
            base_addr: None,
        }
    }

    /// A declaration of `name` with type `id`, anonymous composites expanded at `level`.
    pub fn declare(&self, id: TypeId, name: &str, level: u32) -> String {
        self.decl(id, name.to_string(), level, Expand::Anonymous, 0, false)
    }

    fn decl(
        &self,
        id: TypeId,
        inner: String,
        level: u32,
        ex: Expand,
        depth: u32,
        follow_typedefs: bool,
    ) -> String {
        if depth > MAX_DEPTH {
            return with_inner("...", &inner);
        }
        let d = depth + 1;
        let g = self.g;
        match g.ty(id) {
            Type::Typedef { name, target } => {
                if follow_typedefs {
                    self.decl(*target, inner, level, ex, d, true)
                } else {
                    with_inner(name, &inner)
                }
            }
            Type::Struct(c) | Type::Union(c) => {
                let expand = match ex {
                    Expand::Target(t) => {
                        t == id || g.resolve_declaration(id) == t || c.name.is_none()
                    }
                    Expand::Anonymous => c.name.is_none(),
                };
                if expand {
                    let full = g.resolve_declaration(id);
                    with_inner(&self.body(full, level, 0, depth), &inner)
                } else {
                    with_inner(&g.type_name(id), &inner)
                }
            }
            Type::Enum { name, .. } => {
                let expand = match ex {
                    Expand::Target(t) => t == id || name.is_none(),
                    Expand::Anonymous => name.is_none(),
                };
                if expand {
                    with_inner(&self.enum_body(g.resolve_declaration(id)), &inner)
                } else {
                    with_inner(&g.type_name(id), &inner)
                }
            }
            Type::Pointer { target } => {
                self.decl(*target, format!("*{inner}"), level, ex, d, follow_typedefs)
            }
            Type::Const { target } | Type::Volatile { target }
                if g.redundant_array_qualifier(id) =>
            {
                self.decl(*target, inner, level, ex, d, follow_typedefs)
            }
            Type::Const { target } | Type::Volatile { target } | Type::Restrict { target } => {
                let q = match g.ty(id) {
                    Type::Const { .. } => "const",
                    Type::Volatile { .. } => "volatile",
                    _ => "restrict",
                };
                let t = g.strip_qualifiers(*target);
                if let Type::Pointer { target: pointee } = g.ty(t) {
                    let inner = if inner.is_empty() {
                        format!("* {q}")
                    } else {
                        format!("* {q} {inner}")
                    };
                    return self.decl(*pointee, inner, level, ex, d, follow_typedefs);
                }
                format!(
                    "{q} {}",
                    self.decl(*target, inner, level, ex, d, follow_typedefs)
                )
            }
            Type::TypeTag { target, .. } | Type::DeclTag { target, .. } => {
                self.decl(*target, inner, level, ex, d, follow_typedefs)
            }
            Type::Var { ty, .. } => self.decl(*ty, inner, level, ex, d, follow_typedefs),
            Type::Func { proto, .. } => self.decl(*proto, inner, level, ex, d, follow_typedefs),
            Type::Array { elem, len } => {
                let dim = len.map(|n| n.to_string()).unwrap_or_default();
                let inner = if inner.starts_with('*') {
                    format!("({inner})[{dim}]")
                } else if inner.is_empty() {
                    format!("[{dim}]")
                } else {
                    format!("{inner}[{dim}]")
                };
                // gdb: `char [16]` has a space between the element type and `[`.
                self.decl(*elem, inner, level, ex, d, follow_typedefs)
            }
            Type::Function {
                ret,
                params,
                variadic,
            } => {
                let mut ps: Vec<String> = params.iter().map(|(_, t)| g.type_name(*t)).collect();
                if *variadic {
                    ps.push("...".into());
                }
                if ps.is_empty() {
                    ps.push("void".into());
                }
                let inner = if inner.starts_with('*') {
                    format!("({inner})")
                } else {
                    inner
                };
                let inner = format!("{inner}({})", ps.join(", "));
                self.decl(*ret, inner, level, ex, d, follow_typedefs)
            }
            other => {
                let base = match other {
                    Type::Void => "void".to_string(),
                    t => t.name().unwrap_or("?").to_string(),
                };
                with_inner(&base, &inner)
            }
        }
    }

    /// `struct name {\n    members;\n}` with members indented by 4 per `level`.
    pub fn body(&self, id: TypeId, level: u32, base_bits: u64, depth: u32) -> String {
        let g = self.g;
        let (kw, c) = match g.ty(id) {
            Type::Struct(c) => ("struct", c),
            Type::Union(c) => ("union", c),
            _ => return g.type_name(id),
        };
        let mut s = match &c.name {
            Some(n) => format!("{kw} {n} {{\n"),
            None => format!("{kw} {{\n"),
        };
        let pad = |n: u32| " ".repeat(4 * n as usize);
        if c.is_declaration {
            s.push_str(&format!("{}<incomplete type>\n", pad(level + 1)));
        } else if c.members.is_empty() {
            s.push_str(&format!("{}<no data fields>\n", pad(level + 1)));
        }
        for m in &c.members {
            let bits = base_bits + m.bit_offset;
            let name = m.name.clone().unwrap_or_default();
            let decl = if depth > MAX_DEPTH {
                g.declare(m.ty, &name)
            } else {
                self.member_decl(m.ty, &name, level + 1, bits, depth + 1)
            };
            let bitfield = m.bit_size.map(|b| format!(" : {b}")).unwrap_or_default();
            match self.offsets {
                Some(w) => {
                    let anon = m.name.is_none() && is_composite(g, m.ty);
                    let col = match (anon, self.base_addr) {
                        (true, _) => " ".repeat(w),
                        (false, Some(a)) => {
                            format!("{:>w$}", format!("[{:x}]", a.wrapping_add(bits / 8)))
                        }
                        (false, None) => format!("{:>w$}", format!("[{}]", bits / 8)),
                    };
                    s.push_str(&format!("{col} {}{decl}{bitfield};\n", pad(level)));
                }
                None => s.push_str(&format!("{}{decl}{bitfield};\n", pad(level + 1))),
            }
        }
        match self.offsets {
            Some(w) if level > 0 => s.push_str(&format!("{} {}}}", " ".repeat(w), pad(level - 1))),
            _ => s.push_str(&format!("{}}}", pad(level))),
        }
        s
    }

    /// A member's declaration; anonymous composites are expanded (their offsets continue
    /// from `bits`).
    fn member_decl(&self, ty: TypeId, name: &str, level: u32, bits: u64, depth: u32) -> String {
        let g = self.g;
        if let Type::Struct(c) | Type::Union(c) = g.ty(ty) {
            if c.name.is_none() {
                return with_inner(&self.body(ty, level, bits, depth), name);
            }
        }
        self.decl(ty, name.to_string(), level, Expand::Anonymous, depth, false)
    }

    /// `enum name {A, B = 5, C}`
    pub fn enum_body(&self, id: TypeId) -> String {
        let Type::Enum { name, values, .. } = self.g.ty(id) else {
            return self.g.type_name(id);
        };
        let mut next = 0i64;
        let items: Vec<String> = values
            .iter()
            .map(|(n, v)| {
                let s = if *v != next {
                    format!("{n} = {v}")
                } else {
                    n.clone()
                };
                next = v.wrapping_add(1);
                s
            })
            .collect();
        match name {
            Some(n) => format!("enum {n} {{{}}}", items.join(", ")),
            None => format!("enum {{{}}}", items.join(", ")),
        }
    }
}

fn is_composite(g: &TypeGraph, id: TypeId) -> bool {
    matches!(g.ty(id), Type::Struct(_) | Type::Union(_))
}

fn with_inner(base: &str, inner: &str) -> String {
    if inner.is_empty() {
        base.to_string()
    } else {
        format!("{base} {inner}")
    }
}

/// The innermost type under pointers, arrays, qualifiers, typedefs and function returns.
fn innermost(g: &TypeGraph, mut id: TypeId) -> TypeId {
    for _ in 0..MAX_DEPTH * 2 {
        id = match g.ty(id) {
            Type::Pointer { target }
            | Type::Const { target }
            | Type::Volatile { target }
            | Type::Restrict { target }
            | Type::TypeTag { target, .. }
            | Type::Typedef { target, .. } => *target,
            Type::Array { elem, .. } => *elem,
            Type::Function { ret, .. } => *ret,
            Type::Func { proto, .. } => *proto,
            Type::Var { ty, .. } => *ty,
            _ => return id,
        };
    }
    id
}

/// gdb's `ptype` text for a type (without the `type = ` prefix): typedefs resolved, the
/// innermost struct/union/enum expanded (`struct alx_priv {...} *`).
pub fn ptype(ev: &Evaluator, ty: TypeId) -> String {
    let store = ev.target.types();
    let base = store.with_graph(|g| innermost(g, ty));
    let full = if store.with_graph(|g| g.ty(base).is_declaration()) {
        store.complete(base)
    } else {
        base
    };
    store.with_graph(|g| {
        let p = TypePrinter::new(g);
        let target = if full != base { full } else { base };
        // Expand through the stub: treat either id as the target.
        let s = p.decl(ty, String::new(), 0, Expand::Target(target), 0, true);
        if full != base && s.contains(&g.type_name(base)) {
            s.replacen(&g.type_name(base), &p.body(full, 0, 0, 0), 1)
        } else {
            s
        }
    })
}

/// gdb's `whatis` text for a type: its name, one typedef level not resolved.
pub fn whatis(ev: &Evaluator, ty: TypeId) -> String {
    ev.type_name(ty)
}

/// A struct/union body (completed first), as crash's `struct NAME` and `whatis` show it;
/// with `offsets`, crash's `struct -o` layout: member offsets, or with `base` (`struct -o NAME
/// ADDR`) the members' addresses.
pub fn struct_body(ev: &Evaluator, ty: TypeId, offsets: bool, base: Option<u64>) -> String {
    let store = ev.target.types();
    let id = ev.strip(ty);
    store.with_graph(|g| {
        let mut p = TypePrinter::new(g);
        if let Type::Enum { .. } = g.ty(id) {
            return p.enum_body(id);
        }
        if offsets {
            let max = max_offset(g, id, 0, 0);
            p.offsets = Some(match base {
                Some(a) => format!("[{:x}]", a.wrapping_add(max)).len() + 2,
                None => format!("[{max}]").len().max(4) + 2,
            });
            p.base_addr = base;
        }
        p.body(id, 0, 0, 0)
    })
}

fn max_offset(g: &TypeGraph, id: TypeId, base: u64, depth: u32) -> u64 {
    if depth > MAX_DEPTH {
        return base / 8;
    }
    let mut max = 0;
    for m in g.members(id).unwrap_or(&[]) {
        let bits = base + m.bit_offset;
        let v = if m.name.is_none() {
            max_offset(g, m.ty, bits, depth + 1)
        } else {
            bits / 8
        };
        max = max.max(v);
    }
    max
}

/// A declaration `TYPE name` with anonymous composites expanded (crash's `whatis SYMBOL`).
pub fn declaration(ev: &Evaluator, ty: TypeId, name: &str) -> String {
    ev.target
        .types()
        .with_graph(|g| TypePrinter::new(g).declare(ty, name, 0))
}

/// `typedef <target expanded> name` (crash's `whatis TYPEDEF`).
pub fn typedef_declaration(ev: &Evaluator, typedef: TypeId) -> Option<String> {
    let store = ev.target.types();
    let (name, target) = store.with_graph(|g| match g.ty(typedef) {
        Type::Typedef { name, target } => Some((name.clone(), *target)),
        _ => None,
    })?;
    let base = store.with_graph(|g| innermost(g, target));
    let full = if store.with_graph(|g| g.ty(base).is_declaration()) {
        store.complete(base)
    } else {
        base
    };
    Some(store.with_graph(|g| {
        let p = TypePrinter::new(g);
        let s = p.decl(target, name.clone(), 0, Expand::Target(full), 0, true);
        format!("typedef {s}")
    }))
}
