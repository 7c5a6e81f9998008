#!/usr/bin/env bash
# The whole test suite, as CI runs it: real dumps from the lab (built when the cache is empty),
# the peer tools (crash, drgn) they are compared against, then format, lint and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

# A test run builds everything once: incremental caches would only fill the disk (they took
# CI's last free gigabytes once, and rustc died mid-build with "No space left on device").
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

step "disk space"
# A clean build, its tests and the fuzz smoke build need about NEED_GIB here; say so plainly
# rather than let the compiler die half-way.
NEED_GIB=${KDIVE_TEST_NEED_GIB:-12}
free_gib=$(( $(df -Pk . | awk 'NR==2 {print $4}') / 1024 / 1024 ))
echo "${free_gib} GiB free on $(df -P . | awk 'NR==2 {print $6}') (a test run needs about ${NEED_GIB} GiB)"
if (( free_gib < NEED_GIB )); then
    echo "not enough disk space for the test run: ${free_gib} GiB free, about ${NEED_GIB} GiB needed" >&2
    exit 1
fi

step "toolchain"
command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }
cargo --version

step "lab: real crash dumps (cached under ${KDIVE_LAB_DIR:-$HOME/.cache/kdive/lab})"
bash lab/lab.sh ensure

step "peers: crash and drgn reference outputs"
bash lab/lab.sh peers --missing

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test (unit + lab integration + peer comparisons)"
cargo test --workspace 2>&1 | tee target/test-output.txt
grep -q "test result: FAILED" target/test-output.txt && { echo "tests failed" >&2; exit 1; }

step "fuzz smoke (a few seconds per target)"
bash scripts/fuzz-smoke.sh

echo
echo "all tests passed"
