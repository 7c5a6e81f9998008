#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ with small real inputs from the lab's dumps and kernels (the
# corpus is gitignored). Lab files are only read. Usage: fuzz/seed.sh [LAB_DIR]
set -euo pipefail
cd "$(dirname "$0")"
lab=${1:-${KDIVE_LAB_DIR:-$HOME/.cache/kdive/lab}}
[ -d "$lab" ] || { echo "seed: no lab at $lab (run lab/lab.sh); nothing seeded"; exit 0; }
c=corpus
mkdir -p $c/{dumpfile_open,flattened_index,vmcoreinfo_parse,lzo_decompress,lzo_compress_roundtrip,btf_parse,dwarf_index,save_any_dump,kallsyms_decode,orc_unwind,printk_ring,eval_parse,elf_open}
n=0
for rel in "$lab"/*/; do
  rname=$(basename "$rel"); [ "$rname" = kernels ] || [ "$rname" = log ] && continue
  for scen in "$rel"*/; do
    s=$(basename "$scen")
    # The first 64 KiB of each dump: headers, notes, VMCOREINFO, bitmaps, first descriptors.
    for d in "$scen"kdump-* "$scen"vmcore.elf "$scen"elf-d31 "$scen"split-zlib-d31.1; do
      [ -f "$d" ] || continue
      head -c 65536 "$d" > "$c/dumpfile_open/$rname-$s-$(basename "$d")"
      head -c 65536 "$d" > "$c/save_any_dump/$rname-$s-$(basename "$d")"
      n=$((n + 2))
    done
    [ -f "$scen"flat-zlib-d31 ] && head -c 65536 "$scen"flat-zlib-d31 > "$c/flattened_index/$rname-$s" && n=$((n + 1))
    # VMCOREINFO text: from the ELF vmcore's note, up to its NUL.
    if [ -f "$scen"vmcore.elf ]; then
      head -c 1048576 "$scen"vmcore.elf | python3 -c '
import sys
b = sys.stdin.buffer.read()
i = b.find(b"OSRELEASE=")
if i >= 0:
    sys.stdout.buffer.write(b[i:b.index(b"\0", i)])' > "$c/vmcoreinfo_parse/$rname-$s"
      n=$((n + 1))
    fi
    [ -f "$scen"kdive_race.ko ] && cp "$scen"kdive_race.ko "$c/elf_open/$rname-$s.ko" && n=$((n + 1))
    # LZO round trip: a few 4 KiB pages of real memory (page tables, text, slab, zeros).
    if [ -f "$scen"vmcore.elf ]; then
      for off in 4096 1048576 16777216 33554432; do
        dd if="$scen"vmcore.elf of="$c/lzo_compress_roundtrip/$rname-$s-$off" bs=4096 skip=$((off / 4096)) count=1 status=none
        n=$((n + 1))
      done
    fi
  done
  vml="$lab/kernels/$rname/vmlinux"
  [ -f "$vml" ] || continue
  tmp=$(mktemp -d)
  # ORC: the first 200 entries of vmlinux's tables, behind the target's 19-byte header.
  if objcopy -O binary --only-section=.orc_unwind_ip "$vml" "$tmp/ip" 2>/dev/null &&
     objcopy -O binary --only-section=.orc_unwind "$vml" "$tmp/e" 2>/dev/null; then
    v2=$(case "$rname" in 6.[4-9]*|6.[1-9][0-9]*|[7-9]*) echo 1;; *) echo 0;; esac)
    python3 - "$tmp" "$v2" "$c/orc_unwind/$rname" <<'PY'
