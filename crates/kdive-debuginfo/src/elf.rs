//! The vmlinux ELF file: its symbol table (→ [`SymbolTable`], KASLR-slid), build-ID note,
//! `.BTF` section and a reader for initialized data at link-time addresses (`linux_banner`).
//!
//! The file is memory-mapped and only the pieces asked for are touched: a Debian debug vmlinux is
//! ~600 MB, almost all of it DWARF that this module never reads.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use object::elf;
use object::read::elf::{FileHeader, SectionHeader, Sym};
use object::Endianness;

use crate::cachefile::{CacheFormat, CacheKey, CacheOutcome};
use crate::symbols::{Backing, SymbolKind, SymbolTable, SymbolTableBuilder};
use std::sync::Arc;

/// The symbol-table cache file kind (tables: records, name order, strings, run split; see `symbols`).
pub const SYMBOL_CACHE: CacheFormat = CacheFormat {
    magic: b"KDIVESYM",
    ext: "sym",
    // 2: linker-script delimiters sort first among symbols at one address
    version: 2,
    tables: 4,
};

type Header = elf::FileHeader64<Endianness>;

#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not an ELF file")]
    NotElf { path: PathBuf },
    #[error("{path}: unsupported ELF file: {what}")]
    Unsupported { path: PathBuf, what: String },
    #[error("{path}: malformed ELF file: {what}")]
    Malformed { path: PathBuf, what: String },
    #[error("{path}: not a Linux kernel image (no linux_banner/init_task symbol)")]
    NotVmlinux { path: PathBuf },
}

pub type Result<T> = std::result::Result<T, ElfError>;

/// One section header, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfSection {
    pub name: String,
    pub sh_type: u32,
    pub flags: u64,
    /// Link-time virtual address (0 for non-allocated sections and x86_64 `.data..percpu`).
    pub addr: u64,
    pub offset: u64,
    pub size: u64,
}

impl ElfSection {
    fn has_file_data(&self) -> bool {
        self.sh_type != elf::SHT_NOBITS && self.sh_type != elf::SHT_NULL
    }

    /// The `nm`-style kind of symbols defined in this section.
    fn symbol_kind(&self) -> SymbolKind {
        let flags = self.flags;
        if flags & u64::from(elf::SHF_EXECINSTR) != 0 {
            SymbolKind::Text
        } else if self.sh_type == elf::SHT_NOBITS {
            SymbolKind::Bss
        } else if flags & u64::from(elf::SHF_WRITE) != 0 {
            SymbolKind::Data
        } else if flags & u64::from(elf::SHF_ALLOC) != 0 {
            SymbolKind::ReadOnly
        } else {
            SymbolKind::Other
        }
    }

    /// Whether KASLR moves addresses in this section: allocated sections at kernel addresses.
    /// Per-CPU symbols are offsets (section address 0) and stay put.
    fn relocated(&self) -> bool {
        self.flags & u64::from(elf::SHF_ALLOC) != 0 && self.addr != 0
    }
}

/// A symbol straight from the ELF symbol table, at its link-time address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfSymbol {
    pub name: String,
    pub value: u64,
    pub size: u64,
    /// Index into [`VmlinuxElf::sections`]; None for absolute symbols.
    pub section: Option<usize>,
}

/// A memory-mapped vmlinux (or any ELF64 file opened with [`VmlinuxElf::open_elf`]).
pub struct VmlinuxElf {
    path: PathBuf,
    map: Mmap,
    endian: Endianness,
    e_type: u16,
    machine: u16,
    sections: Vec<ElfSection>,
}

impl std::fmt::Debug for VmlinuxElf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VmlinuxElf")
            .field("path", &self.path)
            .field("len", &self.map.len())
            .field("sections", &self.sections.len())
            .finish()
    }
}

impl VmlinuxElf {
    /// Opens a vmlinux: an x86_64 ET_EXEC ELF with a `linux_banner` or `init_task` symbol.
    pub fn open(path: impl AsRef<Path>) -> Result<VmlinuxElf> {
        let f = VmlinuxElf::open_elf(path)?;
        f.check_vmlinux()?;
        Ok(f)
    }

