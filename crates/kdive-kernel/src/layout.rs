//! Structure layouts: member offsets and sizes from the loaded types (BTF or DWARF), falling
//! back to the OFFSET()/SIZE() lines of VMCOREINFO, cached by name.

use crate::{Error, Result};
use kdive_debuginfo::types::TypeGraph;
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
    types: Option<Arc<TypeGraph>>,
    vmcoreinfo: Vmcoreinfo,
    members: Mutex<HashMap<(String, String), Option<MemberPlace>>>,
}

impl Layout {
    pub fn new(types: Option<Arc<TypeGraph>>, vmcoreinfo: Vmcoreinfo) -> Layout {
        Layout {
            types,
            vmcoreinfo,
            members: Mutex::new(HashMap::new()),
        }
    }

    pub fn types(&self) -> Option<&TypeGraph> {
        self.types.as_deref()
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
        if let Some(t) = &self.types {
            if let Some(sid) = t.find_struct(sname) {
                if let Some(m) = t.member(sid, member) {
                    return Some(MemberPlace {
                        offset: m.offset,
                        size: t.size_of(m.ty),
                    });
                }
                return None;
            }
        }
        self.vmcoreinfo
            .offset(&format!("{sname}.{member}"))
            .map(|offset| MemberPlace { offset, size: None })
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
        if let Some(t) = &self.types {
            if let Some(sid) = t.find_struct(sname) {
                if let Some(s) = t.size_of(sid) {
                    return Ok(s);
                }
            }
        }
        self.vmcoreinfo
            .size(sname)
            .ok_or_else(|| Error::MissingType(format!("struct {sname}")))
    }
}
