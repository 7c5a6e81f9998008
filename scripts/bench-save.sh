#!/usr/bin/env bash
# Benchmarks `kdive save` against makedumpfile on the same full ELF vmcore, in one run:
#   makedumpfile -c -d 31, -l -d 31, -c -d 31 --num-threads 2   vs   kdive save -d 31 zstd/zlib/lzo
# Runs every tool once per round, in turn, RUNS rounds (so drift on a shared machine hits all
# alike). Prints median wall time (ms resolution) and peak RSS (/usr/bin/time), output size, and ratios:
# size vs makedumpfile -c, time (wall, and CPU = user + sys, which a loaded machine disturbs
# less) vs makedumpfile -l, RSS vs makedumpfile's highest.
# DUMP=path overrides the lab dump (e.g. a 2 GiB guest's vmcore).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
KERNEL=${KERNEL:-6.1}
SCENARIO=${SCENARIO:-sysrq}

command -v /usr/bin/time >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
command -v makedumpfile >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq makedumpfile >/dev/null; }
if [ -z "${DUMP:-}" ]; then
	DUMP=$(bash lab/lab.sh path "$KERNEL" "$SCENARIO")/vmcore.elf
fi
[ -f "$DUMP" ] || { echo "no dump at $DUMP (run lab/lab.sh, or set DUMP=)" >&2; exit 1; }
# `kdive-save` is `kdive save` as a stand-alone binary (the same code, built alone).
cargo build --release -q -p kdive-save --bin kdive-save
KDIVE=$PWD/target/release/kdive-save
OUT=$(mktemp -d "${TMPDIR:-/tmp}/bench-save.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
cat "$DUMP" >/dev/null # page cache warm for everyone

declare -A SECS RSS SIZE CPU TIMES CPUS CMD OUTF
NAMES=()
# tool NAME OUTFILE CMD... : registers a command (OUTFILE is removed before each run).
tool() {
	local name=$1; NAMES+=("$name"); OUTF[$name]=$2; shift 2
	CMD[$name]=$(printf '%q ' "$@"); TIMES[$name]=''; CPUS[$name]=''; RSS[$name]=0
}
# run_once NAME: one run; appends its wall time (ms resolution; time's %e has 10 ms) and CPU
# time (user + sys), keeps the highest peak RSS.
run_once() {
	local name=$1 t0 t1 e m u s
	rm -f "${OUTF[$name]}"
	t0=$(date +%s%N)
	if ! eval "/usr/bin/time -o \"$OUT/time\" -f '%e %M %U %S' ${CMD[$name]}" >/dev/null 2>"$OUT/stderr"; then
		echo "$name: failed ($(tail -n 1 "$OUT/stderr")); run not counted" >&2
		return 0
	fi
	t1=$(date +%s%N)
	read -r e m u s <"$OUT/time"
	[ -s "${OUTF[$name]}" ] || { echo "$name: no output written" >&2; exit 1; }
	TIMES[$name]+="$(echo "($t1 - $t0) / 1000000000" | bc -l) "
	CPUS[$name]+="$(echo "$u + $s" | bc -l) "
	if (( m > ${RSS[$name]} )); then RSS[$name]=$m; fi
	SIZE[$name]=$(stat -c %s "${OUTF[$name]}")
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

tool "makedumpfile -c -d 31" "$OUT/m-c" makedumpfile -c -d 31 "$DUMP" "$OUT/m-c"
tool "makedumpfile -l -d 31" "$OUT/m-l" makedumpfile -l -d 31 "$DUMP" "$OUT/m-l"
# kdive save fsyncs DEST before it renames it into place (a capture must survive the reboot
# that follows it); makedumpfile exits with its output still in the page cache. This row is
# makedumpfile -l with the same durability (`sync FILE` fsyncs that one file).
tool "makedumpfile -l -d 31, then fsync" "$OUT/m-ls" sh -c 'makedumpfile -l -d 31 "$1" "$2" && sync "$2"' _ "$DUMP" "$OUT/m-ls"
tool "makedumpfile -c -d 31 --num-threads 2" "$OUT/m-c2" makedumpfile -c -d 31 --num-threads 2 "$DUMP" "$OUT/m-c2"
for c in zstd zlib lzo; do
	tool "kdive save -d 31 --compress $c" "$OUT/k-$c" "$KDIVE" -q -d 31 --compress "$c" "$DUMP" "$OUT/k-$c"
done

echo "dump: $DUMP ($(( $(stat -c %s "$DUMP") / 1000000 )) MB), $(nproc) CPUs, $RUNS rounds (every tool once per round, in turn; median time, max RSS)"
for _ in $(seq "$RUNS"); do
	for n in "${NAMES[@]}"; do run_once "$n"; done
done
for n in "${NAMES[@]}"; do
	SECS[$n]=$(median <<<"${TIMES[$n]}")
	CPU[$n]=$(median <<<"${CPUS[$n]}")
	printf '%-40s %7.1f MB %7.3f s wall %7.3f s CPU %6.1f MB RSS\n' "$n" \
		"$(echo "${SIZE[$n]}/1000000" | bc -l)" "${SECS[$n]}" "${CPU[$n]}" "$(echo "${RSS[$n]}/1024" | bc -l)"
done

mrss=0
for n in "makedumpfile -c -d 31" "makedumpfile -l -d 31" "makedumpfile -c -d 31 --num-threads 2"; do
	(( ${RSS[$n]} > mrss )) && mrss=${RSS[$n]}
done
echo
echo "ratios (kdive / makedumpfile): size vs -c, wall and CPU time vs -l (and wall vs -l then fsync), peak RSS vs makedumpfile's highest"
for c in zstd zlib lzo; do
	n="kdive save -d 31 --compress $c"
	printf '%-34s size %.3f  wall %.2f (%.2f)  CPU %.2f  RSS %.2f\n' "$n" \
		"$(echo "${SIZE[$n]}/${SIZE["makedumpfile -c -d 31"]}" | bc -l)" \
		"$(echo "${SECS[$n]}/${SECS["makedumpfile -l -d 31"]}" | bc -l)" \
		"$(echo "${SECS[$n]}/${SECS["makedumpfile -l -d 31, then fsync"]}" | bc -l)" \
		"$(echo "${CPU[$n]}/${CPU["makedumpfile -l -d 31"]}" | bc -l)" \
		"$(echo "${RSS[$n]}/$mrss" | bc -l)"
done
