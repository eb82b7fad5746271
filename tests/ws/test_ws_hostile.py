#!/usr/bin/env python3
"""Hostile WebSocket servers (tests/ws/hostile_ws.py, loopback) against zflow sub:

  ws://        a server floods 256 MiB of pings and never reads our pongs: the
               client's peak RSS stays under 32 MiB (pongs are coalesced) and
               it still receives the message sent after the flood;
  centrifugo+ws://  a Centrifugo peer floods pings that want pongs ("{}"
               replies) and never reads: the client stops reading once its
               replies back up (peak RSS under 32 MiB) and, once the server
               reads again, receives the publication sent after.

Prints one REPORT line per goal; exits 1 when a goal is missed.
Usage: test_ws_hostile.py <zflow> [ws|centrifugo]"""
import os
import subprocess
import sys
import threading
import time

ZFLOW = sys.argv[1]
ONLY = sys.argv[2] if len(sys.argv) > 2 else None
HERE = os.path.dirname(os.path.abspath(__file__))
RSS_GOAL_MIB = 32
failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures += 1


def under_asan(pid):
    """True when the process pid runs with AddressSanitizer's runtime."""
    try:
        with open(f"/proc/{pid}/maps") as f:
            return "libasan" in f.read()
    except OSError:
        return False


def peak_rss_mib(pid):
    """VmHWM (the peak resident set) of pid, in MiB, or -1."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return -1


class Lines:
    """The lines a process writes on a pipe, gathered by a thread."""

    def __init__(self, pipe):
        self.lines = []
        self.thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self.thread.start()

    def _read(self, pipe):
        for line in pipe:
            self.lines.append(line.rstrip("\n"))

    def wait(self, word, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for line in self.lines:
                if word in line:
                    return line
            time.sleep(0.05)
        return None


def trial(name, mode, mib, url, extra):
    server = subprocess.Popen([sys.executable, os.path.join(HERE, "hostile_ws.py"), mode, str(mib)],
                              stdout=subprocess.PIPE, text=True)
    said = Lines(server.stdout)
    port_line = said.wait("PORT", 10)
    port = int(port_line.split()[1])
    client = subprocess.Popen([ZFLOW, "sub", url.format(port=port)] + extra,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = Lines(client.stdout)
    err = Lines(client.stderr)
    start = time.monotonic()
    got = out.wait("after-flood", 120)
    seconds = time.monotonic() - start
    rss = peak_rss_mib(client.pid)
    flood = said.wait("flooded", 1) or said.wait("stalled", 1) or "(no flood line)"
    check(got is not None, f"{name}: the message after the flood arrives ({seconds:.1f} s)")
    print(f"     server: {flood}", flush=True)
    ok = 0 <= rss < RSS_GOAL_MIB
    asan = under_asan(client.pid)
    print(f"REPORT {name} rss_mib={rss:.0f} goal<{RSS_GOAL_MIB} "
          f"{'ok' if ok else 'MISSED'} seconds={seconds:.1f}"
          f"{' (not checked under AddressSanitizer)' if asan else ''}", flush=True)
    # under ASan its quarantine and shadow memory are most of the RSS: the
    # plain build checks the figure, this one the behaviour
    check(ok or asan, f"{name}: peak RSS {rss:.1f} MiB under {RSS_GOAL_MIB} MiB")
    client.kill()
    client.wait()
    server.kill()
    server.wait()
    if got is None:
        print("     client stderr: " + " | ".join(err.lines[-5:]))


if ONLY in (None, "ws"):
    trial("ws_ping_flood_256mib", "ping", 256, "ws://127.0.0.1:{port}/", [])
if ONLY in (None, "centrifugo"):
    trial("centrifugo_ping_flood_64mib", "centrifugo", 64,
          "centrifugo+ws://127.0.0.1:{port}/connection/websocket", ["--channel", "news"])
sys.exit(1 if failures else 0)
