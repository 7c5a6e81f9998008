//! Opens a vmlinux's DWARF (cold or warm index), then loads a type, a variable and a function:
//! `cargo run --release -p kdive-debuginfo --example dwarf_index -- VMLINUX [TYPE]`.
//! Prints timings to stderr and the type's C spelling and size to stdout.

use kdive_debuginfo::dwarf::{DwarfInfo, DwarfLoader, IndexOptions};
use kdive_debuginfo::{TypeGraph, TypeStore, VmlinuxElf};
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: dwarf_index VMLINUX [TYPE]");
    let ty = args.next().unwrap_or_else(|| "struct task_struct".into());
    let t0 = Instant::now();
    let elf = Arc::new(VmlinuxElf::open_elf(&path).expect("open vmlinux"));
    let info = Arc::new(DwarfInfo::open(elf, &IndexOptions::default()).expect("DWARF"));
    let t1 = Instant::now();
    let store = TypeStore::new(
        TypeGraph::new(),
        Some(Box::new(DwarfLoader::new(info.clone()))),
    );
    let id = store.find_type(&ty).expect("type not found");
    let t2 = Instant::now();
    let (name, size, members, len) = store.with_graph(|g| {
        (
            g.type_name(id),
            g.size_of(id),
            g.members(id).map(|m| m.len()),
            g.len(),
        )
    });
    println!("{name}: size {size:?}, {members:?} members, {len} types in graph");
    if std::env::var_os("KDIVE_MEMBERS").is_some() {
        // One line per member: byte offset, bit offset within the byte, bit size, name, type.
        store.with_graph(|g| {
            for m in g.members(id).unwrap_or(&[]) {
                println!(
                    "{} {} {} {} {}",
                    m.bit_offset / 8,
                    m.bit_offset % 8,
                    m.bit_size.map_or("-".into(), |b| b.to_string()),
                    m.name.as_deref().unwrap_or("<anon>"),
                    g.type_name(m.ty)
                );
            }
        });
    }
    if let Some(stats) = info.build_stats() {
        eprintln!("build: {stats:?}");
    }
    if std::env::var_os("KDIVE_TIMING").is_some() {
        // For comparison: the other sources `kdive` reads at open.
        let elf = VmlinuxElf::open(&path).expect("open vmlinux");
        let t = Instant::now();
        let n = elf.symbols(0).map(|s| s.len()).unwrap_or(0);
        let t_sym = t.elapsed();
        let t = Instant::now();
        let b = elf
            .btf_bytes()
            .map(|b| kdive_debuginfo::Btf::parse(b).is_ok());
        eprintln!(
            "ELF symtab ({n} symbols) {t_sym:?}; BTF parse ({b:?}) {:?}",
            t.elapsed()
        );
    }
    eprintln!(
        "open+index {:?} ({}; {} units, {} entries, {} function ranges); type {:?}",
        t1 - t0,
        info.origin_summary(),
        info.unit_count(),
        info.entry_count(),
        info.function_range_count(),
        t2 - t1
    );
}
