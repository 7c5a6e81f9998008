//! A bounds-checked DIE scanner specialised for indexing: unit headers, abbreviation tables
//! compiled into per-abbreviation skip plans, and a walk over a unit's top-level DIEs that
//! decodes only the attributes the index needs and skips the rest by form.
//!
//! Every read is checked against the section; hostile bytes end the unit with an error.

use super::DwarfError;

pub(crate) const DW_TAG_ENUMERATION: u16 = 0x04;
pub(crate) const DW_TAG_STRUCTURE: u16 = 0x13;
pub(crate) const DW_TAG_TYPEDEF: u16 = 0x16;
pub(crate) const DW_TAG_UNION: u16 = 0x17;
pub(crate) const DW_TAG_SUBPROGRAM: u16 = 0x2e;
pub(crate) const DW_TAG_BASE_TYPE: u16 = 0x24;
pub(crate) const DW_TAG_VARIABLE: u16 = 0x34;

const DW_AT_SIBLING: u16 = 0x01;
const DW_AT_LOCATION: u16 = 0x02;
const DW_AT_NAME: u16 = 0x03;
const DW_AT_LOW_PC: u16 = 0x11;
const DW_AT_HIGH_PC: u16 = 0x12;
const DW_AT_INLINE: u16 = 0x20;
const DW_AT_ABSTRACT_ORIGIN: u16 = 0x31;
const DW_AT_DECLARATION: u16 = 0x3c;
const DW_AT_EXTERNAL: u16 = 0x3f;
const DW_AT_SPECIFICATION: u16 = 0x47;
const DW_AT_RANGES: u16 = 0x55;
const DW_AT_STR_OFFSETS_BASE: u16 = 0x72;
const DW_AT_ADDR_BASE: u16 = 0x73;
const DW_AT_RNGLISTS_BASE: u16 = 0x74;

/// Upper bound on one abbreviation's attribute list: real compilers use < 40.
const MAX_ATTRS: usize = 256;
/// Upper bound on DIE nesting walked while skipping a subtree.
const MAX_DEPTH: u32 = 4096;

/// A little-endian cursor over a slice; every read is bounds-checked.
#[derive(Clone, Copy)]
pub(crate) struct Cursor<'a> {
    pub data: &'a [u8],
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(data: &'a [u8], pos: usize) -> Cursor<'a> {
        Cursor { data, pos }
    }
    #[inline]
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    #[inline]
    pub fn skip(&mut self, n: usize) -> Option<()> {
        let end = self.pos.checked_add(n)?;
        if end > self.data.len() {
            return None;
        }
        self.pos = end;
        Some(())
    }
    #[inline]
    pub fn u8(&mut self) -> Option<u8> {
        let b = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }
    #[inline]
    pub fn uint(&mut self, n: usize) -> Option<u64> {
        let s = self.take(n)?;
        let mut v = 0u64;
        for (i, b) in s.iter().enumerate().take(8) {
            v |= u64::from(*b) << (8 * i);
        }
        Some(v)
    }
    #[inline]
    pub fn uleb(&mut self) -> Option<u64> {
        let mut v = 0u64;
        let mut shift = 0u32;
        loop {
            let b = self.u8()?;
            if shift < 64 {
                v |= u64::from(b & 0x7f) << shift;
            }
            shift += 7;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
    }
    #[inline]
    pub fn sleb(&mut self) -> Option<i64> {
        let mut v = 0i64;
        let mut shift = 0u32;
        loop {
            let b = self.u8()?;
            if shift < 64 {
                v |= i64::from(b & 0x7f) << shift;
            }
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    v |= -1i64 << shift;
                }
                return Some(v);
            }
        }
    }
    /// Skips a NUL-terminated string.
    #[inline]
    pub fn skip_cstr(&mut self) -> Option<()> {
        let rest = self.data.get(self.pos..)?;
        let n = rest.iter().position(|&b| b == 0)?;
        self.pos += n + 1;
        Some(())
    }
}

