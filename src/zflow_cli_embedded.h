/*  =========================================================================
    zflow_cli_embedded - the pipeline `zflow run` runs without a file

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

//  Builds the embedded default (not started): a synthetic feed of rate
//  events per second (0: as fast as the links take them), count events in
//  all (0: no end). Says what it runs on stderr unless quiet. Returns NULL
//  when it cannot be built (reported). The caller destroys it.
zflow_cli_embedded_t *zflow_cli_embedded_new (uint64_t rate, uint64_t count, bool quiet);

//  Returns its pipeline (owned by it).
zflow_pipeline_t *zflow_cli_embedded_pipeline (zflow_cli_embedded_t *self);

//  Stops and destroys everything it runs; sets *self_p to NULL.
void zflow_cli_embedded_destroy (zflow_cli_embedded_t **self_p);

#endif
