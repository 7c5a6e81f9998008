//! Addresses → source lines and functions: `addr2line` over the same sections, built on the
//! first question (it parses a unit's line program only when an address in it is asked for),
//! and the index's function ranges for `function_at`.
//!
//! Addresses are link-time addresses (subtract the KASLR offset first).

use super::{DwarfInfo, R};
use std::sync::Arc;

/// Lazily created line-table state.
#[derive(Default)]
pub(crate) struct LineState {
    ctx: Option<Option<addr2line::Context<R>>>,
}

/// A function's code range containing an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRange {
    pub name: String,
    pub low_pc: u64,
    pub high_pc: u64,
}

/// One frame at an address: innermost inlined function first, then its callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub function: Option<String>,
    pub file: Option<String>,
    pub line: Option<u32>,
}

impl DwarfInfo {
    fn with_lines<T>(&self, f: impl FnOnce(&addr2line::Context<R>) -> Option<T>) -> Option<T> {
        let mut st = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        let ctx = st.ctx.get_or_insert_with(|| {
            let dwarf = gimli::Dwarf {
                debug_abbrev: self.dwarf.debug_abbrev,
                debug_addr: self.dwarf.debug_addr,
                debug_aranges: self.dwarf.debug_aranges,
                debug_info: self.dwarf.debug_info,
                debug_line: self.dwarf.debug_line,
                debug_line_str: self.dwarf.debug_line_str,
                debug_str: self.dwarf.debug_str,
                debug_str_offsets: self.dwarf.debug_str_offsets,
                debug_types: self.dwarf.debug_types,
                locations: self.dwarf.locations,
                ranges: self.dwarf.ranges,
                ..Default::default()
            };
            addr2line::Context::from_arc_dwarf(Arc::new(dwarf)).ok()
        });
        f(ctx.as_ref()?)
    }

    /// The source file and line of `addr` (a link-time address).
    pub fn addr_to_line(&self, addr: u64) -> Option<(String, u32)> {
        self.with_lines(|ctx| {
            let loc = ctx.find_location(addr).ok()??;
            Some((loc.file?.to_string(), loc.line?))
        })
    }

    /// The frames at `addr`: inlined functions innermost first, each with its call site, then the
    /// containing function.
    pub fn frames_at(&self, addr: u64) -> Vec<Frame> {
        self.with_lines(|ctx| {
            let mut it = ctx.find_frames(addr).skip_all_loads().ok()?;
            let mut out = Vec::new();
            while let Ok(Some(f)) = it.next() {
                if out.len() >= 64 {
                    break;
                }
                out.push(Frame {
                    function: f
                        .function
                        .as_ref()
                        .and_then(|n| n.raw_name().ok().map(|s| s.into_owned())),
                    file: f.location.as_ref().and_then(|l| l.file.map(str::to_string)),
                    line: f.location.as_ref().and_then(|l| l.line),
                });
            }
            Some(out)
        })
        .unwrap_or_default()
    }

    /// The function whose code contains `addr`, with the range (of the part) holding it.
    pub fn function_at(&self, addr: u64) -> Option<FunctionRange> {
        let (low, high, die) = self
            .function_ranges_at(addr)
            .into_iter()
            .min_by_key(|r| r.1 - r.0)?;
        let name = super::loader::die_name(self, die)?;
        Some(FunctionRange {
            name,
            low_pc: low,
            high_pc: high,
        })
    }
}
