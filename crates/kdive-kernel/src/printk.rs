//! The printk log: the lockless ring buffer of 5.10+ kernels, read with the layout VMCOREINFO
//! publishes (so it works with no vmlinux), records in sequence order.

use crate::layout::Layout;
use crate::{Error, Kernel, Result};
use kdive_kspace::KernelSpace;

/// One log record.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LogRecord {
    pub seq: u64,
    pub ts_nsec: u64,
    /// Syslog level 0-7, when the layout tells where it is stored.
    pub level: Option<u8>,
    pub caller_id: u32,
    pub text: String,
}

impl LogRecord {
    /// `[    5.123456] ` as the kernel and crash print it.
    pub fn timestamp(&self) -> String {
        format!(
            "[{:>5}.{:06}]",
            self.ts_nsec / 1_000_000_000,
            (self.ts_nsec % 1_000_000_000) / 1000
        )
    }
}

/// The log, and what could not be read of it.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Log {
    pub records: Vec<LogRecord>,
    /// Records that were lost to unreadable memory or damage, described.
    pub problems: Vec<String>,
}

const DESC_COMMITTED: u64 = 1;
const DESC_FINALIZED: u64 = 2;
/// Refuse rings larger than this many descriptors (a hostile count_bits).
const MAX_DESC_BITS: u64 = 24;
/// 256 MiB of text: CONFIG_LOG_BUF_SHIFT stops at 25, `log_buf_len=` is rarely above 2^27.
const MAX_DATA_BITS: u64 = 28;
/// Refuse descriptor or info structures larger than this (a hostile SIZE() line).
const MAX_STRUCT_SIZE: u64 = 4096;
/// Refuse descriptor + info arrays larger than this many bytes together.
const MAX_ARRAYS: u64 = 256 << 20;

/// Offsets of the ring's structures, from VMCOREINFO (or types).
struct RingLayout {
    desc_ring: u64,
    text_data_ring: u64,
    count_bits: u64,
    descs: u64,
    infos: u64,
    head_id: u64,
    tail_id: u64,
    desc_size: u64,
    state_var: u64,
    text_blk_lpos: u64,
    lpos_begin: u64,
    lpos_next: u64,
    info_size: u64,
    info_seq: u64,
    info_ts: u64,
    info_text_len: u64,
    info_caller_id: u64,
    size_bits: u64,
    data: u64,
}

impl RingLayout {
    fn read(layout: &Layout) -> Result<RingLayout> {
        let off = |s: &str, m: &str| layout.offset(s, m);
        let size = |s: &str| {
            let n = layout.struct_size(s)?;
            if n == 0 || n > MAX_STRUCT_SIZE {
                return Err(Error::Corrupt {
                    what: format!("struct {s}"),
                    detail: format!("size {n} is implausible"),
                });
            }
            Ok(n)
        };
        Ok(RingLayout {
            desc_ring: off("printk_ringbuffer", "desc_ring")?,
            text_data_ring: off("printk_ringbuffer", "text_data_ring")?,
            count_bits: off("prb_desc_ring", "count_bits")?,
            descs: off("prb_desc_ring", "descs")?,
            infos: off("prb_desc_ring", "infos")?,
            head_id: off("prb_desc_ring", "head_id")?,
            tail_id: off("prb_desc_ring", "tail_id")?,
            desc_size: size("prb_desc")?,
            state_var: off("prb_desc", "state_var")?,
            text_blk_lpos: off("prb_desc", "text_blk_lpos")?,
            lpos_begin: off("prb_data_blk_lpos", "begin")?,
            lpos_next: off("prb_data_blk_lpos", "next")?,
            info_size: size("printk_info")?,
            info_seq: off("printk_info", "seq")?,
            info_ts: off("printk_info", "ts_nsec")?,
            info_text_len: off("printk_info", "text_len")?,
            info_caller_id: off("printk_info", "caller_id")?,
            size_bits: off("prb_data_ring", "size_bits")?,
            data: off("prb_data_ring", "data")?,
        })
    }
}

