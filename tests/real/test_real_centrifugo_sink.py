#!/usr/bin/env python3
"""The sink's payload rules and the server API client against a real
Centrifugo v6 (tests/real/centrifugo_server.py starts it on loopback).

Sink (`zflow pub http://.../api`): lines that are JSON arrive as that JSON,
other text as a JSON string, a line that is not UTF-8 and an empty line are
skipped; none of them closes a JSON-protocol subscriber (the real server
closes every one with 3506 on a binary publication) or breaks the channel's
history. API client (real_centrifugo_api, C): history limit -1, typed rpc,
connections (PRO only), unknown methods, in both wire formats.

    test_real_centrifugo_sink.py ZFLOW REAL_CENTRIFUGO_API"""
import asyncio
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realpeers  # noqa: E402

realpeers.use_peers_python()
realpeers.need_websockets()
import centrifugo_server as cs  # noqa: E402

ZFLOW, API = sys.argv[1], sys.argv[2]
check = realpeers.Checks()
server = cs.Centrifugo().start()


def zpub(channel, data, *options):
    p = subprocess.run([ZFLOW, "pub", server.api_url, "--channel", channel, "--api-key",
                        cs.API_KEY] + list(options), input=data, capture_output=True, timeout=30)
    return p.returncode, p.stderr.decode(errors="replace").strip()


async def sink():
    client = await cs.WsClient(server.ws_url).open()
    reply = await client.call({"connect": {"token": cs.token(), "name": "zflow-test"}})
    check(reply and "connect" in reply, f"a real client connects ({reply})")
    reply = await client.call({"subscribe": {"channel": "rec:text"}})
    check(reply and "subscribe" in reply, f"and subscribes to rec:text ({reply})")
    lines = [b'plain text, not JSON', b'{"json": 1}', b'\xff\xfe not UTF-8', b'',
             'h\u00e9llo w\u00f6rld'.encode(), b'42', b'[1, "two"]']
    rc, err = zpub("rec:text", b"\n".join(lines) + b"\n")
    check(rc == 1 and "5 of 7" in err and "skipped" in err,
          f"zflow pub of text, JSON, a non-UTF-8 and an empty line: exit 1, saying two lines "
          f"were skipped and why ({err!r})")
    want = ["plain text, not JSON", {"json": 1}, "h\u00e9llo w\u00f6rld", 42, [1, "two"]]
    pubs = await client.publications("rec:text", len(want))
    got = [p.get("data") for p in pubs]
    check(got == want, f"the subscriber got JSON as JSON, other text as a JSON string, the "
          f"non-UTF-8 and the empty line skipped ({got})")
    check(not any("b64data" in p for p in pubs), "and nothing as b64data")
    await asyncio.sleep(0.3)
    check(client.close_code is None,
          f"the JSON-protocol subscriber stays connected (close {client.close_code} "
          f"{client.close_reason!r})")
    status, answer = server.api("history", channel="rec:text", limit=-1)
    check(status == 200 and [p["data"] for p in answer["result"]["publications"]] == want,
          f"and the channel's history works: HTTP {status}, the same five")
    await client.close()


asyncio.run(sink())
p = subprocess.run([API, server.api_url, cs.API_KEY], capture_output=True, text=True, timeout=60)
print(p.stdout, end="")
check(p.returncode == 0,
      f"the API client: history -1, rpc, connections, unknown method ({p.stderr.strip()[-300:]!r})")
check(server.stop() == 0, "centrifugo stops on SIGTERM")
server.close()
check.finish()
