//! BTF (BPF Type Format) parser: the `.BTF` section of vmlinux, the same bytes read out of a
//! dump's memory between `__start_BTF` and `__stop_BTF`, or a module's split BTF, turned into a
//! [`TypeGraph`].
//!
//! Layout (include/uapi/linux/btf.h): a header with the offsets of a type section and a string
//! section; the type section is a sequence of 12-byte `btf_type` records, each followed by
//! kind-specific data. Type ids count from 1 (0 is void). Split BTF continues the ids and the
//! string offsets of its base.
//!
//! Every offset and length is checked against the input; allocations are bounded by it.

use std::borrow::Cow;
use std::sync::Arc;

use crate::types::{c_int_name, Composite, DatasecVar, Linkage, Member, Type, TypeGraph, TypeId};

pub const BTF_MAGIC: u16 = 0xeb9f;
const HEADER_MIN: usize = 24;
const TYPE_RECORD: usize = 12;

const KIND_INT: u32 = 1;
const KIND_PTR: u32 = 2;
const KIND_ARRAY: u32 = 3;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_ENUM: u32 = 6;
const KIND_FWD: u32 = 7;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_FLOAT: u32 = 16;
const KIND_DECL_TAG: u32 = 17;
const KIND_TYPE_TAG: u32 = 18;
const KIND_ENUM64: u32 = 19;

const INT_SIGNED: u32 = 1;
const INT_CHAR: u32 = 2;
const INT_BOOL: u32 = 4;

/// What went wrong, and at which byte offset of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BtfError {
    #[error("BTF truncated: {what} at offset {offset:#x} needs {need} bytes, {have} available")]
    Truncated {
        what: &'static str,
        offset: usize,
        need: usize,
        have: usize,
    },
    #[error("not BTF: magic {found:#06x} (expected 0xeb9f)")]
    BadMagic { found: u16 },
    #[error("unsupported BTF version {version}")]
    BadVersion { version: u8 },
    #[error("bad BTF header: {what} ({value:#x})")]
    BadHeader { what: &'static str, value: u64 },
    #[error("bad BTF string section at offset {offset:#x}: {what}")]
    BadStrings { what: &'static str, offset: usize },
    #[error(
        "BTF type {id} at offset {offset:#x}: name offset {name_off:#x} outside the string section"
    )]
    BadName {
        id: u32,
        offset: usize,
        name_off: u32,
    },
    #[error("BTF type {id} at offset {offset:#x}: unknown kind {kind}")]
    UnknownKind { id: u32, offset: usize, kind: u32 },
    #[error("BTF type {id} at offset {offset:#x}: {what}")]
    BadType {
        id: u32,
        offset: usize,
        what: &'static str,
    },
    #[error("BTF type {id} at offset {offset:#x} refers to type {target}, but there are only {count} types")]
    BadTypeRef {
        id: u32,
        offset: usize,
        target: u32,
        count: u32,
    },
}

pub type Result<T> = std::result::Result<T, BtfError>;

/// Parsed BTF: the types, and the strings (kept so split BTF can be parsed on top).
#[derive(Debug, Clone)]
pub struct Btf {
    types: Arc<TypeGraph>,
    strings: Arc<Strings>,
}

impl Btf {
    /// Parses base (vmlinux) BTF.
    pub fn parse(bytes: &[u8]) -> Result<Btf> {
        parse(bytes, None)
    }

    /// Parses a module's split BTF on top of `base`: ids continue from the base's type count,
    /// string offsets below the base's string size refer to the base's strings.
    pub fn parse_split(bytes: &[u8], base: &Btf) -> Result<Btf> {
        parse(bytes, Some(base))
    }

    pub fn types(&self) -> &TypeGraph {
        &self.types
    }
    /// A shared handle to the types.
    pub fn graph(&self) -> Arc<TypeGraph> {
        self.types.clone()
    }
    /// Total number of type ids including void and the base's types.
    pub fn type_count(&self) -> u32 {
        self.types.len() as u32
    }
    /// Total string-section size including the base's (what split BTF offsets continue from).
    pub fn strings_len(&self) -> u32 {
        self.strings.end()
    }
}

/// A string section, possibly continuing a base's.
#[derive(Debug)]
struct Strings {
    base: Option<Arc<Strings>>,
    start: u32,
    data: Vec<u8>,
}

impl Strings {
    fn end(&self) -> u32 {
        self.start + self.data.len() as u32
    }

