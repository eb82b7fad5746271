#!/usr/bin/env python3
"""zflow against a real Centrifugo v6 (tests/real/centrifugo_server.py starts
it on loopback with a generated config), through the command line:
`zflow pub http://.../api` (the sink) publishing lines that a real client
subscription (JSON protocol over python3-websockets) receives, and
`zflow sub centrifugo+ws://...` printing what the server API publishes,
(close codes by range: reconnect or exit 1 at once; 3014 without
recovery; an expired token; allow_recovery; a server unsubscribe 2000),
recovering what it missed across a forced reconnect, and exiting 1 on a
refused token or subscription.

    test_real_centrifugo.py ZFLOW"""
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

ZFLOW = sys.argv[1]
check = realpeers.Checks()
server = cs.Centrifugo().start()
WS = server.ws_url.replace("ws://", "centrifugo+ws://")
print(f"centrifugo {server.api('info')[1]['result']['nodes'][0]['version']} on "
      f"127.0.0.1:{server.port}")


def zpub(channel, data, key=cs.API_KEY):
    p = subprocess.run([ZFLOW, "pub", server.api_url, "--channel", channel, "--api-key", key],
                       input=data, capture_output=True, timeout=30)
    return p.returncode, p.stderr.decode(errors="replace").strip()


async def sink():
    """zflow pub http://.../api -> Centrifugo -> a real client subscription."""
    client = await cs.WsClient(server.ws_url).open()
    reply = await client.call({"connect": {"token": cs.token(), "name": "zflow-test"}})
    check(reply and "connect" in reply, f"a real client connects ({reply})")
    reply = await client.call({"subscribe": {"channel": "rec:sink"}})
    check(reply and "subscribe" in reply, f"and subscribes to rec:sink ({reply})")
    values = [{"n": 1, "text": "héllo"}, [1, 2, 3], "a string", 42, {"nested": {"ok": True}}]
    rc, err = zpub("rec:sink", "".join(json.dumps(v) + "\n" for v in values).encode())
    check(rc == 0, f"zflow pub of 5 JSON lines into rec:sink: exit 0 ({err!r})")
    pubs = await client.publications("rec:sink", 5)
    check([p.get("data") for p in pubs] == values,
          f"the client received each line's JSON as the publication's data, in order "
          f"({[p.get('data') for p in pubs]})")
    check([p.get("offset") for p in pubs] == [1, 2, 3, 4, 5],
          "with offsets 1..5 (the namespace keeps history)")
    status, answer = server.api("history", channel="rec:sink", limit=-1)
    check(status == 200 and [p["data"] for p in answer["result"]["publications"]] == values,
          f"and the server's history holds them (limit -1: all) ({status})")

    # an empty line between two: the real server refuses empty b64data (107);
    # whatever the sink does with it, the lines around it arrive in order
    rc, err = zpub("rec:sink", b'{"before":1}\n\n{"after":2}\n')
    pubs = await client.publications("rec:sink", 7)
    check([p.get("data") for p in pubs[5:]] in ([{"before": 1}, {"after": 2}],
                                                [{"before": 1}, {}, {"after": 2}]),
          f"an empty line does not stop the lines around it (exit {rc}, {err!r})")

    rc, err = zpub("rec:sink", b'{"k":1}\n', key="wrong-key")
    check(rc == 1 and err, f"a wrong API key (HTTP 401): exit 1 ({err!r})")
    rc, err = zpub("nosuchns:x", b'{"k":1}\n')
    check(rc == 1 and err, f"an unknown namespace (error 102): exit 1 ({err!r})")
    check(client.close_code is None, "the client stayed connected throughout")
    await client.close()


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


