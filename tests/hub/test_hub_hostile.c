/*  Hostile remote peers against a hub bound on tcp:// (loopback only, bounded
    loops). The peers speak ZMTP 3.0 by hand over plain sockets, so that they
    hold no ZeroMQ state of their own and this process's memory is the hub's:

    - a SUB that never reads but sends a 3-byte subscription every 333 ms
      (which keeps the ZMTP heartbeat alive) must not hold a lossless hub back
      longer than its stall limit;
    - a flood of distinct subscriptions from one peer must leave the hub
      under 64 MiB over its idle size;
    - 8 peers each sending part of a 64 MiB frame must too.

    Each prints a REPORT line with its figure and goal, and fails when the
    goal is missed. */
#include "hub/hub_testutil.h"
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MIB (1024.0 * 1024.0)
#define GOAL_RSS_MIB 64
#define STALL_LIMIT 1500

//  ---------------------------------------------------------------------
//  A ZMTP 3.0 peer by hand (NULL mechanism)

//  Connects to a tcp://127.0.0.1:port endpoint as a peer of socket type
//  type ("SUB", "PUB"); rcvbuf > 0 shrinks its receive buffer first. Does
//  the handshake and reads the hub's greeting and READY, nothing more.
//  Returns the file descriptor.
static int s_zmtp_connect (const char *endpoint, const char *type, int rcvbuf)
{
    const char *colon = strrchr (endpoint, ':');
    CHECK (colon);
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    CHECK (fd >= 0);
    if (rcvbuf > 0)
        CHECK (setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof (rcvbuf)) == 0);
    struct timeval timeout = {2, 0}; //  no send or receive blocks the test for long
    setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof (timeout));
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof (timeout));
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_port = htons ((uint16_t) atoi (colon + 1));
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    CHECK (connect (fd, (struct sockaddr *) &address, sizeof (address)) == 0);

    unsigned char greeting[64] = {0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0x7F, 3, 0, 'N', 'U', 'L', 'L'};
    unsigned char ready[64];
    size_t type_size = strlen (type);
    size_t body = 1 + 5 + 1 + 11 + 4 + type_size;
    ready[0] = 0x04; //  short command
    ready[1] = (unsigned char) body;
    memcpy (ready + 2, "\x05READY\x0bSocket-Type\0\0\0", 21);
    ready[23] = (unsigned char) type_size;
    memcpy (ready + 24, type, type_size);
    CHECK (send (fd, greeting, sizeof (greeting), MSG_NOSIGNAL) == sizeof (greeting));
    CHECK (send (fd, ready, 2 + body, MSG_NOSIGNAL) == (ssize_t) (2 + body));

    unsigned char reply[64 + 2 + 255];
    size_t have = 0;
    while (have < 66 || have < 66 + (size_t) reply[65]) {
        ssize_t rc = recv (fd, reply + have, have < 66 ? 66 - have : 66 + reply[65] - have, 0);
        CHECK (rc > 0);
        have += (size_t) rc;
    }
    CHECK (reply[0] == 0xFF && reply[64] == 0x04 && memcmp (reply + 67, "READY", 5) == 0);
    return fd;
}

//  Sends a subscription (ZMTP 3.0: a message "\x01" topic). Returns false
//  when the hub is gone (closed, reset, or not reading for 2 s).
static bool s_zmtp_subscribe (int fd, const void *topic, size_t size)
{
    unsigned char frame[2 + 256];
    CHECK (size < 255);
    frame[0] = 0;
    frame[1] = (unsigned char) (size + 1);
    frame[2] = 1;
    memcpy (frame + 3, topic, size);
    return send (fd, frame, size + 3, MSG_NOSIGNAL) == (ssize_t) (size + 3);
}

//  ---------------------------------------------------------------------
//  Memory

//  Reads a "VmRSS" / "VmHWM" figure of this process, in bytes.
static size_t s_vm (const char *name)
{
    FILE *file = fopen ("/proc/self/status", "r");
    CHECK (file);
    char line[256];
    size_t kib = 0;
    size_t size = strlen (name);
    while (fgets (line, sizeof (line), file))
        if (strncmp (line, name, size) == 0 && line[size] == ':')
            kib = (size_t) strtoull (line + size + 1, NULL, 10);
    fclose (file);
    return kib * 1024;
}

//  Resets the peak (VmHWM) to the current RSS.
static void s_reset_peak (void)
{
    FILE *file = fopen ("/proc/self/clear_refs", "w");
    CHECK (file);
    fputs ("5", file);
    fclose (file);
}

static uint64_t s_stat (zflow_hub_t *hub, const char *name)
{
    zhash_t *stats = zflow_hub_stats (hub, 5000);
    CHECK (stats);
    uint64_t value = zflow_actor_stats_get (stats, name);
    zhash_destroy (&stats);
    return value;
}

