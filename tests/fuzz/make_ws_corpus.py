#!/usr/bin/python3
"""Writes the seed corpus of fuzz_ws into tests/fuzz/ws_corpus/ (run once;
the output is committed). Mode byte first: 0 handshake, 1 frames, 2 frames
with permessage-deflate, 3 handshake + frames, 4 URL."""
import base64
import hashlib
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "ws"))
from conformance import CASES, frame, close  # noqa: E402

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = base64.b64encode(hashlib.sha1(KEY + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                          .digest()).decode()
OUT = os.path.join(os.path.dirname(__file__), "ws_corpus")


def response(*extra):
    lines = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Accept: " + ACCEPT] + list(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def deflated(text):
    c = zlib.compressobj(wbits=-15)
    data = c.compress(text) + c.flush(zlib.Z_SYNC_FLUSH)
    return data[:-4]


seeds = {
    "hs_plain": b"\0" + response(),
    "hs_deflate": b"\0" + response("Sec-WebSocket-Extensions: permessage-deflate; "
                                   "server_no_context_takeover; client_max_window_bits=10"),
    "hs_proto": b"\0" + response("Sec-WebSocket-Protocol: chat"),
    "hs_redirect": b"\0HTTP/1.1 302 Found\r\nLocation: ws://x/\r\n\r\n",
    "hs_badext": b"\0" + response("Sec-WebSocket-Extensions: permessage-deflate; x=1"),
    "fr_text": b"\1" + frame(1, b"hello") + frame(2, b"\0\1\2") + close(1000, b"bye"),
    "fr_frag": b"\1" + frame(1, b"he", fin=False) + frame(9, b"p") + frame(0, b"llo"),
    "fr_big": b"\1" + frame(1, b"z" * 300) + frame(2, b"q" * 70000),
    "fr_ping": b"\1" + frame(9, b"ping") + frame(10, b"pong"),
    "fr_split": b"\1" + frame(1, b"caf\xc3", fin=False) + frame(9, b"p")
                + frame(0, b"\xa9", fin=False) + frame(0, b"") + close(1001),
    "fr_closefail": b"\1" + frame(1, b"x" * 70000) + close(4000, b"\xc3\xa9"),
    "df_text": b"\2" + frame(1, deflated(b"compressed hello" * 10), rsv=4),
    "df_frag": b"\2" + frame(1, deflated(b"abc" * 50)[:5], fin=False, rsv=4)
               + frame(0, deflated(b"abc" * 50)[5:]),
    "hsfr_plain": b"\3" + response() + frame(1, b"after handshake"),
    "hsfr_deflate": b"\3" + response("Sec-WebSocket-Extensions: permessage-deflate")
                    + frame(1, deflated(b"{\"a\":1}"), rsv=4),
    "url_ws": b"\4ws://example.org:8080/path?q=1",
    "url_v6": b"\4wss://[::1]:443/",
}
for name, data in CASES.items():
    seeds["bad" + name.replace("/", "_")] = (b"\2" if "deflate" in name else b"\1") + data
os.makedirs(OUT, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(len(seeds), "seeds in", OUT)
