//! ELF64 vmcores (a /proc/vmcore copy, `makedumpfile -E`, QEMU `dump-guest-memory`): PT_LOAD
//! segments map physical addresses to file bytes; PT_NOTE segments hold the CPU notes.
//! `e_phoff` is trusted as written (QEMU puts the program headers at 192 with `e_ehsize = 8`).

use crate::error::{Error, Result};
use crate::extents::{self, Extent, ExtentBuilder};
use crate::notes::Notes;
use crate::source::{le_u16, le_u32, le_u64, Source};

pub const ELF_MAGIC: &[u8; 4] = b"\x7fELF";
const EHDR_SIZE: u64 = 64;
const PHDR_SIZE: usize = 56;
const ET_CORE: u16 = 4;
const EM_X86_64: u16 = 62;
const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
const PN_XNUM: u16 = 0xffff;
/// makedumpfile's `DUMP_ELF_INCOMPLETE` in `e_flags`.
pub const ELF_INCOMPLETE: u32 = 1;

/// One program header, as far as a vmcore reader cares.
#[derive(Debug, Clone, Copy)]
struct Phdr {
    p_type: u32,
    offset: u64,
    vaddr: u64,
    paddr: u64,
    filesz: u64,
    memsz: u64,
}

/// Where a PT_LOAD puts physical memory in the kernel's address space (`p_vaddr` 0: not said).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadSegment {
    pub vaddr: u64,
    pub paddr: u64,
    pub memsz: u64,
}

/// A parsed ELF vmcore over its bytes.
pub(crate) struct ElfBody {
    pub src: Source,
    /// Physical ranges: file-backed, or `file: None` for the excluded tail past `p_filesz`.
    extents: Vec<Extent>,
    pub loads: usize,
    pub e_flags: u32,
    /// Some PT_LOAD has `p_filesz < p_memsz` (filtered pages).
    pub filtered: bool,
    /// Some PT_LOAD's data runs past the end of the file.
    pub truncated: bool,
    pub notes: Notes,
    /// The PT_NOTE segments' bytes, concatenated.
    pub note_blob: Vec<u8>,
    /// One past the highest physical address any PT_LOAD describes.
    pub end_paddr: u64,
    /// Bytes of physical memory that have file data.
    pub present_bytes: u64,
    /// The PT_LOADs' virtual and physical placement, in file order.
    pub load_segments: Vec<LoadSegment>,
}

/// Checks the identification bytes: only little-endian ELF64 x86_64 cores are read.
pub(crate) fn check_ident(src: &Source, b: &[u8]) -> Result<()> {
    let unsupported = |d: String| Err(src.unsupported(d));
    if b.len() < EHDR_SIZE as usize {
        return Err(Error::Truncated {
            path: src.path().to_path_buf(),
            what: "ELF header",
            needed: EHDR_SIZE,
            len: src.len(),
        });
    }
    match (b[4], b[5]) {
        (2, 1) => {}
        (1, _) => return unsupported("ELF32 core files are not supported (only ELF64)".into()),
        (2, 2) => return unsupported("big-endian ELF core files are not supported".into()),
        (c, d) => return unsupported(format!("bad ELF identification: class {c}, data {d}")),
    }
    let (e_type, machine) = (le_u16(b, 16), le_u16(b, 18));
    if e_type != ET_CORE {
        return unsupported(format!(
            "ELF type {e_type} is not a core file (ET_CORE = 4)"
        ));
    }
    if machine != EM_X86_64 {
        return unsupported(format!(
            "ELF machine {machine} is not supported (only x86_64 = 62)"
        ));
    }
    Ok(())
}