def source():
    """Centrifugo's server API -> zflow sub centrifugo+ws://."""
    sub = Sub("--channel", "rec:feed", "--channel", "open:feed", "--token", cs.token())
    check(sub.said("subscribed", 2), f"zflow sub subscribed to rec:feed and open:feed "
          f"({[e.strip()[:120] for e in sub.err]})")
    for n in range(3):
        server.api("publish", channel="rec:feed", data={"n": n, "text": "héllo"})
    server.api("publish", channel="open:feed", data=["x", 1])
    got = sub.lines(4)
    check(got == [{"n": n, "text": "héllo"} for n in range(3)] + [["x", 1]],
          f"each publication's data printed as one JSON line, in order ({got})")

    # a forced reconnect (close code 3001, no disconnect push: the real server
    # sends only a close frame); what is published meanwhile is recovered
    status, answer = server.api("disconnect", user="user1",
                                disconnect={"code": 3001, "reason": "test reconnect"})
    check(status == 200 and answer == {"result": {}}, f"the API disconnects the user ({answer})")
    for n in range(3, 6):
        server.api("publish", channel="rec:feed", data={"n": n})
    check(sub.said("disconnected") and sub.said("connected", 2),
          "zflow sub says it was disconnected and reconnects")
    got = sub.lines(3)
    check(got == [{"n": n} for n in range(3, 6)],
          f"what was published while away is recovered, in order (force_recovery) ({got})")
    #  zflow sub prints the recovered publications, then the "subscribed"
    #  event: stdout and stderr are read by two threads, so wait for it
    check(sub.said('"recovered":true', 1, 5), "and says it recovered")
    server.api("publish", channel="rec:feed", data={"n": 6})
    check(sub.lines(1) == [{"n": 6}], "and goes on with new publications")
    check(realpeers.stop(sub.proc) == 0, "zflow sub exits 0 on SIGTERM")

    # refusals: exit 1, the reason said
    runs = {
        "a bad token (close 3500)": (["--channel", "open:x", "--token", "not.a.jwt"], None),
        "a token signed with another key": (["--channel", "open:x", "--token",
                                             cs.token(secret="other")], None),
        "a namespace without allow_subscribe_for_client (103)":
            (["--channel", "closed:x", "--token", cs.token()], "103"),
        "an unknown namespace (102)": (["--channel", "nosuchns:x", "--token", cs.token()],
                                       "102"),
    }
    for what, (args, code) in runs.items():
        t0 = time.monotonic()
        p = subprocess.run([ZFLOW, "sub", WS, "--timeout", "3000"] + args, capture_output=True,
                           text=True, timeout=30)
        check(p.returncode == 1 and (code is None or code in p.stderr),
              f"{what}: exit 1 in {time.monotonic() - t0:.1f} s ({p.stderr.strip()[-160:]!r})")


def wait_exit(proc, seconds):
    """The exit code of proc within seconds, or None (then it is killed)."""
    try:
        return proc.wait(seconds)
    except subprocess.TimeoutExpired:
        realpeers.stop(proc)
        return None


def close_codes():
    """The API's disconnect with a code in each range: 3000-3499 and
    4000-4499 reconnect; 3500-3999 and 4500-4999 stop zflow sub at once
    (exit 1, the code said); 3014 reconnects without recovery."""
    for code, user in ((3001, "rc3001"), (4001, "rc4001")):
        sub = Sub("--channel", "open:cc", "--token", cs.token(sub=user))
        check(sub.said("subscribed"), f"{code}: zflow sub subscribed ({sub.err[-1:]})")
        status, answer = server.api("disconnect", user=user,
                                    disconnect={"code": code, "reason": "test"})
        check(status == 200 and sub.said("connected", 2) and sub.said("subscribed", 2),
              f"close code {code} (reconnect range): zflow sub reconnects and subscribes again")
        check(sub.proc.poll() is None, f"close code {code}: zflow sub still runs")
        server.api("publish", channel="open:cc", data={"code": code})
        check(sub.lines(1) == [{"code": code}], f"close code {code}: and goes on")
        realpeers.stop(sub.proc)
    for code, user, how in ((3503, "t3503", {}), (4500, "t4500", {"code": 4500, "reason": "bye"}),
                            (3999, "t3999", {"code": 3999, "reason": "bye"})):
        sub = Sub("--channel", "open:cc", "--token", cs.token(sub=user))
        check(sub.said("subscribed"), f"{code}: zflow sub subscribed")
        args = {"disconnect": how} if how else {}  # no code: the server's default, 3503
        t0 = time.monotonic()
        server.api("disconnect", user=user, **args)
        rc = wait_exit(sub.proc, 5)
        took = time.monotonic() - t0
        check(rc == 1 and took < 3, f"close code {code} (terminal): zflow sub exits 1 at once "
              f"(rc {rc} in {took:.1f} s)")
        check(sub.said(str(code), 1, 2) and sub.said("failed", 1, 2),
              f"close code {code}: the code and the failure said ({sub.err[-2:]})")
        check(sum("connected" in e and "disconnected" not in e for e in sub.err) == 1,
              f"close code {code}: no second connect")

    # 3014: state invalidated: reconnect, recovery deliberately not asked
    sub = Sub("--channel", "arec:inv", "--token", cs.token(sub="inv"))
    check(sub.said("subscribed"), "3014: zflow sub subscribed to arec:inv")
    server.api("publish", channel="arec:inv", data={"n": 0})
    check(sub.lines(1) == [{"n": 0}], "3014: a first publication arrives")
    server.api("disconnect", user="inv", disconnect={"code": 3014, "reason": "invalidated"})
    check(sub.said("subscribed", 2), "3014: zflow sub reconnects and subscribes again")
    check(sub.said('"was_recovering":false', 2, 2) and not sub.said('"was_recovering":true', 1, 0),
          f"3014: without asking for recovery ({[e.strip()[:160] for e in sub.err]})")
    server.api("publish", channel="arec:inv", data={"n": 1})
    check(sub.lines(1) == [{"n": 1}], "3014: and goes on")
    realpeers.stop(sub.proc)

    # an expired token: error 109 in the connect reply, permanent without
    # a refresh: exit 1 at once, not after retries
    t0 = time.monotonic()
    p = subprocess.run([ZFLOW, "sub", WS, "--timeout", "8000", "--channel", "open:x", "--token",
                        cs.token(ttl=-10)], capture_output=True, text=True, timeout=30)
    took = time.monotonic() - t0
    check(p.returncode == 1 and "109" in p.stderr and took < 3,
          f"an expired token (109): exit 1 at once ({took:.1f} s, {p.stderr.strip()[-160:]!r})")
    check(p.stderr.count('"op":"connect"') == 1 and '"reason":"token expired"' in p.stderr,
          f"and the connect was not retried ({p.stderr.count('token expired')} refusals)")


