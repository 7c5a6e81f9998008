#!/usr/bin/env bash
# Runs fuzz targets one after another until each stops finding new edge coverage.
#
#   fuzz/until-flat.sh [-p PLATEAU_MIN] [-c CAP_MIN] TARGET...
#
# A target is "flat" when libFuzzer's edge coverage (`cov:`) has not grown for PLATEAU_MIN
# minutes (default 10); a run is cut at CAP_MIN minutes (default 45) and then reported as
# "still growing". Binaries must be built first (`cd fuzz && cargo +nightly fuzz build`).
# One line per target goes to stdout (a README table row); full logs to fuzz/logs/TARGET.log.
set -euo pipefail
cd "$(dirname "$0")"
plateau=10 cap=45
while getopts p:c: o; do
  case $o in p) plateau=$OPTARG ;; c) cap=$OPTARG ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1))
bin_dir=target/x86_64-unknown-linux-gnu/release
mkdir -p logs
for t in "$@"; do
  [ -x "$bin_dir/$t" ] || { echo "$t: no binary in $bin_dir (build first)" >&2; exit 1; }
  mkdir -p "corpus/$t" "artifacts/$t"
  log=logs/$t.log
  : >"$log"
  start=$SECONDS
  "$bin_dir/$t" "corpus/$t" -artifact_prefix="artifacts/$t/" -max_total_time=$((cap * 60)) \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >>"$log" 2>&1 &
  pid=$!
  cov0='' cov='' last_new=0 runs=0 verdict='still growing'
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    line=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    [ -n "$line" ] || continue
    c=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$line")
    runs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$line")
    [ -n "$c" ] || continue
    [ -n "$cov0" ] || { cov0=$c; cov=$c; last_new=$((SECONDS - start)); }
    if [ "$c" -gt "$cov" ]; then cov=$c; last_new=$((SECONDS - start)); fi
    if [ $((SECONDS - start - last_new)) -ge $((plateau * 60)) ]; then
      verdict="flat for ${plateau} min"
      kill "$pid" 2>/dev/null || true
    fi
  done
  status=0; wait "$pid" || status=$?
  found=nothing
  if grep -qE '^==[0-9]+== ERROR|ERROR: libFuzzer|^SUMMARY: ' "$log"; then
    found="FOUND: see $log and artifacts/$t"; verdict='stopped by a finding'
  fi
  mins=$(((SECONDS - start + 30) / 60))
  echo "| $t | $mins | $runs | $cov0 → $cov | at minute $((last_new / 60)) | $verdict | $found |"
done
