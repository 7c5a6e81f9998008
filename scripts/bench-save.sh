#!/usr/bin/env bash
# Benchmarks `kdive save` against makedumpfile on the same full ELF vmcore, in one run:
#   makedumpfile -c -d 31, -l -d 31, -c -d 31 --num-threads 2   vs   kdive save -d 31 zstd/zlib/lzo
# Prints median wall time (ms resolution) and peak RSS (/usr/bin/time) of RUNS runs, output size, and ratios:
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

declare -A SECS RSS SIZE CPU
# measure NAME OUTFILE CMD... : RUNS runs (OUTFILE removed before each); median time, max RSS.
measure() {
	local name=$1 outf=$2; shift 2
	local times=() cpus=() rss=0 out
	for _ in $(seq "$RUNS"); do
		rm -f "$outf"
		local t0 t1
		t0=$(date +%s%N)
		if ! /usr/bin/time -o "$OUT/time" -f '%e %M %U %S' "$@" >/dev/null 2>"$OUT/stderr"; then
			echo "$name: failed ($(tail -n 1 "$OUT/stderr")); run not counted" >&2
			continue
		fi
		t1=$(date +%s%N)
		read -r e m u s <"$OUT/time"
		# Wall time in ms resolution (time's %e has 10 ms); the same fork overhead for all.
		e=$(echo "($t1 - $t0) / 1000000000" | bc -l)
		out="$e $m"
		cpus+=("$(echo "$u + $s" | bc -l)")
		[ -s "$outf" ] || { echo "$name: no output written" >&2; exit 1; }
		times+=("${out% *}")
		local r=${out#* }; (( r > rss )) && rss=$r
	done
	SECS[$name]=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	CPU[$name]=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	RSS[$name]=$rss
	SIZE[$name]=$(stat -c %s "$outf")
	printf '%-40s %7.1f MB %7.3f s wall %7.3f s CPU %6.1f MB RSS\n' "$name" \
		"$(echo "${SIZE[$name]}/1000000" | bc -l)" "${SECS[$name]}" "${CPU[$name]}" "$(echo "$rss/1024" | bc -l)"
}

echo "dump: $DUMP ($(( $(stat -c %s "$DUMP") / 1000000 )) MB), $(nproc) CPUs, $RUNS runs each (median time, max RSS)"
measure "makedumpfile -c -d 31" "$OUT/m-c" makedumpfile -c -d 31 "$DUMP" "$OUT/m-c"
measure "makedumpfile -l -d 31" "$OUT/m-l" makedumpfile -l -d 31 "$DUMP" "$OUT/m-l"
measure "makedumpfile -c -d 31 --num-threads 2" "$OUT/m-c2" makedumpfile -c -d 31 --num-threads 2 "$DUMP" "$OUT/m-c2"
for c in zstd zlib lzo; do
	measure "kdive save -d 31 --compress $c" "$OUT/k-$c" "$KDIVE" -q -d 31 --compress "$c" "$DUMP" "$OUT/k-$c"
done

mrss=0
for n in "makedumpfile -c -d 31" "makedumpfile -l -d 31" "makedumpfile -c -d 31 --num-threads 2"; do
	(( ${RSS[$n]} > mrss )) && mrss=${RSS[$n]}
done
echo
echo "ratios (kdive / makedumpfile): size vs -c, wall and CPU time vs -l, peak RSS vs makedumpfile's highest"
for c in zstd zlib lzo; do
	n="kdive save -d 31 --compress $c"
	printf '%-34s size %.3f  wall %.2f  CPU %.2f  RSS %.2f\n' "$n" \
		"$(echo "${SIZE[$n]}/${SIZE["makedumpfile -c -d 31"]}" | bc -l)" \
		"$(echo "${SECS[$n]}/${SECS["makedumpfile -l -d 31"]}" | bc -l)" \
		"$(echo "${CPU[$n]}/${CPU["makedumpfile -l -d 31"]}" | bc -l)" \
		"$(echo "${RSS[$n]}/$mrss" | bc -l)"
done
