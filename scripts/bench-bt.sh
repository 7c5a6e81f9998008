#!/bin/sh
# foreach bt over every task: kdive vs drgn walking every task's stack, same dump, one run each.
# Prints wall time and peak RSS. Usage: scripts/bench-bt.sh [CAPTURE_DIR] [DUMP]
#   KERNEL=6.1|6.12 SCENARIO=name: the lab capture to use when no CAPTURE_DIR is given
#     (default 6.1 module-race; SCENARIO=scale is issue 5's 3000-task dump: lab/lab.sh ensure --scale)
#   DUMP=file in the capture (default vmcore.elf, or the second argument)
#   KDIVE=path/to/kdive (default target/debug/kdive; a release build is faster)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cap=${1:-$("$here/lab/lab.sh" path "${KERNEL:-6.1}" "${SCENARIO:-module-race}")}
dump=${2:-${DUMP:-vmcore.elf}}
vmlinux=$(sed -n 's/^vmlinux=//p' "$cap/MANIFEST")
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
