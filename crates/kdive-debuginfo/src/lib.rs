//! Debug info: symbols (vmlinux ELF symbol table, kallsyms decoded from the dump) and types
//! (BTF from the vmlinux or from the dump's memory; DWARF later), behind one lookup API.

pub mod btf;
pub mod dwarf;
pub mod elf;
pub mod kallsyms;
pub mod ko;
pub mod store;
pub mod symbols;
pub mod types;

pub use btf::{Btf, BtfError};
pub use elf::{ElfError, VmlinuxElf};
pub use kallsyms::{apply_kernel_layout, load_kallsyms, KallsymsError};
pub use store::{TypeLoader, TypeStore, TypedSymbol};
pub use symbols::{Symbol, SymbolKind, SymbolTable};
pub use types::{Member, MemberInfo, Type, TypeGraph, TypeId};
