#!/usr/bin/env bash
# kdive's main job on a real dump it makes itself: build kdive, make (or reuse) the lab's
# module-race crash dump of Debian's 6.1 kernel — the seed's alx bug reproduced — and open it.
# By default it prints the system header and the root-cause report (`triage`); extra arguments
# are kdive commands to run instead.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }
bash lab/lab.sh ensure
cargo build --release -p kdive-cli
dir=$(bash lab/lab.sh path 6.1 module-race)
vmlinux=$(sed -n 's/^vmlinux=//p' "$dir/MANIFEST")
cmds=("$@")
[ ${#cmds[@]} -gt 0 ] || cmds=(sys triage)
args=()
for c in "${cmds[@]}"; do args+=(-c "$c"); done
echo "+ kdive $vmlinux $dir/kdump-zlib-d31 ${args[*]}"
exec ./target/release/kdive "$vmlinux" "$dir/kdump-zlib-d31" "${args[@]}"
