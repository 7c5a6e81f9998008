//! The C type model shared by every type source (BTF now, DWARF later): an arena of types
//! addressed by [`TypeId`], name indexes, and the queries the kernel layer needs — member offsets
//! through anonymous members, sizes, enum values and C spellings of types.
//!
//! A graph may be layered on a base graph (split BTF of modules continues the ids of vmlinux):
//! ids below [`TypeGraph::first_id`] live in the base, name lookups fall back to it.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// Index of a type in a [`TypeGraph`]. Id 0 is always `void`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(pub u32);

impl TypeId {
    pub const VOID: TypeId = TypeId(0);
}

/// Linkage of a function or variable (BTF `FUNC`/`VAR`, DWARF `DW_AT_external`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Linkage {
    Static,
    Global,
    Extern,
    Other(u32),
}

impl Linkage {
    pub fn from_btf(v: u32) -> Linkage {
        match v {
            0 => Linkage::Static,
            1 => Linkage::Global,
            2 => Linkage::Extern,
            n => Linkage::Other(n),
        }
    }
}

/// One member of a struct or union. `name` is None for anonymous struct/union members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: Option<String>,
    pub ty: TypeId,
    /// Offset from the start of the enclosing struct, in bits.
    pub bit_offset: u64,
    /// Width of a bitfield member; None for ordinary members.
    pub bit_size: Option<u32>,
}

/// A struct or union.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composite {
    pub name: Option<String>,
    pub size: u64,
    pub members: Vec<Member>,
    /// A forward declaration (`struct foo;`, BTF `FWD`): no size, no members.
    pub is_declaration: bool,
}

/// A variable placed in a data section (BTF `DATASEC` entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatasecVar {
    /// The `Var` type entry.
    pub var: TypeId,
    /// Offset of the variable in the section (for `.data..percpu`: its per-CPU offset).
    pub offset: u64,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    Void,
    Int {
        name: String,
        size: u64,
        signed: bool,
        is_char: bool,
        is_bool: bool,
    },
    Float {
        name: String,
        size: u64,
    },
    Pointer {
        target: TypeId,
    },
    /// `len` is None when the bound is unknown (DWARF `[]`); BTF says `Some(0)` for flexible arrays.
    Array {
        elem: TypeId,
        len: Option<u64>,
    },
    Struct(Composite),
    Union(Composite),
    /// Values of unsigned 64-bit enums above `i64::MAX` are stored wrapped; read them with `signed`.
    Enum {
        name: Option<String>,
        size: u64,
        signed: bool,
        values: Vec<(String, i64)>,
        is_declaration: bool,
    },
    Typedef {
        name: String,
        target: TypeId,
    },
    Const {
        target: TypeId,
    },
    Volatile {
        target: TypeId,
    },
    Restrict {
        target: TypeId,
    },
    /// BTF type tag (`__user`, `__rcu`, `__percpu` on pointer targets); transparent for layout.
    TypeTag {
        name: String,
        target: TypeId,
    },
    /// A function type (BTF `FUNC_PROTO`, DWARF `DW_TAG_subroutine_type`); `ret` is VOID for void.
    Function {
        ret: TypeId,
        params: Vec<(Option<String>, TypeId)>,
        variadic: bool,
    },
    /// A named function (BTF `FUNC`, DWARF subprogram) whose type is the `Function` `proto`.
    Func {
        name: String,
        proto: TypeId,
        linkage: Linkage,
    },
    /// A global variable (BTF has per-CPU variables only).
    Var {
        name: String,
        ty: TypeId,
        linkage: Linkage,
    },
    /// A data section listing the variables in it (BTF `DATASEC`, e.g. `.data..percpu`).
    Datasec {
        name: String,
        size: u64,
        vars: Vec<DatasecVar>,
    },
    /// An annotation on a declaration (`component` is the member/parameter index, None for the whole).
    DeclTag {
        name: String,
        target: TypeId,
        component: Option<u32>,
    },
}

impl Type {
    /// The type's own name, if it has one (`task_struct` for `struct task_struct`).
    pub fn name(&self) -> Option<&str> {
        match self {
            Type::Int { name, .. }
            | Type::Float { name, .. }
            | Type::Typedef { name, .. }
            | Type::TypeTag { name, .. }
            | Type::Func { name, .. }
            | Type::Var { name, .. }
            | Type::Datasec { name, .. }
            | Type::DeclTag { name, .. } => Some(name),
            Type::Struct(c) | Type::Union(c) => c.name.as_deref(),
            Type::Enum { name, .. } => name.as_deref(),
            _ => None,
        }
    }

    /// A short word for the kind of type, for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Type::Void => "void",
            Type::Int { .. } => "int",
            Type::Float { .. } => "float",
            Type::Pointer { .. } => "pointer",
            Type::Array { .. } => "array",
            Type::Struct(_) => "struct",
            Type::Union(_) => "union",
            Type::Enum { .. } => "enum",
            Type::Typedef { .. } => "typedef",
            Type::Const { .. } => "const",
            Type::Volatile { .. } => "volatile",
            Type::Restrict { .. } => "restrict",
            Type::TypeTag { .. } => "type tag",
            Type::Function { .. } => "function type",
            Type::Func { .. } => "function",
            Type::Var { .. } => "variable",
            Type::Datasec { .. } => "data section",
            Type::DeclTag { .. } => "decl tag",
        }
    }

    /// Every type id this type refers to (for validation and graph walks).
    pub fn refs(&self) -> Vec<TypeId> {
        let mut v = Vec::new();
        self.for_each_ref(|id| v.push(id));
        v
    }

    /// Calls `f` with every type id this type refers to.
    pub fn for_each_ref(&self, mut f: impl FnMut(TypeId)) {
        match self {
            Type::Void | Type::Int { .. } | Type::Float { .. } | Type::Enum { .. } => {}
            Type::Pointer { target }
            | Type::Typedef { target, .. }
            | Type::Const { target }
            | Type::Volatile { target }
            | Type::Restrict { target }
            | Type::TypeTag { target, .. }
            | Type::DeclTag { target, .. } => f(*target),
            Type::Array { elem, .. } => f(*elem),
            Type::Struct(c) | Type::Union(c) => c.members.iter().for_each(|m| f(m.ty)),
            Type::Function { ret, params, .. } => {
                f(*ret);
                params.iter().for_each(|p| f(p.1));
            }
            Type::Func { proto, .. } => f(*proto),
            Type::Var { ty, .. } => f(*ty),
            Type::Datasec { vars, .. } => vars.iter().for_each(|v| f(v.var)),
        }
    }

    pub fn is_declaration(&self) -> bool {
        match self {
            Type::Struct(c) | Type::Union(c) => c.is_declaration,
            Type::Enum { is_declaration, .. } => *is_declaration,
            _ => false,
        }
    }
}

