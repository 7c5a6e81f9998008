//! Writers of small synthetic dumps for the tests: ELF cores with notes and PT_LOADs,
//! kdump-compressed files (any codec, zero-page sharing, split parts), flattened wrapping.

use std::collections::{BTreeMap, BTreeSet};

use crate::notes::CpuRegisters;
use crate::Compression;

pub fn compress(kind: Compression, data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    match kind {
        Compression::None => data.to_vec(),
        Compression::Zlib => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        Compression::Lzo => lzokay_native::compress(data).unwrap(),
        Compression::Snappy => snap::raw::Encoder::new().compress_vec(data).unwrap(),
        Compression::Zstd => zstd::bulk::compress(data, 3).unwrap(),
    }
}

fn pad4(v: &mut Vec<u8>) {
    while v.len() % 4 != 0 {
        v.push(0);
    }
}

/// One ELF note; `name` without its NUL (an empty name gives namesz 0).
pub fn note(name: &[u8], n_type: u32, desc: &[u8]) -> Vec<u8> {
    let namesz = if name.is_empty() {
        0
    } else {
        name.len() as u32 + 1
    };
    let mut v = Vec::new();
    v.extend_from_slice(&namesz.to_le_bytes());
    v.extend_from_slice(&(desc.len() as u32).to_le_bytes());
    v.extend_from_slice(&n_type.to_le_bytes());
    if namesz > 0 {
        v.extend_from_slice(name);
        v.push(0);
    }
    pad4(&mut v);
    v.extend_from_slice(desc);
    pad4(&mut v);
    v
}

/// An x86_64 `elf_prstatus` (336 bytes).
pub fn prstatus_desc(pid: u32, regs: &CpuRegisters) -> Vec<u8> {
    let mut d = vec![0u8; 336];
    d[32..36].copy_from_slice(&pid.to_le_bytes());
    for (i, r) in regs.to_user_regs().iter().enumerate() {
        d[112 + i * 8..120 + i * 8].copy_from_slice(&r.to_le_bytes());
    }
    d
}

/// A QEMUCPUState (440 bytes with kernel_gs_base = 0x4444, else 432).
pub fn qemu_desc(
    regs: &CpuRegisters,
    cr3: u64,
    idt_base: u64,
    with_kernel_gs_base: bool,
) -> Vec<u8> {
    let size = if with_kernel_gs_base { 440 } else { 432 };
    let mut d = vec![0u8; size];
    let mut put = |off: usize, v: u64| d[off..off + 8].copy_from_slice(&v.to_le_bytes());
    let gprs = [
        regs.rax, regs.rbx, regs.rcx, regs.rdx, regs.rsi, regs.rdi, regs.rsp, regs.rbp, regs.r8,
        regs.r9, regs.r10, regs.r11, regs.r12, regs.r13, regs.r14, regs.r15,
    ];
    for (i, g) in gprs.iter().enumerate() {
        put(8 + i * 8, *g);
    }
    put(136, regs.rip);
    put(144, regs.eflags);
    put(152 + 9 * 24 + 16, idt_base);
    put(392 + 24, cr3);
    if with_kernel_gs_base {
        put(432, 0x4444);
    }
    d[0..4].copy_from_slice(&1u32.to_le_bytes());
    d[4..8].copy_from_slice(&(size as u32).to_le_bytes());
    d
}

pub fn flat_header() -> Vec<u8> {
    let mut h = vec![0u8; 4096];
    h[..12].copy_from_slice(b"makedumpfile");
    h[16..24].copy_from_slice(&1i64.to_be_bytes());
    h[24..32].copy_from_slice(&1i64.to_be_bytes());
    h
}

pub fn flat_record(s: &mut Vec<u8>, offset: u64, data: &[u8]) {
    s.extend_from_slice(&(offset as i64).to_be_bytes());
    s.extend_from_slice(&(data.len() as i64).to_be_bytes());
    s.extend_from_slice(data);
}

pub fn flat_end(s: &mut Vec<u8>) {
    s.extend_from_slice(&(-1i64).to_be_bytes());
    s.extend_from_slice(&(-1i64).to_be_bytes());
}

/// Wraps `logical` as a flattened stream of `chunk`-byte records (reversed order if `shuffle`,
/// the first record always first), with the end marker.
pub fn flatten(logical: &[u8], chunk: usize, shuffle: bool) -> Vec<u8> {
    let mut s = flat_header();
    let mut chunks: Vec<(usize, &[u8])> = logical
        .chunks(chunk)
        .enumerate()
        .map(|(i, c)| (i * chunk, c))
        .collect();
    if shuffle && chunks.len() > 2 {
        chunks[1..].reverse();
    }
    for (off, c) in chunks {
        flat_record(&mut s, off as u64, c);
    }
    flat_end(&mut s);
    s
}

/// One PT_LOAD: `data` at `paddr`, `memsz >= data.len()` (the rest is a filtered tail).
pub struct Load {
    pub paddr: u64,
    pub data: Vec<u8>,
    pub memsz: u64,
}

