//! A bounded cache of page-table walks: virtual page → physical page.
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
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl TranslationCache {
    pub fn new(capacity: usize) -> TranslationCache {
        TranslationCache {
            pages: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Physical page of a virtual page (both page-aligned), if cached.
    pub fn get(&self, va_page: u64) -> Option<u64> {
        let found = self
            .pages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&va_page)
            .copied();
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
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
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.pages.lock().unwrap_or_else(|e| e.into_inner()).len(),
        }
    }
}
