#!/usr/bin/env bash
# kdive lab: real Linux kernel crash dumps made under QEMU (TCG), plus peer tools' reference outputs.
#
#   lab/lab.sh ensure [--peers] [--scale]  build whatever is missing (fast no-op when complete);
#                                          --peers: also the peer outputs of captures that lack them
#                                          --scale: also the opt-in 6.1 `scale` capture (3000 tasks)
#   lab/lab.sh build [--kernel 6.1|6.12|all] [--scenario NAME|all]   force (re)build (all: not scale)
#                                          NAME: sysrq module-race hung busy stack-end uaf scale
#   lab/lab.sh path KERNEL SCENARIO        print a capture's directory (KERNEL: 6.1, 6.12 or a release)
#   lab/lab.sh list                        every dump file with its format
#   lab/lab.sh peers                       install crash/drgn and write their outputs into each capture
#   lab/lab.sh kdive-save [6.1|6.12|all] [SCENARIO]   opt-in: capture again with `kdive save` in the
#                                          capture kernel (<capture>/kdive-save-zstd-d31)
#
# Cache: ${KDIVE_LAB_DIR:-~/.cache/kdive/lab}; see lab/README.md for the layout.
set -euo pipefail

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KDIVE_CACHE=${KDIVE_CACHE:-$HOME/.cache/kdive}
LAB=${KDIVE_LAB_DIR:-$KDIVE_CACHE/lab}
DEBS=$KDIVE_CACHE/debs
TRIXIE_APT=$KDIVE_CACHE/apt-trixie
TRIXIE_ROOT=$KDIVE_CACHE/peers/trixie-root
KBUILD=$KDIVE_CACHE/kbuild
PEERS=$KDIVE_CACHE/peers
LOGS=$LAB/log

ALL_SERIES=(6.1 6.12)
ALL_SCENARIOS=(sysrq module-race hung busy stack-end uaf)
# Opt-in scenarios: never built by a plain `ensure` or `build --scenario all`.
# scale: 2 GiB guest with SCALE_TASKS sleeping processes (issue 5's foreach-bt benchmark); only
# kdump-zlib-d31 is derived, no QEMU dumps, no peers.
OPT_SCENARIOS=(scale)
# busy: swap in use (BUSY_SWAP_KB pushed out to a swap disk), a thread group, TCP/UDP/UNIX sockets,
# direct I/O in flight on a QEMU-throttled disk; dmesg.txt and kdump-zlib-d31 only, no QEMU dumps/peers.
BUSY_SWAP_KB=16384
# stack-end: a shell's stack-end canary smashed by the test module, then the scheduler's
# stack-end check panics; dmesg.txt and kdump-zlib-d31 only, no QEMU dumps/peers (like busy).
# uaf: module-race's reset/remove race as a use after free (napis freed, qnapi[] left dangling),
# slub_debug=FZPU on the crashing kernel: the kworker faults on the 0x6b poison; files as stack-end.
SCALE_SERIES=(6.1)
SCALE_TASKS=${KDIVE_LAB_SCALE_TASKS:-3000}
GUEST_MEM_MB=1024
GUEST_SMP=2
CRASHKERNEL=256M
QEMU_TIMEOUT=${KDIVE_LAB_QEMU_TIMEOUT:-180}
# Modules the initramfs loads, in dependency order, when the kernel has them as modules.
VIRTIO_MODULES=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk)
# Trixie packages unpacked (never installed) into $TRIXIE_ROOT: their glibc runs trixie's
# kbuild helpers, makedumpfile 1.7.6 and crash 8.0.6.
TRIXIE_RUNTIME=(libc6 libelf1t64 libdw1t64 zlib1g libzstd1 liblzo2-2 libbz2-1.0 liblzma5 libgcc-s1
	libstdc++6 libncursesw6 libtinfo6 libsnappy1v5 makedumpfile crash)

