//! A kernel module object file (`.ko`, ELF64 ET_REL): its sections, symbol table, build-ID and
//! `.modinfo`, and the RELA relocations that place it. A module's DWARF is only meaningful
//! after its `.rela.debug_*` sections are applied against where the running kernel put each
//! section; [`KoFile::relocated_section`] does that in memory, the file is never written.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use object::elf;
use object::read::elf::{FileHeader, SectionHeader, Sym};
use object::Endianness;

use crate::kocompress::{unpack, KoCompression};

type Header = elf::FileHeader64<Endianness>;

/// Errors reading a `.ko`: the file and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KoError {
    #[error("{path}: {what}")]
    Io { path: PathBuf, what: String },
    #[error("{path}: not a relocatable x86_64 ELF64 object (a kernel module .ko)")]
    NotModule { path: PathBuf },
    #[error("{path}: malformed ELF: {what}")]
    Malformed { path: PathBuf, what: String },
    #[error("{path}: relocation {index} in {section}: {what}")]
    Relocation {
        path: PathBuf,
        section: String,
        index: usize,
        what: String,
    },
}

pub type Result<T> = std::result::Result<T, KoError>;

/// One section header of the `.ko`, by index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KoSection {
    pub name: String,
    pub sh_type: u32,
    pub flags: u64,
    pub offset: u64,
    pub size: u64,
    pub link: u32,
    pub info: u32,
}

impl KoSection {
    /// Loaded into kernel memory (SHF_ALLOC).
    pub fn is_alloc(&self) -> bool {
        self.flags & u64::from(elf::SHF_ALLOC) != 0
    }
}

/// One symbol of the `.ko`'s `.symtab`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KoSymbol {
    pub name: String,
    /// Offset in its section.
    pub value: u64,
    pub size: u64,
    /// Section index (0: undefined; SHN_ABS etc. kept as is).
    pub shndx: u16,
    /// `STT_*`.
    pub kind: u8,
    pub global: bool,
}

/// A parsed `.ko` held in memory (modules are small: the file is read once).
pub struct KoFile {
    path: PathBuf,
    data: Vec<u8>,
    sections: Vec<KoSection>,
    symbols: Vec<KoSymbol>,
}

impl std::fmt::Debug for KoFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KoFile")
            .field("path", &self.path)
            .field("sections", &self.sections.len())
            .finish()
    }
}

/// Upper bound on a `.ko` read into memory.
const MAX_KO_BYTES: u64 = 1 << 30;

impl KoFile {
    pub fn open(path: impl AsRef<Path>) -> Result<KoFile> {
        let path = path.as_ref().to_path_buf();
        let io = |e: std::io::Error| KoError::Io {
            path: path.clone(),
            what: e.to_string(),
        };
        let len = std::fs::metadata(&path).map_err(io)?.len();
        if len > MAX_KO_BYTES {
            return Err(KoError::Io {
                path,
                what: format!("{len} bytes: too large for a module"),
            });
        }
        let data = std::fs::read(&path).map_err(io)?;
        // Distributions install modules xz-, zstd- or gzip-compressed (.ko.xz, ...).
        let data = match KoCompression::detect(&data) {
            Some(kind) => {
                unpack(kind, &data, MAX_KO_BYTES as usize).map_err(|what| KoError::Io {
                    path: path.clone(),
                    what,
                })?
            }
            None => data,
        };
        KoFile::parse(path, data)
    }

