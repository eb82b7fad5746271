"""Shared helpers of the tests against real peers (label `real`): the
reference hpfeeds broker and clients (PyPI hpfeeds 3.1.0) and Centrifugo v6,
all installed by scripts/install-deps.sh under ZFLOW_PEERS (default
/opt/zflow-peers): venv/, a Python venv of Debian's python3 with system
site-packages (python3-websockets), and bin/centrifugo.

A missing peer is a failure with a message saying what to install, never a
skip: CI installs them, so a test that cannot run has found a broken setup.
Every server is started on a free loopback port by the test and stopped by
it; every wait is bounded."""
import os
import socket
import subprocess
import sys
import time

PEERS = os.environ.get("ZFLOW_PEERS", "/opt/zflow-peers")
VENV = os.path.join(PEERS, "venv")
PYTHON = os.path.join(VENV, "bin", "python3")
CENTRIFUGO = os.path.join(PEERS, "bin", "centrifugo")
CENTRIFUGO_VERSION = "6.9.1"


def die(message):
    """Fails the test at once with message (a missing peer, a broken setup)."""
    print("FAIL " + message, flush=True)
    print("failures: 1")
    sys.exit(1)


def use_peers_python():
    """Re-runs the calling script under the peers' venv interpreter (which
    has hpfeeds) unless it already runs there; fails when it is missing."""
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.access(PYTHON, os.X_OK):
        die(f"no Python venv for the real peers at {PEERS}: run scripts/install-deps.sh "
            "(or set ZFLOW_PEERS)")
    os.execv(PYTHON, [PYTHON] + sys.argv)


def need_hpfeeds():
    """Checks that the reference hpfeeds package and its broker are there."""
    try:
        import hpfeeds  # noqa: F401
        import aiorun  # noqa: F401  (the broker's extra)
    except ImportError as e:
        die(f"the reference hpfeeds package is missing from {PEERS} ({e}): run "
            "scripts/install-deps.sh (pip install 'hpfeeds[broker]==3.1.0')")
    broker = os.path.join(VENV, "bin", "hpfeeds-broker")
    if not os.access(broker, os.X_OK):
        die(f"{broker} is missing: run scripts/install-deps.sh")
    return broker


def need_centrifugo():
    """Checks that Centrifugo of the pinned version is installed; returns
    its path."""
    if not os.access(CENTRIFUGO, os.X_OK):
        die(f"{CENTRIFUGO} is missing: run scripts/install-deps.sh (go install "
            f"github.com/centrifugal/centrifugo/v6@v{CENTRIFUGO_VERSION})")
    out = subprocess.run([CENTRIFUGO, "version"], capture_output=True, text=True,
                         timeout=20).stdout
    if CENTRIFUGO_VERSION not in out:
        die(f"{CENTRIFUGO} is not v{CENTRIFUGO_VERSION} ({out.strip()!r})")
    return CENTRIFUGO


def need_websockets():
    try:
        import websockets  # noqa: F401
    except ImportError:
        die("python3-websockets (Debian) is missing: run scripts/install-deps.sh")


def free_port():
    """A TCP port free on 127.0.0.1 right now (the caller binds it soon)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, seconds=15, proc=None):
    """Waits until 127.0.0.1:port accepts connections. Returns True or False
    (also False as soon as proc, when given, has exited)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def wait_for(cond, seconds=10, step=0.05):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return bool(cond())


def stop(proc, seconds=10):
    """Stops a child process: SIGTERM, then SIGKILL. Returns its exit code."""
    if proc is None or proc.poll() is not None:
        return None if proc is None else proc.returncode
    proc.terminate()
    try:
        return proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=seconds)


class Checks:
    """Counts failed checks; each check prints one ok/FAIL line."""

    def __init__(self):
        self.failures = 0

    def __call__(self, cond, what):
        print(("ok   " if cond else "FAIL ") + what, flush=True)
        if not cond:
            self.failures += 1
        return bool(cond)

    def finish(self):
        print("failures:", self.failures, flush=True)
        sys.exit(1 if self.failures else 0)
