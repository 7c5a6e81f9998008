//! Character and block device registrations and per-disk in-flight I/O, read from the kernel's
//! own tables: `chrdevs[]` with `cdev_map` probes, `major_names[]` with the block-device
//! inodes of `blockdev_superblock`, and the disks of the block class with their blk-mq tags.

use crate::list::{walk_chain, walk_list};
use crate::walk::Walked;
use crate::{AddrExt, Kernel, Result};

/// `CHRDEV_MAJOR_HASH_SIZE` / `BLKDEV_MAJOR_HASH_SIZE` / `KOBJ_MAP` probes: 255 slots.
const MAJOR_HASH: u64 = 255;
/// `MINORBITS`: a `dev_t` is major << 20 | minor.
const MINORBITS: u32 = 20;
/// Longest chain followed in one hash slot.
const CHAIN_LIMIT: usize = 4096;
/// Most entries taken from one list (inodes, devices, kobjects).
const LIST_LIMIT: usize = 1 << 20;
/// Most hardware queues and tag-bitmap words looked at for one disk.
const HCTX_LIMIT: usize = 4096;
const WORD_LIMIT: u64 = 1 << 16;

/// One `struct char_device_struct`: a registered character-device region.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CharDev {
    pub region: u64,
    pub major: u32,
    pub baseminor: u32,
    pub minorct: u32,
    pub name: String,
    /// The region's `struct cdev` (its own, else the `cdev_map` probe for major:baseminor); 0
    /// when none was found.
    pub cdev: u64,
    /// That cdev's `ops` (`struct file_operations *`); 0 when none.
    pub fops: u64,
}

/// One `struct blk_major_name`: a registered block major and the first disk found for it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BlockMajor {
    pub entry: u64,
    pub major: u32,
    pub name: String,
    /// A `struct gendisk` of this major with operations; 0 when none.
    pub gendisk: u64,
    pub fops: u64,
}

/// One disk of the block class and its requests in flight.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DiskIo {
    pub gendisk: u64,
    pub major: i32,
    pub name: String,
    pub queue: u64,
    /// Whether the queue is blk-mq (`request_queue.mq_ops` set).
    pub mq: bool,
    pub read: u64,
    pub write: u64,
    /// `request_queue.in_flight` (old kernels only; `None` where the member is gone or the
    /// queue is blk-mq).
    pub driver: Option<u64>,
}

impl Kernel {
    fn dev_off(&self, s: &str, m: &str) -> Result<u64> {
        self.layout.offset(s, m)
    }

    /// Every character-device region, in `chrdevs[]` slot and chain order.
    pub fn char_devices(&self) -> Result<Walked<CharDev>> {
        let base = self.symbol_addr("chrdevs")?;
        let next_o = self.dev_off("char_device_struct", "next")?;
        let major_o = self.dev_off("char_device_struct", "major")?;
        let minor_o = self.dev_off("char_device_struct", "baseminor")?;
        let count_o = self.dev_off("char_device_struct", "minorct")?;
        let name = self
            .layout
            .member("char_device_struct", "name")
            .ok_or_else(|| crate::Error::MissingType("struct char_device_struct.name".into()))?;
        let cdev_o = self
            .layout
            .member("char_device_struct", "cdev")
            .map(|m| m.offset);
        let ops_o = self.dev_off("cdev", "ops")?;
        let probes = self.probe_heads("cdev_map");
        let mut out = Walked::default();
        for slot in 0..MAJOR_HASH {
            let first = self.read_u64(base.elem(slot, 8), "chrdevs[]")?;
            let chain = walk_chain(first, CHAIN_LIMIT, |cd| {
                self.read_u64(cd.off(next_o), "char_device_struct.next")
            });
            let chain = match chain {
                Ok(c) => c,
                Err(e) => {
                    out.problems.push(format!("chrdevs[{slot}]: {e}"));
                    continue;
                }
            };
            if let Some(b) = chain.broken {
                out.problems.push(format!("chrdevs[{slot}]: {b}"));
            }
            for cd in chain.nodes {
                let at = |what: &str, e: crate::Error| {
                    format!("char_device_struct {cd:#x}: {what}: {e}")
                };
                let read = || -> Result<CharDev> {
                    let major = self.read_u32(cd.off(major_o), "char_device_struct.major")?;
                    let baseminor =
                        self.read_u32(cd.off(minor_o), "char_device_struct.baseminor")?;
                    let minorct = self.read_u32(cd.off(count_o), "char_device_struct.minorct")?;
                    let max = name.size.unwrap_or(64).saturating_sub(1).max(1) as usize;
                    let nm = self.read_cstr(cd.off(name.offset), max, "char_device_struct.name")?;
                    let mut cdev = match cdev_o {
                        Some(o) => self.read_u64(cd.off(o), "char_device_struct.cdev")?,
                        None => 0,
                    };
                    let mut fops = 0;
                    if cdev != 0 {
                        fops = self.read_u64(cdev.off(ops_o), "cdev.ops")?;
                    }
                    if fops == 0 {
                        cdev = 0;
                        if let Some(p) = &probes {
                            if let Some((c, f)) = self.probe_cdev(p, major, baseminor, ops_o) {
                                cdev = c;
                                fops = f;
                            }
                        }
                    }
                    Ok(CharDev {
                        region: cd,
                        major,
                        baseminor,
                        minorct,
                        name: nm,
                        cdev,
                        fops,
                    })
                };
                match read() {
                    Ok(c) => out.items.push(c),
                    Err(e) => out.problems.push(at("read", e)),
                }
            }
        }
        Ok(out)
    }

