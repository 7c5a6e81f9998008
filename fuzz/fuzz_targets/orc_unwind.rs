//! ORC tables from raw `.orc_unwind_ip` / `.orc_unwind` bytes, then an unwind over a stack made
//! of the rest of the input. Must never panic or loop, whatever the entries say.
#![no_main]

use std::collections::HashMap;

use kdive_unwind::{
    OrcFormat, OrcTable, PtRegsLayout, RegisterSet, StackKind, StackRegion, Start, UnwindEnv,
    Unwinder,
};
use libfuzzer_sys::fuzz_target;

const TEXT: u64 = 0xffff_ffff_8100_0000;
const STACK_LO: u64 = 0xffff_c900_0000_0000;

struct Env {
    words: HashMap<u64, u64>,
}

impl UnwindEnv for Env {
    fn read_u64(&self, addr: u64) -> Option<u64> {
        self.words.get(&addr).copied()
    }
    fn is_text(&self, pc: u64) -> bool {
        (TEXT..TEXT + 0x10000).contains(&pc)
    }
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    for (k, x) in w.iter_mut().enumerate() {
        *x = b.get(i + k).copied().unwrap_or(0);
    }
    u64::from_le_bytes(w)
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 20 {
        return;
    }
    let format = if data[0] & 1 == 0 {
        OrcFormat::V1
    } else {
        OrcFormat::V2
    };
    let n = usize::from(data[1]) + 1;
    let pc = TEXT + (u64_at(data, 2) & 0xffff);
    let sp_off = (u64_at(data, 10) & 0x3ff8) as u64;
    let interrupted = data[18] & 1 != 0;
    let rest = &data[19..];
    let ip_len = (4 * n).min(rest.len());
    let (ips, rest) = rest.split_at(ip_len);
    let entry_len = (6 * n).min(rest.len());
    let (entries, stack) = rest.split_at(entry_len);
    let Ok(table) = OrcTable::parse("vmlinux", TEXT - 0x100, ips, entries, format) else {
        return;
    };
    let _ = table.range();
    let _ = table.find(pc);
    let _ = table.find(0);
    let _ = table.find(u64::MAX);

    let words: HashMap<u64, u64> = stack
        .chunks(8)
        .enumerate()
        .map(|(i, c)| (STACK_LO + 8 * i as u64, u64_at(c, 0)))
        .collect();
    let env = Env { words };
    let mut u = Unwinder::new(PtRegsLayout::abi());
    u.set_kernel_orc(table);
    let mut regs = RegisterSet::pc_sp(pc, STACK_LO + sp_off);
    regs.set(kdive_unwind::Reg::Rbp, STACK_LO + (sp_off ^ 0x40));
    let start = Start {
        regs,
        slot: None,
        interrupted,
        pt_regs: None,
    };
    let stacks = [StackRegion::new(
        StackKind::Task,
        STACK_LO,
        STACK_LO + 0x4000,
    )];
    let _ = u.unwind(&env, &start, &stacks);
});
