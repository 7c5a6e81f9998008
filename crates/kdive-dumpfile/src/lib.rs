//! Crash dump file formats: turns the bytes of an ELF vmcore, a kdump-compressed file, a
//! flattened stream or a split set into pages of physical memory, CPU notes and VMCOREINFO.
//!
//! This crate knows nothing about the kernel beyond the dump formats themselves. Files are
//! memory-mapped and decoded lazily: opening reads headers, notes and the kdump 2nd bitmap
//! (plus, for a flattened stream, its record headers); pages are decompressed on demand into a
//! small shared cache.
//!
//! Map: `source` (file bytes, mapped or [`flat`]tened) → `elf` / [`kdump`] (formats; `split`
//! sets of kdump files) → [`Dump`]. Pages decompress through [`compress`] into `cache`.

mod cache;
pub mod compress;
mod elf;
pub mod error;
mod extents;
pub mod flat;
pub mod kdump;
pub mod notes;
pub mod ranges;
mod source;
mod split;
pub mod vmcoreinfo;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;

pub use elf::LoadSegment;
pub use error::{Error, Result};
pub use notes::{CpuRegisters, Notes, PrStatus, QemuCpuState};
pub use ranges::{ExtentKind, PhysExtent};
pub use vmcoreinfo::Vmcoreinfo;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cache::PageCache;
use elf::ElfBody;
use flat::FlatIndex;
use kdump::{KdumpFile, KdumpSet};
use source::{MappedFile, Source};

/// Page compression used inside a kdump-compressed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Zlib,
    Lzo,
    Snappy,
    Zstd,
}

/// Which format a dump file is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DumpFormat {
    /// ELF core (a /proc/vmcore copy, `makedumpfile -E`, QEMU `dump-guest-memory`).
    Elf { qemu: bool },
    /// makedumpfile's kdump-compressed format ("KDUMP   " signature).
    Kdump {
        header_version: u32,
        compression: Compression,
    },
    /// A flattened stream wrapping another format.
    Flattened(Box<DumpFormat>),
    /// A `--split` set of kdump-compressed files.
    Split {
        parts: usize,
        inner: Box<DumpFormat>,
    },
}

impl std::fmt::Display for DumpFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DumpFormat::Elf { qemu: false } => write!(f, "ELF vmcore"),
            DumpFormat::Elf { qemu: true } => write!(f, "ELF vmcore (QEMU dump-guest-memory)"),
            DumpFormat::Kdump {
                header_version,
                compression,
            } => {
                write!(
                    f,
                    "kdump-compressed (header v{header_version}, {})",
                    compression.name()
                )
            }
            DumpFormat::Flattened(inner) => write!(f, "flattened {inner}"),
            DumpFormat::Split { parts, inner } => write!(f, "split set of {parts} files, {inner}"),
        }
    }
}

/// Facts from the dump's own header (kdump header, ELF flags).
#[derive(Debug, Clone, Default)]
pub struct HeaderInfo {
    /// makedumpfile dump level (-d), when the format records it.
    pub dump_level: Option<u32>,
    /// The writer marked the dump incomplete (kdump status 0x8, ELF e_flags 1).
    pub incomplete: bool,
    /// utsname fields from a kdump header (may be empty: QEMU leaves them empty).
    pub utsname: Option<Utsname>,
    /// Dump timestamp (seconds, microseconds) from a kdump header.
    pub timestamp: Option<(i64, i64)>,
    /// Number of CPUs the header records.
    pub nr_cpus: Option<u32>,
    /// CPU that was current when the dump was written (kdump header).
    pub current_cpu: Option<u32>,
    pub page_size: u64,
    /// Highest page frame number + 1 the dump describes.
    pub max_pfn: u64,
}

/// The kernel's `struct new_utsname`, as a kdump header or `init_uts_ns.name` holds it.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Utsname {
    pub sysname: String,
    pub nodename: String,
    pub release: String,
    pub version: String,
    pub machine: String,
    pub domainname: String,
}

