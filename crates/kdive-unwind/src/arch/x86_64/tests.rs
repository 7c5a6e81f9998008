//! Synthetic stacks and ORC tables: calls, exception frames, user-mode ends, corruption.

use super::orc::{OrcFormat, OrcTable};
use super::*;
use crate::stacks::{StackKind, StackRegion};
use std::collections::HashMap;

const TEXT: u64 = 0xffff_ffff_8100_0000;
const STACK_LO: u64 = 0xffff_c900_0000_0000;
const STACK_HI: u64 = STACK_LO + 0x4000;

struct FakeEnv {
    words: HashMap<u64, u64>,
}

impl UnwindEnv for FakeEnv {
    fn read_u64(&self, addr: u64) -> Option<u64> {
        self.words.get(&addr).copied()
    }
    fn is_text(&self, pc: u64) -> bool {
        (TEXT..TEXT + 0x10000).contains(&pc)
    }
}

fn entry(sp_reg: u16, sp_off: i16, bp_reg: u16, bp_off: i16, ty: u16) -> Vec<u8> {
    let mut v = sp_off.to_le_bytes().to_vec();
    v.extend(bp_off.to_le_bytes());
    v.extend((sp_reg | (bp_reg << 4) | (ty << 8)).to_le_bytes());
    v
}

/// Functions at TEXT+0x1000*k (k = 0..6) with the given V2 entries, then a terminator.
fn table(entries: &[Vec<u8>]) -> OrcTable {
    let mut ipb = Vec::new();
    let mut eb = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let target = TEXT + 0x1000 * i as u64;
        let here = TEXT - 0x100000 + 4 * i as u64;
        ipb.extend(((target as i64 - here as i64) as i32).to_le_bytes());
        eb.extend(e);
    }
    let i = entries.len();
    let here = TEXT - 0x100000 + 4 * i as u64;
    ipb.extend(((TEXT + 0x1000 * i as u64) as i64 - here as i64).to_le_bytes()[..4].to_vec());
    eb.extend(entry(0, 0, 0, 0, 0));
    OrcTable::parse("vmlinux", TEXT - 0x100000, &ipb, &eb, OrcFormat::V2).unwrap()
}

const CALL: u16 = 2;
const REGS: u16 = 3;
const END: u16 = 1;
const SP: u16 = 5;

fn stacks() -> Vec<StackRegion> {
    vec![StackRegion::new(StackKind::Task, STACK_LO, STACK_HI)]
}

fn unwinder(t: OrcTable) -> Unwinder {
    let mut u = Unwinder::new(PtRegsLayout::abi());
    u.set_kernel_orc(t);
    u
}

fn start(pc: u64, sp: u64) -> Start {
    Start {
        regs: RegisterSet::pc_sp(pc, sp),
        slot: None,
        interrupted: true,
        pt_regs: None,
    }
}

#[test]
fn call_chain_to_end_of_stack() {
    // f0 (frame 16) -> f1 (frame 8) -> f2 (end of stack).
    let u = unwinder(table(&[
        entry(SP, 16, 0, 0, CALL),
        entry(SP, 8, 0, 0, CALL),
        entry(0, 0, 0, 0, END),
    ]));
    let sp = STACK_HI - 0x100;
    let mut words = HashMap::new();
    words.insert(sp + 8, TEXT + 0x1010); // return into f1
    words.insert(sp + 16, TEXT + 0x2020); // return into f2
    let env = FakeEnv { words };
    let t = u.unwind(&env, &start(TEXT + 0x10, sp), &stacks());
    assert_eq!(t.stop, None);
    let pcs: Vec<u64> = t.frames.iter().map(|f| f.pc).collect();
    assert_eq!(pcs, vec![TEXT + 0x10, TEXT + 0x1010, TEXT + 0x2020]);
    assert_eq!(t.frames[1].slot, Some(sp + 8));
    assert_eq!(t.frames[2].slot, Some(sp + 16));
    assert_eq!(t.frames[1].method, Method::Orc);
}

