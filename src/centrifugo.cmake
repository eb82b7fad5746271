#  Centrifugo: the server API client (libcurl + jansson), the sink actor,
#  their tests against the fake server in tests/fake/, the example and the
#  benchmark.
pkg_check_modules (JANSSON REQUIRED IMPORTED_TARGET jansson)
pkg_check_modules (CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules (LIBCRYPTO REQUIRED IMPORTED_TARGET libcrypto)
target_sources (zflow_objects PRIVATE
    src/zflow_centrifugo.c
    src/zflow_centrifugo_methods.c
    src/zflow_centrifugo_sink.c)
#  jansson types appear in the public header, so users need its include path.
target_link_libraries (zflow_objects PUBLIC PkgConfig::JANSSON PRIVATE PkgConfig::CURL PkgConfig::LIBCRYPTO)
set (ZFLOW_PC_REQUIRES "${ZFLOW_PC_REQUIRES} jansson")
set (ZFLOW_PRIVATE_LIBS "${ZFLOW_PRIVATE_LIBS} -lcurl -lcrypto")

#  Tests find the fake server and the Python interpreter through these.
set (ZFLOW_CENTRIFUGO_FAKE ${CMAKE_CURRENT_SOURCE_DIR}/tests/fake/centrifugo_fake.py)
find_program (ZFLOW_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if (NOT ZFLOW_PYTHON3)
    find_program (ZFLOW_PYTHON3 python3)
endif ()

foreach (test test_centrifugo test_centrifugo_sink)
    zflow_test (${test} SOURCES tests/${test}.c tests/test_centrifugo_fake.c
                LABELS integration TIMEOUT 60)
    if (TARGET ${test})
        target_compile_definitions (${test} PRIVATE
            ZFLOW_CENTRIFUGO_FAKE="${ZFLOW_CENTRIFUGO_FAKE}" ZFLOW_PYTHON3="${ZFLOW_PYTHON3}")
        target_link_libraries (${test} PRIVATE PkgConfig::CURL PkgConfig::JANSSON)
    endif ()
endforeach ()

if (ZFLOW_BUILD_EXAMPLES AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/examples/centrifugo_publish.c)
    zflow_program (centrifugo_publish examples/centrifugo_publish.c)
endif ()

if (ZFLOW_BUILD_BENCH)
    zflow_program (zflow_bench_centrifugo bench/zflow_bench_centrifugo.c)
    set_target_properties (zflow_bench_centrifugo PROPERTIES
        RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
endif ()
