//! VMCOREINFO text and ELF note blobs: parse and query. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let v = kdive_dumpfile::Vmcoreinfo::parse(&text);
    let _ = (v.osrelease(), v.page_size(), v.kernel_offset(), v.phys_base(), v.pgtable_l5_enabled());
    let _ = (v.symbol("init_uts_ns"), v.number("phys_base"), v.offset("page.flags"), v.length("x"));
    let _ = v.entries();
    let notes = kdive_dumpfile::Notes::parse(data);
    let _ = notes.vmcoreinfo.as_deref().map(kdive_dumpfile::Vmcoreinfo::parse);
});
