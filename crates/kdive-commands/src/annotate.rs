//! Variable annotations for disassembly (`dis -v`, `disassemble /v`): after each instruction,
//! which C variables live where at that address (`np=rax priv=rdi hw=rdi+0x8`), read from the
//! DWARF location lists of the module or vmlinux holding the code; and when the instruction
//! reaches memory through a register holding a variable, what it reaches: `np->txq (np in rax)`
//! for `mov 0x1a0(%rax),%rcx`, the member found from the variable's pointee type and the
//! displacement. Nothing is printed where the debug info says nothing.
//!
//! Stack slots DWARF gives relative to the canonical frame address (`[CFA-0x50]`) are shown
//! relative to the register the kernel's ORC unwind table says holds the CFA at that
//! instruction (`[rbp-0x40]`), so they match the instructions' operands.

use crate::disasm::{Insn, MemRef};
use kdive_debuginfo::dwarf::{register_name, DwarfInfo, FunctionLocals, Loc, Local, MemberStep};
use kdive_kernel::stack::StackContext;
use kdive_kernel::Kernel;
use kdive_unwind::arch::x86_64::orc::{self, OrcKind};
use serde_json::{json, Value};
use std::sync::Arc;

/// What one instruction gets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotation {
    /// What the memory operand is, e.g. `np->txq (np in rax)`.
    pub access: Option<String>,
    /// The variables with a location here, in declaration order.
    pub vars: Vec<Local>,
}

impl Annotation {
    /// `# np->txq (np in rax); priv=rdi np=rax`, or "" when there is nothing to say.
    pub fn comment(&self) -> String {
        let vars: Vec<String> = self
            .vars
            .iter()
            .map(|l| format!("{}={}", l.name, l.loc))
            .collect();
        match (&self.access, vars.is_empty()) {
            (None, true) => String::new(),
            (Some(a), true) => format!("# {a}"),
            (None, false) => format!("# {}", vars.join(" ")),
            (Some(a), false) => format!("# {a}; {}", vars.join(" ")),
        }
    }

    /// `text` with the comment after it (instruction text padded to a column), or `text`.
    pub fn append_to(&self, text: &str) -> String {
        let c = self.comment();
        if c.is_empty() {
            text.to_string()
        } else {
            format!("{text:<32} {c}")
        }
    }

    pub fn json(&self) -> Value {
        json!({
            "access": self.access,
            "vars": self.vars.iter().map(|l| json!({
                "name": l.name,
                "location": l.loc.to_string(),
                "param": l.param,
                "inlined_from": l.inlined,
            })).collect::<Vec<_>>(),
        })
    }
}

/// The DWARF holding code address `addr` (a loaded module's, else the vmlinux's) and the
/// address in its terms (link-time for the vmlinux: the KASLR offset taken off).
pub fn dwarf_for(k: &Kernel, addr: u64) -> Option<(Arc<DwarfInfo>, u64)> {
    match k.module_debug_at(addr) {
        Some(d) => Some((d.dwarf.clone(), addr)),
        None => {
            let kaslr = k.vmcoreinfo.kernel_offset().unwrap_or(0);
            Some((k.dwarf.clone()?, addr.wrapping_sub(kaslr)))
        }
    }
}

/// Annotates the instructions of one listing, reading each function's variables once.
pub struct Annotator<'a> {
    k: &'a Kernel,
    /// Unwind tables (ORC) for the CFA's register at an address.
    ctx: Option<Arc<StackContext>>,
    /// The DWARF and variables of the last function asked about.
    cur: Option<(Arc<DwarfInfo>, FunctionLocals)>,
}

impl<'a> Annotator<'a> {
    pub fn new(k: &'a Kernel, ctx: Option<Arc<StackContext>>) -> Self {
        Annotator { k, ctx, cur: None }
    }

    /// The CFA at `addr` as (DWARF register, offset), from the ORC entry of a call frame whose
    /// previous stack pointer is rsp or rbp plus an offset.
    fn cfa_at(&self, addr: u64) -> Option<(u16, i64)> {
        let e = self.ctx.as_ref()?.unwinder.orc_find(addr)?;
        if e.kind != OrcKind::Call {
            return None;
        }
        let reg = match e.sp_reg {
            orc::REG_SP => 7,
            orc::REG_BP => 6,
            _ => return None,
        };
        Some((reg, i64::from(e.sp_offset)))
    }

    /// The DWARF holding `addr` and the address in its terms (link-time for the vmlinux).
    fn dwarf_for(&self, addr: u64) -> Option<(Arc<DwarfInfo>, u64)> {
        dwarf_for(self.k, addr)
    }

    pub fn annotate(&mut self, i: &Insn) -> Annotation {
        let (vars, access) = self.variables_and_access(i);
        Annotation {
            access: access.map(|a| a.to_string()),
            vars,
        }
    }

