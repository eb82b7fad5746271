#!/usr/bin/python3
"""A fake Centrifugo bidirectional client protocol server (JSON over WebSocket).

No real Centrifugo can be installed on the test machines, so this stands in
for it in zflow's tests. It follows the documented client protocol v2 (the
one of Centrifugo v4, v5 and v6), with Debian's python3-websockets 10.4:

  Endpoint ws://127.0.0.1:<port>/connection/websocket. A WebSocket text
  message holds one or more JSON commands separated by "\\n"; the server
  answers with replies and pushes, one JSON object each; as the real
  server does, what is queued for a client at the same time (replies,
  pushes, pings) goes out joined by "\n" in one frame (up to JOIN_MAX
  messages: the real server combines on a best effort basis too).
  Commands: {"id":N,"connect":{"token":..,"name":..}}, {"id":N,"subscribe":
  {"channel":..,"recover":true,"offset":N,"epoch":".."}},
  {"id":N,"unsubscribe":{"channel":..}}; an empty object {} is the client's
  pong. Replies carry the command's id and a result under the method name,
  or {"id":N,"error":{"code":..,"message":..}}. Fields at their zero value
  are left out, as Centrifugo's JSON encoder does (offset 0, recovered false).
  Connect: the token is an HS256 JWT signed with --secret (claims sub, exp).
  A bad token closes the connection with disconnect code 3500 "invalid
  token"; an expired one gets error 109 "token expired" (the connection stays
  open, as documented, so the client can refresh and connect again). A
  command other than connect first, or a frame that is not JSON, closes with
  3501 "bad request".
  Subscribe: the reply has recoverable, epoch and offset (the stream top);
  with recover:true and the same epoch and an offset still in history it
  carries the missed publications in order, "recovered":true and, as the
  real server, the request's offset (not the top), else no publications
  and no "recovered". Channel namespaces: "bad:" is unknown (102),
  "deny:" gives 103, "nohist:" has no history (not recoverable), "arec:"
  keeps history but, as a real namespace with allow_recovery only,
  answers as recoverable only a subscribe with "recoverable":true (else
  {}, or {"was_recovering":true} for recover alone); any other channel
  keeps history (as force_recovery). Already subscribed gives 105.
  Publications: {"push":{"channel":..,"pub":{"data":..,"offset":N}}}.
  Server-side subscriptions (--subs a,b): every connection is subscribed to
  them; the connect result carries "subs":{channel: SubscribeResult}, and a
  connect request's "subs":{channel:{"recover","offset","epoch"}} recovers
  them as a subscribe would.
  Token expiry: a token with "exp" makes the connect reply carry
  "expires":true and "ttl" (seconds); {"id":N,"refresh":{"token":..}} gives a
  new one (reply {"refresh":{"expires","ttl",..}}); when exp passes without a
  refresh the connection is closed with 3005 "connection expired".
  Pings: with --ping-ms the connect reply says "ping" (seconds, rounded up)
  and "pong":true, the server sends {} every ping-ms and closes with 3012
  "no pong" when no pong came for ping-ms + pong-timeout-ms.

History survives a restart when --state names a file (as with the Redis
engine): it keeps the epoch and every publication; without it each start
makes a new epoch (the memory engine).

Test controls: one JSON object per line on stdin, one JSON answer per line on
stdout:
  {"op":"publish","channel":c,"data":d}           -> {"ok":true,"offset":N}
  {"op":"publish_many","channel":c,"count":n,"from":k}  data {"n":k..k+n-1}
  {"op":"raw","text":t}              sends t as is to every client
  {"op":"disconnect","code":c,"reason":r}   closes every client with a
      close frame only: the real server (v6) sends no disconnect push over
      WebSocket ("push" is accepted and ignored)
  {"op":"unsubscribe","channel":c,"code":2000,"reason":r}  unsubscribe push
  {"op":"pause"} / {"op":"resume"}  refuse (503) / accept new handshakes
  {"op":"server_subscribe","channel":c}  server-side subscribe push
  {"op":"token","ttl":s}            -> {"ok":true,"token":..} valid for s seconds
  {"op":"fail_subscribes","count":n}  the next n subscribes get error 100
                                     (internal, "temporary":true)
  {"op":"fail_connects","count":n}   the next n connects get error 100 too
  {"op":"mute","on":bool}            stop / restart pinging and answering
                                     commands (a server that hangs)
  {"op":"stats"}                     counters and the subscribe commands seen
  {"op":"quit"}

Run: centrifugo_ws_fake.py --secret S [--port 0] [--state FILE] [--ping-ms N]
[--pong-timeout-ms N] [--history-size N] [--paused] [--tls DIR] (wss with
DIR/cert.pem and DIR/key.pem) [--subs a,b] (server-side subscriptions); it prints one line
"PORT <n> TOKEN <valid jwt> EXPIRED <expired jwt>" on stdout when ready.
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import http
import json
import math
import os
import sys
import time
import uuid

import websockets

#  Most messages joined into one frame.
JOIN_MAX = 16


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_jwt(secret, sub, exp):
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64url(json.dumps({"sub": sub, "exp": exp}).encode())
    signing = (header + "." + claims).encode()
    sig = hmac.new(secret.encode(), signing, hashlib.sha256).digest()
    return header + "." + claims + "." + b64url(sig)


def check_jwt(secret, token):
    """Returns ("ok" | "expired" | "invalid", the exp claim or None)."""
    try:
        header, claims, sig = token.split(".")
        signing = (header + "." + claims).encode()
        want = hmac.new(secret.encode(), signing, hashlib.sha256).digest()
        if not hmac.compare_digest(want, b64url_decode(sig)):
            return "invalid", None
        if json.loads(b64url_decode(header)).get("alg") != "HS256":
            return "invalid", None
        exp = json.loads(b64url_decode(claims)).get("exp")
        if exp is not None and exp < time.time():
            return "expired", exp
        return "ok", exp
    except (ValueError, AttributeError, TypeError):
        return "invalid", None


class Stream:
    """One channel's history stream."""

    def __init__(self, size):
        self.size = size
        self.top = 0
        self.pubs = []   # [(offset, data)], at most size

    def add(self, offset, data):
        self.top = offset
        self.pubs.append((offset, data))
        if len(self.pubs) > self.size:
            del self.pubs[0]


