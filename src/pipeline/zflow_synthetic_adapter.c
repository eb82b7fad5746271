/*  =========================================================================
    zflow_synthetic_adapter - the synthetic source: honeypot-style events

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_adapter_list.h"

typedef struct {
    int64_t rate;  //  events per second
    int64_t count; //  events in all (0: no end)
} s_synthetic_t;

static const zflow_adapter_option_t s_options[] = {
    {"rate", ZFLOW_ADAPTER_INT, false, "100", NULL, "events per second (0: as fast as links take)",
     offsetof (s_synthetic_t, rate), 0},
    {"count", ZFLOW_ADAPTER_INT, false, "0", NULL, "events to send, then stop (0: no end)",
     offsetof (s_synthetic_t, count), 0},
    {NULL}};

static int s_add (zflow_pipeline_t *pipeline, const char *name, const void *config, char *err,
                  size_t errsize)
{
    const s_synthetic_t *self = (const s_synthetic_t *) config;
    int rc = zflow_pipeline_source_synthetic (pipeline, name, (uint64_t) self->rate,
                                              (uint64_t) self->count);
    if (rc)
        snprintf (err, errsize, "%s", zflow_pipeline_error_text (pipeline));
    return rc;
}

const zflow_adapter_t zflow__adapter_synthetic = {
    .name = "synthetic",
    .summary = "generates honeypot-style JSON events, one in three with hashes",
    .config_size = sizeof (s_synthetic_t),
    .options = s_options,
    .source = s_add};
