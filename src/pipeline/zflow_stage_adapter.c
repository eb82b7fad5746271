/*  =========================================================================
    zflow_stage_adapter - the built-in stages: merge, filter, nonempty,
    rekey, encode

    Five small descriptors over the pipeline's built-in map and filter
    stages (zflow_pipeline_builtin.c); they share this file because each
    is a few lines.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_adapter_list.h"

//  Copies the pipeline's error text after a failed builder call.
static int s_result (zflow_pipeline_t *pipeline, int rc, char *err, size_t errsize)
{
    if (rc)
        snprintf (err, errsize, "%s", zflow_pipeline_error_text (pipeline));
    return rc;
}

static const zflow_adapter_option_t s_no_options[] = {{NULL}};

static int s_add_merge (zflow_pipeline_t *pipeline, const char *name, const void *config, char *err,
                        size_t errsize)
{
    (void) config;
    return s_result (pipeline, zflow_pipeline_merge (pipeline, name), err, errsize);
}

const zflow_adapter_t zflow__adapter_merge = {.name = "merge",
                                              .summary = "merges its inputs into one stream",
                                              .options = s_no_options,
                                              .stage = s_add_merge};

//  filter
typedef struct {
    const char *match; //  JSON list of objects
} s_filter_t;

static const zflow_adapter_option_t s_filter_options[] = {
    {"match", ZFLOW_ADAPTER_STRING, true, NULL, NULL,
     "JSON list of objects; keeps a message when all pairs of one object equal its fields",
     offsetof (s_filter_t, match), 0},
    {NULL}};

static int s_add_filter (zflow_pipeline_t *pipeline, const char *name, const void *config,
                         char *err, size_t errsize)
{
    const s_filter_t *self = (const s_filter_t *) config;
    return s_result (pipeline, zflow_pipeline_filter_json (pipeline, name, self->match), err,
                     errsize);
}

const zflow_adapter_t zflow__adapter_filter = {
    .name = "filter",
    .summary = "keeps messages whose JSON fields match (as the WebSocket filters)",
    .config_size = sizeof (s_filter_t),
    .options = s_filter_options,
    .stage = s_add_filter};

//  nonempty
typedef struct {
    const char *field; //  top-level field that must be non-empty
} s_nonempty_t;

static const zflow_adapter_option_t s_nonempty_options[] = {
    {"field", ZFLOW_ADAPTER_STRING, true, NULL, NULL,
     "top-level JSON field that must be present and non-empty", offsetof (s_nonempty_t, field), 0},
    {NULL}};

static int s_add_nonempty (zflow_pipeline_t *pipeline, const char *name, const void *config,
                           char *err, size_t errsize)
{
    const s_nonempty_t *self = (const s_nonempty_t *) config;
    return s_result (pipeline, zflow_pipeline_filter_nonempty (pipeline, name, self->field), err,
                     errsize);
}

const zflow_adapter_t zflow__adapter_nonempty = {
    .name = "nonempty",
    .summary = "keeps messages whose JSON field is present and non-empty",
    .config_size = sizeof (s_nonempty_t),
    .options = s_nonempty_options,
    .stage = s_add_nonempty};

//  rekey
typedef struct {
    const char *from; //  key prefix to replace
    const char *to;   //  replacement
} s_rekey_t;

static const zflow_adapter_option_t s_rekey_options[] = {
    {"from", ZFLOW_ADAPTER_STRING, false, "", NULL, "key prefix to replace, a/b (empty: every key)",
     offsetof (s_rekey_t, from), 0},
    {"to", ZFLOW_ADAPTER_STRING, true, NULL, NULL, "replacement prefix, a/b (empty: remove)",
     offsetof (s_rekey_t, to), 0},
    {NULL}};

static int s_add_rekey (zflow_pipeline_t *pipeline, const char *name, const void *config, char *err,
                        size_t errsize)
{
    const s_rekey_t *self = (const s_rekey_t *) config;
    return s_result (pipeline, zflow_pipeline_rekey (pipeline, name, self->from, self->to), err,
                     errsize);
}

const zflow_adapter_t zflow__adapter_rekey = {.name = "rekey",
                                              .summary = "rewrites a key prefix",
                                              .config_size = sizeof (s_rekey_t),
                                              .options = s_rekey_options,
                                              .stage = s_add_rekey};

//  encode
typedef struct {
    int encoding; //  0 json, 1 msgpack
} s_encode_t;

static const zflow_adapter_option_t s_encode_options[] = {
    {"encoding", ZFLOW_ADAPTER_ENUM, false, "json", "json|msgpack", "payload encoding to produce",
     offsetof (s_encode_t, encoding), 0},
    {NULL}};

static int s_add_encode (zflow_pipeline_t *pipeline, const char *name, const void *config,
                         char *err, size_t errsize)
{
    const s_encode_t *self = (const s_encode_t *) config;
    int rc = zflow_pipeline_encode (pipeline, name, (zflow_pipeline_encoding_t) self->encoding);
    return s_result (pipeline, rc, err, errsize);
}

const zflow_adapter_t zflow__adapter_encode = {.name = "encode",
                                               .summary = "re-encodes JSON or msgpack payloads",
                                               .config_size = sizeof (s_encode_t),
                                               .options = s_encode_options,
                                               .stage = s_add_encode};