    /// The NUL-terminated string at `off`; None when out of range. Empty → `Some("")`.
    fn get(&self, off: u32) -> Option<&[u8]> {
        if off < self.start {
            return self.base.as_deref()?.get(off);
        }
        let rest = self.data.get((off - self.start) as usize..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        Some(&rest[..end])
    }
}

#[derive(Clone, Copy)]
struct Reader<'a> {
    bytes: &'a [u8],
    big_endian: bool,
}

impl Reader<'_> {
    fn u32_at(&self, offset: usize, what: &'static str) -> Result<u32> {
        let b = offset
            .checked_add(4)
            .and_then(|end| self.bytes.get(offset..end))
            .ok_or(BtfError::Truncated {
                what,
                offset,
                need: 4,
                have: self.bytes.len().saturating_sub(offset),
            })?;
        let b = [b[0], b[1], b[2], b[3]];
        Ok(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }
}

struct Header {
    hdr_len: usize,
    type_off: usize,
    type_len: usize,
    str_off: usize,
    str_len: usize,
}

fn parse_header(bytes: &[u8]) -> Result<(Reader<'_>, Header)> {
    if bytes.len() < HEADER_MIN {
        return Err(BtfError::Truncated {
            what: "header",
            offset: 0,
            need: HEADER_MIN,
            have: bytes.len(),
        });
    }
    let big_endian = match [bytes[0], bytes[1]] {
        [0x9f, 0xeb] => false,
        [0xeb, 0x9f] => true,
        b => {
            return Err(BtfError::BadMagic {
                found: u16::from_le_bytes(b),
            })
        }
    };
    if bytes[2] != 1 {
        return Err(BtfError::BadVersion { version: bytes[2] });
    }
    let r = Reader { bytes, big_endian };
    let hdr_len = r.u32_at(4, "header")? as usize;
    if hdr_len < HEADER_MIN || hdr_len > bytes.len() {
        return Err(BtfError::BadHeader {
            what: "header length",
            value: hdr_len as u64,
        });
    }
    let h = Header {
        hdr_len,
        type_off: r.u32_at(8, "header")? as usize,
        type_len: r.u32_at(12, "header")? as usize,
        str_off: r.u32_at(16, "header")? as usize,
        str_len: r.u32_at(20, "header")? as usize,
    };
    let data_len = (bytes.len() - hdr_len) as u64;
    for (what, off, len) in [
        ("type section", h.type_off, h.type_len),
        ("string section", h.str_off, h.str_len),
    ] {
        if off as u64 + len as u64 > data_len {
            return Err(BtfError::Truncated {
                what,
                offset: hdr_len + off,
                need: len,
                have: (data_len as usize).saturating_sub(off),
            });
        }
    }
    if h.type_off % 4 != 0 {
        return Err(BtfError::BadHeader {
            what: "type section not 4-byte aligned",
            value: h.type_off as u64,
        });
    }
    let (t0, t1) = (h.type_off, h.type_off + h.type_len);
    let (s0, s1) = (h.str_off, h.str_off + h.str_len);
    if t0 < s1 && s0 < t1 {
        return Err(BtfError::BadHeader {
            what: "type and string sections overlap",
            value: h.str_off as u64,
        });
    }
    Ok((r, h))
}

