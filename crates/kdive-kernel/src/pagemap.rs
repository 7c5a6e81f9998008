//! The page descriptors (`struct page`) of every present memory section, in pfn order, and the
//! kernel's own names for the page flags (`pageflag_names[]`) — what `kmem -p` lists.

use crate::walk::Walked;
use crate::{AddrExt, Kernel, Result};

/// `pageflag_names[]` holds one entry per flag, a few dozen; more is a damaged array.
const PAGEFLAG_NAMES_MAX: u64 = 128;

/// One page descriptor as `kmem -p` prints it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PageRow {
    /// The `struct page`.
    pub page: u64,
    pub phys: u64,
    /// The descriptor's fields; None when the `struct page` itself is not in the dump.
    pub fields: Option<PageFields>,
}

/// The fields of one `struct page`.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct PageFields {
    pub mapping: u64,
    pub index: u64,
    /// `_refcount`.
    pub count: i32,
    pub flags: u64,
}

impl Kernel {
    /// The kernel's page-flag names for printing (`pageflag_names[]`, mm/debug.c): each mask
    /// with its name, in the array's order, up to its `{0, NULL}` end.
    pub fn pageflag_names(&self) -> Result<Vec<(u64, String)>> {
        let base = self.symbol_addr("pageflag_names")?;
        let size = self.layout.struct_size("trace_print_flags")?.max(1);
        let mut out = Vec::new();
        for i in 0..PAGEFLAG_NAMES_MAX {
            let e = base.elem(i, size);
            let mask = self.read_member_uint(e, "trace_print_flags", "mask")?;
            let name = self.read_member_uint(e, "trace_print_flags", "name")?;
            if name == 0 {
                break;
            }
            out.push((mask, self.read_cstr(name, 64, "pageflag_names[].name")?));
        }
        Ok(out)
    }

    /// The descriptor of the page at `phys` whose `struct page` is at `page`.
    pub fn page_row(&self, page: u64, phys: u64) -> PageRow {
        match PageLayout::of(self) {
            Ok(l) => self.page_row_in(&l, page, phys),
            Err(_) => PageRow {
                page,
                phys,
                fields: None,
            },
        }
    }

    fn page_row_in(&self, l: &PageLayout, page: u64, phys: u64) -> PageRow {
        let mut buf = vec![0u8; l.size];
        let fields = self.read(page, &mut buf, "struct page").ok().map(|()| {
            let field = |off: usize, width: usize| {
                let mut w = [0u8; 8];
                w[..width].copy_from_slice(&buf[off..off + width]);
                u64::from_le_bytes(w)
            };
            PageFields {
                mapping: field(l.mapping, 8),
                index: field(l.index, 8),
                count: field(l.refcount, 4) as u32 as i32,
                flags: field(l.flags, 8),
            }
        });
        PageRow { page, phys, fields }
    }

    /// Every page of every present section with a mem_map, in pfn order, handed to `each`
    /// (which returns false to stop); sections that cannot be read are named in `problems`.
    pub fn for_each_page(&self, mut each: impl FnMut(PageRow) -> bool) -> Result<Walked<()>> {
        let sections = self.mem_sections()?;
        let per_section = self.pfns_per_section()?;
        let layout = PageLayout::of(self)?;
        let page_size = layout.size as u64;
        let ps = self.page_size();
        let out = Walked {
            items: Vec::new(),
            problems: sections.problems,
        };
        for s in sections.items.iter().filter(|s| s.has_mem_map) {
            for i in 0..per_section {
                let row = self.page_row_in(&layout, s.mem_map.elem(i, page_size), (s.pfn + i) * ps);
                if !each(row) {
                    return Ok(out);
                }
            }
        }
        Ok(out)
    }
}

/// Where `kmem -p`'s fields lie in `struct page`, looked up once for a whole listing.
struct PageLayout {
    size: usize,
    mapping: usize,
    index: usize,
    refcount: usize,
    flags: usize,
}

impl PageLayout {
    fn of(k: &Kernel) -> Result<PageLayout> {
        let size = k.layout.struct_size("page")?.clamp(8, 4096) as usize;
        let at = |m: &str, width: usize| -> Result<usize> {
            let off = k.layout.offset("page", m)? as usize;
            if off + width > size {
                return Err(crate::Error::Corrupt {
                    what: "struct page".into(),
                    detail: format!("page.{m} at {off} lies beyond its {size} bytes"),
                });
            }
            Ok(off)
        };
        Ok(PageLayout {
            size,
            mapping: at("mapping", 8)?,
            index: at("index", 8)?,
            refcount: at("_refcount", 4)?,
            flags: at("flags", 8)?,
        })
    }
}