    /// `map->probes[]` of the `struct kobj_map *` variable `sym`, when it exists and is readable.
    fn probe_heads(&self, sym: &str) -> Option<Vec<u64>> {
        let map = self.read_u64(self.symbol_addr(sym).ok()?, sym).ok()?;
        let probes = map.off(self.dev_off("kobj_map", "probes").ok()?);
        (0..MAJOR_HASH)
            .map(|i| self.read_u64(probes.elem(i, 8), "kobj_map.probes[]").ok())
            .collect()
    }

    /// The cdev registered in `cdev_map` for exactly major:minor, with its ops.
    fn probe_cdev(&self, heads: &[u64], major: u32, minor: u32, ops_o: u64) -> Option<(u64, u64)> {
        let next_o = self.dev_off("probe", "next").ok()?;
        let dev_o = self.dev_off("probe", "dev").ok()?;
        let data_o = self.dev_off("probe", "data").ok()?;
        let first = *heads.get((major as u64 % MAJOR_HASH) as usize)?;
        let chain = walk_chain(first, CHAIN_LIMIT, |p| {
            self.read_u64(p.off(next_o), "probe.next")
        })
        .ok()?;
        for p in chain.nodes {
            let dev = self.read_u32(p.off(dev_o), "probe.dev").ok()?;
            if dev >> MINORBITS == major && dev & ((1 << MINORBITS) - 1) == minor {
                let data = self.read_u64(p.off(data_o), "probe.data").ok()?;
                let ops = self.read_u64(data.off(ops_o), "cdev.ops").ok()?;
                return Some((data, ops));
            }
        }
        None
    }

