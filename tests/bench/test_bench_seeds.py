#!/usr/bin/env python3
"""Smoke test of the seeds suite (`zflow bench seeds`, label `real`: it needs
the peers of scripts/install-deps.sh): a tiny run must print every figure,
each a FIGURE line that parses, with both sides measured and a ratio > 0
that is zflow over the seed; without the peers the suite must fail and
name what is missing. Speed is not checked here.

    test_bench_seeds.py ZFLOW"""
import json
import os
import subprocess
import sys
import tempfile

ZFLOW = sys.argv[1]
FIGURES = ["hpfeeds_relay_100", "aiozmq_stream_16", "aiozmq_stream_256", "aiopubsub_hub",
           "cent_publish", "cent_batch"]


def check(condition, what):
    if not condition:
        print("FAILED:", what)
        sys.exit(1)


def bench(*args, env=None):
    return subprocess.run([ZFLOW, "bench", *args], capture_output=True, text=True, timeout=150,
                          env=env)


def test_listed():
    result = bench("--list")
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    check("seeds" in lines, "--list names the seeds suite")
    check(" built" in lines["seeds"] and "not built" not in lines["seeds"], "seeds is built")


def test_tiny_run():
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "seeds.json")
        result = bench("seeds", "-n", "200", "-r", "1", "--json", out)
        check(result.returncode == 0, f"tiny run exits 0: {result.stderr[-3000:]}")
        check("bad FIGURE" not in result.stderr, f"every FIGURE line parses: {result.stderr}")
        check("missing" not in result.stderr, "no peer reported missing")
        host = json.load(open(out))["host"]
        check("aiozmq 1.0.0" in host.get("seeds", ""), f"the seeds' versions: {host}")
        figures = json.load(open(out))["figures"]
        check([f["name"] for f in figures] == FIGURES, f"figures: {[f['name'] for f in figures]}")
        for f in figures:
            check(f["suite"] == "seeds" and f["baseline"], f"{f['name']}: suite and baseline")
            for side in ("base", "zflow"):
                s = f[side]
                check(0 < s["min"] <= s["median"] <= s["max"], f"{f['name']} {side}: {s}")
            check(f["ratio"] > 0, f"{f['name']}: ratio > 0")
            #  the medians are printed rounded to whole messages per second
            base, mine = f["base"]["median"], f["zflow"]["median"]
            slack = f["ratio"] * (0.5 / base + 0.5 / mine) + 1e-4
            check(abs(f["ratio"] - mine / base) <= slack,
                  f"{f['name']}: the ratio {f['ratio']} is zflow over the seed ({mine} / {base})")
        check("hpfeeds 3.1.0" in result.stdout and "ratio" in result.stdout, "the table")


def test_missing_peers():
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, ZFLOW_PEERS=tmp)
        result = bench("seeds", "-n", "10", "-r", "1", env=env)
        check(result.returncode == 1, f"no peers: exit 1, got {result.returncode}")
        check("missing" in result.stderr and tmp in result.stderr,
              f"and names what is missing: {result.stderr}")


test_listed()
test_missing_peers()
test_tiny_run()
print("1 passed, 0 failed")
