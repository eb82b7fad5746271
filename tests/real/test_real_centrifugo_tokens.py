#!/usr/bin/env python3
"""The Centrifugo source's tokens against a real Centrifugo v6: a channel
in a namespace without allow_subscribe_for_client ("closed") needs a
subscription token (HS256, claims sub, channel, exp).

  - real_centrifugo_source (the C API): refused with 103 without a token
    provider (a permanent error event with a hint); with a token callback
    whose tokens live 3 s, subscribed with a subscription token, both
    tokens refreshed (sub_refresh, refresh: stats sub_refreshes,
    refreshes), publications made long after the first exp all arrive;
  - `zflow sub`: the closed channel without --token-secret exits 1 saying
    103 and the hint; with --token-secret (tokens signed by zflow, 3 s)
    it subscribes and keeps printing past the tokens' first exp, on one
    connection and one subscription; a reference check that the server
    does expire an unrefreshed subscription (code 2501) within the test's
    time, so that surviving means refreshing.

    test_real_centrifugo_tokens.py ZFLOW REAL_CENTRIFUGO_SOURCE"""
import asyncio
import json
import os
import queue
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realpeers  # noqa: E402

realpeers.use_peers_python()
realpeers.need_websockets()
import centrifugo_server as cs  # noqa: E402

ZFLOW, PROGRAM = sys.argv[1], sys.argv[2]
check = realpeers.Checks()
server = cs.Centrifugo().start()
WS = server.ws_url.replace("ws://", "centrifugo+ws://")


async def reference_expiry():
    """Without sub_refresh the real server drops a subscription whose
    token expired: unsubscribe push 2501 within a few seconds."""
    client = await cs.WsClient(server.ws_url).open()
    await client.call({"connect": {"token": cs.token(sub="ref")}})
    reply = await client.call({"subscribe": {"channel": "closed:ref", "token": cs.token(
        sub="ref", ttl=2, channel="closed:ref")}})
    check(reply and reply.get("subscribe", {}).get("expires") and
          reply["subscribe"].get("ttl", 0) <= 2,
          f"reference: a subscription token with exp says expires and ttl ({reply})")
    deadline = time.monotonic() + 10
    unsub = []
    while not unsub and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        unsub = [p for p in client.pushes if "unsubscribe" in p.get("push", {})]
    check(unsub and unsub[0]["push"]["unsubscribe"].get("code") == 2501,
          f"reference: unrefreshed, the server unsubscribes it with 2501 ({unsub[:1]})")
    await client.close()


def c_api():
    p = subprocess.run([PROGRAM, server.ws_url, server.api_url, cs.API_KEY, cs.SECRET],
                       capture_output=True, text=True, timeout=60)
    print(p.stdout.rstrip())
    check(p.returncode == 0, f"the C API with a token callback: all checks ({p.stderr[-300:]!r})")


class Sub:
    """zflow sub centrifugo+ws://... in the background."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([ZFLOW, "sub", WS] + list(args), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.out, self.err = queue.Queue(), []
        threading.Thread(target=lambda: [self.out.put(x) for x in self.proc.stdout],
                         daemon=True).start()
        threading.Thread(target=lambda: self.err.extend(self.proc.stderr), daemon=True).start()

    def said(self, text, count=1, seconds=10):
        return realpeers.wait_for(lambda: sum(text in e for e in self.err) >= count, seconds)

    def lines(self, n, seconds=10):
        got, deadline = [], time.monotonic() + seconds
        while len(got) < n and time.monotonic() < deadline:
            try:
                got.append(json.loads(self.out.get(timeout=0.1)))
            except queue.Empty:
                pass
        return got


def cli():
    t0 = time.monotonic()
    p = subprocess.run([ZFLOW, "sub", WS, "--timeout", "3000", "--channel", "closed:cli",
                        "--token", cs.token(sub="cli")], capture_output=True, text=True,
                       timeout=30)
    check(p.returncode == 1 and "103" in p.stderr and "subscription token" in p.stderr,
          f"zflow sub on a closed channel without --token-secret: exit 1 in "
          f"{time.monotonic() - t0:.1f} s, 103 and the hint said ({p.stderr.strip()[-200:]!r})")

    sub = Sub("--channel", "closed:cli", "--channel", "open:cli", "--token-secret", cs.SECRET,
              "--token-user", "cli", "--token-ttl", "3")
    check(sub.said("subscribed", 2), f"zflow sub --token-secret: subscribed to closed:cli and "
          f"open:cli ({[e.strip()[:160] for e in sub.err]})")
    t0 = time.monotonic()
    sent = 0
    while time.monotonic() - t0 < 9:
        server.api("publish", channel="closed:cli", data={"n": sent})
        sent += 1
        time.sleep(0.5)
    got = sub.lines(sent, 5)
    check(got == [{"n": n} for n in range(sent)],
          f"all {sent} publications printed, 9 s after 3 s tokens ({len(got)}: {got[-2:]})")
    check(sub.proc.poll() is None and not sub.said("disconnected", 1, 0) and
          not sub.said("unsubscribed", 1, 0) and sub.said("subscribed", 2, 0) and
          not sub.said("subscribed", 3, 0),
          f"on one connection and one subscription each ({[e.strip()[:120] for e in sub.err]})")
    check(realpeers.stop(sub.proc) == 0, "zflow sub exits 0 on SIGTERM")


asyncio.run(reference_expiry())
c_api()
cli()
check(server.stop() == 0, "centrifugo stops on SIGTERM")
server.close()
check.finish()
