//! Debug info: symbols (vmlinux ELF symbol table, kallsyms decoded from the dump) and types
//! (BTF from the vmlinux or from the dump's memory, DWARF), behind one lookup API; cache files
//! keyed by build-ID keep what is slow to rebuild.

pub mod btf;
pub mod cachefile;
pub mod dwarf;
pub mod elf;
pub mod kallsyms;
pub mod ko;
pub mod kocompress;
pub mod store;
pub mod symbols;
pub mod types;

pub use btf::{Btf, BtfError};
pub use elf::{ElfError, VmlinuxElf};
pub use kallsyms::{apply_kernel_layout, load_kallsyms, KallsymsError};
pub use store::{TypeLoader, TypeStore, TypedSymbol};
pub use symbols::{Symbol, SymbolDef, SymbolKind, SymbolTable, SymbolTableBuilder};
pub use types::{Member, MemberInfo, Type, TypeGraph, TypeId};