    /// Every registered block major, in `major_names[]` slot and chain order, each with the
    /// first disk of that major (in `blockdev_superblock`'s inode order) that has operations.
    pub fn block_majors(&self) -> Result<Walked<BlockMajor>> {
        let base = self.symbol_addr("major_names")?;
        let len = self
            .layout
            .with_variable_type("major_names", |t, ty| t.array_len(ty))
            .filter(|&n| n > 0 && n <= 4096)
            .unwrap_or(MAJOR_HASH);
        let next_o = self.dev_off("blk_major_name", "next")?;
        let major_o = self.dev_off("blk_major_name", "major")?;
        let name_o = self.dev_off("blk_major_name", "name")?;
        let mut out = Walked::default();
        let disks = self.blockdev_disks(&mut out.problems)?;
        for slot in 0..len {
            let first = self.read_u64(base.elem(slot, 8), "major_names[]")?;
            let chain = match walk_chain(first, CHAIN_LIMIT, |b| {
                self.read_u64(b.off(next_o), "blk_major_name.next")
            }) {
                Ok(c) => c,
                Err(e) => {
                    out.problems.push(format!("major_names[{slot}]: {e}"));
                    continue;
                }
            };
            if let Some(b) = chain.broken {
                out.problems.push(format!("major_names[{slot}]: {b}"));
            }
            for b in chain.nodes {
                let read = || -> Result<BlockMajor> {
                    let major = self.read_u32(b.off(major_o), "blk_major_name.major")?;
                    let name = self.read_cstr(b.off(name_o), 16, "blk_major_name.name")?;
                    let (gendisk, fops) = disks
                        .iter()
                        .find(|d| d.1 == major as i32 && d.2 != 0)
                        .map(|d| (d.0, d.2))
                        .unwrap_or((0, 0));
                    Ok(BlockMajor {
                        entry: b,
                        major,
                        name,
                        gendisk,
                        fops,
                    })
                };
                match read() {
                    Ok(m) => out.items.push(m),
                    Err(e) => out.problems.push(format!("blk_major_name {b:#x}: {e}")),
                }
            }
        }
        Ok(out)
    }

    /// (gendisk, major, fops) of each block-device inode's disk on `blockdev_superblock`
    /// (`struct bdev_inode`: the `block_device` just before its inode), in list order.
    fn blockdev_disks(&self, problems: &mut Vec<String>) -> Result<Vec<(u64, i32, u64)>> {
        let sb = self.read_u64(
            self.symbol_addr("blockdev_superblock")?,
            "blockdev_superblock",
        )?;
        let head = sb.off(self.dev_off("super_block", "s_inodes")?);
        let link = self.dev_off("inode", "i_sb_list")?;
        let inode_in_bdev = match self.layout.offset("bdev_inode", "vfs_inode") {
            Ok(o) => o,
            Err(_) => self.layout.struct_size("block_device")?,
        };
        let bd_disk = self.dev_off("block_device", "bd_disk")?;
        let major_o = self.dev_off("gendisk", "major")?;
        let fops_o = self.dev_off("gendisk", "fops")?;
        let walk = walk_list(self, head, LIST_LIMIT);
        if let Some(b) = walk.broken {
            problems.push(format!("blockdev_superblock s_inodes: {b}"));
        }
        let mut out = Vec::new();
        for n in walk.nodes {
            let bdev = n.back(link).back(inode_in_bdev);
            let Ok(disk) = self.read_u64(bdev.off(bd_disk), "block_device.bd_disk") else {
                continue;
            };
            if disk == 0 {
                continue;
            }
            let (Ok(major), Ok(fops)) = (
                self.read_u32(disk.off(major_o), "gendisk.major"),
                self.read_u64(disk.off(fops_o), "gendisk.fops"),
            ) else {
                problems.push(format!(
                    "gendisk {disk:#x} (of block_device {bdev:#x}): unreadable"
                ));
                continue;
            };
            out.push((disk, major as i32, fops));
        }
        Ok(out)
    }

    /// The block class's `subsys_private`: `block_class.p`, or (6.4+, no `class.p`) the
    /// `class_kset` member whose kobject is named "block".
    fn block_subsys_private(&self) -> Result<u64> {
        if let Ok(p) = self.dev_off("class", "p") {
            return self.read_u64(self.symbol_addr("block_class")?.off(p), "block_class.p");
        }
        self.kset_subsys_private("class_kset", "block")
    }

    /// The `subsys_private` of the bus or class called `name` in the kset `kset_symbol`
    /// points to (`bus_kset`, `class_kset`): the member whose kobject has that name.
    pub(crate) fn kset_subsys_private(&self, kset_symbol: &str, name: &str) -> Result<u64> {
        let kset = self.read_u64(self.symbol_addr(kset_symbol)?, kset_symbol)?;
        let head = kset.off(self.dev_off("kset", "list")?);
        let entry = self.dev_off("kobject", "entry")?;
        let name_o = self.dev_off("kobject", "name")?;
        let kobj_in_sp =
            self.dev_off("subsys_private", "subsys")? + self.dev_off("kset", "kobj")?;
        let walk = walk_list(self, head, LIST_LIMIT);
        for n in walk.nodes {
            let kobj = n.back(entry);
            let np = self.read_u64(kobj.off(name_o), "kobject.name")?;
            if np != 0 && self.read_cstr(np, 64, "kobject.name")? == name {
                return Ok(kobj.back(kobj_in_sp));
            }
        }
        Err(crate::Error::Corrupt {
            what: format!("{kset_symbol} {kset:#x}"),
            detail: format!(
                "no kobject named \"{name}\" (its subsys_private){}",
                walk.broken.map(|b| format!("; {b}")).unwrap_or_default()
            ),
        })
    }

