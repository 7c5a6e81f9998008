//! A flattened stream: index its records, then read ranges of the logical file. Must never
//! panic, and every read must stay inside the logical length.
#![no_main]

use kdive_dumpfile::flat::{FlatIndex, FLAT_HEADER_SIZE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Give the fuzzer a valid header for free: it only has to invent the records.
    let mut stream = vec![0u8; FLAT_HEADER_SIZE as usize];
    stream[..12].copy_from_slice(b"makedumpfile");
    stream[16..24].copy_from_slice(&1i64.to_be_bytes());
    stream[24..32].copy_from_slice(&1i64.to_be_bytes());
    stream.extend_from_slice(data);
    let path = std::path::Path::new("fuzz");
    let Ok(idx) = FlatIndex::build(path, &stream) else { return };
    let len = idx.logical_len();
    for (off, n) in [(0u64, 16usize), (len / 3, 4096), (len.saturating_sub(5), 5), (len, 1)] {
        if let Some(b) = idx.get(&stream, off, n) {
            assert_eq!(b.len(), n);
            assert!(off + n as u64 <= len);
        }
    }
});