    /// Opens any 64-bit ELF file without checking that it is a kernel image.
    pub fn open_elf(path: impl AsRef<Path>) -> Result<VmlinuxElf> {
        let path = path.as_ref().to_path_buf();
        let io = |source| ElfError::Io {
            path: path.clone(),
            source,
        };
        let file = File::open(&path).map_err(io)?;
        // SAFETY: the mapping is read-only; a file truncated underneath us is the usual mmap
        // caveat that every debugger reading vmlinux lives with.
        let map = unsafe { Mmap::map(&file) }.map_err(io)?;
        if map.len() < 4 || map[..4] != elf::ELFMAG {
            return Err(ElfError::NotElf { path });
        }
        if map.len() < 5 || map[4 /* EI_CLASS */] != elf::ELFCLASS64 {
            return Err(ElfError::Unsupported {
                path,
                what: "not a 64-bit ELF file".into(),
            });
        }
        let malformed = |e: object::Error| ElfError::Malformed {
            path: path.clone(),
            what: e.to_string(),
        };
        let data: &[u8] = &map;
        let header = Header::parse(data).map_err(malformed)?;
        let endian = header.endian().map_err(malformed)?;
        let table = header.sections(endian, data).map_err(malformed)?;
        let mut sections = Vec::with_capacity(table.len());
        for sh in table.iter() {
            let name = table.section_name(endian, sh).map_err(malformed)?;
            sections.push(ElfSection {
                name: String::from_utf8_lossy(name).into_owned(),
                sh_type: sh.sh_type(endian),
                flags: sh.sh_flags(endian),
                addr: sh.sh_addr(endian),
                offset: sh.sh_offset(endian),
                size: sh.sh_size(endian),
            });
        }
        Ok(VmlinuxElf {
            e_type: header.e_type(endian),
            machine: header.e_machine(endian),
            path,
            map,
            endian,
            sections,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The decoded section headers, in file order.
    pub fn sections(&self) -> &[ElfSection] {
        &self.sections
    }

    pub fn section(&self, name: &str) -> Option<&ElfSection> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The file bytes of a section; None when absent, without file data, or out of bounds.
    pub fn section_data(&self, name: &str) -> Option<&[u8]> {
        self.section(name).and_then(|s| self.data_of(s))
    }

    fn data_of(&self, s: &ElfSection) -> Option<&[u8]> {
        if !s.has_file_data() {
            return None;
        }
        let start = usize::try_from(s.offset).ok()?;
        let end = start.checked_add(usize::try_from(s.size).ok()?)?;
        self.map.get(start..end)
    }

    /// The `.BTF` section.
    pub fn btf_bytes(&self) -> Option<&[u8]> {
        self.section_data(".BTF")
    }

    /// The GNU build ID (NT_GNU_BUILD_ID note), 20 bytes for a kernel built with sha1 IDs.
    pub fn build_id(&self) -> Option<Vec<u8>> {
        for s in self.sections.iter().filter(|s| s.sh_type == elf::SHT_NOTE) {
            let Some(data) = self.data_of(s) else {
                continue;
            };
            let Ok(mut notes) =
                object::read::elf::NoteIterator::<elf::FileHeader64<Endianness>>::new(
                    self.endian,
                    4,
                    data,
                )
            else {
                continue;
            };
            while let Ok(Some(note)) = notes.next() {
                if note.name() == elf::ELF_NOTE_GNU
                    && note.n_type(self.endian) == elf::NT_GNU_BUILD_ID
                {
                    return Some(note.desc().to_vec());
                }
            }
        }
        None
    }

    /// The raw symbol table.
    fn symtab(&self) -> Result<object::read::elf::SymbolTable<'_, elf::FileHeader64<Endianness>>> {
        let malformed = |e: object::Error| ElfError::Malformed {
            path: self.path.clone(),
            what: e.to_string(),
        };
        let data: &[u8] = &self.map;
        let header = Header::parse(data).map_err(malformed)?;
        let table = header.sections(self.endian, data).map_err(malformed)?;
        table
            .symbols(self.endian, data, elf::SHT_SYMTAB)
            .map_err(malformed)
    }

    /// Finds a symbol by name at its link-time address (a linear scan of the symbol table).
    pub fn find_symbol(&self, name: &str) -> Option<ElfSymbol> {
        let symtab = self.symtab().ok()?;
        let strings = symtab.strings();
        symtab.iter().find_map(|sym| {
            let n = sym.name(self.endian, strings).ok()?;
            if n != name.as_bytes() || !is_wanted(sym, self.endian) {
                return None;
            }
            let shndx = sym.st_shndx(self.endian);
            Some(ElfSymbol {
                name: name.to_string(),
                value: sym.st_value(self.endian),
                size: sym.st_size(self.endian),
                section: (shndx != elf::SHN_ABS && shndx != elf::SHN_UNDEF)
                    .then_some(usize::from(shndx)),
            })
        })
    }

    /// The symbol table with addresses moved by `kaslr_offset` (0 for an unrandomized kernel).
    /// Function, object and untyped named symbols are included; section and file symbols are not.
    pub fn symbols(&self, kaslr_offset: u64) -> Result<SymbolTable> {
        Ok(self.symbol_builder()?.build(kaslr_offset))
    }

    /// The symbol table kept in `cache_dir` (`index/<build-id>.sym`): mapped when a valid file
    /// is there, else read from the ELF file and written there for next time.
    pub fn symbols_cached(
        &self,
        kaslr_offset: u64,
        cache_dir: Option<&Path>,
    ) -> Result<(SymbolTable, CacheOutcome)> {
        let symtab_size = self.section(".symtab").map_or(0, |s| s.size);
        let key = CacheKey::for_file(
            &self.path,
            &self.build_id().unwrap_or_default(),
            symtab_size,
        )
        .map_err(|source| ElfError::Io {
            path: self.path.clone(),
            source,
        })?;
        let (buf, outcome) =
            crate::cachefile::load_or_build(cache_dir, &SYMBOL_CACHE, &key, || {
                Ok(self.symbol_builder()?.into_tables(0).into())
            })?;
        match SymbolTable::from_parts(Arc::new(Backing::Cached(buf)), kaslr_offset) {
            Ok(t) => Ok((t, outcome)),
            // A file that passed its checksum but is not a usable table, or an offset that
            // wraps an address past 2^64: build in memory for this offset.
            Err(_) => Ok((self.symbols(kaslr_offset)?, outcome)),
        }
    }

    /// Every wanted symbol of the symbol table, at link-time addresses (relocatable ones marked).
    fn symbol_builder(&self) -> Result<SymbolTableBuilder> {
        let symtab = self.symtab()?;
        let strings = symtab.strings();
        // A capacity hint only: the bytes really in the file, not what the header claims (a
        // hostile sh_size asked for 150 GB here).
        let string_bytes = self.section_data(".strtab").map_or(0, <[u8]>::len);
        let mut out = SymbolTableBuilder::with_capacity(symtab.len(), string_bytes);
        for sym in symtab.iter() {
            if !is_wanted(sym, self.endian) {
                continue;
            }
            let Ok(name) = sym.name(self.endian, strings) else {
                continue;
            };
            if name.is_empty() {
                continue;
            }
            let shndx = sym.st_shndx(self.endian);
            let (kind, relocated) = if shndx == elf::SHN_ABS {
                (SymbolKind::Absolute, false)
            } else {
                // Extended section indexes (SHN_XINDEX) do not occur in vmlinux.
                match self.sections.get(usize::from(shndx)) {
                    Some(sec) => (sec.symbol_kind(), sec.relocated()),
                    None => (SymbolKind::Other, false),
                }
            };
            out.push(
                name,
                sym.st_value(self.endian),
                sym.st_size(self.endian),
                kind,
                sym.st_bind() != elf::STB_LOCAL,
                relocated,
                None,
            );
        }
        Ok(out)
    }

    /// `len` bytes of initialized data at link-time virtual address `addr`.
    pub fn read_vaddr(&self, addr: u64, len: u64) -> Option<&[u8]> {
        let s = self.sections.iter().find(|s| {
            s.flags & u64::from(elf::SHF_ALLOC) != 0
                && s.has_file_data()
                && s.addr != 0
                && addr >= s.addr
                && addr - s.addr < s.size
        })?;
        let off = addr - s.addr;
        if len > s.size - off {
            return None;
        }
        let data = self.data_of(s)?;
        data.get(usize::try_from(off).ok()?..usize::try_from(off + len).ok()?)
    }

    /// The `linux_banner` string ("Linux version 6.1.0-... (...)"), for matching against a dump.
    pub fn linux_banner(&self) -> Option<String> {
        let sym = self.find_symbol("linux_banner")?;
        // A hostile symbol may name a section that does not exist or lie outside its own.
        let sec = self.sections.get(sym.section?)?;
        let max = if sym.size != 0 {
            sym.size
        } else {
            sec.addr.checked_add(sec.size)?.checked_sub(sym.value)?
        };
        let bytes = self.read_vaddr(sym.value, max.min(4096))?;
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        Some(String::from_utf8_lossy(&bytes[..end]).into_owned())
    }

    /// Checks that this is an x86_64 vmlinux.
    pub fn check_vmlinux(&self) -> Result<()> {
        let path = || self.path.clone();
        if self.find_symbol("linux_banner").is_none() && self.find_symbol("init_task").is_none() {
            return Err(ElfError::NotVmlinux { path: path() });
        }
        if self.machine != elf::EM_X86_64 {
            return Err(ElfError::Unsupported {
                path: path(),
                what: format!(
                    "machine {} (only x86_64 kernels are supported)",
                    self.machine
                ),
            });
        }
        if self.e_type != elf::ET_EXEC {
            return Err(ElfError::Unsupported {
                path: path(),
                what: format!("ELF type {} (a vmlinux is ET_EXEC)", self.e_type),
            });
        }
        Ok(())
    }

    pub fn is_vmlinux(&self) -> bool {
        self.check_vmlinux().is_ok()
    }
}

/// Defined function, object or untyped symbols.
fn is_wanted(sym: &elf::Sym64<Endianness>, endian: Endianness) -> bool {
    matches!(
        sym.st_type(),
        elf::STT_FUNC | elf::STT_OBJECT | elf::STT_NOTYPE
    ) && sym.st_shndx(endian) != elf::SHN_UNDEF
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    struct Shdr {
        name: u32,
        sh_type: u32,
        flags: u64,
        addr: u64,
        offset: u64,
        size: u64,
        link: u32,
        entsize: u64,
    }

    /// A minimal x86_64 ET_EXEC ELF: sections null, .text, .data..percpu, .notes, .BTF,
    /// .symtab, .strtab, .shstrtab; symbols linux_banner (in .text for simplicity), a
    /// per-CPU variable, an absolute symbol and a section symbol.
    fn tiny_vmlinux(with_banner: bool) -> Vec<u8> {
        let banner = b"Linux version 6.1.0-test (kdive) #1 SMP\n\0";
        let mut text = banner.to_vec();
        text.resize(64, 0xcc);
        let mut notes = Vec::new();
        for w in [4u32, 20, elf::NT_GNU_BUILD_ID] {
            notes.extend_from_slice(&w.to_le_bytes());
        }
        notes.extend_from_slice(b"GNU\0");
        notes.extend((1..=20u8).collect::<Vec<_>>());
        let btf = b"\x9f\xeb\x01\x00fake".to_vec();
        let strtab = b"\0linux_banner\0runqueues\0abs_sym\0".to_vec();
        let shstrtab =
            b"\0.text\0.data..percpu\0.notes\0.BTF\0.symtab\0.strtab\0.shstrtab\0".to_vec();
        let name_off = |s: &str| {
            shstrtab
                .windows(s.len() + 1)
                .position(|w| &w[..s.len()] == s.as_bytes() && w[s.len()] == 0)
                .unwrap() as u32
        };

        let mut symtab = vec![0u8; 24];
        let mut sym = |name: u32, info: u8, shndx: u16, value: u64, size: u64| {
            symtab.extend_from_slice(&name.to_le_bytes());
            symtab.push(info);
            symtab.push(0);
            symtab.extend_from_slice(&shndx.to_le_bytes());
            symtab.extend_from_slice(&value.to_le_bytes());
            symtab.extend_from_slice(&size.to_le_bytes());
        };
        sym(0, elf::STT_SECTION, 1, 0xffff_ffff_8100_0000, 0);
        if with_banner {
            sym(
                1,
                (elf::STB_GLOBAL << 4) | elf::STT_OBJECT,
                1,
                0xffff_ffff_8100_0000,
                banner.len() as u64,
            );
        }
        sym(14, (elf::STB_GLOBAL << 4) | elf::STT_OBJECT, 2, 0x40, 8);
        sym(24, elf::STT_NOTYPE, elf::SHN_ABS, 0x1234, 0);

        let mut out = vec![0u8; 64];
        let place = |out: &mut Vec<u8>, d: &[u8]| {
            while out.len() % 8 != 0 {
                out.push(0);
            }
            let off = out.len() as u64;
            out.extend_from_slice(d);
            off
        };
        let o_text = place(&mut out, &text);
        let o_pcpu = place(&mut out, &[0u8; 128]);
        let o_notes = place(&mut out, &notes);
        let o_btf = place(&mut out, &btf);
        let o_sym = place(&mut out, &symtab);
        let o_str = place(&mut out, &strtab);
        let o_shstr = place(&mut out, &shstrtab);
        let shoff = place(&mut out, &[]);
        let alloc = u64::from(elf::SHF_ALLOC);
        let sh =
            |name: &str, sh_type: u32, flags: u64, addr: u64, (offset, size): (u64, usize)| Shdr {
                name: if name.is_empty() { 0 } else { name_off(name) },
                sh_type,
                flags,
                addr,
                offset,
                size: size as u64,
                link: 0,
                entsize: 0,
            };
        let exec = u64::from(elf::SHF_EXECINSTR);
        let write = u64::from(elf::SHF_WRITE);
        let secs = [
            sh("", 0, 0, 0, (0, 0)),
            sh(
                ".text",
                elf::SHT_PROGBITS,
                alloc | exec,
                0xffff_ffff_8100_0000,
                (o_text, text.len()),
            ),
            sh(
                ".data..percpu",
                elf::SHT_PROGBITS,
                alloc | write,
                0,
                (o_pcpu, 128),
            ),
            sh(
                ".notes",
                elf::SHT_NOTE,
                alloc,
                0xffff_ffff_8100_1000,
                (o_notes, notes.len()),
            ),
            sh(
                ".BTF",
                elf::SHT_PROGBITS,
                alloc,
                0xffff_ffff_8100_2000,
                (o_btf, btf.len()),
            ),
            Shdr {
                link: 6,
                entsize: 24,
                ..sh(".symtab", elf::SHT_SYMTAB, 0, 0, (o_sym, symtab.len()))
            },
            sh(".strtab", elf::SHT_STRTAB, 0, 0, (o_str, strtab.len())),
            sh(
                ".shstrtab",
                elf::SHT_STRTAB,
                0,
                0,
                (o_shstr, shstrtab.len()),
            ),
        ];
        for s in &secs {
            out.extend_from_slice(&s.name.to_le_bytes());
            out.extend_from_slice(&s.sh_type.to_le_bytes());
            out.extend_from_slice(&s.flags.to_le_bytes());
            out.extend_from_slice(&s.addr.to_le_bytes());
            out.extend_from_slice(&s.offset.to_le_bytes());
            out.extend_from_slice(&s.size.to_le_bytes());
            out.extend_from_slice(&s.link.to_le_bytes());
            out.extend_from_slice(&0u32.to_le_bytes()); // info
            out.extend_from_slice(&8u64.to_le_bytes()); // addralign
            out.extend_from_slice(&s.entsize.to_le_bytes());
        }
        let mut h = Vec::new();
        h.extend_from_slice(&elf::ELFMAG);
        h.extend_from_slice(&[elf::ELFCLASS64, elf::ELFDATA2LSB, 1, 0]);
        h.extend_from_slice(&[0; 8]);
        h.extend_from_slice(&elf::ET_EXEC.to_le_bytes());
        h.extend_from_slice(&elf::EM_X86_64.to_le_bytes());
        h.extend_from_slice(&1u32.to_le_bytes());
        h.extend_from_slice(&0xffff_ffff_8100_0000u64.to_le_bytes()); // entry
        h.extend_from_slice(&0u64.to_le_bytes()); // phoff
        h.extend_from_slice(&shoff.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes()); // flags
        for v in [64u16, 56, 0, 64, secs.len() as u16, 7] {
            h.extend_from_slice(&v.to_le_bytes());
        }
        out[..64].copy_from_slice(&h);
        out
    }

    fn write_temp(bytes: &[u8], tag: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("kdive-elf-test-{}-{tag}", std::process::id()));
        std::fs::File::create(&p).unwrap().write_all(bytes).unwrap();
        p
    }

    /// Fuzz find (elf_open): a `linux_banner` symbol whose section index is past the section
    /// table panicked in `linux_banner` (an index, not a lookup); a size-0 symbol below its
    /// section's start would underflow the length computed from the section's end.
    #[test]
    fn hostile_banner_symbol_gives_no_banner() {
        let good = tiny_vmlinux(true);
        // The banner's symbol entry: st_name 1, info, other 0, st_shndx 1, value, size.
        let info = (elf::STB_GLOBAL << 4) | elf::STT_OBJECT;
        let at = good
            .windows(8)
            .position(|w| w == [1, 0, 0, 0, info, 0, 1, 0])
            .expect("banner symbol");
        for (tag, shndx, value) in [
            ("shndx", 0x7ff0u16, 0xffff_ffff_8100_0000u64),
            ("below", 1, 0xffff_ffff_8000_0000),
        ] {
            let mut bad = good.clone();
            bad[at + 6..at + 8].copy_from_slice(&shndx.to_le_bytes());
            bad[at + 8..at + 16].copy_from_slice(&value.to_le_bytes());
            bad[at + 16..at + 24].copy_from_slice(&0u64.to_le_bytes());
            let p = write_temp(&bad, tag);
            let f = VmlinuxElf::open_elf(&p).unwrap();
            assert_eq!(f.linux_banner(), None, "{tag}");
            std::fs::remove_file(p).ok();
        }
    }

    /// Fuzz find (elf_open, out of memory): `.strtab`'s header claiming 150 GB sized the
    /// symbol builder's string buffer; the hint now comes from the bytes in the file.
    #[test]
    fn hostile_strtab_size_allocates_nothing_big() {
        let mut bad = tiny_vmlinux(true);
        let shoff = u64::from_le_bytes(bad[0x28..0x30].try_into().unwrap()) as usize;
        let strtab_size = shoff + 6 * 64 + 32; // section 6 is .strtab; sh_size at +32
        bad[strtab_size..strtab_size + 8].copy_from_slice(&0x23_0000_000au64.to_le_bytes());
        let p = write_temp(&bad, "strtab");
        if let Ok(f) = VmlinuxElf::open_elf(&p) {
            let _ = f.symbols(0);
        }
        std::fs::remove_file(p).ok();
    }

    #[test]
    fn reads_tiny_vmlinux() {
        let p = write_temp(&tiny_vmlinux(true), "ok");
        let f = VmlinuxElf::open(&p).unwrap();
        assert!(f.is_vmlinux());
        assert_eq!(f.build_id().unwrap(), (1..=20u8).collect::<Vec<_>>());
        assert_eq!(&f.btf_bytes().unwrap()[..2], &[0x9f, 0xeb]);
        assert_eq!(
            f.linux_banner().unwrap(),
            "Linux version 6.1.0-test (kdive) #1 SMP\n"
        );
        let syms = f.symbols(0x20_0000).unwrap();
        let b = syms.lookup("linux_banner").unwrap();
        assert_eq!(
            (b.addr, b.kind, b.global),
            (0xffff_ffff_8120_0000, SymbolKind::Text, true)
        );
        let rq = syms.lookup("runqueues").unwrap();
        assert_eq!((rq.addr, rq.kind), (0x40, SymbolKind::Data));
        let abs = syms.lookup("abs_sym").unwrap();
        assert_eq!(
            (abs.addr, abs.kind, abs.global),
            (0x1234, SymbolKind::Absolute, false)
        );
        assert_eq!(syms.len(), 3, "section symbol skipped");
        std::fs::remove_file(p).ok();
    }

    #[test]
    fn rejects_non_kernels() {
        let p = write_temp(&tiny_vmlinux(false), "nobanner");
        let e = VmlinuxElf::open(&p).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("not a Linux kernel image (no linux_banner/init_task symbol)"),
            "{e}"
        );
        std::fs::remove_file(p).ok();
        let p = write_temp(b"#!/bin/sh\necho hi\n", "text");
        assert!(matches!(VmlinuxElf::open(&p), Err(ElfError::NotElf { .. })));
        std::fs::remove_file(p).ok();
        let mut bad = tiny_vmlinux(true);
        bad[0x28..0x30].copy_from_slice(&u64::MAX.to_le_bytes()); // e_shoff
        let p = write_temp(&bad, "badshoff");
        assert!(matches!(
            VmlinuxElf::open(&p),
            Err(ElfError::Malformed { .. })
        ));
        std::fs::remove_file(p).ok();
        assert!(matches!(
            VmlinuxElf::open("/nonexistent/vmlinux"),
            Err(ElfError::Io { .. })
        ));
        if Path::new("/bin/ls").exists() {
            let e = VmlinuxElf::open("/bin/ls").unwrap_err();
            assert_eq!(
                e.to_string(),
                "/bin/ls: not a Linux kernel image (no linux_banner/init_task symbol)"
            );
        }
    }
}
