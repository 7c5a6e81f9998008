//! Where the bad pointer came from: walking back from the faulting instruction to the load
//! that put the pointer in its register (`np = priv->qnapi[i]`), the slot it was loaded from
//! and what that slot holds now.

use super::site::{effective_address, reg_name, Access, FaultSite};
use crate::annotate::Annotator;
use crate::disasm::{Insn, MemRef, Namer};
use kdive_debuginfo::dwarf::Loc;
use kdive_kernel::stack::StackContext;
use kdive_kernel::Kernel;
use serde::Serialize;
use std::collections::HashSet;
use std::sync::Arc;

/// Bound on register-to-register moves followed back.
const MAX_MOVES: usize = 4;

/// The load that produced the faulting pointer.
#[derive(Debug, Clone, Serialize)]
pub struct Origin {
    pub addr: u64,
    /// `kdive_race_reinit_rings+29`.
    pub location: String,
    pub source: Option<(String, u32)>,
    pub instruction: String,
    /// What it loads, in C: `priv->qnapi[i]`.
    pub access: Option<Access>,
    /// The index variable or register and its value: `i = 0 (rdx)`.
    pub index: Option<String>,
    /// The slot's address, when the registers that address it still hold their values at the
    /// fault.
    pub slot: Option<u64>,
    /// What the slot holds in the dump.
    pub slot_now: Option<u64>,
    /// The operand's shape, for finding other code that writes the same member.
    #[serde(skip)]
    pub mem: Option<MemRef>,
}

/// True when control can reach `insns[i]` other than from `insns[i - 1]`.
fn is_join(targets: &HashSet<u64>, insns: &[Insn], i: usize) -> bool {
    targets.contains(&insns[i].addr)
}

/// Follows register `reg` back from the faulting instruction to the load that set it, through
/// register moves, within straight-line code (no branch target in between).
pub fn origin(
    k: &Kernel,
    ctx: &Arc<StackContext>,
    namer: &Namer<'_>,
    site: &FaultSite,
    reg: u16,
) -> Option<Origin> {
    let insns = &site.insns;
    let fault = site.index?;
    let targets: HashSet<u64> = insns
        .iter()
        .filter_map(|i| i.effects.branch_target)
        .collect();
    let mut reg = reg;
    let mut moves = 0;
    let mut j = fault;
    let load = loop {
        if j == 0 || is_join(&targets, insns, j) {
            return None;
        }
        j -= 1;
        let i = &insns[j];
        if i.effects.is_call {
            return None;
        }
        if !i.effects.writes_reg(reg) {
            continue;
        }
        match i.mem {
            Some(m) if !m.lea => break j,
            None if i.text.starts_with("mov ") && moves < MAX_MOVES => {
                // `mov %src,%dst`: follow the source register.
                let src = i.text.split_whitespace().nth(1)?.split(',').next()?;
                reg = (0..16).find(|r| format!("%{}", reg_name(*r)) == src)?;
                moves += 1;
            }
            _ => return None,
        }
    };
    let i = &insns[load];
    let m = i.mem?;
    // The load's address registers, unchanged from the load to the fault, still hold the
    // values it used.
    let unchanged = |r: u16| {
        insns[load + 1..fault]
            .iter()
            .all(|x| !x.effects.writes_reg(r))
    };
    let usable = m.base.map_or(true, unchanged) && m.index.map_or(true, unchanged);
    let mut annot = Annotator::new(k, Some(ctx.clone()));
    let (vars, expr) = annot.variables_and_access(i);
    let access = expr.map(|a| {
        let holds = matches!(a.var.loc, Loc::Reg(r) if unchanged(r));
        Access::from_expr(&a, m.base, holds.then_some(&site.regs))
    });
    let index = m.index.map(|ix| {
        let name = vars
            .iter()
            .find(|v| v.loc == Loc::Reg(ix))
            .map(|v| v.name.clone());
        let value = unchanged(ix).then(|| site.regs.dwarf(ix)).flatten();
        match (name, value) {
            (Some(n), Some(v)) => format!("{n} = {v} ({})", reg_name(ix)),
            (None, Some(v)) => format!("{} = {v}", reg_name(ix)),
            (Some(n), None) => format!("{n} in {}", reg_name(ix)),
            (None, None) => reg_name(ix),
        }
    });
    let slot = usable.then(|| effective_address(i, &site.regs)).flatten();
    let slot_now = slot.and_then(|a| k.read_u64(a, "the pointer's slot").ok());
    Some(Origin {
        addr: i.addr,
        location: namer
            .name(i.addr)
            .unwrap_or_else(|| format!("{:#x}", i.addr)),
        source: crate::disasm::source_line(k, i.addr),
        instruction: i.text.trim_end().to_string(),
        access,
        index,
        slot,
        slot_now,
        mem: Some(m),
    })
}

/// `priv->qnapi[i]` → `->qnapi[]`: the member path after the variable, indexes dropped, so
/// accesses through different variables of the same type compare equal.
pub fn member_key(expression: &str, variable: &str) -> Option<String> {
    let rest = expression.trim_start_matches('&').strip_prefix(variable)?;
    if !rest.starts_with("->") {
        return None;
    }
    let mut key = String::new();
    let mut depth = 0;
    for c in rest.chars() {
        match c {
            '[' => {
                depth += 1;
                if depth == 1 {
                    key.push('[');
                }
            }
            ']' => {
                depth -= 1;
                if depth == 0 {
                    key.push(']');
                }
            }
            ' ' if depth == 0 => break,
            _ if depth == 0 => key.push(c),
            _ => {}
        }
    }
    Some(key)
}

/// `priv->qnapi[i]` → `->qnapi`: the member up to its first index, to print the whole array.
pub fn array_member(expression: &str, variable: &str) -> Option<String> {
    let rest = expression.strip_prefix(variable)?;
    let cut = rest.find('[')?;
    rest.starts_with("->").then(|| rest[..cut].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(
            member_key("priv->qnapi[i]", "priv").as_deref(),
            Some("->qnapi[]")
        );
        assert_eq!(
            member_key("alx->qnapi[i+1]", "alx").as_deref(),
            Some("->qnapi[]")
        );
        assert_eq!(member_key("np->txq +0x4", "np").as_deref(), Some("->txq"));
        assert_eq!(
            member_key("&priv->hw.ith_tpd", "priv").as_deref(),
            Some("->hw.ith_tpd")
        );
        assert_eq!(member_key("*(x+0x10)", "x"), None);
        assert_eq!(
            array_member("priv->qnapi[i]", "priv").as_deref(),
            Some("->qnapi")
        );
        assert_eq!(array_member("priv->dev", "priv"), None);
    }
}
