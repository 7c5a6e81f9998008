//! Loading modules' debug info: crash's `mod -s NAME [FILE]`, `mod -S [DIR]`, `mod -d NAME`,
//! `mod -D`, and gdb's `add-symbol-file FILE ADDR [-s SECTION ADDR]...`. A `.ko` of another
//! build than the loaded module is refused with the reason.

use crate::{CmdError, Report, Session};
use kdive_debuginfo::ko::KoFile;
use kdive_kernel::moddebug::ModuleSection;
use serde_json::json;
use std::path::PathBuf;

fn find_loaded(s: &Session, name: &str) -> Result<kdive_kernel::modules::Module, CmdError> {
    let list = s.kernel.modules()?;
    list.modules
        .into_iter()
        .find(|m| m.name == name)
        .ok_or_else(|| CmdError::Usage(format!("mod: cannot find module \"{name}\"")))
}

/// `mod -s NAME [FILE]`.
pub fn run_s(s: &mut Session, args: &[String]) -> Result<Report, CmdError> {
    let Some(name) = args.first() else {
        return Err(CmdError::Usage("usage: mod -s NAME [FILE]".into()));
    };
    let m = find_loaded(s, name)?;
    let candidates: Vec<PathBuf> = match args.get(1) {
        Some(f) => vec![PathBuf::from(f)],
        None => {
            let dirs = s.kernel.default_module_dirs();
            s.kernel
                .find_module_files(std::slice::from_ref(name), &dirs)
                .remove(name)
                .unwrap_or_default()
        }
    };
    if candidates.is_empty() {
        return Err(CmdError::Usage(format!(
            "mod: cannot find or load object file for {name} module (searched {})",
            s.kernel
                .default_module_dirs()
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    match s.kernel.load_first_matching(&m, &candidates) {
        Ok(_) => crate::modcmd::table(s, false, Some(std::slice::from_ref(name))),
        Err(why) => Err(CmdError::Usage(format!("mod: {}", why.join("; ")))),
    }
}

/// `mod -S [DIR]`: every loaded module whose file is found in DIR (or the default places).
pub fn run_big_s(s: &mut Session, args: &[String]) -> Result<Report, CmdError> {
    let dirs = match args.first() {
        Some(d) => vec![PathBuf::from(d)],
        None => s.kernel.default_module_dirs(),
    };
    let list = s.kernel.modules()?;
    let names: Vec<String> = list.modules.iter().map(|m| m.name.clone()).collect();
    let found = s.kernel.find_module_files(&names, &dirs);
    let mut problems = Vec::new();
    for m in &list.modules {
        if s.kernel.module_debug.iter().any(|d| d.name == m.name) {
            continue;
        }
        let Some(c) = found.get(&m.name) else {
            continue;
        };
        if let Err(why) = s.kernel.load_first_matching(m, c) {
            problems.extend(why);
        }
    }
    let mut r = crate::modcmd::table(s, false, None)?;
    for p in &problems {
        r.text.push_str(&format!("mod: {p}\n"));
    }
    r.json["refused"] = json!(problems);
    Ok(r)
}

/// `mod -d NAME`: forget one module's debug info (crash prints nothing).
pub fn run_d(s: &mut Session, args: &[String]) -> Result<Report, CmdError> {
    let Some(name) = args.first() else {
        return Err(CmdError::Usage("usage: mod -d NAME".into()));
    };
    if !s.kernel.unload_module_debug(name) {
        return Err(CmdError::Usage(format!(
            "mod: {name}: symbols are not loaded"
        )));
    }
    Ok(Report::new(String::new(), json!({"unloaded": [name]})))
}

/// `mod -D`: forget every module's debug info.
pub fn run_big_d(s: &mut Session, _args: &[String]) -> Result<Report, CmdError> {
    let names: Vec<String> = s
        .kernel
        .module_debug
        .iter()
        .map(|d| d.name.clone())
        .collect();
    for n in &names {
        s.kernel.unload_module_debug(n);
    }
    Ok(Report::new(String::new(), json!({ "unloaded": names })))
}

fn parse_addr(s: &Session, t: &str) -> Result<u64, CmdError> {
    if let Some(sy) = s.kernel.symbols.lookup(t) {
        return Ok(sy.addr);
    }
    let h = t.strip_prefix("0x").unwrap_or(t);
    u64::from_str_radix(h, 16)
        .map_err(|_| CmdError::Usage(format!("add-symbol-file: invalid address \"{t}\"")))
}

/// gdb's `add-symbol-file FILE [ADDR] [-s SECTION ADDR]...`: ADDR is `.text`'s address; the
/// other sections come from `-s`, else from where the dump says the module's sections are.
pub const ADD_SYMBOL_FILE_USAGE: &str = "add-symbol-file FILE [ADDR] [-s SECTION ADDR]...";

pub fn run_add_symbol_file(
    s: &mut Session,
    args: &[String],
    _raw: &str,
) -> Result<Report, CmdError> {
    let mut it = args.iter();
    let Some(file) = it.next() else {
        return Err(CmdError::Usage(format!("usage: {ADD_SYMBOL_FILE_USAGE}")));
    };
    let mut overrides: Vec<(String, u64)> = Vec::new();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-s" => {
                let (Some(sec), Some(addr)) = (it.next(), it.next()) else {
                    return Err(CmdError::Usage(format!("usage: {ADD_SYMBOL_FILE_USAGE}")));
                };
                overrides.push((sec.clone(), parse_addr(s, addr)?));
            }
            "-readnow" | "-readnever" => {}
            "-o" => {
                return Err(CmdError::Usage(
                    "add-symbol-file: -o OFFSET is not supported".into(),
                ))
            }
            t if !overrides.iter().any(|(n, _)| n == ".text") && !t.starts_with('-') => {
                overrides.insert(0, (".text".into(), parse_addr(s, t)?));
            }
            t => {
                return Err(CmdError::Usage(format!(
                    "add-symbol-file: unexpected argument \"{t}\""
                )))
            }
        }
    }
    let ko = KoFile::open(file).map_err(|e| CmdError::Usage(e.to_string()))?;
    let name = ko.module_name();
    let mut text = format!("add symbol table from file \"{file}\"");
    if overrides.is_empty() {
        text.push('\n');
    } else {
        text.push_str(" at\n");
        for (sec, a) in &overrides {
            text.push_str(&format!("\t{sec}_addr = {a:#x}\n"));
        }
    }
    let loaded = s
        .kernel
        .modules()?
        .modules
        .into_iter()
        .find(|m| m.name == name);
    match loaded {
        Some(m) => {
            s.kernel
                .load_module_debug(&m, std::path::Path::new(file), &overrides)
                .map_err(|e| CmdError::Usage(e.to_string()))?;
        }
        None => {
            // Not a loaded module: trust the addresses given (gdb does).
            let sections = overrides
                .iter()
                .map(|(n, a)| ModuleSection {
                    name: n.clone(),
                    addr: *a,
                })
                .collect();
            s.kernel
                .load_ko_dwarf(&name, 0, ko, sections, "addresses given".into())
                .map_err(|e| CmdError::Usage(e.to_string()))?;
            text.push_str(&format!(
                "warning: no module \"{name}\" is loaded in the dump; using the addresses given\n"
            ));
        }
    }
    text.push_str(&format!("Reading symbols from {file}...\n"));
    Ok(Report::new(
        text,
        json!({"file": file, "module": name, "sections": overrides}),
    ))
}