def allow_recovery():
    """An allow_recovery namespace (no force_recovery): zflow sub asks for a
    recoverable subscription, so what is published while it is away comes
    back after the reconnect."""
    sub = Sub("--channel", "arec:feed", "--token", cs.token(sub="arec"))
    check(sub.said("subscribed"), "zflow sub subscribed to arec:feed")
    check(sub.said('"recoverable":true'), f"the subscription is recoverable ({sub.err[-1:]})")
    server.api("publish", channel="arec:feed", data={"n": 0})
    check(sub.lines(1) == [{"n": 0}], "arec:feed: a first publication")
    server.api("disconnect", user="arec", disconnect={"code": 3001, "reason": "away"})
    for n in range(1, 4):
        server.api("publish", channel="arec:feed", data={"n": n})
    check(sub.said("subscribed", 2), "zflow sub reconnects")
    got = sub.lines(3)
    check(got == [{"n": n} for n in range(1, 4)],
          f"nothing published while away is lost (allow_recovery) ({got})")
    check(sub.said('"recovered":true', 1, 5), "and it says it recovered")
    realpeers.stop(sub.proc)


def server_unsubscribe():
    """The API's unsubscribe (push code 2000) is not undone by the next
    reconnect; the other channel goes on."""
    sub = Sub("--channel", "open:keep", "--channel", "open:gone", "--token", cs.token(sub="uns"))
    check(sub.said("subscribed", 2), "zflow sub subscribed to open:keep and open:gone")
    status, answer = server.api("unsubscribe", user="uns", channel="open:gone")
    check(status == 200 and sub.said("unsubscribed") and sub.said('"code":2000'),
          f"the API unsubscribes open:gone: code 2000 said ({answer}, {sub.err[-1:]})")
    server.api("disconnect", user="uns", disconnect={"code": 3001, "reason": "again"})
    check(sub.said("connected", 2) and sub.said("subscribed", 3),
          "zflow sub reconnects and subscribes open:keep again")
    time.sleep(0.5)
    check(sum("subscribed" in e and "open:gone" in e and "unsubscribed" not in e
              for e in sub.err) == 1, "but not open:gone")
    server.api("publish", channel="open:gone", data={"gone": 1})
    server.api("publish", channel="open:keep", data={"keep": 1})
    check(sub.lines(1) == [{"keep": 1}] and sub.lines(1, 0.5) == [],
          "only open:keep's publication is printed")
    realpeers.stop(sub.proc)


asyncio.run(sink())
source()
close_codes()
allow_recovery()
server_unsubscribe()
check(server.stop() == 0, "centrifugo stops on SIGTERM")
server.close()
check.finish()