//  Waits until the hub's counter name stops moving (or 10 s pass).
static void s_settle (zflow_hub_t *hub, const char *name)
{
    uint64_t last = s_stat (hub, name);
    for (int i = 0; i < 100; i++) {
        zclock_sleep (100);
        uint64_t now = s_stat (hub, name);
        if (now == last)
            return;
        last = now;
    }
}

static zflow_hub_t *s_hub_new (const char *name, int stall_limit_ms)
{
    zflow_hub_config_t config;
    zflow_hub_config_init (&config);
    config.name = name;
#ifdef ZFLOW_HUB_DEFAULT_STALL_LIMIT
    config.stall_limit_ms = stall_limit_ms;
#else
    (void) stall_limit_ms;
#endif
    zflow_hub_t *hub = zflow_hub_new (&config, NULL);
    CHECK (hub);
    return hub;
}

//  ---------------------------------------------------------------------
//  A SUB that never reads

typedef struct {
    zflow_hub_subscriber_t *sub; //  the well-behaved subscriber
    volatile bool stop;          //  set by the main thread at the end
    int received;                //  messages consumed
    int64_t last;                //  when the last one came
    int64_t max_gap;             //  longest time between two, ms
} s_consumer_t;

static void *s_consumer (void *arg)
{
    s_consumer_t *self = (s_consumer_t *) arg;
    zflow_msg_t *env = zflow_msg_new ();
    self->last = zclock_mono ();
    while (!self->stop) {
        int rc = zflow_hub_subscriber_consume (self->sub, env, 50);
        int64_t now = zclock_mono ();
        if (rc == 0) {
            self->received++;
            self->last = now;
        }
        if (now - self->last > self->max_gap)
            self->max_gap = now - self->last;
    }
    zflow_msg_destroy (&env);
    return NULL;
}

typedef struct {
    int fd;             //  the hostile peer's socket
    volatile bool stop; //  set by the main thread at the end
    bool dropped;       //  the hub closed the connection
} s_dribbler_t;

//  Sends 3 bytes (a subscription to everything) every 333 ms, never reads.
static void *s_dribbler (void *arg)
{
    s_dribbler_t *self = (s_dribbler_t *) arg;
    while (!self->stop && !self->dropped) {
        if (!s_zmtp_subscribe (self->fd, "", 0))
            self->dropped = true;
        zclock_sleep (333);
    }
    return NULL;
}

#define STALL_MSGS 40000
#define STALL_PAYLOAD 1024
#define STALL_DEADLINE 20000

static void test_stalled_subscriber (void)
{
    zflow_hub_t *hub = s_hub_new ("hostile-stall", STALL_LIMIT);
    CHECK (zflow_hub_bind (hub, NULL, "tcp://127.0.0.1:*") == 0);
    zflow_hub_publisher_t *pub = zflow_hub_publisher_new (hub, NULL, NULL);
    zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new (hub, "good", NULL);
    CHECK (pub && sub);
    CHECK (zflow_hub_subscriber_set_queue (sub, 100, ZFLOW_HUB_BLOCK) == 0);
    zflow_key_t *pattern = K ("stall/*");
    CHECK (zflow_hub_subscriber_subscribe (sub, pattern) == 0);

    s_dribbler_t dribbler = {s_zmtp_connect (zflow_hub_bound_sub (hub), "SUB", 4096), false, false};
    CHECK (s_zmtp_subscribe (dribbler.fd, "", 0));
    //  the subscription is in once the hub has counted it
    int64_t deadline = zclock_mono () + 5000;
    while (s_stat (hub, "prefix_subscriptions") < 1 && zclock_mono () < deadline)
        zclock_sleep (10);
    pthread_t dribble_thread, consume_thread;
    pthread_create (&dribble_thread, NULL, s_dribbler, &dribbler);
    s_consumer_t consumer = {sub, false, 0, 0, 0};
    pthread_create (&consume_thread, NULL, s_consumer, &consumer);

    zflow_key_t *key = K ("stall/data");
    char payload[STALL_PAYLOAD] = {0};
    deadline = zclock_mono () + STALL_DEADLINE;
    int sent = 0;
    while (sent < STALL_MSGS && zclock_mono () < deadline) {
        int rc = zflow_hub_publisher_publish (pub, key, payload, sizeof (payload));
        CHECK (rc == 0 || rc == ZFLOW_DRAIN);
        sent++;
        while (rc == ZFLOW_DRAIN && zclock_mono () < deadline)
            rc = zflow_hub_publisher_drain (pub, 100) == 0 ? 0 : ZFLOW_DRAIN;
    }
    while (zflow_hub_publisher_flush (pub, 100) != 0 && zclock_mono () < deadline)
        ;
    while (consumer.received < sent && zclock_mono () < deadline)
        zclock_sleep (10);
    consumer.stop = true;
    dribbler.stop = true;
    pthread_join (consume_thread, NULL);
    pthread_join (dribble_thread, NULL);

    uint64_t stalled = 0;
#ifdef ZFLOW_HUB_DEFAULT_STALL_LIMIT
    stalled = s_stat (hub, "stalled_disconnects");
#endif
    int64_t goal = STALL_LIMIT + STALL_LIMIT / 2;
    printf ("\nREPORT hub_stalled_sub max_stall_ms=%" PRId64 " goal<=%" PRId64
            " (stall_limit_ms=%d + 50%% for the check interval and a loaded machine)"
            " sent=%d received=%d stalled_disconnects=%" PRIu64 "\n",
            consumer.max_gap, goal, STALL_LIMIT, sent, consumer.received, stalled);
    CHECK (sent == STALL_MSGS && consumer.received == STALL_MSGS);
    CHECK (consumer.max_gap <= goal);
    CHECK (stalled == 1);

    close (dribbler.fd);
    zflow_key_destroy (&key);
    zflow_key_destroy (&pattern);
    zflow_hub_subscriber_destroy (&sub);
    zflow_hub_publisher_destroy (&pub);
    zflow_hub_destroy (&hub);
}

