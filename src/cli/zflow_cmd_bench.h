/*  =========================================================================
    zflow_cmd_bench - the `zflow bench` command (internal to the CLI)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_CMD_BENCH_H_INCLUDED
#define ZFLOW_CMD_BENCH_H_INCLUDED

#include <jansson.h>

//  Runs `zflow bench` with argv[0] = "bench". self_path is the running
//  program's path (argv[0] of main), used to find the suite programs.
//  Returns the process exit code: 0 all suites ran, 1 a suite failed or
//  was missing, 2 bad usage.
int zflow__cmd_bench (int argc, char *argv[], const char *self_path);

//  Writes the SVG charts for a report (see zflow_cmd_bench.c for its
//  shape) into dir: throughput.svg and latency.svg when there are figures
//  of each kind. Returns 0, or -1 with a message on stderr.
int zflow__bench_plot (json_t *report, const char *dir);

//  Runs `zflow run FILE` for seconds and adds a "config" section to report
//  with each stage's rates. Returns 0, or 1 when the pipeline did not start
//  or stopped answering (said on stderr).
int zflow__bench_config (const char *self_path, const char *file, int seconds, json_t *report);

#endif
