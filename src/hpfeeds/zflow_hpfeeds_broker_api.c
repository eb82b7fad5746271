/*  =========================================================================
    zflow_hpfeeds_broker_api - the public wrapper over the hpfeeds broker
    actor (zflow_hpfeeds_broker.c): each method sends one command on the
    actor's pipe and waits for its answer

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_actor.h"
#include "zflow_error.h"
#include "zflow_hpfeeds_broker.h"
#include "zflow_hpfeeds_broker_actor.h"
#include "zflow_hpfeeds_proto.h"

struct _zflow_hpfeeds_broker_t {
    zactor_t *actor; //  the broker actor
    int port;        //  port after bind, or 0
};

void zflow_hpfeeds_broker_config_init (zflow_hpfeeds_broker_config_t *config)
{
    memset (config, 0, sizeof (*config));
    config->name = "zflow";
    config->slow_policy = ZFLOW_HPFEEDS_SLOW_DISCONNECT;
    config->outbuf_limit = ZFLOW_HPFEEDS_BROKER_DEFAULT_OUTBUF;
    config->slow_grace_ms = ZFLOW_HPFEEDS_BROKER_DEFAULT_SLOW_GRACE;
    config->auth_timeout_ms = ZFLOW_HPFEEDS_BROKER_DEFAULT_AUTH_TIMEOUT;
    config->idle_timeout_ms = ZFLOW_HPFEEDS_BROKER_DEFAULT_IDLE_TIMEOUT;
    config->max_connections = ZFLOW_HPFEEDS_BROKER_DEFAULT_MAX_CONNECTIONS;
}

zflow_hpfeeds_broker_t *zflow_hpfeeds_broker_new (const zflow_hpfeeds_broker_config_t *config,
                                                  int *err_p)
{
    zflow_hpfeeds_broker_config_t settings;
    zflow_hpfeeds_broker_config_init (&settings);
    if (config)
        settings = *config;
    if (!settings.name)
        settings.name = "zflow";
    int rc = 0;
    if (!*settings.name || strlen (settings.name) > ZFLOW_HPFEEDS_MAX_STR ||
        (settings.slow_policy != ZFLOW_HPFEEDS_SLOW_DROP &&
         settings.slow_policy != ZFLOW_HPFEEDS_SLOW_DISCONNECT &&
         settings.slow_policy != ZFLOW_HPFEEDS_SLOW_BLOCK) ||
        settings.auth_timeout_ms < 0 || settings.max_connections < 0)
        rc = ZFLOW_EINVAL;
    zflow_hpfeeds_broker_t *self = rc ? NULL : (zflow_hpfeeds_broker_t *) zmalloc (sizeof (*self));
    if (self) {
        //  the actor copies what it needs before it signals ready
        self->actor = zflow_actor_start (zflow__hpfeeds_broker_actor, &settings);
        if (!self->actor) {
            free (self);
            self = NULL;
        }
    }
    if (!self && !rc)
        rc = ZFLOW_ENOMEM;
    if (err_p && rc)
        *err_p = rc;
    return self;
}

void zflow_hpfeeds_broker_destroy (zflow_hpfeeds_broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zactor_destroy (&(*self_p)->actor);
    free (*self_p);
    *self_p = NULL;
}

static int s_wait_int (zflow_hpfeeds_broker_t *self)
{
    int rc = ZFLOW_ECLOSED;
    if (zsock_recv (self->actor, "i", &rc))
        return ZFLOW_ECLOSED;
    return rc;
}

int zflow_hpfeeds_broker_add_user (zflow_hpfeeds_broker_t *self, const char *ident,
                                   const char *secret, const char **pubchans, const char **subchans)
{
    if (!self || !ident || !secret)
        return ZFLOW_EINVAL;
    zmsg_t *request = zmsg_new ();
    zmsg_addstr (request, "ADD USER");
    zmsg_addstr (request, ident);
    zmsg_addstr (request, secret);
    size_t npub = 0;
    while (pubchans && pubchans[npub])
        npub++;
    zmsg_addstrf (request, "%zu", npub);
    for (size_t index = 0; index < npub; index++)
        zmsg_addstr (request, pubchans[index]);
    for (size_t index = 0; subchans && subchans[index]; index++)
        zmsg_addstr (request, subchans[index]);
    if (zmsg_send (&request, self->actor))
        return ZFLOW_ECLOSED;
    return s_wait_int (self);
}

static int s_load (zflow_hpfeeds_broker_t *self, const char *command, const char *path,
                   char *errbuf, size_t errlen)
{
    if (!self || !path)
        return ZFLOW_EINVAL;
    if (zsock_send (self->actor, "ss", command, path))
        return ZFLOW_ECLOSED;
    int rc = ZFLOW_ECLOSED;
    char *text = NULL;
    if (zsock_recv (self->actor, "is", &rc, &text))
        return ZFLOW_ECLOSED;
    if (errbuf && errlen)
        snprintf (errbuf, errlen, "%s", text ? text : "");
    zstr_free (&text);
    return rc;
}

int zflow_hpfeeds_broker_load_json (zflow_hpfeeds_broker_t *self, const char *path, char *errbuf,
                                    size_t errlen)
{
    return s_load (self, "LOAD JSON", path, errbuf, errlen);
}

int zflow_hpfeeds_broker_load_zpl (zflow_hpfeeds_broker_t *self, const char *path, char *errbuf,
                                   size_t errlen)
{
    return s_load (self, "LOAD ZPL", path, errbuf, errlen);
}

int zflow_hpfeeds_broker_bind (zflow_hpfeeds_broker_t *self, const char *host, int port)
{
    if (!self || port < 0 || port > 65535)
        return ZFLOW_EINVAL;
    char service[16];
    snprintf (service, sizeof (service), "%d", port);
    if (zsock_send (self->actor, "sss", "BIND", host ? host : "127.0.0.1", service))
        return ZFLOW_ECLOSED;
    int rc = s_wait_int (self);
    if (rc > 0)
        self->port = rc;
    return rc;
}

int zflow_hpfeeds_broker_port (zflow_hpfeeds_broker_t *self)
{
    return self ? self->port : 0;
}

int zflow_hpfeeds_broker_drain (zflow_hpfeeds_broker_t *self, int timeout_ms)
{
    if (!self || timeout_ms < 0)
        return ZFLOW_EINVAL;
    char timeout[16];
    snprintf (timeout, sizeof (timeout), "%d", timeout_ms);
    if (zstr_sendx (self->actor, "DRAIN", timeout, NULL))
        return ZFLOW_ECLOSED;
    int rc = s_wait_int (self);
    if (rc >= 0)
        self->port = 0;
    return rc;
}

zhash_t *zflow_hpfeeds_broker_stats (zflow_hpfeeds_broker_t *self, int timeout_ms)
{
    return self ? zflow_actor_stats (self->actor, timeout_ms) : NULL;
}

void zflow_hpfeeds_broker_set_verbose (zflow_hpfeeds_broker_t *self, bool verbose)
{
    if (self)
        zflow_actor_set_verbose (self->actor, verbose);
}

const char *zflow_hpfeeds_broker_endpoint (zflow_hpfeeds_broker_t *self)
{
    (void) self;
    return NULL;
}

zactor_t *zflow_hpfeeds_broker_actor (zflow_hpfeeds_broker_t *self)
{
    return self ? self->actor : NULL;
}
