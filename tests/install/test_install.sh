#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, then builds a small
# program against it three ways: find_package (zflow), pkg-config (shared)
# and pkg-config --static, and runs each. Then: zflow.h compiles with no
# third-party header but czmq's and libzmq's (a poisoned jansson.h, curl,
# msgpack, wslay, OpenSSL and zlib come first on the include path), and a
# program using zflow_centrifugo_json.h builds with find_package (zflow
# COMPONENTS json) and with pkg-config libzflow jansson.
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

# zflow.h must not pull in any dependency but czmq and libzmq: each of
# these headers stops the compiler if anything includes it.
for header in jansson.h curl/curl.h msgpack.h wslay/wslay.h openssl/ssl.h zlib.h; do
    mkdir -p "$tmp/poison/$(dirname "$header")"
    echo "#error \"zflow.h must not include <$header>\"" > "$tmp/poison/$header"
done
printf '#include <zflow.h>\nint main (void) { return 0; }\n' > "$tmp/umbrella.c"
cc -fsyntax-only -I"$tmp/poison" $(pkg-config --cflags libzflow) "$tmp/umbrella.c"
echo "zflow.h without third-party headers: ok"

# The jansson-typed calls: the "json" component of the CMake package...
expected_json="102 unknown client"
cmake -S "$source/tests/install/consumer_json" -B "$tmp/cmake_json" \
    -DCMAKE_PREFIX_PATH="$tmp/prefix" > "$tmp/configure_json.log"
cmake --build "$tmp/cmake_json" > "$tmp/build_json.log"
[ "$(LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/cmake_json/consumer_json")" = "$expected_json" ]
echo "find_package (zflow COMPONENTS json): ok"
# ...which refuses a component it does not have...
mkdir -p "$tmp/nosuch"
printf 'cmake_minimum_required (VERSION 3.16)\nproject (nosuch C)\nfind_package (zflow REQUIRED COMPONENTS nosuch)\n' \
    > "$tmp/nosuch/CMakeLists.txt"
if cmake -S "$tmp/nosuch" -B "$tmp/nosuch/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
    > "$tmp/configure_nosuch.log" 2>&1; then
    echo "find_package (zflow COMPONENTS nosuch) should fail" >&2
    exit 1
fi
echo "find_package (zflow COMPONENTS nosuch) fails: ok"
# ...and pkg-config with jansson beside libzflow.
cc "$source/tests/install/consumer_json/main.c" $(pkg-config --cflags --libs libzflow jansson) \
    -o "$tmp/json"
[ "$(LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/json")" = "$expected_json" ]
echo "pkg-config libzflow jansson: ok"
echo "1 passed, 0 failed"
