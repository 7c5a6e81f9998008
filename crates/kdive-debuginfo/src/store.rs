//! The one place commands get types and typed symbols from: a [`TypeGraph`] that starts with
//! what is cheap (BTF) and grows on demand from a slower, richer [`TypeLoader`] (DWARF).
//!
//! Types are loaded lazily: a loader may add a struct whose pointer members point at
//! *declaration stubs*; [`TypeStore::complete`] turns a stub into the full definition, loading
//! it first. Callers therefore never hold the graph across calls: use [`TypeStore::with_graph`]
//! for short reads and ask again after any call that may load.

use crate::types::{Type, TypeGraph, TypeId};
use std::sync::{Arc, RwLock};

/// What a type source knows about a named variable or function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedSymbol {
    pub name: String,
    pub ty: TypeId,
    /// Link-time address when the debug info records one (DWARF `DW_AT_location` / `low_pc`),
    /// before any KASLR slide.
    pub addr: Option<u64>,
}

/// A source that adds types to a graph on demand (DWARF). BTF needs none: it is loaded whole.
pub trait TypeLoader: Send + Sync {
    /// Adds the type called `name` (C spelling: "struct task_struct", "dma_addr_t",
    /// "unsigned int") to `graph` if the source has it; returns its id.
    fn load_type(&self, graph: &mut TypeGraph, name: &str) -> Option<TypeId>;
    /// Adds the type of global variable `name`.
    fn load_variable(&self, graph: &mut TypeGraph, name: &str) -> Option<TypedSymbol>;
    /// Adds the type of function `name`.
    fn load_function(&self, graph: &mut TypeGraph, name: &str) -> Option<TypedSymbol>;
    /// Completes a struct/union/enum declaration stub `id` in place or returns the id of the
    /// full definition (loading it); `None` when the source has no definition either.
    fn complete(&self, graph: &mut TypeGraph, id: TypeId) -> Option<TypeId>;
    /// A one-line description for "sources in use" ("DWARF of vmlinux (2917 CUs)").
    fn describe(&self) -> String;
}

/// Types from BTF and/or a lazy loader, behind one lock; more loaders (modules' DWARF) can be
/// added later and are asked after the first, in the order added.
pub struct TypeStore {
    graph: RwLock<TypeGraph>,
    loader: Option<Box<dyn TypeLoader>>,
    /// Loaders added at run time (`mod -s`), by key (the module name).
    extra: RwLock<Vec<(String, Arc<dyn TypeLoader>)>>,
}

impl TypeStore {
    pub fn new(graph: TypeGraph, loader: Option<Box<dyn TypeLoader>>) -> TypeStore {
        TypeStore {
            graph: RwLock::new(graph),
            loader,
            extra: RwLock::new(Vec::new()),
        }
    }

    /// Adds a loader asked after the existing ones, replacing one added with the same key.
    pub fn add_loader(&self, key: &str, loader: Arc<dyn TypeLoader>) {
        let mut e = self.extra.write().unwrap_or_else(|e| e.into_inner());
        e.retain(|(k, _)| k != key);
        e.push((key.to_string(), loader));
    }

    /// Removes the loader added with `key`; types it already added stay in the graph.
    pub fn remove_loader(&self, key: &str) -> bool {
        let mut e = self.extra.write().unwrap_or_else(|e| e.into_inner());
        let n = e.len();
        e.retain(|(k, _)| k != key);
        e.len() != n
    }

    /// Keys of the loaders added with [`add_loader`](Self::add_loader).
    pub fn extra_loaders(&self) -> Vec<String> {
        let e = self.extra.read().unwrap_or_else(|e| e.into_inner());
        e.iter().map(|(k, _)| k.clone()).collect()
    }

    /// Appends the own types of `split` (a module's split BTF over this store's base graph) to
    /// the graph, renumbering its ids; returns how many were added. Ids below the base's
    /// count are the base's and stay as they are.
    pub fn merge_split(&self, split: &TypeGraph) -> usize {
        let mut g = self.graph.write().unwrap_or_else(|e| e.into_inner());
        let first = split.first_id().0;
        let shift = g.len() as u32;
        let map = |id: TypeId| {
            if id.0 >= first {
                TypeId(id.0 - first + shift)
            } else {
                id
            }
        };
        let own: Vec<Type> = (first..split.len() as u32)
            .map(|i| crate::types::remap_refs(split.ty(TypeId(i)), map))
            .collect();
        let n = own.len();
        for t in own {
            g.add(t);
        }
        n
    }

    /// Every loader, first the one given at creation.
    fn loaders(&self) -> Vec<Arc<dyn TypeLoader>> {
        let e = self.extra.read().unwrap_or_else(|e| e.into_inner());
        e.iter().map(|(_, l)| l.clone()).collect()
    }

