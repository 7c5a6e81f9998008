//! `dev [-d|-D]`: the registered character devices (major, name, `struct cdev`, file
//! operations) and block majors (major, name, a `struct gendisk`, its operations), or with
//! `-d`/`-D` each disk's requests in flight (`-D`: only disks with some), with `-i` the I/O port
//! and memory resource trees, or with `-p` the PCI buses and devices, as crash prints them.

use crate::report::centre;
use crate::{CmdError, Report, Session};
use kdive_kernel::devices::{BlockMajor, CharDev, DiskIo};
use kdive_kernel::pci::{PciBus, PciDevice};
use kdive_kernel::resources::Resource;
use serde_json::json;

pub const USAGE: &str = "dev [-d | -D | -i | -p]";

/// crash's headers for 64-bit addresses (16 hex digits).
const CHR_HEADER: &str = "CHRDEV    NAME                 CDEV        OPERATIONS      ";
const BLK_HEADER: &str = "BLKDEV    NAME                GENDISK      OPERATIONS      ";

pub fn run(s: &mut Session, args: &[String], _raw: &str) -> Result<Report, CmdError> {
    let mut disks = None;
    for a in args {
        match a.as_str() {
            "-d" => disks = Some(false),
            "-D" => disks = Some(true),
            "-p" => return pci_report(s),
            "-i" => return io_report(s),
            "-V" | "-v" => {
                return Err(CmdError::Usage(format!(
                    "dev {a}: not supported yet (only the device tables, -d/-D, -i and -p)\n{USAGE}"
                )))
            }
            _ => {
                return Err(CmdError::Usage(format!(
                    "dev: invalid argument {a}\n{USAGE}"
                )))
            }
        }
    }
    if let Some(nonzero) = disks {
        return disk_report(s, nonzero);
    }
    let chr = s.kernel.char_devices()?;
    let blk = s.kernel.block_majors()?;
    let modules = s.eval.module_symbols(&s.kernel);
    let name_of = |a: u64| symstr(&s.kernel.symbols, &modules, a);
    let text = render_devices(&chr.items, &blk.items, &name_of);
    let mut problems = chr.problems.clone();
    problems.extend(blk.problems.iter().cloned());
    let json = json!({
        "chrdevs": chr.items.iter().map(|c| json!({
            "major": c.major, "baseminor": c.baseminor, "minorct": c.minorct, "name": c.name,
            "char_device_struct": hx(c.region), "cdev": nz(c.cdev), "fops": nz(c.fops),
            "fops_symbol": (c.fops != 0).then(|| name_of(c.fops)),
        })).collect::<Vec<_>>(),
        "blkdevs": blk.items.iter().map(|b| json!({
            "major": b.major, "name": b.name, "blk_major_name": hx(b.entry),
            "gendisk": nz(b.gendisk), "fops": nz(b.fops),
            "fops_symbol": (b.fops != 0).then(|| name_of(b.fops)),
        })).collect::<Vec<_>>(),
        "problems": problems,
    });
    Ok(Report::new(with_problems(text, &problems), json))
}

/// `dev -p`: each root bus, its devices, then its child buses depth first.
fn pci_report(s: &mut Session) -> Result<Report, CmdError> {
    let buses = s.kernel.pci_buses()?;
    let pcie = s
        .kernel
        .layout
        .member("pci_dev", "pcie_flags_reg")
        .is_some();
    let mut text = String::new();
    for root in &buses.items {
        text.push_str(&format!(
            "{} {}\n{:<16x} {}\n",
            centre("ROOT BUS", 16, false),
            centre("BUSNAME", 7, false),
            root.addr,
            centre(&root.name, 7, false)
        ));
        pci_devices(&mut text, root, pcie);
        pci_children(&mut text, root, pcie);
        text.push('\n');
    }
    Ok(Report::new(
        with_problems(text, &buses.problems),
        json!({"root_buses": buses.items, "problems": buses.problems}),
    ))
}

