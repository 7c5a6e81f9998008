//! Address arithmetic on values read from a dump.
//!
//! A pointer read from a corrupted dump can be anything, 0xffff_ffff_ffff_fff0 included, and a
//! plain `ptr + offset` on it panics in a debug build. Every address computed from a dump value
//! goes through [`AddrExt`] instead: the arithmetic wraps, and the wrapped address then fails
//! its read (the address space refuses reads that run past 2^64, and the low addresses a wrap
//! lands on are not kernel memory), so the caller gets an error naming the address.

/// Wrapping address arithmetic for `u64` kernel addresses.
pub trait AddrExt: Copy {
    /// `self + o`: a member at offset `o` of the structure at `self`.
    fn off(self, o: u64) -> u64;
    /// `self - o`: the structure containing a member at offset `o` (`container_of`).
    fn back(self, o: u64) -> u64;
    /// `self + i * size`: element `i` of an array at `self`.
    fn elem(self, i: u64, size: u64) -> u64;
}

impl AddrExt for u64 {
    #[inline]
    fn off(self, o: u64) -> u64 {
        self.wrapping_add(o)
    }
    #[inline]
    fn back(self, o: u64) -> u64 {
        self.wrapping_sub(o)
    }
    #[inline]
    fn elem(self, i: u64, size: u64) -> u64 {
        self.wrapping_add(i.wrapping_mul(size))
    }
}

#[cfg(test)]
mod tests {
    use super::AddrExt;

    #[test]
    fn wraps_instead_of_panicking() {
        let p = 0xffff_ffff_ffff_fff0u64;
        assert_eq!(p.off(0x20), 0x10);
        assert_eq!(0x10u64.back(0x20), 0xffff_ffff_ffff_fff0);
        assert_eq!(p.elem(3, 8), 0x8);
        assert_eq!(0x1000u64.elem(2, 0x40), 0x1080);
    }
}
