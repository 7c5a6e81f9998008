//! Variables live at a pc: for the function containing an address, its parameters and locals
//! (those of inlined subroutines and lexical blocks included) with where DWARF says each one is
//! at each address (`DW_AT_location`: an expression, or a location list). Only the unit holding
//! the function is parsed, and only when asked.
//!
//! Addresses are the DWARF's own (link-time for a vmlinux: subtract the KASLR offset first;
//! a relocated module's are its addresses in the dump).
//!
//! Only simple locations are described ([`Loc`]); anything else (pieces, computed
//! expressions, implicit pointers) is left out rather than guessed.

use super::{DwarfInfo, R};
use gimli::{AttributeValue, DebugInfoOffset, Operation, UnitOffset};
use std::collections::HashMap;
use std::sync::Arc;

/// Bound on DIEs read below one function (hostile DWARF cannot make it loop without end).
const MAX_DIES: usize = 200_000;
/// Bound on nested scopes and on typedef/qualifier chains.
const MAX_DEPTH: u32 = 64;
/// Bound on entries read from one location list.
const MAX_LOC_ENTRIES: usize = 4096;

/// Where a variable's value is, at one address. Registers are DWARF numbers (x86_64: 0 rax,
/// 1 rdx, 2 rcx, 3 rbx, 4 rsi, 5 rdi, 6 rbp, 7 rsp, 8..15 r8..r15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loc {
    /// In register N (`DW_OP_regN`).
    Reg(u16),
    /// In memory at register N + offset (`DW_OP_bregN off`, or `DW_OP_fbreg` over a register
    /// frame base).
    Mem { reg: u16, off: i64 },
    /// In memory at the canonical frame address + offset (`DW_OP_fbreg` over
    /// `DW_OP_call_frame_cfa`).
    Cfa(i64),
    /// No location, the value is register N + offset (`DW_OP_bregN off; DW_OP_stack_value`).
    Value { reg: u16, off: i64 },
    /// No location, the value is what register N held at the function's entry
    /// (`DW_OP_entry_value(DW_OP_regN); DW_OP_stack_value`).
    Entry(u16),
    /// A constant (`DW_OP_litN`/`constN`; `DW_OP_stack_value`, or `DW_AT_const_value`).
    Const(i64),
}

/// x86_64 name of DWARF register `r` ("rax"), None for ones not named.
pub fn register_name(r: u16) -> Option<&'static str> {
    gimli::X86_64::register_name(gimli::Register(r))
}

impl std::fmt::Display for Loc {
    /// `rax`, `[rsp+0x10]`, `[CFA-0x20]`, `rdi+0x8`, `entry(rdi)`, `0`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn reg(r: u16) -> String {
            register_name(r).map_or_else(|| format!("reg{r}"), str::to_string)
        }
        fn off(o: i64) -> String {
            match o {
                0 => String::new(),
                o if o < 0 => format!("-{:#x}", o.unsigned_abs()),
                o => format!("+{o:#x}"),
            }
        }
        match *self {
            Loc::Reg(r) => write!(f, "{}", reg(r)),
            Loc::Mem { reg: r, off: o } => write!(f, "[{}{}]", reg(r), off(o)),
            Loc::Cfa(o) => write!(f, "[CFA{}]", off(o)),
            Loc::Value { reg: r, off: o } => write!(f, "{}{}", reg(r), off(o)),
            Loc::Entry(r) => write!(f, "entry({})", reg(r)),
            Loc::Const(c) => write!(f, "{c}"),
        }
    }
}

/// One variable live at an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Local {
    pub name: String,
    /// A formal parameter (else a local variable).
    pub param: bool,
    /// The inlined function it belongs to, when it is not the containing function's own.
    pub inlined: Option<String>,
    pub loc: Loc,
    /// `.debug_info` offset of its type DIE (see [`DwarfInfo::pointee_member`]).
    pub type_die: Option<u64>,
}

/// Where each variable of a scope can be.
#[derive(Debug, Clone)]
enum Where {
    /// One location for the whole scope.
    Always(Loc),
    /// Location-list entries `[begin, end)`.
    List(Vec<(u64, u64, Loc)>),
}

#[derive(Debug, Clone)]
struct Var {
    name: String,
    param: bool,
    inlined: Option<String>,
    /// Nesting depth of the scope (0: the function itself); inner names hide outer ones.
    depth: u32,
    /// Address ranges of the scope the variable belongs to.
    scope: Arc<Vec<(u64, u64)>>,
    at: Where,
    type_die: Option<u64>,
}

