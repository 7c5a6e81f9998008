# shellcheck shell=bash
# Peer tools' reference outputs for every lab capture. Sourced by lab/lab.sh (`lab/lab.sh peers`),
# which provides log, die, apt_update_once, ensure_trixie_root, trixie_ldso, $LAB, $PEERS, ...
#
# Writes <capture>/peers/:
#   crash-<cmd>.txt      Debian bookworm crash 8.0.2 on vmcore.elf (`crash -s vmlinux vmcore.elf`, one run per command;
#                        on 6.12, where it prints nothing, only crash-sys.txt)
#   crash806-<cmd>.txt   Debian trixie crash 8.0.6, same commands, run through trixie's own ld.so/glibc
#   crash806-sys.<dump>.txt   crash 8.0.6 `sys` on each other dump file (can it open that format?)
#   drgn-<dump>.json     lab/peers/drgn_facts.py under drgn, for every dump file
#   drgn-crash-<cmd>.txt drgn-crash (ships with drgn) on vmcore.elf
#   VERSIONS             the exact tool versions
# A command that fails leaves its output plus a last line "[exit N]".

CRASH_CMDS=("sys" "bt -p" "ps" "log" "mod")
PEER_TIMEOUT=180

peers_install() {
	local py
	if ! crash --version 2>/dev/null | grep -q '^crash 8'; then
		apt_update_once
		log "installing crash (bookworm)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends crash \
			>"$LOGS/apt-crash.log" 2>&1 || die "apt-get install crash failed (see $LOGS/apt-crash.log)"
	fi
	ensure_trixie_root # holds trixie's crash 8.0.6 and the glibc it needs
	mkdir -p "$PEERS"
	printf '#!/bin/sh\n# trixie crash 8.0.6 through trixie ld.so and libraries\nexec %s --library-path %s %s "$@"\n' \
		"$(trixie_ldso)" "$TRIXIE_ROOT/usr/lib/x86_64-linux-gnu" "$TRIXIE_ROOT/usr/bin/crash" >"$PEERS/crash806"
	chmod +x "$PEERS/crash806"
	if ! "$PEERS/venv/bin/drgn" --version >/dev/null 2>&1; then
		log "installing drgn from PyPI into $PEERS/venv"
		rm -rf "$PEERS/venv"
		py=python3
		if ! $py -m venv "$PEERS/venv" >/dev/null 2>&1; then
			rm -rf "$PEERS/venv"
			apt_update_once
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv \
				>"$LOGS/apt-venv.log" 2>&1 || die "apt-get install python3-venv failed"
			py=/usr/bin/python3
			$py -m venv "$PEERS/venv" || die "python3 -m venv failed"
		fi
		"$PEERS/venv/bin/pip" install -q drgn >"$LOGS/pip-drgn.log" 2>&1 || die "pip install drgn failed (see $LOGS/pip-drgn.log)"
	fi
	{
		echo "crash=$(crash --version 2>/dev/null | grep -m1 '^crash') (Debian $(dpkg-query -W -f='${Version}' crash))"
		echo "crash806=$("$PEERS/crash806" --version 2>/dev/null | grep -m1 '^crash') (Debian trixie $(dpkg-deb -f "$(deb_path crash)" Version), glibc $(dpkg-deb -f "$(deb_path libc6)" Version))"
		echo "drgn=$("$PEERS/venv/bin/drgn" --version 2>&1 | tr -s " \n" " " | sed "s/ $//")"
	} >"$PEERS/VERSIONS"
	log "peers: $(tr '\n' ';' <"$PEERS/VERSIONS")"
}

cmd_name() { tr ' /' '-_' <<<"$1" | tr -s '-'; }

# run_crash BIN OUT VMLINUX DUMP CMD...: one crash batch session; output in OUT
run_crash() {
	local bin=$1 out=$2 vmlinux=$3 dump=$4 rc=0
	shift 4
	printf '%s\n' "$@" quit | timeout "$PEER_TIMEOUT" "$bin" -s "$vmlinux" "$dump" >"$out" 2>&1 || rc=$?
	[ "$rc" = 0 ] || echo "[exit $rc]" >>"$out"
}

