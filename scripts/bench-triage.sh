#!/bin/sh
# The seed's investigation, end to end, on the same dump in one run: `kdive triage` (every
# step found by itself) against crash and drgn given the steps by hand — the panic task's
# exception frame, the module's debug info, the faulting function's disassembly with source
# lines, the NULLed array, the stuck rmmod's stack. Prints wall time and peak RSS.
# Usage: scripts/bench-triage.sh [CAPTURE_DIR] [DUMP]
#   KERNEL=6.1|6.12 (default 6.1; the module-race capture), DUMP (default kdump-zlib-d31)
#   KDIVE=path/to/kdive (default target/release/kdive: cargo build --release -p kdive-cli)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cap=${1:-$("$here/lab/lab.sh" path "${KERNEL:-6.1}" module-race)}
dump=${2:-${DUMP:-kdump-zlib-d31}}
vmlinux=$(sed -n 's/^vmlinux=//p' "$cap/MANIFEST")
kdive=${KDIVE:-$here/target/release/kdive}
drgn=${DRGN:-$HOME/.cache/kdive/peers/venv/bin/drgn}
crash=${CRASH:-$HOME/.cache/kdive/peers/crash806}
[ -x "$kdive" ] || { echo "no $kdive: cargo build --release -p kdive-cli" >&2; exit 1; }
priv=$(sed -n 's/.*kdive_race: loaded, .* priv=\([0-9a-f]*\) .*/\1/p' "$cap/dmesg.txt" | tail -1)
rmmod=$("$kdive" "$vmlinux" "$cap/$dump" -c "ps rmmod" | awk 'NR == 2 { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) { print $i; exit } }')
echo "dump: $cap/$dump (priv=$priv, rmmod pid $rmmod)"
steps="bt -p
mod -s kdive_race $cap/kdive_race.ko
dis -l kdive_race_reinit_rings
p ((struct kdive_race_priv *)0x$priv)->qnapi
bt $rmmod
q"
/usr/bin/time -f "kdive triage (finds every step):         %e s  %M KB" "$kdive" triage "$vmlinux" "$cap/$dump" >/dev/null
/usr/bin/time -f "kdive, the seed's steps by hand:         %e s  %M KB" sh -c "printf '%s\n' \"\$1\" | \"\$2\" \"\$3\" \"\$4\" >/dev/null" - "$steps" "$kdive" "$vmlinux" "$cap/$dump"
if [ -x "$crash" ]; then
	/usr/bin/time -f "crash 8.0.6, the seed's steps by hand:   %e s  %M KB" sh -c "printf '%s\n' \"\$1\" | \"\$2\" -s \"\$3\" \"\$4\" >/dev/null 2>&1" - "$steps" "$crash" "$vmlinux" "$cap/$dump"
fi
if [ -x "$drgn" ]; then
	script=$(mktemp --suffix=.py)
	cat >"$script" <<PY
from drgn import Object
from drgn.helpers.linux.pid import find_task
t = prog.crashed_thread()
print(t.stack_trace())
print(prog.crashed_thread().object.comm)
p = Object(prog, "struct kdive_race_priv *", 0x$priv)
print(p.qnapi)
print(prog.stack_trace(find_task(prog, $rmmod)))
PY
	/usr/bin/time -f "drgn 0.3, the same facts by script:      %e s  %M KB" "$drgn" -c "$cap/$dump" -s "$vmlinux" -s "$cap/kdive_race.ko" "$script" >/dev/null
	rm -f "$script"
fi