/// The variables of one function, read once; ask [`FunctionLocals::at`] per address.
#[derive(Debug, Clone)]
pub struct FunctionLocals {
    pub name: Option<String>,
    pub low_pc: u64,
    pub high_pc: u64,
    vars: Vec<Var>,
}

impl FunctionLocals {
    /// Whether `pc` lies in this function's range.
    pub fn contains(&self, pc: u64) -> bool {
        self.low_pc <= pc && pc < self.high_pc
    }

    /// The variables with a known location at `pc`, outer scopes first, in declaration order;
    /// a name declared again in an inner scope hides the outer one.
    pub fn at(&self, pc: u64) -> Vec<Local> {
        let mut out: Vec<(u32, Local)> = Vec::new();
        for v in &self.vars {
            if !v.scope.iter().any(|&(b, e)| b <= pc && pc < e) {
                continue;
            }
            let loc = match &v.at {
                Where::Always(l) => Some(*l),
                Where::List(l) => l
                    .iter()
                    .find(|&&(b, e, _)| b <= pc && pc < e)
                    .map(|&(_, _, l)| l),
            };
            let Some(loc) = loc else { continue };
            if let Some(i) = out.iter().position(|(_, l)| l.name == v.name) {
                if out[i].0 > v.depth {
                    continue;
                }
                out.remove(i);
            }
            out.push((
                v.depth,
                Local {
                    name: v.name.clone(),
                    param: v.param,
                    inlined: v.inlined.clone(),
                    loc,
                    type_die: v.type_die,
                },
            ));
        }
        out.into_iter().map(|(_, l)| l).collect()
    }
}

/// A step from a pointer's target to the member an offset lands in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberStep {
    /// `.name` (the first one is printed after `->`).
    Field(String),
    /// `[index]` of an array of `elem_size`-byte elements.
    Elem { index: u64, elem_size: u64 },
}

/// What `*(ptr + offset)` is, for a pointer variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberPath {
    /// Steps from the pointee to the innermost member containing the offset; empty when the
    /// pointee is not a struct/union (`*p`, `p[N]`).
    pub steps: Vec<MemberStep>,
    /// Bytes from the start of the innermost member (0 when the offset is its start).
    pub rest: u64,
    /// The pointee is a struct or union (so an empty `steps` means an offset outside it).
    pub pointee_is_composite: bool,
    /// Byte size of the pointee type.
    pub pointee_size: Option<u64>,
    /// The pointee type's name: `struct kdive_race_priv`, `union foo`, `int`; None when it
    /// has none (an anonymous struct, a pointer).
    pub pointee_name: Option<String>,
}

const DW_TAG_ARRAY: u16 = 0x01;
const DW_TAG_FORMAL_PARAMETER: u16 = 0x05;
const DW_TAG_LEXICAL_BLOCK: u16 = 0x0b;
const DW_TAG_MEMBER: u16 = 0x0d;
const DW_TAG_POINTER: u16 = 0x0f;
const DW_TAG_STRUCTURE: u16 = 0x13;
const DW_TAG_TYPEDEF: u16 = 0x16;
const DW_TAG_UNION: u16 = 0x17;
const DW_TAG_INLINED_SUBROUTINE: u16 = 0x1d;
const DW_TAG_SUBRANGE: u16 = 0x21;
const DW_TAG_CONST: u16 = 0x26;
const DW_TAG_VARIABLE: u16 = 0x34;
const DW_TAG_VOLATILE: u16 = 0x35;
const DW_TAG_RESTRICT: u16 = 0x37;
const DW_TAG_ATOMIC: u16 = 0x47;

/// Bound on DIE reads of one request (types of hostile DWARF can nest and repeat without end).
const MAX_READS: u32 = 1_000_000;

/// Parsed units by offset, for one request.
struct Units<'a> {
    info: &'a DwarfInfo,
    units: HashMap<u64, Arc<gimli::Unit<R>>>,
    /// DIE reads left.
    budget: u32,
}

impl<'a> Units<'a> {
    fn new(info: &'a DwarfInfo) -> Self {
        Units {
            info,
            units: HashMap::new(),
            budget: MAX_READS,
        }
    }

