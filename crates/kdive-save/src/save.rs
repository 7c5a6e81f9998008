//! One `kdive save` run: open SOURCE, plan the pages, write DEST safely, report.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use kdive_kspace::KernelSpace;

use crate::compress::Codec;
use crate::elf_writer::ElfJob;
use crate::error::{Result, SaveError};
use crate::filter;
use crate::kdump_writer::{KdumpJob, WriteStats};
use crate::level::DumpLevel;
use crate::meta;
use crate::output::{install_signal_handlers, PendingFile};
use crate::progress::{summary, Progress};
use crate::sink::{FileSink, FlatSink, Sink};
use crate::source::SourceDump;

#[derive(Debug, Clone)]
pub struct Options {
    pub source: PathBuf,
    /// `-` with `flat` (or `dump_dmesg`): standard output.
    pub dest: PathBuf,
    pub level: u8,
    pub codec: Codec,
    pub elf: bool,
    pub flat: bool,
    pub dump_dmesg: bool,
    /// `--dump-dmesg` without the caller column (makedumpfile <= 1.7.2's format).
    pub dmesg_no_caller: bool,
    pub threads: usize,
    pub force: bool,
    pub quiet: bool,
    /// Highest page frame number a source may describe; the output's two bitmaps take
    /// `2 * max_pfn / 8` bytes. [`MAX_PFN`](crate::source::MAX_PFN) (4 TiB) by default; the
    /// fuzz target lowers it so that each hostile header costs milliseconds, not seconds.
    pub max_pfn: u64,
}

impl Options {
    /// `kdive save SOURCE DEST` with the command line's defaults: dump level 31, zstd, a
    /// kdump-compressed file, one compression thread per core, a progress bar on a terminal.
    pub fn new(source: PathBuf, dest: PathBuf) -> Options {
        Options {
            source,
            dest,
            level: 31,
            codec: Codec::Zstd,
            elf: false,
            flat: false,
            dump_dmesg: false,
            dmesg_no_caller: false,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            force: false,
            quiet: false,
            max_pfn: crate::source::MAX_PFN,
        }
    }
}

/// How a run ended (errors that leave no DEST are `Err`).
#[derive(Debug, Default)]
pub struct Outcome {
    pub summary: String,
    pub warnings: Vec<String>,
    /// DEST was written but is marked incomplete, because of this.
    pub incomplete: Option<String>,
    pub stats: WriteStats,
    /// The dump level applied.
    pub level: u8,
}

fn to_stdout(dest: &std::path::Path) -> bool {
    dest.as_os_str() == "-"
}

