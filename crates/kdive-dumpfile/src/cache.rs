//! A small bounded cache of decompressed pages (least recently used out), shared between
//! threads behind a mutex.

use std::collections::HashMap;
use std::sync::Mutex;

/// Pages kept by default.
pub const DEFAULT_PAGES: usize = 256;

struct Inner {
    pages: HashMap<u64, (u64, Box<[u8]>)>,
    tick: u64,
}

/// Decompressed pages by PFN.
pub(crate) struct PageCache {
    inner: Mutex<Inner>,
    capacity: usize,
}

impl PageCache {
    pub(crate) fn new(capacity: usize) -> PageCache {
        PageCache {
            inner: Mutex::new(Inner {
                pages: HashMap::new(),
                tick: 0,
            }),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves a consistent map: keep using it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Copies `dst.len()` bytes at `offset` of page `pfn` into `dst`, if the page is cached.
    pub(crate) fn read(&self, pfn: u64, offset: usize, dst: &mut [u8]) -> bool {
        let mut g = self.lock();
        g.tick += 1;
        let tick = g.tick;
        match g.pages.get_mut(&pfn) {
            Some((used, page)) => {
                *used = tick;
                dst.copy_from_slice(&page[offset..offset + dst.len()]);
                true
            }
            None => false,
        }
    }

    pub(crate) fn insert(&self, pfn: u64, page: Vec<u8>) {
        let mut g = self.lock();
        g.tick += 1;
        let tick = g.tick;
        if g.pages.len() >= self.capacity && !g.pages.contains_key(&pfn) {
            if let Some(&oldest) = g
                .pages
                .iter()
                .min_by_key(|(_, (used, _))| *used)
                .map(|(k, _)| k)
            {
                g.pages.remove(&oldest);
            }
        }
        g.pages.insert(pfn, (tick, page.into_boxed_slice()));
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().pages.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_least_recently_used() {
        let c = PageCache::new(2);
        c.insert(1, vec![1; 8]);
        c.insert(2, vec![2; 8]);
        let mut b = [0u8; 4];
        assert!(c.read(1, 4, &mut b));
        assert_eq!(b, [1; 4]);
        c.insert(3, vec![3; 8]);
        assert_eq!(c.len(), 2);
        assert!(!c.read(2, 0, &mut b));
        assert!(c.read(1, 0, &mut b));
        assert!(c.read(3, 0, &mut b));
    }
}
