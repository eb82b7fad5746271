"""A real mosquitto broker for the MQTT tests that drive the zflow command:
a configuration in a fresh directory (a listener on a free loopback port,
a password file, a TLS listener with a certificate made by openssl), the
broker started and stopped by the test. A missing mosquitto fails with a
message naming the package (never a skip)."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class Checks:
    def __init__(self):
        self.failures = 0

    def __call__(self, cond, what):
        print(("ok   " if cond else "FAIL ") + what, flush=True)
        if not cond:
            self.failures += 1

    def done(self):
        print(f"failures: {self.failures}")
        sys.exit(1 if self.failures else 0)


class Broker:
    """mosquitto at 127.0.0.1:port; users {name: password} make it refuse
    anonymous clients; tls adds a TLS listener at tls_port (cert: its CA)."""

    def __init__(self, mosquitto, users=None, tls=False, extra=""):
        if not os.access(mosquitto, os.X_OK):
            print(f"FAIL {mosquitto} is missing: install Debian's mosquitto "
                  "(scripts/install-deps.sh)")
            sys.exit(1)
        self.mosquitto = mosquitto
        self.dir = tempfile.mkdtemp(prefix="zflow-mqtt-")
        os.chmod(self.dir, 0o777)  # mosquitto started as root runs as user mosquitto
        self.port = free_port()
        self.tls_port = free_port() if tls else 0
        self.cert = os.path.join(self.dir, "cert.pem")
        lines = ["per_listener_settings false", f"listener {self.port} 127.0.0.1",
                 f"persistence_location {self.dir}/", "max_queued_messages 0",
                 f"log_dest file {self.dir}/mosquitto.log", "log_type error", "log_type warning",
                 "log_type notice", "log_type information", "log_type subscribe", extra]
        self.log = os.path.join(self.dir, "mosquitto.log")
        if users:
            passwd = os.path.join(self.dir, "passwd")
            for n, (user, password) in enumerate(users.items()):
                subprocess.run(["mosquitto_passwd"] + (["-c"] if n == 0 else []) +
                               ["-b", passwd, user, password], check=True)
            os.chmod(passwd, 0o644)
            lines += ["allow_anonymous false", f"password_file {passwd}"]
        else:
            lines.append("allow_anonymous true")
        if tls:
            key = os.path.join(self.dir, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                            "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", self.cert],
                           check=True, capture_output=True)
            os.chmod(key, 0o644)
            lines += [f"listener {self.tls_port} 127.0.0.1", f"certfile {self.cert}",
                      f"keyfile {key}"]
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([self.mosquitto, "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 5
        while not listening(self.port) or (self.tls_port and not listening(self.tls_port)):
            if time.time() > deadline:
                print(f"FAIL mosquitto did not listen on {self.port}")
                sys.exit(1)
            time.sleep(0.02)
        return self

    def subscriptions(self, topic_filter):
        """How many SUBSCRIBEs to topic_filter the broker logged so far."""
        try:
            with open(self.log, errors="replace") as f:
                return sum(1 for line in f if line.rstrip().endswith(" " + topic_filter))
        except OSError:
            return 0

    def wait_subscribed(self, topic_filter, before, timeout=10):
        """Waits until the broker logged more SUBSCRIBEs to topic_filter than
        before; returns whether it did."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.subscriptions(topic_filter) > before:
                return True
            time.sleep(0.02)
        return False

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
