//! A task list corrupted in the dump: a real lab dump seen through a physical-memory wrapper
//! that overwrites one task's `tasks.next`. The walk must list every task still reachable
//! (forwards, then backwards through `prev`), say where the list broke, and stop.

use kdive_kernel::{Kernel, OpenOptions};
use kdive_kspace::KernelSpace;
use kdive_physmem::{PhysError, PhysMem};
use std::path::PathBuf;
use std::sync::Arc;

/// Physical memory with 8 bytes replaced.
struct Patched {
    inner: Arc<dyn PhysMem>,
    at: u64,
    value: [u8; 8],
}

impl PhysMem for Patched {
    fn read_phys(&self, addr: u64, buf: &mut [u8]) -> Result<(), PhysError> {
        self.inner.read_phys(addr, buf)?;
        for i in 0..8u64 {
            let a = self.at + i;
            if a >= addr && a < addr + buf.len() as u64 {
                buf[(a - addr) as usize] = self.value[i as usize];
            }
        }
        Ok(())
    }
}

fn lab_dump() -> Option<PathBuf> {
    let p = kdive_lab::lab_dir()?.join("6.1.0-56-cloud-amd64/module-race/vmcore.elf");
    if p.is_file() {
        Some(p)
    } else {
        eprintln!("SKIP: no lab dump at {}", p.display());
        None
    }
}

/// Opens the dump, then swaps its memory for one where `tasks.next` of the `nth` process holds
/// `bad` (a function of the list's node addresses).
fn corrupted(path: &std::path::Path, nth: usize, bad: impl Fn(&[u64]) -> u64) -> (Kernel, usize) {
    let mut k = Kernel::open(&OpenOptions {
        files: vec![path.to_path_buf()],
    })
    .expect("open");
    let before = k.tasks().expect("tasks").tasks.len();
    let init = k.symbol_addr("init_task").unwrap();
    let off = k.layout.offset("task_struct", "tasks").unwrap();
    let walk = kdive_kernel::list::walk_list(&k, init + off, 100_000);
    assert!(walk.broken.is_none());
    let node = walk.nodes[nth];
    let pa = k.mem.vtop(node).expect("vtop");
    let patched = Arc::new(Patched {
        inner: k.mem.mem().clone(),
        at: pa,
        value: bad(&walk.nodes).to_le_bytes(),
    });
    let sym = |n: &str| k.symbols.lookup(n).map(|s| s.addr);
    let mem = KernelSpace::bootstrap(patched, Some(&k.vmcoreinfo), Some(k.dump.notes())).unwrap();
    mem.set_layout_from_symbols(
        sym("page_offset_base"),
        sym("vmalloc_base"),
        sym("vmemmap_base"),
    )
    .unwrap();
    k.mem = mem;
    (k, before)
}

#[test]
fn unreadable_next_pointer_loses_no_task() {
    let Some(path) = lab_dump() else { return };
    let (k, before) = corrupted(&path, 10, |_| 0xdead_0000_0000_0100);
    let list = k.tasks().expect("tasks");
    assert_eq!(
        list.tasks.len(),
        before,
        "every task reached (forwards, then backwards)"
    );
    let p = list.problems.join("\n");
    assert!(p.contains("task list"), "break reported: {p}");
    assert!(p.contains("backwards"), "recovery reported: {p}");
}

#[test]
fn next_pointer_looping_back_stops_and_says_so() {
    let Some(path) = lab_dump() else { return };
    // Node 20 points back at node 5: a forward walk would loop forever.
    let (k, before) = corrupted(&path, 20, |nodes| nodes[5]);
    let list = k.tasks().expect("tasks");
    assert_eq!(list.tasks.len(), before);
    let p = list.problems.join("\n");
    assert!(p.contains("loops back"), "loop reported: {p}");
}

#[test]
fn null_next_pointer() {
    let Some(path) = lab_dump() else { return };
    let (k, before) = corrupted(&path, 3, |_| 0);
    let list = k.tasks().expect("tasks");
    assert_eq!(list.tasks.len(), before);
    assert!(list.problems.join("\n").contains("NULL next pointer"));
}
