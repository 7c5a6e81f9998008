//! `--elf`: a filtered ELF vmcore. One PT_NOTE, then one PT_LOAD per run of kept pages whose
//! `p_memsz` also covers the excluded pages after it (as `makedumpfile -E` does: readers see
//! them as filtered, not absent), placed as the source's PT_LOADs place them (kernel text
//! and direct map). `e_flags` bit 0 (makedumpfile's `DUMP_ELF_INCOMPLETE`) stays
//! set until the last page is written. Zero pages (dump level bit 1) are dropped before the
//! segment table is made ([`crate::filter::exclude_zero_pages`]), so they read as filtered.

use crate::compress::Codec;
use crate::error::{Result, SaveError};
use crate::filter::Plan;
use crate::kdump_writer::WriteStats;
use crate::meta::DumpMeta;
use crate::pipeline::{self, Stored};
use crate::progress::Progress;
use crate::sink::Sink;
use crate::source::SourceDump;
use kdive_dumpfile::LoadSegment;

const EHDR: u64 = 64;
const PHDR: u64 = 56;

/// One PT_LOAD of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// 0 when the address space placement is not known.
    pub vaddr: u64,
    pub paddr: u64,
    pub filesz: u64,
    pub memsz: u64,
}

/// The output's PT_LOADs: for each placement of physical memory (`layout`: the source's own
/// PT_LOADs, so the kernel-text mapping readers such as crash look for is kept, or the RAM
/// runs in the direct map at `page_offset`), one segment per run of kept pages whose `p_memsz`
/// also covers the excluded pages after it.
pub fn segments(plan: &Plan, ps: u64, layout: &[LoadSegment], page_offset: u64) -> Vec<Segment> {
    let aligned = !layout.is_empty()
        && layout
            .iter()
            .all(|l| l.paddr % ps == 0 && l.vaddr % ps == 0);
    let places: Vec<LoadSegment> = if aligned {
        layout.to_vec()
    } else {
        plan.ram
            .runs()
            .map(|(rs, re)| LoadSegment {
                vaddr: if page_offset != 0 {
                    page_offset.wrapping_add(rs * ps)
                } else {
                    0
                },
                paddr: rs * ps,
                memsz: (re - rs) * ps,
            })
            .collect()
    };
    let mut segs = Vec::new();
    for l in places {
        // Whole pages only: a partial last page is left out (as the plan excludes it).
        let (first, end) = (l.paddr / ps, l.paddr.saturating_add(l.memsz) / ps);
        let end = end.min(plan.ram.len());
        let vaddr_of = |pfn: u64| {
            if l.vaddr != 0 {
                l.vaddr.wrapping_add(pfn * ps - l.paddr)
            } else {
                0
            }
        };
        let mut pfn = first;
        while pfn < end {
            // The kept run starting here (maybe empty), then the excluded pages after it.
            let mut k = pfn;
            while k < end && plan.keep.get(k) {
                k += 1;
            }
            let mut x = k;
            while x < end && !plan.keep.get(x) {
                x += 1;
            }
            segs.push(Segment {
                vaddr: vaddr_of(pfn),
                paddr: pfn * ps,
                filesz: (k - pfn) * ps,
                memsz: (x - pfn) * ps,
            });
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
    /// Direct-map base for `p_vaddr` when the source has no PT_LOADs to follow (0: unknown).
    pub page_offset: u64,
}

impl ElfJob<'_> {
    fn headers(&self, segs: &[Segment], data_off: u64, incomplete: bool) -> Vec<u8> {
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
                // p_align stays 0, as the kernel's /proc/vmcore and makedumpfile write it:
                // crash misreads segments that declare an alignment.
                b[48..56].copy_from_slice(&0u64.to_le_bytes());
            };
        let notes_len = self.meta.notes.len() as u64;
        ph(0, 4, EHDR + n * PHDR, 0, 0, notes_len, notes_len);
        let mut off = data_off;
        for (i, g) in segs.iter().enumerate() {
            ph(i as u64 + 1, 1, off, g.vaddr, g.paddr, g.filesz, g.memsz);
            off += g.filesz;
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
        let segs = segments(
            self.plan,
            ps,
            self.src.dump.load_segments(),
            self.page_offset,
        );
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
        // Segment by segment: memory placed twice (kernel text and direct map) is written twice.
        let jobs = pipeline::jobs(
            segs.iter()
                .filter(|g| g.filesz > 0)
                .map(|g| (g.paddr / ps, (g.paddr + g.filesz) / ps)),
        );
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bitmap::PfnBitmap;
    use crate::filter::FilterStats;
    use crate::level::DumpLevel;

    /// 16 RAM pages; pages 2..4 and 9 are not kept.
    fn plan() -> Plan {
        let mut ram = PfnBitmap::new(16);
        ram.set_range(0, 16, true);
        let mut keep = PfnBitmap::new(16);
        keep.set_range(0, 16, true);
        keep.set_range(2, 4, false);
        keep.set(9, false);
        Plan {
            ram,
            keep,
            stats: FilterStats::default(),
            level: DumpLevel(31),
        }
    }

    #[test]
    fn segments_follow_the_source_placements_kernel_text_included() {
        let ps = 0x1000;
        // As /proc/vmcore: the kernel image (pages 8..12) mapped at its text address, then
        // the direct map of all RAM, whose last page is partial.
        let layout = [
            LoadSegment {
                vaddr: 0xffff_ffff_8100_0000,
                paddr: 0x8000,
                memsz: 0x4000,
            },
            LoadSegment {
                vaddr: 0xffff_8880_0000_0000,
                paddr: 0,
                memsz: 0xfc00 + 0x300,
            },
        ];
        let segs = segments(&plan(), ps, &layout, 0);
        let seg = |vaddr: u64, paddr: u64, filesz: u64, memsz: u64| Segment {
            vaddr,
            paddr,
            filesz,
            memsz,
        };
        assert_eq!(
            segs,
            [
                seg(0xffff_ffff_8100_0000, 0x8000, 0x1000, 0x2000),
                seg(0xffff_ffff_8100_2000, 0xa000, 0x2000, 0x2000),
                seg(0xffff_8880_0000_0000, 0, 0x2000, 0x4000),
                seg(0xffff_8880_0000_4000, 0x4000, 0x5000, 0x6000),
                seg(0xffff_8880_0000_a000, 0xa000, 0x5000, 0x5000),
            ]
        );
        // Without placements (a kdump source): RAM runs in the direct map when it is known.
        let flat = segments(&plan(), ps, &[], 0xffff_8880_0000_0000);
        assert_eq!(flat[0], seg(0xffff_8880_0000_0000, 0, 0x2000, 0x4000));
        assert_eq!(segments(&plan(), ps, &[], 0)[1].vaddr, 0);
    }
}
