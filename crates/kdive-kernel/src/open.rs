//! Opening a kernel: tell the files apart, open the dump, bootstrap the address space from
//! VMCOREINFO, then load symbols and types from the vmlinux or, without one, from the dump.

use crate::files::{classify, FileKind};
use crate::layout::Layout;
use crate::{Error, Result};
use kdive_debuginfo::cachefile::CacheOutcome;
use kdive_debuginfo::dwarf::{DwarfInfo, DwarfLoader, IndexOptions};
use kdive_debuginfo::types::TypeGraph;
use kdive_debuginfo::{SymbolTable, TypeLoader, TypeStore};
use kdive_dumpfile::{Dump, Vmcoreinfo};
use kdive_kspace::KernelSpace;
use kdive_physmem::PhysMem;
use std::path::PathBuf;
use std::sync::Arc;

/// What to open.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Dump, vmlinux and module files, in any order.
    pub files: Vec<PathBuf>,
}

/// An opened kernel: the dump, its address space, symbols and types.
pub struct Kernel {
    pub dump: Arc<Dump>,
    pub mem: KernelSpace,
    pub vmcoreinfo: Vmcoreinfo,
    pub symbols: SymbolTable,
    pub layout: Layout,
    /// Types for commands: BTF (vmlinux or dump) grown on demand from the vmlinux's DWARF.
    pub types: Arc<TypeStore>,
    /// The vmlinux's DWARF (line tables, function ranges), when a vmlinux with DWARF was given.
    pub dwarf: Option<Arc<DwarfInfo>>,
    pub vmlinux: Option<PathBuf>,
    pub dump_paths: Vec<PathBuf>,
    pub modules: Vec<PathBuf>,
    /// Modules whose `.ko` debug info is loaded (`mod -s`, or found at open).
    pub module_debug: Vec<Arc<crate::moddebug::ModuleDebug>>,
    /// One line per source of knowledge in use ("symbols: vmlinux ELF symbol table (N)").
    pub sources: Vec<String>,
    /// Things the user should know that did not stop the open.
    pub warnings: Vec<String>,
}

impl Kernel {
    pub fn open(opts: &OpenOptions) -> Result<Kernel> {
        let mut vmlinux = None;
        let mut dump_paths = Vec::new();
        let mut modules = Vec::new();
        for f in &opts.files {
            match classify(f)? {
                FileKind::Dump => {
                    let same = |p: &PathBuf| {
                        p == f
                            || matches!((p.canonicalize(), f.canonicalize()), (Ok(a), Ok(b)) if a == b)
                    };
                    if dump_paths.iter().any(same) {
                        return Err(Error::Usage(format!(
                            "dump file given twice: {}",
                            f.display()
                        )));
                    }
                    dump_paths.push(f.clone());
                }
                FileKind::Module => modules.push(f.clone()),
                FileKind::Vmlinux => {
                    if let Some(prev) = vmlinux.replace(f.clone()) {
                        return Err(Error::Usage(format!(
                            "two kernel images given: {} and {}",
                            prev.display(),
                            f.display()
                        )));
                    }
                }
            }
        }
        if dump_paths.is_empty() {
            return Err(Error::Usage(
                "no dump file given (kdive [VMLINUX] DUMP [MODULE.ko...])".into(),
            ));
        }
        let t0 = std::time::Instant::now();
        let dump = Arc::new(Dump::open(&dump_paths)?);
        let t_dump = t0.elapsed();
        let vmcoreinfo = dump.vmcoreinfo().cloned().ok_or_else(|| Error::File {
            path: dump_paths[0].clone(),
            detail: "the dump has no VMCOREINFO note (QEMU dumps need -device vmcoreinfo)".into(),
        })?;
        let phys: Arc<dyn PhysMem> = dump.clone();
        let mem =
            KernelSpace::bootstrap(phys, Some(&vmcoreinfo), Some(dump.notes())).map_err(|e| {
                Error::File {
                    path: dump_paths[0].clone(),
                    detail: e.to_string(),
                }
            })?;
        let kaslr = vmcoreinfo.kernel_offset().unwrap_or(0);
        let mut sources = Vec::new();
        let mut warnings = Vec::new();

        let (symbols, types, dwarf) = match &vmlinux {
            Some(path) => load_from_vmlinux(path, &vmcoreinfo, kaslr, &mut sources, &mut warnings)?,
            None => {
                let (s, t) = load_from_dump(&mem, &vmcoreinfo, &mut sources, &mut warnings)?;
                (s, t, None)
            }
        };
        // One type store for the kernel model and the commands: DWARF loaded on demand when
        // the vmlinux has it, else the BTF graph (vmlinux or dump), else nothing (VMCOREINFO).
        let graph = match &types {
            Some(btf) => TypeGraph::with_base(btf.clone(), Vec::new()),
            None => TypeGraph::new(),
        };
        let loader = dwarf
            .clone()
            .map(|d| Box::new(DwarfLoader::new(d)) as Box<dyn TypeLoader>);
        let types_store = Arc::new(TypeStore::new(graph, loader));
        let sym = |n: &str| symbols.lookup(n).map(|s| s.addr);
        if let Err(e) = mem.set_layout_from_symbols(
            sym("page_offset_base"),
            sym("vmalloc_base"),
            sym("vmemmap_base"),
        ) {
            warnings.push(format!("kernel layout: {e}"));
        }
        let t_syms = t0.elapsed();
        let layout = Layout::new(Some(types_store.clone()), vmcoreinfo.clone());
        if std::env::var_os("KDIVE_TIMING").is_some() {
            sources.push(format!(
                "timing: dump open {t_dump:?}, symbols+types {:?}",
                t_syms - t_dump
            ));
        }
        let mut k = Kernel {
            dump,
            mem,
            vmcoreinfo,
            symbols,
            layout,
            types: types_store,
            dwarf,
            vmlinux,
            dump_paths,
            modules,
            module_debug: Vec::new(),
            sources,
            warnings,
        };
        if std::env::var_os("KDIVE_NO_MODULE_AUTOLOAD").is_none() {
            k.autoload_modules();
        }
        Ok(k)
    }

