#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a short while
# over a copy of its committed corpus (CI's fuzz smoke run). The corpus
# replayers (test_*_fuzz_replay) run in every ctest build as well.
# ZFLOW_FUZZ_SECONDS sets the time per target (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${ZFLOW_FUZZ_SECONDS:-20}"
dir=build-fuzz
CC=clang cmake -S . -B "$dir" -DZFLOW_WS_FUZZ=ON -DZFLOW_BUILD_EXAMPLES=OFF \
    -DZFLOW_BUILD_BENCH=OFF > "$dir.log" 2>&1 || { cat "$dir.log"; exit 1; }
cmake --build "$dir" -j "$(nproc)" --target fuzz_hpfeeds_parse fuzz_ws
for target in hpfeeds_parse:hpfeeds_corpus ws:ws_corpus; do
    name="fuzz_${target%%:*}"
    corpus="$(mktemp -d)"
    cp -r "tests/fuzz/${target##*:}/." "$corpus/"
    echo "== $name: ${seconds}s over $(ls "$corpus" | wc -l) corpus inputs"
    "$dir/$name" -max_total_time="$seconds" -print_final_stats=1 "$corpus" 2>&1 | tail -4
    rm -rf "$corpus"
done
echo "fuzz smoke: no crash"
