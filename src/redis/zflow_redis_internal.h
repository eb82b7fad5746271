/*  =========================================================================
    zflow_redis_internal - the Redis connection the source and the sink
    share: hiredis's asynchronous context driven from a zloop

    Internal. hiredis asks for read and write interest through its ev
    hooks; the connection keeps them as flags and turns them into one
    zloop poller on the socket only when the loop must wait for it. A
    command issued from zflow's own handlers is written at once
    (zflow__redis_conn_flush), so a busy pipeline does not rebuild the
    loop's poll set per command. Connect, AUTH, SELECT, CONFIG GET
    proto-max-bulk-len and PING run in order (a server still loading its
    data answers PING with LOADING: tried again later); then the owner's
    ready callback runs.
    A lost or refused connection is closed and reopened after a backoff.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_REDIS_INTERNAL_H_INCLUDED
#define ZFLOW_REDIS_INTERNAL_H_INCLUDED

#include "zflow_actor.h"
#include "zflow_redis.h"
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

typedef struct _zflow__redis_conn_t zflow__redis_conn_t;

//  The owner's callbacks: ready (AUTH and SELECT done: issue commands),
//  lost (the connection is gone; every pending reply callback has run with
//  a NULL reply before), io (after the loop handled the socket: read more
//  input, the replies may have made room).
typedef void (zflow__redis_conn_fn) (zflow__redis_conn_t *conn, void *arg);

//  A connection's counters, read by the owner's STATS.
typedef struct {
    uint64_t connects;   //  connections made ready
    uint64_t reconnects; //  ready connections lost
    uint64_t refused;    //  AUTH / SELECT refused (or NOAUTH)
    char reason[256];    //  the last failure, Redis's words, or ""
    size_t max_bulk;     //  the server's proto-max-bulk-len (0: unknown)
} zflow__redis_conn_stats_t;

//  Creates a connection on base's loop (base borrowed; its VERBOSE says
//  whether to trace) with config's server settings (copied). Call it in
//  the actor's thread: it blocks SIGPIPE there, so that a write to a
//  connection the server closed fails instead of ending the process. Does
//  not connect yet. Returns NULL on bad settings (no host, port out of
//  range) or out of memory.
zflow__redis_conn_t *zflow__redis_conn_new (zflow_actor_t *base, const zflow_redis_config_t *config,
                                            const char *label, zflow__redis_conn_fn *ready,
                                            zflow__redis_conn_fn *lost, zflow__redis_conn_fn *io,
                                            void *arg);

//  Closes the connection (pending reply callbacks run with NULL replies,
//  then lost) and frees it. NULL-safe.
void zflow__redis_conn_destroy (zflow__redis_conn_t **self_p);

//  Connects now (no-op if connecting or connected).
void zflow__redis_conn_start (zflow__redis_conn_t *self);

//  The ready context to issue commands on, or NULL while not ready.
redisAsyncContext *zflow__redis_conn_ac (zflow__redis_conn_t *self);

//  Writes what commands were issued and updates the loop's interest. Call
//  after issuing commands outside hiredis's callbacks.
void zflow__redis_conn_flush (zflow__redis_conn_t *self);

//  Stops (true) or resumes reading the socket (flow control).
void zflow__redis_conn_pause (zflow__redis_conn_t *self, bool paused);

//  Records reason (refused: counted as a refusal), closes the connection
//  and reconnects after the backoff. Safe inside a reply callback.
void zflow__redis_conn_fail (zflow__redis_conn_t *self, const char *reason, bool refused);

//  The counters (owned by the connection).
zflow__redis_conn_stats_t *zflow__redis_conn_stats (zflow__redis_conn_t *self);

//  Copies a Redis error reply's text (or "no reply") into out.
void zflow__redis_reply_text (const redisReply *reply, char *out, size_t size);

#endif
