/*  =========================================================================
    zflow_bench_latency - per-message end-to-end latency, HDR histograms

    A sender paces messages at --rate per second; message i is due at
    t0 + i / rate and carries that *intended* time, not the time it was
    actually sent. Latency is measured from the intended time, so a stall
    in the path counts against every message that waited behind it (the
    coordinated-omission trap, which timing from the actual send hides).

    Figures, each beside its raw libzmq baseline in the same run:
      stream     zflow stream + envelope (inproc) vs raw zmq_msg_send/recv
      pipeline   source -> one relay actor (attached zflow streams) -> sink,
                 latency read from the envelope's meta timestamp, vs a raw
                 libzmq relay thread; this is how a user measures a bridge

    Usage: zflow_bench_latency [-n COUNT] [--rate MSGS_PER_S] [--no-pin]
                               [--only stream|pipeline]
    =========================================================================
*/
#include "bench_figure.h"
#include "bench_util.h"
#include "zflow.h"
#include <sys/time.h>

typedef enum { PATH_RAW, PATH_STREAM, PATH_RAW_RELAY, PATH_PIPELINE } path_t;

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
    return path == PATH_STREAM || path == PATH_PIPELINE;
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

//  The relay of the pipeline path: an actor that forwards every envelope
//  from its attached input to its output, as a pipeline stage does.
typedef struct {
    zflow_stream_t *in, *out; //  attached streams
    zflow_msg_t *msg;         //  reused
} relay_t;

static void s_relay_on_readable (zflow_stream_t *stream, void *arg)
{
    relay_t *relay = (relay_t *) arg;
    while (zflow_stream_read (stream, relay->msg, 0) == 0)
        zflow_stream_write (relay->out, relay->msg);
}

static void s_relay (zsock_t *pipe, void *args)
{
    run_t *run = (run_t *) args;
    zflow_actor_t *base = zflow_actor_new (pipe, "relay");
    relay_t relay = {zflow_stream_new (ZMQ_PULL, run->in, NULL, NULL),
                     zflow_stream_new (ZMQ_PUSH, NULL, run->out, NULL), zflow_msg_new ()};
    if (run->path == PATH_PIPELINE) {
        zflow_stream_attach (relay.in, zflow_actor_loop (base), s_relay_on_readable, NULL, &relay);
        zflow_stream_attach (relay.out, zflow_actor_loop (base), NULL, NULL, &relay);
        zflow_actor_ready (base, 0);
        zflow_actor_run (base);
    } else {
        //  the raw relay: zmq_proxy-like forwarding with plain libzmq calls
        zflow_actor_ready (base, 0);
        void *from = zsock_resolve (zflow_stream_sock (relay.in));
        void *to = zsock_resolve (zflow_stream_sock (relay.out));
        zmq_pollitem_t items[] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0},
                                  {from, 0, ZMQ_POLLIN, 0}};
        zmq_msg_t part;
        zmq_msg_init (&part);
        while (zmq_poll (items, 2, -1) >= 0 && !(items[0].revents & ZMQ_POLLIN))
            while (zmq_msg_recv (&part, from, ZMQ_DONTWAIT) >= 0)
                zmq_msg_send (&part, to, zmq_msg_more (&part) ? ZMQ_SNDMORE : 0);
        zmq_msg_close (&part);
        char *term = zstr_recv (pipe); //  the $TERM that woke the poll
        zstr_free (&term);
    }
    zflow_stream_destroy (&relay.in);
    zflow_stream_destroy (&relay.out);
    zflow_msg_destroy (&relay.msg);
    zflow_actor_destroy (&base);
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
        if (run->path == PATH_PIPELINE && zflow_envelope_decode (msg, meta) == 0)
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
    bool relayed = run->path == PATH_PIPELINE || run->path == PATH_RAW_RELAY;
    snprintf (run->in, sizeof (run->in), "inproc://lat-in-%d", serial);
    snprintf (run->out, sizeof (run->out), "inproc://lat-out-%d", serial);
    zflow_stream_t *in = zflow_stream_new (ZMQ_PULL, relayed ? run->out : run->in, NULL, NULL);
    zactor_t *relay = relayed ? zflow_actor_start (s_relay, run) : NULL;
    zactor_t *sender = zactor_new (s_sender, run);
    bench_pin (run->pin ? 1 : -1);
    zsock_signal (sender, 0);
    s_receive (in, run, histogram);
    zsock_signal (sender, 0);
    zactor_destroy (&sender);
    zactor_destroy (&relay);
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
                     "[--only stream|pipeline]\n",
                     argv[0]);
            return streq (argv[i], "-h") || streq (argv[i], "--help") ? 0 : 2;
        }
    }
    if (only && !streq (only, "stream") && !streq (only, "pipeline")) {
        fprintf (stderr, "bench: --only takes stream or pipeline\n");
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
    };
    double p99_ratio[2];
    for (int f = 0; f < 2; f++) {
        if (only && !streq (only, figures[f].name))
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
