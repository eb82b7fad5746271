/*  =========================================================================
    zflow_cli_embedded - what `zflow run` runs without a file

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_CLI_EMBEDDED_H_INCLUDED
#define ZFLOW_CLI_EMBEDDED_H_INCLUDED

#include "zflow_cli.h"

typedef struct _zflow_cli_embedded_t zflow_cli_embedded_t;

//  Starts the embedded hpfeeds broker and builds the feed and the bridge
//  (not started): a synthetic feed of rate events per second (0: as fast
//  as the links take them), count events in all (0: no end). Says what it
//  runs on stderr unless quiet. Returns NULL when it cannot (reported).
//  The caller destroys it.
zflow_cli_embedded_t *zflow_cli_embedded_new (uint64_t rate, uint64_t count, bool quiet);

//  Returns the bridge pipeline (owned by it): the one zflow run starts,
//  shows and stops.
zflow_pipeline_t *zflow_cli_embedded_pipeline (zflow_cli_embedded_t *self);

//  After the bridge started: waits until it is subscribed, then starts the
//  feed. Returns 0, or -1 (reported) when the bridge cannot connect.
int zflow_cli_embedded_started (zflow_cli_embedded_t *self);

//  True when the feed has sent its count and the bridge has received it
//  all (or given up waiting for stragglers for 3 s).
bool zflow_cli_embedded_done (zflow_cli_embedded_t *self);

//  Before the bridge stops: stops the feed, draining it.
void zflow_cli_embedded_stopping (zflow_cli_embedded_t *self, int timeout_ms);

//  Stops and destroys everything it runs; sets *self_p to NULL.
void zflow_cli_embedded_destroy (zflow_cli_embedded_t **self_p);

#endif
