//! Modules' debug info: where the kernel put each section of a loaded module
//! (`module->sect_attrs`), the module's build-ID read from its `.note.gnu.build-id` in memory,
//! finding its `.ko` (search directories, build-ID match), refusing one of another build, and
//! loading its DWARF relocated to the dump's addresses (types join [`Kernel::types`], lines and
//! functions answer for the module's code).

use crate::modules::Module;
use crate::{AddrExt, Error, Kernel, Result};
use kdive_debuginfo::dwarf::{DwarfInfo, DwarfLoader};
use kdive_debuginfo::ko::{
    hex, is_module_file_name, module_name_of_path, parse_build_id_note, KoFile,
};
use kdive_debuginfo::TypeLoader;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Upper bound on a module's sections.
const MAX_SECTIONS: u64 = 4096;
/// Upper bound on directory entries visited by one search.
const MAX_SEARCH_ENTRIES: usize = 500_000;

/// One section of a loaded module and its address in the dump.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ModuleSection {
    pub name: String,
    pub addr: u64,
}

/// A module whose `.ko` debug info is loaded.
#[derive(Debug)]
pub struct ModuleDebug {
    pub name: String,
    pub path: PathBuf,
    /// `struct module` address.
    pub module_addr: u64,
    /// Section addresses used to relocate it.
    pub sections: Vec<ModuleSection>,
    pub dwarf: Arc<DwarfInfo>,
    /// How the file was matched to the loaded module ("build-ID 0c79…").
    pub matched_by: String,
    /// Relocations left unapplied (symbols the dump does not know).
    pub unresolved: usize,
}

impl ModuleDebug {
    /// Address of section `name`.
    pub fn section_addr(&self, name: &str) -> Option<u64> {
        self.sections
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.addr)
    }
}

impl Kernel {
    /// The sections of the module at `module_addr` with their addresses (`sect_attrs`).
    pub fn module_sections(&self, module_addr: u64) -> Result<Vec<ModuleSection>> {
        let l = &self.layout;
        let attrs_ptr = self.read_u64(
            module_addr.off(l.offset("module", "sect_attrs")?),
            "module.sect_attrs",
        )?;
        if attrs_ptr == 0 {
            return Ok(Vec::new());
        }
        let n = self.read_u32(
            attrs_ptr.off(l.offset("module_sect_attrs", "nsections")?),
            "module_sect_attrs.nsections",
        )? as u64;
        let first = attrs_ptr.off(l.offset("module_sect_attrs", "attrs")?);
        let stride = l.struct_size("module_sect_attr")?;
        let addr_off = l.offset("module_sect_attr", "address")?;
        let name_off = l.offset("module_sect_attr", "battr.attr.name")?;
        let mut out = Vec::new();
        for i in 0..n.min(MAX_SECTIONS) {
            let a = first.elem(i, stride);
            let name_ptr = self.read_u64(a.off(name_off), "module_sect_attr.name")?;
            let name = self.read_cstr(name_ptr, 128, "module section name")?;
            let addr = self.read_u64(a.off(addr_off), "module_sect_attr.address")?;
            out.push(ModuleSection { name, addr });
        }
        Ok(out)
    }

    /// The loaded module's GNU build-ID, from its `.note.gnu.build-id` section in memory.
    pub fn module_build_id(&self, sections: &[ModuleSection]) -> Option<Vec<u8>> {
        let s = sections.iter().find(|s| s.name == ".note.gnu.build-id")?;
        let mut buf = vec![0u8; 64];
        self.read(s.addr, &mut buf, "module build-id note").ok()?;
        parse_build_id_note(&buf)
    }

    /// `module->srcversion`, when the module has one.
    pub fn module_srcversion(&self, module_addr: u64) -> Option<String> {
        let off = self.layout.offset("module", "srcversion").ok()?;
        let p = self
            .read_u64(module_addr.off(off), "module.srcversion")
            .ok()?;
        if p == 0 {
            return None;
        }
        self.read_cstr(p, 64, "module.srcversion").ok()
    }

