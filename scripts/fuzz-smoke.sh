#!/usr/bin/env bash
# Runs every cargo-fuzz target for a few seconds. Skips (and says so) without a nightly toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-5}
if ! rustup toolchain list 2>/dev/null | grep -q nightly; then
  echo "fuzz smoke: SKIPPED (no nightly toolchain installed)"; exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked >/dev/null 2>&1 || { echo "fuzz smoke: SKIPPED (cargo-fuzz could not be installed)"; exit 0; }
fi
[ -d fuzz ] || { echo "fuzz smoke: no fuzz/ directory"; exit 0; }
for t in $(cd fuzz && cargo +nightly fuzz list); do
  echo "fuzz smoke: $t (${secs}s)"
  (cd fuzz && cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -rss_limit_mb=2048 >/dev/null 2>&1) \
    || { echo "fuzz target $t found a crash; see fuzz/artifacts/$t" >&2; exit 1; }
done
echo "fuzz smoke: all targets ran"
