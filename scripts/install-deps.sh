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
    openssl gnuplot-nox procps groff-base man-db
# Node.js and its ws package: a real peer for the WebSocket tests and the
# baseline of the WebSocket benchmark (the tests skip, saying so, without them).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    $SUDO apt-get install -y --no-install-recommends nodejs npm
fi
npm ci --prefix tests/ws --no-audit --no-fund --loglevel=error
