#!/usr/bin/env python3
"""The reference hpfeeds clients (PyPI hpfeeds 3.1.0: the asyncio
ClientSession and the blocking hpfeeds.new) against `zflow broker`, each
case run against the reference broker first: zflow broker must do what the
reference does. Payloads byte for byte up to the 1 MiB limit and one byte
past it, a wrong secret, ACL refusals (publish, subscribe), a restart.

    test_real_hpfeeds_ref_clients.py ZFLOW"""
import asyncio
import logging
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realpeers  # noqa: E402

realpeers.use_peers_python()
realpeers.need_hpfeeds()
import hpfeeds  # noqa: E402
from hpfeeds.asyncio import ClientSession  # noqa: E402
from hpfeeds.protocol import OP_ERROR, Unpacker, readerror  # noqa: E402
from hpfeeds_peers import USERS, BlockingSub, RefBroker, ZflowBroker, max_payload  # noqa: E402

ZFLOW = sys.argv[1]
check = realpeers.Checks()
#  the asyncio client has no on_error: an error frame is a logged traceback
logging.basicConfig(level=logging.CRITICAL)

LOOP = asyncio.new_event_loop()
threading.Thread(target=LOOP.run_forever, daemon=True).start()


def run(coro, seconds=20):
    return asyncio.run_coroutine_threadsafe(coro, LOOP).result(seconds)


class AsyncPeer:
    """A reference asyncio ClientSession living on LOOP."""

    def __init__(self, port, ident, secret=None, channels=()):
        async def make():
            s = ClientSession("127.0.0.1", port, ident, secret or USERS[ident][0])
            for c in channels:
                s.subscribe(c)
            return s
        self.session = run(make())
        self.messages = []
        self.reader = asyncio.run_coroutine_threadsafe(self._read(), LOOP)

    async def _read(self):
        while True:
            ident, chan, data = await self.session.read()
            self.messages.append((ident, chan, bytes(data)))

    def connected(self, seconds=10):
        async def wait():
            await asyncio.wait_for(asyncio.shield(self.session.when_connected), seconds)
        try:
            run(wait(), seconds + 5)
            return True
        except Exception:
            return False

    def publish(self, chan, data):
        LOOP.call_soon_threadsafe(self.session.publish, chan, data)

    def close(self):
        self.reader.cancel()

        async def close():
            self.session.closing = True
            if self.session.protocol:
                self.session.protocol.transport.close()
            self.session._ensure_connected.cancel()
        run(close())


def answer(port, ident, secret=None, subscribe=None, publish=None, seconds=3):
    """A raw exchange through the blocking client's socket: authenticates
    (with secret), then subscribes and/or publishes (channel, payload), and
    reads what the broker says until it closes or seconds pass. Returns
    (list of error texts, closed?)."""
    c = hpfeeds.new("127.0.0.1", port, ident, secret or USERS[ident][0], timeout=3,
                    reconnect=False)
    if subscribe:
        c.subscribe(subscribe)
        c._subscribe()
    if publish:
        c.publish(*publish)
    errors, closed = [], False
    unpacker = Unpacker()
    c.s.settimeout(0.2)
    deadline = time.monotonic() + seconds
    try:
        while not closed and time.monotonic() < deadline:
            try:
                d = c.s.recv(65536)
            except socket.timeout:
                continue
            if not d:
                closed = True
            unpacker.feed(d)
            for opcode, data in unpacker:
                if opcode == OP_ERROR:
                    errors.append(readerror(data))
    except OSError:
        closed = True
    c.close()
    return errors, closed


def synced(publisher, channel, lists, seconds=10):
    """Publishes probes until each subscriber's list (list, from index)
    shows one past its index (hpfeeds acknowledges no subscribe)."""
    deadline, n = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        publisher.publish(channel, b"probe %d" % n)
        n += 1
        if realpeers.wait_for(lambda: all(any(m[2].startswith(b"probe") for m in got[start:])
                                          for got, start in lists), 0.2):
            return True
    return False


