/*  =========================================================================
    test_hub_bus - the hub as the bus: attached endpoints, forwarded
    envelopes, the hub's conventions (config, verbose, endpoint, destroy
    in any order)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include "zflow_hpfeeds_broker.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zflow_testing.h"

static uint64_t s_stat (zflow_hub_t *hub, const char *name)
{
    zhash_t *stats = zflow_hub_stats (hub, 2000);
    CHECK (stats);
    uint64_t value = zflow_actor_stats_get (stats, name);
    zhash_destroy (&stats);
    return value;
}

//  Sends n envelopes (key ("t", tag), meta with "n") on a raw socket.
static void s_send_raw (zsock_t *sock, const char *tag, int n)
{
    zflow_key_t *key = zflow_key_new ("t", tag, NULL);
    zflow_meta_t *meta = zflow_meta_new ();
    zflow_msg_t *msg = zflow_msg_new ();
    for (int i = 0; i < n; i++) {
        char text[16];
        snprintf (text, sizeof (text), "%d", i);
        zflow_meta_set (meta, "n", text);
        CHECK (zflow_envelope_encode_key (msg, key, meta, text, strlen (text)) == 0);
        zmsg_t *zmsg = zflow_msg_to_zmsg (msg);
        CHECK (zmsg && zmsg_send (&zmsg, sock) == 0);
    }
    zflow_msg_destroy (&msg);
    zflow_meta_destroy (&meta);
    zflow_key_destroy (&key);
}

//  Takes up to expected envelopes from sub (waiting up to wait_ms for
//  each), then anything more that came at once; checks the order and the
//  meta of each; returns how many came.
static int s_count (zflow_hub_subscriber_t *sub, int expected, int wait_ms)
{
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_meta_t *meta = zflow_meta_new ();
    int got = 0;
    while (zflow_hub_subscriber_consume (sub, msg, got < expected ? wait_ms : 20) == 0) {
        CHECK (zflow_envelope_decode (msg, meta) == 0);
        const char *n = zflow_meta_get (meta, "n");
        CHECK (n && atoi (n) == got);
        got++;
    }
    zflow_meta_destroy (&meta);
    zflow_msg_destroy (&msg);
    return got;
}

//  Attach, then publish at once: over many runs nothing is lost (a raw PUB
//  connected into the hub lost every message in most runs).
static void s_attach_runs (int type, const char *scheme, int runs)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "runs"}, NULL);
    zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new (hub, "runs", NULL);
    zflow_key_t *pattern = zflow_key_new ("t", "*", NULL);
    CHECK (zflow_hub_subscriber_subscribe (sub, pattern) == 0);
    uint64_t forwarded = 0;
    for (int run = 0; run < runs; run++) {
        zsock_t *pub = zsock_new (type);
        char endpoint[256];
        if (streq (scheme, "inproc")) {
            snprintf (endpoint, sizeof (endpoint), "inproc://test-hub-bus-%d-%d", type, run);
            CHECK (zsock_bind (pub, "%s", endpoint) == 0);
        } else {
            int port = zsock_bind (pub, "tcp://127.0.0.1:*");
            CHECK (port > 0);
            snprintf (endpoint, sizeof (endpoint), "tcp://127.0.0.1:%d", port);
        }
        CHECK_RC (zflow_hub_attach (hub, endpoint, 5000), 0);
        s_send_raw (pub, "x", 100);
        CHECK (s_count (sub, 100, 2000) == 100);
        forwarded += 100;
        CHECK (s_stat (hub, "attached_in") == forwarded);
        CHECK (s_stat (hub, "attached") == 1);
        CHECK_RC (zflow_hub_detach (hub, endpoint), 0);
        CHECK (s_stat (hub, "attached") == 0);
        zsock_destroy (&pub);
    }
    zflow_key_destroy (&pattern);
    zflow_hub_subscriber_destroy (&sub);
    zflow_hub_destroy (&hub);
}

static void test_attach_then_publish (void)
{
    s_attach_runs (ZMQ_PUB, "inproc", 30);
    s_attach_runs (ZMQ_XPUB, "inproc", 30);
    s_attach_runs (ZMQ_PUB, "tcp", 10);
}

//  A client of the embedded broker at port with ident and secret.
static zflow_hpfeeds_t *s_hpfeeds_client (int port, const char *ident, const char *secret)
{
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.host = "127.0.0.1";
    config.port = port;
    config.ident = ident;
    config.secret = secret;
    return zflow_hpfeeds_new (&config, NULL);
}

//  An hpfeeds client's endpoint attached to a hub: a hub subscriber on
//  hpfeeds/* gets every message with its publisher's ident.
static void test_attach_hpfeeds (void)
{
    zflow_hpfeeds_broker_t *broker =
        zflow_hpfeeds_broker_new (&(zflow_hpfeeds_broker_config_t){.name = "bus"}, NULL);
    const char *events[] = {"events", NULL};
    zflow_hpfeeds_broker_add_user (broker, "feed", "s1", events, NULL);
    zflow_hpfeeds_broker_add_user (broker, "reader", "s2", NULL, events);
    int port = zflow_hpfeeds_broker_bind (broker, "127.0.0.1", 0);
    CHECK (port > 0);
    zflow_hpfeeds_t *reader = s_hpfeeds_client (port, "reader", "s2");
    CHECK (reader && zflow_hpfeeds_subscribe (reader, "events") == 0);
    zflow_hpfeeds_t *feed = s_hpfeeds_client (port, "feed", "s1");
    CHECK (feed);
    int64_t deadline = zclock_mono () + 5000;
    while ((!zflow_hpfeeds_connected (reader) || !zflow_hpfeeds_connected (feed)) &&
           zclock_mono () < deadline)
        zclock_sleep (10);
    CHECK (zflow_hpfeeds_connected (reader) && zflow_hpfeeds_connected (feed));
    zclock_sleep (100); //  the broker has the reader's subscription

    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "hpfeeds-bus"}, NULL);
    zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new (hub, "watch", NULL);
    zflow_key_t *pattern = zflow_key_new ("hpfeeds", "*", NULL);
    CHECK (zflow_hub_subscriber_subscribe (sub, pattern) == 0);
    CHECK_RC (zflow_hub_attach (hub, zflow_hpfeeds_endpoint (reader), 1000), 0);
    CHECK_RC (zflow_hub_attach (hub, zflow_hpfeeds_endpoint (reader), 1000), ZFLOW_EINVAL);

    const int total = 200;
    for (int i = 0; i < total; i++) {
        char text[32];
        snprintf (text, sizeof (text), "{\"n\":%d}", i);
        CHECK (zflow_hpfeeds_publish (feed, "events", text, strlen (text)) >= 0);
    }
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_meta_t *meta = zflow_meta_new ();
    int got = 0;
    while (got < total && zflow_hub_subscriber_consume (sub, msg, 5000) == 0) {
        CHECK (zflow_envelope_decode (msg, meta) == 0);
        size_t size;
        const char *key = (const char *) zflow_envelope_key (msg, &size);
        CHECK (size == 14 && memcmp (key,
                                     "hpfeeds\x1f"
                                     "events",
                                     14) == 0);
        CHECK (zflow_meta_get (meta, "ident") && streq (zflow_meta_get (meta, "ident"), "feed"));
        char text[32];
        snprintf (text, sizeof (text), "{\"n\":%d}", got);
        const void *payload = zflow_envelope_payload (msg, &size);
        CHECK (size == strlen (text) && memcmp (payload, text, size) == 0);
        got++;
    }
    CHECK (got == total);
    CHECK (s_stat (hub, "attached_in") == (uint64_t) total);
    CHECK (s_stat (hub, "attached_malformed") == 0);
    zflow_meta_destroy (&meta);
    zflow_msg_destroy (&msg);
    zflow_key_destroy (&pattern);
    zflow_hub_subscriber_destroy (&sub);
    zflow_hub_destroy (&hub); //  with the attachment still there
    zflow_hpfeeds_destroy (&feed);
    zflow_hpfeeds_destroy (&reader);
    zflow_hpfeeds_broker_destroy (&broker);
}

//  Garbage on an attached endpoint is counted, not forwarded; bad calls.
static void test_attach_bad (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "attach-bad"}, NULL);
    CHECK_RC (zflow_hub_attach (NULL, "inproc://x", 100), ZFLOW_EINVAL);
    CHECK_RC (zflow_hub_attach (hub, NULL, 100), ZFLOW_EINVAL);
    CHECK_RC (zflow_hub_attach (hub, "", 100), ZFLOW_EINVAL);
    CHECK_RC (zflow_hub_attach (hub, "nonsense", 100), ZFLOW_EENDPOINT);
    //  a TCP listener that never speaks ZMTP: no handshake, nothing stays
    //  attached (a port of our own, so no other program can answer on it)
    int listener = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t length = sizeof (address);
    CHECK (listener >= 0 && bind (listener, (struct sockaddr *) &address, length) == 0);
    CHECK (listen (listener, 4) == 0);
    CHECK (getsockname (listener, (struct sockaddr *) &address, &length) == 0);
    char endpoint[64];
    snprintf (endpoint, sizeof (endpoint), "tcp://127.0.0.1:%d", ntohs (address.sin_port));
    CHECK_RC (zflow_hub_attach (hub, endpoint, 200), ZFLOW_ETIMEDOUT);
    CHECK (s_stat (hub, "attached") == 0);
    CHECK_RC (zflow_hub_detach (hub, endpoint), ZFLOW_ENOTFOUND);
    CHECK_RC (zflow_hub_detach (hub, NULL), ZFLOW_EINVAL);
    CHECK_RC (zflow_hub_detach (NULL, endpoint), ZFLOW_EINVAL);
    close (listener);

    zsock_t *pub = zsock_new_pub ("inproc://test-hub-bus-garbage");
    CHECK_RC (zflow_hub_attach (hub, "inproc://test-hub-bus-garbage", 100), 0);
    zstr_send (pub, "not an envelope");
    zsock_send (pub, "bss", "a\0b", (size_t) 3, "meta", "x"); //  NUL in the key
    s_send_raw (pub, "ok", 1);
    int64_t deadline = zclock_mono () + 2000;
    while (s_stat (hub, "attached_in") < 1 && zclock_mono () < deadline)
        zclock_sleep (10);
    CHECK (s_stat (hub, "attached_in") == 1);
    CHECK (s_stat (hub, "attached_malformed") == 2);
    zsock_destroy (&pub);
    zflow_hub_destroy (&hub);
}

//  forward keeps the meta; only the key gets the publisher's prefix.
static void test_forward (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "forward"}, NULL);
    zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new (hub, "watch", NULL);
    zflow_key_t *all = zflow_key_new ("bridged", "*", NULL);
    CHECK (zflow_hub_subscriber_subscribe (sub, all) == 0);
    zflow_key_destroy (&all);
    all = zflow_key_new ("hpfeeds", "*", NULL);
    CHECK (zflow_hub_subscriber_subscribe (sub, all) == 0);
    zflow_key_t *prefix = zflow_key_new ("bridged", NULL);
    zflow_hub_publisher_t *pub = zflow_hub_publisher_new (hub, prefix, NULL);
    zflow_hub_publisher_t *plain = zflow_hub_publisher_new (hub, NULL, NULL);
    CHECK (pub && plain);

    zflow_meta_t *meta = zflow_meta_new ();
    zflow_meta_set_source (meta, "hpfeeds://127.0.0.1:10000");
    zflow_meta_set (meta, "ident", "honeypot-7");
    zflow_meta_set_seq (meta, 42);
    zflow_key_t *key = zflow_key_new ("hpfeeds", "events", NULL);
    zflow_msg_t *msg = zflow_msg_new ();
    CHECK (zflow_envelope_encode_key (msg, key, meta, "{}", 2) == 0);
    zflow_msg_add (msg, "second", 6); //  a second payload frame survives too
    CHECK_RC (zflow_hub_publisher_forward (pub, msg), 0);
    CHECK (zflow_msg_size (msg) == 0);
    CHECK (zflow_envelope_encode_key (msg, key, meta, "{}", 2) == 0);
    CHECK_RC (zflow_hub_publisher_forward (plain, msg), 0);
    zflow_hub_publisher_flush (pub, 1000);
    zflow_hub_publisher_flush (plain, 1000);

    //  two publishers: either may arrive first
    const char *keys[] = {"bridged\x1fhpfeeds\x1f"
                          "events",
                          "hpfeeds\x1f"
                          "events"};
    zflow_meta_t *got = zflow_meta_new ();
    bool seen[2] = {false, false};
    for (int n = 0; n < 2; n++) {
        CHECK (zflow_hub_subscriber_consume (sub, msg, 2000) == 0);
        CHECK (zflow_envelope_decode (msg, got) == 0);
        size_t size;
        const char *wire = (const char *) zflow_envelope_key (msg, &size);
        int i = size == strlen (keys[0]) ? 0 : 1;
        CHECK (!seen[i] && size == strlen (keys[i]) && memcmp (wire, keys[i], size) == 0);
        seen[i] = true;
        CHECK (streq (zflow_meta_get (got, "ident"), "honeypot-7"));
        CHECK (streq (zflow_meta_source (got), "hpfeeds://127.0.0.1:10000"));
        CHECK (zflow_meta_seq (got) == 42);
        CHECK (zflow_msg_size (msg) == (i == 0 ? 4u : 3u));
    }
    //  bad input: clear codes, the message is emptied
    CHECK_RC (zflow_hub_publisher_forward (NULL, msg), ZFLOW_EINVAL);
    CHECK_RC (zflow_hub_publisher_forward (pub, NULL), ZFLOW_EINVAL);
    zflow_msg_reset (msg);
    zflow_msg_add (msg, "just one frame", 14);
    CHECK_RC (zflow_hub_publisher_forward (pub, msg), ZFLOW_EPROTO);
    CHECK (zflow_msg_size (msg) == 0);
    zflow_msg_add (msg, "a\0b", 3); //  a NUL in the key
    zflow_msg_add (msg, "meta", 4);
    zflow_msg_add (msg, "x", 1);
    CHECK_RC (zflow_hub_publisher_forward (pub, msg), ZFLOW_EPROTO);
    CHECK (zflow_msg_size (msg) == 0);
    //  a key as long as allowed cannot take a prefix in front
    const char *parts[ZFLOW_KEY_MAX_PARTS];
    for (int i = 0; i < ZFLOW_KEY_MAX_PARTS; i++)
        parts[i] = "p";
    zflow_key_t *longest = zflow_key_new_array (parts, ZFLOW_KEY_MAX_PARTS, NULL);
    CHECK (zflow_envelope_encode_key (msg, longest, NULL, "x", 1) == 0);
    CHECK_RC (zflow_hub_publisher_forward (pub, msg), ZFLOW_ETOOBIG);
    CHECK (zflow_envelope_encode_key (msg, longest, NULL, "x", 1) == 0);
    CHECK_RC (zflow_hub_publisher_forward (plain, msg), 0);
    zflow_key_destroy (&longest);

    zflow_meta_destroy (&got);
    zflow_meta_destroy (&meta);
    zflow_msg_destroy (&msg);
    zflow_key_destroy (&key);
    zflow_key_destroy (&prefix);
    zflow_key_destroy (&all);
    zflow_hub_publisher_destroy (&pub);
    zflow_hub_publisher_destroy (&plain);
    zflow_hub_subscriber_destroy (&sub);
    zflow_hub_destroy (&hub);
}

//  The configured-class conventions.
static void test_conventions (void)
{
    //  NULL config: a hub with a made-up name; two of them differ
    int err = -1;
    zflow_hub_t *a = zflow_hub_new (NULL, &err);
    CHECK (a && err == 0);
    zflow_hub_t *b = zflow_hub_new (NULL, NULL);
    CHECK (b && !streq (zflow_hub_name (a), zflow_hub_name (b)));
    CHECK (strncmp (zflow_hub_name (a), "hub-", 4) == 0);
    zflow_hub_destroy (&b);

    //  the config is copied: the caller may change or free it at once
    char name[] = "copied";
    zflow_hub_config_t config;
    zflow_hub_config_init (&config);
    CHECK (config.name == NULL && !config.verbose && !config.curve);
    config.name = name;
    config.verbose = true;
    zflow_hub_t *hub = zflow_hub_new (&config, &err);
    CHECK (hub && err == 0);
    name[0] = 'X';
    CHECK (streq (zflow_hub_name (hub), "copied"));
    CHECK (streq (zflow_hub_endpoint (hub), "inproc://zflow.hub.copied.sub"));
    CHECK (zflow_hub_endpoint (hub) == zflow_hub_sub_endpoint (hub));
    CHECK (zflow_hub_endpoint (NULL) == NULL);
    CHECK (zflow_hub_actor (hub) && zflow_hub_actor (NULL) == NULL);
    zflow_hub_set_verbose (hub, false);
    zflow_hub_set_verbose (NULL, true);
    CHECK (zflow_hub_stats (NULL, 100) == NULL);
    CHECK (s_stat (hub, "attached") == 0); //  the actor still answers
    zflow_hub_config_init (NULL);

    //  CURVE through the config: a cert without keys is refused by nobody,
    //  a missing cert is
    zflow_hub_curve_t curve = {NULL, NULL, NULL};
    config.name = "curve-config";
    config.verbose = false;
    config.curve = &curve;
    CHECK (zflow_hub_new (&config, &err) == NULL && err == ZFLOW_EINVAL);
    curve.cert = zcert_new ();
    zflow_hub_t *secure = zflow_hub_new (&config, &err);
    CHECK (secure && err == 0);
    zcert_destroy (&curve.cert); //  copied into the sockets
    CHECK (zflow_hub_bind (secure, "tcp://127.0.0.1:*", NULL) == 0);
    zflow_hub_destroy (&secure);

    //  destroy: NULL-safe and idempotent
    zflow_hub_destroy (NULL);
    zflow_hub_destroy (&hub);
    CHECK (hub == NULL);
    zflow_hub_destroy (&hub);
    zflow_hub_destroy (&a);
}

//  The hub first, then its publisher and subscriber: what they still do.
static void test_destroy_order (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "order-first"}, NULL);
    zflow_key_t *key = zflow_key_new ("a", NULL);
    zflow_hub_publisher_t *pub = zflow_hub_publisher_new (hub, NULL, NULL);
    zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new (hub, "late", NULL);
    CHECK (pub && sub);
    CHECK (zflow_hub_subscriber_subscribe (sub, key) == 0);
    CHECK (zflow_hub_publisher_has_subscribers (pub, key) == 1);
    CHECK_RC (zflow_hub_attach (hub, "inproc://test-hub-bus-order", 100), 0);
    zflow_hub_destroy (&hub);
    CHECK (zflow_hub_publisher_has_subscribers (pub, key) == 0);
    int rc = zflow_hub_publisher_publish (pub, key, "x", 1);
    CHECK (rc == 0 || rc == ZFLOW_DRAIN);
    CHECK_RC (zflow_hub_subscriber_subscribe (sub, key), ZFLOW_ECLOSED);
    CHECK_RC (zflow_hub_subscriber_sync (sub, 100), ZFLOW_ECLOSED);
    zflow_msg_t *msg = zflow_msg_new ();
    CHECK_RC (zflow_hub_subscriber_consume (sub, msg, 50), ZFLOW_ETIMEDOUT);
    zflow_msg_destroy (&msg);
    zflow_hub_publisher_destroy (&pub);
    zflow_hub_subscriber_destroy (&sub);

    //  and a name is free again once destroy returned
    hub = zflow_hub_new (&(zflow_hub_config_t){.name = "order-first"}, NULL);
    CHECK (hub);
    sub = zflow_hub_subscriber_new (hub, "second", NULL);
    zflow_hub_destroy (&hub);
    zflow_hub_subscriber_destroy (&sub);
    zflow_key_destroy (&key);
}

int main (void)
{
    printf ("test_hub_bus:\n");
    RUN (test_conventions);
    RUN (test_forward);
    RUN (test_attach_bad);
    RUN (test_destroy_order);
    RUN (test_attach_then_publish);
    RUN (test_attach_hpfeeds);
    return 0;
}