    /// The unit holding DIE `die`, and its offset (None once the request's budget is spent).
    fn of(&mut self, die: u64) -> Option<(u64, Arc<gimli::Unit<R>>)> {
        self.budget = self.budget.checked_sub(1)?;
        let uoff = self.info.unit_of(die)?;
        if let Some(u) = self.units.get(&uoff) {
            return Some((uoff, u.clone()));
        }
        let dw = &self.info.dwarf;
        let hdr = dw
            .debug_info
            .header_from_offset(DebugInfoOffset(usize::try_from(uoff).ok()?))
            .ok()?;
        let unit = Arc::new(dw.unit(hdr).ok()?);
        self.units.insert(uoff, unit.clone());
        Some((uoff, unit))
    }
}

/// A reference attribute as a global `.debug_info` offset.
fn global_ref(uoff: u64, v: &AttributeValue<R>) -> Option<u64> {
    match *v {
        AttributeValue::UnitRef(UnitOffset(o)) => uoff.checked_add(o as u64),
        AttributeValue::DebugInfoRef(DebugInfoOffset(o)) => Some(o as u64),
        _ => None,
    }
}

/// The few attributes of a DIE used here.
#[derive(Default)]
struct Attrs {
    tag: u16,
    name: Option<String>,
    origin: Option<u64>,
    ty: Option<u64>,
    byte_size: Option<u64>,
    member_location: Option<u64>,
    count: Option<u64>,
    upper_bound: Option<u64>,
}

fn read_attrs(units: &mut Units<'_>, die: u64) -> Option<Attrs> {
    let (uoff, unit) = units.of(die)?;
    let e = unit
        .entry(UnitOffset(usize::try_from(die - uoff).ok()?))
        .ok()?;
    let mut a = Attrs {
        tag: e.tag().0,
        ..Attrs::default()
    };
    let mut it = e.attrs();
    while let Ok(Some(at)) = it.next() {
        let v = at.value();
        match at.name() {
            gimli::DW_AT_name => {
                a.name = units
                    .info
                    .dwarf
                    .attr_string(&unit, v)
                    .ok()
                    .map(|s| s.to_string_lossy().into_owned())
            }
            gimli::DW_AT_abstract_origin | gimli::DW_AT_specification => {
                a.origin = global_ref(uoff, &v)
            }
            gimli::DW_AT_type => a.ty = global_ref(uoff, &v),
            gimli::DW_AT_byte_size => a.byte_size = at.udata_value(),
            gimli::DW_AT_data_member_location => {
                a.member_location = match v {
                    AttributeValue::Exprloc(expr) => {
                        let mut r = expr.0;
                        match gimli::Reader::read_u8(&mut r) {
                            Ok(0x23) => gimli::Reader::read_uleb128(&mut r).ok(),
                            _ => None,
                        }
                    }
                    _ => at.udata_value(),
                }
            }
            gimli::DW_AT_count => a.count = at.udata_value(),
            gimli::DW_AT_upper_bound => a.upper_bound = at.udata_value(),
            _ => {}
        }
    }
    Some(a)
}

/// Name and type of a DIE, through abstract origin / specification.
fn name_and_type(units: &mut Units<'_>, mut die: u64) -> (Option<String>, Option<u64>) {
    let (mut name, mut ty) = (None, None);
    for _ in 0..4 {
        let Some(a) = read_attrs(units, die) else {
            break;
        };
        name = name.or(a.name);
        ty = ty.or(a.ty);
        match a.origin {
            Some(o) if name.is_none() || ty.is_none() => die = o,
            _ => break,
        }
    }
    (name, ty)
}

/// The frame base of a subprogram, as a location `DW_OP_fbreg` offsets are added to.
#[derive(Clone, Copy)]
enum FrameBase {
    Cfa,
    Reg(u16, i64),
    Unknown,
}

