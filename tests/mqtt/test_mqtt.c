/*  =========================================================================
    test_mqtt - the MQTT source and sink against a real mosquitto broker

    Bad configurations, the key <-> topic mapping both ways with its meta,
    QoS 1 and 2, retained messages, TLS with a CA made by openssl, a
    wrong password (refused, the broker's words, no retry), an oversize
    payload (dropped, counted, said), and QoS 1 with a persistent session
    across a broker restart (nothing lost).

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "mqtt/mqtt_broker.h"
#include "zflow_testing.h"
#include <string.h>

static mqtt_broker_t s_broker;
//  Brokers that are running, stopped at exit when a check fails.
static mqtt_broker_t *s_running[4];

static zflow_mqtt_config_t s_config (void)
{
    zflow_mqtt_config_t config;
    zflow_mqtt_config_init (&config);
    config.port = s_broker.port;
    config.backoff_max_ms = 300;
    return config;
}

//  Waits until stats name of a source or sink reaches at least value.
static uint64_t s_wait_stat (zactor_t *actor, const char *name, uint64_t value, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    uint64_t got = 0;
    do {
        zhash_t *stats = zflow_actor_stats (actor, 2000);
        got = zflow_actor_stats_get (stats, name);
        zhash_destroy (&stats);
        if (got >= value)
            break;
        zclock_sleep (20);
    } while (zclock_mono () < deadline);
    return got;
}

//  The text entry name of STATS (a new string), for the reason.
static char *s_stat_text (zactor_t *actor, const char *name)
{
    zhash_t *stats = zflow_actor_stats (actor, 2000);
    const char *value = stats ? (const char *) zhash_lookup (stats, name) : NULL;
    char *copy = strdup (value ? value : "");
    zhash_destroy (&stats);
    return copy;
}

//  Sends one envelope with key text (a/b form) and payload on sock.
static void s_send (zsock_t *sock, const char *key_text, const void *payload, size_t size)
{
    zflow_key_t *key = zflow_key_parse (key_text, NULL);
    CHECK (key);
    size_t key_size;
    const void *wire = zflow_key_wire (key, &key_size);
    zflow_meta_t *meta = zflow_meta_new ();
    uint8_t meta_wire[ZFLOW_META_MAX_WIRE];
    int meta_size = zflow_meta_encode (meta, meta_wire, sizeof (meta_wire));
    CHECK (meta_size >= 0);
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, wire, key_size);
    zmsg_addmem (msg, meta_wire, (size_t) meta_size);
    zmsg_addmem (msg, payload, size);
    CHECK (zmsg_send (&msg, sock) == 0);
    zflow_meta_destroy (&meta);
    zflow_key_destroy (&key);
}

//  Receives one envelope; returns it (the caller destroys it) or NULL.
static zmsg_t *s_recv (zsock_t *sub, int timeout_ms)
{
    zsock_set_rcvtimeo (sub, timeout_ms);
    zmsg_t *msg = zmsg_recv (sub);
    CHECK (!msg || zmsg_size (msg) == 3);
    return msg;
}

//  The payload of an envelope as a number (-1 if it is none).
static int s_number (zmsg_t *msg)
{
    char *text = zframe_strdup (zmsg_last (msg));
    char *end = NULL;
    long n = strtol (text, &end, 10);
    bool ok = *text && end && !*end;
    free (text);
    return ok ? (int) n : -1;
}

//  The key of an envelope in text form (a new string).
static char *s_key_text (zmsg_t *msg)
{
    zframe_t *frame = zmsg_first (msg);
    zflow_key_t *key = zflow_key_decode (zframe_data (frame), zframe_size (frame), NULL);
    char *text = key ? strdup (zflow_key_text (key)) : NULL;
    zflow_key_destroy (&key);
    return text;
}

//  Meta extra name of an envelope (a new string, "" if absent).
static char *s_meta (zmsg_t *msg, const char *name)
{
    zmsg_first (msg);
    zframe_t *frame = zmsg_next (msg);
    zflow_meta_t *meta = zflow_meta_new ();
    CHECK (zflow_meta_decode (meta, zframe_data (frame), zframe_size (frame)) == 0);
    const char *value = zflow_meta_get (meta, name);
    char *copy = strdup (value ? value : "");
    zflow_meta_destroy (&meta);
    return copy;
}

static zsock_t *s_sub (zflow_mqtt_source_t *source)
{
    zsock_t *sub = zsock_new_sub (zflow_mqtt_source_endpoint (source), "");
    CHECK (sub);
    CHECK (s_wait_stat (zflow_mqtt_source_actor (source), "subscribed", 1, 5000) >= 1);
    return sub;
}

static void test_bad_config (void)
{
    int err = 0;
    CHECK (zflow_mqtt_source_new (NULL, &err) == NULL);
    CHECK_RC (err, ZFLOW_EINVAL);
    CHECK (zflow_mqtt_sink_new (NULL, &err) == NULL);
    CHECK_RC (err, ZFLOW_EINVAL);
    zflow_mqtt_config_t config = s_config ();
    CHECK (zflow_mqtt_source_new (&config, &err) == NULL); //  no filters
    CHECK_RC (err, ZFLOW_ECONFIG);
    config.filters = "a/#/b";
    CHECK (zflow_mqtt_source_new (&config, &err) == NULL);
    CHECK_RC (err, ZFLOW_ECONFIG);
    config.filters = "a/#";
    config.qos = 3;
    CHECK (zflow_mqtt_source_new (&config, &err) == NULL);
    CHECK_RC (err, ZFLOW_ECONFIG);
    CHECK (zflow_mqtt_sink_new (&config, &err) == NULL);
    CHECK_RC (err, ZFLOW_ECONFIG);
    config.qos = 0;
    config.key_prefix = "bad\x1fprefix";
    CHECK (zflow_mqtt_source_new (&config, &err) == NULL);
    CHECK_RC (err, ZFLOW_ECONFIG);
    config.key_prefix = "mqtt";
    config.topic = "a/+";
    CHECK (zflow_mqtt_sink_new (&config, &err) == NULL);
    CHECK_RC (err, ZFLOW_ECONFIG);
    config.topic = NULL;
    config.max_inflight = 70000;
    CHECK (zflow_mqtt_sink_new (&config, &err) == NULL);
    CHECK_RC (err, ZFLOW_ECONFIG);
    config.max_inflight = 0;
    config.port = 70000;
    CHECK (zflow_mqtt_sink_new (&config, &err) == NULL);
    CHECK_RC (err, ZFLOW_ECONFIG);
    config.port = s_broker.port;
    config.endpoint = "nonsense://x";
    CHECK (zflow_mqtt_sink_new (&config, &err) == NULL);
    CHECK_RC (err, ZFLOW_EENDPOINT);
    CHECK (zflow_mqtt_source_new (&config, &err) == NULL);
    CHECK_RC (err, ZFLOW_EENDPOINT);
    //  NULL-safe accessors
    zflow_mqtt_source_t *no_source = NULL;
    zflow_mqtt_sink_t *no_sink = NULL;
    zflow_mqtt_source_destroy (&no_source);
    zflow_mqtt_source_destroy (NULL);
    zflow_mqtt_sink_destroy (&no_sink);
    zflow_mqtt_sink_destroy (NULL);
    CHECK (!zflow_mqtt_source_stats (NULL, 10) && !zflow_mqtt_sink_stats (NULL, 10));
    CHECK (!zflow_mqtt_source_endpoint (NULL) && !zflow_mqtt_sink_endpoint (NULL));
    CHECK (!zflow_mqtt_source_actor (NULL) && !zflow_mqtt_sink_actor (NULL));
    zflow_mqtt_source_set_verbose (NULL, true);
    zflow_mqtt_sink_set_verbose (NULL, true);
    zflow_mqtt_config_init (NULL);
}

//  Key <-> topic both ways, the meta, QoS 2, then a retained message.
static void test_roundtrip (void)
{
    zflow_mqtt_config_t config = s_config ();
    config.filters = "t/+/x, r/#";
    config.qos = 2;
    int err = 0;
    zflow_mqtt_source_t *source = zflow_mqtt_source_new (&config, &err);
    CHECK (source && err == 0);
    zsock_t *sub = s_sub (source);
    config.lossless = true;
    zflow_mqtt_sink_t *sink = zflow_mqtt_sink_new (&config, &err);
    CHECK (sink);
    zflow_mqtt_sink_set_verbose (sink, false);
    zsock_t *push = zsock_new_push (zflow_mqtt_sink_endpoint (sink));
    s_send (push, "mqtt/t/a/x", "one", 3);
    s_send (push, "other/t/b/x", "two", 3); //  not the prefix: joined whole -> other/t/b/x
    s_send (push, "mqtt/t//x", "three", 5); //  an empty level
    s_send (push, "mqtt/t/c/y", "four", 4); //  not subscribed
    zmsg_t *msg = s_recv (sub, 5000);
    CHECK (msg);
    char *key = s_key_text (msg), *topic = s_meta (msg, "topic"), *qos = s_meta (msg, "qos");
    CHECK (streq (key, "mqtt/t/a/x") && streq (topic, "t/a/x") && streq (qos, "2"));
    CHECK (zframe_streq (zmsg_last (msg), "one"));
    free (key), free (topic), free (qos);
    zmsg_destroy (&msg);
    msg = s_recv (sub, 5000);
    CHECK (msg);
    key = s_key_text (msg);
    CHECK (streq (key, "mqtt/t//x") && zframe_streq (zmsg_last (msg), "three"));
    free (key);
    zmsg_destroy (&msg);
    CHECK (s_recv (sub, 300) == NULL);
    CHECK (s_wait_stat (zflow_mqtt_sink_actor (sink), "delivered", 4, 5000) == 4);
    zhash_t *stats = zflow_mqtt_sink_stats (sink, 2000);
    CHECK (zflow_actor_stats_get (stats, "inflight") == 0);
    CHECK (zflow_actor_stats_get (stats, "connected") == 1);
    CHECK (zflow_actor_stats_get (stats, "drops") == 0);
    zhash_destroy (&stats);
    zflow_mqtt_sink_destroy (&sink);

    //  a retained message reaches a subscriber that comes later
    config.topic = "r/keep";
    config.retain = true;
    config.qos = 1;
    sink = zflow_mqtt_sink_new (&config, &err);
    zsock_destroy (&push);
    push = zsock_new_push (zflow_mqtt_sink_endpoint (sink));
    s_send (push, "ignored/key", "kept", 4);
    CHECK (s_wait_stat (zflow_mqtt_sink_actor (sink), "delivered", 1, 5000) == 1);
    zflow_mqtt_config_t later = s_config ();
    later.filters = "r/#";
    later.key_prefix = "late";
    zflow_mqtt_source_t *source2 = zflow_mqtt_source_new (&later, NULL);
    zsock_t *sub2 = zsock_new_sub (zflow_mqtt_source_endpoint (source2), "");
    msg = s_recv (sub2, 5000);
    CHECK (msg);
    key = s_key_text (msg);
    char *retain = s_meta (msg, "retain");
    CHECK (streq (key, "late/r/keep") && streq (retain, "1"));
    free (key), free (retain);
    zmsg_destroy (&msg);
    //  the first source got it live: not retained
    msg = s_recv (sub, 5000);
    CHECK (msg);
    retain = s_meta (msg, "retain");
    CHECK (streq (retain, "0"));
    free (retain);
    zmsg_destroy (&msg);
    //  clear the retained message (an empty retained payload)
    s_send (push, "ignored/key", "", 0);
    CHECK (s_wait_stat (zflow_mqtt_sink_actor (sink), "delivered", 2, 5000) == 2);
    zsock_destroy (&sub2);
    zflow_mqtt_source_destroy (&source2);
    zsock_destroy (&push);
    zsock_destroy (&sub);
    zflow_mqtt_sink_destroy (&sink);
    zflow_mqtt_source_destroy (&source);
}

//  An oversize payload is dropped and said; the next one goes.
static void test_oversize (void)
{
    zflow_mqtt_config_t config = s_config ();
    config.max_payload = 100;
    config.topic = "big";
    config.qos = 1;
    zflow_mqtt_sink_t *sink = zflow_mqtt_sink_new (&config, NULL);
    zactor_t *actor = zflow_mqtt_sink_actor (sink);
    CHECK (s_wait_stat (actor, "connected", 1, 5000) == 1); //  lossy: it would drop
    zsock_t *push = zsock_new_push (zflow_mqtt_sink_endpoint (sink));
    char big[200];
    memset (big, 'x', sizeof (big));
    s_send (push, "a", big, sizeof (big));
    s_send (push, "a", big, 100);
    CHECK (s_wait_stat (actor, "delivered", 1, 5000) == 1);
    zhash_t *stats = zflow_mqtt_sink_stats (sink, 2000);
    CHECK (zflow_actor_stats_get (stats, "oversize") == 1);
    CHECK (zflow_actor_stats_get (stats, "drops") == 1);
    CHECK (strstr ((const char *) zhash_lookup (stats, "reason"), "max_payload"));
    zhash_destroy (&stats);
    //  a message that is no envelope
    zstr_send (push, "garbage");
    CHECK (s_wait_stat (actor, "malformed", 1, 5000) == 1);
    zsock_destroy (&push);
    zflow_mqtt_sink_destroy (&sink);
}

//  A lossless source whose subscriber is slow holds what the PUB refuses
//  and stops reading the broker: nothing dropped, order kept.
static void test_source_backpressure (void)
{
    zflow_mqtt_config_t config = s_config ();
    config.filters = "slow/#";
    config.qos = 1;
    config.lossless = true;
    config.sndhwm = 10;
    zflow_mqtt_source_t *source = zflow_mqtt_source_new (&config, NULL);
    zsock_t *sub = zsock_new (ZMQ_SUB);
    zsock_set_rcvhwm (sub, 10);
    zsock_set_subscribe (sub, "");
    zsock_connect (sub, "%s", zflow_mqtt_source_endpoint (source));
    zactor_t *actor = zflow_mqtt_source_actor (source);
    CHECK (s_wait_stat (actor, "subscribed", 1, 5000) == 1);
    config.topic = "slow/n";
    zflow_mqtt_sink_t *sink = zflow_mqtt_sink_new (&config, NULL);
    zsock_t *push = zsock_new_push (zflow_mqtt_sink_endpoint (sink));
    enum { TOTAL = 500 };
    for (int i = 0; i < TOTAL; i++) {
        char payload[16];
        snprintf (payload, sizeof (payload), "%d", i);
        s_send (push, "any", payload, strlen (payload));
    }
    //  the subscriber does not read: the source must hold some
    CHECK (s_wait_stat (actor, "held", 1, 5000) >= 1);
    for (int i = 0; i < TOTAL; i++) {
        zmsg_t *msg = s_recv (sub, 5000);
        CHECK (msg && s_number (msg) == i);
        zmsg_destroy (&msg);
    }
    zhash_t *stats = zflow_mqtt_source_stats (source, 2000);
    CHECK (zflow_actor_stats_get (stats, "drops") == 0);
    CHECK (zflow_actor_stats_get (stats, "held") == 0);
    zhash_destroy (&stats);
    zsock_destroy (&push);
    zflow_mqtt_sink_destroy (&sink);
    zsock_destroy (&sub);
    zflow_mqtt_source_destroy (&source);
}

//  Topics no key can hold, keys no topic can: dropped, counted, said.
static void test_unmapped (void)
{
    zflow_mqtt_config_t config = s_config ();
    config.filters = "deep/#";
    zflow_mqtt_source_t *source = zflow_mqtt_source_new (&config, NULL);
    zsock_t *sub = s_sub (source);
    char topic[200] = "deep";
    for (int level = 0; level < 40; level++)
        strcat (topic, "/l");
    config.topic = topic; //  41 levels: a key has 32 components at most
    config.lossless = true;
    zflow_mqtt_sink_t *deep = zflow_mqtt_sink_new (&config, NULL);
    zsock_t *push = zsock_new_push (zflow_mqtt_sink_endpoint (deep));
    s_send (push, "any", "too deep", 8);
    zactor_t *actor = zflow_mqtt_source_actor (source);
    CHECK (s_wait_stat (actor, "unmapped", 1, 5000) == 1);
    char *reason = s_stat_text (actor, "reason");
    CHECK (strstr (reason, "maps to no key"));
    free (reason);
    CHECK (s_recv (sub, 100) == NULL);
    zsock_destroy (&push);
    zflow_mqtt_sink_destroy (&deep);
    //  the key prefix alone names no topic; a key with a '+' makes none either
    config.topic = NULL;
    zflow_mqtt_sink_t *sink = zflow_mqtt_sink_new (&config, NULL);
    push = zsock_new_push (zflow_mqtt_sink_endpoint (sink));
    s_send (push, "mqtt", "no topic", 8);
    s_send (push, "mqtt/deep/+", "wildcard", 8);
    s_send (push, "mqtt/deep/ok", "fine", 4);
    actor = zflow_mqtt_sink_actor (sink);
    CHECK (s_wait_stat (actor, "delivered", 1, 5000) == 1);
    CHECK (s_wait_stat (actor, "unmapped", 2, 5000) == 2);
    zmsg_t *msg = s_recv (sub, 5000);
    CHECK (msg && zframe_streq (zmsg_last (msg), "fine"));
    zmsg_destroy (&msg);
    zsock_destroy (&push);
    zflow_mqtt_sink_destroy (&sink);
    zsock_destroy (&sub);
    zflow_mqtt_source_destroy (&source);
}

//  A wrong password: refused at once with the broker's words, no retry.
static void test_wrong_password (mqtt_broker_t *auth)
{
    zflow_mqtt_config_t config = s_config ();
    config.port = auth->port;
    config.username = "alice";
    config.password = "wrong";
    config.filters = "#";
    zflow_mqtt_source_t *source = zflow_mqtt_source_new (&config, NULL);
    zactor_t *actor = zflow_mqtt_source_actor (source);
    CHECK (s_wait_stat (actor, "refused", 1, 5000) == 1);
    char *reason = s_stat_text (actor, "reason");
    CHECK (strstr (reason, "refused") && strstr (reason, "not authorised"));
    free (reason);
    zclock_sleep (700); //  longer than backoff_max_ms: no attempt after a refusal
    zhash_t *stats = zflow_mqtt_source_stats (source, 2000);
    CHECK (zflow_actor_stats_get (stats, "connects") == 0);
    CHECK (zflow_actor_stats_get (stats, "reconnects") == 0);
    zhash_destroy (&stats);
    zflow_mqtt_source_destroy (&source);
    //  the right one works
    config.password = "secret";
    source = zflow_mqtt_source_new (&config, NULL);
    CHECK (s_wait_stat (zflow_mqtt_source_actor (source), "subscribed", 1, 5000) == 1);
    zflow_mqtt_source_destroy (&source);
}

//  TLS with a self-signed certificate given as the CA; without it the
//  handshake fails (and is retried, not refused).
static void test_tls (mqtt_broker_t *tls, int tls_port)
{
    char ca[300];
    snprintf (ca, sizeof (ca), "%s/cert.pem", tls->dir);
    zflow_mqtt_config_t config = s_config ();
    config.port = tls_port;
    config.tls = true;
    config.ca_file = ca;
    config.filters = "secure/#";
    config.qos = 1;
    zflow_mqtt_source_t *source = zflow_mqtt_source_new (&config, NULL);
    CHECK (source);
    zsock_t *sub = s_sub (source);
    config.lossless = true; //  waits for the TLS handshake instead of dropping
    zflow_mqtt_sink_t *sink = zflow_mqtt_sink_new (&config, NULL);
    config.lossless = false;
    zsock_t *push = zsock_new_push (zflow_mqtt_sink_endpoint (sink));
    for (int i = 0; i < 50; i++)
        s_send (push, "mqtt/secure/line", "over TLS", 8);
    for (int i = 0; i < 50; i++) {
        zmsg_t *msg = s_recv (sub, 5000);
        CHECK (msg && zframe_streq (zmsg_last (msg), "over TLS"));
        zmsg_destroy (&msg);
    }
    zsock_destroy (&push);
    zflow_mqtt_sink_destroy (&sink);
    zsock_destroy (&sub);
    zflow_mqtt_source_destroy (&source);
    //  no CA: the system store does not trust it
    config.ca_file = NULL;
    source = zflow_mqtt_source_new (&config, NULL);
    zclock_sleep (500);
    zhash_t *stats = zflow_mqtt_source_stats (source, 2000);
    CHECK (zflow_actor_stats_get (stats, "connects") == 0);
    CHECK (zflow_actor_stats_get (stats, "refused") == 0);
    zhash_destroy (&stats);
    zflow_mqtt_source_destroy (&source);
}

//  QoS 1, persistent session, the broker stopped and started mid-stream:
//  every message arrives (duplicates allowed), both sides reconnect.
static void test_restart (void)
{
    mqtt_broker_t broker = {0};
    snprintf (broker.extra, sizeof (broker.extra), "persistence true\nautosave_interval 0\n");
    s_running[3] = &broker;
    mqtt_broker_run (&broker);
    zflow_mqtt_config_t config = s_config ();
    config.port = broker.port;
    config.qos = 1;
    config.clean_session = false;
    config.client_id = "zflow-test-restart-source";
    config.filters = "stream/#";
    config.backoff_min_ms = 50;
    config.backoff_max_ms = 200;
    zflow_mqtt_source_t *source = zflow_mqtt_source_new (&config, NULL);
    zsock_t *sub = s_sub (source);
    config.client_id = "zflow-test-restart-sink";
    config.lossless = true;
    config.max_inflight = 50;
    zflow_mqtt_sink_t *sink = zflow_mqtt_sink_new (&config, NULL);
    CHECK (s_wait_stat (zflow_mqtt_sink_actor (sink), "connected", 1, 5000) == 1);
    zsock_t *push = zsock_new_push (zflow_mqtt_sink_endpoint (sink));
    zsock_set_sndtimeo (push, 10000);
    enum { TOTAL = 3000 };
    static bool seen[TOTAL];
    int distinct = 0;
    for (int i = 0; i < TOTAL; i++) {
        char payload[16];
        snprintf (payload, sizeof (payload), "%d", i);
        s_send (push, "mqtt/stream/n", payload, strlen (payload));
        if (i == TOTAL / 3) {
            //  mid-stream: the sink has delivered some, has more in flight
            CHECK (s_wait_stat (zflow_mqtt_sink_actor (sink), "delivered", 200, 10000) >= 200);
            mqtt_broker_stop (&broker);
            zclock_sleep (300);
            mqtt_broker_run (&broker);
        }
        zmsg_t *msg;
        zsock_set_rcvtimeo (sub, 0);
        while ((msg = zmsg_recv (sub))) {
            int n = s_number (msg);
            CHECK (n >= 0 && n < TOTAL);
            distinct += !seen[n];
            seen[n] = true;
            zmsg_destroy (&msg);
        }
    }
    int64_t deadline = zclock_mono () + 20000;
    while (distinct < TOTAL && zclock_mono () < deadline) {
        zmsg_t *msg = s_recv (sub, 500);
        if (!msg)
            continue;
        int n = s_number (msg);
        CHECK (n >= 0 && n < TOTAL);
        distinct += !seen[n];
        seen[n] = true;
        zmsg_destroy (&msg);
    }
    if (distinct < TOTAL) {
        for (int i = 0; i < TOTAL; i++)
            if (!seen[i]) {
                fprintf (stderr, "first missing: %d\n", i);
                break;
            }
    }
    CHECK (distinct == TOTAL);
    zhash_t *stats = zflow_mqtt_sink_stats (sink, 2000);
    CHECK (zflow_actor_stats_get (stats, "reconnects") >= 1);
    CHECK (zflow_actor_stats_get (stats, "disconnects") >= 1);
    CHECK (zflow_actor_stats_get (stats, "drops") == 0);
    zhash_destroy (&stats);
    stats = zflow_mqtt_source_stats (source, 2000);
    CHECK (zflow_actor_stats_get (stats, "reconnects") >= 1);
    CHECK (zflow_actor_stats_get (stats, "subscribed") >= 2); //  subscribed again
    zhash_destroy (&stats);
    zsock_destroy (&push);
    zsock_destroy (&sub);
    zflow_mqtt_sink_destroy (&sink);
    zflow_mqtt_source_destroy (&source);
    mqtt_broker_destroy (&broker);
    s_running[3] = NULL;
}

static void s_stop_brokers (void)
{
    for (size_t index = 0; index < sizeof (s_running) / sizeof (s_running[0]); index++)
        if (s_running[index] && s_running[index]->pid > 0)
            kill (s_running[index]->pid, SIGTERM);
}

int main (void)
{
    printf ("test_mqtt:\n");
    atexit (s_stop_brokers);
    s_running[0] = &s_broker;
    mqtt_broker_run (&s_broker);
    RUN (test_bad_config);
    RUN (test_roundtrip);
    RUN (test_oversize);
    RUN (test_unmapped);
    RUN (test_source_backpressure);

    //  a broker with a password file
    mqtt_broker_t auth = {0};
    snprintf (auth.dir, sizeof (auth.dir), "/tmp/zflow-mqtt-auth-XXXXXX");
    CHECK (mkdtemp (auth.dir));
    char command[600];
    snprintf (command, sizeof (command),
              "mosquitto_passwd -c -b %s/passwd alice secret && chmod a+r %s/passwd", auth.dir,
              auth.dir);
    CHECK (system (command) == 0);
    snprintf (auth.extra, sizeof (auth.extra), "allow_anonymous false\npassword_file %s/passwd\n",
              auth.dir);
    s_running[1] = &auth;
    mqtt_broker_run (&auth);
    printf ("  test_wrong_password ...");
    fflush (stdout);
    test_wrong_password (&auth);
    printf (" ok\n");
    mqtt_broker_destroy (&auth);
    s_running[1] = NULL;

    //  a broker with a TLS listener and a certificate made here
    mqtt_broker_t tls = {0};
    snprintf (tls.dir, sizeof (tls.dir), "/tmp/zflow-mqtt-tls-XXXXXX");
    CHECK (mkdtemp (tls.dir));
    snprintf (command, sizeof (command),
              "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
              "-addext subjectAltName=IP:127.0.0.1 -keyout %s/key.pem -out %s/cert.pem "
              ">/dev/null 2>&1 && chmod a+r %s/key.pem",
              tls.dir, tls.dir, tls.dir);
    CHECK (system (command) == 0);
    int tls_port = mqtt_broker_free_port ();
    snprintf (tls.extra, sizeof (tls.extra),
              "listener %d 127.0.0.1\ncertfile %s/cert.pem\nkeyfile %s/key.pem\n", tls_port,
              tls.dir, tls.dir);
    s_running[2] = &tls;
    mqtt_broker_run (&tls);
    for (int i = 0; i < 300 && !mqtt_broker_listening (tls_port); i++)
        zclock_sleep (10);
    printf ("  test_tls ...");
    fflush (stdout);
    test_tls (&tls, tls_port);
    printf (" ok\n");
    mqtt_broker_destroy (&tls);
    s_running[2] = NULL;

    RUN (test_restart);
    mqtt_broker_destroy (&s_broker);
    printf ("test_mqtt: ok\n");
    return 0;
}
