#!/usr/bin/env python3
"""zflow sub centrifugo+ws:// against the project's fake of Centrifugo's client
protocol (tests/fake/centrifugo_ws_fake.py): publications of two channels are
printed as JSON lines, it resubscribes and recovers after a disconnect, and a
bad token, a refused subscription and no server are reported with exit 1.
Also: zflow sub ... | head -1 ends quietly with exit 0 (no SIGPIPE)."""
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time

ZFLOW = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = os.path.join(HERE, "..", "fake", "centrifugo_ws_fake.py")
failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures += 1


class Fake:
    def __init__(self):
        self.proc = subprocess.Popen(["/usr/bin/python3", FAKE, "--secret", "s3cret"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        words = self.proc.stdout.readline().split()
        self.port, self.token, self.expired = int(words[1]), words[3], words[5]
        self.url = f"centrifugo+ws://127.0.0.1:{self.port}/connection/websocket"

    def control(self, **request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


class Sub:
    """zflow sub in the background, its stdout and stderr lines in queues."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([ZFLOW, "sub"] + list(args), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.out, self.err = queue.Queue(), queue.Queue()
        self.errors = []
        for stream, q in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=lambda s=stream, q=q: [q.put(ln) for ln in s],
                             daemon=True).start()

    def wait_err(self, text, seconds=10):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.err.get(timeout=0.1)
            except queue.Empty:
                continue
            self.errors.append(line)
            if text in line:
                return True
        return False

    def lines(self, n, seconds=10):
        got, deadline = [], time.monotonic() + seconds
        while len(got) < n and time.monotonic() < deadline:
            try:
                got.append(json.loads(self.out.get(timeout=0.1)))
            except queue.Empty:
                pass
        return got


fake = Fake()

# 1. two channels, publications in order as JSON lines
sub = Sub(fake.url, "--channel", "news", "--channel", "more", "--token", fake.token)
sub.wait_err("subscribed")
sub.wait_err("subscribed")
check(sum('subscribed {"channel":"news"' in e or 'subscribed {"channel":"more"' in e
          for e in sub.errors) == 2,
      f"subscribed to both channels (said on stderr: {sub.errors[:3]})")
for n in range(5):
    fake.control(op="publish", channel="news", data={"n": n, "text": "héllo"})
fake.control(op="publish", channel="more", data=["a", 1])
got = sub.lines(6)
check(got[:5] == [{"n": n, "text": "héllo"} for n in range(5)],
      f"each publication's data is one JSON line, in order ({got[:2]}..)")
check(got[5:] == [["a", 1]], "from the second channel too")

# 2. the server drops the connection: it reconnects and recovers what it missed
fake.control(op="disconnect", code=3001, reason="shutdown", push=False)
check(sub.wait_err("disconnected"), "a disconnect is said on stderr")
fake.control(op="publish_many", channel="news", count=3, **{"from": 100})
check(sub.wait_err("connected"), "reconnected")
got = sub.lines(3)
check(got == [{"n": 100}, {"n": 101}, {"n": 102}],
      f"publications made while away are recovered ({got})")
sub.proc.terminate()
sub.proc.wait(timeout=10)
check(sub.proc.returncode == 0, f"exits 0 on SIGTERM ({sub.proc.returncode})")

# 3. --count, and zflow sub | head -1: no death by SIGPIPE
p = subprocess.Popen(f"'{ZFLOW}' sub '{fake.url}' --channel tail --token {fake.token} -q"
                     " | head -1; echo \"rc=${PIPESTATUS[0]}\" >&2",
                     shell=True, executable="/bin/bash", stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)
deadline = time.monotonic() + 10
while fake.control(op="stats").get("clients", 0) < 1 and time.monotonic() < deadline:
    time.sleep(0.05)
time.sleep(0.3)   # its subscribe
fake.control(op="publish_many", channel="tail", count=50, **{"from": 0})
out, err = p.communicate(timeout=15)
check(out == '{"n":0}\n', f"| head -1 got the first line ({out!r})")
check("rc=0" in err and "Broken pipe" not in err, f"and zflow exited 0 quietly ({err.strip()!r})")

# 4. errors: bad token, refused subscription, no server, usage
p = subprocess.run([ZFLOW, "sub", fake.url, "--channel", "x", "--token", "not.a.jwt"],
                   capture_output=True, text=True, timeout=30)
check(p.returncode == 1 and "failed" in p.stderr, f"a bad token: exit 1 ({p.stderr[-200:]!r})")
p = subprocess.run([ZFLOW, "sub", fake.url, "--channel", "deny:x", "--token", fake.token],
                   capture_output=True, text=True, timeout=30)
check(p.returncode == 1 and "error" in p.stderr and "103" in p.stderr,
      f"a refused subscription: exit 1, the code said ({p.stderr[-200:]!r})")
s = socket.socket()
s.bind(("127.0.0.1", 0))
dead = s.getsockname()[1]
s.close()
p = subprocess.run([ZFLOW, "sub", f"centrifugo+ws://127.0.0.1:{dead}/connection/websocket",
                    "--channel", "x", "--timeout", "1000"], capture_output=True, text=True,
                   timeout=30)
check(p.returncode == 1 and "no connection" in p.stderr, "no server: exit 1 after --timeout")
p = subprocess.run([ZFLOW, "sub", fake.url], capture_output=True, text=True, timeout=10)
check(p.returncode == 2 and "--channel" in p.stderr, "no --channel: usage error")
p = subprocess.run([ZFLOW, "sub", "centrifugo+ws://x/y", "--help"], capture_output=True,
                   text=True, timeout=10)
check(p.returncode == 0 and "--token" in p.stdout, "--help documents the Centrifugo form")

fake.stop()
print("failures:", failures)
sys.exit(1 if failures else 0)
