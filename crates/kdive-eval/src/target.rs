//! What the evaluator reads through: kernel memory, symbols, types and per-CPU offsets.
//! [`KernelTarget`] is the real one (a dump's address space); tests build their own.

use kdive_debuginfo::{SymbolKind, SymbolTable, TypeStore};
use kdive_kspace::KernelSpace;

/// A symbol as the evaluator needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolInfo {
    pub name: String,
    pub addr: u64,
    pub kind: SymbolKind,
    /// Size in bytes from the symbol table; 0 when unknown.
    pub size: u64,
    /// A per-CPU variable: `addr` is its offset in the per-CPU area.
    pub per_cpu: bool,
}

pub trait Target {
    fn types(&self) -> &TypeStore;
    /// Reads kernel virtual memory; the error says why the address cannot be read.
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), String>;
    fn symbol(&self, name: &str) -> Option<SymbolInfo>;
    /// The symbol an address points into, and the offset, for `<symbol+off>` annotations;
    /// None for addresses outside the kernel image and modules (heap, stacks).
    fn symbol_at(&self, addr: u64) -> Option<(String, u64)>;
    /// `__per_cpu_offset[cpu]`; None when the CPU does not exist.
    fn per_cpu_offset(&self, cpu: u32) -> Option<u64>;
    /// Number of possible CPUs (for `symbol:a`).
    fn nr_cpus(&self) -> u32;
    /// Every symbol name, for suggestions.
    fn symbol_names(&self) -> Box<dyn Iterator<Item = &str> + '_>;
}

/// A dump's kernel: its address space, symbol table, types and per-CPU offsets.
pub struct KernelTarget<'a> {
    pub mem: &'a KernelSpace,
    pub symbols: &'a SymbolTable,
    /// Loaded modules' symbols, asked after the kernel's (`p num_napi` for a module global).
    pub module_symbols: Option<&'a SymbolTable>,
    pub types: &'a TypeStore,
    /// `__per_cpu_offset[]` for each possible CPU.
    pub per_cpu_offsets: Vec<u64>,
    per_cpu_range: Option<(u64, u64)>,
    image: Option<(u64, u64)>,
}

impl<'a> KernelTarget<'a> {
    pub fn new(
        mem: &'a KernelSpace,
        symbols: &'a SymbolTable,
        types: &'a TypeStore,
        per_cpu_offsets: Vec<u64>,
    ) -> KernelTarget<'a> {
        let addr = |n: &str| symbols.lookup(n).map(|s| s.addr);
        let per_cpu_range = match (addr("__per_cpu_start"), addr("__per_cpu_end")) {
            (Some(a), Some(b)) if a < b => Some((a, b)),
            _ => None,
        };
        let image = match (addr("_text").or(addr("_stext")), addr("_end")) {
            (Some(a), Some(b)) if a < b => Some((a, b)),
            _ => None,
        };
        KernelTarget {
            mem,
            symbols,
            module_symbols: None,
            types,
            per_cpu_offsets,
            per_cpu_range,
            image,
        }
    }

    /// Whether `addr` (a symbol's address) lies in the per-CPU section.
    pub fn is_per_cpu_addr(&self, addr: u64) -> bool {
        self.per_cpu_range
            .is_some_and(|(a, b)| addr >= a && addr < b)
    }
}

impl Target for KernelTarget<'_> {
    fn types(&self) -> &TypeStore {
        self.types
    }

    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), String> {
        self.mem.read(addr, buf).map_err(|e| e.to_string())
    }

    fn symbol(&self, name: &str) -> Option<SymbolInfo> {
        let s = self
            .symbols
            .lookup(name)
            .or_else(|| self.module_symbols?.lookup(name))?;
        Some(SymbolInfo {
            name: s.name.to_string(),
            addr: s.addr,
            kind: s.kind,
            size: s.size,
            per_cpu: s.module.is_none() && self.is_per_cpu_addr(s.addr),
        })
    }

    fn symbol_at(&self, addr: u64) -> Option<(String, u64)> {
        let in_image = self.image.is_some_and(|(a, b)| addr >= a && addr < b);
        let named = |table: &SymbolTable| {
            let (s, off) = table.lookup_addr(addr)?;
            if s.kind == SymbolKind::Absolute {
                return None;
            }
            let sized = s.size != 0 && off < s.size;
            (in_image || (s.module.is_some() && sized)).then(|| (s.name.to_string(), off))
        };
        named(self.symbols).or_else(|| {
            if in_image {
                return None;
            }
            named(self.module_symbols?)
        })
    }

    fn per_cpu_offset(&self, cpu: u32) -> Option<u64> {
        self.per_cpu_offsets.get(cpu as usize).copied()
    }

    fn nr_cpus(&self) -> u32 {
        self.per_cpu_offsets.len() as u32
    }

    fn symbol_names(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        let modules = self.module_symbols.into_iter().flat_map(|t| t.iter());
        Box::new(self.symbols.iter().chain(modules).map(|s| s.name))
    }
}