impl Utsname {
    /// Bytes of one field (`__NEW_UTS_LEN + 1`).
    pub const FIELD_LEN: usize = 65;
    /// Bytes of the whole structure: six fields.
    pub const LEN: usize = 6 * Self::FIELD_LEN;

    /// Decodes the six NUL-terminated fields; bytes missing at the end read as empty fields.
    pub fn from_bytes(b: &[u8]) -> Utsname {
        let field = |i: usize| {
            let f = b.get(i * Self::FIELD_LEN..).unwrap_or_default();
            let f = &f[..f.len().min(Self::FIELD_LEN)];
            let end = f.iter().position(|&c| c == 0).unwrap_or(f.len());
            String::from_utf8_lossy(&f[..end]).into_owned()
        };
        Utsname {
            sysname: field(0),
            nodename: field(1),
            release: field(2),
            version: field(3),
            machine: field(4),
            domainname: field(5),
        }
    }
}

enum Body {
    Elf(ElfBody),
    Kdump(KdumpSet),
}

/// An opened dump: read-only, lazily decoded. `Send + Sync`: reads may come from any thread.
pub struct Dump {
    paths: Vec<PathBuf>,
    format: DumpFormat,
    header: HeaderInfo,
    notes: Notes,
    vmcoreinfo: Option<Vmcoreinfo>,
    body: Body,
    cache: PageCache,
    note_blob: Vec<u8>,
}

/// What a file's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Magic {
    Elf,
    Kdump,
    Flat,
}

fn magic(b: &[u8]) -> Option<Magic> {
    if b.starts_with(elf::ELF_MAGIC) {
        Some(Magic::Elf)
    } else if b.starts_with(kdump::header::KDUMP_SIGNATURE)
        || b.starts_with(kdump::header::DISKDUMP_SIGNATURE)
    {
        Some(Magic::Kdump)
    } else if FlatIndex::is_flat(b) {
        Some(Magic::Flat)
    } else {
        None
    }
}

/// Opens `path` and looks through a flattened wrapper: the source and the inner format's magic.
fn open_source(path: &Path) -> Result<(Source, Magic)> {
    let file = Arc::new(MappedFile::open(path)?);
    let unsupported = |detail: &str| Error::Unsupported {
        path: path.to_path_buf(),
        detail: detail.into(),
    };
    match magic(file.bytes()) {
        None => Err(unsupported(
            "no ELF, KDUMP, DISKDUMP or makedumpfile (flattened) signature",
        )),
        Some(Magic::Flat) => {
            let index = FlatIndex::build(path, file.bytes())?;
            let src = Source::Flat { file, index };
            let head = src.get(0, 16.min(src.len() as usize)).unwrap_or_default();
            match magic(&head) {
                Some(m @ (Magic::Elf | Magic::Kdump)) => Ok((src, m)),
                _ => Err(unsupported(
                    "flattened stream does not wrap an ELF or kdump-compressed dump",
                )),
            }
        }
        Some(m) => Ok((Source::Mapped(file), m)),
    }
}

impl Dump {
    /// Opens one dump file, or all files of a split set (given together, in any order).
    pub fn open(paths: &[PathBuf]) -> Result<Dump> {
        if paths.is_empty() {
            return Err(Error::Unsupported {
                path: PathBuf::new(),
                detail: "no dump file given".into(),
            });
        }
        let mut sources = Vec::with_capacity(paths.len());
        for p in paths {
            sources.push(open_source(p)?);
        }
        let mut dump = if sources.len() == 1 && sources[0].1 == Magic::Elf {
            let (src, _) = sources.pop().expect("one source");
            Self::from_elf(ElfBody::open(src)?)
        } else {
            let mut parts = Vec::with_capacity(sources.len());
            for (src, m) in sources {
                if m != Magic::Kdump {
                    return Err(src.unsupported("only kdump-compressed files can form a split set"));
                }
                parts.push(KdumpFile::open(src)?);
            }
            Self::from_kdump(KdumpSet::new(parts)?)?
        };
        dump.paths = paths.to_vec();
        Ok(dump)
    }

