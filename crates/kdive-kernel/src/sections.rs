//! SPARSEMEM memory sections (`mem_section` roots as VMCOREINFO describes them), the `struct
//! page` of a pfn through its section, and the memory blocks of the `memory` bus (`kmem -n`).

use crate::list::walk_list;
use crate::walk::Walked;
use crate::{AddrExt, Error, Kernel, Result};

/// Sections read at most (2^25: 52 physical address bits in 128 MiB sections).
const SECTIONS_MAX: u64 = 1 << 25;
/// Memory blocks walked at most on the bus's device list.
const BLOCKS_MAX: usize = 1 << 20;

/// The `section_mem_map` flag bits, from the kernel's anonymous enum of `SECTION_*_BIT`
/// (include/linux/mmzone.h) when the types have it, else its values since 5.12 — those
/// crash 8.0.6 uses.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct SectionBits {
    pub present: u32,
    pub has_mem_map: u32,
    pub online: u32,
    pub early: u32,
    /// `SECTION_TAINT_ZONE_DEVICE` (CONFIG_ZONE_DEVICE).
    pub zone_device: Option<u32>,
    /// `SECTION_MAP_LAST_BIT`: the mem_map pointer lies above it.
    pub map_last: u32,
}

/// How `mem_section` is laid out.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    /// The root array (SPARSEMEM_EXTREME) or the section array.
    array: u64,
    roots: u64,
    per_root: u64,
    extreme: bool,
    section_size: u64,
    map_offset: u64,
    pfns_per_section: u64,
    page_struct: u64,
    bits: SectionBits,
}

/// One present memory section.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MemSection {
    pub nr: u64,
    /// The `struct mem_section`.
    pub addr: u64,
    /// `section_mem_map` as stored: the encoded mem_map with the flag bits.
    pub section_mem_map: u64,
    /// The encoded mem_map (flag bits cleared): the `struct page` of pfn 0 as if the whole
    /// map were one array.
    pub coded_mem_map: u64,
    /// The `struct page` of the section's first pfn.
    pub mem_map: u64,
    pub pfn: u64,
    pub present: bool,
    pub has_mem_map: bool,
    pub online: bool,
    pub early: bool,
    pub zone_device: bool,
}

/// One memory block of the `memory` bus (`/sys/devices/system/memory/memoryN`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct MemoryBlock {
    /// The `struct memory_block`.
    pub addr: u64,
    /// Its device name (`memory0`).
    pub name: String,
    pub start_section_nr: u64,
    pub start_phys: u64,
    /// Last byte: from `memory_block_size_probed`, else `end_section_nr`; None without either.
    pub end_phys: Option<u64>,
    /// `nid` where the structure has one.
    pub nid: Option<u32>,
    /// `state`, read at the member's own size.
    pub state: u64,
    /// The state's name without `MEM_` (`ONLINE`), from `enum memory_block_state` when the
    /// kernel has it (6.x: MEM_ONLINE = 0), else the older MEM_* bit values; None when
    /// neither names it.
    pub state_name: Option<String>,
}

/// The memory blocks and what their structure has.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MemoryBlocks {
    pub blocks: Vec<MemoryBlock>,
    pub problems: Vec<String>,
    /// `struct memory_block` has `nid`.
    pub has_nid: bool,
    /// Block ends are known (`memory_block_size_probed` or `end_section_nr`).
    pub ranged: bool,
}

/// The MEM_* block states of kernels without `enum memory_block_state`
/// (include/linux/memory.h defines them as bits).
const MEM_STATE_BITS: [(u64, &str); 6] = [
    (1 << 0, "ONLINE"),
    (1 << 1, "GOING_OFFLINE"),
    (1 << 2, "OFFLINE"),
    (1 << 3, "GOING_ONLINE"),
    (1 << 4, "CANCEL_ONLINE"),
    (1 << 5, "CANCEL_OFFLINE"),
];

impl SectionBits {
    fn mask(bit: u32) -> u64 {
        1u64.checked_shl(bit).unwrap_or(0)
    }

