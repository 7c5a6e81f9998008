//! The kdump-compressed file's fixed parts (64-bit little-endian target): `disk_dump_header`
//! (block 0), `kdump_sub_header` v6 followed by the ELF notes (block 1...), the two bitmaps,
//! and where the page descriptors and page data start.

/// `DUMP_DH_COMPRESSED_INCOMPLETE`.
pub const STATUS_INCOMPLETE: u32 = 0x8;
pub const HEADER_VERSION: u32 = 6;
pub const SUB_HEADER_SIZE: u64 = 104;
pub const PAGE_DESC_SIZE: u64 = 24;
const UTS_LEN: usize = 65;

/// The six `new_utsname` fields, each 65 bytes, as the kernel stores them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UtsBytes(pub [u8; 6 * UTS_LEN]);

impl UtsBytes {
    pub fn from_fields(fields: [&str; 6]) -> UtsBytes {
        let mut b = [0u8; 6 * UTS_LEN];
        for (i, f) in fields.iter().enumerate() {
            let n = f.len().min(UTS_LEN - 1);
            b[i * UTS_LEN..i * UTS_LEN + n].copy_from_slice(&f.as_bytes()[..n]);
        }
        UtsBytes(b)
    }
    pub fn field(&self, i: usize) -> &[u8] {
        let f = &self.0[i * UTS_LEN..(i + 1) * UTS_LEN];
        &f[..f.iter().position(|&c| c == 0).unwrap_or(UTS_LEN)]
    }
}

/// Offsets of every part of the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub block_size: u64,
    pub sub_hdr_blocks: u64,
    pub notes_off: u64,
    pub bitmap_len: u64,
    pub bitmap1_off: u64,
    pub bitmap2_off: u64,
    pub desc_off: u64,
    pub data_off: u64,
    pub max_pfn: u64,
}

impl Layout {
    pub fn new(block_size: u64, notes_len: u64, max_pfn: u64, kept: u64) -> Layout {
        let sub_hdr_blocks = (SUB_HEADER_SIZE + notes_len).div_ceil(block_size);
        let bitmap_len = max_pfn.div_ceil(8).div_ceil(block_size).max(1) * block_size;
        let bitmap1_off = block_size * (1 + sub_hdr_blocks);
        let bitmap2_off = bitmap1_off + bitmap_len;
        let desc_off = bitmap2_off + bitmap_len;
        Layout {
            block_size,
            sub_hdr_blocks,
            notes_off: block_size + SUB_HEADER_SIZE,
            bitmap_len,
            bitmap1_off,
            bitmap2_off,
            desc_off,
            data_off: desc_off + kept * PAGE_DESC_SIZE,
            max_pfn,
        }
    }
}

/// Values of `disk_dump_header` and `kdump_sub_header`.
#[derive(Debug, Clone)]
pub struct HeaderFields {
    pub utsname: UtsBytes,
    pub timestamp: (i64, i64),
    pub status: u32,
    pub nr_cpus: u32,
    pub current_cpu: u32,
    pub phys_base: u64,
    pub dump_level: u32,
    /// (offset, size) of the VMCOREINFO text inside the notes.
    pub vmcoreinfo: Option<(u64, u64)>,
    pub notes_len: u64,
}

/// Block 0 and the sub-header (without the notes that follow it).
pub fn encode(l: &Layout, h: &HeaderFields) -> (Vec<u8>, Vec<u8>) {
    let mut dh = vec![0u8; l.block_size as usize];
    dh[0..8].copy_from_slice(b"KDUMP   ");
    dh[8..12].copy_from_slice(&HEADER_VERSION.to_le_bytes());
    dh[12..12 + 6 * UTS_LEN].copy_from_slice(&h.utsname.0);
    dh[408..416].copy_from_slice(&h.timestamp.0.to_le_bytes());
    dh[416..424].copy_from_slice(&h.timestamp.1.to_le_bytes());
    let u32s: [(usize, u32); 9] = [
        (424, h.status),
        (428, l.block_size as u32),
        (432, l.sub_hdr_blocks as u32),
        (436, (2 * l.bitmap_len / l.block_size) as u32),
        (440, l.max_pfn.min(u32::MAX as u64) as u32),
        (444, 0),
        (448, 0),
        (452, 0),
        (456, h.current_cpu),
    ];
    for (o, v) in u32s {
        dh[o..o + 4].copy_from_slice(&v.to_le_bytes());
    }
    dh[460..464].copy_from_slice(&h.nr_cpus.to_le_bytes());

    let mut sh = vec![0u8; SUB_HEADER_SIZE as usize];
    let (vi_off, vi_size) = h.vmcoreinfo.unwrap_or((0, 0));
    let u64s: [(usize, u64); 12] = [
        (0, h.phys_base),
        (16, 0),
        (24, l.max_pfn),
        (32, vi_off),
        (40, vi_size),
        (48, if h.notes_len > 0 { l.notes_off } else { 0 }),
        (56, h.notes_len),
        (64, 0),
        (72, 0),
        (80, 0),
        (88, l.max_pfn),
        (96, l.max_pfn),
    ];
    for (o, v) in u64s {
        sh[o..o + 8].copy_from_slice(&v.to_le_bytes());
    }
    sh[8..12].copy_from_slice(&h.dump_level.to_le_bytes());
    (dh, sh)
}

/// One `page_desc`.
pub fn page_desc(offset: u64, size: u32, flags: u32) -> [u8; PAGE_DESC_SIZE as usize] {
    let mut d = [0u8; PAGE_DESC_SIZE as usize];
    d[0..8].copy_from_slice(&offset.to_le_bytes());
    d[8..12].copy_from_slice(&size.to_le_bytes());
    d[12..16].copy_from_slice(&flags.to_le_bytes());
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_makedumpfile_rules() {
        let l = Layout::new(4096, 5000, 262144, 10);
        assert_eq!(l.sub_hdr_blocks, 2); // (104 + 5000) / 4096 rounded up
        assert_eq!(l.bitmap_len, 32768); // 262144 / 8, block aligned
        assert_eq!(l.bitmap1_off, 3 * 4096);
        assert_eq!(l.desc_off, 3 * 4096 + 2 * 32768);
        assert_eq!(l.data_off, l.desc_off + 240);
        assert_eq!(l.notes_off, 4096 + 104);
    }

    #[test]
    fn utsname_fields() {
        let u = UtsBytes::from_fields(["Linux", "host", "6.1.0", "#1 SMP", "x86_64", "(none)"]);
        assert_eq!(u.field(0), b"Linux");
        assert_eq!(u.field(4), b"x86_64");
    }
}
