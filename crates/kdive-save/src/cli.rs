//! `kdive save` command line: its own parser (the `kdive` binary hands over everything after
//! `save`), then the run, the messages and the exit status.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Parser;

use crate::compress::Codec;
use crate::save::{save, Options};

#[derive(Debug, Parser)]
#[command(
    name = "kdive save",
    about = "Copy a crash dump filtered and compressed (kdump-compressed, flattened or ELF)",
    long_about = "Copy a crash dump (by default /proc/vmcore, or any dump kdive reads) into a \
        kdump-compressed file that crash, drgn and makedumpfile read. Pages are filtered by dump \
        level (makedumpfile's: 1 zero, 2 cache, 4 private cache, 8 user, 16 free) using the \
        dump's own VMCOREINFO and mem_map, and compressed on every core."
)]
struct Args {
    /// Dump level: sum of 1 (zero pages), 2 (cache), 4 (private cache), 8 (user data), 16 (free).
    #[arg(short = 'd', long = "dump-level", default_value_t = 31, value_parser = clap::value_parser!(u8).range(0..=31))]
    level: u8,
    /// Page compression.
    #[arg(long, default_value = "zstd")]
    compress: Codec,
    /// Write a filtered ELF vmcore instead of kdump-compressed.
    #[arg(long, conflicts_with = "flat")]
    elf: bool,
    /// Write makedumpfile's flattened format (DEST `-` streams it to stdout).
    #[arg(long)]
    flat: bool,
    /// Write the kernel log to DEST, as `makedumpfile --dump-dmesg` does, instead of a dump.
    #[arg(long = "dump-dmesg", conflicts_with_all = ["elf", "flat"])]
    dump_dmesg: bool,
    /// With --dump-dmesg: no `[    T123]` caller column (makedumpfile 1.7.2 and older).
    #[arg(long = "no-caller", requires = "dump_dmesg")]
    no_caller: bool,
    /// Compression threads (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Replace DEST if it exists.
    #[arg(short, long)]
    force: bool,
    /// No progress bar and no summary.
    #[arg(short, long)]
    quiet: bool,
    /// [SOURCE] DEST: SOURCE defaults to /proc/vmcore.
    #[arg(required = true, num_args = 1..=2, value_name = "PATHS")]
    paths: Vec<PathBuf>,
}

/// Runs `kdive save` with `args` (without the program name and `save`); returns the exit code.
pub fn main(args: Vec<OsString>) -> i32 {
    let argv = std::iter::once(OsString::from("kdive save")).chain(args);
    let a = match Args::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let (source, dest) = match a.paths.as_slice() {
        [d] => (PathBuf::from("/proc/vmcore"), d.clone()),
        [s, d] => (s.clone(), d.clone()),
        _ => unreachable!("clap enforces 1..=2 paths"),
    };
    let defaults = Options::new(source, dest);
    let opts = Options {
        level: a.level,
        codec: a.compress,
        elf: a.elf,
        flat: a.flat,
        dump_dmesg: a.dump_dmesg,
        dmesg_no_caller: a.no_caller,
        threads: a.threads.unwrap_or(defaults.threads),
        force: a.force,
        quiet: a.quiet,
        ..defaults
    };
    match save(&opts) {
        Ok(outcome) => {
            for w in &outcome.warnings {
                eprintln!("kdive save: warning: {w}");
            }
            if !opts.quiet && !outcome.summary.is_empty() {
                eprintln!("{}", outcome.summary);
            }
            if let Some(why) = &outcome.incomplete {
                eprintln!(
                    "kdive save: {}: INCOMPLETE dump written: {why}",
                    opts.dest.display()
                );
                return 1;
            }
            0
        }
        Err(e) => {
            eprintln!("kdive save: {e}");
            match e {
                crate::error::SaveError::Usage(_) => 2,
                crate::error::SaveError::Interrupted(s) => 128 + s,
                _ => 1,
            }
        }
    }
}