fn parse(bytes: &[u8], base: Option<&Btf>) -> Result<Btf> {
    let (r, h) = parse_header(bytes)?;

    // Strings.
    let str_start = h.hdr_len + h.str_off;
    let str_data = &bytes[str_start..str_start + h.str_len];
    if base.is_none() && str_data.first() != Some(&0) {
        return Err(BtfError::BadStrings {
            what: "must start with an empty string",
            offset: str_start,
        });
    }
    if !str_data.is_empty() && str_data.last() != Some(&0) {
        return Err(BtfError::BadStrings {
            what: "last string not NUL-terminated",
            offset: str_start + h.str_len - 1,
        });
    }
    let strings = Arc::new(Strings {
        base: base.map(|b| b.strings.clone()),
        start: base.map_or(0, |b| b.strings.end()),
        data: str_data.to_vec(),
    });
    if strings.start.checked_add(h.str_len as u32).is_none() || h.str_len > u32::MAX as usize {
        return Err(BtfError::BadHeader {
            what: "string section too large",
            value: h.str_len as u64,
        });
    }

    // Types.
    let first_id = base.map_or(1, |b| b.type_count());
    let mut p = TypeParser {
        r,
        strings: &strings,
        end: h.hdr_len + h.type_off + h.type_len,
        cur: h.hdr_len + h.type_off,
        id: first_id,
        odd_ints: Vec::new(),
        plain_structs: Vec::new(),
        index_refs: Vec::new(),
    };
    // Every type takes at least 12 bytes: the section length bounds the count.
    let mut types = Vec::with_capacity(h.type_len / TYPE_RECORD + 1);
    let mut offsets = Vec::with_capacity(h.type_len / TYPE_RECORD);
    if base.is_none() {
        types.push(Type::Void);
    }
    while p.cur < p.end {
        offsets.push(p.cur);
        types.push(p.parse_one()?);
        p.id = p.id.checked_add(1).ok_or(BtfError::BadType {
            id: p.id,
            offset: p.cur,
            what: "too many types",
        })?;
    }

    // References must name existing types.
    let count = first_id as u64 + offsets.len() as u64;
    let own_start = usize::from(base.is_none());
    for (i, (ty, &offset)) in types[own_start..].iter().zip(&offsets).enumerate() {
        let mut bad = None;
        ty.for_each_ref(|t| {
            if u64::from(t.0) >= count {
                bad.get_or_insert(t.0);
            }
        });
        if let Some(target) = bad {
            return Err(BtfError::BadTypeRef {
                id: first_id + i as u32,
                offset,
                target,
                count: count as u32,
            });
        }
    }
    for &(id, offset, target) in &p.index_refs {
        if u64::from(target) >= count {
            return Err(BtfError::BadTypeRef {
                id,
                offset,
                target,
                count: count as u32,
            });
        }
    }

    let graph = match base {
        None => TypeGraph::from_types(types),
        Some(b) => TypeGraph::with_base(b.types.clone(), types),
    };
    let graph = fix_int_bitfields(graph, &p.odd_ints, &p.plain_structs);
    Ok(Btf {
        types: Arc::new(graph),
        strings,
    })
}

/// Structs without kind_flag describe bitfields through the member's INT type (its bit count
/// and bit offset): fold those into the members.
fn fix_int_bitfields(
    mut graph: TypeGraph,
    odd_ints: &[(TypeId, u32, u32)],
    plain_structs: &[TypeId],
) -> TypeGraph {
    if odd_ints.is_empty() || plain_structs.is_empty() {
        return graph;
    }
    let ints: std::collections::HashMap<TypeId, (u32, u32)> = odd_ints
        .iter()
        .map(|&(id, bits, off)| (id, (bits, off)))
        .collect();
    let mut fixes = Vec::new();
    for &sid in plain_structs {
        if let Some(Type::Struct(c) | Type::Union(c)) = graph.get(sid) {
            for (mi, m) in c.members.iter().enumerate() {
                if let Some(&(bits, off)) = ints.get(&graph.strip_typedefs_and_qualifiers(m.ty)) {
                    fixes.push((sid, mi, bits, off));
                }
            }
        }
    }
    let first = graph.first_id().0;
    let types = graph.own_types_mut();
    for (sid, mi, bits, off) in fixes {
        if let Type::Struct(c) | Type::Union(c) = &mut types[(sid.0 - first) as usize] {
            let m = &mut c.members[mi];
            m.bit_offset += u64::from(off);
            m.bit_size = Some(bits);
        }
    }
    graph
}

struct TypeParser<'a> {
    r: Reader<'a>,
    strings: &'a Strings,
    /// End of the type section.
    end: usize,
    /// Offset of the record being parsed.
    cur: usize,
    id: u32,
    /// INT types whose bits/offset say "bitfield": (id, bits, bit offset).
    odd_ints: Vec<(TypeId, u32, u32)>,
    /// Structs/unions without kind_flag (their bitfields are described by INT types).
    plain_structs: Vec<TypeId>,
    /// Array index types (id, offset, index type): validated, not modelled.
    index_refs: Vec<(u32, usize, u32)>,
}

