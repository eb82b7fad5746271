/*  =========================================================================
    zflow_ws_fanout - one message through decode, parse, handlers, PUB and
    the filtered streams (internal part of the feed actor)

    A message is decoded and parsed once; its envelope (key, meta, payload)
    is built once and every destination gets a zmq_msg_copy (the payload
    buffer is shared, not copied, for all but tiny messages).

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_ws_actor.h"

//  ---------------------------------------------------------------------
//  Streams

static int s_stream_writable (zloop_t *loop, zmq_pollitem_t *item, void *arg);

void
zflow__ws_stream_destroy (zflow_ws_stream_t **stream_p)
{
    if (!stream_p || !*stream_p)
        return;
    zflow_ws_stream_t *stream = *stream_p;
    zflow_ws_held_t *held;
    while (stream->held && (held = (zflow_ws_held_t *) zlist_pop (stream->held))) {
        for (int i = 0; i < 3; i++)
            zmq_msg_close (&held->parts[i]);
        free (held);
    }
    zlist_destroy (&stream->held);
    json_decref (stream->filter);
    zsock_destroy (&stream->sock);
    free (stream);
    *stream_p = NULL;
}

zflow_ws_stream_t *
zflow__ws_stream_add (zflow_ws_self_t *self, const char *filter, size_t queue, int policy,
                      zsock_t **peer_p, int *err_p)
{
    *err_p = ZFLOW_EINVAL;
    json_t *parsed = NULL;
    if (filter && *filter && !(parsed = zflow__ws_filter_parse (filter)))
        return NULL;
    if (policy != ZFLOW_WS_DROP && policy != ZFLOW_WS_BACKPRESSURE) {
        json_decref (parsed);
        return NULL;
    }
    *err_p = ZFLOW_ENOMEM;
    zflow_ws_stream_t *stream = (zflow_ws_stream_t *) calloc (1, sizeof (zflow_ws_stream_t));
    if (!stream) {
        json_decref (parsed);
        return NULL;
    }
    stream->id = ++self->next_stream_id;
    stream->filter = parsed;
    stream->policy = policy;
    stream->held = zlist_new ();
    //  A name never used before (libzmq frees inproc names asynchronously).
    static atomic_uint_fast64_t s_streams = 0;
    char endpoint[128];
    snprintf (endpoint, sizeof (endpoint), "inproc://zflow-ws-stream-%" PRIu64,
              (uint64_t) atomic_fetch_add (&s_streams, 1));
    //  Both ends are made here, so no message can be sent before the peer
    //  is connected; the caller's end moves to the caller's thread.
    stream->sock = zsock_new (ZMQ_PAIR);
    zsock_t *peer = zsock_new (ZMQ_PAIR);
    if (!stream->sock || !peer || !stream->held) {
        zsock_destroy (&peer);
        zflow__ws_stream_destroy (&stream);
        return NULL;
    }
    zsock_set_sndhwm (stream->sock, (int) (queue ? queue : 1000));
    zsock_set_rcvhwm (peer, 1);
    zsock_set_linger (stream->sock, 0);
    if (zsock_bind (stream->sock, "%s", endpoint) != 0 || zsock_connect (peer, "%s", endpoint)) {
        zsock_destroy (&peer);
        zflow__ws_stream_destroy (&stream);
        *err_p = ZFLOW_EENDPOINT;
        return NULL;
    }
    stream->handle = zsock_resolve (stream->sock);
    *peer_p = peer;
    *err_p = 0;
    return stream;
}

//  Sends copies of the three parts to handle without blocking. Returns 0,
//  or -1 with errno (EAGAIN when full).
static int
s_send_copy (void *handle, zmq_msg_t parts[3])
{
    zmq_msg_t copy;
    for (int i = 0; i < 3; i++) {
        zmq_msg_init (&copy);
        zmq_msg_copy (&copy, &parts[i]);
        if (zmq_msg_send (&copy, handle, (i < 2 ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&copy);
            return -1;   //  only the first part can fail: libzmq takes multipart atomically
        }
    }
    return 0;
}

//  Holds an envelope for a backpressured stream and pauses reading.
static void
s_hold (zflow_ws_self_t *self, zflow_ws_stream_t *stream, zmq_msg_t parts[3])
{
    zflow_ws_held_t *held = (zflow_ws_held_t *) malloc (sizeof (zflow_ws_held_t));
    if (!held) {
        stream->drops++;
        self->stats.stream_drops++;
        return;
    }
    for (int i = 0; i < 3; i++) {
        zmq_msg_init (&held->parts[i]);
        zmq_msg_copy (&held->parts[i], &parts[i]);
    }
    if (zlist_size (stream->held) == 0) {
        self->held_streams++;
        stream->item = (zmq_pollitem_t) { stream->handle, 0, ZMQ_POLLOUT, 0 };
        zloop_poller (self->loop, &stream->item, s_stream_writable, self);
    }
    zlist_append (stream->held, held);
    zflow__ws_set_paused (self, true);
}

//  A backpressured stream has room: sends what it can of its held messages.
static int
s_stream_writable (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    zflow_ws_self_t *self = (zflow_ws_self_t *) arg;
    zflow_ws_stream_t *stream = (zflow_ws_stream_t *) zlistx_first (self->streams);
    while (stream && stream->handle != item->socket)
        stream = (zflow_ws_stream_t *) zlistx_next (self->streams);
    if (!stream)
        return 0;
    zflow_ws_held_t *held;
    while ((held = (zflow_ws_held_t *) zlist_first (stream->held))) {
        if (s_send_copy (stream->handle, held->parts) != 0)
            return 0;
        zlist_pop (stream->held);
        for (int i = 0; i < 3; i++)
            zmq_msg_close (&held->parts[i]);
        free (held);
        stream->delivered++;
    }
    zloop_poller_end (loop, &stream->item);
    if (--self->held_streams == 0)
        zflow__ws_set_paused (self, false);
    return 0;
}

//  Gives the envelope to one stream by its policy.
static void
s_to_stream (zflow_ws_self_t *self, zflow_ws_stream_t *stream, zmq_msg_t parts[3])
{
    if (zlist_size (stream->held) > 0) {
        s_hold (self, stream, parts);   //  keep the order behind what waits
        return;
    }
    if (s_send_copy (stream->handle, parts) == 0) {
        stream->delivered++;
        return;
    }
    if (stream->policy == ZFLOW_WS_BACKPRESSURE)
        s_hold (self, stream, parts);
    else {
        stream->drops++;
        self->stats.stream_drops++;
        zflow_actor_counters (self->base)->drops++;
    }
}

void
zflow__ws_streams_end (zflow_ws_self_t *self)
{
    zflow_ws_stream_t *stream = (zflow_ws_stream_t *) zlistx_first (self->streams);
    for (; stream; stream = (zflow_ws_stream_t *) zlistx_next (self->streams)) {
        if (zlist_size (stream->held) > 0) {
            zloop_poller_end (self->loop, &stream->item);
            self->held_streams--;
        }
        //  Wait a little for room: a reader blocked in read has emptied it.
        zsock_set_sndtimeo (stream->sock, 200);
        if (zstr_send (stream->sock, ZFLOW_WS_END) != 0)
            zsys_warning ("zflow_ws %s: stream %" PRIu64 " is full, end marker lost", self->name,
                          stream->id);
    }
}

//  ---------------------------------------------------------------------
//  The pipeline

//  Decodes a compressed binary payload into self->dbuf. Returns 0 or -1.
static int
s_decode (zflow_ws_self_t *self, const uint8_t *data, size_t size)
{
    if (!self->decoder_ready) {
        int bits = self->config->decode == ZFLOW_WS_DECODE_GZIP ? 15 + 32 : -15;
        if (inflateInit2 (&self->decoder, bits) != Z_OK)
            return -1;
        self->decoder_ready = true;
    }
    inflateReset (&self->decoder);
    return zflow__ws_inflate (&self->decoder, data, size, false, self->config->max_message,
                              &self->dbuf) == 0 ? 0 : -1;
}

//  True when the message is an application pong (then it is swallowed).
static bool
s_is_app_pong (zflow_ws_self_t *self, const uint8_t *data, size_t size, const json_t *parsed)
{
    zflow_ws_config_t *config = self->config;
    if (config->app_pong_text)
        return size == strlen (config->app_pong_text)
               && memcmp (data, config->app_pong_text, size) == 0;
    return config->app_pong_filter && parsed
           && zflow__ws_filter_match (config->app_pong_filter, parsed);
}

//  Answers a server application ping. Returns true when it was one.
static bool
s_answer_ping (zflow_ws_self_t *self, const uint8_t *data, size_t size, const json_t *parsed)
{
    zflow_ws_config_t *config = self->config;
    if (!self->rx)
        return false;
    if (size == strlen (config->reply_ping) && memcmp (data, config->reply_ping, size) == 0) {
        zflow__ws_conn_send (self->rx, false, config->reply_pong, strlen (config->reply_pong));
        return true;
    }
    json_t *value = json_is_object (parsed) && json_object_size (parsed) == 1
                    ? json_object_get (parsed, config->reply_ping) : NULL;
    if (!value)
        return false;
    json_t *answer = json_pack ("{sO}", config->reply_pong, value);
    char *text = answer ? json_dumps (answer, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (text)
        zflow__ws_conn_send (self->rx, false, text, strlen (text));
    free (text);
    json_decref (answer);
    return true;
}

//  Builds the envelope parts. Returns 0 or -1.
static int
s_envelope (zflow_ws_self_t *self, zmq_msg_t parts[3], const uint8_t *data, size_t size,
            const char *content_type)
{
    size_t key_size;
    const void *key = zflow_key_wire (self->key, &key_size);
    zflow_meta_set_seq (self->meta, ++self->seq);
    zflow_meta_stamp (self->meta);
    zflow_meta_set_content_type (self->meta, content_type);
    uint8_t meta[512];
    int meta_size = zflow_meta_encode (self->meta, meta, sizeof (meta));
    if (meta_size <= 0)
        return -1;
    zmq_msg_init_size (&parts[0], key_size);
    memcpy (zmq_msg_data (&parts[0]), key, key_size);
    zmq_msg_init_size (&parts[1], (size_t) meta_size);
    memcpy (zmq_msg_data (&parts[1]), meta, (size_t) meta_size);
    if (zmq_msg_init_size (&parts[2], size) != 0) {
        zmq_msg_close (&parts[0]);
        zmq_msg_close (&parts[1]);
        return -1;
    }
    memcpy (zmq_msg_data (&parts[2]), data, size);
    return 0;
}

//  Parses the message once, by the configured mode.
static json_t *
s_parse (zflow_ws_self_t *self, const uint8_t *data, size_t size, bool binary)
{
    zflow_ws_config_t *config = self->config;
    json_t *parsed = NULL;
    if (config->parser)
        parsed = config->parser (data, size, binary, config->parser_arg);
    else if (config->parse_mode == ZFLOW_WS_PARSE_JSON)
        parsed = json_loadb ((const char *) data, size, JSON_DECODE_ANY, NULL);
    else
        return NULL;
    if (!parsed)
        self->stats.parse_errors++;
    return parsed;
}

//  Runs the handlers; a failure is counted and logged, never swallowed.
static void
s_run_handlers (zflow_ws_self_t *self, const uint8_t *data, size_t size, bool binary,
                const json_t *parsed)
{
    for (size_t i = 0; i < self->config->nhandlers; i++) {
        zflow_ws_handler_t *handler = &self->config->handlers[i];
        int rc = handler->fn (data, size, binary, parsed, handler->arg);
        if (rc) {
            self->stats.handler_errors++;
            zsys_warning ("zflow_ws %s: handler %zu failed (%d) on message %" PRIu64, self->name,
                          i, rc, self->seq + 1);
        }
    }
}

void
zflow__ws_fanout (zflow_ws_self_t *self, bool binary, const uint8_t *data, size_t size)
{
    zflow_counters_t *counters = zflow_actor_counters (self->base);
    counters->msgs_in++;
    counters->bytes_in += size;
    if (binary && self->config->decode != ZFLOW_WS_DECODE_NONE) {
        if (s_decode (self, data, size) == 0) {
            data = self->dbuf.data;
            size = self->dbuf.size;
        }
        else
            self->stats.decode_errors++;   //  published as received
    }
    json_t *parsed = s_parse (self, data, size, binary);
    if (self->config->reply_ping && s_answer_ping (self, data, size, parsed)) {
        self->stats.app_pings++;
        json_decref (parsed);
        return;
    }
    if (s_is_app_pong (self, data, size, parsed)) {
        self->stats.app_pongs++;
        json_decref (parsed);
        return;
    }
    s_run_handlers (self, data, size, binary, parsed);
    zmq_msg_t parts[3];
    const char *type = parsed ? "application/json"
                       : binary ? "application/octet-stream" : "text/plain";
    //  A parser of your own transforms the message: its value is published.
    char *transformed = NULL;
    if (self->config->parser && parsed
        && (transformed = json_dumps (parsed, JSON_COMPACT | JSON_ENCODE_ANY))) {
        data = (const uint8_t *) transformed;
        size = strlen (transformed);
    }
    if (s_envelope (self, parts, data, size, type) == 0) {
        if (self->topics > 0)   //  nobody subscribed: ZeroMQ would drop it anyway
            s_send_copy (self->pub_handle, parts);
        self->stats.published++;
        counters->msgs_out++;
        counters->bytes_out += size;
        zflow_ws_stream_t *stream = (zflow_ws_stream_t *) zlistx_first (self->streams);
        for (; stream; stream = (zflow_ws_stream_t *) zlistx_next (self->streams))
            if (stream->filter ? zflow__ws_filter_match (stream->filter, parsed) : true)
                s_to_stream (self, stream, parts);
        for (int i = 0; i < 3; i++)
            zmq_msg_close (&parts[i]);
    }
    free (transformed);
    if (self->config->rotate_filter && parsed
        && zflow__ws_filter_match (self->config->rotate_filter, parsed))
        zflow__ws_rotate (self);
    json_decref (parsed);
}