    /// Each disk of the block class (devices of type `disk_type`), in the class's device-list
    /// order, with the requests it has in flight.
    pub fn disk_io(&self) -> Result<Walked<DiskIo>> {
        let sp = self.block_subsys_private()?;
        let head = sp
            .off(self.dev_off("subsys_private", "klist_devices")?)
            .off(self.dev_off("klist", "k_list")?);
        let n_node = self.dev_off("klist_node", "n_node")?;
        let n_klist = self.dev_off("klist_node", "n_klist")?;
        let knode_class = self.dev_off("device_private", "knode_class")?;
        let dp_device = self.dev_off("device_private", "device")?;
        let dev_type = self.dev_off("device", "type")?;
        let disk_type = self.symbol_addr("disk_type")?;
        let bd_device = self.dev_off("block_device", "bd_device")?;
        let bd_disk = self.dev_off("block_device", "bd_disk")?;
        let mut out = Walked::default();
        let walk = walk_list(self, head, LIST_LIMIT);
        if let Some(b) = walk.broken {
            out.problems.push(format!("block class devices: {b}"));
        }
        for n in walk.nodes {
            let kn = n.back(n_node);
            let step = || -> Result<Option<u64>> {
                if self.read_u64(kn.off(n_klist), "klist_node.n_klist")? & 1 != 0 {
                    return Ok(None); // a dead node
                }
                let dev =
                    self.read_u64(kn.back(knode_class).off(dp_device), "device_private.device")?;
                if self.read_u64(dev.off(dev_type), "device.type")? != disk_type {
                    return Ok(None);
                }
                let disk =
                    self.read_u64(dev.back(bd_device).off(bd_disk), "block_device.bd_disk")?;
                Ok(Some(disk))
            };
            let disk = match step() {
                Ok(Some(d)) => d,
                Ok(None) => continue,
                Err(e) => {
                    out.problems.push(format!("klist_node {kn:#x}: {e}"));
                    continue;
                }
            };
            match self.one_disk_io(disk, &mut out.problems) {
                Ok(d) => out.items.push(d),
                Err(e) => out.problems.push(format!("gendisk {disk:#x}: {e}")),
            }
        }
        Ok(out)
    }

    fn one_disk_io(&self, disk: u64, problems: &mut Vec<String>) -> Result<DiskIo> {
        let name_len = self
            .layout
            .member("gendisk", "disk_name")
            .and_then(|m| m.size)
            .unwrap_or(32) as usize;
        let name = self.read_cstr(
            disk.off(self.dev_off("gendisk", "disk_name")?),
            name_len,
            "gendisk.disk_name",
        )?;
        let queue = self.read_u64(disk.off(self.dev_off("gendisk", "queue")?), "gendisk.queue")?;
        let major =
            self.read_u32(disk.off(self.dev_off("gendisk", "major")?), "gendisk.major")? as i32;
        let mq = match self.layout.member("request_queue", "mq_ops") {
            Some(m) => self.read_u64(queue.off(m.offset), "request_queue.mq_ops")? != 0,
            None => false,
        };
        let (read, write) = if mq {
            self.mq_in_flight(queue, problems)?
        } else {
            self.stats_in_flight(disk)?
        };
        let driver = match self.layout.member("request_queue", "in_flight") {
            Some(m) if !mq => {
                let a = queue.off(m.offset);
                Some(if m.size == Some(8) {
                    u64::from(self.read_u32(a, "request_queue.in_flight[0]")?)
                        + u64::from(self.read_u32(a.off(4), "request_queue.in_flight[1]")?)
                } else {
                    u64::from(self.read_u32(a, "request_queue.in_flight")?)
                })
            }
            _ => None,
        };
        Ok(DiskIo {
            gendisk: disk,
            major,
            name,
            queue,
            mq,
            read,
            write,
            driver,
        })
    }