/// A NUL-terminated string at `off` in `data`.
pub(crate) fn cstr_at(data: &[u8], off: u64) -> Option<&[u8]> {
    let rest = data.get(usize::try_from(off).ok()?..)?;
    let n = rest.iter().position(|&b| b == 0)?;
    Some(&rest[..n])
}

/// A compile unit's header, decoded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UnitHeader {
    /// Offset of the header in `.debug_info`.
    pub offset: usize,
    /// Offset one past the unit's last byte.
    pub end: usize,
    /// Offset of the first DIE.
    pub entries: usize,
    pub version: u16,
    pub offset_size: u8,
    pub address_size: u8,
    pub abbrev_offset: u64,
    /// Compile or partial unit (others — type, skeleton, split — are not indexed).
    pub is_compile: bool,
}

/// Decodes the unit header at `offset`.
pub(crate) fn unit_header(info: &[u8], offset: usize) -> Result<UnitHeader, DwarfError> {
    let bad = |what: &'static str| DwarfError::Malformed {
        section: ".debug_info",
        offset: offset as u64,
        what,
    };
    let mut c = Cursor::new(info, offset);
    let len32 = c.uint(4).ok_or_else(|| bad("truncated unit length"))?;
    let (len, offset_size) = match len32 {
        0xffff_ffff => (c.uint(8).ok_or_else(|| bad("truncated unit length"))?, 8u8),
        n if n >= 0xffff_fff0 => return Err(bad("reserved unit length")),
        n => (n, 4u8),
    };
    let end = usize::try_from(len)
        .ok()
        .and_then(|l| c.pos.checked_add(l))
        .filter(|&e| e <= info.len())
        .ok_or_else(|| bad("unit extends past the section"))?;
    let version = c.uint(2).ok_or_else(|| bad("truncated header"))? as u16;
    let os = usize::from(offset_size);
    let (abbrev_offset, address_size, is_compile) = match version {
        2..=4 => {
            let ab = c.uint(os).ok_or_else(|| bad("truncated header"))?;
            let asz = c.u8().ok_or_else(|| bad("truncated header"))?;
            (ab, asz, true)
        }
        5 => {
            let ut = c.u8().ok_or_else(|| bad("truncated header"))?;
            let asz = c.u8().ok_or_else(|| bad("truncated header"))?;
            let ab = c.uint(os).ok_or_else(|| bad("truncated header"))?;
            match ut {
                1 | 3 => (ab, asz, true),
                4 | 5 => {
                    c.skip(8).ok_or_else(|| bad("truncated header"))?;
                    (ab, asz, false)
                }
                2 | 6 => {
                    c.skip(8 + os).ok_or_else(|| bad("truncated header"))?;
                    (ab, asz, false)
                }
                _ => return Err(bad("unknown unit type")),
            }
        }
        _ => return Err(bad("unsupported DWARF version")),
    };
    if !matches!(address_size, 4 | 8) {
        return Err(bad("unsupported address size"));
    }
    if c.pos > end {
        return Err(bad("header longer than the unit"));
    }
    Ok(UnitHeader {
        offset,
        end,
        entries: c.pos,
        version,
        offset_size,
        address_size,
        abbrev_offset,
        is_compile,
    })
}

/// Offsets of every unit in `.debug_info`, stopping at the first malformed header.
pub(crate) fn unit_offsets(info: &[u8]) -> (Vec<usize>, Option<DwarfError>) {
    let mut v = Vec::new();
    let mut off = 0usize;
    while off < info.len() {
        match unit_header(info, off) {
            Ok(h) => {
                v.push(off);
                off = h.end;
            }
            Err(e) => return (v, Some(e)),
        }
    }
    (v, None)
}

/// One attribute specification of an abbreviation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AttrSpec {
    pub at: u16,
    pub form: u16,
    pub implicit: i64,
}

