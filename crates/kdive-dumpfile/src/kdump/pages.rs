//! kdump page descriptors (`page_desc`, 24 bytes) and loading one page's data from them.

use crate::compress;
use crate::error::{Error, Result};
use crate::source::{le_u32, le_u64, Source};
use crate::Compression;

pub const PAGE_DESC_SIZE: u64 = 24;

/// One `page_desc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageDesc {
    /// File offset of the page data.
    pub offset: u64,
    /// Bytes stored.
    pub size: u32,
    /// Compression bits; 0 = stored raw.
    pub flags: u32,
    pub page_flags: u64,
}

impl PageDesc {
    pub fn parse(b: &[u8]) -> PageDesc {
        PageDesc {
            offset: le_u64(b, 0),
            size: le_u32(b, 8),
            flags: le_u32(b, 12),
            page_flags: le_u64(b, 16),
        }
    }

    /// The descriptor of a page an incomplete dump never wrote (all zeros).
    pub fn is_unwritten(&self) -> bool {
        self.offset == 0 && self.size == 0
    }
}

/// How a page's data is stored.
pub(crate) enum PageData<'a> {
    /// Stored raw: the bytes themselves.
    Raw(std::borrow::Cow<'a, [u8]>),
    /// Compressed bytes and their codec.
    Packed(std::borrow::Cow<'a, [u8]>, Compression),
}

/// Finds the stored bytes of the page at `paddr` described by `d`.
pub(crate) fn page_data<'a>(
    src: &'a Source,
    d: &PageDesc,
    page_size: u64,
    paddr: u64,
) -> Result<PageData<'a>> {
    let bad = |detail: String| Error::BadPage { paddr, detail };
    let kind = compress::from_flags(d.flags).map_err(bad)?;
    let size = d.size as u64;
    if kind == Compression::None && size != page_size {
        return Err(bad(format!(
            "raw page descriptor holds {size} bytes, page size is {page_size}"
        )));
    }
    if size == 0 || size > 2 * page_size {
        return Err(bad(format!(
            "descriptor size {size} is implausible for a {page_size}-byte page"
        )));
    }
    let bytes = src
        .get(d.offset, size as usize)
        .ok_or(Error::PageTruncated { paddr })?;
    Ok(match kind {
        Compression::None => PageData::Raw(bytes),
        k => PageData::Packed(bytes, k),
    })
}