    pub fn has_loader(&self) -> bool {
        self.loader.is_some() || !self.extra_loaders().is_empty()
    }

    pub fn loader_description(&self) -> Option<String> {
        self.loader.as_ref().map(|l| l.describe())
    }

    /// Runs `f` with the graph read-locked. Do not call other `TypeStore` methods inside.
    pub fn with_graph<R>(&self, f: impl FnOnce(&TypeGraph) -> R) -> R {
        let g = self.graph.read().unwrap_or_else(|e| e.into_inner());
        f(&g)
    }

    /// Adds a type the caller synthesises (the expression evaluator's pointers and base types);
    /// returns its id. Ids stay valid: the graph only grows.
    pub fn add_type(&self, ty: Type) -> TypeId {
        let mut g = self.graph.write().unwrap_or_else(|e| e.into_inner());
        g.add(ty)
    }

    /// A pointer type to `target`: the graph's own when it has one, else a new one.
    pub fn pointer_to(&self, target: TypeId) -> TypeId {
        if let Some(p) = self.with_graph(|g| g.pointer_to(target)) {
            return p;
        }
        let mut g = self.graph.write().unwrap_or_else(|e| e.into_inner());
        g.pointer_to_or_add(target)
    }

    /// A clone of one type.
    pub fn ty(&self, id: TypeId) -> Type {
        self.with_graph(|g| g.ty(id).clone())
    }

    /// Looks a type up by C name, asking the loader when the graph lacks it (or has only a
    /// declaration).
    pub fn find_type(&self, name: &str) -> Option<TypeId> {
        let have = self.with_graph(|g| {
            g.find_type_by_name(name)
                .filter(|&id| !g.ty(id).is_declaration())
        });
        if have.is_some() {
            return have;
        }
        if let Some(l) = &self.loader {
            let mut g = self.graph.write().unwrap_or_else(|e| e.into_inner());
            if let Some(id) = l.load_type(&mut g, name) {
                return Some(id);
            }
        }
        for l in self.loaders() {
            let mut g = self.graph.write().unwrap_or_else(|e| e.into_inner());
            if let Some(id) = l.load_type(&mut g, name) {
                return Some(id);
            }
        }
        self.with_graph(|g| g.find_type_by_name(name))
    }

    /// The full definition for a declaration stub (or `id` itself when it is complete).
    pub fn complete(&self, id: TypeId) -> TypeId {
        let (resolved, still_decl) = self.with_graph(|g| {
            let r = g.resolve_declaration(id);
            (r, g.ty(r).is_declaration())
        });
        if !still_decl {
            return resolved;
        }
        if let Some(l) = &self.loader {
            let mut g = self.graph.write().unwrap_or_else(|e| e.into_inner());
            if let Some(full) = l.complete(&mut g, resolved) {
                return full;
            }
        }
        for l in self.loaders() {
            let mut g = self.graph.write().unwrap_or_else(|e| e.into_inner());
            if let Some(full) = l.complete(&mut g, resolved) {
                return full;
            }
        }
        resolved
    }

    /// The type of a global variable: the loader's (DWARF) answer, else BTF's `Var` (per-CPU only).
    pub fn variable(&self, name: &str) -> Option<TypedSymbol> {
        if let Some(l) = &self.loader {
            let mut g = self.graph.write().unwrap_or_else(|e| e.into_inner());
            if let Some(v) = l.load_variable(&mut g, name) {
                return Some(v);
            }
        }
        for l in self.loaders() {
            let mut g = self.graph.write().unwrap_or_else(|e| e.into_inner());
            if let Some(v) = l.load_variable(&mut g, name) {
                return Some(v);
            }
        }
        self.with_graph(|g| {
            let id = g.find_var(name)?;
            match g.ty(id) {
                Type::Var { ty, .. } => Some(TypedSymbol {
                    name: name.to_string(),
                    ty: *ty,
                    addr: None,
                }),
                _ => None,
            }
        })
    }

    /// The type of a function: the loader's answer, else BTF's `Func` prototype.
    pub fn function(&self, name: &str) -> Option<TypedSymbol> {
        if let Some(l) = &self.loader {
            let mut g = self.graph.write().unwrap_or_else(|e| e.into_inner());
            if let Some(f) = l.load_function(&mut g, name) {
                return Some(f);
            }
        }
        for l in self.loaders() {
            let mut g = self.graph.write().unwrap_or_else(|e| e.into_inner());
            if let Some(f) = l.load_function(&mut g, name) {
                return Some(f);
            }
        }
        self.with_graph(|g| {
            let id = g.find_function(name)?;
            match g.ty(id) {
                Type::Func { proto, .. } => Some(TypedSymbol {
                    name: name.to_string(),
                    ty: *proto,
                    addr: None,
                }),
                _ => None,
            }
        })
    }
}