/// One abbreviation, with what the scanner needs to know up front.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Abbrev<'a> {
    s: &'a Stored,
    pub attrs: &'a [AttrSpec],
}

impl Abbrev<'_> {
    #[inline]
    pub fn tag(&self) -> u16 {
        self.s.tag
    }
    #[inline]
    pub fn has_children(&self) -> bool {
        self.s.has_children
    }
    #[inline]
    pub fn has_sibling(&self) -> bool {
        self.s.has_sibling
    }
}

/// The positions of the interesting attributes of a fixed-size abbreviation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fast {
    n: u8,
    /// (index in `attrs`, byte offset from the first attribute)
    fields: [(u16, u16); FAST_FIELDS],
}
const FAST_FIELDS: usize = 8;

fn interesting_attr(at: u16) -> bool {
    matches!(
        at,
        DW_AT_NAME
            | DW_AT_DECLARATION
            | DW_AT_EXTERNAL
            | DW_AT_LOCATION
            | DW_AT_LOW_PC
            | DW_AT_HIGH_PC
            | DW_AT_RANGES
            | DW_AT_INLINE
            | DW_AT_SIBLING
            | DW_AT_SPECIFICATION
            | DW_AT_ABSTRACT_ORIGIN
            | DW_AT_STR_OFFSETS_BASE
            | DW_AT_ADDR_BASE
            | DW_AT_RNGLISTS_BASE
    )
}

/// How an abbreviation is stored: its attributes are a range of the table's one vector.
#[derive(Debug, Clone, Copy)]
struct Stored {
    tag: u16,
    has_children: bool,
    has_sibling: bool,
    start: u32,
    len: u32,
    fixed_size: Option<usize>,
    /// For fixed-size abbreviations: where the attributes the indexer reads are.
    fast: Option<Fast>,
    /// Offset of DW_AT_sibling from the DIE's attributes, when every attribute before it has a
    /// fixed size (gcc puts it first), and its index in `attrs`.
    sibling_at: Option<(u16, u16)>,
}

/// An abbreviation table, indexed by code (dense codes in a vector).
pub(crate) struct Abbrevs {
    attrs: Vec<AttrSpec>,
    dense: Vec<Option<Stored>>,
    sparse: Vec<(u64, Stored)>,
}

