#!/usr/bin/env python3
"""End to end through the zflow binary: the embedded default (an hpfeeds
broker, a synthetic feed, a bridge) runs, prints events with hashes, answers zflow stats and /metrics, and exits cleanly
(draining) on SIGTERM, SIGINT, --duration and --count."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ZFLOW = sys.argv[1]
failures = 0


def check(cond, what):
    global failures
    if cond:
        print("ok  ", what)
    else:
        failures += 1
        print("FAIL", what)


def events(text):
    """Parses JSON lines; returns the list (raises on a broken line)."""
    return [json.loads(line) for line in text.splitlines()]


# 1. --count: the feed sends N events, one in three has hashes, zflow exits 0
p = subprocess.run([ZFLOW, "run", "--count", "300", "--rate", "0", "--quiet"],
                   capture_output=True, text=True, timeout=20)
got = events(p.stdout)
check(p.returncode == 0, "--count run exits 0")
check(len(got) == 100, f"--count 300 prints 100 events with hashes (got {len(got)})")
check(all(e["hashes"] for e in got), "every printed event has hashes")
check([e["seq"] for e in got] == list(range(0, 300, 3)), "in order, none lost")
check(p.stderr == "", f"--quiet keeps stderr empty ({p.stderr!r})")

# 2. --duration stops it by itself
start = time.monotonic()
p = subprocess.run([ZFLOW, "run", "--duration", "2"], capture_output=True, text=True,
                   timeout=20)
check(p.returncode == 0 and time.monotonic() - start < 9, "--duration 2 exits 0 by itself")
check("stopped (duration reached)" in p.stderr, "says why it stopped")
check("msg/s" in p.stderr, "status line with messages/s on stderr")
check(len(events(p.stdout)) > 0, "and printed events")

# 2b. zflow run | head -1: stops by itself, exit 0, no SIGPIPE, no complaint
p = subprocess.run(f"'{ZFLOW}' run --rate 1000 | head -1; echo \"rc=${{PIPESTATUS[0]}}\" >&2",
                   shell=True, executable="/bin/bash", capture_output=True, text=True,
                   timeout=20)
check(len(events(p.stdout)) == 1, "| head -1 got one event")
check("rc=0" in p.stderr and "stopped (stdout closed)" in p.stderr
      and "Broken pipe" not in p.stderr, f"zflow run exits 0 quietly ({p.stderr[-160:]!r})")


# 3. a live run: stats, metrics, then a signal drains and exits 0
def live(signum):
    control = f"ipc:///tmp/zflow-test-run-{os.getpid()}-{signum}.ctl"
    proc = subprocess.Popen([ZFLOW, "run", "--rate", "500", "--control", control,
                             "--metrics", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # the status line needs a second: read stderr lines until the metrics line
    metrics = None
    deadline = time.monotonic() + 10
    while metrics is None and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if "metrics on http://" in line:
            metrics = line.split("metrics on ")[1].split()[0]
    check(metrics is not None, "metrics address announced")
    time.sleep(1.0)
    s = subprocess.run([ZFLOW, "stats", "--control", control, "--once", "--raw"],
                       capture_output=True, text=True, timeout=10)
    counters = {}
    for line in s.stdout.splitlines():
        stage, kind, name, value = line.split()
        counters[(stage, name)] = int(value)
    check(s.returncode == 0 and counters.get(("subscribe", "msgs_in"), 0) > 0,
          "zflow stats reads the bridge's hpfeeds source counters")
    check(counters.get(("subscribe", "hpfeeds.connected")) == 1
          and counters.get(("republish", "hpfeeds.connected")) == 1,
          "both hpfeeds clients of the bridge are connected")
    check(counters.get(("subscribe", "reconnects")) == 0, "and never reconnected")
    check(counters.get(("hashes", "filtered"), 0) > 0, "and the filter's")
    table = subprocess.run([ZFLOW, "stats", "--control", control, "--once"],
                           capture_output=True, text=True, timeout=10)
    check("reencode" in table.stdout and "FILTERED" in table.stdout, "zflow stats table")
    # /metrics and /health are served from the counters a background thread
    # polls: they never wait for a stage, so a short timeout is enough
    body = urllib.request.urlopen(metrics, timeout=3).read().decode()
    check('zflow_msgs_in_total{stage="subscribe",kind="source"}' in body, "/metrics serves counters")
    check('zflow_reconnects_total{stage="subscribe",kind="source"} 0' in body, "and reconnects")
    check('zflow_stats_age_seconds{stage="subscribe",kind="source"}' in body,
          "and the age of the counters")
    health = urllib.request.urlopen(metrics.replace("/metrics", "/health"), timeout=3)
    lines = health.read().decode().splitlines()
    check(health.status == 200 and lines[0] == "ok", "/health says ok")
    check(any(ln.startswith("subscribe source ") and ln.endswith(" ok") for ln in lines[1:]),
          f"and lists each stage with the age of its counters ({lines[1:3]})")
    check(counters.get(("subscribe", "stats_age_ms"), -1) >= 0, "zflow stats says how old")
    proc.send_signal(signum)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    check(proc.returncode == 0, f"exits 0 on signal {signum} (rc {proc.returncode})")
    check("stopped (signal), everything in flight drained" in err, "drained before exit")
    got = events(out)     # every line complete and valid JSON
    check(len(got) > 0 and all(e["hashes"] for e in got), "output complete lines with hashes")
    seqs = [e["seq"] for e in got]
    check(seqs == list(range(0, 3 * len(seqs), 3)), "nothing lost before the stop")
    check(not os.path.exists(control[6:]), "control endpoint removed")
    after = subprocess.run([ZFLOW, "stats", "--control", control, "--once"],
                           capture_output=True, text=True, timeout=10)
    check(after.returncode == 1 and "no answer" in after.stderr, "stats on a dead run exits 1")


live(signal.SIGTERM)
live(signal.SIGINT)

print("failures:", failures)
sys.exit(1 if failures else 0)
