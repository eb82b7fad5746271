#!/usr/bin/env python3
"""Lossless mode with a slow sink, through the zflow binary: a synthetic
source as fast as it can go, a filter, and a file sink on stdout that this
script reads slowly (pausing, so the pipe fills). The source is held back
(its counter stops moving while the reader pauses), the process's RSS stays
bounded, and in the end every event arrives, in order, none lost."""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

ZFLOW = sys.argv[1]
TOTAL = 200000
failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures += 1


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def generated(control):
    s = subprocess.run([ZFLOW, "stats", "--control", control, "--once", "--raw"],
                       capture_output=True, text=True, timeout=10)
    for line in s.stdout.splitlines():
        stage, kind, name, value = line.split()
        if stage == "feed" and name == "generated":
            return int(value)
    return -1


tmp = tempfile.mkdtemp(prefix="zflow-test-lossless-")
conf = os.path.join(tmp, "slow.zpl")
control = f"ipc://{tmp}/ctl"
with open(conf, "w") as f:
    f.write(f"""zflow
    mode = lossless
    hwm = 100
feed
    type = synthetic
    rate = 0
    count = {TOTAL}
keep
    type = filter
    input = feed
    match = '[{{"dst_port": 22}}, {{"dst_port": 445}}]'
out
    type = file
    input = keep
""")
# Under AddressSanitizer freed memory sits in a quarantine (256 MiB by
# default) that RSS would count: keep it small so RSS measures zflow.
asan = os.environ.get("ASAN_OPTIONS", "")
env = dict(os.environ, ASAN_OPTIONS=(asan + ":" if asan else "")
           + "quarantine_size_mb=4:thread_local_quarantine_size_kb=64")
proc = subprocess.Popen([ZFLOW, "run", conf, "--quiet", "--control", control],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0, env=env)
time.sleep(1.0)                      # nobody reads stdout: the pipe fills
held = generated(control)
rss = [rss_kib(proc.pid)]
time.sleep(1.0)
check(0 < held < TOTAL and generated(control) == held,
      f"the source is held back while the sink cannot write ({held} of {TOTAL})")

# read slowly: small reads with pauses, sampling RSS, then the rest at speed
data = bytearray()
for i in range(40):
    data += proc.stdout.read(16384)
    time.sleep(0.02)
    if i % 8 == 0:
        rss.append(rss_kib(proc.pid))
err = []
threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True).start()
while True:
    if len(data) % 10 == 0:
        rss.append(rss_kib(proc.pid))
    chunk = proc.stdout.read(1 << 20)
    if not chunk:
        break
    data += chunk
    rss.append(rss_kib(proc.pid))
proc.wait(timeout=30)
seqs = [json.loads(line)["seq"] for line in data.decode().splitlines()]
check(proc.returncode == 0, f"zflow exits 0 once its source is done and drained (rc {proc.returncode}, {err})")
check(seqs == list(range(TOTAL)), f"all {TOTAL} events arrived in order ({len(seqs)} lines)")
peak = max(rss)
print(f"RSS samples (KiB): first {rss[0]}, peak {peak}, {len(rss)} samples")
check(peak < 64 * 1024, f"RSS stays bounded (peak {peak} KiB < 64 MiB)")
check(peak - rss[0] < 16 * 1024, f"and does not grow with the backlog (+{peak - rss[0]} KiB)")
os.unlink(conf)
os.rmdir(tmp)
print("failures:", failures)
sys.exit(1 if failures else 0)
