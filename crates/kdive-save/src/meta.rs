//! What the output's headers say about the dump: utsname (the source's kdump header when it
//! has one, else the kernel's `init_uts_ns` read from memory, else VMCOREINFO's OSRELEASE —
//! QEMU leaves the header's utsname empty, which stops drgn), time, CPUs, and the ELF notes
//! with a VMCOREINFO note guaranteed.

use kdive_dumpfile::notes::raw_notes;
use kdive_dumpfile::Dump;
use kdive_kspace::KernelSpace;

use crate::kdump_header::UtsBytes;

pub struct DumpMeta {
    pub utsname: UtsBytes,
    pub timestamp: (i64, i64),
    pub nr_cpus: u32,
    pub current_cpu: u32,
    pub phys_base: u64,
    /// The notes to write.
    pub notes: Vec<u8>,
    /// (offset, size) of the VMCOREINFO text inside `notes`.
    pub vmcoreinfo_in_notes: Option<(u64, u64)>,
}

/// Encodes one ELF note.
pub fn note(name: &[u8], n_type: u32, desc: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(12 + name.len() + desc.len() + 8);
    v.extend_from_slice(&(name.len() as u32 + 1).to_le_bytes());
    v.extend_from_slice(&(desc.len() as u32).to_le_bytes());
    v.extend_from_slice(&n_type.to_le_bytes());
    v.extend_from_slice(name);
    v.push(0);
    v.resize(v.len().div_ceil(4) * 4, 0);
    v.extend_from_slice(desc);
    v.resize(v.len().div_ceil(4) * 4, 0);
    v
}

/// The source's notes, plus a VMCOREINFO note when it had the text elsewhere; and where the
/// VMCOREINFO text lies in the result.
pub fn notes_with_vmcoreinfo(
    blob: &[u8],
    vmcoreinfo: Option<&str>,
) -> (Vec<u8>, Option<(u64, u64)>) {
    let mut out = Vec::with_capacity(blob.len());
    let mut found = None;
    for n in raw_notes(blob) {
        let at = out.len() as u64;
        let enc = note(n.name, n.n_type, n.desc);
        if found.is_none() && n.name == b"VMCOREINFO" {
            let desc_at = at + 12 + (n.name.len() as u64 + 1).div_ceil(4) * 4;
            found = Some((desc_at, n.desc.len() as u64));
        }
        out.extend_from_slice(&enc);
    }
    if found.is_none() {
        if let Some(text) = vmcoreinfo {
            let at = out.len() as u64;
            out.extend_from_slice(&note(b"VMCOREINFO", 0, text.as_bytes()));
            found = Some((at + 12 + 12, text.len() as u64));
        }
    }
    (out, found)
}

fn uts_from_memory(dump: &Dump, ks: Option<&KernelSpace>) -> Option<UtsBytes> {
    let v = dump.vmcoreinfo()?;
    let base = v.symbol("init_uts_ns")? + v.offset("uts_namespace.name").unwrap_or(0);
    let mut b = [0u8; 390];
    ks?.read(base, &mut b).ok()?;
    let u = UtsBytes(b);
    (u.field(0) == b"Linux").then_some(u)
}

pub fn collect(dump: &Dump, ks: Option<&KernelSpace>) -> DumpMeta {
    let h = dump.header();
    let v = dump.vmcoreinfo();
    let from_header = h
        .utsname
        .as_ref()
        .filter(|u| !u.sysname.is_empty() && !u.release.is_empty())
        .map(|u| {
            UtsBytes::from_fields([
                &u.sysname,
                &u.nodename,
                &u.release,
                &u.version,
                &u.machine,
                &u.domainname,
            ])
        });
    let utsname = from_header
        .or_else(|| uts_from_memory(dump, ks))
        .unwrap_or_else(|| {
            let rel = v.and_then(|v| v.osrelease()).unwrap_or("");
            UtsBytes::from_fields(["Linux", "", rel, "", "x86_64", ""])
        });
    let timestamp = h
        .timestamp
        .filter(|t| t.0 != 0)
        .or_else(|| v.and_then(|v| v.crash_time()).map(|t| (t, 0)))
        .unwrap_or_else(|| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            (now.as_secs() as i64, now.subsec_micros() as i64)
        });
    let notes = dump.notes();
    let cpus = notes.prstatus.len().max(notes.qemu_cpus.len()) as u32;
    let (blob, vi) = notes_with_vmcoreinfo(dump.note_blob(), notes.vmcoreinfo.as_deref());
    DumpMeta {
        utsname,
        timestamp,
        nr_cpus: h.nr_cpus.filter(|n| *n > 0).unwrap_or(cpus.max(1)),
        current_cpu: h.current_cpu.unwrap_or(0),
        phys_base: v.and_then(|v| v.phys_base()).unwrap_or(0),
        notes: blob,
        vmcoreinfo_in_notes: vi,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kdive_dumpfile::Notes;

    #[test]
    fn vmcoreinfo_is_located_or_added() {
        let text = "OSRELEASE=6.1.0\nPAGESIZE=4096\n";
        let mut blob = note(b"CORE", 1, &[0u8; 336]);
        blob.extend(note(b"VMCOREINFO", 0, text.as_bytes()));
        let (out, vi) = notes_with_vmcoreinfo(&blob, None);
        let (o, s) = vi.unwrap();
        assert_eq!(&out[o as usize..(o + s) as usize], text.as_bytes());
        // Missing from the notes (kdump's separate offset_vmcoreinfo): appended.
        let (out, vi) = notes_with_vmcoreinfo(&note(b"CORE", 1, &[0u8; 336]), Some(text));
        let (o, s) = vi.unwrap();
        assert_eq!(&out[o as usize..(o + s) as usize], text.as_bytes());
        let n = Notes::parse(&out);
        assert_eq!(n.vmcoreinfo.as_deref(), Some(text));
    }
}
