//! `mod`: loaded modules as crash lists them (MODULE NAME BASE SIZE OBJECT FILE; TEXT_BASE on
//! 6.4+), `mod -t` (each module's taints), and the taint mask for `sys -t`.

use crate::{CmdError, Report, Session};
use kdive_kernel::modules::taint_string;
use serde_json::json;

pub const USAGE: &str = "mod [-t] | -s NAME [FILE] | -S [DIR] | -d NAME | -D";

/// `s` centred in `width` columns, the extra space on the right (crash's CENTER).
fn center(s: &str, width: usize) -> String {
    let pad = width.saturating_sub(s.len());
    format!("{}{s}{}", " ".repeat(pad / 2), " ".repeat(pad - pad / 2))
}

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    match args.first().map(String::as_str) {
        Some("-s") => return crate::modload::run_s(s, &args[1..]),
        Some("-S") => return crate::modload::run_big_s(s, &args[1..]),
        Some("-d") => return crate::modload::run_d(s, &args[1..]),
        Some("-D") => return crate::modload::run_big_d(s, &args[1..]),
        _ => {}
    }
    let taints = match args {
        [] => false,
        [t] if t == "-t" => true,
        _ => {
            return Err(CmdError::Usage(format!(
                "mod: unsupported arguments \"{}\" (usage: {USAGE})",
                args.join(" ")
            )))
        }
    };
    table(s, taints, None)
}

/// crash's module table (or `-t` taints); `only`: just these modules (`mod -s`).
pub fn table(s: &mut Session, taints: bool, only: Option<&[String]>) -> Result<Report, CmdError> {
    let k = &s.kernel;
    let mut list = k.modules()?;
    if let Some(only) = only {
        list.modules.retain(|m| only.contains(&m.name));
    }
    let letters = k.taint_letters();
    let name_w = list
        .modules
        .iter()
        .map(|m| m.name.len())
        .max()
        .unwrap_or(0)
        .max(4);
    let mut text = String::new();
    if list.modules.is_empty() && list.problems.is_empty() {
        text.push_str("no modules installed\n");
    } else if taints {
        let tainted: Vec<_> = list.modules.iter().filter(|m| m.taints != 0).collect();
        if tainted.is_empty() {
            text.push_str("no tainted modules\n");
        } else {
            text.push_str(&format!("{:<name_w$}  TAINTS\n", "NAME"));
            for m in &tainted {
                text.push_str(&format!(
                    "{:<name_w$}  {}\n",
                    m.name,
                    taint_string(m.taints, &letters)
                ));
            }
        }
    } else {
        let size_w = list
            .modules
            .iter()
            .map(|m| m.size.to_string().len())
            .max()
            .unwrap_or(0)
            .max(4);
        let base = if list.text_base { "TEXT_BASE" } else { "BASE" };
        text.push_str(&format!(
            "{}  {:<name_w$}  {}  {:>size_w$}  OBJECT FILE\n",
            center("MODULE", 16),
            "NAME",
            center(base, 16),
            "SIZE"
        ));
        for m in &list.modules {
            // crash ends a loaded object file's path with a space.
            let object = k
                .module_debug
                .iter()
                .find(|d| d.name == m.name)
                .map(|d| format!("{} ", d.path.display()))
                .unwrap_or_else(|| "(not loaded)  [CONFIG_KALLSYMS]".into());
            text.push_str(&format!(
                "{:x}  {:<name_w$}  {:x}  {:>size_w$}  {object}\n",
                m.addr, m.name, m.base, m.size
            ));
        }
    }
    for p in &list.problems {
        text.push_str(&format!("WARNING: {p}\n"));
    }
    let modules: Vec<_> = list
        .modules
        .iter()
        .map(|m| {
            json!({
                "module": format!("{:x}", m.addr),
                "name": m.name,
                "base": format!("{:x}", m.base),
                "size": m.size,
                "taints": taint_string(m.taints, &letters),
                "object_file": k.module_debug.iter().find(|d| d.name == m.name)
                    .map(|d| d.path.display().to_string()),
            })
        })
        .collect();
    Ok(Report::new(
        text,
        json!({"modules": modules, "problems": list.problems}),
    ))
}

/// `sys -t`: `TAINTED_MASK: 3000  OE`.
pub fn sys_taint(s: &mut Session) -> Result<Report, CmdError> {
    let k = &s.kernel;
    let mask = k.tainted_mask()?;
    let letters = taint_string(mask, &k.taint_letters());
    Ok(Report::new(
        format!("TAINTED_MASK: {mask:x}  {letters}\n"),
        json!({"tainted_mask": mask, "flags": letters}),
    ))
}

#[cfg(test)]
mod tests {
    use super::center;

    #[test]
    fn centred_like_crash() {
        assert_eq!(center("MODULE", 16), "     MODULE     ");
        assert_eq!(center("TEXT_BASE", 16), "   TEXT_BASE    ");
    }
}
