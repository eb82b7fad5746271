#!/usr/bin/env python3
"""A hostile WebSocket server for zflow's hostile tests (loopback only).

It accepts one client, answers the opening handshake, then floods it with
control or data frames while never reading what the client sends back, and
finally sends one text message the client must still receive.

  hostile_ws.py ping MIB      MIB MiB of 125-byte pings, then "after-flood"
  hostile_ws.py centrifugo MIB
      a Centrifugo client-protocol peer: answers the connect command (pings
      with pongs wanted) and the subscribe, then MIB MiB of Centrifugo pings
      ("{}" lines, many per frame); when the client stops reading (its
      replies are not read, so it must stop), it waits 2 s, says "stalled",
      reads everything the client queued, and pushes a publication
      {"n":"after-flood"} on the channel subscribed.

It prints "PORT <n>" when listening, "flooded <bytes> <seconds>" (or "stalled
<bytes>") when the flood is over, and "sent" after the last message."""
import base64
import hashlib
import json
import os
import select
import socket
import sys
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def say(*words):
    print(*words, flush=True)


def frame(opcode, payload):
    """One unmasked final frame (server to client)."""
    n = len(payload)
    if n < 126:
        header = bytes([0x80 | opcode, n])
    elif n < 65536:
        header = bytes([0x80 | opcode, 126]) + n.to_bytes(2, "big")
    else:
        header = bytes([0x80 | opcode, 127]) + n.to_bytes(8, "big")
    return header + payload


def handshake(conn):
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = conn.recv(4096)
        if not chunk:
            sys.exit("client left during the handshake")
        request += chunk
    head, rest = request.split(b"\r\n\r\n", 1)
    key = None
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "sec-websocket-key":
            key = value.strip()
    accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
    conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + "\r\n\r\n").encode())
    return rest


class Reader:
    """Client frames (masked), parsed from what recv gives."""

    def __init__(self, conn, data=b""):
        self.conn = conn
        self.data = data

    def message(self):
        while True:
            got = self._parse()
            if got is not None:
                return got
            chunk = self.conn.recv(65536)
            if not chunk:
                sys.exit("client left")
            self.data += chunk

    def drain(self, seconds):
        """Reads and drops whatever comes for seconds; returns the bytes."""
        total = 0
        self.conn.setblocking(False)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.conn], [], [], 0.1)
            if ready:
                try:
                    chunk = self.conn.recv(1 << 20)
                except BlockingIOError:
                    continue
                if not chunk:
                    break
                total += len(chunk)
        self.conn.setblocking(True)
        self.data = b""
        return total

    def _parse(self):
        d = self.data
        if len(d) < 2:
            return None
        n = d[1] & 0x7F
        at = 2
        if n == 126:
            if len(d) < 4:
                return None
            n = int.from_bytes(d[2:4], "big")
            at = 4
        elif n == 127:
            if len(d) < 10:
                return None
            n = int.from_bytes(d[2:10], "big")
            at = 10
        if len(d) < at + 4 + n:
            return None
        mask = d[at:at + 4]
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(d[at + 4:at + 4 + n]))
        self.data = d[at + 4 + n:]
        return d[0] & 0x0F, payload


def flood_pings(conn, mib):
    ping = frame(0x9, b"p" * 125)
    chunk = ping * ((1 << 20) // len(ping))
    total, start = 0, time.monotonic()
    while total < mib << 20:
        conn.sendall(chunk)
        total += len(chunk)
    say("flooded", total, "%.2f" % (time.monotonic() - start))
    conn.sendall(frame(0x1, b"after-flood"))
    say("sent")


def flood_centrifugo(conn, rest, mib):
    reader = Reader(conn, rest)
    channel = None
    while channel is None:
        opcode, payload = reader.message()
        if opcode != 0x1:
            continue
        for line in payload.decode().split("\n"):
            command = json.loads(line) if line.strip() else {}
            if "connect" in command:
                reply = {"id": command["id"], "connect": {"client": "hostile", "version": "6.0.0",
                                                          "ping": 25, "pong": True}}
            elif "subscribe" in command:
                channel = command["subscribe"]["channel"]
                reply = {"id": command["id"], "subscribe": {}}
            else:
                continue
            conn.sendall(frame(0x1, json.dumps(reply).encode()))
    pings = frame(0x1, b"\n".join([b"{}"] * 20000))
    conn.setblocking(False)
    total, stuck_since = 0, None
    view = memoryview(pings)
    while total < mib << 20:
        try:
            sent = conn.send(view)
        except BlockingIOError:
            sent = 0
        if sent:
            total += sent
            view = view[sent:] if sent < len(view) else memoryview(pings)
            stuck_since = None
            continue
        stuck_since = stuck_since or time.monotonic()
        if time.monotonic() - stuck_since > 2:
            break
        select.select([], [conn], [], 0.1)
    conn.setblocking(True)
    say("stalled" if total < mib << 20 else "flooded", total)
    sys.stdout.flush()
    # the rest of a frame cut short goes out once the client reads again
    reader.drain(1.0)
    if len(view) != len(pings):
        conn.sendall(view)
    reader.drain(1.0)
    push = {"push": {"channel": channel, "pub": {"data": {"n": "after-flood"}, "offset": 1}}}
    conn.sendall(frame(0x1, json.dumps(push).encode()))
    say("sent")
    reader.drain(5.0)


def main():
    mode, mib = sys.argv[1], int(sys.argv[2])
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    say("PORT", listener.getsockname()[1])
    conn, _ = listener.accept()
    rest = handshake(conn)
    if mode == "ping":
        flood_pings(conn, mib)
    else:
        flood_centrifugo(conn, rest, mib)
    # hold the connection (never reading) until the test kills us
    time.sleep(60)


if __name__ == "__main__":
    main()