log() { printf '[lab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[lab %s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }

# ---------------------------------------------------------------- host packages and apt

# "once" per lab.sh run, also across $(...) subshells: a stamp file keyed by the top-level PID.
RUN_STAMP=${TMPDIR:-/tmp}/kdive-lab.$$
trap 'rm -f "$RUN_STAMP".*' EXIT
apt_update_once() {
	[ -e "$RUN_STAMP.apt" ] && return 0
	log "apt-get update"
	apt-get update -qq >"$LOGS/apt-update.log" 2>&1 || die "apt-get update failed (see $LOGS/apt-update.log)"
	touch "$RUN_STAMP.apt"
}

host_setup() {
	local missing=()
	command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
	[ -x /sbin/kexec ] || missing+=(kexec-tools)
	command -v makedumpfile >/dev/null || missing+=(makedumpfile)
	{ [ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q 'statically linked'; } ||
		missing+=(busybox-static)
	command -v file >/dev/null || missing+=(file)
	command -v cpio >/dev/null || missing+=(cpio)
	command -v gzip >/dev/null || missing+=(gzip)
	command -v xz >/dev/null || missing+=(xz-utils)
	command -v zstd >/dev/null || missing+=(zstd)
	command -v python3 >/dev/null || missing+=(python3)
	command -v x86_64-linux-gnu-gcc-12 >/dev/null || missing+=(gcc-12)
	[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || missing+=(libc6-dev) # static kdive-busy
	command -v make >/dev/null || missing+=(make)
	command -v objdump >/dev/null || missing+=(binutils)
	command -v bc >/dev/null || missing+=(bc)
	[ -e /usr/lib/x86_64-linux-gnu/libelf.so.1 ] || missing+=(libelf1)
	((${#missing[@]})) || return 0
	# `file` decides whether busybox is static: install it first if absent.
	log "installing host packages: ${missing[*]}"
	apt_update_once
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
		>"$LOGS/apt-install.log" 2>&1 || die "apt-get install ${missing[*]} failed (see $LOGS/apt-install.log)"
	command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 still missing"
}

# apt with a private source list for Debian trixie: the machine's own apt set-up is never touched.
tapt_opts() {
	echo -o "Dir::Etc::sourcelist=$TRIXIE_APT/sources.list" -o Dir::Etc::sourceparts=/nonexistent \
		-o "Dir::State::Lists=$TRIXIE_APT/lists" -o "Dir::Cache=$TRIXIE_APT/cache"
}
tapt_update_once() {
	[ -e "$RUN_STAMP.tapt" ] && return 0
	mkdir -p "$TRIXIE_APT/lists/partial" "$TRIXIE_APT/cache/archives/partial"
	local kr=/usr/share/keyrings/debian-archive-keyring.gpg
	cat >"$TRIXIE_APT/sources.list" <<-EOF
		deb [signed-by=$kr] http://deb.debian.org/debian trixie main
		deb [signed-by=$kr] http://deb.debian.org/debian trixie-updates main
		deb [signed-by=$kr] http://deb.debian.org/debian-security trixie-security main
	EOF
	log "apt-get update (private trixie list)"
	# shellcheck disable=SC2046
	apt-get $(tapt_opts) update -qq >"$LOGS/apt-trixie-update.log" 2>&1 ||
		die "trixie apt-get update failed (see $LOGS/apt-trixie-update.log)"
	touch "$RUN_STAMP.tapt"
}

# deb_get SUITE PKG...: download into $DEBS (SUITE bookworm|trixie) unless already there.
deb_get() {
	local suite=$1 p want=()
	shift
	mkdir -p "$DEBS"
	for p in "$@"; do deb_path "$p" >/dev/null 2>&1 || want+=("$p"); done
	((${#want[@]})) || return 0
	log "downloading ($suite): ${want[*]}"
	if [ "$suite" = trixie ]; then
		tapt_update_once
		# shellcheck disable=SC2046
		(cd "$DEBS" && apt-get $(tapt_opts) download "${want[@]}") >>"$LOGS/apt-download.log" 2>&1
	else
		apt_update_once
		(cd "$DEBS" && apt-get download "${want[@]}") >>"$LOGS/apt-download.log" 2>&1
	fi || die "apt-get download ${want[*]} failed (see $LOGS/apt-download.log)"
}
deb_path() { # newest $DEBS/PKG_*.deb
	local f
	f=$(ls "$DEBS/$1"_*.deb 2>/dev/null | sort -V | tail -1)
	[ -n "$f" ] || return 1
	echo "$f"
}

# ---------------------------------------------------------------- kernels

series_file() { echo "$LAB/kernels/series-$1"; }

discover_release() { # SERIES -> newest release that has a -dbg package
	local s=$1 re out
	case $s in
	6.1)
		re='^linux-image-6\.1\.0-[0-9]+-cloud-amd64-dbg$'
		apt_update_once
		out=$(apt-cache search --names-only "$re")
		;;
	6.12)
		re='^linux-image-6\.12\.[0-9]+\+deb13(\.[0-9]+)?-cloud-amd64-dbg$'
		tapt_update_once
		# shellcheck disable=SC2046
		out=$(apt-cache $(tapt_opts) search --names-only "$re")
		;;
	*) die "unknown kernel series $s (want 6.1 or 6.12)" ;;
	esac
	out=$(awk '{print $1}' <<<"$out" | sed 's/^linux-image-//; s/-dbg$//' | sort -V | tail -1)
	[ -n "$out" ] || die "no linux-image-*-cloud-amd64-dbg found for $s"
	echo "$out"
}

# release_of SERIES: the cached release, discovered from apt the first time.
release_of() {
	local s=$1 f
	f=$(series_file "$s")
	if [ ! -s "$f" ]; then
		mkdir -p "$LAB/kernels"
		discover_release "$s" >"$f.tmp"
		mv "$f.tmp" "$f"
		log "kernel series $s -> $(cat "$f")"
	fi
	cat "$f"
}

series_of_release() { case $1 in 6.1.*) echo 6.1 ;; 6.12.*) echo 6.12 ;; *) die "unknown release $1" ;; esac; }
suite_of_series() { case $1 in 6.1) echo bookworm ;; 6.12) echo trixie ;; esac; }

kernel_packages() { # RELEASE -> image, dbg, headers, headers-common, kbuild
	local rel=$1 abi=${1%-cloud-amd64}
	case $(series_of_release "$rel") in
	6.1) echo "linux-image-$rel linux-image-$rel-dbg linux-headers-$rel linux-headers-$abi-common linux-kbuild-6.1" ;;
	6.12) echo "linux-image-$rel linux-image-$rel-dbg linux-headers-$rel linux-headers-$abi-common linux-kbuild-$abi" ;;
	esac
}

