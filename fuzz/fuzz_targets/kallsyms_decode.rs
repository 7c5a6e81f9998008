//! kallsyms tables decoded from a synthetic kernel image: the input is physical memory from 0
//! (the kernel text map with no KASLR), the tables sit at fixed addresses inside it. Must never
//! panic, whatever the counts, lengths and token indices say.
#![no_main]

use std::sync::Arc;

use kdive_dumpfile::Vmcoreinfo;
use kdive_kspace::KernelSpace;
use kdive_physmem::VecMem;
use libfuzzer_sys::fuzz_target;

const MAP: u64 = 0xffff_ffff_8000_0000;
const TEXT: u64 = 0xffff_ffff_8100_0000;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, mem)) = data.split_first() else {
        return;
    };
    // Table addresses: fixed slots in the first 24 KiB; flag bit 0 drops the relative base
    // (place-relative offsets), bit 1 moves the names after the offsets.
    let (names, offsets) = if flags & 2 == 0 {
        (0x0000, 0x5200)
    } else {
        (0x5200, 0x0000)
    };
    let mut text = format!(
        "KERNELOFFSET=0\nNUMBER(phys_base)=0\nSYMBOL(init_top_pgt)={:x}\nSYMBOL(_stext)={TEXT:x}\n",
        MAP + 0x1000
    );
    for (name, pa) in [
        ("kallsyms_names", names),
        ("kallsyms_token_table", 0x4000),
        ("kallsyms_token_index", 0x5000),
        ("kallsyms_offsets", offsets),
        ("kallsyms_num_syms", 0x5f00),
    ] {
        text += &format!("SYMBOL({name})={:x}\n", MAP + pa as u64);
    }
    if flags & 1 == 0 {
        text += &format!("SYMBOL(kallsyms_relative_base)={:x}\n", MAP + 0x5f08);
    }
    let v = Vmcoreinfo::parse(&text);
    let phys = Arc::new(VecMem {
        base: 0,
        bytes: mem.to_vec(),
    });
    let Ok(ks) = KernelSpace::bootstrap(phys, Some(&v), None) else {
        return;
    };
    if let Ok(table) = kdive_debuginfo::load_kallsyms(&ks, &v) {
        let _ = table.lookup("_stext");
        let _ = table.lookup_addr(TEXT + 0x10);
        let _ = kdive_debuginfo::apply_kernel_layout(&ks, &table);
    }
});
