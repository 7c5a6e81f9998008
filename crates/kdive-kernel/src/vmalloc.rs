//! The kernel's busy vmalloc areas (`kmem -v`): every `struct vmap_area` that backs a
//! `vm_struct`, by address — from the global `vmap_area_list`, or (6.9+) from each
//! `vmap_nodes[]` busy list, merged and sorted by start address.

use crate::{AddrExt, Kernel, Result};

/// vmap areas read per list at most.
const MAX_AREAS: usize = 1 << 22;
/// `VM_VM_AREA` (mm/vmalloc.c, before 5.4): the area has a `vm_struct`.
const VM_VM_AREA: u64 = 0x4;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VmapArea {
    pub addr: u64,
    pub vm_struct: u64,
    pub start: u64,
    pub end: u64,
}

/// The areas found and why parts of the lists could not be walked.
pub type VmapAreas = crate::walk::Walked<VmapArea>;

impl Kernel {
    pub fn vmap_areas(&self) -> Result<VmapAreas> {
        let link = self.layout.offset("vmap_area", "list")?;
        let mut heads = Vec::new();
        if let Ok(head) = self.symbol_addr("vmap_area_list") {
            heads.push(head);
        } else {
            let nodes = self.read_u64(self.symbol_addr("vmap_nodes")?, "vmap_nodes")?;
            let count = self.read_u32(self.symbol_addr("nr_vmap_nodes")?, "nr_vmap_nodes")?;
            let node_size = self.layout.struct_size("vmap_node")?;
            let busy_head =
                self.layout.offset("vmap_node", "busy")? + self.layout.offset("rb_list", "head")?;
            for i in 0..u64::from(count.min(4096)) {
                heads.push(nodes.off(i * node_size).off(busy_head));
            }
        }
        let o = |m: &str| self.layout.offset("vmap_area", m);
        let (start_off, end_off, vm_off) = (o("va_start")?, o("va_end")?, o("vm")?);
        let flags_off = if self.layout.has_member("vmap_area", "purge_list") {
            o("flags").ok()
        } else {
            None
        };
        let mut out = VmapAreas::default();
        for head in heads {
            let walk = crate::list::walk_list(self, head, MAX_AREAS);
            if let Some(b) = walk.broken {
                out.problems
                    .push(format!("vmap_area list at {head:#x}: {b}"));
            }
            for node in walk.nodes {
                let va = node.back(link);
                let read = |off: u64, what: &str| self.read_u64(va.off(off), what);
                let area = (|| -> Result<Option<VmapArea>> {
                    let vm_struct = read(vm_off, "vmap_area.vm")?;
                    let has_vm = match flags_off {
                        Some(f) => read(f, "vmap_area.flags")? == VM_VM_AREA,
                        None => vm_struct != 0,
                    };
                    if !has_vm {
                        return Ok(None);
                    }
                    Ok(Some(VmapArea {
                        addr: va,
                        vm_struct,
                        start: read(start_off, "vmap_area.va_start")?,
                        end: read(end_off, "vmap_area.va_end")?,
                    }))
                })();
                match area {
                    Ok(Some(a)) => out.items.push(a),
                    Ok(None) => {}
                    Err(e) => out.problems.push(e.to_string()),
                }
            }
        }
        out.items.sort_by_key(|a| a.start);
        Ok(out)
    }
}