    /// A bio-based disk: `part0->bd_stats->in_flight[]` summed over the CPUs.
    fn stats_in_flight(&self, disk: u64) -> Result<(u64, u64)> {
        let part0 = self.read_u64(disk.off(self.dev_off("gendisk", "part0")?), "gendisk.part0")?;
        let stats = self.read_u64(
            part0.off(self.dev_off("block_device", "bd_stats")?),
            "block_device.bd_stats",
        )?;
        let inf = self.dev_off("disk_stats", "in_flight")?;
        let (mut r, mut w) = (0u64, 0u64);
        for cpu in 0..self.cpu_counts()?.cpus {
            let a = stats.wrapping_add(self.per_cpu_offset(cpu)?).off(inf);
            r = r.wrapping_add(self.read_u64(a, "disk_stats.in_flight[0]")?);
            w = w.wrapping_add(self.read_u64(a.off(8), "disk_stats.in_flight[1]")?);
        }
        Ok((r, w))
    }

    /// A blk-mq disk: requests of this queue in state MQ_RQ_IN_FLIGHT among the busy tags of
    /// its hardware queues (or of the tag set's shared tags), split by the op's direction.
    fn mq_in_flight(&self, q: u64, problems: &mut Vec<String>) -> Result<(u64, u64)> {
        let hctxs: Vec<u64> = match self.layout.member("request_queue", "hctx_table") {
            Some(m) => {
                let w = self.xarray_entries(q.off(m.offset), HCTX_LIMIT)?;
                problems.extend(
                    w.problems
                        .into_iter()
                        .map(|p| format!("request_queue {q:#x} hctx_table: {p}")),
                );
                w.items.into_iter().map(|e| e.entry).collect()
            }
            None => {
                let n = self.read_u32(
                    q.off(self.dev_off("request_queue", "nr_hw_queues")?),
                    "request_queue.nr_hw_queues",
                )?;
                let arr = self.read_u64(
                    q.off(self.dev_off("request_queue", "queue_hw_ctx")?),
                    "request_queue.queue_hw_ctx",
                )?;
                (0..u64::from(n).min(HCTX_LIMIT as u64))
                    .map(|i| self.read_u64(arr.elem(i, 8), "request_queue.queue_hw_ctx[]"))
                    .collect::<Result<_>>()?
            }
        };
        let set = self.read_u64(
            q.off(self.dev_off("request_queue", "tag_set")?),
            "request_queue.tag_set",
        )?;
        let flags = self.read_u32(
            set.off(self.dev_off("blk_mq_tag_set", "flags")?),
            "blk_mq_tag_set.flags",
        )?;
        let shared_bit = self
            .layout
            .enumerator("enum blk_mq_flags", "BLK_MQ_F_TAG_HCTX_SHARED")
            .or_else(|| self.layout.loaded_enumerator("BLK_MQ_F_TAG_HCTX_SHARED"))
            .unwrap_or(0) as u32;
        let tag_ptrs: Vec<u64> = match self.layout.member("blk_mq_tag_set", "shared_tags") {
            Some(m) if flags & shared_bit != 0 => vec![set.off(m.offset)],
            _ => {
                let t = self.dev_off("blk_mq_hw_ctx", "tags")?;
                hctxs.iter().map(|h| h.off(t)).collect()
            }
        };
        let mut counts = (0u64, 0u64);
        for p in tag_ptrs {
            let tags = self.read_u64(p, "blk_mq_hw_ctx.tags")?;
            let reserved = self.read_u32(
                tags.off(self.dev_off("blk_mq_tags", "nr_reserved_tags")?),
                "blk_mq_tags.nr_reserved_tags",
            )?;
            if reserved != 0 {
                let sbq = self.sbitmap_queue_of(tags, "breserved_tags")?;
                self.count_busy(q, tags, sbq, 0, &mut counts)?;
            }
            let sbq = self.sbitmap_queue_of(tags, "bitmap_tags")?;
            self.count_busy(q, tags, sbq, u64::from(reserved), &mut counts)?;
        }
        Ok(counts)
    }

