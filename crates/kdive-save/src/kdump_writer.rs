//! Writes a kdump-compressed dump: header (marked incomplete until the last page is in),
//! sub-header and notes, both bitmaps, then page data in PFN order with its descriptors,
//! zero pages all pointing at one shared zero page.

use crate::compress::Codec;
use crate::error::Result;
use crate::filter::Plan;
use crate::kdump_header::{self, HeaderFields, Layout, STATUS_INCOMPLETE};
use crate::meta::DumpMeta;
use crate::pipeline::{self, Stored};
use crate::progress::Progress;
use crate::sink::Sink;
use crate::source::SourceDump;

/// What the copy wrote.
#[derive(Debug, Default, Clone)]
pub struct WriteStats {
    pub pages_written: u64,
    pub zero_pages: u64,
    pub unreadable: u64,
    pub bytes: u64,
}

/// Bytes of page data gathered before one write.
const WRITE_CHUNK: usize = 4 << 20;

pub struct KdumpJob<'a> {
    pub src: &'a SourceDump,
    pub plan: &'a Plan,
    pub meta: &'a DumpMeta,
    pub codec: Codec,
    pub threads: usize,
    /// Write the header first (marked incomplete) and again at the end: for seekable files.
    /// A stream writes it once, at the end.
    pub header_first: bool,
}

impl KdumpJob<'_> {
    fn header(&self, layout: &Layout, status: u32) -> (Vec<u8>, Vec<u8>) {
        let m = self.meta;
        kdump_header::encode(
            layout,
            &HeaderFields {
                utsname: m.utsname.clone(),
                timestamp: m.timestamp,
                status,
                nr_cpus: m.nr_cpus,
                current_cpu: m.current_cpu,
                phys_base: m.phys_base,
                dump_level: self.plan.level.0 as u32,
                vmcoreinfo: m
                    .vmcoreinfo_in_notes
                    .map(|(o, s)| (layout.notes_off + o, s)),
                notes_len: m.notes.len() as u64,
            },
        )
    }

    fn write_header(
        &self,
        sink: &mut dyn Sink,
        layout: &Layout,
        status: u32,
    ) -> std::io::Result<()> {
        let (dh, sh) = self.header(layout, status);
        sink.write_at(0, &dh)?;
        let mut block1 = sh;
        block1.extend_from_slice(&self.meta.notes);
        sink.write_at(layout.block_size, &block1)
    }

    /// Writes everything; `on_io` turns an I/O error into the crate error (with the path).
    pub fn write(
        &self,
        sink: &mut dyn Sink,
        progress: &mut Progress,
        on_io: &dyn Fn(std::io::Error) -> crate::error::SaveError,
    ) -> Result<WriteStats> {
        let plan = self.plan;
        let ps = self.src.page_size;
        let kept = plan.keep.count();
        let layout = Layout::new(ps, self.meta.notes.len() as u64, self.src.max_pfn, kept);
        let base_status = self.codec.flag();
        if self.header_first {
            self.write_header(sink, &layout, base_status | STATUS_INCOMPLETE)
                .map_err(on_io)?;
        }
        let len = layout.bitmap_len as usize;
        write_bitmap(sink, layout.bitmap1_off, &plan.ram, len).map_err(on_io)?;
        write_bitmap(sink, layout.bitmap2_off, &plan.keep, len).map_err(on_io)?;

        let share_zero = plan.level.has(crate::level::DumpLevel::ZERO);
        let zero_off = layout.data_off;
        let mut data_pos = layout.data_off;
        if share_zero {
            sink.write_at(zero_off, &vec![0u8; ps as usize])
                .map_err(on_io)?;
            data_pos += ps;
        }
        let mut stats = WriteStats::default();
        let mut desc_index = 0u64;
        let mut descs: Vec<u8> = Vec::new();
        let mut data_buf: Vec<u8> = Vec::new();
        let mut data_buf_off = data_pos;
        let jobs = pipeline::jobs(plan.keep.runs());
        pipeline::run(
            self.src,
            &jobs,
            self.codec,
            share_zero,
            self.threads,
            |done| {
                let mut at = 0usize;
                for p in &done.pages {
                    let d = match *p {
                        Stored::Zero => {
                            stats.zero_pages += 1;
                            kdump_header::page_desc(zero_off, ps as u32, 0)
                        }
                        Stored::Data { len, flags } => {
                            data_buf.extend_from_slice(&done.data[at..at + len as usize]);
                            at += len as usize;
                            let d = kdump_header::page_desc(data_pos, len, flags);
                            data_pos += len as u64;
                            stats.pages_written += 1;
                            d
                        }
                        // Left as an all-zero descriptor: "lost" in an incomplete dump.
                        Stored::Unreadable => {
                            stats.unreadable += 1;
                            [0u8; 24]
                        }
                    };
                    descs.extend_from_slice(&d);
                    desc_index += 1;
                }
                // Data first, then the descriptors that point at it.
                if data_buf.len() >= WRITE_CHUNK || descs.len() >= WRITE_CHUNK / 8 {
                    sink.write_at(data_buf_off, &data_buf).map_err(on_io)?;
                    data_buf_off += data_buf.len() as u64;
                    data_buf.clear();
                    let d_off = layout.desc_off + (desc_index * 24 - descs.len() as u64);
                    sink.write_at(d_off, &descs).map_err(on_io)?;
                    descs.clear();
                }
                progress.advance(done.job.n, done.data.len() as u64);
                Ok(())
            },
        )?;
        if !data_buf.is_empty() {
            sink.write_at(data_buf_off, &data_buf).map_err(on_io)?;
        }
        if !descs.is_empty() {
            let d_off = layout.desc_off + (desc_index * 24 - descs.len() as u64);
            sink.write_at(d_off, &descs).map_err(on_io)?;
        }
        stats.bytes = data_pos;
        let incomplete = stats.unreadable > 0 || plan.stats.unreadable > 0;
        let status = base_status | if incomplete { STATUS_INCOMPLETE } else { 0 };
        self.write_header(sink, &layout, status).map_err(on_io)?;
        sink.finish().map_err(on_io)?;
        Ok(stats)
    }
}

/// Writes a bitmap of `len` bytes at `offset` a chunk at a time: a bitmap is max_pfn / 8 bytes
/// (32 MiB for a 1 TiB machine) and a whole copy of it would double the peak memory.
fn write_bitmap(
    sink: &mut dyn Sink,
    offset: u64,
    bitmap: &crate::bitmap::PfnBitmap,
    len: usize,
) -> std::io::Result<()> {
    const CHUNK: usize = 1 << 20;
    let mut buf = Vec::with_capacity(CHUNK.min(len));
    let mut at = 0;
    while at < len {
        let n = CHUNK.min(len - at);
        bitmap.bytes_into(at, n, &mut buf);
        sink.write_at(offset + at as u64, &buf)?;
        at += n;
    }
    Ok(())
}
