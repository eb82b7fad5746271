/*  =========================================================================
    zflow_bench_stream - zflow streams and the envelope hop against raw
    libzmq, measured in the same run.

    For each message size, N messages go from a sender thread to a receiver
    over inproc PUSH/PULL, once with raw libzmq (zmq_msg_send/recv) and once
    through zflow streams (zflow_stream_write/read, drain on ZFLOW_DRAIN).
    Runs alternate raw and zflow so both see the same machine noise. The
    envelope figure compares a raw 3-frame send of pre-built key + meta +
    payload with zflow building (zflow_envelope_encode with a fresh meta
    per message) and checking (zflow_envelope_decode) each envelope.

    Usage: zflow_bench_stream [-n COUNT] [-r RUNS] [-s SIZE,...] [--no-pin]
                              [--no-envelope] [--envelope-only]
    Prints a table, FIGURE lines (bench_figure.h) and RESULT lines (zflow
    over raw, median of the runs).
    =========================================================================
*/
#include "bench_figure.h"
#include "bench_util.h"
#include "zflow.h"

#define ENVELOPE_PAYLOAD 64

typedef enum { MODE_RAW, MODE_STREAM, MODE_RAW3, MODE_ENVELOPE } mode_t_;

typedef struct {
    mode_t_ mode; //  what to move
    int count;    //  messages
    size_t size;  //  payload bytes
    bool pin;     //  pin threads
    char endpoint[64];
} run_t;

//  The raw 3-frame send uses these pre-built frames.
static const char s_key[] = "bench\x1f"
                            "stream";
static char s_meta[128];
static size_t s_meta_size;

static void s_raw_send (void *sock, const run_t *run, const char *payload)
{
    for (int i = 0; i < run->count; i++) {
        zmq_msg_t msg;
        zmq_msg_init_size (&msg, run->size);
        memcpy (zmq_msg_data (&msg), payload, run->size);
        zmq_msg_send (&msg, sock, 0);
    }
}

static void s_raw3_send (void *sock, const run_t *run, const char *payload)
{
    for (int i = 0; i < run->count; i++) {
        zmq_send (sock, s_key, sizeof (s_key) - 1, ZMQ_SNDMORE);
        zmq_send (sock, s_meta, s_meta_size, ZMQ_SNDMORE);
        zmq_send (sock, payload, run->size, 0);
    }
}

static void s_stream_send (zflow_stream_t *stream, const run_t *run, const char *payload)
{
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_meta_t *meta = zflow_meta_new ();
    zflow_meta_set_source (meta, "bench");
    for (int i = 0; i < run->count; i++) {
        if (run->mode == MODE_ENVELOPE) {
            zflow_meta_set_seq (meta, (uint64_t) i + 1);
            zflow_envelope_encode (msg, s_key, sizeof (s_key) - 1, meta, payload, run->size);
        } else
            memcpy (zflow_msg_add_empty (msg, run->size), payload, run->size);
        if (zflow_stream_write (stream, msg) == ZFLOW_DRAIN)
            zflow_stream_drain (stream, -1);
    }
    zflow_stream_flush (stream, -1);
    zflow_meta_destroy (&meta);
    zflow_msg_destroy (&msg);
}

//  The sender thread: connects, waits for the go, sends count messages.
static void s_sender (zsock_t *pipe, void *args)
{
    run_t *run = (run_t *) args;
    bench_pin (run->pin ? 0 : -1);
    char *payload = (char *) calloc (1, run->size ? run->size : 1);
    zflow_stream_t *stream = zflow_stream_new (ZMQ_PUSH, NULL, run->endpoint, NULL);
    zsock_set_sndhwm (zflow_stream_sock (stream), 1000);
    zsock_signal (pipe, 0);
    zsock_wait (pipe);
    void *raw = zsock_resolve (zflow_stream_sock (stream));
    if (run->mode == MODE_RAW)
        s_raw_send (raw, run, payload);
    else if (run->mode == MODE_RAW3)
        s_raw3_send (raw, run, payload);
    else
        s_stream_send (stream, run, payload);
    zsock_wait (pipe);
    zflow_stream_destroy (&stream);
    free (payload);
}

//  Receives count messages; returns false if any was not as sent.
static bool s_receive (zflow_stream_t *stream, const run_t *run)
{
    void *raw = zsock_resolve (zflow_stream_sock (stream));
    bool ok = true;
    if (run->mode == MODE_RAW || run->mode == MODE_RAW3) {
        zmq_msg_t msg;
        zmq_msg_init (&msg);
        int parts = run->mode == MODE_RAW ? 1 : 3;
        for (int i = 0; i < run->count * parts; i++)
            zmq_msg_recv (&msg, raw, 0);
        ok = zmq_msg_size (&msg) == run->size;
        zmq_msg_close (&msg);
        return ok;
    }
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_meta_t *meta = zflow_meta_new ();
    for (int i = 0; i < run->count && ok; i++) {
        ok = zflow_stream_read (stream, msg, -1) == 0;
        if (run->mode == MODE_ENVELOPE)
            ok = ok && zflow_envelope_decode (msg, meta) == 0 &&
                 zflow_meta_seq (meta) == (uint64_t) i + 1;
    }
    ok = ok && zflow_msg_part_size (msg, zflow_msg_size (msg) - 1) == run->size;
    zflow_meta_destroy (&meta);
    zflow_msg_destroy (&msg);
    return ok;
}

