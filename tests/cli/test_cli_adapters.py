#!/usr/bin/env python3
"""A zflow run config bridging hpfeeds, WebSocket and Centrifugo: a real
WebSocket server (python3-websockets, tests/ws/server.py) and zflow broker
with zflow pub feed the bridge; it keeps kind "a" / events with hashes and
publishes them into the Centrifugo fake (tests/fake/centrifugo_fake.py),
whose state is then checked: every expected publication, once. The events
with hashes also go to the WebSocket server's /echo: the echoes that come
back prove the server got each one."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ZFLOW = sys.argv[1]
SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DEBIAN_PY = "/usr/bin/python3"        # has python3-websockets
TMP = tempfile.mkdtemp(prefix="zflow-test-adapters-")
failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures += 1


def first_line_port(proc, prefix=""):
    line = proc.stdout.readline().strip()
    return int(line[len(prefix):]) if line.startswith(prefix) else 0


def wait_for(cond, seconds=10):
    deadline = time.monotonic() + seconds
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.05)
    return cond()


ws = subprocess.Popen([DEBIAN_PY, os.path.join(SRC, "tests/ws/server.py")],
                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
ws_port = first_line_port(ws)
cf = subprocess.Popen([DEBIAN_PY, os.path.join(SRC, "tests/fake/centrifugo_fake.py"),
                       "--key", "k1", "--port", "0"],
                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
cf_port = first_line_port(cf, "PORT ")
br = subprocess.Popen([ZFLOW, "broker", "--port", "0", "--user", "feed:s1:events:",
                       "--user", "bridge:s2::events"],
                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
line = br.stderr.readline()
threading.Thread(target=lambda: br.stderr.read(), daemon=True).start()
hp_port = int(line.rsplit(":", 1)[1]) if "listening on" in line else 0
check(ws_port and cf_port and hp_port, f"peers up (ws {ws_port}, centrifugo {cf_port}, "
      f"hpfeeds {hp_port})")

conf = os.path.join(TMP, "bridge.zpl")
control = f"ipc://{TMP}/ctl"
with open(conf, "w") as f:
    f.write(f"""feed
    type = ws_sub
    url = ws://127.0.0.1:{ws_port}/stream/40
    filter = '[{{"kind": "a"}}]'
honeypots
    type = hpfeeds_sub
    port = {hp_port}
    ident = bridge
    secret = s2
    channels = events
hashes
    type = nonempty
    input = honeypots
    field = hashes
to_feed
    type = rekey
    input = feed
    from = ws
    to = chat
to_news
    type = rekey
    input = hashes
    from = hpfeeds
    to = news
to_ws
    type = ws_pub
    input = hashes
    url = ws://127.0.0.1:{ws_port}/echo
centrifugo
    type = centrifugo_pub
    input = to_feed, to_news
    address = http://127.0.0.1:{cf_port}/api
    api_key = k1
""")
run = subprocess.Popen([ZFLOW, "run", conf, "--quiet", "--control", control],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def counters():
    s = subprocess.run([ZFLOW, "stats", "--control", control, "--once", "--raw"],
                       capture_output=True, text=True, timeout=10)
    out = {}
    for line in s.stdout.splitlines():
        stage, kind, name, value = line.split()
        out[(stage, name)] = int(value)
    return out


check(wait_for(lambda: counters().get(("honeypots", "hpfeeds.connected")) == 1),
      "the bridge's hpfeeds source connected")
lines = "".join(json.dumps({"n": n, "hashes": ["x"] if n % 2 else []}) + "\n" for n in range(20))
p = subprocess.run([ZFLOW, "pub", f"hpfeeds://feed:s1@127.0.0.1:{hp_port}/events"],
                   input=lines, capture_output=True, text=True, timeout=20)
check(p.returncode == 0, "zflow pub fed 20 hpfeeds events")


def state():
    with urllib.request.urlopen(f"http://127.0.0.1:{cf_port}/_control", timeout=5) as r:
        return json.loads(r.read())


def count(channel):
    return len(state().get("publications", {}).get(channel, []))


# the ws feed's key is ("ws", "feed") -> "chat/feed" -> channel "chat:feed";
# hpfeeds ("hpfeeds", "events") -> "news/events" -> channel "news:events"
check(wait_for(lambda: count("chat:feed") == 20 and count("news:events") == 10),
      f"Centrifugo got 20 kind-a WebSocket messages and 10 events with hashes "
      f"({count('chat:feed')}, {count('news:events')})")
pubs = state()["publications"]
check(sorted(x["data"]["i"] for x in pubs["chat:feed"]) == list(range(0, 40, 2)),
      "the WebSocket messages, each once")
check(sorted(x["data"]["n"] for x in pubs["news:events"]) == list(range(1, 20, 2)),
      "the hpfeeds events, each once")
check(wait_for(lambda: counters().get(("to_ws", "ws.published")) == 10),
      "the WebSocket server echoed the 10 events with hashes the ws_pub sink sent")
c = counters()
check(c.get(("to_ws", "msgs_out")) == 10 and c.get(("to_ws", "errors")) == 0,
      "the ws_pub stage counts them out")
check(c.get(("feed", "ws.connects"), 0) >= 1 and c.get(("centrifugo", "centrifugo.published")) == 30,
      "stats show the feed's and the sink's own counters")
# from the terminal: zflow sub on a WebSocket, zflow pub into Centrifugo
p = subprocess.run([ZFLOW, "sub", f"ws://127.0.0.1:{ws_port}/stream/4", "--count", "4"],
                   capture_output=True, text=True, timeout=20)
check(p.returncode == 0 and [json.loads(x)["i"] for x in p.stdout.splitlines()] == [0, 1, 2, 3],
      "zflow sub ws:// prints the feed's messages")
p = subprocess.run([ZFLOW, "pub", f"http://127.0.0.1:{cf_port}/api", "--channel", "chat:cli",
                    "--api-key", "k1"], input='{"x":1}\n{"x":2}\n', capture_output=True,
                   text=True, timeout=30)
check(p.returncode == 0 and [x["data"]["x"] for x in state()["publications"]["chat:cli"]] == [1, 2],
      "zflow pub http://.../api publishes stdin lines into a Centrifugo channel")
p = subprocess.run([ZFLOW, "pub", f"http://127.0.0.1:{cf_port}/api", "--channel", "chat:cli",
                    "--api-key", "wrong", "--max-attempts", "5"], input='{"x":3}\n',
                   capture_output=True, text=True,
                   timeout=60)
check(p.returncode == 1 and "401" in p.stderr and "API key" in p.stderr,
      f"a wrong API key exits 1 and says so: HTTP 401 ({p.stderr.strip()!r})")

run.send_signal(signal.SIGTERM)
run.wait(timeout=15)
check(run.returncode == 0, f"zflow run exits 0 on SIGTERM ({run.stderr.read()!r})")
for proc in (ws, cf, br):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
for name in os.listdir(TMP):
    os.unlink(os.path.join(TMP, name))
os.rmdir(TMP)
print("failures:", failures)
sys.exit(1 if failures else 0)
