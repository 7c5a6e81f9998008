//! Tells the files on the command line apart by their contents: dump, vmlinux or module.

use crate::{Error, Result};
use std::io::Read;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A crash dump (ELF core, kdump-compressed, flattened).
    Dump,
    /// A kernel image (ELF executable).
    Vmlinux,
    /// A kernel module (ELF relocatable).
    Module,
}

/// Classifies one file from its first bytes.
pub fn classify(path: &Path) -> Result<FileKind> {
    let err = |detail: String| Error::File {
        path: path.to_path_buf(),
        detail,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    if meta.is_dir() {
        return Err(err("is a directory, not a dump, vmlinux or module".into()));
    }
    let mut head = [0u8; 64];
    let mut f = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => return Err(err(e.to_string())),
        }
    }
    let head = &head[..n];
    if n == 0 {
        return Err(err("file is empty".into()));
    }
    if head.starts_with(b"KDUMP   ")
        || head.starts_with(b"DISKDUMP")
        || head.starts_with(b"makedumpfile\0")
    {
        return Ok(FileKind::Dump);
    }
    if head.starts_with(b"\x7fELF") && n >= 18 {
        let little = head.get(5) == Some(&1);
        let e_type = if little {
            u16::from_le_bytes([head[16], head[17]])
        } else {
            u16::from_be_bytes([head[16], head[17]])
        };
        return match e_type {
            4 => Ok(FileKind::Dump),
            2 | 3 => Ok(FileKind::Vmlinux),
            1 => Ok(FileKind::Module),
            t => Err(err(format!(
                "ELF file of type {t} is neither a core dump, a kernel nor a module"
            ))),
        };
    }
    // A compressed module (`alx.ko.xz`) by name and magic: the .ko reader unpacks it.
    let named_module = path
        .file_name()
        .is_some_and(|f| kdive_debuginfo::ko::is_module_file_name(&f.to_string_lossy()));
    if named_module && kdive_debuginfo::kocompress::KoCompression::detect(head).is_some() {
        return Ok(FileKind::Module);
    }
    Err(err(
        "not a crash dump, vmlinux or kernel module (unknown file format)".into(),
    ))
}
