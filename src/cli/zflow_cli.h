/*  =========================================================================
    zflow_cli - the zflow command: shared types and entry points

    Internal to the zflow program. Stage types are the library's adapters
    (zflow_adapter.h): the loader, zflow help and zflow pub / sub find
    them in its registry and have no per-adapter code.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_CLI_H_INCLUDED
#define ZFLOW_CLI_H_INCLUDED

#include "zflow.h"
#include <stddef.h>
#include <stdint.h>

//  Exit codes of the zflow command (documented in docs/cli.md and --help).
#define ZFLOW_EXIT_OK 0      //  success; run stopped by a signal, --duration or its sources
#define ZFLOW_EXIT_RUNTIME 1 //  a stage failed to start, drain timed out, no control endpoint
#define ZFLOW_EXIT_USAGE 2   //  bad command line
#define ZFLOW_EXIT_CONFIG 3  //  the configuration file is invalid (nothing was started)

//  Options of the "zflow" section of a file (mode, hwm, ...).
extern const zflow_adapter_t zflow_cli_global;

//  Global settings of a run, from the "zflow" section.
typedef struct {
    int mode;            //  0 lossless, 1 lossy
    int64_t hwm;         //  link watermark in messages
    const char *control; //  control endpoint, or NULL for the default
    const char *metrics; //  metrics address, or NULL
} zflow_cli_global_t;

//  Loads and checks FILE, then builds its pipeline (not started) into
//  *pipeline_p and fills *global. On any error writes every message found
//  to stderr ("FILE:LINE: ...") and returns -1 with nothing built.
int zflow_cli_load (const char *file, zflow_pipeline_t **pipeline_p, zflow_cli_global_t *global,
                    zconfig_t **config_p);

//  Subcommands: each takes argc/argv after the subcommand name and
//  returns an exit code.
int zflow_cli_run (int argc, char **argv);
int zflow_cli_check (int argc, char **argv);
int zflow_cli_help (int argc, char **argv);
int zflow_cli_stats (int argc, char **argv);
int zflow_cli_pub (int argc, char **argv);
int zflow_cli_sub (int argc, char **argv);
int zflow_cli_broker (int argc, char **argv);

//  Makes SIGINT/SIGTERM set a flag (a second one exits at once) and
//  ignores SIGPIPE (writes to a closed stdout fail instead), and reads the
//  flag. (zflow_cli_run.c)
void zflow_cli_catch_signals (void);
bool zflow_cli_signalled (void);

//  True when stdout is a pipe whose reader has gone (zflow sub | head -1):
//  the sub loops then end quietly even when nothing more arrives.
bool zflow_cli_stdout_closed (void);

//  The counters of a running pipeline, polled by a thread of its own and
//  cached (zflow_cli_poll.c), so that the run loop never waits for a
//  stage. While it exists it is the only user of the stages' actors.
typedef struct _zflow_cli_poll_t zflow_cli_poll_t;
struct _zflow_cli_embedded_t;

//  Starts polling every stage of pipeline (running) each interval_ms; a
//  stage whose last reply is older than stale_ms is stale. With embedded
//  (may be NULL) "done" is the embedded default's, else the pipeline's
//  sources'. Returns the poller; the caller destroys it before stopping
//  the pipeline.
zflow_cli_poll_t *zflow_cli_poll_new (zflow_pipeline_t *pipeline,
                                      struct _zflow_cli_embedded_t *embedded, int interval_ms,
                                      int64_t stale_ms);

//  Stops the polling thread (waiting for a request in flight) and frees
//  the cache; sets *self_p to NULL. Idempotent.
void zflow_cli_poll_destroy (zflow_cli_poll_t **self_p);

//  Returns a copy of stage index's last counters (the caller destroys it)
//  and sets *age_p to their age in ms; NULL and -1 when the stage has not
//  answered yet.
zhash_t *zflow_cli_poll_get (zflow_cli_poll_t *self, size_t index, int64_t *age_p);

//  True when counters of that age (-1: none yet) are stale.
bool zflow_cli_poll_stale (zflow_cli_poll_t *self, int64_t age);

//  True once every synthetic source has finished (see zflow run).
bool zflow_cli_poll_done (zflow_cli_poll_t *self);

//  Rounds of polling completed so far.
uint64_t zflow_cli_poll_rounds (zflow_cli_poll_t *self);

//  The pipeline polled (not owned).
zflow_pipeline_t *zflow_cli_poll_pipeline (zflow_cli_poll_t *self);

//  Writes every stage's cached counters into a new text (lines "stage
//  kind counter value", and "stage kind stats_age_ms AGE" for each
//  stage); the caller frees it. Used by the control endpoint.
char *zflow_cli_stats_text (zflow_cli_poll_t *poll);

//  The metrics responder (zflow_cli_metrics.c): an HTTP/1.x server of
//  /metrics and /health in the run's zloop, with bounded requests, an idle
//  timeout, a connection cap and a pause on EMFILE.
typedef struct _zflow_cli_metrics_t zflow_cli_metrics_t;

//  Binds and listens on address ("host:port", "[v6]:port" or
//  "tcp://host:port"; host "*" is any IPv4 address, port 0 or "*" any free
//  port). Returns the responder (the caller destroys it) or NULL when the
//  address is bad or the bind fails (reported on stderr).
zflow_cli_metrics_t *zflow_cli_metrics_new (const char *address);

//  True when address has the form zflow_cli_metrics_new takes (checked
//  without binding, so that a bad --metrics is a usage error).
bool zflow_cli_metrics_address_valid (const char *address);

//  Closes every connection and the listener, removes its pollers and
//  timers from the loop it serves on (which must still exist), frees it
//  and sets *self_p to NULL. NULL-safe, idempotent.
void zflow_cli_metrics_destroy (zflow_cli_metrics_t **self_p);

//  The address bound, "host:port" (owned by self).
const char *zflow_cli_metrics_address (zflow_cli_metrics_t *self);

//  Serves /metrics and /health from poll's cache (not owned; it must
//  outlive serving) on loop (borrowed), once.
void zflow_cli_metrics_serve (zflow_cli_metrics_t *self, zloop_t *loop, zflow_cli_poll_t *poll);

#endif
