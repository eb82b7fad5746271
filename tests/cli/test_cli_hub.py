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
hub.stdin.close()
hub.wait(timeout=10)
stats = dict(line.split() for line in hub.stderr.read().splitlines() if len(line.split()) == 2)
check(int(stats.get("msgs_in", 0)) >= 3, f"through the hub (its msgs_in {stats.get('msgs_in')})")

print("failures:", failures)
sys.exit(1 if failures else 0)
