//! [`KernelSpace`]: reads of kernel virtual memory over a physical-memory source.

use std::sync::{Arc, RwLock};

use kdive_dumpfile::{Notes, Vmcoreinfo};
use kdive_physmem::{PhysError, PhysMem};

use crate::arch::{x86_64_layout, Translation, Translator, WalkTrace};
use crate::cache::{CacheStats, TranslationCache, DEFAULT_CAPACITY};
use crate::error::{Error, Result};
use crate::layout::{Fact, KernelLayout, Source};

/// The kernel's virtual address space in a dump.
pub struct KernelSpace {
    mem: Arc<dyn PhysMem>,
    arch: Box<dyn Translator>,
    layout: RwLock<KernelLayout>,
    cache: TranslationCache,
}

impl KernelSpace {
    pub fn new(
        mem: Arc<dyn PhysMem>,
        arch: Box<dyn Translator>,
        layout: KernelLayout,
    ) -> KernelSpace {
        KernelSpace {
            mem,
            arch,
            layout: RwLock::new(layout),
            cache: TranslationCache::new(DEFAULT_CAPACITY),
        }
    }

    /// Sets up translation from the dump alone: VMCOREINFO first, QEMU CPU notes as fallback.
    /// (x86_64 only for now; other architectures will be chosen here from VMCOREINFO.)
    pub fn bootstrap(
        mem: Arc<dyn PhysMem>,
        vmcoreinfo: Option<&Vmcoreinfo>,
        notes: Option<&Notes>,
    ) -> Result<KernelSpace> {
        if let Some(v) = vmcoreinfo {
            if v.number("kimage_voffset").is_some() || v.number("VA_BITS").is_some() {
                return Err(Error::NoLayout(
                    "aarch64 dumps are not supported yet".into(),
                ));
            }
        }
        let (arch, layout) = x86_64_layout::bootstrap(vmcoreinfo, notes)?;
        Ok(KernelSpace::new(mem, Box::new(arch), layout))
    }

    pub fn layout(&self) -> KernelLayout {
        *self.layout.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn arch_name(&self) -> &'static str {
        self.arch.name()
    }

    pub fn translator(&self) -> &dyn Translator {
        &*self.arch
    }

    pub fn mem(&self) -> &Arc<dyn PhysMem> {
        &self.mem
    }

    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// Reads the kernel variables `page_offset_base`, `vmalloc_base` and `vmemmap_base`, given
    /// their addresses (from a symbol table); `None` leaves that value as it is.
    /// Nothing changes unless every given variable reads and looks credible.
    pub fn set_layout_from_symbols(
        &self,
        page_offset_base_va: Option<u64>,
        vmalloc_base_va: Option<u64>,
        vmemmap_base_va: Option<u64>,
    ) -> Result<KernelLayout> {
        let read_base = |name: &str, va: Option<u64>| -> Result<Option<u64>> {
            let Some(va) = va else { return Ok(None) };
            let value = self.read_u64(va)?;
            let layout = self.layout();
            let credible = value & (1 << 63) != 0
                && value % self.arch.page_size() == 0
                && self.arch.check_canonical(&layout, value).is_ok();
            if !credible {
                return Err(Error::NoLayout(format!(
                    "{name} at {va:#x} holds {value:#x}, not a kernel region base"
                )));
            }
            Ok(Some(value))
        };
        let pob = read_base("page_offset_base", page_offset_base_va)?;
        let vmalloc = read_base("vmalloc_base", vmalloc_base_va)?;
        let vmemmap = read_base("vmemmap_base", vmemmap_base_va)?;
        let mut layout = self.layout.write().unwrap_or_else(|e| e.into_inner());
        let set = |fact: &mut Fact<u64>, value: Option<u64>| {
            if let Some(value) = value {
                *fact = Fact::new(value, Source::KernelVariable);
            }
        };
        set(&mut layout.page_offset_base, pob);
        set(&mut layout.vmalloc_base, vmalloc);
        set(&mut layout.vmemmap_base, vmemmap);
        Ok(*layout)
    }

    /// Translates a virtual address: arithmetic for linear regions, else a (cached) page walk.
    pub fn translate(&self, va: u64) -> Result<Translation> {
        let layout = self.layout();
        self.arch.check_canonical(&layout, va)?;
        if let Some(pa) = self.arch.linear(&layout, va) {
            return Ok(Translation {
                pa,
                page_size: self.arch.page_size(),
            });
        }
        let base = self.arch.page_size();
        let mask = base - 1;
        if let Some(pa_page) = self.cache.get(va & !mask) {
            return Ok(Translation {
                pa: pa_page | (va & mask),
                page_size: base,
            });
        }
        if let Some((pa, page_size)) = self.cache.get_large(va) {
            return Ok(Translation { pa, page_size });
        }
        self.cache.record_miss();
        let t = self.arch.walk(&*self.mem, &layout, va)?;
        if t.page_size > base && t.page_size.is_power_of_two() {
            self.cache.insert_large(va, t.pa, t.page_size);
        } else {
            self.cache.insert(va & !mask, t.pa & !mask);
        }
        Ok(t)
    }

