//! Dump levels as makedumpfile defines them, and the decision for one page from its
//! `struct page`, following the encoding the dump's own kernel uses (read from VMCOREINFO).
//!
//! Two page-type encodings exist. Up to ~6.8 a typed page has `page_type` = `0xf0000000`-based
//! with one bit *cleared* per type (`PAGE_BUDDY_MAPCOUNT_VALUE = ~PG_buddy = -129` on 6.1) and
//! slab pages carry the `PG_slab` flag. From 6.12 (include/linux/page-flags.h `enum pagetype`)
//! the type is the top byte of `page_type` (`PGTY_buddy = 0xf0` ... `0xfe`; `0xff` and
//! `0x00..0x7f` are mapcounts), slab is a type (`PAGE_SLAB_MAPCOUNT_VALUE = 0xf5 << 24`) and
//! `PG_slab` is gone. A slab page's `mapping` word then holds SLUB data (a hardened freelist
//! pointer can have bit 0 set), so "anonymous" must be decided only for untyped pages.

use kdive_dumpfile::Vmcoreinfo;

/// makedumpfile's dump level bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DumpLevel(pub u8);

impl DumpLevel {
    pub const ZERO: u8 = 1;
    pub const CACHE: u8 = 2;
    pub const CACHE_PRIVATE: u8 = 4;
    pub const USER: u8 = 8;
    pub const FREE: u8 = 16;

    pub fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
    /// True when deciding needs the kernel's `mem_map` (everything but zero pages).
    pub fn needs_mem_map(self) -> bool {
        self.0 & !Self::ZERO != 0
    }
    /// Whether a page of class `c` is left out at this level.
    pub fn excludes(self, c: PageClass) -> bool {
        match c {
            PageClass::Keep => false,
            PageClass::Free => self.has(Self::FREE),
            PageClass::Cache => self.has(Self::CACHE) || self.has(Self::CACHE_PRIVATE),
            PageClass::CachePrivate => self.has(Self::CACHE_PRIVATE),
            PageClass::User => self.has(Self::USER),
            // Never read a poisoned page (a machine check); only known when mem_map is read.
            PageClass::HwPoison => self.needs_mem_map(),
        }
    }
}

/// What a page is, for filtering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PageClass {
    Keep,
    /// In the buddy allocator (a free block's pages).
    Free,
    /// Page cache without private data.
    Cache,
    /// Page cache with `PG_private`.
    CachePrivate,
    /// Anonymous or hugetlbfs memory of user processes.
    User,
    HwPoison,
}

/// How `page_type` (the word that overlays `_mapcount`) encodes types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeEncoding {
    /// 6.12+: the type is the top byte (`PGTY_*` 0xf0..=0xfe).
    TopByte,
    /// Older: `PAGE_TYPE_BASE` with one bit cleared per type; values below -128
    /// (`PAGE_MAPCOUNT_RESERVE`) are types.
    ClearedBit,
}

/// Fields of one `struct page` that the decision uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageFields {
    pub flags: u64,
    /// `page_type` / `_mapcount` (same word).
    pub page_type: u32,
    pub mapping: u64,
    pub private: u64,
    /// `compound_head` (bit 0 set on tail pages: head address + 1).
    pub compound_head: u64,
}

/// Struct offsets and the kernel's page-flag/type numbers, from VMCOREINFO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRules {
    pub page_size: u64,
    pub struct_size: u64,
    pub off_flags: u64,
    pub off_page_type: u64,
    pub off_mapping: u64,
    pub off_private: u64,
    pub off_compound_head: Option<u64>,
    pub encoding: TypeEncoding,
    pub buddy: Option<u32>,
    pub slab_type: Option<u32>,
    pub hugetlb_type: Option<u32>,
    pub pg_slab: Option<u32>,
    pub pg_lru: Option<u32>,
    pub pg_private: Option<u32>,
    pub pg_swapcache: Option<u32>,
    pub pg_swapbacked: Option<u32>,
    pub pg_hwpoison: Option<u32>,
}

/// Highest buddy order any kernel uses (MAX_ORDER 11 → orders 0..=10; 6.12 MAX_PAGE_ORDER 10).
const MAX_BUDDY_ORDER: u64 = 10;
/// `PAGE_MAPPING_ANON`.
const MAPPING_ANON: u64 = 1;

