//! ORC unwind tables (`.orc_unwind_ip` + `.orc_unwind`): parsing both `struct orc_entry` bit
//! layouts and looking an address up.
//!
//! `.orc_unwind_ip` holds `s32` offsets relative to each entry's own address; `.orc_unwind` holds
//! 6-byte entries: `s16 sp_offset, s16 bp_offset`, then a 16-bit word of bitfields whose layout
//! changed in Linux 6.4 (see [`OrcFormat`]). Tables are position-independent, so the vmlinux file's
//! bytes (without applying `.rela.orc_*`) and the dump's memory give the same entries.

use serde::Serialize;

/// `sp_reg`/`bp_reg` encodings (same numbers in every layout handled here).
pub const REG_UNDEFINED: u8 = 0;
pub const REG_PREV_SP: u8 = 1;
pub const REG_DX: u8 = 2;
pub const REG_DI: u8 = 3;
pub const REG_BP: u8 = 4;
pub const REG_SP: u8 = 5;
pub const REG_R10: u8 = 6;
pub const REG_R13: u8 = 7;
pub const REG_BP_INDIRECT: u8 = 8;
pub const REG_SP_INDIRECT: u8 = 9;

/// Which bitfield layout the kernel's `struct orc_entry` has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum OrcFormat {
    /// Up to 6.3: `sp_reg:4, bp_reg:4, type:2, end:1` (6.3 put `signal:1` before `end`);
    /// types CALL=0, REGS=1, REGS_PARTIAL=2; `sp_reg` UNDEFINED with `end` set ends the stack.
    V1,
    /// 6.4 and later: `sp_reg:4, bp_reg:4, type:3, signal:1`; types UNDEFINED=0,
    /// END_OF_STACK=1, CALL=2, REGS=3, REGS_PARTIAL=4. Kernels with `.orc_header` have it.
    V2,
}

impl OrcFormat {
    /// The layout a kernel release uses ("6.1.0-56-cloud-amd64" → V1, "6.12.118+deb13" → V2).
    pub fn for_release(release: &str) -> OrcFormat {
        let mut it = release
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<u32>().unwrap_or(0));
        let major = it.next().unwrap_or(0);
        let minor = it.next().unwrap_or(0);
        if (major, minor) >= (6, 4) {
            OrcFormat::V2
        } else {
            OrcFormat::V1
        }
    }
}

/// What kind of frame an entry describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum OrcKind {
    /// No valid unwind state here.
    Undefined,
    /// The outermost frame (entry code, kernel thread start).
    EndOfStack,
    /// A normal call frame: the return address is just below the previous sp.
    Call,
    /// A full `struct pt_regs` lies at the computed sp.
    Regs,
    /// Only the hardware iret frame lies at the computed sp.
    RegsPartial,
}

/// One decoded `struct orc_entry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OrcEntry {
    pub sp_offset: i16,
    pub bp_offset: i16,
    pub sp_reg: u8,
    pub bp_reg: u8,
    pub kind: OrcKind,
    pub signal: bool,
}

impl OrcEntry {
    pub const SIZE: usize = 6;

    pub fn decode(b: &[u8], format: OrcFormat) -> Option<OrcEntry> {
        let b: &[u8; 6] = b.get(..6)?.try_into().ok()?;
        let sp_offset = i16::from_le_bytes([b[0], b[1]]);
        let bp_offset = i16::from_le_bytes([b[2], b[3]]);
        let bits = u16::from_le_bytes([b[4], b[5]]);
        let sp_reg = (bits & 0xf) as u8;
        let bp_reg = ((bits >> 4) & 0xf) as u8;
        let (kind, signal) = match format {
            OrcFormat::V1 => {
                let ty = (bits >> 8) & 3;
                // 6.1 has `end` at bit 10; 6.3 moved it to bit 11 (signal at 10): either ends.
                let end = bits & (3 << 10) != 0;
                let kind = if sp_reg == REG_UNDEFINED {
                    if end {
                        OrcKind::EndOfStack
                    } else {
                        OrcKind::Undefined
                    }
                } else {
                    match ty {
                        0 => OrcKind::Call,
                        1 => OrcKind::Regs,
                        2 => OrcKind::RegsPartial,
                        _ => OrcKind::Undefined,
                    }
                };
                (kind, false)
            }
            OrcFormat::V2 => {
                let kind = match (bits >> 8) & 7 {
                    1 => OrcKind::EndOfStack,
                    2 => OrcKind::Call,
                    3 => OrcKind::Regs,
                    4 => OrcKind::RegsPartial,
                    _ => OrcKind::Undefined,
                };
                (kind, bits & (1 << 11) != 0)
            }
        };
        Some(OrcEntry {
            sp_offset,
            bp_offset,
            sp_reg,
            bp_reg,
            kind,
            signal,
        })
    }
}

