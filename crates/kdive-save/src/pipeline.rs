//! Parallel copy: jobs (runs of pages to keep) are read and compressed on every core, and
//! handed back in order to one consumer (the writer). Memory stays bounded: at most `depth`
//! jobs are in flight between the dispatcher and the writer.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Mutex;

use crate::compress::{Codec, PageCompressor};
use crate::error::Result;
use crate::output::check_signal;
use crate::source::SourceDump;

/// Pages per job (1 MiB of 4 KiB pages): the read window and the unit of ordering.
pub const JOB_PAGES: u64 = 256;

#[derive(Debug, Clone, Copy)]
pub struct Job {
    pub pfn: u64,
    pub n: u64,
}

/// How one page came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// All zero bytes (only reported when zero pages are being shared).
    Zero,
    /// `len` bytes of `Done::data`, descriptor flags `flags` (0 = raw).
    Data { len: u32, flags: u32 },
    /// The source could not provide it.
    Unreadable,
}

pub struct Done {
    pub job: Job,
    pub pages: Vec<Stored>,
    pub data: Vec<u8>,
}

/// Splits the runs of kept pages into jobs.
pub fn jobs(runs: impl Iterator<Item = (u64, u64)>) -> Vec<Job> {
    let mut v = Vec::new();
    for (s, e) in runs {
        let mut p = s;
        while p < e {
            let n = (e - p).min(JOB_PAGES - p % JOB_PAGES);
            v.push(Job { pfn: p, n });
            p += n;
        }
    }
    v
}

/// True when every byte is zero: OR-folded in 256-byte blocks (a loop the compiler vectorizes),
/// stopping at the first block with a set bit.
pub(crate) fn is_zero(page: &[u8]) -> bool {
    page.chunks(256)
        .all(|block| block.iter().fold(0u8, |acc, &b| acc | b) == 0)
}

fn process(src: &SourceDump, job: Job, pc: &mut PageCompressor, share_zero: bool) -> Done {
    let ps = src.page_size as usize;
    let mut pages = Vec::with_capacity(job.n as usize);
    let mut data = Vec::with_capacity(job.n as usize * ps / 2);
    let mut store = |page: &[u8], pages: &mut Vec<Stored>, data: &mut Vec<u8>| {
        if share_zero && is_zero(page) {
            pages.push(Stored::Zero);
            return;
        }
        let before = data.len();
        let flags = pc.compress(page, data);
        pages.push(Stored::Data {
            len: (data.len() - before) as u32,
            flags,
        });
    };
    match src.read_window(job.pfn, job.n) {
        Ok(w) => {
            for page in w.bytes().chunks_exact(ps).take(job.n as usize) {
                store(page, &mut pages, &mut data);
            }
        }
        Err(_) => {
            // Page by page, so one bad page costs only itself.
            let mut buf = vec![0u8; ps];
            for i in 0..job.n {
                match src.read_filled((job.pfn + i) * ps as u64, &mut buf) {
                    Ok(()) => store(&buf, &mut pages, &mut data),
                    Err(_) => pages.push(Stored::Unreadable),
                }
            }
        }
    }
    Done { job, pages, data }
}

/// Runs `jobs` on `threads` workers; `consume` sees the results in job order. Stops early
/// (returning the error) when `consume` fails or a signal arrives.
pub fn run<F>(
    src: &SourceDump,
    jobs: &[Job],
    codec: Codec,
    share_zero: bool,
    threads: usize,
    mut consume: F,
) -> Result<()>
where
    F: FnMut(Done) -> Result<()>,
{
    let threads = threads.max(1);
    let depth = 2 * threads + 2;
    let stop = AtomicBool::new(false);
    let (job_tx, job_rx) = sync_channel::<(usize, Job)>(threads);
    let job_rx = Mutex::new(job_rx);
    std::thread::scope(|s| {
        let (done_tx, done_rx) = sync_channel::<(usize, Done)>(depth);
        let (tok_tx, tok_rx) = sync_channel::<()>(depth);
        for _ in 0..depth {
            tok_tx.send(()).expect("fresh channel");
        }
        let stop = &stop;
        s.spawn(move || {
            for (i, j) in jobs.iter().enumerate() {
                if tok_rx.recv().is_err() || check_signal().is_err() || stop.load(Relaxed) {
                    break;
                }
                if job_tx.send((i, *j)).is_err() {
                    break;
                }
            }
        });
        for _ in 0..threads {
            let done_tx = done_tx.clone();
            let job_rx = &job_rx;
            s.spawn(move || {
                let mut pc = PageCompressor::new(codec);
                // Drains the job channel even after a stop, so the dispatcher never blocks.
                loop {
                    let next = job_rx.lock().map(|r| r.recv());
                    let Ok(Ok((i, job))) = next else { break };
                    if stop.load(Relaxed) {
                        continue;
                    }
                    if done_tx
                        .send((i, process(src, job, &mut pc, share_zero)))
                        .is_err()
                    {
                        stop.store(true, Relaxed);
                    }
                }
            });
        }
        drop(done_tx);
        let r = write_in_order(done_rx, tok_tx, jobs.len(), &mut consume);
        if r.is_err() {
            stop.store(true, Relaxed);
        }
        r
    })
}

fn write_in_order<F>(
    done_rx: Receiver<(usize, Done)>,
    tok_tx: std::sync::mpsc::SyncSender<()>,
    total: usize,
    consume: &mut F,
) -> Result<()>
where
    F: FnMut(Done) -> Result<()>,
{
    let mut waiting = BTreeMap::new();
    let mut next = 0usize;
    while next < total {
        check_signal()?;
        let Ok((i, d)) = done_rx.recv() else { break };
        waiting.insert(i, d);
        while let Some(d) = waiting.remove(&next) {
            consume(d)?;
            next += 1;
            let _ = tok_tx.send(());
        }
    }
    check_signal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_aligned_and_bounded() {
        let j = jobs([(10, 600), (1000, 1001)].into_iter());
        let v: Vec<(u64, u64)> = j.iter().map(|j| (j.pfn, j.n)).collect();
        assert_eq!(v, vec![(10, 246), (256, 256), (512, 88), (1000, 1)]);
        assert!(is_zero(&[0u8; 4096]));
        let mut p = [0u8; 4096];
        p[4095] = 1;
        assert!(!is_zero(&p));
    }
}
