//! Times the parts of opening a vmlinux one after another (ELF, symbol table read and cached, BTF, DWARF index):
//! `cargo run --release -p kdive-debuginfo --example open_parts -- VMLINUX`.

use kdive_debuginfo::dwarf::{DwarfInfo, IndexOptions};
use kdive_debuginfo::{Btf, VmlinuxElf};
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("usage: open_parts VMLINUX");
    let t = Instant::now();
    let elf = Arc::new(VmlinuxElf::open_elf(&path).expect("open vmlinux"));
    eprintln!("elf open     {:?}", t.elapsed());
    let t = Instant::now();
    let syms = elf.symbols(0).expect("symbols");
    eprintln!("symbols      {:?} ({} symbols)", t.elapsed(), syms.len());
    let t = Instant::now();
    let dir = kdive_debuginfo::cachefile::default_cache_dir();
    let (syms, how) = elf.symbols_cached(0, dir.as_deref()).expect("symbols");
    eprintln!(
        "symbols cache {:?} ({} symbols, {how:?})",
        t.elapsed(),
        syms.len()
    );
    let t = Instant::now();
    let btf = elf.btf_bytes().map(|b| Btf::parse(b).expect("btf"));
    eprintln!(
        "btf          {:?} ({:?} types)",
        t.elapsed(),
        btf.map(|b| b.type_count())
    );
    let t = Instant::now();
    let info = DwarfInfo::open(elf, &IndexOptions::default()).expect("DWARF");
    eprintln!("dwarf index  {:?} ({})", t.elapsed(), info.origin_summary());
}