impl PageRules {
    /// Reads the rules from VMCOREINFO; the error names what is missing.
    pub fn from_vmcoreinfo(v: &Vmcoreinfo) -> Result<PageRules, String> {
        let need_off = |k: &str| {
            v.offset(k)
                .ok_or_else(|| format!("VMCOREINFO has no OFFSET({k})"))
        };
        let num = |k: &str| v.number(k).and_then(|n| u32::try_from(n).ok());
        let ty = |k: &str| v.number(k).map(|n| n as i32 as u32);
        let buddy = ty("PAGE_BUDDY_MAPCOUNT_VALUE");
        let slab_type = ty("PAGE_SLAB_MAPCOUNT_VALUE");
        let encoding = match buddy.or(slab_type) {
            Some(x) if x & 0x00ff_ffff == 0 => TypeEncoding::TopByte,
            _ => TypeEncoding::ClearedBit,
        };
        let pg_slab = num("PG_slab");
        if pg_slab.is_none() && slab_type.is_none() {
            return Err("VMCOREINFO has neither NUMBER(PG_slab) nor \
                        NUMBER(PAGE_SLAB_MAPCOUNT_VALUE): cannot tell slab pages"
                .into());
        }
        Ok(PageRules {
            page_size: v.page_size().unwrap_or(4096),
            struct_size: v.size("page").ok_or("VMCOREINFO has no SIZE(page)")?,
            off_flags: need_off("page.flags")?,
            off_page_type: need_off("page._mapcount")?,
            off_mapping: need_off("page.mapping")?,
            off_private: need_off("page.private")?,
            off_compound_head: v.offset("page.compound_head"),
            encoding,
            buddy,
            slab_type,
            hugetlb_type: ty("PAGE_HUGETLB_MAPCOUNT_VALUE"),
            pg_slab,
            pg_lru: num("PG_lru"),
            pg_private: num("PG_private"),
            pg_swapcache: num("PG_swapcache"),
            pg_swapbacked: num("PG_swapbacked"),
            pg_hwpoison: num("PG_hwpoison"),
        })
    }

    /// Decodes the fields of one `struct page` from its bytes.
    pub fn fields(&self, b: &[u8]) -> PageFields {
        let u64_at = |o: u64| {
            b.get(o as usize..o as usize + 8)
                .map_or(0, |s| u64::from_le_bytes(s.try_into().unwrap()))
        };
        let u32_at = |o: u64| {
            b.get(o as usize..o as usize + 4)
                .map_or(0, |s| u32::from_le_bytes(s.try_into().unwrap()))
        };
        PageFields {
            flags: u64_at(self.off_flags),
            page_type: u32_at(self.off_page_type),
            mapping: u64_at(self.off_mapping),
            private: u64_at(self.off_private),
            compound_head: self.off_compound_head.map_or(0, u64_at),
        }
    }

    fn flag(&self, f: &PageFields, bit: Option<u32>) -> bool {
        bit.is_some_and(|b| b < 64 && f.flags & (1 << b) != 0)
    }

    /// The page carries a type (buddy, slab, table, offline, guard, hugetlb, ...).
    pub fn has_type(&self, t: u32) -> bool {
        match self.encoding {
            TypeEncoding::TopByte => (0xf0..0xff).contains(&(t >> 24)),
            TypeEncoding::ClearedBit => (t as i32) < -128,
        }
    }

    /// `page_type` says `ty` (a `PAGE_*_MAPCOUNT_VALUE`).
    fn is_type(&self, t: u32, ty: Option<u32>) -> bool {
        let Some(ty) = ty else { return false };
        match self.encoding {
            TypeEncoding::TopByte => t >> 24 == ty >> 24,
            TypeEncoding::ClearedBit => self.has_type(t) && t & !ty == 0,
        }
    }

    /// A free block's first page: `Some(order)`.
    pub fn buddy_order(&self, f: &PageFields) -> Option<u64> {
        self.is_type(f.page_type, self.buddy)
            .then_some(f.private)
            .filter(|o| *o <= MAX_BUDDY_ORDER)
    }

