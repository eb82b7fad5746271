/*  =========================================================================
    zflow_hub - a named publish/subscribe hub with hierarchical keys

    The caller's side: the hub object, a typed wrapper over its actor
    (zflow_hub_actor.c, which describes the forwarding and the notices).
    The object and the actor share the subscription counts, under the
    object's lock, so that has_subscribers and subscription_count answer
    without a round trip to the actor.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_hub.h"
#include "zflow_actor.h"
#include "zflow_error.h"
#include "zflow_hub_internal.h"
#include "zflow_hub_private.h"
#include "zflow_hub_trie.h"
#include <limits.h>
#include <pthread.h>
#include <time.h>

static void s_pattern_destroy (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

static void s_peer_destroy (void **item_p)
{
    zflow_hub_peer_t *self = (zflow_hub_peer_t *) *item_p;
    if (self) {
        zhashx_destroy (&self->patterns);
        free (self);
        *item_p = NULL;
    }
}

static bool s_name_ok (const char *name)
{
    size_t len = name ? strlen (name) : 0;
    if (len == 0 || len > ZFLOW_HUB_MAX_NAME)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum ((unsigned char) name[i]) && !strchr ("._-", name[i]))
            return false;
    return true;
}

void zflow_hub_config_init (zflow_hub_config_t *config)
{
    if (config)
        memset (config, 0, sizeof (*config));
}

static zflow_hub_t *s_hub_new (const zflow_hub_config_t *config, int *err_p)
{
    zflow_hub_t *self = (zflow_hub_t *) zmalloc (sizeof (zflow_hub_t));
    if (!self)
        return NULL;
    self->refs = 1;
    self->verbose = config->verbose;
    self->max_message = config->max_message ? config->max_message : ZFLOW_HUB_DEFAULT_MAX_MESSAGE;
    self->max_peer_subs = config->max_peer_subscriptions ? config->max_peer_subscriptions
                                                         : ZFLOW_HUB_DEFAULT_PEER_SUBSCRIPTIONS;
    self->max_sub_bytes = config->max_subscription_bytes ? config->max_subscription_bytes
                                                         : ZFLOW_HUB_DEFAULT_SUBSCRIPTION_BYTES;
    self->stall_limit_ms =
        config->stall_limit_ms ? config->stall_limit_ms : ZFLOW_HUB_DEFAULT_STALL_LIMIT;
    self->name = config->name ? strdup (config->name) : zflow__hub_anonymous_name ();
    self->pub_endpoint = zsys_sprintf ("inproc://zflow.hub.%s.pub", self->name);
    self->sub_endpoint = zsys_sprintf ("inproc://zflow.hub.%s.sub", self->name);
    pthread_mutex_init (&self->lock, NULL);
    pthread_condattr_t attributes;
    pthread_condattr_init (&attributes);
    pthread_condattr_setclock (&attributes, CLOCK_MONOTONIC);
    pthread_cond_init (&self->fenced, &attributes);
    pthread_condattr_destroy (&attributes);
    self->trie = zflow__trie_new ();
    self->patterns = zhashx_new ();
    self->peers = zhashx_new ();
    if (self->patterns)
        zhashx_set_destructor (self->patterns, s_pattern_destroy);
    if (self->peers)
        zhashx_set_destructor (self->peers, s_peer_destroy);
    if (self->name && self->pub_endpoint && self->sub_endpoint && self->trie && self->patterns &&
        self->peers)
        self->actor = zflow_actor_start (zflow__hub_actor, self);
    if (self->actor && self->verbose)
        zflow_actor_set_verbose (self->actor, true); //  before any other command
    int err = self->actor ? zflow__hub_register (self) : ZFLOW_EENDPOINT;
    if (err) {
        *err_p = err;
        zflow_hub_destroy (&self);
    }
    return self;
}

zflow_hub_t *zflow_hub_new (const zflow_hub_config_t *config, int *err_p)
{
    zflow_hub_config_t defaults;
    zflow_hub_config_init (&defaults);
    if (!config)
        config = &defaults;
    int err = (config->name && !s_name_ok (config->name)) || config->max_message > INT_MAX
                  ? ZFLOW_EINVAL
                  : 0;
    zflow_hub_t *self = err ? NULL : s_hub_new (config, &err);
    if (self && config->curve) {
        err = zflow_hub_set_curve (self, config->curve);
        if (err)
            zflow_hub_destroy (&self);
    }
    if (err_p)
        *err_p = self ? 0 : err ? err : ZFLOW_ENOMEM;
    return self;
}

void zflow_hub_destroy (zflow_hub_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_hub_t *self = *self_p;
    zflow__hub_unregister (self);
    zactor_destroy (&self->actor);
    if (self->curve)
        zflow__hub_auth_release ();
    //  publishers and subscribers may still hold the struct: what they
    //  read under the lock is gone, and a waiting fence wakes up
    pthread_mutex_lock (&self->lock);
    self->closed = true;
    zflow__trie_destroy (&self->trie);
    zhashx_destroy (&self->patterns);
    zhashx_destroy (&self->peers);
    pthread_cond_broadcast (&self->fenced);
    pthread_mutex_unlock (&self->lock);
    zstr_free (&self->name);
    zstr_free (&self->pub_endpoint);
    zstr_free (&self->sub_endpoint);
    zstr_free (&self->bound_pub);
    zstr_free (&self->bound_sub);
    zflow__hub_unref (self_p);
}

void zflow_hub_set_verbose (zflow_hub_t *self, bool verbose)
{
    if (!self)
        return;
    zflow_actor_set_verbose (self->actor, verbose);
}

const char *zflow_hub_endpoint (zflow_hub_t *self)
{
    return self ? self->sub_endpoint : NULL;
}

const char *zflow_hub_name (zflow_hub_t *self)
{
    return self->name;
}

const char *zflow_hub_pub_endpoint (zflow_hub_t *self)
{
    return self->pub_endpoint;
}

const char *zflow_hub_sub_endpoint (zflow_hub_t *self)
{
    return self->sub_endpoint;
}

int zflow_hub_set_curve (zflow_hub_t *self, const zflow_hub_curve_t *curve)
{
    if (!self || !curve || !curve->cert)
        return ZFLOW_EINVAL;
    if (!self->curve) {
        int rc = zflow__hub_auth_acquire (curve->allow_dir);
        if (rc)
            return rc;
        self->curve = true;
    }
    zcert_t *cert = curve->cert;
    zsock_send (self->actor, "sb", "CURVE", &cert, sizeof (cert));
    int rc = ZFLOW_ECONFIG;
    zsock_recv (self->actor, "i", &rc);
    return rc;
}

int zflow_hub_bind (zflow_hub_t *self, const char *pub_endpoint, const char *sub_endpoint)
{
    if (!self || (!pub_endpoint && !sub_endpoint))
        return ZFLOW_EINVAL;
    zsock_send (self->actor, "sss", "BIND", pub_endpoint ? pub_endpoint : "",
                sub_endpoint ? sub_endpoint : "");
    int rc = ZFLOW_EENDPOINT;
    char *real_pub = NULL, *real_sub = NULL;
    if (zsock_recv (self->actor, "iss", &rc, &real_pub, &real_sub) != 0)
        return ZFLOW_ECLOSED;
    if (rc == 0 && *real_pub) {
        zstr_free (&self->bound_pub);
        self->bound_pub = real_pub;
        real_pub = NULL;
    }
    if (rc == 0 && *real_sub) {
        zstr_free (&self->bound_sub);
        self->bound_sub = real_sub;
        real_sub = NULL;
    }
    zstr_free (&real_pub);
    zstr_free (&real_sub);
    return rc;
}

const char *zflow_hub_bound_pub (zflow_hub_t *self)
{
    return self->bound_pub;
}

const char *zflow_hub_bound_sub (zflow_hub_t *self)
{
    return self->bound_sub;
}

bool zflow_hub_has_subscribers (zflow_hub_t *self, const zflow_key_t *key)
{
    if (!self || !key)
        return false;
    size_t size;
    const void *wire = zflow_key_wire (key, &size);
    pthread_mutex_lock (&self->lock);
    bool any = !self->closed && zflow__trie_any (self->trie, wire, size);
    pthread_mutex_unlock (&self->lock);
    return any;
}

size_t zflow_hub_subscription_count (zflow_hub_t *self, const zflow_key_t *pattern)
{
    if (!self || !pattern)
        return 0;
    size_t size;
    const char *wire = (const char *) zflow_key_wire (pattern, &size);
    pthread_mutex_lock (&self->lock);
    zflow_hub_pattern_t *p =
        self->closed ? NULL : (zflow_hub_pattern_t *) zhashx_lookup (self->patterns, wire);
    size_t count = p ? p->count : 0;
    pthread_mutex_unlock (&self->lock);
    return count;
}

zhash_t *zflow_hub_stats (zflow_hub_t *self, int timeout_ms)
{
    return self ? zflow_actor_stats (self->actor, timeout_ms) : NULL;
}

zactor_t *zflow_hub_actor (zflow_hub_t *self)
{
    return self ? self->actor : NULL;
}

int zflow__hub_wait_fence (zflow_hub_t *self, const char *uid, uint64_t seq, int timeout_ms)
{
    //  the condition variable runs on the monotonic clock (see the hub's
    //  construction), so a wall-clock step cannot stretch or cut the wait
    struct timespec deadline;
    clock_gettime (CLOCK_MONOTONIC, &deadline);
    if (timeout_ms >= 0) {
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    int rc = 0;
    pthread_mutex_lock (&self->lock);
    while (rc == 0) {
        if (self->closed) {
            rc = ZFLOW_ECLOSED;
            break;
        }
        zflow_hub_peer_t *peer = (zflow_hub_peer_t *) zhashx_lookup (self->peers, uid);
        if (peer && peer->fence >= seq)
            break;
        //  a negative timeout waits as long as it takes
        int wait = timeout_ms < 0 ? pthread_cond_wait (&self->fenced, &self->lock)
                                  : pthread_cond_timedwait (&self->fenced, &self->lock, &deadline);
        if (wait == ETIMEDOUT)
            rc = ZFLOW_ETIMEDOUT;
        else if (wait != 0)
            rc = ZFLOW_EINVAL; //  never spin on an error while holding the lock
    }
    pthread_mutex_unlock (&self->lock);
    return rc;
}