/// A simple location expression, decoded.
fn decode(expr: gimli::Expression<R>, enc: gimli::Encoding, fb: FrameBase) -> Option<Loc> {
    let mut ops = Vec::new();
    let mut it = expr.operations(enc);
    while let Ok(Some(op)) = it.next() {
        if ops.len() >= 4 {
            return None;
        }
        ops.push(op);
    }
    Some(match ops.as_slice() {
        [Operation::Register { register }] => Loc::Reg(register.0),
        [Operation::RegisterOffset {
            register,
            offset,
            base_type,
        }] if base_type.0 == 0 => Loc::Mem {
            reg: register.0,
            off: *offset,
        },
        [Operation::RegisterOffset {
            register,
            offset,
            base_type,
        }, Operation::StackValue]
            if base_type.0 == 0 =>
        {
            Loc::Value {
                reg: register.0,
                off: *offset,
            }
        }
        [Operation::FrameOffset { offset }] => match fb {
            FrameBase::Cfa => Loc::Cfa(*offset),
            FrameBase::Reg(r, o) => Loc::Mem {
                reg: r,
                off: o.checked_add(*offset)?,
            },
            FrameBase::Unknown => return None,
        },
        [Operation::EntryValue { expression }, Operation::StackValue] => {
            let inner = gimli::Expression(*expression);
            match inner.operations(enc).next() {
                Ok(Some(Operation::Register { register })) => Loc::Entry(register.0),
                _ => return None,
            }
        }
        [Operation::UnsignedConstant { value }, Operation::StackValue] => Loc::Const(*value as i64),
        [Operation::SignedConstant { value }, Operation::StackValue] => Loc::Const(*value),
        _ => return None,
    })
}

fn frame_base(expr: gimli::Expression<R>, enc: gimli::Encoding) -> FrameBase {
    let mut it = expr.operations(enc);
    let first = it.next();
    let more = it.next();
    match (first, more) {
        (Ok(Some(Operation::CallFrameCFA)), Ok(None)) => FrameBase::Cfa,
        (Ok(Some(Operation::Register { register })), Ok(None)) => FrameBase::Reg(register.0, 0),
        (
            Ok(Some(Operation::RegisterOffset {
                register, offset, ..
            })),
            Ok(None),
        ) => FrameBase::Reg(register.0, offset),
        _ => FrameBase::Unknown,
    }
}

impl DwarfInfo {
    /// The parameters and locals of the function containing `pc` (the innermost DWARF
    /// subprogram range holding it), with their locations across the function.
    pub fn function_locals(&self, pc: u64) -> Option<FunctionLocals> {
        let (low, high, die) = self
            .function_ranges_at(pc)
            .into_iter()
            .min_by_key(|r| r.1 - r.0)?;
        let mut units = Units::new(self);
        let (uoff, unit) = units.of(die)?;
        let (name, _) = name_and_type(&mut units, die);
        let enc = unit.encoding();
        let dw = &self.dwarf;
        let mut tree = unit
            .entries_tree(Some(UnitOffset(usize::try_from(die - uoff).ok()?)))
            .ok()?;
        let root = tree.root().ok()?;
        let mut fb = FrameBase::Unknown;
        if let Ok(Some(AttributeValue::Exprloc(e))) =
            root.entry().attr_value(gimli::DW_AT_frame_base)
        {
            fb = frame_base(e, enc);
        }
        let mut vars = Vec::new();
        let mut budget = MAX_DIES;
        let scope = Arc::new(vec![(low, high)]);
        // Depth-first over the function's children (recursion bounded by MAX_DEPTH).
        #[allow(clippy::too_many_arguments)]
        fn walk(
            node: gimli::EntriesTreeNode<'_, '_, '_, R>,
            dw: &gimli::Dwarf<R>,
            unit: &gimli::Unit<R>,
            uoff: u64,
            units: &mut Units<'_>,
            fb: FrameBase,
            depth: u32,
            scope: Arc<Vec<(u64, u64)>>,
            inlined: Option<String>,
            budget: &mut usize,
            vars: &mut Vec<Var>,
        ) {
            if depth > MAX_DEPTH {
                return;
            }
            let enc = unit.encoding();
            let mut children = node.children();
            while let Ok(Some(child)) = children.next() {
                if *budget == 0 {
                    return;
                }
                *budget -= 1;
                let e = child.entry();
                let tag = e.tag().0;
                let off = uoff + e.offset().0 as u64;
                match tag {
                    DW_TAG_FORMAL_PARAMETER | DW_TAG_VARIABLE => {
                        let mut at = None;
                        if let Ok(Some(v)) = e.attr_value(gimli::DW_AT_location) {
                            at = match v {
                                AttributeValue::Exprloc(x) => decode(x, enc, fb).map(Where::Always),
                                v => match dw.attr_locations(unit, v) {
                                    Ok(Some(mut it)) => {
                                        let mut l = Vec::new();
                                        while let Ok(Some(ent)) = it.next() {
                                            if l.len() >= MAX_LOC_ENTRIES {
                                                break;
                                            }
                                            if let Some(loc) = decode(ent.data, enc, fb) {
                                                l.push((ent.range.begin, ent.range.end, loc));
                                            }
                                        }
                                        Some(Where::List(l))
                                    }
                                    _ => None,
                                },
                            };
                        } else if let Ok(Some(v)) = e.attr_value(gimli::DW_AT_const_value) {
                            let c = match v {
                                AttributeValue::Sdata(x) => Some(x),
                                AttributeValue::Udata(x) => i64::try_from(x).ok(),
                                AttributeValue::Data1(x) => Some(i64::from(x)),
                                AttributeValue::Data2(x) => Some(i64::from(x)),
                                AttributeValue::Data4(x) => Some(i64::from(x)),
                                AttributeValue::Data8(x) => Some(x as i64),
                                _ => None,
                            };
                            at = c.map(|c| Where::Always(Loc::Const(c)));
                        }
                        let Some(at) = at else { continue };
                        let (name, ty) = name_and_type(units, off);
                        let Some(name) = name else { continue };
                        vars.push(Var {
                            name,
                            param: tag == DW_TAG_FORMAL_PARAMETER,
                            inlined: inlined.clone(),
                            depth,
                            scope: scope.clone(),
                            at,
                            type_die: ty,
                        });
                    }
                    DW_TAG_LEXICAL_BLOCK | DW_TAG_INLINED_SUBROUTINE => {
                        let mut ranges = Vec::new();
                        if let Ok(mut it) = dw.die_ranges(unit, e) {
                            while let Ok(Some(r)) = it.next() {
                                if ranges.len() >= MAX_LOC_ENTRIES {
                                    break;
                                }
                                ranges.push((r.begin, r.end));
                            }
                        }
                        // A block without ranges is its parent's scope.
                        let sub_scope = if ranges.is_empty() {
                            scope.clone()
                        } else {
                            Arc::new(ranges)
                        };
                        let sub_inlined = if tag == DW_TAG_INLINED_SUBROUTINE {
                            name_and_type(units, off).0.or_else(|| inlined.clone())
                        } else {
                            inlined.clone()
                        };
                        walk(
                            child,
                            dw,
                            unit,
                            uoff,
                            units,
                            fb,
                            depth + 1,
                            sub_scope,
                            sub_inlined,
                            budget,
                            vars,
                        );
                    }
                    _ => {}
                }
            }
        }
        walk(
            root,
            dw,
            &unit,
            uoff,
            &mut units,
            fb,
            0,
            scope,
            None,
            &mut budget,
            &mut vars,
        );
        Some(FunctionLocals {
            name,
            low_pc: low,
            high_pc: high,
            vars,
        })
    }

