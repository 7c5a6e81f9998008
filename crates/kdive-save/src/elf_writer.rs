//! `--elf`: a filtered ELF vmcore. One PT_NOTE, then one PT_LOAD per run of kept pages whose
//! `p_memsz` also covers the excluded pages after it (as `makedumpfile -E` does: readers see
//! them as filtered, not absent). `e_flags` bit 0 (makedumpfile's `DUMP_ELF_INCOMPLETE`) stays
//! set until the last page is written. Zero pages are kept (filtering them would change the
//! segment table after it is written).

use crate::compress::Codec;
use crate::error::{Result, SaveError};
use crate::filter::Plan;
use crate::kdump_writer::WriteStats;
use crate::meta::DumpMeta;
use crate::pipeline::{self, Stored};
use crate::progress::Progress;
use crate::sink::Sink;
use crate::source::SourceDump;

const EHDR: u64 = 64;
const PHDR: u64 = 56;

/// `(paddr, filesz, memsz)` of each PT_LOAD.
pub fn segments(plan: &Plan, ps: u64) -> Vec<(u64, u64, u64)> {
    let mut segs = Vec::new();
    for (rs, re) in plan.ram.runs() {
        let mut pfn = rs;
        while pfn < re {
            // The kept run starting here (maybe empty), then the excluded pages after it.
            let mut k = pfn;
            while k < re && plan.keep.get(k) {
                k += 1;
            }
            let mut x = k;
            while x < re && !plan.keep.get(x) {
                x += 1;
            }
            segs.push((pfn * ps, (k - pfn) * ps, (x - pfn) * ps));
            pfn = x;
        }
    }
    segs
}

pub struct ElfJob<'a> {
    pub src: &'a SourceDump,
    pub plan: &'a Plan,
    pub meta: &'a DumpMeta,
    pub threads: usize,
    /// Direct-map base for `p_vaddr` (0 when unknown).
    pub page_offset: u64,
}

impl ElfJob<'_> {
    fn headers(&self, segs: &[(u64, u64, u64)], data_off: u64, incomplete: bool) -> Vec<u8> {
        let n = segs.len() as u64 + 1;
        let mut h = vec![0u8; (EHDR + n * PHDR) as usize];
        h[0..4].copy_from_slice(b"\x7fELF");
        h[4] = 2; // ELFCLASS64
        h[5] = 1; // little-endian
        h[6] = 1; // EV_CURRENT
        h[16..18].copy_from_slice(&4u16.to_le_bytes()); // ET_CORE
        h[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
        h[20..24].copy_from_slice(&1u32.to_le_bytes());
        h[32..40].copy_from_slice(&EHDR.to_le_bytes()); // e_phoff
        h[48..52].copy_from_slice(&(incomplete as u32).to_le_bytes());
        h[52..54].copy_from_slice(&(EHDR as u16).to_le_bytes());
        h[54..56].copy_from_slice(&(PHDR as u16).to_le_bytes());
        let phnum = n.min(0xffff) as u16;
        h[56..58].copy_from_slice(&phnum.to_le_bytes());
        let mut ph =
            |i: u64, ty: u32, off: u64, vaddr: u64, paddr: u64, filesz: u64, memsz: u64| {
                let b = &mut h[(EHDR + i * PHDR) as usize..][..PHDR as usize];
                b[0..4].copy_from_slice(&ty.to_le_bytes());
                b[4..8].copy_from_slice(&(if ty == 1 { 7u32 } else { 0 }).to_le_bytes());
                b[8..16].copy_from_slice(&off.to_le_bytes());
                b[16..24].copy_from_slice(&vaddr.to_le_bytes());
                b[24..32].copy_from_slice(&paddr.to_le_bytes());
                b[32..40].copy_from_slice(&filesz.to_le_bytes());
                b[40..48].copy_from_slice(&memsz.to_le_bytes());
                b[48..56].copy_from_slice(&(if ty == 1 { 4096u64 } else { 0 }).to_le_bytes());
            };
        let notes_len = self.meta.notes.len() as u64;
        ph(0, 4, EHDR + n * PHDR, 0, 0, notes_len, notes_len);
        let mut off = data_off;
        for (i, &(paddr, filesz, memsz)) in segs.iter().enumerate() {
            let vaddr = if self.page_offset != 0 {
                self.page_offset + paddr
            } else {
                0
            };
            ph(i as u64 + 1, 1, off, vaddr, paddr, filesz, memsz);
            off += filesz;
        }
        h
    }

    pub fn write(
        &self,
        sink: &mut dyn Sink,
        progress: &mut Progress,
        on_io: &dyn Fn(std::io::Error) -> SaveError,
    ) -> Result<WriteStats> {
        let ps = self.src.page_size;
        let segs = segments(self.plan, ps);
        if segs.len() + 1 >= 0xffff {
            return Err(SaveError::Usage(format!(
                "--elf: {} segments do not fit an ELF program header table",
                segs.len()
            )));
        }
        let hdr_len = EHDR + (segs.len() as u64 + 1) * PHDR;
        let data_off = (hdr_len + self.meta.notes.len() as u64).div_ceil(ps) * ps;
        sink.write_at(0, &self.headers(&segs, data_off, true))
            .map_err(on_io)?;
        sink.write_at(hdr_len, &self.meta.notes).map_err(on_io)?;
        let mut stats = WriteStats::default();
        let mut pos = data_off;
        let mut buf: Vec<u8> = Vec::new();
        let mut buf_off = pos;
        let jobs = pipeline::jobs(self.plan.keep.runs());
        pipeline::run(self.src, &jobs, Codec::None, false, self.threads, |done| {
            let mut at = 0usize;
            for p in &done.pages {
                match *p {
                    Stored::Data { len, .. } => {
                        buf.extend_from_slice(&done.data[at..at + len as usize]);
                        at += len as usize;
                        stats.pages_written += 1;
                    }
                    Stored::Zero | Stored::Unreadable => {
                        stats.unreadable += 1;
                        buf.resize(buf.len() + ps as usize, 0);
                    }
                }
                pos += ps;
            }
            if buf.len() >= 4 << 20 {
                sink.write_at(buf_off, &buf).map_err(on_io)?;
                buf_off += buf.len() as u64;
                buf.clear();
            }
            progress.advance(done.job.n, done.data.len() as u64);
            Ok(())
        })?;
        sink.write_at(buf_off, &buf).map_err(on_io)?;
        stats.bytes = pos;
        let incomplete = stats.unreadable > 0 || self.plan.stats.unreadable > 0;
        sink.write_at(0, &self.headers(&segs, data_off, incomplete))
            .map_err(on_io)?;
        sink.finish().map_err(on_io)?;
        Ok(stats)
    }
}
