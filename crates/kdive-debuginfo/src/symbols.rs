//! A symbol table: name → address and address → name, whatever the source
//! (vmlinux ELF symbol table, kallsyms decoded from the dump, module symbols).
//!
//! The table is three flat byte tables — fixed-size records sorted by address, a name order
//! (record indices sorted by name) and one string blob — so the same reader serves a table
//! built in memory and one mapped from a cache file ([`crate::symcache`]) without copying a name.

use crate::cachefile::{rd_u32, rd_u64, CacheBuf};
use std::sync::Arc;

/// What kind of thing a symbol names, as `nm`/kallsyms letters say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymbolKind {
    Text,
    Data,
    ReadOnly,
    Bss,
    Absolute,
    Other,
}

impl SymbolKind {
    /// From an `nm`-style type letter (kallsyms stores these).
    pub fn from_nm_letter(c: u8) -> SymbolKind {
        match c.to_ascii_lowercase() {
            b't' | b'w' => SymbolKind::Text,
            b'd' | b'g' => SymbolKind::Data,
            b'r' | b'n' => SymbolKind::ReadOnly,
            b'b' | b's' | b'c' => SymbolKind::Bss,
            b'a' => SymbolKind::Absolute,
            _ => SymbolKind::Other,
        }
    }
    /// The `nm` letter for global (upper-case) or local symbols.
    pub fn nm_letter(self, global: bool) -> char {
        let c = match self {
            SymbolKind::Text => 't',
            SymbolKind::Data => 'd',
            SymbolKind::ReadOnly => 'r',
            SymbolKind::Bss => 'b',
            SymbolKind::Absolute => 'a',
            SymbolKind::Other => '?',
        };
        if global {
            c.to_ascii_uppercase()
        } else {
            c
        }
    }
    fn code(self) -> u8 {
        match self {
            SymbolKind::Text => 0,
            SymbolKind::Data => 1,
            SymbolKind::ReadOnly => 2,
            SymbolKind::Bss => 3,
            SymbolKind::Absolute => 4,
            SymbolKind::Other => 5,
        }
    }
    fn from_code(c: u8) -> SymbolKind {
        match c {
            0 => SymbolKind::Text,
            1 => SymbolKind::Data,
            2 => SymbolKind::ReadOnly,
            3 => SymbolKind::Bss,
            4 => SymbolKind::Absolute,
            _ => SymbolKind::Other,
        }
    }
}

/// A symbol as the table answers it: names borrowed from the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Symbol<'a> {
    pub name: &'a str,
    /// Runtime address (already relocated by the KASLR offset).
    pub addr: u64,
    /// Size in bytes; 0 when the source does not know it (kallsyms).
    pub size: u64,
    pub kind: SymbolKind,
    pub global: bool,
    /// Module name for module symbols; None for the kernel image.
    pub module: Option<&'a str>,
}

/// A symbol to put into a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolDef {
    pub name: String,
    pub addr: u64,
    pub size: u64,
    pub kind: SymbolKind,
    pub global: bool,
    pub module: Option<String>,
}

/// Record layout (32 bytes, little-endian): 0 addr u64, 8 size u64, 16 name offset u32,
/// 20 module offset u32 (`NO_MODULE`: none), 24 name length u16, 26 module length u8, 27 kind u8,
/// 28 flags u8, 29 three spare bytes.
pub(crate) const RECORD: usize = 32;
const NO_MODULE: u32 = u32::MAX;
const FLAG_GLOBAL: u8 = 1;
/// The address is link-time and moves with the table's KASLR bias.
const FLAG_RELOCATED: u8 = 2;
/// Longest name kept (the kernel's KSYM_NAME_LEN is 512).
const MAX_NAME: usize = 1024;

/// One record being built.
#[derive(Debug, Clone, Copy)]
struct Rec {
    addr: u64,
    size: u64,
    name_off: u32,
    module_off: u32,
    name_len: u16,
    module_len: u8,
    kind: SymbolKind,
    flags: u8,
}

/// Builds a table: names go straight into the string blob (one allocation for all of them).
#[derive(Debug, Default)]
pub struct SymbolTableBuilder {
    recs: Vec<Rec>,
    strings: Vec<u8>,
    modules: Vec<(String, u32)>,
}

impl SymbolTableBuilder {
    pub fn with_capacity(symbols: usize, string_bytes: usize) -> SymbolTableBuilder {
        SymbolTableBuilder {
            recs: Vec::with_capacity(symbols),
            strings: Vec::with_capacity(string_bytes),
            modules: Vec::new(),
        }
    }

