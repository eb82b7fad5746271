#  hpfeeds: the wire codec, the embedded broker and the client adapter.
pkg_check_modules (HPF_JANSSON REQUIRED IMPORTED_TARGET jansson)
pkg_check_modules (HPF_CRYPTO REQUIRED IMPORTED_TARGET libcrypto)
pkg_check_modules (HPF_SSL REQUIRED IMPORTED_TARGET libssl)
target_sources (zflow_objects PRIVATE
    src/zflow_hpfeeds_proto.c
    src/zflow_hpfeeds_buf.c
    src/zflow_hpfeeds_pool.c
    src/zflow_hpfeeds_auth.c
    src/zflow_hpfeeds_broker.c
    src/zflow_hpfeeds_broker_api.c
    src/zflow_hpfeeds_broker_cmd.c
    src/zflow_hpfeeds_client.c
    src/zflow_hpfeeds_client_recv.c
    src/zflow_hpfeeds_outbox.c
    src/zflow_hpfeeds_tls.c
    src/zflow_hpfeeds.c)
target_link_libraries (zflow_objects PRIVATE PkgConfig::HPF_JANSSON PkgConfig::HPF_SSL
                       PkgConfig::HPF_CRYPTO)
set (ZFLOW_PC_REQUIRES "${ZFLOW_PC_REQUIRES} jansson libssl libcrypto")

zflow_test (test_hpfeeds_proto SOURCES tests/test_hpfeeds_proto.c LABELS unit TIMEOUT 30)
zflow_test (test_hpfeeds_pool SOURCES tests/test_hpfeeds_pool.c LABELS unit TIMEOUT 30)

#  The corpus replay runs every committed fuzz input through the parser
#  (built with any compiler, so CI with gcc smoke-runs the corpus).
zflow_test (test_hpfeeds_fuzz_replay
    SOURCES tests/fuzz/fuzz_hpfeeds_parse.c tests/fuzz/replay_main.c
    ARGS ${CMAKE_CURRENT_SOURCE_DIR}/tests/fuzz/hpfeeds_corpus
    LABELS unit TIMEOUT 60)

#  The libFuzzer target, only with a compiler that has -fsanitize=fuzzer.
if (ZFLOW_BUILD_TESTS AND CMAKE_C_COMPILER_ID MATCHES "Clang")
    include (CheckCSourceCompiles)
    set (CMAKE_REQUIRED_FLAGS "-fsanitize=fuzzer")
    check_c_source_compiles ("
        #include <stddef.h>
        #include <stdint.h>
        int LLVMFuzzerTestOneInput (const uint8_t *d, size_t n) { (void) d; (void) n; return 0; }"
        ZFLOW_HAVE_LIBFUZZER)
    unset (CMAKE_REQUIRED_FLAGS)
    if (ZFLOW_HAVE_LIBFUZZER)
        #  the codec is compiled in so that libFuzzer instruments it
        add_executable (fuzz_hpfeeds_parse tests/fuzz/fuzz_hpfeeds_parse.c
                        src/zflow_hpfeeds_proto.c)
        target_compile_options (fuzz_hpfeeds_parse PRIVATE -fsanitize=fuzzer,address)
        target_link_options (fuzz_hpfeeds_parse PRIVATE -fsanitize=fuzzer,address)
        target_include_directories (fuzz_hpfeeds_parse PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
        target_link_libraries (fuzz_hpfeeds_parse PRIVATE zflow-static PkgConfig::HPF_CRYPTO)
    endif ()
endif ()

zflow_test (test_hpfeeds_broker SOURCES tests/test_hpfeeds_broker.c LABELS integration TIMEOUT 60)
zflow_test (test_hpfeeds SOURCES tests/test_hpfeeds.c LABELS integration TIMEOUT 90)
zflow_test (test_hpfeeds_batch SOURCES tests/test_hpfeeds_batch.c LABELS integration TIMEOUT 60)
zflow_test (test_hpfeeds_direct SOURCES tests/test_hpfeeds_direct.c LABELS integration TIMEOUT 60)

#  Cross-check with an independent Python implementation (stdlib only).
find_program (ZFLOW_PYTHON3 python3)
if (ZFLOW_PYTHON3)
    zflow_test (test_hpfeeds_interop SOURCES tests/test_hpfeeds_interop.c
        ARGS ${ZFLOW_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/tests/hpfeeds/peer.py
        LABELS integration TIMEOUT 60)
endif ()

if (ZFLOW_BUILD_BENCH)
    zflow_program (zflow_bench_hpfeeds bench/zflow_bench_hpfeeds.c)
    set_target_properties (zflow_bench_hpfeeds PROPERTIES
        RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
    zflow_program (zflow_bench_hpfeeds_latency bench/zflow_bench_hpfeeds_latency.c)
    set_target_properties (zflow_bench_hpfeeds_latency PROPERTIES
        RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
endif ()

if (ZFLOW_BUILD_EXAMPLES)
    zflow_program (hpfeeds_pubsub examples/hpfeeds_pubsub.c)
    zflow_program (hpfeeds_merge examples/hpfeeds_merge.c)
    target_link_libraries (hpfeeds_merge PRIVATE PkgConfig::HPF_JANSSON)
endif ()
