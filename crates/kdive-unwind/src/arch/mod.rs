//! Architecture seam: unwind tables, register sets and the frame step of each CPU family.
//! x86_64 is the only one today; aarch64 would add `aarch64/` with the same exports.

pub mod x86_64;
