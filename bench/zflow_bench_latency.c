/*  =========================================================================
    zflow_bench_latency - per-message end-to-end latency, HDR histograms

    A sender paces messages at --rate per second; message i is due at
    t0 + i / rate and carries that *intended* time, not the time it was
    actually sent. Latency is measured from the intended time, so a stall
    in the path counts against every message that waited behind it (the
    coordinated-omission trap, which timing from the actual send hides).

    Figures, each beside its raw libzmq baseline in the same run:
      stream     zflow stream + envelope (inproc) vs raw zmq_msg_send/recv
      pipeline   a zflow pipeline source -> map -> filter -> sink (pull
                 source, push sink; the map and filter pass everything),
                 chained into one actor, latency read from the envelope's
                 meta timestamp, vs a raw libzmq relay thread; this is how
                 a user measures a bridge
      pipeline_own_threads
                 the same pipeline with every stage on its own actor

    Usage: zflow_bench_latency [-n COUNT] [--rate MSGS_PER_S] [--no-pin]
                               [--only stream|pipeline|pipeline_own_threads]
    (--only pipeline runs both pipeline figures)
    =========================================================================
*/
#include "bench_figure.h"
#include "bench_util.h"
#include "zflow.h"
#include <sys/time.h>

typedef enum { PATH_RAW, PATH_STREAM, PATH_RAW_RELAY, PATH_PIPELINE, PATH_PIPELINE_OWN } path_t;

typedef struct {
    path_t path;  //  what the messages cross
    int count;    //  messages
    double rate;  //  messages per second
    bool pin;     //  pin threads
    char in[64];  //  sender -> relay (or receiver) endpoint
    char out[64]; //  relay -> receiver endpoint
} run_t;

//  Wall clock in ns: the envelope's meta timestamp is wall-clock µs.
static int64_t s_wall_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

//  Waits until the wall clock reaches due (spinning the last 50 us).
static void s_wait_until (int64_t due)
{
    int64_t left = due - s_wall_ns ();
    if (left > 60000) {
        struct timespec ts = {0, left - 50000};
        nanosleep (&ts, NULL);
    }
    while (s_wall_ns () < due)
        ;
}

static bool s_is_zflow (path_t path)
{
    return path == PATH_STREAM || path == PATH_PIPELINE || path == PATH_PIPELINE_OWN;
}

static void s_sender (zsock_t *pipe, void *args)
{
    run_t *run = (run_t *) args;
    bench_pin (run->pin ? 0 : -1);
    zflow_stream_t *out = zflow_stream_new (ZMQ_PUSH, NULL, run->in, NULL);
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_meta_t *meta = zflow_meta_new ();
    void *raw = zsock_resolve (zflow_stream_sock (out));
    zsock_signal (pipe, 0);
    zsock_wait (pipe);
    int64_t start = s_wall_ns () + 1000000;
    double interval = 1e9 / run->rate;
    char payload[64] = {0};
    for (int i = 0; i < run->count; i++) {
        int64_t due = start + (int64_t) (i * interval);
        s_wait_until (due);
        memcpy (payload, &due, sizeof (due));
        if (s_is_zflow (run->path)) {
            zflow_meta_set_seq (meta, (uint64_t) i + 1);
            zflow_meta_set_timestamp (meta, due / 1000);
            zflow_envelope_encode (msg, "lat", 3, meta, payload, sizeof (payload));
            if (zflow_stream_write (out, msg) == ZFLOW_DRAIN)
                zflow_stream_drain (out, -1);
        } else
            zmq_send (raw, payload, sizeof (payload), 0);
    }
    zflow_stream_flush (out, -1);
    zsock_wait (pipe);
    zflow_meta_destroy (&meta);
    zflow_msg_destroy (&msg);
    zflow_stream_destroy (&out);
}

