#!/bin/sh
# foreach bt over every task: kdive vs drgn walking every task's stack, same dump, one run each.
# Prints wall time and peak RSS. Usage: scripts/bench-bt.sh [CAPTURE_DIR] [DUMP]
#   KDIVE=path/to/kdive (default target/debug/kdive; a release build is faster)
set -eu
cap=${1:-$HOME/.cache/kdive/lab/6.1.0-56-cloud-amd64/module-race}
dump=${2:-vmcore.elf}
vmlinux=$(sed -n 's/^vmlinux=//p' "$cap/MANIFEST")
here=$(cd "$(dirname "$0")/.." && pwd)
kdive=${KDIVE:-$here/target/debug/kdive}
drgn=${DRGN:-$HOME/.cache/kdive/peers/venv/bin/drgn}
mods=""
[ -f "$cap/kdive_race.ko" ] && mods="-s $cap/kdive_race.ko"
tasks=$("$kdive" "$vmlinux" "$cap/$dump" -c "foreach bt" | grep -c '^PID:')
echo "dump: $cap/$dump ($tasks tasks)"
/usr/bin/time -f "kdive foreach bt (vmlinux):     %e s  %M KB" "$kdive" "$vmlinux" "$cap/$dump" -c "foreach bt" >/dev/null
/usr/bin/time -f "kdive foreach bt (no vmlinux):  %e s  %M KB" "$kdive" "$cap/$dump" -c "foreach bt" >/dev/null
# shellcheck disable=SC2086
/usr/bin/time -f "drgn stack_trace of every task: %e s  %M KB" "$drgn" -c "$cap/$dump" -s "$vmlinux" $mods "$here/lab/peers/drgn_stacks.py" >/dev/null
