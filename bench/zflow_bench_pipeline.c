/*  =========================================================================
    zflow_bench_pipeline - pipeline throughput against a raw relay chain,
    measured in the same run.

    zflow: a producer thread PUSHes N JSON events (160 bytes) into the
    pipeline source -> map -> filter -> sink (pull source binding, push
    sink connecting; lossless) and the main thread PULLs them out. The
    source wraps each event into an envelope; the map (a C callback) checks
    the envelope's three frames and counts; the filter (a C callback)
    keeps every event with a payload. Measured twice in each run:
      chained      the default: the four stages run in one actor
      own threads  each stage on an actor of its own (four threads, five
                   inproc hops; zflow_pipeline_stage_own_thread)

    baseline: the same producer and consumer with three raw libzmq relay
    threads between them (PULL -> PUSH, zmq_msg_recv / zmq_msg_send): the
    least any three-hop ZeroMQ chain does. It does none of the envelope,
    callback or counting work.

    Runs alternate baseline, chained and own threads. Usage:
    zflow_bench_pipeline [-n COUNT] [-r RUNS] [-o raw|chained|own]; -o runs
    that path alone (for counting instructions with callgrind) and prints
    only its rate. Prints a table, FIGURE lines and
        RESULT pipeline_3stages msgs_per_s=<chained median> ratio=<chained/raw>
        RESULT pipeline_3stages_own_threads msgs_per_s=<median> ratio=<own/raw>
    =========================================================================
*/
#include "bench_figure.h"
#include "bench_util.h"
#include "zflow.h"

#define S_EVENT                                                                                    \
    "{\"eventid\":\"dionaea.capture\",\"src_ip\":\"10.1.2.3\",\"src_port\":4444,"                  \
    "\"dst_port\":445,\"hashes\":[\"d41d8cd98f00b204e9800998ecf8427e\"],\"n\":%08d}"

typedef struct {
    char in[64];  //  endpoint it reads (binds); producer: unused
    char out[64]; //  endpoint it writes (connects)
    int count;    //  messages to pass
} hop_t;

static void *s_producer (void *arg)
{
    hop_t *hop = (hop_t *) arg;
    zsock_t *out = zsock_new (ZMQ_PUSH);
    zsock_connect (out, "%s", hop->out);
    char event[256];
    for (int i = 0; i < hop->count; i++) {
        int size = snprintf (event, sizeof (event), S_EVENT, i);
        zmq_send (zsock_resolve (out), event, (size_t) size, 0);
    }
    zsock_set_linger (out, -1);
    zsock_destroy (&out);
    return NULL;
}

static void *s_relay (void *arg)
{
    hop_t *hop = (hop_t *) arg;
    zsock_t *in = zsock_new (ZMQ_PULL);
    zsock_t *out = zsock_new (ZMQ_PUSH);
    zsock_bind (in, "%s", hop->in);
    zsock_connect (out, "%s", hop->out);
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    for (int i = 0; i < hop->count; i++) {
        zmq_msg_recv (&msg, zsock_resolve (in), 0);
        zmq_msg_send (&msg, zsock_resolve (out), 0);
    }
    zmq_msg_close (&msg);
    zsock_set_linger (out, -1);
    zsock_destroy (&out);
    zsock_destroy (&in);
    return NULL;
}

//  Receives count messages (each possibly multipart) on consumer.
static void s_consume (zsock_t *consumer, int count)
{
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    for (int i = 0; i < count; i++) {
        do
            zmq_msg_recv (&msg, zsock_resolve (consumer), 0);
        while (zmq_msg_more (&msg));
    }
    zmq_msg_close (&msg);
}

static double s_run_raw (int count, int run)
{
    hop_t hops[4];
    zsock_t *consumer = zsock_new (ZMQ_PULL);
    zsock_bind (consumer, "inproc://bench-raw-%d-3", run);
    pthread_t threads[4];
    for (int k = 3; k >= 0; k--) {
        snprintf (hops[k].in, sizeof (hops[k].in), "inproc://bench-raw-%d-%d", run, k - 1);
        snprintf (hops[k].out, sizeof (hops[k].out), "inproc://bench-raw-%d-%d", run, k);
        hops[k].count = count;
    }
    for (int k = 3; k >= 1; k--)
        pthread_create (&threads[k], NULL, s_relay, &hops[k]);
    zclock_sleep (20);
    int64_t start = bench_now_ns ();
    pthread_create (&threads[0], NULL, s_producer, &hops[0]);
    s_consume (consumer, count);
    double rate = count / ((double) (bench_now_ns () - start) / 1e9);
    for (int k = 0; k < 4; k++)
        pthread_join (threads[k], NULL);
    zsock_destroy (&consumer);
    return rate;
}

