//! C expressions over a kernel dump, as gdb and crash read and print them: a parser with C's
//! precedence ([`parse`]), an evaluator over typed kernel memory ([`eval`]), and gdb's
//! `ptype`/`whatis` ([`format_type`]) and `print` ([`format_value`]) notation.
//!
//! Nothing here knows the kernel model: memory, symbols and types come through [`Target`].

pub mod error;
pub mod eval;
pub mod format_type;
pub mod format_value;
pub mod lex;
pub mod parse;
pub mod suggest;
pub mod target;
pub mod value;

#[cfg(test)]
mod tests;

pub use error::EvalError;
pub use eval::Evaluator;
pub use parse::{parse_expression, CpuSpec, Expr, TypeName};
pub use target::{KernelTarget, SymbolInfo, Target};
pub use value::{Value, ValueKind};
