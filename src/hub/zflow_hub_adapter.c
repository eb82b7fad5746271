/*  =========================================================================
    zflow_hub_adapter - a hub as a pipeline source and sink, by key

        [from_hub]
        type = hub
        hub = events              (a hub of this process, by name, or the
                                   tcp:// endpoint a hub bound)
        key = alerts/high         (a source: the key pattern it reads; a
                                   component may be the wildcard *)

        [to_hub]
        type = hub
        input = filter
        hub = tcp://127.0.0.1:5560
        key = alerts              (a sink: the key prefix it publishes under)

    The stages are zflow_pipeline_source_hub and zflow_pipeline_sink_hub
    (src/hub/zflow_hub_stage.c); this file only describes their options.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_adapter_list.h"

typedef struct {
    const char *hub; //  hub name in this process, or its bound endpoint
    const char *key; //  source: key pattern; sink: key prefix
} s_hub_t;

static const zflow_adapter_option_t s_options[] = {
    {"hub", ZFLOW_ADAPTER_STRING, true, NULL, NULL,
     "a hub of this process by name, or the endpoint it bound (its sub endpoint for a source, "
     "its pub endpoint for a sink)",
     offsetof (s_hub_t, hub), 0},
    {"key", ZFLOW_ADAPTER_STRING, true, NULL, NULL,
     "key pattern read, with * wildcards (hpfeeds/*)", offsetof (s_hub_t, key),
     ZFLOW_ADAPTER_SOURCE},
    {"key", ZFLOW_ADAPTER_STRING, false, NULL, NULL,
     "key prefix put before each envelope's key (default: none)", offsetof (s_hub_t, key),
     ZFLOW_ADAPTER_SINK},
    {NULL}};

//  Copies the pipeline's error text after a failed builder call.
static int s_result (zflow_pipeline_t *pipeline, int rc, char *err, size_t errsize)
{
    if (rc)
        snprintf (err, errsize, "%s", zflow_pipeline_error_text (pipeline));
    return rc;
}

static int s_source (zflow_pipeline_t *pipeline, const char *name, const void *config, char *err,
                     size_t errsize)
{
    const s_hub_t *self = (const s_hub_t *) config;
    return s_result (pipeline, zflow_pipeline_source_hub (pipeline, name, self->hub, self->key),
                     err, errsize);
}

static int s_sink (zflow_pipeline_t *pipeline, const char *name, const void *config, char *err,
                   size_t errsize)
{
    const s_hub_t *self = (const s_hub_t *) config;
    return s_result (pipeline, zflow_pipeline_sink_hub (pipeline, name, self->hub, self->key), err,
                     errsize);
}

const zflow_adapter_t zflow__adapter_hub = {
    .name = "hub",
    .aliases = "hub_sub=source|hub_pub=sink",
    .summary = "reads a hub's keys by pattern, or publishes into a hub under a key prefix",
    .config_size = sizeof (s_hub_t),
    .options = s_options,
    .source = s_source,
    .sink = s_sink,
    .stats = {.all = "hub.*"}};
