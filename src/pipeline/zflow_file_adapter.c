/*  =========================================================================
    zflow_file_adapter - the file sink: JSON lines to a file or stdout

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_adapter_list.h"

typedef struct {
    const char *path; //  file, or "-" for stdout
} s_file_t;

static const zflow_adapter_option_t s_options[] = {{"path", ZFLOW_ADAPTER_STRING, false, "-", NULL,
                                                    "file to append JSON lines to (- is stdout)",
                                                    offsetof (s_file_t, path), 0},
                                                   {NULL}};

static int s_add (zflow_pipeline_t *pipeline, const char *name, const void *config, char *err,
                  size_t errsize)
{
    const s_file_t *self = (const s_file_t *) config;
    int rc = zflow_pipeline_sink_file (pipeline, name, self->path);
    if (rc)
        snprintf (err, errsize, "%s", zflow_pipeline_error_text (pipeline));
    return rc;
}

const zflow_adapter_t zflow__adapter_file = {
    .name = "file",
    .summary = "writes payloads as JSON lines to a file or stdout",
    .config_size = sizeof (s_file_t),
    .options = s_options,
    .sink = s_add};
