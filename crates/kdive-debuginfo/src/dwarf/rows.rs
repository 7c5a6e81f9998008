//! A compile unit's line table as rows, and gdb's choice of line for an address: among the
//! rows at the last address not above it, the last `is_stmt` row, else the last row. (addr2line
//! takes the last row, which can be a non-statement entry gdb and crash do not show.)

use super::{DwarfInfo, R};

/// One row of a line table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRow {
    pub addr: u64,
    /// Index into [`LineTable::files`].
    pub file: usize,
    pub line: u32,
    pub is_stmt: bool,
    pub end_sequence: bool,
}

/// The rows of the unit holding an address, with file paths resolved.
#[derive(Debug, Clone, Default)]
pub struct LineTable {
    pub files: Vec<String>,
    /// For each of `files`, the name as the unit records it (gdb's symtab file name, which
    /// crash's `dis -s` prints): the file entry's name, with its directory unless that is the
    /// compilation directory.
    pub names: Vec<String>,
    pub rows: Vec<LineRow>,
}

/// Upper bound on rows kept for one unit.
const MAX_ROWS: usize = 4 << 20;

impl LineTable {
    /// gdb's file and line for `addr` (None outside every sequence).
    pub fn gdb_line(&self, addr: u64) -> Option<(String, u32)> {
        let mut seq_start = 0;
        for (i, r) in self.rows.iter().enumerate() {
            if !r.end_sequence {
                continue;
            }
            let seq = &self.rows[seq_start..i];
            let end = r.addr;
            seq_start = i + 1;
            if seq.first().map_or(true, |f| addr < f.addr) || addr >= end {
                continue;
            }
            let at = seq
                .iter()
                .filter(|x| x.addr <= addr)
                .map(|x| x.addr)
                .max()?;
            let same: Vec<&LineRow> = seq.iter().filter(|x| x.addr == at).collect();
            let best = same.iter().rev().find(|x| x.is_stmt).or(same.last())?;
            if best.line == 0 {
                return None;
            }
            return Some((self.files.get(best.file)?.clone(), best.line));
        }
        None
    }

    /// The recorded name of file `path` (one of `files`).
    pub fn recorded_name(&self, path: &str) -> Option<&str> {
        let i = self.files.iter().position(|f| f == path)?;
        self.names.get(i).map(String::as_str)
    }
}

impl DwarfInfo {
    /// The line table of the unit whose function contains `addr` (a link-time address for a
    /// vmlinux, a relocated one for a module).
    pub fn line_table_at(&self, addr: u64) -> Option<LineTable> {
        let (_, _, die) = self
            .function_ranges_at(addr)
            .into_iter()
            .min_by_key(|r| r.1 - r.0)?;
        let unit_off = self.unit_of(die)?;
        let header = self
            .dwarf
            .debug_info
            .header_from_offset(gimli::DebugInfoOffset(unit_off as usize))
            .ok()?;
        let unit = self.dwarf.unit(header).ok()?;
        let program = unit.line_program.clone()?;
        let comp_dir = unit
            .comp_dir
            .as_ref()
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut out = LineTable::default();
        let mut file_ix: std::collections::HashMap<u64, usize> = Default::default();
        let mut rows = program.rows();
        while let Ok(Some((hdr, row))) = rows.next_row() {
            if out.rows.len() >= MAX_ROWS {
                break;
            }
            let fi = row.file_index();
            let file = match file_ix.get(&fi) {
                Some(&i) => i,
                None => {
                    let (path, name) = hdr
                        .file(fi)
                        .map(|f| file_path(self, &unit, hdr, f, &comp_dir))
                        .unwrap_or_default();
                    out.files.push(path);
                    out.names.push(name);
                    file_ix.insert(fi, out.files.len() - 1);
                    out.files.len() - 1
                }
            };
            out.rows.push(LineRow {
                addr: row.address(),
                file,
                line: row.line().map(|l| l.get() as u32).unwrap_or(0),
                is_stmt: row.is_stmt(),
                end_sequence: row.end_sequence(),
            });
        }
        Some(out)
    }
}

fn file_path(
    info: &DwarfInfo,
    unit: &gimli::Unit<R>,
    hdr: &gimli::LineProgramHeader<R>,
    f: &gimli::FileEntry<R>,
    comp_dir: &str,
) -> (String, String) {
    let s = |a: gimli::AttributeValue<R>| {
        info.dwarf
            .attr_string(unit, a)
            .map(|r| r.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let name = s(f.path_name());
    if name.starts_with('/') {
        return (name.clone(), name);
    }
    let dir = f.directory(hdr).map(s).unwrap_or_default();
    let recorded = if f.directory_index() == 0 || dir.is_empty() || dir == comp_dir {
        name.clone()
    } else {
        format!("{}/{name}", dir.trim_end_matches('/'))
    };
    let dir = if dir.starts_with('/') || comp_dir.is_empty() {
        dir
    } else if dir.is_empty() {
        comp_dir.to_string()
    } else {
        format!("{comp_dir}/{dir}")
    };
    let path = if dir.is_empty() {
        name
    } else {
        format!("{}/{name}", dir.trim_end_matches('/'))
    };
    (path, recorded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(addr: u64, line: u32, is_stmt: bool) -> LineRow {
        LineRow {
            addr,
            file: 0,
            line,
            is_stmt,
            end_sequence: false,
        }
    }

    #[test]
    fn gdb_prefers_the_last_statement_row() {
        let mut end = row(0x30, 0, true);
        end.end_sequence = true;
        let t = LineTable {
            files: vec!["a.c".into()],
            names: vec!["a.c".into()],
            rows: vec![
                row(0x0, 185, true),
                row(0x5, 186, true),
                row(0x5, 187, true),
                row(0x5, 191, false),
                row(0xc, 187, false),
                row(0x12, 191, true),
                end,
            ],
        };
        assert_eq!(t.gdb_line(0x5), Some(("a.c".into(), 187)));
        assert_eq!(t.gdb_line(0x7), Some(("a.c".into(), 187)));
        assert_eq!(t.gdb_line(0xc), Some(("a.c".into(), 187)));
        assert_eq!(t.gdb_line(0x12), Some(("a.c".into(), 191)));
        assert_eq!(t.gdb_line(0x30), None);
    }
}
