//! DWARF of a kernel module: the `.ko`'s `.debug_*` sections with their RELA relocations
//! applied (in memory) against where the running kernel loaded each section, then indexed
//! like a vmlinux's. Addresses in the result (functions, lines, variables) are the module's
//! addresses in the dump; nothing is cached on disk (modules are small).

use super::{cache, index, lines, DwarfError, DwarfInfo, IndexOrigin, Sections};
use crate::ko::KoFile;
use std::sync::Mutex;
use std::time::Instant;

/// The sections gimli and the indexer read.
const DEBUG_SECTIONS: &[&str] = &[
    ".debug_info",
    ".debug_abbrev",
    ".debug_str",
    ".debug_line",
    ".debug_line_str",
    ".debug_str_offsets",
    ".debug_addr",
    ".debug_rnglists",
    ".debug_ranges",
    ".debug_loclists",
    ".debug_loc",
    ".debug_aranges",
    ".debug_frame",
];

impl DwarfInfo {
    /// Opens the DWARF of module file `ko`, relocated: `section_addr` gives the load address
    /// of each allocated section by name, `undefined` the address of a kernel symbol.
    /// Returns the DWARF and the number of relocations that could not be resolved.
    pub fn open_module(
        ko: &KoFile,
        section_addr: &dyn Fn(&str) -> Option<u64>,
        undefined: &dyn Fn(&str) -> Option<u64>,
    ) -> Result<(DwarfInfo, usize), DwarfError> {
        let path = ko.path().to_path_buf();
        if !ko.has_dwarf() || ko.section_data(".debug_abbrev").is_none() {
            return Err(DwarfError::NoDebugInfo { path });
        }
        if ko.sections().iter().any(|s| {
            s.name.starts_with(".debug") && s.flags & u64::from(object::elf::SHF_COMPRESSED) != 0
        }) {
            return Err(DwarfError::Compressed { path });
        }
        let mut owned: Vec<(&'static str, Vec<u8>)> = Vec::new();
        let mut unresolved = 0;
        for &name in DEBUG_SECTIONS {
            let r = ko
                .relocated_section(name, section_addr, undefined)
                .map_err(|e| DwarfError::Io {
                    path: path.clone(),
                    what: e.to_string(),
                })?;
            if let Some((bytes, n)) = r {
                unresolved += n;
                owned.push((name, bytes));
            }
        }
        let get = |n: &str| -> &'static [u8] {
            match owned.iter().find(|(name, _)| *name == n) {
                // SAFETY: the Vec's heap buffer never moves or changes once built; DwarfInfo
                // keeps the Vecs (`owned`) alive as long as the slices made here.
                Some((_, v)) => unsafe { std::slice::from_raw_parts(v.as_ptr(), v.len()) },
                None => &[],
            }
        };
        let (secs, dwarf) = Sections::load(get, false);
        let build_id = ko.build_id().unwrap_or_default();
        let key =
            cache::IndexKey::for_file(&path, &build_id, secs.info.len() as u64).map_err(|e| {
                DwarfError::Io {
                    path: path.clone(),
                    what: e.to_string(),
                }
            })?;
        let t0 = Instant::now();
        let built = index::build(&secs);
        let bytes = cache::serialize(&key, &built);
        let index = cache::StoredIndex::from_owned(bytes, &key).map_err(|e| DwarfError::Io {
            path: path.clone(),
            what: format!("index: {e}"),
        })?;
        Ok((
            DwarfInfo {
                dwarf,
                index,
                origin: IndexOrigin::Built {
                    elapsed: t0.elapsed(),
                    written: None,
                    stale: None,
                    write_error: None,
                },
                stats: Some(built.stats),
                lines: Mutex::new(lines::LineState::default()),
                path,
                _elf: None,
                _owned: owned.into_iter().map(|(_, v)| v).collect(),
            },
            unresolved,
        ))
    }
}
