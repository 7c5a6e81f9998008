//! A task's memory as `ps` shows it: virtual size (`mm->total_vm`) and resident pages (the
//! file, anon and shmem counters of `mm->rss_stat`) — atomic counters before 6.2 (plus each
//! thread's unsynced `task_struct.rss_stat` cache), per-CPU counters (`percpu_counter`) since.

use crate::{AddrExt, Kernel, Result};

/// Memory use of one address space, in pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct MmUsage {
    pub total_vm: u64,
    pub rss: u64,
}

/// How this kernel keeps its RSS counters.
#[derive(Debug, Clone)]
enum RssLayout {
    /// `struct mm_rss_stat { atomic_long_t count[N]; }` at `mm_struct.rss_stat` (< 6.2).
    Atomic { count: u64 },
    /// `struct percpu_counter rss_stat[N]` (6.2+): `count` plus each CPU's `*counters`.
    PerCpu {
        base: u64,
        stride: u64,
        count: u64,
        counters: u64,
    },
}

/// Everything needed to read any mm's usage, resolved once.
#[derive(Debug, Clone)]
pub struct MmReader {
    total_vm: u64,
    rss: RssLayout,
    /// Indexes of MM_FILEPAGES, MM_ANONPAGES, MM_SHMEMPAGES.
    counters: Vec<u64>,
    /// `task_struct.rss_stat.count` (SPLIT_RSS_COUNTING, < 6.2).
    task_cache: Option<u64>,
    per_cpu_offsets: Vec<u64>,
}

impl MmReader {
    pub fn new(k: &Kernel) -> Result<MmReader> {
        let total_vm = k.layout.offset("mm_struct", "total_vm")?;
        let rss = if let Some(m) = k.layout.member("mm_struct", "rss_stat.count") {
            RssLayout::Atomic { count: m.offset }
        } else {
            RssLayout::PerCpu {
                base: k.layout.offset("mm_struct", "rss_stat")?,
                stride: k.layout.struct_size("percpu_counter")?,
                count: k.layout.offset("percpu_counter", "count")?,
                counters: k.layout.offset("percpu_counter", "counters")?,
            }
        };
        let enumerator = |name: &str, default: u64| {
            // An anonymous enum: types know it once loaded; its values have not changed
            // since 4.5 (the defaults).
            k.layout
                .loaded_enumerator(name)
                .map(|v| v as u64)
                .unwrap_or(default)
        };
        let counters = vec![
            enumerator("MM_FILEPAGES", 0),
            enumerator("MM_ANONPAGES", 1),
            enumerator("MM_SHMEMPAGES", 3),
        ];
        let task_cache = k
            .layout
            .member("task_struct", "rss_stat.count")
            .map(|m| m.offset);
        let per_cpu_offsets = match &rss {
            RssLayout::PerCpu { .. } => {
                let cpus = k
                    .cpu_counts()
                    .map(|c| c.present)
                    .unwrap_or_else(|_| vec![0]);
                cpus.iter()
                    .filter_map(|&c| k.per_cpu_offset(c).ok())
                    .collect()
            }
            RssLayout::Atomic { .. } => Vec::new(),
        };
        Ok(MmReader {
            total_vm,
            rss,
            counters,
            task_cache,
            per_cpu_offsets,
        })
    }

    /// Usage of `mm`; `threads` are the tasks using it, whose cached counts are added (< 6.2).
    pub fn usage(&self, k: &Kernel, mm: u64, threads: &[u64]) -> Result<MmUsage> {
        let total_vm = k.read_u64(mm.off(self.total_vm), "mm_struct.total_vm")?;
        let mut rss: i64 = 0;
        for &i in &self.counters {
            match &self.rss {
                RssLayout::Atomic { count } => {
                    let v = k.read_u64(mm.off(*count).elem(i, 8), "mm_struct.rss_stat.count[]")?;
                    rss = rss.saturating_add(v as i64);
                }
                RssLayout::PerCpu {
                    base,
                    stride,
                    count,
                    counters,
                } => {
                    let pc = mm.off(*base).elem(i, *stride);
                    rss = rss
                        .saturating_add(k.read_u64(pc.off(*count), "percpu_counter.count")? as i64);
                    let percpu = k.read_u64(pc.off(*counters), "percpu_counter.counters")?;
                    if percpu != 0 {
                        for off in &self.per_cpu_offsets {
                            let v = k.read_u32(percpu.off(*off), "percpu_counter.counters[cpu]")?
                                as i32;
                            rss = rss.saturating_add(v as i64);
                        }
                    }
                }
            }
            if let Some(cache) = self.task_cache {
                for t in threads {
                    let v = k.read_u32(t.off(cache).elem(i, 4), "task_struct.rss_stat.count[]")?;
                    rss = rss.saturating_add(v as i32 as i64);
                }
            }
        }
        Ok(MmUsage {
            total_vm,
            rss: rss.max(0) as u64,
        })
    }
}

impl Kernel {
    /// The page count crash divides RSS by for %MEM: the highest page frame (`max_pfn`), else
    /// the present pages.
    pub fn total_pages_for_pct(&self) -> Result<u64> {
        if let Ok(a) = self.symbol_addr("max_pfn") {
            if let Ok(v) = self.read_u64(a, "max_pfn") {
                if v > 0 {
                    return Ok(v);
                }
            }
        }
        self.present_pages()
    }
}