import sys
d, v2, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ip = open(d + "/ip", "rb").read()[: 4 * 200]
e = open(d + "/e", "rb").read()[: 6 * 200]
hdr = bytes([v2, 199]) + (0x10).to_bytes(8, "little") + (0x100).to_bytes(8, "little") + b"\0"
stack = b"".join((0xFFFFFFFF81000000 + 0x20 * i).to_bytes(8, "little") for i in range(64))
open(out, "wb").write(hdr + ip + e + stack)
PY
    n=$((n + 1))
  fi
  # BTF: the kernel's is megabytes; the modules' split BTF is small (kdive_race.ko has none).
  for ko in "$lab/kernels/$rname/modules/"*.ko; do
    [ -f "$ko" ] || continue
    if objcopy --dump-section .BTF="$tmp/btf" "$ko" "$tmp/x" 2>/dev/null && [ -s "$tmp/btf" ]; then
      cp "$tmp/btf" "$c/btf_parse/$rname-$(basename "$ko")"; n=$((n + 1))
    fi
  done
  # DWARF: kdive_race.ko's info (cut to the target's 64 KiB limit), abbrev and str.
  ko="$lab/kernels/$rname/kdive_race.ko"
  if [ -f "$ko" ] && objcopy --dump-section .debug_info="$tmp/info" "$ko" "$tmp/x" 2>/dev/null &&
     objcopy --dump-section .debug_abbrev="$tmp/abbrev" "$ko" "$tmp/x" 2>/dev/null &&
     objcopy --dump-section .debug_str="$tmp/str" "$ko" "$tmp/x" 2>/dev/null; then
    python3 - "$tmp" "$c/dwarf_index/$rname-ko" <<'PY'
import sys
d, out = sys.argv[1], sys.argv[2]
info = open(d + "/info", "rb").read()[:65535]
abbrev = open(d + "/abbrev", "rb").read()[:65535]
s = open(d + "/str", "rb").read()
open(out, "wb").write(len(info).to_bytes(2, "little") + len(abbrev).to_bytes(2, "little") + info + abbrev + s)
PY
    n=$((n + 1))
  fi
  rm -rf "$tmp"
done

# Small, complete BTF and DWARF from a C file with the shapes the kernel uses (if gcc is here):
# base BTF alone, and as base (behind its 2-byte length) for the module split BTF seeds.
if command -v gcc >/dev/null && command -v objcopy >/dev/null; then
  tmp=$(mktemp -d)
  cat > "$tmp/k.c" <<'C'
typedef unsigned long u64;
struct list_head { struct list_head *next, *prev; };
enum state { RUNNING = 0, SLEEPING = 1, DEAD = 64 };
union u { int i; char c[4]; };
struct task { volatile long state; int pid; char comm[16]; struct list_head tasks;
  const struct task *parent; union u x; unsigned flags:3; enum state st;
  int (*fn)(struct task *, ...); };
