//! The commands' one error type.

#[derive(Debug, thiserror::Error)]
pub enum CmdError {
    #[error("{0}")]
    Usage(String),
    #[error("{name}: command not found{}", suggestion.as_ref().map(|s| format!(" (did you mean \"{s}\"?)")).unwrap_or_default())]
    Unknown {
        name: String,
        suggestion: Option<String>,
    },
    #[error("{0}")]
    Kernel(#[from] kdive_kernel::Error),
    #[error("{0}")]
    Eval(#[from] kdive_eval::EvalError),
}
