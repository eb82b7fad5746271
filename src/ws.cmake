#  WebSocket feeds: wslay framing, OpenSSL, zlib, jansson.
find_path (WSLAY_INCLUDE_DIR wslay/wslay.h)
find_library (WSLAY_LIBRARY wslay)
if (NOT WSLAY_INCLUDE_DIR OR NOT WSLAY_LIBRARY)
    message (FATAL_ERROR "wslay not found (Debian: apt-get install libwslay-dev)")
endif ()
find_package (OpenSSL REQUIRED)
find_package (ZLIB REQUIRED)
pkg_check_modules (JANSSON REQUIRED IMPORTED_TARGET jansson)

target_sources (zflow_objects PRIVATE
    src/zflow_ws_proto.c
    src/zflow_ws_tls.c
    src/zflow_ws_client.c)
target_include_directories (zflow_objects PRIVATE ${WSLAY_INCLUDE_DIR})
target_link_libraries (zflow_objects PRIVATE ${WSLAY_LIBRARY} OpenSSL::SSL OpenSSL::Crypto
                       ZLIB::ZLIB PkgConfig::JANSSON)

zflow_test (test_ws_client SOURCES tests/test_ws_client.c LABELS integration TIMEOUT 60)
if (TARGET test_ws_client)
    target_compile_definitions (test_ws_client PRIVATE WS_TEST_DIR="${CMAKE_CURRENT_SOURCE_DIR}/tests/ws")
    target_include_directories (test_ws_client PRIVATE ${WSLAY_INCLUDE_DIR})
endif ()
