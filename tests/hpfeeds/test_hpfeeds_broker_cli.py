#!/usr/bin/env python3
"""zflow broker's options against hostile and slow peers, and its status
line (issue 14): messages published with nobody subscribed are counted as
unrouted; a subscriber that never reads is disconnected after its grace and
the line says how many messages it lost (not "0 drops"); out + lost add up
to what came in; a peer that never authenticates is closed after
--auth-timeout; bad option values are usage errors. Raw sockets on
loopback, stdlib only, bounded waits."""
import hashlib
import re
import socket
import struct
import subprocess
import sys
import threading
import time

ZFLOW = sys.argv[1]
failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures += 1


def frame(op, body):
    return struct.pack("!IB", 5 + len(body), op) + body


def str8(text):
    data = text.encode()
    return bytes([len(data)]) + data


def read_frame(sock):
    head = b""
    while len(head) < 5:
        chunk = sock.recv(5 - len(head))
        if not chunk:
            return None, b""
        head += chunk
    length, op = struct.unpack("!IB", head)
    body = b""
    while len(body) < length - 5:
        chunk = sock.recv(length - 5 - len(body))
        if not chunk:
            return None, b""
        body += chunk
    return op, body


def login(port, ident, secret, rcvbuf=0):
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(5)
    sock.connect(("127.0.0.1", port))
    op, body = read_frame(sock)
    assert op == 1, op
    nonce = body[1 + body[0]:]
    digest = hashlib.sha1(nonce + secret.encode()).digest()
    sock.sendall(frame(2, str8(ident) + digest))
    return sock


def publish(ident, channel, payload):
    return frame(3, str8(ident) + str8(channel) + payload)


for bad in (["--slow", "sometimes"], ["--outbuf", "12x"], ["--outbuf", "0"],
            ["--slow-grace", "-1"], ["--auth-timeout", "0"], ["--idle-timeout", "-5"],
            ["--max-connections", "0"], ["--max-connections", "many"]):
    p = subprocess.run([ZFLOW, "broker", "--port", "0"] + bad, capture_output=True, text=True,
                       timeout=10)
    check(p.returncode == 2 and "bad argument" in p.stderr,
          f"zflow broker {' '.join(bad)} is a usage error (rc {p.returncode})")

proc = subprocess.Popen([ZFLOW, "broker", "--port", "0", "--outbuf", "1m", "--slow-grace", "500",
                         "--auth-timeout", "400", "--user", "alice:sa:chan1:",
                         "--user", "bob:sb::chan1"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
first = proc.stderr.readline()
port = int(first.rsplit(":", 1)[1]) if "listening on" in first else 0
check(port > 0, f"zflow broker listens ({first.strip()})")
lines = []
threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True).start()


KEYS = ("connections", "msgs in", "msgs out", "dropped", "lost with", "slow disconnects",
        "unrouted", "auth failures", "timeouts", "refused connections")


def status():
    """The last status line's counters, by name."""
    for line in reversed(lines):
        if "msgs in" in line:
            return {key: int(m.group(1)) for key in KEYS
                    for m in [re.search(r"(\d+) " + key, line)] if m}
    return {}


def wait_status(cond, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond(status()):
            return status()
        time.sleep(0.1)
    return status()


# unrouted: 100 publishes before anyone subscribed
alice = login(port, "alice", "sa")
alice.sendall(b"".join(publish("alice", "chan1", b"early %d" % n) for n in range(100)))
s = wait_status(lambda s: s.get("msgs in", 0) >= 100)
check(s.get("unrouted") == 100 and s.get("msgs out") == 0,
      f"100 publishes with no subscriber are unrouted in the status line ({s})")

# a subscriber that never reads: over half of --outbuf 1m, then closed
# after --slow-grace 500; what it lost is in the line, out + lost = in
bob = login(port, "bob", "sb", rcvbuf=4096)
bob.sendall(frame(4, str8("bob") + b"chan1"))
time.sleep(0.3)
payload = b"p" * 1000
batch = b"".join(publish("alice", "chan1", payload) for n in range(100))
# the kernel's socket buffers take some MB first: publish 100 KB batches
# until the broker says it disconnected bob (past half of the buffer for
# the grace, or the buffer full), at most 20 MB
for n in range(200):
    alice.sendall(batch)
    time.sleep(0.02)
    if status().get("slow disconnects", 0) >= 1:
        break
s = wait_status(lambda s: s.get("slow disconnects", 0) >= 1)
received = 0
bob.settimeout(3)
while True:
    op, body = read_frame(bob)
    if op != 3:
        break
    received += 1
routed = s.get("msgs in", 0) - s.get("unrouted", 0)  # one subscriber: one copy each
check(s.get("slow disconnects") == 1, f"the slow subscriber was disconnected ({s})")
lost = s.get("lost with", -1)
check(lost > 0, f"the status line counts the messages lost with it ({lost})")
check(s.get("msgs out", -1) + lost + s.get("dropped", 0) == routed,
      f"out {s.get('msgs out')} + lost {lost} = the {routed} routed publishes "
      f"(in {s.get('msgs in')} - unrouted {s.get('unrouted')})")
check(received == s.get("msgs out"), f"out means sent: the subscriber got {received}")

# a peer that never authenticates: closed after --auth-timeout 400
sock = socket.create_connection(("127.0.0.1", port), timeout=5)
start = time.monotonic()
op, _ = read_frame(sock)
op, text = read_frame(sock)
op_end, _ = read_frame(sock)
elapsed = time.monotonic() - start
check(op == 0 and b"Authentication timeout" in text and op_end is None and elapsed < 1.5,
      f"a silent peer is refused and closed after the auth timeout ({elapsed:.2f} s)")
s = wait_status(lambda s: s.get("timeouts", 0) >= 1)
check(s.get("timeouts") == 1, f"the status line counts the timeout ({s})")
for sock_ in (sock, alice, bob):
    sock_.close()

proc.send_signal(2)
try:
    proc.wait(timeout=10)
except subprocess.TimeoutExpired:
    proc.kill()
check(proc.returncode == 0, "the broker exits 0 on SIGINT")
print("test_hpfeeds_broker_cli: " + ("OK" if failures == 0 else f"{failures} FAILED"))
sys.exit(1 if failures else 0)
