//! Source files for `disassemble /m /s` and `dis -s`: the path DWARF records (comp_dir/name),
//! rewritten by gdb's `set substitute-path FROM TO`, else looked up by base name in the
//! `directory` list; files read once per command.

use crate::{CmdError, Report, Session};
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where to find sources: gdb's substitute-path rules and `directory` list.
#[derive(Debug, Clone, Default)]
pub struct SourcePaths {
    pub substitutions: Vec<(String, String)>,
    pub directories: Vec<PathBuf>,
}

impl SourcePaths {
    /// The readable file for a DWARF path, if any.
    pub fn resolve(&self, file: &str) -> Option<PathBuf> {
        let mut cands = Vec::new();
        for (from, to) in &self.substitutions {
            if let Some(rest) = file.strip_prefix(from.as_str()) {
                if rest.is_empty() || rest.starts_with('/') || from.ends_with('/') {
                    cands.push(PathBuf::from(format!("{to}{rest}")));
                }
            }
        }
        cands.push(PathBuf::from(file));
        let p = Path::new(file);
        for d in &self.directories {
            if p.is_relative() {
                cands.push(d.join(p));
            }
            if let Some(base) = p.file_name() {
                cands.push(d.join(base));
            }
        }
        cands.into_iter().find(|c| c.is_file())
    }
}

/// Files read during one command.
pub struct SourceCache {
    paths: SourcePaths,
    files: HashMap<String, Option<Vec<String>>>,
}

impl SourceCache {
    pub fn new(paths: SourcePaths) -> SourceCache {
        SourceCache {
            paths,
            files: HashMap::new(),
        }
    }

    /// All lines of `file` (None when it cannot be found).
    pub fn file(&mut self, file: &str) -> Option<&[String]> {
        let paths = &self.paths;
        self.files
            .entry(file.to_string())
            .or_insert_with(|| {
                let p = paths.resolve(file)?;
                let text = std::fs::read(p).ok()?;
                Some(
                    String::from_utf8_lossy(&text)
                        .lines()
                        .map(str::to_string)
                        .collect(),
                )
            })
            .as_deref()
    }

    /// Line `n` (1-based) of `file`.
    pub fn line(&mut self, file: &str, n: u32) -> Option<String> {
        self.file(file)?.get((n as usize).checked_sub(1)?).cloned()
    }
}

/// gdb's `set substitute-path FROM TO` (from `set`), and `show substitute-path`.
pub fn set_substitute_path(s: &mut Session, args: &[String]) -> Result<Report, CmdError> {
    match args {
        [from, to] => {
            s.source_paths.substitutions.retain(|(f, _)| f != from);
            s.source_paths.substitutions.push((
                from.trim_end_matches('/').to_string(),
                to.trim_end_matches('/').to_string(),
            ));
            Ok(Report::new(String::new(), json!({"from": from, "to": to})))
        }
        [] => {
            let mut t = String::from("List of all source path substitution rules:\n");
            for (f, to) in &s.source_paths.substitutions {
                t.push_str(&format!("  `{f}' -> `{to}'.\n"));
            }
            Ok(Report::new(
                t,
                json!({"rules": s.source_paths.substitutions}),
            ))
        }
        _ => Err(CmdError::Usage("usage: set substitute-path FROM TO".into())),
    }
}

/// gdb's `directory DIR...`: add source directories (none: reset the list).
pub fn run_directory(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    if args.is_empty() {
        s.source_paths.directories.clear();
    }
    for a in args {
        for d in a.split(':').filter(|d| !d.is_empty()) {
            let p = PathBuf::from(d);
            if !s.source_paths.directories.contains(&p) {
                s.source_paths.directories.insert(0, p);
            }
        }
    }
    let list: Vec<String> = s
        .source_paths
        .directories
        .iter()
        .map(|d| d.display().to_string())
        .chain(["$cdir", "$cwd"].iter().map(|x| x.to_string()))
        .collect();
    Ok(Report::new(
        format!("Source directories searched: {}\n", list.join(":")),
        json!({"directories": list}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitute_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.c"), "int x;\n").unwrap();
        let mut p = SourcePaths::default();
        assert_eq!(p.resolve("/usr/src/m/a.c"), None);
        p.substitutions
            .push(("/usr/src/m".into(), dir.path().display().to_string()));
        assert_eq!(p.resolve("/usr/src/m/a.c"), Some(dir.path().join("a.c")));
        let mut q = SourcePaths::default();
        q.directories.push(dir.path().to_path_buf());
        assert_eq!(q.resolve("/elsewhere/a.c"), Some(dir.path().join("a.c")));
        let mut c = SourceCache::new(q);
        assert_eq!(c.line("/elsewhere/a.c", 1).as_deref(), Some("int x;"));
    }
}