/// Why a table could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrcError {
    #[error("ORC tables disagree: {ips} ips but {entries} entries")]
    CountMismatch { ips: usize, entries: usize },
    #[error("ORC table is empty")]
    Empty,
    #[error("ORC table has {0} entries, more than any kernel")]
    TooLarge(usize),
}

/// One image's ORC table (the kernel, or one module): absolute ips, sorted, with their entries.
#[derive(Debug, Clone)]
pub struct OrcTable {
    /// Who this table belongs to ("vmlinux", a module name).
    pub owner: String,
    ips: Vec<u64>,
    entries: Vec<[u8; 6]>,
    format: OrcFormat,
}

/// Upper bound on entries in one table (6.12's vmlinux has ~430k).
pub const MAX_ORC_ENTRIES: usize = 8 << 20;

impl OrcTable {
    /// From the raw section bytes: `ip_bytes` is `.orc_unwind_ip` whose first byte is at run-time
    /// address `ip_addr`; `entry_bytes` is `.orc_unwind`.
    pub fn parse(
        owner: impl Into<String>,
        ip_addr: u64,
        ip_bytes: &[u8],
        entry_bytes: &[u8],
        format: OrcFormat,
    ) -> Result<OrcTable, OrcError> {
        let n = ip_bytes.len() / 4;
        if n == 0 {
            return Err(OrcError::Empty);
        }
        if n > MAX_ORC_ENTRIES {
            return Err(OrcError::TooLarge(n));
        }
        if entry_bytes.len() / OrcEntry::SIZE != n {
            return Err(OrcError::CountMismatch {
                ips: n,
                entries: entry_bytes.len() / OrcEntry::SIZE,
            });
        }
        let mut ips = Vec::with_capacity(n);
        for (i, c) in ip_bytes.chunks_exact(4).enumerate() {
            let rel = i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64;
            ips.push(ip_addr.wrapping_add(4 * i as u64).wrapping_add(rel as u64));
        }
        let mut entries: Vec<[u8; 6]> = entry_bytes
            .chunks_exact(6)
            .map(|c| c.try_into().expect("6 bytes"))
            .collect();
        if !ips.windows(2).all(|w| w[0] <= w[1]) {
            // Module tables are sorted at load time and the vmlinux at build time; sort anyway.
            let mut idx: Vec<usize> = (0..n).collect();
            idx.sort_by_key(|&i| ips[i]);
            ips = idx.iter().map(|&i| ips[i]).collect();
            entries = idx.iter().map(|&i| entries[i]).collect();
        }
        Ok(OrcTable {
            owner: owner.into(),
            ips,
            entries,
            format,
        })
    }

    pub fn len(&self) -> usize {
        self.ips.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ips.is_empty()
    }
    /// First and last ip covered.
    pub fn range(&self) -> (u64, u64) {
        (self.ips[0], *self.ips.last().expect("non-empty"))
    }
    pub fn format(&self) -> OrcFormat {
        self.format
    }

