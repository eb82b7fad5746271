#!/usr/bin/env python3
"""Hostile HTTP clients (loopback) against zflow run --metrics: a request split
over two TCP segments with a pause between gets 200; malformed, oversized and
HTTP/2 requests get 400, 431 and 505; an idle connection is closed after the
idle timeout (5 s); at the connection cap (64) a /health request waiting in
the backlog is answered within 1 s once a slot frees; out of file descriptors
(RLIMIT_NOFILE lowered before exec) with many connections the process stays
near idle (utime+stime over 2 s) and /health answers once they close.

Prints one REPORT line per goal; exits 1 when one is missed.
Usage: test_cli_metrics_hostile.py <zflow>"""
import os
import resource
import socket
import subprocess
import sys
import time

ZFLOW = sys.argv[1]
IDLE_S = 5
CAP = 64
failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures += 1


def report(name, value, unit, goal, ok):
    print(f"REPORT {name} {unit}={value} goal{goal} {'ok' if ok else 'MISSED'}", flush=True)
    check(ok, f"{name}: {unit} {value} (goal {goal})")


def start(nofile=None):
    def limit():
        if nofile:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    proc = subprocess.Popen([ZFLOW, "run", "--rate", "10", "--metrics", "127.0.0.1:0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=limit)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if "metrics on http://" in line:
            hostport = line.split("http://")[1].split("/")[0]
            return proc, int(hostport.rsplit(":", 1)[1])
    proc.kill()
    sys.exit("zflow run announced no metrics address")


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def answer(s, timeout=10):
    """The whole response (until the server closes), or b"" on a timeout."""
    s.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk
    except OSError:
        return data


def get(port, request, timeout=10):
    s = connect(port)
    s.sendall(request)
    data = answer(s, timeout)
    s.close()
    return data


def status(data):
    parts = data.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


proc, port = start()
try:
    # a request in two segments, with a pause between
    s = connect(port)
    s.sendall(b"GET /hea")
    time.sleep(0.5)
    s.sendall(b"lth HTTP/1.1\r\nHost: x\r\n\r\n")
    data = answer(s)
    s.close()
    check(status(data) == 200 and b"\r\n\r\nok\n" in data,
          f"a request split in two segments gets 200 ok ({data[:40]!r})")
    check(status(get(port, b"GET /metrics?x=1 HTTP/1.0\r\n\r\n")) == 200, "/metrics?query: 200")
    head = get(port, b"HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n")
    check(status(head) == 200 and head.endswith(b"\r\n\r\n"), "HEAD: the headers alone")
    check(status(get(port, b"BLAH\r\n\r\n")) == 400, "a malformed request line: 400")
    check(status(get(port, b"GET /health HTTP/1.1\r\nno colon\r\n\r\n")) == 400,
          "a malformed header line: 400")
    check(status(get(port, b"GET /health HTTP/1.1\r\n folded: x\r\n\r\n")) == 400,
          "a folded header line: 400")
    check(status(get(port, b"GET /health HTTP/1.1\r\nX: \x00\r\n\r\n")) == 400, "a NUL: 400")
    check(status(get(port, b"GET /health HTTP/2.0\r\n\r\n")) == 505, "HTTP/2.0: 505")
    check(status(get(port, b"GET /health HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n")) == 431,
          "a head over 8 KiB: 431")
    check(status(get(port, b"POST /health HTTP/1.1\r\n\r\n")) == 405, "POST: 405")
    check(status(get(port, b"GET /nope HTTP/1.1\r\n\r\n")) == 404, "another path: 404")

    # an idle connection (nothing sent, or half a request) is closed
    idle = connect(port)
    half = connect(port)
    half.sendall(b"GET /health HTTP/1.1\r\n")
    t0 = time.monotonic()
    closed = answer(idle, IDLE_S + 5) == b"" and answer(half, 5) == b""
    seconds = time.monotonic() - t0
    report("metrics_idle_close", f"{seconds:.1f}", "seconds", f"<{IDLE_S + 2}",
           closed and seconds < IDLE_S + 2)
    idle.close()
    half.close()

    # at the cap, a /health request waits in the backlog until a slot frees
    held = [connect(port) for _ in range(CAP)]
    time.sleep(0.3)
    late = connect(port)
    late.sendall(b"GET /health HTTP/1.1\r\n\r\n")
    late.settimeout(0.5)
    try:
        early = late.recv(100)
    except OSError:
        early = b""
    check(early == b"", "at the cap a new request waits")
    t0 = time.monotonic()
    held.pop().close()
    data = answer(late, 5)
    seconds = time.monotonic() - t0
    report("metrics_cap_health", f"{seconds:.2f}", "seconds", "<1",
           status(data) == 200 and seconds < 1)
    for s in held + [late]:
        s.close()
finally:
    stop(proc)

# out of file descriptors: few left, many connections
proc, port = start()
fds = len(os.listdir(f"/proc/{proc.pid}/fd"))
stop(proc)
proc, port = start(fds + 8)
try:
    time.sleep(0.5)
    many = []
    for _ in range(48):
        try:
            many.append(connect(port))
        except OSError:
            break
    time.sleep(0.5)
    t0, c0 = time.monotonic(), cpu_ticks(proc.pid)
    time.sleep(2)
    pct = 100.0 * (cpu_ticks(proc.pid) - c0) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - t0)
    report("metrics_emfile_cpu", f"{pct:.0f}", "cpu_pct", "<20", pct < 20)
    for s in many:
        s.close()
    t0 = time.monotonic()
    data = get(port, b"GET /health HTTP/1.1\r\n\r\n", 10)
    seconds = time.monotonic() - t0
    report("metrics_emfile_health", f"{seconds:.2f}", "seconds", "<2",
           status(data) == 200 and seconds < 2)
finally:
    stop(proc)
sys.exit(1 if failures else 0)
