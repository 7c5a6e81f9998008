//! Kernel symbols decoded from the dump's own kallsyms tables (no vmlinux needed).
//!
//! VMCOREINFO (Linux ≥ 6.0 with CONFIG_KALLSYMS) gives the addresses of the tables:
//! - `kallsyms_num_syms` (u32) symbols;
//! - `kallsyms_names`: per symbol a length, then that many token indices. The length is one
//!   byte, or — when its top bit is set (Linux ≥ 6.1, "big" symbols) — two bytes,
//!   `(b0 & 0x7f) | b1 << 7`. Expanded, the first character is the `nm` type letter;
//! - `kallsyms_token_table`: NUL-terminated token strings; `kallsyms_token_index`: 256 u16
//!   offsets into it;
//! - `kallsyms_offsets`: one i32 per symbol, in one of three encodings:
//!   * relative to `kallsyms_relative_base` (unsigned);
//!   * "absolute per-cpu" (x86_64 SMP up to at least 6.12): non-negative values are absolute
//!     addresses (per-cpu offsets), negative ones mean `relative_base - 1 - offset`;
//!   * place-relative (newer kernels, no `kallsyms_relative_base`): `&offsets[i] + offsets[i]`.
//!
//! The encoding is not recorded in the dump; it is inferred (a negative offset can only occur
//! with absolute per-cpu) and then checked against VMCOREINFO's own `SYMBOL(_stext)`.

use kdive_dumpfile::Vmcoreinfo;
use kdive_kspace::{KernelLayout, KernelSpace};

use crate::symbols::{SymbolDef, SymbolKind, SymbolTable};