    /// The kernel's page size: VMCOREINFO's PAGESIZE when it is a power of two from 1 KiB to
    /// 1 MiB, else 4096 (a damaged note must not become a division by zero).
    pub fn page_size(&self) -> u64 {
        self.vmcoreinfo
            .page_size()
            .filter(|p| p.is_power_of_two() && (1 << 10..=1 << 20).contains(p))
            .unwrap_or(4096)
    }

    /// Address of a kernel symbol, or an error naming it.
    pub fn symbol_addr(&self, name: &str) -> Result<u64> {
        self.symbols
            .lookup(name)
            .map(|s| s.addr)
            .ok_or_else(|| Error::MissingSymbol(name.to_string()))
    }

    pub fn read(&self, va: u64, buf: &mut [u8], what: &str) -> Result<()> {
        self.mem.read(va, buf).map_err(|source| Error::Read {
            what: what.to_string(),
            va,
            source,
        })
    }
    pub fn read_u64(&self, va: u64, what: &str) -> Result<u64> {
        self.mem.read_u64(va).map_err(|source| Error::Read {
            what: what.to_string(),
            va,
            source,
        })
    }
    pub fn read_u32(&self, va: u64, what: &str) -> Result<u32> {
        self.mem.read_u32(va).map_err(|source| Error::Read {
            what: what.to_string(),
            va,
            source,
        })
    }
    /// Member `path` (dotted, through nested members) of the `struct sname` at `base`, read as
    /// an unsigned little-endian integer of the member's own size (1, 2, 4 or 8 bytes; 4 when
    /// the type does not say).
    pub fn read_member_uint(&self, base: u64, sname: &str, path: &str) -> Result<u64> {
        let place = self
            .layout
            .member(sname, path)
            .ok_or_else(|| Error::MissingType(format!("struct {sname}.{path}")))?;
        let size = place
            .size
            .filter(|s| matches!(s, 1 | 2 | 4 | 8))
            .unwrap_or(4) as usize;
        let mut buf = [0u8; 8];
        self.read(
            base.wrapping_add(place.offset),
            &mut buf[..size],
            &format!("{sname}.{path}"),
        )?;
        Ok(u64::from_le_bytes(buf))
    }

