//! Kernel virtual address space: translates kernel virtual addresses to physical ones
//! (page tables, KASLR, direct map) and reads typed values from them.
//! Architecture-specific code lives under `arch/`, behind the [`Translator`] trait.
//! (Skeleton: being written; see ARCHITECTURE.md.)
