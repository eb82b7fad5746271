/*  =========================================================================
    zflow_redis_sink - an actor that writes zflow envelopes into Redis:
    PUBLISH (pubsub mode) or XADD (stream mode)

    The sink reads envelopes (key, meta, payload) from a PULL socket bound
    or connected at config->input, and sends one command per envelope:

      pubsub: PUBLISH CHANNEL PAYLOAD, CHANNEL = config->channels, or the
              key's components joined with config->separator;
      stream: XADD STREAM [MAXLEN ~ N] * FIELD PAYLOAD, STREAM likewise
              from config->stream or the key.

    Commands are pipelined: up to config->inflight wait for their replies
    (STATS "inflight"), and at most 256 KiB of payload (one command always
    goes); at that watermark, or while disconnected, the sink
    stops reading its input, so the input's high-water mark pushes back on
    its producers (with config->lossy it reads on and drops, counted).

    A broken connection: the commands in flight have an unknown outcome
    (the server may have applied some). With config->resend (the default)
    the sink keeps a copy of each command until its reply and, once
    reconnected, sends those again first, in order, before new input
    ("resent"): delivery is at least once, and a stream may hold an entry
    twice. Without resend they are counted as lost ("lost", at most once).

    Loss, always counted in drops with a reason: a payload larger than
    max_payload (or the server's proto-max-bulk-len, read at connect) is
    never sent ("oversize"); an error reply ("errors"); commands in flight
    on a broken connection without resend, or still in flight when the
    sink is destroyed ("lost"). Nothing else is given up: after a
    reconnect the sink goes on with its input.

    STATS adds: connected (1/0), connects, reconnects (connections lost),
    inflight, delivered (commands Redis accepted), unheard (PUBLISHes that
    reached no subscriber: delivered all the same), errors, oversize,
    unmapped (a key with no name for it), malformed (not an envelope), lost,
    resent,
    refused (AUTH or SELECT refused, or NOAUTH), max_payload (the limit in
    use) and - once something failed - reason: TEXT, Redis's own words
    ("WRONGPASS invalid username-password pair ...").

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_REDIS_SINK_H_INCLUDED
#define ZFLOW_REDIS_SINK_H_INCLUDED

#include "zflow_redis.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zflow_redis_sink_t zflow_redis_sink_t;

//  Starts the sink actor; it connects at once (and again after a loss).
//  Everything is copied from config: the caller may free or reuse it at
//  once. Returns the sink (the caller owns it; zflow_redis_sink_destroy),
//  or NULL with *err_p (if err_p is not NULL) set to ZFLOW_EINVAL (config
//  NULL), ZFLOW_ECONFIG (no input, no host, port out of 1-65535, inflight
//  0, a stream source setting on a sink...), ZFLOW_EENDPOINT (the input
//  cannot bind or connect) or ZFLOW_ENOMEM.
zflow_redis_sink_t *zflow_redis_sink_new (const zflow_redis_config_t *config, int *err_p);

//  Stops the actor and frees the sink; sets *self_p to NULL. Commands
//  still in flight are counted as lost. NULL-safe and idempotent.
void zflow_redis_sink_destroy (zflow_redis_sink_t **self_p);

//  Returns the sink's counters (a new hash the caller destroys with
//  zhash_destroy), or NULL on timeout or for a NULL self.
zhash_t *zflow_redis_sink_stats (zflow_redis_sink_t *self, int timeout_ms);

//  Turns tracing to stderr on or off (the VERBOSE command). NULL does
//  nothing.
void zflow_redis_sink_set_verbose (zflow_redis_sink_t *self, bool verbose);

//  Returns the endpoint the sink reads envelopes on, as bound (for
//  producers to connect a PUSH to), owned by the sink; NULL when its input
//  only connects, or for a NULL self.
const char *zflow_redis_sink_endpoint (zflow_redis_sink_t *self);

//  Returns the sink's actor (owned by the sink), or NULL for a NULL self.
zactor_t *zflow_redis_sink_actor (zflow_redis_sink_t *self);

#ifdef __cplusplus
}
#endif

#endif
