/*  =========================================================================
    zflow_cli_run - zflow run [FILE]: run a pipeline until told to stop

    Without FILE it runs the embedded default. The main thread owns a zloop
    with the control endpoint (REP: STATS, PING), the metrics responder,
    a status timer and a stop timer that watches for SIGINT/SIGTERM,
    --duration and the end of every synthetic source. None of them waits
    for a stage: the counters and the end of the sources come from the
    poller (zflow_cli_poll.c), which asks the stages from its own thread.
    Stopping drains the pipeline first.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_cli.h"
#include "zflow_cli_embedded.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  How often the stages are asked for their counters, and the age past
//  which a stage's counters (and so the stage) are stale.
#define ZFLOW_CLI_POLL_MS 250
#define ZFLOW_CLI_STALE_MS 10000

//  Set by SIGINT / SIGTERM.
static volatile sig_atomic_t s_signalled;

static void s_on_signal (int signum)
{
    (void) signum;
    if (s_signalled) {
        //  a second signal while draining: give up at once
        static const char text[] = "zflow: interrupted again, exiting without draining\n";
        ssize_t rc = write (2, text, sizeof (text) - 1);
        (void) rc;
        _exit (ZFLOW_EXIT_RUNTIME);
    }
    s_signalled = 1;
}

void zflow_cli_catch_signals (void)
{
    struct sigaction action;
    memset (&action, 0, sizeof (action));
    action.sa_handler = s_on_signal;
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);
    //  a closed stdout (zflow sub | head -1) is a write error, not a death
    signal (SIGPIPE, SIG_IGN);
}

bool zflow_cli_stdout_closed (void)
{
    struct pollfd item = {1, 0, 0}; //  a pipe without reader: POLLERR
    return poll (&item, 1, 0) == 1 && (item.revents & (POLLERR | POLLHUP)) != 0;
}

//  Set by the stdout watcher once the reader of stdout (a pipe) has gone.
static atomic_bool s_stdout_gone;
//  Tells the stdout watcher to end.
static atomic_bool s_stdout_watch_end;

//  A thread that waits for the reader of stdout to go (zflow run | head):
//  it then puts /dev/null in place of stdout at once, so the stages that
//  write there neither fail nor complain while the run stops (exit 0).
static void *s_stdout_watch (void *arg)
{
    (void) arg;
    while (!atomic_load (&s_stdout_watch_end)) {
        struct pollfd item = {1, 0, 0}; //  a pipe without reader: POLLERR
        if (poll (&item, 1, 100) == 1 && (item.revents & (POLLERR | POLLHUP))) {
            int null = open ("/dev/null", O_WRONLY);
            if (null >= 0) {
                dup2 (null, 1);
                close (null);
            }
            atomic_store (&s_stdout_gone, true);
            break;
        }
    }
    return NULL;
}

bool zflow_cli_signalled (void)
{
    return s_signalled != 0;
}

//  The state of one run.
typedef struct {
    zflow_pipeline_t *pipeline; //  the running pipeline
    zflow_cli_poll_t *poll;     //  its counters, polled in the background
    bool quiet;                 //  no status on stderr
    bool tty;                   //  stderr is a terminal: one live line
    bool status_shown;          //  a live line is on screen
    int64_t deadline;           //  --duration end (monotonic ms), or 0
    int64_t last_time;          //  last status time
    uint64_t last_in;           //  messages in / out at the last status
    uint64_t last_out;
    bool stdout_pipe;               //  stdout is a pipe (stop when its reader goes)
    const char *why;                //  why the run stopped
    zflow_cli_embedded_t *embedded; //  the embedded default, or NULL
} s_run_t;

//  Sums the cached counters over the pipeline: in (sources), out (busiest
//  sink), drops, errors, reconnects. Returns the stages that are stale.
static size_t s_totals (zflow_cli_poll_t *poll, uint64_t totals[5])
{
    zflow_pipeline_t *pipeline = zflow_cli_poll_pipeline (poll);
    size_t stale = 0;
    memset (totals, 0, 5 * sizeof (uint64_t));
    for (size_t i = 0; i < zflow_pipeline_size (pipeline); i++) {
        int64_t age;
        zhash_t *stats = zflow_cli_poll_get (poll, i, &age);
        stale += zflow_cli_poll_stale (poll, age);
        const char *kind = zflow_pipeline_stage_kind (pipeline, i);
        if (streq (kind, "source"))
            totals[0] += zflow_actor_stats_get (stats, "msgs_in");
        //  several sinks see the same messages: count the busiest one
        if (streq (kind, "sink") && zflow_actor_stats_get (stats, "msgs_out") > totals[1])
            totals[1] = zflow_actor_stats_get (stats, "msgs_out");
        totals[2] += zflow_actor_stats_get (stats, "drops");
        totals[3] += zflow_actor_stats_get (stats, "errors");
        totals[4] += zflow_actor_stats_get (stats, "reconnects");
        zhash_destroy (&stats);
    }
    return stale;
}

static int s_on_status (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    s_run_t *self = (s_run_t *) arg;
    uint64_t totals[5];
    size_t stale = s_totals (self->poll, totals);
    int64_t now = zclock_mono ();
    double seconds = (double) (now - self->last_time) / 1000.0;
    if (seconds <= 0)
        seconds = 1;
    fprintf (stderr,
             "%szflow: in %.0f msg/s, out %.0f msg/s | total in %" PRIu64 ", out %" PRIu64
             ", drops %" PRIu64 ", errors %" PRIu64 ", reconnects %" PRIu64 "%s%s",
             self->tty ? "\r" : "", (double) (totals[0] - self->last_in) / seconds,
             (double) (totals[1] - self->last_out) / seconds, totals[0], totals[1], totals[2],
             totals[3], totals[4], stale ? " | a stage is not answering" : "",
             self->tty ? "\033[K" : "\n");
    fflush (stderr);
    self->status_shown = self->tty;
    self->last_time = now;
    self->last_in = totals[0];
    self->last_out = totals[1];
    return 0;
}

static int s_on_watch (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    s_run_t *self = (s_run_t *) arg;
    if (s_signalled)
        self->why = "signal";
    else if (self->deadline && zclock_mono () >= self->deadline)
        self->why = "duration reached";
    else if (zflow_cli_poll_done (self->poll))
        self->why = "sources done";
    else if (atomic_load (&s_stdout_gone))
        self->why = "stdout closed";
    return self->why ? -1 : 0;
}

static int s_on_control (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void) loop;
    s_run_t *self = (s_run_t *) arg;
    char *command = zstr_recv (sock);
    if (!command)
        return 0;
    if (streq (command, "STATS")) {
        char *text = zflow_cli_stats_text (self->poll);
        zstr_send (sock, text ? text : "");
        free (text);
    } else if (streq (command, "PING"))
        zstr_send (sock, "PONG");
    else
        zstr_send (sock, "ERROR unknown command");
    zstr_free (&command);
    return 0;
}

//  Binds the control endpoint. Returns the socket, or NULL (reported).
static zsock_t *s_control (const char *endpoint, char **path_p, bool quiet)
{
    char *fallback = NULL;
    if (!endpoint) {
        fallback = zsys_sprintf ("ipc:///tmp/zflow-%d.ctl", (int) getpid ());
        endpoint = fallback;
    }
    //  an ipc:// file this run creates is removed when it ends
    if (strncmp (endpoint, "ipc://", 6) == 0 && endpoint[6] != '@')
        *path_p = strdup (endpoint + 6);
    zsock_t *sock = zsock_new (ZMQ_REP);
    if (zsock_bind (sock, "%s", endpoint) < 0) {
        fprintf (stderr, "zflow: cannot bind the control endpoint %s: %s\n", endpoint,
                 zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
        zstr_free (path_p);
    } else if (!quiet)
        fprintf (stderr, "zflow: control endpoint %s (zflow stats --control %s)\n",
                 zsock_endpoint (sock), zsock_endpoint (sock));
    free (fallback);
    return sock;
}

//  Runs a built pipeline until it is told to stop. Returns the exit code.
static int s_run (zflow_pipeline_t *pipeline, zflow_cli_embedded_t *embedded, const char *control,
                  const char *metrics, int64_t duration, int64_t drain_ms, bool quiet)
{
    struct stat out;
    s_run_t self = {.pipeline = pipeline,
                    .quiet = quiet,
                    .tty = isatty (2) != 0,
                    .last_time = zclock_mono (),
                    .stdout_pipe = fstat (1, &out) == 0 && S_ISFIFO (out.st_mode),
                    .embedded = embedded};
    if (duration)
        self.deadline = zclock_mono () + duration * 1000;
    char *path = NULL;
    zsock_t *control_sock = s_control (control, &path, quiet);
    zloop_t *loop = zloop_new ();
    zflow_cli_metrics_t *metrics_sock = metrics ? zflow_cli_metrics_new (metrics) : NULL;
    if (!control_sock || (metrics && !metrics_sock)) {
        zflow_cli_metrics_destroy (&metrics_sock);
        zloop_destroy (&loop);
        zsock_destroy (&control_sock);
        free (path);
        return ZFLOW_EXIT_RUNTIME;
    }
    int started = zflow_pipeline_start (pipeline);
    if (started == 0 && embedded && zflow_cli_embedded_started (embedded)) {
        zflow_pipeline_stop (pipeline, 0);
        started = -1;
    } else if (started)
        fprintf (stderr, "zflow: %s\n", zflow_pipeline_error_text (pipeline));
    if (started) {
        zflow_cli_metrics_destroy (&metrics_sock);
        zloop_destroy (&loop);
        zsock_destroy (&control_sock);
        if (path)
            unlink (path);
        free (path);
        return ZFLOW_EXIT_RUNTIME;
    }
    for (size_t i = 0; !quiet && i < zflow_pipeline_size (pipeline); i++) {
        char *bound = zflow_pipeline_stage_bindings (pipeline, i);
        if (bound && strncmp (bound, "inproc://", 9))
            fprintf (stderr, "zflow: stage '%s' bound %s\n",
                     zflow_pipeline_stage_name (pipeline, i), bound);
        zstr_free (&bound);
    }
    if (metrics_sock && !quiet)
        fprintf (stderr, "zflow: metrics on http://%s/metrics and /health\n",
                 zflow_cli_metrics_address (metrics_sock));
    self.poll = zflow_cli_poll_new (pipeline, embedded, ZFLOW_CLI_POLL_MS, ZFLOW_CLI_STALE_MS);
    if (metrics_sock)
        zflow_cli_metrics_serve (metrics_sock, loop, self.poll);
    zloop_set_nonstop (loop, true);
    zloop_reader (loop, control_sock, s_on_control, &self);
    zloop_timer (loop, 100, 0, s_on_watch, &self);
    if (!quiet)
        zloop_timer (loop, 1000, 0, s_on_status, &self);
    pthread_t watcher;
    bool watching = self.stdout_pipe && pthread_create (&watcher, NULL, s_stdout_watch, NULL) == 0;
    zloop_start (loop);
    if (!self.why)
        self.why = s_signalled ? "signal" : "loop ended";
    if (self.status_shown)
        fputc ('\n', stderr);
    zflow_cli_poll_destroy (&self.poll); //  the stages are ours again
    if (embedded)
        zflow_cli_embedded_stopping (embedded, (int) drain_ms);
    int rc =
        zflow_pipeline_stop (pipeline, (int) drain_ms) == 0 ? ZFLOW_EXIT_OK : ZFLOW_EXIT_RUNTIME;
    if (watching) {
        atomic_store (&s_stdout_watch_end, true);
        pthread_join (watcher, NULL);
    }
    if (!quiet)
        fprintf (stderr, "zflow: stopped (%s)%s\n", self.why,
                 rc ? ", but a stage did not drain in time" : ", everything in flight drained");
    zflow_cli_metrics_destroy (&metrics_sock); //  before the loop it serves on
    zloop_destroy (&loop);
    zsock_destroy (&control_sock);
    if (path)
        unlink (path);
    free (path);
    return rc;
}

//  Reads a non-negative decimal option value. Returns -1 when bad.
static int64_t s_number (const char *text)
{
    char *end = NULL;
    errno = 0;
    long long value = text ? strtoll (text, &end, 10) : -1;
    return (!text || !*text || *end || errno || value < 0) ? -1 : value;
}

static void s_usage (FILE *file)
{
    fprintf (file,
             "usage: zflow run [FILE] [options]\n"
             "\n"
             "Runs the stages and links FILE declares (see zflow help). Without FILE, runs\n"
             "the embedded default: a synthetic honeypot feed, a bridge that keeps the\n"
             "events with hashes, re-encodes them and publishes them to another channel\n"
             "and to stdout (JSON lines).\n"
             "\n"
             "options:\n"
             "  -q, --quiet          no progress or status on stderr\n"
             "  --duration S         stop (draining) after S seconds\n"
             "  --count N            embedded default: the feed sends N events, then stop\n"
             "  --rate N             embedded default: events per second (default 100, 0: max)\n"
             "  --control ENDPOINT   control endpoint for zflow stats\n"
             "                       (default ipc:///tmp/zflow-<pid>.ctl)\n"
             "  --metrics HOST:PORT  serve Prometheus text on /metrics and /health\n"
             "  --drain-timeout MS   at stop, wait so long per stage for in-flight messages\n"
             "                       (default 5000); exit 1 if a stage could not drain\n"
             "  -h, --help           this help\n"
             "\n"
             "Stops on SIGINT/SIGTERM (a second one exits at once), --duration, or when\n"
             "every synthetic source has sent its count. Exit codes: 0 stopped cleanly,\n"
             "1 runtime error, 2 usage error, 3 invalid configuration.\n");
}

int zflow_cli_run (int argc, char **argv)
{
    const char *file = NULL, *control = NULL, *metrics = NULL;
    int64_t duration = 0, count = 0, rate = 100, drain_ms = 5000;
    bool quiet = false;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t *number = streq (arg, "--duration")        ? &duration
                          : streq (arg, "--count")         ? &count
                          : streq (arg, "--rate")          ? &rate
                          : streq (arg, "--drain-timeout") ? &drain_ms
                                                           : NULL;
        if (streq (arg, "-h") || streq (arg, "--help")) {
            s_usage (stdout);
            return ZFLOW_EXIT_OK;
        } else if (streq (arg, "-q") || streq (arg, "--quiet"))
            quiet = true;
        else if (number && (*number = s_number (value)) >= 0)
            i++;
        else if ((streq (arg, "--control") ||
                  (streq (arg, "--metrics") && zflow_cli_metrics_address_valid (value))) &&
                 value) {
            *(streq (arg, "--control") ? &control : &metrics) = value;
            i++;
        } else if (arg[0] != '-' && !file)
            file = arg;
        else {
            bool metrics_arg = streq (arg, "--metrics") && value;
            fprintf (stderr, "zflow run: bad argument '%s'%s%s%s\n", arg,
                     number ? " (needs a non-negative number)" : "",
                     metrics_arg ? ": not HOST:PORT (port 0 to 65535): " : "",
                     metrics_arg ? value : "");
            s_usage (stderr);
            return ZFLOW_EXIT_USAGE;
        }
    }
    zflow_cli_catch_signals ();

    zflow_pipeline_t *pipeline = NULL;
    zflow_cli_embedded_t *embedded = NULL;
    zconfig_t *config = NULL;
    if (file) {
        zflow_cli_global_t global;
        if (zflow_cli_load (file, &pipeline, &global, &config))
            return ZFLOW_EXIT_CONFIG;
        control = control ? control : global.control;
        metrics = metrics ? metrics : global.metrics;
    } else {
        embedded = zflow_cli_embedded_new ((uint64_t) rate, (uint64_t) count, quiet);
        if (!embedded)
            return ZFLOW_EXIT_RUNTIME;
        pipeline = zflow_cli_embedded_pipeline (embedded);
    }
    if (drain_ms > 3600 * 1000)
        drain_ms = 3600 * 1000;
    int rc = s_run (pipeline, embedded, control, metrics, duration, drain_ms, quiet);
    if (embedded)
        zflow_cli_embedded_destroy (&embedded);
    else
        zflow_pipeline_destroy (&pipeline);
    zconfig_destroy (&config);
    return rc;
}
