/*  =========================================================================
    zflow_pipeline_chain - which stages share an actor, and whose counters
    are whose in its STATS

    A stage joins the actor of the stage that feeds it when it is a map, a
    filter, a ZeroMQ sink or a sink callback without an adapter's client,
    it reads only that stage, that stage feeds nothing else, and neither
    asked for a thread of its own. Stages are only ever fed by stages added
    before them, so one pass in the order of addition finds every run: a
    stage whose feeder is chained joins the feeder's head.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_error.h"
#include "zflow_pipeline_stage.h"
#include <string.h>

//  Longest stage name (as zflow_pipeline.c checks).
#define S_NAME_MAX 64

bool zflow__stage_chainable (const zflow__stage_t *stage)
{
    return !stage->own_thread && !stage->ops &&
           (stage->kind == ZFLOW__STAGE_MAP || stage->kind == ZFLOW__STAGE_FILTER ||
            stage->kind == ZFLOW__STAGE_SINK || stage->kind == ZFLOW__STAGE_CALL);
}

//  Returns the only stage that feeds stages[index], or NULL (none, or
//  several). Only stages added before it can feed it.
static zflow__stage_t *s_only_feeder (zflow__stage_t **stages, size_t index)
{
    zflow__stage_t *feeder = NULL;
    for (size_t i = 0; i < index; i++) {
        zflow__stage_t *from = stages[i];
        for (const char *name = (const char *) zlistx_first (from->output_names); name;
             name = (const char *) zlistx_next (from->output_names))
            if (streq (name, stages[index]->name)) {
                if (feeder)
                    return NULL;
                feeder = from;
            }
    }
    return feeder;
}

int zflow__pipeline_chain (zflow__stage_t **stages, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        zlistx_destroy (&stages[i]->chain);
        stages[i]->host = NULL;
    }
    for (size_t i = 0; i < size; i++) {
        zflow__stage_t *stage = stages[i];
        zflow__stage_t *feeder = zflow__stage_chainable (stage) ? s_only_feeder (stages, i) : NULL;
        if (!feeder || feeder->own_thread || zlistx_size (feeder->outputs) != 1)
            continue;
        zflow__stage_t *head = feeder->host ? feeder->host : feeder;
        if (!head->chain && !(head->chain = zlistx_new ()))
            return ZFLOW_ENOMEM;
        if (!zlistx_add_end (head->chain, stage))
            return ZFLOW_ENOMEM;
        stage->host = head;
    }
    return 0;
}

zhash_t *zflow__stage_counters (zhash_t *all, zflow__stage_t *stage)
{
    zhash_t *mine = zhash_new ();
    if (mine)
        zhash_autofree (mine); //  copies each value it takes
    char prefix[S_NAME_MAX + 16];
    snprintf (prefix, sizeof (prefix), ZFLOW__CHAIN_STATS "%s/", stage->name);
    size_t size = strlen (prefix);
    for (const char *value = (const char *) zhash_first (all); mine && value;
         value = (const char *) zhash_next (all)) {
        const char *name = zhash_cursor (all);
        if (stage->host && strncmp (name, prefix, size) == 0)
            zhash_insert (mine, name + size, (void *) value);
        else if (!stage->host && strncmp (name, ZFLOW__CHAIN_STATS, strlen (ZFLOW__CHAIN_STATS)))
            zhash_insert (mine, name, (void *) value);
    }
    if (mine && stage->resource_started && stage->ops->stats)
        stage->ops->stats (stage->resource, mine);
    return mine;
}
