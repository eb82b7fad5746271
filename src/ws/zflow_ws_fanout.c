/*  =========================================================================
    zflow_ws_fanout - one message through decode, parse, handlers, PUB and
    the filtered streams (internal part of the feed actor)

    A message is decoded and parsed once (or only scanned, when filters are
    all that look at it); the PUB socket gets one envelope per message, and
    each matching stream's route gets it (zflow_ws_route.c), which gathers
    it into the stream's batch (zflow_ws_batch.h).

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_ws_actor.h"

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
                       int type, bool binary)
{
    size_t key_size;
    const void *key = zflow_key_wire (self->key, &key_size);
    zflow__ws_meta_message (self->meta, self->seq, type, binary);
    zflow_meta_stamp (self->meta);
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
static void s_distribute (zflow_ws_self_t *self, s_message_t *message, int type, bool binary,
                          const uint8_t *data, size_t size)
{
    zflow_actor_counters_t *counters = zflow_actor_counters (self->base);
    self->seq++;
    zmq_msg_t parts[3];
    //  Nobody subscribed: ZeroMQ would drop it anyway.
    if (self->topics > 0 && s_envelope (self, parts, data, size, type, binary) == 0) {
        s_send_copy (self->pub_handle, parts);
        for (int i = 0; i < 3; i++)
            zmq_msg_close (&parts[i]);
    }
    self->stats.published++;
    counters->msgs_out++;
    counters->bytes_out += size;
    bool valid = message->scanned || message->parsed;
    zflow_ws_route_t *route = (zflow_ws_route_t *) zlistx_first (self->routes);
    for (; route; route = (zflow_ws_route_t *) zlistx_next (self->routes))
        if (!route->filter || (valid && s_matches (route->filter, route->cfilter, message)))
            zflow__ws_route_add (self, route, self->seq, type, binary, data, size);
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
    s_distribute (self, &message, type, binary, data, size);
    if (transformed)
        free (transformed);
    if (self->config->rotate_filter && (message.scanned || message.parsed) &&
        s_matches (self->config->rotate_filter, self->rotate_cfilter, &message))
        zflow__ws_rotate (self);
    json_decref (message.parsed);
}
