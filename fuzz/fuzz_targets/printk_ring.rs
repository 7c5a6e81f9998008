//! The lockless printk ring read from a synthetic kernel image: the layout is 6.1's VMCOREINFO
//! (optionally overridden by lines from the input), `prb` is at the start of the image, and the
//! rest of the input is physical memory from 0 (kernel text map, no KASLR). Must never panic,
//! whatever the ring's ids, sizes and positions say.
#![no_main]

use std::sync::Arc;

use kdive_dumpfile::Vmcoreinfo;
use kdive_kernel::layout::Layout;
use kdive_kspace::KernelSpace;
use kdive_physmem::VecMem;
use libfuzzer_sys::fuzz_target;

const MAP: u64 = 0xffff_ffff_8000_0000;

/// The printk part of a 6.1 kernel's VMCOREINFO.
const LAYOUT: &str = "OFFSET(printk_ringbuffer.desc_ring)=0
OFFSET(printk_ringbuffer.text_data_ring)=48
OFFSET(prb_desc_ring.count_bits)=0
OFFSET(prb_desc_ring.descs)=8
OFFSET(prb_desc_ring.infos)=16
OFFSET(prb_desc_ring.head_id)=24
OFFSET(prb_desc_ring.tail_id)=32
SIZE(prb_desc)=24
OFFSET(prb_desc.state_var)=0
OFFSET(prb_desc.text_blk_lpos)=8
OFFSET(prb_data_blk_lpos.begin)=0
OFFSET(prb_data_blk_lpos.next)=8
SIZE(printk_info)=88
OFFSET(printk_info.seq)=0
OFFSET(printk_info.ts_nsec)=8
OFFSET(printk_info.text_len)=16
OFFSET(printk_info.caller_id)=20
OFFSET(prb_data_ring.size_bits)=0
OFFSET(prb_data_ring.data)=8
";

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut text = format!(
        "KERNELOFFSET=0\nNUMBER(phys_base)=0\nSYMBOL(init_top_pgt)={:x}\nSYMBOL(prb)={MAP:x}\n{LAYOUT}",
        MAP + 0x1000
    );
    let mem = if flags & 1 != 0 {
        // Extra VMCOREINFO lines (they override the ones above) up to the first NUL.
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        text += &String::from_utf8_lossy(&rest[..end]);
        &rest[(end + 1).min(rest.len())..]
    } else {
        rest
    };
    let v = Vmcoreinfo::parse(&text);
    let phys = Arc::new(VecMem {
        base: 0,
        bytes: mem.to_vec(),
    });
    let Ok(ks) = KernelSpace::bootstrap(phys, Some(&v), None) else {
        return;
    };
    let layout = Layout::new(None, v.clone());
    if let Ok(log) = kdive_kernel::printk::ring_log(&ks, &layout, v.symbol("prb").unwrap_or(MAP)) {
        for r in log.records.iter().take(64) {
            let _ = r.timestamp();
        }
    }
});
