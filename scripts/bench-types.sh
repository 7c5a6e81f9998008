#!/usr/bin/env bash
# Benchmarks opening a kernel's debug info and answering `ptype struct task_struct`, kdive vs drgn,
# on the same real lab files, in one run:
#   kdive cold  — DWARF index cache removed before every run (index built, then cached)
#   kdive warm  — index cache present (mapped, no scan)
#   drgn        — `prog.type("struct task_struct")` (drgn indexes DWARF on every start)
# plus the DWARF layer alone (example `dwarf_index`: open vmlinux + index + load the type, no dump).
# Prints median wall time and peak RSS (/usr/bin/time '%e %M') of RUNS runs each.
#   KERNEL=6.1|6.12  SCENARIO=module-race  FORMAT=kdump-zlib-d31  RUNS=5  KDIVE=(prebuilt binary)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
KERNEL=${KERNEL:-6.1}
SCENARIO=${SCENARIO:-module-race}
FORMAT=${FORMAT:-kdump-zlib-d31}

command -v /usr/bin/time >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
bash lab/lab.sh ensure >/dev/null
# KDIVE=path/to/kdive skips building the CLI (e.g. one built from a clean worktree).
if [ -z "${KDIVE:-}" ]; then cargo build --release -q -p kdive-cli; KDIVE=./target/release/kdive; fi
cargo build --release -q -p kdive-debuginfo --example dwarf_index
dir=$(bash lab/lab.sh path "$KERNEL" "$SCENARIO")
vmlinux=$(sed -n 's/^vmlinux=//p' "$dir/MANIFEST")
dump=$dir/$FORMAT
cat "$vmlinux" "$dump" >/dev/null # page cache warm for everyone
cache=$(mktemp -d)
tf=$(mktemp)
trap 'rm -rf "$cache" "$tf"' EXIT
export KDIVE_CACHE_DIR=$cache

declare -A SECS RSS
# measure NAME PREP CMD... : runs PREP (a shell snippet) then CMD, RUNS times.
measure() {
	local name=$1 prep=$2; shift 2
	local times=() rss=0 out
	for _ in $(seq "$RUNS"); do
		eval "$prep"
		/usr/bin/time -o "$tf" -f '%e %M' "$@" >/dev/null 2>&1
		out=$(tail -1 "$tf")
		times+=("${out% *}")
		local r=${out#* }; (( r > rss )) && rss=$r
	done
	SECS[$name]=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	RSS[$name]=$rss
	printf '%-34s %8.3f s %8d KB\n' "$name" "${SECS[$name]}" "$rss"
}

echo "vmlinux $vmlinux ($(du -h "$vmlinux" | cut -f1)), dump $dump, $RUNS runs each, median; $(nproc) CPUs"
cmd=("$KDIVE" -s "$vmlinux" "$dump" -c 'ptype struct task_struct')
measure "kdive cold (index built)" 'rm -rf "$cache"/index' "${cmd[@]}"
measure "kdive warm (index cached)" ':' "${cmd[@]}"
ex=(./target/release/examples/dwarf_index "$vmlinux" "struct task_struct")
measure "DWARF layer alone, cold" 'rm -rf "$cache"/index' "${ex[@]}"
measure "DWARF layer alone, warm" ':' "${ex[@]}"
if command -v drgn >/dev/null; then
	measure "drgn prog.type(task_struct)" ':' drgn -q -s "$vmlinux" -c "$dump" -e 'prog.type("struct task_struct")'
fi
echo
if [ -n "${SECS[drgn prog.type(task_struct)]:-}" ]; then
	for k in "kdive cold (index built)" "kdive warm (index cached)"; do
		awk -v k="${SECS[$k]}" -v p="${SECS[drgn prog.type(task_struct)]}" -v kr="${RSS[$k]}" \
			-v pr="${RSS[drgn prog.type(task_struct)]}" -v n="$k" \
			'BEGIN { printf "%-28s vs drgn: %5.1fx faster, %5.1fx less memory\n", n, (k>0? p/k : 0), (kr>0? pr/kr : 0) }'
	done
fi
# One timed run with kdive's own phase timings for the record.
rm -rf "$cache"/index
KDIVE_TIMING=1 "${cmd[@]}" 2>&1 >/dev/null | grep -E 'DWARF|timing' || true
KDIVE_TIMING=1 "${cmd[@]}" 2>&1 >/dev/null | grep -E 'DWARF|timing' || true