    /// The page-table walk for `va` entry by entry (crash's `vtop`), from the kernel's
    /// top-level table or, for a process's user addresses, from the one at physical `root`.
    /// Never cached: it reads the tables as the dump holds them.
    pub fn walk_trace(&self, root: Option<u64>, va: u64) -> WalkTrace {
        let layout = self.layout();
        if let Err(e) = self.arch.check_canonical(&layout, va) {
            return WalkTrace {
                root: root.unwrap_or(self.arch.root()),
                steps: Vec::new(),
                result: Err(e),
            };
        }
        self.arch.walk_trace(&*self.mem, &layout, root, va)
    }

    /// The mapping of the page holding `va` under the top-level table at physical `root` (the
    /// kernel's when None): `Ok(pa of the page)`, or `Err(next)` with the first address past
    /// the hole the walk found (a whole unmapped table at once), None when that wraps.
    pub fn probe_page(&self, root: Option<u64>, va: u64) -> std::result::Result<u64, Option<u64>> {
        let page = self.arch.page_size();
        let result = match root {
            None => self.translate(va),
            Some(_) => self.walk_trace(root, va).result,
        };
        match result {
            Ok(t) => Ok(t.pa & !(page - 1)),
            Err(Error::NotMapped { level, .. }) => {
                let span = self.arch.entry_span(&self.layout(), level).max(page);
                Err((va | (span - 1)).checked_add(1))
            }
            Err(_) => Err((va | (page - 1)).checked_add(1)),
        }
    }

    /// The physical address a linearly mapped kernel address (direct map, kernel image)
    /// stands for by arithmetic, whether or not the page tables map it.
    pub fn linear_pa(&self, va: u64) -> Option<u64> {
        self.arch.linear(&self.layout(), va)
    }

    /// The kernel's virtual regions (vmalloc area, kernel image) for this layout.
    pub fn regions(&self) -> crate::KernelRegions {
        self.arch.regions(&self.layout())
    }

