//! Bytes → temp file → `kdive save -d 31` (every reader-side step `kdive save` adds:
//! `Dump::phys_extents`, notes re-encoding, VMCOREINFO page rules, mem_map walk over hostile
//! memory, the copy) → the output, when complete, opens again. Must never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let src = dir.path().join("src");
    if std::fs::write(&src, data).is_err() {
        return;
    }
    let dest = dir.path().join("out");
    let opts = kdive_save::Options {
        codec: kdive_save::Codec::Lzo,
        threads: 2,
        quiet: true,
        // 64 GiB, not 4 TiB: a header describing memory up to the real limit costs seconds
        // under the sanitizers (its bitmaps alone are 256 MiB), and the limit's own check
        // is exercised the same.
        max_pfn: 1 << 24,
        ..kdive_save::Options::new(src, dest.clone())
    };
    if let Ok(out) = kdive_save::save(&opts) {
        if out.incomplete.is_none() {
            let d = kdive_dumpfile::Dump::open(&[dest]).expect("kdive save output must open");
            let _ = d.phys_extents();
        }
    }
});
