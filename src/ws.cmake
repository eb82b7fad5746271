#  WebSocket feeds: wslay framing, OpenSSL, zlib, jansson.
find_path (WSLAY_INCLUDE_DIR wslay/wslay.h)
find_library (WSLAY_LIBRARY wslay)
if (NOT WSLAY_INCLUDE_DIR OR NOT WSLAY_LIBRARY)
    message (FATAL_ERROR "wslay not found (Debian: apt-get install libwslay-dev)")
endif ()
find_package (OpenSSL REQUIRED)
find_package (ZLIB REQUIRED)
pkg_check_modules (JANSSON REQUIRED IMPORTED_TARGET jansson)

target_sources (zflow_objects PRIVATE
    src/zflow_ws_proto.c
    src/zflow_ws_tls.c
    src/zflow_ws_frame.c
    src/zflow_ws_client.c
    src/zflow_ws_conn_open.c
    src/zflow_ws_config.c
    src/zflow_ws_fanout.c
    src/zflow_ws_scan.c
    src/zflow_ws_actor.c
    src/zflow_ws.c)
target_include_directories (zflow_objects PRIVATE ${WSLAY_INCLUDE_DIR})
target_link_libraries (zflow_objects PRIVATE ${WSLAY_LIBRARY} OpenSSL::SSL OpenSSL::Crypto
                       ZLIB::ZLIB PkgConfig::JANSSON)

foreach (test test_ws_client test_ws_feed test_ws_conformance test_ws_batch)
    zflow_test (${test} SOURCES tests/${test}.c LABELS integration TIMEOUT 60)
    if (TARGET ${test})
        target_compile_definitions (${test} PRIVATE
                                    WS_TEST_DIR="${CMAKE_CURRENT_SOURCE_DIR}/tests/ws")
    endif ()
endforeach ()
zflow_test (test_ws_scan SOURCES tests/test_ws_scan.c LABELS unit TIMEOUT 60)
zflow_test (test_ws_frame SOURCES tests/test_ws_frame.c LABELS unit TIMEOUT 60)
#  The client tests again against Node's ws (skipped when node or the
#  package is missing: npm install --prefix tests/ws ws).
if (TARGET test_ws_client)
    add_test (NAME test_ws_node COMMAND test_ws_client node)
    set_tests_properties (test_ws_node PROPERTIES TIMEOUT 60 LABELS integration
                          SKIP_RETURN_CODE 77)
endif ()
#  zflow_ws.h includes jansson.h; wslay, OpenSSL and zlib stay private.
if (NOT ZFLOW_PC_REQUIRES MATCHES "jansson")
    string (APPEND ZFLOW_PC_REQUIRES " jansson")
endif ()
string (APPEND ZFLOW_PRIVATE_LIBS " -lwslay -lssl -lcrypto -lz")

#  Fuzzing: the corpus replayer runs in every build; the libFuzzer target
#  needs clang: cmake -DCMAKE_C_COMPILER=clang -DZFLOW_WS_FUZZ=ON.
option (ZFLOW_WS_FUZZ "Build the libFuzzer target fuzz_ws (clang only)" OFF)
zflow_test (test_ws_fuzz_replay SOURCES tests/fuzz/replay_ws.c tests/fuzz/fuzz_ws.c
            LABELS unit TIMEOUT 60
            ARGS ${CMAKE_CURRENT_SOURCE_DIR}/tests/fuzz/ws_corpus)
if (ZFLOW_WS_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
    #  Coverage for the library code the target reaches.
    target_compile_options (zflow_objects PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
    target_link_options (zflow_objects INTERFACE -fsanitize=address,undefined)
    add_executable (fuzz_ws tests/fuzz/fuzz_ws.c)
    target_compile_options (fuzz_ws PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options (fuzz_ws PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries (fuzz_ws PRIVATE zflow-static)
    target_include_directories (fuzz_ws PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
endif ()

if (ZFLOW_BUILD_BENCH)
    zflow_program (zflow_bench_ws bench/zflow_bench_ws.c)
    set_target_properties (zflow_bench_ws PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                           ${CMAKE_BINARY_DIR}/bench)
    target_compile_definitions (zflow_bench_ws PRIVATE
                                WS_TEST_DIR="${CMAKE_CURRENT_SOURCE_DIR}/tests/ws")
endif ()

if (ZFLOW_BUILD_EXAMPLES)
    zflow_program (ws_feed examples/ws_feed.c)
endif ()
