//! ELF notes found in dumps: NT_PRSTATUS per CPU, VMCOREINFO text, QEMU CPU states.

use crate::source::{le_u32, le_u64};

/// x86_64 general registers in `user_regs_struct` order (the layout of `elf_prstatus.pr_reg`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuRegisters {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub orig_rax: u64,
    pub rip: u64,
    pub cs: u64,
    pub eflags: u64,
    pub rsp: u64,
    pub ss: u64,
    pub fs_base: u64,
    pub gs_base: u64,
    pub ds: u64,
    pub es: u64,
    pub fs: u64,
    pub gs: u64,
}

/// Bytes of `user_regs_struct` (27 × u64).
pub const USER_REGS_SIZE: usize = 27 * 8;
/// Offset of `pr_reg` in x86_64 `elf_prstatus`.
pub const PR_REG_OFFSET: usize = 112;
/// Offset of `pr_pid` in `elf_prstatus`.
pub const PR_PID_OFFSET: usize = 32;

impl CpuRegisters {
    /// Reads `user_regs_struct` from at least [`USER_REGS_SIZE`] little-endian bytes.
    pub fn from_user_regs(b: &[u8]) -> Option<CpuRegisters> {
        if b.len() < USER_REGS_SIZE {
            return None;
        }
        let r = |i: usize| le_u64(b, i * 8);
        Some(CpuRegisters {
            r15: r(0),
            r14: r(1),
            r13: r(2),
            r12: r(3),
            rbp: r(4),
            rbx: r(5),
            r11: r(6),
            r10: r(7),
            r9: r(8),
            r8: r(9),
            rax: r(10),
            rcx: r(11),
            rdx: r(12),
            rsi: r(13),
            rdi: r(14),
            orig_rax: r(15),
            rip: r(16),
            cs: r(17),
            eflags: r(18),
            rsp: r(19),
            ss: r(20),
            fs_base: r(21),
            gs_base: r(22),
            ds: r(23),
            es: r(24),
            fs: r(25),
            gs: r(26),
        })
    }

    /// The registers in `user_regs_struct` order, as written in `pr_reg`.
    pub fn to_user_regs(&self) -> [u64; 27] {
        [
            self.r15,
            self.r14,
            self.r13,
            self.r12,
            self.rbp,
            self.rbx,
            self.r11,
            self.r10,
            self.r9,
            self.r8,
            self.rax,
            self.rcx,
            self.rdx,
            self.rsi,
            self.rdi,
            self.orig_rax,
            self.rip,
            self.cs,
            self.eflags,
            self.rsp,
            self.ss,
            self.fs_base,
            self.gs_base,
            self.ds,
            self.es,
            self.fs,
            self.gs,
        ]
    }
}

/// One NT_PRSTATUS note (one per CPU that was online at the crash, in note order).
#[derive(Debug, Clone, Default)]
pub struct PrStatus {
    /// pr_pid: the pid of the task current on that CPU (0 for idle).
    pub pid: u32,
    pub regs: CpuRegisters,
}

/// QEMU's per-CPU "QEMU" note (QEMUCPUState): control registers beside the general ones.
#[derive(Debug, Clone, Default)]
pub struct QemuCpuState {
    pub regs: CpuRegisters,
    pub cr0: u64,
    pub cr2: u64,
    pub cr3: u64,
    pub cr4: u64,
    pub gs_base: u64,
    pub kernel_gs_base: u64,
    /// Base of the interrupt descriptor table (IDTR), for KASLR detection without VMCOREINFO.
    pub idt_base: u64,
    /// Base of the global descriptor table (GDTR).
    pub gdt_base: u64,
}

