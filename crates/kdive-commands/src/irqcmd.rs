//! `irq`: every interrupt number with its descriptor and actions (`irq [-u] [N...]`), the
//! affinity of those in use (`-a`), the softirq vector (`-b`) and per-CPU counts (`-s`), in
//! crash's layout.

use crate::report::centre;
use crate::{CmdError, Report, Session};
use kdive_kernel::irq::IrqDesc;
use serde_json::json;

pub const USAGE: &str = "irq [-u] [IRQ...] | irq -a | irq -b | irq -s";

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let mut in_use = false;
    let mut chosen = Vec::new();
    for a in args {
        match a.as_str() {
            "-s" if args.len() == 1 => return counts(s),
            "-a" if args.len() == 1 => return affinity(s),
            "-b" if args.len() == 1 => return softirqs(s),
            "-u" => in_use = true,
            _ => chosen.push(
                a.parse::<u32>()
                    .map_err(|_| CmdError::Usage(format!("irq: invalid argument {a}\n{USAGE}")))?,
            ),
        }
    }
    let table = s.kernel.irq_table()?;
    // In use: a descriptor with an action or a real chip (not `no_irq_chip`).
    let no_chip = s.kernel.symbol_addr("no_irq_chip").ok();
    let mut text = format!(
        " IRQ  {}  {}  NAME\n",
        centre("IRQ_DESC/_DATA", 16, false),
        centre("IRQACTION", 16, false)
    );
    let mut json = Vec::new();
    for d in &table {
        if !chosen.is_empty() && !chosen.contains(&d.irq) {
            continue;
        }
        if in_use && d.actions.is_empty() && (d.desc.is_none() || Some(d.chip) == no_chip) {
            continue;
        }
        text.push_str(&irq_line(d));
        json.push(d);
    }
    for c in &chosen {
        if !table.iter().any(|d| d.irq == *c) {
            return Err(CmdError::Usage(format!("irq: invalid IRQ value: {c}")));
        }
    }
    Ok(Report::new(text, json!(json)))
}

/// One interrupt: number, descriptor, first action and name; shared actions below.
fn irq_line(d: &IrqDesc) -> String {
    let desc = d
        .desc
        .map(|a| format!("{a:x}"))
        .unwrap_or_else(|| "(unused)".into());
    let mut out = format!(
        "{}  {}  ",
        centre(&d.irq.to_string(), 4, true),
        centre(&desc, 16, false)
    );
    if d.actions.is_empty() {
        out.push_str(&format!("{}  \n", centre("(unused)", 16, false)));
        return out;
    }
    for (i, (addr, name)) in d.actions.iter().enumerate() {
        if i > 0 {
            out.push_str(&format!("\n{}", " ".repeat(4 + 2 + 16 + 2)));
        }
        out.push_str(&format!(
            "{}  \"{name}\"",
            centre(&format!("{addr:x}"), 16, false)
        ));
    }
    out.push('\n');
    out
}

/// `irq -a`: interrupts in use, their action names and CPU affinity.
fn affinity(s: &mut Session) -> Result<Report, CmdError> {
    let table = s.kernel.irq_table()?;
    let mut text = String::from("IRQ NAME                 AFFINITY\n");
    let mut json = Vec::new();
    for d in table.iter().filter(|d| !d.actions.is_empty()) {
        let names: Vec<&str> = d.actions.iter().map(|(_, n)| n.as_str()).collect();
        text.push_str(&format!(
            "{:>3} {:<20} {}\n",
            d.irq,
            names.join(","),
            cpu_ranges(&d.affinity)
        ));
        json.push(json!({"irq": d.irq, "names": names, "affinity": d.affinity}));
    }
    Ok(Report::new(text, json!(json)))
}

/// CPUs as ranges: `0-3,6`.
fn cpu_ranges(cpus: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let start = cpus[i];
        let mut end = start;
        while i + 1 < cpus.len() && cpus[i + 1] == end + 1 {
            i += 1;
            end = cpus[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(",")
}

/// `irq -b`: the softirq vector's handlers.
fn softirqs(s: &mut Session) -> Result<Report, CmdError> {
    let actions = s.kernel.softirq_actions()?;
    let ctx = crate::bt::stack_context(s).ok();
    let k = &s.kernel;
    let mut text = format!("SOFTIRQ_VEC {}\n", centre("ACTION", 16, true));
    let mut json = Vec::new();
    for (i, f) in &actions {
        let name = ctx.as_ref().and_then(|c| c.symbolize(k, *f));
        let pad = if *i < 10 { "    " } else { "   " };
        text.push_str(&format!(
            "    [{i}]{pad} {f:16x}  <{}>",
            name.as_ref().map(|c| c.with_offset()).unwrap_or_default()
        ));
        if let Some(m) = name.as_ref().and_then(|c| c.module.as_ref()) {
            text.push_str(&format!("  [{m}]"));
        }
        text.push('\n');
        json.push(json!({"softirq": i, "action": f, "symbol": name.map(|c| c.with_offset())}));
    }
    Ok(Report::new(text, json!(json)))
}

/// `irq -s`: per-CPU counts of every interrupt with an action, as /proc/interrupts has them.
fn counts(s: &mut Session) -> Result<Report, CmdError> {
    let k = &s.kernel;
    let cpus = k.cpu_counts()?.online;
    let irqs = k.irqs()?;
    let mut text = String::from("    ");
    for c in &cpus {
        text.push_str(&format!("       CPU{c}"));
    }
    text.push_str(" \n");
    for i in &irqs {
        text.push_str(&format!("{:>3}:", i.irq));
        for c in &i.counts {
            text.push_str(&format!(" {c:>10}"));
        }
        let chip = if i.handler.is_empty() {
            i.chip.clone()
        } else {
            format!("{}-{}", i.chip, i.handler)
        };
        text.push_str(&format!("  {chip:<16} {}\n", i.actions.join(", ")));
    }
    Ok(Report::new(text, json!({"cpus": cpus, "irqs": irqs})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_crashs() {
        let unused = IrqDesc {
            irq: 100,
            desc: None,
            actions: vec![],
            affinity: vec![],
            chip: 0,
        };
        assert_eq!(
            irq_line(&unused),
            " 100      (unused)          (unused)      \n"
        );
        let shared = IrqDesc {
            irq: 0,
            desc: Some(0xffff8c3f81158600),
            actions: vec![
                (0xffff8c3f81155600, "timer".into()),
                (0xffff8c3f81155700, "x".into()),
            ],
            affinity: vec![0, 1],
            chip: 0,
        };
        assert_eq!(
            irq_line(&shared),
            "  0   ffff8c3f81158600  ffff8c3f81155600  \"timer\"\n                        ffff8c3f81155700  \"x\"\n"
        );
        assert_eq!(cpu_ranges(&[0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
    }
}