//  ---------------------------------------------------------------------
//  A subscription flood

#define FLOOD_BYTES (8 * 1024 * 1024)

static void test_subscription_flood (void)
{
    zflow_hub_t *hub = s_hub_new ("hostile-flood", 0);
    CHECK (zflow_hub_bind (hub, NULL, "tcp://127.0.0.1:*") == 0);
    zclock_sleep (100);
    size_t idle = s_vm ("VmRSS");
    s_reset_peak ();

    int fd = s_zmtp_connect (zflow_hub_bound_sub (hub), "SUB", 0);
    //  distinct topics of 16 pseudo-random hex digits, sent in batches
    uint64_t state = 0x9E3779B97F4A7C15ull;
    size_t sent = 0;
    bool open = true;
    char batch[64 * 1024];
    while (open && sent < FLOOD_BYTES) {
        size_t used = 0;
        while (used + 19 <= sizeof (batch)) {
            state ^= state << 13, state ^= state >> 7, state ^= state << 17;
            char topic[17];
            snprintf (topic, sizeof (topic), "%016" PRIx64, state);
            batch[used++] = 0;
            batch[used++] = 17;
            batch[used++] = 1;
            memcpy (batch + used, topic, 16);
            used += 16;
        }
        ssize_t rc = send (fd, batch, used, MSG_NOSIGNAL);
        if (rc <= 0)
            open = false;
        else
            sent += (size_t) rc;
    }
    s_settle (hub, "prefix_subscriptions");
    size_t peak = s_vm ("VmHWM");
    double delta = (double) (peak > idle ? peak - idle : 0) / MIB;
    uint64_t refused = 0;
#ifdef ZFLOW_HUB_DEFAULT_STALL_LIMIT
    refused = s_stat (hub, "subscription_disconnects");
#endif
    printf ("\nREPORT hub_sub_flood rss_delta_mib=%.1f goal<=%d sent_mib=%.1f "
            "subscriptions_seen=%" PRIu64 " subscription_disconnects=%" PRIu64 "\n",
            delta, GOAL_RSS_MIB, (double) sent / MIB, s_stat (hub, "prefix_subscriptions"),
            refused);
    CHECK_RSS_GOAL (delta <= GOAL_RSS_MIB);
    CHECK (refused == 1);
    close (fd);
    zflow_hub_destroy (&hub);
}

//  ---------------------------------------------------------------------
//  Peers holding part of a large frame

#define FRAME_PEERS 8
#define FRAME_SIZE (64ull * 1024 * 1024)
#define FRAME_SENT (12 * 1024 * 1024)

