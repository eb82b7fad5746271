/*  =========================================================================
    zflow_bench_seeds - zflow against the libraries a user would otherwise
    pick (the "seeds"), side by side in the same run

    Each figure alternates a run of the seed and a run of zflow's
    counterpart (-r rounds, 3 by default) and prints FIGURE lines
    (bench_figure.h) with the ratio zflow / seed:

    - hpfeeds_relay_100: the reference broker (PyPI hpfeeds 3.1.0, its
      hpfeeds-broker process) against the zflow broker (the broker actor
      `zflow broker` runs, here embedded), relaying 100 B publishes from a
      publisher to a subscriber over TCP on 127.0.0.1. Both brokers get the
      same clients, zflow's, so that only the broker differs: the reference
      Python clients would cap both figures at their own speed. At most
      2 MiB are in flight (the publisher waits for the subscriber), so
      nothing is dropped.
    - aiozmq_stream_16, aiozmq_stream_256: aiozmq 1.0.0 streams (PUSH ->
      PULL over TCP on 127.0.0.1, writer and reader tasks in one asyncio
      loop) against zflow streams (PUSH -> PULL over TCP, writer thread and
      reader thread, drain on ZFLOW_DRAIN).
    - aiopubsub_hub: aiopubsub 3.0.0 (1,000 subscriptions, 100 of them on
      the published key) against the zflow hub in the shape of the hub
      suite (one subscriber with 1,000 sync listeners, 100 matching);
      both count listener calls per second.
    - cent_publish, cent_batch: cent 5.2.0 (the Python server API client)
      publishing to a real Centrifugo v6, one request per message and
      batches of 100 commands, against the zflow Centrifugo sink to the
      same server with batch_max 1 and 100.

    The seeds run as Python programs of bench/seeds/ under the peers' venv
    ($ZFLOW_PEERS, default /opt/zflow-peers: scripts/install-deps.sh puts
    them there; ZFLOW_SEEDS_DIR moves the drivers); bench/seeds/seed_peers.py
    also runs the reference broker and Centrifugo. A missing peer is named
    and the program exits 1. Connections are up before a clock starts: the
    stream and Centrifugo sides send one message first, the hpfeeds clients
    are connected and subscribed.

        zflow_bench_seeds [-n COUNT] [-r RUNS]

    COUNT (20,000 by default) is the messages of the hpfeeds and stream
    figures and the publishes of the hub figure; cent sends COUNT/20 one by
    one and COUNT/2 in batches.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "bench_figure.h"
#include "bench_util.h"
#include "zflow.h"
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#define S_WINDOW_BYTES (2 * 1024 * 1024)

//  What one measurement needs: the counts, the servers and the paths.
typedef struct {
    int count;             //  -n: messages per run
    int runs;              //  -r: rounds per figure
    char python[512];      //  the peers' venv Python
    char seeds[512];       //  the folder of the Python drivers
    int ref_broker_port;   //  the reference hpfeeds broker
    int zflow_broker_port; //  the embedded zflow broker
    char centrifugo[128];  //  the real Centrifugo's API address
    size_t size;           //  this figure: payload size
    int messages;          //  this figure: messages (or publishes)
    int batch;             //  this figure: commands per request
} s_setup_t;

#define S_CENTRIFUGO_API_KEY "zflow-bench-api-key" //  as in seed_peers.py

//  -------------------------------------------------------------------------
//  Child processes: the Python drivers and the servers they run

typedef struct {
    pid_t pid; //  the child, or 0
    int in;    //  the write end of its stdin: closing it stops a server
    FILE *out; //  its stdout
} s_child_t;

//  Runs the driver script of the seeds folder with args (NULL-terminated,
//  at most 6). Returns 0, or -1 (nothing running).
static int s_spawn (s_child_t *child, const s_setup_t *setup, const char *script,
                    const char *args[])
{
    char path[1100];
    snprintf (path, sizeof (path), "%s/%s", setup->seeds, script);
    char *argv[9] = {(char *) setup->python, path};
    for (int i = 0; args && args[i] && i < 6; i++)
        argv[i + 2] = (char *) args[i];
    int in[2], out[2];
    //  close-on-exec: a server's stdin must not stay open in other children
    if (pipe2 (in, O_CLOEXEC))
        return -1;
    if (pipe2 (out, O_CLOEXEC)) {
        close (in[0]);
        close (in[1]);
        return -1;
    }
    fflush (stdout);
    pid_t pid = fork ();
    if (pid == 0) {
        dup2 (in[0], STDIN_FILENO);
        dup2 (out[1], STDOUT_FILENO);
        execv (setup->python, argv);
        fprintf (stderr, "zflow_bench_seeds: cannot run %s\n", setup->python);
        _exit (127);
    }
    close (in[0]);
    close (out[1]);
    if (pid < 0) {
        close (in[1]);
        close (out[0]);
        return -1;
    }
    *child = (s_child_t){pid, in[1], fdopen (out[0], "r")};
    return 0;
}

//  Reads the child's output until a line starting with word; returns the
//  number after it, or -1 when the child ended without one.
static double s_expect (s_child_t *child, const char *word)
{
    char line[512];
    size_t length = strlen (word);
    while (fgets (line, sizeof (line), child->out))
        if (strncmp (line, word, length) == 0 && line[length] == ' ')
            return strtod (line + length + 1, NULL);
    return -1;
}

//  Closes the child's stdin, waits for it. Returns its exit status (or -1).
static int s_finish (s_child_t *child)
{
    if (!child->pid)
        return -1;
    close (child->in);
    char line[512];
    while (fgets (line, sizeof (line), child->out))
        ; //  what it still prints
    fclose (child->out);
    int status = 0;
    waitpid (child->pid, &status, 0);
    child->pid = 0;
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

//  Runs a measuring driver; returns its rate, or -1.
static double s_seed_rate (const s_setup_t *setup, const char *script, const char *args[])
{
    s_child_t child;
    if (s_spawn (&child, setup, script, args))
        return -1;
    double rate = s_expect (&child, "rate");
    return s_finish (&child) == 0 ? rate : -1;
}

//  -------------------------------------------------------------------------
//  hpfeeds: the same zflow clients through either broker

typedef struct {
    zflow_hpfeeds_t *client; //  the publisher
    int count;               //  messages to publish
    size_t size;             //  payload bytes
    long window;             //  most messages in flight
    atomic_long received;    //  messages the subscriber has counted
} s_relay_t;

static void *s_relay_publisher (void *arg)
{
    s_relay_t *run = (s_relay_t *) arg;
    char *payload = (char *) malloc (run->size);
    memset (payload, 'x', run->size);
    struct timespec nap = {0, 20000};
    for (long sent = 0; sent < run->count; sent++) {
        //  sleeps, not spins: on two cores the stages it waits for need
        //  the CPU
        while ((sent & 255) == 0 && sent - atomic_load (&run->received) > run->window)
            nanosleep (&nap, NULL);
        if (zflow_hpfeeds_publish (run->client, "bench", payload, run->size)) {
            fprintf (stderr, "zflow_bench_seeds: hpfeeds publish failed\n");
            break;
        }
    }
    free (payload);
    return NULL;
}

//  Connects a zflow publisher and subscriber to the broker on port and
//  relays count messages. Returns messages per second, or -1.
static double s_relay (int port, int count, size_t size)
{
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.port = port;
    config.secret = "s";
    config.ident = "sub";
    zflow_hpfeeds_t *sub = zflow_hpfeeds_new (&config, NULL);
    config.ident = "pub";
    config.outbox_policy = ZFLOW_HPFEEDS_BLOCK; //  lossless: wait, never drop
    config.publish_timeout_ms = 5000;           //  but not forever: a failed run ends
    config.reader = false;
    zflow_hpfeeds_t *pub = zflow_hpfeeds_new (&config, NULL);
    int64_t deadline = zclock_mono () + 5000;
    if (sub && pub && zflow_hpfeeds_subscribe (sub, "bench") == 0)
        while (zclock_mono () < deadline &&
               !(zflow_hpfeeds_connected (sub) && zflow_hpfeeds_connected (pub)))
            zclock_sleep (10);
    double rate = -1;
    if (sub && pub && zflow_hpfeeds_connected (sub) && zflow_hpfeeds_connected (pub)) {
        zclock_sleep (100); //  the subscription is not acknowledged
        s_relay_t run = {pub, count, size, S_WINDOW_BYTES / (long) (size + 20), 0};
        pthread_t thread;
        int64_t start = bench_now_ns ();
        pthread_create (&thread, NULL, s_relay_publisher, &run);
        long received = 0;
        zflow_hpfeeds_message_t message;
        while (received < count && zflow_hpfeeds_recv (sub, &message, 5000) == 0)
            if ((++received & 63) == 0 || received == count)
                atomic_store (&run.received, received);
        int64_t elapsed = bench_now_ns () - start;
        atomic_store (&run.received, count); //  frees a publisher that waits
        pthread_join (thread, NULL);
        if (received == count)
            rate = count / (elapsed / 1e9);
        else
            fprintf (stderr, "zflow_bench_seeds: hpfeeds: %ld of %d arrived\n", received, count);
    } else
        fprintf (stderr, "zflow_bench_seeds: hpfeeds clients did not connect to port %d\n", port);
    zflow_hpfeeds_destroy (&pub);
    zflow_hpfeeds_destroy (&sub);
    return rate;
}

static double s_hpfeeds_seed (const s_setup_t *setup)
{
    return s_relay (setup->ref_broker_port, setup->messages, setup->size);
}

static double s_hpfeeds_zflow (const s_setup_t *setup)
{
    return s_relay (setup->zflow_broker_port, setup->messages, setup->size);
}

//  -------------------------------------------------------------------------
//  Streams over TCP

typedef struct {
    const char *endpoint; //  where the PULL stream listens
    int count;            //  messages
    size_t size;          //  payload bytes
} s_streams_t;

//  Writes n messages of size bytes; false when the reader stopped taking
//  them (a drain that waited 5 s), so that a failed run cannot hang.
static bool s_stream_send (zflow_stream_t *push, zflow_msg_t *msg, size_t size, int n)
{
    for (int i = 0; i < n; i++) {
        memset (zflow_msg_add_empty (msg, size), 'x', size);
        if (zflow_stream_write (push, msg) == ZFLOW_DRAIN && zflow_stream_drain (push, 5000))
            return false;
    }
    return zflow_stream_flush (push, 5000) == 0;
}

//  The writer thread: one warm-up message on the first signal, the
//  count on the second (when the reader's clock runs), then waits for the
//  end.
static void s_stream_writer (zsock_t *pipe, void *args)
{
    s_streams_t *run = (s_streams_t *) args;
    zflow_stream_t *push = zflow_stream_new (ZMQ_PUSH, NULL, run->endpoint, NULL);
    zflow_msg_t *msg = zflow_msg_new ();
    zsock_signal (pipe, 0);
    zsock_wait (pipe);
    if (s_stream_send (push, msg, run->size, 1)) {
        zsock_wait (pipe);
        s_stream_send (push, msg, run->size, run->count);
    }
    zsock_wait (pipe);
    zflow_msg_destroy (&msg);
    zflow_stream_destroy (&push);
}

static double s_streams_zflow (const s_setup_t *setup)
{
    zflow_stream_t *pull = zflow_stream_new (ZMQ_PULL, "tcp://127.0.0.1:*", NULL, NULL);
    if (!pull)
        return -1;
    //  the endpoint with the port the kernel chose
    const char *endpoint = (const char *) zlistx_first (zflow_stream_bindings (pull));
    s_streams_t run = {endpoint, setup->messages, setup->size};
    zactor_t *writer = zactor_new (s_stream_writer, &run);
    zflow_msg_t *msg = zflow_msg_new ();
    //  the warm-up message: the TCP connection is up before the clock
    //  starts, and nothing else is on its way yet (as in seed_aiozmq.py)
    zsock_signal (writer, 0);
    bool ok = zflow_stream_read (pull, msg, 5000) == 0;
    int64_t start = bench_now_ns ();
    if (ok)
        zsock_signal (writer, 0);
    for (int i = 0; i < run.count && ok; i++)
        ok = zflow_stream_read (pull, msg, 5000) == 0 && zflow_msg_part_size (msg, 0) == run.size;
    int64_t elapsed = bench_now_ns () - start;
    zsock_signal (writer, 0);
    zactor_destroy (&writer);
    zflow_msg_destroy (&msg);
    zflow_stream_destroy (&pull);
    if (!ok)
        fprintf (stderr, "zflow_bench_seeds: zflow streams lost or garbled a message\n");
    return ok ? run.count / (elapsed / 1e9) : -1;
}

static double s_streams_seed (const s_setup_t *setup)
{
    char size[32], count[32];
    snprintf (size, sizeof (size), "%zu", setup->size);
    snprintf (count, sizeof (count), "%d", setup->messages);
    return s_seed_rate (setup, "seed_aiozmq.py", (const char *[]){size, count, NULL});
}

//  -------------------------------------------------------------------------
//  The hub: 1,000 subscriptions, 10 % on the published key

#define S_HUB_SUBS 1000
#define S_HUB_MATCHING 100

static atomic_uint_fast64_t s_delivered; //  hub listener calls so far

static void s_count (const zflow_msg_t *envelope, void *arg)
{
    (void) envelope;
    (void) arg;
    atomic_fetch_add_explicit (&s_delivered, 1, memory_order_relaxed);
}

static double s_hub_zflow (const s_setup_t *setup)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "seeds"}, NULL);
    zflow_hub_publisher_t *pub = zflow_hub_publisher_new (hub, NULL, NULL);
    zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new (hub, "seeds", NULL);
    double rate = -1;
    if (hub && pub && sub) {
        zflow_hub_subscriber_set_sync (sub, false);
        //  as the hub suite: the matching listeners spread evenly
        for (size_t i = 0; i < S_HUB_SUBS; i++) {
            char part[32];
            bool match =
                (i * S_HUB_MATCHING) / S_HUB_SUBS != ((i + 1) * S_HUB_MATCHING) / S_HUB_SUBS;
            snprintf (part, sizeof (part), "n%zu", i);
            zflow_key_t *pattern = zflow_key_new ("bench", "topic", match ? "k" : part, NULL);
            zflow_hub_subscriber_add_sync_listener (sub, pattern, s_count, NULL);
            zflow_key_destroy (&pattern);
        }
        zflow_hub_subscriber_sync (sub, 60000);
        zflow_key_t *key = zflow_key_new ("bench", "topic", "k", NULL);
        char payload[16] = "0123456789abcde";
        uint64_t expect = atomic_load (&s_delivered) + (uint64_t) setup->messages * S_HUB_MATCHING;
        int64_t start = bench_now_ns ();
        for (int m = 0; m < setup->messages; m++)
            if (zflow_hub_publisher_publish (pub, key, payload, sizeof (payload)) == ZFLOW_DRAIN)
                zflow_hub_publisher_drain (pub, -1);
        zflow_hub_publisher_flush (pub, -1);
        int64_t deadline = zclock_mono () + 60000;
        while (atomic_load (&s_delivered) < expect && zclock_mono () < deadline)
            ; //  spin: a sleep would add its own granularity
        int64_t elapsed = bench_now_ns () - start;
        if (atomic_load (&s_delivered) == expect)
            rate = (double) setup->messages * S_HUB_MATCHING / (elapsed / 1e9);
        else
            fprintf (stderr, "zflow_bench_seeds: the hub missed deliveries\n");
        zflow_key_destroy (&key);
    }
    zflow_hub_subscriber_destroy (&sub);
    zflow_hub_publisher_destroy (&pub);
    zflow_hub_destroy (&hub);
    return rate;
}

static double s_hub_seed (const s_setup_t *setup)
{
    char subs[32], matching[32], count[32];
    snprintf (subs, sizeof (subs), "%d", S_HUB_SUBS);
    snprintf (matching, sizeof (matching), "%d", S_HUB_MATCHING);
    snprintf (count, sizeof (count), "%d", setup->messages);
    return s_seed_rate (setup, "seed_aiopubsub.py", (const char *[]){subs, matching, count, NULL});
}

//  -------------------------------------------------------------------------
//  Centrifugo: cent and the zflow sink to the same server

//  Sends count envelopes {"n": first + i, "text": "hello world"} to the
//  sink. Returns false when the sink stopped taking them.
static bool s_sink_publish (zflow_stream_t *out, zflow_msg_t *msg, zflow_key_t *key, int first,
                            int count)
{
    char payload[80];
    for (int i = 0; i < count; i++) {
        int size =
            snprintf (payload, sizeof (payload), "{\"n\":%d,\"text\":\"hello world\"}", first + i);
        zflow_envelope_encode_key (msg, key, NULL, payload, (size_t) size);
        if (zflow_stream_write (out, msg) == ZFLOW_DRAIN && zflow_stream_drain (out, 30000))
            return false;
    }
    return zflow_stream_flush (out, 30000) == 0;
}

//  Waits until the sink has published target messages in all. Returns
//  false when one was dropped or refused, or after 60 s.
static bool s_sink_wait (zflow_centrifugo_sink_t *sink, uint64_t target)
{
    uint64_t published = 0, lost = 0;
    int64_t deadline = zclock_mono () + 60000;
    while (published + lost < target && zclock_mono () < deadline) {
        zhash_t *stats = zflow_centrifugo_sink_stats (sink, 5000);
        published = zflow_actor_stats_get (stats, "published");
        lost = zflow_actor_stats_get (stats, "drops");
        zhash_destroy (&stats);
        if (published + lost < target)
            zclock_sleep (1);
    }
    if (published != target)
        fprintf (stderr, "zflow_bench_seeds: the sink published %" PRIu64 " of %" PRIu64 "\n",
                 published, target);
    return published == target;
}

static double s_centrifugo_zflow (const s_setup_t *setup)
{
    static int serial = 0;
    char endpoint[64];
    snprintf (endpoint, sizeof (endpoint), "inproc://bench-seeds-sink-%d", ++serial);
    zflow_centrifugo_sink_config_t config;
    zflow_centrifugo_sink_config_init (&config);
    config.address = setup->centrifugo;
    config.api_key = S_CENTRIFUGO_API_KEY;
    config.input_type = ZMQ_PULL;
    config.input_bind = endpoint;
    config.batch_max = (size_t) setup->batch;
    config.channel_rule = "{1}"; //  key seeds/bench: channel "bench", as cent's
    zflow_centrifugo_sink_t *sink = zflow_centrifugo_sink_new (&config, NULL);
    if (!sink)
        return -1;
    zflow_stream_t *out = zflow_stream_new (ZMQ_PUSH, NULL, endpoint, NULL);
    zflow_key_t *key = zflow_key_new ("seeds", "bench", NULL);
    zflow_msg_t *msg = zflow_msg_new ();
    //  one message first, as seed_cent.py: the connection is open before
    //  the clock starts
    bool ok = s_sink_publish (out, msg, key, -1, 1) && s_sink_wait (sink, 1);
    int64_t start = bench_now_ns ();
    ok = ok && s_sink_publish (out, msg, key, 0, setup->messages) &&
         s_sink_wait (sink, (uint64_t) setup->messages + 1);
    int64_t elapsed = bench_now_ns () - start;
    zflow_msg_destroy (&msg);
    zflow_key_destroy (&key);
    zflow_stream_destroy (&out);
    zflow_centrifugo_sink_destroy (&sink);
    return ok ? setup->messages / (elapsed / 1e9) : -1;
}

static double s_centrifugo_seed (const s_setup_t *setup)
{
    char count[32], batch[32];
    snprintf (count, sizeof (count), "%d", setup->messages);
    snprintf (batch, sizeof (batch), "%d", setup->batch);
    return s_seed_rate (
        setup, "seed_cent.py",
        (const char *[]){setup->centrifugo, S_CENTRIFUGO_API_KEY, count, batch, NULL});
}

//  -------------------------------------------------------------------------
//  Figures

typedef double (s_side_fn) (const s_setup_t *setup);

typedef struct {
    const char *name;     //  FIGURE name
    const char *baseline; //  the seed, as the table shows it
    size_t size;          //  payload size (0: not one size)
    int divide;           //  messages = count / divide ...
    int multiply;         //  ... * multiply
    int batch;            //  commands per request (Centrifugo)
    s_side_fn *seed;      //  one run of the seed
    s_side_fn *zflow;     //  one run of zflow
} s_figure_t;

static const s_figure_t s_figures[] = {
    {"hpfeeds_relay_100", "hpfeeds 3.1.0 broker", 100, 1, 1, 0, s_hpfeeds_seed, s_hpfeeds_zflow},
    {"aiozmq_stream_16", "aiozmq 1.0.0 streams", 16, 1, 1, 0, s_streams_seed, s_streams_zflow},
    {"aiozmq_stream_256", "aiozmq 1.0.0 streams", 256, 1, 1, 0, s_streams_seed, s_streams_zflow},
    {"aiopubsub_hub", "aiopubsub 3.0.0 hub", 16, 1, 1, 0, s_hub_seed, s_hub_zflow},
    {"cent_publish", "cent 5.2.0 publish", 0, 20, 1, 1, s_centrifugo_seed, s_centrifugo_zflow},
    {"cent_batch", "cent 5.2.0 batch of 100", 0, 2, 1, 100, s_centrifugo_seed, s_centrifugo_zflow},
};

//  Measures one figure over the rounds and prints it. Returns 0, or -1
//  when a run failed.
static int s_measure (const s_figure_t *figure, s_setup_t *setup)
{
    setup->size = figure->size;
    setup->batch = figure->batch;
    setup->messages = setup->count / figure->divide * figure->multiply;
    if (setup->messages < 1)
        setup->messages = 1;
    double seed[100], mine[100];
    for (int round = 0; round < setup->runs; round++) {
        bench_progress (figure->name, round, setup->runs);
        seed[round] = figure->seed (setup);
        mine[round] = figure->zflow (setup);
        if (seed[round] <= 0 || mine[round] <= 0) {
            fprintf (stderr, "\nzflow_bench_seeds: %s: a run failed (seed %.0f, zflow %.0f)\n",
                     figure->name, seed[round], mine[round]);
            return -1;
        }
    }
    bench_progress (figure->name, setup->runs, setup->runs);
    int runs = setup->runs;
    double seed_median = bench_median (seed, runs), mine_median = bench_median (mine, runs);
    printf ("%-18s %7d msgs  %-24s %12.0f /s  zflow %12.0f /s  ratio %.2f\n", figure->name,
            setup->messages, figure->baseline, seed_median, mine_median, mine_median / seed_median);
    bench_figure_print ("seeds", figure->name, figure->size, figure->baseline,
                        (bench_spread_t){seed_median, seed[0], seed[runs - 1]},
                        (bench_spread_t){mine_median, mine[0], mine[runs - 1]});
    fflush (stdout);
    return 0;
}

//  Starts a server through seed_peers.py; returns its port, or -1.
static int s_server (s_child_t *child, const s_setup_t *setup, const char *what)
{
    if (s_spawn (child, setup, "seed_peers.py", (const char *[]){what, NULL}))
        return -1;
    double port = s_expect (child, "ready");
    if (port <= 0) {
        fprintf (stderr, "zflow_bench_seeds: %s did not start\n", what);
        s_finish (child);
        return -1;
    }
    return (int) port;
}

//  Checks the peers (seed_peers.py names what is missing on stderr) and
//  echoes their versions. Returns 0, or -1.
static int s_check (const s_setup_t *setup)
{
    if (access (setup->python, X_OK)) {
        fprintf (stderr,
                 "zflow_bench_seeds: missing: %s (the peers' venv: run "
                 "scripts/install-deps.sh, or set ZFLOW_PEERS)\n",
                 setup->python);
        return -1;
    }
    s_child_t child;
    if (s_spawn (&child, setup, "seed_peers.py", (const char *[]){"check", NULL}))
        return -1;
    char line[1024];
    while (fgets (line, sizeof (line), child.out))
        printf ("%s", line); //  "seeds: <versions>"
    if (s_finish (&child) != 0) {
        fprintf (stderr, "zflow_bench_seeds: peers missing (above): run scripts/install-deps.sh\n");
        return -1;
    }
    return 0;
}

int main (int argc, char *argv[])
{
    s_setup_t setup = {.count = 20000, .runs = 3};
    for (int i = 1; i < argc; i++) {
        if (streq (argv[i], "-n") && i + 1 < argc)
            setup.count = atoi (argv[++i]);
        else if (streq (argv[i], "-r") && i + 1 < argc)
            setup.runs = atoi (argv[++i]);
        else {
            fprintf (stderr, "usage: %s [-n COUNT] [-r RUNS]\n", argv[0]);
            return streq (argv[i], "-h") || streq (argv[i], "--help") ? 0 : 2;
        }
    }
    if (setup.count < 1 || setup.runs < 1 || setup.runs > 100) {
        fprintf (stderr, "zflow_bench_seeds: COUNT must be >= 1 and RUNS 1..100\n");
        return 2;
    }
    const char *peers = getenv ("ZFLOW_PEERS");
    const char *seeds = getenv ("ZFLOW_SEEDS_DIR");
    snprintf (setup.python, sizeof (setup.python), "%s/venv/bin/python3",
              peers ? peers : ZFLOW_PEERS_DEFAULT);
    snprintf (setup.seeds, sizeof (setup.seeds), "%s", seeds ? seeds : ZFLOW_SEEDS_DIR);
    signal (SIGPIPE, SIG_IGN);
    bench_print_host (false);
    if (s_check (&setup))
        return 1;

    //  the servers, for every round: the reference broker and Centrifugo
    //  as processes, the zflow broker embedded
    s_child_t ref_broker = {0}, centrifugo = {0};
    zflow_hpfeeds_broker_config_t broker_config;
    zflow_hpfeeds_broker_config_init (&broker_config);
    broker_config.name = "seeds";
    broker_config.slow_policy = ZFLOW_HPFEEDS_SLOW_BLOCK; //  lossless, as the window is
    zflow_hpfeeds_broker_t *broker = zflow_hpfeeds_broker_new (&broker_config, NULL);
    const char *chans[] = {"bench", NULL};
    if (broker) {
        zflow_hpfeeds_broker_add_user (broker, "pub", "s", chans, NULL);
        zflow_hpfeeds_broker_add_user (broker, "sub", "s", NULL, chans);
        setup.zflow_broker_port = zflow_hpfeeds_broker_bind (broker, "127.0.0.1", 0);
    }
    setup.ref_broker_port = s_server (&ref_broker, &setup, "hpfeeds-broker");
    int centrifugo_port = s_server (&centrifugo, &setup, "centrifugo");
    snprintf (setup.centrifugo, sizeof (setup.centrifugo), "http://127.0.0.1:%d/api",
              centrifugo_port);
    int failed = !broker || setup.zflow_broker_port <= 0 || setup.ref_broker_port <= 0 ||
                 centrifugo_port <= 0;
    printf ("%-18s %7s       %-24s %15s  %21s  %s\n", "figure", "count", "library", "msgs/s",
            "zflow msgs/s", "zflow/library");
    for (size_t i = 0; i < sizeof (s_figures) / sizeof (s_figures[0]) && !failed; i++)
        failed = s_measure (&s_figures[i], &setup) != 0;
    s_finish (&ref_broker);
    s_finish (&centrifugo);
    zflow_hpfeeds_broker_destroy (&broker);
    return failed ? 1 : 0;
}
