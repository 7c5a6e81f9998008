//! A bounded cache of page-table walks: virtual page → physical page, and large mappings
//! (2 MiB, 1 GiB) as one entry each, so a scan of `vmemmap` walks once per huge page.
//! The kernel model reads millions of words; most land on a few thousand pages.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Entries kept before the cache is emptied and refilled (64 Ki pages = 256 MiB of 4 KiB pages).
pub const DEFAULT_CAPACITY: usize = 1 << 16;

/// How the cache has fared so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub entries: usize,
}

pub struct TranslationCache {
    pages: Mutex<HashMap<u64, u64>>,
    large: Mutex<LargeMappings>,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Mappings larger than a base page.
#[derive(Default)]
struct LargeMappings {
    /// (size, virtual base) → physical base.
    map: HashMap<(u64, u64), u64>,
    /// The distinct sizes seen so far (a handful at most), smallest first.
    sizes: Vec<u64>,
}

impl TranslationCache {
    pub fn new(capacity: usize) -> TranslationCache {
        TranslationCache {
            pages: Mutex::new(HashMap::new()),
            large: Mutex::new(LargeMappings::default()),
            capacity: capacity.max(1),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Counts a lookup that neither [`Self::get`] nor [`Self::get_large`] answered.
    pub fn record_miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }

    /// Physical page of a virtual page (both page-aligned), if cached.
    pub fn get(&self, va_page: u64) -> Option<u64> {
        let found = self
            .pages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&va_page)
            .copied();
        if found.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    /// Physical address of `va` inside a cached large mapping, and that mapping's size.
    pub fn get_large(&self, va: u64) -> Option<(u64, u64)> {
        let large = self.large.lock().unwrap_or_else(|e| e.into_inner());
        let found = large.sizes.iter().find_map(|&size| {
            let pa = *large.map.get(&(size, va & !(size - 1)))?;
            Some((pa | (va & (size - 1)), size))
        });
        if found.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    /// Records the mapping of `size` bytes (a power of two) that takes `va` to `pa`; both may
    /// point anywhere inside it.
    pub fn insert_large(&self, va: u64, pa: u64, size: u64) {
        if !size.is_power_of_two() {
            return;
        }
        let mut large = self.large.lock().unwrap_or_else(|e| e.into_inner());
        if large.map.len() >= self.capacity {
            large.map.clear();
        }
        large.map.insert((size, va & !(size - 1)), pa & !(size - 1));
        if !large.sizes.contains(&size) {
            large.sizes.push(size);
            large.sizes.sort_unstable();
        }
    }

    pub fn insert(&self, va_page: u64, pa_page: u64) {
        let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        if pages.len() >= self.capacity {
            // Dumps are static, so nothing is ever stale; emptying is the cheapest bound.
            pages.clear();
        }
        pages.insert(va_page, pa_page);
    }

    pub fn clear(&self) {
        self.pages.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.large
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map
            .clear();
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.pages.lock().unwrap_or_else(|e| e.into_inner()).len()
                + self
                    .large
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .map
                    .len(),
        }
    }
}
