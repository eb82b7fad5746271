/*  =========================================================================
    test_hpfeeds_broker - the embedded broker over real TCP on 127.0.0.1,
    driven by a raw blocking socket peer that speaks the protocol by hand

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include "zflow_hpfeeds_proto.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf (stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #x);                 \
            abort ();                                                                              \
        }                                                                                          \
    } while (0)

//  A raw peer: a blocking socket and what it has read.
typedef struct {
    int fd;
    uint8_t buf[1 << 16];
    size_t size;
    uint8_t nonce[64];
    size_t nonce_size;
} peer_t;

static void s_send (peer_t *peer, const void *data, size_t size)
{
    //  a blocking send may still return early (a signal): send the rest
    const uint8_t *cursor = (const uint8_t *) data;
    while (size) {
        ssize_t rc = send (peer->fd, cursor, size, MSG_NOSIGNAL);
        if (rc < 0 && errno == EINTR)
            continue;
        CHECK (rc > 0);
        cursor += rc;
        size -= (size_t) rc;
    }
}

//  Reads the next frame (waits up to 3 s). Returns the frame, or op 255
//  at end of stream.
static zflow_hpfeeds_frame_t s_recv (peer_t *peer)
{
    zflow_hpfeeds_frame_t frame;
    for (;;) {
        int rc = zflow__hpfeeds_parse (peer->buf, peer->size, &frame, NULL, 0);
        CHECK (rc >= 0);
        if (rc == 1)
            return frame;
        struct pollfd item = {peer->fd, POLLIN, 0};
        CHECK (poll (&item, 1, 3000) == 1);
        ssize_t got = recv (peer->fd, peer->buf + peer->size, sizeof (peer->buf) - peer->size, 0);
        if (got <= 0) {
            frame.op = 255;
            return frame;
        }
        peer->size += (size_t) got;
    }
}

static void s_pop (peer_t *peer, const zflow_hpfeeds_frame_t *frame)
{
    memmove (peer->buf, peer->buf + frame->size, peer->size - frame->size);
    peer->size -= frame->size;
}

//  Connects a raw peer (nothing read yet); rcvbuf: the socket's receive
//  buffer (0: the default), set before connecting so that the TCP window is
//  scaled for it.
static peer_t *s_dial (int port, int rcvbuf)
{
    peer_t *peer = (peer_t *) zmalloc (sizeof (peer_t));
    peer->fd = socket (AF_INET, SOCK_STREAM, 0);
    if (rcvbuf)
        setsockopt (peer->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof (rcvbuf));
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_port = htons ((uint16_t) port);
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    CHECK (connect (peer->fd, (struct sockaddr *) &address, sizeof (address)) == 0);
    return peer;
}

//  Connects a raw peer and reads the info frame of the broker "test".
static peer_t *s_connect_rcvbuf (int port, int rcvbuf)
{
    peer_t *peer = s_dial (port, rcvbuf);
    zflow_hpfeeds_frame_t info = s_recv (peer);
    CHECK (info.op == ZFLOW_HPFEEDS_OP_INFO);
    CHECK (info.name_size == 4 && memcmp (info.name, "test", 4) == 0);
    CHECK (info.data_size == ZFLOW_HPFEEDS_NONCE);
    memcpy (peer->nonce, info.data, info.data_size);
    peer->nonce_size = info.data_size;
    s_pop (peer, &info);
    return peer;
}

static peer_t *s_connect (int port)
{
    return s_connect_rcvbuf (port, 0);
}

static void s_close (peer_t **peer_p)
{
    close ((*peer_p)->fd);
    free (*peer_p);
    *peer_p = NULL;
}

static void s_auth (peer_t *peer, const char *ident, const char *secret)
{
    uint8_t hash[20], frame[300];
    CHECK (zflow__hpfeeds_hash (peer->nonce, peer->nonce_size, secret, hash) == 0);
    int size = zflow__hpfeeds_encode_auth (frame, ident, hash);
    s_send (peer, frame, (size_t) size);
}

static void s_sub (peer_t *peer, uint8_t op, const char *ident, const char *channel)
{
    uint8_t frame[600];
    int size = zflow__hpfeeds_encode_sub (frame, op, ident, channel, strlen (channel));
    s_send (peer, frame, (size_t) size);
}

static void s_pub (peer_t *peer, const char *ident, const char *channel, const char *payload)
{
    uint8_t frame[2000];
    long size = zflow__hpfeeds_encode_publish (frame, ident, strlen (ident), channel,
                                               strlen (channel), payload, strlen (payload));
    s_send (peer, frame, (size_t) size);
}

//  Expects an error frame containing text, then the end of the stream.
static void s_expect_refusal (peer_t *peer, const char *text)
{
    zflow_hpfeeds_frame_t frame = s_recv (peer);
    CHECK (frame.op == ZFLOW_HPFEEDS_OP_ERROR);
    char got[600];
    snprintf (got, sizeof (got), "%.*s", (int) frame.data_size, (const char *) frame.data);
    if (!strstr (got, text)) {
        fprintf (stderr, "expected '%s' in '%s'\n", text, got);
        CHECK (false);
    }
    s_pop (peer, &frame);
    CHECK (s_recv (peer).op == 255);
}

//  Publishes until the subscriber's frames arrive.
static void s_expect_publish (peer_t *peer, const char *ident, const char *channel,
                              const char *payload)
{
    zflow_hpfeeds_frame_t frame = s_recv (peer);
    CHECK (frame.op == ZFLOW_HPFEEDS_OP_PUBLISH);
    CHECK (frame.name_size == strlen (ident) && !memcmp (frame.name, ident, frame.name_size));
    CHECK (frame.channel_size == strlen (channel) &&
           !memcmp (frame.channel, channel, frame.channel_size));
    CHECK (frame.data_size == strlen (payload) && !memcmp (frame.data, payload, frame.data_size));
    s_pop (peer, &frame);
}

static zflow_hpfeeds_broker_t *s_broker_with (const zflow_hpfeeds_broker_config_t *config,
                                              int *port_p)
{
    zflow_hpfeeds_broker_t *broker = zflow_hpfeeds_broker_new (config, NULL);
    CHECK (broker);
    const char *pub[] = {"chan1", "chan2", NULL};
    const char *sub[] = {"chan1", "chan2", NULL};
    CHECK (zflow_hpfeeds_broker_add_user (broker, "alice", "secret-a", pub, sub) == 0);
    CHECK (zflow_hpfeeds_broker_add_user (broker, "bob", "secret-b", NULL, sub) == 0);
    CHECK (zflow_hpfeeds_broker_add_user (broker, NULL, "x", NULL, NULL) == ZFLOW_EINVAL);
    int port = zflow_hpfeeds_broker_bind (broker, "127.0.0.1", 0);
    CHECK (port > 0 && port == zflow_hpfeeds_broker_port (broker));
    CHECK (zflow_hpfeeds_broker_bind (broker, "127.0.0.1", 0) == ZFLOW_EINVAL);
    *port_p = port;
    return broker;
}

static zflow_hpfeeds_broker_t *s_broker (int *port_p)
{
    return s_broker_with (&(zflow_hpfeeds_broker_config_t){.name = "test"}, port_p);
}

static void test_round_trip (zflow_hpfeeds_broker_t *broker, int port)
{
    peer_t *alice = s_connect (port), *bob = s_connect (port);
    s_auth (alice, "alice", "secret-a");
    s_auth (bob, "bob", "secret-b");
    s_sub (bob, ZFLOW_HPFEEDS_OP_SUBSCRIBE, "bob", "chan1");
    s_sub (alice, ZFLOW_HPFEEDS_OP_SUBSCRIBE, "alice", "chan2");
    zclock_sleep (100); //  the protocol has no acks: let the subscribes land
    s_pub (alice, "alice", "chan1", "hello");
    s_pub (alice, "alice", "chan2", "to myself");
    s_expect_publish (bob, "alice", "chan1", "hello");
    s_expect_publish (alice, "alice", "chan2", "to myself");
    //  unsubscribe: nothing more arrives on chan1, chan2 is not bob's
    s_sub (bob, ZFLOW_HPFEEDS_OP_UNSUBSCRIBE, "bob", "chan1");
    s_sub (bob, ZFLOW_HPFEEDS_OP_UNSUBSCRIBE, "bob", "never-seen");
    s_sub (bob, ZFLOW_HPFEEDS_OP_SUBSCRIBE, "bob", "chan2");
    zclock_sleep (100);
    s_pub (alice, "alice", "chan1", "lost");
    s_pub (alice, "alice", "chan2", "second");
    s_expect_publish (bob, "alice", "chan2", "second");
    s_expect_publish (alice, "alice", "chan2", "second");
    zhash_t *stats = zflow_hpfeeds_broker_stats (broker, 5000);
    CHECK (zflow_actor_stats_get (stats, "chan.chan1.msgs") == 2);
    CHECK (zflow_actor_stats_get (stats, "chan.chan2.msgs") == 2);
    CHECK (zflow_actor_stats_get (stats, "chan.chan1.subscribers") == 0);
    CHECK (zflow_actor_stats_get (stats, "chan.chan2.subscribers") == 2);
    CHECK (zflow_actor_stats_get (stats, "msgs_in") == 4);
    CHECK (zflow_actor_stats_get (stats, "connections") == 2);
    CHECK (zhash_lookup (stats, "chan.never-seen.msgs") == NULL);
    zhash_destroy (&stats);
    s_close (&alice);
    s_close (&bob);
}

//  Encodes a publish frame at dst; returns its size.
static size_t s_put_pub (uint8_t *dst, const char *ident, const char *channel, const char *payload)
{
    long size = zflow__hpfeeds_encode_publish (dst, ident, strlen (ident), channel,
                                               strlen (channel), payload, strlen (payload));
    CHECK (size > 0);
    return (size_t) size;
}

//  Runs of publishes on one channel are routed without a full parse of
//  each frame (s_route_run): a change of channel, a frame cut between two
//  sends, a spoofed ident and a refused channel in the middle of a run are
//  each seen, and the order is kept.
static void test_runs (int port)
{
    peer_t *alice = s_connect (port), *bob = s_connect (port);
    s_auth (alice, "alice", "secret-a");
    s_auth (bob, "bob", "secret-b");
    s_sub (bob, ZFLOW_HPFEEDS_OP_SUBSCRIBE, "bob", "chan1");
    s_sub (bob, ZFLOW_HPFEEDS_OP_SUBSCRIBE, "bob", "chan2");
    zclock_sleep (100);
    uint8_t wire[1000];
    size_t size = 0;
    const char *order[][2] = {{"chan1", "a1"}, {"chan1", "a2"}, {"chan1", "a3"},
                              {"chan2", "b1"}, {"chan1", "a4"}, {"chan1", "a5"}};
    for (int index = 0; index < 6; index++)
        size += s_put_pub (wire + size, "alice", order[index][0], order[index][1]);
    size_t cut = size + 9; //  inside the next frame's ident
    size += s_put_pub (wire + size, "alice", "chan1", "a6");
    size += s_put_pub (wire + size, "alice", "chan3", "refused");
    size += s_put_pub (wire + size, "alice", "chan1", "never routed");
    s_send (alice, wire, cut);
    zclock_sleep (50);
    s_send (alice, wire + cut, size - cut);
    for (int index = 0; index < 6; index++)
        s_expect_publish (bob, "alice", order[index][0], order[index][1]);
    s_expect_publish (bob, "alice", "chan1", "a6");
    s_expect_refusal (alice, "Authkey not allowed to pub here. ident=alice, chan=chan3");
    s_close (&alice);

    //  a spoofed ident after a run of good frames
    alice = s_connect (port);
    s_auth (alice, "alice", "secret-a");
    size = s_put_pub (wire, "alice", "chan1", "c1");
    size += s_put_pub (wire + size, "alice", "chan1", "c2");
    size += s_put_pub (wire + size, "alicf", "chan1", "spoofed");
    s_send (alice, wire, size);
    s_expect_publish (bob, "alice", "chan1", "c1");
    s_expect_publish (bob, "alice", "chan1", "c2");
    s_expect_refusal (alice, "Invalid authkey in message, ident=alicf");
    //  nothing else reached bob: a marker from a new connection comes next
    alice = (s_close (&alice), s_connect (port));
    s_auth (alice, "alice", "secret-a");
    s_pub (alice, "alice", "chan1", "marker");
    s_expect_publish (bob, "alice", "chan1", "marker");
    s_close (&alice);
    s_close (&bob);
}

static void test_refusals (int port)
{
    peer_t *peer = s_connect (port);
    s_sub (peer, ZFLOW_HPFEEDS_OP_SUBSCRIBE, "bob", "chan1");
    s_expect_refusal (peer, "First message was not AUTH");
    s_close (&peer);

    peer = s_connect (port);
    s_auth (peer, "bob", "wrong");
    s_expect_refusal (peer, "Authentication failed for bob");
    s_close (&peer);

    peer = s_connect (port);
    s_auth (peer, "mallory", "x");
    s_expect_refusal (peer, "Authentication failed for mallory");
    s_close (&peer);

    peer = s_connect (port);
    s_auth (peer, "bob", "secret-b");
    s_pub (peer, "bob", "chan1", "not allowed");
    s_expect_refusal (peer, "Authkey not allowed to pub here. ident=bob, chan=chan1");
    s_close (&peer);

    peer = s_connect (port);
    s_auth (peer, "alice", "secret-a");
    s_pub (peer, "bob", "chan1", "spoofed");
    s_expect_refusal (peer, "Invalid authkey in message, ident=bob");
    s_close (&peer);

    peer = s_connect (port);
    s_auth (peer, "bob", "secret-b");
    s_sub (peer, ZFLOW_HPFEEDS_OP_SUBSCRIBE, "bob", "secret-channel");
    s_expect_refusal (peer, "Authkey not allowed to sub here. ident=bob, chan=secret-channel");
    s_close (&peer);
}

static void test_hostile (zflow_hpfeeds_broker_t *broker, int port)
{
    //  oversized: refused from the header, before any body is sent
    peer_t *peer = s_connect (port);
    s_auth (peer, "alice", "secret-a");
    uint8_t header[5] = {0x00, 0x10, 0x00, 0x06, ZFLOW_HPFEEDS_OP_PUBLISH};
    s_send (peer, header, 5);
    s_expect_refusal (peer, "too big");
    s_close (&peer);
    //  oversized auth
    peer = s_connect (port);
    uint8_t auth[5] = {0, 0, 1, 100, ZFLOW_HPFEEDS_OP_AUTH};
    s_send (peer, auth, 5);
    s_expect_refusal (peer, "too big");
    s_close (&peer);
    //  unknown opcode, and a length below the header
    peer = s_connect (port);
    uint8_t unknown[5] = {0, 0, 0, 5, 42};
    s_send (peer, unknown, 5);
    s_expect_refusal (peer, "Unknown opcode: 42");
    s_close (&peer);
    peer = s_connect (port);
    uint8_t tiny[5] = {0, 0, 0, 2, ZFLOW_HPFEEDS_OP_AUTH};
    s_send (peer, tiny, 5);
    s_expect_refusal (peer, "below the 5-byte header");
    s_close (&peer);
    //  a truncated frame then a hang-up: the broker only loses the peer
    peer = s_connect (port);
    s_auth (peer, "alice", "secret-a");
    uint8_t frame[100];
    long size = zflow__hpfeeds_encode_publish (frame, "alice", 5, "chan1", 5, "0123456789", 10);
    s_send (peer, frame, (size_t) size - 4);
    s_close (&peer);
    //  the broker still works
    peer_t *a = s_connect (port), *b = s_connect (port);
    s_auth (a, "alice", "secret-a");
    s_auth (b, "bob", "secret-b");
    s_sub (b, ZFLOW_HPFEEDS_OP_SUBSCRIBE, "bob", "chan1");
    zclock_sleep (100);
    s_pub (a, "alice", "chan1", "still here");
    s_expect_publish (b, "alice", "chan1", "still here");
    s_close (&a);
    s_close (&b);
    zhash_t *stats = zflow_hpfeeds_broker_stats (broker, 5000);
    CHECK (zflow_actor_stats_get (stats, "protocol_errors") == 4);
    CHECK (zflow_actor_stats_get (stats, "auth_failures") == 2);
    CHECK (zflow_actor_stats_get (stats, "refusals") == 6); //  4 in test_refusals, 2 in test_runs
    zhash_destroy (&stats);
}

//  A subscriber that never reads: dropped and counted, or disconnected.
static void test_slow (zflow_hpfeeds_slow_policy_t policy)
{
    int port;
    zflow_hpfeeds_broker_config_t config = {
        .name = "test", .slow_policy = policy, .outbuf_limit = 65536};
    zflow_hpfeeds_broker_t *broker = s_broker_with (&config, &port);
    peer_t *a = s_connect (port), *b = s_connect_rcvbuf (port, 4096);
    s_auth (a, "alice", "secret-a");
    s_auth (b, "bob", "secret-b");
    s_sub (b, ZFLOW_HPFEEDS_OP_SUBSCRIBE, "bob", "chan1");
    zclock_sleep (100);
    char payload[1001];
    memset (payload, 'p', 1000);
    payload[1000] = 0;
    for (int count = 0; count < 20000; count++)
        s_pub (a, "alice", "chan1", payload);
    zclock_sleep (300);
    zhash_t *stats = zflow_hpfeeds_broker_stats (broker, 5000);
    CHECK (zflow_actor_stats_get (stats, "chan.chan1.msgs") == 20000);
    CHECK (zflow_actor_stats_get (stats, "drops") > 0);
    CHECK (zflow_actor_stats_get (stats, "chan.chan1.drops") > 0);
    if (policy == ZFLOW_HPFEEDS_SLOW_DROP) {
        CHECK (zflow_actor_stats_get (stats, "slow_drops") > 10000);
        CHECK (zflow_actor_stats_get (stats, "connections") == 2);
        //  runs of frames that do not fit are dropped frame by frame: what
        //  bob reads (whole, intact frames) and the drops add up
        int received = 0;
        for (zflow_hpfeeds_frame_t frame = s_recv (b); frame.op == ZFLOW_HPFEEDS_OP_PUBLISH;
             frame = s_recv (b)) {
            CHECK (frame.data_size == 1000 && frame.data[0] == 'p' && frame.data[999] == 'p');
            s_pop (b, &frame);
            if (++received + zflow_actor_stats_get (stats, "chan.chan1.drops") == 20000)
                break;
        }
        CHECK (received + zflow_actor_stats_get (stats, "chan.chan1.drops") == 20000);
    } else {
        CHECK (zflow_actor_stats_get (stats, "slow_disconnects") == 1);
        CHECK (zflow_actor_stats_get (stats, "connections") == 1);
    }
    printf ("slow subscriber (%s): %s deliveries dropped\n",
            policy == ZFLOW_HPFEEDS_SLOW_DROP ? "drop" : "disconnect",
            (char *) zhash_lookup (stats, "drops"));
    zhash_destroy (&stats);
    s_close (&a);
    s_close (&b);
    zflow_hpfeeds_broker_destroy (&broker);
}

//  BLOCK: a slow reader makes the broker stop reading the publisher (TCP
//  pushes back); nothing is dropped.
typedef struct {
    peer_t *peer;
    int count;
} slow_reader_t;

static void *s_slow_reader (void *arg)
{
    slow_reader_t *reader = (slow_reader_t *) arg;
    for (; reader->count < 20000; reader->count++) {
        zflow_hpfeeds_frame_t frame = s_recv (reader->peer);
        if (frame.op != ZFLOW_HPFEEDS_OP_PUBLISH || frame.data_size != 1000) {
            fprintf (stderr, "slow reader: frame op %d of %zu bytes at %d\n", frame.op,
                     frame.data_size, reader->count);
            break;
        }
        s_pop (reader->peer, &frame);
        if (reader->count % 10 == 0)
            zclock_sleep (1);
    }
    return NULL;
}

static void test_slow_block (void)
{
    int port;
    //  the smallest buffer BLOCK allows; the reader takes about 10 MB/s
    zflow_hpfeeds_broker_config_t config = {
        .name = "test", .slow_policy = ZFLOW_HPFEEDS_SLOW_BLOCK, .outbuf_limit = 65536};
    zflow_hpfeeds_broker_t *broker = s_broker_with (&config, &port);
    peer_t *a = s_connect (port), *b = s_connect (port);
    s_auth (a, "alice", "secret-a");
    s_auth (b, "bob", "secret-b");
    s_sub (b, ZFLOW_HPFEEDS_OP_SUBSCRIBE, "bob", "chan1");
    zclock_sleep (100);
    slow_reader_t reader = {b, 0};
    pthread_t thread;
    pthread_create (&thread, NULL, s_slow_reader, &reader);
    char payload[1001];
    memset (payload, 'p', 1000);
    payload[1000] = 0;
    for (int count = 0; count < 20000; count++)
        s_pub (a, "alice", "chan1", payload);
    pthread_join (thread, NULL);
    zhash_t *stats = zflow_hpfeeds_broker_stats (broker, 5000);
    printf ("slow subscriber (block): %d of 20000 delivered, publisher stalled %s times\n",
            reader.count, (char *) zhash_lookup (stats, "stalls"));
    CHECK (reader.count == 20000);
    CHECK (zflow_actor_stats_get (stats, "drops") == 0);
    CHECK (zflow_actor_stats_get (stats, "stalls") > 0);
    CHECK (zflow_actor_stats_get (stats, "congested") == 0);
    zhash_destroy (&stats);
    s_close (&a);
    s_close (&b);
    zflow_hpfeeds_broker_destroy (&broker);
}

static void test_config_files (void)
{
    zflow_hpfeeds_broker_t *broker =
        zflow_hpfeeds_broker_new (&(zflow_hpfeeds_broker_config_t){.name = "test"}, NULL);
    char path[] = "/tmp/zflow_hpf_users_XXXXXX";
    int fd = mkstemp (path);
    const char *json = "{\"carol\": {\"owner\": \"c\", \"secret\": \"sc\", \"pubchans\": [\"x\"],"
                       " \"subchans\": [\"x\"]}}";
    CHECK (write (fd, json, strlen (json)) == (ssize_t) strlen (json));
    close (fd);
    char err[256];
    CHECK (zflow_hpfeeds_broker_load_json (broker, path, err, sizeof (err)) == 1);
    CHECK (zflow_hpfeeds_broker_load_zpl (broker, path, err, sizeof (err)) == ZFLOW_ECONFIG);
    CHECK (zflow_hpfeeds_broker_load_json (broker, "/nonexistent.json", err, sizeof (err)) ==
           ZFLOW_ECONFIG);
    CHECK (strlen (err) > 0);
    int port = zflow_hpfeeds_broker_bind (broker, NULL, 0);
    CHECK (port > 0);
    peer_t *peer = s_connect (port);
    s_auth (peer, "carol", "sc");
    s_sub (peer, ZFLOW_HPFEEDS_OP_SUBSCRIBE, "carol", "x");
    zclock_sleep (50);
    s_pub (peer, "carol", "x", "from json");
    s_expect_publish (peer, "carol", "x", "from json");
    s_close (&peer);
    unlink (path);
    zflow_hpfeeds_broker_destroy (&broker);
    zflow_hpfeeds_broker_destroy (&broker);
}

//  DRAIN with zflow clients: a publisher has thousands of publishes in
//  flight when the broker drains; none is lost: what the broker had is
//  delivered, the rest waits in the publisher's outbox and goes to the
//  broker when it listens again. A raw peer that ignores the notice keeps
//  the drain waiting until its timeout, then gets the end of stream.
static void test_drain (void)
{
    int port;
    zflow_hpfeeds_broker_t *broker = s_broker (&port);
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.port = port;
    config.backoff_min_ms = 20;
    config.backoff_max_ms = 50;
    config.ident = "bob";
    config.secret = "secret-b";
    zflow_hpfeeds_t *sub = zflow_hpfeeds_new (&config, NULL);
    config.ident = "alice";
    config.secret = "secret-a";
    zflow_hpfeeds_t *pub = zflow_hpfeeds_new (&config, NULL);
    CHECK (sub && pub && zflow_hpfeeds_subscribe (sub, "chan1") == 0);
    while (!zflow_hpfeeds_connected (sub) || !zflow_hpfeeds_connected (pub))
        zclock_sleep (10);
    zclock_sleep (100); //  the subscription is in
    const int total = 20000;
    char payload[64];
    for (int index = 0; index < total; index++) {
        snprintf (payload, sizeof (payload), "%d", index);
        CHECK (zflow_hpfeeds_publish (pub, "chan1", payload, strlen (payload)) == 0);
    }
    int64_t start = zclock_mono ();
    CHECK (zflow_hpfeeds_broker_drain (broker, 5000) == 0);
    CHECK (zclock_mono () - start < 2000); //  the clients answered at once
    CHECK (zflow_hpfeeds_broker_port (broker) == 0);
    CHECK (zflow_hpfeeds_broker_bind (broker, "127.0.0.1", port) == port);
    //  every publish arrives exactly once, or was published while bob had
    //  not subscribed again yet (unrouted, counted)
    byte *seen = (byte *) zmalloc ((size_t) total);
    zhash_t *stats = NULL;
    int received = 0, unrouted = 0;
    zflow_hpfeeds_message_t message;
    while (received + unrouted < total) {
        if (zflow_hpfeeds_recv (sub, &message, 500) == 0) {
            char text[16];
            snprintf (text, sizeof (text), "%.*s", (int) message.size,
                      (const char *) message.payload);
            int index = atoi (text);
            CHECK (index >= 0 && index < total && !seen[index]);
            seen[index] = 1;
            received++;
        } else {
            zhash_destroy (&stats);
            stats = zflow_hpfeeds_broker_stats (broker, 5000);
            unrouted = (int) zflow_actor_stats_get (stats, "unrouted");
            CHECK (zclock_mono () - start < 20000);
        }
    }
    zhash_destroy (&stats);
    stats = zflow_hpfeeds_broker_stats (broker, 5000);
    printf ("drain: %d of %d delivered, %" PRIu64 " unrouted, %" PRIu64 " lost\n", received, total,
            zflow_actor_stats_get (stats, "unrouted"), zflow_actor_stats_get (stats, "drain_lost"));
    CHECK (received + (int) zflow_actor_stats_get (stats, "unrouted") == total);
    CHECK (zflow_actor_stats_get (stats, "drains") == 1 &&
           zflow_actor_stats_get (stats, "drain_lost") == 0);
    zhash_destroy (&stats);
    stats = zflow_hpfeeds_stats (pub, 5000);
    CHECK (zflow_actor_stats_get (stats, "broker_shutdowns") == 1);
    CHECK (zflow_actor_stats_get (stats, "inflight_lost") == 0 &&
           zflow_actor_stats_get (stats, "outbox_drops") == 0);
    zhash_destroy (&stats);
    free (seen);
    zflow_hpfeeds_destroy (&pub);
    zflow_hpfeeds_destroy (&sub);

    //  a raw peer ignores the notice: the drain waits for its timeout
    peer_t *peer = s_connect (port);
    s_auth (peer, "bob", "secret-b");
    s_sub (peer, ZFLOW_HPFEEDS_OP_SUBSCRIBE, "bob", "chan1");
    zclock_sleep (50);
    start = zclock_mono ();
    CHECK (zflow_hpfeeds_broker_drain (broker, 300) == 0);
    CHECK (zclock_mono () - start >= 250);
    zflow_hpfeeds_frame_t frame = s_recv (peer);
    CHECK (frame.op == ZFLOW_HPFEEDS_OP_ERROR);
    CHECK (frame.data_size == strlen (ZFLOW_HPFEEDS_SHUTDOWN_TEXT) &&
           memcmp (frame.data, ZFLOW_HPFEEDS_SHUTDOWN_TEXT, frame.data_size) == 0);
    s_pop (peer, &frame);
    CHECK (s_recv (peer).op == 255);
    s_close (&peer);
    CHECK (zflow_hpfeeds_broker_drain (broker, -1) == ZFLOW_EINVAL);
    CHECK (zflow_hpfeeds_broker_drain (NULL, 0) == ZFLOW_EINVAL);
    zflow_hpfeeds_broker_destroy (&broker);
}

//  The API conventions: a constructor that copies its config (NULL: the
//  defaults), refuses garbage, stats with a timeout, set_verbose both
//  ways, no endpoint, the actor (usable with zflow_actor_stats), destroy
//  NULL-safe and idempotent.
static void test_conventions (void)
{
    int err = 0;
    zflow_hpfeeds_broker_config_t config;
    zflow_hpfeeds_broker_config_init (&config);
    CHECK (streq (config.name, "zflow") && config.slow_policy == ZFLOW_HPFEEDS_SLOW_DISCONNECT &&
           config.outbuf_limit == ZFLOW_HPFEEDS_BROKER_DEFAULT_OUTBUF);
    config.name = "";
    CHECK (zflow_hpfeeds_broker_new (&config, &err) == NULL && err == ZFLOW_EINVAL);
    char long_name[300];
    memset (long_name, 'n', sizeof (long_name) - 1);
    long_name[sizeof (long_name) - 1] = 0;
    config.name = long_name;
    err = 0;
    CHECK (zflow_hpfeeds_broker_new (&config, &err) == NULL && err == ZFLOW_EINVAL);
    config.name = "test";
    config.slow_policy = (zflow_hpfeeds_slow_policy_t) 9;
    err = 0;
    CHECK (zflow_hpfeeds_broker_new (&config, &err) == NULL && err == ZFLOW_EINVAL);
    CHECK (zflow_hpfeeds_broker_new (&config, NULL) == NULL);
    //  the deadlines and the connection limit: defaults, and garbage refused
    zflow_hpfeeds_broker_config_init (&config);
    CHECK (config.slow_grace_ms == ZFLOW_HPFEEDS_BROKER_DEFAULT_SLOW_GRACE &&
           config.auth_timeout_ms == ZFLOW_HPFEEDS_BROKER_DEFAULT_AUTH_TIMEOUT &&
           config.idle_timeout_ms == ZFLOW_HPFEEDS_BROKER_DEFAULT_IDLE_TIMEOUT &&
           config.max_connections == ZFLOW_HPFEEDS_BROKER_DEFAULT_MAX_CONNECTIONS);
    config.auth_timeout_ms = -1;
    err = 0;
    CHECK (zflow_hpfeeds_broker_new (&config, &err) == NULL && err == ZFLOW_EINVAL);
    config.auth_timeout_ms = 100;
    config.max_connections = -3;
    err = 0;
    CHECK (zflow_hpfeeds_broker_new (&config, &err) == NULL && err == ZFLOW_EINVAL);

    //  NULL config: the defaults, name "zflow" in the info frame
    zflow_hpfeeds_broker_t *broker = zflow_hpfeeds_broker_new (NULL, &err);
    CHECK (broker);
    int port = zflow_hpfeeds_broker_bind (broker, NULL, 0);
    CHECK (port > 0);
    peer_t *peer = s_dial (port, 0);
    zflow_hpfeeds_frame_t info = s_recv (peer);
    CHECK (info.op == ZFLOW_HPFEEDS_OP_INFO);
    CHECK (info.name_size == 5 && memcmp (info.name, "zflow", 5) == 0);
    s_close (&peer);
    zflow_hpfeeds_broker_destroy (&broker);

    //  the config is copied: its name may go at once (s_connect checks it)
    char *name = strdup ("test");
    zflow_hpfeeds_broker_config_init (&config);
    config.name = name;
    int test_port;
    broker = s_broker_with (&config, &test_port);
    memset (name, 'x', 4);
    free (name);
    peer = s_connect (test_port);
    s_auth (peer, "alice", "secret-a");
    s_close (&peer);

    zactor_t *actor = zflow_hpfeeds_broker_actor (broker);
    CHECK (actor && zflow_hpfeeds_broker_actor (NULL) == NULL);
    zhash_t *stats = zflow_actor_stats (actor, 2000);
    CHECK (stats && zflow_actor_stats_get (stats, "connections_total") == 1);
    zhash_destroy (&stats);
    stats = zflow_hpfeeds_broker_stats (broker, 2000);
    CHECK (stats && zflow_actor_stats_get (stats, "connections_total") == 1);
    zhash_destroy (&stats);
    CHECK (zflow_hpfeeds_broker_stats (NULL, 100) == NULL);
    CHECK (zflow_hpfeeds_broker_endpoint (broker) == NULL);
    zflow_hpfeeds_broker_set_verbose (broker, true);
    zflow_hpfeeds_broker_set_verbose (broker, false);
    zflow_hpfeeds_broker_set_verbose (NULL, true);
    zflow_hpfeeds_broker_destroy (&broker);
    CHECK (broker == NULL);
    zflow_hpfeeds_broker_destroy (&broker);
    zflow_hpfeeds_broker_destroy (NULL);
}

int main (void)
{
    setvbuf (stdout, NULL, _IONBF, 0);
    int port;
    zflow_hpfeeds_broker_t *broker = s_broker (&port);
    if (getenv ("ZFLOW_VERBOSE"))
        zflow_hpfeeds_broker_set_verbose (broker, true);
    test_round_trip (broker, port);
    test_runs (port);
    test_refusals (port);
    test_hostile (broker, port);
    zflow_hpfeeds_broker_destroy (&broker);
    test_slow (ZFLOW_HPFEEDS_SLOW_DROP);
    test_slow (ZFLOW_HPFEEDS_SLOW_DISCONNECT);
    test_slow_block ();
    test_conventions ();
    test_config_files ();
    test_drain ();
    printf ("test_hpfeeds_broker: OK\n");
    return 0;
}
