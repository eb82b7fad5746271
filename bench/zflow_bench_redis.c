/*  =========================================================================
    zflow_bench_redis - the Redis sink's PUBLISH and XADD rates against
    Redis's own client, redis-benchmark, in the same run on the same server

    The program starts its own redis-server (no persistence) on a free
    loopback port. For each payload size:

      baseline: redis-benchmark -c 1 -P 16 -n N PUBLISH bench <payload>
                (one connection, 16 commands pipelined per round trip: the
                broker's own C client at its documented pipelining, as
                `redis-benchmark -t publish`-style runs use it)
      zflow:    N envelopes pushed into a zflow_redis_sink_t (one
                connection, up to `inflight` commands pipelined, 1000 by
                default), timed from the first push until Redis has
                acknowledged the last command (STATS delivered == N)

    and the same for XADD bench-stream MAXLEN ~ 100000 * payload <payload>.
    The zflow figure includes everything the bridge does: reading the
    envelope from its ZeroMQ input, mapping the key, formatting the
    command, and reading every reply. Each is run -r times (median, min,
    max); the ratio is zflow / redis-benchmark, goal >= 0.9.

        FIGURE {...}   per command and size (see bench_figure.h)
        RESULT redis_publish ratio=<x> (the smallest size)

    usage: zflow_bench_redis [-n count] [-r runs] [-s sizes] [--inflight N]

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "bench_figure.h"
#include "bench_util.h"
#include "zflow.h"
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

//  Finds program in /usr/bin, /usr/local/bin or $PATH's first hit.
static const char *s_find (const char *program, char *path, size_t size)
{
    const char *dirs[] = {"/usr/bin", "/usr/local/bin", "/usr/sbin"};
    for (size_t index = 0; index < 3; index++) {
        snprintf (path, size, "%s/%s", dirs[index], program);
        if (access (path, X_OK) == 0)
            return path;
    }
    return NULL;
}

//  Starts redis-server on a free port; returns its pid (port in *port_p).
static pid_t s_server_start (const char *server, int *port_p)
{
    zsock_t *probe = zsock_new (ZMQ_PULL);
    int port = zsock_bind (probe, "tcp://127.0.0.1:*");
    zsock_destroy (&probe);
    char text[16];
    snprintf (text, sizeof (text), "%d", port);
    fflush (stdout); //  the child must not write our buffered lines again
    pid_t pid = fork ();
    if (pid == 0) {
        if (!freopen ("/dev/null", "w", stdout) || !freopen ("/dev/null", "w", stderr))
            _exit (126);
        execl (server, server, "--port", text, "--bind", "127.0.0.1", "--save", "", "--appendonly",
               "no", (char *) NULL);
        _exit (127);
    }
    *port_p = port;
    zclock_sleep (300);
    return pid;
}

//  CPU seconds (user + system) of this process, or of its ended children.
static double s_cpu (int who)
{
    struct rusage usage;
    getrusage (who, &usage);
    return (double) usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
           (double) usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

static double s_cpu_base; //  CPU seconds of the last baseline run
static double s_cpu_mine; //  CPU seconds of the last zflow run

//  Runs redis-benchmark for command (PUBLISH or XADD) with a payload of
//  size bytes; returns its requests per second, or -1.
static double s_baseline (const char *tool, int port, const char *command, size_t size, int count)
{
    char *payload = (char *) malloc (size + 1);
    memset (payload, 'x', size);
    payload[size] = 0;
    char *line =
        zsys_sprintf ("%s -h 127.0.0.1 -p %d -c 1 -P 16 -n %d --csv %s %s", tool, port, count,
                      streq (command, "PUBLISH") ? "PUBLISH bench"
                                                 : "XADD bench-base MAXLEN '~' 100000 '*' "
                                                   "payload",
                      payload);
    double cpu = s_cpu (RUSAGE_CHILDREN);
    FILE *pipe = popen (line, "r");
    double rps = -1;
    char text[65536];
    while (pipe && fgets (text, sizeof (text), pipe)) {
        //  "COMMAND ...","rps",...: the second quoted field
        char *comma = strstr (text, "\",\"");
        if (comma && strncmp (text, "\"test\"", 6) != 0)
            rps = atof (comma + 3);
    }
    if (pipe)
        pclose (pipe);
    s_cpu_base = s_cpu (RUSAGE_CHILDREN) - cpu;
    zstr_free (&line);
    free (payload);
    return rps;
}

//  Pushes count envelopes of size bytes through a zflow Redis sink;
//  returns its rate (commands acknowledged per second), or -1.
static double s_zflow (int port, bool stream, size_t size, int count, size_t inflight)
{
    zflow_redis_config_t config;
    zflow_redis_config_init (&config);
    config.port = port;
    config.inflight = inflight;
    //  a new name per run: an inproc name is released asynchronously
    static int runs = 0;
    char input[64], output[64];
    snprintf (input, sizeof (input), "@inproc://bench-redis-%d", runs);
    snprintf (output, sizeof (output), "inproc://bench-redis-%d", runs++);
    config.input = input;
    if (stream) {
        config.mode = ZFLOW_REDIS_STREAM;
        config.stream = "bench-stream";
        config.maxlen = 100000;
    } else
        config.channels = "bench";
    zflow_redis_sink_t *sink = zflow_redis_sink_new (&config, NULL);
    if (!sink)
        return -1;
    for (int tries = 0; tries < 500; tries++) {
        zhash_t *stats = zflow_redis_sink_stats (sink, 1000);
        bool up = zflow_actor_stats_get (stats, "connected") == 1;
        zhash_destroy (&stats);
        if (up)
            break;
        zclock_sleep (5);
    }
    zsock_t *push = zsock_new (ZMQ_PUSH);
    zsock_set_sndhwm (push, 10000);
    zsock_connect (push, "%s", output);
    void *handle = zsock_resolve (push);
    char *payload = (char *) malloc (size);
    memset (payload, 'x', size);
    zflow_key_t *key = zflow_key_new ("bench", NULL);
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_envelope_encode_key (msg, key, NULL, payload, size);
    size_t key_size, meta_size;
    const void *key_wire = zflow_msg_data (msg, 0);
    key_size = zflow_msg_part_size (msg, 0);
    const void *meta = zflow_msg_data (msg, 1);
    meta_size = zflow_msg_part_size (msg, 1);
    double cpu = s_cpu (RUSAGE_SELF);
    int64_t start = zclock_usecs ();
    for (int index = 0; index < count; index++) {
        zmq_send (handle, key_wire, key_size, ZMQ_SNDMORE);
        zmq_send (handle, meta, meta_size, ZMQ_SNDMORE);
        zmq_send (handle, payload, size, 0);
    }
    uint64_t delivered = 0;
    while (delivered < (uint64_t) count) {
        zhash_t *stats = zflow_redis_sink_stats (sink, 5000);
        if (!stats)
            break;
        delivered = zflow_actor_stats_get (stats, "delivered");
        uint64_t drops = zflow_actor_stats_get (stats, "drops");
        zhash_destroy (&stats);
        if (drops)
            break;
        if (delivered < (uint64_t) count)
            zclock_sleep (1);
    }
    double seconds = (double) (zclock_usecs () - start) / 1e6;
    s_cpu_mine = s_cpu (RUSAGE_SELF) - cpu;
    zflow_msg_destroy (&msg);
    zflow_key_destroy (&key);
    free (payload);
    zsock_destroy (&push);
    zflow_redis_sink_destroy (&sink);
    return delivered == (uint64_t) count && seconds > 0 ? count / seconds : -1;
}

//  Runs one command at one size runs times, both sides alternating;
//  prints its FIGURE line. Returns the ratio of the medians, or -1.
static double s_figure (const char *tool, int port, bool stream, size_t size, int count, int runs,
                        size_t inflight)
{
    double base[32], mine[32], base_cpu[32], mine_cpu[32];
    for (int run = 0; run < runs; run++) {
        base[run] = s_baseline (tool, port, stream ? "XADD" : "PUBLISH", size, count);
        base_cpu[run] = s_cpu_base * 1e6 / count;
        mine[run] = s_zflow (port, stream, size, count, inflight);
        mine_cpu[run] = s_cpu_mine * 1e6 / count;
        if (base[run] <= 0 || mine[run] <= 0) {
            fprintf (stderr, "a %s run failed (redis-benchmark %.0f, zflow %.0f msgs/s)\n",
                     stream ? "XADD" : "PUBLISH", base[run], mine[run]);
            return -1;
        }
    }
    bench_spread_t b = {bench_median (base, runs), base[0], base[runs - 1]};
    bench_spread_t m = {bench_median (mine, runs), mine[0], mine[runs - 1]};
    char name[64];
    snprintf (name, sizeof (name), "redis_%s", stream ? "xadd" : "publish");
    printf ("%-8s %6zu B: redis-benchmark -c 1 -P 16 %9.0f msgs/s, zflow sink (inflight %zu) "
            "%9.0f msgs/s, ratio %.2f\n",
            stream ? "XADD" : "PUBLISH", size, b.median, inflight, m.median, m.median / b.median);
    //  CPU per command: steadier than the rates on a busy machine (the
    //  zflow figure includes this program's producer pushing envelopes)
    printf ("%-8s %6zu B: CPU per command: redis-benchmark %.2f us, zflow (sink + producer) "
            "%.2f us\n",
            stream ? "XADD" : "PUBLISH", size, bench_median (base_cpu, runs),
            bench_median (mine_cpu, runs));
    bench_figure_print ("redis", name, size, "redis-benchmark -c 1 -P 16", b, m);
    return m.median / b.median;
}

int main (int argc, char *argv[])
{
    int count = 200000, runs = 3;
    size_t inflight = ZFLOW_REDIS_INFLIGHT;
    const char *sizes = "16,256,4096";
    for (int index = 1; index < argc; index++) {
        if (streq (argv[index], "-n") && index + 1 < argc)
            count = atoi (argv[++index]);
        else if (streq (argv[index], "-r") && index + 1 < argc)
            runs = atoi (argv[++index]);
        else if (streq (argv[index], "-s") && index + 1 < argc)
            sizes = argv[++index];
        else if (streq (argv[index], "--inflight") && index + 1 < argc)
            inflight = (size_t) atoi (argv[++index]);
        else {
            fprintf (stderr, "usage: %s [-n count] [-r runs] [-s sizes] [--inflight N]\n", argv[0]);
            return 2;
        }
    }
    count = count < 1000 ? 1000 : count;
    runs = runs < 1 ? 1 : runs > 32 ? 32 : runs;
    inflight = inflight ? inflight : 1;
    char server_path[256], tool_path[256];
    const char *server = s_find ("redis-server", server_path, sizeof (server_path));
    const char *tool = s_find ("redis-benchmark", tool_path, sizeof (tool_path));
    if (!server || !tool) {
        fprintf (stderr, "needs redis-server and redis-benchmark (Debian: redis-server, "
                         "redis-tools)\n");
        return 1;
    }
    zsys_init ();
    bench_print_host (false);
    int port = 0;
    pid_t pid = s_server_start (server, &port);
    printf ("redis-server on 127.0.0.1:%d, %d commands per run, %d runs\n", port, count, runs);
    double first = 0;
    int rc = 0;
    char *list = strdup (sizes);
    for (char *save = NULL, *text = strtok_r (list, ",", &save); text && rc == 0;
         text = strtok_r (NULL, ",", &save)) {
        size_t size = (size_t) atol (text);
        double ratio = s_figure (tool, port, false, size, count, runs, inflight);
        if (ratio < 0 || s_figure (tool, port, true, size, count, runs, inflight) < 0)
            rc = 1;
        if (first == 0)
            first = ratio;
    }
    free (list);
    kill (pid, SIGTERM);
    waitpid (pid, NULL, 0);
    if (rc == 0)
        printf ("RESULT redis_publish ratio=%.2f\n", first);
    return rc;
}