    /// Adds a symbol. `relocated`: `addr` is link-time and moves with the table's bias.
    /// Names are kept as valid UTF-8 (invalid bytes replaced) and at most 1 KiB long.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        name: &[u8],
        addr: u64,
        size: u64,
        kind: SymbolKind,
        global: bool,
        relocated: bool,
        module: Option<&str>,
    ) {
        let name = String::from_utf8_lossy(name);
        let name = truncate(&name, MAX_NAME);
        let module_off;
        let mut module_len = 0;
        match module {
            None => module_off = NO_MODULE,
            Some(m) => {
                let m = truncate(m, u8::MAX as usize);
                module_len = m.len() as u8;
                module_off = match self.modules.iter().find(|(n, _)| n == m) {
                    Some(&(_, off)) => off,
                    None => {
                        let Some(off) = self.append(m) else { return };
                        self.modules.push((m.to_string(), off));
                        off
                    }
                };
            }
        }
        let Some(name_off) = self.append(name) else {
            return;
        };
        self.recs.push(Rec {
            addr,
            size,
            name_off,
            module_off,
            name_len: name.len() as u16,
            module_len,
            kind,
            flags: if global { FLAG_GLOBAL } else { 0 }
                | if relocated { FLAG_RELOCATED } else { 0 },
        });
    }

    /// Appends to the blob; None once it would pass 4 GiB (offsets are u32).
    fn append(&mut self, s: &str) -> Option<u32> {
        let off = u32::try_from(self.strings.len()).ok()?;
        u32::try_from(self.strings.len() + s.len()).ok()?;
        self.strings.extend_from_slice(s.as_bytes());
        Some(off)
    }

    /// The four tables (records, name order, strings, run split), sorted for `bias` (the KASLR
    /// offset added to relocated addresses).
    ///
    /// Records come in two address-sorted runs so that a table cached at link-time addresses
    /// stays sorted whatever the offset: the main run holds the relocated symbols and the fixed
    /// ones below all of them (per-CPU offsets, small constants); the second the few fixed ones
    /// among or above them (absolute `init_per_cpu__*` addresses), which an offset would pass.
    pub(crate) fn into_tables(mut self, bias: u64) -> [Vec<u8>; 4] {
        let at = |r: &Rec| {
            if r.flags & FLAG_RELOCATED != 0 {
                r.addr.wrapping_add(bias)
            } else {
                r.addr
            }
        };
        let lowest_relocated = self
            .recs
            .iter()
            .filter(|r| r.flags & FLAG_RELOCATED != 0)
            .map(|r| r.addr)
            .min()
            .unwrap_or(u64::MAX);
        let in_main = |r: &Rec| r.flags & FLAG_RELOCATED != 0 || r.addr < lowest_relocated;
        let strings = &self.strings;
        let provided = |r: &Rec| {
            linker_provided(
                &strings[r.name_off as usize..r.name_off as usize + r.name_len as usize],
            )
        };
        // Main run first; each run by address. At one address: linker-script delimiters, then
        // globals, then locals — `lookup_addr` takes the last, so a function sharing its start
        // with `__sched_text_start` is named after the function.
        self.recs.sort_by(|a, b| {
            in_main(b)
                .cmp(&in_main(a))
                .then_with(|| at(a).cmp(&at(b)))
                .then_with(|| provided(b).cmp(&provided(a)))
                .then_with(|| (b.flags & FLAG_GLOBAL).cmp(&(a.flags & FLAG_GLOBAL)))
        });
        let main_len = self.recs.iter().take_while(|r| in_main(r)).count() as u64;
        let strings = &self.strings;
        let name =
            |r: &Rec| &strings[r.name_off as usize..r.name_off as usize + r.name_len as usize];
        let recs = &self.recs;
        let mut by_name: Vec<u32> = (0..recs.len() as u32).collect();
        // For duplicate names the global one, then the first record, wins the name lookup.
        by_name.sort_unstable_by(|&a, &b| {
            let (x, y) = (&recs[a as usize], &recs[b as usize]);
            name(x)
                .cmp(name(y))
                .then_with(|| (y.flags & FLAG_GLOBAL).cmp(&(x.flags & FLAG_GLOBAL)))
                .then_with(|| a.cmp(&b))
        });
        let mut records = Vec::with_capacity(recs.len() * RECORD);
        for r in recs {
            records.extend_from_slice(&r.addr.to_le_bytes());
            records.extend_from_slice(&r.size.to_le_bytes());
            records.extend_from_slice(&r.name_off.to_le_bytes());
            records.extend_from_slice(&r.module_off.to_le_bytes());
            records.extend_from_slice(&r.name_len.to_le_bytes());
            records.extend_from_slice(&[r.module_len, r.kind.code(), r.flags, 0, 0, 0]);
        }
        let order: Vec<u8> = by_name.iter().flat_map(|i| i.to_le_bytes()).collect();
        [
            records,
            order,
            self.strings,
            main_len.to_le_bytes().to_vec(),
        ]
    }

    /// The finished table, relocated addresses moved by `bias`.
    pub fn build(self, bias: u64) -> SymbolTable {
        let [records, by_name, strings, runs] = self.into_tables(bias);
        SymbolTable::from_parts(
            Arc::new(Backing::Owned {
                records,
                by_name,
                strings,
                runs,
            }),
            bias,
        )
        // Records were just sorted for this bias and names appended in bounds.
        .unwrap_or_else(|_| SymbolTable::empty())
    }
}