# kernels/<release>/: vmlinux (debug), vmlinuz, System.map, config, modules/
ensure_kernel() {
	local rel=$1 s k tmp img dbg m path t0=$SECONDS
	s=$(series_of_release "$rel")
	k=$LAB/kernels/$rel
	[ -f "$k/.complete" ] && return 0
	# shellcheck disable=SC2046
	deb_get "$(suite_of_series "$s")" $(kernel_packages "$rel")
	img=$(deb_path "linux-image-$rel") || die "missing linux-image-$rel deb"
	dbg=$(deb_path "linux-image-$rel-dbg") || die "missing linux-image-$rel-dbg deb"
	log "extracting kernel $rel"
	tmp=$k.tmp
	rm -rf "$tmp"
	mkdir -p "$tmp/x" "$tmp/modules"
	dpkg-deb --fsys-tarfile "$img" | tar -x -C "$tmp/x" ./boot
	mv "$tmp/x/boot/vmlinuz-$rel" "$tmp/vmlinuz"
	mv "$tmp/x/boot/System.map-$rel" "$tmp/System.map"
	mv "$tmp/x/boot/config-$rel" "$tmp/config"
	dpkg-deb --fsys-tarfile "$img" | tar -t >"$tmp/x/list"
	: >"$tmp/modules/order"
	for m in "${VIRTIO_MODULES[@]}" qemu_fw_cfg; do
		path=$(grep -E "/$m\.ko(\.xz|\.zst)?\$" "$tmp/x/list" | head -1) || true
		if [ -z "$path" ]; then
			log "  $m: built in (or absent) in $rel"
			continue
		fi
		dpkg-deb --fsys-tarfile "$img" | tar -x -C "$tmp/x" "$path"
		case $path in
		*.xz) xz -dc "$tmp/x/$path" >"$tmp/modules/$m.ko" ;;
		*.zst) zstd -qdc "$tmp/x/$path" >"$tmp/modules/$m.ko" ;;
		*) cp "$tmp/x/$path" "$tmp/modules/$m.ko" ;;
		esac
		[ "$m" = qemu_fw_cfg ] || echo "$m" >>"$tmp/modules/order"
	done
	dpkg-deb --fsys-tarfile "$dbg" | tar -x -C "$tmp/x" --wildcards './usr/lib/debug/boot/*'
	mv "$tmp/x/usr/lib/debug/boot/vmlinux-$rel" "$tmp/vmlinux"
	rm -rf "$tmp/x"
	{
		echo "release=$rel"
		echo "series=$s"
		echo "image_deb=$(basename "$img")"
		echo "dbg_deb=$(basename "$dbg")"
	} >"$tmp/KERNEL"
	touch "$tmp/.complete"
	rm -rf "$k"
	mv "$tmp" "$k"
	log "kernel $rel ready in $((SECONDS - t0))s"
}

# ---------------------------------------------------------------- trixie runtime (glibc 2.41 & co.)

trixie_ldso() { echo "$TRIXIE_ROOT/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"; }
ensure_trixie_root() {
	[ -f "$TRIXIE_ROOT/.complete" ] && return 0
	deb_get trixie "${TRIXIE_RUNTIME[@]}"
	log "unpacking trixie runtime into $TRIXIE_ROOT"
	rm -rf "$TRIXIE_ROOT.tmp"
	mkdir -p "$TRIXIE_ROOT.tmp"
	local p
	for p in "${TRIXIE_RUNTIME[@]}"; do
		dpkg-deb -x "$(deb_path "$p")" "$TRIXIE_ROOT.tmp"
	done
	touch "$TRIXIE_ROOT.tmp/.complete"
	rm -rf "$TRIXIE_ROOT"
	mv "$TRIXIE_ROOT.tmp" "$TRIXIE_ROOT"
}
# trixie_run PROG ARGS...: run a trixie binary through trixie's own loader and libraries.
trixie_run() {
	local lib=$TRIXIE_ROOT/usr/lib/x86_64-linux-gnu
	"$(trixie_ldso)" --library-path "$lib" "$@"
}

# ---------------------------------------------------------------- the test module

host_glibc() { ldd --version | head -1 | grep -oE '[0-9]+\.[0-9]+$'; }

# A private, unpacked copy of the release's kbuild tree (headers + kbuild), usable by gcc-12 here.
ensure_kbuild() {
	local rel=$1 abi=${1%-cloud-amd64} root=$KBUILD/$1 p f need hg
	[ -f "$root/.complete" ] && { echo "$root"; return 0; }
	rm -rf "$root.tmp"
	mkdir -p "$root.tmp"
	# shellcheck disable=SC2046
	for p in $(kernel_packages "$rel" | cut -d' ' -f3-); do
		dpkg-deb -x "$(deb_path "$p")" "$root.tmp"
	done
	# The headers' Makefile includes the common tree by absolute path: point it at the final $root.
	sed -i "s|include /usr/src/|include $root/usr/src/|" "$root.tmp/usr/src/linux-headers-$rel/Makefile"
	# Helpers linked against a newer glibc than ours run through trixie's loader.
	hg=$(host_glibc)
	while IFS= read -r f; do
		need=$(objdump -T "$f" 2>/dev/null | grep -oE 'GLIBC_[0-9.]+' | sed 's/GLIBC_//' | sort -uV | tail -1)
		[ -n "$need" ] || continue
		if [ "$(printf '%s\n%s\n' "$need" "$hg" | sort -V | tail -1)" != "$hg" ]; then
			ensure_trixie_root >&2
			mv "$f" "$f.bin"
			printf '#!/bin/sh\nexec %s --library-path %s "$0.bin" "$@"\n' \
				"$(trixie_ldso)" "$TRIXIE_ROOT/usr/lib/x86_64-linux-gnu" >"$f"
			chmod +x "$f"
			log "  kbuild helper $(basename "$f") needs glibc $need: runs via trixie's ld.so" >&2
		fi
	done < <(find "$root.tmp/usr/lib" -type f -perm -u+x -exec sh -c 'head -c4 "$1" | grep -q ELF && echo "$1"' _ {} \;)
	mv "$root.tmp" "$root"
	touch "$root/.complete"
	echo "$root"
}

