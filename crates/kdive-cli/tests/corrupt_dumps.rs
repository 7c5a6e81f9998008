//! A corrupt-dump corpus made from a real lab dump (6.1 module-race): truncated files, extreme
//! header fields, flipped bitmaps and page descriptors, garbled compressed pages, missing notes,
//! bogus ELF program headers. `kdive VMLINUX DUMP -c sys -c ps -c 'bt -a' -c log` (and `list`,
//! `foreach vm`, `tree` over the task list, the VMAs and the pid IDR) runs on each
//! under a deadline and an address-space limit: it must exit in time, never on a signal or a
//! Rust panic, and every error line must say what it could not read (an address, a structure
//! or the file). The variants are written to a tempdir; the lab's files are only read.

mod common;

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(20);
const AS_LIMIT: &str = "2147483648";
const COMMANDS: [&str; 41] = [
    "sys",
    "ps",
    "bt -a",
    "log",
    // The walkers of kernel lists and trees: the task list, every process's VMAs (maple
    // tree), the pid IDR (XArray).
    "list -H init_task.tasks -o task_struct.tasks",
    "foreach vm",
    "tree -t xarray -r pid_namespace.idr init_pid_ns",
    // Per-CPU and per-zone structures: timer wheel buckets, hrtimer queues (rbtrees),
    // run-queue clocks, signal queues, VM counters, vmap lists, zones and buddy free lists,
    // SLUB slabs and freelists, the IRQ tree, device tables, stack words, CPU stacks.
    "timer",
    "timer -r",
    "ps -m",
    "sig 1",
    "kmem -V",
    "kmem -v",
    "kmem -o",
    "kmem -h",
    "kmem -g",
    "kmem -n",
    "kmem -z",
    "kmem -f",
    "kmem -S kmalloc-64",
    "irq",
    "dev",
    "bt -T 1",
    "mach",
    // User memory through a task's own page tables, resource limits, fd tables.
    "ps -a 1",
    "ps -r 1",
    "net -s 1",
    "fuser /",
    // Wait-queue lists, the swap area table, each task's policy and priority, PCI buses.
    "waitq kauditd_wait",
    "swap",
    "ps -Y",
    "dev -p",
    "ipcs -M",
    "dev -i",
    "bt -v",
    "foreach bt -s -R schedule",
    "mach -m",
    "mach -c",
    "vm -p 1",
    "kmem -p 1000000",
    // The root-cause report: the log's fault report, code, DWARF, every task's stack.
    "triage",
];

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
    timed_out: bool,
}

/// Runs kdive on `files` with the commands, under `prlimit --as` and a deadline.
fn run(files: &[&Path], commands: &[&str]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (dir.path().join("out"), dir.path().join("err"));
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--as={AS_LIMIT}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_kdive"));
    cmd.args(files);
    for c in commands {
        cmd.arg("-c").arg(c);
    }
    // Files, not pipes: a chatty child must not block on a full pipe while we poll.
    cmd.stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .env("KDIVE_NO_MODULE_AUTOLOAD", "1");
    let t0 = Instant::now();
    let mut child = cmd.spawn().expect("spawn prlimit kdive");
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > DEADLINE {
            timed_out = true;
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
    Outcome {
        code: status.code(),
        stdout: read(&out_path),
        stderr: read(&err_path),
        elapsed: t0.elapsed(),
        timed_out,
    }
}

/// Whether an error line says what it could not read: an address, the file, or a named
/// structure/field of the dump or the kernel.
fn names_what(line: &str, file: &str) -> bool {
    const WHAT: [&str; 24] = [
        "0x",
        "kdump",
        "bitmap",
        "descriptor",
        "header",
        "VMCOREINFO",
        "note",
        "ELF",
        "PT_",
        "program header",
        "segment",
        "page",
        "pfn",
        "struct",
        "symbol",
        "kallsyms",
        "printk",
        "prb",
        "task",
        "runqueue",
        "cpu",
        "CPU",
        "build-ID",
        "vmlinux",
    ];
    line.contains(file) || WHAT.iter().any(|w| line.contains(w))
}

/// Checks one outcome; returns a problem description, or None.
fn judge(name: &str, file: &str, o: &Outcome) -> Option<String> {
    if o.timed_out {
        return Some(format!("{name}: no exit within {DEADLINE:?}"));
    }
    let Some(code) = o.code else {
        return Some(format!("{name}: killed by a signal; stderr: {}", o.stderr));
    };
    if o.stderr.contains("panicked") || o.stdout.contains("panicked") {
        return Some(format!("{name}: Rust panic: {}", o.stderr));
    }
    if code != 0 && code != 1 {
        return Some(format!("{name}: exit status {code}; stderr: {}", o.stderr));
    }
    for line in o.stderr.lines().filter(|l| !l.trim().is_empty()) {
        if !names_what(line, file) {
            return Some(format!(
                "{name}: error line names no address, structure or file: {line:?}"
            ));
        }
    }
    None
}

fn le32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}
fn le64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}
fn rd32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}
fn rd64(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap())
}

