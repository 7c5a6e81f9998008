//! DIEs → [`TypeGraph`] types, on demand: the [`TypeLoader`] behind [`crate::TypeStore`].
//!
//! One canonical definition is converted per kind and name (the index's choice), and a type
//! the graph already has by name (from BTF or an earlier load) is reused. Members, array
//! elements and typedef targets held *by value* are converted completely; the targets of
//! pointers and function parameters that are named structs/unions stay declaration stubs until
//! [`TypeLoader::complete`] is asked for them, so one `ptype` does not pull in the kernel.
//! Anonymous structs/unions/enums have no name to complete by and are converted in place.
//!
//! A loader serves one graph: it remembers which DIE became which id.

use super::index::{EntryKind, FxMap};
use super::{DwarfInfo, R};
use crate::store::{TypeLoader, TypedSymbol};
use crate::types::{c_int_name, Composite, Linkage, Member, Type, TypeGraph, TypeId};
use gimli::{AttributeValue, DebugInfoOffset, UnitOffset};
use std::sync::{Arc, Mutex};

/// Nesting bound for by-value conversions (hostile DWARF cannot recurse without end).
const MAX_DEPTH: u32 = 96;
/// Bound on DIEs converted by one request.
const MAX_DIES_PER_REQUEST: u32 = 200_000;
/// Bound on children read from one DIE.
const MAX_CHILDREN: usize = 1 << 16;

const DW_TAG_ARRAY: u16 = 0x01;
const DW_TAG_CLASS: u16 = 0x02;
const DW_TAG_ENUMERATION: u16 = 0x04;
const DW_TAG_FORMAL_PARAMETER: u16 = 0x05;
const DW_TAG_MEMBER: u16 = 0x0d;
const DW_TAG_POINTER: u16 = 0x0f;
const DW_TAG_REFERENCE: u16 = 0x10;
const DW_TAG_STRUCTURE: u16 = 0x13;
const DW_TAG_SUBROUTINE: u16 = 0x15;
const DW_TAG_TYPEDEF: u16 = 0x16;
const DW_TAG_UNION: u16 = 0x17;
const DW_TAG_UNSPECIFIED_PARAMETERS: u16 = 0x18;
const DW_TAG_SUBRANGE: u16 = 0x21;
const DW_TAG_BASE_TYPE: u16 = 0x24;
const DW_TAG_CONST: u16 = 0x26;
const DW_TAG_ENUMERATOR: u16 = 0x28;
const DW_TAG_SUBPROGRAM: u16 = 0x2e;
const DW_TAG_VOLATILE: u16 = 0x35;
const DW_TAG_RESTRICT: u16 = 0x37;
const DW_TAG_ATOMIC: u16 = 0x47;

/// The attributes of one DIE that conversion uses.
#[derive(Debug, Default, Clone)]
struct Die {
    off: u64,
    tag: u16,
    has_children: bool,
    name: Option<String>,
    ty: Option<u64>,
    origin: Option<u64>,
    byte_size: Option<u64>,
    encoding: Option<u64>,
    declaration: bool,
    external: bool,
    location_addr: Option<u64>,
    low_pc: Option<u64>,
    member_location: Option<u64>,
    data_bit_offset: Option<u64>,
    bit_offset: Option<u64>,
    bit_size: Option<u64>,
    count: Option<i64>,
    upper_bound: Option<i64>,
    lower_bound: Option<i64>,
    /// DW_AT_const_value: (raw value, whether the form was explicitly signed, byte width).
    const_value: Option<(u64, bool, u8)>,
}

/// A value's raw bits and whether its form says it is signed; the width of fixed forms.
fn constant(v: &AttributeValue<R>) -> Option<(u64, bool, u8)> {
    Some(match *v {
        AttributeValue::Data1(x) => (u64::from(x), false, 1),
        AttributeValue::Data2(x) => (u64::from(x), false, 2),
        AttributeValue::Data4(x) => (u64::from(x), false, 4),
        AttributeValue::Data8(x) => (x, false, 8),
        AttributeValue::Sdata(x) => (x as u64, true, 8),
        AttributeValue::Udata(x) => (x, false, 8),
        _ => return None,
    })
}

/// An array bound.
fn bound(v: &AttributeValue<R>) -> Option<i64> {
    // C array bounds have the unsigned sizetype: a DW_FORM_data1 of 132 is 132, not -124.
    // Only DW_FORM_sdata is signed; an all-ones data8 is -1 (GCC's old "no elements").
    let (x, _, _) = constant(v)?;
    Some(x as i64)
}