    /// Classifies a page from its own fields and its compound head's (the same fields for a
    /// page that is not a tail page). Free blocks are found by [`Self::buddy_order`] first.
    pub fn classify(&self, own: &PageFields, head: &PageFields) -> PageClass {
        if self.flag(own, self.pg_hwpoison) {
            return PageClass::HwPoison;
        }
        if self.has_type(head.page_type) {
            if self.is_type(head.page_type, self.hugetlb_type) {
                return PageClass::User;
            }
            // Slab, page table, offline, guard, zsmalloc, ...: kernel data or not ours.
            return PageClass::Keep;
        }
        if self.flag(head, self.pg_slab) {
            return PageClass::Keep;
        }
        if head.mapping & MAPPING_ANON != 0 {
            return PageClass::User;
        }
        let swapcache = self.flag(head, self.pg_swapcache)
            && (self.pg_swapbacked.is_none() || self.flag(head, self.pg_swapbacked));
        if self.flag(head, self.pg_lru) || swapcache {
            return if self.flag(head, self.pg_private) {
                PageClass::CachePrivate
            } else {
                PageClass::Cache
            };
        }
        PageClass::Keep
    }

    /// The head page's `struct page` address for a tail page.
    pub fn head_of(&self, f: &PageFields) -> Option<u64> {
        (f.compound_head & 1 != 0).then(|| f.compound_head - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vmci(text: &str) -> PageRules {
        PageRules::from_vmcoreinfo(&Vmcoreinfo::parse(text)).unwrap()
    }

    const COMMON: &str = "PAGESIZE=4096\nSIZE(page)=64\nOFFSET(page.flags)=0\n\
        OFFSET(page._mapcount)=48\nOFFSET(page.mapping)=24\nOFFSET(page.private)=40\n\
        OFFSET(page.compound_head)=8\n";

    /// Debian 6.1.0-56's numbers.
    fn rules_6_1() -> PageRules {
        vmci(&format!(
            "{COMMON}NUMBER(PG_slab)=9\nNUMBER(PG_lru)=4\nNUMBER(PG_private)=13\n\
             NUMBER(PG_swapcache)=10\nNUMBER(PG_swapbacked)=19\n\
             NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129\nNUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)=-257\n"
        ))
    }

    /// Debian trixie 6.12's numbers.
    fn rules_6_12() -> PageRules {
        vmci(&format!(
            "{COMMON}NUMBER(PG_lru)=5\nNUMBER(PG_private)=14\nNUMBER(PG_swapcache)=10\n\
             NUMBER(PG_swapbacked)=17\nNUMBER(PG_hwpoison)=20\n\
             NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-268435456\n\
             NUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE)=-201326592\n\
             NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)=-251658240\n\
             NUMBER(PAGE_SLAB_MAPCOUNT_VALUE)=-184549376\n"
        ))
    }

    fn page(flags: u64, page_type: u32, mapping: u64, private: u64) -> PageFields {
        PageFields {
            flags,
            page_type,
            mapping,
            private,
            compound_head: 0,
        }
    }

    fn class(r: &PageRules, p: PageFields) -> PageClass {
        r.classify(&p, &p)
    }

    #[test]
    fn encodings_are_recognised() {
        assert_eq!(rules_6_1().encoding, TypeEncoding::ClearedBit);
        assert_eq!(rules_6_12().encoding, TypeEncoding::TopByte);
    }

    #[test]
    fn linux_6_1_decisions() {
        let r = rules_6_1();
        let untyped = 0xffff_ffff; // _mapcount -1
                                   // Buddy: page_type 0xffffff7f (PG_buddy 0x80 cleared), order in private.
        assert_eq!(r.buddy_order(&page(0, 0xffff_ff7f, 0, 3)), Some(3));
        assert_eq!(r.buddy_order(&page(0, untyped, 0, 3)), None);
        // Offline (0x100 cleared) is typed but not buddy.
        assert_eq!(r.buddy_order(&page(0, 0xffff_feff, 0, 0)), None);
        assert_eq!(class(&r, page(0, 0xffff_feff, 0, 0)), PageClass::Keep);
        // Slab page with a freelist-looking mapping (bit 0 set): kept.
        assert_eq!(
            class(&r, page(1 << 9, untyped, 0xffff_8880_0000_1001, 0)),
            PageClass::Keep
        );
        // Anonymous page (mapping bit 0), LRU or not.
        assert_eq!(
            class(&r, page(1 << 4, 0, 0xffff_8880_0000_2001, 0)),
            PageClass::User
        );
        // Page cache: LRU, file mapping; with PG_private it is private cache.
        assert_eq!(
            class(&r, page(1 << 4, untyped, 0xffff_8880_0000_2000, 0)),
            PageClass::Cache
        );
        assert_eq!(
            class(
                &r,
                page(1 << 4 | 1 << 13, untyped, 0xffff_8880_0000_2000, 0)
            ),
            PageClass::CachePrivate
        );
        // Swap cache needs PG_swapbacked too.
        assert_eq!(
            class(&r, page(1 << 10 | 1 << 19, 0, 0x1234_5000, 0)),
            PageClass::Cache
        );
        assert_eq!(class(&r, page(1 << 10, untyped, 0, 0)), PageClass::Keep);
        // Kernel page: nothing set.
        assert_eq!(class(&r, page(0, untyped, 0, 0)), PageClass::Keep);
    }

    #[test]
    fn linux_6_12_decisions() {
        let r = rules_6_12();
        let untyped = 0xffff_ffff;
        assert_eq!(r.buddy_order(&page(0, 0xf000_0000, 0, 10)), Some(10));
        assert_eq!(r.buddy_order(&page(0, 0xf000_0000, 0, 11)), None);
        // A 6.1-style value means nothing here.
        assert_eq!(r.buddy_order(&page(0, 0xffff_ff7f, 0, 0)), None);
        // Slab (0xf5): SLUB data where `mapping` was, bit 0 set: must be kept (makedumpfile
        // 1.7.2 treats it as anonymous and drops it).
        assert_eq!(
            class(&r, page(0, 0xf500_0000, 0x9e3c_a1b7_55d2_0041, 0)),
            PageClass::Keep
        );
        // The 6.1 PG_slab bit (9) means nothing on 6.12: an LRU bit-9 page is still cache.
        assert_eq!(
            class(&r, page(1 << 5 | 1 << 9, untyped, 0xffff_8880_0000_2000, 0)),
            PageClass::Cache
        );
        // Page table (0xf2), offline (0xf1), zsmalloc (0xf6): kept.
        for t in [0xf200_0000u32, 0xf100_0000, 0xf600_0000] {
            assert_eq!(class(&r, page(0, t, 1, 0)), PageClass::Keep);
        }
        // Hugetlb folio (0xf4): user data.
        assert_eq!(class(&r, page(0, 0xf400_0000, 0, 0)), PageClass::User);
        // Mapped pages (mapcount >= 0) are untyped.
        assert_eq!(
            class(&r, page(1 << 5, 3, 0xffff_8880_0000_3001, 0)),
            PageClass::User
        );
        assert_eq!(
            class(&r, page(1 << 5 | 1 << 14, 0, 0xffff_8880_0000_3000, 0)),
            PageClass::CachePrivate
        );
        assert_eq!(class(&r, page(1 << 20, untyped, 0, 0)), PageClass::HwPoison);
    }

    #[test]
    fn tail_pages_follow_their_head() {
        let r = rules_6_12();
        let head = page(1 << 5 | 1 << 6, 0xffff_ffff, 0xffff_8880_0000_3001, 0);
        let tail = PageFields {
            compound_head: 0xffff_ea00_0000_0041,
            ..page(0, 0xffff_ffff, 0xdead_0000_0000_0400, 0)
        };
        assert_eq!(r.head_of(&tail), Some(0xffff_ea00_0000_0040));
        assert_eq!(r.head_of(&head), None);
        assert_eq!(r.classify(&tail, &head), PageClass::User);
    }

    #[test]
    fn levels() {
        let l = DumpLevel(31);
        for c in [
            PageClass::Free,
            PageClass::Cache,
            PageClass::CachePrivate,
            PageClass::User,
        ] {
            assert!(l.excludes(c));
        }
        assert!(!l.excludes(PageClass::Keep));
        assert!(DumpLevel(4).excludes(PageClass::Cache));
        assert!(!DumpLevel(2).excludes(PageClass::CachePrivate));
        assert!(!DumpLevel(1).excludes(PageClass::HwPoison));
        assert!(!DumpLevel(1).needs_mem_map());
    }

    #[test]
    fn missing_slab_information_is_an_error() {
        let r = PageRules::from_vmcoreinfo(&Vmcoreinfo::parse(COMMON));
        assert!(r.unwrap_err().contains("PG_slab"));
    }
}
