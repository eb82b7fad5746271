/*  =========================================================================
    zflow_centrifugo_source_internal - the source actor's state, shared by
    its two files (internal)

    zflow_centrifugo_source.c      the public object, the actor, the
                                   connection life cycle and commands
    zflow_centrifugo_source_proto.c   the client protocol: commands out,
                                   replies and pushes in, envelopes and
                                   events out

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_CENTRIFUGO_SOURCE_INTERNAL_H_INCLUDED
#define ZFLOW_CENTRIFUGO_SOURCE_INTERNAL_H_INCLUDED

#include "zflow_actor.h"
#include "zflow_centrifugo_source.h"
#include "zflow_error.h"
#include "zflow_key.h"
#include "zflow_meta.h"
#include "zflow_ws_client.h"
#include <jansson.h>

//  A channel's subscription state.
typedef enum {
    S_CHAN_IDLE,        //  not subscribed (not connected yet, or refused)
    S_CHAN_SUBSCRIBING, //  subscribe sent, reply awaited
    S_CHAN_SUBSCRIBED   //  publications flow
} s_chan_state_t;

//  One channel.
typedef struct {
    char *name;           //  channel name
    zflow_key_t *key;     //  (key_prefix, name)
    s_chan_state_t state; //  subscription state
    uint32_t cmd_id;      //  id of the pending subscribe command, or 0
    bool recovering;      //  the pending subscribe asked for recovery
    bool server_side;     //  a server-side subscription (the server subscribes)
    bool dropped;         //  the server unsubscribed it for good (code < 2500): not
                          //  subscribed again, not even after a reconnect
    int retries;          //  temporary subscribe errors in a row
    int64_t retry_at;     //  when to subscribe again after one (0: not planned)
    bool recoverable;     //  the server keeps history for it (subscribe reply)
    bool positioned;      //  offset and epoch below are known
    uint64_t offset;      //  last offset published (or the start position)
    char *epoch;          //  the stream's epoch, or NULL
    bool needs_token;     //  the server refused it without a subscription token
    bool sent_token;      //  the pending subscribe carries a token
    int64_t refresh_at;   //  when to send sub_refresh (0: its token does not expire)
    int64_t expire_at;    //  when its token expires (0: never)
    uint32_t refresh_id;  //  id of the pending sub_refresh, or 0
    char *token;          //  subscription token given by set_sub_token, or NULL
} s_channel_t;

//  The actor's state.
typedef struct {
    zflow_actor_t *base;                //  actor base: loop, pipe, counters
    zflow_actor_counters_t *counters;   //  the base's standard counters
    zloop_t *loop;                      //  the base's loop
    zsock_t *pub;                       //  PUB for envelopes and events
    void *pub_handle;                   //  its libzmq handle
    char *endpoint;                     //  where pub is bound
    char *url;                          //  server URL
    char *token;                        //  connect token, or NULL
    char *name;                         //  client name
    char *key_prefix;                   //  first key component
    char *event_prefix;                 //  first key component of events
    zflow_meta_t *meta;                 //  reused for every envelope
    zhashx_t *channels;                 //  name -> s_channel_t
    zflow_ws_conn_config_t conn_config; //  WebSocket settings (strings are ours)
    zflow_ws_conn_t *conn;              //  the connection, or NULL
    zlist_t *dead;                      //  closed connections waiting to be destroyed
    bool recover;                       //  resubscribe with recovery
    bool lossless;                      //  hold and pause instead of dropping
    zlist_t *held;                      //  envelopes (zmsg_t) waiting for the PUB, in order
    int flush_timer;                    //  timer id or -1 (retries held envelopes)
    bool started;                       //  connecting was asked for
    bool opened;                        //  conn finished its WebSocket handshake
    bool connected;                     //  connect reply received on conn
    bool failed;                        //  gave up after max_failures
    uint32_t next_id;                   //  next command id
    uint32_t connect_id;                //  id of the pending connect, or 0
    int backoff_min_ms;                 //  first reconnect delay
    int backoff_max_ms;                 //  longest reconnect delay
    int max_failures;                   //  refusals in a row before giving up (< 0: never)
    int timeout_ms;                     //  handshake / reply timeout
    int ping_grace_ms;                  //  extra wait for a ping
    int attempt;                        //  failed attempts in a row (backoff exponent)
    int failures;                       //  refusals in a row
    bool refused;                       //  the current connection was refused by the server
    bool terminal;                      //  ... for good (permanent connect error): stop
    int term_code;                      //  the refusal's error code, for the "failed" event
    char term_reason[128];              //  and its message
    int disc_code;                      //  code of a disconnect push on conn (0: none)
    char disc_reason[128];              //  its reason
    int64_t ping_ms;                    //  ping interval the server announced (0: none)
    bool pong;                          //  answer pings
    int64_t last_rx;                    //  when a message last arrived (zclock_mono)
    int64_t reply_deadline;             //  when the oldest awaited reply is late (0: none)
    int64_t refresh_at;                 //  when to ask for a new token (0: never)
    int64_t expire_at;                  //  when the connection's token expires (0: never)
    uint32_t refresh_id;                //  id of the pending refresh, or 0
    int reconnect_timer;                //  timer id or -1
    int reap_timer;                     //  timer id or -1
    int watch_timer;                    //  timer id or -1 (ping and reply watchdog)
    char *token_secret;                 //  HMAC secret to sign tokens with, or NULL
    char *token_user;                   //  their "sub" claim, or NULL (the connection token's)
    int token_ttl;                      //  their lifetime in seconds
    zflow_centrifugo_source_token_fn *token_fn; //  token callback, or NULL
    void *token_arg;                            //  its argument
    //  Counters for STATS.
    uint64_t publications;   //  envelopes published (live and recovered)
    uint64_t recovered;      //  of them, from subscribe replies
    uint64_t duplicates;     //  publications at or below the last offset
    uint64_t gaps;           //  holes detected in offsets
    uint64_t unrecovered;    //  recovery asked, not granted
    uint64_t malformed;      //  server messages we could not read
    uint64_t errors;         //  error replies
    uint64_t events;         //  events published
    uint64_t connects;       //  connect replies that succeeded
    uint64_t attempts;       //  connection attempts
    uint64_t disconnects;    //  connections lost or closed by the server
    uint64_t failures_total; //  refusals
    uint64_t pings;          //  server pings received
    uint64_t pongs;          //  pongs sent
    uint64_t unexpected;     //  pushes for channels not subscribed
    uint64_t refreshes;      //  tokens refreshed on a live connection
    uint64_t sub_refreshes;  //  subscription tokens refreshed (sub_refresh replies)
} s_source_t;

//  Protocol side (zflow_centrifugo_source_proto.c).

//  Handles one WebSocket message (one or more JSON replies / pushes).
void zflow__centsrc_on_message (s_source_t *self, const uint8_t *data, size_t size);

//  Sends the connect command on the open connection. Returns 0 or -1.
int zflow__centsrc_send_connect (s_source_t *self);

//  Sends a subscribe command for channel (with recovery when known).
//  Returns 0 or -1.
int zflow__centsrc_send_subscribe (s_source_t *self, s_channel_t *channel);

//  Sends a refresh command with the current token. Returns 0 or -1.
int zflow__centsrc_send_refresh (s_source_t *self);

//  Sends a sub_refresh command with a new token for channel. Returns 0,
//  or -1 (no token, or the send failed).
int zflow__centsrc_send_sub_refresh (s_source_t *self, s_channel_t *channel);

//  Tokens (zflow_centrifugo_source_token.c).

//  True when the source has a token provider (callback or secret).
bool zflow__centsrc_has_provider (s_source_t *self);

//  A new token from the provider for channel (NULL: the connection), as a
//  string the caller frees; NULL when there is no provider or it gave none.
char *zflow__centsrc_make_token (s_source_t *self, const char *channel);

//  A subscription token for channel, as a string the caller frees: the
//  provider's, else the one given by set_sub_token; NULL when none.
char *zflow__centsrc_sub_token (s_source_t *self, s_channel_t *channel);

//  Sends key, meta and payload frames on the PUB without blocking.
//  Returns 0, or -1 when a subscriber is at its watermark.
int zflow__centsrc_pub_send (s_source_t *self, const void *key, size_t key_size, const void *meta,
                             size_t meta_size, const void *payload, size_t size);

//  Lossless mode: an envelope was held; pause reading and retry soon.
void zflow__centsrc_hold (s_source_t *self);

//  Publishes an event of type with the fields of details (may be NULL;
//  the reference is taken).
void zflow__centsrc_event (s_source_t *self, const char *type, json_t *details);

//  Lifecycle side (zflow_centrifugo_source.c).

//  A reconnect / retry delay after attempt failures in a row: doubling from
//  backoff_min_ms to backoff_max_ms, a random point in its upper half.
int zflow__centsrc_backoff (s_source_t *self, int attempt);

//  Closes the current connection (close code, reason) and marks it
//  refused when refused is true (counted as a failure).
void zflow__centsrc_drop (s_source_t *self, int code, const char *reason, bool refused);

//  True when the source traces to stderr: the VERBOSE command every zflow
//  actor knows (set_verbose sends it).
bool zflow__centsrc_verbose (s_source_t *self);

//  Creates a channel record. Returns it, or NULL (bad name or no memory).
s_channel_t *zflow__centsrc_channel_new (s_source_t *self, const char *name);

//  Destroys a channel record (a zhashx destructor).
void zflow__centsrc_channel_destroy (s_channel_t **self_p);

#endif
