#!/usr/bin/env python3
"""zflow pub and zflow sub reach a zflow hub bound on tcp:// (tests/cli/cli_hub.c,
another process): zflow pub --type pub to the hub's publishers' side, zflow sub
(--key) on its subscribers' side gets the envelopes, in order, and only those
under its key."""
import json
import subprocess
import sys
import time

ZFLOW, HUB = sys.argv[1], sys.argv[2]
failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures += 1


hub = subprocess.Popen([HUB], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
words = hub.stdout.readline().split()
pub_ep, sub_ep = words[1], words[3]
check(pub_ep.startswith("tcp://") and sub_ep.startswith("tcp://"),
      f"the hub is bound on tcp:// ({pub_ep}, {sub_ep})")

sub = subprocess.Popen([ZFLOW, "sub", sub_ep, "--key", "news", "--count", "3"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
time.sleep(0.5)   # its subscription travels to the hub and on to publishers
lines = "".join(json.dumps({"n": n}) + "\n" for n in range(3))
p = subprocess.run([ZFLOW, "pub", pub_ep, "--type", "pub", "--key", "other"],
                   input="{\"skip\":1}\n", capture_output=True, text=True, timeout=20)
check(p.returncode == 0, "zflow pub to another key: exit 0")
p = subprocess.run([ZFLOW, "pub", pub_ep, "--type", "pub", "--key", "news/cli"],
                   input=lines, capture_output=True, text=True, timeout=20)
check(p.returncode == 0, f"zflow pub to the hub: exit 0 ({p.stderr!r})")
try:
    out, err = sub.communicate(timeout=15)
except subprocess.TimeoutExpired:
    sub.kill()
    out, err = sub.communicate()
got = [json.loads(line) for line in out.splitlines()]
check(sub.returncode == 0 and got == [{"n": 0}, {"n": 1}, {"n": 2}],
      f"zflow sub --key news got the three, in order, nothing else ({got})")

# zflow sub | head -1: exit 0 once head has gone, without SIGPIPE or a complaint
sub = subprocess.Popen(f"'{ZFLOW}' sub {sub_ep} --key news | head -1; "
                       "echo \"rc=${PIPESTATUS[0]}\" >&2", shell=True, executable="/bin/bash",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
time.sleep(0.5)
subprocess.run([ZFLOW, "pub", pub_ep, "--type", "pub", "--key", "news"], input=lines,
               capture_output=True, text=True, timeout=20)
out, err = sub.communicate(timeout=15)
check([json.loads(x) for x in out.splitlines()] == [{"n": 0}] and "rc=0" in err and "Broken pipe" not in err,
      f"zflow sub | head -1: one line, exit 0, quiet ({out!r}, {err.strip()!r})")
# Config files read from and write to the hub by key (type = hub).
import os
import tempfile
tmp = tempfile.mkdtemp()
reader = os.path.join(tmp, "reader.zpl")
with open(reader, "w") as f:
    f.write(f"in\n    type = hub\n    hub = {sub_ep}\n    key = news/*\n"
            "out\n    type = file\n    input = in\n    path = -\n")
run = subprocess.Popen([ZFLOW, "run", reader, "--quiet", "--duration", "4"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
time.sleep(1.5)   # started: its subscription is in the hub
subprocess.run([ZFLOW, "pub", pub_ep, "--type", "pub", "--key", "news/cfg"], input=lines,
               capture_output=True, text=True, timeout=20)
subprocess.run([ZFLOW, "pub", pub_ep, "--type", "pub", "--key", "news"], input="{\"no\":1}\n",
               capture_output=True, text=True, timeout=20)
out, err = run.communicate(timeout=20)
got = [json.loads(line) for line in out.splitlines()]
check(run.returncode == 0 and got == [{"n": 0}, {"n": 1}, {"n": 2}],
      f"type = hub source, key news/*: the three under news/cfg only ({got}, {err.strip()!r})")

writer = os.path.join(tmp, "writer.zpl")
with open(writer, "w") as f:
    f.write("feed\n    type = synthetic\n    rate = 0\n    count = 5\n"
            f"to_hub\n    type = hub\n    input = feed\n    hub = {pub_ep}\n    key = bridged\n")
sub = subprocess.Popen([ZFLOW, "sub", sub_ep, "--key", "bridged", "--count", "5"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
time.sleep(0.5)
p = subprocess.run([ZFLOW, "run", writer, "--quiet"], capture_output=True, text=True, timeout=30)
check(p.returncode == 0, f"type = hub sink: zflow run exits 0 ({p.stderr.strip()!r})")
try:
    out, err = sub.communicate(timeout=15)
except subprocess.TimeoutExpired:
    sub.kill()
    out, err = sub.communicate()
events = [json.loads(line) for line in out.splitlines()]
check(sub.returncode == 0 and len(events) == 5 and all(isinstance(e, dict) and e for e in events),
      f"zflow sub --key bridged got the five synthetic events ({len(events)}, {err.strip()!r})")

bad = os.path.join(tmp, "bad.zpl")
with open(bad, "w") as f:
    f.write("in\n    type = hub\n    hub = nosuchhub\nout\n    type = file\n    input = in\n")
p = subprocess.run([ZFLOW, "check", bad], capture_output=True, text=True, timeout=20)
check(p.returncode == 3 and "key" in p.stderr,
      f"a hub source without key: zflow check exits 3 naming it ({p.stderr.strip()!r})")

hub.stdin.close()
hub.wait(timeout=10)
stats = dict(line.split() for line in hub.stderr.read().splitlines() if len(line.split()) == 2)
check(int(stats.get("msgs_in", 0)) >= 3, f"through the hub (its msgs_in {stats.get('msgs_in')})")

print("failures:", failures)
sys.exit(1 if failures else 0)
