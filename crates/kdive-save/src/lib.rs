//! `kdive save`: the capture side. Copies a crash dump — `/proc/vmcore` in a capture kernel,
//! or any dump kdive reads — into a kdump-compressed file (or flattened stream, or filtered
//! ELF), leaving out pages by makedumpfile's dump levels, decided from the dump's own
//! VMCOREINFO and `mem_map` with no vmlinux, compressing on every core, and never leaving a
//! silently short file behind.
//!
//! Map: [`source`] (windowed reads) → [`filter`] ([`memmap`] + [`level`]: which pages) →
//! [`pipeline`] ([`compress`] on every core) → [`kdump_writer`] / [`elf_writer`] →
//! [`sink`] (file or flattened stream) under [`output`] (temp file, fsync, rename).

pub mod bitmap;
pub mod cli;
pub mod compress;
pub mod dmesg;
pub mod elf_writer;
pub mod error;
pub mod filter;
pub mod kdump_header;
pub mod kdump_writer;
pub mod level;
pub mod lzo;
pub mod memmap;
pub mod meta;
pub mod output;
pub mod pipeline;
pub mod progress;
pub mod save;
pub mod sink;
pub mod source;

pub use cli::main;
pub use compress::Codec;
pub use error::{Result, SaveError};
pub use save::{save, Options, Outcome};