struct task init_task;
int f(struct task *t, u64 v) { return t->pid + (int)v; }
C
  if gcc -gbtf -O1 -c "$tmp/k.c" -o "$tmp/b.o" 2>/dev/null &&
     objcopy --dump-section .BTF="$tmp/btf" "$tmp/b.o" "$tmp/x" && [ -s "$tmp/btf" ]; then
    cp "$tmp/btf" "$c/btf_parse/gcc-base"
    for split in "$c"/btf_parse/*.ko; do
      [ -f "$split" ] || continue
      python3 -c 'import sys; b = open(sys.argv[1], "rb").read(); sys.stdout.buffer.write(len(b).to_bytes(2, "little") + b)' "$tmp/btf" > "$tmp/pre"
      cat "$tmp/pre" "$split" > "$c/btf_parse/gcc-base+$(basename "$split")"
    done
    n=$((n + 1))
  fi
  if gcc -g -O1 -shared -nostdlib -fPIC "$tmp/k.c" -o "$tmp/k.so" 2>/dev/null; then
    for sec in info abbrev str; do objcopy --dump-section .debug_$sec="$tmp/$sec" "$tmp/k.so" "$tmp/x"; done
    python3 - "$tmp" "$c/dwarf_index/gcc" <<'PY'
import sys
d, out = sys.argv[1], sys.argv[2]
info, abbrev, s = (open(f"{d}/{x}", "rb").read() for x in ("info", "abbrev", "str"))
open(out, "wb").write(len(info).to_bytes(2, "little") + len(abbrev).to_bytes(2, "little") + info + abbrev + s)
PY
    n=$((n + 1))
  fi
  rm -rf "$tmp"
fi

# Synthetic but well-formed images for the targets whose input is a memory image.
python3 - "$c" <<'PY'
import sys, struct
c = sys.argv[1]
MAP = 0xFFFFFFFF80000000
TEXT = 0xFFFFFFFF81000000
# kallsyms_decode: flags byte 0 (relative base), names @0, tokens @0x4000, index @0x5000,
# offsets @0x5200, num_syms @0x5f00, relative_base @0x5f08.
mem = bytearray(0x6000)
toks = [bytes([i]) if i < 128 else b"init_" for i in range(256)]
table, index = b"", b""
for t in toks:
    index += struct.pack("<H", len(table)); table += t + b"\0"
names = b""
syms = [("T_stext", TEXT), ("Tstart_kernel", TEXT + 0x100), ("Dinit_task", TEXT + 0x200000),
        ("Tschedule", TEXT + 0x300)]
for n, _ in syms:
    enc = n.encode(); names += bytes([len(enc)]) + enc
mem[0:len(names)] = names
mem[0x4000:0x4000 + len(table)] = table
mem[0x5000:0x5000 + len(index)] = index
for i, (_, a) in enumerate(syms):
    mem[0x5200 + 4 * i:0x5204 + 4 * i] = struct.pack("<I", a - TEXT)
mem[0x5f00:0x5f04] = struct.pack("<I", len(syms))
mem[0x5f08:0x5f10] = struct.pack("<Q", TEXT)
open(c + "/kallsyms_decode/synthetic", "wb").write(b"\0" + bytes(mem))
# printk_ring: flags 0, prb pointer @0 → ring @0x100; descs @0x200 (4 × 24), infos @0x400
# (4 × 88), text @0x800 (2^8 bytes).
mem = bytearray(0x1000)
mem[0:8] = struct.pack("<Q", MAP + 0x100)
ring = 0x100
mem[ring:ring + 4] = struct.pack("<I", 2)
mem[ring + 8:ring + 16] = struct.pack("<Q", MAP + 0x200)
mem[ring + 16:ring + 24] = struct.pack("<Q", MAP + 0x400)
mem[ring + 24:ring + 32] = struct.pack("<Q", 1)      # head_id
mem[ring + 32:ring + 40] = struct.pack("<Q", 0)      # tail_id
mem[ring + 48:ring + 52] = struct.pack("<I", 8)      # size_bits
mem[ring + 56:ring + 64] = struct.pack("<Q", MAP + 0x800)
pos = 0
for i, text in enumerate([b"Linux version 6.1", b"BUG: kernel NULL pointer dereference"]):
    d = 0x200 + 24 * i
    blk = 8 + len(text); blk = (blk + 7) & ~7
    mem[d:d + 8] = struct.pack("<Q", (2 << 62) | i)
    mem[d + 8:d + 24] = struct.pack("<QQ", pos, pos + blk)
    mem[0x800 + pos:0x800 + pos + 8] = struct.pack("<Q", i)
    mem[0x808 + pos:0x808 + pos + len(text)] = text
    inf = 0x400 + 88 * i
    mem[inf:inf + 18] = struct.pack("<QQH", i, 1000000 * (i + 1), len(text))
    pos += blk
open(c + "/printk_ring/synthetic", "wb").write(b"\0" + bytes(mem))
# eval_parse: what people type.
for i, e in enumerate([
    "init_task.comm", "((struct task_struct *)0xffff888003a10000)->pid", "jiffies + 5 * HZ",
    "sizeof(struct list_head)", "per_cpu(runqueues, 1).nr_running", "*(u64 *)&init_task",
    "a ? b : c << 2", "arr[3].x->y", "(char)-1", "!(x && y) || ~z", "&((struct page *)0)->lru",
    "u64", "struct task_struct *", "'a' + \"str\"",
]):
    open(f"{c}/eval_parse/expr{i}", "w").write(e)
PY
echo "seed: $n real inputs from $lab plus synthetic kallsyms/printk/eval seeds in fuzz/$c/"
