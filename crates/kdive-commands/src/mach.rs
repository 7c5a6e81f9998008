//! `mach`: the machine as crash describes it — type, memory, CPUs, processor speed, HZ,
//! page size, the kernel's virtual-memory bases, the stack sizes, and each CPU's IRQ and
//! exception (IST) stacks, with `[unavailable]` for a stack the dump does not hold; `-m` the
//! firmware (e820) memory map, `-c` each CPU's `struct cpuinfo_x86`.

use crate::{CmdError, Report, Session};
use kdive_kernel::Kernel;
use kdive_unwind::stacks::StackKind;
use serde_json::json;

pub const USAGE: &str = "mach [-m | -c]";

/// A CPU's stack of one kind: its lowest address and whether the dump holds it.
struct CpuStack {
    cpu: u32,
    lo: u64,
    readable: bool,
}

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    match args.first().map(String::as_str) {
        None => {}
        Some("-m") if args.len() == 1 => return memory_map(s),
        Some("-c") if args.len() == 1 => return cpu_info(s),
        Some(a) => {
            return Err(CmdError::Usage(format!(
                "mach: option {a} is not supported\n{USAGE}"
            )))
        }
    }
    let k = &s.kernel;
    let field = |r: kdive_kernel::Result<String>| r.unwrap_or_else(|e| format!("(unknown: {e})"));
    let machine = field(k.utsname().map(|u| u.machine));
    let memory = field(
        k.present_pages()
            .map(|p| crate::sys::format_memory(p.saturating_mul(k.page_size()))),
    );
    let cpus = field(k.cpu_counts().map(|c| c.cpus.to_string()));
    let mhz = field(
        k.symbol_addr("cpu_khz")
            .and_then(|a| k.read_u32(a, "cpu_khz"))
            .map(|khz| format!("{} Mhz", khz / 1000)),
    );
    let hz = field(k.hz().map(|h| h.to_string()));
    let layout = k.mem.layout();
    let regions = k.mem.regions();
    let thread_size = kdive_kernel::stack::thread_size(k);
    let mut rows: Vec<(String, String)> = vec![
        ("MACHINE TYPE".into(), machine),
        ("MEMORY SIZE".into(), memory),
        ("CPUS".into(), cpus),
        ("PROCESSOR SPEED".into(), mhz),
        ("HZ".into(), hz),
        ("PAGE SIZE".into(), k.page_size().to_string()),
        (
            "KERNEL VIRTUAL BASE".into(),
            format!("{:x}", layout.page_offset_base.value),
        ),
        (
            "KERNEL VMALLOC BASE".into(),
            format!("{:x}", layout.vmalloc_base.value),
        ),
        (
            "KERNEL VMEMMAP BASE".into(),
            format!("{:x}", layout.vmemmap_base.value),
        ),
        (
            "KERNEL START MAP".into(),
            format!("{:x}", regions.image_start),
        ),
        (
            "KERNEL MODULES BASE".into(),
            format!("{:x}", regions.modules_start),
        ),
        ("KERNEL STACK SIZE".into(), thread_size.to_string()),
    ];
    let online = k.cpu_counts().map(|c| c.online).unwrap_or_default();
    let mut json_stacks = Vec::new();
    for (label, kind, size, stacks) in stacks_by_kind(k, &online, thread_size) {
        rows.push((format!("{label} STACK SIZE"), size.to_string()));
        rows.push((format!("{label} STACKS"), String::new()));
        for st in &stacks {
            let mark = if st.readable { "" } else { " [unavailable]" };
            rows.push((format!("CPU {}", st.cpu), format!("{:x}{mark}", st.lo)));
        }
        json_stacks.push(json!({
            "kind": kind, "size": size,
            "cpus": stacks.iter().map(|st| json!({"cpu": st.cpu, "base": st.lo, "readable": st.readable})).collect::<Vec<_>>(),
        }));
    }
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut text = String::new();
    for (name, value) in &rows {
        if value.is_empty() {
            text.push_str(&format!("{name:>width$}:\n"));
        } else {
            text.push_str(&format!("{name:>width$}: {value}\n"));
        }
    }
    let json = json!({
        "fields": rows.iter().filter(|(_, v)| !v.is_empty() && !v.contains(" [")).map(|(n, v)| json!({"name": n, "value": v})).collect::<Vec<_>>(),
        "stacks": json_stacks,
    });
    Ok(Report::new(text, json))
}

/// The CPU stacks grouped by kind, in address order (IRQ, then the IST stacks as the CPU
/// entry area lays them out): crash's label, kdive's kind name, size, and each CPU's stack.
fn stacks_by_kind(
    k: &Kernel,
    cpus: &[u32],
    irq_size: u64,
) -> Vec<(String, String, u64, Vec<CpuStack>)> {
    let mut groups: Vec<(String, String, u64, Vec<CpuStack>)> = Vec::new();
    for &cpu in cpus {
        let mut regions = kdive_kernel::stack::cpu_stacks(k, cpu, irq_size);
        regions.sort_by_key(|r| (!matches!(r.kind, StackKind::Irq), r.lo));
        for r in regions {
            let (label, kind) = match r.kind {
                StackKind::Irq => ("IRQ".to_string(), "irq".to_string()),
                StackKind::Exception(n) => (n.to_string(), n.to_lowercase()),
                _ => continue,
            };
            let stack = CpuStack {
                cpu,
                lo: r.lo,
                readable: k.read_u64(r.lo, "stack").is_ok(),
            };
            match groups.iter_mut().find(|g| g.0 == label) {
                Some(g) => g.3.push(stack),
                None => groups.push((label, kind, r.hi - r.lo, vec![stack])),
            }
        }
    }
    groups
}

/// `mach -m`: the e820 map, crash's layout (`E820_TYPE_RAM` printed as crash's `E820_RAM`).
fn memory_map(s: &mut Session) -> Result<Report, CmdError> {
    let map = s.kernel.e820_entries()?;
    let mut text = String::from("      PHYSICAL ADDRESS RANGE         TYPE\n");
    for e in &map.items {
        let name = match &e.kind_name {
            Some(n) => n.replacen("_TYPE_", "_", 1),
            None => format!("type {}", e.kind),
        };
        text.push_str(&format!(
            "{:016x} - {:016x}  {name}\n",
            e.addr,
            e.addr.wrapping_add(e.size)
        ));
    }
    for p in &map.problems {
        text.push_str(&format!("WARNING: {p}\n"));
    }
    Ok(Report::new(
        text,
        json!({"e820": map.items, "problems": map.problems}),
    ))
}

/// `mach -c`: each online CPU's `cpu_info` (a per-CPU `struct cpuinfo_x86`), printed as
/// `struct` prints it.
fn cpu_info(s: &mut Session) -> Result<Report, CmdError> {
    let k = &s.kernel;
    let base = k.symbol_addr("cpu_info")?;
    let cpus = k.cpu_counts()?.online;
    let mut places = Vec::new();
    for cpu in cpus {
        places.push((cpu, k.per_cpu_addr(base, cpu)?));
    }
    let mut text = String::new();
    let mut out = Vec::new();
    for (i, (cpu, addr)) in places.into_iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        let r = crate::structcmd::run_kind(
            s,
            "struct",
            &["cpuinfo_x86".to_string(), format!("{addr:x}")],
        )?;
        text.push_str(&format!("CPU {cpu}:\n{}", r.text));
        out.push(json!({"cpu": cpu, "address": format!("{addr:x}"), "cpuinfo_x86": r.json}));
    }
    Ok(Report::new(text, json!(out)))
}
