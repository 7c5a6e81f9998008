//! PCI: the root buses on `pci_root_buses`, each bus's devices (`pci_bus.devices`) and child
//! buses (`pci_bus.children`), with each device's name, class, vendor:device and PCIe port
//! type — what `dev -p` shows.

use crate::list::walk_list;
use crate::walk::Walked;
use crate::{AddrExt, Kernel, Result};

/// Bounds against damaged lists: buses in all, devices on one bus, nesting depth.
const BUSES_LIMIT: usize = 4096;
const DEVICES_LIMIT: usize = 1 << 16;
const DEPTH_LIMIT: usize = 64;

/// One PCI device.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PciDevice {
    /// The `struct pci_dev`.
    pub addr: u64,
    /// Its device name (`0000:00:01.0`).
    pub name: String,
    /// `class >> 8`: base class and subclass.
    pub class: u32,
    pub vendor: u16,
    pub device: u16,
    /// The PCIe port type of `pcie_flags_reg` (bits 4–7), when the kernel has that member.
    pub pcie_type: Option<u8>,
    /// `hdr_type`: 1 and 2 are bridges.
    pub hdr_type: u8,
}

/// One PCI bus, its bridge device and what hangs below it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PciBus {
    /// The `struct pci_bus`.
    pub addr: u64,
    /// Its name (`0000:00`).
    pub name: String,
    pub parent: u64,
    /// The bridge leading to it (`self`), for a child bus.
    pub bridge: Option<PciDevice>,
    pub devices: Vec<PciDevice>,
    pub children: Vec<PciBus>,
}

impl Kernel {
    /// The PCI root buses with their devices and child buses; a list that cannot be followed
    /// ends with the reason in `problems`.
    pub fn pci_buses(&self) -> Result<Walked<PciBus>> {
        let head = self.symbol_addr("pci_root_buses")?;
        let node = self.layout.offset("pci_bus", "node")?;
        let mut out = Walked::default();
        let walk = walk_list(self, head, BUSES_LIMIT);
        let mut budget = BUSES_LIMIT;
        for n in walk.nodes {
            match self.pci_bus(n.wrapping_sub(node), 0, &mut budget, &mut out.problems) {
                Ok(b) => out.items.push(b),
                Err(e) => out.problems.push(format!("pci_root_buses: {e}")),
            }
        }
        if let Some(b) = walk.broken {
            out.problems.push(format!("pci_root_buses: {b}"));
        }
        Ok(out)
    }

    fn pci_bus(
        &self,
        bus: u64,
        depth: usize,
        budget: &mut usize,
        problems: &mut Vec<String>,
    ) -> Result<PciBus> {
        let off = |m: &str| self.layout.offset("pci_bus", m);
        let name = self.kobject_name(bus.off(off("dev")?), "pci_bus.dev")?;
        let parent = self.read_u64(bus.off(off("parent")?), "pci_bus.parent")?;
        let bridge_addr = self.read_u64(bus.off(off("self")?), "pci_bus.self")?;
        let bridge = match bridge_addr {
            0 => None,
            a => Some(self.pci_device(a)?),
        };
        let mut b = PciBus {
            addr: bus,
            name,
            parent,
            bridge,
            devices: Vec::new(),
            children: Vec::new(),
        };
        let bus_list = self.layout.offset("pci_dev", "bus_list")?;
        let devs = walk_list(self, bus.off(off("devices")?), DEVICES_LIMIT);
        for d in devs.nodes {
            match self.pci_device(d.wrapping_sub(bus_list)) {
                Ok(dev) => b.devices.push(dev),
                Err(e) => problems.push(format!("bus {}: {e}", b.name)),
            }
        }
        if let Some(e) = devs.broken {
            problems.push(format!("bus {} devices: {e}", b.name));
        }
        if depth >= DEPTH_LIMIT {
            problems.push(format!(
                "bus {}: buses nested deeper than {DEPTH_LIMIT}",
                b.name
            ));
            return Ok(b);
        }
        let node = off("node")?;
        let kids = walk_list(self, bus.off(off("children")?), BUSES_LIMIT);
        for k in kids.nodes {
            if *budget == 0 {
                problems.push(format!("more than {BUSES_LIMIT} PCI buses; stopped"));
                break;
            }
            *budget -= 1;
            match self.pci_bus(k.wrapping_sub(node), depth + 1, budget, problems) {
                Ok(c) => b.children.push(c),
                Err(e) => problems.push(format!("bus {} child: {e}", b.name)),
            }
        }
        if let Some(e) = kids.broken {
            problems.push(format!("bus {} children: {e}", b.name));
        }
        Ok(b)
    }

    fn pci_device(&self, dev: u64) -> Result<PciDevice> {
        let off = |m: &str| self.layout.offset("pci_dev", m);
        let mut two = [0u8; 2];
        let mut read16 = |m: &str| -> Result<u16> {
            self.read(dev.off(off(m)?), &mut two, &format!("pci_dev.{m}"))?;
            Ok(u16::from_le_bytes(two))
        };
        let vendor = read16("vendor")?;
        let device = read16("device")?;
        let pcie_type = match self.layout.member("pci_dev", "pcie_flags_reg") {
            Some(_) => Some(((read16("pcie_flags_reg")? & 0xf0) >> 4) as u8),
            None => None,
        };
        let mut one = [0u8; 1];
        self.read(dev.off(off("hdr_type")?), &mut one, "pci_dev.hdr_type")?;
        Ok(PciDevice {
            addr: dev,
            name: self.kobject_name(dev.off(off("dev")?), "pci_dev.dev")?,
            class: self.read_u32(dev.off(off("class")?), "pci_dev.class")? >> 8,
            vendor,
            device,
            pcie_type,
            hdr_type: one[0],
        })
    }

    /// The kobject name of the `struct device` at `device`.
    fn kobject_name(&self, device: u64, what: &str) -> Result<String> {
        let kobj = device.off(self.layout.offset("device", "kobj")?);
        let name = self.read_u64(kobj.off(self.layout.offset("kobject", "name")?), what)?;
        self.read_cstr(name, 64, what)
    }
}