class Server:
    def __init__(self, args):
        self.args = args
        self.streams = {}
        self.clients = set()
        self.paused = args.paused
        self.muted = False
        self.fail_subscribes = 0
        self.fail_connects = 0
        self.stats = {"connections": 0, "connects": 0, "bad_tokens": 0, "expired_tokens": 0,
                      "failed_connects": 0,
                      "pings_sent": 0, "pongs": 0, "bad_requests": 0, "no_pong": 0,
                      "refreshes": 0, "expired": 0, "connect_subs": [],
                      "subscribes": []}
        self.epoch = None
        self.state = None
        if args.state and os.path.exists(args.state):
            with open(args.state) as f:
                for i, line in enumerate(f):
                    if not line.strip():
                        continue
                    record = json.loads(line)
                    if i == 0:
                        self.epoch = record["epoch"]
                    else:
                        self.stream(record["c"]).add(record["o"], record["d"])
        if not self.epoch:
            self.epoch = uuid.uuid4().hex[:8]
            if args.state:
                with open(args.state, "w") as f:
                    f.write(json.dumps({"epoch": self.epoch}) + "\n")
        if args.state:
            self.state = open(args.state, "a")

    def stream(self, channel):
        if channel not in self.streams:
            self.streams[channel] = Stream(self.args.history_size)
        return self.streams[channel]

    def publish(self, channel, data):
        offset = 0
        if not channel.startswith("nohist:"):
            stream = self.stream(channel)
            offset = stream.top + 1
            stream.add(offset, data)
            if self.state:
                #  Persist before pushing, so a kill cannot lose what a client saw.
                self.state.write(json.dumps({"c": channel, "o": offset, "d": data}) + "\n")
                self.state.flush()
        pub = {"data": data}
        if offset:
            pub["offset"] = offset
        text = json.dumps({"push": {"channel": channel, "pub": pub}}, separators=(",", ":"))
        for client in list(self.clients):
            if channel in client.channels:
                client.send(text)
        return offset