/// Per-loader memory: parsed units and what each converted DIE became.
#[derive(Default)]
struct State {
    units: FxMap<u64, Arc<gimli::Unit<R>>>,
    dies: FxMap<u64, TypeId>,
    /// (qualifier tag, target) → the qualified type, so `const char` exists once.
    quals: FxMap<(u16, TypeId), TypeId>,
    /// Declarations whose definition was looked for and not found (opaque types).
    no_definition: FxMap<(EntryKind, String), ()>,
}

/// DWARF types for a [`crate::TypeStore`].
pub struct DwarfLoader {
    info: Arc<DwarfInfo>,
    state: Mutex<State>,
}

impl DwarfLoader {
    pub fn new(info: Arc<DwarfInfo>) -> DwarfLoader {
        DwarfLoader {
            info,
            state: Mutex::new(State::default()),
        }
    }

    pub fn info(&self) -> &Arc<DwarfInfo> {
        &self.info
    }

    fn with<T>(&self, g: &mut TypeGraph, f: impl FnOnce(&mut Conv<'_>) -> T) -> T {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut c = Conv {
            info: &self.info,
            st: &mut st,
            g,
            budget: MAX_DIES_PER_REQUEST,
        };
        f(&mut c)
    }
}

/// The name of the DIE at `die` (following specification/abstract origin).
pub(crate) fn die_name(info: &DwarfInfo, die: u64) -> Option<String> {
    let mut st = State::default();
    let mut g = TypeGraph::new();
    Conv {
        info,
        st: &mut st,
        g: &mut g,
        budget: 16,
    }
    .name_of(die)
}

struct Conv<'a> {
    info: &'a DwarfInfo,
    st: &'a mut State,
    g: &'a mut TypeGraph,
    budget: u32,
}

/// C spellings of base types that DWARF (gcc) names differently.
fn base_aliases(name: &str) -> &'static [&'static str] {
    match name {
        "unsigned long" | "unsigned long int" | "long unsigned" => &["long unsigned int"],
        "long" | "signed long" | "long signed int" | "signed long int" => &["long int"],
        "unsigned long long" | "unsigned long long int" => &["long long unsigned int"],
        "long long" | "signed long long" | "long long signed int" => &["long long int"],
        "unsigned short" | "unsigned short int" => &["short unsigned int"],
        "short" | "signed short" | "short signed int" => &["short int"],
        "unsigned" => &["unsigned int"],
        "signed" | "signed int" => &["int"],
        "_Bool" | "bool" => &["_Bool"],
        _ => &[],
    }
}

