//! The firmware memory map as the kernel kept it (`*e820_table`): each range with its type,
//! named by the dump's own `enum e820_type` — what `mach -m` shows.

use crate::walk::Walked;
use crate::{AddrExt, Kernel, Result};

/// More entries than any `e820_table` holds (E820_MAX_ENTRIES is 128 + 3 * MAX_NUMNODES).
const ENTRIES_MAX: u64 = 8192;

/// One range of the map.
#[derive(Debug, Clone, serde::Serialize)]
pub struct E820Entry {
    pub addr: u64,
    pub size: u64,
    /// `enum e820_type` value.
    pub kind: u32,
    /// Its enumerator (`E820_TYPE_RAM`), when the debug info has the enum and the value.
    pub kind_name: Option<String>,
}

impl Kernel {
    /// The entries of `*e820_table`, at most as many as its `entries[]` array holds.
    pub fn e820_entries(&self) -> Result<Walked<E820Entry>> {
        let table = self.read_u64(self.symbol_addr("e820_table")?, "e820_table")?;
        let count = self.read_member_uint(table, "e820_table", "nr_entries")?;
        let entries = table.off(self.layout.offset("e820_table", "entries")?);
        let entry_size = self.layout.struct_size("e820_entry")?.max(1);
        let room = self
            .layout
            .struct_size("e820_table")?
            .saturating_sub(self.layout.offset("e820_table", "entries")?)
            / entry_size;
        let mut out = Walked::default();
        let shown = count.min(room).min(ENTRIES_MAX);
        if shown < count {
            out.problems.push(format!(
                "e820_table.nr_entries is {count}, its entries[] holds {room}: read {shown}"
            ));
        }
        for i in 0..shown {
            let e = entries.elem(i, entry_size);
            let field = |m: &str| self.read_member_uint(e, "e820_entry", m);
            let entry = (|| -> Result<E820Entry> {
                let kind = field("type")? as u32;
                Ok(E820Entry {
                    addr: field("addr")?,
                    size: field("size")?,
                    kind,
                    kind_name: self.layout.with_type("enum e820_type", |g, id| {
                        g.enumerator_name(id, i64::from(kind)).map(str::to_string)
                    }),
                })
            })();
            match entry {
                Ok(x) => out.items.push(x),
                Err(err) => out.problems.push(format!("e820_table.entries[{i}]: {err}")),
            }
        }
        Ok(out)
    }
}