    /// Parses `data` (the bytes of `path`).
    pub fn parse(path: PathBuf, data: Vec<u8>) -> Result<KoFile> {
        if data.len() < 20 || data[..4] != elf::ELFMAG || data[4] != elf::ELFCLASS64 {
            return Err(KoError::NotModule { path });
        }
        let malformed = |e: object::Error| KoError::Malformed {
            path: path.clone(),
            what: e.to_string(),
        };
        let header = Header::parse(&data[..]).map_err(malformed)?;
        let endian = header.endian().map_err(malformed)?;
        if header.e_type(endian) != elf::ET_REL || header.e_machine(endian) != elf::EM_X86_64 {
            return Err(KoError::NotModule { path });
        }
        let table = header.sections(endian, &data[..]).map_err(malformed)?;
        let mut sections = Vec::with_capacity(table.len());
        for sh in table.iter() {
            let name = table.section_name(endian, sh).map_err(malformed)?;
            sections.push(KoSection {
                name: String::from_utf8_lossy(name).into_owned(),
                sh_type: sh.sh_type(endian),
                flags: sh.sh_flags(endian),
                offset: sh.sh_offset(endian),
                size: sh.sh_size(endian),
                link: sh.sh_link(endian),
                info: sh.sh_info(endian),
            });
        }
        let mut symbols = Vec::new();
        if let Ok(symtab) = table.symbols(endian, &data[..], elf::SHT_SYMTAB) {
            let strings = symtab.strings();
            for sym in symtab.iter() {
                let name = sym
                    .name(endian, strings)
                    .map(|n| String::from_utf8_lossy(n).into_owned())
                    .unwrap_or_default();
                symbols.push(KoSymbol {
                    name,
                    value: sym.st_value(endian),
                    size: sym.st_size(endian),
                    shndx: sym.st_shndx(endian),
                    kind: sym.st_type(),
                    global: sym.st_bind() != elf::STB_LOCAL,
                });
            }
        }
        Ok(KoFile {
            path,
            data,
            sections,
            symbols,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn sections(&self) -> &[KoSection] {
        &self.sections
    }

    pub fn symbols(&self) -> &[KoSymbol] {
        &self.symbols
    }

    pub fn section_index(&self, name: &str) -> Option<usize> {
        self.sections.iter().position(|s| s.name == name)
    }

    /// The file bytes of section `idx` (None for NOBITS or out of bounds).
    pub fn section_bytes(&self, idx: usize) -> Option<&[u8]> {
        let s = self.sections.get(idx)?;
        if s.sh_type == elf::SHT_NOBITS || s.sh_type == elf::SHT_NULL {
            return None;
        }
        let start = usize::try_from(s.offset).ok()?;
        let end = start.checked_add(usize::try_from(s.size).ok()?)?;
        self.data.get(start..end)
    }

    pub fn section_data(&self, name: &str) -> Option<&[u8]> {
        self.section_bytes(self.section_index(name)?)
    }

    /// Whether the file carries DWARF (`.debug_info`).
    pub fn has_dwarf(&self) -> bool {
        self.section_data(".debug_info")
            .is_some_and(|d| !d.is_empty())
    }

    /// The GNU build-ID note (`.note.gnu.build-id`).
    pub fn build_id(&self) -> Option<Vec<u8>> {
        parse_build_id_note(self.section_data(".note.gnu.build-id")?)
    }

    /// `.modinfo` as key → value (`name`, `vermagic`, `srcversion`, ...; the first of repeats).
    pub fn modinfo(&self) -> HashMap<String, String> {
        let mut out = HashMap::new();
        for kv in self
            .section_data(".modinfo")
            .unwrap_or(&[])
            .split(|&b| b == 0)
        {
            let s = String::from_utf8_lossy(kv);
            if let Some((k, v)) = s.split_once('=') {
                out.entry(k.to_string()).or_insert_with(|| v.to_string());
            }
        }
        out
    }

    /// The module's name: `.modinfo` `name=`, else the file name without `.ko` (dashes → `_`).
    pub fn module_name(&self) -> String {
        if let Some(n) = self.modinfo().remove("name") {
            return n;
        }
        module_name_of_path(&self.path)
    }

    /// The kernel release from `vermagic=` ("6.1.0-56-cloud-amd64").
    pub fn vermagic_release(&self) -> Option<String> {
        let vm = self.modinfo().remove("vermagic")?;
        vm.split_whitespace().next().map(str::to_string)
    }

    /// Section `name`'s bytes with its `.rela<name>` applied: section symbols and symbols
    /// defined in the module resolve through `section_addr` (its load address; non-allocated
    /// sections such as `.debug_str` are at 0), undefined ones through `undefined`.
    /// Unresolvable relocations are left as in the file and counted in the second value.
    pub fn relocated_section(
        &self,
        name: &str,
        section_addr: &dyn Fn(&str) -> Option<u64>,
        undefined: &dyn Fn(&str) -> Option<u64>,
    ) -> Result<Option<(Vec<u8>, usize)>> {
        let Some(idx) = self.section_index(name) else {
            return Ok(None);
        };
        let Some(bytes) = self.section_bytes(idx) else {
            return Ok(None);
        };
        let mut out = bytes.to_vec();
        let mut unresolved = 0;
        let base_addr = section_addr(name).unwrap_or(0);
        for (ri, rs) in self.sections.iter().enumerate() {
            if rs.sh_type != elf::SHT_RELA || rs.info as usize != idx {
                continue;
            }
            let Some(rel_bytes) = self.section_bytes(ri) else {
                continue;
            };
            let count = rel_bytes.len() / 24;
            for i in 0..count {
                let e = &rel_bytes[i * 24..i * 24 + 24];
                let r_offset = u64::from_le_bytes(e[0..8].try_into().unwrap());
                let r_info = u64::from_le_bytes(e[8..16].try_into().unwrap());
                let addend = i64::from_le_bytes(e[16..24].try_into().unwrap());
                let (sym_idx, r_type) = ((r_info >> 32) as usize, (r_info & 0xffff_ffff) as u32);
                let err = |what: String| KoError::Relocation {
                    path: self.path.clone(),
                    section: rs.name.clone(),
                    index: i,
                    what,
                };
                let Some(sym) = self.symbols.get(sym_idx) else {
                    return Err(err(format!("symbol index {sym_idx} out of range")));
                };
                let s = match self.symbol_value(sym, section_addr, undefined) {
                    Some(v) => v,
                    None => {
                        unresolved += 1;
                        continue;
                    }
                };
                let value = s.wrapping_add(addend as u64);
                let place = base_addr.wrapping_add(r_offset);
                let (width, v): (usize, u64) = match r_type {
                    elf::R_X86_64_NONE => continue,
                    elf::R_X86_64_64 => (8, value),
                    elf::R_X86_64_32 | elf::R_X86_64_32S => (4, value),
                    elf::R_X86_64_PC32 | elf::R_X86_64_PLT32 => (4, value.wrapping_sub(place)),
                    elf::R_X86_64_PC64 => (8, value.wrapping_sub(place)),
                    other => return Err(err(format!("unsupported relocation type {other}"))),
                };
                let off = r_offset as usize;
                let Some(slot) = out.get_mut(off..off.saturating_add(width)) else {
                    return Err(err(format!(
                        "offset {r_offset:#x} outside the section ({} bytes)",
                        bytes.len()
                    )));
                };
                slot.copy_from_slice(&v.to_le_bytes()[..width]);
            }
        }
        Ok(Some((out, unresolved)))
    }

    /// A symbol's address given where sections were loaded.
    fn symbol_value(
        &self,
        sym: &KoSymbol,
        section_addr: &dyn Fn(&str) -> Option<u64>,
        undefined: &dyn Fn(&str) -> Option<u64>,
    ) -> Option<u64> {
        match sym.shndx {
            elf::SHN_UNDEF => undefined(&sym.name),
            elf::SHN_ABS => Some(sym.value),
            i if i >= elf::SHN_LORESERVE => None,
            i => {
                let sec = self.sections.get(usize::from(i))?;
                let base = if sec.is_alloc() {
                    section_addr(&sec.name)?
                } else {
                    0
                };
                Some(base.wrapping_add(sym.value))
            }
        }
    }
}

/// Whether a file name is a module file: `.ko`, a separate `.ko.debug`, or a compressed
/// `.ko.xz`/`.ko.zst`/`.ko.gz`.
pub fn is_module_file_name(f: &str) -> bool {
    [".ko", ".ko.debug", ".ko.xz", ".ko.zst", ".ko.gz"]
        .iter()
        .any(|ext| f.ends_with(ext))
}

/// The module name a file name implies: `kdive-race.ko.xz` → `kdive_race`.
pub fn module_name_of_path(path: &Path) -> String {
    let f = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = f.split(".ko").next().unwrap_or(&f);
    stem.replace('-', "_")
}

/// The descriptor of the first NT_GNU_BUILD_ID note in `data` (a note section's bytes).
pub fn parse_build_id_note(data: &[u8]) -> Option<Vec<u8>> {
    let mut pos = 0usize;
    let align4 = |n: usize| n.div_ceil(4) * 4;
    while pos + 12 <= data.len() {
        let rd = |o: usize| u32::from_le_bytes(data[o..o + 4].try_into().unwrap()) as usize;
        let (namesz, descsz, ty) = (rd(pos), rd(pos + 4), rd(pos + 8));
        let name_at = pos + 12;
        let desc_at = name_at.checked_add(align4(namesz))?;
        let end = desc_at.checked_add(align4(descsz))?;
        if desc_at + descsz > data.len() {
            return None;
        }
        if ty == elf::NT_GNU_BUILD_ID as usize && data.get(name_at..name_at + namesz)? == b"GNU\0" {
            return Some(data[desc_at..desc_at + descsz].to_vec());
        }
        pos = end;
    }
    None
}

/// Lower-case hex of a build-ID.
pub fn hex(id: &[u8]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_id_note() {
        let mut n = Vec::new();
        n.extend_from_slice(&4u32.to_le_bytes());
        n.extend_from_slice(&3u32.to_le_bytes());
        n.extend_from_slice(&3u32.to_le_bytes());
        n.extend_from_slice(b"GNU\0");
        n.extend_from_slice(&[1, 2, 3, 0]);
        assert_eq!(parse_build_id_note(&n), Some(vec![1, 2, 3]));
        assert_eq!(parse_build_id_note(&n[..10]), None);
        assert_eq!(hex(&[0xab, 1]), "ab01");
    }

    #[test]
    fn names() {
        assert_eq!(
            module_name_of_path(Path::new("/x/kdive-race.ko.xz")),
            "kdive_race"
        );
        assert_eq!(module_name_of_path(Path::new("alx.ko")), "alx");
    }

    #[test]
    fn rejects_non_modules() {
        assert!(matches!(
            KoFile::parse("x".into(), vec![0; 64]),
            Err(KoError::NotModule { .. })
        ));
    }
}