/// A bus's device table: its bridge first, then the devices on it.
fn pci_devices(text: &mut String, bus: &PciBus, pcie: bool) {
    let mut header = format!(
        "  {} {} {} {}",
        centre("PCI DEV", 16, false),
        centre("DO:BU:SL.FN", 12, false),
        centre("CLASS", 6, false),
        centre("PCI_ID", 9, false)
    );
    if pcie {
        header.push(' ');
        header.push_str(&centre("TYPE", 10, false));
    }
    text.push_str(&header);
    text.push('\n');
    for d in bus.bridge.iter().chain(&bus.devices) {
        let mut line = format!(
            "  {:<16x} {} {} {}",
            d.addr,
            centre(&d.name, 12, false),
            centre(&format!("{:04x}", d.class), 6, false),
            centre(&format!("{:x}:{:x}", d.vendor, d.device), 9, false)
        );
        if pcie {
            line.push(' ');
            line.push_str(&centre(&pci_type(d), 10, false));
        }
        text.push_str(&line);
        text.push('\n');
    }
}

fn pci_children(text: &mut String, bus: &PciBus, pcie: bool) {
    for c in &bus.children {
        text.push_str(&format!(
            "  {} {}\n  {:<16x} {:<16x}\n",
            centre("PCI BUS", 16, false),
            centre("PARENT BUS", 16, false),
            c.addr,
            c.parent
        ));
        pci_devices(text, c, pcie);
        text.push('\n');
        pci_children(text, c, pcie);
    }
}

/// The PCIe port type's name (include/uapi/linux/pci_regs.h `PCI_EXP_TYPE_*`), and
/// `[BRIDGE]` for bridge and CardBus headers.
fn pci_type(d: &PciDevice) -> String {
    const NAMES: [(u8, &str); 9] = [
        (0x0, "ENDPOINT"),
        (0x1, "LEG_END"),
        (0x4, "ROOT_PORT"),
        (0x5, "UPSTREAM"),
        (0x6, "DOWNSTREAM"),
        (0x7, "PCI_BRIDGE"),
        (0x8, "PCIE_BRIDGE"),
        (0x9, "RC_END"),
        (0xa, "RC_EC"),
    ];
    let mut t = d
        .pcie_type
        .and_then(|ty| NAMES.iter().find(|(v, _)| *v == ty))
        .map_or(String::new(), |(_, n)| n.to_string());
    if matches!(d.hdr_type, 1 | 2) {
        t.push_str(" [BRIDGE]");
    }
    t
}

/// An address for the json (hex, as the other commands give them); null when 0.
fn nz(v: u64) -> Option<String> {
    (v != 0).then(|| hx(v))
}

fn hx(v: u64) -> String {
    format!("{v:x}")
}

fn with_problems(mut text: String, problems: &[String]) -> String {
    for p in problems {
        text.push_str(&format!("dev: {p}\n"));
    }
    text
}

/// crash's `value_to_symstr`: the symbol, `+offset` in decimal when inside it; the bare
/// hex value when no symbol is near.
fn symstr(
    syms: &kdive_debuginfo::SymbolTable,
    modules: &kdive_debuginfo::SymbolTable,
    addr: u64,
) -> String {
    match crate::sym::symbol_at(syms, modules, addr) {
        Some((sym, 0)) => sym.name.to_string(),
        Some((sym, off)) if off < 1 << 20 => format!("{}+{off}", sym.name),
        _ => format!("{addr:x}"),
    }
}

/// A row with no structure found: crash's "(none)", centred its way (4 spaces before, 5
/// after) in the address column.
fn none_row(major: u32, name: &str) -> String {
    format!(" {major:3}      {name:<13}       (none)     \n")
}

fn row(major: u32, name: &str, addr: u64, ops: &str) -> String {
    format!(" {major:3}      {name:<13}  {addr:16x}  {ops}\n")
}