//  The raw relay: zmq_proxy-like forwarding with plain libzmq calls.
static void s_relay (zsock_t *pipe, void *args)
{
    run_t *run = (run_t *) args;
    zflow_actor_t *base = zflow_actor_new (pipe, "relay");
    zflow_stream_t *in = zflow_stream_new (ZMQ_PULL, run->in, NULL, NULL);
    zflow_stream_t *out = zflow_stream_new (ZMQ_PUSH, NULL, run->out, NULL);
    zflow_actor_ready (base, 0);
    void *from = zsock_resolve (zflow_stream_sock (in));
    void *to = zsock_resolve (zflow_stream_sock (out));
    zmq_pollitem_t items[] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0}, {from, 0, ZMQ_POLLIN, 0}};
    zmq_msg_t part;
    zmq_msg_init (&part);
    while (zmq_poll (items, 2, -1) >= 0 && !(items[0].revents & ZMQ_POLLIN))
        while (zmq_msg_recv (&part, from, ZMQ_DONTWAIT) >= 0)
            zmq_msg_send (&part, to, zmq_msg_more (&part) ? ZMQ_SNDMORE : 0);
    zmq_msg_close (&part);
    char *term = zstr_recv (pipe); //  the $TERM that woke the poll
    zstr_free (&term);
    zflow_stream_destroy (&in);
    zflow_stream_destroy (&out);
    zflow_actor_destroy (&base);
}

static int s_pass_map (zflow_msg_t *msg, void *arg)
{
    (void) arg;
    return zflow_msg_size (msg) == 3 ? 0 : ZFLOW_EPROTO;
}

static bool s_pass_filter (const zflow_msg_t *msg, void *arg)
{
    (void) arg;
    return zflow_msg_part_size (msg, 2) > 0;
}

//  The pipeline of the pipeline paths, started: reads run->in, writes
//  run->out; every stage on its own actor for PATH_PIPELINE_OWN.
static zflow_pipeline_t *s_pipeline (const run_t *run)
{
    zflow_pipeline_t *p = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "lat"}, NULL);
    zflow_pipeline_source (p, "in", "pull", run->in, NULL);
    zflow_pipeline_map (p, "map", s_pass_map, NULL, NULL);
    zflow_pipeline_filter (p, "filter", s_pass_filter, NULL, NULL);
    zflow_pipeline_sink (p, "out", "push", NULL, run->out);
    for (size_t i = 0; run->path == PATH_PIPELINE_OWN && i < zflow_pipeline_size (p); i++)
        zflow_pipeline_stage_own_thread (p, zflow_pipeline_stage_name (p, i), true);
    if (zflow_pipeline_start (p)) {
        fprintf (stderr, "bench: %s\n", zflow_pipeline_error_text (p));
        exit (1);
    }
    return p;
}

//  Receives count messages and records now - intended time of each.
static void s_receive (zflow_stream_t *in, const run_t *run, zflow_histogram_t *histogram)
{
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_meta_t *meta = zflow_meta_new ();
    for (int i = 0; i < run->count; i++) {
        if (zflow_stream_read (in, msg, 10000) != 0)
            break;
        int64_t now = s_wall_ns (), due;
        if ((run->path == PATH_PIPELINE || run->path == PATH_PIPELINE_OWN) &&
            zflow_envelope_decode (msg, meta) == 0)
            //  the user's way: the envelope's own timestamp (µs)
            zflow_histogram_record (histogram, now - zflow_meta_timestamp (meta) * 1000);
        else {
            memcpy (&due, zflow_msg_data (msg, zflow_msg_size (msg) - 1), sizeof (due));
            zflow_histogram_record (histogram, now - due);
        }
    }
    zflow_meta_destroy (&meta);
    zflow_msg_destroy (&msg);
}

static void s_run (run_t *run, zflow_histogram_t *histogram)
{
    static int serial = 0;
    serial++;
    bool piped = run->path == PATH_PIPELINE || run->path == PATH_PIPELINE_OWN;
    bool relayed = piped || run->path == PATH_RAW_RELAY;
    snprintf (run->in, sizeof (run->in), "inproc://lat-in-%d", serial);
    snprintf (run->out, sizeof (run->out), "inproc://lat-out-%d", serial);
    zflow_stream_t *in = zflow_stream_new (ZMQ_PULL, relayed ? run->out : run->in, NULL, NULL);
    zactor_t *relay = run->path == PATH_RAW_RELAY ? zflow_actor_start (s_relay, run) : NULL;
    zflow_pipeline_t *pipeline = piped ? s_pipeline (run) : NULL;
    zactor_t *sender = zactor_new (s_sender, run);
    bench_pin (run->pin ? 1 : -1);
    zsock_signal (sender, 0);
    s_receive (in, run, histogram);
    zsock_signal (sender, 0);
    zactor_destroy (&sender);
    zactor_destroy (&relay);
    zflow_pipeline_destroy (&pipeline);
    zflow_stream_destroy (&in);
}

