//! Swap devices: each used `swap_info[]` entry (below `nr_swapfiles`) — its size, pages in
//! use, priority, whether it is a block device or a file, and its path — and which device a
//! swap entry's type number names.

use crate::walk::Walked;
use crate::{AddrExt, Kernel, Result};

/// `SWP_USED` of include/linux/swap.h's anonymous flag enum (`1 << 0` since 2.6); read from
/// the debug info when that enum has been loaded.
const SWP_USED_DEFAULT: i64 = 1;

/// Swap entries carry a 5-bit type (x86_64's `SWP_TYPE_BITS`; aarch64's is 5 too), so no
/// kernel has more `swap_info[]` slots than this.
const SWAP_TYPES_MAX: usize = 32;

/// One swap area.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SwapDevice {
    /// Its index in `swap_info[]` (the type number in swap entries).
    pub index: usize,
    /// The `swap_info_struct`.
    pub addr: u64,
    /// A block device (crash's PARTITION), else a swap file.
    pub partition: bool,
    /// Usable pages (`pages`).
    pub pages: u64,
    /// Pages holding swapped-out data (`inuse_pages`).
    pub inuse_pages: u64,
    pub prio: i16,
    /// The swap file's or device's path; `(unknown)` when there is no `swap_file`.
    pub path: String,
}

impl Kernel {
    /// Every used swap area, in `swap_info[]` order; entries that cannot be read are named in
    /// `problems` and skipped.
    pub fn swap_devices(&self) -> Result<Walked<SwapDevice>> {
        let mut out = Walked::default();
        let count = self.read_u32(self.symbol_addr("nr_swapfiles")?, "nr_swapfiles")? as usize;
        let slots = self.swap_slots()?;
        if count > slots {
            out.problems.push(format!(
                "nr_swapfiles is {count}, swap_info[] has {slots} slots: read {slots}"
            ));
        }
        let used = self
            .layout
            .loaded_enumerator("SWP_USED")
            .unwrap_or(SWP_USED_DEFAULT) as u64;
        for index in 0..count.min(slots) {
            match self.swap_device(index, used) {
                Ok(Some(d)) => out.items.push(d),
                Ok(None) => {}
                Err(e) => out.problems.push(format!("swap_info[{index}]: {e}")),
            }
        }
        Ok(out)
    }

    /// The path of the swap area a swap entry's type number names, when it is in use.
    pub fn swap_device_path(&self, index: u64) -> Option<String> {
        let devices = self.swap_devices().ok()?;
        devices
            .items
            .into_iter()
            .find(|d| d.index as u64 == index)
            .map(|d| d.path)
    }

    /// Slots of `swap_info[]` (MAX_SWAPFILES), from its array type; without variable types
    /// (BTF), the most a swap entry's type field can name (2^SWP_TYPE_BITS: 32 on x86_64).
    fn swap_slots(&self) -> Result<usize> {
        Ok(self
            .layout
            .with_variable_type("swap_info", |t, ty| t.array_len(ty))
            .filter(|&n| n > 0 && n <= 1024)
            .map_or(SWAP_TYPES_MAX, |n| n as usize))
    }

    /// `swap_info[index]`, or None for an empty or unused slot.
    fn swap_device(&self, index: usize, used_flag: u64) -> Result<Option<SwapDevice>> {
        let slot = self.symbol_addr("swap_info")?.elem(index as u64, 8);
        let si = self.read_u64(slot, "swap_info[]")?;
        if si == 0 {
            return Ok(None);
        }
        let field = |m: &str| self.read_member_uint(si, "swap_info_struct", m);
        if field("flags")? & used_flag == 0 {
            return Ok(None);
        }
        let file = field("swap_file")?;
        let (path, partition) = if file == 0 {
            (
                "(unknown)".to_string(),
                self.swap_is_partition(None, &field)?,
            )
        } else {
            let path = self.path_at(file.off(self.layout.offset("file", "f_path")?))?;
            (path, self.swap_is_partition(Some(file), &field)?)
        };
        Ok(Some(SwapDevice {
            index,
            addr: si,
            partition,
            pages: field("pages")?,
            inuse_pages: field("inuse_pages")?,
            prio: field("prio")? as u16 as i16,
            path,
        }))
    }

    /// A block device, not a file: before 6.10 `old_block_size` is set only for block
    /// devices; since, the swap file's inode mode says so (unknown without a file).
    fn swap_is_partition(
        &self,
        file: Option<u64>,
        field: &dyn Fn(&str) -> Result<u64>,
    ) -> Result<bool> {
        if self
            .layout
            .member("swap_info_struct", "old_block_size")
            .is_some()
        {
            return Ok(field("old_block_size")? != 0);
        }
        let Some(file) = file else { return Ok(false) };
        let inode = self.read_member_uint(file, "file", "f_inode")?;
        let mode = self.read_member_uint(inode, "inode", "i_mode")?;
        Ok(mode & 0o170000 == 0o060000)
    }
}
