#!/usr/bin/env python3
"""Minimal QMP client for the kdive lab.

Waits until the guest's serial console shows a panic, then asks QEMU to write
its own dumps (dump-guest-memory, paging=false) and quits QEMU.

    qmp.py --socket S --console LOG --pattern 'Kernel panic - not syncing' \
           --dump elf:/path/qemu.elf --dump kdump-zlib:/path/qemu-kdump-zlib
"""
import argparse
import json
import os
import socket
import sys
import time


class Qmp:
    def __init__(self, path, timeout):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        greeting = self._read()
        if "QMP" not in greeting:
            raise RuntimeError(f"no QMP greeting: {greeting}")
        self.execute("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("QMP socket closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, cmd, **args):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read()
            if "event" in reply:
                continue
            if "error" in reply:
                raise RuntimeError(f"{cmd}: {reply['error']}")
            return reply.get("return")


def wait_for(path, patterns, fail_patterns, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path, "r", errors="replace") as f:
                text = f.read()
        except FileNotFoundError:
            text = ""
        for p in fail_patterns:
            if p in text:
                raise RuntimeError(f"console shows {p!r}")
        if any(p in text for p in patterns):
            return
        time.sleep(0.5)
    raise TimeoutError(f"no {patterns} on {path} within {timeout}s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--console", required=True)
    ap.add_argument("--pattern", action="append", required=True)
    ap.add_argument("--fail-pattern", action="append", default=["KDIVE: FAIL"])
    ap.add_argument("--timeout", type=float, default=150)
    ap.add_argument("--settle", type=float, default=3, help="seconds to wait after the panic line")
    ap.add_argument("--dump", action="append", default=[], help="FORMAT:PATH")
    args = ap.parse_args()

    wait_for(args.console, args.pattern, args.fail_pattern, args.timeout)
    time.sleep(args.settle)
    qmp = Qmp(args.socket, timeout=600)
    for spec in args.dump:
        fmt, path = spec.split(":", 1)
        if os.path.exists(path):
            os.unlink(path)
        t0 = time.monotonic()
        qmp.execute("dump-guest-memory", paging=False, protocol="file:" + path, format=fmt)
        print(f"qmp: dump-guest-memory format={fmt} -> {path} "
              f"({os.path.getsize(path)} bytes, {time.monotonic() - t0:.1f}s)", flush=True)
    try:
        qmp.execute("quit")
    except RuntimeError:
        pass
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # a clear one-line error for lab.sh's log
        print(f"qmp: error: {e}", file=sys.stderr)
        sys.exit(1)