    /// The flag letters crash prints: P(resent), M(em_map), O(nline), E(arly), D(evice).
    pub fn letters(s: &MemSection) -> String {
        [
            (s.present, 'P'),
            (s.has_mem_map, 'M'),
            (s.online, 'O'),
            (s.early, 'E'),
            (s.zone_device, 'D'),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, c)| *c)
        .collect()
    }
}

impl Kernel {
    /// The `SECTION_*_BIT` values.
    pub fn section_bits(&self) -> SectionBits {
        let bit = |name: &str, dflt: u32| {
            self.layout
                .loaded_enumerator(name)
                .and_then(|v| u32::try_from(v).ok())
                .filter(|&v| v < 64)
                .unwrap_or(dflt)
        };
        let map_last = bit("SECTION_MAP_LAST_BIT", 5);
        let zone_device = match self
            .layout
            .loaded_enumerator("SECTION_TAINT_ZONE_DEVICE_BIT")
        {
            Some(v) => u32::try_from(v).ok().filter(|&v| v < 64),
            None => (map_last > 4).then_some(4),
        };
        SectionBits {
            present: bit("SECTION_MARKED_PRESENT_BIT", 0),
            has_mem_map: bit("SECTION_HAS_MEM_MAP_BIT", 1),
            online: bit("SECTION_IS_ONLINE_BIT", 2),
            early: bit("SECTION_IS_EARLY_BIT", 3),
            zone_device,
            map_last,
        }
    }

    fn section_geometry(&self) -> Result<Geometry> {
        let v = &self.vmcoreinfo;
        let missing = |k: &str| Error::MissingSymbol(format!("VMCOREINFO {k}"));
        let array = v
            .symbol("mem_section")
            .ok_or_else(|| missing("SYMBOL(mem_section)"))?;
        let roots = v
            .length("mem_section")
            .ok_or_else(|| missing("LENGTH(mem_section)"))?;
        let section_size = v
            .size("mem_section")
            .ok_or_else(|| missing("SIZE(mem_section)"))?;
        let map_offset = v
            .offset("mem_section.section_mem_map")
            .ok_or_else(|| missing("OFFSET(mem_section.section_mem_map)"))?;
        let section_bits = v
            .number("SECTION_SIZE_BITS")
            .ok_or_else(|| missing("NUMBER(SECTION_SIZE_BITS)"))?;
        let physmem_bits = v
            .number("MAX_PHYSMEM_BITS")
            .ok_or_else(|| missing("NUMBER(MAX_PHYSMEM_BITS)"))?;
        let page_size = self.page_size();
        let page_shift = i64::from(page_size.trailing_zeros());
        if !(page_shift..40).contains(&section_bits)
            || !(section_bits..=64).contains(&physmem_bits)
            || section_size == 0
            || section_size > page_size
        {
            return Err(Error::Corrupt {
                what: "VMCOREINFO mem_section".into(),
                detail: format!(
                    "SECTION_SIZE_BITS {section_bits}, MAX_PHYSMEM_BITS {physmem_bits}, \
                     SIZE(mem_section) {section_size}"
                ),
            });
        }
        let nr_sections = 1u64 << (physmem_bits - section_bits);
        // SPARSEMEM_EXTREME: LENGTH roots, each pointing to a page of sections; otherwise one
        // array of every section.
        let extreme = roots != nr_sections;
        Ok(Geometry {
            array,
            roots,
            per_root: if extreme { page_size / section_size } else { 1 },
            extreme,
            section_size,
            map_offset,
            pfns_per_section: 1u64 << (section_bits - page_shift),
            page_struct: self.layout.struct_size("page")?,
            bits: self.section_bits(),
        })
    }

    /// Pages per memory section (`PAGES_PER_SECTION`).
    pub fn pfns_per_section(&self) -> Result<u64> {
        Ok(self.section_geometry()?.pfns_per_section)
    }

