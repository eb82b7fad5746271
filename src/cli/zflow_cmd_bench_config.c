/*  =========================================================================
    zflow_cmd_bench_config - `zflow bench --config FILE`: measure a
    pipeline of the user's own

    Runs `zflow run FILE` as a child process with a private control
    endpoint, reads every stage's counters through it (the STATS command of
    `zflow stats`) once the pipeline is up and again DURATION seconds later,
    and reports each stage's rates over that window. Its data output goes to
    /dev/null; its errors show on stderr. There is no baseline: the figure is
    the user's pipeline as it is.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_cmd_bench.h"
#include <czmq.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

//  Starts `self run FILE` with the control endpoint. Returns its pid or -1.
static pid_t s_spawn (const char *self_path, const char *file, const char *endpoint, int seconds)
{
    char duration[32];
    snprintf (duration, sizeof (duration), "%d", seconds + 30);
    pid_t pid = fork ();
    if (pid == 0) {
        int null = open ("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2 (null, STDOUT_FILENO);
        execlp (self_path, self_path, "run", file, "--quiet", "--duration", duration, "--control",
                endpoint, (char *) NULL);
        fprintf (stderr, "zflow bench: cannot run %s\n", self_path);
        _exit (127);
    }
    return pid;
}

//  Asks the control endpoint for STATS. Returns the text (caller frees) or
//  NULL when it does not answer within timeout_ms.
static char *s_ask (const char *endpoint, const char *command, int timeout_ms)
{
    zsock_t *req = zsock_new_req (endpoint);
    if (!req)
        return NULL;
    zsock_set_rcvtimeo (req, timeout_ms);
    zsock_set_sndtimeo (req, timeout_ms);
    char *reply = zstr_send (req, command) == 0 ? zstr_recv (req) : NULL;
    zsock_destroy (&req);
    return reply;
}

//  Parses "stage kind counter value" lines into {stage: {kind, counter: n}}.
static json_t *s_parse_stats (const char *text)
{
    json_t *stages = json_object ();
    char *copy = strdup (text), *saveptr = NULL;
    for (char *line = strtok_r (copy, "\n", &saveptr); line;
         line = strtok_r (NULL, "\n", &saveptr)) {
        char stage[128], kind[64], counter[64];
        unsigned long long value;
        if (sscanf (line, "%127s %63s %63s %llu", stage, kind, counter, &value) != 4)
            continue;
        json_t *entry = json_object_get (stages, stage);
        if (!entry) {
            entry = json_pack ("{s:s}", "kind", kind);
            json_object_set_new (stages, stage, entry);
        }
        json_object_set_new (entry, counter, json_integer ((json_int_t) value));
    }
    free (copy);
    return stages;
}

//  One stage's rates between two samples, seconds apart.
static json_t *s_stage_rates (const char *name, json_t *before, json_t *after, double seconds)
{
    const char *counters[] = {"msgs_in", "msgs_out", "bytes_in", "bytes_out", "drops"};
    json_t *row =
        json_pack ("{s:s,s:s,s:f}", "stage", name, "kind",
                   json_string_value (json_object_get (after, "kind")), "seconds", seconds);
    for (int c = 0; c < 5; c++) {
        double delta = (double) (json_integer_value (json_object_get (after, counters[c])) -
                                 json_integer_value (json_object_get (before, counters[c])));
        char key[32];
        snprintf (key, sizeof (key), "%s_per_s", counters[c]);
        json_object_set_new (row, key, json_real (delta / seconds));
    }
    return row;
}

int zflow__bench_config (const char *self_path, const char *file, int seconds, json_t *report)
{
    char *endpoint = zsys_sprintf ("ipc:///tmp/zflow-bench-%d.ctl", (int) getpid ());
    pid_t pid = s_spawn (self_path, file, endpoint, seconds);
    char *first = NULL;
    int status = 0;
    //  wait for the pipeline to come up, or for the child to give up
    for (int i = 0; pid > 0 && i < 100 && !first; i++) {
        if (waitpid (pid, &status, WNOHANG) == pid) {
            pid = -1;
            break;
        }
        first = s_ask (endpoint, "STATS", 200);
    }
    if (!first) {
        fprintf (stderr, "zflow bench: %s did not start (see the errors above)\n", file);
        if (pid > 0) {
            kill (pid, SIGKILL);
            waitpid (pid, &status, 0);
        }
        zstr_free (&endpoint);
        return 1;
    }
    int64_t start = zclock_mono ();
    bool tty = isatty (STDERR_FILENO);
    fprintf (stderr, "zflow bench: measuring %s for %d s%s", file, seconds, tty ? "" : "\n");
    for (int tick = 0; tick < seconds * 10; tick++) {
        zclock_sleep (100);
        if (tty)
            fprintf (stderr, "\rzflow bench: measuring %s %5.1f / %d s", file, (tick + 1) / 10.0,
                     seconds);
    }
    if (tty)
        fprintf (stderr, "\n");
    char *second = s_ask (endpoint, "STATS", 2000);
    double elapsed = (zclock_mono () - start) / 1000.0;
    kill (pid, SIGTERM);
    waitpid (pid, &status, 0);
    int rc = second ? 0 : 1;
    if (second) {
        json_t *before = s_parse_stats (first), *after = s_parse_stats (second);
        json_t *rows = json_array ();
        const char *name;
        json_t *stage;
        json_object_foreach (after, name, stage) json_array_append_new (
            rows, s_stage_rates (name, json_object_get (before, name), stage, elapsed));
        json_object_set_new (report, "config",
                             json_pack ("{s:s,s:o}", "file", file, "stages", rows));
        json_decref (before);
        json_decref (after);
    } else
        fprintf (stderr, "zflow bench: %s stopped answering during the run\n", file);
    zstr_free (&first);
    zstr_free (&second);
    zstr_free (&endpoint);
    return rc;
}
