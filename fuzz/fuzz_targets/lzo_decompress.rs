//! The LZO1X decoder on arbitrary input, into a page-sized buffer. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut out = vec![0u8; 4096];
    if let Ok(n) = kdive_dumpfile::compress::lzo::decompress(data, &mut out) {
        assert!(n <= out.len());
    }
});