static void s_print_row (const char *name, const zflow_histogram_t *h)
{
    printf ("  %-26s p50 %8.1f  p90 %8.1f  p99 %8.1f  p99.9 %8.1f  max %9.1f us (%llu msgs)\n",
            name, zflow_histogram_percentile (h, 50) / 1e3,
            zflow_histogram_percentile (h, 90) / 1e3, zflow_histogram_percentile (h, 99) / 1e3,
            zflow_histogram_percentile (h, 99.9) / 1e3, zflow_histogram_max (h) / 1e3,
            (unsigned long long) zflow_histogram_count (h));
}

int main (int argc, char *argv[])
{
    int count = 100000;
    double rate = 50000;
    bool pin = true;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (streq (argv[i], "-n") && i + 1 < argc)
            count = atoi (argv[++i]);
        else if (streq (argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (streq (argv[i], "--rate") && i + 1 < argc)
            rate = atof (argv[++i]);
        else if (streq (argv[i], "--no-pin"))
            pin = false;
        else {
            fprintf (stderr,
                     "usage: %s [-n COUNT] [--rate MSGS_PER_S] [--no-pin] "
                     "[--only stream|pipeline|pipeline_own_threads]\n",
                     argv[0]);
            return streq (argv[i], "-h") || streq (argv[i], "--help") ? 0 : 2;
        }
    }
    if (only && !streq (only, "stream") && !streq (only, "pipeline") &&
        !streq (only, "pipeline_own_threads")) {
        fprintf (stderr, "bench: --only takes stream, pipeline or pipeline_own_threads\n");
        return 2;
    }
    if (count < 1 || rate < 1 || rate > 1e7) {
        fprintf (stderr, "bench: COUNT must be >= 1 and RATE 1 .. 10000000 msgs/s\n");
        return 2;
    }
    bench_print_host (pin);
    printf ("latency: %d messages at %.0f msgs/s, measured from each message's intended "
            "send time\n",
            count, rate);
    struct {
        const char *name;
        path_t base, mine;
        const char *baseline;
    } figures[] = {
        {"stream", PATH_RAW, PATH_STREAM, "raw libzmq"},
        {"pipeline", PATH_RAW_RELAY, PATH_PIPELINE, "raw libzmq relay thread"},
        {"pipeline_own_threads", PATH_RAW_RELAY, PATH_PIPELINE_OWN, "raw libzmq relay thread"},
    };
    double p99_ratio[3];
    for (int f = 0; f < 3; f++) {
        //  --only pipeline takes both pipeline figures
        if (only && strncmp (figures[f].name, only, strlen (only)))
            continue;
        zflow_histogram_t *base = zflow_histogram_new (), *mine = zflow_histogram_new ();
        run_t a = {figures[f].base, count, rate, pin, "", ""};
        run_t b = {figures[f].mine, count, rate, pin, "", ""};
        bench_progress (figures[f].name, 0, 2);
        s_run (&a, base);
        bench_progress (figures[f].name, 1, 2);
        s_run (&b, mine);
        bench_progress (figures[f].name, 2, 2);
        printf ("%s:\n", figures[f].name);
        s_print_row (figures[f].baseline, base);
        s_print_row ("zflow", mine);
        bench_latency_print ("latency", figures[f].name, rate, figures[f].baseline, base, mine);
        double base_p99 = (double) zflow_histogram_percentile (base, 99);
        p99_ratio[f] = base_p99 > 0 ? zflow_histogram_percentile (mine, 99) / base_p99 : 0;
        printf ("RESULT latency_%s p99_us=%.1f ratio=%.3f\n", figures[f].name,
                zflow_histogram_percentile (mine, 99) / 1e3, p99_ratio[f]);
        zflow_histogram_destroy (&base);
        zflow_histogram_destroy (&mine);
    }
    return 0;
}
