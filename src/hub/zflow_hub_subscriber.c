/*  =========================================================================
    zflow_hub_subscriber - the caller's side of a hub subscriber

    Subscribing sends a command to the actor without waiting for a reply
    (the pipe keeps the order); in sync mode a fence then confirms that the
    hub has seen it. Removals wait for the actor's reply, so a removed
    listener is never called after the call returns.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_hub_subscriber.h"
#include "zflow_actor.h"
#include "zflow_error.h"
#include "zflow_hub_internal.h"
#include "zflow_hub_subscriber_internal.h"
#include "zflow_msg_internal.h"

//  How long a sync-mode call waits for the hub.
#define S_SYNC_TIMEOUT 5000

struct _zflow_hub_subscriber_t {
    zflow_hub_t *hub;     //  the local hub (a reference), or NULL when remote
    char *id;             //  the user's id
    char *uid;            //  unique id for presence, announcements, fences
    char *queue_endpoint; //  inproc endpoint of the actor's queue PAIR
    zactor_t *actor;      //  the subscriber actor
    zsock_t *queue;       //  PAIR connected to the actor's queue
    bool sync;            //  wait for the hub after each subscription
    uint64_t fence;       //  last fence sent
    int next_id;          //  next listener id
};

static zflow_hub_subscriber_t *s_new (zflow_hub_t *hub, const char *endpoint, const char *id,
                                      const zflow_hub_curve_t *curve, int *err_p)
{
    int err = endpoint && id && *id ? 0 : ZFLOW_EINVAL;
    zflow_hub_subscriber_t *self =
        err ? NULL : (zflow_hub_subscriber_t *) zmalloc (sizeof (zflow_hub_subscriber_t));
    if (self) {
        self->hub = hub;
        if (hub)
            zflow__hub_ref (hub); //  the struct outlives a hub destroyed first
        self->sync = true;
        self->next_id = 1;
        self->id = strdup (id);
        zuuid_t *uuid = zuuid_new ();
        self->uid = uuid ? strdup (zuuid_str (uuid)) : NULL;
        zuuid_destroy (&uuid);
        self->queue_endpoint =
            self->uid ? zsys_sprintf ("inproc://zflow.hubsub.%s", self->uid) : NULL;
        if (self->id && self->queue_endpoint) {
            zflow_hub_sub_args_t args = {endpoint, self->queue_endpoint, self->uid, self->id,
                                         curve,    hub == NULL};
            self->actor = zflow_actor_start (zflow__hub_subscriber_actor, &args);
        }
        if (self->actor)
            self->queue = zsock_new (ZMQ_PAIR);
        if (self->queue) {
            zsock_set_rcvhwm (self->queue, 1);
            if (zsock_connect (self->queue, "%s", self->queue_endpoint) != 0)
                zsock_destroy (&self->queue);
        }
        if (!self->queue) {
            err = self->actor ? ZFLOW_ENOMEM : ZFLOW_EENDPOINT;
            zflow_hub_subscriber_destroy (&self);
        }
    }
    if (err_p)
        *err_p = self ? 0 : err ? err : ZFLOW_ENOMEM;
    return self;
}

zflow_hub_subscriber_t *zflow_hub_subscriber_new (zflow_hub_t *hub, const char *id, int *err_p)
{
    return s_new (hub, hub ? zflow_hub_sub_endpoint (hub) : NULL, id, NULL, err_p);
}

zflow_hub_subscriber_t *zflow_hub_subscriber_new_remote (const char *endpoint, const char *id,
                                                         const zflow_hub_curve_t *curve, int *err_p)
{
    return s_new (NULL, endpoint, id, curve, err_p);
}

void zflow_hub_subscriber_destroy (zflow_hub_subscriber_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_hub_subscriber_t *self = *self_p;
    zsock_destroy (&self->queue);
    zactor_destroy (&self->actor);
    zstr_free (&self->id);
    zstr_free (&self->uid);
    zstr_free (&self->queue_endpoint);
    zflow__hub_unref (&self->hub);
    free (self);
    *self_p = NULL;
}

const char *zflow_hub_subscriber_id (zflow_hub_subscriber_t *self)
{
    return self->id;
}

int zflow_hub_subscriber_set_queue (zflow_hub_subscriber_t *self, size_t limit,
                                    zflow_hub_overflow_t policy)
{
    if (!self || limit == 0 || limit > INT_MAX || (int) policy < ZFLOW_HUB_BLOCK ||
        policy > ZFLOW_HUB_DROP_OLDEST)
        return ZFLOW_EINVAL;
    return zsock_send (self->actor, "sii", "QUEUE", (int) limit, (int) policy) ? ZFLOW_ECLOSED : 0;
}

void zflow_hub_subscriber_set_sync (zflow_hub_subscriber_t *self, bool sync)
{
    self->sync = sync;
}

int zflow_hub_subscriber_sync (zflow_hub_subscriber_t *self, int timeout_ms)
{
    if (!self)
        return ZFLOW_EINVAL;
    char seq[32];
    snprintf (seq, sizeof (seq), "%" PRIu64, ++self->fence);
    if (zsock_send (self->actor, "ssi", "FENCE", seq, 1))
        return ZFLOW_ECLOSED;
    //  the actor answers at once with the first error of the commands that
    //  had no reply (subscribe without sync, set_queue), then the hub's fence
    int rc = ZFLOW_ECLOSED;
    zsock_recv (self->actor, "i", &rc);
    if (rc == 0 && self->hub)
        rc = zflow__hub_wait_fence (self->hub, self->uid, self->fence, timeout_ms);
    return rc;
}

//  Sends SUB; returns the actor's reply for actor listeners, else 0.
static int s_send_sub (zflow_hub_subscriber_t *self, const zflow_key_t *pattern, int kind, int id,
                       zflow_hub_listener_fn *fn, void *arg, const char *endpoint)
{
    size_t size;
    const void *wire = zflow_key_wire (pattern, &size);
    void *fn_ptr = NULL;
    memcpy (&fn_ptr, &fn, sizeof (fn_ptr) < sizeof (fn) ? sizeof (fn_ptr) : sizeof (fn));
    if (zsock_send (self->actor, "sbiipps", "SUB", wire, size, kind, id, fn_ptr, arg,
                    endpoint ? endpoint : ""))
        return ZFLOW_ECLOSED;
    int rc = 0;
    if (kind == S_ACTOR && zsock_recv (self->actor, "i", &rc))
        rc = ZFLOW_ECLOSED;
    if (rc == 0 && self->sync)
        rc = zflow_hub_subscriber_sync (self, S_SYNC_TIMEOUT);
    return rc;
}

int zflow_hub_subscriber_subscribe (zflow_hub_subscriber_t *self, const zflow_key_t *pattern)
{
    if (!self || !pattern)
        return ZFLOW_EINVAL;
    return s_send_sub (self, pattern, S_QUEUE, 0, NULL, NULL, NULL);
}

//  Sends UNSUB and returns the actor's reply.
static int s_send_unsub (zflow_hub_subscriber_t *self, const zflow_key_t *pattern, int kind, int id)
{
    size_t size = 0;
    const void *wire = pattern ? zflow_key_wire (pattern, &size) : "";
    if (zsock_send (self->actor, "sbii", "UNSUB", wire, size, kind, id))
        return ZFLOW_ECLOSED;
    int rc = ZFLOW_ECLOSED;
    zsock_recv (self->actor, "i", &rc);
    if (rc == 0 && self->sync)
        rc = zflow_hub_subscriber_sync (self, S_SYNC_TIMEOUT);
    return rc;
}

int zflow_hub_subscriber_unsubscribe (zflow_hub_subscriber_t *self, const zflow_key_t *pattern)
{
    if (!self || !pattern)
        return ZFLOW_EINVAL;
    return s_send_unsub (self, pattern, S_QUEUE, 0);
}

int zflow_hub_subscriber_consume (zflow_hub_subscriber_t *self, zflow_msg_t *envelope,
                                  int timeout_ms)
{
    if (!self || !envelope)
        return ZFLOW_EINVAL;
    zflow_msg_reset (envelope);
    zmq_pollitem_t item = {zsock_resolve (self->queue), 0, ZMQ_POLLIN, 0};
    int64_t deadline = zclock_mono () + (timeout_ms > 0 ? timeout_ms : 0);
    while (true) {
        long wait = timeout_ms < 0 ? -1 : (long) (deadline - zclock_mono ());
        int rc = zmq_poll (&item, 1, wait < -1 ? 0 : wait);
        if (rc > 0)
            break;
        if (rc < 0 && zmq_errno () == EINTR && timeout_ms != 0)
            continue;
        if (rc < 0 && zmq_errno () != EINTR)
            return ZFLOW_ECLOSED;
        if (timeout_ms >= 0 && zclock_mono () >= deadline)
            return timeout_ms == 0 ? ZFLOW_EAGAIN : ZFLOW_ETIMEDOUT;
    }
    int flags = 0;
    do {
        zmq_msg_t *part = zflow__msg_append (envelope);
        if (!part)
            return ZFLOW_ENOMEM;
        zmq_msg_init (part);
        if (zmq_msg_recv (part, item.socket, flags) < 0) {
            zflow_msg_reset (envelope);
            return ZFLOW_ECLOSED;
        }
        if (!zmq_msg_more (part))
            return 0;
    } while (true);
}

int zflow_hub_subscriber_add_sync_listener (zflow_hub_subscriber_t *self,
                                            const zflow_key_t *pattern, zflow_hub_listener_fn *fn,
                                            void *arg)
{
    if (!self || !pattern || !fn)
        return ZFLOW_EINVAL;
    int id = self->next_id++;
    int rc = s_send_sub (self, pattern, S_SYNC, id, fn, arg, NULL);
    return rc ? rc : id;
}

int zflow_hub_subscriber_add_actor_listener (zflow_hub_subscriber_t *self,
                                             const zflow_key_t *pattern, const char *endpoint)
{
    if (!self || !pattern || !endpoint || !*endpoint)
        return ZFLOW_EINVAL;
    int id = self->next_id++;
    int rc = s_send_sub (self, pattern, S_ACTOR, id, NULL, NULL, endpoint);
    return rc ? rc : id;
}

int zflow_hub_subscriber_remove_listener (zflow_hub_subscriber_t *self, int id)
{
    if (!self || id <= 0)
        return ZFLOW_EINVAL;
    int rc = s_send_unsub (self, NULL, S_SYNC, id);
    if (rc == ZFLOW_ENOTFOUND)
        rc = s_send_unsub (self, NULL, S_ACTOR, id);
    return rc;
}

int zflow_hub_subscriber_remove_all_listeners (zflow_hub_subscriber_t *self)
{
    if (!self || zstr_send (self->actor, "REMOVE_LISTENERS"))
        return ZFLOW_EINVAL;
    int removed = ZFLOW_ECLOSED;
    zsock_recv (self->actor, "i", &removed);
    return removed;
}

zhash_t *zflow_hub_subscriber_stats (zflow_hub_subscriber_t *self, int timeout_ms)
{
    return self ? zflow_actor_stats (self->actor, timeout_ms) : NULL;
}

void zflow_hub_subscriber_set_verbose (zflow_hub_subscriber_t *self, bool verbose)
{
    if (self)
        zflow_actor_set_verbose (self->actor, verbose);
}

const char *zflow_hub_subscriber_endpoint (zflow_hub_subscriber_t *self)
{
    return self ? self->queue_endpoint : NULL;
}

zactor_t *zflow_hub_subscriber_actor (zflow_hub_subscriber_t *self)
{
    return self ? self->actor : NULL;
}