impl Abbrevs {
    #[inline]
    pub fn get(&self, code: u64) -> Option<Abbrev<'_>> {
        let s = match self.dense.get(code as usize) {
            Some(a) => a.as_ref()?,
            None => {
                let i = self.sparse.binary_search_by_key(&code, |e| e.0).ok()?;
                &self.sparse[i].1
            }
        };
        Some(Abbrev {
            s,
            attrs: self
                .attrs
                .get(s.start as usize..(s.start as usize + s.len as usize))?,
        })
    }

    /// Parses the table at `offset` and plans attribute skipping for `offset_size`/`address_size`.
    pub fn parse(abbrev: &[u8], offset: u64, hdr: &UnitHeader) -> Result<Abbrevs, DwarfError> {
        let bad = |what: &'static str| DwarfError::Malformed {
            section: ".debug_abbrev",
            offset,
            what,
        };
        let start = usize::try_from(offset).map_err(|_| bad("offset out of range"))?;
        if start > abbrev.len() {
            return Err(bad("offset out of range"));
        }
        let mut c = Cursor::new(abbrev, start);
        let mut all: Vec<(u64, Stored)> = Vec::new();
        let mut attrs: Vec<AttrSpec> = Vec::new();
        loop {
            let code = c.uleb().ok_or_else(|| bad("truncated table"))?;
            if code == 0 {
                break;
            }
            let tag = c.uleb().ok_or_else(|| bad("truncated entry"))?;
            let children = c.u8().ok_or_else(|| bad("truncated entry"))?;
            let start = attrs.len();
            loop {
                let at = c.uleb().ok_or_else(|| bad("truncated attribute"))?;
                let form = c.uleb().ok_or_else(|| bad("truncated attribute"))?;
                if at == 0 && form == 0 {
                    break;
                }
                let implicit = if form == 0x21 {
                    c.sleb().ok_or_else(|| bad("truncated implicit constant"))?
                } else {
                    0
                };
                if attrs.len() - start >= MAX_ATTRS {
                    return Err(bad("too many attributes"));
                }
                attrs.push(AttrSpec {
                    at: u16::try_from(at).unwrap_or(u16::MAX),
                    form: u16::try_from(form).map_err(|_| bad("unknown form"))?,
                    implicit,
                });
            }
            let mine = &attrs[start..];
            let mut fixed = Some(0usize);
            let mut fast = Some(Fast {
                n: 0,
                fields: [(0, 0); FAST_FIELDS],
            });
            let mut sibling_at = None;
            for (i, a) in mine.iter().enumerate() {
                if let (Some(off), true) = (fixed, a.at == DW_AT_SIBLING) {
                    if off <= usize::from(u16::MAX) {
                        sibling_at = Some((off as u16, i as u16));
                    }
                }
                if interesting_attr(a.at) {
                    if let (Some(f), Some(off)) = (fast.as_mut(), fixed) {
                        if usize::from(f.n) < FAST_FIELDS && off <= usize::from(u16::MAX) {
                            f.fields[usize::from(f.n)] = (i as u16, off as u16);
                            f.n += 1;
                        } else {
                            fast = None;
                        }
                    }
                }
                fixed = match (fixed, fixed_form_size(a.form, hdr)) {
                    (Some(t), Some(n)) => Some(t + n),
                    _ => None,
                };
            }
            if fixed.is_none() {
                fast = None;
            }
            let has_sibling = mine.iter().any(|a| a.at == DW_AT_SIBLING);
            all.push((
                code,
                Stored {
                    tag: u16::try_from(tag).unwrap_or(u16::MAX),
                    has_children: children != 0,
                    has_sibling,
                    start: start as u32,
                    len: mine.len() as u32,
                    fixed_size: fixed,
                    fast,
                    sibling_at,
                },
            ));
        }
        // Dense when codes are small (they are 1..n in practice); bounded by the entry count.
        let max = all.iter().map(|e| e.0).max().unwrap_or(0);
        if max <= (all.len() as u64).saturating_mul(2) + 16 {
            let mut dense: Vec<Option<Stored>> = vec![None; max as usize + 1];
            for (code, a) in all {
                dense[code as usize] = Some(a);
            }
            Ok(Abbrevs {
                attrs,
                dense,
                sparse: Vec::new(),
            })
        } else {
            all.sort_by_key(|e| e.0);
            all.dedup_by_key(|e| e.0);
            Ok(Abbrevs {
                attrs,
                dense: Vec::new(),
                sparse: all,
            })
        }
    }
}

/// Size of a form whose encoding has a fixed length in this unit.
fn fixed_form_size(form: u16, hdr: &UnitHeader) -> Option<usize> {
    let os = usize::from(hdr.offset_size);
    Some(match form {
        0x01 => usize::from(hdr.address_size),
        0x0b | 0x0c | 0x11 | 0x25 | 0x29 => 1,
        0x05 | 0x12 | 0x26 | 0x2a => 2,
        0x27 | 0x2b => 3,
        0x06 | 0x13 | 0x1c | 0x28 | 0x2c => 4,
        0x07 | 0x14 | 0x20 | 0x24 => 8,
        0x1e => 16,
        0x0e | 0x17 | 0x1d | 0x1f | 0x1f20 | 0x1f21 => os,
        0x10 if hdr.version <= 2 => usize::from(hdr.address_size),
        0x10 => os,
        0x19 | 0x21 => 0,
        _ => return None,
    })
}