    fn assemble(
        format: DumpFormat,
        header: HeaderInfo,
        notes: Notes,
        body: Body,
        note_blob: Vec<u8>,
        parsed: Option<Vmcoreinfo>,
    ) -> Dump {
        // `parsed`: the notes' VMCOREINFO when the caller already parsed it.
        let vmcoreinfo = parsed.or_else(|| notes.vmcoreinfo.as_deref().map(Vmcoreinfo::parse));
        Dump {
            paths: Vec::new(),
            format,
            header,
            notes,
            vmcoreinfo,
            body,
            cache: PageCache::new(cache::DEFAULT_PAGES),
            note_blob,
        }
    }

    fn from_elf(body: ElfBody) -> Dump {
        let notes = body.notes.clone();
        let vmcoreinfo = notes.vmcoreinfo.as_deref().map(Vmcoreinfo::parse);
        let page_size = vmcoreinfo
            .as_ref()
            .and_then(|v| v.page_size())
            // A page size is a power of two from 1 KiB to 1 MiB; anything else is damage.
            .filter(|p| p.is_power_of_two() && (1024..=1 << 20).contains(p))
            .unwrap_or(4096);
        let cpus = notes.prstatus.len().max(notes.qemu_cpus.len());
        let header = HeaderInfo {
            dump_level: None,
            incomplete: body.e_flags & elf::ELF_INCOMPLETE != 0,
            utsname: None,
            timestamp: None,
            nr_cpus: (cpus > 0).then_some(cpus as u32),
            current_cpu: None,
            page_size,
            max_pfn: body.end_paddr.div_ceil(page_size),
        };
        let mut format = DumpFormat::Elf {
            qemu: !notes.qemu_cpus.is_empty(),
        };
        if body.src.is_flat() {
            format = DumpFormat::Flattened(Box::new(format));
        }
        let blob = body.note_blob.clone();
        Self::assemble(format, header, notes, Body::Elf(body), blob, vmcoreinfo)
    }

    fn from_kdump(set: KdumpSet) -> Result<Dump> {
        let first = &set.parts[0];
        let h = &first.hdr;
        let src = &first.src;
        let note_blob = match h.sub.notes {
            Some((off, size)) => {
                let avail = src.len().saturating_sub(off).min(size);
                src.get(off, avail as usize)
                    .map(|b| b.into_owned())
                    .unwrap_or_default()
            }
            None => Vec::new(),
        };
        let mut notes = Notes::parse(&note_blob);
        if notes.vmcoreinfo.is_none() {
            if let Some((off, size)) = h.sub.vmcoreinfo {
                let text = src.bytes(off, size, "kdump VMCOREINFO (offset_vmcoreinfo)")?;
                notes.vmcoreinfo = Some(
                    String::from_utf8_lossy(&text)
                        .trim_end_matches('\0')
                        .to_string(),
                );
            }
        }
        let header = HeaderInfo {
            dump_level: h.sub.dump_level,
            incomplete: set.parts.iter().any(|p| p.hdr.incomplete()),
            utsname: Some(h.utsname.clone()),
            timestamp: Some(h.timestamp),
            nr_cpus: Some(h.nr_cpus),
            current_cpu: Some(h.current_cpu),
            page_size: set.page_size,
            max_pfn: set.max_pfn,
        };
        let mut format = DumpFormat::Kdump {
            header_version: h.version,
            compression: h.compression(),
        };
        if src.is_flat() {
            format = DumpFormat::Flattened(Box::new(format));
        }
        if set.parts.len() > 1 || h.sub.split.is_some() {
            format = DumpFormat::Split {
                parts: set.parts.len(),
                inner: Box::new(format),
            };
        }
        Ok(Self::assemble(
            format,
            header,
            notes,
            Body::Kdump(set),
            note_blob,
            None,
        ))
    }

