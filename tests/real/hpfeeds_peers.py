"""The two hpfeeds brokers of the interop tests, as processes on loopback:
the reference one (hpfeeds-broker of PyPI hpfeeds 3.1.0, users from its
JSON auth file) and `zflow broker` (users from --user), with the same users,
each startable again on the same port (a restart)."""
import json
import os
import socket
import subprocess
import tempfile
import threading

import realpeers

#  ident -> (secret, channels it may publish to, channels it may subscribe to)
USERS = {
    "writer": ("w-secret", ["data", "bin"], []),
    "reader": ("r-secret", [], ["data", "bin"]),
    "both": ("b-secret", ["data", "bin"], ["data", "bin"]),
}
#  The largest publish payload: a message is at most 5 + 1 MiB bytes
#  (header, then ident and channel each with a length byte, then payload).
MAXBUF = 1024 * 1024


def max_payload(ident, channel):
    return MAXBUF - 2 - len(ident) - len(channel)


class RefBroker:
    """hpfeeds-broker --bind 127.0.0.1:PORT --auth users.json."""

    name = "reference broker"

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="zflow-real-hpfeeds-")
        self.auth = os.path.join(self.dir, "users.json")
        with open(self.auth, "w") as f:
            json.dump({ident: {"owner": ident, "secret": s, "pubchans": p, "subchans": c}
                       for ident, (s, p, c) in USERS.items()}, f)
        self.log = open(os.path.join(self.dir, "broker.log"), "w+")
        self.proc = None
        self.port = None

    def start(self, port=None):
        for attempt in range(5):
            self.port = port or realpeers.free_port()
            self.proc = subprocess.Popen(
                [os.path.join(realpeers.VENV, "bin", "hpfeeds-broker"), "--bind",
                 f"127.0.0.1:{self.port}", "--auth", self.auth, "--name", "refbroker",
                 #  without --exporter it serves its metrics on 0.0.0.0:8080
                 #  (an empty default still counts as set): keep it on loopback
                 "--exporter", f"127.0.0.1:{realpeers.free_port()}"],
                stdout=self.log, stderr=subprocess.STDOUT)
            if realpeers.wait_port(self.port, 20, self.proc):
                return self
            realpeers.stop(self.proc)
            if port:
                break
        self.log.seek(0)
        realpeers.die(f"the reference hpfeeds broker did not start: {self.log.read()[-2000:]}")

    def stop(self):
        return realpeers.stop(self.proc)

    def restart(self):
        self.stop()
        return self.start(self.port)

    def close(self):
        self.stop()
        self.log.close()
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)


class ZflowBroker:
    """zflow broker --port PORT --user IDENT:SECRET:PUB:SUB ..."""

    name = "zflow broker"

    def __init__(self, zflow):
        self.zflow = zflow
        self.proc = None
        self.port = None
        self.lines = []

    def start(self, port=0):
        users = []
        for ident, (secret, pub, sub) in USERS.items():
            users += ["--user", f"{ident}:{secret}:{','.join(pub)}:{','.join(sub)}"]
        self.proc = subprocess.Popen([self.zflow, "broker", "--port", str(port)] + users,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        line = self.proc.stderr.readline()
        if "listening on" not in line:
            realpeers.die(f"zflow broker did not start: {line!r}")
        self.port = int(line.rsplit(":", 1)[1])
        threading.Thread(target=lambda p=self.proc: self.lines.extend(p.stderr),
                         daemon=True).start()
        return self

    def stop(self):
        return realpeers.stop(self.proc)

    def restart(self):
        self.stop()
        return self.start(self.port)

    def close(self):
        self.stop()


class BlockingSub:
    """The reference blocking client (hpfeeds.new) subscribed to channels in
    a thread of its own: what it receives goes to .messages as (ident,
    channel, bytes), the broker's error frames to .errors."""

    def __init__(self, port, ident, channels, reconnect=False):
        from hpfeeds.client import Client
        self.messages, self.errors = [], []
        #  not hpfeeds.new(): it drops its sleepwait argument (20 s between
        #  reconnects, whatever the caller says)
        self.client = Client("127.0.0.1", port, ident, USERS[ident][0], timeout=3,
                             reconnect=reconnect, sleepwait=0.2)
        self.client.subscribe(list(channels))
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self.client.run(lambda i, c, p: self.messages.append((i, c, bytes(p))),
                            self.errors.append)
        except Exception as e:  # Disconnect with reconnect=False ends the run
            self.errors.append(f"({type(e).__name__})")

    def close(self):
        self.client.stop()
        try:  # wakes its thread's recv (close() alone does not)
            self.client.s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.client.close()
        self.thread.join(5)