//  The map: checks the envelope's shape and counts it.
static int s_map (zflow_msg_t *msg, void *arg)
{
    if (zflow_msg_size (msg) != 3)
        return ZFLOW_EPROTO;
    (*(uint64_t *) arg)++;
    return 0;
}

//  The filter: keeps every event with a payload.
static bool s_filter (const zflow_msg_t *msg, void *arg)
{
    (void) arg;
    return zflow_msg_part_size (msg, 2) > 0;
}

static double s_run_zflow (int count, int run, bool own_threads)
{
    char in[64], out[64];
    snprintf (in, sizeof (in), "inproc://bench-zf-in-%d-%d", run, own_threads);
    snprintf (out, sizeof (out), "inproc://bench-zf-out-%d-%d", run, own_threads);
    zsock_t *consumer = zsock_new (ZMQ_PULL);
    zsock_bind (consumer, "%s", out);
    zflow_pipeline_t *p = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "bench"}, NULL);
    uint64_t mapped = 0;
    zflow_pipeline_source (p, "in", "pull", in, NULL);
    zflow_pipeline_map (p, "map", s_map, &mapped, NULL);
    zflow_pipeline_filter (p, "filter", s_filter, NULL, NULL);
    zflow_pipeline_sink (p, "out", "push", NULL, out);
    for (size_t i = 0; own_threads && i < zflow_pipeline_size (p); i++)
        zflow_pipeline_stage_own_thread (p, zflow_pipeline_stage_name (p, i), true);
    if (zflow_pipeline_start (p)) {
        fprintf (stderr, "bench: %s\n", zflow_pipeline_error_text (p));
        exit (1);
    }
    hop_t producer = {"", "", count};
    snprintf (producer.out, sizeof (producer.out), "%s", in);
    pthread_t thread;
    int64_t start = bench_now_ns ();
    pthread_create (&thread, NULL, s_producer, &producer);
    s_consume (consumer, count);
    double rate = count / ((double) (bench_now_ns () - start) / 1e9);
    pthread_join (thread, NULL);
    zflow_pipeline_stop (p, 2000);
    zflow_pipeline_destroy (&p);
    zsock_destroy (&consumer);
    return rate;
}

int main (int argc, char **argv)
{
    int count = 200000, runs = 5;
    const char *names[] = {"pipeline_3stages", "pipeline_3stages_own_threads"};
    const char *only = NULL;
    for (int i = 1; i + 1 < argc; i++) {
        if (streq (argv[i], "-n"))
            count = atoi (argv[++i]);
        else if (streq (argv[i], "-r"))
            runs = atoi (argv[++i]);
        else if (streq (argv[i], "-o"))
            only = argv[++i];
    }
    if (count < 1 || runs < 1 || runs > 100 ||
        (only && !streq (only, "raw") && !streq (only, "chained") && !streq (only, "own"))) {
        fprintf (stderr, "usage: zflow_bench_pipeline [-n COUNT] [-r RUNS] [-o raw|chained|own]\n");
        return 2;
    }
    if (only) {
        double rate = streq (only, "raw")       ? s_run_raw (count, 0)
                      : streq (only, "chained") ? s_run_zflow (count, 0, false)
                                                : s_run_zflow (count, 0, true);
        printf ("%s msgs_per_s=%.0f\n", only, rate);
        return 0;
    }
    bench_print_host (false);
    double rates[3][100];
    for (int r = 0; r < runs; r++) {
        rates[0][r] = s_run_raw (count, r);
        rates[1][r] = s_run_zflow (count, r, false);
        rates[2][r] = s_run_zflow (count, r, true);
        bench_progress ("pipeline 3 stages", r + 1, runs);
    }
    bench_spread_t spread[3];
    for (int k = 0; k < 3; k++) {
        spread[k] = (bench_spread_t){0, 1e18, 0};
        for (int r = 0; r < runs; r++) {
            spread[k].min = rates[k][r] < spread[k].min ? rates[k][r] : spread[k].min;
            spread[k].max = rates[k][r] > spread[k].max ? rates[k][r] : spread[k].max;
        }
        spread[k].median = bench_median (rates[k], runs);
    }
    printf ("%-30s %14s %14s %8s\n", "figure", "raw msgs/s", "zflow msgs/s", "ratio");
    for (int k = 1; k < 3; k++)
        printf ("%-30s %14.0f %14.0f %8.2f\n", names[k - 1], spread[0].median, spread[k].median,
                spread[k].median / spread[0].median);
    for (int k = 1; k < 3; k++)
        bench_figure_print ("pipeline", names[k - 1], 160, "raw_relay_3threads", spread[0],
                            spread[k]);
    for (int k = 1; k < 3; k++)
        printf ("RESULT %s msgs_per_s=%.0f ratio=%.2f\n", names[k - 1], spread[k].median,
                spread[k].median / spread[0].median);
    return 0;
}