    /// The variables with a known location at `pc` (see [`FunctionLocals::at`]).
    pub fn locals_at(&self, pc: u64) -> Vec<Local> {
        self.function_locals(pc)
            .map(|f| f.at(pc))
            .unwrap_or_default()
    }

    /// For a variable of pointer type `type_die`: which member of the pointee `offset` bytes
    /// from the pointer lands in (`np->txq` for offset 0x1a0). None when the type is not a
    /// pointer (after typedefs and qualifiers) or its DIEs cannot be read.
    pub fn pointee_member(&self, type_die: u64, offset: u64) -> Option<MemberPath> {
        let mut units = Units::new(self);
        let ptr = strip(&mut units, type_die)?;
        let a = read_attrs(&mut units, ptr)?;
        if a.tag != DW_TAG_POINTER {
            return None;
        }
        path_in(&mut units, a.ty?, offset)
    }

    /// Which member of an object of type `type_die` (the variable's own type, a struct held
    /// in a stack slot) `offset` bytes into it lands in: `timer.entry.pprev` for 8 into a
    /// `struct process_timer`. `pointee_*` fields describe the type itself here.
    pub fn member_at(&self, type_die: u64, offset: u64) -> Option<MemberPath> {
        let mut units = Units::new(self);
        path_in(&mut units, type_die, offset)
    }
}