static void test_partial_frames (void)
{
    zflow_hub_t *hub = s_hub_new ("hostile-frames", 0);
    CHECK (zflow_hub_bind (hub, "tcp://127.0.0.1:*", NULL) == 0);
    zclock_sleep (100);
    size_t idle = s_vm ("VmRSS");
    s_reset_peak ();

    int fds[FRAME_PEERS];
    static char chunk[256 * 1024];
    size_t refused = 0;
    for (int i = 0; i < FRAME_PEERS; i++) {
        fds[i] = s_zmtp_connect (zflow_hub_bound_pub (hub), "PUB", 0);
        unsigned char header[9] = {0x02}; //  long frame, last part
        for (int b = 0; b < 8; b++)
            header[1 + b] = (unsigned char) (FRAME_SIZE >> (56 - 8 * b));
        bool open = send (fds[i], header, sizeof (header), MSG_NOSIGNAL) == sizeof (header);
        for (size_t sent = 0; open && sent < FRAME_SENT; sent += sizeof (chunk))
            open = send (fds[i], chunk, sizeof (chunk), MSG_NOSIGNAL) == sizeof (chunk);
        if (!open)
            refused++;
    }
    zclock_sleep (500);
    size_t peak = s_vm ("VmHWM");
    double delta = (double) (peak > idle ? peak - idle : 0) / MIB;
    printf ("\nREPORT hub_partial_frames rss_delta_mib=%.1f goal<=%d peers=%d "
            "frame_mib=64 sent_mib_each=%d refused=%zu\n",
            delta, GOAL_RSS_MIB, FRAME_PEERS, FRAME_SENT / (1024 * 1024), refused);
    CHECK_RSS_GOAL (delta <= GOAL_RSS_MIB);
    CHECK (refused == FRAME_PEERS);
    for (int i = 0; i < FRAME_PEERS; i++)
        close (fds[i]);
    zflow_hub_destroy (&hub);
}

//  ---------------------------------------------------------------------
//  The limits as configured, and a bad config

#ifdef ZFLOW_HUB_DEFAULT_STALL_LIMIT
static void test_limits (void)
{
    int err = 0;
    zflow_hub_config_t config;
    zflow_hub_config_init (&config);
    CHECK (config.max_message == 0 && config.stall_limit_ms == 0);
    config.name = "hostile-bad";
    config.max_message = (size_t) INT_MAX + 1;
    CHECK (zflow_hub_new (&config, &err) == NULL);
    CHECK_RC (err, ZFLOW_EINVAL);

    //  4 KiB of topics in all: the peer holding the most goes, the small
    //  one stays; 20 subscriptions per connection: the 21st drops it
    config.name = "hostile-limits";
    config.max_message = 0;
    config.max_subscription_bytes = 4096;
    config.max_peer_subscriptions = 20;
    zflow_hub_t *hub = zflow_hub_new (&config, &err);
    CHECK (hub);
    CHECK (zflow_hub_bind (hub, NULL, "tcp://127.0.0.1:*") == 0);
    int small = s_zmtp_connect (zflow_hub_bound_sub (hub), "SUB", 0);
    int big = s_zmtp_connect (zflow_hub_bound_sub (hub), "SUB", 0);
    int many = s_zmtp_connect (zflow_hub_bound_sub (hub), "SUB", 0);
    char topic[250];
    memset (topic, 'x', sizeof (topic));
    CHECK (s_zmtp_subscribe (small, "small", 5));
    for (int i = 0; i < 21; i++) //  231 bytes
        s_zmtp_subscribe (many, topic, 1 + i);
    int64_t deadline = zclock_mono () + 5000;
    while (s_stat (hub, "subscription_disconnects") < 1 && zclock_mono () < deadline)
        zclock_sleep (10);
    CHECK (s_stat (hub, "subscription_disconnects") == 1); //  many, at its 21st
    CHECK (s_stat (hub, "remote_connections") == 1);
    for (int i = 0; i < 17; i++) { //  big passes 4 KiB at its 17th topic
        topic[0] = (char) ('a' + i);
        s_zmtp_subscribe (big, topic, 250);
    }
    while (s_stat (hub, "subscription_disconnects") < 2 && zclock_mono () < deadline)
        zclock_sleep (10);
    CHECK (s_stat (hub, "subscription_disconnects") == 2);
    CHECK (s_stat (hub, "remote_connections") == 1);
    CHECK (s_stat (hub, "remote_subscription_bytes") == 5);
    //  the dropped connections are closed: reading them ends
    char byte;
    CHECK (recv (big, &byte, 1, 0) <= 0 && recv (many, &byte, 1, 0) <= 0);
    close (small);
    close (big);
    close (many);
    zflow_hub_destroy (&hub);
}
#endif

int main (int argc, char *argv[])
{
    //  one test by name, or all
    const char *only = argc > 1 ? argv[1] : NULL;
    printf ("test_hub_hostile:\n");
    if (!only || streq (only, "flood"))
        RUN (test_subscription_flood);
    if (!only || streq (only, "frames"))
        RUN (test_partial_frames);
    if (!only || streq (only, "stall"))
        RUN (test_stalled_subscriber);
#ifdef ZFLOW_HUB_DEFAULT_STALL_LIMIT
    if (!only || streq (only, "limits"))
        RUN (test_limits);
#endif
    return 0;
}
