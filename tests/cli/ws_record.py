#!/usr/bin/python3
"""A recording WebSocket server for the zflow command's tests (Debian's
python3-websockets). Prints the bound port on the first line of stdout, then
one JSON line per event until killed:

    {"conn": n, "path": p, "headers": {..}, "subprotocol": s}   a client connected
    {"conn": n, "text": t} / {"conn": n, "binary": hex}          a message arrived
    {"conn": n, "closed": code, "reason": r}                     the client closed

    ws_record.py [--tls CERT KEY] [--slow MS]   (--slow: pause after each message,
                                                 so that the client's queue fills)
"""
import asyncio
import json
import ssl
import sys

import logging

import websockets

logging.getLogger("websockets").setLevel(logging.CRITICAL)
COUNT = [0]
SLOW = [0.0]


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def handler(ws):
    COUNT[0] += 1
    conn = COUNT[0]
    emit({"conn": conn, "path": ws.path, "subprotocol": ws.subprotocol,
          "headers": {k.lower(): v for k, v in ws.request_headers.raw_items()}})
    try:
        async for message in ws:
            if isinstance(message, str):
                emit({"conn": conn, "text": message})
            else:
                emit({"conn": conn, "binary": message.hex()})
            if SLOW[0]:
                await asyncio.sleep(SLOW[0])
    except websockets.ConnectionClosed:
        pass
    emit({"conn": conn, "closed": ws.close_code, "reason": ws.close_reason})


async def main():
    args = sys.argv[1:]
    ssl_ctx = None
    if "--tls" in args:
        i = args.index("--tls")
        ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ssl_ctx.load_cert_chain(args[i + 1], args[i + 2])
    if "--slow" in args:
        SLOW[0] = int(args[args.index("--slow") + 1]) / 1000.0
    async with websockets.serve(handler, "127.0.0.1", 0, ssl=ssl_ctx, max_size=None,
                                subprotocols=["chat", "superchat"]) as server:
        emit(server.sockets[0].getsockname()[1])
        await asyncio.Future()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
