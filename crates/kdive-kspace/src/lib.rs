//! Kernel virtual address space: translates kernel virtual addresses to physical ones
//! (page tables, KASLR, direct map) and reads typed values from them.
//!
//! Architecture-specific code lives under `arch/`, behind the [`Translator`] trait; the rest of
//! the crate (reads, the translation cache, the layout record) knows no CPU.
//! This crate never does file I/O: it reads through a [`kdive_physmem::PhysMem`].

pub mod arch;
pub mod cache;
pub mod error;
pub mod layout;
pub mod space;

pub use arch::{EntryMeaning, KernelRegions, Translation, Translator, WalkStep, WalkTrace};
pub use cache::CacheStats;
pub use error::{Error, Result};
pub use layout::{Fact, KernelLayout, Source};
pub use space::KernelSpace;

/// Synthetic page tables for tests (also used by dependent crates' tests).
#[doc(hidden)]
pub mod synth;