#[test]
fn exception_frame_then_user_mode_end() {
    // f0: entry code with pt_regs at sp (REGS); the regs say kernel pc in f1; f1's frame of 8
    // returns into f2, whose ORC is REGS again with user-mode regs.
    let u = unwinder(table(&[
        entry(SP, 0, 0, 0, REGS),
        entry(SP, 8, 0, 0, CALL),
        entry(SP, 0, 0, 0, REGS),
    ]));
    let regs_at = STACK_LO + 0x1000;
    let mut words = HashMap::new();
    let kernel_sp = regs_at + 0x200;
    let mut put = |base: u64, ip: u64, cs: u64, sp: u64| {
        for i in 0..21u64 {
            words.insert(base + 8 * i, 0x1000 + i);
        }
        words.insert(base + 16 * 8, ip);
        words.insert(base + 17 * 8, cs);
        words.insert(base + 19 * 8, sp);
    };
    put(regs_at, TEXT + 0x1004, 0x10, kernel_sp);
    let user_regs = kernel_sp + 8;
    put(user_regs, 0x40_1000, 0x33, 0x7fff_0000);
    words.insert(kernel_sp, TEXT + 0x2008);
    let env = FakeEnv { words };
    let t = u.unwind(&env, &start(TEXT + 0x8, regs_at), &stacks());
    assert_eq!(t.stop, None, "{t:?}");
    assert_eq!(t.frames.len(), 4);
    let ex = &t.frames[1];
    assert_eq!(ex.method, Method::PtRegs);
    assert_eq!(ex.pc, TEXT + 0x1004);
    assert_eq!(ex.pt_regs.unwrap().get("ax"), 0x1000 + 10);
    assert_eq!(ex.regs.get(Reg::Rbx), Some(0x1000 + 5));
    assert_eq!(t.frames[2].slot, Some(kernel_sp));
    assert!(t.frames[3].is_user());
    assert_eq!(t.frames[3].pc, 0x40_1000);
}

#[test]
fn corrupted_return_address_stops_with_reason() {
    let u = unwinder(table(&[entry(SP, 8, 0, 0, CALL), entry(SP, 8, 0, 0, CALL)]));
    let sp = STACK_HI - 0x100;
    let mut words = HashMap::new();
    words.insert(sp, 0xdead_beef_0000_0000);
    let env = FakeEnv { words };
    let t = u.unwind(&env, &start(TEXT + 0x10, sp), &stacks());
    assert_eq!(t.frames.len(), 1);
    assert_eq!(
        t.stop,
        Some(StopReason::BadReturnAddress(0xdead_beef_0000_0000))
    );
    assert!(t.stop.unwrap().to_string().contains("not kernel text"));
}

#[test]
fn sp_that_does_not_move_never_loops() {
    // A bogus entry with sp_offset 0 for a CALL frame would read the same slot forever.
    let u = unwinder(table(&[entry(SP, 0, 0, 0, CALL)]));
    let sp = STACK_HI - 0x100;
    let mut words = HashMap::new();
    words.insert(sp - 8, TEXT + 0x20);
    let env = FakeEnv { words };
    let t = u.unwind(&env, &start(TEXT + 0x10, sp), &stacks());
    assert!(
        matches!(t.stop, Some(StopReason::SpWrongDirection { .. })),
        "{t:?}"
    );
    assert!(t.frames.len() <= 2);
}

#[test]
fn frame_pointer_loop_and_bounds() {
    // No ORC: a frame-pointer chain that points back at itself stops, and one that leaves the
    // stack stops with the sp outside every known stack.
    let u = Unwinder::new(PtRegsLayout::abi());
    let bp = STACK_HI - 0x200;
    let mut words = HashMap::new();
    words.insert(bp, bp); // saved bp = itself
    words.insert(bp + 8, TEXT + 0x30);
    let env = FakeEnv { words };
    let mut s = start(TEXT + 0x10, bp - 0x20);
    s.regs.set(Reg::Rbp, bp);
    let t = u.unwind(&env, &s, &stacks());
    assert_eq!(t.frames.len(), 2, "{t:?}");
    assert!(t.stop.is_some());
    assert_eq!(t.frames[1].method, Method::FramePointer);

    let mut words = HashMap::new();
    words.insert(bp, STACK_HI + 0x1000);
    words.insert(bp + 8, TEXT + 0x30);
    words.insert(STACK_HI + 0x1008, TEXT + 0x40);
    let env = FakeEnv { words };
    let t = u.unwind(&env, &s, &stacks());
    assert!(t.stop.is_some(), "{t:?}");
}

