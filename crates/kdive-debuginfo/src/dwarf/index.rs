//! The name index: one parallel pass over `.debug_info` that records, for every top-level
//! named type, global variable and function, where its DIE is — and nothing else.
//!
//! Types are deduplicated while scanning (one definition per kind and name, the declaration only
//! when no unit defines it); variables and functions with storage are all kept (static names
//! repeat across units). The index is one byte buffer in the cache file's layout (see
//! [`super::cache`]), so a built index and a memory-mapped one answer through the same code.

use super::scan::{self, Abbrevs, Cursor, DieInfo, UnitHeader, Val};
use super::{DwarfError, Sections};
use rayon::prelude::*;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// What an index entry names. The order is the preference among entries of one name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum EntryKind {
    Struct = 0,
    Union = 1,
    Enum = 2,
    Typedef = 3,
    Base = 4,
    /// A variable with a location (a definition).
    Var = 5,
    /// A variable declaration (`extern`), or a variable without location.
    VarDecl = 6,
    /// A function with code (low_pc or ranges).
    Func = 7,
    /// An inline-only function (abstract instance).
    FuncInline = 8,
    /// A function declaration.
    FuncDecl = 9,
}

impl EntryKind {
    fn from_u8(v: u8) -> Option<EntryKind> {
        use EntryKind::*;
        Some(match v {
            0 => Struct,
            1 => Union,
            2 => Enum,
            3 => Typedef,
            4 => Base,
            5 => Var,
            6 => VarDecl,
            7 => Func,
            8 => FuncInline,
            9 => FuncDecl,
            _ => return None,
        })
    }
    fn is_deduplicated(self) -> bool {
        !matches!(self, EntryKind::Var | EntryKind::Func)
    }
}

/// One index entry: a DIE and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub kind: EntryKind,
    /// Offset of the DIE in `.debug_info`.
    pub die: u64,
    /// The DIE is a declaration (`DW_AT_declaration`).
    pub declaration: bool,
    /// `DW_AT_external`.
    pub external: bool,
}

const DIE_MASK: u64 = (1 << 48) - 1;
const FLAG_DECL: u64 = 1 << 56;
const FLAG_EXTERNAL: u64 = 1 << 57;

impl Entry {
    fn pack(self) -> u64 {
        (self.die & DIE_MASK)
            | (u64::from(self.kind as u8) << 48)
            | if self.declaration { FLAG_DECL } else { 0 }
            | if self.external { FLAG_EXTERNAL } else { 0 }
    }
    fn unpack(v: u64) -> Option<Entry> {
        Some(Entry {
            kind: EntryKind::from_u8((v >> 48) as u8)?,
            die: v & DIE_MASK,
            declaration: v & FLAG_DECL != 0,
            external: v & FLAG_EXTERNAL != 0,
        })
    }
}

/// FxHash-style hasher for in-memory maps (keys are offsets and hashes, not hostile strings).
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);
const FX_K: u64 = 0x517c_c1b7_2722_0a95;
impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(FX_K);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(FX_K);
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    fn finish(&self) -> u64 {
        self.0
    }
}
pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// The index's name hash (part of the cache format: changing it needs a format version bump).
/// The top bit is always set, so it never equals a `.debug_str` offset used as a scan key.
pub fn name_hash(name: &[u8]) -> u64 {
    // 64-bit FNV-1a over the bytes, then a final avalanche.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut chunks = name.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h ^ w).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29);
    }
    for &b in chunks.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h | (1 << 63)
}

/// A name as seen while scanning: a `.debug_str` offset (cheap, and equal strings share one
/// offset after the linker merged the section) or, for other forms, the name's hash.
type NameKey = u64;

const N_KINDS: usize = 10;