/// QEMUCPUState offsets (QEMU `target/i386/arch_dump.c`, version 1).
mod qemu {
    pub const GPRS: usize = 8; // rax rbx rcx rdx rsi rdi rsp rbp r8..r15
    pub const RIP: usize = 136;
    pub const RFLAGS: usize = 144;
    pub const SEGMENTS: usize = 152; // cs ds es fs gs ss ldt tr gdt idt, 24 bytes each
    pub const SEGMENT_SIZE: usize = 24;
    pub const SEGMENT_BASE: usize = 16;
    pub const CR: usize = 392;
    /// Size without `kernel_gs_base` (QEMU before it was added).
    pub const MIN_SIZE: usize = 432;
    pub const KERNEL_GS_BASE: usize = 432;
}

impl QemuCpuState {
    /// Parses a "QEMU" note's desc; honours the struct's own `size` field.
    pub fn parse(desc: &[u8]) -> Option<QemuCpuState> {
        use qemu::*;
        if desc.len() < MIN_SIZE {
            return None;
        }
        let size = (le_u32(desc, 4) as usize).min(desc.len());
        if size < MIN_SIZE {
            return None;
        }
        let q = |off: usize| le_u64(desc, off);
        let gpr = |i: usize| q(GPRS + i * 8);
        let seg = |i: usize| SEGMENTS + i * SEGMENT_SIZE;
        let selector = |i: usize| le_u32(desc, seg(i)) as u64;
        let base = |i: usize| q(seg(i) + SEGMENT_BASE);
        let regs = CpuRegisters {
            rax: gpr(0),
            rbx: gpr(1),
            rcx: gpr(2),
            rdx: gpr(3),
            rsi: gpr(4),
            rdi: gpr(5),
            rsp: gpr(6),
            rbp: gpr(7),
            r8: gpr(8),
            r9: gpr(9),
            r10: gpr(10),
            r11: gpr(11),
            r12: gpr(12),
            r13: gpr(13),
            r14: gpr(14),
            r15: gpr(15),
            orig_rax: u64::MAX,
            rip: q(RIP),
            eflags: q(RFLAGS),
            cs: selector(0),
            ds: selector(1),
            es: selector(2),
            fs: selector(3),
            gs: selector(4),
            ss: selector(5),
            fs_base: base(3),
            gs_base: base(4),
        };
        Some(QemuCpuState {
            regs,
            cr0: q(CR),
            cr2: q(CR + 16),
            cr3: q(CR + 24),
            cr4: q(CR + 32),
            gs_base: base(4),
            kernel_gs_base: if size >= KERNEL_GS_BASE + 8 {
                q(KERNEL_GS_BASE)
            } else {
                0
            },
            gdt_base: base(8),
            idt_base: base(9),
        })
    }
}

/// Everything the dump's notes hold.
#[derive(Debug, Clone, Default)]
pub struct Notes {
    pub prstatus: Vec<PrStatus>,
    pub qemu_cpus: Vec<QemuCpuState>,
    /// Raw VMCOREINFO text, when a VMCOREINFO note exists.
    pub vmcoreinfo: Option<String>,
}

/// `NT_PRSTATUS`.
pub const NT_PRSTATUS: u32 = 1;

/// One raw ELF note: name (without the NUL), type, desc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawNote<'a> {
    pub name: &'a [u8],
    pub n_type: u32,
    pub desc: &'a [u8],
}

/// Iterates the notes in an ELF note blob (`Elf64_Nhdr` {namesz, descsz, type}, name and desc
/// padded to 4 bytes). Stops at the first malformed note; zero-sized padding notes are skipped.
pub fn raw_notes(blob: &[u8]) -> impl Iterator<Item = RawNote<'_>> {
    let mut pos = 0usize;
    std::iter::from_fn(move || loop {
        let hdr = blob.get(pos..pos.checked_add(12)?)?;
        let namesz = le_u32(hdr, 0) as usize;
        let descsz = le_u32(hdr, 4) as usize;
        let n_type = le_u32(hdr, 8);
        let name_at = pos + 12;
        let desc_at = name_at.checked_add(namesz.checked_add(3)? & !3)?;
        let next = desc_at.checked_add(descsz.checked_add(3)? & !3)?;
        let name = blob.get(name_at..name_at + namesz)?;
        let desc = blob.get(desc_at..desc_at.checked_add(descsz)?)?;
        pos = next;
        if namesz == 0 && descsz == 0 {
            continue;
        }
        let name = name.strip_suffix(&[0]).unwrap_or(name);
        return Some(RawNote { name, n_type, desc });
    })
}

