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
