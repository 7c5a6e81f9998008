//! DWARF CFI from a vmlinux's `.debug_frame`: the fallback where ORC has no entry.
//! FDEs are indexed once (sorted by start address); each lookup evaluates one FDE with gimli.

use gimli::{
    BaseAddresses, CfaRule, DebugFrame, LittleEndian, RegisterRule, UnwindContext, UnwindSection,
};

/// What CFI says about one pc: the CFA and where the return address and rbp were saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CfiRow {
    /// CFA = register + offset (DWARF register number).
    pub cfa_reg: u16,
    pub cfa_offset: i64,
    /// Return address at CFA + offset.
    pub ra_offset: Option<i64>,
    /// Saved rbp at CFA + offset (None: unchanged).
    pub rbp_offset: Option<i64>,
}

/// DWARF register numbers on x86_64.
pub const DW_RBP: u16 = 6;
pub const DW_RSP: u16 = 7;

/// An indexed `.debug_frame`.
pub struct CfiTable {
    data: Vec<u8>,
    /// Run-time address minus link-time address (the KASLR offset).
    bias: u64,
    /// (start, end, FDE offset), link-time addresses, sorted by start.
    fdes: Vec<(u64, u64, usize)>,
}

impl std::fmt::Debug for CfiTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CfiTable")
            .field("fdes", &self.fdes.len())
            .finish()
    }
}

impl CfiTable {
    /// Indexes `.debug_frame` bytes; `bias` is added to its addresses at run time.
    pub fn parse(data: Vec<u8>, bias: u64) -> Result<CfiTable, gimli::Error> {
        let mut fdes = Vec::new();
        {
            let mut df = DebugFrame::new(&data, LittleEndian);
            df.set_address_size(8);
            let bases = BaseAddresses::default();
            let mut entries = df.entries(&bases);
            while let Some(e) = entries.next()? {
                if let gimli::CieOrFde::Fde(partial) = e {
                    let off = partial.offset();
                    if let Ok(fde) = partial.parse(DebugFrame::cie_from_offset) {
                        let start = fde.initial_address();
                        if start != 0 {
                            fdes.push((start, start.saturating_add(fde.len()), off));
                        }
                    }
                }
            }
        }
        fdes.sort_unstable();
        Ok(CfiTable { data, bias, fdes })
    }

    pub fn len(&self) -> usize {
        self.fdes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.fdes.is_empty()
    }

    /// The CFI row for run-time address `pc`.
    pub fn find(&self, pc: u64) -> Option<CfiRow> {
        let link = pc.wrapping_sub(self.bias);
        let i = self.fdes.partition_point(|f| f.0 <= link);
        let &(start, end, off) = self.fdes.get(i.checked_sub(1)?)?;
        if link < start || link >= end {
            return None;
        }
        let mut df = DebugFrame::new(&self.data, LittleEndian);
        df.set_address_size(8);
        let bases = BaseAddresses::default();
        let fde = df
            .partial_fde_from_offset(&bases, gimli::DebugFrameOffset(off))
            .ok()?
            .parse(DebugFrame::cie_from_offset)
            .ok()?;
        let mut ctx = Box::new(UnwindContext::new());
        let row = fde
            .unwind_info_for_address(&df, &bases, &mut ctx, link)
            .ok()?;
        let (cfa_reg, cfa_offset) = match row.cfa() {
            CfaRule::RegisterAndOffset { register, offset } => (register.0, *offset),
            CfaRule::Expression(_) => return None,
        };
        let at = |r: gimli::Register| match row.register(r) {
            RegisterRule::Offset(o) => Some(o),
            _ => None,
        };
        Some(CfiRow {
            cfa_reg,
            cfa_offset,
            ra_offset: at(gimli::X86_64::RA),
            rbp_offset: at(gimli::X86_64::RBP),
        })
    }
}
