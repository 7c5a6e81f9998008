//! ELF notes found in dumps: NT_PRSTATUS per CPU, VMCOREINFO text, QEMU CPU states.

/// x86_64 general registers in `user_regs_struct` order (the layout of `elf_prstatus.pr_reg`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuRegisters {
    pub r15: u64, pub r14: u64, pub r13: u64, pub r12: u64, pub rbp: u64, pub rbx: u64,
    pub r11: u64, pub r10: u64, pub r9: u64, pub r8: u64, pub rax: u64, pub rcx: u64,
    pub rdx: u64, pub rsi: u64, pub rdi: u64, pub orig_rax: u64, pub rip: u64, pub cs: u64,
    pub eflags: u64, pub rsp: u64, pub ss: u64, pub fs_base: u64, pub gs_base: u64,
    pub ds: u64, pub es: u64, pub fs: u64, pub gs: u64,
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
}

/// Everything the dump's notes hold.
#[derive(Debug, Clone, Default)]
pub struct Notes {
    pub prstatus: Vec<PrStatus>,
    pub qemu_cpus: Vec<QemuCpuState>,
    /// Raw VMCOREINFO text, when a VMCOREINFO note exists.
    pub vmcoreinfo: Option<String>,
}
