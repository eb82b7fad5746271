#!/usr/bin/python3
"""A WebSocket server of our own that breaks RFC 6455 on purpose.

asyncio on raw sockets: the handshake and every frame are written by hand
so each protocol edge case can be produced. Prints the port, then serves.
The path of the request picks the case (see CASES). After the case the
server reads the client's frames, answers a close with a close, and keeps
what it saw; GET /result (a normal WebSocket) returns the last record as
JSON: {"case": ..., "close_code": n or null, "masked": bool, "pong": bool}.
"""
import asyncio
import base64
import hashlib
import json
import os
import struct
import sys
import zlib

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
LAST = {}


def frame(opcode, payload=b"", fin=True, rsv=0, mask=False, length=None):
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    n = len(payload) if length is None else length
    mbit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mbit | n])
    elif n < 65536:
        head += bytes([mbit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mbit | 127]) + struct.pack("!Q", n)
    if mask:
        key = os.urandom(4)
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        head += key
    return head + payload


def close(code, reason=b""):
    return frame(8, struct.pack("!H", code) + reason)


def deflated(text):
    c = zlib.compressobj(wbits=-15)
    data = c.compress(text) + c.flush(zlib.Z_SYNC_FLUSH)
    return data[:-4]


#  A text message of 10000 two-byte code points in frames of 4097 bytes:
#  every frame boundary and most of wslay's 4 KiB reads split a code point.
BIG = ("\u00e9" * 10000).encode()
BIG_FRAMES = b"".join(frame(1 if i == 0 else 0, BIG[i:i + 4097], fin=i + 4097 >= len(BIG))
                      for i in range(0, len(BIG), 4097))
BAD_UTF8 = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"
CASES = {
    "/utf8": frame(1, BAD_UTF8),
    "/utf8frag": frame(1, b"ok \xce", fin=False) + frame(0, b"\xff rest"),
    "/masked": frame(1, b"masked", mask=True),
    "/rsv2": frame(1, b"rsv", rsv=2),
    "/rsv1": frame(1, b"rsv", rsv=4),
    "/bigping": frame(9, b"x" * 126),
    "/fragping": frame(9, b"p", fin=False),
    "/close1005": close(1005),
    "/close999": close(999),
    "/close1byte": frame(8, b"\x03"),
    "/closereason": close(1000, b"\xff\xfe"),
    "/opcode3": frame(3, b"x"),
    "/cont": frame(0, b"orphan"),
    "/newmsg": frame(1, b"part", fin=False) + frame(1, b"again"),
    "/oversize": frame(1, b"y" * 2000),
    "/len64": b"\x81\x7f" + struct.pack("!Q", 1 << 63),
    "/deflatebad": frame(1, b"\x00\x01garbage!", rsv=4),
    #  Invalid in the first fragment: failed before the message ends.
    "/fastfail": frame(1, b"ok \xff", fin=False),
    "/splitbad": frame(1, b"ok \xe2\x82", fin=False) + frame(9, b"p") + frame(0, b"\x28"),
    "/deflatecont": frame(1, deflated(b"abc" * 20)[:3], fin=False, rsv=4)
    + frame(0, deflated(b"abc" * 20)[3:], rsv=4),
    "/deflateping": frame(9, b"p", rsv=4),
    "/opcode11": frame(11, b""),
    #  Fine: the client must deliver the message (and answer the pings).
    "/interleave": frame(1, b"inter", fin=False) + frame(9, b"hi") + frame(0, b"leaved"),
    "/splitping": frame(1, b"caf\xc3", fin=False) + frame(9, b"hi")
    + frame(0, b"\xa9 \xe2\x82", fin=False) + frame(10, b"unasked") + frame(0, b"\xac!"),
    "/emptyfrag": frame(1, b"", fin=False) + frame(0, b"", fin=False) + frame(0, b"ab"),
    "/bigfrag": BIG_FRAMES,
    "/close3001": close(3001, b"bye"),
}
#  Cases broken in the handshake itself: name -> response header lines.
HANDSHAKES = {
    "/badaccept": lambda acc: ["Upgrade: websocket", "Connection: Upgrade",
                               "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA="],
    "/noupgrade": lambda acc: ["Connection: Upgrade", "Sec-WebSocket-Accept: " + acc],
    "/badext": lambda acc: ["Upgrade: websocket", "Connection: Upgrade",
                            "Sec-WebSocket-Accept: " + acc,
                            "Sec-WebSocket-Extensions: x-unknown"],
    "/badproto": lambda acc: ["Upgrade: websocket", "Connection: Upgrade",
                              "Sec-WebSocket-Accept: " + acc,
                              "Sec-WebSocket-Protocol: never-offered"],
}


async def read_frame(reader):
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", await reader.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", await reader.readexactly(8))[0]
    key = await reader.readexactly(4) if b1 & 0x80 else None
    data = await reader.readexactly(n)
    if key:
        data = bytes(b ^ key[i % 4] for i, b in enumerate(data))
    return b0 & 0x0F, bool(b1 & 0x80), data


async def serve(reader, writer):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        writer.close()
        return
    lines = head.decode("latin-1").split("\r\n")
    path = lines[0].split(" ")[1]
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    key = headers.get("sec-websocket-key", "").encode()
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
    if path in HANDSHAKES:
        response = ["HTTP/1.1 101 Switching Protocols"] + HANDSHAKES[path](accept)
    else:
        response = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket",
                    "Connection: Upgrade", "Sec-WebSocket-Accept: " + accept]
        if path.startswith("/deflate"):
            response.append("Sec-WebSocket-Extensions: permessage-deflate")
    writer.write(("\r\n".join(response) + "\r\n\r\n").encode())
    if path == "/result":
        writer.write(frame(1, json.dumps(LAST).encode()) + close(1000))
        await writer.drain()
        writer.close()
        return
    record = {"case": path, "close_code": None, "masked": True, "pong": False}
    writer.write(CASES.get(path, b""))
    await writer.drain()
    try:
        while True:
            opcode, masked, data = await asyncio.wait_for(read_frame(reader), 6)
            record["masked"] = record["masked"] and masked
            if opcode == 10:
                record["pong"] = True
            if opcode == 8:
                record["close_code"] = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
                LAST.clear()
                LAST.update(record)
                writer.write(close(record["close_code"]) if record["close_code"] != 1005
                             else frame(8))
                await writer.drain()
                break
            if path == "/interleave" and opcode == 1:
                record["echo"] = data.decode()
    except Exception:
        pass
    LAST.clear()
    LAST.update(record)
    writer.close()


async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