    /// The variables live at `i` and what its memory operand reaches through one of them.
    pub fn variables_and_access(&mut self, i: &Insn) -> (Vec<Local>, Option<AccessExpr>) {
        let Some((dw, a)) = self.dwarf_for(i.addr) else {
            return (Vec::new(), None);
        };
        let reuse = matches!(&self.cur, Some((d, f)) if Arc::ptr_eq(d, &dw) && f.contains(a));
        if !reuse {
            self.cur = dw.function_locals(a).map(|f| (dw.clone(), f));
        }
        let Some((_, f)) = &self.cur else {
            return (Vec::new(), None);
        };
        let mut vars = f.at(a);
        if vars.iter().any(|v| matches!(v.loc, Loc::Cfa(_))) {
            if let Some((reg, cfa)) = self.cfa_at(i.addr) {
                for v in &mut vars {
                    if let Loc::Cfa(o) = v.loc {
                        if let Some(off) = cfa.checked_add(o) {
                            v.loc = Loc::Mem { reg, off };
                        }
                    }
                }
            }
        }
        let access = i.mem.and_then(|m| access(&dw, &vars, &m));
        (vars, access)
    }
}

fn reg(r: u16) -> String {
    register_name(r).map_or_else(|| format!("reg{r}"), str::to_string)
}

fn signed_hex(v: i64) -> String {
    if v < 0 {
        format!("-{:#x}", v.unsigned_abs())
    } else {
        format!("+{v:#x}")
    }
}

/// What a memory operand reaches, in C terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessExpr {
    /// `np->txq`, `&priv->hw`, `*(x+0x10)`.
    pub text: String,
    /// How the variable was found: `np in rax`, `hw = rdi+0x8`.
    pub how: String,
    /// The variable the expression starts from.
    pub var: Local,
    /// The variable's pointee type (`struct kdive_race_napi`) when it is a pointer.
    pub pointee: Option<String>,
}

impl std::fmt::Display for AccessExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.text, self.how)
    }
}

/// What memory operand `m` reaches through a variable, if its base register holds one.
pub fn access(dw: &DwarfInfo, vars: &[Local], m: &MemRef) -> Option<AccessExpr> {
    let base = m.base?;
    let amp = if m.lea { "&" } else { "" };
    let expr = |text: String, how: String, var: &Local, pointee: Option<String>| AccessExpr {
        text,
        how,
        var: var.clone(),
        pointee,
    };
    // The variable itself, in a stack slot addressed the same way, or a member of it.
    if m.index.is_none() {
        if let Some(v) = vars.iter().find(|v| {
            v.loc
                == Loc::Mem {
                    reg: base,
                    off: m.disp,
                }
        }) {
            return Some(expr(
                format!("{amp}{}", v.name),
                format!("in {}", v.loc),
                v,
                None,
            ));
        }
        if let Some((text, v)) = stack_member(dw, vars, base, m.disp) {
            return Some(expr(
                format!("{amp}{text}"),
                format!("{} in {}", v.name, v.loc),
                v,
                None,
            ));
        }
    }
    // A pointer in the base register, else a value computed from it (`hw = rdi+0x8`).
    let (v, disp, how) = if let Some(v) = vars.iter().find(|v| v.loc == Loc::Reg(base)) {
        (v, m.disp, format!("{} in {}", v.name, reg(base)))
    } else {
        let v = vars
            .iter()
            .find(|v| matches!(v.loc, Loc::Value { reg: r, .. } if r == base))?;
        let Loc::Value { off, .. } = v.loc else {
            return None;
        };
        (
            v,
            m.disp.checked_sub(off)?,
            format!("{} = {}", v.name, v.loc),
        )
    };
    let index_var = m.index.map(|ix| {
        vars.iter()
            .find(|v| v.loc == Loc::Reg(ix))
            .map_or_else(|| reg(ix), |v| v.name.clone())
    });
    let path = match (u64::try_from(disp), v.type_die) {
        (Ok(d), Some(t)) => dw.pointee_member(t, d).map(|p| (d, p)),
        _ => None,
    };
    let Some((d, p)) = path else {
        // Not a pointer (an address held in an integer), or no type to tell.
        return Some(expr(raw(v, disp, &index_var, m), how, v, None));
    };
    let pointee = p.pointee_name.clone();
    let mut text = if p.pointee_is_composite {
        if p.steps.is_empty() {
            format!("{}->???", v.name)
        } else {
            let mut s = member_text(&v.name, &p.steps, "->", index_var.as_deref(), m.scale)
                .unwrap_or_default();
            if p.rest != 0 {
                s.push_str(&format!(" +{:#x}", p.rest));
            }
            s
        }
    } else {
        // A pointer to a scalar (or void): *p, p[N].
        let idx = match (&index_var, p.pointee_size) {
            (Some(iv), Some(sz)) if u64::from(m.scale) == sz && d % sz == 0 => Some(if d == 0 {
                iv.clone()
            } else {
                format!("{iv}+{}", d / sz)
            }),
            (None, Some(sz)) if sz > 0 && d % sz == 0 && d > 0 => Some((d / sz).to_string()),
            (None, _) if d == 0 => None,
            _ => return Some(expr(format!("{amp}{}->???", v.name), how, v, pointee)),
        };
        match idx {
            Some(ix) => format!("{}[{ix}]", v.name),
            None => format!("*{}", v.name),
        }
    };
    if m.lea {
        text = format!("&{text}");
    }
    Some(expr(text, how, v, pointee))
}