/// The member path of `offset` in an object of type `ty`.
fn path_in(units: &mut Units<'_>, ty: u64, offset: u64) -> Option<MemberPath> {
    let target = strip(units, ty)?;
    let t = read_attrs(units, target)?;
    let composite = matches!(t.tag, DW_TAG_STRUCTURE | DW_TAG_UNION);
    let size = type_size(units, target, 0);
    let mut steps = Vec::new();
    let mut rest = offset;
    if composite {
        descend(units, target, offset, &mut steps, &mut rest, 0);
    }
    let pointee_name = t.name.clone().map(|n| match t.tag {
        DW_TAG_STRUCTURE => format!("struct {n}"),
        DW_TAG_UNION => format!("union {n}"),
        _ => n,
    });
    Some(MemberPath {
        steps,
        rest,
        pointee_is_composite: composite,
        pointee_size: size,
        pointee_name,
    })
}

/// Follows typedefs and qualifiers.
fn strip(units: &mut Units<'_>, mut die: u64) -> Option<u64> {
    for _ in 0..MAX_DEPTH {
        let a = read_attrs(units, die)?;
        match a.tag {
            DW_TAG_TYPEDEF | DW_TAG_CONST | DW_TAG_VOLATILE | DW_TAG_RESTRICT | DW_TAG_ATOMIC => {
                die = a.ty?
            }
            _ => return Some(die),
        }
    }
    None
}

/// Byte size of a type (arrays: element size × count).
fn type_size(units: &mut Units<'_>, die: u64, depth: u32) -> Option<u64> {
    if depth > MAX_DEPTH {
        return None;
    }
    let die = strip(units, die)?;
    let a = read_attrs(units, die)?;
    if let Some(s) = a.byte_size {
        return Some(s);
    }
    if a.tag == DW_TAG_ARRAY {
        let elem = type_size(units, a.ty?, depth + 1)?;
        let n = array_len(units, die)?;
        return elem.checked_mul(n);
    }
    None
}

/// The element count of a one-dimensional array type (first subrange).
fn array_len(units: &mut Units<'_>, die: u64) -> Option<u64> {
    let (uoff, unit) = units.of(die)?;
    let mut tree = unit
        .entries_tree(Some(UnitOffset(usize::try_from(die - uoff).ok()?)))
        .ok()?;
    let root = tree.root().ok()?;
    let mut ch = root.children();
    let mut subs = Vec::new();
    while let Ok(Some(c)) = ch.next() {
        if c.entry().tag().0 == DW_TAG_SUBRANGE {
            subs.push(uoff + c.entry().offset().0 as u64);
        }
        if subs.len() > 1 {
            // Multi-dimensional: not described.
            return None;
        }
    }
    let a = read_attrs(units, *subs.first()?)?;
    a.count.or_else(|| a.upper_bound.map(|u| u + 1))
}

/// The member children of a struct/union: (name, offset, type).
fn members(units: &mut Units<'_>, die: u64) -> Vec<(Option<String>, u64, Option<u64>)> {
    let mut offs = Vec::new();
    if let Some((uoff, unit)) = units.of(die) {
        if let Ok(mut tree) = unit.entries_tree(Some(UnitOffset((die - uoff) as usize))) {
            if let Ok(root) = tree.root() {
                let mut ch = root.children();
                while let Ok(Some(c)) = ch.next() {
                    if c.entry().tag().0 == DW_TAG_MEMBER && offs.len() < 1 << 16 {
                        offs.push(uoff + c.entry().offset().0 as u64);
                    }
                }
            }
        }
    }
    offs.into_iter()
        .filter_map(|o| {
            let a = read_attrs(units, o)?;
            Some((a.name, a.member_location.unwrap_or(0), a.ty))
        })
        .collect()
}