/// Where a member lives in its (outermost) struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberInfo {
    /// Byte offset: `bit_offset / 8`.
    pub offset: u64,
    /// Offset in bits from the start of the outermost struct.
    pub bit_offset: u64,
    /// Width for bitfields.
    pub bit_size: Option<u32>,
    /// The member's declared type.
    pub ty: TypeId,
}

/// Bound on chains of typedefs/qualifiers/arrays followed by queries, so cyclic
/// (hostile) graphs terminate.
const MAX_DEPTH: u32 = 64;

/// Bound on the work of one query that branches (C spelling of function types with many
/// parameters, searches through anonymous members), so hostile graphs cannot blow up.
const MAX_STEPS: u32 = 4096;

static VOID: Type = Type::Void;

/// The namespaces of C names (plus functions and variables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    Struct,
    Union,
    Enum,
    Typedef,
    Base,
    Func,
    Var,
}
const NS_COUNT: usize = 7;

impl Ns {
    fn of(ty: &Type) -> Option<(Ns, &str)> {
        Some(match ty {
            Type::Struct(c) => (Ns::Struct, c.name.as_deref()?),
            Type::Union(c) => (Ns::Union, c.name.as_deref()?),
            Type::Enum { name, .. } => (Ns::Enum, name.as_deref()?),
            Type::Typedef { name, .. } => (Ns::Typedef, name),
            Type::Int { name, .. } | Type::Float { name, .. } => (Ns::Base, name),
            Type::Func { name, .. } => (Ns::Func, name),
            Type::Var { name, .. } => (Ns::Var, name),
            _ => return None,
        })
    }
}

/// FxHash-style hashing: names and ids are not attacker-controlled keys worth SipHash.
#[derive(Default, Clone, Copy)]
struct FastHasher(u64);

