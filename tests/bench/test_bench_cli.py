#!/usr/bin/env python3
"""Tests `zflow bench` on tiny runs: options,
exit codes and the shape of its table, JSON, CSV and SVG output. Speed is
not checked here; bench/ measures it."""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

BENCH = sys.argv[1]


def run(*args, env=None):
    return subprocess.run([BENCH, "bench", *args], capture_output=True, text=True, timeout=120,
                          env=env)


def check(condition, what):
    if not condition:
        print("FAILED:", what)
        sys.exit(1)


def test_usage_errors():
    for args, text in [(["nosuch"], "unknown suite"), (["--bogus"], "unknown option"),
                       (["-r", "0"], "--runs"), (["-n", "x"], "--count"),
                       (["--sizes", "16;32"], "--sizes"), (["--json"], "needs a value"),
                       (["--config", "/nonexistent/p.zpl"], "cannot read"),
                       (["--duration", "0"], "--duration")]:
        result = run(*args)
        check(result.returncode == 2, f"{args}: exit 2, got {result.returncode}")
        check(text in result.stderr, f"{args}: stderr names the problem: {result.stderr!r}")
    result = run("--help")
    check(result.returncode == 0 and "usage: zflow bench" in result.stdout, "--help")


def test_list():
    result = run("--list")
    check(result.returncode == 0, "--list exits 0")
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    for suite in ["stream", "envelope", "latency", "hub", "hpfeeds", "websocket", "centrifugo"]:
        check(suite in lines, f"--list names {suite}")
    check("built" in lines["stream"] and "not built" not in lines["stream"], "stream is built")


def test_missing_suite():
    # a copy of the program far from any bench/ folder finds no suite
    with tempfile.TemporaryDirectory() as tmp:
        lonely = os.path.join(tmp, "zflow")
        shutil.copy(BENCH, lonely)
        env = dict(os.environ)
        env.pop("ZFLOW_BENCH_DIR", None)
        result = subprocess.run([lonely, "bench", "stream"], capture_output=True, text=True,
                                env=env)
        check(result.returncode == 1, "a suite that is not built fails the run")
        check("is not built" in result.stderr, "and says so")


def test_tiny_run():
    with tempfile.TemporaryDirectory() as tmp:
        out_json, out_csv, plots = (os.path.join(tmp, n) for n in ("r.json", "r.csv", "plots"))
        result = run("stream", "envelope", "latency", "-n", "2000", "-r", "2", "-s", "16,64",
                     "--rate", "20000", "--json", out_json, "--csv", out_csv, "--plot", plots)
        check(result.returncode == 0, f"tiny run exits 0: {result.stderr}")
        out = result.stdout
        for text in ["host", "versions", "baseline msgs/s", "zflow msgs/s", "ratio", "p99.9",
                     "RESULT stream_16 ratio=", "RESULT stream_64 ratio=",
                     "RESULT envelope ratio=", "RESULT latency_stream p99_us="]:
            check(text in out, f"table shows {text!r}")
        check("[1/3] stream" in result.stderr, "progress on stderr")
        report = json.load(open(out_json))
        check(set(report) == {"host", "figures", "latency", "results"}, "JSON sections")
        names = [f["name"] for f in report["figures"]]
        check(names == ["stream_16", "stream_64", "envelope"], f"figures {names}")
        for figure in report["figures"]:
            for side in ("base", "zflow"):
                s = figure[side]
                check(0 < s["min"] <= s["median"] <= s["max"], f"{figure['name']} {side} spread")
            check(abs(figure["ratio"] - figure["zflow"]["median"] / figure["base"]["median"])
                  < 1e-3, "ratio is zflow over baseline")
        check([f["name"] for f in report["latency"]] == ["stream", "pipeline", "pipeline_own_threads"],
              "latency figures")
        for figure in report["latency"]:
            for side in ("base", "zflow"):
                s = figure[side]
                check(s["count"] == 2000, "every message measured")
                check(s["p50"] <= s["p90"] <= s["p99"] <= s["p999"] <= s["max"], "percentiles")
        rows = list(csv.DictReader(open(out_csv)))
        check(len(rows) == 3 * 3 + 3 * 6, f"CSV rows: {len(rows)}")
        check({r["kind"] for r in rows} == {"throughput", "latency"}, "CSV kinds")
        for name in ("throughput.svg", "latency.svg"):
            root = ET.parse(os.path.join(plots, name)).getroot()
            check(root.tag.endswith("svg"), f"{name} is SVG")
            texts = [t.text for t in root.iter() if t.tag.endswith("text")]
            check(any(t and t.startswith("x") for t in texts), f"{name} shows ratios")


def test_config():
    with tempfile.TemporaryDirectory() as tmp:
        conf = os.path.join(tmp, "mine.zpl")
        with open(conf, "w") as f:
            f.write("zflow\n    mode = lossless\nfeed\n    type = synthetic\n    rate = 2000\n"
                    "keep\n    type = nonempty\n    input = feed\n    field = hashes\n"
                    "out\n    type = file\n    input = keep\n    path = /dev/null\n")
        out_json = os.path.join(tmp, "c.json")
        result = run("--config", conf, "--duration", "2", "--json", out_json)
        check(result.returncode == 0, f"--config run exits 0: {result.stderr}")
        check("msgs out/s" in result.stdout, "--config prints the stage table")
        stages = {s["stage"]: s for s in json.load(open(out_json))["config"]["stages"]}
        check(set(stages) == {"feed", "keep", "out"}, f"every stage measured: {set(stages)}")
        # 2000 events/s, one in three carries hashes: the rates show it
        feed, keep = stages["feed"]["msgs_out_per_s"], stages["keep"]["msgs_out_per_s"]
        check(1000 < feed < 3000, f"source rate near 2000/s: {feed}")
        check(0.2 < keep / feed < 0.5, f"filter keeps about 1/3: {keep / feed}")
        # a config that cannot start: a clear failure, exit 1
        with open(conf, "w") as f:
            f.write("feed\n    type = nosuchstage\n")
        result = run("--config", conf, "--duration", "1")
        check(result.returncode == 1 and "did not start" in result.stderr,
              f"bad config fails clearly: {result.returncode} {result.stderr}")
        result = run("--config", os.path.join(tmp, "absent.zpl"))
        check(result.returncode == 2 and "cannot read" in result.stderr, "missing config file")


test_usage_errors()
test_list()
test_missing_suite()
test_tiny_run()
test_config()
print("1 passed, 0 failed")