    /// Every present memory section in number order; a root or section that cannot be read
    /// is named in `problems`.
    pub fn mem_sections(&self) -> Result<Walked<MemSection>> {
        let g = self.section_geometry()?;
        let mut out = Walked::default();
        let roots = g.roots.min(SECTIONS_MAX / g.per_root.max(1));
        for root in 0..roots {
            let base = if g.extreme {
                match self.read_u64(g.array.elem(root, 8), "mem_section[] root") {
                    Ok(0) => continue,
                    Ok(p) => p,
                    Err(e) => {
                        out.problems.push(e.to_string());
                        continue;
                    }
                }
            } else {
                g.array
            };
            for i in 0..g.per_root {
                let nr = root * g.per_root + i;
                let addr = if g.extreme {
                    base.elem(i, g.section_size)
                } else {
                    base.elem(nr, g.section_size)
                };
                match self.mem_section(&g, nr, addr) {
                    Ok(Some(s)) => out.items.push(s),
                    Ok(None) => {}
                    Err(e) => {
                        out.problems.push(format!("mem_section {nr}: {e}"));
                        break;
                    }
                }
            }
        }
        Ok(out)
    }

    fn mem_section(&self, g: &Geometry, nr: u64, addr: u64) -> Result<Option<MemSection>> {
        let raw = self.read_u64(addr.off(g.map_offset), "mem_section.section_mem_map")?;
        let has = |bit: u32| raw & SectionBits::mask(bit) != 0;
        if !has(g.bits.present) {
            return Ok(None);
        }
        let coded = raw & !(SectionBits::mask(g.bits.map_last).wrapping_sub(1));
        let pfn = nr.wrapping_mul(g.pfns_per_section);
        Ok(Some(MemSection {
            nr,
            addr,
            section_mem_map: raw,
            coded_mem_map: coded,
            mem_map: coded.wrapping_add(pfn.wrapping_mul(g.page_struct)),
            pfn,
            present: true,
            has_mem_map: has(g.bits.has_mem_map),
            online: has(g.bits.online),
            early: has(g.bits.early),
            zone_device: g.bits.zone_device.is_some_and(has),
        }))
    }

    /// The `struct page` of `pfn` through its section: None when the section is not present
    /// or has no mem_map.
    pub fn pfn_to_page_sparse(&self, pfn: u64) -> Result<Option<u64>> {
        let g = self.section_geometry()?;
        let nr = pfn / g.pfns_per_section;
        let root = nr / g.per_root;
        if root >= g.roots {
            return Ok(None);
        }
        let addr = if g.extreme {
            let base = self.read_u64(g.array.elem(root, 8), "mem_section[] root")?;
            if base == 0 {
                return Ok(None);
            }
            base.elem(nr % g.per_root, g.section_size)
        } else {
            g.array.elem(nr, g.section_size)
        };
        Ok(self
            .mem_section(&g, nr, addr)?
            .filter(|s| s.has_mem_map)
            .map(|s| {
                s.coded_mem_map
                    .wrapping_add(pfn.wrapping_mul(g.page_struct))
            }))
    }

