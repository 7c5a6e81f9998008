//! Progress on a terminal (percent, MB/s, ETA, pages kept), nothing on a pipe; and the
//! summary printed at the end.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::filter::FilterStats;
use crate::level::PageClass;

pub struct Progress {
    enabled: bool,
    total_pages: u64,
    page_size: u64,
    done_pages: u64,
    out_bytes: u64,
    start: Instant,
    last: Instant,
}

impl Progress {
    /// Shows a bar only when stderr is a terminal and `quiet` is off.
    pub fn new(total_pages: u64, page_size: u64, quiet: bool) -> Progress {
        // SAFETY: isatty has no preconditions.
        let tty = unsafe { libc::isatty(2) } == 1;
        let now = Instant::now();
        Progress {
            enabled: tty && !quiet,
            total_pages,
            page_size,
            done_pages: 0,
            out_bytes: 0,
            start: now,
            last: now - Duration::from_secs(1),
        }
    }

    pub fn advance(&mut self, pages: u64, out_bytes: u64) {
        self.done_pages += pages;
        self.out_bytes += out_bytes;
        if !self.enabled || self.last.elapsed() < Duration::from_millis(200) {
            return;
        }
        self.last = Instant::now();
        let t = self.start.elapsed().as_secs_f64().max(1e-3);
        let frac = self.done_pages as f64 / self.total_pages.max(1) as f64;
        let mbs = (self.done_pages * self.page_size) as f64 / t / 1e6;
        let eta = if frac > 0.0 {
            t * (1.0 - frac) / frac
        } else {
            0.0
        };
        let width = 30usize;
        let fill = ((frac * width as f64) as usize).min(width);
        eprint!(
            "\r[{}{}] {:5.1}% {:7.1} MB/s ETA {:4.0}s  {} pages kept ",
            "#".repeat(fill),
            " ".repeat(width - fill),
            frac * 100.0,
            mbs,
            eta,
            self.done_pages
        );
        let _ = std::io::stderr().flush();
    }

    pub fn finish(&mut self) {
        if self.enabled {
            eprint!("\r{}\r", " ".repeat(80));
        }
    }
}

/// The end-of-run summary.
pub fn summary(
    f: &FilterStats,
    pages_read: u64,
    written: u64,
    zero: u64,
    out_bytes: u64,
    source_bytes: u64,
    secs: f64,
) -> String {
    let ex = |c: PageClass| f.excluded.get(&c).copied().unwrap_or(0);
    let mut s = format!(
        "kdive save: {} RAM pages, {} read; excluded: zero {}, cache {}, private cache {}, user {}, free {}",
        f.ram,
        pages_read,
        zero + f.zero,
        ex(PageClass::Cache),
        ex(PageClass::CachePrivate),
        ex(PageClass::User),
        ex(PageClass::Free),
    );
    if ex(PageClass::HwPoison) > 0 {
        s += &format!(", hwpoison {}", ex(PageClass::HwPoison));
    }
    if f.absent_in_source > 0 {
        s += &format!(", already excluded in the source {}", f.absent_in_source);
    }
    // The share of the source only means something when the output is the smaller one (a tiny
    // damaged source can still describe terabytes, whose bitmaps alone outweigh it).
    let share = if out_bytes <= source_bytes {
        format!(
            " ({:.2}% of {:.1} MB)",
            100.0 * out_bytes as f64 / source_bytes.max(1) as f64,
            source_bytes as f64 / 1e6
        )
    } else {
        format!(" (source: {source_bytes} bytes)")
    };
    s += &format!(
        "\nkdive save: {} pages written, {:.1} MB{share}, {:.2} s",
        written,
        out_bytes as f64 / 1e6,
        secs
    );
    s
}
