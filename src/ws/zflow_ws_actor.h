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

//  One stream, as the actor sees it.
typedef struct {
    uint64_t id;                      //  stream id (the caller names streams by it)
    zsock_t *sock;                    //  actor side of the PAIR pipe
    void *handle;                     //  its libzmq handle
    json_t *filter;                   //  the filter, or NULL for every message
    zflow_ws_cfilter_t *cfilter;      //  the filter prepared for scanned messages, or NULL
    int policy;                       //  ZFLOW_WS_DROP or ZFLOW_WS_BACKPRESSURE
    size_t queue;                     //  most messages sent and not yet handed out by the reader
    zflow_ws_stream_shared_t *shared; //  shared with the reader (owned by the caller's side)
    uint64_t drops;                   //  messages dropped (DROP policy)
    uint64_t delivered;               //  messages queued to the stream
    zflow_ws_buf_t index;             //  the batch being built: its index entries
    zflow_ws_buf_t data;              //  and its payloads
    size_t count;                     //  messages in it
    uint64_t first_seq;               //  seq of its first message
    int first_type;                   //  content type of its first message
    bool held;                        //  BACKPRESSURE: the stream is full and the batch waits
} zflow_ws_stream_t;

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
} zflow_ws_stats_t;

typedef struct {
    zflow_actor_t *base;                //  actor base (owns the loop)
    zloop_t *loop;                      //  the loop
    zsock_t *pipe;                      //  the pipe
    char *name;                         //  feed name (owned)
    zflow_ws_config_t *config;          //  configuration (owned)
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
    zlistx_t *streams;                  //  zflow_ws_stream_t items
    uint64_t next_stream_id;            //  id of the next stream
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
    zflow_meta_t *meta;                 //  reused meta
    uint64_t seq;                       //  sequence number of the last message
    z_stream decoder;                   //  gzip/deflate decoder
    bool decoder_ready;                 //  decoder initialised
    zflow_ws_buf_t dbuf;                //  decoded payload
    zflow_ws_stats_t stats;             //  counters
    bool fast_json;                     //  JSON messages only meet filters: scan, no jansson
    zflow_ws_cfilter_t *rotate_cfilter; //  the rotate filter prepared, or NULL
    zflow_ws_cfilter_t *pong_cfilter;   //  the application pong filter prepared, or NULL
} zflow_ws_self_t;

//  Takes one message through the pipeline (zflow_ws_fanout.c).
void zflow__ws_fanout (zflow_ws_self_t *self, bool binary, const uint8_t *data, size_t size);

//  Sends every stream's batch (after each socket read, and at exit).
void zflow__ws_streams_flush (zflow_ws_self_t *self);

//  Sends the end marker to every stream (at exit).
void zflow__ws_streams_end (zflow_ws_self_t *self);

//  Creates a stream; returns it (owned by self->streams) or NULL.
zflow_ws_stream_t *zflow__ws_stream_add (zflow_ws_self_t *self, const char *filter, size_t queue,
                                         int policy, zflow_ws_stream_shared_t *shared,
                                         zsock_t **peer_p, int *err_p);

//  Forgets a stream's held batch before it is removed.
void zflow__ws_stream_unhold (zflow_ws_self_t *self, zflow_ws_stream_t *stream);

//  Destroys a stream item (zlistx destructor shape).
void zflow__ws_stream_destroy (zflow_ws_stream_t **stream_p);

//  Starts a policy reconnect (zflow_ws_actor.c).
void zflow__ws_rotate (zflow_ws_self_t *self);

//  Pauses or resumes reading on every connection (zflow_ws_actor.c).
void zflow__ws_set_paused (zflow_ws_self_t *self, bool paused);

#endif
