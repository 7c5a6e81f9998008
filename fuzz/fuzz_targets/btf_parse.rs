//! Fuzz the BTF parser (base and split) and the type queries over whatever it accepts.
#![no_main]

use kdive_debuginfo::{Btf, TypeId};
use libfuzzer_sys::fuzz_target;

/// Runs the queries the kernel layer uses over (a bounded number of) parsed types.
fn exercise(btf: &Btf) {
    let g = btf.types();
    let n = (btf.type_count() as usize).min(512);
    for i in 0..n as u32 {
        let id = TypeId(i);
        let _ = g.type_name(id);
        let _ = g.size_of(id);
        let _ = g.array_len(id);
        let _ = g.strip_typedefs_and_qualifiers(id);
        if let Some(members) = g.members(id) {
            for m in members.iter().take(16) {
                if let Some(name) = &m.name {
                    let _ = g.member(id, name);
                    let _ = g.member(id, &format!("{name}.x[1]"));
                }
            }
        }
        if let Some(name) = g.ty(id).name() {
            let _ = g.find_type_by_name(name);
            let _ = g.offset_of(name, "a.b");
            let _ = g.enum_value(name, "X");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(btf) = Btf::parse(data) {
        exercise(&btf);
    }
    // The first two bytes choose where base BTF ends and split BTF begins.
    if data.len() > 2 {
        let rest = &data[2..];
        let at = usize::from(u16::from_le_bytes([data[0], data[1]])).min(rest.len());
        let (base, split) = rest.split_at(at);
        if let Ok(base) = Btf::parse(base) {
            if let Ok(split) = Btf::parse_split(split, &base) {
                exercise(&split);
            }
        }
    }
});
