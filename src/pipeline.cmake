#  Pipelines: stage actors joined by zflow streams (issue 7).
pkg_check_modules (JANSSON REQUIRED IMPORTED_TARGET jansson)
target_sources (zflow_objects PRIVATE
    src/zflow_pipeline.c
    src/zflow_pipeline_stage.c
    src/zflow_pipeline_file.c
    src/zflow_pipeline_builtin.c
    src/zflow_pipeline_codec.c
    src/zflow_pipeline_curve.c
    src/zflow_pipeline_hpfeeds.c
    src/zflow_pipeline_ws.c
    src/zflow_pipeline_centrifugo.c)
target_link_libraries (zflow_objects PRIVATE PkgConfig::JANSSON PkgConfig::MSGPACK)

zflow_test (test_pipeline SOURCES tests/test_pipeline.c LABELS unit TIMEOUT 60)
zflow_test (test_pipeline_builtin SOURCES tests/test_pipeline_builtin.c LABELS unit TIMEOUT 30)
zflow_test (test_pipeline_hpfeeds SOURCES tests/test_pipeline_hpfeeds.c LABELS integration TIMEOUT 60)
zflow_test (test_pipeline_hub SOURCES tests/test_pipeline_hub.c LABELS unit TIMEOUT 30)
#  Bounded in CI (60000 events); ZFLOW_SOAK_COUNT=1000000 for the full size.
zflow_test (test_pipeline_soak SOURCES tests/test_pipeline_soak.c LABELS soak TIMEOUT 120)
if (ZFLOW_BUILD_TESTS)
    #  It checks RSS: under ASan keep the freed-memory quarantine small so
    #  RSS measures zflow, not the sanitizer (no effect on other builds).
    set_tests_properties (test_pipeline_soak PROPERTIES ENVIRONMENT
        "ASAN_OPTIONS=quarantine_size_mb=4:thread_local_quarantine_size_kb=64")
    #  The file sink on a stdout pipe nobody reads: the actor still answers.
    find_program (ZFLOW_PYTHON3 python3 REQUIRED)
    add_test (NAME test_cli_file_sink
              COMMAND ${ZFLOW_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/tests/cli/test_cli_file_sink.py
                      $<TARGET_FILE:zflow_cli>)
    set_tests_properties (test_cli_file_sink PROPERTIES TIMEOUT 60 LABELS integration ENVIRONMENT
        "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/tests/cli/lsan.supp")
endif ()

if (ZFLOW_BUILD_EXAMPLES)
    zflow_program (pipeline_basic examples/pipeline_basic.c)
    zflow_program (pipeline_hpfeeds examples/pipeline_hpfeeds.c)
    if (ZFLOW_BUILD_TESTS)
        add_test (NAME example_pipeline_basic COMMAND pipeline_basic)
        add_test (NAME example_pipeline_hpfeeds COMMAND pipeline_hpfeeds)
        set_tests_properties (example_pipeline_basic example_pipeline_hpfeeds
                              PROPERTIES TIMEOUT 30 LABELS unit)
    endif ()
endif ()

#  libzflow.pc: a static link needs jansson too.
if (NOT ZFLOW_PC_REQUIRES MATCHES "jansson")
    string (APPEND ZFLOW_PC_REQUIRES " jansson")
endif ()

if (ZFLOW_BUILD_BENCH)
    zflow_program (zflow_bench_pipeline bench/zflow_bench_pipeline.c)
    target_include_directories (zflow_bench_pipeline PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/bench)
    target_compile_definitions (zflow_bench_pipeline PRIVATE
                                ZFLOW_MSGPACK_VERSION="${MSGPACK_VERSION}")
    set_target_properties (zflow_bench_pipeline PROPERTIES
        RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
endif ()
