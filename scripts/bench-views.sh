#!/bin/sh
# open + ps + log: kdive (with and without the vmlinux) vs drgn listing every task and printing
# the printk log, on the same dump, one run each. Prints wall time and peak RSS.
# Usage: scripts/bench-views.sh [CAPTURE_DIR] [DUMP]
#   KDIVE=path/to/kdive (default: target/release/kdive if built, else target/debug/kdive)
set -eu
cap=${1:-$HOME/.cache/kdive/lab/6.1.0-56-cloud-amd64/module-race}
dump=${2:-vmcore.elf}
vmlinux=$(sed -n 's/^vmlinux=//p' "$cap/MANIFEST")
here=$(cd "$(dirname "$0")/.." && pwd)
kdive=${KDIVE:-$here/target/release/kdive}
[ -x "$kdive" ] || kdive=$here/target/debug/kdive
drgn=${DRGN:-$HOME/.cache/kdive/peers/venv/bin/drgn}
echo "dump: $cap/$dump"
echo "kdive: $kdive"
lines=$(printf 'ps\nlog\n' | "$kdive" "$cap/$dump" | wc -l)
echo "kdive ps+log output: $lines lines"
printf 'ps\nlog\n' >/tmp/kdive-bench-views.$$
/usr/bin/time -f "kdive open+ps+log (no vmlinux): %e s  %M KB" "$kdive" "$cap/$dump" </tmp/kdive-bench-views.$$ >/dev/null
/usr/bin/time -f "kdive open+ps+log (vmlinux):    %e s  %M KB" "$kdive" "$vmlinux" "$cap/$dump" </tmp/kdive-bench-views.$$ >/dev/null
rm -f /tmp/kdive-bench-views.$$
if [ -x "$drgn" ]; then
	/usr/bin/time -f "drgn open+tasks+log (vmlinux):  %e s  %M KB" "$drgn" -q -c "$cap/$dump" -s "$vmlinux" "$here/scripts/bench-views-drgn.py" >/dev/null
else
	echo "drgn not found at $drgn (lab/lab.sh peers installs it)"
fi
