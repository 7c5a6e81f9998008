#!/usr/bin/env bash
# Runs fuzz targets one after another until each stops finding new edge coverage.
#
#   fuzz/until-flat.sh [-p PLATEAU_MIN] [-c CAP_MIN] [-e LIBFUZZER_FLAG]... TARGET...
#
# A target is "flat" when libFuzzer's edge coverage (`cov:`) has not grown for PLATEAU_MIN
# minutes of the fuzzer's own CPU time (default 10), so a fuzzer starved by other work is not
# taken for a flat one; a run is cut at CAP_MIN wall-clock minutes (default 45) and then
# reported as "still growing". Binaries must be built first
# (`cd fuzz && cargo +nightly fuzz build`). Each -e adds one libFuzzer flag to every run, e.g.
# `-e -detect_leaks=0` for a target whose scoped worker threads make LeakSanitizer's per-input
# check race with their thread-local teardown.
#
# libFuzzer's -timeout (30 s) counts wall-clock time, so a fuzzer starved of CPU (run at nice
# 19 beside a build or a test run) can report a "timeout" on an input that is merely slow.
# Every timeout input is therefore replayed alone with a CPU-time limit of half the timeout
# (15 s of its own CPU, however busy the machine): one that finishes is recorded as
# starvation, removed, and the run resumes on the same corpus; a real hang (15 CPU seconds, or
# 5 minutes blocked) stops the target and is reported as a finding.
# One line per target goes to stdout (a README table row: target, wall minutes, CPU minutes,
# runs, coverage start → end, when coverage last grew, verdict, findings); full logs to
# fuzz/logs/TARGET.log.
set -euo pipefail
cd "$(dirname "$0")"
plateau=10 cap=45 extra=()
while getopts p:c:e: o; do
  case $o in p) plateau=$OPTARG ;; c) cap=$OPTARG ;; e) extra+=("$OPTARG") ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1))
bin_dir=target/x86_64-unknown-linux-gnu/release
mkdir -p logs
hz=$(getconf CLK_TCK)
# CPU time (clock ticks) a process has used so far.
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
for t in "$@"; do
  [ -x "$bin_dir/$t" ] || { echo "$t: no binary in $bin_dir (build first)" >&2; exit 1; }
  mkdir -p "corpus/$t" "artifacts/$t"
  log=logs/$t.log
  : >"$log"
  start=$SECONDS cov0='' cov='' last_new=0 runs_done=0 runs=0 starved=0 cpu_done=0 cpu=0
  verdict='still growing' found=nothing
  while :; do
    left=$((cap * 60 - (SECONDS - start)))
    [ "$left" -gt 0 ] || break
    part=logs/$t.part.log
    # A new file, not a truncated one: a fuzzer left over from an earlier run that still holds
    # the old one open must not write into this run's log.
    rm -f "$part"
    "$bin_dir/$t" "corpus/$t" -artifact_prefix="artifacts/$t/" -max_total_time="$left" \
      -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 ${extra[@]+"${extra[@]}"} >"$part" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      sleep 5
      c_now=$(cpu_of "$pid")
      [ "${c_now:-0}" -gt 0 ] && cpu=$((cpu_done + c_now))
      line=$(grep -aE '^#[0-9]+' "$part" | tail -1 || true)
      [ -n "$line" ] || continue
      c=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$line")
      runs=$((runs_done + $(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$line")))
      [ -n "$c" ] || continue
      [ -n "$cov0" ] || { cov0=$c; cov=$c; last_new=$cpu; }
      if [ "$c" -gt "$cov" ]; then cov=$c; last_new=$cpu; fi
      if [ $((cpu - last_new)) -ge $((plateau * 60 * hz)) ]; then
        verdict="flat for ${plateau} min"
        # A target may catch SIGTERM itself (save_any_dump: `kdive save` installs a handler
        # that finishes the output cleanly), so SIGKILL follows.
        kill "$pid" 2>/dev/null || true
        sleep 5
        kill -9 "$pid" 2>/dev/null || true
      fi
    done
    wait "$pid" || true
    cat "$part" >>"$log"
    runs_done=$runs
    cpu_done=$cpu
    # A report printed as the fuzzer stopped (a leak check at exit) is a finding too.
    if [ "$verdict" != 'still growing' ] && grep -aqE '^==[0-9]+== ?ERROR|^SUMMARY: ' "$part"; then
      found="FOUND at exit: $(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$part" | tail -1) (see $log)"
    fi
    [ "$verdict" = 'still growing' ] || break
    grep -aqE '^==[0-9]+== ERROR|ERROR: libFuzzer|^SUMMARY: ' "$part" || break
    unit=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$part" | tail -1)
    if grep -aq 'libFuzzer: timeout' "$part" && [ -n "$unit" ] &&
       timeout 300 bash -c 'ulimit -t 15; exec "$@"' _ "$bin_dir/$t" "$unit" >/dev/null 2>&1; then
      starved=$((starved + 1))
      rm -f "$unit"
      continue
    fi
    found="FOUND: ${unit:-see $log}"; verdict='stopped by a finding'
    break
  done
  rm -f "logs/$t.part.log"
  mins=$(((SECONDS - start + 30) / 60))
  note=''
  [ "$starved" -eq 0 ] || note=" ($starved timeouts under starvation: replayed alone in < 7 s, resumed)"
  echo "| $t | $mins | $((cpu / hz / 60)) | $runs | $cov0 → $cov | at CPU minute $((last_new / hz / 60)) | $verdict | $found$note |"
done
