//! VMCOREINFO: the kernel's `KEY=value` self-description, parsed into a typed view.

use std::collections::HashMap;

/// Parsed VMCOREINFO. Unknown keys are kept and reachable through [`Vmcoreinfo::raw`].
#[derive(Debug, Clone, Default)]
pub struct Vmcoreinfo {
    raw: HashMap<String, String>,
}

impl Vmcoreinfo {
    pub fn parse(text: &str) -> Vmcoreinfo {
        let mut raw = HashMap::new();
        for line in text.lines() {
            if let Some((k, v)) = line.split_once('=') {
                raw.insert(k.trim().to_string(), v.trim().to_string());
            }
        }
        Vmcoreinfo { raw }
    }
    pub fn raw(&self, key: &str) -> Option<&str> {
        self.raw.get(key).map(|s| s.as_str())
    }
    /// `OSRELEASE=`
    pub fn osrelease(&self) -> Option<&str> {
        self.raw("OSRELEASE")
    }
    /// `SYMBOL(name)=` (hex, no 0x).
    pub fn symbol(&self, name: &str) -> Option<u64> {
        u64::from_str_radix(self.raw(&format!("SYMBOL({name})"))?, 16).ok()
    }
    /// `NUMBER(name)=` (decimal, or hex with 0x).
    pub fn number(&self, name: &str) -> Option<i64> {
        parse_int(self.raw(&format!("NUMBER({name})"))?)
    }
    /// `SIZE(name)=`
    pub fn size(&self, name: &str) -> Option<u64> {
        self.raw(&format!("SIZE({name})"))?.parse().ok()
    }
    /// `OFFSET(struct.member)=`
    pub fn offset(&self, name: &str) -> Option<u64> {
        self.raw(&format!("OFFSET({name})"))?.parse().ok()
    }
    /// `LENGTH(name)=`
    pub fn length(&self, name: &str) -> Option<u64> {
        self.raw(&format!("LENGTH({name})"))?.parse().ok()
    }
    pub fn page_size(&self) -> Option<u64> {
        self.raw("PAGESIZE")?.parse().ok()
    }
    /// `KERNELOFFSET=` (hex): the KASLR slide of the kernel image.
    pub fn kernel_offset(&self) -> Option<u64> {
        u64::from_str_radix(self.raw("KERNELOFFSET")?, 16).ok()
    }
    pub fn crash_time(&self) -> Option<i64> {
        self.raw("CRASHTIME")?.parse().ok()
    }
    pub fn build_id(&self) -> Option<&str> {
        self.raw("BUILD-ID")
    }
    /// `NUMBER(phys_base)` (x86_64): where the kernel image was loaded physically, minus its link
    /// address.
    pub fn phys_base(&self) -> Option<u64> {
        self.number("phys_base").map(|v| v as u64)
    }
    /// `NUMBER(pgtable_l5_enabled)` (x86_64): 5-level paging was on.
    pub fn pgtable_l5_enabled(&self) -> Option<bool> {
        self.number("pgtable_l5_enabled").map(|v| v != 0)
    }
    /// `NUMBER(VMALLOC_START)` (printed as hex by newer kernels).
    pub fn vmalloc_start(&self) -> Option<u64> {
        self.number("VMALLOC_START").map(|v| v as u64)
    }
    /// Number of keys.
    pub fn len(&self) -> usize {
        self.raw.len()
    }
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
    /// All `(key, value)` pairs, sorted by key.
    pub fn entries(&self) -> Vec<(&str, &str)> {
        let mut v: Vec<_> = self
            .raw
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        v.sort_unstable();
        v
    }
}

fn parse_int(s: &str) -> Option<i64> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok().map(|v| v as i64)
    } else {
        s.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "OSRELEASE=6.1.0-56-cloud-amd64\nPAGESIZE=4096\nSYMBOL(init_uts_ns)=ffffffff82a13360\n\
        OFFSET(uts_namespace.name)=4\nSIZE(page)=64\nLENGTH(mem_section)=2048\nNUMBER(phys_base)=-1056964608\n\
        NUMBER(pgtable_l5_enabled)=0\nNUMBER(VMALLOC_START)=0xffffc90000000000\nKERNELOFFSET=1c000000\n\
        CRASHTIME=1764000000\nBUILD-ID=0123456789abcdef0123456789abcdef01234567\nnot a pair\n";

    #[test]
    fn typed_getters() {
        let v = Vmcoreinfo::parse(TEXT);
        assert_eq!(v.osrelease(), Some("6.1.0-56-cloud-amd64"));
        assert_eq!(v.page_size(), Some(4096));
        assert_eq!(v.symbol("init_uts_ns"), Some(0xffffffff82a13360));
        assert_eq!(v.offset("uts_namespace.name"), Some(4));
        assert_eq!(v.size("page"), Some(64));
        assert_eq!(v.length("mem_section"), Some(2048));
        assert_eq!(v.number("phys_base"), Some(-1056964608));
        assert_eq!(v.phys_base(), Some((-1056964608i64) as u64));
        assert_eq!(v.pgtable_l5_enabled(), Some(false));
        assert_eq!(v.vmalloc_start(), Some(0xffffc90000000000));
        assert_eq!(v.kernel_offset(), Some(0x1c000000));
        assert_eq!(v.crash_time(), Some(1764000000));
        assert_eq!(v.build_id().map(str::len), Some(40));
        assert_eq!(v.len(), 12);
        assert_eq!(v.entries()[0].0, "BUILD-ID");
        assert!(v.symbol("missing").is_none());
    }
}
