//! Loaded modules from the kernel's `modules` list: name, `struct module` address, where its
//! code lies (`core_layout` before 6.4, `mem[MOD_TEXT]` since) and its size, and taints — the
//! kernel's `tainted_mask` and each module's `taints`, spelt with the kernel's own
//! `taint_flags[]` letters when the dump has them.

use crate::list::walk_list;
use crate::{AddrExt, Kernel, Result};

/// One loaded module.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Module {
    /// Address of `struct module`.
    pub addr: u64,
    pub name: String,
    /// Start of the module's core text.
    pub base: u64,
    /// Bytes of the module's core (all memory types on 6.4+).
    pub size: u64,
    /// `module.taints` (TAINT_* bits).
    pub taints: u64,
}

/// The modules, and what broke while walking them.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ModuleList {
    pub modules: Vec<Module>,
    /// True on 6.4+ (`mem[]`), where crash calls the base column TEXT_BASE.
    pub text_base: bool,
    pub problems: Vec<String>,
}

/// Upper bound on modules walked.
const MAX_MODULES: usize = 65_536;

impl Kernel {
    pub fn modules(&self) -> Result<ModuleList> {
        let head = self.symbol_addr("modules")?;
        let list_off = self.layout.offset("module", "list")?;
        let name_off = self.layout.offset("module", "name")?;
        let name_len = self.layout.name_len("module", "name", 56);
        let taints_off = self.layout.offset("module", "taints").ok();
        let mut out = ModuleList::default();
        // 6.4+: struct module_memory mem[MOD_MEM_NUM_TYPES]; before: struct module_layout core_layout.
        let mem = self.layout.member("module", "mem");
        let (mem_stride, mem_count) = match mem {
            Some(m) => {
                let stride = self.layout.struct_size("module_memory")?;
                let count = m.size.map(|s| s / stride.max(1)).unwrap_or(7).min(16);
                (stride, count)
            }
            None => (0, 0),
        };
        out.text_base = mem.is_some();
        let walk = walk_list(self, head, MAX_MODULES);
        if let Some(b) = walk.broken {
            out.problems.push(format!("module list: {b}"));
        }
        for node in walk.nodes {
            let addr = node.back(list_off);
            let name = match self.read_cstr(addr.off(name_off), name_len, "module.name") {
                Ok(n) => n,
                Err(e) => {
                    out.problems.push(format!("module {addr:#x}: {e}"));
                    continue;
                }
            };
            let (base, size) = match mem {
                Some(m) => {
                    let b = self.layout.offset("module_memory", "base")?;
                    let s = self.layout.offset("module_memory", "size")?;
                    // mem[MOD_TEXT] (index 0) is the base; the size is every core type's.
                    let base =
                        self.read_u64(addr.off(m.offset).off(b), "module.mem[MOD_TEXT].base")?;
                    let mut size = 0u64;
                    for i in 0..mem_count {
                        let at = addr.off(m.offset).elem(i, mem_stride);
                        if self.is_init_mem_type(i) {
                            continue;
                        }
                        size += self.read_u32(at.off(s), "module.mem[].size")? as u64;
                    }
                    (base, size)
                }
                None => {
                    let l = self.layout.offset("module", "core_layout")?;
                    let b = self.layout.offset("module_layout", "base")?;
                    let s = self.layout.offset("module_layout", "size")?;
                    (
                        self.read_u64(addr.off(l).off(b), "module.core_layout.base")?,
                        self.read_u32(addr.off(l).off(s), "module.core_layout.size")? as u64,
                    )
                }
            };
            let taints = match taints_off {
                Some(o) => self.read_u64(addr.off(o), "module.taints")?,
                None => 0,
            };
            out.modules.push(Module {
                addr,
                name,
                base,
                size,
                taints,
            });
        }
        Ok(out)
    }

    /// `enum mod_mem_type` index `i` is an init section (MOD_INIT_TEXT and after).
    fn is_init_mem_type(&self, i: u64) -> bool {
        let init = self
            .layout
            .enumerator("enum mod_mem_type", "MOD_INIT_TEXT")
            .map(|v| v as u64)
            .unwrap_or(4);
        i >= init
    }

    /// The kernel's `tainted_mask`.
    pub fn tainted_mask(&self) -> Result<u64> {
        self.read_u64(self.symbol_addr("tainted_mask")?, "tainted_mask")
    }

    /// The letter of each taint bit: `taint_flags[i].c_true` from the dump, else the built-in
    /// table (include/linux/panic.h, 6.x).
    pub fn taint_letters(&self) -> Vec<char> {
        const BUILTIN: &str = "PFSRMBUDAWCIOELKXTN";
        let from_dump = || -> Option<Vec<char>> {
            let a = self.symbol_addr("taint_flags").ok()?;
            let stride = self.layout.struct_size("taint_flag").ok()?;
            let c = self.layout.offset("taint_flag", "c_true").ok()?;
            let n = self
                .vmcoreinfo_taint_count()
                .unwrap_or(BUILTIN.len() as u64)
                .min(64);
            let mut v = Vec::new();
            for i in 0..n {
                let mut b = [0u8; 1];
                self.read(a.elem(i, stride).off(c), &mut b, "taint_flags[].c_true")
                    .ok()?;
                if !b[0].is_ascii_alphabetic() {
                    break;
                }
                v.push(b[0] as char);
            }
            (!v.is_empty()).then_some(v)
        };
        from_dump().unwrap_or_else(|| BUILTIN.chars().collect())
    }

    /// TAINT_FLAGS_COUNT, from the length of the `taint_flags` array type.
    fn vmcoreinfo_taint_count(&self) -> Option<u64> {
        self.layout
            .with_variable_type("taint_flags", |t, ty| t.array_len(ty))
    }
}

/// The letters of the set bits of `mask`, in bit order ("OE" for 0x3000).
pub fn taint_string(mask: u64, letters: &[char]) -> String {
    (0..64)
        .filter(|b| mask & (1u64 << b) != 0)
        .map(|b| letters.get(b).copied().unwrap_or('?'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::taint_string;

    #[test]
    fn taints() {
        let l: Vec<char> = "PFSRMBUDAWCIOELKXTN".chars().collect();
        assert_eq!(taint_string(0x3000, &l), "OE");
        assert_eq!(taint_string(0x1, &l), "P");
        assert_eq!(taint_string(0, &l), "");
    }
}
