/*  =========================================================================
    zflow_ws - a WebSocket feed: the caller's side of the actor

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_ws_internal.h"

//  One stream the caller holds, to name it to the actor.
typedef struct {
    zflow_stream_t *stream;   //  the caller's stream (owned by the caller)
    uint64_t id;              //  the actor's id for it
} s_stream_ref_t;

struct _zflow_ws_t {
    zactor_t *actor;            //  the feed actor
    zflow_ws_args_t args;       //  what the actor was started with
    zflow_ws_shared_t shared;   //  state shared with the actor
    zsock_t *sendq;             //  PAIR to the actor for outgoing messages
    char *endpoint;             //  PUB endpoint
    zlist_t *streams;           //  s_stream_ref_t items
    bool exited;                //  zflow_ws_exit done
};

zflow_ws_t *
zflow_ws_new (const char *name, zflow_ws_config_t **config_p, int *err_p)
{
    int rc = ZFLOW_EINVAL;
    zflow_ws_t *self = NULL;
    zflow_ws_config_t *config = config_p ? *config_p : NULL;
    if (config_p)
        *config_p = NULL;
    zflow_key_t *key = name ? zflow_key_new ("ws", name, NULL) : NULL;
    if (!config || !key || !*name)
        goto fail;
    rc = ZFLOW_ENOMEM;
    self = (zflow_ws_t *) calloc (1, sizeof (zflow_ws_t));
    if (!self)
        goto fail;
    self->args.name = strdup (name);
    //  A fresh name each time: libzmq frees inproc names asynchronously, so
    //  a reused name (an address malloc gave again) could still be taken.
    static atomic_uint_fast64_t s_instances = 0;
    self->args.send_endpoint = zsys_sprintf ("inproc://zflow-ws-send-%" PRIu64,
                                             (uint64_t) atomic_fetch_add (&s_instances, 1));
    self->endpoint = config->endpoint ? strdup (config->endpoint)
                                      : zsys_sprintf ("inproc://zflow-ws-%s", name);
    self->streams = zlist_new ();
    self->sendq = zsock_new (ZMQ_PAIR);
    if (!self->args.name || !self->args.send_endpoint || !self->endpoint || !self->streams
        || !self->sendq)
        goto fail;
    self->shared.send_queue = config->send_queue;
    self->args.shared = &self->shared;
    self->args.config = config;
    config = NULL;   //  the actor owns it from here on
    self->actor = zflow_actor_start (zflow__ws_actor, &self->args);
    rc = ZFLOW_EENDPOINT;
    if (!self->actor)
        goto fail;
    zsock_set_sndhwm (self->sendq, 0);
    if (zsock_connect (self->sendq, "%s", self->args.send_endpoint) != 0)
        goto fail;
    zflow_key_destroy (&key);
    if (err_p)
        *err_p = 0;
    return self;
fail:
    zflow_key_destroy (&key);
    zflow_ws_config_destroy (&config);
    zflow_ws_destroy (&self);
    if (err_p)
        *err_p = rc;
    return NULL;
}

void
zflow_ws_destroy (zflow_ws_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_ws_t *self = *self_p;
    if (self->actor) {
        zflow_ws_exit (self);
        zactor_destroy (&self->actor);
    }
    s_stream_ref_t *ref;
    while (self->streams && (ref = (s_stream_ref_t *) zlist_pop (self->streams)))
        free (ref);
    zlist_destroy (&self->streams);
    zsock_destroy (&self->sendq);
    free (self->args.name);
    free (self->args.send_endpoint);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

const char *
zflow_ws_endpoint (zflow_ws_t *self)
{
    return self->endpoint;
}

zactor_t *
zflow_ws_actor (zflow_ws_t *self)
{
    return self->actor;
}

bool
zflow_ws_present (zflow_ws_t *self)
{
    return atomic_load (&self->shared.connected);
}

uint64_t
zflow_ws_connects (zflow_ws_t *self)
{
    return atomic_load (&self->shared.connects);
}

int
zflow_ws_wait_connected (zflow_ws_t *self, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (!atomic_load (&self->shared.connected)) {
        if (atomic_load (&self->shared.closed))
            return ZFLOW_ECLOSED;
        if (timeout_ms >= 0 && zclock_mono () >= deadline)
            return ZFLOW_ETIMEDOUT;
        zclock_sleep (2);
    }
    return 0;
}

int
zflow_ws_send (zflow_ws_t *self, const void *data, size_t size, bool binary)
{
    if (!self || (!data && size))
        return ZFLOW_EINVAL;
    if (atomic_load (&self->shared.closed) || self->exited)
        return ZFLOW_ECLOSED;
    if (!binary && !zflow__ws_utf8_valid ((const uint8_t *) data, size))
        return ZFLOW_EPROTO;
    if (atomic_fetch_add (&self->shared.send_pending, 1) >= self->shared.send_queue) {
        atomic_fetch_sub (&self->shared.send_pending, 1);
        return ZFLOW_EFULL;
    }
    zframe_t *frame = zframe_new (NULL, size + 1);
    if (!frame) {
        atomic_fetch_sub (&self->shared.send_pending, 1);
        return ZFLOW_ENOMEM;
    }
    uint8_t *bytes = zframe_data (frame);
    bytes[0] = binary ? 'B' : 'T';
    if (size)
        memcpy (bytes + 1, data, size);
    if (zframe_send (&frame, self->sendq, 0) != 0) {
        zframe_destroy (&frame);
        atomic_fetch_sub (&self->shared.send_pending, 1);
        return ZFLOW_ECLOSED;
    }
    return 0;
}

int
zflow_ws_start (zflow_ws_t *self)
{
    if (self->exited)
        return ZFLOW_ECLOSED;
    zstr_send (self->actor, "START");
    int rc = ZFLOW_ECLOSED;
    zsock_recv (self->actor, "i", &rc);
    return rc;
}

int
zflow_ws_reconnect (zflow_ws_t *self)
{
    if (self->exited)
        return ZFLOW_ECLOSED;
    zstr_send (self->actor, "RECONNECT");
    int rc = ZFLOW_ECLOSED;
    zsock_recv (self->actor, "i", &rc);
    return rc;
}

zflow_stream_t *
zflow_ws_stream_filter (zflow_ws_t *self, const char *filter_json, size_t queue, int policy,
                        int *err_p)
{
    int rc = ZFLOW_ECLOSED;
    zsock_t *peer = NULL;
    uint64_t id = 0;
    zflow_stream_t *stream = NULL;
    s_stream_ref_t *ref = (s_stream_ref_t *) calloc (1, sizeof (s_stream_ref_t));
    if (!ref)
        rc = ZFLOW_ENOMEM;
    else if (!self->exited) {
        char queue_text[32], policy_text[16];
        snprintf (queue_text, sizeof (queue_text), "%zu", queue);
        snprintf (policy_text, sizeof (policy_text), "%d", policy);
        zstr_sendx (self->actor, "STREAM", filter_json ? filter_json : "", queue_text,
                    policy_text, NULL);
        void *pointer = NULL;
        if (zsock_recv (self->actor, "ip8", &rc, &pointer, &id) != 0)
            rc = ZFLOW_ECLOSED;
        peer = (zsock_t *) pointer;
    }
    if (rc == 0) {
        stream = zflow_stream_new_sock (&peer);
        rc = stream ? 0 : ZFLOW_ENOMEM;
    }
    if (stream) {
        ref->stream = stream;
        ref->id = id;
        zlist_append (self->streams, ref);
    }
    else
        free (ref);
    zsock_destroy (&peer);
    if (err_p)
        *err_p = rc;
    return stream;
}

int
zflow_ws_stream_read (zflow_stream_t *stream, zflow_msg_t *msg, int timeout_ms)
{
    if (!stream || !msg)
        return ZFLOW_EINVAL;
    int rc = zflow_stream_read (stream, msg, timeout_ms);
    if (rc == 0 && zflow_msg_size (msg) == 1 && zflow_msg_streq (msg, 0, ZFLOW_WS_END)) {
        zflow_msg_reset (msg);
        zflow_stream_close (stream);
        return ZFLOW_ECLOSED;
    }
    return rc;
}

//  Finds the caller's record of stream; removes it when take.
static s_stream_ref_t *
s_find_ref (zflow_ws_t *self, zflow_stream_t *stream, bool take)
{
    s_stream_ref_t *ref = (s_stream_ref_t *) zlist_first (self->streams);
    while (ref && ref->stream != stream)
        ref = (s_stream_ref_t *) zlist_next (self->streams);
    if (ref && take)
        zlist_remove (self->streams, ref);
    return ref;
}

uint64_t
zflow_ws_stream_drops (zflow_ws_t *self, zflow_stream_t *stream)
{
    s_stream_ref_t *ref = s_find_ref (self, stream, false);
    uint64_t drops = 0;
    if (ref && self->actor) {
        char id[32];
        snprintf (id, sizeof (id), "%" PRIu64, ref->id);
        zstr_sendx (self->actor, "DROPS", id, NULL);
        zsock_recv (self->actor, "8", &drops);
    }
    return drops;
}

void
zflow_ws_stream_close (zflow_ws_t *self, zflow_stream_t **stream_p)
{
    if (!stream_p || !*stream_p)
        return;
    s_stream_ref_t *ref = self ? s_find_ref (self, *stream_p, true) : NULL;
    if (ref && self->actor) {
        char id[32];
        uint64_t drops;
        snprintf (id, sizeof (id), "%" PRIu64, ref->id);
        zstr_sendx (self->actor, "UNSTREAM", id, NULL);
        zsock_recv (self->actor, "8", &drops);
    }
    free (ref);
    zflow_stream_destroy (stream_p);
}

int
zflow_ws_exit (zflow_ws_t *self)
{
    if (!self || self->exited)
        return ZFLOW_ECLOSED;
    self->exited = true;
    zstr_send (self->actor, "EXIT");
    int rc = ZFLOW_ECLOSED;
    zsock_recv (self->actor, "i", &rc);
    return rc;
}
