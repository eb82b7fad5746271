#  Centrifugo source: the client protocol (JSON over WebSocket) on the
#  project's WebSocket client (src/ws.cmake brings wslay, OpenSSL, zlib and
#  jansson), its test against the fake server in tests/fake/, the example.
target_sources (zflow_objects PRIVATE
    src/zflow_centrifugo_source.c
    src/zflow_centrifugo_source_proto.c)

#  The fake server needs Debian's python3-websockets, so /usr/bin/python3.
find_program (ZFLOW_CENTSRC_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
zflow_test (test_centrifugo_source SOURCES tests/test_centrifugo_source.c
            tests/test_centrifugo_source_fake.c
            LABELS integration TIMEOUT 60)
if (TARGET test_centrifugo_source)
    target_compile_definitions (test_centrifugo_source PRIVATE
        ZFLOW_CENTRIFUGO_WS_FAKE="${CMAKE_CURRENT_SOURCE_DIR}/tests/fake/centrifugo_ws_fake.py"
        ZFLOW_CENTSRC_PYTHON3="${ZFLOW_CENTSRC_PYTHON3}")
    target_link_libraries (test_centrifugo_source PRIVATE PkgConfig::JANSSON)
endif ()

if (ZFLOW_BUILD_EXAMPLES AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/examples/centrifugo_source.c)
    zflow_program (centrifugo_source examples/centrifugo_source.c)
endif ()
