#!/usr/bin/env bash
# Benchmarks kdive against its peers on the same real lab dump, in one run.
#   open + `sys`:  kdive (with and without vmlinux) vs drgn-crash vs crash 8.0.2
# Prints median wall time and peak RSS of RUNS runs each, and kdive's ratio to each peer.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
KERNEL=${KERNEL:-6.1}
SCENARIO=${SCENARIO:-module-race}
FORMAT=${FORMAT:-kdump-zlib-d31}

command -v /usr/bin/time >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
bash lab/lab.sh ensure >/dev/null
bash lab/lab.sh peers --missing >/dev/null
cargo build --release -q -p kdive-cli
dir=$(bash lab/lab.sh path "$KERNEL" "$SCENARIO")
vmlinux=$(sed -n 's/^vmlinux=//p' "$dir/MANIFEST")
dump=$dir/$FORMAT
# Page cache warm for everyone: read the files once.
cat "$vmlinux" "$dump" >/dev/null

# measure NAME CMD... : runs CMD (stdin from $INPUT) RUNS times; records median seconds and max RSS.
declare -A SECS RSS
measure() {
	local name=$1; shift
	local times=() rss=0 out
	for _ in $(seq "$RUNS"); do
		/usr/bin/time -o "$TF" -f '%e %M' "$@" <"$INPUT" >/dev/null 2>&1 || true
		out=$(tail -1 "$TF")
		times+=("${out% *}")
		local r=${out#* }; (( r > rss )) && rss=$r
	done
	SECS[$name]=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	RSS[$name]=$rss
	printf '%-28s %8.3f s %8d KB\n' "$name" "${SECS[$name]}" "$rss"
}

echo "dump: $dump ($(du -h "$dump" | cut -f1)), vmlinux $(du -h "$vmlinux" | cut -f1), $RUNS runs each, median"
INPUT=$(mktemp); echo sys >"$INPUT"; TF=$(mktemp)
measure "kdive (vmlinux)" ./target/release/kdive "$vmlinux" "$dump"
measure "kdive (no vmlinux)" ./target/release/kdive "$dump"
drgn_crash=$(command -v drgn-crash || true)
[ -n "$drgn_crash" ] && measure "drgn-crash" "$drgn_crash" "$vmlinux" "$dump"
if command -v drgn >/dev/null; then
	script=$(mktemp --suffix=.py)
	cat >"$script" <<'PY'
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.printk import get_printk_records
u = prog["init_uts_ns"].name
print(u.nodename.string_().decode(), u.release.string_().decode())
print(int(prog["jiffies_64"]), [int(x) for x in prog["avenrun"]])
print(sum(1 for _ in for_each_task(prog)))
print([r.text for r in get_printk_records(prog) if b"Kernel panic" in r.text or b"Oops" in r.text][:1])
PY
	measure "drgn (sys facts script)" drgn -q -c "$dump" -s "$vmlinux" "$script"
fi
command -v crash >/dev/null && measure "crash 8.0.2 -s" crash -s "$vmlinux" "$dump"
echo
for p in "drgn-crash" "drgn (sys facts script)" "crash 8.0.2 -s"; do
	[ -n "${SECS[$p]:-}" ] || continue
	awk -v k="${SECS[kdive (vmlinux)]}" -v p="${SECS[$p]}" -v kr="${RSS[kdive (vmlinux)]}" -v pr="${RSS[$p]}" -v n="$p" \
		'BEGIN { printf "kdive vs %-24s %5.1fx faster, %5.1fx less memory\n", n, (k>0? p/k : 0), (kr>0? pr/kr : 0) }'
done
rm -f "$INPUT"