/// An ELF64 x86_64 core.
pub struct ElfSpec {
    pub loads: Vec<Load>,
    pub notes: Vec<u8>,
    pub e_flags: u32,
    /// Program headers at this offset (QEMU: 192), with `e_ehsize` as given.
    pub phoff: u64,
    pub ehsize: u16,
}

impl Default for ElfSpec {
    fn default() -> Self {
        ElfSpec {
            loads: Vec::new(),
            notes: Vec::new(),
            e_flags: 0,
            phoff: 64,
            ehsize: 64,
        }
    }
}

impl ElfSpec {
    pub fn build(&self) -> Vec<u8> {
        let phnum = 1 + self.loads.len();
        let mut f = vec![0u8; self.phoff as usize + phnum * 56];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2;
        f[5] = 1;
        f[6] = 1;
        f[16..18].copy_from_slice(&4u16.to_le_bytes());
        f[18..20].copy_from_slice(&62u16.to_le_bytes());
        f[20..24].copy_from_slice(&1u32.to_le_bytes());
        f[32..40].copy_from_slice(&self.phoff.to_le_bytes());
        f[48..52].copy_from_slice(&self.e_flags.to_le_bytes());
        f[52..54].copy_from_slice(&self.ehsize.to_le_bytes());
        f[54..56].copy_from_slice(&56u16.to_le_bytes());
        f[56..58].copy_from_slice(&(phnum as u16).to_le_bytes());
        let mut phdrs = Vec::new();
        let note_off = f.len() as u64;
        phdrs.push((
            4u32,
            note_off,
            0u64,
            self.notes.len() as u64,
            self.notes.len() as u64,
        ));
        f.extend_from_slice(&self.notes);
        for l in &self.loads {
            while f.len() % 4096 != 0 {
                f.push(0);
            }
            phdrs.push((1, f.len() as u64, l.paddr, l.data.len() as u64, l.memsz));
            f.extend_from_slice(&l.data);
        }
        for (i, (ty, off, paddr, filesz, memsz)) in phdrs.into_iter().enumerate() {
            let p = self.phoff as usize + i * 56;
            f[p..p + 4].copy_from_slice(&ty.to_le_bytes());
            f[p + 8..p + 16].copy_from_slice(&off.to_le_bytes());
            f[p + 16..p + 24].copy_from_slice(&(0xffff_8880_0000_0000u64 + paddr).to_le_bytes());
            f[p + 24..p + 32].copy_from_slice(&paddr.to_le_bytes());
            f[p + 32..p + 40].copy_from_slice(&filesz.to_le_bytes());
            f[p + 40..p + 48].copy_from_slice(&memsz.to_le_bytes());
        }
        f
    }
}

/// A kdump-compressed file (64-bit, little-endian).
#[derive(Clone)]
pub struct KdumpSpec {
    pub block_size: u64,
    pub max_pfn: u64,
    /// Dumped pages (2nd bitmap), by PFN.
    pub pages: BTreeMap<u64, Vec<u8>>,
    /// RAM pages that were filtered out (1st bitmap only).
    pub excluded: BTreeSet<u64>,
    pub compression: Compression,
    pub dump_level: u32,
    pub status_extra: u32,
    pub version: u32,
    pub notes: Vec<u8>,
    pub vmcoreinfo: Option<String>,
    /// Share one zero-filled page among all zero pages, as makedumpfile does at -d bit 1.
    pub share_zero_page: bool,
    /// Write a `--split` part holding `[start, end)`.
    pub split: Option<(u64, u64)>,
    pub utsname_release: String,
}

impl Default for KdumpSpec {
    fn default() -> Self {
        KdumpSpec {
            block_size: 4096,
            max_pfn: 64,
            pages: BTreeMap::new(),
            excluded: BTreeSet::new(),
            compression: Compression::Zlib,
            dump_level: 31,
            status_extra: 0,
            version: 6,
            notes: Vec::new(),
            vmcoreinfo: None,
            share_zero_page: true,
            split: None,
            utsname_release: "6.1.0-test".into(),
        }
    }
}

