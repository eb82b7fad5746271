#  `zflow bench`: the benchmark driver (src/zflow_cmd_bench*.c). Its suites
#  are the bench/ programs of each component.
pkg_check_modules (JANSSON REQUIRED IMPORTED_TARGET jansson)
add_library (zflow_cmd_bench STATIC src/zflow_cmd_bench.c src/zflow_cmd_bench_plot.c)
target_link_libraries (zflow_cmd_bench PUBLIC PkgConfig::CZMQ PkgConfig::JANSSON m)
add_executable (zflow-bench src/zflow_bench_main.c)
target_link_libraries (zflow-bench PRIVATE zflow_cmd_bench)

if (ZFLOW_BUILD_TESTS AND ZFLOW_BUILD_BENCH)
    add_test (NAME test_bench_cli
              COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/tests/bench/test_bench_cli.py
                      $<TARGET_FILE:zflow-bench>)
    set_tests_properties (test_bench_cli PROPERTIES TIMEOUT 120 LABELS "integration")
endif ()