pub fn save(o: &Options) -> Result<Outcome> {
    install_signal_handlers();
    let start = Instant::now();
    if to_stdout(&o.dest) && !o.flat && !o.dump_dmesg {
        return Err(SaveError::Usage(
            "DEST `-` (standard output) needs --flat: a kdump file must be seekable".into(),
        ));
    }
    if o.dump_dmesg {
        return dump_dmesg(o);
    }
    let src = Arc::new(SourceDump::open(&o.source, o.max_pfn)?);
    let source_bytes = std::fs::metadata(&o.source).map(|m| m.len()).unwrap_or(0);
    let mut warnings = Vec::new();
    let ks = match src.dump.vmcoreinfo() {
        Some(v) => match KernelSpace::bootstrap(src.clone(), Some(v), Some(src.dump.notes())) {
            Ok(k) => Some(k),
            Err(e) => {
                warnings.push(format!("kernel address space: {e}"));
                None
            }
        },
        None => None,
    };
    let mut plan = filter::plan(&src, ks.as_ref(), DumpLevel(o.level), o.threads);
    if o.elf && DumpLevel(o.level).has(DumpLevel::ZERO) {
        filter::exclude_zero_pages(&src, &mut plan);
    }
    if let Some(why) = &plan.stats.no_mem_map {
        warnings.push(format!(
            "dump level {} needs the kernel's mem_map ({why}); applied level {} instead",
            o.level, plan.level.0
        ));
    }
    if plan.stats.undecided > 0 {
        warnings.push(format!(
            "{} pages kept because their struct page could not be read",
            plan.stats.undecided
        ));
    }
    let meta = meta::collect(&src.dump, ks.as_ref());
    let mut progress = Progress::new(plan.keep.count(), src.page_size, o.quiet);
    let page_offset = ks
        .as_ref()
        .map(|k| k.layout().page_offset_base)
        .filter(|f| f.is_known())
        .map_or(0, |f| f.value);

    let write = |sink: &mut dyn Sink, progress: &mut Progress, header_first: bool| {
        let on_io = |e: std::io::Error| SaveError::io(&o.dest, "write", e);
        if o.elf {
            ElfJob {
                src: &src,
                plan: &plan,
                meta: &meta,
                threads: o.threads,
                page_offset,
            }
            .write(sink, progress, &on_io)
        } else {
            KdumpJob {
                src: &src,
                plan: &plan,
                meta: &meta,
                codec: o.codec,
                threads: o.threads,
                header_first,
            }
            .write(sink, progress, &on_io)
        }
    };

    let mut incomplete = None;
    let stats = if to_stdout(&o.dest) {
        let mut sink = FlatSink::new(BufWriter::with_capacity(1 << 20, std::io::stdout()));
        write(&mut sink, &mut progress, false)?
    } else {
        let (pending, file) = PendingFile::create(&o.dest, o.force)?;
        let clone = file
            .try_clone()
            .map_err(|e| SaveError::io(&pending.tmp, "dup", e))?;
        let mut sink: Box<dyn Sink> = if o.flat {
            Box::new(FlatSink::new(BufWriter::with_capacity(1 << 20, clone)))
        } else {
            Box::new(FileSink { file: clone })
        };
        match write(sink.as_mut(), &mut progress, !o.flat) {
            Ok(s) => {
                drop(sink);
                pending.commit(&file)?;
                s
            }
            // A seekable dump's header says "incomplete" from the start: keep what fits.
            Err(e) if e.is_out_of_space() && !o.flat => {
                drop(sink);
                progress.finish();
                pending.commit(&file).map_err(|_| e)?;
                return Ok(Outcome {
                    incomplete: Some("the disk is full".into()),
                    warnings,
                    ..Outcome::default()
                });
            }
            Err(e) => return Err(e),
        }
    };
    progress.finish();
    if stats.unreadable > 0 || plan.stats.unreadable > 0 {
        incomplete = Some(format!(
            "{} pages of the source could not be read (truncated or damaged source)",
            stats.unreadable + plan.stats.unreadable
        ));
    }
    let kept = plan.keep.count();
    let text = summary(
        &plan.stats,
        kept,
        stats.pages_written,
        stats.zero_pages,
        stats.bytes,
        source_bytes,
        start.elapsed().as_secs_f64(),
    );
    Ok(Outcome {
        summary: text,
        warnings,
        incomplete,
        stats,
        level: plan.level.0,
    })
}

fn dump_dmesg(o: &Options) -> Result<Outcome> {
    let k = kdive_kernel::Kernel::open(&kdive_kernel::OpenOptions {
        files: vec![o.source.clone()],
    })
    .map_err(|e| SaveError::NotADump {
        path: o.source.clone(),
        detail: e.to_string(),
    })?;
    let log = k
        .printk_log()
        .map_err(|e| SaveError::Filter(format!("kernel log: {e}")))?;
    let with_caller = !o.dmesg_no_caller && k.vmcoreinfo.offset("printk_info.caller_id").is_some();
    let text = crate::dmesg::render(&log, with_caller);
    if to_stdout(&o.dest) {
        let mut out = std::io::stdout().lock();
        out.write_all(&text)
            .and_then(|_| out.flush())
            .map_err(|e| SaveError::io("-", "write", e))?;
    } else {
        let (pending, mut file) = PendingFile::create(&o.dest, o.force)?;
        file.write_all(&text)
            .map_err(|e| SaveError::io(&pending.tmp, "write", e))?;
        pending.commit(&file)?;
    }
    Ok(Outcome {
        warnings: log.problems,
        ..Outcome::default()
    })
}
