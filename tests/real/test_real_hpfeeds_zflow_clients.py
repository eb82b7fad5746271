#!/usr/bin/env python3
"""zflow's hpfeeds client (`zflow pub hpfeeds://` and `zflow sub hpfeeds://`)
against the reference broker (hpfeeds-broker, PyPI hpfeeds 3.1.0), with the
reference blocking client on the other side of each exchange:
payloads byte for byte up to the 1 MiB limit and one byte past it, a wrong
secret, ACL refusals (publish and subscribe), and a broker restart.

    test_real_hpfeeds_zflow_clients.py ZFLOW"""
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realpeers  # noqa: E402

realpeers.use_peers_python()
realpeers.need_hpfeeds()
import hpfeeds  # noqa: E402
from hpfeeds_peers import USERS, BlockingSub, RefBroker, max_payload  # noqa: E402

ZFLOW = sys.argv[1]
check = realpeers.Checks()


def url(port, ident, channels, secret=None):
    return f"hpfeeds://{ident}:{secret or USERS[ident][0]}@127.0.0.1:{port}/{channels}"


def zpub(port, ident, channel, data, secret=None, timeout=30):
    t0 = time.monotonic()
    p = subprocess.run([ZFLOW, "pub", url(port, ident, channel, secret)], input=data,
                       capture_output=True, timeout=timeout)
    return p.returncode, p.stderr.decode(errors="replace").strip(), time.monotonic() - t0


def ref_publisher(port, ident="both"):
    return hpfeeds.new("127.0.0.1", port, ident, USERS[ident][0], timeout=3, reconnect=False)


def synced(publisher, channel, got, start=0, seconds=10):
    """Publishes probes until the subscriber's list got shows one past index
    start (hpfeeds acknowledges no subscribe). Returns True when the
    subscription works."""
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        publisher.publish(channel, b"probe %d" % n)
        n += 1
        if realpeers.wait_for(lambda: any(b"probe" in str(m).encode() for m in got[start:]),
                              0.2):
            return True
    return False


class ZSub:
    """zflow sub hpfeeds://... in the background; stdout lines in .lines."""

    def __init__(self, port, ident, channels, *args):
        self.proc = subprocess.Popen([ZFLOW, "sub", url(port, ident, channels)] + list(args),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines, self.err = [], []
        threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True).start()
        threading.Thread(target=lambda: self.err.extend(self.proc.stderr), daemon=True).start()

    def close(self):
        return realpeers.stop(self.proc)


broker = RefBroker().start()
port = broker.port
print(f"reference broker on 127.0.0.1:{port}")