# kernels/<release>/kdive_race.ko
ensure_module() {
	local rel=$1 k=$LAB/kernels/$1 root hdr src out rc=0 key
	# rebuilt when the module's source or this function (its flags) change
	key=$( (cat "$LAB_SRC"/modules/kdive_race/*; declare -f ensure_module) | sha256sum | cut -c1-16)
	[ -f "$k/kdive_race.ko" ] && [ "$(cat "$k/kdive_race.ko.key" 2>/dev/null)" = "$key" ] && return 0
	root=$(ensure_kbuild "$rel")
	hdr=$root/usr/src/linux-headers-$rel
	src=$KBUILD/$rel-kdive_race
	rm -rf "$src"
	cp -r "$LAB_SRC/modules/kdive_race" "$src"
	log "building kdive_race.ko for $rel"
	# gcc-12 builds both kernels' modules. 6.12 was built with gcc-14: its config turns on
	# -fmin-function-alignment (gcc 14 only), so fall back to -falign-functions; module BTF needs pahole.
	make -C "$hdr" M="$src" CC=x86_64-linux-gnu-gcc-12 CONFIG_CC_HAS_MIN_FUNCTION_ALIGNMENT= \
		CONFIG_DEBUG_INFO_BTF_MODULES= \
		KCFLAGS="-ffile-prefix-map=$src=/usr/src/kdive_race -ffile-prefix-map=$root/usr/src=/usr/src" \
		modules >"$LOGS/module-$rel.log" 2>&1 || rc=$?
	out=$src/kdive_race.ko
	[ "$rc" = 0 ] && [ -f "$out" ] || die "kdive_race.ko build for $rel failed (see $LOGS/module-$rel.log)"
	cp "$out" "$k/kdive_race.ko.tmp"
	mv "$k/kdive_race.ko.tmp" "$k/kdive_race.ko"
	echo "$key" >"$k/kdive_race.ko.key"
}

# ---------------------------------------------------------------- the busy scenario's helper

# $LAB/tools/kdive-busy: lab/guest/kdive-busy.c, static (the initramfs has no libc); rebuilt when
# its source or this function change.
ensure_busy_tool() {
	local t=$LAB/tools key
	key=$( (cat "$LAB_SRC/guest/kdive-busy.c"; declare -f ensure_busy_tool) | sha256sum | cut -c1-16)
	[ -x "$t/kdive-busy" ] && [ "$(cat "$t/kdive-busy.key" 2>/dev/null)" = "$key" ] && return 0
	mkdir -p "$t"
	log "building kdive-busy"
	x86_64-linux-gnu-gcc-12 -static -O2 -Wall -pthread -o "$t/kdive-busy.tmp" "$LAB_SRC/guest/kdive-busy.c" \
		>"$LOGS/kdive-busy.log" 2>&1 || die "kdive-busy build failed (see $LOGS/kdive-busy.log)"
	mv "$t/kdive-busy.tmp" "$t/kdive-busy"
	echo "$key" >"$t/kdive-busy.key"
}

# ---------------------------------------------------------------- initramfs

# kernels/<release>/initrd-capture.cpio.gz and initrd-main.cpio.gz
build_initramfs() {
	local rel=$1 k=$LAB/kernels/$1 w a lib
	w=$k/initramfs.tmp
	rm -rf "$w"
	mkdir -p "$w"/{bin,proc,sys,dev,tmp,run,boot,etc,lib/modules}
	cp /bin/busybox "$w/bin/busybox"
	for a in $("$w/bin/busybox" --list); do
		[ -e "$w/bin/$a" ] || ln -s busybox "$w/bin/$a"
	done
	cp "$LAB_SRC/guest/init" "$w/init"
	chmod 755 "$w/init"
	cp "$k"/modules/*.ko "$k/modules/order" "$w/lib/modules/" 2>/dev/null || true
	rm -f "$w/lib/modules/qemu_fw_cfg.ko"
	(cd "$w" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) >"$k/initrd-capture.cpio.gz"
	# The crashing kernel also needs kexec, the capture kernel+initrd, qemu_fw_cfg and the test module.
	mkdir -p "$w/sbin"
	cp /sbin/kexec "$w/bin/kexec"
	for lib in $(ldd /sbin/kexec | grep -oE '/[^ ]+'); do
		mkdir -p "$w$(dirname "$lib")"
		cp -L "$lib" "$w$lib"
	done
	cp "$k/vmlinuz" "$w/boot/vmlinuz"
	cp "$k/initrd-capture.cpio.gz" "$w/boot/capture.cpio.gz"
	[ -f "$k/modules/qemu_fw_cfg.ko" ] && cp "$k/modules/qemu_fw_cfg.ko" "$w/lib/modules/"
	[ -f "$k/kdive_race.ko" ] && cp "$k/kdive_race.ko" "$w/lib/modules/"
	cp "$LAB/tools/kdive-busy" "$w/bin/kdive-busy"
	(cd "$w" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) >"$k/initrd-main.cpio.gz"
	rm -rf "$w"
}

# ---------------------------------------------------------------- captures

panic_pattern() { # SCENARIO -> text that the dump's own log must hold
	case $1 in
	sysrq | scale | busy) echo 'Kernel panic - not syncing: sysrq triggered crash' ;;
	module-race) echo 'BUG: kernel NULL pointer dereference' ;;
	hung) echo 'Kernel panic - not syncing: hung_task: blocked tasks' ;;
	stack-end) echo 'Kernel panic - not syncing: corrupted stack end detected inside scheduler' ;;
	uaf) echo 'general protection fault, probably for non-canonical address 0x6b6b6b6b6b6b' ;;
	esac
}

qemu_base() { # common QEMU arguments
	echo -machine pc -accel tcg -m "$GUEST_MEM_MB" -smp "$GUEST_SMP" -nodefaults -no-reboot -display none
}

# kdump boot: the crashing kernel kexecs the capture kernel, which dd's /proc/vmcore to a raw disk.
run_kdump() {
	local rel=$1 scn=$2 out=$3 k=$LAB/kernels/$1 raw size rc=0 extra=
	raw=$out/vmcore.raw
	local disks=(-drive "file=$raw,format=raw,if=virtio,cache=unsafe")
	[ "$scn" = scale ] && extra=" kdive.tasks=$SCALE_TASKS"
	# uaf: poison freed objects (0x6b) and record every object's alloc/free call sites
	if [ "$scn" = uaf ]; then extra+=" slub_debug=FZPU"; fi
	rm -f "$raw" "$out/vmcore.elf"
	truncate -s $((GUEST_MEM_MB + 128))M "$raw"
	if [ "$scn" = busy ]; then
		# After the vmcore disk (vda, written by the capture kernel): vdb swap, vdc direct I/O that
		# QEMU holds back (2 requests a second), so requests are in flight at the crash. Serials let
		# both kernels check the order (the capture kernel: vda is kdive-vmcore; init: before mkswap).
		extra+=" kdive.swapkb=$BUSY_SWAP_KB"
		rm -f "$out/swap.raw" "$out/io.raw"
		truncate -s 64M "$out/swap.raw"
		truncate -s 16M "$out/io.raw"
		disks=(-drive "id=vmcore,file=$raw,format=raw,if=none,cache=unsafe"
			-device virtio-blk-pci,drive=vmcore,serial=kdive-vmcore
			-drive "id=swap,file=$out/swap.raw,format=raw,if=none,cache=unsafe"
			-device virtio-blk-pci,drive=swap,serial=kdive-swap
			-drive "id=io,file=$out/io.raw,format=raw,if=none,cache=unsafe,throttling.iops-total=2"
			-device virtio-blk-pci,drive=io,serial=kdive-io)
	fi
	: >"$out/console.log"
	# shellcheck disable=SC2046
	timeout -s KILL "$QEMU_TIMEOUT" qemu-system-x86_64 $(qemu_base) \
		-serial "file:$out/console.log" -kernel "$k/vmlinuz" -initrd "$k/initrd-main.cpio.gz" \
		-append "console=ttyS0 crashkernel=$CRASHKERNEL oops=panic panic=5 kdive.scenario=$scn kdive.dump=kexec$extra" \
		"${disks[@]}" \
		>"$LOGS/qemu-$rel-$scn-kdump.log" 2>&1 || rc=$?
	rm -f "$out/swap.raw" "$out/io.raw"
	[ "$rc" = 137 ] && log "  QEMU killed after ${QEMU_TIMEOUT}s"
	if grep -q 'KDIVE: FAIL' "$out/console.log"; then
		log "  guest: $(grep -a 'KDIVE: FAIL' "$out/console.log" | head -1)"
		return 1
	fi
	size=$(sed -n 's/.*KDIVE: vmcore-size=\([0-9]*\) dd-rc=0.*/\1/p' "$out/console.log" | tail -1)
	if [ -z "$size" ]; then
		log "  no completed vmcore copy on the console (qemu rc=$rc; see $out/console.log)"
		return 1
	fi
	truncate -s "$size" "$raw"
	mv "$raw" "$out/vmcore.elf"
	[ "$(head -c4 "$out/vmcore.elf" | od -An -c | tr -d ' ')" = '177ELF' ] || {
		log "  vmcore.elf has no ELF magic"
		return 1
	}
}

# QEMU's own dumps of a second boot (no kexec): dump-guest-memory over QMP after the panic.
run_qemu_dumps() {
	local rel=$1 scn=$2 out=$3 k=$LAB/kernels/$1 sockdir rc=0 qpid
	sockdir=$(mktemp -d /tmp/kdive-qmp.XXXXXX)
	: >"$out/console-qemu.log"
	# shellcheck disable=SC2046
	timeout -s KILL "$QEMU_TIMEOUT" qemu-system-x86_64 $(qemu_base) \
		-serial "file:$out/console-qemu.log" -kernel "$k/vmlinuz" -initrd "$k/initrd-main.cpio.gz" \
		-append "console=ttyS0 oops=panic panic=0 kdive.scenario=$scn kdive.dump=qemu" \
		-device vmcoreinfo -qmp "unix:$sockdir/qmp.sock,server=on,wait=off" \
		>"$LOGS/qemu-$rel-$scn-qemudump.log" 2>&1 &
	qpid=$!
	python3 "$LAB_SRC/qmp.py" --socket "$sockdir/qmp.sock" --console "$out/console-qemu.log" \
		--pattern 'Kernel panic - not syncing' --timeout $((QEMU_TIMEOUT - 30)) \
		--dump "elf:$out/qemu.elf" --dump "kdump-zlib:$out/qemu-kdump-zlib" \
		>>"$LOGS/qemu-$rel-$scn-qemudump.log" 2>&1 || rc=$?
	[ "$rc" = 0 ] || kill "$qpid" 2>/dev/null || true
	wait "$qpid" || true
	rm -rf "$sockdir"
	if [ "$rc" != 0 ]; then
		log "  QMP dump failed: $(tail -1 "$LOGS/qemu-$rel-$scn-qemudump.log")"
		return 1
	fi
	grep -q "$(panic_pattern "$scn")" "$out/console-qemu.log" || {
		log "  QEMU-dump boot: no '$(panic_pattern "$scn")' on the console"
		return 1
	}
}

# makedumpfile for a release: Debian bookworm's 1.7.2 for 6.1; trixie's 1.7.6 for 6.12 (1.7.2 filters 6.12
# wrongly: its -d 31 output drops pages still in use).
MDF_VERSION=
mdf() {
	if [ "$MDF_SERIES" = 6.12 ]; then
		trixie_run "$TRIXIE_ROOT/usr/bin/makedumpfile" "$@"
	else
		makedumpfile "$@"
	fi
}

# Scenarios kept as vmcore.elf, dmesg.txt and kdump-zlib-d31 only: no other formats, no QEMU
# dumps, no peers/ (scale: the benchmark; busy, stack-end, uaf: lab tests that run crash themselves).
reduced_scenario() {
	case $1 in scale | busy | stack-end | uaf) return 0 ;; *) return 1 ;; esac
}

