#!/usr/bin/python3
"""Test server for zflow's WebSocket client, on the Python websockets library.

Run with Debian's /usr/bin/python3 (python3-websockets 10.4). Prints the
bound port on the first line of stdout, then serves until killed.

    server.py [--deflate] [--tls CERT KEY] [--port N]

Paths:  /echo         echo every message (text stays text, binary binary)
        /close/CODE[/REASON]  close at once with CODE and REASON ("bye")
        /mixed        send binary {"b":1}, text "hello", binary 00 01 02 and
                      text {"t":1}, then echo
        /stream/N     send N JSON messages {"i":k,"kind":"a"|"b"}, then echo
        /frag         send one text message in 3 fragments, then echo
        /ping         ping the client, send "pong-ok" when its pong arrives
        /big/N        send one text message of N bytes, then echo
        /headers      send the request headers as a JSON object
        /apping       application pings {"ping":n} and "ping", then {"ok":bool}
        /sni          send the TLS server name the client sent (None if none)
        /redirect     answer 302 (the client must refuse)
        /forbidden    answer 403
        /count        send {"seq":k} every 2 ms forever (for reconnects)
"""
import asyncio
import http
import json
import ssl
import sys

import logging

import websockets

logging.getLogger("websockets").setLevel(logging.CRITICAL)

SEQ = [0]
SNI = [None]  # the server name the last TLS client sent (SNI)
UNSENT = []   # numbers whose send failed: the next sender takes them first


async def handler(ws):
    path = ws.path
    if path.startswith("/close/"):
        parts = path.split("/")
        await ws.close(int(parts[2]), parts[3] if len(parts) > 3 else "bye")
        return
    if path == "/mixed":
        await ws.send(b'{"b":1}')
        await ws.send("hello")
        await ws.send(b"\x00\x01\x02")
        await ws.send('{"t":1}')
    if path.startswith("/stream/"):
        n = int(path.split("/")[2])
        for k in range(n):
            await ws.send(json.dumps({"i": k, "kind": "a" if k % 2 == 0 else "b"}))
    elif path == "/frag":
        await ws.send(iter(["frag", "ment", "ed"]))
    elif path == "/ping":
        waiter = await ws.ping(b"srv")
        await waiter
        await ws.send("pong-ok")
    elif path.startswith("/big/"):
        await ws.send("x" * int(path.split("/")[2]))
    elif path == "/apping":
        # Application pings from the server; "ok" once both are answered.
        await ws.send(json.dumps({"ping": 1700000000123}))
        answer = await ws.recv()
        await ws.send("ping")
        answer2 = await ws.recv()
        good = json.loads(answer) == {"pong": 1700000000123} and answer2 == "pong"
        await ws.send(json.dumps({"ok": good}))
    elif path == "/sni":
        await ws.send(str(SNI[0]))
    elif path == "/headers":
        await ws.send(json.dumps({k.lower(): v for k, v in ws.request_headers.raw_items()}))
    elif path == "/count":
        # Every number is sent exactly once over all connections: a number
        # whose send fails (closing connection) goes to the next sender.
        while True:
            if UNSENT:
                n = UNSENT.pop(0)
            else:
                SEQ[0] += 1
                n = SEQ[0]
            try:
                await ws.send(json.dumps({"seq": n}))
            except websockets.ConnectionClosed:
                UNSENT.append(n)
                return
            await asyncio.sleep(0.002)
    async for message in ws:
        await ws.send(message)


async def process_request(path, headers):
    if path == "/redirect":
        return http.HTTPStatus.FOUND, [("Location", "ws://127.0.0.1:1/elsewhere")], b""
    if path == "/forbidden":
        return http.HTTPStatus.FORBIDDEN, [], b"no\n"
    return None


async def main():
    args = sys.argv[1:]
    compression = "deflate" if "--deflate" in args else None
    ssl_ctx = None
    if "--tls" in args:
        i = args.index("--tls")
        ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ssl_ctx.load_cert_chain(args[i + 1], args[i + 2])
        ssl_ctx.sni_callback = lambda sock, name, ctx: SNI.__setitem__(0, name)
    port = int(args[args.index("--port") + 1]) if "--port" in args else 0
    async with websockets.serve(handler, "127.0.0.1", port, compression=compression,
                                ssl=ssl_ctx, subprotocols=["chat", "superchat"],
                                process_request=process_request, max_size=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