#[test]
fn frame_limit_bounds_any_walk() {
    // A deep but valid chain is cut at max_frames.
    let u0 = unwinder(table(&[entry(SP, 8, 0, 0, CALL)]));
    let mut u = u0;
    u.max_frames = 5;
    let sp = STACK_LO + 0x100;
    let mut words = HashMap::new();
    for i in 0..100u64 {
        words.insert(sp + 8 * i, TEXT + 0x10);
    }
    let env = FakeEnv { words };
    let t = u.unwind(&env, &start(TEXT + 0x10, sp), &stacks());
    assert_eq!(t.frames.len(), 5);
    assert_eq!(t.stop, Some(StopReason::TooManyFrames(5)));
}

#[test]
fn kernel_thread_zero_regs_end_cleanly() {
    let u = unwinder(table(&[entry(SP, 0, 0, 0, REGS)]));
    let sp = STACK_HI - 21 * 8;
    let mut words = HashMap::new();
    for i in 0..21u64 {
        words.insert(sp + 8 * i, 0);
    }
    let env = FakeEnv { words };
    let t = u.unwind(&env, &start(TEXT + 0x10, sp), &stacks());
    assert_eq!(t.stop, None);
    assert_eq!(t.frames.len(), 1);
}

/// A V2 table with entries at the given addresses (ascending), the last one a terminator.
fn table_with(ips: &[(u64, Vec<u8>)]) -> OrcTable {
    let base = TEXT - 0x100000;
    let mut ipb = Vec::new();
    let mut eb = Vec::new();
    for (i, (ip, e)) in ips.iter().enumerate() {
        let here = base + 4 * i as u64;
        ipb.extend(((*ip as i64 - here as i64) as i32).to_le_bytes());
        eb.extend(e);
    }
    OrcTable::parse("module", base, &ipb, &eb, OrcFormat::V2).unwrap()
}

#[test]
fn module_text_picks_the_table_over_stale_init_entries() {
    // Module B's text is [TEXT, TEXT+0x1000). Module A, loaded before, had its init text
    // where B now lies (freed, then reused): A's table still holds an UNDEFINED entry for
    // TEXT+0x200, and its range starts after B's. The kernel looks B's address up in B's
    // table (`__module_address`), so must kdive.
    let b = table_with(&[
        (TEXT, entry(SP, 8, 0, 0, CALL)),
        (TEXT + 0x1000, entry(0, 0, 0, 0, 0)),
    ]);
    let a = table_with(&[
        (TEXT + 0x200, entry(0, 0, 0, 0, 0)),
        (TEXT + 0x8000, entry(SP, 16, 0, 0, CALL)),
        (TEXT + 0x9000, entry(0, 0, 0, 0, 0)),
    ]);
    let mut u = Unwinder::new(PtRegsLayout::abi());
    u.add_module_orc_for_text((TEXT, TEXT + 0x1000), b.clone());
    u.add_module_orc_for_text((TEXT + 0x8000, TEXT + 0x9000), a.clone());
    assert_eq!(u.orc_find(TEXT + 0x300).map(|e| e.sp_offset), Some(8));
    assert_eq!(u.orc_find(TEXT + 0x8100).map(|e| e.sp_offset), Some(16));
    // Without the text ranges, A's stale entry wins.
    let mut old = Unwinder::new(PtRegsLayout::abi());
    old.add_module_orc(b);
    old.add_module_orc(a);
    assert_ne!(old.orc_find(TEXT + 0x300).map(|e| e.sp_offset), Some(8));
}