convert_dumps() (
	cd "$1"
	rm -f elf-d31 kdump-* flat-zlib-d31 split-zlib-d31.* dmesg.txt
	if reduced_scenario "$2"; then
		# Only what the benchmark (scale) and the lab tests (busy, stack-end, uaf) read: the log (for the panic check) and kdump-zlib-d31.
		{
			mdf --dump-dmesg vmcore.elf dmesg.txt
			mdf -c -d 31 vmcore.elf kdump-zlib-d31
		} >>"$LOGS/makedumpfile.log" 2>&1 || return 1
		[ -s kdump-zlib-d31 ] && [ -s dmesg.txt ] || { log "  makedumpfile left no kdump-zlib-d31/dmesg.txt"; return 1; }
		return 0
	fi
	{
		mdf --dump-dmesg vmcore.elf dmesg.txt
		mdf -E -d 31 vmcore.elf elf-d31
		mdf -c -d 31 vmcore.elf kdump-zlib-d31
		mdf -l -d 31 vmcore.elf kdump-lzo-d31
		mdf -d 31 vmcore.elf kdump-none-d31
		mdf -c -d 0 vmcore.elf kdump-zlib-d0
		mdf -F -c -d 31 vmcore.elf >flat-zlib-d31
		mdf --split -c -d 31 vmcore.elf split-zlib-d31.1 split-zlib-d31.2
		# zstd: only trixie's makedumpfile has it (bookworm's is built without).
		trixie_run "$TRIXIE_ROOT/usr/bin/makedumpfile" -z -d 31 vmcore.elf kdump-zstd-d31 || rm -f kdump-zstd-d31
	} >>"$LOGS/makedumpfile.log" 2>&1 || return 1
	local f
	for f in elf-d31 kdump-zlib-d31 kdump-lzo-d31 kdump-none-d31 kdump-zlib-d0 flat-zlib-d31 split-zlib-d31.1 \
		split-zlib-d31.2 dmesg.txt; do
		[ -s "$f" ] || { log "  makedumpfile left no $f"; return 1; }
	done
)

