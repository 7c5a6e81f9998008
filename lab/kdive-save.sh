# shellcheck shell=bash
# Opt-in capture path: `kdive save` inside the capture kernel instead of dd/makedumpfile.
# Sourced by lab/lab.sh (`lab/lab.sh kdive-save [KERNEL [SCENARIO]]`), which provides log, die,
# resolve_kernel_arg, run_kdump's helpers (qemu_base), $LAB, $LAB_SRC, $LOGS, $GUEST_MEM_MB, ...
#
# For each capture <release>/<scenario> already made by `lab.sh ensure`, boots the scenario again
# with a capture initramfs that also holds the `kdive-save` binary (statically linked when the
# x86_64-unknown-linux-musl target is installed, else the dynamic binary plus the libraries `ldd`
# names), whose /init then runs `kdive-save -d 31 --flat /proc/vmcore -` onto the raw disk.
# The host rearranges the stream (makedumpfile -R) into <capture>/kdive-save-zstd-d31 and adds it
# to the capture's MANIFEST.

KDIVE_SAVE_FILE=kdive-save-zstd-d31

# Builds kdive-save; prints "PATH static|dynamic".
kdive_save_binary() {
	local root=$LAB_SRC/.. musl=x86_64-unknown-linux-musl
	if rustup target list --installed 2>/dev/null | grep -qx "$musl"; then
		(cd "$root" && cargo build --release -q -p kdive-save --bin kdive-save --target "$musl") >&2 &&
			{ echo "$root/target/$musl/release/kdive-save static"; return; }
		log "  musl build failed; using the dynamic binary"
	fi
	(cd "$root" && cargo build --release -q -p kdive-save --bin kdive-save) >&2 ||
		die "cargo build -p kdive-save failed"
	echo "$root/target/release/kdive-save dynamic"
}

# initrd-main with kdive-save in its capture initramfs (and the current guest/init in both).
kdive_save_initrd() {
	local rel=$1 bin=$2 kind=$3 k=$LAB/kernels/$1 w c lib
	w=$(mktemp -d "$LAB/kdive-save-initrd.XXXXXX")
	mkdir -p "$w/main" "$w/cap"
	(cd "$w/main" && zcat "$k/initrd-main.cpio.gz" | cpio -idm --quiet)
	(cd "$w/cap" && zcat "$w/main/boot/capture.cpio.gz" | cpio -idm --quiet)
	for c in "$w/main" "$w/cap"; do cp "$LAB_SRC/guest/init" "$c/init" && chmod 755 "$c/init"; done
	# Without debug info: the capture kernel unpacks the initramfs into its 256M.
	strip -o "$w/cap/bin/kdive-save" "$bin" 2>/dev/null || cp "$bin" "$w/cap/bin/kdive-save"
	if [ "$kind" = dynamic ]; then
		for lib in $(ldd "$bin" | grep -oE '/[^ ]+'); do
			mkdir -p "$w/cap$(dirname "$lib")"
			cp -L "$lib" "$w/cap$lib"
		done
	fi
	(cd "$w/cap" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) >"$w/main/boot/capture.cpio.gz"
	(cd "$w/main" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) >"$k/initrd-main-kdive-save.cpio.gz"
	rm -rf "$w"
	echo "$k/initrd-main-kdive-save.cpio.gz"
}

kdive_save_capture() {
	local rel=$1 scn=$2 initrd=$3 kind=$4 dir=$LAB/$1/$2 k=$LAB/kernels/$1 raw out rc=0 t=$SECONDS
	[ -f "$dir/MANIFEST" ] || die "no capture $rel/$scn (run lab/lab.sh ensure first)"
	raw=$(mktemp "$LAB/kdive-save-raw.XXXXXX")
	truncate -s $((GUEST_MEM_MB + 128))M "$raw"
	out=$dir/console-kdive-save.log
	# shellcheck disable=SC2046
	timeout -s KILL "$QEMU_TIMEOUT" qemu-system-x86_64 $(qemu_base) \
		-serial "file:$out" -kernel "$k/vmlinuz" -initrd "$initrd" \
		-append "console=ttyS0 crashkernel=$CRASHKERNEL oops=panic panic=5 kdive.scenario=$scn kdive.dump=kexec" \
		-drive "file=$raw,format=raw,if=virtio,cache=unsafe" \
		>"$LOGS/qemu-$rel-$scn-kdive-save.log" 2>&1 || rc=$?
	if ! grep -q 'KDIVE: kdive-save-rc=0' "$out"; then
		rm -f "$raw"
		die "$rel/$scn: kdive save in the capture kernel failed (qemu rc=$rc; see $out)"
	fi
	rm -f "$dir/$KDIVE_SAVE_FILE"
	# Peer outputs recorded for the previous file describe another boot: drop them (the next
	# `lab.sh peers --missing` records them again for this file).
	rm -f "$dir/peers/"*".$KDIVE_SAVE_FILE.txt" "$dir/peers/"*"-$KDIVE_SAVE_FILE.json"
	makedumpfile -R "$dir/$KDIVE_SAVE_FILE" <"$raw" >>"$LOGS/makedumpfile.log" 2>&1 ||
		{ rm -f "$raw"; die "$rel/$scn: makedumpfile -R of kdive save's stream failed"; }
	rm -f "$raw"
	sed -i "/^format\.$KDIVE_SAVE_FILE=/d; /^size\.$KDIVE_SAVE_FILE=/d; /^seconds\.kdive_save_boot=/d" "$dir/MANIFEST"
	{
		echo "format.$KDIVE_SAVE_FILE=kdump-compressed zstd dump_level=31 (kdive save in the capture kernel, $kind binary; separate boot)"
		echo "size.$KDIVE_SAVE_FILE=$(stat -c %s "$dir/$KDIVE_SAVE_FILE")"
		echo "seconds.kdive_save_boot=$((SECONDS - t))"
	} >>"$dir/MANIFEST"
	log "  $rel/$scn: $KDIVE_SAVE_FILE $(stat -c %s "$dir/$KDIVE_SAVE_FILE") bytes in $((SECONDS - t))s ($(grep -a 'KDIVE: kdive-save' "$out" | tail -1))"
}

# `lab.sh kdive-save bench-2g [KERNEL]`: a full ELF vmcore of a 2 GiB guest (sysrq), for
# scripts/bench-save.sh (DUMP=...); prints its path. Not part of the test set.
kdive_save_bench_2g() {
	local rel out
	rel=$(resolve_kernel_arg "${1:-6.1}")
	out=$LAB/bench-2g/$rel/sysrq
	if [ ! -f "$out/vmcore.elf" ]; then
		mkdir -p "$out"
		GUEST_MEM_MB=2048 run_kdump "$rel" sysrq "$out" || die "2 GiB kdump boot failed (see $out/console.log)"
	fi
	echo "$out/vmcore.elf"
}

cmd_kdive_save() {
	if [ "${1:-}" = bench-2g ]; then
		shift
		kdive_save_bench_2g "$@"
		return
	fi
	local kernels=("${1:-6.1}") scn=${2:-sysrq} rel s bin kind initrd
	[ "${1:-}" = all ] && kernels=(6.1 6.12)
	read -r bin kind < <(kdive_save_binary)
	log "kdive-save binary: $bin ($kind)"
	for s in "${kernels[@]}"; do
		rel=$(resolve_kernel_arg "$s")
		initrd=$(kdive_save_initrd "$rel" "$bin" "$kind")
		kdive_save_capture "$rel" "$scn" "$initrd" "$kind"
	done
}
