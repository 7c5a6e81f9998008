//! Who allocated and who freed a slab object: SLUB's per-object `struct track` records (kept
//! when the cache has SLAB_STORE_USER, e.g. booted with `slub_debug=U`) and the call stacks
//! they point to in the stack depot.
//!
//! Kernel facts (mm/slub.c, lib/stackdepot.c; 6.1 and 6.12 alike unless said):
//! - the two tracks (TRACK_ALLOC, TRACK_FREE) follow the object's metadata end,
//!   `object + inuse` (+ one pointer when the free pointer lies outside the object,
//!   `offset >= inuse`);
//! - a track's `handle` is a stack depot handle: a pool index (6.1 `slabindex`, 6.12
//!   `pool_index_plus_1`, one more than the index), an offset in 16-byte units, and flag bits;
//!   the pool is `stack_slabs[]` (6.1) or `stack_pools[]` (6.12); the record there holds
//!   `size` return addresses in `entries[]`. Bit widths are read from `union handle_parts`.

use crate::addr::AddrExt;
use crate::slab::SlabObject;
use crate::{Kernel, Result};
use serde::Serialize;

/// SLAB_STORE_USER before 6.8 (a plain flag constant, not in the debug info).
const SLAB_STORE_USER_OLD: u64 = 0x0001_0000;
/// Stack depot records are aligned to 1 << 4 bytes.
const DEPOT_STACK_ALIGN: u32 = 4;
/// Bound on the frames read from one record.
const MAX_FRAMES: u64 = 128;

/// One track: where and when the object was allocated or freed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlabTrack {
    /// The caller of kmalloc/kfree (`track.addr`).
    pub addr: u64,
    pub cpu: i32,
    pub pid: i32,
    /// `jiffies` at the time.
    pub when: u64,
    /// The call stack from the stack depot, innermost first (empty without one).
    pub stack: Vec<u64>,
}

/// An object's allocation and free records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectTracks {
    pub alloc: Option<SlabTrack>,
    pub free: Option<SlabTrack>,
}

impl Kernel {
    /// The flag bit SLAB_STORE_USER has in this kernel: `1 << _SLAB_STORE_USER` (6.8+), else
    /// the old constant.
    fn slab_store_user_flag(&self) -> u64 {
        match self
            .layout
            .enumerator("_slab_flag_bits", "_SLAB_STORE_USER")
        {
            Some(bit) if (0..64).contains(&bit) => 1 << bit,
            _ => SLAB_STORE_USER_OLD,
        }
    }

    /// The alloc and free tracks of the slab object `o`; None when its cache does not store
    /// them (SLAB_STORE_USER off, the default without `slub_debug`).
    pub fn slab_tracks(&self, o: &SlabObject) -> Result<Option<ObjectTracks>> {
        let c = o.cache.addr;
        let l = &self.layout;
        let flags = self.read_member_uint(c, "kmem_cache", "flags")?;
        if flags & self.slab_store_user_flag() == 0 {
            return Ok(None);
        }
        let inuse = self.read_member_uint(c, "kmem_cache", "inuse")?;
        let offset = self.read_member_uint(c, "kmem_cache", "offset")?;
        let end = if offset >= inuse { inuse + 8 } else { inuse };
        let size = l.struct_size("track").unwrap_or(32);
        let base = o.object.off(end);
        let read = |at: u64| -> Result<Option<SlabTrack>> {
            let addr = self.read_u64(at.off(l.offset("track", "addr")?), "track.addr")?;
            if addr == 0 {
                return Ok(None);
            }
            let handle = match l.offset("track", "handle") {
                Ok(h) => self.read_u32(at.off(h), "track.handle")?,
                Err(_) => 0,
            };
            Ok(Some(SlabTrack {
                addr,
                cpu: self.read_u32(at.off(l.offset("track", "cpu")?), "track.cpu")? as i32,
                pid: self.read_u32(at.off(l.offset("track", "pid")?), "track.pid")? as i32,
                when: self.read_u64(at.off(l.offset("track", "when")?), "track.when")?,
                stack: if handle == 0 {
                    Vec::new()
                } else {
                    self.depot_stack(handle).unwrap_or_default()
                },
            }))
        };
        Ok(Some(ObjectTracks {
            alloc: read(base)?,
            free: read(base.off(size))?,
        }))
    }

    /// The return addresses stack depot handle `handle` stands for, innermost first.
    pub fn depot_stack(&self, handle: u32) -> Result<Vec<u64>> {
        let l = &self.layout;
        let bits = |m: &str| l.bitfield("union handle_parts", m);
        let field = |(off, width): (u64, u32)| -> u64 {
            (u64::from(handle) >> off) & ((1u64 << width) - 1)
        };
        let (index, pools) = if let Some(b) = bits("pool_index_plus_1") {
            let i = field(b);
            if i == 0 {
                return Ok(Vec::new());
            }
            (i - 1, self.symbol_addr("stack_pools")?)
        } else if let Some(b) = bits("pool_index") {
            (field(b), self.symbol_addr("stack_pools")?)
        } else {
            let b = bits("slabindex").unwrap_or((0, 16));
            (field(b), self.symbol_addr("stack_slabs")?)
        };
        let offset = field(bits("offset").unwrap_or((16, 10)));
        let pool = self.read_u64(pools.off(index * 8), "stack depot pool")?;
        if pool == 0 {
            return Ok(Vec::new());
        }
        let rec = pool.off(offset << DEPOT_STACK_ALIGN);
        let n = self
            .read_member_uint(rec, "stack_record", "size")?
            .min(MAX_FRAMES);
        let entries = rec.off(l.offset("stack_record", "entries")?);
        let mut out = Vec::with_capacity(n as usize);
        for i in 0..n {
            out.push(self.read_u64(entries.off(8 * i), "stack_record.entries")?);
        }
        Ok(out)
    }
}