/// A decoded attribute value, as far as the indexer cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Val<'a> {
    /// Constants, flags, addresses, section offsets and unit-relative references.
    U(u64),
    /// A `.debug_info`-relative reference (`DW_FORM_ref_addr`).
    InfoRef(u64),
    /// An index into `.debug_str_offsets` / `.debug_addr` / range lists.
    StrIndex(u64),
    AddrIndex(u64),
    RngIndex(u64),
    /// An inline string.
    Str(&'a [u8]),
    /// A `.debug_str` / `.debug_line_str` offset.
    Strp(u64),
    LineStrp(u64),
    /// Blocks and expressions.
    Block(&'a [u8]),
    /// Something the indexer does not interpret (supplementary-file forms).
    Other,
}

/// Reads one attribute value of `form`; `None` on truncation or an unknown form.
#[inline]
pub(crate) fn read_form<'a>(
    c: &mut Cursor<'a>,
    form: u16,
    implicit: i64,
    hdr: &UnitHeader,
    depth: u32,
) -> Option<Val<'a>> {
    let os = usize::from(hdr.offset_size);
    Some(match form {
        0x01 => Val::U(c.uint(usize::from(hdr.address_size))?),
        0x0b | 0x0c | 0x11 => Val::U(c.uint(1)?),
        0x05 | 0x12 => Val::U(c.uint(2)?),
        0x06 | 0x13 => Val::U(c.uint(4)?),
        0x07 | 0x14 => Val::U(c.uint(8)?),
        0x0d => Val::U(c.sleb()? as u64),
        0x0f | 0x15 => Val::U(c.uleb()?),
        0x17 => Val::U(c.uint(os)?),
        0x19 => Val::U(1),
        0x21 => Val::U(implicit as u64),
        0x10 => Val::InfoRef(c.uint(if hdr.version <= 2 {
            usize::from(hdr.address_size)
        } else {
            os
        })?),
        0x0e => Val::Strp(c.uint(os)?),
        0x1f => Val::LineStrp(c.uint(os)?),
        0x08 => {
            let start = c.pos;
            c.skip_cstr()?;
            Val::Str(&c.data[start..c.pos - 1])
        }
        0x1a | 0x1f02 => Val::StrIndex(c.uleb()?),
        0x25 => Val::StrIndex(c.uint(1)?),
        0x26 => Val::StrIndex(c.uint(2)?),
        0x27 => Val::StrIndex(c.uint(3)?),
        0x28 => Val::StrIndex(c.uint(4)?),
        0x1b | 0x1f01 => Val::AddrIndex(c.uleb()?),
        0x29 => Val::AddrIndex(c.uint(1)?),
        0x2a => Val::AddrIndex(c.uint(2)?),
        0x2b => Val::AddrIndex(c.uint(3)?),
        0x2c => Val::AddrIndex(c.uint(4)?),
        0x23 => Val::RngIndex(c.uleb()?),
        0x22 => {
            c.uleb()?;
            Val::Other
        }
        0x0a => {
            let n = c.uint(1)? as usize;
            Val::Block(c.take(n)?)
        }
        0x03 => {
            let n = c.uint(2)? as usize;
            Val::Block(c.take(n)?)
        }
        0x04 => {
            let n = c.uint(4)? as usize;
            Val::Block(c.take(n)?)
        }
        0x09 | 0x18 => {
            let n = usize::try_from(c.uleb()?).ok()?;
            Val::Block(c.take(n)?)
        }
        0x1e => {
            c.skip(16)?;
            Val::Other
        }
        0x1c => {
            c.skip(4)?;
            Val::Other
        }
        0x20 | 0x24 => {
            c.skip(8)?;
            Val::Other
        }
        0x1d | 0x1f20 | 0x1f21 => {
            c.skip(os)?;
            Val::Other
        }
        0x16 => {
            // DW_FORM_indirect: the form is in the data. Bounded nesting.
            if depth > 4 {
                return None;
            }
            let f = u16::try_from(c.uleb()?).ok()?;
            return read_form(c, f, implicit, hdr, depth + 1);
        }
        _ => return None,
    })
}

