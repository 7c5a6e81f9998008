//! kdive save's LZO1X compressor: any bytes compress to a stream the reader decodes back.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut c = Vec::new();
    kdive_save::lzo::LzoCompressor::new().compress(data, &mut c);
    let mut out = vec![0u8; data.len()];
    let n = kdive_dumpfile::compress::lzo::decompress(&c, &mut out).expect("decodes");
    assert_eq!(n, data.len());
    assert_eq!(out, data);
});
