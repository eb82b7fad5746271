/*  =========================================================================
    zflow_actor - the shared base that makes every zflow actor behave alike

    Inside an actor function (zactor_fn), create a zflow_actor_t on the pipe.
    It owns the actor's zloop, answers the commands every zflow actor knows,
    and keeps the standard counters:

        $TERM     ends the loop (the actor function then returns)
        VERBOSE   turns on tracing to stderr (zsys_debug); "VERBOSE" "0"
                  turns it off again
        STATS     replies with one message of name/value frame pairs, values
                  in decimal text: msgs_in, bytes_in, msgs_out, bytes_out,
                  drops, queue_depth, then the actor's own counters. A
                  request "STATS" TAG gets ("tag", TAG) as its first pair,
                  so a caller can tell its reply from a late one

    Other commands go to the actor's command handler. A typical actor:

        static void s_my_actor (zsock_t *pipe, void *args) {
            zflow_actor_t *base = zflow_actor_new (pipe, "my_actor");
            ... configure; on bad configuration: zflow_actor_ready (base, -1)
            ... destroy and return ...
            zflow_actor_ready (base, 0);
            zflow_actor_run (base);
            zflow_actor_destroy (&base);
        }

    On the caller's side, zflow_actor_start() wraps zactor_new and returns
    NULL when the actor signalled a bad configuration, zflow_actor_stats()
    asks for STATS and zflow_actor_set_verbose() sends VERBOSE. Each public
    actor class (zflow_hub_t, zflow_hpfeeds_t, ...) wraps a zactor_t and
    offers the same three as zflow_X_stats (self, timeout_ms),
    zflow_X_set_verbose (self, verbose) and zflow_X_actor (self); the base
    has no data endpoint of its own (each class's zflow_X_endpoint says
    where its data flows).

    Destroy order: zflow_actor_destroy may come before the destruction of
    zflow streams attached to its loop; those streams are then detached
    (their loop is gone) and can still be used in blocking mode, detached
    and destroyed.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_ACTOR_H_INCLUDED
#define ZFLOW_ACTOR_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zflow_actor_t zflow_actor_t;

//  The standard counters. The actor updates them directly; STATS reads them.
typedef struct {
    uint64_t msgs_in;     //  messages taken in
    uint64_t bytes_in;    //  payload bytes taken in
    uint64_t msgs_out;    //  messages sent on
    uint64_t bytes_out;   //  payload bytes sent on
    uint64_t drops;       //  messages dropped by policy (always counted)
    uint64_t queue_depth; //  messages waiting in the actor's queues now
} zflow_actor_counters_t;

//  Handles a command that is not $TERM, VERBOSE or STATS. request holds the
//  command's remaining frames (the handler may read them; the base destroys
//  it). Returns 0 to go on, -1 to end the loop.
typedef int (zflow_actor_command_fn) (zflow_actor_t *self, const char *command, zmsg_t *request,
                                      void *arg);

//  Appends the actor's own counters to a STATS reply with
//  zflow_actor_stats_add().
typedef void (zflow_actor_stats_fn) (zflow_actor_t *self, zmsg_t *reply, void *arg);

//  Creates the base on the actor's pipe (which stays owned by czmq). name
//  labels trace lines. Returns NULL only when out of memory. The actor
//  function owns it and destroys it before returning.
zflow_actor_t *zflow_actor_new (zsock_t *pipe, const char *name);

//  Destroys the base and its loop; sets *self_p to NULL. Idempotent and
//  NULL-safe (self_p NULL or *self_p NULL do nothing). Streams still
//  attached to the loop are detached first (without touching the loop), so
//  they may be destroyed after the base. Readers and timers that other code
//  put on the loop end with it.
void zflow_actor_destroy (zflow_actor_t **self_p);

//  Returns the actor's zloop (owned by the base), for readers and timers.
zloop_t *zflow_actor_loop (zflow_actor_t *self);

//  Returns the pipe.
zsock_t *zflow_actor_pipe (zflow_actor_t *self);

//  Returns the actor's name (owned by the base).
const char *zflow_actor_name (zflow_actor_t *self);

//  Returns the standard counters, for the actor to update in place.
zflow_actor_counters_t *zflow_actor_counters (zflow_actor_t *self);

//  True after VERBOSE (until "VERBOSE" "0").
bool zflow_actor_verbose (zflow_actor_t *self);

//  Sets the handler for other commands (NULL: they are logged and ignored).
void zflow_actor_set_command_handler (zflow_actor_t *self, zflow_actor_command_fn *handler,
                                      void *arg);

//  Sets the handler that adds the actor's own counters to STATS.
void zflow_actor_set_stats_handler (zflow_actor_t *self, zflow_actor_stats_fn *handler, void *arg);

//  Appends one counter (name, decimal value) to a STATS reply.
void zflow_actor_stats_add (zmsg_t *reply, const char *name, uint64_t value);

//  Signals the caller that the actor is ready (status 0) or that its
//  configuration was bad (non-zero; the actor should then return). It sends
//  two signals (czmq's zactor_new discards the status of the first), so
//  start actors that call it with zflow_actor_start, not zactor_new.
//  Returns 0, or -1 if the pipe is gone.
int zflow_actor_ready (zflow_actor_t *self, int status);

//  Runs the loop until $TERM (or a handler returns -1, or the process is
//  interrupted). Returns 0 on $TERM, -1 otherwise.
int zflow_actor_run (zflow_actor_t *self);

//  Caller side: starts an actor like zactor_new and waits for its ready
//  signal. Returns the actor (the caller owns it; zactor_destroy), or NULL
//  when the actor signalled a non-zero status (its thread has then ended).
zactor_t *zflow_actor_start (zactor_fn *actor_fn, void *args);

//  Caller side: sends a tagged STATS and waits up to timeout_ms for its
//  reply (skipping late replies to earlier calls). actor stays owned by the
//  caller. Returns a hash of counter name -> decimal text (the caller owns
//  it; zhash_destroy), or NULL on timeout or when actor is NULL.
zhash_t *zflow_actor_stats (zactor_t *actor, int timeout_ms);

//  Caller side: turns the actor's tracing on or off (sends "VERBOSE" "1" or
//  "VERBOSE" "0"; it does not wait for the actor). actor stays owned by the
//  caller; NULL does nothing, and so does an actor that has ended.
void zflow_actor_set_verbose (zactor_t *actor, bool verbose);

//  Returns counter name from a STATS hash as a number (0 if absent).
uint64_t zflow_actor_stats_get (zhash_t *stats, const char *name);

#ifdef __cplusplus
}
#endif

#endif