    /// True when the file starts like a dump this crate reads (used to tell vmlinux from dump):
    /// an ELF core (`ET_CORE`, not an executable), a kdump-compressed file or a flattened stream.
    pub fn sniff(path: &Path) -> bool {
        let mut head = [0u8; 18];
        let Ok(mut f) = std::fs::File::open(path) else {
            return false;
        };
        let mut n = 0;
        while n < head.len() {
            match f.read(&mut head[n..]) {
                Ok(0) | Err(_) => break,
                Ok(k) => n += k,
            }
        }
        let head = &head[..n];
        match magic(head) {
            Some(Magic::Elf) if n >= 18 => {
                let e_type = if head[5] == 2 {
                    [head[17], head[16]]
                } else {
                    [head[16], head[17]]
                };
                u16::from_le_bytes(e_type) == 4
            }
            Some(Magic::Elf) | None => false,
            Some(_) => true,
        }
    }

    pub fn format(&self) -> &DumpFormat {
        &self.format
    }
    pub fn header(&self) -> &HeaderInfo {
        &self.header
    }
    pub fn notes(&self) -> &Notes {
        &self.notes
    }
    pub fn vmcoreinfo(&self) -> Option<&Vmcoreinfo> {
        self.vmcoreinfo.as_ref()
    }
    /// The files this dump was opened from, as given.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// Reads physical memory; a page the dump level excluded is `Error::Excluded`, never zeros.
    pub fn read_phys(&self, paddr: u64, buf: &mut [u8]) -> Result<()> {
        match &self.body {
            Body::Elf(e) => e.read_phys(paddr, buf),
            Body::Kdump(k) => k.read_phys(paddr, buf, &self.cache),
        }
    }

    /// True when some RAM pages are not in the dump (filtered beyond zero pages, incomplete,
    /// truncated).
    pub fn is_partial(&self) -> bool {
        let filtered = match &self.body {
            Body::Elf(e) => e.filtered,
            // Level bit 0 (zero pages) loses nothing: they stay in the 2nd bitmap and point at
            // one shared zero page (makedumpfile, and QEMU which always writes level 1).
            Body::Kdump(_) => self.header.dump_level.unwrap_or(0) & !1 != 0,
        };
        filtered || self.header.incomplete || self.is_truncated()
    }

    /// True when the file visibly ends early (cut copy, flattened stream without end marker).
    pub fn is_truncated(&self) -> bool {
        match &self.body {
            Body::Elf(e) => e.truncated || e.src.stream_truncated(),
            Body::Kdump(k) => k.parts.iter().any(KdumpFile::truncated),
        }
    }

    /// Pages whose data the dump holds (for ELF: file-backed bytes / page size).
    pub fn pages_present(&self) -> u64 {
        match &self.body {
            Body::Elf(e) => e.present_bytes / self.header.page_size,
            Body::Kdump(k) => k.pages_present(),
        }
    }

    /// An ELF dump's PT_LOAD placements (kernel text and direct map); empty for other formats.
    pub fn load_segments(&self) -> &[LoadSegment] {
        match &self.body {
            Body::Elf(e) => &e.load_segments,
            _ => &[],
        }
    }

    /// A one-paragraph summary for `kdive info`: format, compression, level, pages.
    pub fn describe(&self) -> String {
        let h = &self.header;
        let mut s = format!("{}", self.format);
        if let Body::Elf(e) = &self.body {
            s += &format!(", {} PT_LOAD segments", e.loads);
        }
        if let Some(l) = h.dump_level {
            s += &format!(", dump level {l}");
        }
        s += &format!(
            ", {} of {} pages present ({} KiB pages)",
            self.pages_present(),
            h.max_pfn,
            h.page_size / 1024
        );
        if let Some(r) = self.vmcoreinfo.as_ref().and_then(|v| v.osrelease()) {
            s += &format!(", kernel {r}");
        }
        let cpus = self.notes.prstatus.len();
        s += &format!(", {cpus} CPU note{}", if cpus == 1 { "" } else { "s" });
        if h.incomplete {
            s += ", marked INCOMPLETE by its writer";
        }
        if self.is_truncated() {
            s += ", TRUNCATED";
        } else if self.is_partial() {
            s += ", partial (filtered)";
        }
        s
    }
}
