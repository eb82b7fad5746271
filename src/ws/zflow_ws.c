/*  =========================================================================
    zflow_ws - a WebSocket feed: the caller's side of the actor

    Commands go to the actor on its pipe, outgoing messages on a PAIR of
    their own. Streams are zflow_ws_stream.c.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_ws_internal.h"

struct _zflow_ws_t {
    zactor_t *actor;          //  the feed actor
    zflow_ws_args_t args;     //  what the actor was started with
    zflow_ws_shared_t shared; //  state shared with the actor
    zsock_t *sendq;           //  PAIR to the actor for outgoing messages
    char *endpoint;           //  PUB endpoint
    bool exited;              //  zflow_ws_exit done
};

zflow_ws_t *zflow_ws_new (const zflow_ws_config_t *config, int *err_p)
{
    int rc = ZFLOW_EINVAL;
    zflow_ws_t *self = NULL;
    zflow_ws_config_t *copy = NULL;
    if (!config)
        goto fail;
    rc = ZFLOW_ENOMEM;
    self = (zflow_ws_t *) calloc (1, sizeof (zflow_ws_t));
    copy = self ? zflow__ws_config_dup (config) : NULL;
    if (!copy)
        goto fail;
    //  A fresh name each time: libzmq frees inproc names asynchronously, so
    //  a reused name (an address malloc gave again) could still be taken.
    static atomic_uint_fast64_t s_instances = 0;
    self->args.send_endpoint = zsys_sprintf ("inproc://zflow-ws-send-%" PRIu64,
                                             (uint64_t) atomic_fetch_add (&s_instances, 1));
    self->endpoint = config->endpoint ? strdup (config->endpoint)
                                      : zsys_sprintf ("inproc://zflow-ws-%s", config->name);
    self->sendq = zsock_new (ZMQ_PAIR);
    if (!self->args.send_endpoint || !self->endpoint || !self->sendq)
        goto fail;
    self->shared.send_queue = config->send_queue;
    self->args.shared = &self->shared;
    self->args.config = copy;
    copy = NULL; //  the actor owns it from here on
    self->actor = zflow_actor_start (zflow__ws_actor, &self->args);
    rc = ZFLOW_EENDPOINT;
    if (!self->actor)
        goto fail;
    zsock_set_sndhwm (self->sendq, 0);
    if (zsock_connect (self->sendq, "%s", self->args.send_endpoint) != 0)
        goto fail;
    if (err_p)
        *err_p = 0;
    return self;
fail:
    zflow_ws_config_destroy (&copy);
    zflow_ws_destroy (&self);
    if (err_p)
        *err_p = rc;
    return NULL;
}

void zflow_ws_destroy (zflow_ws_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_ws_t *self = *self_p;
    if (self->actor) {
        zflow_ws_exit (self);
        zactor_destroy (&self->actor); //  the routes go: every stream sees its end
    }
    zsock_destroy (&self->sendq);
    free (self->args.send_endpoint);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

zhash_t *zflow_ws_stats (zflow_ws_t *self, int timeout_ms)
{
    return self && self->actor ? zflow_actor_stats (self->actor, timeout_ms) : NULL;
}

void zflow_ws_set_verbose (zflow_ws_t *self, bool verbose)
{
    if (self && self->actor)
        zflow_actor_set_verbose (self->actor, verbose);
}

int zflow_ws_last_close (zflow_ws_t *self, char *reason, size_t reason_size)
{
    if (!self || !self->actor || (!reason && reason_size))
        return ZFLOW_EINVAL;
    int code = 0;
    char *text = NULL;
    if (zstr_send (self->actor, "LAST CLOSE") || zsock_recv (self->actor, "is", &code, &text))
        return ZFLOW_ECLOSED;
    if (reason_size)
        snprintf (reason, reason_size, "%s", text ? text : "");
    zstr_free (&text);
    return code;
}

const char *zflow_ws_endpoint (zflow_ws_t *self)
{
    return self ? self->endpoint : NULL;
}

zactor_t *zflow_ws_actor (zflow_ws_t *self)
{
    return self ? self->actor : NULL;
}

bool zflow_ws_present (zflow_ws_t *self)
{
    return self && atomic_load (&self->shared.connected);
}

uint64_t zflow_ws_connects (zflow_ws_t *self)
{
    return self ? atomic_load (&self->shared.connects) : 0;
}

int zflow_ws_wait_connected (zflow_ws_t *self, int timeout_ms)
{
    if (!self)
        return ZFLOW_EINVAL;
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

int zflow_ws_send (zflow_ws_t *self, const void *data, size_t size, bool binary)
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

int zflow_ws_start (zflow_ws_t *self)
{
    if (!self)
        return ZFLOW_EINVAL;
    if (self->exited)
        return ZFLOW_ECLOSED;
    zstr_send (self->actor, "START");
    int rc = ZFLOW_ECLOSED;
    zsock_recv (self->actor, "i", &rc);
    return rc;
}

int zflow_ws_reconnect (zflow_ws_t *self)
{
    if (!self)
        return ZFLOW_EINVAL;
    if (self->exited)
        return ZFLOW_ECLOSED;
    zstr_send (self->actor, "RECONNECT");
    int rc = ZFLOW_ECLOSED;
    zsock_recv (self->actor, "i", &rc);
    return rc;
}

int zflow__ws_open_route (zflow_ws_t *self, const char *filter_json, size_t queue, int policy,
                          zflow_ws_link_t *link, zsock_t **peer_p)
{
    if (self->exited)
        return ZFLOW_ECLOSED;
    char queue_text[32], policy_text[16];
    snprintf (queue_text, sizeof (queue_text), "%zu", queue);
    snprintf (policy_text, sizeof (policy_text), "%d", policy);
    zsock_send (self->actor, "ssssp", "STREAM", filter_json ? filter_json : "", queue_text,
                policy_text, (void *) link);
    int rc = ZFLOW_ECLOSED;
    void *peer = NULL;
    if (zsock_recv (self->actor, "ip", &rc, &peer) != 0)
        return ZFLOW_ECLOSED;
    *peer_p = (zsock_t *) peer;
    return rc;
}

int zflow_ws_flush (zflow_ws_t *self, int timeout_ms)
{
    if (!self)
        return ZFLOW_EINVAL;
    int64_t deadline = zclock_mono () + timeout_ms;
    for (;;) {
        if (self->exited || atomic_load (&self->shared.closed))
            return ZFLOW_ECLOSED;
        //  sends the actor has not handed to the connection, then bytes
        //  the connection has not written
        uint64_t bytes = 1;
        if (atomic_load (&self->shared.send_pending) == 0 &&
            (zstr_send (self->actor, "PENDING") || zsock_recv (self->actor, "8", &bytes)))
            return ZFLOW_ECLOSED;
        if (atomic_load (&self->shared.send_pending) == 0 && bytes == 0)
            return 0;
        if (timeout_ms >= 0 && zclock_mono () >= deadline)
            return ZFLOW_ETIMEDOUT;
        zclock_sleep (2);
    }
}

int zflow_ws_exit (zflow_ws_t *self)
{
    if (!self || self->exited)
        return ZFLOW_ECLOSED;
    self->exited = true;
    zstr_send (self->actor, "EXIT");
    int rc = ZFLOW_ECLOSED;
    zsock_recv (self->actor, "i", &rc);
    return rc;
}
