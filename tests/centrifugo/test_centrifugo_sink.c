/*  =========================================================================
    test_centrifugo_sink - the sink actor against the fake Centrifugo

    Publishing and batching in both formats, the key -> channel rule, SUB
    prefixes, hub keys, retries through lost answers, timeouts and per-command
    errors with no duplicate and no loss, lossless backpressure and lossy
    drops, bad configurations.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "test_centrifugo_fake.h"
#include "zflow.h"
#include "zflow_centrifugo_sink.h"
#include "zflow_hub.h"
#include "zflow_hub_publisher.h"
#include "zflow_hub_subscriber.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  CHECK counts and goes on (unlike zflow_testing.h's, which exits) so the
//  fake server process is always stopped at the end.
static int s_failures = 0;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf (stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);              \
            s_failures++;                                                                          \
        }                                                                                          \
    } while (0)

#define KEY "sink-key"

static test_fake_t s_fake;
static int s_endpoints = 0;

//  A config publishing to the fake, fed by PUSH into the sink's PULL on a
//  fresh inproc endpoint written into endpoint.
static zflow_centrifugo_sink_config_t s_config (char *endpoint, size_t size)
{
    snprintf (endpoint, size, "inproc://centrifugo-sink-%d", ++s_endpoints);
    zflow_centrifugo_sink_config_t config = {0};
    config.address = s_fake.api;
    config.api_key = KEY;
    config.input_type = ZMQ_PULL;
    config.input_bind = endpoint;
    config.retry_min_ms = 5;
    config.retry_max_ms = 50;
    return config;
}

//  Sends one envelope with key (text form) and payload; returns the
//  result of the send.
static int s_send (zsock_t *sock, const char *key_text, const char *payload, size_t size)
{
    zflow_key_t *key = zflow_key_parse (key_text, NULL);
    size_t key_size;
    const void *wire = zflow_key_wire (key, &key_size);
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, wire, key_size);
    zflow_meta_t *meta = zflow_meta_new ();
    zflow_meta_set_source (meta, "test");
    unsigned char buffer[256];
    int encoded = zflow_meta_encode (meta, buffer, sizeof (buffer));
    zmsg_addmem (msg, buffer, (size_t) encoded);
    zmsg_addmem (msg, payload, size);
    zflow_meta_destroy (&meta);
    zflow_key_destroy (&key);
    int rc = zmsg_send (&msg, sock);
    zmsg_destroy (&msg);
    return rc;
}

static int s_send_n (zsock_t *sock, const char *key_text, int n)
{
    char payload[64];
    snprintf (payload, sizeof (payload), "{\"n\":%d}", n);
    return s_send (sock, key_text, payload, strlen (payload));
}

static uint64_t s_stat (zflow_centrifugo_sink_t *sink, const char *name)
{
    zhash_t *stats = zflow_centrifugo_sink_stats (sink, 2000);
    uint64_t value = stats ? zflow_actor_stats_get (stats, name) : 0;
    zhash_destroy (&stats);
    return value;
}

//  Waits until counter name reaches at least value (or timeout_ms).
static bool s_wait_stat (zflow_centrifugo_sink_t *sink, const char *name, uint64_t value,
                         int timeout_ms)
{
    int64_t end = zclock_mono () + timeout_ms;
    while (zclock_mono () < end) {
        if (s_stat (sink, name) >= value)
            return true;
        zclock_sleep (10);
    }
    return false;
}

//  Checks that channel holds publications {"n":0..count-1}, each once,
//  in order unless unordered. Returns the number of problems.
static int s_check_set (const char *channel, int count, bool unordered)
{
    json_t *state = test_fake_state (&s_fake);
    json_t *pubs = json_object_get (json_object_get (state, "publications"), channel);
    int problems = 0;
    if ((int) json_array_size (pubs) != count) {
        fprintf (stderr, "%s: %zu publications, expected %d\n", channel, json_array_size (pubs),
                 count);
        problems++;
    }
    char *seen = (char *) calloc ((size_t) count + 1, 1);
    for (size_t index = 0; index < json_array_size (pubs) && !problems; index++) {
        json_t *n = json_object_get (json_object_get (json_array_get (pubs, index), "data"), "n");
        json_int_t value = json_integer_value (n);
        bool bad = unordered ? (value < 0 || value >= count || seen[value]++)
                             : value != (json_int_t) index;
        if (bad) {
            fprintf (stderr, "%s: publication %zu holds n=%lld\n", channel, index,
                     (long long) value);
            problems++;
        }
    }
    free (seen);
    json_decref (state);
    return problems;
}

static int s_check_channel (const char *channel, int count)
{
    return s_check_set (channel, count, false);
}

static json_int_t s_duplicates (void)
{
    json_t *state = test_fake_state (&s_fake);
    json_int_t value = json_integer_value (json_object_get (state, "duplicates"));
    json_decref (state);
    return value;
}

static void test_publish (zflow_centrifugo_format_t format)
{
    CHECK (test_fake_control (&s_fake, "{\"reset\":true}") == 0);
    char endpoint[64];
    zflow_centrifugo_sink_config_t config = s_config (endpoint, sizeof (endpoint));
    config.format = format;
    config.batch_max = 50;
    zflow_centrifugo_sink_t *sink = zflow_centrifugo_sink_new (&config, NULL);
    CHECK (sink);
    CHECK (streq (zflow_centrifugo_sink_endpoint (sink) ?: "", endpoint));
    zsock_t *push = zsock_new_push (endpoint);
    for (int n = 0; n < 230; n++)
        CHECK (s_send_n (push, "chat/room1", n) == 0);
    for (int n = 0; n < 20; n++)
        CHECK (s_send_n (push, "news/x/y", n) == 0);
    //  text mode: plain text as a JSON string; bytes that are not UTF-8 and
    //  an empty payload are skipped and counted (no b64data, which would
    //  close JSON subscribers; no empty b64data, which is error 107)
    const unsigned char binary[] = {0x00, 0xff, 0x10};
    CHECK (s_send (push, "chat/empty", "", 0) == 0);
    CHECK (s_send (push, "chat/bin", (const char *) binary, sizeof (binary)) == 0);
    CHECK (s_send (push, "chat/text", "plain text, \"quoted\"", 20) == 0);
    zstr_send (push, "not an envelope");
    CHECK (s_wait_stat (sink, "published", 251, 10000));
    CHECK (s_wait_stat (sink, "malformed", 1, 2000));
    CHECK (s_wait_stat (sink, "not_text", 1, 2000));
    CHECK (s_wait_stat (sink, "empty", 1, 2000));
    CHECK (s_check_channel ("chat:room1", 230) == 0);
    CHECK (s_check_channel ("news:x:y", 20) == 0);
    json_t *state = test_fake_state (&s_fake);
    json_t *pubs = json_object_get (state, "publications");
    CHECK (json_object_get (pubs, "chat:bin") == NULL);
    CHECK (json_object_get (pubs, "chat:empty") == NULL);
    json_t *text = json_array_get (json_object_get (pubs, "chat:text"), 0);
    CHECK (
        streq (json_string_value (json_object_get (text, "data")) ?: "", "plain text, \"quoted\""));
    CHECK (json_object_get (text, "b64data") == NULL);
    //  Batched: far fewer requests than messages.
    CHECK (json_integer_value (json_object_get (state, "requests")) < 50);
    json_decref (state);
    zhash_t *stats = zflow_centrifugo_sink_stats (sink, 2000);
    CHECK (zflow_actor_stats_get (stats, "msgs_in") == 253);
    CHECK (zflow_actor_stats_get (stats, "msgs_out") == 251);
    CHECK (zflow_actor_stats_get (stats, "drops") == 3);
    CHECK (strstr (zhash_lookup (stats, "reason") ?: "", "not UTF-8") != NULL);
    CHECK (zflow_actor_stats_get (stats, "queue_depth") == 0);
    CHECK (zflow_actor_stats_get (stats, "connects") == 1);
    CHECK (zflow_actor_stats_get (stats, "retries") == 0);
    zhash_destroy (&stats);
    zsock_destroy (&push);
    zflow_centrifugo_sink_destroy (&sink);
    CHECK (sink == NULL);
}

//  binary mode: every payload as b64data; an empty one is still skipped.
static void test_binary (void)
{
    CHECK (test_fake_control (&s_fake, "{\"reset\":true}") == 0);
    char endpoint[64];
    zflow_centrifugo_sink_config_t config = s_config (endpoint, sizeof (endpoint));
    config.binary = true;
    zflow_centrifugo_sink_t *sink = zflow_centrifugo_sink_new (&config, NULL);
    CHECK (sink);
    zsock_t *push = zsock_new_push (endpoint);
    const unsigned char binary[] = {0x00, 0xff, 0x10};
    CHECK (s_send (push, "chat/bin", (const char *) binary, sizeof (binary)) == 0);
    CHECK (s_send (push, "chat/bin", "", 0) == 0);
    CHECK (s_send (push, "chat/bin", "{}", 2) == 0);
    CHECK (s_wait_stat (sink, "published", 2, 10000));
    CHECK (s_wait_stat (sink, "empty", 1, 2000));
    json_t *state = test_fake_state (&s_fake);
    json_t *pubs = json_object_get (json_object_get (state, "publications"), "chat:bin");
    CHECK (json_array_size (pubs) == 2);
    CHECK (streq (json_string_value (json_object_get (json_array_get (pubs, 0), "b64data")) ?: "",
                  "AP8Q"));
    CHECK (streq (json_string_value (json_object_get (json_array_get (pubs, 1), "b64data")) ?: "",
                  "e30="));
    json_decref (state);
    zhash_t *stats = zflow_centrifugo_sink_stats (sink, 2000);
    CHECK (zflow_actor_stats_get (stats, "not_text") == 0);
    CHECK (zflow_actor_stats_get (stats, "drops") == 1);
    zhash_destroy (&stats);
    zsock_destroy (&push);
    zflow_centrifugo_sink_destroy (&sink);
}

//  A partial batch goes out after batch_ms, not when it fills.
static void test_time_flush (void)
{
    CHECK (test_fake_control (&s_fake, "{\"reset\":true}") == 0);
    char endpoint[64];
    zflow_centrifugo_sink_config_t config = s_config (endpoint, sizeof (endpoint));
    config.batch_ms = 20;
    zflow_centrifugo_sink_t *sink = zflow_centrifugo_sink_new (&config, NULL);
    zsock_t *push = zsock_new_push (endpoint);
    //  A key whose channel would not fit (10 x 200 bytes) is unmapped.
    char long_key[2100] = "";
    for (int part = 0; part < 10; part++) {
        if (part)
            strcat (long_key, "/");
        memset (long_key + strlen (long_key), 'a' + part, 200);
        long_key[part * 201 + 200] = 0;
    }
    CHECK (s_send_n (push, long_key, 0) == 0);
    for (int n = 0; n < 3; n++)
        CHECK (s_send_n (push, "chat/time", n) == 0);
    CHECK (s_wait_stat (sink, "msgs_in", 4, 2000));
    CHECK (s_stat (sink, "unmapped") == 1);
    int64_t start = zclock_mono ();
    CHECK (s_wait_stat (sink, "published", 3, 2000));
    CHECK (zclock_mono () - start < 1000);
    CHECK (s_stat (sink, "batches") == 1);
    CHECK (s_check_channel ("chat:time", 3) == 0);
    zsock_destroy (&push);
    zflow_centrifugo_sink_destroy (&sink);
}

//  Faults that the sink must ride out with no duplicate and no loss.
static void test_retry (const char *fault, int count, bool expect_duplicates)
{
    CHECK (test_fake_control (&s_fake, "{\"reset\":true}") == 0);
    char endpoint[64];
    zflow_centrifugo_sink_config_t config = s_config (endpoint, sizeof (endpoint));
    config.batch_max = 40;
    config.timeout_ms = 300;
    zflow_centrifugo_sink_t *sink = zflow_centrifugo_sink_new (&config, NULL);
    if (getenv ("SINK_VERBOSE"))
        zflow_centrifugo_sink_set_verbose (sink, true);
    zsock_t *push = zsock_new_push (endpoint);
    char control[128];
    snprintf (control, sizeof (control), "{\"fault\":\"%s\",\"count\":%d}", fault, count);
    CHECK (test_fake_control (&s_fake, control) == 0);
    for (int n = 0; n < 300; n++)
        CHECK (s_send_n (push, "chat/retry", n) == 0);
    CHECK (s_wait_stat (sink, "published", 300, 15000));
    //  Commands retried alone (error 100) come after the rest of their batch.
    CHECK (s_check_set ("chat:retry", 300, streq (fault, "internal_some")) == 0);
    CHECK (s_stat (sink, "retries") >= (uint64_t) count);
    CHECK (s_stat (sink, "drops") == 0);
    if (expect_duplicates) //  applied batches were sent again and dropped by key
        CHECK (s_duplicates () > 0);
    zsock_destroy (&push);
    zflow_centrifugo_sink_destroy (&sink);
}

//  A server that keeps failing: the sink stops reading (lossless), then
//  delivers everything once the server is back.
static void test_backpressure (void)
{
    CHECK (test_fake_control (&s_fake, "{\"reset\":true}") == 0);
    CHECK (test_fake_control (&s_fake, "{\"fault\":\"status\",\"count\":1000000}") == 0);
    char endpoint[64];
    zflow_centrifugo_sink_config_t config = s_config (endpoint, sizeof (endpoint));
    config.batch_max = 10;
    config.outbox_max = 50;
    config.input_hwm = 20;
    zflow_centrifugo_sink_t *sink = zflow_centrifugo_sink_new (&config, NULL);
    zsock_t *push = zsock_new (ZMQ_PUSH);
    zsock_set_sndhwm (push, 10);
    zsock_set_sndtimeo (push, 0);
    zsock_connect (push, "%s", endpoint);
    //  Sends until nothing got through for 300 ms (the sink retries every
    //  50 ms at most, taking input whenever its outbox has room).
    int sent = 0;
    int64_t last = zclock_mono ();
    while (zclock_mono () - last < 300 && sent < 100000) {
        if (s_send_n (push, "chat/bp", sent) == 0) {
            sent++;
            last = zclock_mono ();
        } else
            zclock_sleep (5);
    }
    //  The producer was pushed back: at most the outbox, the input stream
    //  and the two high-water marks (with ZeroMQ's batching slack) got in.
    CHECK (sent >= 50 && sent < 300);
    CHECK (s_stat (sink, "outbox") == 50);
    CHECK (s_stat (sink, "drops") == 0);
    CHECK (s_stat (sink, "request_errors") > 0);
    //  The server is back: everything arrives once.
    CHECK (test_fake_control (&s_fake, "{\"fault\":\"status\",\"count\":0}") == 0);
    CHECK (s_wait_stat (sink, "published", (uint64_t) sent, 15000));
    CHECK (s_check_channel ("chat:bp", sent) == 0);
    zsock_destroy (&push);
    zflow_centrifugo_sink_destroy (&sink);
}

//  Lossy: a full outbox drops (counted) instead of pushing back.
static void test_lossy (void)
{
    CHECK (test_fake_control (&s_fake, "{\"reset\":true}") == 0);
    CHECK (test_fake_control (&s_fake, "{\"fault\":\"status\",\"count\":1000000}") == 0);
    char endpoint[64];
    zflow_centrifugo_sink_config_t config = s_config (endpoint, sizeof (endpoint));
    config.batch_max = 10;
    config.outbox_max = 20;
    config.lossy = true;
    zflow_centrifugo_sink_t *sink = zflow_centrifugo_sink_new (&config, NULL);
    zsock_t *push = zsock_new_push (endpoint);
    for (int n = 0; n < 500; n++)
        CHECK (s_send_n (push, "chat/lossy", n) == 0);
    CHECK (s_wait_stat (sink, "drops", 480, 5000));
    CHECK (s_stat (sink, "outbox") == 20);
    CHECK (test_fake_control (&s_fake, "{\"fault\":\"status\",\"count\":0}") == 0);
    CHECK (s_wait_stat (sink, "published", 20, 5000));
    CHECK (s_stat (sink, "published") + s_stat (sink, "drops") == 500);
    CHECK (s_check_channel ("chat:lossy", 20) == 0);
    zsock_destroy (&push);
    zflow_centrifugo_sink_destroy (&sink);
}

//  A server that answers error 100 for ever does not hold the destroy: the
//  final flush tries once, and what it could not send is counted dropped.
static void test_destroy_against_failing_server (void)
{
    CHECK (test_fake_control (&s_fake, "{\"reset\":true}") == 0);
    char endpoint[64];
    zflow_centrifugo_sink_config_t config = s_config (endpoint, sizeof (endpoint));
    zflow_centrifugo_sink_t *sink = zflow_centrifugo_sink_new (&config, NULL);
    zsock_t *push = zsock_new_push (endpoint);
    CHECK (test_fake_control (&s_fake, "{\"fault\":\"internal\",\"count\":1000000}") == 0);
    for (int n = 0; n < 5; n++)
        CHECK (s_send_n (push, "chat/stuck", n) == 0);
    CHECK (s_wait_stat (sink, "retries", 1, 5000));
    int64_t start = zclock_mono ();
    zflow_centrifugo_sink_destroy (&sink);
    CHECK (zclock_mono () - start < 3000);
    CHECK (sink == NULL);
    zsock_destroy (&push);
    CHECK (test_fake_control (&s_fake, "{\"fault\":\"internal\",\"count\":0}") == 0);
}

//  SUB input with prefixes, a mapping rule, rejected and unmapped keys,
//  and a bounded number of attempts.
static void test_sub_rule_and_rejects (void)
{
    CHECK (test_fake_control (&s_fake, "{\"reset\":true}") == 0);
    zsock_t *pub = zsock_new_pub ("inproc://centrifugo-sink-pub");
    zflow_centrifugo_sink_config_t config = {0};
    config.address = s_fake.api;
    config.api_key = KEY;
    config.input_connect = "inproc://centrifugo-sink-pub";
    config.subscribe = "feeds/a,other";
    config.channel_rule = "news:{1}-{2}";
    config.batch_ms = 2;
    zflow_centrifugo_sink_t *sink = zflow_centrifugo_sink_new (&config, NULL);
    CHECK (sink);
    //  Wait for the subscription to reach the publisher.
    int n = 0;
    while (s_stat (sink, "msgs_in") == 0 && n < 200) {
        s_send_n (pub, "feeds/a/warmup", n++);
        zclock_sleep (10);
    }
    zclock_sleep (50);
    uint64_t warm = s_stat (sink, "msgs_in");
    CHECK (warm > 0);
    s_send_n (pub, "feeds/a/x", 0);      //  -> news:a-x
    s_send_n (pub, "feeds/ab/x", 0);     //  not selected: "feeds/ab" is not under "feeds/a"
    s_send_n (pub, "elsewhere/z/q", 0);  //  not subscribed
    s_send_n (pub, "other", 0);          //  selected but {1} is missing: unmapped
    s_send_n (pub, "other/bad:ns/x", 0); //  -> "news:bad:ns-x": fine for the fake (news ns)
    CHECK (s_wait_stat (sink, "unmapped", 1, 5000));
    CHECK (s_wait_stat (sink, "published", warm + 2, 5000));
    CHECK (s_check_channel ("news:a-x", 1) == 0);
    CHECK (s_stat (sink, "msgs_in") == warm + 3);
    zsock_destroy (&pub);
    zflow_centrifugo_sink_destroy (&sink);

    //  Permanent per-command errors are rejected, not retried; a batch that
    //  keeps failing is given up after max_attempts.
    char endpoint[64];
    config = s_config (endpoint, sizeof (endpoint));
    config.max_attempts = 2;
    config.channel_rule = "{0}:{1}";
    sink = zflow_centrifugo_sink_new (&config, NULL);
    zsock_t *push = zsock_new_push (endpoint);
    s_send_n (push, "unknown/x", 0);
    CHECK (s_wait_stat (sink, "rejected", 1, 5000));
    CHECK (s_stat (sink, "retries") == 0);
    CHECK (test_fake_control (&s_fake, "{\"fault\":\"status\",\"count\":2}") == 0);
    s_send_n (push, "chat/given-up", 0);
    CHECK (s_wait_stat (sink, "drops", 2, 5000));
    CHECK (s_stat (sink, "request_errors") == 2);
    zsock_destroy (&push);
    zflow_centrifugo_sink_destroy (&sink);
}

//  The text of STATS entry name (a new string the caller frees), or NULL.
static char *s_stat_text (zflow_centrifugo_sink_t *sink, const char *name)
{
    zhash_t *stats = zflow_centrifugo_sink_stats (sink, 2000);
    const char *value = stats ? (const char *) zhash_lookup (stats, name) : NULL;
    char *text = value ? strdup (value) : NULL;
    zhash_destroy (&stats);
    return text;
}

//  A wrong API key (HTTP 401) is refused for good: the batch is dropped at
//  once, without retries, counted in refused, and reason says why; a
//  rejected command's reason is its error code and message.
static void test_refused (void)
{
    CHECK (test_fake_control (&s_fake, "{\"reset\":true}") == 0);
    char endpoint[64];
    zflow_centrifugo_sink_config_t config = s_config (endpoint, sizeof (endpoint));
    config.channel_rule = "{0}:{1}";
    zflow_centrifugo_sink_t *sink = zflow_centrifugo_sink_new (&config, NULL);
    char *reason = s_stat_text (sink, "reason");
    CHECK (reason == NULL); //  nothing failed yet
    zsock_t *push = zsock_new_push (endpoint);
    s_send_n (push, "unknown/x", 0);
    CHECK (s_wait_stat (sink, "rejected", 1, 5000));
    reason = s_stat_text (sink, "reason");
    CHECK (reason && strncmp (reason, "error ", 6) == 0);
    free (reason);
    CHECK (s_stat (sink, "refused") == 0);
    zsock_destroy (&push);
    zflow_centrifugo_sink_destroy (&sink);

    config = s_config (endpoint, sizeof (endpoint));
    config.api_key = "wrong";
    sink = zflow_centrifugo_sink_new (&config, NULL);
    push = zsock_new_push (endpoint);
    s_send_n (push, "chat/refused", 0);
    s_send_n (push, "chat/refused", 1);
    CHECK (s_wait_stat (sink, "refused", 2, 5000));
    CHECK (s_stat (sink, "drops") == 2);
    CHECK (s_stat (sink, "retries") == 0);
    CHECK (s_stat (sink, "published") == 0);
    reason = s_stat_text (sink, "reason");
    CHECK (reason && strstr (reason, "401") && strstr (reason, "API key"));
    free (reason);
    zsock_destroy (&push);
    zflow_centrifugo_sink_destroy (&sink);
}

//  Hub keys into channels: a hub subscriber's actor listener on a pattern
//  pushes the matching envelopes into the sink's PULL input (the hub then
//  counts the subscription); a plain SUB at the hub's XPUB side receives
//  too, uncounted.
static void test_hub (void)
{
    CHECK (test_fake_control (&s_fake, "{\"reset\":true}") == 0);
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "centrifugo-sink-test"}, NULL);
    CHECK (hub);
    char endpoint[64];
    zflow_centrifugo_sink_config_t config = s_config (endpoint, sizeof (endpoint));
    config.channel_rule = "chat:{1}";
    zflow_centrifugo_sink_t *sink = zflow_centrifugo_sink_new (&config, NULL);
    CHECK (sink);
    zflow_hub_subscriber_t *subscriber = zflow_hub_subscriber_new (hub, "centrifugo", NULL);
    zflow_key_t *pattern = zflow_key_new ("sensors", "*", NULL);
    CHECK (zflow_hub_subscriber_add_actor_listener (subscriber, pattern, endpoint) > 0);
    zflow_key_t *key = zflow_key_new ("sensors", "t1", NULL);
    zflow_key_t *other = zflow_key_new ("other", "t1", NULL);
    CHECK (zflow_hub_has_subscribers (hub, key));
    CHECK (!zflow_hub_has_subscribers (hub, other));

    //  The plain SUB variant, on another sink.
    zflow_centrifugo_sink_config_t sub_config = config;
    sub_config.input_type = ZMQ_SUB;
    sub_config.input_bind = NULL;
    sub_config.input_connect = zflow_hub_sub_endpoint (hub);
    sub_config.subscribe = "sensors";
    sub_config.channel_rule = "news:{1}";
    zflow_centrifugo_sink_t *sub_sink = zflow_centrifugo_sink_new (&sub_config, NULL);
    CHECK (sub_sink);
    zclock_sleep (100); //  a plain SUB has no confirmation: let it join

    zflow_hub_publisher_t *publisher = zflow_hub_publisher_new (hub, NULL, NULL);
    CHECK (publisher);
    for (int n = 0; n < 100; n++) {
        char payload[32];
        int size = snprintf (payload, sizeof (payload), "{\"n\":%d}", n);
        int rc = zflow_hub_publisher_publish (publisher, key, payload, (size_t) size);
        CHECK (rc == 0 || rc == ZFLOW_DRAIN);
        rc = zflow_hub_publisher_publish (publisher, other, payload, (size_t) size);
        CHECK (rc == 0 || rc == ZFLOW_DRAIN);
        if (rc == ZFLOW_DRAIN)
            CHECK (zflow_hub_publisher_drain (publisher, 2000) == 0);
    }
    CHECK (zflow_hub_publisher_flush (publisher, 2000) == 0);
    CHECK (s_wait_stat (sink, "published", 100, 5000));
    CHECK (s_wait_stat (sub_sink, "published", 100, 5000));
    CHECK (s_check_channel ("chat:t1", 100) == 0);
    CHECK (s_check_channel ("news:t1", 100) == 0);
    CHECK (s_stat (sink, "msgs_in") == 100); //  ("other", ...) never reached them
    CHECK (s_stat (sub_sink, "msgs_in") == 100);
    zflow_hub_publisher_destroy (&publisher);
    zflow_hub_subscriber_destroy (&subscriber);
    zflow_centrifugo_sink_destroy (&sub_sink);
    zflow_centrifugo_sink_destroy (&sink);
    zflow_key_destroy (&pattern);
    zflow_key_destroy (&key);
    zflow_key_destroy (&other);
    zflow_hub_destroy (&hub);
}

static void test_bad_config (void)
{
    int err = 0;
    CHECK (zflow_centrifugo_sink_new (NULL, &err) == NULL);
    CHECK (err == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_sink_new (NULL, NULL) == NULL);
    zflow_centrifugo_sink_config_t config = {0};
    config.input_connect = "inproc://nothing";
    err = 0;
    CHECK (zflow_centrifugo_sink_new (&config, &err) == NULL); //  no address
    CHECK (err == ZFLOW_ECONFIG);
    config.address = s_fake.api;
    config.input_connect = NULL;
    CHECK (zflow_centrifugo_sink_new (&config, &err) == NULL); //  no input
    config.input_connect = "inproc://nothing";
    config.input_type = ZMQ_PUB;
    CHECK (zflow_centrifugo_sink_new (&config, &err) == NULL);
    config.input_type = ZMQ_SUB;
    config.batch_max = 10;
    config.outbox_max = 5;
    CHECK (zflow_centrifugo_sink_new (&config, &err) == NULL);
    CHECK (err == ZFLOW_ECONFIG);
    config.batch_max = 0;
    config.outbox_max = 0;
    config.input_connect = "nonsense://x";
    err = 0;
    CHECK (zflow_centrifugo_sink_new (&config, &err) == NULL);
    CHECK (err == ZFLOW_EENDPOINT);
    //  The API client's own checks: a key that would inject headers, an
    //  unknown format.
    config.input_connect = "inproc://nothing";
    config.api_key = "k\r\nX-Evil: 1";
    err = 0;
    CHECK (zflow_centrifugo_sink_new (&config, &err) == NULL);
    CHECK (err == ZFLOW_ECONFIG);
    config.api_key = KEY;
    config.format = (zflow_centrifugo_format_t) 9;
    err = 0;
    CHECK (zflow_centrifugo_sink_new (&config, &err) == NULL);
    CHECK (err == ZFLOW_ECONFIG);
}

//  config_init, copying, the endpoint, set_verbose, NULL-safe calls.
static void test_conventions (void)
{
    zflow_centrifugo_sink_config_t config;
    zflow_centrifugo_sink_config_init (&config);
    CHECK (config.address == NULL && config.input_bind == NULL && config.input_connect == NULL);
    CHECK (config.format == ZFLOW_CENTRIFUGO_MODERN && config.input_type == ZMQ_SUB);
    CHECK (config.batch_max == ZFLOW_CENTRIFUGO_SINK_BATCH_MAX);
    CHECK (config.batch_ms == ZFLOW_CENTRIFUGO_SINK_BATCH_MS);
    CHECK (config.outbox_max == ZFLOW_CENTRIFUGO_SINK_OUTBOX_MAX);
    CHECK (config.retry_min_ms == ZFLOW_CENTRIFUGO_SINK_RETRY_MIN_MS);
    CHECK (config.retry_max_ms == ZFLOW_CENTRIFUGO_SINK_RETRY_MAX_MS);
    CHECK (config.timeout_ms == ZFLOW_CENTRIFUGO_TOTAL_TIMEOUT);
    CHECK (streq (config.channel_rule, "{*}") && !config.lossy);
    zflow_centrifugo_sink_config_init (NULL);

    //  Strings in the caller's buffers, overwritten as soon as new returns;
    //  a tcp input on a port the system picks, reported resolved.
    CHECK (test_fake_control (&s_fake, "{\"reset\":true}") == 0);
    char address[128], key[32], bind[64], rule[16];
    snprintf (address, sizeof (address), "%s", s_fake.api);
    snprintf (key, sizeof (key), "%s", KEY);
    snprintf (bind, sizeof (bind), "tcp://127.0.0.1:*");
    snprintf (rule, sizeof (rule), "chat:{1}");
    config.address = address;
    config.api_key = key;
    config.input_type = ZMQ_PULL;
    config.input_bind = bind;
    config.channel_rule = rule;
    zflow_centrifugo_sink_t *sink = zflow_centrifugo_sink_new (&config, NULL);
    CHECK (sink);
    memset (address, 'x', sizeof (address) - 1);
    memset (key, 'y', sizeof (key) - 1);
    memset (bind, 'z', sizeof (bind) - 1);
    memset (rule, 'w', sizeof (rule) - 1);
    const char *endpoint = zflow_centrifugo_sink_endpoint (sink);
    CHECK (endpoint && strncmp (endpoint, "tcp://127.0.0.1:", 16) == 0 && !strchr (endpoint, '*'));
    zflow_centrifugo_sink_set_verbose (sink, true);
    zflow_centrifugo_sink_set_verbose (sink, false);
    zsock_t *push = zsock_new_push (endpoint);
    for (int n = 0; n < 5; n++)
        CHECK (s_send_n (push, "x/copied", n) == 0);
    CHECK (s_wait_stat (sink, "published", 5, 10000));
    CHECK (s_check_channel ("chat:copied", 5) == 0);
    CHECK (zflow_centrifugo_sink_actor (sink) != NULL);
    zsock_destroy (&push);
    zflow_centrifugo_sink_destroy (&sink);
    CHECK (sink == NULL);
    zflow_centrifugo_sink_destroy (&sink); //  idempotent
    zflow_centrifugo_sink_destroy (NULL);

    //  A sink that only connects has no endpoint of its own.
    zflow_centrifugo_sink_config_init (&config);
    config.address = s_fake.api;
    config.input_connect = "inproc://centrifugo-sink-nobody";
    sink = zflow_centrifugo_sink_new (&config, NULL);
    CHECK (sink && zflow_centrifugo_sink_endpoint (sink) == NULL);
    zflow_centrifugo_sink_destroy (&sink);

    CHECK (zflow_centrifugo_sink_endpoint (NULL) == NULL);
    CHECK (zflow_centrifugo_sink_actor (NULL) == NULL);
    CHECK (zflow_centrifugo_sink_stats (NULL, 10) == NULL);
    zflow_centrifugo_sink_set_verbose (NULL, true);
}

int main (void)
{
    if (test_fake_start (&s_fake, KEY)) {
        fprintf (stderr, "cannot start the fake Centrifugo\n");
        return 1;
    }
    test_publish (ZFLOW_CENTRIFUGO_MODERN);
    test_publish (ZFLOW_CENTRIFUGO_LEGACY);
    test_binary ();
    test_time_flush ();
    test_retry ("close_after", 2, true);    //  applied, answer lost
    test_retry ("status", 3, false);        //  503
    test_retry ("hang", 1, false);          //  timeout
    test_retry ("malformed", 2, false);     //  unreadable answer
    test_retry ("internal", 2, false);      //  error 100 per command
    test_retry ("internal_some", 3, false); //  error 100 for half the commands
    test_retry ("short", 2, true);          //  a reply missing: applied, sent again
    test_backpressure ();
    test_lossy ();
    test_destroy_against_failing_server ();
    test_sub_rule_and_rejects ();
    test_refused ();
    test_hub ();
    test_bad_config ();
    test_conventions ();
    test_fake_stop (&s_fake);
    if (s_failures)
        fprintf (stderr, "test_centrifugo_sink: %d check(s) failed\n", s_failures);
    else
        printf ("test_centrifugo_sink: OK\n");
    return s_failures ? 1 : 0;
}
