/*  =========================================================================
    zflow_cli_settings - the "zflow" section of a configuration file

    Not an adapter (it adds no stage), but described the same way, so that
    the loader parses it and `zflow help zflow` prints it with the shared
    option parser.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_cli.h"

static const zflow_adapter_option_t s_global_options[] = {
    {"mode", ZFLOW_ADAPTER_ENUM, false, "lossless", "lossless|lossy",
     "lossless: backpressure to the sources; lossy: drop and count at full links",
     offsetof (zflow_cli_global_t, mode), 0},
    {"hwm", ZFLOW_ADAPTER_INT, false, "1000", NULL, "watermark of every link, in messages",
     offsetof (zflow_cli_global_t, hwm), 0},
    {"control", ZFLOW_ADAPTER_STRING, false, NULL, NULL,
     "control endpoint for zflow stats (default ipc:///tmp/zflow-<pid>.ctl)",
     offsetof (zflow_cli_global_t, control), 0},
    {"metrics", ZFLOW_ADAPTER_STRING, false, NULL, NULL,
     "serve Prometheus /metrics and /health on host:port", offsetof (zflow_cli_global_t, metrics),
     0},
    {NULL}};

const zflow_adapter_t zflow_cli_global = {
    .name = "zflow",
    .summary = "the optional section named zflow: settings of the whole run",
    .config_size = sizeof (zflow_cli_global_t),
    .options = s_global_options};