const FX_K: u64 = 0x517c_c1b7_2722_0a95;

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(FX_K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(FX_K);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(FX_K);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

fn name_hash(name: &str) -> u64 {
    let mut h = FastHasher::default();
    h.write(name.as_bytes());
    h.finish()
}

/// Ids sharing a name hash (almost always one).
#[derive(Debug, Clone)]
enum Slot {
    One(TypeId),
    Many(Vec<TypeId>),
}

impl Slot {
    fn ids(&self) -> &[TypeId] {
        match self {
            Slot::One(id) => std::slice::from_ref(id),
            Slot::Many(v) => v,
        }
    }
}

/// Name indexes keyed by name hash, so names are not copied; candidates are checked
/// against the types' own names.
#[derive(Debug, Default, Clone)]
struct NameIndex {
    names: [FastMap<u64, Slot>; NS_COUNT],
    /// target → an existing pointer type to it.
    pointers: FastMap<TypeId, TypeId>,
}

/// An arena of types with name indexes.
#[derive(Debug, Clone)]
pub struct TypeGraph {
    base: Option<Arc<TypeGraph>>,
    first: u32,
    types: Vec<Type>,
    index: NameIndex,
    pointer_size: u64,
}

impl Default for TypeGraph {
    fn default() -> Self {
        TypeGraph::new()
    }
}

impl TypeGraph {
    /// An empty graph holding only `void` (id 0); pointers are 8 bytes.
    pub fn new() -> TypeGraph {
        TypeGraph::from_types(vec![Type::Void])
    }

    /// A graph over `types`, where `types[0]` should be `Type::Void`.
    pub fn from_types(types: Vec<Type>) -> TypeGraph {
        TypeGraph::build(None, 0, types, 8)
    }

    /// A graph continuing `base`: the first of `types` gets id `base.len()`.
    pub fn with_base(base: Arc<TypeGraph>, types: Vec<Type>) -> TypeGraph {
        let first = base.len() as u32;
        let pointer_size = base.pointer_size;
        TypeGraph::build(Some(base), first, types, pointer_size)
    }

    fn build(
        base: Option<Arc<TypeGraph>>,
        first: u32,
        types: Vec<Type>,
        pointer_size: u64,
    ) -> TypeGraph {
        let mut g = TypeGraph {
            base,
            first,
            types,
            index: NameIndex::default(),
            pointer_size,
        };
        let mut counts = [0usize; NS_COUNT];
        for t in &g.types {
            if let Some((ns, _)) = Ns::of(t) {
                counts[ns as usize] += 1;
            }
        }
        for (map, n) in g.index.names.iter_mut().zip(counts) {
            map.reserve(n);
        }
        for i in 0..g.types.len() {
            g.index_one(TypeId(first + i as u32));
        }
        g
    }

    /// This graph's own types, for in-place fixes that leave names alone (the index is
    /// not rebuilt).
    pub(crate) fn own_types_mut(&mut self) -> &mut [Type] {
        &mut self.types
    }

    pub fn set_pointer_size(&mut self, size: u64) {
        self.pointer_size = size;
    }
    pub fn pointer_size(&self) -> u64 {
        self.pointer_size
    }

    pub fn base(&self) -> Option<&Arc<TypeGraph>> {
        self.base.as_ref()
    }
    /// The id of this graph's first own type (0 without a base).
    pub fn first_id(&self) -> TypeId {
        TypeId(self.first)
    }
    /// Number of ids, including the base's.
    pub fn len(&self) -> usize {
        self.first as usize + self.types.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends a type, indexing its name; returns its id.
    pub fn add(&mut self, ty: Type) -> TypeId {
        let id = TypeId(self.len() as u32);
        self.types.push(ty);
        self.index_one(id);
        id
    }

    /// Indexes own type `id` (already in `self.types`).
    fn index_one(&mut self, id: TypeId) {
        let first = self.first;
        let types = &self.types;
        let ty = &types[(id.0 - first) as usize];
        if let Type::Pointer { target } = ty {
            self.index.pointers.entry(*target).or_insert(id);
            return;
        }
        let Some((ns, name)) = Ns::of(ty) else { return };
        let own = |id: TypeId| &types[(id.0 - first) as usize];
        let slot = match self.index.names[ns as usize].entry(name_hash(name)) {
            Entry::Vacant(v) => {
                v.insert(Slot::One(id));
                return;
            }
            Entry::Occupied(o) => o.into_mut(),
        };
        let same = slot
            .ids()
            .iter()
            .position(|&old| Ns::of(own(old)).is_some_and(|(_, n)| n == name));
        match (same, slot) {
            // Prefer the complete definition over a forward declaration; otherwise the first.
            (Some(i), slot) => {
                let old = slot.ids()[i];
                if own(old).is_declaration() && !ty.is_declaration() {
                    match slot {
                        Slot::One(x) => *x = id,
                        Slot::Many(v) => v[i] = id,
                    }
                }
            }
            (None, slot) => {
                let mut v = slot.ids().to_vec();
                v.push(id);
                *slot = Slot::Many(v);
            }
        }
    }

    /// The type with this id, None when out of range.
    pub fn get(&self, id: TypeId) -> Option<&Type> {
        if id.0 < self.first {
            self.base.as_deref()?.get(id)
        } else {
            self.types.get((id.0 - self.first) as usize)
        }
    }

    /// Like [`get`](Self::get), but an invalid id reads as `void`.
    pub fn ty(&self, id: TypeId) -> &Type {
        self.get(id).unwrap_or(&VOID)
    }

    /// All ids and types, base first.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (TypeId, &Type)> + '_> {
        let own = self
            .types
            .iter()
            .enumerate()
            .map(move |(i, t)| (TypeId(self.first + i as u32), t));
        match &self.base {
            Some(b) => Box::new(b.iter().chain(own)),
            None => Box::new(own),
        }
    }

    fn lookup_own(&self, ns: Ns, name: &str) -> Option<TypeId> {
        let slot = self.index.names[ns as usize].get(&name_hash(name))?;
        slot.ids()
            .iter()
            .copied()
            .find(|&id| Ns::of(self.ty(id)).is_some_and(|(_, n)| n == name))
    }

    fn lookup(&self, ns: Ns, name: &str) -> Option<TypeId> {
        let own = self.lookup_own(ns, name);
        if let Some(id) = own {
            if !self.ty(id).is_declaration() {
                return Some(id);
            }
        }
        let base = self.base.as_deref().and_then(|b| b.lookup(ns, name));
        match (own, base) {
            (Some(o), Some(b)) if self.ty(b).is_declaration() => Some(o),
            (_, Some(b)) => Some(b),
            (o, None) => o,
        }
    }

    /// `struct name`, preferring a complete definition.
    pub fn find_struct(&self, name: &str) -> Option<TypeId> {
        self.lookup(Ns::Struct, name)
    }
    pub fn find_union(&self, name: &str) -> Option<TypeId> {
        self.lookup(Ns::Union, name)
    }
    pub fn find_enum(&self, name: &str) -> Option<TypeId> {
        self.lookup(Ns::Enum, name)
    }
    pub fn find_typedef(&self, name: &str) -> Option<TypeId> {
        self.lookup(Ns::Typedef, name)
    }
    /// A base type (integer or floating point) by its C name; `unsigned long` and the DWARF
    /// spelling `long unsigned int` both work.
    pub fn find_base(&self, name: &str) -> Option<TypeId> {
        self.lookup(Ns::Base, &c_int_name(name))
    }
    /// A named function (`Type::Func`).
    pub fn find_function(&self, name: &str) -> Option<TypeId> {
        self.lookup(Ns::Func, name)
    }
    /// A variable (`Type::Var`).
    pub fn find_var(&self, name: &str) -> Option<TypeId> {
        self.lookup(Ns::Var, name)
    }

    /// An existing pointer type to `target`.
    pub fn pointer_to(&self, target: TypeId) -> Option<TypeId> {
        if let Some(&p) = self.index.pointers.get(&target) {
            return Some(p);
        }
        self.base.as_deref().and_then(|b| b.pointer_to(target))
    }

    /// A pointer type to `target`, added when none exists.
    pub fn pointer_to_or_add(&mut self, target: TypeId) -> TypeId {
        match self.pointer_to(target) {
            Some(p) => p,
            None => self.add(Type::Pointer { target }),
        }
    }

    /// A type by its C spelling: `struct foo`, `union foo`, `enum foo`, a typedef or base type
    /// name, or a bare struct/union/enum tag; trailing `*`s resolve to existing pointer types.
    pub fn find_type_by_name(&self, name: &str) -> Option<TypeId> {
        let name = name.trim();
        if let Some(inner) = name.strip_suffix('*') {
            return self.pointer_to(self.find_type_by_name(inner)?);
        }
        let words: Vec<&str> = name.split_whitespace().collect();
        if let [kw, tag] = words.as_slice() {
            match *kw {
                "struct" => return self.find_struct(tag),
                "union" => return self.find_union(tag),
                "enum" => return self.find_enum(tag),
                _ => {}
            }
        }
        let name = words.join(" ");
        if name == "void" {
            return Some(TypeId::VOID);
        }
        self.find_typedef(&name)
            .or_else(|| self.find_base(&name))
            .or_else(|| self.find_struct(&name))
            .or_else(|| self.find_union(&name))
            .or_else(|| self.find_enum(&name))
    }

    /// Follows typedefs, const/volatile/restrict and type tags to the underlying type.
    pub fn strip_typedefs_and_qualifiers(&self, mut id: TypeId) -> TypeId {
        for _ in 0..MAX_DEPTH {
            match self.ty(id) {
                Type::Typedef { target, .. }
                | Type::Const { target }
                | Type::Volatile { target }
                | Type::Restrict { target }
                | Type::TypeTag { target, .. } => id = *target,
                _ => return id,
            }
        }
        id
    }

    /// Follows qualifiers and type tags but not typedefs.
    pub fn strip_qualifiers(&self, mut id: TypeId) -> TypeId {
        for _ in 0..MAX_DEPTH {
            match self.ty(id) {
                Type::Const { target }
                | Type::Volatile { target }
                | Type::Restrict { target }
                | Type::TypeTag { target, .. } => id = *target,
                _ => return id,
            }
        }
        id
    }

    /// For a struct/union/enum declaration, the complete definition of the same name if
    /// there is one; otherwise `id` itself.
    pub fn resolve_declaration(&self, id: TypeId) -> TypeId {
        let found = match self.ty(id) {
            Type::Struct(c) if c.is_declaration => {
                c.name.as_deref().and_then(|n| self.find_struct(n))
            }
            Type::Union(c) if c.is_declaration => {
                c.name.as_deref().and_then(|n| self.find_union(n))
            }
            Type::Enum {
                name: Some(n),
                is_declaration: true,
                ..
            } => self.find_enum(n),
            _ => None,
        };
        found.unwrap_or(id)
    }

    /// Strips typedefs and qualifiers, then resolves declarations to definitions.
    pub fn resolve(&self, id: TypeId) -> TypeId {
        self.resolve_declaration(self.strip_typedefs_and_qualifiers(id))
    }

    /// Size in bytes as `sizeof` would say; None for void, functions and incomplete types.
    pub fn size_of(&self, id: TypeId) -> Option<u64> {
        self.size_of_depth(id, 0)
    }

    fn size_of_depth(&self, id: TypeId, depth: u32) -> Option<u64> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.ty(self.resolve(id)) {
            Type::Int { size, .. } | Type::Float { size, .. } => Some(*size),
            Type::Enum {
                size,
                is_declaration,
                ..
            } => (!*is_declaration).then_some(*size),
            Type::Pointer { .. } => Some(self.pointer_size),
            Type::Struct(c) | Type::Union(c) => (!c.is_declaration).then_some(c.size),
            Type::Array { elem, len } => self
                .size_of_depth(*elem, depth + 1)?
                .checked_mul(len.unwrap_or(0)),
            Type::Var { ty, .. } => self.size_of_depth(*ty, depth + 1),
            Type::Datasec { size, .. } => Some(*size),
            _ => None,
        }
    }

    /// Number of elements of an array type (through typedefs); None for non-arrays.
    pub fn array_len(&self, id: TypeId) -> Option<u64> {
        match self.ty(self.strip_typedefs_and_qualifiers(id)) {
            Type::Array { len, .. } => *len,
            _ => None,
        }
    }

    /// The members of a struct or union (through typedefs and declarations).
    pub fn members(&self, id: TypeId) -> Option<&[Member]> {
        match self.ty(self.resolve(id)) {
            Type::Struct(c) | Type::Union(c) => Some(&c.members),
            _ => None,
        }
    }

    /// Finds a member by a dotted path (`"signal"`, `"se.on_rq"`, `"pids[1].node"`), looking
    /// transparently into anonymous struct/union members. Offsets are from the start of `id`.
    pub fn member(&self, id: TypeId, path: &str) -> Option<MemberInfo> {
        let mut cur = id;
        let mut bit_offset = 0u64;
        let mut found: Option<MemberInfo> = None;
        for component in path.split('.') {
            let (name, indices) = split_indices(component)?;
            let (off, m) = self.find_member(cur, name, 0, &Cell::new(MAX_STEPS * 16))?;
            bit_offset = bit_offset.checked_add(off)?;
            let mut ty = m.ty;
            let mut bit_size = m.bit_size;
            for idx in indices {
                let Type::Array { elem, .. } = self.ty(self.strip_typedefs_and_qualifiers(ty))
                else {
                    return None;
                };
                let elem_bits = self.size_of(*elem)?.checked_mul(8)?;
                bit_offset = bit_offset.checked_add(elem_bits.checked_mul(idx)?)?;
                ty = *elem;
                bit_size = None;
            }
            found = Some(MemberInfo {
                offset: bit_offset / 8,
                bit_offset,
                bit_size,
                ty,
            });
            cur = ty;
        }
        found
    }

    /// Searches `id`'s members for `name`, descending into anonymous members; returns the
    /// member's bit offset relative to `id` and the member.
    fn find_member(
        &self,
        id: TypeId,
        name: &str,
        depth: u32,
        steps: &Cell<u32>,
    ) -> Option<(u64, &Member)> {
        if depth > MAX_DEPTH || steps.get() == 0 {
            return None;
        }
        steps.set(steps.get() - 1);
        let members = self.members(id)?;
        for m in members {
            match &m.name {
                Some(n) if n == name => return Some((m.bit_offset, m)),
                Some(_) => {}
                None => {
                    if let Some((off, inner)) = self.find_member(m.ty, name, depth + 1, steps) {
                        return Some((m.bit_offset.checked_add(off)?, inner));
                    }
                }
            }
        }
        None
    }

    pub fn has_member(&self, id: TypeId, path: &str) -> bool {
        self.member(id, path).is_some()
    }

    /// Byte offset of `path` in the type named `type_name` (`"task_struct"`, `"struct rq"`).
    pub fn offset_of(&self, type_name: &str, path: &str) -> Option<u64> {
        Some(
            self.member(self.find_type_by_name(type_name)?, path)?
                .offset,
        )
    }

    /// Value of `enumerator` in `enum enum_name` (a typedef name of an enum works too).
    pub fn enum_value(&self, enum_name: &str, enumerator: &str) -> Option<i64> {
        let id = self
            .find_enum(enum_name)
            .or_else(|| self.find_type_by_name(enum_name))?;
        match self.ty(self.resolve(id)) {
            Type::Enum { values, .. } => values.iter().find(|(n, _)| n == enumerator).map(|v| v.1),
            _ => None,
        }
    }

    /// The enumerator of enum type `id` (through typedefs) whose value is `value`.
    pub fn enumerator_name(&self, id: TypeId, value: i64) -> Option<&str> {
        match self.ty(self.resolve(id)) {
            Type::Enum { values, .. } => values
                .iter()
                .find(|(_, v)| *v == value)
                .map(|(n, _)| n.as_str()),
            _ => None,
        }
    }

    /// Whether qualifier type `id` (`const`/`volatile` on an array) repeats what the array's
    /// elements already say: C qualifies an array through its elements, so gdb prints
    /// `const char [133]`, not `const const char [133]`.
    pub fn redundant_array_qualifier(&self, id: TypeId) -> bool {
        let (Type::Const { target } | Type::Volatile { target }) = self.ty(id) else {
            return false;
        };
        let same = |t: &Type| std::mem::discriminant(t) == std::mem::discriminant(self.ty(id));
        let mut t = *target;
        for _ in 0..MAX_DEPTH {
            match self.ty(t) {
                Type::Array { elem, .. } => t = *elem,
                _ => break,
            }
        }
        if t == *target {
            return false; // not an array
        }
        for _ in 0..MAX_DEPTH {
            match self.ty(t) {
                q @ (Type::Const { target } | Type::Volatile { target }) => {
                    if same(q) {
                        return true;
                    }
                    t = *target;
                }
                _ => return false,
            }
        }
        false
    }

    /// The value of enumerator `name` of enum type `id` (through typedefs).
    pub fn enumerator_value(&self, id: TypeId, name: &str) -> Option<i64> {
        match self.ty(self.resolve(id)) {
            Type::Enum { values, .. } => values.iter().find(|(n, _)| n == name).map(|v| v.1),
            _ => None,
        }
    }

    /// Finds an enumerator in any enum (named or anonymous); linear in the number of types.
    pub fn find_enumerator(&self, enumerator: &str) -> Option<(TypeId, i64)> {
        self.iter().find_map(|(id, t)| match t {
            Type::Enum { values, .. } => values
                .iter()
                .find(|(n, _)| n == enumerator)
                .map(|v| (id, v.1)),
            _ => None,
        })
    }

    /// The C spelling of a type, gdb style: `struct list_head *`, `char [16]`, `void (*)(int)`.
    pub fn type_name(&self, id: TypeId) -> String {
        self.declare(id, "")
    }

    /// A C declaration of `name` with type `id`: `char comm[16]`, `void (*fn)(void)`.
    pub fn declare(&self, id: TypeId, name: &str) -> String {
        self.decl(id, name.to_string(), 0, &Cell::new(MAX_STEPS))
    }

    fn decl(&self, id: TypeId, inner: String, depth: u32, steps: &Cell<u32>) -> String {
        if steps.get() == 0 {
            return with_inner("...", &inner);
        }
        steps.set(steps.get() - 1);
        if depth > MAX_DEPTH {
            return with_inner("<cycle>", &inner);
        }
        let d = depth + 1;
        match self.ty(id) {
            Type::Void => with_inner("void", &inner),
            Type::Int { name, .. } | Type::Float { name, .. } | Type::Typedef { name, .. } => {
                with_inner(name, &inner)
            }
            Type::Struct(c) => with_inner(&tagged("struct", c.name.as_deref()), &inner),
            Type::Union(c) => with_inner(&tagged("union", c.name.as_deref()), &inner),
            Type::Enum { name, .. } => with_inner(&tagged("enum", name.as_deref()), &inner),
            Type::Datasec { name, .. } => with_inner(&format!("datasec {name}"), &inner),
            Type::Pointer { target } => self.decl(*target, format!("*{inner}"), d, steps),
            Type::Const { target } | Type::Volatile { target }
                if self.redundant_array_qualifier(id) =>
            {
                self.decl(*target, inner, d, steps)
            }
            Type::Const { target } => self.qualified("const", *target, inner, d, steps),
            Type::Volatile { target } => self.qualified("volatile", *target, inner, d, steps),
            Type::Restrict { target } => self.qualified("restrict", *target, inner, d, steps),
            Type::TypeTag { target, .. } | Type::DeclTag { target, .. } => {
                self.decl(*target, inner, d, steps)
            }
            Type::Var { ty, .. } => self.decl(*ty, inner, d, steps),
            Type::Func { proto, .. } => self.decl(*proto, inner, d, steps),
            Type::Array { elem, len } => {
                let dim = len.map(|n| n.to_string()).unwrap_or_default();
                self.decl(
                    *elem,
                    format!("{}[{dim}]", paren_if_pointer(inner)),
                    d,
                    steps,
                )
            }
            Type::Function {
                ret,
                params,
                variadic,
            } => {
                let mut ps: Vec<String> = params
                    .iter()
                    .map(|(_, t)| self.decl(*t, String::new(), d, steps))
                    .collect();
                if *variadic {
                    ps.push("...".into());
                }
                if ps.is_empty() {
                    ps.push("void".into());
                }
                self.decl(
                    *ret,
                    format!("{}({})", paren_if_pointer(inner), ps.join(", ")),
                    d,
                    steps,
                )
            }
        }
    }

    fn qualified(
        &self,
        q: &str,
        target: TypeId,
        inner: String,
        depth: u32,
        steps: &Cell<u32>,
    ) -> String {
        // A qualified pointer puts the qualifier after the `*`: `char * const p`.
        let mut t = target;
        for _ in 0..MAX_DEPTH {
            match self.ty(t) {
                Type::TypeTag { target, .. } => t = *target,
                _ => break,
            }
        }
        if let Type::Pointer { target: pointee } = self.ty(t) {
            let inner = if inner.is_empty() {
                format!("* {q}")
            } else {
                format!("* {q} {inner}")
            };
            return self.decl(*pointee, inner, depth, steps);
        }
        format!("{q} {}", self.decl(target, inner, depth, steps))
    }
}

