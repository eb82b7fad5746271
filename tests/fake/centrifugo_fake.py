#!/usr/bin/python3
"""A fake Centrifugo server API for zflow's tests (Python 3 standard library only).

No real Centrifugo can be installed on the test machines, so this stands in for
it. It follows the documented server HTTP API:

  modern (v5/v6): POST /api/<method> with the method's JSON request as the body,
      key in "X-API-Key" (or ?api_key=); answer {"result":{...}} or
      {"error":{"code":N,"message":"..."}} with HTTP 200; POST /api/batch with
      {"commands":[{"<method>":{...}}...],"parallel":b} answers
      {"replies":[{"<method>":{...}} or {"error":{...}}...]}.
  legacy (v3/v4): POST /api with {"method":..,"params":..}, key in
      "Authorization: apikey <key>"; several commands newline-delimited, one
      reply line per command.
  "X-Centrifugo-Error-Mode: transport": errors become HTTP statuses (100->500,
      102/104->404, 107/108->400, 112->416, 113->409) with a bare
      {"code","message"} body (not for batch, as documented).
  A wrong or missing key gets HTTP 401 with an empty body.

As Centrifugo v6.9.1 (checked against it in tests/real/compare_fakes.py):
malformed JSON is HTTP 400 for the whole request; an unknown method is HTTP
404 on the modern path (error 104 in a batch, HTTP 400 in the legacy format; rpc
answers 104 for any RPC name, open source has none; connections is PRO only,
so unknown here too); an empty b64data is error 107; a skip_history publish
answers {} and takes no offset; a stale "version" is skipped and answered with the stream's
current position.

Channel namespaces: none ("chat"), "chat:", "news:" and "nohistory:" are known
("nohistory:" has history and presence off, giving 108); any other namespace
gives 102. History keeps every publication with offsets and an epoch;
idempotency keys drop duplicate publishes per channel (as Centrifugo's 5 minute
cache does). Publishing with "version" <= the last version seen in the channel
is skipped (success, nothing published).

Test controls (no key needed), POST /_control with a JSON object:
  {"fault": "status"|"close"|"hang"|"malformed"|"close_after"|"internal"|"internal_some"|"short",
   "count": N, "status": 503}   make the next N API requests fail that way
      ("close_after" processes the request, then closes without answering;
       "internal" answers error 100 to each command, "internal_some" to every
       second command of a batch, "short" leaves the last reply of a batch out)
  {"connect": {"channel":..,"user":..,"client":..}}  adds a fake client
  {"reset": true}                forget all state
GET /_control answers {"connections":..,"requests":..,"publications":{channel:
[{"data":..,"offset":..,"idempotency_key":..}]},"duplicates":..}.

Run: centrifugo_fake.py [--key KEY] [--port 0] [--tls DIR]; it prints "PORT <n>" on stdout.
"""

import argparse
import base64
import fnmatch
import json
import socket
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KNOWN_NAMESPACES = {"", "chat", "news", "nohistory"}
HTTP_FOR_CODE = {100: 500, 102: 404, 104: 404, 107: 400, 108: 400, 112: 416, 113: 409}
MESSAGES = {100: "internal server error", 102: "unknown channel", 104: "not found",
            107: "bad request", 108: "not available", 112: "unrecoverable position",
            113: "conflict"}


class ApiError(Exception):
    def __init__(self, code):
        super().__init__(MESSAGES[code])
        self.code = code


