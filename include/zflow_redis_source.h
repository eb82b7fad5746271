/*  =========================================================================
    zflow_redis_source - an actor that reads Redis pub/sub channels and
    patterns, or a Redis Stream in a consumer group, and publishes each
    message as a zflow envelope

    Output: a PUB socket bound at zflow_redis_source_endpoint, with
    ZMQ_XPUB_NODROP: when a subscriber is at its high-water mark the
    envelope is held (stream mode, and pubsub with lossless set: reading
    from Redis pauses until it goes) or dropped and counted.

    Key: config->prefix, then the channel's (or stream's) name split on
    config->separator: channel "chat:room1" is key ("redis", "chat",
    "room1"). An empty component (as in "a::b") makes the whole name one
    component. Meta: source = config->name, a timestamp, and the extra
    fields "channel" (pubsub), "pattern" (a PSUBSCRIBE match), "stream" and
    "id" (stream mode: the entry ID).

    Stream mode: XREADGROUP GROUP group consumer COUNT count BLOCK block_ms
    STREAMS stream ID, first with ID 0 (this consumer's pending entries:
    read before, never acknowledged) until none is left, then with '>'.
    An entry is acknowledged (XACK, batched) ack_ms (100) after its
    envelope went into the output socket: long enough for it to leave the
    process's own queues. One without the payload field is acknowledged,
    dropped and counted (malformed). A source killed (even kill -9) and
    restarted with the same group and consumer re-reads what it had not
    acknowledged: delivery is at least once, an entry may come twice. Only
    an envelope that sat in zflow's own queues for longer than ack_ms when
    the process died (a stalled consumer) can be lost; a source destroyed
    cleanly never acknowledges what is still queued.

    STATS adds: connected (1/0), connects, reconnects (connections lost),
    messages (received from Redis), held, acked, pending_read (entries
    re-read from the pending list), malformed, refused (AUTH, SELECT or a
    subscription refused) and - once something failed - reason: TEXT,
    Redis's own words.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_REDIS_SOURCE_H_INCLUDED
#define ZFLOW_REDIS_SOURCE_H_INCLUDED

#include "zflow_redis.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zflow_redis_source_t zflow_redis_source_t;

//  Starts the source actor; it connects at once unless manual_start is
//  set. Everything is copied from config. Returns the source (the caller
//  owns it; zflow_redis_source_destroy), or NULL with *err_p (may be NULL)
//  set to ZFLOW_EINVAL (config NULL), ZFLOW_ECONFIG (pubsub without
//  channels or patterns, stream mode without stream, no host, port out of
//  range, count 0, a channel or pattern name holding a space or control
//  character), ZFLOW_EENDPOINT (the output cannot bind) or ZFLOW_ENOMEM.
zflow_redis_source_t *zflow_redis_source_new (const zflow_redis_config_t *config, int *err_p);

//  Connects a source made with manual_start (once its consumers are
//  connected, so they miss nothing). Returns 0, ZFLOW_EINVAL (NULL self)
//  or ZFLOW_ETIMEDOUT (the actor did not answer). A second call does
//  nothing.
int zflow_redis_source_start (zflow_redis_source_t *self);

//  Stops the actor and frees the source; sets *self_p to NULL. Held
//  envelopes are dropped (in stream mode they stay pending in Redis).
//  NULL-safe and idempotent.
void zflow_redis_source_destroy (zflow_redis_source_t **self_p);

//  Returns the source's counters (a new hash the caller destroys with
//  zhash_destroy), or NULL on timeout or for a NULL self.
zhash_t *zflow_redis_source_stats (zflow_redis_source_t *self, int timeout_ms);

//  Turns tracing to stderr on or off (the VERBOSE command). NULL does
//  nothing.
void zflow_redis_source_set_verbose (zflow_redis_source_t *self, bool verbose);

//  Returns the endpoint of the output PUB (connect a SUB to it), owned by
//  the source; NULL for a NULL self.
const char *zflow_redis_source_endpoint (zflow_redis_source_t *self);

//  Returns the source's actor (owned by the source), or NULL for a NULL
//  self.
zactor_t *zflow_redis_source_actor (zflow_redis_source_t *self);

#ifdef __cplusplus
}
#endif

#endif