    /// Whether `ko` is the file of loaded module `m`: Ok(how it matched), or Err(why not).
    pub fn match_module_file(
        &self,
        m: &Module,
        ko: &KoFile,
        sections: &[ModuleSection],
    ) -> std::result::Result<String, String> {
        let file = ko.path().display();
        let name = ko.module_name();
        if name != m.name {
            return Err(format!("{file} is module \"{name}\", not \"{}\"", m.name));
        }
        let release = self.vmcoreinfo.osrelease().unwrap_or("");
        if let Some(built_for) = ko.vermagic_release() {
            if !release.is_empty() && built_for != release {
                return Err(format!(
                    "{file} was built for kernel {built_for}, the dump runs {release}"
                ));
            }
        }
        match (ko.build_id(), self.module_build_id(sections)) {
            (Some(f), Some(mem)) if f == mem => return Ok(format!("build-ID {}", hex(&f))),
            (Some(f), Some(mem)) => {
                return Err(format!(
                    "{file} has build-ID {}, the loaded {} has {} (another build of the module)",
                    hex(&f),
                    m.name,
                    hex(&mem)
                ))
            }
            _ => {}
        }
        let file_src = ko.modinfo().remove("srcversion");
        match (file_src, self.module_srcversion(m.addr)) {
            (Some(f), Some(mem)) if f == mem => Ok(format!("srcversion {f}")),
            (Some(f), Some(mem)) => Err(format!(
                "{file} has srcversion {f}, the loaded {} has {mem} (other sources)",
                m.name
            )),
            _ => Ok("name and vermagic only (no build-ID or srcversion to compare)".into()),
        }
    }

    /// Loads the debug info of loaded module `m` from `path`, relocated to the dump's section
    /// addresses (`overrides` first: gdb's `add-symbol-file -s`). Refuses a file of another
    /// build. The module's types join [`Kernel::types`].
    pub fn load_module_debug(
        &mut self,
        m: &Module,
        path: &Path,
        overrides: &[(String, u64)],
    ) -> Result<Arc<ModuleDebug>> {
        let ko = KoFile::open(path).map_err(|e| Error::Debuginfo(e.to_string()))?;
        let mut sections = self.module_sections(m.addr).unwrap_or_default();
        let matched_by = self
            .match_module_file(m, &ko, &sections)
            .map_err(|why| Error::File {
                path: path.to_path_buf(),
                detail: format!("not loaded: {why}"),
            })?;
        for (n, a) in overrides {
            sections.retain(|s| &s.name != n);
            sections.push(ModuleSection {
                name: n.clone(),
                addr: *a,
            });
        }
        if sections.iter().all(|s| s.name != ".text") {
            sections.push(ModuleSection {
                name: ".text".into(),
                addr: m.base,
            });
        }
        let debug = self.load_ko_dwarf(&m.name, m.addr, ko, sections, matched_by)?;
        Ok(debug)
    }

    /// Relocates and indexes `ko`'s DWARF at `sections` and registers it under `name`.
    pub fn load_ko_dwarf(
        &mut self,
        name: &str,
        module_addr: u64,
        ko: KoFile,
        sections: Vec<ModuleSection>,
        matched_by: String,
    ) -> Result<Arc<ModuleDebug>> {
        let sec_addr = |n: &str| sections.iter().find(|s| s.name == n).map(|s| s.addr);
        let undefined = |n: &str| self.symbols.lookup(n).map(|s| s.addr);
        let (dwarf, unresolved) = DwarfInfo::open_module(&ko, &sec_addr, &undefined)
            .map_err(|e| Error::Debuginfo(e.to_string()))?;
        let dwarf = Arc::new(dwarf);
        let debug = Arc::new(ModuleDebug {
            name: name.to_string(),
            path: ko.path().to_path_buf(),
            module_addr,
            sections,
            dwarf: dwarf.clone(),
            matched_by,
            unresolved,
        });
        self.types.add_loader(
            name,
            Arc::new(DwarfLoader::new(dwarf)) as Arc<dyn TypeLoader>,
        );
        self.module_debug.retain(|d| d.name != name);
        self.module_debug.push(debug.clone());
        Ok(debug)
    }

    /// Forgets module `name`'s debug info (its types already printed stay known).
    pub fn unload_module_debug(&mut self, name: &str) -> bool {
        let n = self.module_debug.len();
        self.module_debug.retain(|d| d.name != name);
        self.types.remove_loader(name);
        n != self.module_debug.len()
    }

    /// The loaded module debug info whose code contains `addr`.
    pub fn module_debug_at(&self, addr: u64) -> Option<&Arc<ModuleDebug>> {
        self.module_debug.iter().find(|d| {
            d.dwarf.function_at(addr).is_some()
                || d.sections
                    .iter()
                    .any(|s| s.name == ".text" && addr >= s.addr && addr - s.addr < 1 << 24)
        })
    }

