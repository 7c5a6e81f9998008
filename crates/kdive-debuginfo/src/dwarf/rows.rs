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

    /// gdb's `disassemble /m` view of `[start, end)` in source file `file`: the line of each
    /// address in `addrs` (None when that file has no line there), and every line of `file`
    /// with a row inside the range, zero-length rows included (gdb prints those as groups
    /// without instructions).
    ///
    /// Within `file`'s own rows, an address takes the last row at the greatest address not
    /// above it, statement or not. Where the rows switch from `file` to another file, `file`'s
    /// rows at that address are dropped and its lines end there (gdb's symtab keeps one table
    /// per file and closes it so), so the instructions of inlined header code have no line of
    /// `file`. As gdb reads line programs, rows of line 0 are skipped, and so are
    /// non-statement rows that repeat the last recorded line or switch file at the address of
    /// the last recorded row.
    pub fn source_centric(
        &self,
        start: u64,
        end: u64,
        addrs: &[u64],
        file: &str,
    ) -> (Vec<Option<u32>>, Vec<u32>) {
        let mut at = vec![None; addrs.len()];
        let mut present = Vec::new();
        let is_file = |i: usize| self.files.get(i).is_some_and(|f| f == file);
        let mut seq_start = 0;
        for (i, r) in self.rows.iter().enumerate() {
            if !r.end_sequence {
                continue;
            }
            let seq = &self.rows[seq_start..i];
            let seq_end = r.addr;
            seq_start = i + 1;
            if seq.first().map_or(true, |f| f.addr >= end) || seq_end <= start {
                continue;
            }
            // `file`'s entries of this sequence: (address, line), line 0 ending a stretch.
            let mut entries: Vec<(u64, u32)> = Vec::new();
            // The last row recorded: its file, line and address.
            let mut last: Option<(usize, u32, u64)> = None;
            for x in seq {
                let same_file = |l: usize| self.files.get(l) == self.files.get(x.file);
                let changed = last.is_some_and(|(l, _, _)| !same_file(l));
                // Rows gdb does not record: line 0; a non-statement row repeating the last
                // recorded line; a non-statement row switching file at the last one's address.
                let repeat = last.is_some_and(|(l, n, _)| same_file(l) && n == x.line);
                let ignore = x.line == 0
                    || (!x.is_stmt && repeat)
                    || (!x.is_stmt && changed && last.is_some_and(|(_, _, a)| a == x.addr));
                if ignore {
                    continue;
                }
                if changed && last.is_some_and(|(l, _, _)| is_file(l)) {
                    while entries.last().is_some_and(|e| e.0 == x.addr) {
                        entries.pop();
                    }
                    entries.push((x.addr, 0));
                }
                if is_file(x.file) {
                    entries.push((x.addr, x.line));
                }
                last = Some((x.file, x.line, x.addr));
            }
            present.extend(
                entries
                    .iter()
                    .filter(|e| e.1 != 0 && start <= e.0 && e.0 < end)
                    .map(|e| e.1),
            );
            let first = seq.first().map_or(u64::MAX, |f| f.addr);
            for (k, &a) in addrs.iter().enumerate() {
                if at[k].is_some() || a < first || a >= seq_end {
                    continue;
                }
                if let Some(e) = entries.iter().rev().find(|e| e.0 <= a) {
                    at[k] = (e.1 != 0).then_some(e.1);
                }
            }
        }
        (at, present)
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
        // disassemble /m: the last row at an address, statement or not; every row's line.
        let (at, present) = t.source_centric(0, 0x30, &[0x0, 0x5, 0x7, 0xc, 0x12], "a.c");
        assert_eq!(
            at,
            vec![Some(185), Some(191), Some(191), Some(187), Some(191)]
        );
        let mut p = present;
        p.sort();
        p.dedup();
        assert_eq!(p, vec![185, 186, 187, 191]);
    }

    #[test]
    fn disassemble_m_ends_a_file_where_another_starts() {
        let r = |addr, file, line| LineRow {
            addr,
            file,
            line,
            is_stmt: true,
            end_sequence: false,
        };
        let mut end = r(0x30, 0, 0);
        end.end_sequence = true;
        // a.c 255/257 at 0x10 are followed at 0x10 by h.h: dropped; a.c resumes at 0x18.
        let t = LineTable {
            files: vec!["a.c".into(), "h.h".into()],
            names: vec!["a.c".into(), "h.h".into()],
            rows: vec![
                r(0x0, 0, 263),
                r(0x10, 0, 255),
                r(0x10, 0, 257),
                r(0x10, 1, 574),
                r(0x18, 0, 257),
                r(0x1c, 1, 515),
                r(0x20, 0, 276),
                // A non-statement a.c row right after h.h at the same address is skipped...
                r(0x24, 1, 200),
                LineRow {
                    is_stmt: false,
                    ..r(0x24, 0, 354)
                },
                r(0x28, 0, 355),
                // ...but not when the h.h row before it only repeated a line (not recorded).
                r(0x2a, 1, 370),
                LineRow {
                    is_stmt: false,
                    ..r(0x2c, 1, 370)
                },
                LineRow {
                    is_stmt: false,
                    ..r(0x2c, 0, 276)
                },
                end,
            ],
        };
        let addrs = [0x0, 0x10, 0x18, 0x1c, 0x20, 0x24, 0x28, 0x2a, 0x2c];
        let (at, present) = t.source_centric(0, 0x30, &addrs, "a.c");
        assert_eq!(
            at,
            vec![
                Some(263),
                None,
                Some(257),
                None,
                Some(276),
                None,
                Some(355),
                None,
                Some(276)
            ]
        );
        assert_eq!(present, vec![263, 257, 276, 355, 276]);
    }
}
