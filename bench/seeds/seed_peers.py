"""The peers of the seeds suite (bench/zflow_bench_seeds.c), run with the
Python of the peers' venv ($ZFLOW_PEERS/venv, scripts/install-deps.sh):

    seed_peers.py check            exit 0, or 1 naming every missing peer
    seed_peers.py hpfeeds-broker   runs the reference hpfeeds broker
    seed_peers.py centrifugo       runs the real Centrifugo

A server prints one line when it is ready, "ready <port>", and runs until
its stdin closes (the benchmark closes it, or dies), then stops and removes
its files. Every server listens on 127.0.0.1 only."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

PEERS = os.environ.get("ZFLOW_PEERS", "/opt/zflow-peers")
VENV = os.path.join(PEERS, "venv")
CENTRIFUGO = os.path.join(PEERS, "bin", "centrifugo")
CENTRIFUGO_VERSION = "6.9.1"
#  The hpfeeds users of the relay figure: the publisher and the subscriber
#  of channel "bench" (the same users the zflow broker gets in the C code).
HPFEEDS_USERS = {"pub": {"owner": "pub", "secret": "s", "pubchans": ["bench"], "subchans": []},
                 "sub": {"owner": "sub", "secret": "s", "pubchans": [], "subchans": ["bench"]}}
CENTRIFUGO_API_KEY = "zflow-bench-api-key"


def missing():
    """The peers that are not installed, each with what installs it."""
    gaps = []
    for module, package in [("aiozmq", "aiozmq==1.0.0"), ("zmq", "pyzmq==27.3.0"),
                            ("aiopubsub", "aiopubsub==3.0.0"), ("cent", "cent==5.2.0"),
                            ("hpfeeds", "hpfeeds[broker]==3.1.0"),
                            ("aiorun", "hpfeeds[broker]==3.1.0")]:
        try:
            __import__(module)
        except ImportError as e:
            gaps.append(f"Python module {module} ({e}): pip install '{package}' into {VENV}")
    if not os.access(os.path.join(VENV, "bin", "hpfeeds-broker"), os.X_OK):
        gaps.append(f"{VENV}/bin/hpfeeds-broker: pip install 'hpfeeds[broker]==3.1.0'")
    if not os.access(CENTRIFUGO, os.X_OK):
        gaps.append(f"{CENTRIFUGO}: go install "
                    f"github.com/centrifugal/centrifugo/v6@v{CENTRIFUGO_VERSION}")
    else:
        out = subprocess.run([CENTRIFUGO, "version"], capture_output=True, text=True,
                             timeout=20).stdout
        if CENTRIFUGO_VERSION not in out:
            gaps.append(f"{CENTRIFUGO} is not v{CENTRIFUGO_VERSION} ({out.strip()!r})")
    return gaps


def versions():
    """The seeds' versions, one line."""
    from importlib.metadata import version
    import zmq
    out = subprocess.run([CENTRIFUGO, "version"], capture_output=True, text=True,
                         timeout=20).stdout.split()  # Centrifugo v6.9.1 (Go ...)
    return (f"Python {sys.version.split()[0]}, aiozmq {version('aiozmq')}, pyzmq "
            f"{version('pyzmq')} (libzmq {zmq.zmq_version()}), aiopubsub "
            f"{version('aiopubsub')}, cent {version('cent')}, hpfeeds {version('hpfeeds')}, "
            f"Centrifugo {out[1].lstrip('v') if len(out) > 1 else '?'}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def wait_health(port, proc, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.1)
    return False


def start_hpfeeds_broker(workdir):
    auth = os.path.join(workdir, "users.json")
    with open(auth, "w") as f:
        json.dump(HPFEEDS_USERS, f)
    port = free_port()
    log = open(os.path.join(workdir, "broker.log"), "w")
    proc = subprocess.Popen(
        [os.path.join(VENV, "bin", "hpfeeds-broker"), "--bind", f"127.0.0.1:{port}", "--auth",
         auth, "--name", "seedbench",
         #  its metrics exporter defaults to 0.0.0.0:8080: keep it on loopback
         "--exporter", f"127.0.0.1:{free_port()}"],
        stdout=log, stderr=subprocess.STDOUT)
    return proc, port, wait_port(port, proc)


def start_centrifugo(workdir):
    port = free_port()
    config = os.path.join(workdir, "config.json")
    with open(config, "w") as f:
        json.dump({"http_server": {"address": "127.0.0.1", "port": port},
                   "log": {"level": "error"},
                   "http_api": {"key": CENTRIFUGO_API_KEY},
                   "health": {"enabled": True},
                   #  loopback only: no anonymous usage report
                   "usage_stats": {"disabled": True}}, f)
    log = open(os.path.join(workdir, "centrifugo.log"), "w")
    proc = subprocess.Popen([CENTRIFUGO, "--config", config], cwd=workdir, stdout=log,
                            stderr=subprocess.STDOUT)
    return proc, port, wait_health(port, proc)


def serve(start):
    workdir = tempfile.mkdtemp(prefix="zflow-seedbench-")
    proc = None
    try:
        proc, port, ready = start(workdir)
        if not ready:
            for name in sorted(os.listdir(workdir)):
                if name.endswith(".log"):
                    with open(os.path.join(workdir, name)) as f:
                        sys.stderr.write(f.read()[-2000:])
            print("failed", flush=True)
            return 1
        print(f"ready {port}", flush=True)
        sys.stdin.read()  # until the benchmark closes our stdin
        return 0
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    what = sys.argv[1] if len(sys.argv) == 2 else ""
    if what == "check":
        gaps = missing()
        for gap in gaps:
            print(f"missing: {gap}", file=sys.stderr)
        if not gaps:
            print(f"seeds: {versions()}")
        return 1 if gaps else 0
    if what == "hpfeeds-broker":
        return serve(start_hpfeeds_broker)
    if what == "centrifugo":
        return serve(start_centrifugo)
    print("usage: seed_peers.py check|hpfeeds-broker|centrifugo", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