impl Notes {
    /// Parses an ELF note blob (a PT_NOTE segment, or a kdump file's `offset_note` area).
    pub fn parse(blob: &[u8]) -> Notes {
        let mut notes = Notes::default();
        for n in raw_notes(blob) {
            match (n.name, n.n_type) {
                (b"CORE", NT_PRSTATUS) => {
                    let regs = n
                        .desc
                        .get(PR_REG_OFFSET..)
                        .and_then(CpuRegisters::from_user_regs);
                    if let Some(regs) = regs {
                        notes.prstatus.push(PrStatus {
                            pid: le_u32(n.desc, PR_PID_OFFSET),
                            regs,
                        });
                    }
                }
                (b"VMCOREINFO", _) => {
                    let text = String::from_utf8_lossy(n.desc);
                    notes
                        .vmcoreinfo
                        .get_or_insert_with(|| text.trim_end_matches('\0').to_string());
                }
                (b"QEMU", 0) => notes.qemu_cpus.extend(QemuCpuState::parse(n.desc)),
                _ => {}
            }
        }
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{note, prstatus_desc, qemu_desc};

    #[test]
    fn parses_prstatus_vmcoreinfo_and_qemu_notes() {
        let regs = CpuRegisters {
            rip: 0xffff_ffff_8100_0000,
            rsp: 0xffff_c900_0000_1000,
            rax: 7,
            ..Default::default()
        };
        let mut blob = note(b"CORE", 1, &prstatus_desc(42, &regs));
        blob.extend(note(b"", 0, b""));
        blob.extend(note(
            b"VMCOREINFO",
            0,
            b"OSRELEASE=6.1.0\nPAGESIZE=4096\n\0\0",
        ));
        blob.extend(note(
            b"QEMU",
            0,
            &qemu_desc(&regs, 0x1000, 0xfffffe0000000000, true),
        ));
        blob.extend(note(b"QEMU", 0, &qemu_desc(&regs, 0x2000, 0, false)));
        let n = Notes::parse(&blob);
        assert_eq!(n.prstatus.len(), 1);
        assert_eq!(n.prstatus[0].pid, 42);
        assert_eq!(n.prstatus[0].regs, regs);
        assert_eq!(
            n.vmcoreinfo.as_deref(),
            Some("OSRELEASE=6.1.0\nPAGESIZE=4096\n")
        );
        assert_eq!(n.qemu_cpus.len(), 2);
        let q = &n.qemu_cpus[0];
        assert_eq!(
            (q.regs.rip, q.regs.rsp, q.regs.rax),
            (regs.rip, regs.rsp, 7)
        );
        assert_eq!(q.cr3, 0x1000);
        assert_eq!(q.idt_base, 0xfffffe0000000000);
        assert_eq!(q.kernel_gs_base, 0x4444);
        assert_eq!(n.qemu_cpus[1].kernel_gs_base, 0);
    }

    #[test]
    fn malformed_notes_stop_parsing_without_panic() {
        let mut blob = note(b"CORE", 1, &prstatus_desc(1, &CpuRegisters::default()));
        blob.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(Notes::parse(&blob).prstatus.len(), 1);
        assert_eq!(Notes::parse(&blob[..20]).prstatus.len(), 0);
        // A PRSTATUS too short for pr_reg is skipped.
        assert_eq!(Notes::parse(&note(b"CORE", 1, &[0; 100])).prstatus.len(), 0);
    }
}