fn put32(f: &mut [u8], off: usize, v: u32) {
    f[off..off + 4].copy_from_slice(&v.to_le_bytes());
}
fn put64(f: &mut [u8], off: usize, v: u64) {
    f[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

/// Where things landed in a built kdump file (for hostile-input tests).
#[derive(Debug, Clone, Copy)]
pub struct KdumpLayout {
    pub bitmap2: u64,
    pub desc_base: u64,
    pub data_start: u64,
}

impl KdumpSpec {
    pub fn build(&self) -> Vec<u8> {
        self.build_with_layout().0
    }

    pub fn build_with_layout(&self) -> (Vec<u8>, KdumpLayout) {
        let bs = self.block_size as usize;
        let flags = match self.compression {
            Compression::None => 0,
            Compression::Zlib => 1,
            Compression::Lzo => 2,
            Compression::Snappy => 4,
            Compression::Zstd => 0x20,
        };
        // Notes: the given blob, then the VMCOREINFO note.
        let mut notes = self.notes.clone();
        let mut vmci = None;
        if let Some(text) = &self.vmcoreinfo {
            let desc_at = notes.len() + 12 + 12; // header + "VMCOREINFO\0" padded to 12
            vmci = Some((desc_at, text.len()));
            notes.extend(note(b"VMCOREINFO", 0, text.as_bytes()));
        }
        let sub_blocks = (104 + notes.len()).div_ceil(bs);
        let bitmap_len = (self.max_pfn as usize).div_ceil(8).div_ceil(bs) * bs;
        let bitmap_blocks = 2 * bitmap_len / bs;
        let bitmap1 = (1 + sub_blocks) * bs;
        let bitmap2 = bitmap1 + bitmap_len;
        let desc_base = bitmap2 + bitmap_len;
        let mut f = vec![0u8; desc_base];
        f[..8].copy_from_slice(b"KDUMP   ");
        put32(&mut f, 8, self.version);
        f[12..17].copy_from_slice(b"Linux");
        let r = self.utsname_release.as_bytes();
        f[12 + 2 * 65..12 + 2 * 65 + r.len()].copy_from_slice(r);
        f[12 + 4 * 65..12 + 4 * 65 + 6].copy_from_slice(b"x86_64");
        put64(&mut f, 408, 1_764_000_000);
        put64(&mut f, 416, 123);
        put32(&mut f, 424, flags | self.status_extra);
        put32(&mut f, 428, bs as u32);
        put32(&mut f, 432, sub_blocks as u32);
        put32(&mut f, 436, bitmap_blocks as u32);
        put32(&mut f, 440, self.max_pfn as u32);
        put32(&mut f, 456, 1);
        put32(&mut f, 460, 2);
        let s = bs;
        put64(&mut f, s, 0x1000000);
        put32(&mut f, s + 8, self.dump_level);
        let (start, end) = self.split.unwrap_or((0, self.max_pfn));
        put32(&mut f, s + 12, self.split.is_some() as u32);
        put64(&mut f, s + 16, start);
        put64(&mut f, s + 24, end);
        let note_off = bs + 104;
        if let Some((at, len)) = vmci {
            put64(&mut f, s + 32, (note_off + at) as u64);
            put64(&mut f, s + 40, len as u64);
        }
        put64(&mut f, s + 48, note_off as u64);
        put64(&mut f, s + 56, notes.len() as u64);
        put64(&mut f, s + 80, start);
        put64(&mut f, s + 88, end);
        put64(&mut f, s + 96, self.max_pfn);
        f[note_off..note_off + notes.len()].copy_from_slice(&notes);
        for &pfn in self.pages.keys().chain(self.excluded.iter()) {
            f[bitmap1 + pfn as usize / 8] |= 1 << (pfn % 8);
        }
        for &pfn in self.pages.keys() {
            f[bitmap2 + pfn as usize / 8] |= 1 << (pfn % 8);
        }
        // Descriptors for pages in [start, end), then data.
        let mine: Vec<(&u64, &Vec<u8>)> = self.pages.range(start..end).collect();
        let data_start = desc_base + mine.len() * 24;
        let mut descs = Vec::new();
        let mut data = Vec::new();
        let mut zero_at = None;
        if self.share_zero_page {
            zero_at = Some(data_start as u64);
            data.extend(std::iter::repeat_n(0u8, bs));
        }
        for (_, page) in mine {
            assert_eq!(page.len(), bs);
            let (off, size, fl) = match zero_at {
                Some(z) if page.iter().all(|&b| b == 0) => (z, bs, 0),
                _ => {
                    let c = compress(self.compression, page);
                    let (bytes, fl) = if c.len() < bs {
                        (c, flags)
                    } else {
                        (page.clone(), 0)
                    };
                    let off = (data_start + data.len()) as u64;
                    data.extend_from_slice(&bytes);
                    (off, bytes.len(), fl)
                }
            };
            let mut d = [0u8; 24];
            put64(&mut d, 0, off);
            put32(&mut d, 8, size as u32);
            put32(&mut d, 12, fl);
            descs.extend_from_slice(&d);
        }
        f.extend_from_slice(&descs);
        f.extend_from_slice(&data);
        let layout = KdumpLayout {
            bitmap2: bitmap2 as u64,
            desc_base: desc_base as u64,
            data_start: data_start as u64,
        };
        (f, layout)
    }
}

/// A page whose bytes say which PFN it is (never all zero).
pub fn page_for(pfn: u64, size: usize) -> Vec<u8> {
    (0..size)
        .map(|i| ((pfn as usize * 131 + i / 8 * 7) % 251) as u8 | if i == 0 { 1 } else { 0 })
        .collect()
}

/// Writes `bytes` to a fresh temp file and returns its guard and path.
pub fn temp_file(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dump");
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}
