#!/usr/bin/env python3
"""A two-process pipeline over tcp:// with CURVE: process B binds a CURVE
server (pull), process A connects with B's public key and sends; every
message arrives. A sender with the wrong server key, or with no CURVE at
all, is refused: B takes in nothing from it."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

ZFLOW = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="zflow-test-curve-")
failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures += 1


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def keygen(name):
    path = os.path.join(TMP, name)
    subprocess.run([ZFLOW, "keygen", path], check=True, capture_output=True)
    return path


def b_msgs_in(control):
    s = subprocess.run([ZFLOW, "stats", "--control", control, "--once", "--raw"],
                       capture_output=True, text=True, timeout=10)
    for line in s.stdout.splitlines():
        stage, kind, name, value = line.split()
        if stage == "in" and name == "msgs_in":
            return int(value)
    return -1


server = keygen("server")
client = keygen("client")
wrong = keygen("wrong")

# B: CURVE server on a free port, writes JSON lines to stdout
control = f"ipc://{TMP}/b.ctl"
b_conf = write("b.zpl", f"""in
    type = pull
    bind = tcp://127.0.0.1:*
    server_cert = {server}
out
    type = file
    input = in
    path = {TMP}/b.jsonl
""")
b = subprocess.Popen([ZFLOW, "run", b_conf, "--control", control],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
endpoint = None
deadline = time.monotonic() + 10
while endpoint is None and time.monotonic() < deadline:
    line = b.stderr.readline()
    line = b.stderr.readline()
    if "stage 'in' bound " in line:
        endpoint = line.split("bound ")[1].strip()
# keep reading B's stderr (status lines) so it never blocks on a full pipe
b_err = []
threading.Thread(target=lambda: b_err.extend(b.stderr), daemon=True).start()
check(endpoint is not None and endpoint.startswith("tcp://127.0.0.1:"), "B bound a CURVE server")


def sender(name, extra, count, duration=None):
    conf = write(name + ".zpl", f"""feed
    type = synthetic
    rate = 0
    count = {count}
out
    type = push
    input = feed
    connect = {endpoint}
{extra}""")
    args = [ZFLOW, "run", conf, "--drain-timeout", "500"]
    if duration:
        args += ["--duration", str(duration)]
    return subprocess.run(args, capture_output=True, text=True, timeout=30)


# refused: wrong server key, then no CURVE at all
before = b_msgs_in(control)
a = sender("a_wrong", f"    server_key = {wrong}\n    client_cert = {client}\n", 0, duration=1)
check(a.returncode == 1 and "did not drain" in a.stderr and "discarded at stop" in a.stderr,
      f"a sender with the wrong server key cannot deliver (rc {a.returncode})")
a = sender("a_plain", "", 0, duration=1)
check(a.returncode == 1, f"a sender without CURVE cannot deliver (rc {a.returncode})")
check(b_msgs_in(control) == before == 0, "B took in nothing from them")

# the right key: all 1000 arrive
a = sender("a_right", f"    server_key = {server}\n    client_cert = {client}\n", 1000)
check(a.returncode == 0 and "discarded" not in a.stderr,
      f"the right key: A sends 1000 and exits 0 (rc {a.returncode}, {a.stderr!r})")
deadline = time.monotonic() + 10
while b_msgs_in(control) < 1000 and time.monotonic() < deadline:
    time.sleep(0.1)
check(b_msgs_in(control) == 1000, "B took in all 1000")
b.send_signal(signal.SIGTERM)
b.wait(timeout=15)
with open(os.path.join(TMP, "b.jsonl")) as f:
    got = [json.loads(line) for line in f]
check(b.returncode == 0, "B exits 0 on SIGTERM")
check(sorted(e["seq"] for e in got) == list(range(1000)), "B wrote every event once")

for name in os.listdir(TMP):
    os.unlink(os.path.join(TMP, name))
os.rmdir(TMP)
print("failures:", failures)
sys.exit(1 if failures else 0)
