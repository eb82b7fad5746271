/*  =========================================================================
    zflow_pipeline_hpfeeds - hpfeeds sources and sinks for pipelines

    Each stage owns one zflow_hpfeeds_t client, created when the pipeline
    starts (so building or checking a pipeline connects nowhere) and
    destroyed when it stops. A source is a SUB stage on the client's inproc
    output; a sink is a PUSH stage bound on an inproc endpoint that the
    client reads with publish_from.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_actor.h"
#include "zflow_error.h"
#include "zflow_pipeline_stage.h"
#include <string.h>

//  One stage's client and what it needs to start it.
typedef struct {
    zflow_hpfeeds_config_t config; //  settings (strings below are ours)
    char *host;                    //  copies behind config's strings
    char *ident;
    char *secret;
    char *channels;          //  source: channels; sink: the channel
    char *endpoint;          //  sink: the inproc endpoint it reads
    bool sink;               //  a sink (else a source)
    zflow_hpfeeds_t *client; //  the running client, or NULL
} s_hpfeeds_t;

static void s_free (void *arg)
{
    s_hpfeeds_t *self = (s_hpfeeds_t *) arg;
    zflow_hpfeeds_destroy (&self->client);
    free (self->host);
    free (self->ident);
    free (self->secret);
    free (self->channels);
    free (self->endpoint);
    free (self);
}

static int s_start (void *arg, zflow__stage_t *stage)
{
    s_hpfeeds_t *self = (s_hpfeeds_t *) arg;
    zflow_hpfeeds_config_t config = self->config;
    bool lossless = stage->mode == ZFLOW_PIPELINE_LOSSLESS;
    config.lossless = lossless;
    config.reader = false;
    if (self->sink)
        config.outbox_policy = lossless ? ZFLOW_HPFEEDS_BLOCK : ZFLOW_HPFEEDS_DROP_OLDEST;
    int rc = 0;
    self->client = zflow_hpfeeds_new (&config, &rc);
    if (!self->client) {
        zsys_error ("%s: hpfeeds client refused its settings: %s", stage->name,
                    zflow_strerror (rc));
        return rc ? rc : ZFLOW_ECONFIG;
    }
    if (self->sink)
        rc = zflow_hpfeeds_publish_from (self->client, ZMQ_PULL, self->endpoint, NULL,
                                         self->channels);
    else {
        char *copy = strdup (self->channels), *save = NULL;
        for (char *channel = strtok_r (copy, ", ", &save); channel && rc == 0;
             channel = strtok_r (NULL, ", ", &save))
            rc = zflow_hpfeeds_subscribe (self->client, channel);
        free (copy);
        free (stage->connect);
        stage->connect = strdup (zflow_hpfeeds_endpoint (self->client));
    }
    if (rc) {
        zsys_error ("%s: hpfeeds: %s", stage->name, zflow_strerror (rc));
        zflow_hpfeeds_destroy (&self->client);
    }
    return rc;
}

//  Sink: waits until the client has written what the stage passed it.
static int s_drain (void *arg, zflow__stage_t *stage, int64_t deadline)
{
    s_hpfeeds_t *self = (s_hpfeeds_t *) arg;
    if (!self->sink || !self->client)
        return 0;
    zhash_t *stats = zflow_actor_stats (stage->actor, 1000);
    uint64_t passed = zflow_actor_stats_get (stats, "msgs_out");
    zhash_destroy (&stats);
    while (true) {
        stats = zflow_hpfeeds_stats (self->client, 5000);
        uint64_t sent =
            zflow_actor_stats_get (stats, "sent") + zflow_actor_stats_get (stats, "outbox_drops");
        zhash_destroy (&stats);
        if (sent >= passed)
            return 0;
        if (zclock_mono () >= deadline)
            return ZFLOW_ETIMEDOUT;
        zclock_sleep (5);
    }
}

static void s_stop (void *arg)
{
    zflow_hpfeeds_destroy (&((s_hpfeeds_t *) arg)->client);
}

static void s_stats (void *arg, zhash_t *stats)
{
    s_hpfeeds_t *self = (s_hpfeeds_t *) arg;
    zhash_t *client = self->client ? zflow_hpfeeds_stats (self->client, 5000) : NULL;
    for (const char *value = client ? (const char *) zhash_first (client) : NULL; value;
         value = (const char *) zhash_next (client)) {
        char name[300];
        snprintf (name, sizeof (name), "hpfeeds.%s", zhash_cursor (client));
        zhash_update (stats, name, (void *) value);
    }
    const char *disconnects = client ? (const char *) zhash_lookup (client, "disconnects") : NULL;
    if (disconnects)
        zhash_update (stats, "reconnects", (void *) disconnects);
    zhash_destroy (&client);
}

static const zflow__resource_ops_t s_ops = {s_start, s_drain, s_stop, s_stats, s_free};

//  Copies config and the channel(s) into a new state, or returns NULL.
static s_hpfeeds_t *s_new (const zflow_hpfeeds_config_t *config, const char *channels, bool sink)
{
    s_hpfeeds_t *self = (s_hpfeeds_t *) zmalloc (sizeof (s_hpfeeds_t));
    if (!self)
        return NULL;
    self->config = *config;
    self->host = strdup (config->host ? config->host : "127.0.0.1");
    self->ident = config->ident ? strdup (config->ident) : NULL;
    self->secret = config->secret ? strdup (config->secret) : NULL;
    self->channels = strdup (channels);
    self->sink = sink;
    self->config.host = self->host;
    self->config.ident = self->ident;
    self->config.secret = self->secret;
    return self;
}

static int s_add (zflow_pipeline_t *pipeline, const char *name,
                  const zflow_hpfeeds_config_t *config, const char *channels, bool sink)
{
    if (!config || !channels || !*channels)
        return zflow__pipeline_fail (pipeline, ZFLOW_EINVAL, "stage '%s': no hpfeeds channel",
                                     name ? name : "");
    s_hpfeeds_t *self = s_new (config, channels, sink);
    if (self && sink)
        self->endpoint = zsys_sprintf ("inproc://zflow-hpfeeds-%p-%s", (void *) self, name);
    if (!self || (sink && !self->endpoint)) {
        if (self)
            s_free (self);
        return zflow__pipeline_fail (pipeline, ZFLOW_ENOMEM, "out of memory");
    }
    //  the source's real endpoint is the client's, known at start
    int rc = sink ? zflow_pipeline_sink (pipeline, name, "push", self->endpoint, NULL)
                  : zflow_pipeline_source (pipeline, name, "sub", NULL, "inproc://unset");
    if (rc) {
        s_free (self);
        return rc;
    }
    return zflow__pipeline_add_resource (pipeline, &s_ops, self);
}

int zflow_pipeline_source_hpfeeds (zflow_pipeline_t *self, const char *name,
                                   const zflow_hpfeeds_config_t *config, const char *channels)
{
    return s_add (self, name, config, channels, false);
}

int zflow_pipeline_sink_hpfeeds (zflow_pipeline_t *self, const char *name,
                                 const zflow_hpfeeds_config_t *config, const char *channel)
{
    return s_add (self, name, config, channel, true);
}
