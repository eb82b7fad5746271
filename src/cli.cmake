#  The zflow command (issue 7): target zflow_cli, installed as bin/zflow.
zflow_program (zflow_cli
    src/zflow_main.c
    src/zflow_cli_run.c
    src/zflow_cli_embedded.c
    src/zflow_cli_config.c
    src/zflow_cli_options.c
    src/zflow_cli_adapters.c
    src/zflow_cli_help.c
    src/zflow_cli_stats.c
    src/zflow_cli_metrics.c
    src/zflow_cli_poll.c
    src/zflow_cli_pubsub.c
    src/zflow_cli_hpfeeds.c
    src/zflow_cli_ws.c
    src/zflow_cli_centrifugo.c)
target_link_libraries (zflow_cli PRIVATE PkgConfig::JANSSON)
set_target_properties (zflow_cli PROPERTIES OUTPUT_NAME zflow)
install (TARGETS zflow_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

#  Tests that drive the installed-to-be binary from Python (python3 only,
#  no extra modules).
if (ZFLOW_BUILD_TESTS)
    find_program (ZFLOW_PYTHON3 python3 REQUIRED)
    foreach (name config run curve lossless hpfeeds adapters ws centrifugo)
        add_test (NAME test_cli_${name}
                  COMMAND ${ZFLOW_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/tests/cli/test_cli_${name}.py
                          $<TARGET_FILE:zflow_cli>)
    endforeach ()
    foreach (name config run curve lossless hpfeeds adapters ws centrifugo)
        set_tests_properties (test_cli_${name} PROPERTIES ENVIRONMENT
            "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/tests/cli/lsan.supp")
    endforeach ()
    #  a hub bound on tcp:// in a process of its own, for zflow pub / sub
    zflow_program (cli_hub tests/cli/cli_hub.c)
    add_test (NAME test_cli_hub
              COMMAND ${ZFLOW_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/tests/cli/test_cli_hub.py
                      $<TARGET_FILE:zflow_cli> $<TARGET_FILE:cli_hub>)
    set_tests_properties (test_cli_hub PROPERTIES TIMEOUT 60 LABELS integration ENVIRONMENT
        "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/tests/cli/lsan.supp")
    #  the run's counters cache and /health while a stage is slow
    zflow_test (test_cli_poll
        SOURCES tests/cli/test_cli_poll.c src/zflow_cli_poll.c src/zflow_cli_metrics.c
                src/zflow_cli_embedded.c
        LABELS integration TIMEOUT 60)
    set_tests_properties (test_cli_config PROPERTIES TIMEOUT 60 LABELS unit)
    set_tests_properties (test_cli_run test_cli_curve test_cli_lossless test_cli_hpfeeds test_cli_adapters
                          test_cli_ws test_cli_centrifugo
                          PROPERTIES TIMEOUT 90 LABELS integration)
endif ()