fn render_devices(chr: &[CharDev], blk: &[BlockMajor], name_of: &dyn Fn(u64) -> String) -> String {
    let mut out = format!("{CHR_HEADER}\n");
    for c in chr {
        out.push_str(&if c.fops == 0 {
            none_row(c.major, &c.name)
        } else {
            row(c.major, &c.name, c.cdev, &name_of(c.fops))
        });
    }
    out.push_str(&format!("\n{BLK_HEADER}\n"));
    for b in blk {
        let name = if b.name.is_empty() {
            "(unknown)"
        } else {
            &b.name
        };
        out.push_str(&if b.fops == 0 {
            none_row(b.major, name)
        } else {
            row(b.major, name, b.gendisk, &name_of(b.fops))
        });
    }
    out
}

/// crash does not list RAM disks and loop devices.
fn skipped_disk(name: &str) -> bool {
    name.starts_with("ram") || name.starts_with("loop")
}

fn disk_report(s: &mut Session, nonzero: bool) -> Result<Report, CmdError> {
    let k = &s.kernel;
    let sync_names = k.layout.loaded_enumerator("BLK_RW_SYNC").is_some();
    let drv = k.layout.has_member("request_queue", "in_flight");
    let disks = k.disk_io()?;
    let shown: Vec<&DiskIo> = disks
        .items
        .iter()
        .filter(|d| !skipped_disk(&d.name))
        .filter(|d| !nonzero || d.read + d.write != 0)
        .collect();
    let text = with_problems(render_disks(&shown, sync_names, drv), &disks.problems);
    let json = json!({
        "disks": shown.iter().map(|d| json!({
            "major": d.major, "gendisk": hx(d.gendisk), "name": d.name, "request_queue": hx(d.queue),
            "mq": d.mq, "total": d.read + d.write, "read": d.read, "write": d.write,
            "driver_in_flight": d.driver,
        })).collect::<Vec<_>>(),
        "problems": disks.problems,
    });
    Ok(Report::new(text, json))
}