/// What one worker accumulates.
#[derive(Default)]
struct Accum {
    /// Per kind: name key → the preferred entry so far, for deduplicated kinds.
    dedup: [FxMap<NameKey, u64>; N_KINDS],
    /// Variables and functions with storage: (name key, packed entry).
    list: Vec<(NameKey, u64)>,
    /// Function address ranges: (low, high, DIE offset).
    ranges: Vec<(u64, u64, u64)>,
    units: usize,
    errors: usize,
    first_error: Option<DwarfError>,
}

impl Accum {
    fn add(&mut self, key: NameKey, e: Entry) {
        if !e.kind.is_deduplicated() {
            self.list.push((key, e.pack()));
            return;
        }
        let packed = e.pack();
        self.dedup[e.kind as usize]
            .entry(key)
            .and_modify(|old| {
                if better(packed, *old) {
                    *old = packed;
                }
            })
            .or_insert(packed);
    }

    fn merge(mut self, mut other: Accum) -> Accum {
        for (mine, theirs) in self.dedup.iter_mut().zip(other.dedup.iter_mut()) {
            if mine.len() < theirs.len() {
                std::mem::swap(mine, theirs);
            }
            for (k, v) in theirs.drain() {
                mine.entry(k)
                    .and_modify(|old| {
                        if better(v, *old) {
                            *old = v;
                        }
                    })
                    .or_insert(v);
            }
        }
        self.list.append(&mut other.list);
        self.ranges.append(&mut other.ranges);
        self.units += other.units;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self
    }
}

/// Definitions beat declarations; then the lowest DIE offset (deterministic across runs).
fn better(new: u64, old: u64) -> bool {
    let (nd, od) = (new & FLAG_DECL != 0, old & FLAG_DECL != 0);
    if nd != od {
        return od;
    }
    (new & DIE_MASK) < (old & DIE_MASK)
}

/// Per-unit values needed to resolve indexed forms.
struct UnitCtx<'a> {
    secs: &'a Sections<'a>,
    hdr: UnitHeader,
    str_offsets_base: Option<u64>,
    addr_base: Option<u64>,
    rnglists_base: Option<u64>,
    low_pc: u64,
}

