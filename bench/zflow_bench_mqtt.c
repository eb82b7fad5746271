/*  =========================================================================
    zflow_bench_mqtt - zflow's MQTT bridge versus the broker's own tools, in
    the same run, against the same mosquitto

    The program starts a mosquitto on a free loopback port. For each QoS
    (0, then 1) and each run it measures:

        baseline  mosquitto_pub -l (N lines of SIZE bytes from a file) ->
                  broker -> mosquitto_sub -C N, timed from the start of
                  mosquitto_pub to the exit of mosquitto_sub
        zflow     a PUSH -> zflow_mqtt_sink (lossless) -> broker ->
                  zflow_mqtt_source -> SUB, timed from the first send to
                  the Nth envelope received

    and prints one FIGURE per QoS (median, min, max over the runs) and

        RESULT mqtt_bridge_qos<Q> msgs_per_s=<zflow median> ratio=<zflow/base>

    The clients are alike: both ends use libmosquitto over loopback TCP.
    At QoS 1 mosquitto_pub keeps libmosquitto's default of 20 messages in
    flight, the zflow sink its watermark (1000), which the figure shows.
    QoS 1 runs send a fifth of N (both sides: the baseline is slow).
    Options: -n N (100000), -r RUNS (3), -s SIZE (64), -q 0|1 (only that
    QoS).

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "bench_figure.h"
#include "bench_util.h"
#include "mqtt/mqtt_broker.h"
#include "zflow.h"
#include <pthread.h>
#include <string.h>

static mqtt_broker_t s_broker;

//  Runs a shell command; returns its exit status.
static int s_shell (const char *command)
{
    int rc = system (command);
    return WIFEXITED (rc) ? WEXITSTATUS (rc) : -1;
}

//  mosquitto_pub -> mosquitto_sub: messages per second, or 0 on failure.
static double s_baseline (const char *lines, int count, int qos, int run)
{
    char topic[64], command[1024];
    snprintf (topic, sizeof (topic), "bench/base/%d/%d", qos, run);
    //  the subscriber first, in the background; its exit ends the figure
    snprintf (command, sizeof (command),
              "timeout 120 mosquitto_sub -h 127.0.0.1 -p %d -t %s -q %d -C %d > /dev/null & "
              "echo $! > %s/sub.pid",
              s_broker.port, topic, qos, count, s_broker.dir);
    if (s_shell (command))
        return 0;
    zclock_sleep (500); //  subscribed (a local CONNECT + SUBSCRIBE takes a few ms)
    int64_t start = bench_now_ns ();
    snprintf (command, sizeof (command),
              "head -n %d %s | mosquitto_pub -h 127.0.0.1 -p %d -t %s -q %d -l && "
              "while kill -0 $(cat %s/sub.pid) 2>/dev/null; do sleep 0.001; done",
              count, lines, s_broker.port, topic, qos, s_broker.dir);
    int rc = s_shell (command);
    double seconds = (double) (bench_now_ns () - start) / 1e9;
    return rc == 0 ? count / seconds : 0;
}

//  What the receiving thread counts.
typedef struct {
    zsock_t *sub;    //  on the source's endpoint
    int count;       //  envelopes to wait for
    int got;         //  envelopes received
    int64_t done_ns; //  when the last arrived
} s_receiver_t;

static void *s_receive (void *arg)
{
    s_receiver_t *self = (s_receiver_t *) arg;
    zsock_set_rcvtimeo (self->sub, 10000);
    void *handle = zsock_resolve (self->sub);
    zmq_msg_t part;
    zmq_msg_init (&part);
    while (self->got < self->count) {
        if (zmq_msg_recv (&part, handle, 0) < 0)
            break;
        if (!zmq_msg_more (&part))
            self->got++;
    }
    zmq_msg_close (&part);
    self->done_ns = bench_now_ns ();
    return NULL;
}

//  PUSH -> zflow sink -> broker -> zflow source -> SUB: messages per
//  second, or 0 on failure.
static double s_zflow (int count, size_t size, int qos, int run)
{
    char topic[64];
    snprintf (topic, sizeof (topic), "bench/zflow/%d/%d", qos, run);
    zflow_mqtt_config_t config;
    zflow_mqtt_config_init (&config);
    config.port = s_broker.port;
    config.qos = qos;
    config.filters = topic;
    config.lossless = true;
    zflow_mqtt_source_t *source = zflow_mqtt_source_new (&config, NULL);
    s_receiver_t receiver = {zsock_new_sub (zflow_mqtt_source_endpoint (source), ""), count, 0, 0};
    config.topic = topic;
    zflow_mqtt_sink_t *sink = zflow_mqtt_sink_new (&config, NULL);
    zsock_t *push = zsock_new_push (zflow_mqtt_sink_endpoint (sink));
    //  both connected and subscribed before the clock starts
    for (int i = 0; i < 500; i++) {
        zhash_t *in = zflow_mqtt_source_stats (source, 1000);
        zhash_t *out = zflow_mqtt_sink_stats (sink, 1000);
        bool ready =
            zflow_actor_stats_get (in, "subscribed") && zflow_actor_stats_get (out, "connected");
        zhash_destroy (&in);
        zhash_destroy (&out);
        if (ready)
            break;
        zclock_sleep (10);
    }
    pthread_t thread;
    pthread_create (&thread, NULL, s_receive, &receiver);
    char *payload = (char *) malloc (size);
    memset (payload, 'x', size);
    zflow_key_t *key = zflow_key_new ("mqtt", "bench", NULL);
    size_t key_size;
    const void *wire = zflow_key_wire (key, &key_size);
    uint8_t meta[64];
    zflow_meta_t *empty = zflow_meta_new ();
    int meta_size = zflow_meta_encode (empty, meta, sizeof (meta));
    void *handle = zsock_resolve (push);
    int64_t start = bench_now_ns ();
    for (int i = 0; i < count; i++) {
        zmq_send (handle, wire, key_size, ZMQ_SNDMORE);
        zmq_send (handle, meta, (size_t) meta_size, ZMQ_SNDMORE);
        zmq_send (handle, payload, size, 0);
    }
    pthread_join (thread, NULL);
    double rate = receiver.got == count ? count / ((double) (receiver.done_ns - start) / 1e9) : 0;
    if (receiver.got != count) {
        zhash_t *in = zflow_mqtt_source_stats (source, 1000);
        zhash_t *out = zflow_mqtt_sink_stats (sink, 1000);
        fprintf (stderr,
                 "zflow: %d of %d arrived (sink delivered %" PRIu64 ", drops %" PRIu64
                 "; source received %" PRIu64 ", drops %" PRIu64 ", held %" PRIu64
                 ", reconnects %" PRIu64 ")\n",
                 receiver.got, count, zflow_actor_stats_get (out, "delivered"),
                 zflow_actor_stats_get (out, "drops"), zflow_actor_stats_get (in, "received"),
                 zflow_actor_stats_get (in, "drops"), zflow_actor_stats_get (in, "held"),
                 zflow_actor_stats_get (in, "reconnects"));
        zhash_destroy (&in);
        zhash_destroy (&out);
        char command[300];
        snprintf (command, sizeof (command),
                  "mosquitto_sub -p %d -C 1 -W 3 -v -t '$SYS/broker/publish/messages/dropped' "
                  ">&2",
                  s_broker.port);
        s_shell (command);
    }
    zflow_meta_destroy (&empty);
    zflow_key_destroy (&key);
    free (payload);
    zsock_destroy (&push);
    zflow_mqtt_sink_destroy (&sink);
    zsock_destroy (&receiver.sub);
    zflow_mqtt_source_destroy (&source);
    return rate;
}

static bench_spread_t s_spread (double *values, int runs)
{
    bench_spread_t spread = {0, values[0], values[0]};
    for (int r = 1; r < runs; r++) {
        spread.min = values[r] < spread.min ? values[r] : spread.min;
        spread.max = values[r] > spread.max ? values[r] : spread.max;
    }
    spread.median = bench_median (values, runs);
    return spread;
}

int main (int argc, char *argv[])
{
    int count = 100000, runs = 3, only_qos = -1;
    size_t size = 64;
    for (int i = 1; i < argc; i++) {
        if (streq (argv[i], "-n") && i + 1 < argc)
            count = atoi (argv[++i]);
        else if (streq (argv[i], "-r") && i + 1 < argc)
            runs = atoi (argv[++i]);
        else if (streq (argv[i], "-s") && i + 1 < argc)
            size = (size_t) atol (argv[++i]);
        else if (streq (argv[i], "-q") && i + 1 < argc)
            only_qos = atoi (argv[++i]);
        else {
            fprintf (stderr, "usage: %s [-n count] [-r runs] [-s size] [-q 0|1]\n", argv[0]);
            return 2;
        }
    }
    if (count < 1 || runs < 1 || runs > 20 || size < 1 || size > 65536) {
        fprintf (stderr, "count >= 1, runs 1-20, size 1-65536\n");
        return 2;
    }
    snprintf (s_broker.extra, sizeof (s_broker.extra), "sys_interval 1\n");
    mqtt_broker_run (&s_broker);
    //  the baseline's input: count lines of size bytes
    char lines[300];
    snprintf (lines, sizeof (lines), "%s/lines.txt", s_broker.dir);
    FILE *file = fopen (lines, "w");
    char *line = (char *) malloc (size + 1);
    memset (line, 'x', size);
    line[size] = '\n';
    for (int i = 0; i < count; i++)
        fwrite (line, 1, size + 1, file);
    fclose (file);
    free (line);
    printf ("mqtt: %d messages of %zu bytes, %d runs, mosquitto on 127.0.0.1:%d\n", count, size,
            runs, s_broker.port);
    int failed = 0;
    for (int qos = 0; qos <= 1; qos++) {
        if (only_qos >= 0 && qos != only_qos)
            continue;
        double base[20], mine[20];
        //  mosquitto_pub keeps 20 QoS 1 messages in flight: a fifth of them
        int n = qos ? (count + 4) / 5 : count;
        for (int r = 0; r < runs; r++) {
            base[r] = s_baseline (lines, n, qos, r);
            mine[r] = s_zflow (n, size, qos, r);
            printf (
                "  qos %d run %d: mosquitto_pub->sub %.0f msg/s, zflow sink->source %.0f msg/s\n",
                qos, r + 1, base[r], mine[r]);
            fflush (stdout);
            failed |= base[r] == 0 || mine[r] == 0;
        }
        bench_spread_t b = s_spread (base, runs), z = s_spread (mine, runs);
        char name[32];
        snprintf (name, sizeof (name), "mqtt_bridge_qos%d", qos);
        bench_figure_print ("mqtt", name, size, "mosquitto_pub -> mosquitto_sub", b, z);
        printf ("RESULT %s msgs_per_s=%.0f ratio=%.2f\n", name, z.median,
                b.median > 0 ? z.median / b.median : 0);
    }
    mqtt_broker_destroy (&s_broker);
    return failed ? 1 : 0;
}
