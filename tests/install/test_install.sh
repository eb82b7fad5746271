#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, then builds a small
# program against it three ways: find_package (zflow), pkg-config (shared)
# and pkg-config --static, and runs each.
# usage: test_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build="$1"
source="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" > "$tmp/install.log"
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
expected="a/b stream or actor is closed"

cmake -S "$source/docs/consumer" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
    > "$tmp/configure.log"
cmake --build "$tmp/cmake" > "$tmp/build.log"
[ "$(LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/cmake/consumer")" = "$expected" ]
echo "find_package (zflow): ok"

cc "$source/docs/consumer/main.c" $(pkg-config --cflags --libs libzflow) -o "$tmp/shared"
[ "$(LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/shared")" = "$expected" ]
echo "pkg-config libzflow: ok"

cc "$source/docs/consumer/main.c" $(pkg-config --cflags libzflow) \
    "$tmp/prefix/lib/libzflow.a" $(pkg-config --static --libs-only-l libzflow | sed 's/-lzflow//') \
    -o "$tmp/static"
[ "$("$tmp/static")" = "$expected" ]
echo "pkg-config --static libzflow: ok"
echo "1 passed, 0 failed"
