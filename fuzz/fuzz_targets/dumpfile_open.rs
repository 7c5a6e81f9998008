//! Bytes → temp file → `Dump::open` → read a few pages and the summary. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut f) = tempfile::NamedTempFile::new() else { return };
    if std::io::Write::write_all(&mut f, data).is_err() {
        return;
    }
    let Ok(dump) = kdive_dumpfile::Dump::open(&[f.path().to_path_buf()]) else { return };
    let _ = dump.describe();
    let _ = dump.vmcoreinfo().map(|v| v.osrelease());
    let ps = dump.header().page_size.max(1);
    let max = dump.header().max_pfn;
    let mut buf = vec![0u8; ps as usize + 16];
    for pfn in [0, 1, 2, max / 2, max.saturating_sub(1), max] {
        let _ = dump.read_phys(pfn.saturating_mul(ps), &mut buf[..ps as usize]);
        let _ = dump.read_phys(pfn.saturating_mul(ps).saturating_add(ps.saturating_sub(8)), &mut buf);
    }
    let _ = dump.read_phys(u64::MAX - 3, &mut buf[..8]);
});
