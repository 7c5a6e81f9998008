//! A symbol table: name → address and address → name, whatever the source
//! (vmlinux ELF symbol table, kallsyms decoded from the dump, module symbols).

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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    /// Runtime address (already relocated by the KASLR offset).
    pub addr: u64,
    /// Size in bytes; 0 when the source does not know it (kallsyms).
    pub size: u64,
    pub kind: SymbolKind,
    pub global: bool,
    /// Module name for module symbols; None for the kernel image.
    pub module: Option<String>,
}

/// Symbols sorted by address with a name index (indices sorted by name: no name is copied).
#[derive(Debug, Default, Clone)]
pub struct SymbolTable {
    by_addr: Vec<Symbol>,
    /// Indices into `by_addr`, ordered by name, then global before local, then address.
    by_name: Vec<u32>,
}

impl SymbolTable {
    /// Builds the table; for duplicate names the global one (then the lowest address) wins
    /// the name lookup.
    pub fn new(mut syms: Vec<Symbol>) -> SymbolTable {
        syms.sort_unstable_by(|a, b| a.addr.cmp(&b.addr).then_with(|| b.global.cmp(&a.global)));
        let mut by_name: Vec<u32> = (0..syms.len() as u32).collect();
        by_name.sort_unstable_by(|&a, &b| {
            let (x, y) = (&syms[a as usize], &syms[b as usize]);
            x.name
                .cmp(&y.name)
                .then_with(|| y.global.cmp(&x.global))
                .then_with(|| a.cmp(&b))
        });
        SymbolTable {
            by_addr: syms,
            by_name,
        }
    }

    pub fn len(&self) -> usize {
        self.by_addr.len()
    }
    pub fn is_empty(&self) -> bool {
        self.by_addr.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Symbol> {
        self.by_addr.iter()
    }

    pub fn lookup(&self, name: &str) -> Option<&Symbol> {
        let i = self
            .by_name
            .partition_point(|&i| self.by_addr[i as usize].name.as_str() < name);
        let &idx = self.by_name.get(i)?;
        let sym = &self.by_addr[idx as usize];
        (sym.name == name).then_some(sym)
    }

    /// Every symbol called `name` (a name can be local to several files).
    pub fn lookup_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Symbol> + 'a {
        let i = self
            .by_name
            .partition_point(|&i| self.by_addr[i as usize].name.as_str() < name);
        self.by_name[i..]
            .iter()
            .map(|&j| &self.by_addr[j as usize])
            .take_while(move |s| s.name == name)
    }

    /// The symbol containing `addr` (the last symbol at or below it, within its size when known),
    /// and the offset of `addr` into it.
    pub fn lookup_addr(&self, addr: u64) -> Option<(&Symbol, u64)> {
        let idx = self.by_addr.partition_point(|s| s.addr <= addr);
        if idx == 0 {
            return None;
        }
        // Prefer a sized symbol that covers addr, searching back over symbols at the same address.
        let s = &self.by_addr[idx - 1];
        let off = addr - s.addr;
        if s.size != 0 && off >= s.size {
            // Outside the symbol: still report it for text (crash prints func+off past the end
            // only when nothing else is known); callers may check `size`.
            return Some((s, off));
        }
        Some((s, off))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(name: &str, addr: u64, global: bool) -> Symbol {
        Symbol {
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
            sym("a", 0x1000, true),
            sym("a", 0x3000, false),
        ]);
        assert_eq!(t.lookup("a").unwrap().addr, 0x1000);
        assert_eq!(
            t.lookup_addr(0x2010).map(|(s, o)| (s.name.as_str(), o)),
            Some(("b", 0x10))
        );
        assert!(t.lookup_addr(0xfff).is_none());
    }
}