/// The usual C spelling of an integer type name, as gdb prints it: DWARF/BTF say
/// `long unsigned int`, C programmers and gdb say `unsigned long`. Names that are not made of
/// integer keywords are returned unchanged. Type sources store Int names in this spelling.
/// A copy of `t` with every type id it refers to passed through `map` (merging one graph's
/// types into another).
pub fn remap_refs(t: &Type, map: impl Fn(TypeId) -> TypeId) -> Type {
    let mut t = t.clone();
    match &mut t {
        Type::Void | Type::Int { .. } | Type::Float { .. } | Type::Enum { .. } => {}
        Type::Pointer { target }
        | Type::Typedef { target, .. }
        | Type::Const { target }
        | Type::Volatile { target }
        | Type::Restrict { target }
        | Type::TypeTag { target, .. }
        | Type::DeclTag { target, .. } => *target = map(*target),
        Type::Array { elem, .. } => *elem = map(*elem),
        Type::Struct(c) | Type::Union(c) => c.members.iter_mut().for_each(|m| m.ty = map(m.ty)),
        Type::Function { ret, params, .. } => {
            *ret = map(*ret);
            params.iter_mut().for_each(|p| p.1 = map(p.1));
        }
        Type::Func { proto, .. } => *proto = map(*proto),
        Type::Var { ty, .. } => *ty = map(*ty),
        Type::Datasec { vars, .. } => vars.iter_mut().for_each(|v| v.var = map(v.var)),
    }
    t
}