file_format() { # NAME -> format description written to MANIFEST
	case $1 in
	vmcore.elf) echo "elf64 kdump (full copy of /proc/vmcore)" ;;
	elf-d31) echo "elf64 kdump (makedumpfile -E -d 31)" ;;
	kdump-zlib-d31) echo "kdump-compressed zlib dump_level=31" ;;
	kdump-lzo-d31) echo "kdump-compressed lzo dump_level=31" ;;
	kdump-none-d31) echo "kdump-compressed uncompressed dump_level=31" ;;
	kdump-zlib-d0) echo "kdump-compressed zlib dump_level=0" ;;
	kdump-zstd-d31) echo "kdump-compressed zstd dump_level=31 (trixie makedumpfile 1.7.6)" ;;
	flat-zlib-d31) echo "makedumpfile flattened (-F) kdump-compressed zlib dump_level=31" ;;
	split-zlib-d31.1) echo "kdump-compressed zlib dump_level=31 split part 1 of 2" ;;
	split-zlib-d31.2) echo "kdump-compressed zlib dump_level=31 split part 2 of 2" ;;
	qemu.elf) echo "elf64 qemu dump-guest-memory (separate boot)" ;;
	qemu-kdump-zlib) echo "makedumpfile flattened kdump-compressed zlib, qemu dump-guest-memory (separate boot)" ;;
	esac
}
DUMP_FILES=(vmcore.elf elf-d31 kdump-zlib-d31 kdump-lzo-d31 kdump-none-d31 kdump-zlib-d0 kdump-zstd-d31
	flat-zlib-d31 split-zlib-d31.1 split-zlib-d31.2 qemu.elf qemu-kdump-zlib)

write_manifest() {
	local rel=$1 scn=$2 out=$3 f
	{
		echo "release=$rel"
		echo "series=$(series_of_release "$rel")"
		echo "scenario=$scn"
		echo "vmlinux=$LAB/kernels/$rel/vmlinux"
		echo "system_map=$LAB/kernels/$rel/System.map"
		[ -f "$out/kdive_race.ko" ] && echo "module=$LAB/$rel/$scn/kdive_race.ko" # where it is once complete
		echo "guest_memory_mb=$GUEST_MEM_MB"
		echo "smp=$GUEST_SMP"
		echo "crashkernel=$CRASHKERNEL"
		echo "accel=tcg"
		echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "qemu_version=$(qemu-system-x86_64 --version | head -1)"
		echo "makedumpfile=$MDF_VERSION"
		echo "makedumpfile_zstd=trixie $(trixie_run "$TRIXIE_ROOT/usr/bin/makedumpfile" -v 2>&1 | head -1)"
		echo "panic=$(panic_pattern "$scn")"
		[ -z "$(scenario_key "$scn")" ] || echo "scenario_key=$(scenario_key "$scn")"
		if [ "$scn" = busy ]; then
			# "KDIVE: busy: KEY=VALUE" lines of the crashing kernel's console
			sed -n 's/.*KDIVE: busy: \([a-z_0-9]*=[^ ]*\)$/busy_\1/p' "$out/console.log" | tr -d '\r'
		fi
		if [ "$scn" = stack-end ]; then
			# the test module's own log line (printk: flushed by the panic)
			sed -n 's/.*kdive_race: smashing the stack end of pid \([0-9]*\) .*/stack_end_smash_pid=\1/p' "$out/dmesg.txt" | tail -1
		fi
		if [ "$scn" = scale ]; then
			echo "scale_tasks=$SCALE_TASKS"
			echo "scale_sleep_tasks=$(sed -n 's/.*KDIVE: scale: \([0-9]*\) sleep processes.*/\1/p' "$out/console.log" | tail -1)"
			[ -f "$out/vmcore.elf" ] || echo "note.vmcore_elf=dropped after conversion (disk): only kdump-zlib-d31 kept (vmcore size $(cat "$out/.vmcore-size" 2>/dev/null) bytes)"
		fi
		cat "$out/.timings" 2>/dev/null || true
		for f in "${DUMP_FILES[@]}"; do
			[ -f "$out/$f" ] || continue
			echo "format.$f=$(file_format "$f")"
			echo "size.$f=$(stat -c %s "$out/$f")"
		done
		if [ -f "$out/qemu.elf" ]; then
			echo "note.qemu=qemu.elf and qemu-kdump-zlib come from a second boot of the same scenario (console-qemu.log): other KASLR offset, other addresses"
		fi
	} >"$out/MANIFEST"
}

