#!/usr/bin/env bash
# The whole test suite, as CI runs it: real dumps from the lab (built when the cache is empty),
# the peer tools (crash, drgn) they are compared against, then format, lint and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

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