/// More symbols than any kernel has (a 6.x distribution kernel has ~150k–250k).
pub const MAX_SYMS: u32 = 2_000_000;
/// Longest expanded name kept (the kernel's KSYM_NAME_LEN is 512 since 6.1).
const MAX_NAME: usize = 1024;
/// Longest token accepted in the token table.
const MAX_TOKEN: usize = 256;
/// Read-ahead granule for the variable-length tables.
const CHUNK: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum KallsymsError {
    #[error("VMCOREINFO lacks SYMBOL({0}): cannot decode kallsyms from this dump")]
    Missing(&'static str),
    #[error("reading {what}: {source}")]
    Read {
        what: &'static str,
        source: kdive_kspace::Error,
    },
    #[error("corrupt kallsyms {what}: {detail}")]
    Corrupt { what: &'static str, detail: String },
}

type Result<T> = std::result::Result<T, KallsymsError>;

/// How `kallsyms_offsets` encode addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetEncoding {
    /// `relative_base + (u32)offset`.
    RelativeBase(u64),
    /// `offset >= 0 ? offset : relative_base - 1 - offset`.
    AbsolutePercpu(u64),
    /// `&kallsyms_offsets[i] + offset`.
    PlaceRelative(u64),
}

impl OffsetEncoding {
    fn address(self, index: usize, offset: i32) -> u64 {
        match self {
            OffsetEncoding::RelativeBase(base) => base.wrapping_add(offset as u32 as u64),
            OffsetEncoding::AbsolutePercpu(_) if offset >= 0 => offset as u64,
            OffsetEncoding::AbsolutePercpu(base) => {
                base.wrapping_sub(1).wrapping_sub(offset as i64 as u64)
            }
            OffsetEncoding::PlaceRelative(table) => table
                .wrapping_add(index as u64 * 4)
                .wrapping_add(offset as i64 as u64),
        }
    }
}

/// Decodes the kernel's kallsyms tables from the dump into a symbol table.
pub fn load_kallsyms(ks: &KernelSpace, vmcoreinfo: &Vmcoreinfo) -> Result<SymbolTable> {
    let sym = |name: &'static str| vmcoreinfo.symbol(name).ok_or(KallsymsError::Missing(name));
    let read_err = |what| move |source| KallsymsError::Read { what, source };

    let num_syms = ks
        .read_u32(sym("kallsyms_num_syms")?)
        .map_err(read_err("kallsyms_num_syms"))?;
    if num_syms == 0 || num_syms > MAX_SYMS {
        return Err(corrupt("kallsyms_num_syms", format!("{num_syms} symbols")));
    }
    let count = num_syms as usize;

    let tokens = read_tokens(
        ks,
        sym("kallsyms_token_table")?,
        sym("kallsyms_token_index")?,
    )?;

    let offsets_va = sym("kallsyms_offsets")?;
    let mut raw = vec![0u8; count * 4];
    ks.read(offsets_va, &mut raw)
        .map_err(read_err("kallsyms_offsets"))?;
    let offsets: Vec<i32> = raw
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();

    let encoding = match vmcoreinfo.symbol("kallsyms_relative_base") {
        Some(va) => {
            let base = ks
                .read_u64(va)
                .map_err(read_err("kallsyms_relative_base"))?;
            if offsets.iter().any(|&o| o < 0) {
                OffsetEncoding::AbsolutePercpu(base)
            } else {
                OffsetEncoding::RelativeBase(base)
            }
        }
        None => OffsetEncoding::PlaceRelative(offsets_va),
    };

    let mut names = TableReader::new(ks, sym("kallsyms_names")?, "kallsyms_names");
    let mut syms = Vec::with_capacity(count);
    let mut expanded = Vec::with_capacity(128);
    let mut pos = 0usize;
    for (index, &offset) in offsets.iter().enumerate() {
        names.ensure(pos + 2)?;
        let b0 = names.buf[pos] as usize;
        let (len, header) = if b0 & 0x80 != 0 {
            ((b0 & 0x7f) | (names.buf[pos + 1] as usize) << 7, 2)
        } else {
            (b0, 1)
        };
        if len == 0 {
            return Err(corrupt(
                "kallsyms_names",
                format!("symbol {index} at offset {pos:#x} has length 0"),
            ));
        }
        names.ensure(pos + header + len)?;
        expanded.clear();
        for &t in &names.buf[pos + header..pos + header + len] {
            let token = &tokens[t as usize];
            let room = MAX_NAME.saturating_sub(expanded.len());
            expanded.extend_from_slice(&token[..token.len().min(room)]);
        }
        pos += header + len;

        let Some((&letter, name)) = expanded.split_first() else {
            return Err(corrupt(
                "kallsyms_names",
                format!("symbol {index} expands to nothing"),
            ));
        };
        syms.push(SymbolDef {
            name: String::from_utf8_lossy(name).into_owned(),
            addr: encoding.address(index, offset),
            size: 0,
            kind: SymbolKind::from_nm_letter(letter),
            global: letter.is_ascii_uppercase(),
            module: None,
        });
    }

    check_against_vmcoreinfo(&syms, vmcoreinfo, encoding)?;
    Ok(SymbolTable::new(syms))
}

/// Reads the kernel variables that hold the randomized region bases, using the symbol table
/// to find them, and records them in the kernel space's layout.
pub fn apply_kernel_layout(
    ks: &KernelSpace,
    symbols: &SymbolTable,
) -> kdive_kspace::Result<KernelLayout> {
    let addr = |name| symbols.lookup(name).map(|s| s.addr);
    ks.set_layout_from_symbols(
        addr("page_offset_base"),
        addr("vmalloc_base"),
        addr("vmemmap_base"),
    )
}

fn corrupt(what: &'static str, detail: String) -> KallsymsError {
    KallsymsError::Corrupt { what, detail }
}

/// The 256 tokens, each without its NUL.
fn read_tokens(ks: &KernelSpace, table_va: u64, index_va: u64) -> Result<Vec<Vec<u8>>> {
    let mut raw = [0u8; 512];
    ks.read(index_va, &mut raw)
        .map_err(|source| KallsymsError::Read {
            what: "kallsyms_token_index",
            source,
        })?;
    let index: Vec<usize> = raw
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]) as usize)
        .collect();
    let mut table = TableReader::new(ks, table_va, "kallsyms_token_table");
    let mut tokens = Vec::with_capacity(256);
    for (i, &start) in index.iter().enumerate() {
        // Tokens are short; extend the read until this one's NUL is in the buffer.
        let mut end = start;
        loop {
            table.ensure(end + 1)?;
            if table.buf[end] == 0 {
                break;
            }
            end += 1;
            if end - start > MAX_TOKEN {
                return Err(corrupt(
                    "kallsyms_token_table",
                    format!("token {i} at {start:#x} is unterminated"),
                ));
            }
        }
        tokens.push(table.buf[start..end].to_vec());
    }
    Ok(tokens)
}