impl UnitCtx<'_> {
    fn name_key(&self, v: Val<'_>) -> Option<NameKey> {
        match v {
            Val::Strp(off) if off < (1 << 62) => Some(off),
            Val::Str(s) => Some(name_hash(s)),
            Val::LineStrp(off) => Some(name_hash(scan::cstr_at(self.secs.line_str, off)?)),
            Val::StrIndex(i) => {
                let os = u64::from(self.hdr.offset_size);
                let base = self.str_offsets_base.unwrap_or(8);
                let at = base.checked_add(i.checked_mul(os)?)?;
                let mut c = Cursor::new(self.secs.str_offsets, usize::try_from(at).ok()?);
                let off = c.uint(os as usize)?;
                (off < (1 << 62)).then_some(off)
            }
            _ => None,
        }
    }

    fn address(&self, v: Val<'_>) -> Option<u64> {
        match v {
            Val::U(a) => Some(a),
            Val::AddrIndex(i) => {
                let asz = u64::from(self.hdr.address_size);
                let at = self.addr_base?.checked_add(i.checked_mul(asz)?)?;
                Cursor::new(self.secs.addr, usize::try_from(at).ok()?).uint(asz as usize)
            }
            _ => None,
        }
    }

    /// The address ranges of a DIE with low/high pc or DW_AT_ranges (bounded).
    fn ranges(&self, d: &DieInfo<'_>, out: &mut Vec<(u64, u64)>) {
        if let (Some(lo), Some((hi, is_off))) = (d.low_pc, d.high_pc) {
            if let Some(lo) = self.address(lo) {
                let hi = if is_off {
                    match hi {
                        Val::U(n) => lo.checked_add(n),
                        _ => None,
                    }
                } else {
                    self.address(hi)
                };
                if let Some(hi) = hi.filter(|&h| h > lo) {
                    out.push((lo, hi));
                }
            }
            return;
        }
        let Some(r) = d.ranges else { return };
        if self.hdr.version >= 5 {
            let off = match r {
                Val::U(off) => Some(off),
                Val::RngIndex(i) => (|| {
                    let base = self.rnglists_base?;
                    let os = u64::from(self.hdr.offset_size);
                    let at = base.checked_add(i.checked_mul(os)?)?;
                    let rel = Cursor::new(self.secs.rnglists, usize::try_from(at).ok()?)
                        .uint(os as usize)?;
                    base.checked_add(rel)
                })(),
                _ => None,
            };
            if let Some(off) = off {
                self.rnglist(off, out);
            }
        } else if let Val::U(off) = r {
            self.debug_ranges(off, out);
        }
    }

    fn rnglist(&self, off: u64, out: &mut Vec<(u64, u64)>) -> Option<()> {
        let asz = usize::from(self.hdr.address_size);
        let mut c = Cursor::new(self.secs.rnglists, usize::try_from(off).ok()?);
        let mut base = self.low_pc;
        for _ in 0..4096 {
            let (lo, hi) = match c.u8()? {
                0 => return Some(()),
                1 => {
                    base = self.address(Val::AddrIndex(c.uleb()?))?;
                    continue;
                }
                2 => (
                    self.address(Val::AddrIndex(c.uleb()?))?,
                    self.address(Val::AddrIndex(c.uleb()?))?,
                ),
                3 => {
                    let s = self.address(Val::AddrIndex(c.uleb()?))?;
                    (s, s.checked_add(c.uleb()?)?)
                }
                4 => (base.checked_add(c.uleb()?)?, base.checked_add(c.uleb()?)?),
                5 => {
                    base = c.uint(asz)?;
                    continue;
                }
                6 => (c.uint(asz)?, c.uint(asz)?),
                7 => {
                    let s = c.uint(asz)?;
                    (s, s.checked_add(c.uleb()?)?)
                }
                _ => return None,
            };
            if hi > lo {
                out.push((lo, hi));
            }
        }
        None
    }

    fn debug_ranges(&self, off: u64, out: &mut Vec<(u64, u64)>) -> Option<()> {
        let asz = usize::from(self.hdr.address_size);
        let mut c = Cursor::new(self.secs.ranges, usize::try_from(off).ok()?);
        let mut base = self.low_pc;
        let max = if asz == 8 {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        };
        for _ in 0..4096 {
            let (a, b) = (c.uint(asz)?, c.uint(asz)?);
            if a == 0 && b == 0 {
                return Some(());
            }
            if a == max {
                base = b;
                continue;
            }
            let (lo, hi) = (base.checked_add(a)?, base.checked_add(b)?);
            if hi > lo {
                out.push((lo, hi));
            }
        }
        None
    }
}

fn kind_of(tag: u16, d: &DieInfo<'_>) -> Option<EntryKind> {
    Some(match tag {
        scan::DW_TAG_STRUCTURE => EntryKind::Struct,
        scan::DW_TAG_UNION => EntryKind::Union,
        scan::DW_TAG_ENUMERATION => EntryKind::Enum,
        scan::DW_TAG_TYPEDEF => EntryKind::Typedef,
        scan::DW_TAG_BASE_TYPE => EntryKind::Base,
        scan::DW_TAG_VARIABLE => {
            if d.declaration || !d.has_location {
                EntryKind::VarDecl
            } else {
                EntryKind::Var
            }
        }
        scan::DW_TAG_SUBPROGRAM => {
            if d.declaration {
                EntryKind::FuncDecl
            } else if d.low_pc.is_some() || d.ranges.is_some() {
                EntryKind::Func
            } else if d.inline {
                EntryKind::FuncInline
            } else {
                EntryKind::FuncDecl
            }
        }
        _ => return None,
    })
}

fn interesting(tag: u16) -> bool {
    matches!(
        tag,
        scan::DW_TAG_STRUCTURE
            | scan::DW_TAG_UNION
            | scan::DW_TAG_ENUMERATION
            | scan::DW_TAG_TYPEDEF
            | scan::DW_TAG_BASE_TYPE
            | scan::DW_TAG_VARIABLE
            | scan::DW_TAG_SUBPROGRAM
    )
}

