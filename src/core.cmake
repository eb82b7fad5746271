#  The core: messages, streams, keys, envelope, the actor base.
target_sources (zflow_objects PRIVATE
    src/zflow_error.c
    src/zflow_msg.c
    src/zflow_ring.c
    src/zflow_stream.c
    src/zflow_stream_monitor.c
    src/zflow_key.c
    src/zflow_meta.c
    src/zflow_envelope.c
    src/zflow_actor.c)

#  tests, examples and the stream benchmark are added as they are written
zflow_test (test_msg SOURCES tests/test_msg.c)
zflow_test (test_key SOURCES tests/test_key.c)
zflow_test (test_envelope SOURCES tests/test_envelope.c)
zflow_test (test_stream SOURCES tests/test_stream.c)
zflow_test (test_stream_watermark SOURCES tests/test_stream_watermark.c)
zflow_test (test_stream_monitor SOURCES tests/test_stream_monitor.c)
zflow_test (test_actor SOURCES tests/test_actor.c)
