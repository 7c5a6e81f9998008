//! What expression commands share: the session's type store and `$N` history, an evaluator
//! over the dump, and crash's routing of a bare symbol or type name to `p` or `struct`.

use crate::{CmdError, Report, Session};
use kdive_debuginfo::TypeStore;
use kdive_eval::{Evaluator, KernelTarget, Value};
use std::sync::Arc;

/// Expression state kept across commands.
#[derive(Default)]
pub struct EvalState {
    store: Option<Arc<TypeStore>>,
    /// `$1` is `history[0]`.
    pub history: Vec<Value>,
    per_cpu: Option<Vec<u64>>,
    /// Loaded modules' symbols (read on first use).
    module_symbols: Option<Arc<kdive_debuginfo::SymbolTable>>,
}

impl EvalState {
    /// The kernel's type store (BTF, grown from DWARF when a vmlinux with DWARF is given).
    pub fn store(&mut self, k: &kdive_kernel::Kernel) -> Arc<TypeStore> {
        self.store.get_or_insert_with(|| k.types.clone()).clone()
    }

    /// Loaded modules' symbols, read from the dump on first use.
    pub fn module_symbols(
        &mut self,
        k: &kdive_kernel::Kernel,
    ) -> Arc<kdive_debuginfo::SymbolTable> {
        self.module_symbols
            .get_or_insert_with(|| Arc::new(kdive_kernel::stack::module_symbol_table(k)))
            .clone()
    }

    fn per_cpu(&mut self, k: &kdive_kernel::Kernel) -> Vec<u64> {
        self.per_cpu
            .get_or_insert_with(|| {
                let n = k.cpu_counts().map(|c| c.cpus).unwrap_or(1).max(1);
                (0..n).map_while(|c| k.per_cpu_offset(c).ok()).collect()
            })
            .clone()
    }
}

/// Runs `f` with an evaluator over the session's dump and history.
pub fn with_eval<R>(s: &mut Session, f: impl FnOnce(&Evaluator) -> R) -> R {
    with_eval_kernel(s, |ev, _| f(ev))
}

/// Like [`with_eval`], also handing over the kernel (for physical reads).
pub fn with_eval_kernel<R>(
    s: &mut Session,
    f: impl FnOnce(&Evaluator, &kdive_kernel::Kernel) -> R,
) -> R {
    let store = s.eval.store(&s.kernel);
    let per_cpu = s.eval.per_cpu(&s.kernel);
    let modules = s.eval.module_symbols(&s.kernel);
    let mut target = KernelTarget::new(&s.kernel.mem, &s.kernel.symbols, &store, per_cpu);
    target.module_symbols = Some(&modules);
    let ev = Evaluator::new(&target, &s.eval.history);
    f(&ev, &s.kernel)
}

/// crash sends a bare word that names a symbol to `p` and one that names a struct or union
/// to `struct`/`union`; None when the word is neither.
pub fn route_unknown(s: &mut Session, line: &str) -> Result<Option<Report>, CmdError> {
    let word = line.split_whitespace().next().unwrap_or("");
    if word.is_empty() || !word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Ok(None);
    }
    if s.kernel.symbols.lookup(word).is_some() {
        let args = crate::session::split_args(line);
        return crate::print::run(s, &args, line).map(Some);
    }
    let kind = with_eval(s, |ev| {
        let st = ev.target.types();
        st.with_graph(|g| {
            if g.find_struct(word).is_some() {
                Some("struct")
            } else if g.find_union(word).is_some() {
                Some("union")
            } else {
                None
            }
        })
    });
    match kind {
        Some(k) => {
            let args = crate::session::split_args(line);
            crate::structcmd::run_kind(s, k, &args).map(Some)
        }
        None => Ok(None),
    }
}