class State:
    """Everything the fake server remembers, behind one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.channels = {}        # channel -> {"epoch", "offset", "pubs", "keys", "version"}
        self.clients = {}         # client id -> {"user", "channels": set()}
        self.fault = None
        self.fault_count = 0
        self.fault_status = 503
        self.connections = 0
        self.requests = 0
        self.duplicates = 0

    def stream(self, channel):
        if channel not in self.channels:
            self.channels[channel] = {"epoch": uuid.uuid4().hex[:4], "offset": 0, "pubs": [],
                                      "keys": {}, "version": 0}
        return self.channels[channel]


STATE = State()
API_KEY = None


def namespace(channel):
    if not isinstance(channel, str) or not channel:
        raise ApiError(107)
    name = channel.split(":", 1)[0] if ":" in channel else ""
    if name not in KNOWN_NAMESPACES:
        raise ApiError(102)
    return name


def need_string(params, field):
    value = params.get(field)
    if not isinstance(value, str) or not value:
        raise ApiError(107)
    return value


def do_publish(params):
    channel = need_string(params, "channel")
    ns = namespace(channel)
    if "data" not in params and "b64data" not in params:
        raise ApiError(107)
    data = params.get("data")
    if "b64data" in params:
        # Centrifugo v6 refuses an empty b64data (107), as any bad base64
        if not params["b64data"]:
            raise ApiError(107)
        try:
            base64.b64decode(params["b64data"], validate=True)
        except Exception:
            raise ApiError(107)
    tags = params.get("tags")
    if tags is not None and (not isinstance(tags, dict) or
                             not all(isinstance(v, str) for v in tags.values())):
        raise ApiError(107)
    stream = STATE.stream(channel)
    key = params.get("idempotency_key")
    if key is not None and key in stream["keys"]:
        STATE.duplicates += 1
        return stream["keys"][key]
    version = params.get("version", 0)
    if version and version <= stream["version"]:
        # Centrifugo v6 skips a stale version and reports success with the
        # stream's current position (nothing is published)
        return {} if ns == "nohistory" else {"offset": stream["offset"], "epoch": stream["epoch"]}
    stream["version"] = max(stream["version"], version or 0)
    # skip_history leaves the history stream alone: no offset is taken
    skip = bool(params.get("skip_history"))
    if not skip:
        stream["offset"] += 1
    pub = {"data": data, "offset": stream["offset"]}
    if "b64data" in params:
        pub["b64data"] = params["b64data"]
    if tags:
        pub["tags"] = tags
    if key is not None:
        pub["idempotency_key"] = key
    if not skip:
        stream["pubs"].append(pub)
    # no position without history: Centrifugo v6 answers {} for skip_history
    result = ({} if ns == "nohistory" or skip
              else {"offset": stream["offset"], "epoch": stream["epoch"]})
    if key is not None:
        stream["keys"][key] = result
    return result


def do_broadcast(params):
    channels = params.get("channels")
    if not isinstance(channels, list) or not channels:
        raise ApiError(107)
    responses = []
    for channel in channels:
        one = dict(params)
        one.pop("channels")
        one["channel"] = channel
        try:
            responses.append({"result": do_publish(one)})
        except ApiError as error:
            responses.append({"error": {"code": error.code, "message": str(error)}})
    return {"responses": responses}


def user_clients(params):
    user = need_string(params, "user")
    client = params.get("client")
    return [cid for cid, info in STATE.clients.items()
            if info["user"] == user and (client is None or cid == client)]


def do_subscribe(params):
    channel = need_string(params, "channel")
    namespace(channel)
    for cid in user_clients(params):
        STATE.clients[cid]["channels"].add(channel)
    return {}


def do_unsubscribe(params):
    channel = need_string(params, "channel")
    namespace(channel)
    for cid in user_clients(params):
        STATE.clients[cid]["channels"].discard(channel)
    return {}


def do_disconnect(params):
    whitelist = params.get("whitelist") or []
    for cid in user_clients(params):
        if cid not in whitelist:
            del STATE.clients[cid]
    return {}


def do_refresh(params):
    for cid in user_clients(params):
        if params.get("expired"):
            del STATE.clients[cid]
    return {}


def presence_of(channel):
    if namespace(channel) == "nohistory":
        raise ApiError(108)
    return {cid: {"client": cid, "user": info["user"]}
            for cid, info in STATE.clients.items() if channel in info["channels"]}


def do_presence(params):
    return {"presence": presence_of(need_string(params, "channel"))}


def do_presence_stats(params):
    presence = presence_of(need_string(params, "channel"))
    return {"num_clients": len(presence),
            "num_users": len({c["user"] for c in presence.values()})}


def do_history(params):
    channel = need_string(params, "channel")
    if namespace(channel) == "nohistory":
        raise ApiError(108)
    limit = params.get("limit", 0)
    if not isinstance(limit, int) or isinstance(limit, bool):
        raise ApiError(107)
    stream = STATE.stream(channel)
    pubs = stream["pubs"]
    since = params.get("since")
    if since is not None:
        if (not isinstance(since, dict) or not isinstance(since.get("offset"), int)
                or not isinstance(since.get("epoch"), str)):
            raise ApiError(107)
        if since["epoch"] != stream["epoch"] or since["offset"] > stream["offset"]:
            raise ApiError(112)
        pubs = [p for p in pubs if p["offset"] > since["offset"]]
    if params.get("reverse"):
        pubs = list(reversed(pubs))
    # limit 0 (or none): the position, with an empty "publications" (as v6)
    result = {"offset": stream["offset"], "epoch": stream["epoch"]}
    result["publications"] = [{k: v for k, v in p.items() if k != "idempotency_key"}
                              for p in (pubs if limit < 0 else pubs[:limit])]
    return result


def do_history_remove(params):
    channel = need_string(params, "channel")
    if namespace(channel) == "nohistory":
        raise ApiError(108)
    STATE.stream(channel)["pubs"] = []
    return {}


def do_channels(params):
    pattern = params.get("pattern")
    counts = {}
    for info in STATE.clients.values():
        for channel in info["channels"]:
            counts[channel] = counts.get(channel, 0) + 1
    return {"channels": {c: {"num_clients": n} for c, n in counts.items()
                         if pattern is None or fnmatch.fnmatchcase(c, pattern)}}


def do_rpc(params):
    need_string(params, "method")
    raise ApiError(104)  # open-source Centrifugo registers no RPC methods


def do_info(params):
    return {"nodes": [{"uid": "fake-node", "name": "fake_0", "version": "fake",
                       "num_clients": len(STATE.clients),
                       "num_users": len({c["user"] for c in STATE.clients.values()}),
                       "num_channels": len(STATE.channels), "uptime": 1}]}


METHODS = {"publish": do_publish, "broadcast": do_broadcast, "subscribe": do_subscribe,
           "unsubscribe": do_unsubscribe, "disconnect": do_disconnect, "refresh": do_refresh,
           "presence": do_presence, "presence_stats": do_presence_stats,
           "history": do_history, "history_remove": do_history_remove,
           "channels": do_channels, "info": do_info, "rpc": do_rpc}


def run_method(method, params, internal):
    """Returns (result, None) or (None, error code)."""
    if internal:
        return None, 100
    if method not in METHODS:
        return None, 104
    if not isinstance(params, dict):
        return None, 107
    try:
        with STATE.lock:
            return METHODS[method](params), None
    except ApiError as error:
        return None, error.code


def error_object(code):
    return {"code": code, "message": MESSAGES[code]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without TCP_NODELAY the
        # second waits for the client's delayed ACK (40 ms per request).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with STATE.lock:
            STATE.connections += 1

    def answer(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        if self.path.startswith("/_control"):
            with STATE.lock:
                pubs = {c: s["pubs"] for c, s in STATE.channels.items()}
                self.answer(200, {"connections": STATE.connections, "requests": STATE.requests,
                                  "publications": pubs, "duplicates": STATE.duplicates})
        else:
            self.answer(404, b"404 page not found\n", "text/plain")

    def control(self, body):
        command = json.loads(body or b"{}")
        with STATE.lock:
            if command.get("reset"):
                STATE.reset()
            if "fault" in command:
                STATE.fault = command["fault"]
                STATE.fault_count = command.get("count", 1)
                STATE.fault_status = command.get("status", 503)
            if "connect" in command:
                c = command["connect"]
                STATE.clients[c["client"]] = {"user": c["user"], "channels": {c["channel"]}}
        self.answer(200, {})

    def authorised(self):
        if API_KEY is None:
            return True
        if self.headers.get("X-API-Key") == API_KEY:
            return True
        if self.headers.get("Authorization") == "apikey " + API_KEY:
            return True
        return ("api_key=" + API_KEY) in self.path.partition("?")[2].split("&")

    def take_fault(self):
        with STATE.lock:
            STATE.requests += 1
            if STATE.fault_count > 0:
                STATE.fault_count -= 1
                return STATE.fault
        return None

    def do_POST(self):
        body = self.read_body()
        path = self.path.partition("?")[0]
        if path == "/_control":
            return self.control(body)
        if not (path == "/api" or path.startswith("/api/")):
            return self.answer(404, b"404 page not found\n", "text/plain")
        if not self.authorised():
            return self.answer(401, b"", "text/plain")  # Centrifugo v6: empty body
        fault = self.take_fault()
        if fault == "status":
            return self.answer(STATE.fault_status, b"service unavailable\n", "text/plain")
        if fault == "close":
            self.close_connection = True
            return
        if fault == "hang":
            time.sleep(30)
            self.close_connection = True
            return
        if fault == "malformed":
            return self.answer(200, b"<html>this is not JSON</html>", "text/html")
        internal = fault in ("internal", "internal_some")
        self.some = fault == "internal_some"
        transport = self.headers.get("X-Centrifugo-Error-Mode", "").lower() == "transport"
        if path == "/api":
            status, answer = self.legacy(body, internal)
        else:
            status, answer = self.modern(path[len("/api/"):], body, internal, transport)
        if fault == "close_after":
            self.close_connection = True
            return
        if fault == "short" and isinstance(answer, dict) and "replies" in answer:
            answer["replies"] = answer["replies"][:-1]
        elif fault == "short" and isinstance(answer, bytes):
            answer = b"\n".join(answer.split(b"\n")[:-1])
        self.answer(status, answer)

    def modern(self, method, body, internal, transport):
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            # Centrifugo v6: malformed JSON is HTTP 400 for the whole request
            return 400, b"Bad Request\n"
        if method != "batch" and method not in METHODS and not internal:
            # one path per method: an unknown one is a plain HTTP 404
            return 404, b"404 page not found\n"
        if method == "batch":
            if not isinstance(params, dict) or not isinstance(params.get("commands"), list):
                return 200, {"error": error_object(107)}
            replies = []
            for index, command in enumerate(params["commands"]):
                if not isinstance(command, dict) or len(command) != 1:
                    replies.append({"error": error_object(107)})
                    continue
                (name, args), = command.items()
                result, code = run_method(name, args, internal and (not self.some or index % 2))
                replies.append({name: result} if code is None else {"error": error_object(code)})
            return 200, {"replies": replies}
        result, code = run_method(method, params, internal)
        if code is None:
            return 200, {"result": result}
        if transport:
            return HTTP_FOR_CODE[code], error_object(code)
        return 200, {"error": error_object(code)}

    def legacy(self, body, internal):
        lines = [line for line in body.split(b"\n") if line.strip()]
        replies = []
        for line in lines:
            try:
                command = json.loads(line)
            except ValueError:
                command = None
            if not isinstance(command, dict) or not isinstance(command.get("method"), str):
                replies.append({"error": error_object(107)})
                continue
            if command["method"] not in METHODS and command["method"] != "connections":
                # v6's legacy endpoint decodes the method name into its enum
                # of known methods: an unknown one fails the whole request
                return 400, b"Bad Request\n"
            result, code = run_method(command["method"], command.get("params", {}), internal)
            replies.append({"result": result} if code is None else {"error": error_object(code)})
        data = b"\n".join(json.dumps(r).encode() for r in replies)
        return 200, data


def main():
    global API_KEY
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--key", default=None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls", metavar="DIR", default=None,
                        help="serve HTTPS with DIR/cert.pem and DIR/key.pem")
    args = parser.parse_args()
    API_KEY = args.key
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls + "/cert.pem", args.tls + "/key.pem")
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
