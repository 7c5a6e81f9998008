//! The page-flag bits: every enumerator of `enum pageflags` as the dump's debug info (DWARF
//! or BTF) declares it, aliases (`PG_readahead`, `PG_swapcache`) included, in declaration
//! order (`kmem -g`).

use crate::{Error, Kernel, Result};

/// Enumerators read at most: `enum pageflags` has about 45.
const ENUMERATORS_MAX: usize = 1024;

/// One enumerator of `enum pageflags`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PageFlag {
    pub name: String,
    /// Its value: the bit number of a `PG_` flag, the count for `__NR_PAGEFLAGS`.
    pub value: i64,
}

impl PageFlag {
    /// A page flag (named `PG_…`), not a count.
    pub fn is_flag(&self) -> bool {
        self.name.contains("PG_")
    }

    /// The flag's bit as a mask, when its bit fits in 64.
    pub fn mask(&self) -> Option<u64> {
        u32::try_from(self.value)
            .ok()
            .and_then(|b| 1u64.checked_shl(b))
    }
}

impl Kernel {
    /// Every enumerator of `enum pageflags`, in declaration order.
    pub fn page_flags_enum(&self) -> Result<Vec<PageFlag>> {
        let values = self
            .layout
            .with_type("enum pageflags", |g, id| match g.ty(g.resolve(id)) {
                kdive_debuginfo::types::Type::Enum { values, .. } => Some(values.clone()),
                _ => None,
            })
            .ok_or_else(|| Error::MissingType("enum pageflags".into()))?;
        Ok(values
            .into_iter()
            .take(ENUMERATORS_MAX)
            .map(|(name, value)| PageFlag { name, value })
            .collect())
    }
}
