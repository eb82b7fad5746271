/*  =========================================================================
    zflow_ws_internal - shared between the zflow_ws files (not installed)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_WS_INTERNAL_H_INCLUDED
#define ZFLOW_WS_INTERNAL_H_INCLUDED

#include "zflow.h"
#include "zflow_ws.h"
#include "zflow_ws_batch.h"
#include "zflow_ws_client.h"
#include "zflow_ws_json.h"
#include "zflow_ws_proto.h"
#include <stdatomic.h>
#include <zmq.h>

#define ZFLOW_WS_MAX_HANDLERS 8
//  The one-frame message that ends every stream when the feed exits.
#define ZFLOW_WS_END "$ZFLOW_WS_END"

//  One handler and its argument.
typedef struct {
    zflow_ws_json_handler_fn *fn; //  the handler
    void *arg;                    //  its argument
} zflow_ws_handler_t;

struct _zflow_ws_config_t {
    char *url;                                          //  ws:// or wss:// URL
    char *headers;                                      //  extra headers joined by CRLF, or NULL
    char *protocols;                                    //  offered subprotocols, or NULL
    bool deflate;                                       //  offer permessage-deflate
    bool tls_verify;                                    //  check certificate and host name
    char *ca_file;                                      //  extra trusted CAs, or NULL
    size_t max_message;                                 //  largest message accepted
    int timeout_ms;                                     //  handshake and close timeout
    int parse_mode;                                     //  ZFLOW_WS_PARSE_*
    zflow_ws_json_parse_fn *parser;                     //  user parser, or NULL
    void *parser_arg;                                   //  its argument
    zflow_ws_handler_t handlers[ZFLOW_WS_MAX_HANDLERS]; //  message handlers
    size_t nhandlers;                                   //  handlers in use
    int decode;                                         //  ZFLOW_WS_DECODE_*
    int backoff_initial_ms;                             //  first reconnect delay
    int backoff_max_ms;                                 //  reconnect delay cap
    int connect_interval_ms;                            //  least time between attempts
    int64_t rotate_ms;                                  //  policy reconnect period (0: off)
    json_t *rotate_filter;                              //  policy reconnect filter, or NULL
    zlist_t *connect_msgs;                              //  texts sent after each connect (char *)
    zflow_ws_connect_fn *on_connect;                    //  on-connect hook, or NULL
    void *on_connect_arg;                               //  its argument
    int ping_ms;                                        //  WebSocket ping period (0: off)
    int app_ping_ms;                                    //  application ping period (0: off)
    char *app_ping_text;                                //  application ping template
    char *app_pong_text;                                //  exact pong text, or NULL
    json_t *app_pong_filter;                            //  pong filter, or NULL
    char *reply_ping;                //  server ping to answer (text / JSON key), or NULL
    char *reply_pong;                //  the answer (text / JSON key)
    size_t send_queue;               //  most queued outgoing messages
    double send_rate;                //  outgoing messages per second (0: no limit)
    char *endpoint;                  //  PUB endpoint, or NULL for the default
    bool manual_start;               //  wait for zflow_ws_start before connecting
    size_t batch;                    //  most messages per stream batch (1: no batches)
    char *name;                      //  feed name (a key component)
    zflow_ws_close_fn *on_close;     //  close hook, or NULL
    void *on_close_arg;              //  its argument
    zflow_ws_message_fn *on_message; //  message hook, or NULL
    void *on_message_arg;            //  its argument
};

//  State shared by the caller's object and the actor thread.
typedef struct {
    atomic_bool connected;         //  a connection is open
    atomic_bool closed;            //  the feed exited
    atomic_size_t send_pending;    //  messages given to send and not yet written or dropped
    atomic_uint_fast64_t connects; //  connections opened so far
    size_t send_queue;             //  most pending sends (copied from the config)
} zflow_ws_shared_t;

//  What a stream and the feed actor share (zflow_ws_stream.c). Counted
//  references: the stream holds one, the actor's route another; the last
//  release frees it, so either side may go first.
typedef struct {
    atomic_int refs;            //  holders: the stream, the actor's route
    atomic_size_t pending;      //  messages sent to the stream and not yet handed out
    atomic_bool batch_reader;   //  the reader uses zflow_ws_stream_read: batches welcome
    atomic_bool closed;         //  the stream is destroyed: the actor drops its route
    atomic_bool ended;          //  the route is gone (the feed exited): nothing more comes
    atomic_uint_fast64_t drops; //  messages dropped for the stream (queue full)
} zflow_ws_link_t;

//  Drops one reference to *link_p (frees it with the last); sets *link_p
//  to NULL. NULL-safe.
void zflow__ws_link_release (zflow_ws_link_t **link_p);

//  Asks the feed's actor for the route of a new stream sharing link (the
//  route takes its own reference). Returns 0 with the stream's end of the
//  pipe in *peer_p (the caller owns it), or ZFLOW_EINVAL (bad filter or
//  policy), ZFLOW_ECLOSED (the feed exited), ZFLOW_ENOMEM, ZFLOW_EENDPOINT.
int zflow__ws_open_route (zflow_ws_t *self, const char *filter_json, size_t queue, int policy,
                          zflow_ws_link_t *link, zsock_t **peer_p);

//  Deep-copies a configuration. Returns the copy, or NULL (out of memory).
zflow_ws_config_t *zflow__ws_config_dup (const zflow_ws_config_t *self);

//  What the actor function receives.
typedef struct {
    zflow_ws_config_t *config; //  the configuration, a copy (the actor takes it)
    zflow_ws_shared_t *shared; //  shared state (owned by the caller's object)
    char *send_endpoint;       //  inproc endpoint the actor binds for sends
} zflow_ws_args_t;

//  The actor function (zactor_fn).
void zflow__ws_actor (zsock_t *pipe, void *args);

//  Parses a filter: a JSON list of objects, or one object (a list of one).
//  Returns a new reference, or NULL when text is not such a value.
json_t *zflow__ws_filter_parse (const char *text);

//  True when message matches filter (NULL filter matches everything): all
//  pairs of any one object equal the message's top-level fields.
bool zflow__ws_filter_match (const json_t *filter, const json_t *message);

//  ---------------------------------------------------------------------
//  The filter fast path (zflow_ws_scan.c)

//  Kinds of scanned values.
#define ZFLOW_WS_SCAN_STRING 0         //  a string without escapes
#define ZFLOW_WS_SCAN_STRING_ESCAPED 1 //  a string with escapes
#define ZFLOW_WS_SCAN_INTEGER 2
#define ZFLOW_WS_SCAN_REAL 3
#define ZFLOW_WS_SCAN_TRUE 4
#define ZFLOW_WS_SCAN_FALSE 5
#define ZFLOW_WS_SCAN_NULL 6
#define ZFLOW_WS_SCAN_OBJECT 7
#define ZFLOW_WS_SCAN_ARRAY 8
//  Most top-level fields scanned (more: left to jansson).
#define ZFLOW_WS_SCAN_FIELDS 32

//  One top-level field: spans in the message text.
typedef struct {
    const char *key;   //  the key, without quotes (no escapes)
    size_t key_size;   //  its length
    const char *value; //  the value's text (strings with their quotes)
    size_t value_size; //  its length
    int kind;          //  ZFLOW_WS_SCAN_*
} zflow_ws_scan_field_t;

//  The top-level fields of a JSON text.
typedef struct {
    bool object;  //  the text is an object (else fields is empty)
    size_t count; //  fields in use
    zflow_ws_scan_field_t fields[ZFLOW_WS_SCAN_FIELDS]; //  in text order
} zflow_ws_scan_t;

//  Scans data as JSON. Returns 0 when it is sure that jansson would parse
//  it (scan then holds its top-level fields, pointing into data), or -1
//  when unsure: then parse with jansson. binary: bytes above 0x7F are not
//  known to be UTF-8 (text messages were checked by the client).
int zflow__ws_scan (const uint8_t *data, size_t size, bool binary, zflow_ws_scan_t *scan);

//  A filter prepared for scanned messages.
typedef struct _zflow_ws_cfilter_t zflow_ws_cfilter_t;

//  Prepares filter (a list of objects, as zflow__ws_filter_parse makes;
//  it must outlive the result, which points into it). Returns the
//  prepared filter (destroy it) or NULL (NULL filter, or out of memory).
zflow_ws_cfilter_t *zflow__ws_cfilter_new (const json_t *filter);
void zflow__ws_cfilter_destroy (zflow_ws_cfilter_t **self_p);

//  Matches a scanned message against a prepared filter (NULL: every
//  message), by the rule of zflow__ws_filter_match. Returns 1 (match), 0
//  (no match) or -1 (unsure: a value the scan cannot compare; match the
//  jansson value instead).
int zflow__ws_cfilter_match (const zflow_ws_cfilter_t *self, const zflow_ws_scan_t *scan);

#endif
