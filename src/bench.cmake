#  `zflow bench`: the benchmark driver (src/zflow_cmd_bench*.c), linked into
#  the zflow command. Its suites are the bench/ programs of each component.
pkg_check_modules (JANSSON REQUIRED IMPORTED_TARGET jansson)
add_library (zflow_cmd_bench STATIC src/zflow_cmd_bench.c src/zflow_cmd_bench_plot.c
            src/zflow_cmd_bench_config.c)
target_link_libraries (zflow_cmd_bench PUBLIC PkgConfig::CZMQ PkgConfig::JANSSON m)
target_link_libraries (zflow_cli PRIVATE zflow_cmd_bench)

if (ZFLOW_BUILD_TESTS AND ZFLOW_BUILD_BENCH)
    add_test (NAME test_bench_cli
              COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/tests/bench/test_bench_cli.py
                      $<TARGET_FILE:zflow_cli>)
    set_tests_properties (test_bench_cli PROPERTIES TIMEOUT 120 LABELS "integration")
endif ()
