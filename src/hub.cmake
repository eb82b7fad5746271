#  The hub: hierarchical keys with wildcards, publishers, subscribers,
#  listeners and subscriber notices on an inproc XPUB/XSUB pair.
target_sources (zflow_objects PRIVATE
    src/zflow_hub.c
    src/zflow_hub_trie.c
    src/zflow_hub_notice.c
    src/zflow_hub_publisher.c
    src/zflow_hub_subscriber.c
    src/zflow_hub_subscriber_actor.c)

zflow_test (test_hub_trie SOURCES tests/test_hub_trie.c LABELS unit TIMEOUT 30)
zflow_test (test_hub SOURCES tests/test_hub.c LABELS integration TIMEOUT 60)
zflow_test (test_hub_overflow SOURCES tests/test_hub_overflow.c LABELS integration TIMEOUT 60)
if (ZFLOW_BUILD_TESTS)
    add_executable (hub_peer tests/hub/hub_peer.c)
    target_link_libraries (hub_peer PRIVATE zflow-static)
endif ()
zflow_test (test_hub_remote SOURCES tests/test_hub_remote.c LABELS integration TIMEOUT 90
            ARGS $<TARGET_FILE:hub_peer>)
if (ZFLOW_BUILD_BENCH)
    zflow_program (zflow_bench_hub bench/zflow_bench_hub.c)
    set_target_properties (zflow_bench_hub PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                           ${CMAKE_BINARY_DIR}/bench)
endif ()
if (ZFLOW_BUILD_EXAMPLES)
    zflow_program (hub_pubsub examples/hub_pubsub.c)
endif ()
