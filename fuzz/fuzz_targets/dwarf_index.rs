//! Fuzz the DWARF name indexer: arbitrary bytes as .debug_info, .debug_abbrev and .debug_str.
//! Hostile input must end in errors (counted units), never a panic or an unbounded allocation.
#![no_main]

use kdive_debuginfo::dwarf::index_raw_sections;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Two little-endian u16 lengths split the input into info | abbrev | str.
    if data.len() < 4 {
        return;
    }
    let rest = &data[4..];
    let a = usize::from(u16::from_le_bytes([data[0], data[1]])).min(rest.len());
    let (info, rest) = rest.split_at(a);
    let b = usize::from(u16::from_le_bytes([data[2], data[3]])).min(rest.len());
    let (abbrev, str) = rest.split_at(b);
    let _ = index_raw_sections(info, abbrev, str);
});