def cases(broker):
    """Runs every case against broker; returns what was observed, for the
    comparison with the reference broker."""
    name, port, seen = broker.name, broker.port, {}
    print(f"--- {name} on 127.0.0.1:{port}")

    # 1. asyncio publisher -> broker -> blocking and asyncio subscribers
    bsub = BlockingSub(port, "reader", ["data", "bin"], reconnect=True)
    asub = AsyncPeer(port, "reader", channels=["data", "bin"])
    apub = AsyncPeer(port, "writer")
    check(apub.connected() and asub.connected(), f"{name}: the asyncio clients connect")
    check(synced(apub, "data", [(bsub.messages, 0), (asub.messages, 0)]),
          f"{name}: both subscribers receive (probe)")
    limit = max_payload("writer", "bin")
    big = bytes(range(256)) * (limit // 256) + bytes(limit % 256)
    payloads = [b'{"k":"v"}', "héllo".encode(), bytes(range(256)), b"", b"\x00",
                 bytes(range(256)) * 256, big]
    count = len(payloads)
    #  from the asyncio publisher, then the same from the blocking one
    bpub = hpfeeds.new("127.0.0.1", port, "writer", USERS["writer"][0], timeout=3,
                       reconnect=False)
    for who_pub, send in (("asyncio", apub.publish), ("blocking", bpub.publish)):
        b0, a0 = len(bsub.messages), len(asub.messages)
        for p in payloads:
            send("bin", p)
        ok = realpeers.wait_for(lambda: len(bsub.messages) >= b0 + count and
                                len(asub.messages) >= a0 + count)
        for who, got in (("blocking", bsub.messages[b0:]), ("asyncio", asub.messages[a0:])):
            check(ok and [m[2] for m in got] == payloads,
                  f"{name}: {who_pub} publisher -> the {who} subscriber: every payload byte "
                  f"for byte, 0 B, 1 B, 64 KiB and {limit} bytes (the limit) included "
                  f"({len(got)})")
            check(all(m[:2] == ("writer", "bin") for m in got),
                  f"{name}: with ident and channel")
    bpub.close()

    # 2. one byte past the limit: the connection is dropped, nothing delivered
    errors, closed = answer(port, "writer", publish=("bin", big + b"x"))
    #  the reference closes in silence; zflow broker says why first
    seen["too big"] = closed
    check(closed, f"{name}: a publish one byte past the limit: the connection is closed "
          f"(errors {[e[:60] for e in errors]})")
    time.sleep(0.3)
    check(not any(len(m[2]) > limit for m in bsub.messages + asub.messages),
          f"{name}: nothing oversized was delivered")

    # 3. wrong secret, unknown ident
    for ident, secret in (("writer", "wrong"), ("nobody", "x")):
        errors, closed = answer(port, ident, secret, publish=("data", b'{"wrong":1}'))
        seen["auth " + ident] = (errors, closed)
        check(errors == [f"Authentication failed for {ident}"] and closed,
              f"{name}: {ident} with a wrong secret: one error frame, then closed ({errors})")
    wrong = AsyncPeer(port, "writer", secret="wrong")
    wrong.connected()
    wrong.publish("data", b'{"wrong":2}')
    time.sleep(0.5)
    wrong.close()
    check(not any(b"wrong" in m[2] for m in bsub.messages + asub.messages),
          f"{name}: nothing published under a wrong secret was delivered")

    # 4. ACL refusals
    errors, closed = answer(port, "reader", publish=("data", b'{"acl":1}'))
    seen["acl pub"] = (errors, closed)
    check(closed and len(errors) == 1 and "not allowed to pub" in errors[0],
          f"{name}: publish to a channel not allowed: an error frame, then closed ({errors})")
    errors, closed = answer(port, "writer", subscribe="data")
    seen["acl sub"] = (errors, closed)
    check(closed and len(errors) == 1 and "not allowed to sub" in errors[0],
          f"{name}: subscribe to a channel not allowed: an error frame, then closed ({errors})")
    time.sleep(0.3)
    check(not any(b"acl" in m[2] for m in bsub.messages + asub.messages),
          f"{name}: nothing refused was delivered")

    # 5. restart: both reference clients reconnect and resubscribe by themselves
    broker.restart()
    check(broker.port == port, f"{name}: restarted on the same port")
    apub.close()
    apub = AsyncPeer(port, "writer")
    check(apub.connected(), f"{name}: a new asyncio publisher connects after the restart")
    b1, a1 = len(bsub.messages), len(asub.messages)
    check(synced(apub, "data", [(bsub.messages, b1), (asub.messages, a1)], 20),
          f"{name}: both subscribers reconnected and resubscribed")
    b2, a2 = len(bsub.messages), len(asub.messages)
    after = [b"after restart %d" % n for n in range(50)]
    for p in after:
        apub.publish("bin", p)
    realpeers.wait_for(lambda: len(bsub.messages) >= b2 + 50 and len(asub.messages) >= a2 + 50)
    for who, got in (("blocking", bsub.messages[b2:]), ("asyncio", asub.messages[a2:])):
        got = [m[2] for m in got if not m[2].startswith(b"probe")]
        check(got == after, f"{name}: the {who} subscriber got the 50 messages published after "
              f"the restart, in order ({len(got)})")
    seen["restart errors"] = sorted(set(bsub.errors))
    print(f"     (error frames the blocking subscriber saw: {sorted(set(bsub.errors))})")
    for peer in (bsub, asub, apub):
        peer.close()
    return seen


ref = RefBroker().start()
reference = cases(ref)
ref.close()
zb = ZflowBroker(ZFLOW).start()
observed = cases(zb)
check(zb.stop() == 0, "zflow broker exits 0 on SIGTERM")
for case in ("too big", "auth writer", "auth nobody", "acl pub", "acl sub"):
    check(observed[case] == reference[case] or
          (case.startswith("acl") and [bool(observed[case][0]), observed[case][1]] ==
           [bool(reference[case][0]), reference[case][1]]),
          f"zflow broker answers '{case}' as the reference does ({observed[case]} vs "
          f"{reference[case]})")
check.finish()