/// Scans one unit's top-level DIEs into `acc`.
fn scan_unit(secs: &Sections<'_>, offset: usize, acc: &mut Accum) -> Result<(), DwarfError> {
    let hdr = scan::unit_header(secs.info, offset)?;
    if !hdr.is_compile {
        return Ok(());
    }
    let abbrevs = Abbrevs::parse(secs.abbrev, hdr.abbrev_offset, &hdr)?;
    let info = &secs.info[..hdr.end];
    let bad = |at: usize, what: &'static str| DwarfError::Malformed {
        section: ".debug_info",
        offset: at as u64,
        what,
    };
    let mut c = Cursor::new(info, hdr.entries);
    let code = c.uleb().ok_or_else(|| bad(c.pos, "truncated unit DIE"))?;
    if code == 0 {
        return Ok(());
    }
    let ab = abbrevs
        .get(code)
        .ok_or_else(|| bad(hdr.entries, "unknown abbreviation"))?;
    let cu = scan::read_die(&mut c, &ab, &hdr).ok_or_else(|| bad(hdr.entries, "bad unit DIE"))?;
    if !ab.has_children() {
        return Ok(());
    }
    let mut ctx = UnitCtx {
        secs,
        hdr,
        str_offsets_base: cu.str_offsets_base,
        addr_base: cu.addr_base,
        rnglists_base: cu.rnglists_base,
        low_pc: 0,
    };
    ctx.low_pc = cu.low_pc.and_then(|v| ctx.address(v)).unwrap_or(0);
    let mut pending: Vec<(usize, Entry)> = Vec::new();
    let mut rs = Vec::new();
    while c.pos < hdr.end {
        let die = c.pos;
        let code = c.uleb().ok_or_else(|| bad(die, "truncated DIE"))?;
        if code == 0 {
            break;
        }
        let ab = abbrevs
            .get(code)
            .ok_or_else(|| bad(die, "unknown abbreviation"))?;
        let mut sibling = None;
        if interesting(ab.tag()) {
            let d = scan::read_die(&mut c, &ab, &hdr).ok_or_else(|| bad(die, "bad DIE"))?;
            sibling = d.sibling;
            if let Some(kind) = kind_of(ab.tag(), &d) {
                let e = Entry {
                    kind,
                    die: die as u64,
                    declaration: d.declaration,
                    external: d.external,
                };
                match d.name.and_then(|n| ctx.name_key(n)) {
                    Some(key) => acc.add(key, e),
                    None => {
                        if let Some(o) = d.origin {
                            if kind >= EntryKind::Var {
                                pending.push((o, e));
                            }
                        }
                    }
                }
                if kind == EntryKind::Func {
                    rs.clear();
                    ctx.ranges(&d, &mut rs);
                    acc.ranges
                        .extend(rs.iter().map(|&(lo, hi)| (lo, hi, die as u64)));
                }
            }
        } else if ab.has_sibling() && ab.has_children() {
            let fast = scan::sibling_fast(&c, &ab, &hdr).filter(|&s| s > c.pos && s <= hdr.end);
            match fast {
                Some(s) => {
                    c.pos = s;
                    continue;
                }
                None => {
                    let d = scan::read_die(&mut c, &ab, &hdr).ok_or_else(|| bad(die, "bad DIE"))?;
                    sibling = d.sibling;
                }
            }
        } else {
            scan::skip_attrs(&mut c, &ab, &hdr).ok_or_else(|| bad(die, "bad DIE"))?;
        }
        if ab.has_children() {
            match sibling.filter(|&s| s > c.pos && s <= hdr.end) {
                Some(s) => c.pos = s,
                None => scan::skip_children(&mut c, &abbrevs, &hdr)
                    .ok_or_else(|| bad(die, "bad children"))?,
            }
        }
    }
    // Out-of-line instances and definitions that name their declaration instead of themselves.
    for (origin, e) in pending {
        if let Some(key) = origin_name(&ctx, &abbrevs, origin) {
            acc.add(key, e);
        }
    }
    Ok(())
}

