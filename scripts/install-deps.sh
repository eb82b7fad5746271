#!/usr/bin/env bash
# Installs zflow's build and test dependencies from Debian 12's packages
# (and the npm packages the interop tests use). Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
    build-essential cmake pkg-config git ca-certificates \
    libzmq3-dev libczmq-dev libmsgpack-dev \
    libjansson-dev libcurl4-openssl-dev libssl-dev libwslay-dev zlib1g-dev \
    python3 python3-websockets clang clang-format libclang-rt-14-dev \
    openssl gnuplot-nox procps groff-base man-db \
    libmosquitto-dev mosquitto mosquitto-clients libhiredis-dev redis-server redis-tools
# Node.js and its ws package: a real peer for the WebSocket tests and the
# baseline of the WebSocket benchmark (the tests skip, saying so, without them).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    $SUDO apt-get install -y --no-install-recommends nodejs npm
fi
npm ci --prefix tests/ws --no-audit --no-fund --loglevel=error

# The real peers of the `real` tests (tests/real/), all under ZFLOW_PEERS:
# venv/, a venv of Debian's Python (its pip refuses system-wide installs;
# not a python3 found first on PATH) that also sees Debian's
# python3-websockets, with the reference hpfeeds broker and clients from
# PyPI; and bin/centrifugo, Centrifugo v6 built by Go from the module proxy
# (skipped when that version is already there: a build takes minutes).
PEERS="${ZFLOW_PEERS:-/opt/zflow-peers}"
CENTRIFUGO_VERSION=6.9.1
step() { echo "install-deps: $1: $(( $(date +%s) - step_start )) s"; step_start=$(date +%s); }
step_start=$(date +%s)
$SUDO apt-get install -y --no-install-recommends python3-venv
[ -x /usr/local/go/bin/go ] || command -v go >/dev/null 2>&1 ||
    $SUDO apt-get install -y --no-install-recommends golang-go
step "python3-venv"
VENV="$PEERS/venv"
if ! grep -qx 'home = /usr/bin' "$VENV/pyvenv.cfg" 2>/dev/null; then
    $SUDO /usr/bin/python3 -m venv --system-site-packages --clear "$VENV"
fi
$SUDO "$VENV/bin/pip" install --quiet 'hpfeeds[broker]==3.1.0'
step "hpfeeds 3.1.0 (with its broker)"
# >>> seeds suite (bench/zflow_bench_seeds.c): the libraries a user would
# otherwise pick, measured beside zflow by `zflow bench seeds`. Versions
# tested with Debian 12's Python 3.11: aiozmq 1.0.0 runs on it as is, with
# no shim (the `loop` arguments it still passes go to asyncio.Future only,
# which keeps them; no DeprecationWarning).
$SUDO "$VENV/bin/pip" install --quiet 'aiozmq==1.0.0' 'pyzmq==27.3.0' 'aiopubsub==3.0.0' \
    'cent==5.2.0'
step "seeds: aiozmq 1.0.0, pyzmq 27.3.0, aiopubsub 3.0.0, cent 5.2.0"
# <<< seeds suite
# The Autobahn|Testsuite (PyPI autobahntestsuite) is Python 2.7 code, and
# Debian 12 has no Python 2: take python2.7 from Debian 11 (bullseye),
# pinned low so that nothing else comes from there, and give it a venv
# (py2/) made by a virtualenv old enough to seed Python 2.7.
if [ ! -x /usr/bin/python2.7 ] || [ ! -e /usr/include/python2.7/Python.h ]; then
    $SUDO tee /etc/apt/sources.list.d/zflow-bullseye.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bullseye
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    printf 'Package: *\nPin: release n=bullseye\nPin-Priority: 100\n' |
        $SUDO tee /etc/apt/preferences.d/zflow-bullseye >/dev/null
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends -t bullseye python2.7 python2.7-dev
fi
step "python2.7 (bullseye)"
if ! "$PEERS/py2/bin/wstest" --help >/dev/null 2>&1; then
    $SUDO "$VENV/bin/pip" install --quiet 'virtualenv<20.22'
    $SUDO "$VENV/bin/virtualenv" --quiet -p /usr/bin/python2.7 --clear "$PEERS/py2"
    $SUDO "$PEERS/py2/bin/pip" install --quiet --no-cache-dir --disable-pip-version-check \
        'autobahntestsuite==25.10.1'
fi
step "autobahntestsuite 25.10.1 (Python 2.7)"
GO="$(command -v go || echo /usr/local/go/bin/go)"
if "$GO" version -m "$PEERS/bin/centrifugo" 2>/dev/null |
        grep -q "mod[[:space:]]*github.com/centrifugal/centrifugo/v6[[:space:]]*v$CENTRIFUGO_VERSION"; then
    echo "install-deps: centrifugo v$CENTRIFUGO_VERSION already in $PEERS/bin"
else
    $SUDO env GOBIN="$PEERS/bin" "$GO" install \
        -ldflags "-X github.com/centrifugal/centrifugo/v6/internal/build.Version=$CENTRIFUGO_VERSION" \
        "github.com/centrifugal/centrifugo/v6@v$CENTRIFUGO_VERSION"
fi
step "centrifugo v$CENTRIFUGO_VERSION"