class Client:
    def __init__(self, server, ws):
        self.server = server
        self.ws = ws
        self.queue = asyncio.Queue()
        self.channels = set()
        self.connected = False
        self.last_pong = time.monotonic()
        self.closing = False
        self.expire_at = None

    def send(self, text):
        self.queue.put_nowait(("text", text))

    def close(self, code, reason):
        if not self.closing:
            self.closing = True
            self.queue.put_nowait(("close", code, reason))

    async def writer(self):
        while True:
            item = await self.queue.get()
            texts = []
            while item[0] == "text":
                texts.append(item[1])
                if len(texts) == JOIN_MAX:
                    item = None
                    break
                try:
                    item = self.queue.get_nowait()
                except asyncio.QueueEmpty:
                    item = None
                    break
            if texts:
                #  As the real server: what is queued goes in one frame.
                await self.ws.send("\n".join(texts))
            if item is not None:
                await self.ws.close(code=item[1], reason=item[2])
                return

    async def pinger(self):
        ping_ms = self.server.args.ping_ms
        timeout = (ping_ms + self.server.args.pong_timeout_ms) / 1000.0
        while not self.closing:
            await asyncio.sleep(ping_ms / 1000.0)
            if not self.connected or self.server.muted:
                continue
            if time.monotonic() - self.last_pong > timeout:
                self.server.stats["no_pong"] += 1
                self.close(3012, "no pong")
                return
            self.server.stats["pings_sent"] += 1
            self.send("{}")

    async def expirer(self):
        """Closes with 3005 "connection expired" once the token's exp passed unrefreshed."""
        while not self.closing:
            await asyncio.sleep(0.1)
            if self.connected and self.expire_at and time.time() > self.expire_at:
                self.server.stats["expired"] += 1
                self.close(3005, "connection expired")
                return

    def reply(self, cid, method, result):
        self.send(json.dumps({"id": cid, method: result}, separators=(",", ":")))

    def error(self, cid, code, message):
        self.send(json.dumps({"id": cid, "error": {"code": code, "message": message}}))

    def handle(self, command):
        if command == {}:
            self.server.stats["pongs"] += 1
            self.last_pong = time.monotonic()
            return
        cid = command.get("id", 0)
        if self.server.muted:
            return
        if "connect" in command:
            self.on_connect(cid, command["connect"] or {})
        elif not self.connected:
            self.server.stats["bad_requests"] += 1
            self.close(3501, "bad request")
        elif "subscribe" in command:
            self.on_subscribe(cid, command["subscribe"] or {})
        elif "refresh" in command:
            self.on_refresh(cid, command["refresh"] or {})
        elif "unsubscribe" in command:
            self.channels.discard((command["unsubscribe"] or {}).get("channel"))
            self.reply(cid, "unsubscribe", {})
        else:
            self.error(cid, 104, "method not found")

    def on_connect(self, cid, request):
        if self.connected:
            self.server.stats["bad_requests"] += 1
            self.close(3501, "bad request")
            return
        if self.server.fail_connects > 0:
            self.server.fail_connects -= 1
            self.server.stats["failed_connects"] += 1
            self.send(json.dumps({"id": cid, "error": {
                "code": 100, "message": "internal server error", "temporary": True}}))
            return
        verdict, exp = check_jwt(self.server.args.secret, request.get("token", ""))
        if verdict == "invalid":
            self.server.stats["bad_tokens"] += 1
            self.close(3500, "invalid token")
            return
        if verdict == "expired":
            self.server.stats["expired_tokens"] += 1
            self.error(cid, 109, "token expired")
            return
        self.connected = True
        self.last_pong = time.monotonic()
        self.server.stats["connects"] += 1
        result = {"client": str(uuid.uuid4()), "version": "0.0.0-fake"}
        if self.server.args.ping_ms:
            result["ping"] = math.ceil(self.server.args.ping_ms / 1000.0)
            result["pong"] = True
        self.set_expiry(result, exp)
        subs = self.server_subs(request)
        if subs:
            result["subs"] = subs
        self.reply(cid, "connect", result)

    def set_expiry(self, result, exp):
        self.expire_at = exp
        if exp:
            result["expires"] = True
            result["ttl"] = max(1, int(exp - time.time()))

    def on_refresh(self, cid, request):
        verdict, exp = check_jwt(self.server.args.secret, request.get("token", ""))
        if verdict == "invalid":
            self.server.stats["bad_tokens"] += 1
            self.close(3500, "invalid token")
            return
        if verdict == "expired":
            self.server.stats["expired_tokens"] += 1
            self.error(cid, 109, "token expired")
            return
        self.server.stats["refreshes"] += 1
        result = {"client": "refreshed", "version": "0.0.0-fake"}
        self.set_expiry(result, exp)
        self.reply(cid, "refresh", result)

    def subscribe_result(self, channel, request):
        """A SubscribeResult for channel (recovering when request asks)."""
        if channel.startswith("nohist:"):
            return {}
        if channel.startswith("arec:") and not request.get("recoverable"):
            return {"was_recovering": True} if request.get("recover") else {}
        stream = self.server.stream(channel)
        result = {"recoverable": True, "epoch": self.server.epoch, "positioned": True}
        if stream.top:
            result["offset"] = stream.top
        if request.get("recover"):
            result["was_recovering"] = True
            since = request.get("offset", 0)
            first = stream.pubs[0][0] if stream.pubs else stream.top + 1
            if (request.get("epoch") == self.server.epoch and since <= stream.top
                    and since >= first - 1):
                pubs = [{"data": d, "offset": o} for o, d in stream.pubs if o > since]
                if pubs:
                    result["publications"] = pubs
                result["recovered"] = True
                #  the real server answers with the request's offset
                result.pop("offset", None)
                if since:
                    result["offset"] = since
        return result

    def server_subs(self, request):
        """Server-side subscriptions of a new connection: the connect result's
        "subs", recovering those the connect request's "subs" ask for."""
        asked = request.get("subs") or {}
        if asked:
            self.server.stats["connect_subs"].append(asked)
        subs = {}
        for channel in self.server.args.subs:
            subs[channel] = self.subscribe_result(channel, asked.get(channel) or {})
            self.channels.add(channel)
        return subs

    def on_subscribe(self, cid, request):
        channel = request.get("channel", "")
        self.server.stats["subscribes"].append(request)
        if not channel:
            self.error(cid, 107, "bad request")
            return
        if self.server.fail_subscribes > 0:
            self.server.fail_subscribes -= 1
            self.send(json.dumps({"id": cid, "error": {
                "code": 100, "message": "internal server error", "temporary": True}}))
            return
        if channel.startswith("bad:"):
            self.error(cid, 102, "unknown channel")
            return
        if channel.startswith("deny:"):
            self.error(cid, 103, "permission denied")
            return
        if channel in self.channels:
            self.error(cid, 105, "already subscribed")
            return
        result = self.subscribe_result(channel, request)
        #  Joined before the reply is queued: nothing published in between is lost,
        #  and the writer queue keeps the reply ahead of later pushes.
        self.channels.add(channel)
        self.reply(cid, "subscribe", result)