pub fn c_int_name(name: &str) -> Cow<'_, str> {
    const WORDS: [&str; 8] = [
        "unsigned", "signed", "long", "short", "int", "char", "__int128", "_Bool",
    ];
    let words: Vec<&str> = name.split_whitespace().collect();
    if words.is_empty() || !words.iter().all(|w| WORDS.contains(w)) {
        return Cow::Borrowed(name);
    }
    let has = |w: &str| words.contains(&w);
    let longs = words.iter().filter(|&&w| w == "long").count();
    let base = if has("char") {
        "char"
    } else if has("_Bool") {
        "_Bool"
    } else if has("__int128") {
        "__int128"
    } else if has("short") {
        "short"
    } else if longs == 1 {
        "long"
    } else if longs >= 2 {
        "long long"
    } else {
        "int"
    };
    let canonical = if has("unsigned") {
        format!("unsigned {base}")
    } else if has("signed") && base == "char" {
        "signed char".to_string()
    } else {
        base.to_string()
    };
    if canonical == name {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(canonical)
    }
}

fn with_inner(base: &str, inner: &str) -> String {
    if inner.is_empty() {
        base.to_string()
    } else {
        format!("{base} {inner}")
    }
}

fn tagged(kw: &str, name: Option<&str>) -> String {
    format!("{kw} {}", name.unwrap_or("{...}"))
}