/// Walks into struct/union `die` towards byte `off`: pushes the members (and array elements)
/// containing it; `rest` ends as the offset inside the innermost one.
fn descend(
    units: &mut Units<'_>,
    die: u64,
    off: u64,
    steps: &mut Vec<MemberStep>,
    rest: &mut u64,
    depth: u32,
) {
    if depth > MAX_DEPTH {
        return;
    }
    // The member starting last at or before `off` whose size covers it (unions: the first).
    let mut best: Option<(Option<String>, u64, u64)> = None;
    for (name, moff, ty) in members(units, die) {
        let Some(ty) = ty else { continue };
        if moff > off {
            continue;
        }
        let size = type_size(units, ty, 0).unwrap_or(0);
        if off < moff + size.max(1) && best.as_ref().map_or(true, |b| moff > b.1) {
            best = Some((name, moff, ty));
        }
    }
    let Some((name, moff, ty)) = best else {
        return;
    };
    let inner = off - moff;
    let Some(t) = strip(units, ty) else { return };
    let Some(a) = read_attrs(units, t) else {
        return;
    };
    match name {
        Some(n) => steps.push(MemberStep::Field(n)),
        // An anonymous struct/union member: its members are the parent's.
        None if matches!(a.tag, DW_TAG_STRUCTURE | DW_TAG_UNION) => {}
        None => return,
    }
    *rest = inner;
    match a.tag {
        DW_TAG_STRUCTURE | DW_TAG_UNION => descend(units, t, inner, steps, rest, depth + 1),
        DW_TAG_ARRAY => {
            let Some(elem_ty) = a.ty else { return };
            let Some(esize) = type_size(units, elem_ty, 0).filter(|&s| s > 0) else {
                return;
            };
            steps.push(MemberStep::Elem {
                index: inner / esize,
                elem_size: esize,
            });
            *rest = inner % esize;
            if let Some(e) = strip(units, elem_ty) {
                if let Some(ea) = read_attrs(units, e) {
                    if matches!(ea.tag, DW_TAG_STRUCTURE | DW_TAG_UNION) {
                        descend(units, e, inner % esize, steps, rest, depth + 1);
                    }
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(bytes: &'static [u8], fb: FrameBase) -> Option<Loc> {
        let enc = gimli::Encoding {
            format: gimli::Format::Dwarf32,
            version: 5,
            address_size: 8,
        };
        decode(
            gimli::Expression(gimli::EndianSlice::new(bytes, gimli::LittleEndian)),
            enc,
            fb,
        )
    }

    #[test]
    fn simple_expressions() {
        // DW_OP_reg0, DW_OP_reg5
        assert_eq!(dec(&[0x50], FrameBase::Cfa), Some(Loc::Reg(0)));
        assert_eq!(dec(&[0x55], FrameBase::Cfa), Some(Loc::Reg(5)));
        // DW_OP_regx 12
        assert_eq!(dec(&[0x90, 12], FrameBase::Cfa), Some(Loc::Reg(12)));
        // DW_OP_breg7 +16 (memory), DW_OP_breg5 +8; DW_OP_stack_value (value)
        assert_eq!(
            dec(&[0x77, 0x10], FrameBase::Cfa),
            Some(Loc::Mem { reg: 7, off: 16 })
        );
        assert_eq!(
            dec(&[0x75, 0x08, 0x9f], FrameBase::Cfa),
            Some(Loc::Value { reg: 5, off: 8 })
        );
        // DW_OP_fbreg -80 over DW_OP_call_frame_cfa, and over a register frame base
        assert_eq!(
            dec(&[0x91, 0xb0, 0x7f], FrameBase::Cfa),
            Some(Loc::Cfa(-80))
        );
        assert_eq!(
            dec(&[0x91, 0x70], FrameBase::Reg(6, 16)),
            Some(Loc::Mem { reg: 6, off: 0 })
        );
        assert_eq!(dec(&[0x91, 0x70], FrameBase::Unknown), None);
        // DW_OP_entry_value(DW_OP_reg5); DW_OP_stack_value
        assert_eq!(
            dec(&[0xa3, 0x01, 0x55, 0x9f], FrameBase::Cfa),
            Some(Loc::Entry(5))
        );
        // DW_OP_lit0; DW_OP_stack_value
        assert_eq!(dec(&[0x30, 0x9f], FrameBase::Cfa), Some(Loc::Const(0)));
        // Not described: a piece, a computed value, an empty expression.
        assert_eq!(dec(&[0x50, 0x93, 0x08], FrameBase::Cfa), None);
        assert_eq!(
            dec(&[0x70, 0x00, 0x08, 0x20, 0x24, 0x9f], FrameBase::Cfa),
            None
        );
        assert_eq!(dec(&[], FrameBase::Cfa), None);
    }

    #[test]
    fn display() {
        assert_eq!(Loc::Reg(0).to_string(), "rax");
        assert_eq!(Loc::Reg(12).to_string(), "r12");
        assert_eq!(Loc::Mem { reg: 7, off: 16 }.to_string(), "[rsp+0x10]");
        assert_eq!(Loc::Cfa(-80).to_string(), "[CFA-0x50]");
        assert_eq!(Loc::Value { reg: 5, off: 8 }.to_string(), "rdi+0x8");
        assert_eq!(Loc::Entry(5).to_string(), "entry(rdi)");
        assert_eq!(Loc::Const(-1).to_string(), "-1");
    }
}
