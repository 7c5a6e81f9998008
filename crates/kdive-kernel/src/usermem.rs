//! A task's user memory: bytes at user virtual addresses, translated page by page through the
//! address space's own page tables (`mm->pgd`) and read from the physical layer — the way
//! crash reads `ps -a`'s arguments, since the dump is not in that task's context.

use crate::{AddrExt, Error, Kernel, Result};

/// An address space whose user pages can be read.
#[derive(Debug, Clone, Copy)]
pub struct UserSpace {
    /// The `mm_struct`.
    pub mm: u64,
    /// Physical address of its top-level page table (`mm->pgd`).
    pub root: u64,
}

/// Where one user page of an address space is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum UserPage {
    /// In memory at this physical address.
    Present(u64),
    /// Swapped out: the swap area's type number and the slot.
    Swapped { kind: u64, offset: u64 },
    /// Neither (never touched, or a file page not in memory).
    Absent,
}

/// Most bytes one call reads (a corrupt `arg_end` must not allocate gigabytes).
pub const MAX_USER_READ: u64 = 16 << 20;

impl Kernel {
    /// The address space of `mm`: its `pgd`, translated to physical.
    pub fn user_space(&self, mm: u64) -> Result<UserSpace> {
        let off = self.layout.offset("mm_struct", "pgd")?;
        let pgd = self.read_u64(mm.off(off), "mm_struct.pgd")?;
        let root = self.mem.vtop(pgd).map_err(|source| Error::Read {
            what: format!("page table (mm_struct {mm:#x} pgd)"),
            va: pgd,
            source,
        })?;
        Ok(UserSpace { mm, root })
    }

    /// Where the page holding user address `va` of `space` is: its page-table walk, and for
    /// a page that is not present, what its PTE says (a swap entry, or nothing).
    pub fn user_page(&self, space: UserSpace, va: u64) -> UserPage {
        let t = self.mem.walk_trace(Some(space.root), va);
        if let Ok(tr) = &t.result {
            return UserPage::Present(tr.pa);
        }
        // Swap entries live in the last level; an upper-level entry that is not present means
        // nothing below it was ever mapped.
        let last = t.steps.last().filter(|s| s.level == "PTE");
        match last.map(|s| self.mem.decode_entry(s.entry)) {
            Some(kdive_kspace::EntryMeaning::Swap { kind, offset }) => {
                UserPage::Swapped { kind, offset }
            }
            _ => UserPage::Absent,
        }
    }

    /// Reads user `[start, end)` of `space`, page by page. The error names the first user
    /// address (the start, or the first page after it) that is unmapped or missing from the
    /// dump — filtered kdumps drop user pages.
    pub fn read_user(&self, space: UserSpace, start: u64, end: u64) -> Result<Vec<u8>> {
        let len = end.checked_sub(start).ok_or_else(|| Error::Corrupt {
            what: format!("user range of mm_struct {:#x}", space.mm),
            detail: format!("end {end:#x} is below start {start:#x}"),
        })?;
        if len > MAX_USER_READ {
            return Err(Error::Corrupt {
                what: format!("user range of mm_struct {:#x}", space.mm),
                detail: format!("{start:#x}-{end:#x} is {len} bytes (more than {MAX_USER_READ})"),
            });
        }
        let ps = self.page_size();
        let mut out = vec![0u8; len as usize];
        let mut done = 0usize;
        while (done as u64) < len {
            let va = start + done as u64;
            let chunk = (ps - (va & (ps - 1))).min(len - done as u64) as usize;
            let fail = |source| Error::Read {
                what: format!("user memory (mm_struct {:#x})", space.mm),
                va,
                source,
            };
            let t = self
                .mem
                .walk_trace(Some(space.root), va)
                .result
                .map_err(fail)?;
            self.mem
                .read_phys(t.pa, &mut out[done..done + chunk])
                .map_err(|source| fail(kdive_kspace::Error::Phys { va, source }))?;
            done += chunk;
        }
        Ok(out)
    }
}