/// The decoded `_stext` must sit where VMCOREINFO says (it is in every VMCOREINFO); otherwise
/// the offset encoding was guessed wrong or the tables are damaged.
fn check_against_vmcoreinfo(
    syms: &[SymbolDef],
    vmcoreinfo: &Vmcoreinfo,
    encoding: OffsetEncoding,
) -> Result<()> {
    for name in ["_stext", "init_task"] {
        let Some(want) = vmcoreinfo.symbol(name) else {
            continue;
        };
        if let Some(got) = syms.iter().find(|s| s.name == name) {
            if got.addr != want {
                return Err(corrupt(
                    "kallsyms_offsets",
                    format!(
                        "{name} decodes to {:#x} but VMCOREINFO says {want:#x} ({encoding:?})",
                        got.addr
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A table of unknown length in kernel memory, read in large chunks as decoding advances.
struct TableReader<'a> {
    ks: &'a KernelSpace,
    va: u64,
    what: &'static str,
    buf: Vec<u8>,
}

impl<'a> TableReader<'a> {
    fn new(ks: &'a KernelSpace, va: u64, what: &'static str) -> TableReader<'a> {
        TableReader {
            ks,
            va,
            what,
            buf: Vec::new(),
        }
    }

    /// Makes `buf` hold at least `end` bytes: reads a whole chunk ahead when it can, and only
    /// what is needed when the read-ahead runs into an unreadable page.
    fn ensure(&mut self, end: usize) -> Result<()> {
        let have = self.buf.len();
        if end <= have {
            return Ok(());
        }
        let va = self.va.wrapping_add(have as u64);
        let ahead = (end - have).max(CHUNK);
        let mut more = vec![0u8; ahead];
        if self.ks.read(va, &mut more).is_err() {
            more.truncate(end - have);
            self.ks
                .read(va, &mut more)
                .map_err(|source| KallsymsError::Read {
                    what: self.what,
                    source,
                })?;
        }
        self.buf.extend_from_slice(&more);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use kdive_physmem::VecMem;

    use super::*;

    const MAP: u64 = 0xffff_ffff_8000_0000;
    const TEXT: u64 = 0xffff_ffff_8100_0000;

    /// Tokens: 0..=127 are the single ASCII characters; 128.. are a few multi-char ones.
    fn tokens() -> Vec<Vec<u8>> {
        let multi = [
            "init_", "task", "jiff", "ies", "_st", "ext", "Tsched", "Dinit",
        ];
        (0u8..=255)
            .map(|i| match i {
                0..=127 => vec![i],
                _ => multi
                    .get(i as usize - 128)
                    .map_or(b"?".to_vec(), |s| s.as_bytes().to_vec()),
            })
            .collect()
    }

    /// Greedy compression with the tokens above (longest multi-char token first, else the
    /// character itself).
    fn compress(s: &str, toks: &[Vec<u8>]) -> Vec<u8> {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let multi = (128..256).filter(|&t| toks[t].len() > 1 && b[i..].starts_with(&toks[t]));
            match multi.max_by_key(|&t| toks[t].len()) {
                Some(t) => {
                    out.push(t as u8);
                    i += toks[t].len();
                }
                None => {
                    out.push(b[i]);
                    i += 1;
                }
            }
        }
        out
    }

    #[derive(Clone, Copy)]
    enum Enc {
        Relative,
        AbsPercpu,
        PlaceRelative,
    }

    /// A kernel image at phys 0 (phys_base 0, no KASLR) holding kallsyms tables, laid out one
    /// after the other from 64 KiB on.
    fn image(syms: &[(&str, u64)], enc: Enc) -> (KernelSpace, Vmcoreinfo) {
        let toks = tokens();
        let mut table = Vec::new();
        let mut index = Vec::new();
        for t in &toks {
            index.extend_from_slice(&(table.len() as u16).to_le_bytes());
            table.extend_from_slice(t);
            table.push(0);
        }
        let mut names = Vec::new();
        for (name, _) in syms {
            let c = compress(name, &toks);
            if c.len() >= 0x80 {
                names.push(0x80 | (c.len() & 0x7f) as u8);
                names.push((c.len() >> 7) as u8);
            } else {
                names.push(c.len() as u8);
            }
            names.extend_from_slice(&c);
        }
        let align = |x: usize| (x + 0xfff) & !0xfff;
        let names_pa = 0x1_0000;
        let table_pa = align(names_pa + names.len());
        let index_pa = align(table_pa + table.len());
        let offsets_pa = align(index_pa + index.len());
        let num_pa = align(offsets_pa + 4 * syms.len());
        let base_pa = num_pa + 8;
        let mut offsets = Vec::new();
        for (i, (_, addr)) in syms.iter().enumerate() {
            let off: i64 = match enc {
                Enc::Relative => (*addr - TEXT) as i64,
                Enc::AbsPercpu if *addr < 0x10_0000 => *addr as i64,
                Enc::AbsPercpu => -((*addr - (TEXT - 1)) as i64),
                Enc::PlaceRelative => addr.wrapping_sub(MAP + (offsets_pa + 4 * i) as u64) as i64,
            };
            offsets.extend_from_slice(&(off as i32).to_le_bytes());
        }
        let mut mem = vec![0u8; align(base_pa + 8)];
        let mut put = |pa: usize, data: &[u8]| mem[pa..pa + data.len()].copy_from_slice(data);
        put(names_pa, &names);
        put(table_pa, &table);
        put(index_pa, &index);
        put(offsets_pa, &offsets);
        put(num_pa, &(syms.len() as u32).to_le_bytes());
        put(base_pa, &TEXT.to_le_bytes());
        let mut text = format!(
            "KERNELOFFSET=0\nNUMBER(phys_base)=0\nSYMBOL(init_top_pgt)={:x}\nSYMBOL(_stext)={TEXT:x}\n",
            MAP + 0x1000
        );
        for (name, pa) in [
            ("kallsyms_names", names_pa),
            ("kallsyms_token_table", table_pa),
            ("kallsyms_token_index", index_pa),
            ("kallsyms_offsets", offsets_pa),
            ("kallsyms_num_syms", num_pa),
        ] {
            text += &format!("SYMBOL({name})={:x}\n", MAP + pa as u64);
        }
        if !matches!(enc, Enc::PlaceRelative) {
            text += &format!(
                "SYMBOL(kallsyms_relative_base)={:x}\n",
                MAP + base_pa as u64
            );
        }
        let v = Vmcoreinfo::parse(&text);
        let ks = KernelSpace::bootstrap(
            Arc::new(VecMem {
                base: 0,
                bytes: mem,
            }),
            Some(&v),
            None,
        )
        .unwrap();
        (ks, v)
    }

    fn sample() -> Vec<(String, u64)> {
        let long = format!("t_RNvNtCs{}_4core3fmt", "x".repeat(200));
        vec![
            ("T_stext".into(), TEXT),
            ("Tsched_init".into(), TEXT + 0x100),
            ("tlocal_helper".into(), TEXT + 0x180),
            (long, TEXT + 0x200),
            ("Dinit_task".into(), TEXT + 0x20_0000),
            ("Djiffies".into(), TEXT + 0x20_1000),
            ("Bsome_bss".into(), TEXT + 0x30_0000),
        ]
    }

    fn check(enc: Enc) {
        let mut syms = sample();
        let percpu = matches!(enc, Enc::AbsPercpu);
        if percpu {
            syms.push(("Dcurrent_task".into(), 0x2_1c40));
        }
        let refs: Vec<(&str, u64)> = syms.iter().map(|(n, a)| (n.as_str(), *a)).collect();
        let (ks, v) = image(&refs, enc);
        let t = load_kallsyms(&ks, &v).unwrap();
        assert_eq!(t.len(), syms.len());
        let s = t.lookup("_stext").unwrap();
        assert_eq!((s.addr, s.kind, s.global), (TEXT, SymbolKind::Text, true));
        let s = t.lookup("init_task").unwrap();
        assert_eq!((s.addr, s.kind), (TEXT + 0x20_0000, SymbolKind::Data));
        assert_eq!(t.lookup("jiffies").unwrap().addr, TEXT + 0x20_1000);
        assert!(!t.lookup("local_helper").unwrap().global);
        assert_eq!(t.lookup("some_bss").unwrap().kind, SymbolKind::Bss);
        let long = &syms[3].0[1..];
        assert_eq!(t.lookup(long).unwrap().addr, TEXT + 0x200);
        if percpu {
            assert_eq!(t.lookup("current_task").unwrap().addr, 0x2_1c40);
        }
    }

    #[test]
    fn relative_base() {
        check(Enc::Relative);
    }

    #[test]
    fn absolute_percpu() {
        check(Enc::AbsPercpu);
    }

    #[test]
    fn place_relative() {
        check(Enc::PlaceRelative);
    }

    #[test]
    fn stext_mismatch_is_reported() {
        let (ks, _) = image(&[("T_stext", TEXT + 0x10)], Enc::Relative);
        let (_, v) = image(&[("T_stext", TEXT)], Enc::Relative);
        let err = load_kallsyms(&ks, &v).unwrap_err();
        assert!(err.to_string().contains("_stext"), "{err}");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let (ks, v) = image(&[("T_stext", TEXT)], Enc::Relative);
        // Every table pointing at zeros, with a symbol count: the first name has length 0.
        let zeros = MAP + 0x8000;
        let mut text = format!(
            "SYMBOL(kallsyms_num_syms)={:x}\n",
            v.symbol("kallsyms_num_syms").unwrap()
        );
        for name in [
            "kallsyms_names",
            "kallsyms_token_table",
            "kallsyms_token_index",
            "kallsyms_offsets",
        ] {
            text += &format!("SYMBOL({name})={zeros:x}\n");
        }
        assert!(matches!(
            load_kallsyms(&ks, &Vmcoreinfo::parse(&text)),
            Err(KallsymsError::Corrupt { .. })
        ));
        // Missing VMCOREINFO keys.
        let v3 = Vmcoreinfo::parse("SYMBOL(kallsyms_names)=1\n");
        assert!(matches!(
            load_kallsyms(&ks, &v3),
            Err(KallsymsError::Missing(_))
        ));
        // Tables beyond the end of memory.
        let far = "ffffffffbff00000";
        let text = format!("SYMBOL(kallsyms_num_syms)={far}\n");
        assert!(matches!(
            load_kallsyms(&ks, &Vmcoreinfo::parse(&text)),
            Err(KallsymsError::Read { .. })
        ));
        assert!(load_kallsyms(&ks, &v).is_ok());
    }

    /// Not a pass/fail timing: prints how long 150k symbols take to decode.
    #[test]
    fn many_symbols() {
        let owned: Vec<(String, u64)> = (0..150_000u64)
            .map(|i| (format!("tfunction_number_{i}"), TEXT + 0x10 * (i + 1)))
            .collect();
        let mut refs: Vec<(&str, u64)> = vec![("T_stext", TEXT)];
        refs.extend(owned.iter().map(|(n, a)| (n.as_str(), *a)));
        let (ks, v) = image(&refs, Enc::AbsPercpu);
        let start = std::time::Instant::now();
        let t = load_kallsyms(&ks, &v).unwrap();
        eprintln!("decoded {} symbols in {:?}", t.len(), start.elapsed());
        assert_eq!(
            t.lookup("function_number_149999").unwrap().addr,
            TEXT + 0x10 * 150_000
        );
    }

    /// The single-file dump formats the lab writes for each scenario.
    const LAB_FORMATS: [&str; 5] = [
        "vmcore.elf",
        "elf-d31",
        "kdump-zlib-d31",
        "qemu.elf",
        "qemu-kdump-zlib",
    ];

    /// The lab's dumps in these formats (none without a lab).
    fn lab_dumps() -> Vec<std::path::PathBuf> {
        kdive_lab::dump_files(&LAB_FORMATS)
    }

    #[test]
    fn lab_dumps_resolve_core_symbols() {
        use kdive_physmem::PhysMem;
        let dumps = lab_dumps();
        if dumps.is_empty() {
            eprintln!("SKIP: no lab dumps (set KDIVE_LAB_DIR or fill ~/.cache/kdive/lab/<release>/<scenario>/)");
            return;
        }
        for path in dumps {
            let dump = match kdive_dumpfile::Dump::open(std::slice::from_ref(&path)) {
                Ok(d) => Arc::new(d),
                Err(e) => {
                    eprintln!("SKIP {}: {e}", path.display());
                    continue;
                }
            };
            let Some(v) = dump.vmcoreinfo().cloned() else {
                eprintln!("SKIP {}: no VMCOREINFO", path.display());
                continue;
            };
            let notes = dump.notes().clone();
            let mem: Arc<dyn PhysMem> = dump;
            let ks = KernelSpace::bootstrap(mem, Some(&v), Some(&notes)).unwrap();
            let start = std::time::Instant::now();
            let t = load_kallsyms(&ks, &v).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            eprintln!(
                "{}: {} symbols in {:?}",
                path.display(),
                t.len(),
                start.elapsed()
            );
            for name in ["_stext", "init_task", "jiffies"] {
                let s = t
                    .lookup(name)
                    .unwrap_or_else(|| panic!("{}: no {name}", path.display()));
                if let Some(want) = v.symbol(name) {
                    assert_eq!(s.addr, want, "{}: {name}", path.display());
                }
            }
            compare_with_vmlinux(&path, &t, v.kernel_offset().unwrap_or(0));
            let layout = apply_kernel_layout(&ks, &t).unwrap();
            eprintln!("{layout}");
            // The direct map by arithmetic agrees with a page walk.
            let va = layout.page_offset_base.value + 0x10_0000;
            let walked = ks.translator().walk(&**ks.mem(), &layout, va).map(|w| w.pa);
            assert_eq!(walked, Ok(0x10_0000), "{}", path.display());
        }
    }

    /// When the lab kept the release's vmlinux (<lab>/kernels/<release>/vmlinux), every kallsyms
    /// symbol whose name is unique in its symbol table must sit at the link address plus the
    /// KASLR offset (per-cpu symbols: at the link address itself).
    fn compare_with_vmlinux(dump: &std::path::Path, table: &SymbolTable, kaslr: u64) {
        use object::{Object, ObjectSymbol};
        let Some(release_dir) = dump.parent().and_then(|p| p.parent()) else {
            return;
        };
        let Some(release) = release_dir.file_name() else {
            return;
        };
        let vmlinux = release_dir
            .parent()
            .unwrap()
            .join("kernels")
            .join(release)
            .join("vmlinux");
        let Ok(file) = std::fs::File::open(&vmlinux) else {
            eprintln!(
                "no {}: kallsyms not compared with the ELF symbol table",
                vmlinux.display()
            );
            return;
        };
        let map = unsafe { memmap2::Mmap::map(&file) }.unwrap();
        let elf = object::File::parse(&*map).unwrap();
        let mut link: std::collections::HashMap<&str, Option<u64>> =
            std::collections::HashMap::new();
        for sym in elf.symbols() {
            let Ok(name) = sym.name() else { continue };
            link.entry(name)
                .and_modify(|a| *a = None)
                .or_insert(Some(sym.address()));
        }
        let (mut same, mut compared) = (0, 0);
        for s in table.iter() {
            let Some(Some(addr)) = link.get(s.name) else {
                continue;
            };
            compared += 1;
            let want = if *addr >= 0xffff_0000_0000_0000 {
                addr + kaslr
            } else {
                *addr
            };
            if s.addr == want {
                same += 1;
            } else if compared - same <= 5 {
                eprintln!(
                    "  {}: kallsyms {:#x}, vmlinux {addr:#x} + kaslr",
                    s.name, s.addr
                );
            }
        }
        eprintln!(
            "  vs {}: {same}/{compared} unique names agree",
            vmlinux.display()
        );
        assert!(compared > 1000 && same == compared, "{}", dump.display());
    }
}