impl ElfBody {
    pub(crate) fn open(src: Source) -> Result<ElfBody> {
        let eh = src.bytes(0, EHDR_SIZE, "ELF header")?.into_owned();
        check_ident(&src, &eh)?;
        let e_phoff = le_u64(&eh, 32);
        let e_shoff = le_u64(&eh, 40);
        let e_flags = le_u32(&eh, 48);
        let phentsize = le_u16(&eh, 54) as usize;
        let mut phnum = le_u16(&eh, 56) as u64;
        if phentsize < PHDR_SIZE {
            return Err(src.corrupt(
                "ELF header",
                54,
                format!("e_phentsize {phentsize} < {PHDR_SIZE}"),
            ));
        }
        if phnum == PN_XNUM as u64 {
            // The real count is in section header 0's sh_info.
            let sh0 = src.bytes(e_shoff, 64, "ELF section header 0 (e_phnum = PN_XNUM)")?;
            phnum = le_u32(&sh0, 44) as u64;
        }
        let table_len = phnum
            .checked_mul(phentsize as u64)
            .ok_or_else(|| src.corrupt("ELF header", 56, "program header table size overflows"))?;
        let table = src.bytes(e_phoff, table_len, "ELF program headers")?;
        let phdrs: Vec<Phdr> = table
            .chunks_exact(phentsize)
            .map(|p| Phdr {
                p_type: le_u32(p, 0),
                offset: le_u64(p, 8),
                vaddr: le_u64(p, 16),
                paddr: le_u64(p, 24),
                filesz: le_u64(p, 32),
                memsz: le_u64(p, 40),
            })
            .collect();
        drop(table);

        let file_len = src.len();
        let mut notes = Notes::default();
        let mut note_blob = Vec::new();
        let mut segs = Vec::new();
        let (mut filtered, mut truncated, mut end_paddr) = (false, false, 0u64);
        for (i, ph) in phdrs.iter().enumerate() {
            let ph_off = e_phoff + (i * phentsize) as u64;
            match ph.p_type {
                PT_NOTE => {
                    let avail = file_len.saturating_sub(ph.offset).min(ph.filesz);
                    if let Some(blob) = src.get(ph.offset, avail as usize) {
                        merge_notes(&mut notes, Notes::parse(&blob));
                        note_blob.extend_from_slice(&blob);
                    }
                }
                PT_LOAD => {
                    let filesz = ph.filesz.min(ph.memsz);
                    let end = ph.paddr.checked_add(ph.memsz).ok_or_else(|| {
                        src.corrupt(
                            "ELF PT_LOAD",
                            ph_off,
                            format!("p_paddr {:#x} + p_memsz overflows", ph.paddr),
                        )
                    })?;
                    if ph.offset.checked_add(filesz).is_none() {
                        return Err(src.corrupt(
                            "ELF PT_LOAD",
                            ph_off,
                            "p_offset + p_filesz overflows",
                        ));
                    }
                    filtered |= filesz < ph.memsz;
                    truncated |= ph.offset + filesz > file_len;
                    end_paddr = end_paddr.max(end);
                    segs.push(*ph);
                }
                _ => {}
            }
        }
        let extents = build_extents(&segs);
        let present_bytes = extents
            .iter()
            .filter(|e| e.file.is_some())
            .map(|e| e.end - e.start)
            .sum();
        let load_segments = segs
            .iter()
            .map(|p| LoadSegment {
                vaddr: p.vaddr,
                paddr: p.paddr,
                memsz: p.memsz,
            })
            .collect();
        Ok(ElfBody {
            src,
            extents,
            load_segments,
            loads: segs.len(),
            e_flags,
            filtered,
            truncated,
            notes,
            note_blob,
            end_paddr,
            present_bytes,
        })
    }

    /// The disjoint physical extents (file-backed, or excluded tails).
    pub(crate) fn extents(&self) -> &[Extent] {
        &self.extents
    }

    /// Reads physical memory; may span segments.
    pub(crate) fn read_phys(&self, paddr: u64, buf: &mut [u8]) -> Result<()> {
        let mut done = 0usize;
        while done < buf.len() {
            let addr = paddr
                .checked_add(done as u64)
                .ok_or(Error::NotInDump { paddr })?;
            let e = extents::find(&self.extents, addr).ok_or(Error::NotInDump { paddr: addr })?;
            let f = e.file_offset(addr).ok_or(Error::Excluded { paddr: addr })?;
            let n = ((e.end - addr).min((buf.len() - done) as u64)) as usize;
            let src = self
                .src
                .get(f, n)
                .ok_or(Error::PageTruncated { paddr: addr })?;
            buf[done..done + n].copy_from_slice(&src);
            done += n;
        }
        Ok(())
    }
}

/// Disjoint physical extents: file-backed parts of every PT_LOAD first (the kernel-text segment
/// overlaps the direct-map one; both carry the same bytes), then the excluded tails.
fn build_extents(segs: &[Phdr]) -> Vec<Extent> {
    let mut backed: Vec<Extent> = segs
        .iter()
        .filter(|p| p.filesz.min(p.memsz) > 0)
        .map(|p| Extent {
            start: p.paddr,
            end: p.paddr + p.filesz.min(p.memsz),
            file: Some(p.offset),
        })
        .collect();
    if segs.iter().all(|p| p.filesz >= p.memsz) {
        match extents::sorted_if_disjoint(backed) {
            Ok(e) => return e,
            Err(e) => backed = e,
        }
    }
    let mut b = ExtentBuilder::default();
    for e in &backed {
        b.claim(e.start, e.end, e.file);
    }
    for p in segs.iter().filter(|p| p.filesz < p.memsz) {
        b.claim(p.paddr + p.filesz, p.paddr + p.memsz, None);
    }
    b.finish()
}

fn merge_notes(into: &mut Notes, from: Notes) {
    into.prstatus.extend(from.prstatus);
    into.qemu_cpus.extend(from.qemu_cpus);
    if into.vmcoreinfo.is_none() {
        into.vmcoreinfo = from.vmcoreinfo;
    }
}