/// The name of the DIE at `off` in the same unit, following specification/origin chains a little.
fn origin_name(ctx: &UnitCtx<'_>, abbrevs: &Abbrevs, mut off: usize) -> Option<NameKey> {
    let hdr = &ctx.hdr;
    let info = &ctx.secs.info[..hdr.end];
    for _ in 0..4 {
        if off < hdr.entries || off >= hdr.end {
            return None;
        }
        let mut c = Cursor::new(info, off);
        let ab = abbrevs.get(c.uleb()?)?;
        let d = scan::read_die(&mut c, &ab, hdr)?;
        if let Some(k) = d.name.and_then(|n| ctx.name_key(n)) {
            return Some(k);
        }
        off = d.origin?;
    }
    None
}

/// Tells the kernel this process is done with the pages wholly inside `data` (a read-only
/// file mapping): they leave the resident set but stay in the page cache, and a later read
/// faults them back in. Keeps peak RSS near the index's size rather than `.debug_info`'s.
fn release_pages(data: &[u8]) {
    #[cfg(unix)]
    {
        const PAGE: usize = 4096;
        let start = (data.as_ptr() as usize).div_ceil(PAGE) * PAGE;
        let end = (data.as_ptr() as usize + data.len()) / PAGE * PAGE;
        if end > start {
            // SAFETY: advisory on whole pages of a private read-only file mapping the caller
            // only reads; the contents do not change (they are re-read from the file).
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = data;
}

/// Statistics of one index build.
#[derive(Debug, Clone, Default)]
pub struct BuildStats {
    pub units: usize,
    pub units_failed: usize,
    pub first_error: Option<String>,
    /// Time scanning units, and merging/sorting/hashing afterwards.
    pub scan_time: std::time::Duration,
    pub finish_time: std::time::Duration,
}

/// The index contents before serialisation.
pub(crate) struct Built {
    pub cus: Vec<u64>,
    /// (name hash, packed entry), sorted.
    pub records: Vec<(u64, u64)>,
    /// (low, high, DIE), sorted by low.
    pub ranges: Vec<(u64, u64, u64)>,
    pub stats: BuildStats,
}

/// Scans every unit of `secs` in parallel (on the current rayon pool).
pub(crate) fn build(secs: &Sections<'_>) -> Built {
    let t0 = std::time::Instant::now();
    let (cus, header_err) = scan::unit_offsets(secs.info);
    let acc = cus
        .par_iter()
        .with_min_len(32)
        .fold(Accum::default, |mut acc, &off| {
            acc.units += 1;
            if let Err(e) = scan_unit(secs, off, &mut acc) {
                acc.errors += 1;
                acc.first_error.get_or_insert(e);
            }
            if secs.release_scanned {
                if let Ok(h) = scan::unit_header(secs.info, off) {
                    release_pages(&secs.info[off..h.end]);
                }
            }
            acc
        })
        .reduce(Accum::default, Accum::merge);
    let scan_time = t0.elapsed();
    let key_hash = |key: NameKey| -> Option<u64> {
        if key & (1 << 63) != 0 {
            Some(key)
        } else {
            scan::cstr_at(secs.str, key).map(name_hash)
        }
    };
    let mut records: Vec<(u64, u64)> = acc
        .dedup
        .into_par_iter()
        .flat_map_iter(|m| m.into_iter())
        .filter_map(|(key, packed)| Some((key_hash(key)?, packed)))
        .collect();
    let mut list: Vec<(u64, u64)> = acc
        .list
        .into_par_iter()
        .filter_map(|(key, packed)| Some((key_hash(key)?, packed)))
        .collect();
    records.append(&mut list);
    records.par_sort_unstable_by_key(|&(h, p)| (h, (p >> 48) & 0xff, p & DIE_MASK));
    records.dedup();
    let mut ranges = acc.ranges;
    ranges.par_sort_unstable();
    let first_error = acc.first_error.or(header_err).map(|e| e.to_string());
    Built {
        cus: cus.iter().map(|&o| o as u64).collect(),
        records,
        ranges,
        stats: BuildStats {
            units: acc.units,
            units_failed: acc.errors,
            first_error,
            scan_time,
            finish_time: t0.elapsed() - scan_time,
        },
    }
}

/// Read access to an index in its serialised layout (owned or memory-mapped).
pub(crate) struct IndexView<'a> {
    pub cus: &'a [u8],
    pub records: &'a [u8],
    pub ranges: &'a [u8],
}

#[inline]
fn u64_at(b: &[u8], i: usize) -> u64 {
    let s = &b[i * 8..i * 8 + 8];
    u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]])
}

