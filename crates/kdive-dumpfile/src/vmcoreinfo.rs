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
}

fn parse_int(s: &str) -> Option<i64> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok().map(|v| v as i64)
    } else {
        s.parse().ok()
    }
}
