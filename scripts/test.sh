#!/usr/bin/env bash
# Configures, builds (warnings are errors) and runs the whole test suite.
# ZFLOW_BUILD_DIR (default build) and ZFLOW_CMAKE_ARGS change the build.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${ZFLOW_BUILD_DIR:-build}"
# shellcheck disable=SC2086
cmake -S . -B "$dir" -DZFLOW_WERROR=ON ${ZFLOW_CMAKE_ARGS:-}
cmake --build "$dir" -j "$(nproc)"
ctest --test-dir "$dir" --output-on-failure -j "$(nproc)"
