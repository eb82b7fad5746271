#!/usr/bin/env python3
"""Sends the same server API requests to a real Centrifugo v6 and to the
project's fake (tests/fake/centrifugo_fake.py) and prints, request by
request, where the fake answers differently. A tool for whoever keeps the
fakes (not a ctest test: where they differ, the fake is to be fixed).

    compare_fakes.py"""
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import realpeers  # noqa: E402

realpeers.use_peers_python()
import centrifugo_server as cs  # noqa: E402

KEY = cs.API_KEY
T = {"X-Centrifugo-Error-Mode": "transport"}
#  (what, path, body, headers); {H} is a channel with history, {N} one
#  without, {U} an unknown namespace
REQUESTS = [
    ("malformed JSON", "/api/publish", b'{"channel": "{H}a", ', {}),
    ("malformed JSON, batch", "/api/batch", b'{"commands": [', {}),
    ("unknown method", "/api/nosuch", {}, {}),
    ("empty b64data", "/api/publish", {"channel": "{H}a", "b64data": ""}, {}),
    ("no data", "/api/publish", {"channel": "{H}a"}, {}),
    ("data \"\"", "/api/publish", {"channel": "{H}a", "data": ""}, {}),
    ("skip_history", "/api/publish", {"channel": "{H}a", "data": {}, "skip_history": True}, {}),
    ("version 5", "/api/publish", {"channel": "{H}v", "data": {"v": 5}, "version": 5}, {}),
    ("stale version 3", "/api/publish", {"channel": "{H}v", "data": {"v": 3}, "version": 3}, {}),
    ("history after stale", "/api/history", {"channel": "{H}v", "limit": -1}, {}),
    ("history, no history", "/api/history", {"channel": "{N}a"}, {}),
    ("unknown namespace", "/api/publish", {"channel": "{U}a", "data": {}}, {}),
    ("batch", "/api/batch", {"commands": [{"publish": {"channel": "{H}b", "data": {}}},
                                          {"publish": {"channel": "{U}b", "data": {}}},
                                          {"nosuch": {}}]}, {}),
    ("broadcast", "/api/broadcast", {"channels": ["{H}c", "{N}c"], "data": {}}, {}),
    ("legacy /api, X-API-Key", "/api", {"method": "publish",
                                       "params": {"channel": "{H}a", "data": {}}}, {}),
    ("transport: unknown namespace", "/api/publish", {"channel": "{U}a", "data": {}}, T),
    ("transport: empty b64data", "/api/publish", {"channel": "{H}a", "b64data": ""}, T),
    ("transport: malformed", "/api/publish", b'{', T),
    ("transport: batch", "/api/batch", {"commands": [{"publish": {"channel": "{U}b",
                                                                  "data": {}}}]}, T),
    ("wrong key", "/api/publish", {"channel": "{H}a", "data": {}}, {"X-API-Key": "bad"}),
    ("rpc (no proxy)", "/api/rpc", {"method": "x", "params": {}}, {}),
    ("connections", "/api/connections", {}, {}),
]


def post(port, path, body, headers):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("X-API-Key", KEY)
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    try:
        answer = json.loads(text)
    except ValueError:
        return status, text.strip()
    #  epochs differ between any two servers
    return status, re.sub(r'"epoch": "[^"]*"', '"epoch": "E"', json.dumps(answer, sort_keys=True))


def fill(body, names):
    if isinstance(body, bytes):
        return body.replace(b"{H}", names["H"].encode())
    text = json.dumps(body)
    for k, v in names.items():
        text = text.replace("{" + k + "}", v)
    return json.loads(text)


real = cs.Centrifugo().start()
fake = subprocess.Popen([sys.executable, os.path.join(HERE, "..", "fake", "centrifugo_fake.py"),
                         "--key", KEY], stdout=subprocess.PIPE, text=True)
fake_port = int(fake.stdout.readline().split()[1])
differ = 0
for what, path, body, headers in REQUESTS:
    a = post(real.port, path, fill(body, {"H": "rec:", "N": "open:", "U": "nosuchns:"}), headers)
    b = post(fake_port, path, fill(body, {"H": "chat:", "N": "nohistory:", "U": "nosuchns:"}),
             headers)
    same = a == b
    differ += not same
    print(f"{'same ' if same else 'DIFF '} {what}\n      real: {a[0]} {str(a[1])[:150]}")
    if not same:
        print(f"      fake: {b[0]} {str(b[1])[:150]}")
realpeers.stop(fake)
real.close()
print(f"{differ} of {len(REQUESTS)} requests answered differently")