impl IndexView<'_> {
    pub fn n_records(&self) -> usize {
        self.records.len() / 16
    }
    fn record(&self, i: usize) -> (u64, u64) {
        (u64_at(self.records, 2 * i), u64_at(self.records, 2 * i + 1))
    }
    pub fn n_cus(&self) -> usize {
        self.cus.len() / 8
    }

    /// Every entry whose name hashes like `name`, in preference order (kind, then DIE offset).
    pub fn lookup(&self, name: &str) -> Vec<Entry> {
        let h = name_hash(name.as_bytes());
        let n = self.n_records();
        // Lower bound.
        let (mut lo, mut hi) = (0usize, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.record(mid).0 < h {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let mut out = Vec::new();
        let mut i = lo;
        while i < n {
            let (rh, p) = self.record(i);
            if rh != h {
                break;
            }
            if let Some(e) = Entry::unpack(p) {
                out.push(e);
            }
            i += 1;
        }
        out
    }

    /// The unit containing `.debug_info` offset `die`.
    pub fn unit_of(&self, die: u64) -> Option<u64> {
        let n = self.n_cus();
        let (mut lo, mut hi) = (0usize, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if u64_at(self.cus, mid) <= die {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        (lo > 0).then(|| u64_at(self.cus, lo - 1))
    }

    /// The function DIEs whose ranges contain `addr` (innermost last is not implied).
    pub fn functions_at(&self, addr: u64) -> Vec<(u64, u64, u64)> {
        let n = self.ranges.len() / 24;
        let at = |i: usize| {
            (
                u64_at(self.ranges, 3 * i),
                u64_at(self.ranges, 3 * i + 1),
                u64_at(self.ranges, 3 * i + 2),
            )
        };
        // Last range starting at or before addr, then scan back a little for overlaps.
        let (mut lo, mut hi) = (0usize, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if at(mid).0 <= addr {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let mut out = Vec::new();
        let mut i = lo;
        while i > 0 && out.len() < 8 && lo - i < 64 {
            i -= 1;
            let r = at(i);
            if r.0 <= addr && addr < r.1 {
                out.push(r);
            }
        }
        out
    }

    pub fn n_ranges(&self) -> usize {
        self.ranges.len() / 24
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing() {
        let e = Entry {
            kind: EntryKind::FuncInline,
            die: 0x1234_5678_9abc,
            declaration: true,
            external: false,
        };
        assert_eq!(Entry::unpack(e.pack()), Some(e));
        assert!(name_hash(b"task_struct") & (1 << 63) != 0);
        assert_ne!(name_hash(b"a"), name_hash(b"b"));
        assert_ne!(name_hash(b"abcdefgh1"), name_hash(b"abcdefgh2"));
    }

    #[test]
    fn preference() {
        let d = |die, declaration| {
            Entry {
                kind: EntryKind::Struct,
                die,
                declaration,
                external: false,
            }
            .pack()
        };
        assert!(better(d(100, false), d(10, true)));
        assert!(!better(d(100, true), d(10, false)));
        assert!(better(d(5, false), d(10, false)));
    }
}