impl Conv<'_> {
    fn unit(&mut self, unit_off: u64) -> Option<Arc<gimli::Unit<R>>> {
        if let Some(u) = self.st.units.get(&unit_off) {
            return Some(u.clone());
        }
        let dw = &self.info.dwarf;
        let hdr = dw
            .debug_info
            .header_from_offset(DebugInfoOffset(usize::try_from(unit_off).ok()?))
            .ok()?;
        let unit = Arc::new(dw.unit(hdr).ok()?);
        self.st.units.insert(unit_off, unit.clone());
        Some(unit)
    }

    /// Reads the DIE at `.debug_info` offset `off`.
    fn die(&mut self, off: u64) -> Option<Die> {
        let uoff = self.info.unit_of(off)?;
        let unit = self.unit(uoff)?;
        let rel = UnitOffset(usize::try_from(off - uoff).ok()?);
        let e = unit.entry(rel).ok()?;
        let mut d = Die {
            off,
            tag: e.tag().0,
            has_children: e.has_children(),
            ..Die::default()
        };
        let global = |v: &AttributeValue<R>| -> Option<u64> {
            match *v {
                AttributeValue::UnitRef(UnitOffset(o)) => uoff.checked_add(o as u64),
                AttributeValue::DebugInfoRef(DebugInfoOffset(o)) => Some(o as u64),
                _ => None,
            }
        };
        let mut attrs = e.attrs();
        while let Ok(Some(a)) = attrs.next() {
            let v = a.value();
            match a.name() {
                gimli::DW_AT_name => {
                    d.name = self
                        .info
                        .dwarf
                        .attr_string(&unit, v)
                        .ok()
                        .map(|s| s.to_string_lossy().into_owned())
                }
                gimli::DW_AT_type => d.ty = global(&v),
                gimli::DW_AT_specification | gimli::DW_AT_abstract_origin => d.origin = global(&v),
                gimli::DW_AT_byte_size => d.byte_size = a.udata_value(),
                gimli::DW_AT_encoding => d.encoding = a.udata_value(),
                gimli::DW_AT_declaration => d.declaration = v != AttributeValue::Flag(false),
                gimli::DW_AT_external => d.external = v != AttributeValue::Flag(false),
                gimli::DW_AT_location => {
                    if let AttributeValue::Exprloc(expr) = v {
                        let b = expr.0.slice();
                        if b.len() == 9 && b[0] == 0x03 {
                            d.location_addr = Some(u64::from_le_bytes(b[1..9].try_into().ok()?));
                        }
                    }
                }
                gimli::DW_AT_low_pc => {
                    d.low_pc = self.info.dwarf.attr_address(&unit, v).ok().flatten()
                }
                gimli::DW_AT_data_member_location => {
                    d.member_location = match v {
                        AttributeValue::Exprloc(expr) => {
                            // DWARF 2 style: DW_OP_plus_uconst N.
                            let mut r = expr.0;
                            match gimli::Reader::read_u8(&mut r) {
                                Ok(0x23) => gimli::Reader::read_uleb128(&mut r).ok(),
                                _ => None,
                            }
                        }
                        _ => a.udata_value(),
                    }
                }
                gimli::DW_AT_data_bit_offset => d.data_bit_offset = a.udata_value(),
                gimli::DW_AT_bit_offset => d.bit_offset = a.udata_value(),
                gimli::DW_AT_bit_size => d.bit_size = a.udata_value(),
                gimli::DW_AT_count => d.count = bound(&v),
                gimli::DW_AT_upper_bound => d.upper_bound = bound(&v),
                gimli::DW_AT_lower_bound => d.lower_bound = bound(&v),
                gimli::DW_AT_const_value => d.const_value = constant(&v),
                _ => {}
            }
        }
        Some(d)
    }

    /// The DIEs directly below `off` (bounded).
    fn children(&mut self, off: u64) -> Vec<Die> {
        let mut out = Vec::new();
        let Some(uoff) = self.info.unit_of(off) else {
            return out;
        };
        let Some(unit) = self.unit(uoff) else {
            return out;
        };
        let offs: Vec<u64> = (|| -> Option<Vec<u64>> {
            let rel = UnitOffset(usize::try_from(off - uoff).ok()?);
            let mut tree = unit.entries_tree(Some(rel)).ok()?;
            let root = tree.root().ok()?;
            let mut it = root.children();
            let mut v = Vec::new();
            while let Ok(Some(child)) = it.next() {
                if v.len() >= MAX_CHILDREN {
                    break;
                }
                v.push(uoff + child.entry().offset().0 as u64);
            }
            Some(v)
        })()
        .unwrap_or_default();
        for o in offs {
            if let Some(d) = self.die(o) {
                out.push(d);
            }
        }
        out
    }

    /// The name of a DIE, through specification/abstract origin.
    fn name_of(&mut self, mut off: u64) -> Option<String> {
        for _ in 0..4 {
            let d = self.die(off)?;
            if d.name.is_some() {
                return d.name;
            }
            off = d.origin?;
        }
        None
    }

    /// The index's DIE for `name` of one of `kinds`, checked against the DIE's own name.
    fn find_die(&mut self, name: &str, kinds: &[EntryKind]) -> Option<(u64, EntryKind)> {
        let entries = self.info.lookup(name);
        for &k in kinds {
            // Definitions first, then external ones, then the first.
            let mut cands: Vec<_> = entries.iter().filter(|e| e.kind == k).collect();
            cands.sort_by_key(|e| (e.declaration, !e.external, e.die));
            for e in cands {
                if self.name_of(e.die).as_deref() == Some(name) {
                    return Some((e.die, k));
                }
            }
        }
        None
    }

    fn type_of(&mut self, ty: Option<u64>, deep: bool, depth: u32) -> TypeId {
        match ty {
            None => TypeId::VOID,
            Some(off) => self.convert(off, deep, depth),
        }
    }

    /// The graph's existing complete type of this kind and name.
    fn existing(&self, tag: u16, name: &str) -> Option<TypeId> {
        let id = match tag {
            DW_TAG_STRUCTURE | DW_TAG_CLASS => self.g.find_struct(name),
            DW_TAG_UNION => self.g.find_union(name),
            DW_TAG_ENUMERATION => self.g.find_enum(name),
            DW_TAG_TYPEDEF => self.g.find_typedef(name),
            DW_TAG_BASE_TYPE => self.g.find_base(name),
            _ => None,
        }?;
        (!self.g.ty(id).is_declaration()).then_some(id)
    }

    /// A declaration stub for a named struct/union/enum (an existing one when there is).
    fn stub(&mut self, tag: u16, name: &str) -> TypeId {
        let found = match tag {
            DW_TAG_UNION => self.g.find_union(name),
            DW_TAG_ENUMERATION => self.g.find_enum(name),
            _ => self.g.find_struct(name),
        };
        if let Some(id) = found {
            return id;
        }
        let c = Composite {
            name: Some(name.to_string()),
            size: 0,
            members: Vec::new(),
            is_declaration: true,
        };
        self.g.add(match tag {
            DW_TAG_UNION => Type::Union(c),
            DW_TAG_ENUMERATION => Type::Enum {
                name: Some(name.to_string()),
                size: 4,
                signed: false,
                values: Vec::new(),
                is_declaration: true,
            },
            _ => Type::Struct(c),
        })
    }

    /// Makes sure what `id` holds by value (through typedefs, qualifiers, arrays) is complete.
    fn ensure_complete(&mut self, id: TypeId, depth: u32) {
        let mut t = id;
        for _ in 0..64 {
            match self.g.ty(t) {
                Type::Typedef { target, .. }
                | Type::Const { target }
                | Type::Volatile { target }
                | Type::Restrict { target }
                | Type::TypeTag { target, .. } => t = *target,
                Type::Array { elem, .. } => t = *elem,
                _ => break,
            }
        }
        if self.g.ty(self.g.resolve_declaration(t)).is_declaration() {
            self.complete_decl(t, depth);
        }
    }

    /// Loads the definition of declaration `id` by name; its id when found.
    fn complete_decl(&mut self, id: TypeId, depth: u32) -> Option<TypeId> {
        let (kind, name) = match self.g.ty(id) {
            Type::Struct(c) if c.is_declaration => (EntryKind::Struct, c.name.clone()?),
            Type::Union(c) if c.is_declaration => (EntryKind::Union, c.name.clone()?),
            Type::Enum {
                name: Some(n),
                is_declaration: true,
                ..
            } => (EntryKind::Enum, n.clone()),
            _ => return None,
        };
        if depth > MAX_DEPTH || self.st.no_definition.contains_key(&(kind, name.clone())) {
            return None;
        }
        let Some((die, _)) = self.find_die(&name, &[kind]) else {
            // Opaque: no unit defines it; do not search again.
            self.st.no_definition.insert((kind, name), ());
            return None;
        };
        let full = self.convert(die, true, depth + 1);
        if self.g.ty(full).is_declaration() {
            // The index's best entry is itself a declaration.
            self.st.no_definition.insert((kind, name), ());
            return None;
        }
        Some(full)
    }

    /// Converts the type DIE at `off`. `deep`: the caller holds it by value.
    fn convert(&mut self, off: u64, deep: bool, depth: u32) -> TypeId {
        if depth > MAX_DEPTH {
            return self.st.dies.get(&off).copied().unwrap_or(TypeId::VOID);
        }
        if let Some(&id) = self.st.dies.get(&off) {
            if deep {
                self.ensure_complete(id, depth);
            }
            return id;
        }
        if self.budget == 0 {
            return TypeId::VOID;
        }
        self.budget -= 1;
        let Some(d) = self.die(off) else {
            return TypeId::VOID;
        };
        let id = match d.tag {
            DW_TAG_BASE_TYPE => self.base(&d),
            DW_TAG_POINTER | DW_TAG_REFERENCE => {
                let target = self.type_of(d.ty, false, depth + 1);
                self.g.pointer_to_or_add(target)
            }
            DW_TAG_CONST | DW_TAG_VOLATILE | DW_TAG_RESTRICT => {
                let target = self.type_of(d.ty, deep, depth + 1);
                if let Some(&q) = self.st.quals.get(&(d.tag, target)) {
                    q
                } else {
                    let q = self.g.add(match d.tag {
                        DW_TAG_CONST => Type::Const { target },
                        DW_TAG_VOLATILE => Type::Volatile { target },
                        _ => Type::Restrict { target },
                    });
                    self.st.quals.insert((d.tag, target), q);
                    q
                }
            }
            DW_TAG_ATOMIC => self.type_of(d.ty, deep, depth + 1),
            DW_TAG_TYPEDEF => {
                let name = d.name.clone().unwrap_or_default();
                if let Some(id) = self.existing(DW_TAG_TYPEDEF, &name) {
                    if deep {
                        self.ensure_complete(id, depth);
                    }
                    id
                } else {
                    let target = self.type_of(d.ty, deep, depth + 1);
                    // The target's conversion may have added this typedef (hostile cycles).
                    match self.existing(DW_TAG_TYPEDEF, &name) {
                        Some(id) => id,
                        None => self.g.add(Type::Typedef { name, target }),
                    }
                }
            }
            DW_TAG_STRUCTURE | DW_TAG_CLASS | DW_TAG_UNION | DW_TAG_ENUMERATION => {
                match d.name.clone() {
                    Some(name) => {
                        if let Some(id) = self.existing(d.tag, &name) {
                            return id;
                        }
                        if !deep && d.tag != DW_TAG_ENUMERATION {
                            // Not cached by DIE: a later by-value use converts it.
                            return self.stub(d.tag, &name);
                        }
                        if d.declaration {
                            let kind = match d.tag {
                                DW_TAG_UNION => EntryKind::Union,
                                DW_TAG_ENUMERATION => EntryKind::Enum,
                                _ => EntryKind::Struct,
                            };
                            return match self.find_die(&name, &[kind]) {
                                Some((def, _)) if def != off => self.convert(def, true, depth + 1),
                                _ => self.stub(d.tag, &name),
                            };
                        }
                        self.composite_or_enum(&d, depth)
                    }
                    None => self.composite_or_enum(&d, depth),
                }
            }
            DW_TAG_ARRAY => self.array(&d, depth),
            DW_TAG_SUBROUTINE => self.function_type(&d, &d, depth),
            _ => TypeId::VOID,
        };
        self.st.dies.insert(off, id);
        id
    }

    fn base(&mut self, d: &Die) -> TypeId {
        // C spelling as gdb prints it ("unsigned long", not DWARF's "long unsigned int").
        let name = d
            .name
            .as_deref()
            .map_or_else(|| "?".into(), |n| c_int_name(n).into_owned());
        let size = d.byte_size.unwrap_or(0);
        if let Some(id) = self.existing(DW_TAG_BASE_TYPE, &name) {
            if self.g.size_of(id) == Some(size) {
                return id;
            }
        }
        let enc = d.encoding.unwrap_or(0);
        self.g.add(match enc {
            // DW_ATE_complex_float, float, imaginary, decimal float.
            0x03 | 0x04 | 0x09 | 0x0f => Type::Float { name, size },
            _ => Type::Int {
                name,
                size,
                signed: matches!(enc, 0x05 | 0x06 | 0x0d),
                is_char: matches!(enc, 0x06 | 0x08 | 0x10),
                is_bool: enc == 0x02,
            },
        })
    }

    fn composite_or_enum(&mut self, d: &Die, depth: u32) -> TypeId {
        let kids = if d.has_children {
            self.children(d.off)
        } else {
            Vec::new()
        };
        if d.tag == DW_TAG_ENUMERATION {
            let signed = match d.ty.and_then(|t| self.underlying_encoding(t)) {
                Some(enc) => matches!(enc, 0x05 | 0x06 | 0x0d),
                None => kids
                    .iter()
                    .any(|k| matches!(k.const_value, Some((v, true, _)) if (v as i64) < 0)),
            };
            let size = d.byte_size.unwrap_or(4);
            let values = kids
                .iter()
                .filter(|k| k.tag == DW_TAG_ENUMERATOR)
                .map(|k| {
                    let v = match k.const_value {
                        Some((x, true, _)) => x as i64,
                        Some((x, false, w)) if signed && w < 8 => {
                            let shift = 64 - 8 * u32::from(w);
                            ((x << shift) as i64) >> shift
                        }
                        Some((x, false, _)) => x as i64,
                        None => 0,
                    };
                    (k.name.clone().unwrap_or_default(), v)
                })
                .collect();
            return self.g.add(Type::Enum {
                name: d.name.clone(),
                size,
                signed,
                values,
                is_declaration: d.declaration,
            });
        }
        let mut members = Vec::new();
        for k in kids.iter().filter(|k| k.tag == DW_TAG_MEMBER) {
            let ty = self.type_of(k.ty, true, depth + 1);
            let bit_offset = match (k.data_bit_offset, k.member_location, k.bit_offset) {
                (Some(b), _, _) => b,
                // DWARF 2-4 bitfields: DW_AT_bit_offset counts from the storage unit's MSB.
                (None, loc, Some(bo)) => {
                    let storage = k
                        .byte_size
                        .or_else(|| self.g.size_of(ty))
                        .unwrap_or(0)
                        .saturating_mul(8);
                    loc.unwrap_or(0)
                        .saturating_mul(8)
                        .saturating_add(storage)
                        .saturating_sub(bo)
                        .saturating_sub(k.bit_size.unwrap_or(0))
                }
                (None, loc, None) => loc.unwrap_or(0).saturating_mul(8),
            };
            members.push(Member {
                name: k.name.clone(),
                ty,
                bit_offset,
                bit_size: k.bit_size.and_then(|b| u32::try_from(b).ok()),
            });
        }
        let c = Composite {
            name: d.name.clone(),
            size: d.byte_size.unwrap_or(0),
            members,
            is_declaration: d.declaration,
        };
        // A definition converted while its members were (hostile cycle) wins.
        if let Some(n) = &d.name {
            if let Some(id) = self.existing(d.tag, n) {
                return id;
            }
        }
        self.g.add(if d.tag == DW_TAG_UNION {
            Type::Union(c)
        } else {
            Type::Struct(c)
        })
    }

    /// DW_AT_encoding of a base type behind typedefs/qualifiers.
    fn underlying_encoding(&mut self, mut off: u64) -> Option<u64> {
        for _ in 0..16 {
            let d = self.die(off)?;
            if d.tag == DW_TAG_BASE_TYPE {
                return d.encoding;
            }
            off = d.ty?;
        }
        None
    }

    fn array(&mut self, d: &Die, depth: u32) -> TypeId {
        let elem = self.type_of(d.ty, true, depth + 1);
        let kids = if d.has_children {
            self.children(d.off)
        } else {
            Vec::new()
        };
        let dims: Vec<Option<u64>> = kids
            .iter()
            .filter(|k| k.tag == DW_TAG_SUBRANGE)
            .map(|k| match (k.count, k.upper_bound) {
                (Some(c), _) => Some(c.max(0) as u64),
                (None, Some(ub)) => {
                    let lb = k.lower_bound.unwrap_or(0);
                    Some(ub.saturating_sub(lb).saturating_add(1).max(0) as u64)
                }
                (None, None) => None,
            })
            .collect();
        let dims = if dims.is_empty() { vec![None] } else { dims };
        let mut t = elem;
        for len in dims.into_iter().rev() {
            t = self.g.add(Type::Array { elem: t, len });
        }
        t
    }

    /// A `Function` type from `d`'s return type and `params_from`'s parameter children.
    fn function_type(&mut self, d: &Die, params_from: &Die, depth: u32) -> TypeId {
        let ret = self.type_of(d.ty, false, depth + 1);
        let kids = if params_from.has_children {
            self.children(params_from.off)
        } else {
            Vec::new()
        };
        let mut params = Vec::new();
        let mut variadic = false;
        for k in kids {
            match k.tag {
                DW_TAG_FORMAL_PARAMETER => {
                    let (name, ty) = match (k.ty, k.origin) {
                        (Some(_), _) | (None, None) => (k.name.clone(), k.ty),
                        (None, Some(o)) => match self.die(o) {
                            Some(a) => (k.name.clone().or(a.name), a.ty),
                            None => (k.name.clone(), None),
                        },
                    };
                    let ty = self.type_of(ty, false, depth + 1);
                    params.push((name, ty));
                }
                DW_TAG_UNSPECIFIED_PARAMETERS => variadic = true,
                _ => {}
            }
        }
        self.g.add(Type::Function {
            ret,
            params,
            variadic,
        })
    }

    /// Loads a type by C name.
    fn load_type(&mut self, name: &str) -> Option<TypeId> {
        let name = name.trim();
        if let Some(inner) = name.strip_suffix('*') {
            let t = self.load_type(inner)?;
            return Some(self.g.pointer_to_or_add(t));
        }
        let words: Vec<&str> = name.split_whitespace().collect();
        let (kinds, tag): (&[EntryKind], &str) = match words.as_slice() {
            ["struct", t] => (&[EntryKind::Struct], t),
            ["union", t] => (&[EntryKind::Union], t),
            ["enum", t] => (&[EntryKind::Enum], t),
            _ => (
                &[
                    EntryKind::Typedef,
                    EntryKind::Base,
                    EntryKind::Struct,
                    EntryKind::Union,
                    EntryKind::Enum,
                ],
                "",
            ),
        };
        let joined = words.join(" ");
        let names: Vec<&str> = if tag.is_empty() {
            std::iter::once(joined.as_str())
                .chain(base_aliases(&joined).iter().copied())
                .collect()
        } else {
            vec![tag]
        };
        for n in names {
            if let Some((die, _)) = self.find_die(n, kinds) {
                let id = self.convert(die, true, 0);
                if id != TypeId::VOID {
                    return Some(id);
                }
            }
        }
        None
    }

    /// `d`, then the DIEs its `DW_AT_abstract_origin` / `DW_AT_specification` chain leads to
    /// (at most four more: a hostile chain may loop).
    fn origin_chain(&mut self, d: &Die) -> Vec<Die> {
        let mut chain = vec![d.clone()];
        let mut o = d.origin;
        for _ in 0..4 {
            let Some(off) = o else { break };
            let Some(od) = self.die(off) else { break };
            o = od.origin;
            chain.push(od);
        }
        chain
    }

    fn load_variable(&mut self, name: &str) -> Option<TypedSymbol> {
        let (die, _) = self.find_die(name, &[EntryKind::Var, EntryKind::VarDecl])?;
        let d = self.die(die)?;
        let chain = self.origin_chain(&d);
        let ty = self.type_of(chain.iter().find_map(|x| x.ty), true, 0);
        if self.g.find_var(name).is_none() {
            self.g.add(Type::Var {
                name: name.to_string(),
                ty,
                linkage: linkage_of(&chain),
            });
        }
        Some(TypedSymbol {
            name: name.to_string(),
            ty,
            addr: d.location_addr,
        })
    }

    fn load_function(&mut self, name: &str) -> Option<TypedSymbol> {
        let (die, _) = self.find_die(
            name,
            &[EntryKind::Func, EntryKind::FuncInline, EntryKind::FuncDecl],
        )?;
        let d = self.die(die)?;
        // The return type and parameters live on the abstract instance or declaration when
        // this DIE is an out-of-line instance or a definition of a declared function.
        let chain = self.origin_chain(&d);
        let mut typed = d.clone();
        typed.ty = chain.iter().find_map(|x| x.ty);
        let params_from = chain
            .iter()
            .find(|x| x.has_children && x.tag == DW_TAG_SUBPROGRAM)
            .cloned()
            .unwrap_or_else(|| d.clone());
        let proto = self.function_type(&typed, &params_from, 0);
        if self.g.find_function(name).is_none() {
            self.g.add(Type::Func {
                name: name.to_string(),
                proto,
                linkage: linkage_of(&chain),
            });
        }
        Some(TypedSymbol {
            name: name.to_string(),
            ty: proto,
            addr: d.low_pc,
        })
    }
}

impl TypeLoader for DwarfLoader {
    fn load_type(&self, graph: &mut TypeGraph, name: &str) -> Option<TypeId> {
        self.with(graph, |c| c.load_type(name))
    }

    fn load_variable(&self, graph: &mut TypeGraph, name: &str) -> Option<TypedSymbol> {
        self.with(graph, |c| c.load_variable(name))
    }

    fn load_function(&self, graph: &mut TypeGraph, name: &str) -> Option<TypedSymbol> {
        self.with(graph, |c| c.load_function(name))
    }

    fn complete(&self, graph: &mut TypeGraph, id: TypeId) -> Option<TypeId> {
        self.with(graph, |c| c.complete_decl(id, 0))
    }

    fn describe(&self) -> String {
        format!(
            "DWARF of {} ({} units, {})",
            self.info.path().display(),
            self.info.unit_count(),
            self.info.origin_summary()
        )
    }
}

/// Global when any DIE of an origin chain is `DW_AT_external`, else file-static.
fn linkage_of(chain: &[Die]) -> Linkage {
    if chain.iter().any(|x| x.external) {
        Linkage::Global
    } else {
        Linkage::Static
    }
}