build_capture() {
	local rel=$1 scn=$2 final=$LAB/$1/$2 out try t
	out=$final.tmp
	MDF_SERIES=$(series_of_release "$rel")
	ensure_trixie_root
	if [ "$MDF_SERIES" = 6.12 ]; then
		MDF_VERSION="trixie $(trixie_run "$TRIXIE_ROOT/usr/bin/makedumpfile" -v 2>&1 | head -1)"
	else
		MDF_VERSION="bookworm $(makedumpfile -v 2>&1 | head -1)"
	fi
	if [ "$scn" = scale ]; then
		# 2 GiB, thousands of forks and a ~1.8 GB dd under TCG: more memory and time.
		GUEST_MEM_MB=2048
		QEMU_TIMEOUT=${KDIVE_LAB_QEMU_TIMEOUT:-900}
	else
		GUEST_MEM_MB=1024
		QEMU_TIMEOUT=${KDIVE_LAB_QEMU_TIMEOUT:-180}
	fi
	log "== capture $rel/$scn"
	rm -rf "$out"
	mkdir -p "$out"
	: >"$out/.timings"
	t=$SECONDS
	for try in 1 2; do
		run_kdump "$rel" "$scn" "$out" && break
		[ "$try" = 2 ] && die "kdump capture $rel/$scn failed twice (console: $out/console.log)"
		log "  kdump boot failed, retrying once"
	done
	echo "seconds.kdump_boot=$((SECONDS - t))" >>"$out/.timings"
	log "  vmcore.elf: $(stat -c %s "$out/vmcore.elf") bytes in $((SECONDS - t))s"
	t=$SECONDS
	convert_dumps "$out" "$scn" || die "makedumpfile conversions failed for $rel/$scn (see $LOGS/makedumpfile.log)"
	echo "seconds.makedumpfile=$((SECONDS - t))" >>"$out/.timings"
	grep -q "$(panic_pattern "$scn")" "$out/dmesg.txt" ||
		die "$rel/$scn: the dump's log has no '$(panic_pattern "$scn")' (see $out/dmesg.txt)"
	if [ "$scn" = module-race ]; then
		grep -q 'kdive_race_reinit_rings' "$out/dmesg.txt" || die "$rel/$scn: the oops is not in kdive_race_reinit_rings"
	fi
	[ "$scn" = busy ] && { busy_accept "$out" || die "$rel/$scn: the guest did not reach the busy state (see $out/console.log)"; }
	if [ "$scn" = stack-end ]; then
		grep -q 'kdive_race: smashing the stack end of pid' "$out/dmesg.txt" || die "$rel/$scn: the module's smash line is not in the dump's log"
	fi
	if [ "$scn" = uaf ]; then
		grep -q 'kdive_race: uaf: freed napi 0 at' "$out/dmesg.txt" || die "$rel/$scn: the module's freed-napi lines are not in the dump's log"
		grep -q 'kdive_race_reinit_rings' "$out/dmesg.txt" || die "$rel/$scn: the fault is not in kdive_race_reinit_rings"
		grep -q 'slub_debug=FZPU' "$out/dmesg.txt" || die "$rel/$scn: no slub_debug=FZPU on the kernel command line"
	fi
	log "  derived formats in $((SECONDS - t))s"
	case $scn in sysrq | scale | busy) ;; *) cp "$LAB/kernels/$rel/kdive_race.ko" "$out/kdive_race.ko" ;; esac
	if [ "$scn" = scale ]; then
		stat -c %s "$out/vmcore.elf" >"$out/.vmcore-size"
		# vmcore.elf (~1.8 GB) is kept only with KDIVE_LAB_SCALE_KEEP_ELF=1 or >= 20 GB free afterwards.
		if [ "${KDIVE_LAB_SCALE_KEEP_ELF:-}" != 1 ] &&
			{ [ "${KDIVE_LAB_SCALE_KEEP_ELF:-}" = 0 ] || (($(df -Pk "$out" | awk 'NR==2{print $4}') < 20 * 1024 * 1024)); }; then
			rm -f "$out/vmcore.elf"
			log "  vmcore.elf dropped (disk)"
		fi
	fi
	if [ "${KDIVE_LAB_SKIP_QEMU_DUMPS:-0}" != 1 ] && ! reduced_scenario "$scn"; then
		t=$SECONDS
		for try in 1 2; do
			run_qemu_dumps "$rel" "$scn" "$out" && break
			rm -f "$out/qemu.elf" "$out/qemu-kdump-zlib"
			[ "$try" = 2 ] && die "QEMU dump-guest-memory for $rel/$scn failed twice"
			log "  QEMU-dump boot failed, retrying once"
		done
		echo "seconds.qemu_dumps=$((SECONDS - t))" >>"$out/.timings"
		log "  qemu.elf, qemu-kdump-zlib in $((SECONDS - t))s"
	fi
	write_manifest "$rel" "$scn" "$out"
	rm -f "$out/.timings" "$out/.vmcore-size"
	rm -rf "$final"
	chmod -R a+rX "$out"
	mv "$out" "$final"
	log "  complete: $final"
}

# busy: the state the crashing kernel's init reported just before the sysrq crash.
busy_accept() {
	local c=$1/console.log v k
	v=$(sed -n 's/.*KDIVE: busy: swap used \([0-9]*\) kB.*/\1/p' "$c" | tail -1)
	[ -n "$v" ] && [ "$v" -gt 0 ] || { log "  busy: no swap in use"; return 1; }
	for k in threads_pid sockets_pid swap_pid ipc_pid ipc_shm_id ipc_sem_id ipc_msg_id nc_listen_pid nc_connect_pid io_inflight; do
		grep -aq "KDIVE: busy: $k=" "$c" || { log "  busy: no $k on the console"; return 1; }
	done
}

scenarios_for() { # RELEASE -> scenarios this lab makes for it
	echo "${ALL_SCENARIOS[@]}"
}

prepare_kernel() {
	local rel=$1
	ensure_kernel "$rel"
	ensure_module "$rel"
	ensure_busy_tool
	build_initramfs "$rel"
}