    /// Where crash and kdive look for module files when none is named: the debug tree, the
    /// installed modules of the dump's release, the dump's directory.
    pub fn default_module_dirs(&self) -> Vec<PathBuf> {
        let mut v = Vec::new();
        if let Some(r) = self.vmcoreinfo.osrelease() {
            v.push(PathBuf::from(format!("/usr/lib/debug/lib/modules/{r}")));
            v.push(PathBuf::from(format!("/lib/modules/{r}")));
        }
        for d in &self.dump_paths {
            if let Some(p) = d.parent() {
                let p = if p.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    p.to_path_buf()
                };
                if !v.contains(&p) {
                    v.push(p);
                }
            }
        }
        v
    }

    /// For each wanted module name, the `.ko` files that may hold it: those given at start
    /// first, then `dirs` searched recursively (`.ko`, `.ko.debug`, compressed `.ko.xz` & co.).
    pub fn find_module_files(
        &self,
        wanted: &[String],
        dirs: &[PathBuf],
    ) -> HashMap<String, Vec<PathBuf>> {
        let mut out: HashMap<String, Vec<PathBuf>> = HashMap::new();
        let want = |n: &str| wanted.iter().any(|w| w == n);
        for p in &self.modules {
            let n = module_name_of_path(p);
            if want(&n) {
                out.entry(n).or_default().push(p.clone());
            }
        }
        let mut seen = 0usize;
        for d in dirs {
            let mut stack = vec![(d.clone(), 0u32)];
            while let Some((dir, depth)) = stack.pop() {
                let Ok(rd) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for e in rd.flatten() {
                    seen += 1;
                    if seen > MAX_SEARCH_ENTRIES {
                        return out;
                    }
                    let p = e.path();
                    let Ok(ft) = e.file_type() else { continue };
                    if ft.is_dir() {
                        if depth < 16 {
                            stack.push((p, depth + 1));
                        }
                        continue;
                    }
                    let f = e.file_name();
                    let f = f.to_string_lossy();
                    if !is_module_file_name(&f) {
                        continue;
                    }
                    let n = module_name_of_path(&p);
                    if want(&n) {
                        let v = out.entry(n).or_default();
                        if !v.contains(&p) {
                            v.push(p);
                        }
                    }
                }
            }
        }
        out
    }

    /// Loads the first matching file for loaded module `m` among `candidates`; Err lists why
    /// each was refused.
    pub fn load_first_matching(
        &mut self,
        m: &Module,
        candidates: &[PathBuf],
    ) -> std::result::Result<Arc<ModuleDebug>, Vec<String>> {
        let mut why = Vec::new();
        for p in candidates {
            match self.load_module_debug(m, p, &[]) {
                Ok(d) => return Ok(d),
                Err(e) => why.push(e.to_string()),
            }
        }
        Err(why)
    }

    /// At open: load the debug info of every loaded module whose `.ko` was given on the command
    /// line or lies beside the dump; a mismatching file becomes a warning.
    pub(crate) fn autoload_modules(&mut self) {
        let Ok(list) = self.modules() else { return };
        if list.modules.is_empty() {
            return;
        }
        let names: Vec<String> = list.modules.iter().map(|m| m.name.clone()).collect();
        let mut dirs = Vec::new();
        for d in &self.dump_paths {
            if let Some(p) = d.parent() {
                dirs.push(if p.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    p.to_path_buf()
                });
            }
        }
        dirs.dedup();
        // Only the dump's own directory (not recursively into unrelated trees): depth 0 files.
        let mut found = self.find_module_files(&names, &[]);
        for d in &dirs {
            if let Ok(rd) = std::fs::read_dir(d) {
                for e in rd.flatten() {
                    let p = e.path();
                    if p.file_name()
                        .is_some_and(|f| is_module_file_name(&f.to_string_lossy()))
                    {
                        let n = module_name_of_path(&p);
                        if names.contains(&n) {
                            let v = found.entry(n).or_default();
                            if !v.contains(&p) {
                                v.push(p);
                            }
                        }
                    }
                }
            }
        }
        for m in &list.modules {
            let Some(c) = found.get(&m.name) else {
                continue;
            };
            match self.load_first_matching(m, c) {
                Ok(d) => self.sources.push(format!(
                    "module {}: DWARF of {} ({})",
                    d.name,
                    d.path.display(),
                    d.matched_by
                )),
                Err(why) => self.warnings.extend(why),
            }
        }
    }
}
