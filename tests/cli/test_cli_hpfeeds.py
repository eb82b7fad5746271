#!/usr/bin/env python3
"""hpfeeds through the zflow binary: zflow broker, a zflow run config that
bridges hpfeeds "events" -> keep events with hashes -> re-encode -> hpfeeds
"hashes" and stdout, zflow pub feeding it and zflow sub watching "hashes".
Then the broker is restarted on the same port: the bridge reconnects (and
says so in its counters) and events flow again."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

ZFLOW = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="zflow-test-hpfeeds-")
failures = 0
USERS = ["--user", "feed:s1:events:", "--user", "bridge:s2:hashes:events",
         "--user", "watch:s3::hashes"]


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures += 1


broker_lines = []


def broker(port):
    proc = subprocess.Popen([ZFLOW, "broker", "--port", str(port)] + USERS,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    threading.Thread(target=lambda: broker_lines.extend(proc.stderr), daemon=True).start()
    return proc, int(line.rsplit(":", 1)[1]) if "listening on" in line else 0


def stats(control):
    s = subprocess.run([ZFLOW, "stats", "--control", control, "--once", "--raw"],
                       capture_output=True, text=True, timeout=10)
    counters = {}
    for line in s.stdout.splitlines():
        stage, kind, name, value = line.split()
        counters[(stage, name)] = int(value)
    return counters


def wait_for(cond, seconds=10):
    deadline = time.monotonic() + seconds
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.05)
    return cond()


def publish(port, first, count):
    lines = "".join(json.dumps({"seq": n, "hashes": ["h%d" % n] if n % 3 == 0 else []}) + "\n"
                    for n in range(first, first + count))
    p = subprocess.run([ZFLOW, "pub", f"hpfeeds://feed:s1@127.0.0.1:{port}/events"],
                       input=lines, capture_output=True, text=True, timeout=20)
    return p.returncode


for bad in ["abc", "-1", "99999999"]:
    p = subprocess.run([ZFLOW, "broker", "--port", "0", "--drain-timeout", bad],
                       capture_output=True, text=True, timeout=10)
    check(p.returncode == 2 and "bad argument" in p.stderr,
          f"zflow broker --drain-timeout {bad} is a usage error (rc {p.returncode})")

b, port = broker(0)
check(port > 0, f"zflow broker listens on a free port ({port})")

control = f"ipc://{TMP}/bridge.ctl"
conf = os.path.join(TMP, "bridge.zpl")
with open(conf, "w") as f:
    f.write(f"""subscribe
    type = hpfeeds_sub
    port = {port}
    ident = bridge
    secret = s2
    channels = events
    backoff_max_ms = 200
hashes
    type = nonempty
    input = subscribe
    field = hashes
reencode
    type = encode
    input = hashes
republish
    type = hpfeeds_pub
    input = reencode
    port = {port}
    ident = bridge
    secret = s2
    channel = hashes
    backoff_max_ms = 200
out
    type = file
    input = reencode
""")
check(subprocess.run([ZFLOW, "check", conf]).returncode == 0, "zflow check accepts the bridge")
run = subprocess.Popen([ZFLOW, "run", conf, "--control", control, "--quiet"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
out_lines = []
threading.Thread(target=lambda: out_lines.extend(run.stdout), daemon=True).start()
check(wait_for(lambda: stats(control).get(("subscribe", "hpfeeds.connected")) == 1),
      "the bridge connected to the broker")
watch = subprocess.Popen([ZFLOW, "sub", f"hpfeeds://watch:s3@127.0.0.1:{port}/hashes",
                          "--count", "10"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
time.sleep(0.5)

check(publish(port, 0, 30) == 0, "zflow pub sent 30 events")
try:
    wout, werr = watch.communicate(timeout=15)
except subprocess.TimeoutExpired:
    watch.kill()
    wout, werr = watch.communicate()
got = [json.loads(line) for line in wout.splitlines()]
check(watch.returncode == 0 and [e["seq"] for e in got] == list(range(0, 30, 3)),
      f"zflow sub got the 10 events with hashes from 'hashes' ({len(got)})")
check(wait_for(lambda: len(out_lines) == 10), "the bridge printed them on stdout")

# restart the broker on the same port: it drains (the bridge's clients are
# told, send their last frame and reconnect), the bridge reconnects
b.send_signal(signal.SIGTERM)
b.wait(timeout=10)
time.sleep(0.1)
check(b.returncode == 0 and any("drained, 0 publish frames dropped" in l for l in broker_lines),
      "the broker drains on SIGTERM, dropping nothing")
check(wait_for(lambda: stats(control).get(("subscribe", "hpfeeds.broker_shutdowns"), 0) == 1
               and stats(control).get(("republish", "hpfeeds.broker_shutdowns"), 0) == 1),
      "both bridge clients were told the broker shut down")
b, port2 = broker(port)
check(port2 == port, "broker restarted on the same port")
check(wait_for(lambda: stats(control).get(("subscribe", "reconnects"), 0) >= 1
               and stats(control).get(("subscribe", "hpfeeds.connected")) == 1, 15),
      "the bridge reconnected and counts it")
time.sleep(0.3)
check(publish(port, 30, 30) == 0, "zflow pub sent 30 more")
check(wait_for(lambda: len(out_lines) == 20), f"events flow again ({len(out_lines)} lines)")
seqs = [json.loads(line)["seq"] for line in out_lines]
check(seqs == list(range(0, 60, 3)), "every event with hashes once, in order")

run.send_signal(signal.SIGTERM)
run.wait(timeout=15)
check(run.returncode == 0, "the bridge exits 0 on SIGTERM")
b.send_signal(signal.SIGINT)
b.wait(timeout=10)
check(b.returncode == 0, "the broker exits 0 on SIGINT")
for name in os.listdir(TMP):
    os.unlink(os.path.join(TMP, name))
os.rmdir(TMP)
print("failures:", failures)
sys.exit(1 if failures else 0)
