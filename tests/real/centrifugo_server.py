"""A real Centrifugo v6 for the tests: writes a config, starts the binary on
a free loopback port, waits for /health, stops it. Also makes HS256 tokens,
calls the server HTTP API, and speaks the client protocol (JSON over
WebSocket, Debian's python3-websockets) as a real client would.

Namespaces of the generated config:
  rec:     history (100 messages, 300 s) + force_recovery
  arec:    history + allow_recovery only (the client must ask for recovery)
  pres:    presence (and join/leave)
  open:    allow_subscribe_for_client, no history
  closed:  allow_subscribe_for_client off (a subscription token is needed:
           HS256 with the same SECRET, claims sub, channel, exp)
All but closed let any client with a connection token subscribe."""
import asyncio
import base64
import hashlib
import hmac
import json
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import realpeers

SECRET = "zflow-test-hmac-secret-0123456789abcdef"
API_KEY = "zflow-test-api-key"
HISTORY = {"history_size": 100, "history_ttl": "300s"}
NAMESPACES = [
    dict(name="rec", force_recovery=True, allow_subscribe_for_client=True, **HISTORY),
    dict(name="arec", allow_recovery=True, allow_subscribe_for_client=True, **HISTORY),
    dict(name="pres", presence=True, join_leave=True, allow_subscribe_for_client=True,
         allow_presence_for_subscriber=True),
    dict(name="open", allow_subscribe_for_client=True),
    dict(name="closed", allow_subscribe_for_client=False),
]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(sub="user1", ttl=3600, secret=SECRET, **claims):
    """An HS256 JWT: a connection token (or, with channel=..., a subscription
    token) for user sub, valid for ttl seconds (None: no exp)."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = {"sub": sub, **claims}
    if ttl is not None:
        body["exp"] = int(time.time()) + ttl
    payload = b64url(json.dumps(body).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{b64url(signature.digest())}"


class Centrifugo:
    """centrifugo --config FILE on 127.0.0.1:PORT (HTTP API, client
    WebSocket and /health on the one port)."""

    def __init__(self):
        self.binary = realpeers.need_centrifugo()
        self.dir = tempfile.mkdtemp(prefix="zflow-real-centrifugo-")
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.dir, "centrifugo.log")

    def config(self, port):
        return {
            "http_server": {"address": "127.0.0.1", "port": port},
            "log": {"level": "info"},
            #  An expired connection or subscription is closed 1 s after
            #  its exp (default 25 s), and subscriptions are checked for
            #  expiry every second (their check runs with the presence
            #  update, default 27 s): a token that is not refreshed in
            #  time shows within seconds.
            "client": {"token": {"hmac_secret_key": SECRET},
                       "subscription_token": {"hmac_secret_key": SECRET},
                       "allowed_origins": ["*"],
                       "expired_close_delay": "1s",
                       "expired_sub_close_delay": "1s",
                       "presence_update_interval": "1s"},
            "http_api": {"key": API_KEY},
            "health": {"enabled": True},
            "channel": {"namespaces": NAMESPACES},
            #  loopback only: no anonymous usage report to the internet
            "usage_stats": {"disabled": True},
        }

    def start(self, port=None):
        for attempt in range(3):
            self.port = port or realpeers.free_port()
            path = os.path.join(self.dir, "config.json")
            with open(path, "w") as f:
                json.dump(self.config(self.port), f, indent=1)
            self.log = open(self.log_path, "a")
            self.proc = subprocess.Popen([self.binary, "--config", path], cwd=self.dir,
                                        stdout=self.log, stderr=subprocess.STDOUT)
            if self.wait_health(20):
                return self
            realpeers.stop(self.proc)
            self.log.close()
        with open(self.log_path) as f:
            realpeers.die(f"centrifugo did not become healthy: {f.read()[-3000:]}")

    def wait_health(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health",
                                            timeout=1) as r:
                    if r.status == 200:
                        return True
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        return False

    @property
    def api_url(self):
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}/connection/websocket"

    def http(self, path, body, key=API_KEY, headers=None, raw=False):
        """POSTs body (bytes, or an object sent as JSON) to path. Returns
        (HTTP status, the answer decoded as JSON, or its text when not)."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data,
                                         method="POST")
        request.add_header("Content-Type", "application/json")
        if key:
            request.add_header("X-API-Key", key)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                status, text = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        if raw:
            return status, text
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def api(self, api_method, **params):
        """Calls one server API method; returns (status, answer)."""
        return self.http(f"/api/{api_method}", params)

    def stop(self):
        rc = realpeers.stop(self.proc)
        if self.proc is not None:
            self.log.close()
        return rc

    def close(self):
        self.stop()
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)


class WsClient:
    """A client protocol peer (JSON) on a WebSocket of python3-websockets:
    every frame it receives is kept (.frames), split into replies by id
    (.replies) and pushes (.pushes); the close code and reason when closed."""

    def __init__(self, url):
        import websockets
        self.url, self.websockets = url, websockets
        self.frames, self.replies, self.pushes = [], {}, []
        self.close_code = self.close_reason = None
        self.next_id = 1

    async def open(self):
        self.ws = await self.websockets.connect(self.url, subprotocols=None, ping_interval=None)
        self.reader = asyncio.ensure_future(self._read())
        return self

    async def _read(self):
        try:
            async for frame in self.ws:
                self.frames.append(frame)
                for line in frame.splitlines():
                    if not line.strip():
                        continue
                    msg = json.loads(line)
                    if msg.get("id"):
                        self.replies[msg["id"]] = msg
                    elif msg == {}:
                        await self.ws.send("{}")  # pong
                    else:
                        self.pushes.append(msg)
        except self.websockets.ConnectionClosed:
            pass
        self.close_code, self.close_reason = self.ws.close_code, self.ws.close_reason

    async def send(self, *commands):
        """Sends commands (dicts without id) in one frame; returns their ids."""
        ids = []
        for c in commands:
            c["id"] = self.next_id
            ids.append(self.next_id)
            self.next_id += 1
        await self.ws.send("\n".join(json.dumps(c) for c in commands))
        return ids

    async def call(self, command, seconds=5):
        """Sends one command; returns its reply (or None on timeout)."""
        (cid,) = await self.send(command)
        deadline = time.monotonic() + seconds
        while cid not in self.replies and time.monotonic() < deadline:
            if self.reader.done():
                break
            await asyncio.sleep(0.01)
        return self.replies.get(cid)

    async def publications(self, channel, count, seconds=5):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            pubs = [p["push"]["pub"] for p in self.pushes
                    if p.get("push", {}).get("channel") == channel and "pub" in p["push"]]
            if len(pubs) >= count:
                return pubs
            await asyncio.sleep(0.02)
        return [p["push"]["pub"] for p in self.pushes
                if p.get("push", {}).get("channel") == channel and "pub" in p["push"]]

    async def closed(self, seconds=5):
        try:
            await asyncio.wait_for(asyncio.shield(self.reader), seconds)
        except asyncio.TimeoutError:
            pass
        return self.close_code

    async def close(self):
        await self.ws.close()
        self.reader.cancel()
