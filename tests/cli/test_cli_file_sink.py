#!/usr/bin/env python3
"""The file sink never blocks its actor: a pull source fed lines of ~20 KB
(far above PIPE_BUF) and a file sink on a stdout pipe this script does not
read. While stdout is unread the stage still answers `zflow stats`, its
written counter stands still, and SIGTERM stops the run within a few
seconds (a counted loss for what the reader never took). Then every line
that reached stdout is whole, valid JSON, in order, and at least as many
as the stats counted as written. A second run whose reader is merely
slow gets all the lines, in order, and stops cleanly (lossless)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ZFLOW = sys.argv[1]
LINES = 300
PAD = 20000
failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures += 1


def stats(control):
    """Returns {(stage, counter): value}, or None when nobody answered."""
    try:
        s = subprocess.run([ZFLOW, "stats", "--control", control, "--once", "--raw"],
                           capture_output=True, text=True, timeout=5)
    except subprocess.TimeoutExpired:
        return None
    if s.returncode != 0:
        return None
    values = {}
    for line in s.stdout.splitlines():
        stage, kind, name, value = line.split()
        values[(stage, name)] = int(value)
    return values


tmp = tempfile.mkdtemp(prefix="zflow-test-file-sink-")
conf = os.path.join(tmp, "big.zpl")
control = f"ipc://{tmp}/ctl"
feed = f"ipc://{tmp}/in"
with open(conf, "w") as f:
    f.write(f"""zflow
    mode = lossless
    hwm = 100
in
    type = pull
    bind = {feed}
out
    type = file
    input = in
""")
errpath = os.path.join(tmp, "stderr")
errfile = open(errpath, "wb")
proc = subprocess.Popen([ZFLOW, "run", conf, "--quiet", "--control", control,
                         "--drain-timeout", "1000"],
                        stdout=subprocess.PIPE, stderr=errfile, bufsize=0)
deadline = time.monotonic() + 10
while stats(control) is None and time.monotonic() < deadline:
    time.sleep(0.1)

lines = "".join(json.dumps({"i": i, "pad": "x" * PAD}) + "\n" for i in range(LINES))
pub = subprocess.Popen([ZFLOW, "pub", feed], stdin=subprocess.PIPE,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    pub.stdin.write(lines.encode())
    pub.stdin.close()
except BrokenPipeError:
    pass
time.sleep(1.5)                      # nobody reads stdout: the pipe fills

first = stats(control)
check(first is not None and ("out", "msgs_in") in first,
      "zflow stats answers while stdout is not read")
time.sleep(0.5)
second = stats(control)
check(second is not None and ("out", "msgs_in") in second, "and answers again")
written = second.get(("out", "msgs_out"), -1) if second else -1
check(first is not None and second is not None and
      first.get(("out", "msgs_out")) == written and 0 <= written < LINES,
      f"the sink's written counter stands still while the reader is away ({written} of {LINES})")

start = time.monotonic()
proc.send_signal(signal.SIGTERM)
try:
    proc.wait(timeout=10)
except subprocess.TimeoutExpired:
    proc.kill()
    proc.wait()
took = time.monotonic() - start
check(took < 5, f"SIGTERM stops the run in {took:.1f} s with stdout unread")
check(proc.returncode == 1, f"exit 1: a stage could not drain (rc {proc.returncode})")
pub.kill()
pub.wait()

data = proc.stdout.read()
errfile.close()
err = open(errpath).read()
whole = data.split(b"\n")
tail = whole.pop()                   # after the last newline: a cut line or nothing
ok = True
for n, line in enumerate(whole):
    try:
        event = json.loads(line)
        ok = ok and event["i"] == n and len(event["pad"]) == PAD
    except ValueError:
        ok = False
check(ok, f"every line on stdout is whole, valid JSON, in order ({len(whole)} lines)")
check(len(whole) >= written, f"and the {written} counted as written are there")
check(not tail or lines.encode().split(b"\n")[len(whole)].startswith(tail),
      f"what follows the last whole line is only the start of the next ({len(tail)} bytes)")
check("not written to -" in err, "the lines the reader did not take are a counted loss: "
      + "".join(l for l in err.splitlines(True) if "not written" in l).strip())

# A slow reader, not a stopped one: every line arrives (lossless).
errfile = open(errpath, "wb")
proc = subprocess.Popen([ZFLOW, "run", conf, "--quiet", "--control", control],
                        stdout=subprocess.PIPE, stderr=errfile, bufsize=0)
deadline = time.monotonic() + 10
while stats(control) is None and time.monotonic() < deadline:
    time.sleep(0.1)
pub = subprocess.Popen([ZFLOW, "pub", feed], stdin=subprocess.PIPE,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
pub.stdin.write(lines.encode())
pub.stdin.close()
data = bytearray()
deadline = time.monotonic() + 30
while data.count(b"\n") < LINES and time.monotonic() < deadline:
    data += proc.stdout.read(30000)  # small reads with pauses: the pipe stays full
    time.sleep(0.005)
proc.send_signal(signal.SIGTERM)
try:
    proc.wait(timeout=10)
except subprocess.TimeoutExpired:
    proc.kill()
    proc.wait()
data += proc.stdout.read()
pub.wait(timeout=10)
errfile.close()
err = open(errpath).read()
got = data.count(b"\n")
check(bytes(data) == lines.encode(), f"a slow reader gets all {LINES} lines, in order ({got} lines)")
check(proc.returncode == 0 and "not written" not in err,
      f"and the run stops cleanly, nothing lost (rc {proc.returncode})")
shutil.rmtree(tmp)
print("failures:", failures)
sys.exit(1 if failures else 0)