    /// The memory blocks on the `memory` bus, in its device-list order; None when the
    /// kernel has no memory blocks (no `struct memory_block` or `memory_subsys`).
    pub fn memory_blocks(&self) -> Result<Option<MemoryBlocks>> {
        if self.layout.struct_size("memory_block").is_err()
            || self.symbol_addr("memory_subsys").is_err()
        {
            return Ok(None);
        }
        let l = &self.layout;
        // Before 6.3 `bus_type.p`; since, the `bus_kset` member named "memory".
        let private = match l.offset("bus_type", "p") {
            Ok(p) => self.read_u64(self.symbol_addr("memory_subsys")?.off(p), "memory_subsys.p")?,
            Err(_) => self.kset_subsys_private("bus_kset", "memory")?,
        };
        let head = private
            .off(l.offset("subsys_private", "klist_devices")?)
            .off(l.offset("klist", "k_list")?);
        let n_node = l.offset("klist_node", "n_node")?;
        let n_klist = l.offset("klist_node", "n_klist")?;
        let knode_bus = l.offset("device_private", "knode_bus")?;
        let dp_device = l.offset("device_private", "device")?;
        let dev = l.offset("memory_block", "dev")?;
        let mut out = Walked::default();
        let walk = walk_list(self, head, BLOCKS_MAX);
        if let Some(b) = walk.broken {
            out.problems.push(format!("memory bus devices: {b}"));
        }
        let geo = self.section_geometry()?;
        let block_size = self
            .symbol_addr("memory_block_size_probed")
            .and_then(|a| self.read_u64(a, "memory_block_size_probed"))
            .ok()
            .filter(|&s| s != 0);
        let ranged = block_size.is_some() || l.has_member("memory_block", "end_section_nr");
        for n in walk.nodes {
            let kn = n.back(n_node);
            let one = || -> Result<Option<MemoryBlock>> {
                if self.read_u64(kn.off(n_klist), "klist_node.n_klist")? & 1 != 0 {
                    return Ok(None); // a dead node
                }
                let device =
                    self.read_u64(kn.back(knode_bus).off(dp_device), "device_private.device")?;
                self.memory_block(device.back(dev), &geo, block_size)
                    .map(Some)
            };
            match one() {
                Ok(Some(b)) => out.items.push(b),
                Ok(None) => {}
                Err(e) => out.problems.push(format!("klist_node {kn:#x}: {e}")),
            }
        }
        Ok(Some(MemoryBlocks {
            blocks: out.items,
            problems: out.problems,
            has_nid: l.has_member("memory_block", "nid"),
            ranged,
        }))
    }

    fn memory_block(
        &self,
        addr: u64,
        g: &Geometry,
        block_size: Option<u64>,
    ) -> Result<MemoryBlock> {
        let l = &self.layout;
        let field = |m: &str| self.read_member_uint(addr, "memory_block", m);
        let start_section_nr = field("start_section_nr")?;
        let section_bytes = g.pfns_per_section.wrapping_mul(self.page_size());
        let start_phys = start_section_nr.wrapping_mul(section_bytes);
        let end_phys = match block_size {
            Some(size) => Some(start_phys.wrapping_add(size).wrapping_sub(1)),
            None if l.has_member("memory_block", "end_section_nr") => Some(
                field("end_section_nr")?
                    .wrapping_add(1)
                    .wrapping_mul(section_bytes)
                    .wrapping_sub(1),
            ),
            None => None,
        };
        let kobj = addr
            .off(l.offset("memory_block", "dev")?)
            .off(l.offset("device", "kobj")?);
        let name_ptr = self.read_u64(
            kobj.off(l.offset("kobject", "name")?),
            "memory_block.dev.kobj.name",
        )?;
        let name = self.read_cstr(name_ptr, 64, "kobject.name")?;
        let nid = if l.has_member("memory_block", "nid") {
            Some(field("nid")? as u32)
        } else {
            None
        };
        let state = field("state")?;
        Ok(MemoryBlock {
            addr,
            name,
            start_section_nr,
            start_phys,
            end_phys,
            nid,
            state,
            state_name: self.memory_block_state_name(state),
        })
    }

    /// A block state's name without `MEM_`: from `enum memory_block_state` where the kernel
    /// declares one, else the MEM_* bit values of older kernels.
    fn memory_block_state_name(&self, state: u64) -> Option<String> {
        let from_enum = self.layout.with_type("enum memory_block_state", |g, id| {
            match g.ty(g.resolve(id)) {
                kdive_debuginfo::types::Type::Enum { values, .. } => Some(
                    values
                        .iter()
                        .find(|(_, v)| u64::try_from(*v).ok() == Some(state))
                        .map(|(n, _)| n.trim_start_matches("MEM_").to_string()),
                ),
                _ => None,
            }
        });
        match from_enum {
            Some(name) => name,
            None => MEM_STATE_BITS
                .iter()
                .find(|(v, _)| *v == state)
                .map(|(_, n)| n.to_string()),
        }
    }
}
