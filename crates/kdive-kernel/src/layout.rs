//! Structure layouts: member offsets and sizes from the type store (DWARF loaded on demand, or
//! BTF), falling back to the OFFSET()/SIZE() lines of VMCOREINFO, cached by name.

use crate::{Error, Result};
use kdive_debuginfo::types::{MemberInfo, TypeGraph, TypeId};
use kdive_debuginfo::TypeStore;
use kdive_dumpfile::Vmcoreinfo;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A member's place inside its structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberPlace {
    pub offset: u64,
    /// Size of the member's type in bytes, when known.
    pub size: Option<u64>,
}

pub struct Layout {
    types: Option<Arc<TypeStore>>,
    vmcoreinfo: Vmcoreinfo,
    members: Mutex<HashMap<(String, String), Option<MemberPlace>>>,
}

impl Layout {
    pub fn new(types: Option<Arc<TypeStore>>, vmcoreinfo: Vmcoreinfo) -> Layout {
        Layout {
            types,
            vmcoreinfo,
            members: Mutex::new(HashMap::new()),
        }
    }

    /// The complete definition of the type called `name` ("struct printk_info",
    /// "enum pageflags", "union thread_union"), loaded if need be.
    fn complete_type(&self, name: &str) -> Option<(&TypeStore, TypeId)> {
        let store = self.types.as_deref()?;
        let id = store.complete(store.find_type(name)?);
        Some((store, id))
    }

    /// Runs `f` on the graph holding the complete type called `name`.
    pub fn with_type<R>(
        &self,
        name: &str,
        f: impl FnOnce(&TypeGraph, TypeId) -> Option<R>,
    ) -> Option<R> {
        let (store, id) = self.complete_type(name)?;
        store.with_graph(|g| f(g, id))
    }

    /// The value of enumerator `name` of the enum type called `enum_type` ("enum pageflags").
    pub fn enumerator(&self, enum_type: &str, name: &str) -> Option<i64> {
        self.with_type(enum_type, |t, id| t.enumerator_value(id, name))
    }

    /// An enumerator of an anonymous enum (no type name to load it by): found among the types
    /// loaded so far — all of them with BTF, those already read with DWARF.
    pub fn loaded_enumerator(&self, name: &str) -> Option<i64> {
        self.types
            .as_deref()?
            .with_graph(|t| t.find_enumerator(name).map(|(_, v)| v))
    }

    /// A member of the type called `name` (`"struct printk_info"`) by dotted path, with its
    /// bit position (for bitfields).
    pub fn member_info(&self, name: &str, member: &str) -> Option<MemberInfo> {
        self.with_type(name, |g, id| g.member(id, member))
    }

    /// The type of global variable `name`, for reading its declaration (array bounds).
    pub fn with_variable_type<R>(
        &self,
        name: &str,
        f: impl FnOnce(&TypeGraph, TypeId) -> Option<R>,
    ) -> Option<R> {
        let store = self.types.as_deref()?;
        let v = store.variable(name)?;
        store.with_graph(|g| f(g, v.ty))
    }

    /// The length of a `char name[N]` member (`module.name`, `hstate.name`): N from the types,
    /// else `default`; never more than 256, so a damaged type cannot ask for a huge read.
    pub fn name_len(&self, sname: &str, member: &str, default: u64) -> usize {
        self.member(sname, member)
            .and_then(|m| m.size)
            .unwrap_or(default)
            .min(256) as usize
    }

    /// Where `member` (a dotted path through nested and anonymous members) lies in `struct sname`.
    pub fn member(&self, sname: &str, member: &str) -> Option<MemberPlace> {
        let key = (sname.to_string(), member.to_string());
        if let Some(hit) = self.members.lock().ok().and_then(|m| m.get(&key).copied()) {
            return hit;
        }
        let found = self.lookup_member(sname, member);
        if let Ok(mut m) = self.members.lock() {
            m.insert(key, found);
        }
        found
    }

    fn lookup_member(&self, sname: &str, member: &str) -> Option<MemberPlace> {
        if let Some((store, sid)) = self.complete_type(&format!("struct {sname}")) {
            return store.with_graph(|t| {
                let m = t.member(sid, member)?;
                Some(MemberPlace {
                    offset: m.offset,
                    size: t.size_of(m.ty),
                })
            });
        }
        self.vmcoreinfo
            .offset(&format!("{sname}.{member}"))
            .map(|offset| MemberPlace { offset, size: None })
    }

    /// A bitfield member of the type called `full_name` (`"union handle_parts"`): its bit offset
    /// from the start of the type and its width in bits.
    pub fn bitfield(&self, full_name: &str, member: &str) -> Option<(u64, u32)> {
        let (store, id) = self.complete_type(full_name)?;
        store.with_graph(|t| {
            let m = t.member(id, member)?;
            Some((m.bit_offset, m.bit_size?))
        })
    }

    pub fn has_member(&self, sname: &str, member: &str) -> bool {
        self.member(sname, member).is_some()
    }

    /// Offset of a member, or an error naming the structure and member.
    pub fn offset(&self, sname: &str, member: &str) -> Result<u64> {
        self.member(sname, member)
            .map(|m| m.offset)
            .ok_or_else(|| Error::MissingType(format!("struct {sname}.{member}")))
    }

    /// Size of `struct sname`.
    pub fn struct_size(&self, sname: &str) -> Result<u64> {
        if let Some(s) = self.with_type(&format!("struct {sname}"), |t, id| t.size_of(id)) {
            return Ok(s);
        }
        self.vmcoreinfo
            .size(sname)
            .ok_or_else(|| Error::MissingType(format!("struct {sname}")))
    }
}
