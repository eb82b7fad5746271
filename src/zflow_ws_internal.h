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

#include <stdatomic.h>
#include <zmq.h>
#include "zflow.h"
#include "zflow_ws.h"
#include "zflow_ws_client.h"
#include "zflow_ws_proto.h"

#define ZFLOW_WS_MAX_HANDLERS 8
//  The one-frame message that ends every stream when the feed exits.
#define ZFLOW_WS_END "$ZFLOW_WS_END"

//  One handler and its argument.
typedef struct {
    zflow_ws_handler_fn *fn;   //  the handler
    void *arg;                 //  its argument
} zflow_ws_handler_t;

struct _zflow_ws_config_t {
    char *url;                       //  ws:// or wss:// URL
    char *headers;                   //  extra headers joined by CRLF, or NULL
    char *protocols;                 //  offered subprotocols, or NULL
    bool deflate;                    //  offer permessage-deflate
    bool tls_verify;                 //  check certificate and host name
    char *ca_file;                   //  extra trusted CAs, or NULL
    size_t max_message;              //  largest message accepted
    int timeout_ms;                  //  handshake and close timeout
    int parse_mode;                  //  ZFLOW_WS_PARSE_*
    zflow_ws_parse_fn *parser;       //  user parser, or NULL
    void *parser_arg;                //  its argument
    zflow_ws_handler_t handlers[ZFLOW_WS_MAX_HANDLERS];   //  message handlers
    size_t nhandlers;                //  handlers in use
    int decode;                      //  ZFLOW_WS_DECODE_*
    int backoff_initial_ms;          //  first reconnect delay
    int backoff_max_ms;              //  reconnect delay cap
    int connect_interval_ms;         //  least time between attempts
    int64_t rotate_ms;               //  policy reconnect period (0: off)
    json_t *rotate_filter;           //  policy reconnect filter, or NULL
    zlist_t *connect_msgs;           //  texts sent after each connect (char *)
    zflow_ws_connect_fn *on_connect; //  on-connect hook, or NULL
    void *on_connect_arg;            //  its argument
    int ping_ms;                     //  WebSocket ping period (0: off)
    int app_ping_ms;                 //  application ping period (0: off)
    char *app_ping_text;             //  application ping template
    char *app_pong_text;             //  exact pong text, or NULL
    json_t *app_pong_filter;         //  pong filter, or NULL
    char *reply_ping;                //  server ping to answer (text / JSON key), or NULL
    char *reply_pong;                //  the answer (text / JSON key)
    size_t send_queue;               //  most queued outgoing messages
    double send_rate;                //  outgoing messages per second (0: no limit)
    char *endpoint;                  //  PUB endpoint, or NULL for the default
    bool manual_start;               //  wait for zflow_ws_start before connecting
};

//  State shared by the caller's object and the actor thread.
typedef struct {
    atomic_bool connected;       //  a connection is open
    atomic_bool closed;          //  the feed exited
    atomic_size_t send_pending;  //  messages given to send and not yet written or dropped
    atomic_uint_fast64_t connects;   //  connections opened so far
    size_t send_queue;           //  most pending sends (copied from the config)
} zflow_ws_shared_t;

//  What the actor function receives.
typedef struct {
    char *name;                  //  feed name
    zflow_ws_config_t *config;   //  the configuration (the actor takes it)
    zflow_ws_shared_t *shared;   //  shared state (owned by the caller's object)
    char *send_endpoint;         //  inproc endpoint the actor binds for sends
} zflow_ws_args_t;

//  The actor function (zactor_fn).
void zflow__ws_actor (zsock_t *pipe, void *args);

//  Parses a filter: a JSON list of objects, or one object (a list of one).
//  Returns a new reference, or NULL when text is not such a value.
json_t *zflow__ws_filter_parse (const char *text);

//  True when message matches filter (NULL filter matches everything): all
//  pairs of any one object equal the message's top-level fields.
bool zflow__ws_filter_match (const json_t *filter, const json_t *message);

#endif
