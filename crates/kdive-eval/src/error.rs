//! The crate's one error type: what went wrong while parsing or evaluating, and where.

fn did_you_mean(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", s.join(", "))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// The text is not an expression; `pos` is the byte offset where parsing stopped.
    #[error("syntax error at column {}: {msg}{}", pos + 1, near_text(.near))]
    Syntax {
        pos: usize,
        msg: String,
        near: String,
    },
    #[error("No symbol \"{name}\" in current context.{}", did_you_mean(.suggestions))]
    NoSymbol {
        name: String,
        suggestions: Vec<String>,
    },
    #[error("No type named {name}.{}", did_you_mean(.suggestions))]
    NoType {
        name: String,
        suggestions: Vec<String>,
    },
    #[error("There is no member named {member} in {ty}.{}", did_you_mean(.suggestions))]
    NoMember {
        ty: String,
        member: String,
        suggestions: Vec<String>,
    },
    #[error("Cannot access memory at address {addr:#x}: {reason}")]
    Memory { addr: u64, reason: String },
    /// gdb's answer for a symbol that has no debug-info type.
    #[error("'{name}' has unknown type; cast it to its declared type")]
    UntypedSymbol { name: String },
    #[error("History has not yet reached ${0}.")]
    NoHistory(usize),
    #[error("{0}")]
    Invalid(String),
}

fn near_text(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(", near `{s}'")
    }
}

pub type Result<T> = std::result::Result<T, EvalError>;
