#!/usr/bin/env python3
"""zflow pub ws[s]:// against a real WebSocket server (Debian's
python3-websockets, tests/cli/ws_record.py): every stdin line arrives as one
message, in order, then the connection closes with 1000; --binary, headers,
subprotocols, backpressure from a slow server, wss with --insecure; a refused
connection and a line that is not UTF-8 are reported with exit 1."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

ZFLOW = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"     # Debian's, which has the websockets package
TMP = tempfile.mkdtemp(prefix="zflow-test-ws-")
failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures += 1


class Server:
    """ws_record.py in the background; events collects what it prints."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([PY, os.path.join(HERE, "ws_record.py")] + list(args),
                                     stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())
        self.events = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.events.append(json.loads(line))

    def wait_closed(self, conn, seconds=10):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if any(e.get("conn") == conn and "closed" in e for e in self.events):
                return True
            time.sleep(0.02)
        return False

    def of(self, conn, field):
        return [e[field] for e in self.events if e.get("conn") == conn and field in e]

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def pub(url, data, *options, timeout=30):
    return subprocess.run([ZFLOW, "pub", url] + list(options), input=data,
                          capture_output=True, timeout=timeout)


server = Server()
url = f"ws://127.0.0.1:{server.port}/feed"

# 1. many lines: each one message, in order, then a clean close
lines = [json.dumps({"n": n, "text": "é€😀" if n % 7 == 0 else "x" * (n % 50)})
         for n in range(3000)]
p = pub(url, ("\n".join(lines) + "\n").encode(), "--header", "X-Test: yes please",
        "--subprotocol", "chat")
check(p.returncode == 0, f"3000 lines: exit 0 ({p.returncode}, {p.stderr[-300:]!r})")
check(server.wait_closed(1), "the server saw the connection close")
check(server.of(1, "text") == lines, f"every line arrived once, in order "
      f"({len(server.of(1, 'text'))} of {len(lines)})")
check(server.of(1, "closed") == [1000], f"closed with 1000 ({server.of(1, 'closed')})")
check(server.of(1, "path") == ["/feed"], "on the URL's path")
check(server.of(1, "headers")[0].get("x-test") == "yes please", "with the --header")
check(server.of(1, "subprotocol") == ["chat"], "and the --subprotocol")

# 2. --binary, and a last line without a newline
p = subprocess.run([ZFLOW, "pub", "--binary", url], input=b"abc\n\x00\xff\x01\nlast",
                   capture_output=True, timeout=30)   # options may come first
check(p.returncode == 0 and server.wait_closed(2), "--binary: exit 0")
check(server.of(2, "binary") == ["616263", "00ff01", "6c617374"],
      f"binary messages, bytes as given ({server.of(2, 'binary')})")

# 3. a line that is not UTF-8 cannot be a text message: it goes as a binary one
#    (the ws sink's rule: text when UTF-8, else binary; --binary for all)
p = pub(url, b"one\n\xff\xfe\nthree\n")
check(p.returncode == 0, f"a non-UTF-8 line: exit 0 ({p.stderr!r})")
check(server.wait_closed(3) and server.of(3, "text") == ["one", "three"]
      and server.of(3, "binary") == ["fffe"], "the text lines arrive, the other as binary")
check(server.of(3, "closed") == [1000], "and the close is clean")
server.stop()

# 4. a slow server: the send queue fills, zflow pub waits, loses nothing
slow = Server("--slow", "2")
lines = ["m%d" % n for n in range(800)]
start = time.monotonic()
p = pub(f"ws://127.0.0.1:{slow.port}/slow", ("\n".join(lines) + "\n").encode())
check(p.returncode == 0, f"slow server: exit 0 ({p.stderr[-200:]!r})")
check(time.monotonic() - start > 1.0, "it waited for the slow server")
check(slow.wait_closed(1) and slow.of(1, "text") == lines, "and every line arrived")
check(slow.of(1, "closed") == [1000], "closed with 1000")
slow.stop()

# 5. refused: nobody listens on the port
s = socket.socket()
s.bind(("127.0.0.1", 0))
dead = s.getsockname()[1]
s.close()
p = pub(f"ws://127.0.0.1:{dead}/x", b"a\n", "--timeout", "1000")
check(p.returncode == 1 and b"cannot connect" in p.stderr,
      f"refused connection: exit 1, said ({p.stderr[-200:]!r})")

# 6. wss with a self-signed certificate: refused unless --insecure
cert, key = os.path.join(TMP, "cert.pem"), os.path.join(TMP, "key.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1"],
               check=True, capture_output=True)
tls = Server("--tls", cert, key)
wss = f"wss://127.0.0.1:{tls.port}/secure"
p = pub(wss, b"no\n", "--timeout", "1500")
check(p.returncode == 1 and b"cannot connect" in p.stderr,
      "wss with an untrusted certificate: refused, exit 1")
p = pub(wss, b"hello\nworld\n", "--insecure")
conn = max([e["conn"] for e in tls.events if "path" in e] or [0])
check(p.returncode == 0 and tls.wait_closed(conn), "wss --insecure: exit 0")
check(tls.of(conn, "text") == ["hello", "world"] and tls.of(conn, "closed") == [1000],
      "the lines arrived over TLS, clean close")
tls.stop()

# 7. zflow sub ws:// with the same options, against tests/ws/server.py
echo = subprocess.Popen([PY, os.path.join(HERE, "..", "ws", "server.py"), "--tls", cert, key],
                        stdout=subprocess.PIPE, text=True)
eport = int(echo.stdout.readline())
p = subprocess.run([ZFLOW, "sub", "--header", "X-Sub: 42", f"wss://127.0.0.1:{eport}/headers",
                    "--insecure", "--subprotocol", "superchat", "--count", "1"],
                   capture_output=True, text=True, timeout=20)
headers = json.loads(p.stdout) if p.returncode == 0 and p.stdout else {}
check(headers.get("x-sub") == "42" and headers.get("sec-websocket-protocol") == "superchat",
      f"zflow sub wss:// --insecure sends --header and --subprotocol ({p.stdout[:120]!r})")
p = subprocess.run(f"'{ZFLOW}' sub wss://127.0.0.1:{eport}/stream/100000 --insecure | head -2;"
                   " echo \"rc=${PIPESTATUS[0]}\" >&2", shell=True, executable="/bin/bash",
                   capture_output=True, text=True, timeout=20)
check(len(p.stdout.splitlines()) == 2 and "rc=0" in p.stderr,
      f"zflow sub ws:// | head -2: exit 0 ({p.stderr.strip()[-80:]!r})")
echo.kill()
echo.wait()

# 8. usage errors
p = pub(url, b"", "--header", "no colon here")
check(p.returncode == 2 and b"bad header" in p.stderr, "a bad --header is a usage error")
p = subprocess.run([ZFLOW, "pub", "ws://127.0.0.1:1/x", "--help"], capture_output=True)
check(p.returncode == 0 and b"--binary" in p.stdout, "--help documents the WebSocket form")

print("failures:", failures)
sys.exit(1 if failures else 0)
