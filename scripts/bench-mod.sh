#!/bin/sh
# mod -S: kdive vs crash finding and loading the loaded modules' debug info in a directory that
# holds the lab module and every Debian module debug file of the kernel (the -dbg deb's
# usr/lib/debug/lib/modules tree, extracted once to a temp dir). One run each: wall time, peak RSS.
# Usage: scripts/bench-mod.sh [CAPTURE_DIR] [DUMP]
#   KDIVE=path/to/kdive (default: target/release/kdive if built, else target/debug/kdive)
#   CRASH=crash binary (default: crash, 8.0.2; crash 8.0.2 cannot open 6.12 dumps)
set -eu
cap=${1:-$HOME/.cache/kdive/lab/6.1.0-56-cloud-amd64/module-race}
dump=${2:-vmcore.elf}
vmlinux=$(sed -n 's/^vmlinux=//p' "$cap/MANIFEST")
release=$(sed -n 's/^release=//p' "$cap/MANIFEST")
here=$(cd "$(dirname "$0")/.." && pwd)
kdive=${KDIVE:-$here/target/release/kdive}
[ -x "$kdive" ] || kdive=$here/target/debug/kdive
crash=${CRASH:-crash}
deb=$(ls "$HOME"/.cache/kdive/debs/linux-image-"$release"-dbg_*.deb 2>/dev/null | head -1)
tree=${TMPDIR:-/tmp}/kdive-bench-mod-$release
if [ ! -d "$tree/usr/lib/debug/lib/modules" ]; then
	[ -n "$deb" ] || { echo "no linux-image-$release-dbg deb in ~/.cache/kdive/debs"; exit 1; }
	mkdir -p "$tree"
	echo "extracting modules from $deb ..."
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tree" --wildcards './usr/lib/debug/lib/modules/*'
fi
dir=$tree/usr/lib/debug/lib/modules/$release
cp "$cap/kdive_race.ko" "$dir/kdive_race.ko"
echo "dump: $cap/$dump"
echo "search dir: $dir ($(find "$dir" -name '*.ko' | wc -l) .ko files, $(du -sh "$dir" | cut -f1))"
echo "kdive: $kdive"
KDIVE_NO_MODULE_AUTOLOAD=1 "$kdive" "$vmlinux" "$cap/$dump" -c "mod -S $dir" | sed 's/^/  kdive> /'
KDIVE_NO_MODULE_AUTOLOAD=1 /usr/bin/time -f "kdive open+mod -S: %e s  %M KB" \
	"$kdive" "$vmlinux" "$cap/$dump" -c "mod -S $dir" >/dev/null
KDIVE_NO_MODULE_AUTOLOAD=1 /usr/bin/time -f "kdive open only:   %e s  %M KB" \
	"$kdive" "$vmlinux" "$cap/$dump" -c "sys" >/dev/null
if command -v "$crash" >/dev/null 2>&1; then
	printf 'mod -S %s\n' "$dir" | "$crash" -s "$vmlinux" "$cap/$dump" 2>&1 | grep -v '^WARNING\|^$' | sed 's/^/  crash> /' || true
	printf 'mod -S %s\n' "$dir" >/tmp/kdive-bench-mod.$$
	/usr/bin/time -o /tmp/kdive-bench-mod-time.$$ -f "crash open+mod -S: %e s  %M KB" \
		"$crash" -s "$vmlinux" "$cap/$dump" </tmp/kdive-bench-mod.$$ >/dev/null 2>&1 || true
	cat /tmp/kdive-bench-mod-time.$$
	printf 'mod\n' >/tmp/kdive-bench-mod.$$
	/usr/bin/time -o /tmp/kdive-bench-mod-time.$$ -f "crash open only:   %e s  %M KB" \
		"$crash" -s "$vmlinux" "$cap/$dump" </tmp/kdive-bench-mod.$$ >/dev/null 2>&1 || true
	cat /tmp/kdive-bench-mod-time.$$
	rm -f /tmp/kdive-bench-mod.$$ /tmp/kdive-bench-mod-time.$$
else
	echo "crash not found ($crash)"
fi
