/*  =========================================================================
    test_hpfeeds_direct - publishing through direct writes (the publishing
    thread writes full buffers to the socket itself): every frame arrives
    whole and in order when the socket fills in the middle of a write,
    when a large publish travels through the actor between direct writes,
    and the tail of a burst is not left behind

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_hpfeeds_proto.h"
#include "zflow_testing.h"
#include "zflow_testing_tcp.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

//  abort, not exit: a failure in a helper thread must not wait on the
//  live actors in exit's handlers
#undef CHECK
#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if (!(expr)) {                                                                             \
            fprintf (stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr);              \
            abort ();                                                                              \
        }                                                                                          \
    } while (0)

#define S_COUNT 200000 //  100-byte publishes: ~26 MB, far over the socket buffers

static zflow_hpfeeds_t *s_client (int port, const char *ident, const char *secret)
{
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.port = port;
    config.ident = ident;
    config.secret = secret;
    config.outbox_policy = ZFLOW_HPFEEDS_BLOCK; //  nothing may be dropped here
    config.publish_timeout_ms = 10000;          //  a stuck test fails, not hangs
    int rc = 0;
    zflow_hpfeeds_t *client = zflow_hpfeeds_new (&config, &rc);
    CHECK (client && rc == 0);
    return client;
}

static void s_wait_connected (zflow_hpfeeds_t *client)
{
    int64_t deadline = zclock_mono () + 5000;
    while (zclock_mono () < deadline) {
        int type = 0;
        char *text = zflow_hpfeeds_event (client, &type, 100);
        zstr_free (&text);
        if (type == ZFLOW_HPFEEDS_EVENT_CONNECTED)
            return;
    }
    CHECK (false);
}

//  The payload of publish number index: 100 bytes that name it.
static void s_payload (char *payload, long index)
{
    memset (payload, '.', 100);
    char head[16];
    int size = snprintf (head, sizeof (head), "%08ld", index);
    memcpy (payload, head, (size_t) size);
}

//  A raw broker that reads slowly: it accepts one client, sends the info
//  frame, takes the auth, waits until the client's socket is full, then
//  reads every frame and checks the order.
typedef struct {
    int listener; //  its listening socket
    long frames;  //  publish frames read whole and in order
    bool ok;      //  no frame was malformed or out of order
} slow_broker_t;

static void *s_slow_broker (void *arg)
{
    slow_broker_t *self = (slow_broker_t *) arg;
    int fd = accept (self->listener, NULL, NULL);
    CHECK (fd >= 0);
    uint8_t info[64];
    int size = zflow__hpfeeds_encode_info (info, "slow", (const uint8_t *) "abcd", 4);
    CHECK (send (fd, info, (size_t) size, 0) == size);
    zclock_sleep (700); //  the publisher fills the socket meanwhile
    static uint8_t buf[1 << 20];
    size_t held = 0;
    bool authed = false;
    self->ok = true;
    while (self->frames < S_COUNT && self->ok) {
        struct pollfd item = {fd, POLLIN, 0};
        CHECK (poll (&item, 1, 10000) == 1);
        ssize_t got = recv (fd, buf + held, sizeof (buf) - held, 0);
        CHECK (got > 0);
        held += (size_t) got;
        size_t offset = 0;
        zflow_hpfeeds_frame_t frame;
        while (zflow__hpfeeds_parse (buf + offset, held - offset, &frame, NULL, 0) == 1) {
            offset += frame.size;
            if (!authed) {
                authed = frame.op == ZFLOW_HPFEEDS_OP_AUTH;
                continue;
            }
            char expected[100];
            s_payload (expected, self->frames);
            if (frame.op != ZFLOW_HPFEEDS_OP_PUBLISH || frame.data_size != 100 ||
                memcmp (frame.data, expected, 100) || frame.channel_size != 5 ||
                memcmp (frame.channel, "chan1", 5))
                self->ok = false;
            self->frames++;
        }
        memmove (buf, buf + offset, held - offset);
        held -= offset;
    }
    close (fd);
    return NULL;
}

//  One round against a slow raw broker: every frame must arrive whole and
//  in order. Returns the direct writes the socket did not take whole.
static uint64_t s_round_socket_full (void)
{
    int port, listener = zflow_testing_listen (16 * 1024, &port);
    CHECK (listener >= 0);
    slow_broker_t broker = {listener, 0, false};
    pthread_t thread;
    pthread_create (&thread, NULL, s_slow_broker, &broker);
    zflow_hpfeeds_t *client = s_client (port, "alice", "sa");
    s_wait_connected (client);
    zclock_sleep (150); //  past the auth wait: direct writes are on
    char payload[100];
    for (long index = 0; index < S_COUNT; index++) {
        s_payload (payload, index);
        CHECK (zflow_hpfeeds_publish (client, "chan1", payload, 100) == 0);
    }
    pthread_join (thread, NULL);
    CHECK (broker.ok);
    CHECK (broker.frames == S_COUNT);
    zhash_t *stats = zflow_hpfeeds_stats (client, 5000);
    printf (" (%s direct writes, %s stalled)", (char *) zhash_lookup (stats, "direct_writes"),
            (char *) zhash_lookup (stats, "direct_stalls"));
    CHECK (zflow_actor_stats_get (stats, "published") == S_COUNT);
    CHECK (zflow_actor_stats_get (stats, "sent") == S_COUNT);
    CHECK (zflow_actor_stats_get (stats, "outbox_drops") == 0);
    uint64_t stalls = zflow_actor_stats_get (stats, "direct_stalls");
    zhash_destroy (&stats);
    zflow_hpfeeds_destroy (&client);
    close (listener);
    return stalls;
}

//  The socket fills in the middle of direct writes: what it did not take
//  goes through the actor, and the broker sees every frame whole, in order.
//  Whether the socket fills during a direct write or during one of the
//  actor's own writes (after it took a burst's tail) is down to timing, so
//  rounds repeat until a direct write has stalled (most runs: the first).
static void test_socket_full (void)
{
    int round = 0;
    while (round < 8 && s_round_socket_full () == 0)
        round++;
    CHECK (round < 8);
}

//  Through the embedded broker: bursts of small publishes written
//  directly, with large ones (which travel through the actor) between
//  them, arrive in order; the last publish of the run arrives too.
static void test_order_with_large (void)
{
    zflow_hpfeeds_broker_t *broker = zflow_hpfeeds_broker_new (
        &(zflow_hpfeeds_broker_config_t){.name = "direct", .slow_policy = ZFLOW_HPFEEDS_SLOW_BLOCK},
        NULL);
    const char *chans[] = {"chan1", NULL};
    CHECK (zflow_hpfeeds_broker_add_user (broker, "alice", "sa", chans, chans) == 0);
    int port = zflow_hpfeeds_broker_bind (broker, "127.0.0.1", 0);
    CHECK (port > 0);
    zflow_hpfeeds_t *pub = s_client (port, "alice", "sa");
    zflow_hpfeeds_t *sub = s_client (port, "alice", "sa");
    CHECK (zflow_hpfeeds_subscribe (sub, "chan1") == 0);
    s_wait_connected (pub);
    s_wait_connected (sub);
    zclock_sleep (100);
    size_t large_size = 100 * 1024;
    char *large = (char *) malloc (large_size);
    int total = 20000, received = 0;
    //  the reader runs along in this thread between bursts
    zflow_msg_t *msg = zflow_msg_new ();
    for (int index = 0; index < total; index++) {
        bool is_large = index % 5000 == 4999;
        char payload[100];
        s_payload (payload, index);
        if (is_large) {
            memset (large, 'L', large_size);
            memcpy (large, payload, 8);
        }
        CHECK (zflow_hpfeeds_publish (pub, "chan1", is_large ? large : payload,
                                      is_large ? large_size : 100) == 0);
        while (index - received > 5000) {
            const void *data;
            size_t size;
            CHECK (zflow_hpfeeds_read (sub, msg, 5000) == 0);
            CHECK (zflow_hpfeeds_unpack (msg, NULL, NULL, &data, &size) == 0);
            s_payload (payload, received);
            CHECK (memcmp (data, payload, 8) == 0);
            received++;
        }
    }
    while (received < total) {
        const void *data;
        size_t size;
        char payload[100];
        CHECK (zflow_hpfeeds_read (sub, msg, 5000) == 0);
        CHECK (zflow_hpfeeds_unpack (msg, NULL, NULL, &data, &size) == 0);
        s_payload (payload, received);
        CHECK (memcmp (data, payload, 8) == 0);
        CHECK (size == (received % 5000 == 4999 ? large_size : 100));
        received++;
    }
    //  a lone publish after the burst goes out at once, not after a wait
    int64_t start = zclock_mono ();
    CHECK (zflow_hpfeeds_publish (pub, "chan1", "lone", 4) == 0);
    CHECK (zflow_hpfeeds_read (sub, msg, 5000) == 0);
    printf (" (lone publish after the burst: %d ms)", (int) (zclock_mono () - start));
    CHECK (zclock_mono () - start < 1000);
    zhash_t *stats = zflow_hpfeeds_stats (pub, 5000);
    CHECK (zflow_actor_stats_get (stats, "published") == (uint64_t) total + 1);
    CHECK (zflow_actor_stats_get (stats, "sent") == (uint64_t) total + 1);
    zhash_destroy (&stats);
    zflow_msg_destroy (&msg);
    free (large);
    zflow_hpfeeds_destroy (&pub);
    zflow_hpfeeds_destroy (&sub);
    zflow_hpfeeds_broker_destroy (&broker);
}

int main (void)
{
    setvbuf (stdout, NULL, _IONBF, 0);
    printf ("test_hpfeeds_direct:\n");
    RUN (test_socket_full);
    RUN (test_order_with_large);
    printf ("test_hpfeeds_direct: OK\n");
    return 0;
}