    /// The `struct sbitmap_queue` of `blk_mq_tags.member`: embedded (5.16+) or pointed to.
    fn sbitmap_queue_of(&self, tags: u64, member: &str) -> Result<u64> {
        let m = self
            .layout
            .member("blk_mq_tags", member)
            .ok_or_else(|| crate::Error::MissingType(format!("struct blk_mq_tags.{member}")))?;
        let embedded = self
            .layout
            .struct_size("sbitmap_queue")
            .map(|s| m.size == Some(s))
            .unwrap_or(true);
        if embedded {
            Ok(tags.off(m.offset))
        } else {
            self.read_u64(tags.off(m.offset), "blk_mq_tags bitmap pointer")
        }
    }

    /// Counts, for each set and not cleared bit of the tag bitmap, the request `rqs[bit + base]`
    /// when it belongs to `q` and is in flight: writes when its op is odd, else reads.
    fn count_busy(
        &self,
        q: u64,
        tags: u64,
        sbq: u64,
        base: u64,
        counts: &mut (u64, u64),
    ) -> Result<()> {
        let sb = sbq.off(self.dev_off("sbitmap_queue", "sb")?);
        let depth =
            u64::from(self.read_u32(sb.off(self.dev_off("sbitmap", "depth")?), "sbitmap.depth")?);
        let shift =
            u64::from(self.read_u32(sb.off(self.dev_off("sbitmap", "shift")?), "sbitmap.shift")?);
        let map_nr =
            u64::from(self.read_u32(sb.off(self.dev_off("sbitmap", "map_nr")?), "sbitmap.map_nr")?);
        let map = self.read_u64(sb.off(self.dev_off("sbitmap", "map")?), "sbitmap.map")?;
        if shift > 6 {
            return Err(crate::Error::Corrupt {
                what: format!("sbitmap {sb:#x}"),
                detail: format!("shift {shift} > 6"),
            });
        }
        let word_size = self.layout.struct_size("sbitmap_word")?;
        let word_o = self.dev_off("sbitmap_word", "word")?;
        let cleared_o = self
            .layout
            .member("sbitmap_word", "cleared")
            .map(|m| m.offset);
        let rqs = self.read_u64(
            tags.off(self.dev_off("blk_mq_tags", "rqs")?),
            "blk_mq_tags.rqs",
        )?;
        let rq_q = self.dev_off("request", "q")?;
        let rq_flags = self.dev_off("request", "cmd_flags")?;
        let rq_state = self.dev_off("request", "state")?;
        let in_flight = self
            .layout
            .enumerator("enum mq_rq_state", "MQ_RQ_IN_FLIGHT")
            .unwrap_or(1) as u32;
        let per_word = 1u64 << shift;
        let mut scanned = 0u64;
        for i in 0..map_nr.min(WORD_LIMIT) {
            if scanned >= depth {
                break;
            }
            let bits = per_word.min(depth - scanned);
            scanned += bits;
            let w = map.elem(i, word_size);
            let mut word = self.read_u64(w.off(word_o), "sbitmap_word.word")?;
            if let Some(c) = cleared_o {
                word &= !self.read_u64(w.off(c), "sbitmap_word.cleared")?;
            }
            for b in 0..bits {
                if word & (1 << b) == 0 {
                    continue;
                }
                let tag = (i << shift) + b + base;
                let rq = self.read_u64(rqs.elem(tag, 8), "blk_mq_tags.rqs[]")?;
                if rq < 0xffff_8000_0000_0000 {
                    continue;
                }
                if self.read_u64(rq.off(rq_q), "request.q")? != q
                    || self.read_u32(rq.off(rq_state), "request.state")? != in_flight
                {
                    continue;
                }
                if self.read_u32(rq.off(rq_flags), "request.cmd_flags")? & 0xff & 1 != 0 {
                    counts.1 += 1;
                } else {
                    counts.0 += 1;
                }
            }
        }
        Ok(())
    }
}