/// A name the linker script defines at a section's edge (`__sched_text_start`, `__start_rodata`,
/// `__irqentry_text_end`): the kernel's own rule (scripts/kallsyms.c,
/// `may_be_linker_script_provide_symbol`), which makes such a name lose to a function at the same
/// address in kallsyms lookups.
pub(crate) fn linker_provided(name: &[u8]) -> bool {
    name.len() >= 8
        && name.starts_with(b"__")
        && (name[2..].starts_with(b"start_")
            || name[2..].starts_with(b"stop_")
            || name[2..].starts_with(b"end_")
            || name.ends_with(b"_start")
            || name.ends_with(b"_end"))
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Where the table's bytes live.
#[derive(Debug)]
pub(crate) enum Backing {
    Owned {
        records: Vec<u8>,
        by_name: Vec<u8>,
        strings: Vec<u8>,
        /// The main run's length, u64.
        runs: Vec<u8>,
    },
    /// A cache file: tables 0..4 are records, name order, strings, run split.
    Cached(CacheBuf),
}

impl Backing {
    fn tables(&self) -> (&[u8], &[u8], &[u8]) {
        match self {
            Backing::Owned {
                records,
                by_name,
                strings,
                ..
            } => (records, by_name, strings),
            Backing::Cached(c) => (c.table(0), c.table(1), c.table(2)),
        }
    }
    fn runs(&self) -> &[u8] {
        match self {
            Backing::Owned { runs, .. } => runs,
            Backing::Cached(c) => c.table(3),
        }
    }
}

/// Why a table's bytes cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("symbol table: {0}")]
pub struct BadTable(pub &'static str);

/// Symbols sorted by address with a name index (indices sorted by name: no name is copied).
#[derive(Debug, Clone)]
pub struct SymbolTable {
    backing: Arc<Backing>,
    /// Added to the addresses of relocated records.
    bias: u64,
    /// Records `0..main` and `main..len` are each sorted by address.
    main: usize,
}

impl Default for SymbolTable {
    fn default() -> Self {
        SymbolTable::empty()
    }
}

impl SymbolTable {
    fn empty() -> SymbolTable {
        SymbolTable {
            backing: Arc::new(Backing::Owned {
                records: Vec::new(),
                by_name: Vec::new(),
                strings: Vec::new(),
                runs: 0u64.to_le_bytes().to_vec(),
            }),
            bias: 0,
            main: 0,
        }
    }

    /// Builds the table; for duplicate names the global one (then the lowest address) wins
    /// the name lookup.
    pub fn new(syms: Vec<SymbolDef>) -> SymbolTable {
        let bytes = syms.iter().map(|s| s.name.len()).sum();
        let mut b = SymbolTableBuilder::with_capacity(syms.len(), bytes);
        for s in &syms {
            b.push(
                s.name.as_bytes(),
                s.addr,
                s.size,
                s.kind,
                s.global,
                false,
                s.module.as_deref(),
            );
        }
        b.build(0)
    }

    /// A table over `backing`, checked so that no lookup can index out of bounds: every
    /// name and module range inside the strings, every name-order entry a record, and the
    /// both runs of records sorted by address once `bias` is applied (else the caller rebuilds).
    pub(crate) fn from_parts(backing: Arc<Backing>, bias: u64) -> Result<SymbolTable, BadTable> {
        let (records, by_name, strings) = backing.tables();
        if records.len() % RECORD != 0 || by_name.len() % 4 != 0 || backing.runs().len() != 8 {
            return Err(BadTable("table sizes are not whole records"));
        }
        let n = records.len() / RECORD;
        let main = rd_u64(backing.runs(), 0);
        if main > n as u64 {
            return Err(BadTable("the run split lies past the records"));
        }
        let t = SymbolTable {
            backing: backing.clone(),
            bias,
            main: main as usize,
        };
        if by_name.len() / 4 != n {
            return Err(BadTable("name order and records differ in length"));
        }
        let mut prev = 0;
        for i in 0..n {
            let r = &records[i * RECORD..(i + 1) * RECORD];
            let name_end = rd_u32(r, 16) as usize + usize::from(u16::from_le_bytes([r[24], r[25]]));
            let module_off = rd_u32(r, 20);
            if name_end > strings.len()
                || (module_off != NO_MODULE
                    && module_off as usize + usize::from(r[26]) > strings.len())
            {
                return Err(BadTable("a name lies outside the strings"));
            }
            let addr = t.addr_of(r);
            if addr < prev && i != t.main {
                return Err(BadTable("records are not sorted by address"));
            }
            prev = addr;
        }
        if (0..n).any(|i| rd_u32(by_name, i * 4) as usize >= n) {
            return Err(BadTable("name order names a record that does not exist"));
        }
        Ok(t)
    }

    fn addr_of(&self, r: &[u8]) -> u64 {
        let addr = rd_u64(r, 0);
        if r[28] & FLAG_RELOCATED != 0 {
            addr.wrapping_add(self.bias)
        } else {
            addr
        }
    }

    fn record(&self, i: usize) -> &[u8] {
        let (records, _, _) = self.backing.tables();
        &records[i * RECORD..(i + 1) * RECORD]
    }

    fn name_bytes(&self, i: usize) -> &[u8] {
        let r = self.record(i);
        let (_, _, strings) = self.backing.tables();
        let off = rd_u32(r, 16) as usize;
        &strings[off..off + usize::from(u16::from_le_bytes([r[24], r[25]]))]
    }

    fn symbol(&self, i: usize) -> Symbol<'_> {
        let r = self.record(i);
        let (_, _, strings) = self.backing.tables();
        let text =
            |off: usize, len: usize| std::str::from_utf8(&strings[off..off + len]).unwrap_or("?");
        let module_off = rd_u32(r, 20);
        Symbol {
            name: text(
                rd_u32(r, 16) as usize,
                usize::from(u16::from_le_bytes([r[24], r[25]])),
            ),
            addr: self.addr_of(r),
            size: rd_u64(r, 8),
            kind: SymbolKind::from_code(r[27]),
            global: r[28] & FLAG_GLOBAL != 0,
            module: (module_off != NO_MODULE)
                .then(|| text(module_off as usize, usize::from(r[26]))),
        }
    }

    /// The record index at name-order position `pos`.
    fn by_name(&self, pos: usize) -> usize {
        let (_, order, _) = self.backing.tables();
        rd_u32(order, pos * 4) as usize
    }

    pub fn len(&self) -> usize {
        self.backing.tables().0.len() / RECORD
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Every symbol, by address (the two runs merged).
    pub fn iter(&self) -> impl Iterator<Item = Symbol<'_>> + '_ {
        let (mut a, mut b) = (0, self.main);
        std::iter::from_fn(move || {
            let take_a = a < self.main && (b >= self.len() || self.key(a) <= self.key(b));
            let i = if take_a {
                a += 1;
                a - 1
            } else if b < self.len() {
                b += 1;
                b - 1
            } else {
                return None;
            };
            Some(self.symbol(i))
        })
    }

    /// The address order of record `i`: by address, global before local.
    fn key(&self, i: usize) -> (u64, bool) {
        let r = self.record(i);
        (self.addr_of(r), r[28] & FLAG_GLOBAL == 0)
    }

    /// The last record of `run` at or below `addr`.
    fn last_at_or_below(&self, run: std::ops::Range<usize>, addr: u64) -> Option<usize> {
        let (start, mut lo, mut hi) = (run.start, run.start, run.end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.addr_of(self.record(mid)) <= addr {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        (lo > start).then(|| lo - 1)
    }

    /// First name-order position whose name is not below `name`.
    fn name_position(&self, name: &str) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.name_bytes(self.by_name(mid)) < name.as_bytes() {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    pub fn lookup(&self, name: &str) -> Option<Symbol<'_>> {
        let pos = self.name_position(name);
        let i = (pos < self.len()).then(|| self.by_name(pos))?;
        (self.name_bytes(i) == name.as_bytes()).then(|| self.symbol(i))
    }

    /// Every symbol called `name` (a name can be local to several files).
    pub fn lookup_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = Symbol<'a>> + 'a {
        (self.name_position(name)..self.len())
            .map(|pos| self.by_name(pos))
            .take_while(move |&i| self.name_bytes(i) == name.as_bytes())
            .map(|i| self.symbol(i))
    }

    /// The symbol containing `addr` (the last symbol at or below it), and the offset of `addr`
    /// into it. Past a sized symbol's end it is still reported (crash prints func+off past the
    /// end when nothing else is known); callers may check `size`.
    pub fn lookup_addr(&self, addr: u64) -> Option<(Symbol<'_>, u64)> {
        let main = self.last_at_or_below(0..self.main, addr);
        let other = self.last_at_or_below(self.main..self.len(), addr);
        let i = match (main, other) {
            (Some(m), Some(o)) => {
                if self.key(o) >= self.key(m) {
                    o
                } else {
                    m
                }
            }
            (m, o) => m.or(o)?,
        };
        let s = self.symbol(i);
        Some((s, addr - s.addr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(name: &str, addr: u64, global: bool) -> SymbolDef {
        SymbolDef {
            name: name.into(),
            addr,
            size: 0,
            kind: SymbolKind::Text,
            global,
            module: None,
        }
    }

    #[test]
    fn lookups() {
        let t = SymbolTable::new(vec![
            sym("b", 0x2000, true),
            sym("a", 0x3000, false),
            sym("a", 0x1000, true),
        ]);
        assert_eq!(t.lookup("a").unwrap().addr, 0x1000);
        assert_eq!(t.lookup_all("a").count(), 2);
        assert_eq!(t.lookup_all("c").count(), 0);
        assert_eq!(
            t.lookup_addr(0x2010).map(|(s, o)| (s.name, o)),
            Some(("b", 0x10))
        );
        assert!(t.lookup_addr(0xfff).is_none());
        let addrs: Vec<u64> = t.iter().map(|s| s.addr).collect();
        assert_eq!(addrs, [0x1000, 0x2000, 0x3000]);
    }

    #[test]
    fn a_function_wins_over_a_section_delimiter_at_its_address() {
        // 6.1: io_schedule_timeout is the first function of .sched.text; the symtab lists
        // __sched_text_start after it.
        let t = SymbolTable::new(vec![
            sym("io_schedule_timeout", 0x1000, true),
            sym("__sched_text_start", 0x1000, true),
            sym("__irqentry_text_end", 0x2000, true),
            sym("common_interrupt_return", 0x2000, false),
        ]);
        assert_eq!(t.lookup_addr(0x1010).unwrap().0.name, "io_schedule_timeout");
        assert_eq!(t.lookup_addr(0x1000).unwrap().0.name, "io_schedule_timeout");
        assert_eq!(
            t.lookup_addr(0x2004).unwrap().0.name,
            "common_interrupt_return"
        );
        assert_eq!(t.lookup("__sched_text_start").unwrap().addr, 0x1000);
        assert!(linker_provided(b"__start_rodata") && linker_provided(b"__kprobes_text_end"));
        assert!(!linker_provided(b"_etext") && !linker_provided(b"__do_softirq"));
    }

    #[test]
    fn a_local_name_does_not_hide_the_global_one() {
        let t = SymbolTable::new(vec![sym("x", 0x1000, false), sym("x", 0x5000, true)]);
        let s = t.lookup("x").unwrap();
        assert_eq!((s.addr, s.global), (0x5000, true));
    }

    #[test]
    fn relocated_symbols_move_with_the_bias_and_absolute_ones_stay() {
        let mut b = SymbolTableBuilder::default();
        b.push(
            b"_text",
            0xffff_ffff_8100_0000,
            0,
            SymbolKind::Text,
            true,
            true,
            None,
        );
        b.push(b"abs", 0x10, 0, SymbolKind::Absolute, true, false, None);
        b.push(
            b"m",
            0xffff_ffff_c000_0000,
            8,
            SymbolKind::Text,
            false,
            false,
            Some("mod"),
        );
        let t = b.build(0x2000_0000);
        assert_eq!(t.lookup("_text").unwrap().addr, 0xffff_ffff_a100_0000);
        assert_eq!(t.lookup("abs").unwrap().addr, 0x10);
        let m = t.lookup("m").unwrap();
        assert_eq!((m.module, m.size, m.global), (Some("mod"), 8, false));
        assert_eq!(
            t.lookup_addr(0xffff_ffff_a100_0004).unwrap().0.name,
            "_text"
        );
    }

    #[test]
    fn a_table_built_at_link_time_reads_right_at_any_offset() {
        // As the vmlinux cache stores it: link-time addresses, an absolute symbol that lies
        // among the relocated ones (x86_64 `init_per_cpu__*`) and one below all of them.
        let mut b = SymbolTableBuilder::default();
        b.push(
            b"_text",
            0xffff_ffff_8100_0000,
            0,
            SymbolKind::Text,
            true,
            true,
            None,
        );
        b.push(
            b"late",
            0xffff_ffff_8400_0000,
            0,
            SymbolKind::Data,
            true,
            true,
            None,
        );
        b.push(
            b"init_per_cpu__x",
            0xffff_ffff_8300_0000,
            0,
            SymbolKind::Absolute,
            true,
            false,
            None,
        );
        b.push(b"pcpu", 0x1000, 0, SymbolKind::Data, false, false, None);
        let [records, by_name, strings, runs] = b.into_tables(0);
        let t = SymbolTable::from_parts(
            Arc::new(Backing::Owned {
                records,
                by_name,
                strings,
                runs,
            }),
            0x0200_0000,
        )
        .unwrap();
        let order: Vec<(&str, u64)> = t.iter().map(|s| (s.name, s.addr)).collect();
        assert_eq!(
            order,
            [
                ("pcpu", 0x1000),
                ("_text", 0xffff_ffff_8300_0000),
                ("init_per_cpu__x", 0xffff_ffff_8300_0000),
                ("late", 0xffff_ffff_8600_0000)
            ]
        );
        let at = |a: u64| t.lookup_addr(a).map(|(s, off)| (s.name, off));
        assert_eq!(at(0xffff_ffff_8300_0010), Some(("init_per_cpu__x", 0x10)));
        assert_eq!(
            at(0xffff_ffff_8500_0000),
            Some(("init_per_cpu__x", 0x0200_0000))
        );
        assert_eq!(at(0xffff_ffff_8600_0001), Some(("late", 1)));
        assert_eq!(at(0x1001), Some(("pcpu", 1)));
        assert_eq!(at(0xfff), None);
        assert_eq!(t.lookup("late").unwrap().addr, 0xffff_ffff_8600_0000);
    }

    #[test]
    fn names_are_kept_valid_and_bounded() {
        let mut b = SymbolTableBuilder::default();
        b.push(b"bad\xffname", 1, 0, SymbolKind::Data, true, false, None);
        b.push(&[b'a'; 5000], 2, 0, SymbolKind::Data, true, false, None);
        let t = b.build(0);
        assert_eq!(t.lookup_addr(1).unwrap().0.name, "bad\u{fffd}name");
        assert_eq!(t.lookup_addr(2).unwrap().0.name.len(), MAX_NAME);
    }

    #[test]
    fn damaged_tables_are_refused() {
        let mut b = SymbolTableBuilder::default();
        b.push(b"a", 1, 0, SymbolKind::Data, true, false, None);
        b.push(b"b", 2, 0, SymbolKind::Data, true, false, None);
        let [records, by_name, strings, runs] = b.into_tables(0);
        let check = |records: &[u8], by_name: &[u8], strings: &[u8]| {
            SymbolTable::from_parts(
                Arc::new(Backing::Owned {
                    records: records.to_vec(),
                    by_name: by_name.to_vec(),
                    strings: strings.to_vec(),
                    runs: runs.clone(),
                }),
                0,
            )
            .map(|_| ())
        };
        assert!(check(&records, &by_name, &strings).is_ok());
        assert!(check(&records[..40], &by_name, &strings).is_err());
        assert!(check(&records, &by_name[..4], &strings).is_err());
        assert!(check(&records, &by_name, &strings[..1]).is_err());
        let mut bad = by_name.clone();
        bad[0] = 9;
        assert!(check(&records, &bad, &strings).is_err());
        let mut unsorted = records.clone();
        unsorted[0] = 7; // first record's address above the second's
        assert!(check(&unsorted, &by_name, &strings).is_err());
    }
}
