#!/usr/bin/env bash
# Installs zflow's build and test dependencies from Debian 12's packages
# (and the npm packages the interop tests use). Run as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
    build-essential cmake pkg-config git ca-certificates \
    libzmq3-dev libczmq-dev libmsgpack-dev \
    libjansson-dev libcurl4-openssl-dev libssl-dev libwslay-dev zlib1g-dev \
    python3 python3-websockets clang libclang-rt-14-dev \
    openssl gnuplot-nox procps
