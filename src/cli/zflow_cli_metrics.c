/*  =========================================================================
    zflow_cli_metrics - Prometheus text over HTTP, /metrics and /health

    A ZMQ_STREAM socket in the run's zloop: it never blocks the loop. Each
    request is answered from its request line alone and the connection is
    then closed (HTTP/1.1 with "Connection: close"), which is all a
    Prometheus scraper or curl needs.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_cli.h"
#include <string.h>

//  The per-stage counters served, and their Prometheus types and help.
static const struct {
    const char *counter;
    const char *type;
    const char *help;
} s_metrics[] = {
    {"msgs_in", "counter", "Messages taken in by a stage."},
    {"bytes_in", "counter", "Payload bytes taken in by a stage."},
    {"msgs_out", "counter", "Messages passed on (or written) by a stage."},
    {"bytes_out", "counter", "Payload bytes passed on by a stage."},
    {"drops", "counter", "Messages dropped by policy (lossy mode)."},
    {"filtered", "counter", "Messages a filter did not keep."},
    {"errors", "counter", "Messages lost to a map error or a dead output."},
    {"pauses", "counter", "Times a stage stopped reading its input (backpressure)."},
    {"reconnects", "counter", "Times an adapter's connection was lost and made again."},
    {"queue_depth", "gauge", "Messages waiting in a stage's buffers."},
};

//  Writes the metrics of every stage into a new text (the caller frees it).
//  The counters come from the poller's cache: this never waits for a stage.
static char *s_metrics_text (zflow_cli_poll_t *poll)
{
    zflow_pipeline_t *pipeline = zflow_cli_poll_pipeline (poll);
    size_t count = zflow_pipeline_size (pipeline);
    zhash_t **stats = (zhash_t **) zmalloc (sizeof (zhash_t *) * (count + 1));
    int64_t *ages = (int64_t *) zmalloc (sizeof (int64_t) * (count + 1));
    for (size_t i = 0; i < count; i++)
        stats[i] = zflow_cli_poll_get (poll, i, &ages[i]);
    char *text = NULL;
    size_t size = 0;
    FILE *file = open_memstream (&text, &size);
    for (size_t m = 0; file && m < sizeof (s_metrics) / sizeof (s_metrics[0]); m++) {
        const char *suffix = streq (s_metrics[m].type, "counter") ? "_total" : "";
        fprintf (file, "# HELP zflow_%s%s %s\n# TYPE zflow_%s%s %s\n", s_metrics[m].counter, suffix,
                 s_metrics[m].help, s_metrics[m].counter, suffix, s_metrics[m].type);
        for (size_t i = 0; i < count; i++)
            fprintf (file, "zflow_%s%s{stage=\"%s\",kind=\"%s\"} %" PRIu64 "\n",
                     s_metrics[m].counter, suffix, zflow_pipeline_stage_name (pipeline, i),
                     zflow_pipeline_stage_kind (pipeline, i),
                     zflow_actor_stats_get (stats[i], s_metrics[m].counter));
    }
    if (file) {
        fprintf (file, "# HELP zflow_link_drops_total Messages dropped at one output link.\n"
                       "# TYPE zflow_link_drops_total counter\n");
        for (size_t i = 0; i < count; i++)
            for (const char *value = stats[i] ? (const char *) zhash_first (stats[i]) : NULL; value;
                 value = (const char *) zhash_next (stats[i]))
                if (strncmp (zhash_cursor (stats[i]), "drops.", 6) == 0)
                    fprintf (file, "zflow_link_drops_total{stage=\"%s\",link=\"%s\"} %s\n",
                             zflow_pipeline_stage_name (pipeline, i), zhash_cursor (stats[i]) + 6,
                             value);
        fprintf (file,
                 "# HELP zflow_stats_age_seconds Age of the counters served (absent: none yet).\n"
                 "# TYPE zflow_stats_age_seconds gauge\n");
        for (size_t i = 0; i < count; i++)
            if (ages[i] >= 0)
                fprintf (file, "zflow_stats_age_seconds{stage=\"%s\",kind=\"%s\"} %.3f\n",
                         zflow_pipeline_stage_name (pipeline, i),
                         zflow_pipeline_stage_kind (pipeline, i), (double) ages[i] / 1000.0);
        fclose (file);
    }
    for (size_t i = 0; i < count; i++)
        zhash_destroy (&stats[i]);
    free (stats);
    free (ages);
    return text;
}

//  Sends one HTTP response on the connection id and closes it.
static void s_respond (zsock_t *sock, zframe_t *id, int status, const char *reason,
                       const char *type, const char *body)
{
    char *response = zsys_sprintf ("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                                   "Connection: close\r\n\r\n%s",
                                   status, reason, type, strlen (body), body);
    zframe_send (&id, sock, ZFRAME_MORE + ZFRAME_REUSE);
    zmq_send (zsock_resolve (sock), response, strlen (response), 0);
    zframe_send (&id, sock, ZFRAME_MORE + ZFRAME_REUSE);
    zmq_send (zsock_resolve (sock), "", 0, 0); //  an empty frame closes it
    zstr_free (&response);
}

//  The /health answer: status 200 and "ok" when the pipeline runs and
//  every stage answered STATS lately; else 503 and "stale" (a stage has
//  not answered for the stale limit) or "stopped". Then one line per
//  stage: "stage kind age_ms ok|stale" (age -1: no answer yet).
static void s_health (zsock_t *sock, zframe_t *id, zflow_cli_poll_t *poll)
{
    zflow_pipeline_t *pipeline = zflow_cli_poll_pipeline (poll);
    char *lines = NULL;
    size_t size = 0;
    bool stale = false;
    FILE *file = open_memstream (&lines, &size);
    for (size_t i = 0; file && i < zflow_pipeline_size (pipeline); i++) {
        int64_t age;
        zhash_t *stats = zflow_cli_poll_get (poll, i, &age);
        zhash_destroy (&stats);
        bool old = zflow_cli_poll_stale (poll, age);
        stale = stale || old;
        fprintf (file, "%s %s %" PRId64 " %s\n", zflow_pipeline_stage_name (pipeline, i),
                 zflow_pipeline_stage_kind (pipeline, i), age, old ? "stale" : "ok");
    }
    if (file)
        fclose (file);
    bool running = zflow_pipeline_running (pipeline);
    char *body = zsys_sprintf ("%s\n%s",
                               !running ? "stopped"
                               : stale  ? "stale"
                                        : "ok",
                               lines ? lines : "");
    s_respond (sock, id, running && !stale ? 200 : 503,
               running && !stale ? "OK" : "Service Unavailable", "text/plain", body);
    zstr_free (&body);
    free (lines);
}

static int s_on_request (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void) loop;
    zflow_cli_poll_t *poll = (zflow_cli_poll_t *) arg;
    zframe_t *id = zframe_recv (sock);
    zframe_t *data = id && zsock_rcvmore (sock) ? zframe_recv (sock) : NULL;
    //  an empty data frame only says a peer connected or went away
    if (id && data && zframe_size (data) > 0) {
        char line[256] = "";
        size_t size =
            zframe_size (data) < sizeof (line) - 1 ? zframe_size (data) : sizeof (line) - 1;
        memcpy (line, zframe_data (data), size);
        line[strcspn (line, "\r\n")] = 0;
        char method[16] = "", path[200] = "";
        sscanf (line, "%15s %199s", method, path);
        if (!streq (method, "GET") && !streq (method, "HEAD"))
            s_respond (sock, id, 405, "Method Not Allowed", "text/plain", "GET only\n");
        else if (streq (path, "/metrics")) {
            char *text = s_metrics_text (poll);
            s_respond (sock, id, 200, "OK", "text/plain; version=0.0.4", text ? text : "");
            free (text);
        } else if (streq (path, "/health"))
            s_health (sock, id, poll);
        else
            s_respond (sock, id, 404, "Not Found", "text/plain", "try /metrics or /health\n");
    }
    zframe_destroy (&id);
    zframe_destroy (&data);
    return 0;
}

zsock_t *zflow_cli_metrics_new (const char *address)
{
    zsock_t *sock = zsock_new (ZMQ_STREAM);
    const char *scheme = strstr (address, "://") ? "" : "tcp://";
    //  port 0 means any free port, which libzmq spells "*"
    size_t size = strlen (address);
    int port_zero = size > 2 && streq (address + size - 2, ":0");
    if (!sock || zsock_bind (sock, "%s%.*s%s", scheme, (int) (size - port_zero), address,
                             port_zero ? "*" : "") < 0) {
        fprintf (stderr, "zflow: cannot serve metrics on %s: %s\n", address,
                 zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
        return NULL;
    }
    return sock;
}

void zflow_cli_metrics_serve (zsock_t *sock, zloop_t *loop, zflow_cli_poll_t *poll)
{
    zloop_reader (loop, sock, s_on_request, poll);
}
