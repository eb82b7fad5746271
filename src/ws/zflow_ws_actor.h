/*  =========================================================================
    zflow_ws_actor - the state of the feed actor (internal)

    zflow_ws_actor.c runs connections, reconnects, sends and commands;
    zflow_ws_fanout.c takes each message through decode, parse, handlers,
    the PUB socket and the streams.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_WS_ACTOR_H_INCLUDED
#define ZFLOW_WS_ACTOR_H_INCLUDED

#include "zflow_ws_internal.h"

//  One stream, as the actor sees it: its filter, its end of the pipe and
//  the batch being gathered for it.
typedef struct {
    zsock_t *sock;               //  actor side of the PAIR pipe
    void *handle;                //  its libzmq handle
    json_t *filter;              //  the filter, or NULL for every message
    zflow_ws_cfilter_t *cfilter; //  the filter prepared for scanned messages, or NULL
    int policy;                  //  ZFLOW_WS_DROP or ZFLOW_WS_BACKPRESSURE
    size_t queue;                //  most messages sent and not yet handed out by the reader
    zflow_ws_link_t *link;       //  shared with the stream (one reference is ours)
    uint64_t delivered;          //  messages queued to the stream
    zflow_ws_batch_t batch;      //  the batch being built
    bool held;                   //  BACKPRESSURE: the stream is full and the batch waits
} zflow_ws_route_t;

//  Counters of the feed (STATS adds them to the standard ones).
typedef struct {
    uint64_t published;      //  messages published on PUB
    uint64_t parse_errors;   //  messages the parser refused
    uint64_t decode_errors;  //  binary payloads that did not inflate
    uint64_t handler_errors; //  handler failures
    uint64_t connects;       //  connections opened
    uint64_t reconnects;     //  reconnects after a close or error
    uint64_t attempts;       //  connection attempts
    uint64_t rotations;      //  policy reconnects completed
    uint64_t app_pongs;      //  application pongs swallowed
    uint64_t app_pings;      //  server application pings answered
    uint64_t send_dropped;   //  queued sends dropped at exit
    uint64_t stream_drops;   //  drops over all streams
    uint64_t pauses;         //  times reading paused for a backpressured stream
    uint64_t closes;         //  connections ended (each ran the close hook)
} zflow_ws_stats_t;

typedef struct {
    zflow_actor_t *base;                //  actor base (owns the loop)
    zloop_t *loop;                      //  the loop
    zsock_t *pipe;                      //  the pipe
    const char *name;                   //  feed name (in config)
    zflow_ws_config_t *config;          //  configuration (owned: our copy)
    zflow_ws_shared_t *shared;          //  shared with the caller
    zflow_ws_conn_config_t conn_config; //  derived connection settings
    zsock_t *pub;                       //  XPUB socket (a PUB that sees subscriptions)
    int64_t topics;                     //  topics subscribed on it (publish only when > 0)
    void *pub_handle;                   //  its libzmq handle
    zsock_t *sendq;                     //  PAIR the caller's sends arrive on
    zflow_ws_conn_t *conn;              //  the serving connection, or NULL
    zflow_ws_conn_t *next;              //  the replacement being opened, or NULL
    zflow_ws_conn_t *rx;                //  the connection the message in hand came from
    zlist_t *dead;                      //  finished connections to destroy
    zlistx_t *routes;                   //  zflow_ws_route_t items, one per stream
    size_t held_streams;                //  streams whose batch waits for room
    int held_timer;                     //  retries held streams, -1 when none
    zlist_t *outq;                      //  zframe_t: flag byte + message, waiting to be sent
    int reconnect_timer;                //  pending reconnect, -1 when none
    int rotate_timer;                   //  periodic policy reconnect, -1 when none
    int ping_timer;                     //  WebSocket ping, -1 when none
    int app_ping_timer;                 //  application ping, -1 when none
    int send_timer;                     //  rate-limit wake-up, -1 when none
    int reap_timer;                     //  destroys dead connections, -1 when none
    int attempt;                        //  failed attempts since the last open
    int64_t last_attempt;               //  zclock_mono of the last attempt
    int64_t next_send_at;               //  zclock_usecs when the next send may go
    int64_t last_pong;                  //  zclock_mono of the last pong (or open)
    bool rotate_pending;                //  the reconnect timer is for a rotation
    bool paused;                        //  reading paused for a backpressured stream
    bool started;                       //  the first connection was started
    bool exiting;                       //  EXIT received
    bool exited;                        //  EXIT completed
    zflow_key_t *key;                   //  ("ws", name)
    zflow_meta_t *meta;                 //  reused meta (PUB envelopes, singles)
    zflow_meta_t *batch_meta;           //  reused meta of stream batches
    uint64_t seq;                       //  sequence number of the last message
    z_stream decoder;                   //  gzip/deflate decoder
    bool decoder_ready;                 //  decoder initialised
    zflow_ws_buf_t dbuf;                //  decoded payload
    zflow_ws_stats_t stats;             //  counters
    bool fast_json;                     //  JSON messages only meet filters: scan, no jansson
    zflow_ws_cfilter_t *rotate_cfilter; //  the rotate filter prepared, or NULL
    zflow_ws_cfilter_t *pong_cfilter;   //  the application pong filter prepared, or NULL
    int last_code;                      //  close code of the last connection (0: none yet)
    char last_reason[256];              //  its reason
} zflow_ws_self_t;

//  Takes one message through the pipeline (zflow_ws_fanout.c).
void zflow__ws_fanout (zflow_ws_self_t *self, bool binary, const uint8_t *data, size_t size);

//  Sends every stream's batch (after each socket read, and at exit).
void zflow__ws_streams_flush (zflow_ws_self_t *self);

//  Sends the end marker to every stream (at exit).
void zflow__ws_streams_end (zflow_ws_self_t *self);

//  Creates the route of a new stream (taking a reference to link); the
//  peer end of its pipe goes to *peer_p. Returns it (add it to
//  self->routes) or NULL with *err_p set.
zflow_ws_route_t *zflow__ws_route_new (zflow_ws_self_t *self, const char *filter, size_t queue,
                                       int policy, zflow_ws_link_t *link, zsock_t **peer_p,
                                       int *err_p);

//  Destroys a route (zlistx destructor shape): its stream sees the end.
void zflow__ws_route_destroy (zflow_ws_route_t **route_p);

//  Adds one message to a route's batch, by its policy (sent at once when
//  the stream does not take batches).
void zflow__ws_route_add (zflow_ws_self_t *self, zflow_ws_route_t *route, uint64_t seq, int type,
                          bool binary, const uint8_t *data, size_t size);

//  Removes the routes whose stream was destroyed.
void zflow__ws_routes_sweep (zflow_ws_self_t *self);

//  Starts a policy reconnect (zflow_ws_actor.c).
void zflow__ws_rotate (zflow_ws_self_t *self);

//  Pauses or resumes reading on every connection (zflow_ws_actor.c).
void zflow__ws_set_paused (zflow_ws_self_t *self, bool paused);

#endif
