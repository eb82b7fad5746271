#  The core: messages, streams, keys, envelope, the actor base.
target_sources (zflow_objects PRIVATE
    src/zflow_error.c
    src/zflow_msg.c
    src/zflow_ring.c
    src/zflow_stream.c
    src/zflow_stream_loop.c
    src/zflow_stream_monitor.c
    src/zflow_key.c
    src/zflow_meta.c
    src/zflow_envelope.c
    src/zflow_actor.c
    src/zflow_histogram.c)

#  tests, examples and the stream benchmark are added as they are written
zflow_test (test_msg SOURCES tests/test_msg.c)
zflow_test (test_key SOURCES tests/test_key.c)
zflow_test (test_envelope SOURCES tests/test_envelope.c)
zflow_test (test_stream SOURCES tests/test_stream.c)
zflow_test (test_stream_watermark SOURCES tests/test_stream_watermark.c)
zflow_test (test_stream_monitor SOURCES tests/test_stream_monitor.c)
zflow_test (test_actor SOURCES tests/test_actor.c)
zflow_test (test_histogram SOURCES tests/test_histogram.c)
if (ZFLOW_BUILD_TESTS)
    target_link_libraries (test_histogram PRIVATE m)
endif ()

if (ZFLOW_BUILD_BENCH)
    foreach (bench zflow_bench_stream zflow_bench_latency)
        zflow_program (${bench} bench/${bench}.c)
        target_compile_definitions (${bench} PRIVATE ZFLOW_MSGPACK_VERSION="${MSGPACK_VERSION}")
        set_target_properties (${bench} PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                               ${CMAKE_BINARY_DIR}/bench)
    endforeach ()
endif ()

if (ZFLOW_BUILD_EXAMPLES)
    zflow_program (stream_pipeline examples/stream_pipeline.c)
endif ()

#  The install rules, checked by building a program against an installed copy.
if (ZFLOW_BUILD_TESTS AND NOT ZFLOW_SANITIZE)
    add_test (NAME test_install COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/install/test_install.sh
              ${CMAKE_BINARY_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
    set_tests_properties (test_install PROPERTIES TIMEOUT 120 LABELS integration)
endif ()