fn le_u64(b: &[u8], off: u64) -> u64 {
    let o = off as usize;
    b.get(o..o.saturating_add(8))
        .map(|s| u64::from_le_bytes(s.try_into().unwrap_or([0; 8])))
        .unwrap_or(0)
}
fn le_u32(b: &[u8], off: u64) -> u32 {
    let o = off as usize;
    b.get(o..o.saturating_add(4))
        .map(|s| u32::from_le_bytes(s.try_into().unwrap_or([0; 4])))
        .unwrap_or(0)
}
fn le_u16(b: &[u8], off: u64) -> u16 {
    let o = off as usize;
    b.get(o..o.saturating_add(2))
        .map(|s| u16::from_le_bytes(s.try_into().unwrap_or([0; 2])))
        .unwrap_or(0)
}

impl Kernel {
    /// Reads every committed record of the printk ring buffer, oldest first.
    pub fn printk_log(&self) -> Result<Log> {
        // Before 5.10 there is no `prb`: the legacy byte ring.
        if self.vmcoreinfo.symbol("prb").is_none() && self.symbol_addr("prb").is_err() {
            return self.legacy_printk_log();
        }
        let prb_ptr = self
            .vmcoreinfo
            .symbol("prb")
            .map(Ok)
            .unwrap_or_else(|| self.symbol_addr("prb"))?;
        ring_log(&self.mem, &self.layout, prb_ptr)
    }
}

/// Reads the lockless ring whose `struct printk_ringbuffer *` is stored at `prb_ptr`, with the
/// structure layout from `layout`. Every size read from the dump is bounded before allocating.
pub fn ring_log(mem: &KernelSpace, layout: &Layout, prb_ptr: u64) -> Result<Log> {
    let read = |va: u64, buf: &mut [u8], what: &str| {
        mem.read(va, buf).map_err(|source| Error::Read {
            what: what.to_string(),
            va,
            source,
        })
    };
    let read_u64 = |va: u64, what: &str| {
        mem.read_u64(va).map_err(|source| Error::Read {
            what: what.to_string(),
            va,
            source,
        })
    };
    let read_u32 = |va: u64, what: &str| {
        mem.read_u32(va).map_err(|source| Error::Read {
            what: what.to_string(),
            va,
            source,
        })
    };
    let rb = read_u64(prb_ptr, "prb")?;
    let l = RingLayout::read(layout)?;
    let dr = rb.wrapping_add(l.desc_ring);
    let count_bits = read_u32(dr.wrapping_add(l.count_bits), "prb_desc_ring.count_bits")? as u64;
    if count_bits > MAX_DESC_BITS {
        return Err(Error::Corrupt {
            what: "printk ring".into(),
            detail: format!("count_bits {count_bits} is implausible"),
        });
    }
    let count = 1u64 << count_bits;
    let descs = read_u64(dr.wrapping_add(l.descs), "prb_desc_ring.descs")?;
    let infos = read_u64(dr.wrapping_add(l.infos), "prb_desc_ring.infos")?;
    let head_id = read_u64(dr.wrapping_add(l.head_id), "prb_desc_ring.head_id")?;
    let tail_id = read_u64(dr.wrapping_add(l.tail_id), "prb_desc_ring.tail_id")?;
    let tr = rb.wrapping_add(l.text_data_ring);
    let size_bits = read_u32(tr.wrapping_add(l.size_bits), "prb_data_ring.size_bits")? as u64;
    if size_bits > MAX_DATA_BITS {
        return Err(Error::Corrupt {
            what: "printk text ring".into(),
            detail: format!("size_bits {size_bits} is implausible"),
        });
    }
    let data_size = 1u64 << size_bits;
    let data_addr = read_u64(tr.wrapping_add(l.data), "prb_data_ring.data")?;

    if count * (l.desc_size + l.info_size) > MAX_ARRAYS {
        return Err(Error::Corrupt {
            what: "printk ring".into(),
            detail: format!(
                "{count} descriptors of {} + {} bytes are implausible",
                l.desc_size, l.info_size
            ),
        });
    }
    let mut log = Log::default();
    let mut desc_buf = vec![0u8; (count * l.desc_size) as usize];
    read(descs, &mut desc_buf, "printk descriptors")?;
    let mut info_buf = vec![0u8; (count * l.info_size) as usize];
    read(infos, &mut info_buf, "printk_info array")?;
    let mut data = vec![0u8; data_size as usize];
    if let Err(e) = read(data_addr, &mut data, "printk text ring") {
        // Read page by page so one excluded page loses only its records.
        log.problems.push(e.to_string());
        for (i, chunk) in data.chunks_mut(4096).enumerate() {
            if read(
                data_addr.wrapping_add((i * 4096) as u64),
                chunk,
                "printk text",
            )
            .is_err()
            {
                chunk.fill(0);
            }
        }
    }

    let bits = 64u32;
    let flags_shift = bits - 2;
    let id_mask = !(3u64 << flags_shift);
    let mut id = tail_id & id_mask;
    let head = head_id & id_mask;
    for _ in 0..=count {
        let idx = id % count;
        let d = (idx * l.desc_size) as usize;
        let desc = &desc_buf[d..d + l.desc_size as usize];
        let sv = le_u64(desc, l.state_var);
        let state = sv >> flags_shift;
        if sv & id_mask == id && (state == DESC_COMMITTED || state == DESC_FINALIZED) {
            let i = (idx * l.info_size) as usize;
            let info = &info_buf[i..i + l.info_size as usize];
            let begin = le_u64(desc, l.text_blk_lpos.saturating_add(l.lpos_begin));
            let next = le_u64(desc, l.text_blk_lpos.saturating_add(l.lpos_next));
            let text_len = le_u16(info, l.info_text_len) as u64;
            let text = block_text(&data, size_bits, begin, next, text_len);
            log.records.push(LogRecord {
                seq: le_u64(info, l.info_seq),
                ts_nsec: le_u64(info, l.info_ts),
                level: info_level(layout, info),
                caller_id: le_u32(info, l.info_caller_id),
                text,
            });
        }
        if id == head {
            break;
        }
        id = (id + 1) & id_mask;
    }
    log.records.sort_by_key(|r| r.seq);
    Ok(log)
}

