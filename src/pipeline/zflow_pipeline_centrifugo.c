/*  =========================================================================
    zflow_pipeline_centrifugo - Centrifugo sinks for pipelines

    The stage is a PUSH bound on an inproc endpoint; a
    zflow_centrifugo_sink_t created when the pipeline starts reads it
    (PULL) and publishes each envelope into the channel its key maps to.
    Lossless pipelines let a full outbox push back; lossy ones drop there
    (counted by the sink). At stop the stage waits until the sink has dealt
    with (published, rejected or dropped) everything it was passed.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_actor.h"
#include "zflow_centrifugo_sink.h"
#include "zflow_error.h"
#include "zflow_pipeline_stage.h"
#include <string.h>

//  One stage's Centrifugo sink.
typedef struct {
    zflow_centrifugo_sink_config_t config; //  settings (strings below are ours)
    char *address;                         //  copies behind config's strings
    char *api_key;
    char *channel_rule;
    char *endpoint;                //  the inproc endpoint it reads
    zflow_centrifugo_sink_t *sink; //  the running sink, or NULL
} s_cf_t;

static void s_stop (void *arg)
{
    zflow_centrifugo_sink_destroy (&((s_cf_t *) arg)->sink);
}

static void s_free (void *arg)
{
    s_cf_t *self = (s_cf_t *) arg;
    s_stop (self);
    free (self->address);
    free (self->api_key);
    free (self->channel_rule);
    free (self->endpoint);
    free (self);
}

static int s_start (void *arg, zflow__stage_t *stage)
{
    s_cf_t *self = (s_cf_t *) arg;
    zflow_centrifugo_sink_config_t config = self->config;
    config.input_type = ZMQ_PULL;
    config.input_connect = self->endpoint;
    config.input_bind = NULL;
    config.lossy = stage->mode == ZFLOW_PIPELINE_LOSSY;
    int rc = 0;
    self->sink = zflow_centrifugo_sink_new (&config, &rc);
    if (!self->sink)
        zsys_error ("%s: Centrifugo sink %s: %s", stage->name, self->address, zflow_strerror (rc));
    return self->sink ? 0 : (rc ? rc : ZFLOW_ECONFIG);
}

//  Messages the sink has finished with, one way or another.
static uint64_t s_done (s_cf_t *self)
{
    zhash_t *stats = zflow_centrifugo_sink_stats (self->sink, 1000);
    //  unmapped and malformed messages are already counted in drops
    uint64_t done =
        zflow_actor_stats_get (stats, "published") + zflow_actor_stats_get (stats, "drops");
    zhash_destroy (&stats);
    return done;
}

static int s_drain (void *arg, zflow__stage_t *stage, int64_t deadline)
{
    s_cf_t *self = (s_cf_t *) arg;
    zhash_t *stats = zflow_actor_stats (stage->actor, 1000);
    uint64_t passed = zflow_actor_stats_get (stats, "msgs_out");
    zhash_destroy (&stats);
    while (s_done (self) < passed) {
        if (zclock_mono () >= deadline)
            return ZFLOW_ETIMEDOUT;
        zclock_sleep (5);
    }
    return 0;
}

static void s_stats (void *arg, zhash_t *stats)
{
    s_cf_t *self = (s_cf_t *) arg;
    zhash_t *sink = self->sink ? zflow_centrifugo_sink_stats (self->sink, 1000) : NULL;
    for (const char *value = sink ? (const char *) zhash_first (sink) : NULL; value;
         value = (const char *) zhash_next (sink)) {
        char name[300];
        snprintf (name, sizeof (name), "centrifugo.%s", zhash_cursor (sink));
        zhash_update (stats, name, (void *) value);
    }
    zhash_destroy (&sink);
}

static const zflow__resource_ops_t s_ops = {s_start, s_drain, s_stop, s_stats, s_free};

int zflow_pipeline_sink_centrifugo (zflow_pipeline_t *self, const char *name,
                                    const zflow_centrifugo_sink_config_t *config)
{
    if (!config || !config->address)
        return zflow__pipeline_fail (self, ZFLOW_EINVAL, "stage '%s': no Centrifugo address",
                                     name ? name : "");
    s_cf_t *state = (s_cf_t *) zmalloc (sizeof (s_cf_t));
    if (!state)
        return zflow__pipeline_fail (self, ZFLOW_ENOMEM, "out of memory");
    state->config = *config;
    state->address = strdup (config->address);
    state->api_key = config->api_key ? strdup (config->api_key) : NULL;
    state->channel_rule = config->channel_rule ? strdup (config->channel_rule) : NULL;
    state->config.address = state->address;
    state->config.api_key = state->api_key;
    state->config.channel_rule = state->channel_rule;
    state->config.subscribe = NULL;
    state->endpoint = zsys_sprintf ("inproc://zflow-pipeline-centrifugo-%p", (void *) state);
    int rc = zflow_pipeline_sink (self, name, "push", state->endpoint, NULL);
    if (rc) {
        s_free (state);
        return rc;
    }
    return zflow__pipeline_add_resource (self, &s_ops, state);
}