    /// Names of the bits set in a page-table entry.
    pub fn entry_flags(&self, entry: u64) -> Vec<&'static str> {
        self.arch.entry_flags(entry)
    }

    /// What a leaf page-table entry holds (a page, a swap entry, nothing).
    pub fn decode_entry(&self, entry: u64) -> crate::EntryMeaning {
        self.arch.decode_entry(entry)
    }

    /// Physical address of a virtual address.
    pub fn vtop(&self, va: u64) -> Result<u64> {
        Ok(self.translate(va)?.pa)
    }

    /// Direct-map virtual address of a physical address (needs `page_offset_base`).
    pub fn ptov(&self, pa: u64) -> Result<u64> {
        self.arch.ptov(&self.layout(), pa)
    }

    /// Reads physical memory directly.
    pub fn read_phys(&self, pa: u64, buf: &mut [u8]) -> std::result::Result<(), PhysError> {
        self.mem.read_phys(pa, buf)
    }

    /// Fills `buf` from virtual address `va`, crossing pages; fails as a whole if any byte is
    /// unreadable, naming the first virtual address that failed.
    pub fn read(&self, va: u64, buf: &mut [u8]) -> Result<()> {
        let page = self.arch.page_size();
        let mut done = 0usize;
        while done < buf.len() {
            let start = va
                .checked_add(done as u64)
                .ok_or(Error::NonCanonical { va })?;
            let first = self.translate(start)?;
            let remaining = (buf.len() - done) as u64;
            let mut len = (page - (start & (page - 1))).min(remaining);
            // Coalesce virtually contiguous pages that are also physically contiguous.
            while len < remaining {
                let next = start
                    .checked_add(len)
                    .ok_or(Error::NonCanonical { va: start })?;
                match self.translate(next) {
                    Ok(t) if t.pa == first.pa.wrapping_add(len) => len += page.min(remaining - len),
                    _ => break,
                }
            }
            let chunk = &mut buf[done..done + len as usize];
            self.mem.read_phys(first.pa, chunk).map_err(|source| {
                let off = source.addr().wrapping_sub(first.pa);
                Error::Phys {
                    va: if off < len { start + off } else { start },
                    source,
                }
            })?;
            done += len as usize;
        }
        Ok(())
    }

    /// Reads a NUL-terminated string of at most `max` bytes (without the NUL). Stops early at an
    /// unreadable page; fails only when not even the first byte can be read.
    pub fn read_cstr(&self, va: u64, max: usize) -> Result<Vec<u8>> {
        let page = self.arch.page_size();
        let mut out = Vec::new();
        let mut chunk = vec![0u8; page as usize];
        while out.len() < max {
            let Some(cur) = va.checked_add(out.len() as u64) else {
                break;
            };
            let n = ((page - (cur & (page - 1))) as usize).min(max - out.len());
            if let Err(e) = self.read(cur, &mut chunk[..n]) {
                if out.is_empty() {
                    return Err(e);
                }
                break;
            }
            if let Some(nul) = chunk[..n].iter().position(|&b| b == 0) {
                out.extend_from_slice(&chunk[..nul]);
                return Ok(out);
            }
            out.extend_from_slice(&chunk[..n]);
        }
        Ok(out)
    }

    fn read_array<const N: usize>(&self, va: u64) -> Result<[u8; N]> {
        let mut b = [0u8; N];
        self.read(va, &mut b)?;
        Ok(b)
    }

    pub fn read_u8(&self, va: u64) -> Result<u8> {
        Ok(self.read_array::<1>(va)?[0])
    }
    pub fn read_u16(&self, va: u64) -> Result<u16> {
        Ok(u16::from_le_bytes(self.read_array(va)?))
    }
    pub fn read_u32(&self, va: u64) -> Result<u32> {
        Ok(u32::from_le_bytes(self.read_array(va)?))
    }
    pub fn read_u64(&self, va: u64) -> Result<u64> {
        Ok(u64::from_le_bytes(self.read_array(va)?))
    }
    pub fn read_i32(&self, va: u64) -> Result<i32> {
        Ok(i32::from_le_bytes(self.read_array(va)?))
    }
    pub fn read_i64(&self, va: u64) -> Result<i64> {
        Ok(i64::from_le_bytes(self.read_array(va)?))
    }
    /// Reads a kernel pointer (64-bit on every architecture kdive supports).
    pub fn read_ptr(&self, va: u64) -> Result<u64> {
        self.read_u64(va)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::SynthMem;

    const VA: u64 = 0xffff_c900_0000_0000;

    /// Three virtual pages: the first two physically contiguous, the third elsewhere, then a hole.
    fn space() -> KernelSpace {
        let mut m = SynthMem::new(4 << 20, 1 << 20, false);
        m.map(VA, 0x10_0000 + 0x8000, 0x1000);
        m.map(VA + 0x1000, 0x10_0000 + 0x9000, 0x1000);
        m.map(VA + 0x2000, 0x10_0000 + 0x3000, 0x1000);
        for i in 0..0x3000u64 {
            let pa = m.entry_pa(VA + i, 12);
            let pa = (m.read_u64(pa) & !0xfff) + (i & 0xfff);
            m.bytes[pa as usize] = (i % 251) as u8;
        }
        m.into_space()
    }

    #[test]
    fn read_crosses_pages() {
        let ks = space();
        let mut buf = vec![0u8; 0x3000 - 0x10];
        ks.read(VA + 0x10, &mut buf).unwrap();
        for (i, b) in buf.iter().enumerate() {
            assert_eq!(*b as u64, (i as u64 + 0x10) % 251, "byte {i}");
        }
        let v = ks.read_u64(VA + 0xffc).unwrap();
        let want: Vec<u8> = (0xffc..0x1004u64).map(|i| (i % 251) as u8).collect();
        assert_eq!(v.to_le_bytes().to_vec(), want);
    }

    #[test]
    fn read_into_hole_fails_with_its_address() {
        let ks = space();
        let mut buf = vec![0u8; 0x20];
        let err = ks.read(VA + 0x2ff0, &mut buf).unwrap_err();
        assert_eq!(
            err,
            Error::NotMapped {
                va: VA + 0x3000,
                level: "PTE"
            }
        );
    }

    #[test]
    fn typed_reads() {
        let ks = space();
        assert_eq!(ks.read_u8(VA + 3).unwrap(), 3);
        assert_eq!(ks.read_u16(VA + 1).unwrap(), 0x0201);
        assert_eq!(ks.read_u32(VA).unwrap(), 0x0302_0100);
        assert_eq!(ks.read_i32(VA).unwrap(), 0x0302_0100);
        assert_eq!(ks.read_i64(VA).unwrap(), 0x0706_0504_0302_0100);
        assert_eq!(ks.read_ptr(VA).unwrap(), 0x0706_0504_0302_0100);
    }

    #[test]
    fn cstr_stops_at_nul_and_at_holes() {
        let mut m = SynthMem::new(2 << 20, 1 << 20, false);
        m.map(VA, 0x10_0000, 0x1000);
        m.write(0x10_0000, b"hello\0world");
        m.write(0x10_0ffc, b"tail");
        let ks = m.into_space();
        assert_eq!(ks.read_cstr(VA, 64).unwrap(), b"hello");
        assert_eq!(ks.read_cstr(VA, 3).unwrap(), b"hel");
        assert_eq!(ks.read_cstr(VA + 0xffc, 64).unwrap(), b"tail");
        assert!(ks.read_cstr(VA + 0x1000, 64).is_err());
    }

    #[test]
    fn excluded_memory_names_both_addresses() {
        let mut m = SynthMem::new(2 << 20, 1 << 20, false);
        m.map(VA, 0x10_0000, 0x1000);
        m.map(VA + 0x1000, 0x1_0000_0000, 0x1000);
        let ks = m.into_space();
        let mut buf = [0u8; 16];
        let err = ks.read(VA + 0xff8, &mut buf).unwrap_err();
        assert_eq!(
            err,
            Error::Phys {
                va: VA + 0x1000,
                source: PhysError::NotInDump(0x1_0000_0000)
            }
        );
        let text = err.to_string();
        assert!(
            text.contains("0xffffc90000001000") && text.contains("0x100000000"),
            "{text}"
        );
    }

    #[test]
    fn walks_are_cached() {
        let ks = space();
        for _ in 0..10 {
            ks.read_u64(VA + 0x100).unwrap();
        }
        let s = ks.cache_stats();
        assert_eq!(s.misses, 1);
        assert_eq!(s.hits, 9);
    }

    #[test]
    fn a_huge_page_is_walked_once() {
        let mut m = SynthMem::new(8 << 20, 1 << 20, false);
        let va = 0xffff_ea00_0000_0000u64;
        m.map(va, 0x40_0000, 0x20_0000);
        m.write_u64(0x40_0000 + 0x1f_f000, 0x5a5a);
        let ks = m.into_space();
        for page in 0..512u64 {
            assert_eq!(
                ks.vtop(va + page * 0x1000 + 8).unwrap(),
                0x40_0000 + page * 0x1000 + 8
            );
        }
        assert_eq!(ks.read_u64(va + 0x1f_f000).unwrap(), 0x5a5a);
        let s = ks.cache_stats();
        assert_eq!(s.misses, 1, "{s:?}");
        assert_eq!(s.entries, 1);
        // Outside the huge page: not a hit.
        assert!(ks.vtop(va + 0x20_0000).is_err());
    }

    #[test]
    fn layout_from_symbols_enables_direct_map() {
        // Kernel variables at a walked address; the direct map then works by arithmetic.
        let mut m = SynthMem::new(4 << 20, 1 << 20, false);
        let vars = 0xffff_ffff_8200_0000u64;
        m.map(vars, 0x20_0000, 0x1000);
        m.write_u64(0x20_0000, 0xffff_9a00_0000_0000);
        m.write_u64(0x20_0008, 0xffff_b000_0000_0000);
        m.write_u64(0x20_0010, 0xffff_d000_0000_0000);
        m.write_u64(0x20_0018, 0x1234); // not a region base
        m.write_u64(0x30_0040, 99);
        let ks = m.into_space();
        assert!(ks.ptov(0x1000).is_err());
        assert!(matches!(
            ks.vtop(0xffff_9a00_0030_0040),
            Err(Error::NotMapped { .. })
        ));
        assert!(ks
            .set_layout_from_symbols(Some(vars + 0x18), None, None)
            .is_err());
        assert!(!ks.layout().page_offset_base.is_known());
        let l = ks
            .set_layout_from_symbols(Some(vars), Some(vars + 8), Some(vars + 0x10))
            .unwrap();
        assert_eq!(
            l.page_offset_base,
            Fact::new(0xffff_9a00_0000_0000, Source::KernelVariable)
        );
        assert_eq!(l.vmalloc_base.value, 0xffff_b000_0000_0000);
        assert_eq!(l.vmemmap_base.value, 0xffff_d000_0000_0000);
        assert_eq!(ks.ptov(0x30_0040).unwrap(), 0xffff_9a00_0030_0040);
        assert_eq!(ks.read_u64(0xffff_9a00_0030_0040).unwrap(), 99);
        // Beyond the direct map (at vmalloc_base) translation walks again.
        assert!(ks.vtop(0xffff_b000_0000_0000).is_err());
        assert!(l.to_string().contains("kernel variable"));
    }
}