async def serve_client(server, ws, path):
    client = Client(server, ws)
    server.clients.add(client)
    server.stats["connections"] += 1
    writer = asyncio.ensure_future(client.writer())
    pinger = asyncio.ensure_future(client.pinger()) if server.args.ping_ms else None
    expirer = asyncio.ensure_future(client.expirer())
    try:
        async for message in ws:
            if isinstance(message, bytes):
                message = message.decode("utf-8", "replace")
            for line in message.split("\n"):
                if not line.strip():
                    continue
                try:
                    command = json.loads(line)
                    if not isinstance(command, dict):
                        raise ValueError("not an object")
                except ValueError:
                    server.stats["bad_requests"] += 1
                    client.close(3501, "bad request")
                    break
                client.handle(command)
            if client.closing:
                break
        if client.closing:
            await asyncio.wait_for(writer, 5)
    except (websockets.ConnectionClosed, asyncio.TimeoutError):
        pass
    finally:
        server.clients.discard(client)
        writer.cancel()
        expirer.cancel()
        if pinger:
            pinger.cancel()


def control(server, request):
    op = request.get("op")
    if op == "publish":
        return {"ok": True, "offset": server.publish(request["channel"], request.get("data"))}
    if op == "publish_many":
        offset = 0
        start = request.get("from", 0)
        for i in range(request["count"]):
            offset = server.publish(request["channel"], {"n": start + i})
        return {"ok": True, "offset": offset}
    if op == "raw":
        for client in list(server.clients):
            client.send(request["text"])
        return {"ok": True}
    if op == "disconnect":
        for client in list(server.clients):
            client.close(request["code"], request.get("reason", ""))
        return {"ok": True}
    if op == "unsubscribe":
        channel = request["channel"]
        for client in list(server.clients):
            if channel in client.channels:
                client.channels.discard(channel)
                client.send(json.dumps({"push": {"channel": channel, "unsubscribe": {
                    "code": request.get("code", 2000),
                    "reason": request.get("reason", "server unsubscribe")}}}))
        return {"ok": True}
    if op == "server_subscribe":
        channel = request["channel"]
        for client in list(server.clients):
            if client.connected and channel not in client.channels:
                result = client.subscribe_result(channel, {})
                client.channels.add(channel)
                client.send(json.dumps({"push": {"channel": channel, "subscribe": result}}))
        return {"ok": True}
    if op == "token":
        return {"ok": True, "token": make_jwt(server.args.secret, "zflow-test",
                                              int(time.time()) + request.get("ttl", 3600))}
    if op == "fail_subscribes":
        server.fail_subscribes = request.get("count", 1)
        return {"ok": True}
    if op == "fail_connects":
        server.fail_connects = request.get("count", 1)
        return {"ok": True}
    if op == "mute":
        server.muted = bool(request.get("on"))
        return {"ok": True}
    if op == "pause":
        server.paused = True
        return {"ok": True}
    if op == "resume":
        server.paused = False
        return {"ok": True}
    if op == "stats":
        stats = dict(server.stats)
        stats["clients"] = len(server.clients)
        stats["epoch"] = server.epoch
        return stats
    return {"ok": False, "error": "unknown op"}