/// kdump-compressed variants: (name, bytes).
fn kdump_variants(orig: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    // disk_dump_header, then the kdump sub-header one block in.
    const BLOCK_SIZE: usize = 428;
    const SUB_HDR_SIZE: usize = 432;
    const BITMAP_BLOCKS: usize = 436;
    const MAX_MAPNR: usize = 440;
    const NR_CPUS: usize = 460;
    let bs = rd32(orig, BLOCK_SIZE) as usize;
    let sub = bs;
    let (off_vmci, size_vmci) = (sub + 32, sub + 40);
    let (off_note, size_note) = (sub + 48, sub + 56);
    let max_mapnr_64 = sub + 96;
    let bitmap = (1 + rd32(orig, SUB_HDR_SIZE) as usize) * bs;
    let bitmap_len = rd32(orig, BITMAP_BLOCKS) as usize * bs;
    let bitmap2 = bitmap + bitmap_len / 2;
    let descs = bitmap + bitmap_len;
    let dumpable: usize = orig[bitmap2..descs]
        .iter()
        .map(|b| b.count_ones() as usize)
        .sum();
    let data = descs + 24 * dumpable;
    let len = orig.len();

    let mut v: Vec<(&'static str, Vec<u8>)> = Vec::new();
    let mut with = |name, f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = orig.to_vec();
        f(&mut b);
        v.push((name, b));
    };
    // Truncated.
    with("trunc-header", &|b| b.truncate(300));
    with("trunc-bitmap", &|b| b.truncate(bitmap2 + 0x1000));
    with("trunc-descriptors", &|b| b.truncate(descs + 24 * 1000 + 5));
    with("trunc-mid-data", &|b| b.truncate(data + (len - data) / 2));
    with("trunc-last-page", &|b| b.truncate(len - 100));
    // Header fields at extremes.
    with("block_size-max", &|b| le32(b, BLOCK_SIZE, 0x4000_0000));
    with("block_size-zero", &|b| le32(b, BLOCK_SIZE, 0));
    with("sub_hdr_size-max", &|b| le32(b, SUB_HDR_SIZE, 0x7fff_ffff));
    with("bitmap_blocks-max", &|b| le32(b, BITMAP_BLOCKS, u32::MAX));
    with("bitmap_blocks-zero", &|b| le32(b, BITMAP_BLOCKS, 0));
    with("max_mapnr-max", &|b| {
        le32(b, MAX_MAPNR, u32::MAX);
        le64(b, max_mapnr_64, u64::MAX);
    });
    with("vmcoreinfo-offset-max", &|b| {
        le64(b, off_vmci, u64::MAX - 7)
    });
    with("vmcoreinfo-size-max", &|b| {
        le64(b, size_vmci, i64::MAX as u64)
    });
    with("note-offset-max", &|b| le64(b, off_note, u64::MAX - 7));
    with("note-size-max", &|b| le64(b, size_note, i64::MAX as u64));
    with("nr_cpus-max", &|b| le32(b, NR_CPUS, i32::MAX as u32));
    // Bitmaps and page descriptors.
    with("bitmap2-flipped", &|b| {
        for x in &mut b[bitmap2 + 0x10..bitmap2 + 0x400] {
            *x ^= 0x5a;
        }
    });
    with("descriptor-offsets", &|b| {
        for i in (0..dumpable).step_by(7) {
            let o = descs + 24 * i;
            let cur = rd64(b, o);
            le64(b, o, cur ^ 0x7fff_0000_0000_0000 ^ (i as u64) << 20);
        }
    });
    with("descriptor-sizes", &|b| {
        for i in (0..dumpable).step_by(5) {
            le32(b, descs + 24 * i + 8, u32::MAX - i as u32);
        }
    });
    with("descriptor-flags", &|b| {
        for i in (0..dumpable).step_by(3) {
            le32(b, descs + 24 * i + 12, 0xff);
        }
    });
    with("pages-garbled", &|b| {
        let start = data + (len - data) / 4;
        for (i, x) in b[start..len - 1].iter_mut().enumerate() {
            if i % 3 == 0 {
                *x ^= 0xa5;
            }
        }
    });
    // Notes and VMCOREINFO missing.
    with("notes-zeroed", &|b| {
        let (o, n) = (rd64(b, off_note) as usize, rd64(b, size_note) as usize);
        b[o..o + n].fill(0);
    });
    with("vmcoreinfo-removed", &|b| {
        let (o, n) = (rd64(b, off_vmci) as usize, rd64(b, size_vmci) as usize);
        b[o..o + n].fill(0);
        le64(b, size_vmci, 0);
        // The copy inside the notes too.
        let (o, n) = (rd64(b, off_note) as usize, rd64(b, size_note) as usize);
        if let Some(i) = b[o..o + n].windows(10).position(|w| w == b"OSRELEASE=") {
            b[o + i..o + n].fill(0);
        }
    });
    v
}

