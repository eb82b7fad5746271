/*  =========================================================================
    zflow_cli_embedded - the pipeline `zflow run` runs without a file

    The shape of the hpfeeds seed's aiostream example, with nothing
    external needed:

        feed (synthetic honeypot events)
          -> hashes (keep events whose "hashes" is non-empty)
          -> reencode (JSON -> msgpack, content type set)
          -> channel (PUB on tcp://127.0.0.1:<free port>: the other channel)
          -> stdout (JSON lines)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_cli_embedded.h"

struct _zflow_cli_embedded_t {
    zflow_pipeline_t *pipeline;   //  the bridge
};

zflow_cli_embedded_t *
zflow_cli_embedded_new (uint64_t rate, uint64_t count, bool quiet)
{
    zflow_cli_embedded_t *self = (zflow_cli_embedded_t *) zmalloc (sizeof (*self));
    zflow_pipeline_t *p = self ? zflow_pipeline_new ("embedded") : NULL;
    if (!p) {
        free (self);
        return NULL;
    }
    self->pipeline = p;
    zflow_pipeline_source_synthetic (p, "feed", rate, count);
    zflow_pipeline_filter_nonempty (p, "hashes", "hashes");
    zflow_pipeline_encode (p, "reencode", ZFLOW_PIPELINE_MSGPACK);
    zflow_pipeline_sink (p, "channel", "pub", "tcp://127.0.0.1:*", NULL);
    zflow_pipeline_sink_file (p, "stdout", "-");
    if (zflow_pipeline_error (p)) {
        fprintf (stderr, "zflow: embedded default: %s\n", zflow_pipeline_error_text (p));
        zflow_cli_embedded_destroy (&self);
        return NULL;
    }
    if (!quiet)
        fprintf (stderr, "zflow: embedded default: synthetic feed (%s) -> keep events with "
                         "hashes -> msgpack -> channel (PUB) and stdout (JSON lines)\n",
                 rate ? "rate limited" : "as fast as possible");
    return self;
}

zflow_pipeline_t *
zflow_cli_embedded_pipeline (zflow_cli_embedded_t *self)
{
    return self->pipeline;
}

void
zflow_cli_embedded_destroy (zflow_cli_embedded_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_pipeline_destroy (&(*self_p)->pipeline);
    free (*self_p);
    *self_p = NULL;
}