    /// A NUL-terminated string of at most `max` bytes, lossily decoded.
    pub fn read_cstr(&self, va: u64, max: usize, what: &str) -> Result<String> {
        let bytes = self.mem.read_cstr(va, max).map_err(|source| Error::Read {
            what: what.to_string(),
            va,
            source,
        })?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// Symbols, BTF types and DWARF from a vmlinux.
type VmlinuxLoad = (SymbolTable, Option<Arc<TypeGraph>>, Option<Arc<DwarfInfo>>);

/// Symbols from the vmlinux's ELF symbol table, types from its `.BTF` section and its DWARF.
fn load_from_vmlinux(
    path: &std::path::Path,
    vmcoreinfo: &Vmcoreinfo,
    kaslr: u64,
    sources: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Result<VmlinuxLoad> {
    let elf = Arc::new(
        kdive_debuginfo::elf::VmlinuxElf::open(path)
            .map_err(|e| Error::Debuginfo(e.to_string()))?,
    );
    if let (Some(file_id), Some(dump_id)) = (elf.build_id(), vmcoreinfo.build_id()) {
        let file_hex: String = file_id.iter().map(|b| format!("{b:02x}")).collect();
        if !dump_id.eq_ignore_ascii_case(&file_hex) {
            return Err(Error::File {
                path: path.to_path_buf(),
                detail: format!("build-ID {file_hex} does not match the dump's {dump_id}: this vmlinux is from another build"),
            });
        }
    }
    let opts = IndexOptions::default();
    let cache_dir = opts.cache_dir.clone();
    // The symbol table and the DWARF index are independent: read them side by side (each is
    // mapped from the cache, or built — the DWARF index in parallel — and cached).
    let (symbols, dwarf) = std::thread::scope(|scope| {
        let dwarf = scope.spawn(|| DwarfInfo::open(elf.clone(), &opts));
        let symbols = elf.symbols_cached(kaslr, cache_dir.as_deref());
        (symbols, dwarf.join())
    });
    let mut dwarf_line = None;
    let dwarf = match dwarf {
        Ok(Ok(d)) => {
            dwarf_line = Some(format!(
                "types: DWARF of {} ({})",
                path.display(),
                d.origin_summary()
            ));
            if let kdive_debuginfo::dwarf::IndexOrigin::Built {
                write_error: Some(e),
                ..
            } = d.origin()
            {
                warnings.push(format!("DWARF index not cached: {e}"));
            }
            Some(Arc::new(d))
        }
        Ok(Err(e)) => {
            warnings.push(format!("{}: no DWARF types: {e}", path.display()));
            None
        }
        Err(_) => {
            warnings.push(format!("{}: DWARF reader failed", path.display()));
            None
        }
    };
    let (symbols, symbols_origin) = symbols.map_err(|e| Error::Debuginfo(e.to_string()))?;
    let origin = match symbols_origin {
        CacheOutcome::Mapped => "cached",
        CacheOutcome::Built { write_error, .. } => {
            if let Some(e) = write_error {
                warnings.push(format!("symbol table not cached: {e}"));
            }
            if cache_dir.is_some() {
                "read, now cached"
            } else {
                "read"
            }
        }
    };
    sources.push(format!(
        "symbols: {} ELF symbol table ({} symbols, {origin})",
        path.display(),
        symbols.len()
    ));
    // DWARF answers every type question (loaded on demand); the BTF section is read only
    // when there is no DWARF (a stripped vmlinux).
    let btf = if dwarf.is_some() {
        None
    } else {
        elf.btf_bytes()
            .map(|bytes| kdive_debuginfo::Btf::parse(bytes).map(|b| b.graph()))
    };
    let types = match btf {
        Some(Ok(t)) => {
            sources.push(format!(
                "types: BTF of {} ({} types)",
                path.display(),
                t.len()
            ));
            Some(t)
        }
        Some(Err(e)) => {
            warnings.push(format!("{}: cannot read BTF: {e}", path.display()));
            None
        }
        None => None,
    };
    sources.extend(dwarf_line);
    Ok((symbols, types, dwarf))
}

/// Symbols from kallsyms in the dump, types from the kernel's BTF in memory.
fn load_from_dump(
    mem: &KernelSpace,
    vmcoreinfo: &Vmcoreinfo,
    sources: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Result<(SymbolTable, Option<Arc<TypeGraph>>)> {
    let symbols = kdive_debuginfo::kallsyms::load_kallsyms(mem, vmcoreinfo)
        .map_err(|e| Error::Debuginfo(e.to_string()))?;
    sources.push(format!(
        "symbols: kallsyms in the dump ({} symbols)",
        symbols.len()
    ));
    let types = match (symbols.lookup("__start_BTF"), symbols.lookup("__stop_BTF")) {
        (Some(start), Some(stop))
            if stop.addr > start.addr && stop.addr - start.addr < (64 << 20) =>
        {
            let mut buf = vec![0u8; (stop.addr - start.addr) as usize];
            match mem.read(start.addr, &mut buf) {
                Ok(()) => match kdive_debuginfo::Btf::parse(&buf).map(|b| b.graph()) {
                    Ok(t) => {
                        sources.push(format!("types: BTF in the dump ({} types)", t.len()));
                        Some(t)
                    }
                    Err(e) => {
                        warnings.push(format!("kernel BTF in the dump: {e}"));
                        None
                    }
                },
                Err(e) => {
                    warnings.push(format!("kernel BTF in the dump: {e}"));
                    None
                }
            }
        }
        _ => {
            warnings.push(
                "no __start_BTF/__stop_BTF symbols: no types (only VMCOREINFO offsets)".into(),
            );
            None
        }
    };
    Ok((symbols, types))
}
