//! The lab's kernel module (`kdive_race.ko`, 6.1 and 6.12) read compressed as distributions
//! install modules (`.ko.xz`, `.ko.zst`, `.ko.gz`): the same module, build-ID and DWARF as the
//! plain file. Skipped with a note when the lab is absent.

use kdive_debuginfo::ko::KoFile;
use kdive_lab::{capture_dirs, lab_dir};
use std::io::Write;

#[test]
fn compressed_modules_read_like_the_plain_file() {
    let Some(lab) = lab_dir() else {
        eprintln!("note: lab not found: skipping");
        return;
    };
    let kos: Vec<_> = capture_dirs(&lab)
        .into_iter()
        .map(|c| c.join("kdive_race.ko"))
        .filter(|p| p.is_file())
        .collect();
    if kos.is_empty() {
        eprintln!("note: no kdive_race.ko in the lab: skipping");
    }
    let dir = tempfile::tempdir().unwrap();
    for ko in kos.iter().take(2) {
        let plain_bytes = std::fs::read(ko).unwrap();
        let plain = KoFile::open(ko).unwrap();
        let mut xz = Vec::new();
        lzma_rs::xz_compress(&mut &plain_bytes[..], &mut xz).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&plain_bytes).unwrap();
        for (ext, bytes) in [
            ("xz", xz),
            ("zst", zstd::encode_all(&plain_bytes[..], 3).unwrap()),
            ("gz", gz.finish().unwrap()),
        ] {
            let p = dir.path().join(format!("kdive_race.ko.{ext}"));
            std::fs::write(&p, bytes).unwrap();
            let k = KoFile::open(&p).unwrap();
            assert_eq!(k.module_name(), plain.module_name(), "{ext}");
            assert_eq!(k.build_id(), plain.build_id(), "{ext}");
            assert!(k.build_id().is_some() && k.has_dwarf(), "{ext}");
        }
    }
}