/// The 3-bit level after `facility` (a bitfield: only types know where it is).
fn info_level(layout: &Layout, info: &[u8]) -> Option<u8> {
    let m = layout.member_info("struct printk_info", "level")?;
    let byte = *info.get((m.bit_offset / 8) as usize)?;
    Some((byte >> (m.bit_offset % 8)) & 0x7)
}
/// The text of a data block, following the kernel's wrap rule.
fn block_text(data: &[u8], size_bits: u64, begin: u64, next: u64, text_len: u64) -> String {
    if begin & 1 != 0 || next & 1 != 0 {
        return String::new(); // data-less record
    }
    let size = 1u64 << size_bits;
    let wraps = |lpos: u64| lpos >> size_bits;
    let (start, len) = if wraps(begin) == wraps(next) && begin < next {
        (begin % size, next - begin)
    } else if wraps(begin.wrapping_add(size)) == wraps(next) {
        (0, next % size)
    } else {
        return String::new();
    };
    if len < 8 {
        return String::new();
    }
    let start = (start + 8) as usize;
    let n = (len - 8).min(text_len) as usize;
    let bytes = data
        .get(start..start.saturating_add(n).min(data.len()))
        .unwrap_or(&[]);
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kdive_dumpfile::Vmcoreinfo;
    use kdive_physmem::VecMem;
    use std::sync::Arc;

    const MAP: u64 = 0xffff_ffff_8000_0000;

    /// A two-record ring in a 4 KiB image at phys 0 (kernel text map, no KASLR), with 6.1's
    /// layout plus `extra` VMCOREINFO lines (which override).
    fn ring(extra: &str) -> Result<Log> {
        let mut mem = vec![0u8; 0x1000];
        let mut put = |pa: usize, b: &[u8]| mem[pa..pa + b.len()].copy_from_slice(b);
        put(0, &(MAP + 0x100).to_le_bytes());
        put(0x100, &2u32.to_le_bytes());
        put(0x108, &(MAP + 0x200).to_le_bytes());
        put(0x110, &(MAP + 0x400).to_le_bytes());
        put(0x118, &1u64.to_le_bytes());
        put(0x130, &8u32.to_le_bytes());
        put(0x138, &(MAP + 0x800).to_le_bytes());
        let mut pos = 0u64;
        for (i, text) in [&b"Linux version"[..], b"BUG: oops"].iter().enumerate() {
            let blk = (8 + text.len() as u64 + 7) & !7;
            let d = 0x200 + 24 * i;
            put(d, &((2u64 << 62) | i as u64).to_le_bytes());
            put(d + 8, &pos.to_le_bytes());
            put(d + 16, &(pos + blk).to_le_bytes());
            put(0x808 + pos as usize, text);
            let inf = 0x400 + 88 * i;
            put(inf, &(i as u64).to_le_bytes());
            put(inf + 16, &(text.len() as u16).to_le_bytes());
            pos += blk;
        }
        let text = format!(
            "KERNELOFFSET=0\nNUMBER(phys_base)=0\nSYMBOL(init_top_pgt)={:x}\n\
             OFFSET(printk_ringbuffer.desc_ring)=0\nOFFSET(printk_ringbuffer.text_data_ring)=48\n\
             OFFSET(prb_desc_ring.count_bits)=0\nOFFSET(prb_desc_ring.descs)=8\n\
             OFFSET(prb_desc_ring.infos)=16\nOFFSET(prb_desc_ring.head_id)=24\n\
             OFFSET(prb_desc_ring.tail_id)=32\nSIZE(prb_desc)=24\nOFFSET(prb_desc.state_var)=0\n\
             OFFSET(prb_desc.text_blk_lpos)=8\nOFFSET(prb_data_blk_lpos.begin)=0\n\
             OFFSET(prb_data_blk_lpos.next)=8\nSIZE(printk_info)=88\nOFFSET(printk_info.seq)=0\n\
             OFFSET(printk_info.ts_nsec)=8\nOFFSET(printk_info.text_len)=16\n\
             OFFSET(printk_info.caller_id)=20\nOFFSET(prb_data_ring.size_bits)=0\n\
             OFFSET(prb_data_ring.data)=8\n{extra}",
            MAP + 0x1000
        );
        let v = Vmcoreinfo::parse(&text);
        let phys = Arc::new(VecMem {
            base: 0,
            bytes: mem,
        });
        let ks = KernelSpace::bootstrap(phys, Some(&v), None).unwrap();
        ring_log(&ks, &Layout::new(None, v), MAP)
    }

    #[test]
    fn reads_a_synthetic_ring() {
        let log = ring("").unwrap();
        let texts: Vec<_> = log.records.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, ["Linux version", "BUG: oops"]);
    }

    #[test]
    fn hostile_layout_is_an_error_not_an_allocation_or_overflow() {
        // A SIZE() line that would allocate terabytes, and offsets that overflow u64.
        let e = ring("SIZE(prb_desc)=1099511627776\n").unwrap_err();
        assert!(e.to_string().contains("prb_desc"), "{e}");
        let e = ring("OFFSET(printk_ringbuffer.desc_ring)=18446744073709551615\n").unwrap_err();
        assert!(e.to_string().contains("count_bits"), "{e}");
        let log = ring("OFFSET(prb_desc.text_blk_lpos)=18446744073709551615\n").unwrap();
        assert!(log.records.iter().all(|r| r.text.is_empty()));
    }

    #[test]
    fn block_wraps() {
        let mut data = vec![0u8; 64];
        data[8..13].copy_from_slice(b"hello");
        // Non-wrapping block at 0..16 (id word + text).
        assert_eq!(block_text(&data, 6, 64, 64 + 16, 5), "hello");
        // Wrapped block: begins near the end, data stored at 0.
        assert_eq!(block_text(&data, 6, 60, 64 + 16, 5), "hello");
        // Data-less.
        assert_eq!(block_text(&data, 6, 1, 1, 5), "");
    }
}
