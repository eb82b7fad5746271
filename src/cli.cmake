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
    src/zflow_cli_pubsub.c)
target_link_libraries (zflow_cli PRIVATE PkgConfig::JANSSON)
set_target_properties (zflow_cli PROPERTIES OUTPUT_NAME zflow)
install (TARGETS zflow_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