fn render_disks(disks: &[&DiskIo], sync_names: bool, drv: bool) -> String {
    let (r, w) = if sync_names {
        ("ASYNC", "SYNC")
    } else {
        ("READ", "WRITE")
    };
    let mut out = format!(
        "MAJOR {:<18} NAME       {:<18} TOTAL {r:>5} {w:>5} {}\n",
        "GENDISK",
        "REQUEST_QUEUE",
        if drv { "  DRV" } else { "" }
    );
    for d in disks {
        out.push_str(&format!(
            "{:>5} {:<16x}   {:<10} {:<16x}   {:5} {:>5} {:>5} ",
            d.major,
            d.gendisk,
            d.name,
            d.queue,
            d.read + d.write,
            d.read,
            d.write
        ));
        match (drv, d.mq, d.driver) {
            (true, true, _) => out.push_str("N/A(MQ)\n"),
            (true, false, Some(n)) => out.push_str(&format!("{n:5}\n")),
            _ => out.push('\n'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pci_types_are_named_by_port_and_header() {
        let dev = |pcie_type, hdr_type| PciDevice {
            addr: 0,
            name: String::new(),
            class: 0,
            vendor: 0,
            device: 0,
            pcie_type,
            hdr_type,
        };
        assert_eq!(pci_type(&dev(Some(0), 0)), "ENDPOINT");
        assert_eq!(pci_type(&dev(Some(4), 1)), "ROOT_PORT [BRIDGE]");
        assert_eq!(pci_type(&dev(Some(3), 0)), "");
        assert_eq!(pci_type(&dev(None, 2)), " [BRIDGE]");
    }

    #[test]
    fn device_rows_are_crash_columns() {
        assert_eq!(
            row(1, "mem", 0xffff8c3fa35db600, "memory_fops"),
            "   1      mem            ffff8c3fa35db600  memory_fops\n"
        );
        assert_eq!(
            none_row(13, "input"),
            "  13      input               (none)     \n"
        );
    }

    #[test]
    fn disk_header_and_row() {
        let d = DiskIo {
            gendisk: 0xffff888003a1c000,
            major: 259,
            name: "nvme0n1".into(),
            queue: 0xffff888003a18000,
            mq: true,
            read: 2,
            write: 1,
            driver: None,
        };
        assert_eq!(
            render_disks(&[&d], false, false),
            "MAJOR GENDISK            NAME       REQUEST_QUEUE      TOTAL  READ WRITE \n\
             \x20 259 ffff888003a1c000   nvme0n1    ffff888003a18000       3     2     1 \n"
        );
        assert!(skipped_disk("loop0") && skipped_disk("ram1") && !skipped_disk("vda"));
    }
}

/// `dev -i`: the I/O port tree, then the I/O memory tree, each resource on one line in
/// pre-order (crash prints no indentation), ranges 4 hex digits wide when the tree's root ends
/// at or below 0xffff, else 8.
fn io_report(s: &mut Session) -> Result<Report, CmdError> {
    let mut text = String::new();
    let mut json = serde_json::Map::new();
    let mut problems = Vec::new();
    for (i, (root, key)) in [("ioport_resource", "ioport"), ("iomem_resource", "iomem")]
        .into_iter()
        .enumerate()
    {
        let tree = s.kernel.resource_tree(root)?;
        if i > 0 {
            text.push('\n');
        }
        text.push_str(&resource_table(&tree.items));
        problems.extend(tree.problems);
        json.insert(key.into(), json!(tree.items));
    }
    json.insert("problems".into(), json!(problems));
    Ok(Report::new(
        with_problems(text, &problems),
        serde_json::Value::Object(json),
    ))
}

/// One resource tree in crash's layout: a name that would pass column 80 is split at a
/// space and continued on the next line under the NAME column.
fn resource_table(items: &[Resource]) -> String {
    let digits = match items.first() {
        Some(root) if root.end > 0xffff => 8,
        _ => 4,
    };
    let mut text = format!(
        "{}  {}  NAME\n",
        centre("RESOURCE", 16, false),
        centre("RANGE", digits * 2 + 1, false)
    );
    let name_column = 16 + 2 + digits * 2 + 1 + 2;
    for r in items {
        let name = r.name.as_deref().unwrap_or("(unknown)");
        text.push_str(&format!(
            "{:16x}  {:0w$x}-{:0w$x}  ",
            r.addr,
            r.start,
            r.end,
            w = digits
        ));
        match wrap_point(name, (name_column + name.len()).saturating_sub(80)) {
            Some(cut) => text.push_str(&format!(
                "{}\n{}{}\n",
                &name[..cut],
                " ".repeat(name_column),
                &name[cut + 1..]
            )),
            None => text.push_str(&format!("{name}\n")),
        }
    }
    text
}

/// Where to split a name `over` characters too long: the last space that leaves at least
/// `over` characters after it, if any.
fn wrap_point(name: &str, over: usize) -> Option<usize> {
    if over == 0 {
        return None;
    }
    name.bytes()
        .enumerate()
        .skip(1)
        .rev()
        .find(|&(i, b)| b == b' ' && name.len() - 1 - i >= over)
        .map(|(i, _)| i)
}

#[cfg(test)]
mod resource_tests {
    use super::*;

    #[test]
    fn long_names_wrap_at_a_space_as_crash() {
        assert_eq!(wrap_point("short", 0), None);
        // 5 too long: the last space with at least 5 characters after it.
        assert_eq!(wrap_point("aaa bbb cccccc", 5), Some(7));
        assert_eq!(wrap_point("aaa bbb cc", 5), Some(3));
        assert_eq!(wrap_point("nospace", 3), None);
        let r = Resource {
            addr: 0xffffffff94c2c2a0,
            start: 0x15c00000,
            end: 0x16a01ef1,
            name: Some("Kernel code".into()),
            depth: 1,
        };
        assert_eq!(
            resource_table(std::slice::from_ref(&r)),
            "    RESOURCE            RANGE        NAME\nffffffff94c2c2a0  15c00000-16a01ef1  Kernel code\n"
        );
    }
}