fn write_variant(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Patches `bytes` at `off` in a file.
fn patch(p: &Path, off: u64, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().write(true).open(p).unwrap();
    f.seek(SeekFrom::Start(off)).unwrap();
    f.write_all(bytes).unwrap();
}

/// ELF variants of a vmcore: (name, path). Full copies are made one at a time by the caller.
fn elf_prefix_variants(orig: &Path, dir: &Path) -> Vec<(&'static str, PathBuf)> {
    let head = {
        let mut b = vec![0u8; 1 << 20];
        let n = std::io::Read::read(&mut std::fs::File::open(orig).unwrap(), &mut b).unwrap();
        b.truncate(n);
        b
    };
    let phoff = rd64(&head, 32) as usize;
    let note_off = rd64(&head, phoff + 8) as usize;
    let mut v = Vec::new();
    let mut b = head[..note_off + 0x180].to_vec();
    v.push(("elf-trunc-notes", write_variant(dir, "elf-trunc-notes", &b)));
    b = head[..phoff + 56 + 20].to_vec();
    v.push(("elf-trunc-phdrs", write_variant(dir, "elf-trunc-phdrs", &b)));
    b = head.clone();
    b[56..58].copy_from_slice(&0xffffu16.to_le_bytes()); // e_phnum
    v.push(("elf-phnum-max", write_variant(dir, "elf-phnum-max", &b)));
    // Truncated inside the kernel image segment: 16 MiB.
    let mut f = std::fs::File::open(orig).unwrap();
    let p = dir.join("elf-trunc-mid");
    let mut out = std::fs::File::create(&p).unwrap();
    std::io::copy(&mut std::io::Read::take(&mut f, 16 << 20), &mut out).unwrap();
    v.push(("elf-trunc-mid", p));
    v
}

/// Bytes written at a file offset.
type Patch = (u64, Vec<u8>);

/// Full-copy ELF variants: (name, patches applied to a copy).
fn elf_full_variants(orig: &Path) -> Vec<(&'static str, Vec<Patch>)> {
    let mut head = vec![0u8; 4096];
    std::io::Read::read_exact(&mut std::fs::File::open(orig).unwrap(), &mut head).unwrap();
    let phoff = rd64(&head, 32);
    // Program header 0 is PT_NOTE, 1.. are PT_LOADs (the kernel image first, then RAM).
    let ph = |i: u64, field: u64| phoff + 56 * i + field;
    let mut v = vec![
        (
            "elf-phdr-offsets",
            vec![
                (ph(3, 8), (u64::MAX - 0xfff).to_le_bytes().to_vec()),
                (ph(2, 8), (1u64 << 40).to_le_bytes().to_vec()),
            ],
        ),
        (
            "elf-phdr-sizes",
            vec![
                (ph(3, 32), (1u64 << 62).to_le_bytes().to_vec()),
                (ph(3, 40), (1u64 << 62).to_le_bytes().to_vec()),
            ],
        ),
    ];
    v.push((
        "elf-pt_note-short",
        vec![
            (ph(0, 32), 0x90u64.to_le_bytes().to_vec()),
            (ph(0, 40), 0x90u64.to_le_bytes().to_vec()),
        ],
    ));
    v
}

/// The original dump opened with its vmlinux, and its first 64 KiB (the ELF program headers).
fn open_original(vmlinux: &Path, orig: &Path) -> (kdive_kernel::Kernel, Vec<u8>) {
    let k = kdive_kernel::Kernel::open(&kdive_kernel::OpenOptions {
        files: vec![vmlinux.to_path_buf(), orig.to_path_buf()],
    })
    .expect("open the original dump");
    let mut head = vec![0u8; 1 << 16];
    std::io::Read::read_exact(&mut std::fs::File::open(orig).unwrap(), &mut head).unwrap();
    (k, head)
}

/// Every file offset of the ELF dump holding kernel address `va`: the kernel image segment
/// repeats part of RAM's, so there can be several PT_LOADs.
fn file_offsets(k: &kdive_kernel::Kernel, head: &[u8], va: u64) -> Vec<u64> {
    let (phoff, phnum) = (
        rd64(head, 32) as usize,
        u16::from_le_bytes([head[56], head[57]]),
    );
    let pa = k.mem.vtop(va).expect("translate a patched address");
    (0..phnum as usize)
        .map(|i| phoff + 56 * i)
        .filter(|&ph| rd32(head, ph) == 1)
        .filter_map(|ph| {
            let (off, paddr, filesz) =
                (rd64(head, ph + 8), rd64(head, ph + 24), rd64(head, ph + 32));
            (pa >= paddr && pa - paddr < filesz).then(|| off + (pa - paddr))
        })
        .collect()
}

/// Pointers at the ends of the address space in the kernel's lists: `init_task.tasks` and
/// `modules` get next = 0xffff_ffff_ffff_fff0 and prev = 0x10, so the walks hand the task and
/// module code nodes whose member offsets run past 2^64 (or whose `container_of` runs below 0).
/// In a debug build plain `+`/`-` there panics. The file offsets come from the kernel opened on
/// the original dump: symbol + member offset, translated, then found in a PT_LOAD.
fn hostile_pointer_patches(vmlinux: &Path, orig: &Path) -> Vec<Patch> {
    let (k, head) = open_original(vmlinux, orig);
    let tasks =
        k.symbol_addr("init_task").unwrap() + k.layout.offset("task_struct", "tasks").unwrap();
    let modules = k.symbol_addr("modules").unwrap();
    let mut v = Vec::new();
    for head_va in [tasks, modules] {
        let at = file_offsets(&k, &head, head_va);
        assert!(!at.is_empty(), "list head {head_va:#x} in no PT_LOAD");
        for at in at {
            v.push((at, 0xffff_ffff_ffff_fff0u64.to_le_bytes().to_vec()));
            v.push((at + 8, 0x10u64.to_le_bytes().to_vec()));
        }
    }
    v
}

/// Damaged hrtimer queues: CPU 0's CLOCK_MONOTONIC timerqueue root becomes
/// 0xffff_ffff_ffff_fff0 (a node past the end of the address space), and CPU 1's root node
/// gets itself as its left child (a loop). `timer -r` must name both and stop.
fn hrtimer_tree_patches(vmlinux: &Path, orig: &Path) -> Vec<Patch> {
    let (k, head) = open_original(vmlinux, orig);
    let bases = k.symbol_addr("hrtimer_bases").unwrap();
    let root_off = k.layout.offset("hrtimer_cpu_base", "clock_base").unwrap()
        + k.layout.offset("hrtimer_clock_base", "active").unwrap()
        + k.layout
            .offset("timerqueue_head", "rb_root.rb_root.rb_node")
            .unwrap();
    let left = k.layout.offset("rb_node", "rb_left").unwrap();
    let root0 = k.per_cpu_addr(bases, 0).unwrap() + root_off;
    let root1 = k.per_cpu_addr(bases, 1).unwrap() + root_off;
    let node1 = k.read_u64(root1, "CPU 1 timerqueue root").unwrap();
    assert_ne!(node1, 0, "CPU 1 has no hrtimers to loop");
    let mut v = Vec::new();
    for (va, value) in [(root0, 0xffff_ffff_ffff_fff0u64), (node1 + left, node1)] {
        let at = file_offsets(&k, &head, va);
        assert!(!at.is_empty(), "{va:#x} in no PT_LOAD");
        v.extend(at.into_iter().map(|at| (at, value.to_le_bytes().to_vec())));
    }
    v
}

#[test]
fn corrupt_dumps_fail_cleanly() {
    let Some(lab) = common::lab_dir() else { return };
    let cap = lab.join("6.1.0-56-cloud-amd64/module-race");
    let (kdump, elf) = (cap.join("kdump-zlib-d31"), cap.join("vmcore.elf"));
    let vmlinux = common::captures(&lab)
        .into_iter()
        .find(|c| c.dir == cap)
        .map(|c| c.vmlinux());
    let (Some(vmlinux), true, true) = (vmlinux, kdump.is_file(), elf.is_file()) else {
        eprintln!(
            "SKIP: no 6.1 module-race capture with kdump-zlib-d31 and vmcore.elf in {}",
            lab.display()
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let mut problems = Vec::new();
    let mut table = Vec::new();
    let mut check = |name: &str, path: &Path| {
        let o = run(&[&vmlinux, path], &COMMANDS);
        table.push(format!(
            "{name:24} exit {:?} {:>6.2}s stdout {:>5} lines",
            o.code,
            o.elapsed.as_secs_f64(),
            o.stdout.lines().count()
        ));
        for line in o.stderr.lines() {
            table.push(format!("    {line}"));
        }
        if let Some(p) = judge(name, path.to_str().unwrap(), &o) {
            problems.push(p);
        }
    };

    let orig = std::fs::read(&kdump).unwrap();
    for (name, bytes) in kdump_variants(&orig) {
        let p = write_variant(dir.path(), name, &bytes);
        check(name, &p);
        std::fs::remove_file(&p).unwrap();
    }
    drop(orig);
    for (name, p) in elf_prefix_variants(&elf, dir.path()) {
        check(name, &p);
        std::fs::remove_file(&p).unwrap();
    }
    for (name, patches) in elf_full_variants(&elf) {
        let p = dir.path().join(name);
        std::fs::copy(&elf, &p).unwrap();
        for (off, bytes) in patches {
            patch(&p, off, &bytes);
        }
        check(name, &p);
        std::fs::remove_file(&p).unwrap();
    }
    // The list walks must have met the hostile pointers and said so, not panicked.
    let name = "elf-list-pointers-2^64";
    let p = dir.path().join(name);
    std::fs::copy(&elf, &p).unwrap();
    for (off, bytes) in hostile_pointer_patches(&vmlinux, &elf) {
        patch(&p, off, &bytes);
    }
    let o = run(&[&vmlinux, &p], &["ps", "bt -a", "mod"]);
    let all = format!("{}{}", o.stdout, o.stderr);
    let met: Vec<&str> = all
        .lines()
        .filter(|l| l.contains("fffffffffffffff0"))
        .collect();
    table.push(format!(
        "{name:24} exit {:?} {:>6.2}s",
        o.code,
        o.elapsed.as_secs_f64()
    ));
    table.extend(met.iter().map(|l| format!("    {l}")));
    if let Some(p) = judge(name, p.to_str().unwrap(), &o) {
        problems.push(p);
    }
    if met.is_empty() {
        problems.push(format!(
            "{name}: no output names the hostile pointer: {all}"
        ));
    }
    std::fs::remove_file(&p).unwrap();
    // The hrtimer queues' rbtree walks must name the bad node and the loop, and stop.
    let name = "elf-hrtimer-tree";
    let p = dir.path().join(name);
    std::fs::copy(&elf, &p).unwrap();
    for (off, bytes) in hrtimer_tree_patches(&vmlinux, &elf) {
        patch(&p, off, &bytes);
    }
    let o = run(&[&vmlinux, &p], &["timer -r"]);
    table.push(format!(
        "{name:24} exit {:?} {:>6.2}s",
        o.code,
        o.elapsed.as_secs_f64()
    ));
    let warnings: Vec<&str> = o.stdout.lines().filter(|l| l.contains("WARNING")).collect();
    table.extend(warnings.iter().map(|l| format!("    {l}")));
    if let Some(p) = judge(name, p.to_str().unwrap(), &o) {
        problems.push(p);
    }
    for want in ["rb_node 0xfffffffffffffff0", "reached twice"] {
        if !warnings.iter().any(|l| l.contains(want)) {
            problems.push(format!("{name}: no warning says {want:?}: {}", o.stdout));
        }
    }
    std::fs::remove_file(&p).unwrap();
    eprintln!("{}", table.join("\n"));
    eprintln!("variants done in {:?}", t0.elapsed());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn wrong_files_are_named() {
    let Some(lab) = common::lab_dir() else { return };
    let cap = lab.join("6.1.0-56-cloud-amd64/module-race");
    let dump = cap.join("kdump-zlib-d31");
    let caps = common::captures(&lab);
    let vml = |rel: &str| {
        caps.iter()
            .find(|c| c.release().starts_with(rel))
            .map(|c| c.vmlinux())
    };
    let (Some(v61), Some(v612), true) = (vml("6.1."), vml("6.12."), dump.is_file()) else {
        eprintln!("SKIP: the lab lacks the 6.1 and 6.12 kernels or the 6.1 module-race dump");
        return;
    };
    let expect = |files: &[&Path], want: &[&str]| {
        let o = run(files, &["sys"]);
        assert_eq!(o.code, Some(1), "{files:?}: {}", o.stderr);
        assert!(!o.stderr.contains("panicked"), "{files:?}: {}", o.stderr);
        assert!(
            want.iter().any(|w| o.stderr.contains(w)),
            "{files:?}: expected one of {want:?} in {:?}",
            o.stderr
        );
    };
    // A vmlinux as the only file: no dump.
    expect(&[&v61], &["no dump file given"]);
    // The same dump twice.
    expect(&[&v61, &dump, &dump], &["given twice", "twice"]);
    // The other kernel's vmlinux.
    expect(&[&v612, &dump], &["build-ID", "build ID"]);
    // A vmlinux where the dump should be, beside a vmlinux.
    expect(&[&v61, &v612], &["two kernel images given"]);
    // A program that is not a kernel.
    if Path::new("/bin/ls").is_file() {
        expect(
            &[Path::new("/bin/ls"), &dump],
            &["not a Linux kernel image"],
        );
    }
}
