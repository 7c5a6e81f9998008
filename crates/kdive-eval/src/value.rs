//! Typed values: an lvalue at a kernel address (possibly a bitfield), bytes computed by an
//! expression, or a symbol whose type nobody knows.

use kdive_debuginfo::TypeId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueKind {
    /// In kernel memory at `addr`; a bitfield has `(bit offset from addr, width)`.
    Mem { addr: u64, bits: Option<(u32, u32)> },
    /// Computed (little-endian) bytes.
    Bytes(Vec<u8>),
    /// A symbol with no type information: only its address is known.
    Untyped { name: String, addr: u64, text: bool },
}

/// A value and its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub ty: TypeId,
    pub kind: ValueKind,
}

impl Value {
    pub fn mem(ty: TypeId, addr: u64) -> Value {
        Value {
            ty,
            kind: ValueKind::Mem { addr, bits: None },
        }
    }
    pub fn bytes(ty: TypeId, bytes: Vec<u8>) -> Value {
        Value {
            ty,
            kind: ValueKind::Bytes(bytes),
        }
    }
    /// An integer of `size` bytes.
    pub fn int(ty: TypeId, v: u64, size: u64) -> Value {
        let size = size.clamp(1, 8) as usize;
        Value::bytes(ty, v.to_le_bytes()[..size].to_vec())
    }
    /// The address of an lvalue (not a bitfield).
    pub fn address(&self) -> Option<u64> {
        match &self.kind {
            ValueKind::Mem { addr, bits: None } => Some(*addr),
            ValueKind::Untyped { addr, .. } => Some(*addr),
            _ => None,
        }
    }
}

/// Little-endian bytes as an integer, sign-extended when `signed`.
pub fn bytes_to_i128(b: &[u8], signed: bool) -> i128 {
    let n = b.len().min(16);
    let mut buf = [0u8; 16];
    buf[..n].copy_from_slice(&b[..n]);
    let v = u128::from_le_bytes(buf);
    if signed && n > 0 && n < 16 && b[n - 1] & 0x80 != 0 {
        (v | (u128::MAX << (n * 8))) as i128
    } else {
        v as i128
    }
}

/// `v` truncated to `size` bytes and re-extended by `signed`.
pub fn wrap(v: i128, size: u64, signed: bool) -> i128 {
    let bits = (size.clamp(1, 16) * 8) as u32;
    if bits >= 128 {
        return v;
    }
    let mask = (1u128 << bits) - 1;
    let u = (v as u128) & mask;
    if signed && u >> (bits - 1) & 1 == 1 {
        (u | !mask) as i128
    } else {
        u as i128
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(bytes_to_i128(&[0xff], true), -1);
        assert_eq!(bytes_to_i128(&[0xff], false), 255);
        assert_eq!(wrap(300, 1, false), 44);
        assert_eq!(wrap(-1, 4, false), 0xffff_ffff);
        assert_eq!(wrap(0xffff_ffff, 4, true), -1);
    }
}