/// A member of a struct variable held in a stack slot at `reg + off` that `base + disp`
/// lands inside: `timer.entry.pprev (timer in [rsp])`.
fn stack_member<'v>(
    dw: &DwarfInfo,
    vars: &'v [Local],
    base: u16,
    disp: i64,
) -> Option<(String, &'v Local)> {
    for v in vars {
        let (Loc::Mem { reg, off }, Some(t)) = (v.loc, v.type_die) else {
            continue;
        };
        let Some(inner) = disp.checked_sub(off).and_then(|d| u64::try_from(d).ok()) else {
            continue;
        };
        if reg != base || inner == 0 {
            continue;
        }
        let Some(p) = dw.member_at(t, inner) else {
            continue;
        };
        if !p.pointee_is_composite || p.pointee_size.map_or(true, |sz| inner >= sz) {
            continue;
        }
        if let Some(path) = member_text(&v.name, &p.steps, ".", None, 1) {
            let rest = if p.rest != 0 {
                format!(" +{:#x}", p.rest)
            } else {
                String::new()
            };
            return Some((format!("{path}{rest}"), v));
        }
    }
    None
}

/// `v->a.b[i]` (`first` is `->` or `.`): the steps from `v` to a member; the first array step
/// whose element size is the operand's scale is indexed by `index` (the index register's
/// variable, or the register), `[+rdx*8]` at the end when none is. None without steps.
fn member_text(
    v: &str,
    steps: &[MemberStep],
    first: &str,
    index: Option<&str>,
    scale: u32,
) -> Option<String> {
    if steps.is_empty() {
        return None;
    }
    let mut s = v.to_string();
    let mut index_used = false;
    for (k, st) in steps.iter().enumerate() {
        match st {
            MemberStep::Field(f) if k == 0 => s.push_str(&format!("{first}{f}")),
            MemberStep::Field(f) => s.push_str(&format!(".{f}")),
            MemberStep::Elem {
                index: i,
                elem_size,
            } => match index {
                Some(iv) if !index_used && u64::from(scale) == *elem_size => {
                    index_used = true;
                    if *i == 0 {
                        s.push_str(&format!("[{iv}]"));
                    } else {
                        s.push_str(&format!("[{iv}+{i}]"));
                    }
                }
                _ => s.push_str(&format!("[{i}]")),
            },
        }
    }
    if let (Some(iv), false) = (index, index_used) {
        s.push_str(&format!(" [+{iv}*{scale}]"));
    }
    Some(s)
}

/// `*(v+0x10)`, `*(v-0x140+rdx*8)`; for `lea` the address itself, `v-0x180`.
fn raw(v: &Local, disp: i64, index: &Option<String>, m: &MemRef) -> String {
    let scale = m.scale;
    let d = if disp == 0 {
        String::new()
    } else {
        signed_hex(disp)
    };
    let ix = index
        .as_ref()
        .map(|i| format!("+{i}*{scale}"))
        .unwrap_or_default();
    if m.lea {
        format!("{}{d}{ix}", v.name)
    } else if d.is_empty() && ix.is_empty() {
        format!("*{}", v.name)
    } else {
        format!("*({}{d}{ix})", v.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(name: &str, loc: Loc) -> Local {
        Local {
            name: name.into(),
            param: false,
            inlined: None,
            loc,
            type_die: None,
        }
    }

    #[test]
    fn comments() {
        assert_eq!(Annotation::default().comment(), "");
        assert_eq!(Annotation::default().append_to("ret    "), "ret    ");
        let a = Annotation {
            access: Some("np->txq (np in rax)".into()),
            vars: vec![local("np", Loc::Reg(0)), local("i", Loc::Reg(1))],
        };
        assert_eq!(a.comment(), "# np->txq (np in rax); np=rax i=rdx");
        assert_eq!(
            a.append_to("mov    0x1a0(%rax),%rcx"),
            "mov    0x1a0(%rax),%rcx          # np->txq (np in rax); np=rax i=rdx"
        );
    }

    #[test]
    fn untyped_accesses() {
        let m = |base, index, disp, lea| MemRef {
            base: Some(base),
            index,
            scale: 8,
            disp,
            lea,
        };
        let v = &local("x", Loc::Reg(3));
        assert_eq!(raw(v, 0, &None, &m(3, None, 0, false)), "*x");
        assert_eq!(
            raw(v, -0x140, &None, &m(3, None, -0x140, false)),
            "*(x-0x140)"
        );
        assert_eq!(
            raw(v, 8, &Some("i".into()), &m(3, Some(1), 8, false)),
            "*(x+0x8+i*8)"
        );
        assert_eq!(raw(v, -0x180, &None, &m(3, None, -0x180, true)), "x-0x180");
    }
}
