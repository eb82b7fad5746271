/*  =========================================================================
    test_hpfeeds_batch - the client's batched hand-offs: received frames
    reach zflow_hpfeeds_read in batches (one ZeroMQ frame per run of
    publish frames) and the output endpoint as single envelopes; the
    checks: order and content across batch boundaries (by count and by
    bytes) and across publishes too large for the publish hand-off buffer,
    envelopes (zflow_hpfeeds_read) and views (zflow_hpfeeds_recv) mixed,
    both outputs complete, a frame with a bad channel in the
    middle of a run, exact drop accounting in lossy mode, read timeouts.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include <inttypes.h>
#include <stdio.h>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf (stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #x);                 \
            abort ();                                                                              \
        }                                                                                          \
    } while (0)

#define S_BAD_CHANNEL                                                                              \
    "bad\x1f"                                                                                      \
    "chan"

static const char *s_chans[] = {"chan1", "chan2", "chan10", S_BAD_CHANNEL, NULL};

static zflow_hpfeeds_t *s_client (int port, const char *ident, zflow_hpfeeds_config_t *config)
{
    zflow_hpfeeds_config_t defaults;
    if (!config) {
        zflow_hpfeeds_config_init (&defaults);
        config = &defaults;
    }
    config->port = port;
    config->ident = ident;
    config->secret = "s";
    int rc = 0;
    zflow_hpfeeds_t *client = zflow_hpfeeds_new (config, &rc);
    CHECK (client && rc == 0);
    return client;
}

static void s_wait_connected (zflow_hpfeeds_t *client)
{
    int64_t deadline = zclock_mono () + 5000;
    while (!zflow_hpfeeds_connected (client) && zclock_mono () < deadline)
        zclock_sleep (10);
    CHECK (zflow_hpfeeds_connected (client));
}

static uint64_t s_stat (zflow_hpfeeds_t *client, const char *name)
{
    zhash_t *stats = zflow_hpfeeds_stats (client, 5000);
    CHECK (stats);
    uint64_t value = zflow_actor_stats_get (stats, name);
    zhash_destroy (&stats);
    return value;
}

//  Payload of message index: its number, then filler; every 97th message
//  is large (20 KB..60 KB) so that batches also end on the byte limit, and
//  every 1000th is over 64 KiB, so it travels alone past the publish
//  hand-off buffer (order kept).
static size_t s_payload (int index, char *buffer)
{
    size_t size = (size_t) snprintf (buffer, 32, "%d:", index);
    size_t total =
        index % 97 == 0 ? 20000 + (size_t) (index % 5) * 10000 : 1 + (size_t) (index % 300);
    if (index % 1000 == 500)
        total = 90000;
    if (total < size)
        total = size;
    for (size_t at = size; at < total; at++)
        buffer[at] = (char) ('a' + (index + at) % 26);
    return total;
}

//  Checks that msg is message index on channel, from ident alice.
static void s_check (zflow_msg_t *msg, int index, char *expected)
{
    char channel[256], ident[256];
    const void *data;
    size_t size;
    CHECK (zflow_hpfeeds_unpack (msg, channel, ident, &data, &size) == 0);
    CHECK (streq (channel, index % 2 ? "chan2" : "chan1"));
    CHECK (streq (ident, "alice"));
    size_t want = s_payload (index, expected);
    if (size != want || memcmp (data, expected, size)) {
        fprintf (stderr, "message %d: %zu bytes, expected %zu\n", index, size, want);
        CHECK (false);
    }
}

//  Order and content across batches, on the reader and on a SUB stream of
//  the output endpoint at the same time; nothing lost (lossless).
static void test_order (int port)
{
    zflow_hpfeeds_t *bob = s_client (port, "bob", NULL);
    zflow_hpfeeds_t *alice = s_client (port, "alice", NULL);
    CHECK (zflow_hpfeeds_subscribe (bob, "chan1") == 0);
    CHECK (zflow_hpfeeds_subscribe (bob, "chan2") == 0);
    int rc = 0;
    zflow_stream_t *watch = zflow_stream_new (ZMQ_SUB, NULL, NULL, &rc);
    CHECK (watch);
    zsock_set_rcvhwm (zflow_stream_sock (watch), 0);
    zsock_set_subscribe (zflow_stream_sock (watch), "hpfeeds");
    CHECK (zflow_stream_connect (watch, zflow_hpfeeds_endpoint (bob)) == 0);
    s_wait_connected (bob);
    s_wait_connected (alice);
    zclock_sleep (100);
    char *payload = (char *) malloc (100000), *expected = (char *) malloc (100000);
    const int count = 6000;
    for (int index = 0; index < count; index++) {
        size_t size = s_payload (index, payload);
        CHECK (zflow_hpfeeds_publish (alice, index % 2 ? "chan2" : "chan1", payload, size) == 0);
    }
    zflow_msg_t *msg = zflow_msg_new ();
    //  envelopes and views (zflow_hpfeeds_recv), mixed, take one sequence
    for (int index = 0; index < count; index++) {
        if (index % 3 == 2) {
            zflow_hpfeeds_message_t message;
            CHECK (zflow_hpfeeds_recv (bob, &message, 5000) == 0);
            const char *channel = index % 2 ? "chan2" : "chan1";
            CHECK (message.channel_size == 5 && memcmp (message.channel, channel, 5) == 0);
            CHECK (message.ident_size == 5 && memcmp (message.ident, "alice", 5) == 0);
            size_t want = s_payload (index, expected);
            CHECK (message.size == want && memcmp (message.payload, expected, want) == 0);
            continue;
        }
        CHECK (zflow_hpfeeds_read (bob, msg, 5000) == 0);
        s_check (msg, index, expected);
    }
    CHECK (zflow_hpfeeds_read (bob, msg, 0) == ZFLOW_EAGAIN);
    zflow_hpfeeds_message_t none;
    CHECK (zflow_hpfeeds_recv (bob, &none, 0) == ZFLOW_EAGAIN);
    for (int index = 0; index < count; index++) {
        CHECK (zflow_stream_read (watch, msg, 5000) == 0);
        CHECK (zflow_msg_size (msg) == 3);
        s_check (msg, index, expected);
    }
    CHECK (s_stat (bob, "received") == (uint64_t) count);
    CHECK (s_stat (bob, "inproc_drops") == 0);
    printf ("order: %d of %d in order on the reader and on the output endpoint\n", count, count);
    zflow_msg_destroy (&msg);
    free (payload);
    free (expected);
    zflow_stream_destroy (&watch);
    zflow_hpfeeds_destroy (&alice);
    zflow_hpfeeds_destroy (&bob);
}

//  A frame whose channel cannot be a key, in the middle of a run: it is
//  dropped and counted, the frames around it arrive in order.
static void test_bad_channel (int port)
{
    zflow_hpfeeds_t *bob = s_client (port, "bob", NULL);
    zflow_hpfeeds_t *alice = s_client (port, "alice", NULL);
    CHECK (zflow_hpfeeds_subscribe (bob, "chan1") == 0);
    CHECK (zflow_hpfeeds_subscribe (bob, S_BAD_CHANNEL) == 0);
    s_wait_connected (bob);
    s_wait_connected (alice);
    zclock_sleep (100);
    char payload[32];
    for (int index = 0; index < 200; index++) {
        int size = snprintf (payload, sizeof (payload), "%d", index);
        CHECK (zflow_hpfeeds_publish (alice, "chan1", payload, (size_t) size) == 0);
        if (index == 99)
            CHECK (zflow_hpfeeds_publish (alice, S_BAD_CHANNEL, "x", 1) == 0);
    }
    zflow_msg_t *msg = zflow_msg_new ();
    for (int index = 0; index < 200; index++) {
        const void *data;
        size_t size;
        CHECK (zflow_hpfeeds_read (bob, msg, 5000) == 0);
        CHECK (zflow_hpfeeds_unpack (msg, NULL, NULL, &data, &size) == 0);
        snprintf (payload, sizeof (payload), "%d", index);
        CHECK (size == strlen (payload) && memcmp (data, payload, size) == 0);
    }
    CHECK (zflow_hpfeeds_read (bob, msg, 200) == ZFLOW_ETIMEDOUT);
    CHECK (s_stat (bob, "received") == 201);
    CHECK (s_stat (bob, "inproc_drops") == 1);
    printf ("bad channel: 200 delivered in order, 1 dropped and counted\n");
    zflow_msg_destroy (&msg);
    zflow_hpfeeds_destroy (&alice);
    zflow_hpfeeds_destroy (&bob);
}

//  Lossy mode with a reader that waits: what arrives is in order and
//  what does not is counted, exactly.
static void test_lossy_accounting (int port)
{
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.lossless = false;
    config.output_hwm = 300;
    zflow_hpfeeds_t *bob = s_client (port, "bob", &config);
    zflow_hpfeeds_t *alice = s_client (port, "alice", NULL);
    CHECK (zflow_hpfeeds_subscribe (bob, "chan1") == 0);
    s_wait_connected (bob);
    s_wait_connected (alice);
    zclock_sleep (100);
    const int count = 50000;
    char payload[32];
    for (int index = 0; index < count; index++) {
        int size = snprintf (payload, sizeof (payload), "%d", index);
        CHECK (zflow_hpfeeds_publish (alice, "chan1", payload, (size_t) size) == 0);
    }
    int64_t deadline = zclock_mono () + 10000;
    while (s_stat (bob, "received") < (uint64_t) count && zclock_mono () < deadline)
        zclock_sleep (50);
    CHECK (s_stat (bob, "received") == (uint64_t) count);
    zflow_msg_t *msg = zflow_msg_new ();
    int read = 0, last = -1;
    while (zflow_hpfeeds_read (bob, msg, 200) == 0) {
        const void *data;
        size_t size;
        CHECK (zflow_hpfeeds_unpack (msg, NULL, NULL, &data, &size) == 0);
        CHECK (size < sizeof (payload));
        memcpy (payload, data, size);
        payload[size] = 0;
        int seq = atoi (payload);
        CHECK (seq > last);
        last = seq;
        read++;
    }
    uint64_t drops = s_stat (bob, "inproc_drops");
    printf ("lossy: %d read + %" PRIu64 " counted drops of %d\n", read, drops, count);
    CHECK (drops > 0);
    CHECK ((uint64_t) read + drops == (uint64_t) count);
    zflow_msg_destroy (&msg);
    zflow_hpfeeds_destroy (&alice);
    zflow_hpfeeds_destroy (&bob);
}

//  zflow_hpfeeds_read refills the envelope it built last in place when
//  sizes repeat: a copy of it (parts shared) keeps its message, and the
//  message keeps its content when the user changed a part meanwhile.
static void test_refill (int port)
{
    zflow_hpfeeds_t *bob = s_client (port, "bob", NULL);
    zflow_hpfeeds_t *alice = s_client (port, "alice", NULL);
    CHECK (zflow_hpfeeds_subscribe (bob, "chan1") == 0);
    s_wait_connected (bob);
    s_wait_connected (alice);
    zclock_sleep (100);
    const int count = 40;
    char payload[100];
    for (int index = 0; index < count; index++) {
        memset (payload, 'a' + index % 26, sizeof (payload));
        CHECK (zflow_hpfeeds_publish (alice, "chan1", payload, sizeof (payload)) == 0);
    }
    zflow_msg_t *msg = zflow_msg_new (), *keep = zflow_msg_new ();
    for (int index = 0; index < count; index++) {
        CHECK (zflow_hpfeeds_read (bob, msg, 5000) == 0);
        const void *data;
        size_t size;
        CHECK (zflow_hpfeeds_unpack (msg, NULL, NULL, &data, &size) == 0);
        CHECK (size == sizeof (payload) && ((const char *) data)[0] == 'a' + index % 26 &&
               ((const char *) data)[99] == 'a' + index % 26);
        if (index > 0 && index % 4 == 1) { //  the copy made after the last read
            CHECK (zflow_hpfeeds_unpack (keep, NULL, NULL, &data, &size) == 0);
            CHECK (size == sizeof (payload) && ((const char *) data)[0] == 'a' + (index - 1) % 26);
        }
        if (index % 4 == 0)
            CHECK (zflow_msg_copy (keep, msg) == 0);
        if (index % 4 == 2) { //  the user swaps the payload part for its own
            zmq_msg_t *part = (zmq_msg_t *) zflow_msg_zmq (msg, 2);
            zmq_msg_close (part);
            zmq_msg_init_size (part, sizeof (payload));
            memset (zmq_msg_data (part), '#', sizeof (payload));
        }
    }
    printf ("refill: %d envelopes of one size read into one message, copies intact\n", count);
    zflow_msg_destroy (&keep);
    zflow_msg_destroy (&msg);
    zflow_hpfeeds_destroy (&alice);
    zflow_hpfeeds_destroy (&bob);
}

//  The refill in place follows what changes between two envelopes: the
//  ident (its meta part), the channel (of the same or another length) and
//  the payload size. Two publishers, two channels, sizes 0 to 300 bytes;
//  every message read must carry its own ident, channel and payload.
static void test_refill_mixed (int port)
{
    zflow_hpfeeds_t *bob = s_client (port, "bob", NULL);
    zflow_hpfeeds_t *alice = s_client (port, "alice", NULL);
    zflow_hpfeeds_t *carl = s_client (port, "carl", NULL);
    CHECK (zflow_hpfeeds_subscribe (bob, "chan1") == 0);
    CHECK (zflow_hpfeeds_subscribe (bob, "chan10") == 0);
    s_wait_connected (bob);
    s_wait_connected (alice);
    s_wait_connected (carl);
    zclock_sleep (100);
    const size_t sizes[] = {100, 100, 7, 7, 300, 100, 0, 33, 34, 100};
    const int count = 60;
    char payload[300];
    for (int index = 0; index < count; index++) {
        //  the first byte names the publisher, the second the channel
        size_t size = sizes[index % 10];
        memset (payload, 'a' + index % 26, sizeof (payload));
        payload[0] = index % 3 ? 'A' : 'C';
        payload[1] = index % 2 ? '2' : '1';
        CHECK (zflow_hpfeeds_publish (index % 3 ? alice : carl, index % 2 ? "chan10" : "chan1",
                                      payload, size) == 0);
    }
    zflow_msg_t *msg = zflow_msg_new ();
    int read = 0;
    while (read < count && zflow_hpfeeds_read (bob, msg, 5000) == 0) {
        char channel[256], ident[256];
        const uint8_t *data;
        size_t size;
        CHECK (zflow_hpfeeds_unpack (msg, channel, ident, (const void **) &data, &size) == 0);
        read++;
        if (size < 2) //  too short to tell: only its channel and ident exist
            continue;
        CHECK (streq (ident, data[0] == 'A' ? "alice" : "carl"));
        CHECK (streq (channel, data[1] == '2' ? "chan10" : "chan1"));
        CHECK (size == 7 || size == 33 || size == 34 || size == 100 || size == 300);
        CHECK (data[size - 1] == data[2]);
    }
    CHECK (read == count);
    printf ("refill: %d envelopes of two idents, two channels, five sizes\n", count);
    zflow_msg_destroy (&msg);
    zflow_hpfeeds_destroy (&carl);
    zflow_hpfeeds_destroy (&alice);
    zflow_hpfeeds_destroy (&bob);
}

int main (void)
{
    zsys_init ();
    zsys_set_logstream (stderr);
    //  lossless end to end while the readers are behind
    zflow_hpfeeds_broker_t *broker = zflow_hpfeeds_broker_new (
        &(zflow_hpfeeds_broker_config_t){.name = "zflow-test",
                                         .slow_policy = ZFLOW_HPFEEDS_SLOW_BLOCK},
        NULL);
    CHECK (broker);
    CHECK (zflow_hpfeeds_broker_add_user (broker, "alice", "s", s_chans, s_chans) == 0);
    CHECK (zflow_hpfeeds_broker_add_user (broker, "bob", "s", NULL, s_chans) == 0);
    CHECK (zflow_hpfeeds_broker_add_user (broker, "carl", "s", s_chans, NULL) == 0);
    int port = zflow_hpfeeds_broker_bind (broker, "127.0.0.1", 0);
    CHECK (port > 0);
    test_order (port);
    test_refill (port);
    test_refill_mixed (port);
    test_bad_channel (port);
    test_lossy_accounting (port);
    zflow_hpfeeds_broker_destroy (&broker);
    printf ("test_hpfeeds_batch: OK\n");
    return 0;
}
