#  Pipelines: stage actors joined by zflow streams (issue 7).
pkg_check_modules (JANSSON REQUIRED IMPORTED_TARGET jansson)
target_sources (zflow_objects PRIVATE
    src/zflow_pipeline.c
    src/zflow_pipeline_stage.c
    src/zflow_pipeline_builtin.c
    src/zflow_pipeline_codec.c
    src/zflow_pipeline_curve.c
    src/zflow_pipeline_hpfeeds.c)
target_link_libraries (zflow_objects PRIVATE PkgConfig::JANSSON PkgConfig::MSGPACK)

zflow_test (test_pipeline SOURCES tests/test_pipeline.c LABELS unit TIMEOUT 60)
zflow_test (test_pipeline_builtin SOURCES tests/test_pipeline_builtin.c LABELS unit TIMEOUT 30)
zflow_test (test_pipeline_hpfeeds SOURCES tests/test_pipeline_hpfeeds.c LABELS integration TIMEOUT 60)

if (ZFLOW_BUILD_EXAMPLES)
    zflow_program (pipeline_basic examples/pipeline_basic.c)
    if (ZFLOW_BUILD_TESTS)
        add_test (NAME example_pipeline_basic COMMAND pipeline_basic)
        set_tests_properties (example_pipeline_basic PROPERTIES TIMEOUT 30 LABELS unit)
    endif ()
endif ()

#  libzflow.pc: a static link needs jansson too.
if (NOT ZFLOW_PC_REQUIRES MATCHES "jansson")
    string (APPEND ZFLOW_PC_REQUIRES " jansson")
endif ()