//  One timed run; returns messages per second (0 if the data was wrong).
static double s_run (run_t *run)
{
    static int serial = 0;
    snprintf (run->endpoint, sizeof (run->endpoint), "inproc://bench-stream-%d", serial++);
    zflow_stream_t *pull = zflow_stream_new (ZMQ_PULL, run->endpoint, NULL, NULL);
    zsock_set_rcvhwm (zflow_stream_sock (pull), 1000);
    zactor_t *sender = zactor_new (s_sender, run);
    bench_pin (run->pin ? 1 : -1);
    int64_t start = bench_now_ns ();
    zsock_signal (sender, 0);
    bool ok = s_receive (pull, run);
    int64_t elapsed = bench_now_ns () - start;
    zsock_signal (sender, 0);
    zactor_destroy (&sender);
    zflow_stream_destroy (&pull);
    if (!ok) {
        fprintf (stderr, "bench: data check failed (mode %d, size %zu)\n", run->mode, run->size);
        return 0;
    }
    return run->count / (elapsed / 1e9);
}

typedef struct {
    const char *name;   //  RESULT name
    mode_t_ base, mine; //  baseline and zflow modes
    size_t size;        //  payload size
} figure_t;

static void s_print_row (const figure_t *f, double *base, double *mine, int runs)
{
    double base_med = bench_median (base, runs), mine_med = bench_median (mine, runs);
    bench_figure_print (f->mine == MODE_ENVELOPE ? "envelope" : "stream", f->name, f->size,
                        f->mine == MODE_ENVELOPE ? "raw libzmq 3-frame send" : "raw libzmq",
                        (bench_spread_t){base_med, base[0], base[runs - 1]},
                        (bench_spread_t){mine_med, mine[0], mine[runs - 1]});
    printf ("%-14s %6zu B  raw %6.2f M/s [%5.2f..%5.2f]  zflow %6.2f M/s [%5.2f..%5.2f]  "
            "%7.1f MB/s  ratio %.2f\n",
            f->name, f->size, base_med / 1e6, base[0] / 1e6, base[runs - 1] / 1e6, mine_med / 1e6,
            mine[0] / 1e6, mine[runs - 1] / 1e6, mine_med * (double) f->size / 1e6,
            mine_med / base_med);
}

int main (int argc, char *argv[])
{
    int count = 1000000, runs = 5;
    bool pin = true, envelope = true;
    char sizes[128] = "16,256,4096";
    for (int i = 1; i < argc; i++) {
        if (streq (argv[i], "-n") && i + 1 < argc)
            count = atoi (argv[++i]);
        else if (streq (argv[i], "-r") && i + 1 < argc)
            runs = atoi (argv[++i]);
        else if (streq (argv[i], "-s") && i + 1 < argc)
            snprintf (sizes, sizeof (sizes), "%s", argv[++i]);
        else if (streq (argv[i], "--no-pin"))
            pin = false;
        else if (streq (argv[i], "--no-envelope"))
            envelope = false;
        else if (streq (argv[i], "--envelope-only"))
            sizes[0] = 0;
        else {
            fprintf (stderr,
                     "usage: %s [-n COUNT] [-r RUNS] [-s SIZE,...] [--no-pin] "
                     "[--no-envelope] [--envelope-only]\n",
                     argv[0]);
            return streq (argv[i], "-h") || streq (argv[i], "--help") ? 0 : 2;
        }
    }
    if (count < 1 || runs < 1 || runs > 100) {
        fprintf (stderr, "bench: COUNT must be >= 1 and RUNS 1..100\n");
        return 2;
    }
    zflow_meta_t *meta = zflow_meta_new ();
    zflow_meta_set_source (meta, "bench");
    zflow_meta_set_seq (meta, 1000000);
    s_meta_size = (size_t) zflow_meta_encode (meta, s_meta, sizeof (s_meta));
    zflow_meta_destroy (&meta);

    figure_t figures[16];
    int nfig = 0;
    char *saveptr = NULL;
    for (char *tok = strtok_r (sizes, ",", &saveptr); tok && nfig < 15;
         tok = strtok_r (NULL, ",", &saveptr)) {
        static char names[15][32];
        char *end;
        long size = strtol (tok, &end, 10);
        if (*end || size < 0 || size > 16 * 1024 * 1024) {
            fprintf (stderr, "bench: bad size '%s' (0 .. 16777216 bytes)\n", tok);
            return 2;
        }
        snprintf (names[nfig], sizeof (names[nfig]), "stream_%s", tok);
        figures[nfig] = (figure_t){names[nfig], MODE_RAW, MODE_STREAM, (size_t) atol (tok)};
        nfig++;
    }
    if (envelope)
        figures[nfig++] = (figure_t){"envelope", MODE_RAW3, MODE_ENVELOPE, ENVELOPE_PAYLOAD};

    bench_print_host (pin);
    printf ("messages per run: %d, runs: %d (after one warm-up), inproc PUSH/PULL, HWM 1000\n",
            count, runs);
    double results[16];
    for (int f = 0; f < nfig; f++) {
        double base[100], mine[100];
        run_t warm = {figures[f].mine, count / 10 + 1, figures[f].size, pin, ""};
        s_run (&warm);
        for (int r = 0; r < runs; r++) {
            run_t a = {figures[f].base, count, figures[f].size, pin, ""};
            run_t b = {figures[f].mine, count, figures[f].size, pin, ""};
            base[r] = s_run (&a);
            mine[r] = s_run (&b);
            bench_progress (figures[f].name, r + 1, runs);
        }
        double base_copy[100], mine_copy[100];
        memcpy (base_copy, base, sizeof (double) * runs);
        memcpy (mine_copy, mine, sizeof (double) * runs);
        double ratio = bench_median (mine_copy, runs) / bench_median (base_copy, runs);
        results[f] = ratio;
        s_print_row (&figures[f], base_copy, mine_copy, runs);
    }
    for (int f = 0; f < nfig; f++)
        printf ("RESULT %s ratio=%.3f\n", figures[f].name, results[f]);
    return 0;
}
