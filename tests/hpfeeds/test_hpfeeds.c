/*  =========================================================================
    test_hpfeeds - the client adapter against the embedded broker (and a
    hostile raw broker) over real TCP on 127.0.0.1

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include "zflow_hpfeeds_proto.h"
#include "zflow_testing_tcp.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
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

static const char *s_pub[] = {"chan1", "chan2", "out", NULL};
static const char *s_sub[] = {"chan1", "chan2", "out", NULL};

static zflow_hpfeeds_broker_t *s_broker (int port)
{
    zflow_hpfeeds_broker_t *broker =
        zflow_hpfeeds_broker_new (&(zflow_hpfeeds_broker_config_t){.name = "zflow-test"}, NULL);
    CHECK (broker);
    CHECK (zflow_hpfeeds_broker_add_user (broker, "alice", "sa", s_pub, s_sub) == 0);
    CHECK (zflow_hpfeeds_broker_add_user (broker, "bob", "sb", NULL, s_sub) == 0);
    const char *many[202];
    char names[200][16];
    for (int index = 0; index < 200; index++) {
        snprintf (names[index], sizeof (names[index]), "many.%d", index);
        many[index] = names[index];
    }
    many[200] = NULL;
    CHECK (zflow_hpfeeds_broker_add_user (broker, "carol", "sc", many, many) == 0);
    CHECK (zflow_hpfeeds_broker_bind (broker, "127.0.0.1", port) > 0);
    if (getenv ("ZFLOW_VERBOSE"))
        zflow_hpfeeds_broker_set_verbose (broker, true);
    return broker;
}

static zflow_hpfeeds_t *s_client (int port, const char *ident, const char *secret,
                                  zflow_hpfeeds_config_t *config)
{
    zflow_hpfeeds_config_t defaults;
    if (!config) {
        zflow_hpfeeds_config_init (&defaults);
        config = &defaults;
    }
    config->port = port;
    config->ident = ident;
    config->secret = secret;
    int rc = 0;
    zflow_hpfeeds_t *client = zflow_hpfeeds_new (config, &rc);
    CHECK (client && rc == 0);
    if (getenv ("ZFLOW_VERBOSE"))
        zflow_hpfeeds_set_verbose (client, true);
    return client;
}

//  Waits for an event of type; returns its text (caller frees).
static char *s_wait_event (zflow_hpfeeds_t *client, int type, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (zclock_mono () < deadline) {
        int got = 0;
        char *text = zflow_hpfeeds_event (client, &got, (int) (deadline - zclock_mono ()));
        if (text && got == type)
            return text;
        if (text && getenv ("ZFLOW_VERBOSE"))
            printf ("  (event %d: %s)\n", got, text);
        zstr_free (&text);
    }
    return NULL;
}

static void s_wait_connected (zflow_hpfeeds_t *client)
{
    char *text = s_wait_event (client, ZFLOW_HPFEEDS_EVENT_CONNECTED, 5000);
    CHECK (text);
    zstr_free (&text);
}

//  Reads one message and checks it.
static void s_expect (zflow_hpfeeds_t *client, zflow_msg_t *msg, const char *channel,
                      const char *ident, const char *payload)
{
    CHECK (zflow_hpfeeds_read (client, msg, 3000) == 0);
    char got_channel[256], got_ident[256];
    const void *data;
    size_t size;
    CHECK (zflow_hpfeeds_unpack (msg, got_channel, got_ident, &data, &size) == 0);
    CHECK (streq (got_channel, channel));
    CHECK (streq (got_ident, ident));
    CHECK (size == strlen (payload) && memcmp (data, payload, size) == 0);
}

static void test_round_trip (int port)
{
    zflow_hpfeeds_t *alice = s_client (port, "alice", "sa", NULL);
    zflow_hpfeeds_t *bob = s_client (port, "bob", "sb", NULL);
    CHECK (zflow_hpfeeds_subscribe (bob, "chan1") == 0);
    CHECK (zflow_hpfeeds_subscribe (bob, "chan2") == 0);
    s_wait_connected (bob);
    s_wait_connected (alice);
    CHECK (zflow_hpfeeds_connected (alice));
    zclock_sleep (100); //  no acks in hpfeeds: let the subscribes reach the broker
    zflow_msg_t *msg = zflow_msg_new ();
    char payload[64];
    for (int index = 0; index < 1000; index++) {
        snprintf (payload, sizeof (payload), "message %d", index);
        CHECK (zflow_hpfeeds_publish (alice, index % 2 ? "chan2" : "chan1", payload,
                                      strlen (payload)) == 0);
    }
    for (int index = 0; index < 1000; index++) {
        snprintf (payload, sizeof (payload), "message %d", index);
        s_expect (bob, msg, index % 2 ? "chan2" : "chan1", "alice", payload);
    }
    //  the envelope: key ("hpfeeds", channel), meta with ident and src
    zflow_meta_t *meta = zflow_meta_new ();
    CHECK (zflow_envelope_decode (msg, meta) == 0);
    CHECK (streq (zflow_meta_get (meta, "ident"), "alice"));
    CHECK (strncmp (zflow_meta_source (meta), "hpfeeds://127.0.0.1:", 20) == 0);
    zflow_meta_destroy (&meta);
    //  unsubscribe: chan1 stops, chan2 goes on
    CHECK (zflow_hpfeeds_unsubscribe (bob, "chan1") == 0);
    zclock_sleep (100);
    CHECK (zflow_hpfeeds_publish (alice, "chan1", "gone", 4) == 0);
    CHECK (zflow_hpfeeds_publish (alice, "chan2", "marker", 6) == 0);
    s_expect (bob, msg, "chan2", "alice", "marker");
    CHECK (zflow_hpfeeds_read (bob, msg, 200) == ZFLOW_ETIMEDOUT);
    //  bad arguments
    char big[300];
    memset (big, 'c', 299);
    big[299] = 0;
    CHECK (zflow_hpfeeds_publish (alice, big, "x", 1) == ZFLOW_ETOOBIG);
    CHECK (zflow_hpfeeds_subscribe (alice, big) == ZFLOW_ETOOBIG);
    CHECK (zflow_hpfeeds_publish (alice, NULL, "x", 1) == ZFLOW_EINVAL);
    zhash_t *stats = zflow_hpfeeds_stats (bob, 5000);
    CHECK (zflow_actor_stats_get (stats, "received") == 1001);
    CHECK (zflow_actor_stats_get (stats, "connected") == 1);
    zhash_destroy (&stats);
    zflow_msg_destroy (&msg);
    zflow_hpfeeds_destroy (&alice);
    zflow_hpfeeds_destroy (&bob);
}

static void test_many_channels (int port)
{
    zflow_hpfeeds_t *carol = s_client (port, "carol", "sc", NULL);
    char channel[32];
    for (int index = 0; index < 200; index++) {
        snprintf (channel, sizeof (channel), "many.%d", index);
        CHECK (zflow_hpfeeds_subscribe (carol, channel) == 0);
    }
    s_wait_connected (carol);
    zclock_sleep (200);
    for (int index = 0; index < 200; index++) {
        snprintf (channel, sizeof (channel), "many.%d", index);
        CHECK (zflow_hpfeeds_publish (carol, channel, channel, strlen (channel)) == 0);
    }
    zflow_msg_t *msg = zflow_msg_new ();
    for (int index = 0; index < 200; index++) {
        snprintf (channel, sizeof (channel), "many.%d", index);
        s_expect (carol, msg, channel, "carol", channel);
    }
    zflow_msg_destroy (&msg);
    zflow_hpfeeds_destroy (&carol);
}

//  Refusals reach the user as events with the broker's text, and are not
//  retried in a tight loop.
static void test_refusals (zflow_hpfeeds_broker_t *broker, int port)
{
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.refused_backoff_ms = 400;
    zflow_hpfeeds_t *bob = s_client (port, "bob", "sb", &config);
    CHECK (zflow_hpfeeds_subscribe (bob, "chan1") == 0);
    CHECK (zflow_hpfeeds_subscribe (bob, "forbidden") == 0);
    char *text = s_wait_event (bob, ZFLOW_HPFEEDS_EVENT_ERROR, 5000);
    CHECK (text && streq (text, "Authkey not allowed to sub here. ident=bob, chan=forbidden"));
    zstr_free (&text);
    //  it comes back without the refused channel and gets chan1
    s_wait_connected (bob);
    zflow_hpfeeds_t *alice = s_client (port, "alice", "sa", NULL);
    s_wait_connected (alice);
    zclock_sleep (100);
    CHECK (zflow_hpfeeds_publish (alice, "chan1", "after refusal", 13) == 0);
    zflow_msg_t *msg = zflow_msg_new ();
    s_expect (bob, msg, "chan1", "alice", "after refusal");
    //  publishing outside the ACL
    CHECK (zflow_hpfeeds_publish (bob, "chan1", "not mine", 8) == 0);
    text = s_wait_event (bob, ZFLOW_HPFEEDS_EVENT_ERROR, 5000);
    CHECK (text && streq (text, "Authkey not allowed to pub here. ident=bob, chan=chan1"));
    zstr_free (&text);
    //  the refused channel is not sent again: later publishes are dropped
    //  here and counted, and no new refusal comes
    for (int index = 0; index < 10; index++)
        CHECK (zflow_hpfeeds_publish (bob, "chan1", "again", 5) == 0);
    text = s_wait_event (bob, ZFLOW_HPFEEDS_EVENT_ERROR, 1000);
    CHECK (text == NULL);
    zhash_t *bob_stats = zflow_hpfeeds_stats (bob, 5000);
    CHECK (zflow_actor_stats_get (bob_stats, "refused_drops") == 10);
    CHECK (zflow_actor_stats_get (bob_stats, "broker_errors") == 2);
    zhash_destroy (&bob_stats);
    zflow_hpfeeds_destroy (&bob);

    //  wrong secret: a clear error, then bounded retries
    zhash_t *stats = zflow_hpfeeds_broker_stats (broker, 5000);
    uint64_t failures_before = zflow_actor_stats_get (stats, "auth_failures");
    zhash_destroy (&stats);
    zflow_hpfeeds_t *eve = s_client (port, "bob", "wrong", &config);
    for (int index = 0; index < 10; index++)
        CHECK (zflow_hpfeeds_publish (eve, "chan1", "kept", 4) == 0);
    text = s_wait_event (eve, ZFLOW_HPFEEDS_EVENT_ERROR, 5000);
    CHECK (text && streq (text, "Authentication failed for bob"));
    zstr_free (&text);
    zclock_sleep (1500);
    //  the refused auths cost no publishes: all ten still wait
    stats = zflow_hpfeeds_stats (eve, 5000);
    CHECK (zflow_actor_stats_get (stats, "published") == 10);
    CHECK (zflow_actor_stats_get (stats, "sent") == 0);
    CHECK (zflow_actor_stats_get (stats, "outbox_pending") == 10 * (5 + 1 + 3 + 1 + 5 + 4));
    CHECK (zflow_actor_stats_get (stats, "connected") == 0);
    zhash_destroy (&stats);
    stats = zflow_hpfeeds_broker_stats (broker, 5000);
    uint64_t failures = zflow_actor_stats_get (stats, "auth_failures") - failures_before;
    zhash_destroy (&stats);
    printf ("wrong secret: %" PRIu64 " attempts in about 1.5 s (refused backoff 400 ms)\n",
            failures);
    CHECK (failures >= 2 && failures <= 6);
    zflow_hpfeeds_destroy (&eve);
    zflow_hpfeeds_destroy (&alice);
    zflow_msg_destroy (&msg);
}

//  Messages from a PULL stream and a SUB on a hub-like PUB are published.
static void test_publish_from (int port)
{
    zflow_hpfeeds_t *alice = s_client (port, "alice", "sa", NULL);
    zflow_hpfeeds_t *bob = s_client (port, "bob", "sb", NULL);
    CHECK (zflow_hpfeeds_subscribe (bob, "out") == 0);
    s_wait_connected (bob);
    s_wait_connected (alice);
    zclock_sleep (100);
    zsock_t *push = zsock_new_push ("@inproc://test-publish-from");
    CHECK (zflow_hpfeeds_publish_from (alice, ZMQ_PULL, "inproc://test-publish-from", NULL,
                                       "out") == 0);
    CHECK (zflow_hpfeeds_publish_from (alice, ZMQ_REQ, "inproc://x", NULL, "out") == ZFLOW_EINVAL);
    zstr_send (push, "plain one");
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_meta_t *meta = zflow_meta_new ();
    CHECK (zflow_envelope_encode (msg, "k\x1fz", 3, meta, "enveloped", 9) == 0);
    zmsg_t *zmsg = zflow_msg_to_zmsg (msg);
    zmsg_send (&zmsg, push);
    s_expect (bob, msg, "out", "alice", "plain one");
    s_expect (bob, msg, "out", "alice", "enveloped");
    //  a hub-like PUB: only the subscribed key prefix is published
    zsock_t *hub = zsock_new_pub ("@inproc://test-publish-from-hub");
    CHECK (zflow_hpfeeds_publish_from (alice, ZMQ_SUB, "inproc://test-publish-from-hub",
                                       "sensors\x1f", "out") == 0);
    zclock_sleep (100); //  let the subscription reach the PUB
    CHECK (zflow_envelope_encode (msg, "other\x1fx", 7, meta, "not this", 8) == 0);
    zmsg = zflow_msg_to_zmsg (msg);
    zmsg_send (&zmsg, hub);
    CHECK (zflow_envelope_encode (msg,
                                  "sensors\x1f"
                                  "a",
                                  9, meta, "from the hub", 12) == 0);
    zmsg = zflow_msg_to_zmsg (msg);
    zmsg_send (&zmsg, hub);
    s_expect (bob, msg, "out", "alice", "from the hub");
    CHECK (zflow_hpfeeds_read (bob, msg, 200) == ZFLOW_ETIMEDOUT);
    zsock_destroy (&hub);
    zflow_meta_destroy (&meta);
    zflow_msg_destroy (&msg);
    zsock_destroy (&push);
    zflow_hpfeeds_destroy (&alice);
    zflow_hpfeeds_destroy (&bob);
}

//  A consumer that does not read: TCP reads pause, nothing is lost.
static void test_lossless (int port)
{
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.output_hwm = 100;
    zflow_hpfeeds_t *bob = s_client (port, "bob", "sb", &config);
    zflow_hpfeeds_t *alice = s_client (port, "alice", "sa", NULL);
    CHECK (zflow_hpfeeds_subscribe (bob, "chan1") == 0);
    s_wait_connected (bob);
    s_wait_connected (alice);
    zclock_sleep (100);
    char payload[64];
    for (int index = 0; index < 20000; index++) {
        int size = snprintf (payload, sizeof (payload), "%d", index);
        CHECK (zflow_hpfeeds_publish (alice, "chan1", payload, (size_t) size) == 0);
    }
    zclock_sleep (500);
    zhash_t *stats = zflow_hpfeeds_stats (bob, 5000);
    uint64_t pauses = zflow_actor_stats_get (stats, "tcp_pauses");
    zhash_destroy (&stats);
    CHECK (pauses > 0);
    zflow_msg_t *msg = zflow_msg_new ();
    for (int index = 0; index < 20000; index++) {
        snprintf (payload, sizeof (payload), "%d", index);
        s_expect (bob, msg, "chan1", "alice", payload);
    }
    stats = zflow_hpfeeds_stats (bob, 5000);
    CHECK (zflow_actor_stats_get (stats, "inproc_drops") == 0);
    printf ("lossless: 20000 of 20000 delivered, TCP reads paused %" PRIu64 " times\n",
            zflow_actor_stats_get (stats, "tcp_pauses"));
    zhash_destroy (&stats);
    zflow_msg_destroy (&msg);
    zflow_hpfeeds_destroy (&alice);
    zflow_hpfeeds_destroy (&bob);
}

//  Reads until quiet; marks seen[seq] for payloads "seq".
static int s_drain (zflow_hpfeeds_t *client, bool *seen, int max, int quiet_ms)
{
    zflow_msg_t *msg = zflow_msg_new ();
    int count = 0;
    while (zflow_hpfeeds_read (client, msg, quiet_ms) == 0) {
        const void *data;
        size_t size;
        char text[32];
        CHECK (zflow_hpfeeds_unpack (msg, NULL, NULL, &data, &size) == 0);
        size = size < sizeof (text) - 1 ? size : sizeof (text) - 1; //  the number leads
        memcpy (text, data, size);
        text[size] = 0;
        int seq = atoi (text);
        CHECK (seq >= 0 && seq < max && !seen[seq]); //  no duplicates
        seen[seq] = true;
        count++;
    }
    zflow_msg_destroy (&msg);
    return count;
}

static int s_count (const bool *seen, int from, int to)
{
    int count = 0;
    for (int index = from; index < to; index++)
        count += seen[index];
    return count;
}

static void s_publish_range (zflow_hpfeeds_t *client, int from, int to)
{
    char payload[32];
    for (int index = from; index < to; index++) {
        int size = snprintf (payload, sizeof (payload), "%d", index);
        CHECK (zflow_hpfeeds_publish (client, "chan1", payload, (size_t) size) == 0);
    }
}

//  The broker dies mid-stream and comes back on the same port.
static void test_restart (void)
{
    zflow_hpfeeds_broker_t *broker = s_broker (0);
    int port = zflow_hpfeeds_broker_port (broker);
    zflow_hpfeeds_config_t fast, slow;
    zflow_hpfeeds_config_init (&fast);
    fast.backoff_min_ms = 30;
    fast.backoff_max_ms = 100;
    zflow_hpfeeds_config_init (&slow);
    slow.backoff_min_ms = 1000; //  bob (fast) is back and subscribed well before
    slow.backoff_max_ms = 1500;
    zflow_hpfeeds_t *bob = s_client (port, "bob", "sb", &fast);
    zflow_hpfeeds_t *alice = s_client (port, "alice", "sa", &slow);
    CHECK (zflow_hpfeeds_subscribe (bob, "chan1") == 0);
    s_wait_connected (bob);
    s_wait_connected (alice);
    zclock_sleep (100);
    enum { PHASE1 = 20000, PHASE2 = 21000, TOTAL = 22000 };
    bool *seen = (bool *) calloc (TOTAL, sizeof (bool));
    //  phase 1: a stream, and the broker is killed while it flows
    s_publish_range (alice, 0, PHASE1);
    zflow_hpfeeds_broker_destroy (&broker);
    char *text = s_wait_event (alice, ZFLOW_HPFEEDS_EVENT_DISCONNECTED, 5000);
    CHECK (text);
    zstr_free (&text);
    //  phase 2: published while the broker is down, kept in the outbox
    s_publish_range (alice, PHASE1, PHASE2);
    broker = s_broker (port);
    s_wait_connected (bob);
    s_wait_connected (alice);
    //  phase 3: after the restart
    zclock_sleep (100);
    s_publish_range (alice, PHASE2, TOTAL);
    s_drain (bob, seen, TOTAL, 1000);
    int got1 = s_count (seen, 0, PHASE1), got2 = s_count (seen, PHASE1, PHASE2),
        got3 = s_count (seen, PHASE2, TOTAL);
    int first_gap = -1, last_gap = -1;
    for (int index = 0; index < PHASE1; index++)
        if (!seen[index]) {
            if (first_gap < 0)
                first_gap = index;
            last_gap = index;
        }
    zhash_t *stats = zflow_hpfeeds_stats (alice, 5000);
    printf ("restart: phase 1 (stream, broker killed) %d of %d arrived, lost %d (#%d..#%d, "
            "in flight when it died; %" PRIu64 " cut in the middle of a frame); "
            "phase 2 (while down) %d of %d; "
            "phase 3 (after) %d of %d\n",
            got1, PHASE1, PHASE1 - got1, first_gap, last_gap,
            zflow_actor_stats_get (stats, "inflight_lost"), got2, PHASE2 - PHASE1, got3,
            TOTAL - PHASE2);
    CHECK (zflow_actor_stats_get (stats, "connects") == 2);
    zhash_destroy (&stats);
    //  what was lost is one run of phase 1: the frames on the wire or in
    //  the dying broker's buffers (TCP keeps order; the rest waited in the
    //  outbox and went out after the reconnect)
    if (first_gap >= 0)
        CHECK (s_count (seen, first_gap, last_gap + 1) == 0);
    CHECK (got2 == PHASE2 - PHASE1);
    CHECK (got3 == TOTAL - PHASE2);
    free (seen);
    zflow_hpfeeds_destroy (&alice);
    zflow_hpfeeds_destroy (&bob);
    zflow_hpfeeds_broker_destroy (&broker);
}

//  No broker: the outbox keeps the newest publishes, drops the oldest.
static void test_outbox (void)
{
    zflow_hpfeeds_broker_t *broker = s_broker (0);
    int port = zflow_hpfeeds_broker_port (broker);
    zflow_hpfeeds_broker_destroy (&broker);
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.outbox_bytes = 1200 * 1024;
    config.backoff_min_ms = config.backoff_max_ms = 1000;
    zflow_hpfeeds_t *alice = s_client (port, "alice", "sa", &config);
    enum { COUNT = 3000 };
    char payload[1000];
    memset (payload, ' ', sizeof (payload));
    for (int index = 0; index < COUNT; index++) {
        snprintf (payload, sizeof (payload), "%d", index);
        CHECK (zflow_hpfeeds_publish (alice, "chan1", payload, sizeof (payload)) == 0);
    }
    zhash_t *stats = NULL;
    for (int tries = 0; tries < 100; tries++) {
        zhash_destroy (&stats);
        stats = zflow_hpfeeds_stats (alice, 5000);
        if (zflow_actor_stats_get (stats, "published") == COUNT)
            break;
        zclock_sleep (20);
    }
    uint64_t drops = zflow_actor_stats_get (stats, "outbox_drops");
    uint64_t pending = zflow_actor_stats_get (stats, "outbox_pending");
    printf ("outbox: %d published while down, %" PRIu64 " oldest dropped, %" PRIu64 " bytes kept\n",
            COUNT, drops, pending);
    CHECK (zflow_actor_stats_get (stats, "published") == COUNT);
    CHECK (drops > 0 && drops < COUNT);
    CHECK (pending <= config.outbox_bytes);
    zhash_destroy (&stats);
    //  the broker comes; if bob gets there first, he sees the newest ones
    broker = s_broker (port);
    zflow_hpfeeds_t *bob = s_client (port, "bob", "sb", NULL);
    CHECK (zflow_hpfeeds_subscribe (bob, "chan1") == 0);
    s_wait_connected (bob);
    zclock_sleep (50);
    bool before = !zflow_hpfeeds_connected (alice);
    s_wait_connected (alice);
    zflow_msg_t *msg = zflow_msg_new ();
    int received = 0, first = -1, last = -1;
    while (before && zflow_hpfeeds_read (bob, msg, 1000) == 0) {
        const void *data;
        size_t size;
        CHECK (zflow_hpfeeds_unpack (msg, NULL, NULL, &data, &size) == 0 && size == 1000);
        int seq = atoi ((const char *) data);
        CHECK (seq > last);
        if (first < 0)
            first = seq;
        last = seq;
        received++;
    }
    if (before) {
        printf ("outbox: after reconnect %d delivered, #%d..#%d\n", received, first, last);
        CHECK (last == COUNT - 1 && (uint64_t) received == COUNT - drops);
        CHECK (first == (int) drops);
    }
    zflow_msg_destroy (&msg);
    zflow_hpfeeds_destroy (&alice);
    zflow_hpfeeds_destroy (&bob);
    zflow_hpfeeds_broker_destroy (&broker);
}

//  BLOCK: no broker, the publisher waits (here up to 200 ms) instead of
//  losing anything, and every accepted publish arrives later.
static void test_block (void)
{
    zflow_hpfeeds_broker_t *broker = s_broker (0);
    int port = zflow_hpfeeds_broker_port (broker);
    zflow_hpfeeds_broker_destroy (&broker);
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.outbox_bytes = 1200 * 1024;
    config.outbox_policy = ZFLOW_HPFEEDS_BLOCK;
    config.publish_timeout_ms = 200;
    config.backoff_min_ms = config.backoff_max_ms = 1000;
    zflow_hpfeeds_t *alice = s_client (port, "alice", "sa", &config);
    char payload[1000];
    memset (payload, ' ', sizeof (payload));
    int accepted = 0, rc = 0;
    while (accepted < 100000) {
        snprintf (payload, sizeof (payload), "%d", accepted);
        rc = zflow_hpfeeds_publish (alice, "chan1", payload, sizeof (payload));
        if (rc)
            break;
        accepted++;
    }
    printf ("block: publish timed out after %d accepted (the outbox keeps room for a 1 MiB "
            "frame, plus the 64 KiB hand-off buffer)\n",
            accepted);
    CHECK (rc == ZFLOW_ETIMEDOUT);
    //  outbox: 1200 KiB less room for the largest frame, plus the last
    //  64 KiB taken from the hand-off buffer; the buffer: 64 KiB more
    CHECK (accepted > 100 && accepted < 1200 - 1024 + 2 * 64 + 10);
    zhash_t *stats = zflow_hpfeeds_stats (alice, 5000);
    CHECK (zflow_actor_stats_get (stats, "outbox_drops") == 0);
    zhash_destroy (&stats);
    broker = s_broker (port);
    zflow_hpfeeds_t *bob = s_client (port, "bob", "sb", NULL);
    CHECK (zflow_hpfeeds_subscribe (bob, "chan1") == 0);
    s_wait_connected (bob);
    zclock_sleep (50);
    bool before = !zflow_hpfeeds_connected (alice);
    bool *seen = (bool *) calloc ((size_t) accepted, sizeof (bool));
    int received = before ? s_drain (bob, seen, accepted, 1500) : 0;
    if (before) {
        printf ("block: %d of %d delivered after the broker came\n", received, accepted);
        CHECK (received == accepted);
    }
    free (seen);
    zflow_hpfeeds_destroy (&alice);
    zflow_hpfeeds_destroy (&bob);
    zflow_hpfeeds_broker_destroy (&broker);
}

//  A hostile broker: an oversized frame, then a truncated one.
static int s_accept_info (int listener)
{
    struct pollfd item = {listener, POLLIN, 0};
    CHECK (poll (&item, 1, 5000) == 1);
    int fd = accept (listener, NULL, NULL);
    CHECK (fd >= 0);
    uint8_t info[64];
    int size = zflow__hpfeeds_encode_info (info, "raw", (const uint8_t *) "abcd", 4);
    CHECK (send (fd, info, (size_t) size, 0) == size);
    uint8_t auth[300];
    struct pollfd in = {fd, POLLIN, 0};
    CHECK (poll (&in, 1, 5000) == 1);
    CHECK (recv (fd, auth, sizeof (auth), 0) > 0);
    return fd;
}

static void test_hostile_broker (void)
{
    int port, listener = zflow_testing_listen (0, &port);
    CHECK (listener >= 0);
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.backoff_min_ms = 30;
    zflow_hpfeeds_t *client = s_client (port, "alice", "sa", &config);
    //  1: a publish header announcing 1 MiB + 1 byte over the limit
    int fd = s_accept_info (listener);
    uint8_t header[5] = {0x00, 0x10, 0x00, 0x06, ZFLOW_HPFEEDS_OP_PUBLISH};
    CHECK (send (fd, header, 5, 0) == 5);
    char *text = s_wait_event (client, ZFLOW_HPFEEDS_EVENT_PROTOCOL, 5000);
    CHECK (text && strstr (text, "too big"));
    zstr_free (&text);
    text = s_wait_event (client, ZFLOW_HPFEEDS_EVENT_DISCONNECTED, 5000);
    CHECK (text && strstr (text, "too big"));
    zstr_free (&text);
    close (fd);
    //  2: a truncated frame, then the broker hangs up
    fd = s_accept_info (listener);
    uint8_t frame[100];
    long size = zflow__hpfeeds_encode_publish (frame, "x", 1, "chan1", 5, "0123456789", 10);
    CHECK (send (fd, frame, (size_t) size - 5, 0) == size - 5);
    close (fd);
    text = s_wait_event (client, ZFLOW_HPFEEDS_EVENT_DISCONNECTED, 5000);
    CHECK (text && strstr (text, "closed"));
    zstr_free (&text);
    //  3: it still works
    fd = s_accept_info (listener);
    CHECK (send (fd, frame, (size_t) size, 0) == size);
    zflow_msg_t *msg = zflow_msg_new ();
    s_expect (client, msg, "chan1", "x", "0123456789");
    //  4: it says it shuts down (twice) and never closes: the client closes
    //  its sending side at once, then gives up on it after its wait
    uint8_t notice[64];
    int notice_size = zflow__hpfeeds_encode_error (notice, ZFLOW_HPFEEDS_SHUTDOWN_TEXT,
                                                   strlen (ZFLOW_HPFEEDS_SHUTDOWN_TEXT));
    CHECK (send (fd, notice, (size_t) notice_size, 0) == notice_size);
    CHECK (send (fd, notice, (size_t) notice_size, 0) == notice_size);
    text = s_wait_event (client, ZFLOW_HPFEEDS_EVENT_SHUTDOWN, 5000);
    CHECK (text && streq (text, ZFLOW_HPFEEDS_SHUTDOWN_TEXT));
    zstr_free (&text);
    struct pollfd half = {fd, POLLIN, 0};
    uint8_t byte;
    CHECK (poll (&half, 1, 2000) == 1 && recv (fd, &byte, 1, 0) == 0); //  its FIN
    int64_t start = zclock_mono ();
    text = s_wait_event (client, ZFLOW_HPFEEDS_EVENT_DISCONNECTED, 6000);
    CHECK (text && strstr (text, "did not close"));
    CHECK (zclock_mono () - start >= 1000);
    zstr_free (&text);
    zhash_t *stats = zflow_hpfeeds_stats (client, 5000);
    CHECK (zflow_actor_stats_get (stats, "protocol_errors") == 1);
    CHECK (zflow_actor_stats_get (stats, "broker_shutdowns") == 1);
    CHECK (zflow_actor_stats_get (stats, "broker_errors") == 0);
    zhash_destroy (&stats);
    zflow_msg_destroy (&msg);
    close (fd);
    zflow_hpfeeds_destroy (&client);
    close (listener);
}

//  A refused publish: the client drops that channel's frames still in its
//  outbox, and sends the rest on the next connection.
static void test_refused_publish_purge (void)
{
    int port, listener = zflow_testing_listen (4096, &port);
    CHECK (listener >= 0);
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.backoff_min_ms = 30;
    config.refused_backoff_ms = 30;
    config.outbox_bytes = 32 * 1024 * 1024;
    zflow_hpfeeds_t *client = s_client (port, "alice", "sa", &config);
    enum { COUNT = 20000 };
    char payload[1000];
    memset (payload, 'p', sizeof (payload));
    for (int index = 0; index < COUNT; index++)
        CHECK (zflow_hpfeeds_publish (client, index % 10 ? "chan1" : "forbidden", payload,
                                      sizeof (payload)) == 0);
    //  first connection: take the auth, read nothing, refuse
    int fd = s_accept_info (listener);
    zclock_sleep (300); //  the client fills the socket buffers; the rest waits
    const char *refusal = "Authkey not allowed to pub here. ident=alice, chan=forbidden";
    uint8_t frame[200];
    int size = zflow__hpfeeds_encode_error (frame, refusal, strlen (refusal));
    CHECK (send (fd, frame, (size_t) size, 0) == size);
    zclock_sleep (100);
    close (fd);
    char *text = s_wait_event (client, ZFLOW_HPFEEDS_EVENT_ERROR, 5000);
    CHECK (text && streq (text, refusal));
    zstr_free (&text);
    //  second connection: count what comes
    fd = s_accept_info (listener);
    size_t capacity = 4 * 1024 * 1024, used = 0;
    uint8_t *buffer = (uint8_t *) malloc (capacity);
    int chan1 = 0, forbidden = 0;
    struct pollfd item = {fd, POLLIN, 0};
    while (poll (&item, 1, 1000) == 1) {
        ssize_t got = recv (fd, buffer + used, capacity - used, 0);
        if (got <= 0)
            break;
        used += (size_t) got;
        size_t offset = 0;
        zflow_hpfeeds_frame_t parsed;
        while (zflow__hpfeeds_parse (buffer + offset, used - offset, &parsed, NULL, 0) == 1) {
            if (parsed.channel_size == 9)
                forbidden++;
            else
                chan1++;
            offset += parsed.size;
        }
        memmove (buffer, buffer + offset, used - offset);
        used -= offset;
    }
    zhash_t *stats = zflow_hpfeeds_stats (client, 5000);
    printf ("refused publish: %" PRIu64 " queued frames of the refused channel dropped, then "
            "%d frames of chan1 and %d of it sent\n",
            zflow_actor_stats_get (stats, "refused_drops"), chan1, forbidden);
    CHECK (zflow_actor_stats_get (stats, "refused_drops") > 0);
    CHECK (forbidden == 0 && chan1 > 0);
    CHECK (zflow_actor_stats_get (stats, "outbox_pending") == 0);
    zhash_destroy (&stats);
    free (buffer);
    close (fd);
    zflow_hpfeeds_destroy (&client);
    close (listener);
}

//  The API conventions: one constructor that copies its config (the
//  caller's strings go at once), refuses garbage, stats with a timeout,
//  set_verbose both ways, the actor and endpoint, destroy NULL-safe and
//  idempotent.
static void test_conventions (int port)
{
    int err = 0;
    CHECK (zflow_hpfeeds_new (NULL, &err) == NULL && err == ZFLOW_EINVAL);
    CHECK (zflow_hpfeeds_new (NULL, NULL) == NULL);
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.port = 70000;
    config.ident = "a";
    config.secret = "b";
    err = 0;
    CHECK (zflow_hpfeeds_new (&config, &err) == NULL && err == ZFLOW_EINVAL);
    config.port = port;
    config.outbox_policy = (zflow_hpfeeds_outbox_policy_t) 7;
    err = 0;
    CHECK (zflow_hpfeeds_new (&config, &err) == NULL && err == ZFLOW_EINVAL);
    config.outbox_policy = ZFLOW_HPFEEDS_DROP_OLDEST;
    config.ident = "";
    err = 0;
    CHECK (zflow_hpfeeds_new (&config, &err) == NULL && err == ZFLOW_EINVAL);

    //  the config's strings are freed (and scribbled over) right after new
    char *host = strdup ("127.0.0.1"), *ident = strdup ("alice"), *secret = strdup ("sa");
    config.host = host;
    config.ident = ident;
    config.secret = secret;
    zflow_hpfeeds_t *alice = zflow_hpfeeds_new (&config, &err);
    CHECK (alice);
    memset (host, 'x', strlen (host));
    memset (ident, 'x', strlen (ident));
    memset (secret, 'x', strlen (secret));
    free (host);
    free (ident);
    free (secret);
    memset (&config, 0, sizeof (config));
    zflow_hpfeeds_t *bob = s_client (port, "bob", "sb", NULL);
    CHECK (zflow_hpfeeds_subscribe (bob, "chan1") == 0);
    s_wait_connected (alice);
    s_wait_connected (bob);
    zclock_sleep (100); //  the subscription is not acknowledged
    CHECK (zflow_hpfeeds_publish (alice, "chan1", "copied", 6) == 0);
    zflow_msg_t *msg = zflow_msg_new ();
    s_expect (bob, msg, "chan1", "alice", "copied");
    zflow_msg_destroy (&msg);

    zhash_t *stats = zflow_hpfeeds_stats (alice, 2000);
    CHECK (stats && zflow_actor_stats_get (stats, "connected") == 1);
    CHECK (zflow_actor_stats_get (stats, "published") == 1);
    zhash_destroy (&stats);
    CHECK (zflow_hpfeeds_stats (NULL, 100) == NULL);
    zflow_hpfeeds_set_verbose (alice, true);
    zflow_hpfeeds_set_verbose (alice, false);
    zflow_hpfeeds_set_verbose (NULL, true);
    CHECK (zflow_hpfeeds_actor (alice) && zflow_hpfeeds_actor (NULL) == NULL);
    CHECK (zflow_hpfeeds_endpoint (alice) && zflow_hpfeeds_endpoint (NULL) == NULL);
    CHECK (zflow_hpfeeds_connected (alice) && !zflow_hpfeeds_connected (NULL));
    zflow_hpfeeds_destroy (&alice);
    CHECK (alice == NULL);
    zflow_hpfeeds_destroy (&alice);
    zflow_hpfeeds_destroy (NULL);
    zflow_hpfeeds_destroy (&bob);
}

int main (void)
{
    setvbuf (stdout, NULL, _IONBF, 0);
    zflow_hpfeeds_broker_t *broker = s_broker (0);
    int port = zflow_hpfeeds_broker_port (broker);
    int err = 0;
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    CHECK (zflow_hpfeeds_new (&config, &err) == NULL && err == ZFLOW_EINVAL);
    //  subscriptions are bounded
    zflow_hpfeeds_t *greedy = s_client (1, "a", "b", NULL);
    char channel[32];
    for (int index = 0; index < ZFLOW_HPFEEDS_MAX_CHANNELS; index++) {
        snprintf (channel, sizeof (channel), "c.%d", index);
        CHECK (zflow_hpfeeds_subscribe (greedy, channel) == 0);
    }
    CHECK (zflow_hpfeeds_subscribe (greedy, "one.more") == ZFLOW_EFULL);
    CHECK (zflow_hpfeeds_subscribe (greedy, "c.7") == 0); //  already there
    zflow_hpfeeds_destroy (&greedy);
    test_conventions (port);
    test_round_trip (port);
    test_many_channels (port);
    test_refusals (broker, port);
    test_publish_from (port);
    test_lossless (port);
    zflow_hpfeeds_broker_destroy (&broker);
    test_restart ();
    test_outbox ();
    test_block ();
    test_hostile_broker ();
    test_refused_publish_purge ();
    printf ("test_hpfeeds: OK\n");
    return 0;
}