/// Skips the attributes of `ab` at the cursor.
#[inline]
pub(crate) fn skip_attrs(c: &mut Cursor<'_>, ab: &Abbrev<'_>, hdr: &UnitHeader) -> Option<()> {
    if let Some(n) = ab.s.fixed_size {
        return c.skip(n);
    }
    for a in ab.attrs {
        read_form(c, a.form, a.implicit, hdr, 0)?;
    }
    Some(())
}

/// What the indexer wants from one DIE.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DieInfo<'a> {
    pub name: Option<Val<'a>>,
    pub declaration: bool,
    pub external: bool,
    pub location: Option<&'a [u8]>,
    pub has_location: bool,
    pub low_pc: Option<Val<'a>>,
    pub high_pc: Option<(Val<'a>, bool)>,
    pub ranges: Option<Val<'a>>,
    pub inline: bool,
    pub sibling: Option<usize>,
    /// DW_AT_specification or DW_AT_abstract_origin, as a `.debug_info` offset.
    pub origin: Option<usize>,
    pub str_offsets_base: Option<u64>,
    pub addr_base: Option<u64>,
    pub rnglists_base: Option<u64>,
}

/// Is `form` a unit-relative reference?
fn is_unit_ref(form: u16) -> bool {
    matches!(form, 0x11..=0x15)
}

/// Decodes the attributes of `ab` at the cursor into a [`DieInfo`].
pub(crate) fn read_die<'a>(
    c: &mut Cursor<'a>,
    ab: &Abbrev<'_>,
    hdr: &UnitHeader,
) -> Option<DieInfo<'a>> {
    let mut d = DieInfo::default();
    if let (Some(fixed), Some(fast)) = (ab.s.fixed_size, &ab.s.fast) {
        let base = c.pos;
        if base.checked_add(fixed)? > c.data.len() {
            return None;
        }
        for &(i, off) in &fast.fields[..usize::from(fast.n)] {
            let a = ab.attrs.get(usize::from(i))?;
            let mut sub = Cursor::new(c.data, base + usize::from(off));
            let v = read_form(&mut sub, a.form, a.implicit, hdr, 0)?;
            apply(&mut d, a, v, hdr);
        }
        c.pos = base + fixed;
        return Some(d);
    }
    for a in ab.attrs {
        let v = read_form(c, a.form, a.implicit, hdr, 0)?;
        apply(&mut d, a, v, hdr);
    }
    Some(d)
}

/// The sibling of a DIE whose attributes start at the cursor, read directly when its position is
/// fixed; `None` when unknown (the caller then reads the attributes).
#[inline]
pub(crate) fn sibling_fast(c: &Cursor<'_>, ab: &Abbrev<'_>, hdr: &UnitHeader) -> Option<usize> {
    let (off, i) = ab.s.sibling_at?;
    let a = ab.attrs.get(usize::from(i))?;
    let mut sub = Cursor::new(c.data, c.pos.checked_add(usize::from(off))?);
    match read_form(&mut sub, a.form, a.implicit, hdr, 0)? {
        Val::U(o) if is_unit_ref(a.form) => hdr.offset.checked_add(usize::try_from(o).ok()?),
        Val::InfoRef(o) => usize::try_from(o).ok(),
        _ => None,
    }
}

