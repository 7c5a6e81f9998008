//! The result every bounded structure walk returns (maple tree, XArray, red-black tree):
//! the items reached, in order, and why parts of the structure could not be walked.

/// What a walk reached and what stopped parts of it. A damaged node ends only its own
/// branch, so `items` can be non-empty while `problems` names each address that failed.
#[derive(Debug, Clone)]
pub struct Walked<T> {
    pub items: Vec<T>,
    pub problems: Vec<String>,
}

impl<T> Default for Walked<T> {
    fn default() -> Self {
        Walked {
            items: Vec::new(),
            problems: Vec::new(),
        }
    }
}