peers_for_capture() {
	local dir=$1 rel scn vmlinux ko p c f bin tag extras=() drgn_args=() t0=$SECONDS
	rel=$(sed -n 's/^release=//p' "$dir/MANIFEST")
	scn=$(sed -n 's/^scenario=//p' "$dir/MANIFEST")
	vmlinux=$LAB/kernels/$rel/vmlinux
	ko=$dir/kdive_race.ko
	p=$dir/peers.tmp
	rm -rf "$p"
	mkdir -p "$p"
	cp "$PEERS/VERSIONS" "$p/VERSIONS"
	case $scn in
	module-race) extras=("foreach rmmod bt" "dis -l kdive_race_reinit_rings" "ptype struct kdive_race_priv") ;;
	hung) extras=("foreach dd bt" "foreach tee bt" "ptype struct kdive_race_priv") ;;
	esac
	for tag in crash crash806; do
		bin=crash
		[ "$tag" = crash806 ] && bin=$PEERS/crash806
		if [ "$tag" = crash ] && [[ $rel == 6.12.* ]]; then
			# crash 8.0.2 cannot open 6.12 at all: record that once, without -s so its reason shows.
			printf 'sys\nquit\n' | timeout "$PEER_TIMEOUT" crash "$vmlinux" "$dir/vmcore.elf" >"$p/crash-sys.txt" 2>&1 ||
				echo "[exit $?]" >>"$p/crash-sys.txt"
			continue
		fi
		for c in "${CRASH_CMDS[@]}"; do
			run_crash "$bin" "$p/$tag-$(cmd_name "$c").txt" "$vmlinux" "$dir/vmcore.elf" "$c"
		done
		for c in "${extras[@]}"; do # after loading the module's symbols (the seed's add-symbol-file step)
			run_crash "$bin" "$p/$tag-$(cmd_name "$c").txt" "$vmlinux" "$dir/vmcore.elf" \
				"mod -s kdive_race $ko > /dev/null" "$c"
		done
	done
	drgn_args=(-s "$vmlinux")
	[ -f "$ko" ] && drgn_args+=(-s "$ko")
	for f in $(sed -n 's/^format\.\([^=]*\)=.*/\1/p' "$dir/MANIFEST"); do
		[ "$f" = vmcore.elf ] || run_crash "$PEERS/crash806" "$p/crash806-sys.$f.txt" "$vmlinux" "$dir/$f" sys
		if ! timeout "$PEER_TIMEOUT" "$PEERS/venv/bin/drgn" -q -c "$dir/$f" "${drgn_args[@]}" \
			"$LAB_SRC/peers/drgn_facts.py" >"$p/drgn-$f.json" 2>"$p/drgn-$f.err"; then
			python3 -c 'import json,sys; l=open(sys.argv[1]).read().strip().splitlines(); print(json.dumps({"error": l[-1] if l else "drgn failed"}))' \
				"$p/drgn-$f.err" >"$p/drgn-$f.json"
		fi
		[ -s "$p/drgn-$f.err" ] || rm -f "$p/drgn-$f.err"
	done
	for c in "${CRASH_CMDS[@]}"; do
		printf '%s\n' "$c" | timeout "$PEER_TIMEOUT" "$PEERS/venv/bin/drgn-crash" "$vmlinux" "$dir/vmcore.elf" \
			>"$p/drgn-crash-$(cmd_name "$c").txt" 2>&1 || echo "[exit $?]" >>"$p/drgn-crash-$(cmd_name "$c").txt"
	done
	chmod -R a+rX "$p"
	rm -rf "$dir/peers"
	mv "$p" "$dir/peers"
	log "peers for $rel/$scn in $((SECONDS - t0))s"
}

cmd_peers() { # [--missing]: only captures without peers/
	local m missing=
	[ "${1:-}" = --missing ] && missing=1
	host_setup
	peers_install
	for m in "$LAB"/*/*/MANIFEST; do
		[ -f "$m" ] || continue
		# The reduced captures (scale: 3000 tasks; busy, stack-end: their lab tests run crash 8.0.6
		# themselves) get no crash/drgn reference outputs.
		reduced_scenario "$(basename "$(dirname "$m")")" && continue
		[ -n "$missing" ] && [ -f "$(dirname "$m")/peers/VERSIONS" ] && continue
		peers_for_capture "$(dirname "$m")"
	done
}