# 1. zflow pub -> reference broker -> reference blocking subscriber, byte for byte
sub = BlockingSub(port, "reader", ["data", "bin"])
pub = ref_publisher(port)
check(synced(pub, "data", sub.messages), "the reference subscriber receives (probe)")
limit = max_payload("writer", "bin")
#  every byte value but '\n' (zflow pub sends one payload per line), not UTF-8
binary = bytes(b for b in range(256) if b != 10)
big = (binary * (limit // len(binary) + 1))[:limit - 1] + b"!"  # no '\r' at the end
lines = [b'{"n":1,"text":"h\xc3\xa9llo"}', b"plain text", binary, big]
before = len(sub.messages)
rc, err, took = zpub(port, "writer", "bin", b"\n".join(lines) + b"\n")
check(rc == 0, f"zflow pub of 4 lines, the last {len(big)} bytes (the limit): exit 0 ({err!r})")
check(realpeers.wait_for(lambda: len(sub.messages) >= before + 4, 10),
      f"the reference subscriber got 4 messages ({len(sub.messages) - before})")
got = [m for m in sub.messages[before:] if not m[2].startswith(b"probe")]
check([m[2] for m in got] == lines, "each payload byte for byte, the largest included")
check(all(m[0] == "writer" and m[1] == "bin" for m in got),
      "with the publisher's ident and the channel")

over = big + b"x"
rc, err, took = zpub(port, "writer", "bin", over + b"\n")
check(rc == 1 and err, f"one byte past the limit: zflow pub exits 1 and says why ({rc}, {err!r})")
time.sleep(0.3)
check(not any(len(m[2]) > limit for m in sub.messages), "and nothing oversized reached anyone")

# 2. reference publisher -> reference broker -> zflow sub
zs = ZSub(port, "reader", "data,bin")
check(synced(pub, "data", zs.lines), "zflow sub receives from the reference broker (probe)")
n0 = len(zs.lines)
pub.publish("data", b'{"a":[1,2]}')
pub.publish("bin", "héllo".encode())
pub.publish("bin", b"caf\xe9 \x00 \xff")
pub.publish("bin", big)
check(realpeers.wait_for(lambda: len(zs.lines) >= n0 + 4, 10), "zflow sub printed 4 lines")
out = [json.loads(line) for line in zs.lines[n0:n0 + 4]]
check(out[:2] == [{"a": [1, 2]}, "héllo"], f"JSON and UTF-8 text as JSON lines ({out[:2]})")
check(out[2] == "caf? \x00 ?", f"non-UTF-8 bytes: each byte >= 0x80 shown as '?' ({out[2]!r})")
check(isinstance(out[3], str) and len(out[3]) == len(big),
      f"the largest payload arrived whole ({len(out[3]) if isinstance(out[3], str) else out[3]})")

# 3. broker restart: zflow sub reconnects and resubscribes by itself
broker.restart()
check(broker.port == port, "the reference broker restarted on the same port")
pub = ref_publisher(port)
check(synced(pub, "data", zs.lines, n0 + 4, 20),
      "zflow sub reconnected and resubscribed after the restart")
n1 = len(zs.lines)
pub.publish("data", b'{"after":"restart"}')
check(realpeers.wait_for(lambda: any(b"after" in line for line in zs.lines[n1:]), 10),
      "and receives what is published after it")
check(zs.proc.poll() is None, "zflow sub kept running across the restart")
check(zs.close() == 0, "zflow sub exits 0 on SIGTERM")
rc, err, took = zpub(port, "writer", "data", b'{"pub":"after restart"}\n')
check(rc == 0, f"zflow pub works against the restarted broker ({err!r})")

# 4. wrong secret: a clear error and exit 1, for both commands
rc, err, took = zpub(port, "writer", "data", b"x\n", secret="wrong")
check(rc == 1 and "Authentication failed for writer" in err,
      f"zflow pub, wrong secret: exit 1 with the broker's words ({err!r}, {took:.1f} s)")
t0 = time.monotonic()
p = subprocess.run([ZFLOW, "sub", url(port, "reader", "data", "wrong"), "--count", "1"],
                   capture_output=True, text=True, timeout=30)
check(p.returncode == 1 and "Authentication failed for reader" in p.stderr,
      f"zflow sub, wrong secret: exit 1 ({p.stderr.strip()!r}, {time.monotonic() - t0:.1f} s)")
rc, err, took = zpub(port, "nobody", "data", b"x\n", secret="x")
check(rc == 1 and "Authentication failed for nobody" in err, f"an unknown ident: exit 1 ({err!r})")

# 5. ACL: the reference broker answers an error frame and closes
rc, err, took = zpub(port, "reader", "data", b'{"not":"allowed"}\n')
check(rc == 1 and "not allowed to pub" in err,
      f"zflow pub to a channel the ident may not publish to: exit 1, the refusal said "
      f"(rc {rc}, {err!r})")
lines = b"".join(b'{"n":%d}\n' % n for n in range(200))
rc, err, took = zpub(port, "reader", "data", lines)
check(rc == 1 and "not allowed to pub" in err and took < 10,
      f"... also with 200 lines, without retrying for ever (rc {rc}, {took:.1f} s)")
p = subprocess.run([ZFLOW, "sub", url(port, "writer", "data"), "--count", "1"],
                   capture_output=True, text=True, timeout=30)
check(p.returncode == 1 and "not allowed to sub" in p.stderr,
      f"zflow sub to a channel the ident may not subscribe to: exit 1 ({p.stderr.strip()!r})")
check(not any(b"not" in m[2] for m in sub.messages), "nothing refused was delivered")

sub.close()
pub.close()
broker.close()
check.finish()