    /// The entry for `addr` (the last entry at or below it), when inside the table's span.
    pub fn find(&self, addr: u64) -> Option<OrcEntry> {
        let (lo, hi) = self.range();
        if addr < lo || addr > hi {
            return None;
        }
        let i = self.ips.partition_point(|&ip| ip <= addr);
        let e = self.entries.get(i.checked_sub(1)?)?;
        OrcEntry::decode(e, self.format)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(sp_off: i16, bp_off: i16, bits: u16) -> Vec<u8> {
        let mut v = sp_off.to_le_bytes().to_vec();
        v.extend(bp_off.to_le_bytes());
        v.extend(bits.to_le_bytes());
        v
    }

    #[test]
    fn decodes_both_layouts() {
        // sp_reg SP(5), bp_reg PREV_SP(1), CALL.
        let v1 = OrcEntry::decode(&raw(16, -16, 5 | (1 << 4)), OrcFormat::V1).unwrap();
        assert_eq!((v1.sp_reg, v1.bp_reg, v1.kind), (5, 1, OrcKind::Call));
        let v2 = OrcEntry::decode(&raw(16, -16, 5 | (1 << 4) | (2 << 8)), OrcFormat::V2).unwrap();
        assert_eq!((v2.sp_reg, v2.bp_reg, v2.kind), (5, 1, OrcKind::Call));
        // REGS: 1 in V1, 3 in V2 (with signal).
        assert_eq!(
            OrcEntry::decode(&raw(0, 0, 5 | (1 << 8)), OrcFormat::V1)
                .unwrap()
                .kind,
            OrcKind::Regs
        );
        let r = OrcEntry::decode(&raw(0, 0, 5 | (3 << 8) | (1 << 11)), OrcFormat::V2).unwrap();
        assert_eq!((r.kind, r.signal), (OrcKind::Regs, true));
        // End of stack: V1 sp_reg undefined + end bit; V2 type 1.
        assert_eq!(
            OrcEntry::decode(&raw(0, 0, 1 << 10), OrcFormat::V1)
                .unwrap()
                .kind,
            OrcKind::EndOfStack
        );
        assert_eq!(
            OrcEntry::decode(&raw(0, 0, 0), OrcFormat::V1).unwrap().kind,
            OrcKind::Undefined
        );
        assert_eq!(
            OrcEntry::decode(&raw(0, 0, 1 << 8), OrcFormat::V2)
                .unwrap()
                .kind,
            OrcKind::EndOfStack
        );
        assert_eq!(
            OrcEntry::decode(&raw(0, 0, 0), OrcFormat::V2).unwrap().kind,
            OrcKind::Undefined
        );
    }

    #[test]
    fn release_picks_format() {
        assert_eq!(
            OrcFormat::for_release("6.1.0-56-cloud-amd64"),
            OrcFormat::V1
        );
        assert_eq!(
            OrcFormat::for_release("6.12.118+deb13-cloud-amd64"),
            OrcFormat::V2
        );
        assert_eq!(OrcFormat::for_release("6.4.0"), OrcFormat::V2);
        assert_eq!(OrcFormat::for_release("5.15.0"), OrcFormat::V1);
    }

    #[test]
    fn relative_ips_and_lookup() {
        let base = 0xffff_ffff_8100_0000u64;
        // Table at `base`; entries for base+0x100 and base+0x200 and a terminator at +0x300.
        let mut ipb = Vec::new();
        for (i, t) in [0x100u64, 0x200, 0x300].iter().enumerate() {
            ipb.extend(((*t as i64 - 4 * i as i64) as i32).to_le_bytes());
        }
        let mut eb = raw(8, 0, 5);
        eb.extend(raw(24, -16, 5 | (1 << 4)));
        eb.extend(raw(0, 0, 0));
        let t = OrcTable::parse("vmlinux", base, &ipb, &eb, OrcFormat::V1).unwrap();
        assert_eq!(t.range(), (base + 0x100, base + 0x300));
        assert_eq!(t.find(base + 0x150).unwrap().sp_offset, 8);
        assert_eq!(t.find(base + 0x200).unwrap().sp_offset, 24);
        assert!(t.find(base + 0x50).is_none());
        assert!(t.find(base + 0x301).is_none());
        assert!(OrcTable::parse("x", base, &ipb, &eb[..6], OrcFormat::V1).is_err());
    }
}