# A capture is complete once its MANIFEST is written; a busy, stack-end or uaf capture also must have
# been made by the current guest programs (its MANIFEST's scenario_key), so a changed scenario is
# captured anew. (The older scenarios are not keyed: their captures and peer outputs are costly.)
capture_complete() {
	[ -f "$LAB/$1/$2/MANIFEST" ] || return 1
	[ -z "$(scenario_key "$2")" ] || grep -qx "scenario_key=$(scenario_key "$2")" "$LAB/$1/$2/MANIFEST"
}

scenario_key() { # SCENARIO -> what its guest-side programs hash to (busy, stack-end, uaf; else empty)
	case $1 in
	busy) cat "$LAB_SRC/guest/kdive-busy.c" "$LAB_SRC/guest/init" | sha256sum | cut -c1-16 ;;
	stack-end | uaf) cat "$LAB_SRC"/modules/kdive_race/* "$LAB_SRC/guest/init" | sha256sum | cut -c1-16 ;;
	esac
}

# ---------------------------------------------------------------- commands

with_lock() {
	mkdir -p "$LAB" "$LOGS"
	exec 9>"$LAB/.lock"
	flock 9
	exec > >(tee -a "$LOGS/lab-$(date +%Y%m%d).log") 2>&1
}

cmd_ensure() {
	local s rel scn todo=() peers= scale=
	while (($#)); do
		case $1 in
		--peers) peers=1; shift ;;
		--scale) scale=1; shift ;;
		*) die "ensure: unknown argument $1" ;;
		esac
	done
	# Fast path: every series has a release on record and every capture is complete.
	for s in "${ALL_SERIES[@]}"; do
		if [ -s "$(series_file "$s")" ]; then
			rel=$(cat "$(series_file "$s")")
			for scn in $(scenarios_for "$rel"); do
				capture_complete "$rel" "$scn" || todo+=("$s:$scn")
			done
		else
			for scn in "${ALL_SCENARIOS[@]}"; do todo+=("$s:$scn"); done
		fi
	done
	if [ -n "$scale" ]; then
		for s in "${SCALE_SERIES[@]}"; do
			if [ -s "$(series_file "$s")" ]; then
				capture_complete "$(cat "$(series_file "$s")")" scale || todo+=("$s:scale")
			else
				todo+=("$s:scale")
			fi
		done
	fi
	if ((${#todo[@]} == 0)) && { [ -z "$peers" ] || peers_complete; }; then
		echo "lab: complete ($LAB)"
		return 0
	fi
	with_lock
	if ((${#todo[@]})); then
		log "missing: ${todo[*]}"
		build_set "${todo[@]}"
	fi
	if [ -n "$peers" ]; then
		source "$LAB_SRC/peers/peers.sh"
		cmd_peers --missing
	fi
}

peers_complete() {
	local m
	for m in "$LAB"/*/*/MANIFEST; do
		[ -f "$m" ] || return 1
		# no peers for the reduced captures (their lab tests run crash 8.0.6 themselves)
		reduced_scenario "$(basename "$(dirname "$m")")" && continue
		[ -f "$(dirname "$m")/peers/VERSIONS" ] || return 1
	done
}

build_set() { # SERIES:SCENARIO...
	local item s scn rel prepared=" "
	host_setup
	for item in "$@"; do
		s=${item%%:*}
		scn=${item#*:}
		rel=$(release_of "$s")
		capture_complete "$rel" "$scn" && [ -z "${FORCE:-}" ] && continue
		if [[ $prepared != *" $rel "* ]]; then
			prepare_kernel "$rel"
			prepared+="$rel "
		fi
		build_capture "$rel" "$scn"
	done
	log "done"
}

cmd_build() {
	local kernel=all scenario=all s scn items=()
	while (($#)); do
		case $1 in
		--kernel) kernel=$2; shift 2 ;;
		--scenario) scenario=$2; shift 2 ;;
		*) die "build: unknown argument $1" ;;
		esac
	done
	[ "$kernel" = all ] && kernel="${ALL_SERIES[*]}"
	[ "$scenario" = all ] && scenario="${ALL_SCENARIOS[*]}"
	for s in $kernel; do
		for scn in $scenario; do items+=("$s:$scn"); done
	done
	with_lock
	FORCE=1 build_set "${items[@]}"
}

resolve_kernel_arg() { # 6.1 | 6.12 | RELEASE -> release
	if [ -d "$LAB/$1" ]; then
		echo "$1"
	elif [ -s "$(series_file "$1")" ]; then
		cat "$(series_file "$1")"
	else
		die "no kernel $1 in $LAB (run lab/lab.sh ensure)"
	fi
}

cmd_path() {
	(($# == 2)) || die "usage: lab.sh path KERNEL SCENARIO"
	local rel
	rel=$(resolve_kernel_arg "$1")
	capture_complete "$rel" "$2" || die "no complete capture $rel/$2 (run lab/lab.sh ensure)"
	echo "$LAB/$rel/$2"
}

cmd_list() {
	local m dir
	for m in "$LAB"/*/*/MANIFEST; do
		[ -f "$m" ] || continue
		dir=$(dirname "$m")
		sed -n 's/^format\.\([^=]*\)=\(.*\)$/\1\t\2/p' "$m" | while IFS=$'\t' read -r f fmt; do
			printf '%s\t%s\n' "$dir/$f" "$fmt"
		done
	done
}

case ${1:-} in
ensure) shift; cmd_ensure "$@" ;;
build) shift; cmd_build "$@" ;;
path) shift; cmd_path "$@" ;;
list) shift; cmd_list "$@" ;;
peers) shift; with_lock; source "$LAB_SRC/peers/peers.sh"; cmd_peers "$@" ;;
kdive-save) shift; with_lock; source "$LAB_SRC/kdive-save.sh"; cmd_kdive_save "$@" ;;
*)
	sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