fn paren_if_pointer(inner: String) -> String {
    if inner.starts_with('*') {
        format!("({inner})")
    } else {
        inner
    }
}

/// `"pids[1][2]"` → `("pids", [1, 2])`.
fn split_indices(component: &str) -> Option<(&str, Vec<u64>)> {
    let Some(bracket) = component.find('[') else {
        return (!component.is_empty()).then_some((component, Vec::new()));
    };
    let (name, mut rest) = component.split_at(bracket);
    let mut indices = Vec::new();
    while !rest.is_empty() {
        let close = rest.find(']')?;
        let n = rest.get(1..close)?.trim();
        let n = match n.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok()?,
            None => n.parse().ok()?,
        };
        indices.push(n);
        rest = &rest[close + 1..];
        if !rest.is_empty() && !rest.starts_with('[') {
            return None;
        }
    }
    (!name.is_empty()).then_some((name, indices))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(g: &mut TypeGraph, name: &str, size: u64, signed: bool) -> TypeId {
        g.add(Type::Int {
            name: name.into(),
            size,
            signed,
            is_char: name.contains("char"),
            is_bool: false,
        })
    }

    fn member(name: Option<&str>, ty: TypeId, bit_offset: u64) -> Member {
        Member {
            name: name.map(Into::into),
            ty,
            bit_offset,
            bit_size: None,
        }
    }

    /// A miniature task_struct with an anonymous union, a typedef, an array and a bitfield.
    fn sample() -> (TypeGraph, TypeId) {
        let mut g = TypeGraph::new();
        let int_t = int(&mut g, "int", 4, true);
        let char_t = int(&mut g, "char", 1, true);
        let ulong = int(&mut g, "unsigned long", 8, false);
        let pid_t = g.add(Type::Typedef {
            name: "pid_t".into(),
            target: int_t,
        });
        let fwd = g.add(Type::Struct(Composite {
            name: Some("list_head".into()),
            size: 0,
            members: vec![],
            is_declaration: true,
        }));
        let lh_ptr = g.add(Type::Pointer { target: fwd });
        let list_head = g.add(Type::Struct(Composite {
            name: Some("list_head".into()),
            size: 16,
            members: vec![
                member(Some("next"), lh_ptr, 0),
                member(Some("prev"), lh_ptr, 64),
            ],
            is_declaration: false,
        }));
        let comm = g.add(Type::Array {
            elem: char_t,
            len: Some(16),
        });
        let anon = g.add(Type::Union(Composite {
            name: None,
            size: 8,
            members: vec![member(Some("a"), ulong, 0), member(Some("b"), int_t, 0)],
            is_declaration: false,
        }));
        let lists = g.add(Type::Array {
            elem: list_head,
            len: Some(3),
        });
        let task = g.add(Type::Struct(Composite {
            name: Some("task_struct".into()),
            size: 96,
            members: vec![
                member(Some("pid"), pid_t, 0),
                Member {
                    name: Some("flag".into()),
                    ty: int_t,
                    bit_offset: 36,
                    bit_size: Some(3),
                },
                member(Some("comm"), comm, 64),
                member(None, anon, 192),
                member(Some("tasks"), list_head, 256),
                member(Some("lists"), lists, 384),
            ],
            is_declaration: false,
        }));
        let cp = g.add(Type::Const { target: char_t });
        let _ = g.add(Type::Pointer { target: cp });
        (g, task)
    }

    #[test]
    fn lookups_prefer_definitions() {
        let (g, task) = sample();
        assert_eq!(g.find_struct("task_struct"), Some(task));
        let lh = g.find_struct("list_head").unwrap();
        assert!(matches!(g.ty(lh), Type::Struct(c) if !c.is_declaration));
        assert_eq!(g.find_type_by_name("struct task_struct"), Some(task));
        assert_eq!(g.find_type_by_name("task_struct"), Some(task));
        assert_eq!(g.find_type_by_name("pid_t"), g.find_typedef("pid_t"));
        assert_eq!(
            g.find_type_by_name("unsigned  long"),
            g.find_base("unsigned long")
        );
        assert!(g.find_type_by_name("struct nope").is_none());
    }

    #[test]
    fn members_and_offsets() {
        let (g, task) = sample();
        assert_eq!(g.offset_of("task_struct", "comm"), Some(8));
        assert_eq!(g.offset_of("task_struct", "tasks.prev"), Some(40));
        // Through the anonymous union.
        assert_eq!(g.offset_of("task_struct", "b"), Some(24));
        assert_eq!(
            g.offset_of("task_struct", "lists[2].prev"),
            Some(48 + 32 + 8)
        );
        let flag = g.member(task, "flag").unwrap();
        assert_eq!(
            (flag.offset, flag.bit_offset, flag.bit_size),
            (4, 36, Some(3))
        );
        assert!(g.has_member(task, "pid"));
        assert!(!g.has_member(task, "nope"));
        assert!(!g.has_member(task, "pid.x"));
        assert_eq!(g.array_len(g.member(task, "comm").unwrap().ty), Some(16));
        // Member types that are forward declarations resolve to the definition.
        let next = g.member(task, "tasks.next").unwrap();
        assert_eq!(g.size_of(next.ty), Some(8));
        let Type::Pointer { target } = g.ty(next.ty) else {
            panic!()
        };
        assert_eq!(g.size_of(*target), Some(16));
        assert_eq!(g.members(*target).map(|m| m.len()), Some(2));
    }

    #[test]
    fn sizes() {
        let (g, task) = sample();
        assert_eq!(g.size_of(task), Some(96));
        assert_eq!(g.size_of(g.member(task, "lists").unwrap().ty), Some(48));
        assert_eq!(g.size_of(g.find_typedef("pid_t").unwrap()), Some(4));
        assert_eq!(g.size_of(TypeId::VOID), None);
        assert_eq!(g.size_of(TypeId(9999)), None);
    }

    #[test]
    fn names() {
        let (mut g, task) = sample();
        let m = |p: &str| g.member(task, p).unwrap().ty;
        assert_eq!(g.type_name(m("comm")), "char [16]");
        assert_eq!(g.type_name(m("tasks.next")), "struct list_head *");
        assert_eq!(g.type_name(m("pid")), "pid_t");
        assert_eq!(g.declare(m("comm"), "comm"), "char comm[16]");
        assert_eq!(g.declare(m("lists"), "l"), "struct list_head l[3]");
        let anon = g.members(task).unwrap()[3].ty;
        assert_eq!(g.type_name(anon), "union {...}");
        let char_t = g.find_base("char").unwrap();
        let cp = g.find_type_by_name("char").and_then(|_| {
            g.iter().find_map(|(id, t)| {
                matches!(t, Type::Const { target } if *target == char_t).then_some(id)
            })
        });
        let pcc = g.pointer_to(cp.unwrap()).unwrap();
        assert_eq!(g.type_name(pcc), "const char *");
        let cpc = g.add(Type::Const { target: pcc });
        assert_eq!(g.declare(cpc, "s"), "const char * const s");
        let int_t = g.find_base("int").unwrap();
        let f = g.add(Type::Function {
            ret: int_t,
            params: vec![(None, pcc), (None, int_t)],
            variadic: true,
        });
        let fp = g.pointer_to_or_add(f);
        assert_eq!(g.declare(fp, "cb"), "int (*cb)(const char *, int, ...)");
        let arr = g.add(Type::Array {
            elem: int_t,
            len: Some(4),
        });
        let pa = g.pointer_to_or_add(arr);
        assert_eq!(g.type_name(pa), "int (*)[4]");
        let f0 = g.add(Type::Function {
            ret: TypeId::VOID,
            params: vec![],
            variadic: false,
        });
        assert_eq!(g.type_name(f0), "void (void)");
        assert_eq!(
            g.find_type_by_name("struct list_head *"),
            g.pointer_to(g.find_struct("list_head").unwrap())
        );
    }

    #[test]
    fn enums() {
        let mut g = TypeGraph::new();
        let e = g.add(Type::Enum {
            name: Some("pid_type".into()),
            size: 4,
            signed: false,
            values: vec![("PIDTYPE_PID".into(), 0), ("PIDTYPE_TGID".into(), 1)],
            is_declaration: false,
        });
        g.add(Type::Typedef {
            name: "pid_type_t".into(),
            target: e,
        });
        assert_eq!(g.enum_value("pid_type", "PIDTYPE_TGID"), Some(1));
        assert_eq!(g.enum_value("pid_type_t", "PIDTYPE_PID"), Some(0));
        assert_eq!(g.enum_value("pid_type", "X"), None);
        assert_eq!(g.find_enumerator("PIDTYPE_TGID"), Some((e, 1)));
        assert_eq!(g.enumerator_name(e, 1), Some("PIDTYPE_TGID"));
        assert_eq!(g.enumerator_name(e, 7), None);
        assert_eq!(g.type_name(e), "enum pid_type");
    }

    #[test]
    fn cycles_terminate() {
        let mut g = TypeGraph::new();
        // typedef a -> typedef b -> a
        g.add(Type::Typedef {
            name: "a".into(),
            target: TypeId(2),
        });
        g.add(Type::Typedef {
            name: "b".into(),
            target: TypeId(1),
        });
        let arr = g.add(Type::Array {
            elem: TypeId(3),
            len: Some(2),
        });
        assert_eq!(g.size_of(TypeId(1)), None);
        assert_eq!(g.size_of(arr), None);
        assert!(g.type_name(arr).contains("<cycle>"));
        let s = g.add(Type::Struct(Composite {
            name: Some("s".into()),
            size: 8,
            members: vec![member(None, TypeId(5), 0)],
            is_declaration: false,
        }));
        assert_eq!(s, TypeId(4));
        let _ = g.add(Type::Struct(Composite {
            name: None,
            size: 8,
            members: vec![member(None, s, 0)],
            is_declaration: false,
        }));
        assert!(g.member(s, "x").is_none());
    }

    #[test]
    fn branching_cycles_are_bounded() {
        let mut g = TypeGraph::new();
        // f = int (*)(f*, f*, ... x8): naive spelling is exponential.
        let f = TypeId(1);
        let p = TypeId(2);
        g.add(Type::Function {
            ret: p,
            params: vec![(None, p); 8],
            variadic: false,
        });
        g.add(Type::Pointer { target: f });
        let t = std::time::Instant::now();
        let name = g.type_name(p);
        assert!(name.contains("..."));
        // A struct whose 8 anonymous members are itself.
        let s = g.add(Type::Struct(Composite {
            name: Some("s".into()),
            size: 8,
            members: vec![member(None, TypeId(3), 0); 8],
            is_declaration: false,
        }));
        assert!(g.member(s, "nope").is_none());
        assert!(t.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn layered_graph() {
        let (base, task) = sample();
        let base = Arc::new(base);
        let n = base.len() as u32;
        let mut split = TypeGraph::with_base(base.clone(), vec![]);
        let m = split.add(Type::Struct(Composite {
            name: Some("module_thing".into()),
            size: 8,
            members: vec![member(Some("t"), TypeId(task.0), 0)],
            is_declaration: false,
        }));
        assert_eq!(m, TypeId(n));
        assert_eq!(split.find_struct("task_struct"), Some(task));
        assert_eq!(split.find_struct("module_thing"), Some(m));
        assert_eq!(split.offset_of("module_thing", "t.comm"), Some(8));
        assert_eq!(split.iter().count(), base.len() + 1);
    }

    #[test]
    fn int_names() {
        for (dwarf, c) in [
            ("long unsigned int", "unsigned long"),
            ("long int", "long"),
            ("long long unsigned int", "unsigned long long"),
            ("short int", "short"),
            ("short unsigned int", "unsigned short"),
            ("signed char", "signed char"),
            ("unsigned char", "unsigned char"),
            ("char", "char"),
            ("int", "int"),
            ("unsigned int", "unsigned int"),
            ("__int128 unsigned", "unsigned __int128"),
            ("_Bool", "_Bool"),
            ("ssizetype", "ssizetype"),
            ("double", "double"),
        ] {
            assert_eq!(c_int_name(dwarf), c);
        }
        let mut g = TypeGraph::new();
        let ul = int(&mut g, "unsigned long", 8, false);
        assert_eq!(g.find_base("long unsigned int"), Some(ul));
        assert_eq!(g.find_type_by_name("long  unsigned int"), Some(ul));
    }

    #[test]
    fn path_parsing() {
        assert_eq!(split_indices("a[1][0x10]"), Some(("a", vec![1, 16])));
        assert_eq!(split_indices("a"), Some(("a", vec![])));
        assert_eq!(split_indices("a[1"), None);
        assert_eq!(split_indices("[1]"), None);
        assert_eq!(split_indices("a[1]x"), None);
    }
}
