//! Bytes → temp file → `VmlinuxElf::open_elf` (and the `.ko` reader) → sections, symbols,
//! build-ID, banner, BTF. Must never panic, whatever the headers and tables say.
#![no_main]

use kdive_debuginfo::ko::KoFile;
use kdive_debuginfo::VmlinuxElf;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut f) = tempfile::NamedTempFile::new() else {
        return;
    };
    if std::io::Write::write_all(&mut f, data).is_err() {
        return;
    }
    if let Ok(elf) = VmlinuxElf::open_elf(f.path()) {
        let _ = elf.sections().len();
        let _ = elf.section_data(".text");
        let _ = elf.btf_bytes();
        let _ = elf.build_id();
        let _ = elf.find_symbol("linux_banner");
        let _ = elf.symbols(0x1000_0000);
        let _ = elf.read_vaddr(0xffff_ffff_8100_0000, 64);
        let _ = elf.linux_banner();
        let _ = elf.check_vmlinux();
    }
    if let Ok(ko) = KoFile::parse(f.path().to_path_buf(), data.to_vec()) {
        for i in 0..ko.sections().len().min(64) {
            let _ = ko.section_bytes(i);
        }
        let _ = ko.symbols().len();
        let _ = ko.section_data(".modinfo");
        let _ = ko.has_dwarf();
    }
});
