//! A command's result: the text crash would print and the same facts as JSON.

/// What a command produced.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Text as crash prints it, ending with a newline when non-empty.
    pub text: String,
    /// The same facts for machines (`--json`).
    pub json: serde_json::Value,
    /// Errors about part of the request (one bad pid among several) that did not stop the
    /// rest: crash prints these to stderr and carries on, and so does the front end.
    pub errors: Vec<String>,
}

impl Report {
    pub fn text(text: String) -> Report {
        let json = serde_json::Value::String(text.clone());
        Report::new(text, json)
    }
    pub fn new(text: String, json: serde_json::Value) -> Report {
        Report {
            text,
            json,
            errors: Vec::new(),
        }
    }
    /// The same report with `errors` about the parts of the request it could not answer.
    pub fn with_errors(mut self, errors: Vec<String>) -> Report {
        self.errors = errors;
        self
    }
}

/// `s` centred in `w` columns as crash's `mkstring` centres: the odd column goes left when
/// `odd_left` (CENTER|RJUST), else right (CENTER|LJUST).
pub fn centre(s: &str, w: usize, odd_left: bool) -> String {
    let pad = w.saturating_sub(s.len());
    let left = if odd_left { pad.div_ceil(2) } else { pad / 2 };
    format!("{}{s}{}", " ".repeat(left), " ".repeat(pad - left))
}
