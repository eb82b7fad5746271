/*  =========================================================================
    zflow_ws_fanout - one message through decode, parse, handlers, PUB and
    the filtered streams (internal part of the feed actor)

    A message is decoded and parsed once (or only scanned, when filters are
    all that look at it); the PUB socket gets one envelope per message, and
    each matching stream gets it appended to its batch, which is sent once
    per socket read (or when full) as one ZeroMQ message: key, meta, index,
    payloads (zflow_ws_internal.h). A stream's bound counts messages sent
    and not yet handed out by its reader (shared->pending).

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_ws_actor.h"
#include <endian.h>

//  ---------------------------------------------------------------------
//  Streams

void zflow__ws_stream_destroy (zflow_ws_stream_t **stream_p)
{
    if (!stream_p || !*stream_p)
        return;
    zflow_ws_stream_t *stream = *stream_p;
    zflow__ws_buf_free (&stream->index);
    zflow__ws_buf_free (&stream->data);
    zflow__ws_cfilter_destroy (&stream->cfilter);
    json_decref (stream->filter);
    zsock_destroy (&stream->sock);
    free (stream);
    *stream_p = NULL;
}

zflow_ws_stream_t *zflow__ws_stream_add (zflow_ws_self_t *self, const char *filter, size_t queue,
                                         int policy, zflow_ws_stream_shared_t *shared,
                                         zsock_t **peer_p, int *err_p)
{
    *err_p = ZFLOW_EINVAL;
    json_t *parsed = NULL;
    if (!shared || (filter && *filter && !(parsed = zflow__ws_filter_parse (filter))))
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
    stream->cfilter = parsed ? zflow__ws_cfilter_new (parsed) : NULL;
    stream->policy = policy;
    stream->queue = queue ? queue : 1000;
    stream->shared = shared;
    //  A name never used before (libzmq frees inproc names asynchronously).
    static atomic_uint_fast64_t s_streams = 0;
    char endpoint[128];
    snprintf (endpoint, sizeof (endpoint), "inproc://zflow-ws-stream-%" PRIu64,
              (uint64_t) atomic_fetch_add (&s_streams, 1));
    //  Both ends are made here, so no message can be sent before the peer
    //  is connected; the caller's end moves to the caller's thread.
    stream->sock = zsock_new (ZMQ_PAIR);
    zsock_t *peer = zsock_new (ZMQ_PAIR);
    if (!stream->sock || !peer || (parsed && !stream->cfilter)) {
        zsock_destroy (&peer);
        zflow__ws_stream_destroy (&stream);
        return NULL;
    }
    //  With batches the bound is kept in messages by shared->pending, and
    //  every batch holds at least one message, so the pipe never holds more
    //  batches than that; with plain envelopes the pipe's bound is the one.
    zsock_set_sndhwm (stream->sock, (int) stream->queue);
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

//  Makes room for size more bytes in buf. Returns 0 or -1 (out of memory).
static int s_buf_room (zflow_ws_buf_t *buf, size_t size)
{
    if (buf->size + size <= buf->cap)
        return 0;
    size_t cap = buf->cap ? buf->cap : 4096;
    while (cap < buf->size + size)
        cap *= 2;
    uint8_t *grown = (uint8_t *) realloc (buf->data, cap);
    if (!grown)
        return -1;
    buf->data = grown;
    buf->cap = cap;
    return 0;
}

//  True when the stream gets batches: batches of more than one are on and
//  its reader uses zflow_ws_stream_read (it says so at its first read). A
//  reader that uses zflow_stream_read gets plain envelopes, as before.
static bool s_batching (zflow_ws_self_t *self, zflow_ws_stream_t *stream)
{
    return self->config->batch > 1 &&
           atomic_load_explicit (&stream->shared->batch_reader, memory_order_relaxed);
}

//  Messages sent to the stream and not yet handed out by its reader. Only
//  zflow_ws_stream_read counts them: without batches the pipe's own bound
//  (queue envelopes) decides, as sends refused.
static size_t s_pending (zflow_ws_self_t *self, zflow_ws_stream_t *stream)
{
    if (!s_batching (self, stream))
        return 0;
    return atomic_load_explicit (&stream->shared->pending, memory_order_relaxed);
}

static void s_count_drops (zflow_ws_self_t *self, zflow_ws_stream_t *stream, size_t messages)
{
    stream->drops += messages;
    self->stats.stream_drops += messages;
    zflow_actor_counters (self->base)->drops += messages;
}

static void s_batch_reset (zflow_ws_stream_t *stream)
{
    stream->index.size = stream->data.size = 0;
    stream->count = 0;
}

static uint64_t s_get_be (const uint8_t *bytes, size_t size)
{
    uint64_t value = 0;
    for (size_t i = 0; i < size; i++)
        value = (value << 8) | bytes[i];
    return value;
}

//  Batches of one: sends the gathered messages as plain envelopes, from the
//  first until the pipe refuses one, and keeps the rest. Returns how many
//  went.
static size_t s_send_singles (zflow_ws_self_t *self, zflow_ws_stream_t *stream)
{
    size_t key_size;
    const void *key = zflow_key_wire (self->key, &key_size);
    zflow_meta_stamp (self->meta);
    size_t sent = 0, offset = 0;
    for (; sent < stream->count; sent++) {
        const uint8_t *entry = stream->index.data + sent * ZFLOW_WS_BATCH_ENTRY;
        size_t size = (size_t) s_get_be (entry + 8, 4);
        zflow_meta_set_seq (self->meta, s_get_be (entry, 8));
        zflow_meta_set_content_type (self->meta, zflow__ws_type_name (entry[12]));
        uint8_t meta[512];
        int meta_size = zflow_meta_encode (self->meta, meta, sizeof (meta));
        if (meta_size <= 0 ||
            zmq_send (stream->handle, key, key_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
            break;
        zmq_send (stream->handle, meta, (size_t) meta_size, ZMQ_SNDMORE | ZMQ_DONTWAIT);
        zmq_send (stream->handle, stream->data.data + offset, size, ZMQ_DONTWAIT);
        offset += size;
    }
    if (sent == 0)
        return 0;
    size_t left = stream->count - sent;
    memmove (stream->index.data, stream->index.data + sent * ZFLOW_WS_BATCH_ENTRY,
             left * ZFLOW_WS_BATCH_ENTRY);
    stream->index.size = left * ZFLOW_WS_BATCH_ENTRY;
    memmove (stream->data.data, stream->data.data + offset, stream->data.size - offset);
    stream->data.size -= offset;
    stream->count = left;
    if (left) {
        stream->first_seq = s_get_be (stream->index.data, 8);
        stream->first_type = stream->index.data[12];
    }
    stream->delivered += sent;
    atomic_fetch_add (&stream->shared->pending, sent);
    return sent;
}

//  Sends the batch in one ZeroMQ message (key, meta, index, data). Returns
//  0, or -1 when the pipe refused it (EAGAIN) or on error.
static int s_send_batch (zflow_ws_self_t *self, zflow_ws_stream_t *stream)
{
    size_t key_size;
    const void *key = zflow_key_wire (self->key, &key_size);
    zflow_meta_set_seq (self->meta, stream->first_seq);
    zflow_meta_set_content_type (self->meta, zflow__ws_type_name (stream->first_type));
    zflow_meta_stamp (self->meta);
    char count[24];
    snprintf (count, sizeof (count), "%zu", stream->count);
    zflow_meta_set (self->meta, "batch", count);
    uint8_t meta[512];
    int meta_size = zflow_meta_encode (self->meta, meta, sizeof (meta));
    zflow_meta_reset (self->meta); //  no "batch" on the PUB envelopes
    zflow_meta_set_source (self->meta, self->name);
    if (meta_size <= 0 || zmq_send (stream->handle, key, key_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    //  libzmq takes a multipart message atomically once the first part went.
    zmq_send (stream->handle, meta, (size_t) meta_size, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send (stream->handle, stream->index.data, stream->index.size, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send (stream->handle, stream->data.data, stream->data.size, ZMQ_DONTWAIT);
    return 0;
}

static int s_held_retry (zloop_t *loop, int timer_id, void *arg);

//  Marks a BACKPRESSURE stream full: its batch waits, reading pauses, and
//  a timer looks for room (the reader gives room back by reading).
static void s_hold (zflow_ws_self_t *self, zflow_ws_stream_t *stream)
{
    if (stream->held)
        return;
    stream->held = true;
    if (self->held_streams++ == 0) {
        self->held_timer = zloop_timer (self->loop, 1, 0, s_held_retry, self);
        zflow__ws_set_paused (self, true);
    }
}

void zflow__ws_stream_unhold (zflow_ws_self_t *self, zflow_ws_stream_t *stream)
{
    if (!stream->held)
        return;
    stream->held = false;
    if (--self->held_streams == 0) {
        zloop_timer_end (self->loop, self->held_timer);
        self->held_timer = -1;
        zflow__ws_set_paused (self, false);
    }
}

//  Sends the stream's batch if it has room (BACKPRESSURE) or at all (DROP).
static void s_flush (zflow_ws_self_t *self, zflow_ws_stream_t *stream)
{
    if (stream->count == 0)
        return;
    if (stream->policy == ZFLOW_WS_BACKPRESSURE && s_pending (self, stream) >= stream->queue) {
        s_hold (self, stream);
        return;
    }
    if (!s_batching (self, stream)) {
        s_send_singles (self, stream);
        if (stream->count && stream->policy == ZFLOW_WS_BACKPRESSURE) {
            s_hold (self, stream);
            return;
        }
        s_count_drops (self, stream, stream->count);
        s_batch_reset (stream);
        zflow__ws_stream_unhold (self, stream);
        return;
    }
    atomic_fetch_add (&stream->shared->pending, stream->count);
    if (s_send_batch (self, stream) == 0)
        stream->delivered += stream->count;
    else {
        atomic_fetch_sub (&stream->shared->pending, stream->count);
        if (stream->policy == ZFLOW_WS_BACKPRESSURE) {
            s_hold (self, stream);
            return;
        }
        s_count_drops (self, stream, stream->count);
    }
    s_batch_reset (stream);
    zflow__ws_stream_unhold (self, stream);
}

//  While streams are full: sends the batches that now have room.
static int s_held_retry (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    zflow_ws_self_t *self = (zflow_ws_self_t *) arg;
    zflow_ws_stream_t *stream = (zflow_ws_stream_t *) zlistx_first (self->streams);
    for (; stream; stream = (zflow_ws_stream_t *) zlistx_next (self->streams))
        if (stream->held)
            s_flush (self, stream);
    return 0;
}

void zflow__ws_streams_flush (zflow_ws_self_t *self)
{
    zflow_ws_stream_t *stream = (zflow_ws_stream_t *) zlistx_first (self->streams);
    for (; stream; stream = (zflow_ws_stream_t *) zlistx_next (self->streams))
        if (!stream->held)
            s_flush (self, stream);
}

//  Adds one message to a stream's batch, by its policy.
static void s_to_stream (zflow_ws_self_t *self, zflow_ws_stream_t *stream, uint64_t seq, int type,
                         const uint8_t *data, size_t size)
{
    if (stream->policy == ZFLOW_WS_DROP &&
        s_pending (self, stream) + stream->count >= stream->queue) {
        s_count_drops (self, stream, 1);
        return;
    }
    if (stream->count > 0 && !stream->held &&
        (stream->count >= self->config->batch || stream->data.size >= ZFLOW_WS_BATCH_BYTES))
        s_flush (self, stream);
    if (s_buf_room (&stream->index, ZFLOW_WS_BATCH_ENTRY) || s_buf_room (&stream->data, size)) {
        s_count_drops (self, stream, 1); //  out of memory
        return;
    }
    uint8_t *entry = stream->index.data + stream->index.size;
    uint64_t seq_be = htobe64 (seq);
    uint32_t size_be = htobe32 ((uint32_t) size);
    memcpy (entry, &seq_be, 8);
    memcpy (entry + 8, &size_be, 4);
    entry[12] = (uint8_t) type;
    entry[13] = entry[14] = entry[15] = 0;
    stream->index.size += ZFLOW_WS_BATCH_ENTRY;
    if (size)
        memcpy (stream->data.data + stream->data.size, data, size);
    stream->data.size += size;
    if (stream->count++ == 0) {
        stream->first_seq = seq;
        stream->first_type = type;
    }
    if (!stream->held && !s_batching (self, stream))
        s_flush (self, stream);
}

void zflow__ws_streams_end (zflow_ws_self_t *self)
{
    zflow_ws_stream_t *stream = (zflow_ws_stream_t *) zlistx_first (self->streams);
    for (; stream; stream = (zflow_ws_stream_t *) zlistx_next (self->streams)) {
        //  Wait a little for room: a reader blocked in read empties the pipe.
        zsock_set_sndtimeo (stream->sock, 200);
        zflow__ws_stream_unhold (self, stream);
        if (stream->count && !s_batching (self, stream)) {
            s_send_singles (self, stream);
            s_count_drops (self, stream, stream->count);
            s_batch_reset (stream);
        }
        if (stream->count) {
            //  The last batch goes even to a full stream (one batch over).
            atomic_fetch_add (&stream->shared->pending, stream->count);
            if (s_send_batch (self, stream) == 0)
                stream->delivered += stream->count;
            else {
                atomic_fetch_sub (&stream->shared->pending, stream->count);
                s_count_drops (self, stream, stream->count);
            }
            s_batch_reset (stream);
        }
        if (zstr_send (stream->sock, ZFLOW_WS_END) != 0)
            zsys_warning ("zflow_ws %s: stream %" PRIu64 " is full, end marker lost", self->name,
                          stream->id);
    }
}

//  ---------------------------------------------------------------------
//  The pipeline

//  Decodes a compressed binary payload into self->dbuf. Returns 0 or -1.
static int s_decode (zflow_ws_self_t *self, const uint8_t *data, size_t size)
{
    if (!self->decoder_ready) {
        int bits = self->config->decode == ZFLOW_WS_DECODE_GZIP ? 15 + 32 : -15;
        if (inflateInit2 (&self->decoder, bits) != Z_OK)
            return -1;
        self->decoder_ready = true;
    }
    inflateReset (&self->decoder);
    return zflow__ws_inflate (&self->decoder, data, size, false, self->config->max_message,
                              &self->dbuf) == 0
               ? 0
               : -1;
}

//  True when the message is the exact application pong text.
static bool s_is_app_pong (zflow_ws_self_t *self, const uint8_t *data, size_t size)
{
    const char *pong = self->config->app_pong_text;
    return size == strlen (pong) && memcmp (data, pong, size) == 0;
}

//  Answers a server application ping. Returns true when it was one.
static bool s_answer_ping (zflow_ws_self_t *self, const uint8_t *data, size_t size,
                           const json_t *parsed)
{
    zflow_ws_config_t *config = self->config;
    if (!self->rx)
        return false;
    if (size == strlen (config->reply_ping) && memcmp (data, config->reply_ping, size) == 0) {
        zflow__ws_conn_send (self->rx, false, config->reply_pong, strlen (config->reply_pong));
        return true;
    }
    json_t *value = json_is_object (parsed) && json_object_size (parsed) == 1
                        ? json_object_get (parsed, config->reply_ping)
                        : NULL;
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

const char *zflow__ws_type_name (int type)
{
    return type == ZFLOW_WS_TYPE_JSON     ? "application/json"
           : type == ZFLOW_WS_TYPE_BINARY ? "application/octet-stream"
                                          : "text/plain";
}

//  Sends copies of the three parts to handle without blocking. Returns 0,
//  or -1 with errno (EAGAIN when full).
static int s_send_copy (void *handle, zmq_msg_t parts[3])
{
    zmq_msg_t copy;
    for (int i = 0; i < 3; i++) {
        zmq_msg_init (&copy);
        zmq_msg_copy (&copy, &parts[i]);
        if (zmq_msg_send (&copy, handle, (i < 2 ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&copy);
            return -1; //  only the first part can fail: libzmq takes multipart atomically
        }
    }
    return 0;
}

//  Builds the envelope parts of message self->seq. Returns 0 or -1.
static int s_envelope (zflow_ws_self_t *self, zmq_msg_t parts[3], const uint8_t *data, size_t size,
                       const char *content_type)
{
    size_t key_size;
    const void *key = zflow_key_wire (self->key, &key_size);
    zflow_meta_set_seq (self->meta, self->seq);
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
static json_t *s_parse (zflow_ws_self_t *self, const uint8_t *data, size_t size, bool binary)
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
static void s_run_handlers (zflow_ws_self_t *self, const uint8_t *data, size_t size, bool binary,
                            const json_t *parsed)
{
    for (size_t i = 0; i < self->config->nhandlers; i++) {
        zflow_ws_handler_t *handler = &self->config->handlers[i];
        int rc = handler->fn (data, size, binary, parsed, handler->arg);
        if (rc) {
            self->stats.handler_errors++;
            zsys_warning ("zflow_ws %s: handler %zu failed (%d) on message %" PRIu64, self->name, i,
                          rc, self->seq + 1);
        }
    }
}

//  The message in hand: scanned (the fast path) and/or parsed by jansson.
typedef struct {
    const uint8_t *data;  //  the message
    size_t size;          //  its size
    bool scanned;         //  scan holds its fields
    zflow_ws_scan_t scan; //  top-level fields (when scanned)
    json_t *parsed;       //  jansson's value, or NULL (made lazily when scanned)
} s_message_t;

//  True when the message matches filter, on the fast path when it can.
static bool s_matches (const json_t *filter, const zflow_ws_cfilter_t *cfilter,
                       s_message_t *message)
{
    if (!filter)
        return true;
    if (message->scanned && !message->parsed) {
        int match = cfilter ? zflow__ws_cfilter_match (cfilter, &message->scan) : -1;
        if (match >= 0)
            return match == 1;
        //  Unsure: the scan said jansson parses it, so ask jansson.
        message->parsed =
            json_loadb ((const char *) message->data, message->size, JSON_DECODE_ANY, NULL);
    }
    if (!message->parsed)
        return false; //  not even jansson could parse it (out of memory)
    return zflow__ws_filter_match (filter, message->parsed);
}

//  Publishes the message (data, size: what is published) on the PUB and
//  adds it to the batch of every stream whose filter it matches.
static void s_distribute (zflow_ws_self_t *self, s_message_t *message, int type,
                          const uint8_t *data, size_t size)
{
    zflow_actor_counters_t *counters = zflow_actor_counters (self->base);
    self->seq++;
    zmq_msg_t parts[3];
    //  Nobody subscribed: ZeroMQ would drop it anyway.
    if (self->topics > 0 && s_envelope (self, parts, data, size, zflow__ws_type_name (type)) == 0) {
        s_send_copy (self->pub_handle, parts);
        for (int i = 0; i < 3; i++)
            zmq_msg_close (&parts[i]);
    }
    self->stats.published++;
    counters->msgs_out++;
    counters->bytes_out += size;
    bool valid = message->scanned || message->parsed;
    zflow_ws_stream_t *stream = (zflow_ws_stream_t *) zlistx_first (self->streams);
    for (; stream; stream = (zflow_ws_stream_t *) zlistx_next (self->streams))
        if (!stream->filter || (valid && s_matches (stream->filter, stream->cfilter, message)))
            s_to_stream (self, stream, self->seq, type, data, size);
}

void zflow__ws_fanout (zflow_ws_self_t *self, bool binary, const uint8_t *data, size_t size)
{
    zflow_actor_counters_t *counters = zflow_actor_counters (self->base);
    counters->msgs_in++;
    counters->bytes_in += size;
    if (binary && self->config->decode != ZFLOW_WS_DECODE_NONE) {
        if (s_decode (self, data, size) == 0) {
            data = self->dbuf.data;
            size = self->dbuf.size;
        } else
            self->stats.decode_errors++; //  published as received
    }
    s_message_t message;
    message.data = data;
    message.size = size;
    message.parsed = NULL;
    //  Nobody needs a jansson value when only filters look at the message.
    message.scanned = self->fast_json && zflow__ws_scan (data, size, binary, &message.scan) == 0;
    if (!message.scanned)
        message.parsed = s_parse (self, data, size, binary);
    json_t *parsed = message.parsed;
    if (self->config->reply_ping && s_answer_ping (self, data, size, parsed)) {
        self->stats.app_pings++;
        json_decref (parsed);
        return;
    }
    if (self->config->app_pong_text || self->config->app_pong_filter) {
        bool pong = self->config->app_pong_text
                        ? s_is_app_pong (self, data, size)
                        : (message.scanned || parsed) && s_matches (self->config->app_pong_filter,
                                                                    self->pong_cfilter, &message);
        if (pong) {
            self->stats.app_pongs++;
            json_decref (message.parsed);
            return;
        }
    }
    s_run_handlers (self, data, size, binary, parsed);
    int type = message.scanned || parsed ? ZFLOW_WS_TYPE_JSON
               : binary                  ? ZFLOW_WS_TYPE_BINARY
                                         : ZFLOW_WS_TYPE_TEXT;
    //  A parser of your own transforms the message: its value is published.
    char *transformed = NULL;
    if (self->config->parser && parsed &&
        (transformed = json_dumps (parsed, JSON_COMPACT | JSON_ENCODE_ANY))) {
        data = (const uint8_t *) transformed;
        size = strlen (transformed);
    }
    s_distribute (self, &message, type, data, size);
    if (transformed)
        free (transformed);
    if (self->config->rotate_filter && (message.scanned || message.parsed) &&
        s_matches (self->config->rotate_filter, self->rotate_cfilter, &message))
        zflow__ws_rotate (self);
    json_decref (message.parsed);
}
