/*  =========================================================================
    zflow_actor - the shared base that makes every zflow actor behave alike

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_actor.h"
#include "zflow_stream_internal.h"
#include <inttypes.h>
#include <stdatomic.h>

struct _zflow_actor_t {
    zsock_t *pipe;                      //  the actor's pipe (owned by czmq)
    zloop_t *loop;                      //  the actor's loop
    char *name;                         //  label for trace lines
    bool verbose;                       //  trace to stderr
    bool terminated;                    //  $TERM received
    zflow_actor_counters_t counters;    //  the standard counters
    zflow_actor_command_fn *on_command; //  handler for other commands
    void *command_arg;                  //  its argument
    zflow_actor_stats_fn *on_stats;     //  adds the actor's own counters
    void *stats_arg;                    //  its argument
};

//  Answers STATS: the request's tag first (when it has one), then the
//  standard counters, then the actor's own.
static void s_reply_stats (zflow_actor_t *self, zmsg_t *request)
{
    zmsg_t *reply = zmsg_new ();
    char *tag = zmsg_popstr (request);
    if (tag) {
        zmsg_addstr (reply, "tag");
        zmsg_addstr (reply, tag);
        zstr_free (&tag);
    }
    zflow_actor_counters_t *c = &self->counters;
    zflow_actor_stats_add (reply, "msgs_in", c->msgs_in);
    zflow_actor_stats_add (reply, "bytes_in", c->bytes_in);
    zflow_actor_stats_add (reply, "msgs_out", c->msgs_out);
    zflow_actor_stats_add (reply, "bytes_out", c->bytes_out);
    zflow_actor_stats_add (reply, "drops", c->drops);
    zflow_actor_stats_add (reply, "queue_depth", c->queue_depth);
    if (self->on_stats)
        self->on_stats (self, reply, self->stats_arg);
    zmsg_send (&reply, self->pipe);
}

static int s_on_pipe (zloop_t *loop, zsock_t *pipe, void *arg)
{
    (void) loop;
    zflow_actor_t *self = (zflow_actor_t *) arg;
    zmsg_t *request = zmsg_recv (pipe);
    if (!request)
        return -1; //  interrupted
    char *command = zmsg_popstr (request);
    int rc = 0;
    if (!command)
        ; //  an empty message is nobody's command: ignore it
    else if (streq (command, "$TERM")) {
        self->terminated = true;
        rc = -1;
    } else if (streq (command, "VERBOSE")) {
        //  "VERBOSE" alone or "VERBOSE" "1" turns tracing on, "VERBOSE" "0" off
        char *value = zmsg_popstr (request);
        self->verbose = !value || !streq (value, "0");
        zstr_free (&value);
    } else if (streq (command, "STATS"))
        s_reply_stats (self, request);
    else if (self->on_command)
        rc = self->on_command (self, command, request, self->command_arg);
    else
        zsys_warning ("%s: unknown command '%s' ignored", self->name, command);
    zstr_free (&command);
    zmsg_destroy (&request);
    return rc;
}

zflow_actor_t *zflow_actor_new (zsock_t *pipe, const char *name)
{
    zflow_actor_t *self = (zflow_actor_t *) zmalloc (sizeof (zflow_actor_t));
    if (!self)
        return NULL;
    self->pipe = pipe;
    self->name = strdup (name ? name : "actor");
    self->loop = zloop_new ();
    if (!self->name || !self->loop) {
        zflow_actor_destroy (&self);
        return NULL;
    }
    zloop_reader (self->loop, pipe, s_on_pipe, self);
    return self;
}

void zflow_actor_destroy (zflow_actor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_actor_t *self = *self_p;
    //  streams still attached to the loop outlive it safely: they let go
    zflow__stream_forget_loop (self->loop);
    zloop_destroy (&self->loop);
    free (self->name);
    free (self);
    *self_p = NULL;
}

zloop_t *zflow_actor_loop (zflow_actor_t *self)
{
    return self->loop;
}

zsock_t *zflow_actor_pipe (zflow_actor_t *self)
{
    return self->pipe;
}

const char *zflow_actor_name (zflow_actor_t *self)
{
    return self->name;
}

zflow_actor_counters_t *zflow_actor_counters (zflow_actor_t *self)
{
    return &self->counters;
}

bool zflow_actor_verbose (zflow_actor_t *self)
{
    return self->verbose;
}

void zflow_actor_set_command_handler (zflow_actor_t *self, zflow_actor_command_fn *handler,
                                      void *arg)
{
    self->on_command = handler;
    self->command_arg = arg;
}

void zflow_actor_set_stats_handler (zflow_actor_t *self, zflow_actor_stats_fn *handler, void *arg)
{
    self->on_stats = handler;
    self->stats_arg = arg;
}

void zflow_actor_stats_add (zmsg_t *reply, const char *name, uint64_t value)
{
    zmsg_addstr (reply, name);
    zmsg_addstrf (reply, "%" PRIu64, value);
}

//  zactor_new waits for one signal and throws its status away, so the
//  status travels in a second signal that zflow_actor_start reads.
int zflow_actor_ready (zflow_actor_t *self, int status)
{
    if (zsock_signal (self->pipe, 0))
        return -1;
    return zsock_signal (self->pipe, (byte) (status ? 1 : 0)) == 0 ? 0 : -1;
}

int zflow_actor_run (zflow_actor_t *self)
{
    zloop_start (self->loop);
    return self->terminated ? 0 : -1;
}

zactor_t *zflow_actor_start (zactor_fn *actor_fn, void *args)
{
    zactor_t *actor = zactor_new (actor_fn, args);
    //  zactor_new has taken the first signal; the second carries the status
    if (actor && zsock_wait (actor) != 0)
        zactor_destroy (&actor);
    return actor;
}

//  Each STATS request carries a new tag, so that a reply that came too late
//  for an earlier call (after its timeout) is recognised and skipped.
static atomic_uint s_stats_tag;

//  Reads replies until the one tagged tag arrives or the time is up.
//  Returns it (the caller destroys it) or NULL.
static zmsg_t *s_await_reply (zactor_t *actor, const char *tag, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (true) {
        int64_t left = timeout_ms < 0 ? -1 : deadline - zclock_mono ();
        if (timeout_ms >= 0 && left <= 0)
            return NULL;
        zsock_set_rcvtimeo (actor, (int) left);
        zmsg_t *reply = zmsg_recv (actor);
        if (!reply)
            return NULL;
        //  a reply of odd size is not STATS (an ended actor's last signal)
        if (zmsg_size (reply) % 2 == 0 && zmsg_size (reply) >= 2) {
            char *name = zmsg_popstr (reply);
            char *value = zmsg_popstr (reply);
            bool mine = name && value && streq (name, "tag") && streq (value, tag);
            zstr_free (&name);
            zstr_free (&value);
            if (mine)
                return reply;
        }
        zmsg_destroy (&reply);
    }
}

void zflow_actor_set_verbose (zactor_t *actor, bool verbose)
{
    if (!actor)
        return;
    //  an actor that has ended no longer reads its pipe: do not block on it
    zsock_set_sndtimeo (actor, 0);
    zstr_sendx (actor, "VERBOSE", verbose ? "1" : "0", NULL);
    zsock_set_sndtimeo (actor, -1);
}

zhash_t *zflow_actor_stats (zactor_t *actor, int timeout_ms)
{
    if (!actor)
        return NULL;
    char tag[16];
    snprintf (tag, sizeof (tag), "%u", atomic_fetch_add (&s_stats_tag, 1));
    //  an actor that has ended no longer reads its pipe: bound both ways
    zsock_set_sndtimeo (actor, timeout_ms);
    zmsg_t *reply =
        zstr_sendx (actor, "STATS", tag, NULL) == 0 ? s_await_reply (actor, tag, timeout_ms) : NULL;
    zsock_set_sndtimeo (actor, -1);
    zsock_set_rcvtimeo (actor, -1);
    if (!reply)
        return NULL;
    zhash_t *stats = zhash_new ();
    zhash_autofree (stats);
    while (zmsg_size (reply) >= 2) {
        char *name = zmsg_popstr (reply);
        char *value = zmsg_popstr (reply);
        zhash_update (stats, name, value);
        zstr_free (&name);
        zstr_free (&value);
    }
    zmsg_destroy (&reply);
    return stats;
}

uint64_t zflow_actor_stats_get (zhash_t *stats, const char *name)
{
    const char *value = stats ? (const char *) zhash_lookup (stats, name) : NULL;
    return value ? strtoull (value, NULL, 10) : 0;
}