async def control_loop(server, stop):
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            print("centrifugo_ws_fake: stdin closed, exiting", file=sys.stderr, flush=True)
            break
        try:
            request = json.loads(line)
        except ValueError:
            print(json.dumps({"ok": False, "error": "bad json"}), flush=True)
            continue
        if request.get("op") == "quit":
            print(json.dumps({"ok": True}), flush=True)
            break
        print(json.dumps(control(server, request)), flush=True)
    stop.set_result(None)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--secret", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state")
    parser.add_argument("--ping-ms", type=int, default=0)
    parser.add_argument("--pong-timeout-ms", type=int, default=0)
    parser.add_argument("--history-size", type=int, default=1000)
    parser.add_argument("--paused", action="store_true")
    parser.add_argument("--tls")
    parser.add_argument("--subs", default="")
    args = parser.parse_args()
    args.subs = [c for c in args.subs.split(",") if c]
    if not args.pong_timeout_ms:
        args.pong_timeout_ms = max(args.ping_ms, 1)
    server = Server(args)

    async def process_request(path, headers):
        if server.paused:
            return http.HTTPStatus.SERVICE_UNAVAILABLE, [], b"paused\n"
        if path.split("?")[0] != "/connection/websocket":
            return http.HTTPStatus.NOT_FOUND, [], b"not found\n"
        return None

    context = None
    if args.tls:
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(os.path.join(args.tls, "cert.pem"),
                                os.path.join(args.tls, "key.pem"))
    stop = asyncio.get_running_loop().create_future()
    async with websockets.serve(lambda ws, path: serve_client(server, ws, path), "127.0.0.1",
                                args.port, process_request=process_request, ssl=context,
                                ping_interval=None, max_size=16 * 1024 * 1024) as ws_server:
        port = ws_server.sockets[0].getsockname()[1]
        now = int(time.time())
        print("PORT %d TOKEN %s EXPIRED %s" % (
            port, make_jwt(args.secret, "zflow-test", now + 3600),
            make_jwt(args.secret, "zflow-test", now - 60)), flush=True)
        #  Keep a reference: the loop holds tasks weakly.
        control_task = asyncio.ensure_future(control_loop(server, stop))
        await stop
        await control_task


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