/// Stores one attribute value into `d`.
#[inline]
fn apply<'a>(d: &mut DieInfo<'a>, a: &AttrSpec, v: Val<'a>, hdr: &UnitHeader) {
    {
        let as_ref = |v: Val<'_>| -> Option<usize> {
            match v {
                Val::U(off) if is_unit_ref(a.form) => hdr.offset.checked_add(off as usize),
                Val::InfoRef(off) => usize::try_from(off).ok(),
                _ => None,
            }
        };
        match a.at {
            DW_AT_NAME => d.name = Some(v),
            DW_AT_DECLARATION => d.declaration = v != Val::U(0),
            DW_AT_EXTERNAL => d.external = v != Val::U(0),
            DW_AT_LOCATION => {
                d.has_location = true;
                if let Val::Block(b) = v {
                    d.location = Some(b);
                }
            }
            DW_AT_LOW_PC => d.low_pc = Some(v),
            DW_AT_HIGH_PC => {
                // A constant class high_pc is an offset from low_pc (DWARF 4+).
                let is_offset = !matches!(a.form, 0x01 | 0x1b | 0x29..=0x2c | 0x1f01);
                d.high_pc = Some((v, is_offset));
            }
            DW_AT_RANGES => d.ranges = Some(v),
            DW_AT_INLINE => d.inline = v != Val::U(0),
            DW_AT_SIBLING => d.sibling = as_ref(v),
            DW_AT_SPECIFICATION | DW_AT_ABSTRACT_ORIGIN => d.origin = as_ref(v),
            DW_AT_STR_OFFSETS_BASE => {
                if let Val::U(x) = v {
                    d.str_offsets_base = Some(x)
                }
            }
            DW_AT_ADDR_BASE => {
                if let Val::U(x) = v {
                    d.addr_base = Some(x)
                }
            }
            DW_AT_RNGLISTS_BASE => {
                if let Val::U(x) = v {
                    d.rnglists_base = Some(x)
                }
            }
            _ => {}
        }
    }
}

/// Skips the children of a DIE whose attributes have just been read, ending after the null
/// entry that closes them. Uses DW_AT_sibling of nested DIEs when it points forward.
pub(crate) fn skip_children(c: &mut Cursor<'_>, abbrevs: &Abbrevs, hdr: &UnitHeader) -> Option<()> {
    let mut depth = 1u32;
    while depth > 0 {
        if c.pos >= hdr.end {
            return None;
        }
        let code = c.uleb()?;
        if code == 0 {
            depth -= 1;
            continue;
        }
        let ab = abbrevs.get(code)?;
        if ab.has_sibling() && ab.has_children() {
            if let Some(sib) = sibling_fast(c, &ab, hdr).filter(|&s| s > c.pos && s <= hdr.end) {
                c.pos = sib;
                continue;
            }
            let d = read_die(c, &ab, hdr)?;
            if let Some(sib) = d.sibling.filter(|&s| s > c.pos && s <= hdr.end) {
                c.pos = sib;
                continue;
            }
        } else {
            skip_attrs(c, &ab, hdr)?;
        }
        if ab.has_children() {
            depth += 1;
            if depth > MAX_DEPTH {
                return None;
            }
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128() {
        let b = [0xe5, 0x8e, 0x26, 0x7f, 0x80, 0x7f];
        let mut c = Cursor::new(&b, 0);
        assert_eq!(c.uleb(), Some(624485));
        assert_eq!(c.sleb(), Some(-1));
        assert_eq!(c.sleb(), Some(-128));
        assert_eq!(c.uleb(), None);
        // Overlong encodings do not overflow.
        let long = [0xffu8; 20];
        let mut c = Cursor::new(&long, 0);
        assert_eq!(c.uleb(), None);
    }

    #[test]
    fn headers() {
        // DWARF 5 compile unit, 32-bit, address size 8, one null DIE.
        let mut u = vec![];
        u.extend_from_slice(&9u32.to_le_bytes());
        u.extend_from_slice(&5u16.to_le_bytes());
        u.extend_from_slice(&[1, 8]);
        u.extend_from_slice(&0u32.to_le_bytes());
        u.push(0);
        let h = unit_header(&u, 0).unwrap();
        assert_eq!(
            (h.version, h.entries, h.end, h.is_compile),
            (5, 12, 13, true)
        );
        assert!(unit_header(&u[..10], 0).is_err());
        let mut bad = u.clone();
        bad[0] = 200;
        assert!(unit_header(&bad, 0).is_err());
        let (offs, err) = unit_offsets(&u);
        assert_eq!(offs, vec![0]);
        assert!(err.is_none());
    }
}