impl TypeParser<'_> {
    fn err(&self, what: &'static str) -> BtfError {
        BtfError::BadType {
            id: self.id,
            offset: self.cur,
            what,
        }
    }

    /// `n` u32 words at `at`, all within the type section.
    fn words(&self, at: usize, n: usize, what: &'static str) -> Result<()> {
        let need = n * 4;
        if at.checked_add(need).map_or(true, |e| e > self.end) {
            return Err(BtfError::Truncated {
                what,
                offset: at,
                need,
                have: self.end.saturating_sub(at),
            });
        }
        Ok(())
    }

    fn u32(&self, at: usize) -> u32 {
        // Callers checked the range with `words`.
        self.r.u32_at(at, "type").unwrap_or(0)
    }

    fn name(&self, name_off: u32) -> Result<Option<String>> {
        let s = self.strings.get(name_off).ok_or(BtfError::BadName {
            id: self.id,
            offset: self.cur,
            name_off,
        })?;
        Ok(match std::str::from_utf8(s) {
            Ok("") => None,
            Ok(s) => Some(s.to_owned()),
            Err(_) => Some(String::from_utf8_lossy(s).into_owned()),
        })
    }

    fn required_name(&self, name_off: u32, what: &'static str) -> Result<String> {
        self.name(name_off)?.ok_or_else(|| self.err(what))
    }

    fn parse_one(&mut self) -> Result<Type> {
        let at = self.cur;
        self.words(at, 3, "type record")?;
        let name_off = self.u32(at);
        let info = self.u32(at + 4);
        let size_or_type = self.u32(at + 8);
        let kind = (info >> 24) & 0x1f;
        let vlen = (info & 0xffff) as usize;
        let kflag = info >> 31 != 0;
        let data = at + TYPE_RECORD;
        let tid = TypeId(size_or_type);
        let size = u64::from(size_or_type);

        // Words of kind-specific data after the record.
        let extra_words = match kind {
            KIND_INT | KIND_VAR | KIND_DECL_TAG => 1,
            KIND_ARRAY => 3,
            KIND_STRUCT | KIND_UNION | KIND_DATASEC | KIND_ENUM64 => 3 * vlen,
            KIND_ENUM | KIND_FUNC_PROTO => 2 * vlen,
            _ => 0,
        };
        self.words(data, extra_words, "type data")?;
        let ty = match kind {
            KIND_INT => {
                let v = self.u32(data);
                let encoding = (v >> 24) & 0x0f;
                let bit_off = (v >> 16) & 0xff;
                let bits = v & 0xff;
                if size > 16 || u64::from(bits) > size * 8 {
                    return Err(self.err("integer size/bit count out of range"));
                }
                if bit_off != 0 || u64::from(bits) != size * 8 {
                    self.odd_ints.push((TypeId(self.id), bits, bit_off));
                }
                let name = self.required_name(name_off, "integer type without a name")?;
                let name = match c_int_name(&name) {
                    Cow::Borrowed(_) => name,
                    Cow::Owned(c) => c,
                };
                // pahole does not set the CHAR encoding bit: go by the name too.
                let is_char = encoding & INT_CHAR != 0 || name == "char" || name.ends_with(" char");
                Type::Int {
                    name,
                    size,
                    signed: encoding & INT_SIGNED != 0,
                    is_char,
                    is_bool: encoding & INT_BOOL != 0,
                }
            }
            KIND_PTR => Type::Pointer { target: tid },
            KIND_ARRAY => {
                self.index_refs.push((self.id, at, self.u32(data + 4)));
                Type::Array {
                    elem: TypeId(self.u32(data)),
                    len: Some(u64::from(self.u32(data + 8))),
                }
            }
            KIND_STRUCT | KIND_UNION => {
                let mut members = Vec::with_capacity(vlen);
                for i in 0..vlen {
                    let m = data + 12 * i;
                    let off = self.u32(m + 8);
                    let (bit_offset, bit_size) = if kflag {
                        (off & 0x00ff_ffff, Some(off >> 24).filter(|&b| b != 0))
                    } else {
                        (off, None)
                    };
                    members.push(Member {
                        name: self.name(self.u32(m))?,
                        ty: TypeId(self.u32(m + 4)),
                        bit_offset: u64::from(bit_offset),
                        bit_size,
                    });
                }
                if !kflag && vlen > 0 {
                    self.plain_structs.push(TypeId(self.id));
                }
                let c = Composite {
                    name: self.name(name_off)?,
                    size,
                    members,
                    is_declaration: false,
                };
                if kind == KIND_STRUCT {
                    Type::Struct(c)
                } else {
                    Type::Union(c)
                }
            }
            KIND_ENUM | KIND_ENUM64 => {
                let stride = if kind == KIND_ENUM { 8 } else { 12 };
                let mut values = Vec::with_capacity(vlen);
                for i in 0..vlen {
                    let e = data + stride * i;
                    let name = self.name(self.u32(e))?.unwrap_or_default();
                    let lo = self.u32(e + 4);
                    let v = if kind == KIND_ENUM64 {
                        ((u64::from(self.u32(e + 8)) << 32) | u64::from(lo)) as i64
                    } else if kflag {
                        i64::from(lo as i32)
                    } else {
                        i64::from(lo)
                    };
                    values.push((name, v));
                }
                Type::Enum {
                    name: self.name(name_off)?,
                    size,
                    signed: kflag,
                    values,
                    is_declaration: vlen == 0,
                }
            }
            KIND_FWD => {
                let c = Composite {
                    name: Some(self.required_name(name_off, "forward declaration without a name")?),
                    size: 0,
                    members: Vec::new(),
                    is_declaration: true,
                };
                if kflag {
                    Type::Union(c)
                } else {
                    Type::Struct(c)
                }
            }
            KIND_TYPEDEF => Type::Typedef {
                name: self.required_name(name_off, "typedef without a name")?,
                target: tid,
            },
            KIND_VOLATILE => Type::Volatile { target: tid },
            KIND_CONST => Type::Const { target: tid },
            KIND_RESTRICT => Type::Restrict { target: tid },
            KIND_FUNC => Type::Func {
                name: self.required_name(name_off, "function without a name")?,
                proto: tid,
                linkage: Linkage::from_btf(vlen as u32),
            },
            KIND_FUNC_PROTO => {
                let mut params = Vec::with_capacity(vlen);
                let mut variadic = false;
                for i in 0..vlen {
                    let p = data + 8 * i;
                    let (pname, pty) = (self.u32(p), self.u32(p + 4));
                    if pname == 0 && pty == 0 {
                        if i + 1 != vlen {
                            return Err(self.err("variadic marker before the last parameter"));
                        }
                        variadic = true;
                    } else {
                        params.push((self.name(pname)?, TypeId(pty)));
                    }
                }
                Type::Function {
                    ret: tid,
                    params,
                    variadic,
                }
            }
            KIND_VAR => Type::Var {
                name: self.required_name(name_off, "variable without a name")?,
                ty: tid,
                linkage: Linkage::from_btf(self.u32(data)),
            },
            KIND_DATASEC => {
                let mut vars = Vec::with_capacity(vlen);
                for i in 0..vlen {
                    let v = data + 12 * i;
                    vars.push(DatasecVar {
                        var: TypeId(self.u32(v)),
                        offset: u64::from(self.u32(v + 4)),
                        size: u64::from(self.u32(v + 8)),
                    });
                }
                Type::Datasec {
                    name: self.required_name(name_off, "data section without a name")?,
                    size,
                    vars,
                }
            }
            KIND_FLOAT => Type::Float {
                name: self.required_name(name_off, "float type without a name")?,
                size,
            },
            KIND_DECL_TAG => {
                let idx = self.u32(data) as i32;
                Type::DeclTag {
                    name: self.required_name(name_off, "decl tag without a name")?,
                    target: tid,
                    component: u32::try_from(idx).ok(),
                }
            }
            KIND_TYPE_TAG => Type::TypeTag {
                name: self.required_name(name_off, "type tag without a name")?,
                target: tid,
            },
            _ => {
                return Err(BtfError::UnknownKind {
                    id: self.id,
                    offset: at,
                    kind,
                })
            }
        };
        self.cur = data + 4 * extra_words;
        Ok(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds BTF blobs for tests.
    #[derive(Default)]
    pub(crate) struct Builder {
        types: Vec<u8>,
        strings: Vec<u8>,
    }

    impl Builder {
        pub(crate) fn new() -> Builder {
            Builder {
                types: Vec::new(),
                strings: vec![0],
            }
        }
        pub(crate) fn split() -> Builder {
            Builder::default()
        }
        pub(crate) fn str(&mut self, base_len: u32, s: &str) -> u32 {
            let off = base_len + self.strings.len() as u32;
            self.strings.extend_from_slice(s.as_bytes());
            self.strings.push(0);
            off
        }
        pub(crate) fn ty(
            &mut self,
            name: u32,
            kind: u32,
            vlen: u32,
            kflag: bool,
            size_or_type: u32,
            extra: &[u32],
        ) {
            let info = (kind << 24) | vlen | (u32::from(kflag) << 31);
            for w in [name, info, size_or_type].iter().chain(extra) {
                self.types.extend_from_slice(&w.to_le_bytes());
            }
        }
        pub(crate) fn build(&self) -> Vec<u8> {
            let mut out = Vec::new();
            out.extend_from_slice(&BTF_MAGIC.to_le_bytes());
            out.extend_from_slice(&[1, 0]);
            for w in [
                24u32,
                0,
                self.types.len() as u32,
                self.types.len() as u32,
                self.strings.len() as u32,
            ] {
                out.extend_from_slice(&w.to_le_bytes());
            }
            out.extend_from_slice(&self.types);
            out.extend_from_slice(&self.strings);
            out
        }
    }

    /// int(1), char(2), unsigned long(3), ptr→5 (4), struct list_head(5), char[16](6),
    /// anon union(7), struct task_struct(8), typedef pid_t(9), enum pid_type(10),
    /// func_proto(11), func(12), var(13), datasec(14), fwd struct mm_struct(15), float(16),
    /// enum64(17), const(18), volatile(19), restrict(20), type_tag(21), decl_tag(22).
    fn sample() -> Vec<u8> {
        let mut b = Builder::new();
        let s = |b: &mut Builder, x: &str| b.str(0, x);
        let n_int = s(&mut b, "int");
        b.ty(n_int, KIND_INT, 0, false, 4, &[(INT_SIGNED << 24) | 32]);
        let n_char = s(&mut b, "char");
        b.ty(
            n_char,
            KIND_INT,
            0,
            false,
            1,
            &[((INT_SIGNED | INT_CHAR) << 24) | 8],
        );
        let n_ul = s(&mut b, "unsigned long");
        b.ty(n_ul, KIND_INT, 0, false, 8, &[64]);
        b.ty(0, KIND_PTR, 0, false, 5, &[]);
        let (n_lh, n_next, n_prev) = (s(&mut b, "list_head"), s(&mut b, "next"), s(&mut b, "prev"));
        b.ty(
            n_lh,
            KIND_STRUCT,
            2,
            false,
            16,
            &[n_next, 4, 0, n_prev, 4, 64],
        );
        b.ty(0, KIND_ARRAY, 0, false, 0, &[2, 1, 16]);
        let (n_a, n_b) = (s(&mut b, "a"), s(&mut b, "b"));
        b.ty(0, KIND_UNION, 2, false, 8, &[n_a, 3, 0, n_b, 1, 0]);
        let (n_ts, n_pid, n_flag, n_comm, n_tasks) = (
            s(&mut b, "task_struct"),
            s(&mut b, "pid"),
            s(&mut b, "flag"),
            s(&mut b, "comm"),
            s(&mut b, "tasks"),
        );
        b.ty(
            n_ts,
            KIND_STRUCT,
            5,
            true,
            64,
            &[
                n_pid,
                9,
                0,
                n_flag,
                1,
                (3 << 24) | 36,
                n_comm,
                6,
                64,
                0,
                7,
                192,
                n_tasks,
                5,
                256,
            ],
        );
        let n_pidt = s(&mut b, "pid_t");
        b.ty(n_pidt, KIND_TYPEDEF, 0, false, 1, &[]);
        let (n_pt, n_p0, n_p1) = (
            s(&mut b, "pid_type"),
            s(&mut b, "PIDTYPE_PID"),
            s(&mut b, "PIDTYPE_TGID"),
        );
        b.ty(n_pt, KIND_ENUM, 2, false, 4, &[n_p0, 0, n_p1, 1]);
        let n_x = s(&mut b, "x");
        b.ty(0, KIND_FUNC_PROTO, 2, false, 1, &[n_x, 3, 0, 0]);
        let n_f = s(&mut b, "do_thing");
        b.ty(n_f, KIND_FUNC, 1, false, 11, &[]);
        let n_v = s(&mut b, "runqueues");
        b.ty(n_v, KIND_VAR, 0, false, 8, &[1]);
        let n_ds = s(&mut b, ".data..percpu");
        b.ty(n_ds, KIND_DATASEC, 1, false, 4096, &[13, 128, 64]);
        let n_mm = s(&mut b, "mm_struct");
        b.ty(n_mm, KIND_FWD, 0, false, 0, &[]);
        let n_dbl = s(&mut b, "double");
        b.ty(n_dbl, KIND_FLOAT, 0, false, 8, &[]);
        let (n_e64, n_big) = (s(&mut b, "big"), s(&mut b, "BIG"));
        b.ty(n_e64, KIND_ENUM64, 1, false, 8, &[n_big, 0x1, 0x8000_0000]);
        b.ty(0, KIND_CONST, 0, false, 2, &[]);
        b.ty(0, KIND_VOLATILE, 0, false, 1, &[]);
        b.ty(0, KIND_RESTRICT, 0, false, 4, &[]);
        let n_user = s(&mut b, "user");
        b.ty(n_user, KIND_TYPE_TAG, 0, false, 2, &[]);
        let n_tag = s(&mut b, "tag");
        b.ty(n_tag, KIND_DECL_TAG, 0, false, 8, &[u32::MAX]);
        b.build()
    }

    #[test]
    fn parses_every_kind() {
        let btf = Btf::parse(&sample()).unwrap();
        let g = btf.types();
        assert_eq!(btf.type_count(), 23);
        let ts = g.find_struct("task_struct").unwrap();
        assert_eq!(ts, TypeId(8));
        assert_eq!(g.offset_of("task_struct", "comm"), Some(8));
        assert_eq!(g.offset_of("task_struct", "b"), Some(24));
        assert_eq!(g.offset_of("task_struct", "tasks.prev"), Some(40));
        let flag = g.member(ts, "flag").unwrap();
        assert_eq!((flag.bit_offset, flag.bit_size), (36, Some(3)));
        assert_eq!(g.member(ts, "pid").unwrap().bit_size, None);
        assert_eq!(g.type_name(g.member(ts, "comm").unwrap().ty), "char [16]");
        assert_eq!(
            g.type_name(g.member(ts, "tasks.next").unwrap().ty),
            "struct list_head *"
        );
        assert_eq!(g.enum_value("pid_type", "PIDTYPE_TGID"), Some(1));
        assert_eq!(g.type_name(TypeId(12)), "int (unsigned long, ...)");
        assert!(matches!(
            g.ty(TypeId(12)),
            Type::Func {
                linkage: Linkage::Global,
                ..
            }
        ));
        assert_eq!(g.find_var("runqueues"), Some(TypeId(13)));
        let Type::Datasec { vars, size, .. } = g.ty(TypeId(14)) else {
            panic!()
        };
        assert_eq!(
            (*size, vars[0].var, vars[0].offset, vars[0].size),
            (4096, TypeId(13), 128, 64)
        );
        assert!(matches!(g.ty(TypeId(15)), Type::Struct(c) if c.is_declaration));
        assert_eq!(g.size_of(TypeId(16)), Some(8));
        assert_eq!(
            g.enum_value("big", "BIG"),
            Some(0x8000_0000_0000_0001u64 as i64)
        );
        assert_eq!(g.type_name(TypeId(18)), "const char");
        assert_eq!(g.type_name(TypeId(19)), "volatile int");
        assert_eq!(g.strip_typedefs_and_qualifiers(TypeId(21)), TypeId(2));
        assert!(matches!(
            g.ty(TypeId(22)),
            Type::DeclTag {
                component: None,
                ..
            }
        ));
        assert_eq!(g.size_of(g.find_typedef("pid_t").unwrap()), Some(4));
    }

    #[test]
    fn split_continues_ids_and_strings() {
        let base_bytes = sample();
        let base = Btf::parse(&base_bytes).unwrap();
        let mut b = Builder::split();
        let sl = base.strings_len();
        let n_mod = b.str(sl, "module_thing");
        let n_t = b.str(sl, "t");
        b.ty(n_mod, KIND_STRUCT, 2, false, 16, &[n_t, 8, 0, n_t, 24, 64]);
        b.ty(0, KIND_PTR, 0, false, 23, &[]);
        let split = Btf::parse_split(&b.build(), &base).unwrap();
        let g = split.types();
        assert_eq!(split.type_count(), 25);
        let m = g.find_struct("module_thing").unwrap();
        assert_eq!(m, TypeId(23));
        assert_eq!(g.offset_of("module_thing", "t.comm"), Some(8));
        assert_eq!(g.find_struct("task_struct"), Some(TypeId(8)));
        assert_eq!(g.type_name(TypeId(24)), "struct module_thing *");

        // Base strings are reachable from split BTF.
        let mut b = Builder::split();
        let lh = base
            .strings
            .data
            .windows(10)
            .position(|w| w == b"list_head\0")
            .unwrap() as u32;
        b.ty(lh, KIND_TYPEDEF, 0, false, 5, &[]);
        let split = Btf::parse_split(&b.build(), &base).unwrap();
        assert_eq!(split.types().find_typedef("list_head"), Some(TypeId(23)));
    }

    #[test]
    fn old_style_int_bitfields() {
        let mut b = Builder::new();
        let n_u = b.str(0, "unsigned int");
        b.ty(n_u, KIND_INT, 0, false, 4, &[32]);
        // A 3-bit int starting 2 bits in.
        b.ty(n_u, KIND_INT, 0, false, 4, &[(2 << 16) | 3]);
        let (n_s, n_f) = (b.str(0, "s"), b.str(0, "f"));
        b.ty(n_s, KIND_STRUCT, 1, false, 4, &[n_f, 2, 8]);
        let btf = Btf::parse(&b.build()).unwrap();
        let m = btf.types().member(TypeId(3), "f").unwrap();
        assert_eq!((m.bit_offset, m.bit_size), (10, Some(3)));
    }

    #[test]
    fn rejects_hostile_input() {
        let good = sample();
        assert!(matches!(Btf::parse(&[]), Err(BtfError::Truncated { .. })));
        let mut bad = good.clone();
        bad[0] = 0;
        assert!(matches!(Btf::parse(&bad), Err(BtfError::BadMagic { .. })));
        let mut bad = good.clone();
        bad[2] = 2;
        assert!(matches!(
            Btf::parse(&bad),
            Err(BtfError::BadVersion { version: 2 })
        ));
        // String section beyond the end.
        let mut bad = good.clone();
        bad[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            Btf::parse(&bad),
            Err(BtfError::Truncated {
                what: "string section",
                ..
            })
        ));
        // Unknown kind in the first record.
        let mut bad = good.clone();
        bad[24 + 7] = 31;
        let e = Btf::parse(&bad).unwrap_err();
        assert_eq!(
            e,
            BtfError::UnknownKind {
                id: 1,
                offset: 24,
                kind: 31
            }
        );
        assert!(e.to_string().contains("offset 0x18"));
        // Huge vlen: truncated, no huge allocation.
        let mut bad = good.clone();
        bad[24 + 4..24 + 6].copy_from_slice(&[0xff, 0xff]);
        bad[24 + 7] = KIND_STRUCT as u8;
        assert!(matches!(Btf::parse(&bad), Err(BtfError::Truncated { .. })));
        // Dangling type reference: pointer (type 4) to 9999.
        let mut bad = good.clone();
        let ptr_rec = 24 + 3 * 16;
        bad[ptr_rec + 8..ptr_rec + 12].copy_from_slice(&9999u32.to_le_bytes());
        assert!(matches!(
            Btf::parse(&bad),
            Err(BtfError::BadTypeRef {
                id: 4,
                target: 9999,
                ..
            })
        ));
        // Name offset out of range.
        let mut bad = good.clone();
        bad[24..28].copy_from_slice(&0x00ff_ffffu32.to_le_bytes());
        assert!(matches!(
            Btf::parse(&bad),
            Err(BtfError::BadName { id: 1, .. })
        ));
        // Every truncation of a valid blob fails cleanly.
        for n in 0..good.len() {
            let _ = Btf::parse(&good[..n]);
        }
    }

    /// The running kernel's BTF, when readable: a real-world smoke test.
    #[test]
    fn host_kernel_btf() {
        let Ok(bytes) = std::fs::read("/sys/kernel/btf/vmlinux") else {
            eprintln!("note: /sys/kernel/btf/vmlinux not readable; skipping");
            return;
        };
        // Best of five: the machine may be busy.
        let mut best = std::time::Duration::MAX;
        let mut parsed = None;
        for _ in 0..5 {
            drop(parsed.take());
            let t = std::time::Instant::now();
            parsed = Some(Btf::parse(&bytes).unwrap());
            best = best.min(t.elapsed());
        }
        let btf = parsed.unwrap();
        eprintln!(
            "host BTF: {} bytes, {} types, parsed in {best:?}",
            bytes.len(),
            btf.type_count()
        );
        let g = btf.types();
        let ts = g.find_struct("task_struct").unwrap();
        let comm = g.member(ts, "comm").unwrap();
        assert_eq!(g.type_name(comm.ty), "char [16]");
        assert_eq!(
            g.type_name(g.member(ts, "tasks").unwrap().ty),
            "struct list_head"
        );
        assert!(g.has_member(ts, "pid"));
        assert_eq!(g.enum_value("pid_type", "PIDTYPE_PID"), Some(0));
        assert!(g.find_var("runqueues").is_some());
    }
}
