/*  =========================================================================
    test_centrifugo_source - the Centrifugo source actor against the fake
    client-protocol server (tests/fake/centrifugo_ws_fake.py), over real
    TCP on 127.0.0.1 with ports chosen by the OS

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "test_centrifugo_source_fake.h"
#include <signal.h>
#include <string.h>
#include <unistd.h>

//  ---------------------------------------------------------------------
//  Tests

static void test_config (void)
{
    int err = 0;
    CHECK (!zflow_centrifugo_source_new (NULL, &err));
    CHECK_RC (err, ZFLOW_EINVAL);
    CHECK (!zflow_centrifugo_source_new (NULL, NULL));
    zflow_centrifugo_source_config_t config = {0};
    CHECK (!zflow_centrifugo_source_new (&config, &err));
    CHECK_RC (err, ZFLOW_ECONFIG);
    config.url = "http://127.0.0.1:1/";
    CHECK (!zflow_centrifugo_source_new (&config, &err));
    CHECK_RC (err, ZFLOW_ECONFIG);
    config.url = "ws://127.0.0.1:1/connection/websocket";
    config.channels = "ok,bad\x1f"
                      "channel";
    CHECK (!zflow_centrifugo_source_new (&config, &err));
    CHECK_RC (err, ZFLOW_ECONFIG);
    config.channels = "a,b";
    config.name = "cfg";
    config.manual_start = true;
    zflow_centrifugo_source_t *source = zflow_centrifugo_source_new (&config, &err);
    CHECK (source && err == 0);
    CHECK (streq (zflow_centrifugo_source_endpoint (source), "inproc://zflow-centrifugo-cfg"));
    CHECK_RC (zflow_centrifugo_source_subscribe (source, "a", 0, NULL), ZFLOW_ENOTSUP);
    CHECK_RC (zflow_centrifugo_source_subscribe (source, "", 0, NULL), ZFLOW_EINVAL);
    CHECK_RC (zflow_centrifugo_source_unsubscribe (source, "zz"), ZFLOW_ENOTFOUND);
    CHECK_RC (zflow_centrifugo_source_set_sub_token (source, "zz", "t"), ZFLOW_ENOTFOUND);
    CHECK_RC (zflow_centrifugo_source_set_sub_token (source, NULL, "t"), ZFLOW_ENOTFOUND);
    CHECK_RC (zflow_centrifugo_source_set_sub_token (NULL, "a", "t"), ZFLOW_ECLOSED);
    CHECK_RC (zflow_centrifugo_source_set_sub_token (source, "a", "not.a.jwt"), 0);
    CHECK_RC (zflow_centrifugo_source_set_sub_token (source, "a", NULL), 0);
    CHECK_RC (zflow_centrifugo_source_unsubscribe (source, "b"), 0);
    CHECK (stat_of (source, "channels") == 1);
    uint64_t offset;
    CHECK_RC (zflow_centrifugo_source_position (source, "a", &offset, NULL, 0), ZFLOW_ENOTFOUND);
    CHECK_RC (zflow_centrifugo_source_subscribe (source, "c", 7, "ep"), 0);
    char epoch[16];
    CHECK_RC (zflow_centrifugo_source_position (source, "c", &offset, epoch, sizeof (epoch)), 0);
    CHECK (offset == 7 && streq (epoch, "ep"));
    //  A second source on the same endpoint cannot bind.
    zflow_centrifugo_source_t *twin = zflow_centrifugo_source_new (&config, &err);
    CHECK (!twin);
    CHECK_RC (err, ZFLOW_EENDPOINT);
    zflow_centrifugo_source_destroy (&source);
    zflow_centrifugo_source_destroy (&source);
    CHECK (!source);
    zflow_centrifugo_source_destroy (NULL);
}

//  config_init, copying the strings, set_verbose, NULL-safe calls.
static void test_conventions (void)
{
    zflow_centrifugo_source_config_t config;
    zflow_centrifugo_source_config_init (&config);
    CHECK (config.url == NULL && config.token == NULL && config.channels == NULL);
    CHECK (streq (config.name, "zflow") && streq (config.key_prefix, "centrifugo"));
    CHECK (config.backoff_min_ms == ZFLOW_CENTRIFUGO_SOURCE_BACKOFF_MIN_MS);
    CHECK (config.backoff_max_ms == ZFLOW_CENTRIFUGO_SOURCE_BACKOFF_MAX_MS);
    CHECK (config.max_failures == ZFLOW_CENTRIFUGO_SOURCE_MAX_FAILURES);
    CHECK (config.timeout_ms == ZFLOW_CENTRIFUGO_SOURCE_TIMEOUT_MS);
    CHECK (config.ping_grace_ms == ZFLOW_CENTRIFUGO_SOURCE_PING_GRACE_MS);
    CHECK (config.sndhwm == ZFLOW_CENTRIFUGO_SOURCE_SNDHWM);
    CHECK (!config.lossless && !config.insecure && !config.manual_start);
    zflow_centrifugo_source_config_init (NULL);

    //  Strings in buffers the caller overwrites as soon as new returns.
    char url[64], name[16], channels[16], endpoint[48];
    snprintf (url, sizeof (url), "ws://127.0.0.1:1/connection/websocket");
    snprintf (name, sizeof (name), "conv");
    snprintf (channels, sizeof (channels), "c1,c2");
    snprintf (endpoint, sizeof (endpoint), "inproc://centrifugo-source-conv");
    config.url = url;
    config.name = name;
    config.channels = channels;
    config.endpoint = endpoint;
    config.manual_start = true;
    int err = -1;
    zflow_centrifugo_source_t *source = zflow_centrifugo_source_new (&config, &err);
    CHECK (source && err == 0);
    memset (url, 'x', sizeof (url) - 1);
    memset (name, 'y', sizeof (name) - 1);
    memset (channels, 'z', sizeof (channels) - 1);
    memset (endpoint, 'w', sizeof (endpoint) - 1);
    CHECK (
        streq (zflow_centrifugo_source_endpoint (source) ?: "", "inproc://centrifugo-source-conv"));
    CHECK (stat_of (source, "channels") == 2);
    CHECK_RC (zflow_centrifugo_source_subscribe (source, "c2", 0, NULL), ZFLOW_ENOTSUP);
    zflow_centrifugo_source_set_verbose (source, true);
    zflow_centrifugo_source_set_verbose (source, false);
    CHECK (stat_of (source, "channels") == 2); //  still answering
    zflow_centrifugo_source_destroy (&source);
    CHECK (!source);

    CHECK (zflow_centrifugo_source_endpoint (NULL) == NULL);
    CHECK (zflow_centrifugo_source_actor (NULL) == NULL);
    CHECK (zflow_centrifugo_source_stats (NULL, 10) == NULL);
    CHECK_RC (zflow_centrifugo_source_start (NULL), ZFLOW_ECLOSED);
    CHECK_RC (zflow_centrifugo_source_set_token (NULL, "t"), ZFLOW_ECLOSED);
    CHECK_RC (zflow_centrifugo_source_subscribe (NULL, "c", 0, NULL), ZFLOW_ECLOSED);
    CHECK_RC (zflow_centrifugo_source_unsubscribe (NULL, "c"), ZFLOW_ECLOSED);
    zflow_centrifugo_source_set_verbose (NULL, true);
}

//  Publications arrive in order, under the right key, with offsets, on
//  many channels; a channel without history and a refused one too.
static void test_publications (void)
{
    fake_t fake;
    fake_start (&fake, 0, NULL);
    zflow_centrifugo_source_t *source =
        source_new (&fake, fake.token, "news,chat:room1,c3,c4,nohist:x,bad:y", "pubs");
    collect_t c;
    collect_init (&c, source);
    CHECK_RC (zflow_centrifugo_source_start (source), 0);
    CHECK (WAIT_UNTIL (&c, events_of (&c, "subscribed", NULL, 0) == 5, 5000));
    CHECK (WAIT_UNTIL (&c, events_of (&c, "error", "code", 102) == 1, 2000));
    CHECK (events_of (&c, "connected", NULL, 0) == 1);
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"news\",\"count\":300,\"from\":0}");
    FAKE_OK (&fake,
             "{\"op\":\"publish_many\",\"channel\":\"chat:room1\",\"count\":100,\"from\":0}");
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"c3\",\"count\":50,\"from\":0}");
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"c4\",\"count\":50,\"from\":0}");
    FAKE_OK (&fake, "{\"op\":\"publish\",\"channel\":\"nohist:x\",\"data\":\"plain\"}");
    FAKE_OK (&fake, "{\"op\":\"publish\",\"channel\":\"elsewhere\",\"data\":1}");
    CHECK (WAIT_UNTIL (&c,
                       pubs_of (&c, "news") == 300 && pubs_of (&c, "c4") == 50 &&
                           pubs_of (&c, "nohist:x") == 1,
                       5000));
    collect_pump (&c, 50);
    check_sequence (&c, "news", 1, 300, 0);
    check_sequence (&c, "chat:room1", 1, 100, 0);
    check_sequence (&c, "c3", 1, 50, 0);
    check_sequence (&c, "c4", 1, 50, 0);
    CHECK (!json_object_get (c.pubs, "elsewhere") && !json_object_get (c.pubs, "bad:y"));
    json_t *plain = json_array_get (json_object_get (c.pubs, "nohist:x"), 0);
    CHECK (streq (json_string_value (json_object_get (plain, "data")), "plain"));
    CHECK (json_integer_value (json_object_get (plain, "offset")) == 0);
    json_t *first = json_array_get (json_object_get (c.pubs, "news"), 0);
    json_t *stats = fake_ctl (&fake, "{\"op\":\"stats\"}");
    CHECK (streq (json_string_value (json_object_get (first, "epoch")),
                  json_string_value (json_object_get (stats, "epoch"))));
    CHECK (streq (json_string_value (json_object_get (first, "src")), "pubs"));
    json_decref (stats);
    CHECK (c.bad == 0);
    uint64_t offset;
    CHECK_RC (zflow_centrifugo_source_position (source, "news", &offset, NULL, 0), 0);
    CHECK (offset == 300);
    CHECK (stat_of (source, "publications") == 501);
    CHECK (stat_of (source, "subscribed") == 5);
    CHECK (stat_of (source, "channels") == 6);
    CHECK (stat_of (source, "errors") == 1);
    CHECK (stat_of (source, "connects") == 1);
    CHECK (stat_of (source, "msgs_out") == 501 + stat_of (source, "events"));
    CHECK (stat_of (source, "duplicates") == 0 && stat_of (source, "gaps") == 0);
    //  A channel added at run time is subscribed at once.
    CHECK_RC (zflow_centrifugo_source_subscribe (source, "late", 0, NULL), 0);
    CHECK (WAIT_UNTIL (&c, events_of (&c, "subscribed", NULL, 0) == 6, 2000));
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"late\",\"count\":5,\"from\":0}");
    CHECK (WAIT_UNTIL (&c, pubs_of (&c, "late") == 5, 2000));
    check_sequence (&c, "late", 1, 5, 0);
    //  A saved position resumes a new source where the old one stopped.
    char epoch[64];
    CHECK_RC (zflow_centrifugo_source_position (source, "news", &offset, epoch, sizeof (epoch)), 0);
    zflow_centrifugo_source_destroy (&source);
    collect_destroy (&c);
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"news\",\"count\":20,\"from\":300}");
    source = source_new (&fake, fake.token, NULL, "resumed");
    collect_init (&c, source);
    CHECK_RC (zflow_centrifugo_source_subscribe (source, "news", offset, epoch), 0);
    CHECK_RC (zflow_centrifugo_source_start (source), 0);
    CHECK (WAIT_UNTIL (&c, pubs_of (&c, "news") == 20, 3000));
    collect_pump (&c, 50);
    json_t *list = json_object_get (c.pubs, "news");
    for (size_t i = 0; i < 20; i++)
        CHECK (json_integer_value (json_object_get (json_array_get (list, i), "offset")) ==
               (json_int_t) (301 + i));
    CHECK (stat_of (source, "recovered") == 20);
    zflow_centrifugo_source_destroy (&source);
    collect_destroy (&c);
    fake_stop (&fake, false);
}

//  Events of type whose boolean field name is value.
static size_t flagged (collect_t *c, const char *type, const char *name, bool value)
{
    size_t count = 0, index;
    json_t *event;
    json_array_foreach (c->events, index, event)
    {
        json_t *field = json_object_get (event, name);
        if (streq (json_string_value (json_object_get (event, "type")), type) &&
            json_is_boolean (field) && json_is_true (field) == value)
            count++;
    }
    return count;
}

//  A wrong token: disconnect 3500 is terminal: reported once, no
//  reconnect, "failed" at once; an expired one (error 109, permanent):
//  the same; a good token brings it back.
static void test_wrong_token (void)
{
    fake_t fake;
    fake_start (&fake, 0, NULL);
    zflow_centrifugo_source_t *source = source_new (&fake, "not.a.token", "news", "tok");
    collect_t c;
    collect_init (&c, source);
    CHECK_RC (zflow_centrifugo_source_start (source), 0);
    CHECK (WAIT_UNTIL (&c, events_of (&c, "failed", NULL, 0) == 1, 5000));
    CHECK (events_of (&c, "disconnected", "code", 3500) == 1);
    CHECK (events_of (&c, "failed", "code", 3500) == 1);
    json_t *event;
    size_t index;
    json_array_foreach (
        c.events, index,
        event) if (streq (json_string_value (json_object_get (event, "type")), "disconnected"))
    {
        CHECK (streq (json_string_value (json_object_get (event, "reason")), "invalid token"));
        CHECK (json_is_false (json_object_get (event, "reconnect")));
    }
    //  Well past several backoffs: no second attempt.
    collect_pump (&c, 600);
    CHECK (stat_of (source, "attempts") == 1);
    CHECK (stat_of (source, "failures") == 1);
    CHECK (fake_stat (&fake, "bad_tokens") == 1);
    //  An expired token: error 109 in the connect reply, not retried.
    CHECK_RC (zflow_centrifugo_source_set_token (source, fake.expired), 0);
    CHECK (WAIT_UNTIL (&c, events_of (&c, "error", "code", 109) >= 1, 3000));
    json_array_foreach (
        c.events, index,
        event) if (json_integer_value (json_object_get (event, "code")) == 109 &&
                   streq (json_string_value (json_object_get (event, "type")), "error"))
    {
        CHECK (streq (json_string_value (json_object_get (event, "message")), "token expired"));
        CHECK (streq (json_string_value (json_object_get (event, "op")), "connect"));
        CHECK (json_is_false (json_object_get (event, "temporary")));
    }
    CHECK (WAIT_UNTIL (&c, events_of (&c, "failed", NULL, 0) == 2, 5000));
    CHECK (events_of (&c, "failed", "code", 109) == 1);
    collect_pump (&c, 600);
    CHECK (fake_stat (&fake, "expired_tokens") == 1);
    CHECK (events_of (&c, "error", "code", 109) == 1);
    //  Temporary connect errors (100, "temporary"): retried with the
    //  backoff, not the end.
    FAKE_OK (&fake, "{\"op\":\"fail_connects\",\"count\":2}");
    //  A good token: connected (after the two temporary refusals) and
    //  subscribed.
    CHECK_RC (zflow_centrifugo_source_set_token (source, fake.token), 0);
    CHECK (WAIT_UNTIL (&c, events_of (&c, "subscribed", NULL, 0) == 1, 3000));
    FAKE_OK (&fake, "{\"op\":\"publish\",\"channel\":\"news\",\"data\":{\"n\":0}}");
    CHECK (WAIT_UNTIL (&c, pubs_of (&c, "news") == 1, 2000));
    CHECK (fake_stat (&fake, "failed_connects") == 2);
    CHECK (flagged (&c, "error", "temporary", true) == 2);
    CHECK (events_of (&c, "error", "code", 100) == 2);
    CHECK (events_of (&c, "failed", NULL, 0) == 2);
    zflow_centrifugo_source_destroy (&source);
    collect_destroy (&c);
    fake_stop (&fake, false);
}

//  The fake is killed mid-stream and restarted with its history (as with
//  Redis); what was published while the source was away comes back through
//  recovery exactly once and in order, on every channel.
static void test_restart_recovery (void)
{
    char state[64];
    snprintf (state, sizeof (state), "/tmp/zflow-centsrc-%d.state", (int) getpid ());
    unlink (state);
    fake_t fake;
    const char *args1[] = {"--state", state, NULL};
    fake_start (&fake, 0, args1);
    zflow_centrifugo_source_t *source = source_new (&fake, fake.token, "news,chat", "restart");
    collect_t c;
    collect_init (&c, source);
    CHECK_RC (zflow_centrifugo_source_start (source), 0);
    CHECK (WAIT_UNTIL (&c, events_of (&c, "subscribed", NULL, 0) == 2, 5000));
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"news\",\"count\":100,\"from\":0}");
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"chat\",\"count\":20,\"from\":0}");
    //  Killed while it may still be writing: some of these never reach us.
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"news\",\"count\":100,\"from\":100}");
    int port = fake.port;
    fake_stop (&fake, true);
    CHECK (WAIT_UNTIL (&c, events_of (&c, "disconnected", NULL, 0) == 1, 3000));
    //  The new server holds handshakes (503) until the missed ones are in.
    const char *args2[] = {"--state", state, "--paused", NULL};
    fake_start (&fake, port, args2);
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"news\",\"count\":50,\"from\":200}");
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"chat\",\"count\":10,\"from\":20}");
    collect_pump (&c, 300);
    FAKE_OK (&fake, "{\"op\":\"resume\"}");
    CHECK (WAIT_UNTIL (&c, events_of (&c, "subscribed", NULL, 0) == 4, 5000));
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"news\",\"count\":50,\"from\":250}");
    CHECK (WAIT_UNTIL (&c, pubs_of (&c, "news") >= 300 && pubs_of (&c, "chat") >= 30, 5000));
    collect_pump (&c, 100);
    check_sequence (&c, "news", 1, 300, 0);
    check_sequence (&c, "chat", 1, 30, 0);
    //  Both resubscribes asked for recovery from where the source stood.
    json_t *stats = fake_ctl (&fake, "{\"op\":\"stats\"}");
    json_t *subs = json_object_get (stats, "subscribes");
    CHECK (json_array_size (subs) == 2);
    json_t *sub;
    size_t index;
    json_array_foreach (subs, index, sub)
    {
        CHECK (json_is_true (json_object_get (sub, "recover")));
        CHECK (streq (json_string_value (json_object_get (sub, "epoch")),
                      json_string_value (json_object_get (stats, "epoch"))));
        const char *name = json_string_value (json_object_get (sub, "channel"));
        json_int_t offset = json_integer_value (json_object_get (sub, "offset"));
        CHECK (streq (name, "chat") ? offset == 20 : offset >= 100 && offset <= 200);
    }
    json_decref (stats);
    CHECK (events_of (&c, "subscribed", NULL, 0) == 4);
    json_t *event;
    json_array_foreach (
        c.events, index,
        event) if (streq (json_string_value (json_object_get (event, "type")), "subscribed") &&
                   json_is_true (json_object_get (event, "was_recovering")))
        CHECK (json_is_true (json_object_get (event, "recovered")));
    CHECK (stat_of (source, "recovered") >= 60);
    CHECK (stat_of (source, "duplicates") == 0);
    CHECK (stat_of (source, "gaps") == 0);
    CHECK (stat_of (source, "unrecovered") == 0);
    CHECK (stat_of (source, "connects") == 2);
    zflow_centrifugo_source_destroy (&source);
    collect_destroy (&c);
    fake_stop (&fake, false);
    unlink (state);
}

//  A restart without the history (memory engine): a new epoch, so the
//  source reports it could not recover and starts from the new top.
static void test_unrecovered (void)
{
    fake_t fake;
    fake_start (&fake, 0, NULL);
    zflow_centrifugo_source_t *source = source_new (&fake, fake.token, NULL, "unrec");
    collect_t c;
    collect_init (&c, source);
    CHECK_RC (zflow_centrifugo_source_subscribe (source, "news", 300, "old-epoch"), 0);
    CHECK_RC (zflow_centrifugo_source_start (source), 0);
    CHECK (WAIT_UNTIL (&c, events_of (&c, "subscribed", NULL, 0) == 1, 5000));
    json_t *event = json_array_get (c.events, json_array_size (c.events) - 1);
    CHECK (json_is_true (json_object_get (event, "was_recovering")));
    CHECK (!json_is_true (json_object_get (event, "recovered")));
    CHECK (stat_of (source, "unrecovered") == 1);
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"news\",\"count\":3,\"from\":0}");
    CHECK (WAIT_UNTIL (&c, pubs_of (&c, "news") == 3, 2000));
    check_sequence (&c, "news", 1, 3, 0);
    zflow_centrifugo_source_destroy (&source);
    collect_destroy (&c);
    fake_stop (&fake, false);
}

//  A token that expires: the source says so before it runs out, takes a
//  new one without reconnecting; left alone, the server closes with 3005
//  and the source reconnects, is refused (error 109) and stops until a
//  new token.
static void test_token_refresh (void)
{
    fake_t fake;
    fake_start (&fake, 0, NULL);
    json_t *answer = fake_ctl (&fake, "{\"op\":\"token\",\"ttl\":3}");
    char *short_token = strdup (json_string_value (json_object_get (answer, "token")));
    json_decref (answer);
    zflow_centrifugo_source_t *source = source_new (&fake, short_token, "news", "refresh");
    collect_t c;
    collect_init (&c, source);
    CHECK_RC (zflow_centrifugo_source_start (source), 0);
    CHECK (WAIT_UNTIL (&c, events_of (&c, "subscribed", NULL, 0) == 1, 5000));
    CHECK (WAIT_UNTIL (&c, events_of (&c, "token_expiring", NULL, 0) == 1, 4000));
    answer = fake_ctl (&fake, "{\"op\":\"token\",\"ttl\":60}");
    CHECK_RC (zflow_centrifugo_source_set_token (
                  source, json_string_value (json_object_get (answer, "token"))),
              0);
    json_decref (answer);
    CHECK (WAIT_UNTIL (&c, stat_of (source, "refreshes") == 1, 2000));
    CHECK (fake_stat (&fake, "refreshes") == 1);
    //  Past the first token's expiry: still the same connection.
    collect_pump (&c, 1500);
    CHECK (fake_stat (&fake, "expired") == 0);
    CHECK (stat_of (source, "connects") == 1);
    CHECK (events_of (&c, "disconnected", NULL, 0) == 0);
    FAKE_OK (&fake, "{\"op\":\"publish\",\"channel\":\"news\",\"data\":{\"n\":0}}");
    CHECK (WAIT_UNTIL (&c, pubs_of (&c, "news") == 1, 2000));
    zflow_centrifugo_source_destroy (&source);
    collect_destroy (&c);
    free (short_token);
    //  No new token: closed with 3005 at expiry, then refused (109).
    answer = fake_ctl (&fake, "{\"op\":\"token\",\"ttl\":2}");
    source =
        source_new (&fake, json_string_value (json_object_get (answer, "token")), "news", "expire");
    json_decref (answer);
    collect_init (&c, source);
    CHECK_RC (zflow_centrifugo_source_start (source), 0);
    CHECK (WAIT_UNTIL (&c, events_of (&c, "disconnected", "code", 3005) == 1, 5000));
    CHECK (events_of (&c, "token_expiring", NULL, 0) == 1);
    CHECK (WAIT_UNTIL (&c, events_of (&c, "failed", NULL, 0) == 1, 5000));
    CHECK (events_of (&c, "error", "code", 109) == 1);
    zflow_centrifugo_source_destroy (&source);
    collect_destroy (&c);
    fake_stop (&fake, false);
}

//  A token callback that has no token for anyone (returns 0 or garbage).
static int s_no_token (const char *channel, char *token, size_t size, void *arg)
{
    (void) channel;
    (void) token;
    (void) size;
    int *calls = (int *) arg;
    return (*calls)++ % 2 ? -7 : 0;
}

//  A token provider: with token_secret the source signs its own connection
//  tokens (HS256, checked by the fake) and refreshes them before they
//  expire, without asking anyone (no token_expiring event); a callback
//  that gives no token leaves the connect without one (refused: 3500).
static void test_token_provider (void)
{
    fake_t fake;
    fake_start (&fake, 0, NULL);
    zflow_centrifugo_source_config_t config;
    zflow_centrifugo_source_config_init (&config);
    config.url = fake.url;
    config.channels = "news";
    config.name = "signer";
    config.manual_start = true;
    config.token_secret = SECRET;
    config.token_user = "u1";
    config.token_ttl = 2;
    int err = -1;
    zflow_centrifugo_source_t *source = zflow_centrifugo_source_new (&config, &err);
    CHECK (source && err == 0);
    collect_t c;
    collect_init (&c, source);
    CHECK_RC (zflow_centrifugo_source_start (source), 0);
    CHECK (WAIT_UNTIL (&c, events_of (&c, "subscribed", NULL, 0) == 1, 5000));
    CHECK (WAIT_UNTIL (&c, stat_of (source, "refreshes") >= 2, 6000));
    CHECK (fake_stat (&fake, "refreshes") >= 2 && fake_stat (&fake, "expired") == 0);
    CHECK (events_of (&c, "token_expiring", NULL, 0) == 0);
    CHECK (stat_of (source, "connects") == 1 && events_of (&c, "disconnected", NULL, 0) == 0);
    FAKE_OK (&fake, "{\"op\":\"publish\",\"channel\":\"news\",\"data\":{\"n\":0}}");
    CHECK (WAIT_UNTIL (&c, pubs_of (&c, "news") == 1, 2000));
    zflow_centrifugo_source_destroy (&source);
    collect_destroy (&c);

    //  A given token that is not a JWT (no "sub" claim to read): the
    //  source signs its own for an anonymous user.
    config.token = "not.%%%-a-jwt.x";
    config.token_user = NULL;
    config.name = "garbage";
    source = zflow_centrifugo_source_new (&config, &err);
    CHECK (source && err == 0);
    collect_init (&c, source);
    CHECK_RC (zflow_centrifugo_source_start (source), 0);
    CHECK (WAIT_UNTIL (&c, events_of (&c, "subscribed", NULL, 0) == 1, 5000));
    zflow_centrifugo_source_destroy (&source);
    collect_destroy (&c);
    config.token = NULL;

    //  A callback with nothing to give, a bad ttl (the default then).
    int calls = 0;
    config.token_secret = NULL;
    config.token_fn = s_no_token;
    config.token_arg = &calls;
    config.token_ttl = -5;
    config.name = "notoken";
    source = zflow_centrifugo_source_new (&config, &err);
    CHECK (source && err == 0);
    collect_init (&c, source);
    CHECK_RC (zflow_centrifugo_source_start (source), 0);
    CHECK (WAIT_UNTIL (&c, events_of (&c, "failed", NULL, 0) == 1, 5000));
    CHECK (calls >= 1 && events_of (&c, "connected", NULL, 0) == 0);
    zflow_centrifugo_source_destroy (&source);
    collect_destroy (&c);
    fake_stop (&fake, false);
}

//  Server-side subscriptions: from the connect reply and from a subscribe
//  push at run time; after a restart the connect request asks to recover
//  them, and the missed publications come back in the connect reply.
static void test_server_side (void)
{
    char state[64];
    snprintf (state, sizeof (state), "/tmp/zflow-centsrc-srv-%d.state", (int) getpid ());
    unlink (state);
    fake_t fake;
    const char *args1[] = {"--state", state, "--subs", "srv1", NULL};
    fake_start (&fake, 0, args1);
    zflow_centrifugo_source_t *source = source_new (&fake, fake.token, "cli1", "server");
    collect_t c;
    collect_init (&c, source);
    CHECK_RC (zflow_centrifugo_source_start (source), 0);
    CHECK (WAIT_UNTIL (&c, events_of (&c, "subscribed", NULL, 0) == 2, 5000));
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"srv1\",\"count\":10,\"from\":0}");
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"cli1\",\"count\":10,\"from\":0}");
    FAKE_OK (&fake, "{\"op\":\"server_subscribe\",\"channel\":\"srv2\"}");
    CHECK (WAIT_UNTIL (&c, events_of (&c, "subscribed", NULL, 0) == 3, 3000));
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"srv2\",\"count\":5,\"from\":0}");
    CHECK (WAIT_UNTIL (
        &c, pubs_of (&c, "srv1") == 10 && pubs_of (&c, "cli1") == 10 && pubs_of (&c, "srv2") == 5,
        3000));
    CHECK (stat_of (source, "channels") == 3);
    int port = fake.port;
    fake_stop (&fake, true);
    const char *args2[] = {"--state", state, "--subs", "srv1", "--paused", NULL};
    fake_start (&fake, port, args2);
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"srv1\",\"count\":10,\"from\":10}");
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"cli1\",\"count\":10,\"from\":10}");
    FAKE_OK (&fake, "{\"op\":\"resume\"}");
    CHECK (WAIT_UNTIL (&c, events_of (&c, "subscribed", NULL, 0) == 5, 5000));
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"srv1\",\"count\":5,\"from\":20}");
    CHECK (WAIT_UNTIL (&c, pubs_of (&c, "srv1") == 25 && pubs_of (&c, "cli1") == 20, 3000));
    collect_pump (&c, 50);
    check_sequence (&c, "srv1", 1, 25, 0);
    check_sequence (&c, "cli1", 1, 20, 0);
    check_sequence (&c, "srv2", 1, 5, 0);
    json_t *stats = fake_ctl (&fake, "{\"op\":\"stats\"}");
    json_t *asked =
        json_object_get (json_array_get (json_object_get (stats, "connect_subs"), 0), "srv1");
    CHECK (json_is_true (json_object_get (asked, "recover")));
    CHECK (json_integer_value (json_object_get (asked, "offset")) == 10);
    CHECK (streq (json_string_value (json_object_get (asked, "epoch")),
                  json_string_value (json_object_get (stats, "epoch"))));
    CHECK (json_array_size (json_object_get (stats, "subscribes")) == 1); //  cli1 only
    json_decref (stats);
    CHECK (stat_of (source, "recovered") == 20);
    CHECK (stat_of (source, "duplicates") == 0 && stat_of (source, "gaps") == 0);
    zflow_centrifugo_source_destroy (&source);
    collect_destroy (&c);
    fake_stop (&fake, false);
    unlink (state);
}

//  Server pings are answered; the connection stays.
static void test_ping (void)
{
    fake_t fake;
    const char *args[] = {"--ping-ms", "150", "--pong-timeout-ms", "300", NULL};
    fake_start (&fake, 0, args);
    zflow_centrifugo_source_t *source = source_new (&fake, fake.token, "news", "ping");
    collect_t c;
    collect_init (&c, source);
    CHECK_RC (zflow_centrifugo_source_start (source), 0);
    CHECK (WAIT_UNTIL (&c, events_of (&c, "subscribed", NULL, 0) == 1, 5000));
    CHECK (WAIT_UNTIL (&c, fake_stat (&fake, "pongs") >= 4, 3000));
    CHECK (fake_stat (&fake, "no_pong") == 0);
    CHECK (stat_of (source, "pings") >= 4);
    CHECK (stat_of (source, "pongs") >= 4);
    CHECK (stat_of (source, "connects") == 1);
    CHECK (events_of (&c, "disconnected", NULL, 0) == 0);
    zflow_centrifugo_source_destroy (&source);
    collect_destroy (&c);
    fake_stop (&fake, false);
}

//  Broken server messages are counted and reported, not fatal; disconnect
//  and unsubscribe pushes are followed.
static void test_malformed_and_pushes (void)
{
    fake_t fake;
    fake_start (&fake, 0, NULL);
    zflow_centrifugo_source_t *source = source_new (&fake, fake.token, "news", "bad");
    collect_t c;
    collect_init (&c, source);
    zflow_centrifugo_source_set_verbose (source, true);
    CHECK_RC (zflow_centrifugo_source_start (source), 0);
    CHECK (WAIT_UNTIL (&c, events_of (&c, "subscribed", NULL, 0) == 1, 5000));
    FAKE_OK (&fake, "{\"op\":\"raw\",\"text\":\"not json {\"}");
    FAKE_OK (&fake, "{\"op\":\"raw\",\"text\":\"[1,2]\"}");
    FAKE_OK (&fake, "{\"op\":\"raw\",\"text\":\"{\\\"what\\\":1}\\n{}\"}");
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"news\",\"count\":5,\"from\":0}");
    CHECK (WAIT_UNTIL (&c, pubs_of (&c, "news") == 5, 3000));
    CHECK (events_of (&c, "malformed", NULL, 0) == 3);
    CHECK (stat_of (source, "malformed") == 3);
    CHECK (stat_of (source, "pings") == 1);
    CHECK (stat_of (source, "connects") == 1);
    //  A disconnect push (code 3001, shutdown: reconnect), as servers older
    //  than v6 send before the close (v6 sends the close frame only): the
    //  source closes, reports the push's code, comes back and recovers.
    FAKE_OK (&fake, "{\"op\":\"raw\",\"text\":\"{\\\"push\\\":{\\\"disconnect\\\":{"
                    "\\\"code\\\":3001,\\\"reason\\\":\\\"shutdown\\\"}}}\"}");
    CHECK (WAIT_UNTIL (&c, events_of (&c, "subscribed", NULL, 0) == 2, 5000));
    CHECK (events_of (&c, "disconnected", "code", 3001) == 1);
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"news\",\"count\":5,\"from\":5}");
    CHECK (WAIT_UNTIL (&c, pubs_of (&c, "news") == 10, 3000));
    //  Unsubscribe push 2500 (insufficient state): subscribe again.
    FAKE_OK (&fake, "{\"op\":\"unsubscribe\",\"channel\":\"news\",\"code\":2500}");
    CHECK (WAIT_UNTIL (&c, events_of (&c, "subscribed", NULL, 0) == 3, 3000));
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"news\",\"count\":5,\"from\":10}");
    CHECK (WAIT_UNTIL (&c, pubs_of (&c, "news") == 15, 3000));
    check_sequence (&c, "news", 1, 15, 0);
    //  Temporary subscribe errors (100) are retried with backoff.
    FAKE_OK (&fake, "{\"op\":\"fail_subscribes\",\"count\":2}");
    CHECK_RC (zflow_centrifugo_source_subscribe (source, "flaky", 0, NULL), 0);
    CHECK (WAIT_UNTIL (&c, events_of (&c, "subscribed", NULL, 0) == 4, 3000));
    CHECK (events_of (&c, "error", "code", 100) == 2);
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"flaky\",\"count\":2,\"from\":0}");
    CHECK (WAIT_UNTIL (&c, pubs_of (&c, "flaky") == 2, 3000));
    //  Unsubscribe 2000 (server unsubscribe): stays unsubscribed.
    FAKE_OK (&fake, "{\"op\":\"unsubscribe\",\"channel\":\"news\",\"code\":2000}");
    CHECK (WAIT_UNTIL (&c, events_of (&c, "unsubscribed", "code", 2000) == 1, 3000));
    CHECK (stat_of (source, "subscribed") == 1);
    //  ... even after a reconnect (close frame 4001: reconnect range).
    FAKE_OK (&fake, "{\"op\":\"disconnect\",\"code\":4001,\"reason\":\"again\"}");
    CHECK (WAIT_UNTIL (&c, events_of (&c, "subscribed", NULL, 0) == 5, 5000));
    CHECK (events_of (&c, "disconnected", "code", 4001) == 1);
    collect_pump (&c, 300);
    CHECK (events_of (&c, "subscribed", NULL, 0) == 5);
    CHECK (stat_of (source, "subscribed") == 1);
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"news\",\"count\":2,\"from\":15}");
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"flaky\",\"count\":1,\"from\":2}");
    CHECK (WAIT_UNTIL (&c, pubs_of (&c, "flaky") == 3, 3000));
    CHECK (pubs_of (&c, "news") == 15);
    //  A close frame in 4500..4999: terminal, no reconnect, "failed".
    FAKE_OK (&fake, "{\"op\":\"disconnect\",\"code\":4500,\"reason\":\"go away\"}");
    CHECK (WAIT_UNTIL (&c, events_of (&c, "failed", "code", 4500) == 1, 3000));
    collect_pump (&c, 400);
    CHECK (stat_of (source, "connects") == 3);
    CHECK (events_of (&c, "connected", NULL, 0) == 3);
    zflow_centrifugo_source_destroy (&source);
    collect_destroy (&c);
    fake_stop (&fake, false);
}

//  A namespace with allow_recovery only ("arec:" in the fake, as a real
//  one): the source's subscribe asks to be recoverable and positioned, so
//  the channel is recoverable and what is published while away comes
//  back; with no_recover it asks nothing and the channel has no position.
static void test_allow_recovery (void)
{
    fake_t fake;
    fake_start (&fake, 0, NULL);
    zflow_centrifugo_source_t *source = source_new (&fake, fake.token, "arec:a", "arec");
    collect_t c;
    collect_init (&c, source);
    CHECK_RC (zflow_centrifugo_source_start (source), 0);
    CHECK (WAIT_UNTIL (&c, flagged (&c, "subscribed", "recoverable", true) == 1, 5000));
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"arec:a\",\"count\":3,\"from\":0}");
    CHECK (WAIT_UNTIL (&c, pubs_of (&c, "arec:a") == 3, 3000));
    FAKE_OK (&fake, "{\"op\":\"pause\"}");
    FAKE_OK (&fake, "{\"op\":\"disconnect\",\"code\":3001,\"reason\":\"away\"}");
    CHECK (WAIT_UNTIL (&c, events_of (&c, "disconnected", "code", 3001) == 1, 3000));
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"arec:a\",\"count\":3,\"from\":3}");
    FAKE_OK (&fake, "{\"op\":\"resume\"}");
    CHECK (WAIT_UNTIL (&c, pubs_of (&c, "arec:a") == 6, 5000));
    check_sequence (&c, "arec:a", 1, 6, 0);
    CHECK (WAIT_UNTIL (&c, flagged (&c, "subscribed", "recovered", true) == 1, 2000));
    json_t *stats = fake_ctl (&fake, "{\"op\":\"stats\"}");
    json_t *sub;
    size_t index;
    json_array_foreach (json_object_get (stats, "subscribes"), index, sub)
    {
        CHECK (json_is_true (json_object_get (sub, "recoverable")));
        CHECK (json_is_true (json_object_get (sub, "positioned")));
    }
    CHECK (json_array_size (json_object_get (stats, "subscribes")) == 2);
    json_decref (stats);
    zflow_centrifugo_source_destroy (&source);
    collect_destroy (&c);
    //  no_recover: nothing asked, the fake's arec: answers {}.
    zflow_centrifugo_source_config_t config = {0};
    config.url = fake.url;
    config.token = fake.token;
    config.channels = "arec:b";
    config.name = "norec";
    config.no_recover = true;
    int err;
    source = zflow_centrifugo_source_new (&config, &err);
    CHECK (source);
    collect_init (&c, source);
    CHECK (WAIT_UNTIL (&c, flagged (&c, "subscribed", "recoverable", false) == 1, 5000));
    stats = fake_ctl (&fake, "{\"op\":\"stats\"}");
    sub = json_array_get (json_object_get (stats, "subscribes"), 2);
    CHECK (sub && !json_object_get (sub, "recoverable") && !json_object_get (sub, "positioned"));
    json_decref (stats);
    CHECK (zflow_centrifugo_source_position (source, "arec:b", NULL, NULL, 0) == ZFLOW_ENOTFOUND);
    zflow_centrifugo_source_destroy (&source);
    collect_destroy (&c);
    fake_stop (&fake, false);
}

//  Runs fn unless the command line names other tests.
#define RUN_IF(fn)                                                                                 \
    do {                                                                                           \
        bool wanted_ = argc < 2;                                                                   \
        for (int i_ = 1; i_ < argc; i_++)                                                          \
            wanted_ = wanted_ || streq (argv[i_], #fn);                                            \
        if (wanted_)                                                                               \
            RUN (fn);                                                                              \
    } while (0)

//  Lossless: the same stalled subscriber loses nothing; the source holds
//  what the PUB refuses and stops reading until the subscriber catches up.
static void test_lossless (void)
{
    fake_t fake;
    fake_start (&fake, 0, NULL);
    zflow_centrifugo_source_config_t config = {0};
    config.url = fake.url;
    config.token = fake.token;
    config.channels = "news";
    config.name = "lossless";
    config.manual_start = true;
    config.sndhwm = 10;
    config.lossless = true;
    int err;
    zflow_centrifugo_source_t *source = zflow_centrifugo_source_new (&config, &err);
    CHECK (source);
    zsock_t *slow = zsock_new (ZMQ_SUB);
    zsock_set_rcvhwm (slow, 10);
    zsock_set_subscribe (slow, "centrifugo\x1f");
    CHECK (zsock_connect (slow, "%s", zflow_centrifugo_source_endpoint (source)) == 0);
    CHECK_RC (zflow_centrifugo_source_start (source), 0);
    int64_t end = zclock_mono () + 5000;
    while (stat_of (source, "subscribed") < 1 && zclock_mono () < end)
        zclock_sleep (20);
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"news\",\"count\":1000,\"from\":0}");
    zclock_sleep (300);
    //  Stalled: a few wait in the source, the rest in the server / TCP.
    CHECK (stat_of (source, "drops") == 0);
    CHECK (stat_of (source, "queue_depth") > 0);
    CHECK (stat_of (source, "publications") < 1000);
    zsock_set_rcvtimeo (slow, 3000);
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_meta_t *meta = zflow_meta_new ();
    for (uint64_t expected = 1; expected <= 1000; expected++) {
        zmsg_t *zmsg = zmsg_recv (slow);
        CHECK (zmsg && zflow_msg_from_zmsg (msg, &zmsg) == 0);
        CHECK (zflow_envelope_decode (msg, meta) == 0 && zflow_meta_seq (meta) == expected);
        if (expected % 100 == 0)
            zclock_sleep (5); //  a slow reader
    }
    CHECK (stat_of (source, "drops") == 0);
    CHECK (stat_of (source, "queue_depth") == 0);
    CHECK (stat_of (source, "publications") == 1000);
    zflow_meta_destroy (&meta);
    zflow_msg_destroy (&msg);
    zsock_destroy (&slow);
    zflow_centrifugo_source_destroy (&source);
    fake_stop (&fake, false);
}

//  wss: a certificate for 127.0.0.1 made with the openssl CLI; the source
//  connects when it trusts it, and a source that does not trust it fails
//  its handshakes (nothing published, no connect).
static void test_tls (void)
{
    char dir[64];
    snprintf (dir, sizeof (dir), "/tmp/zflow-centsrc-tls-%d", (int) getpid ());
    char command[512];
    snprintf (command, sizeof (command),
              "mkdir -p %s && openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
              "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout %s/key.pem "
              "-out %s/cert.pem >/dev/null 2>&1",
              dir, dir, dir);
    if (system (command) != 0) {
        printf (" (skipped: no openssl CLI)");
        return;
    }
    fake_t fake;
    const char *args[] = {"--tls", dir, NULL};
    fake_start (&fake, 0, args);
    char ca[96];
    snprintf (ca, sizeof (ca), "%s/cert.pem", dir);
    zflow_centrifugo_source_config_t config = {0};
    config.url = fake.url;
    config.token = fake.token;
    config.channels = "secure";
    config.name = "tls";
    config.manual_start = true;
    config.ca_file = ca;
    int err;
    zflow_centrifugo_source_t *source = zflow_centrifugo_source_new (&config, &err);
    CHECK (source);
    collect_t c;
    collect_init (&c, source);
    CHECK_RC (zflow_centrifugo_source_start (source), 0);
    CHECK (WAIT_UNTIL (&c, events_of (&c, "subscribed", NULL, 0) == 1, 5000));
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"secure\",\"count\":3,\"from\":0}");
    CHECK (WAIT_UNTIL (&c, pubs_of (&c, "secure") == 3, 3000));
    check_sequence (&c, "secure", 1, 3, 0);
    zflow_centrifugo_source_destroy (&source);
    collect_destroy (&c);
    //  Without the CA the certificate is not trusted: no session.
    config.ca_file = NULL;
    config.name = "untrusted";
    source = zflow_centrifugo_source_new (&config, &err);
    CHECK (source);
    CHECK_RC (zflow_centrifugo_source_start (source), 0);
    zclock_sleep (300);
    CHECK (stat_of (source, "attempts") >= 1);
    CHECK (stat_of (source, "connects") == 0);
    CHECK (fake_stat (&fake, "connects") == 1);
    zflow_centrifugo_source_destroy (&source);
    fake_stop (&fake, false);
    snprintf (command, sizeof (command), "rm -rf %s", dir);
    CHECK (system (command) == 0);
}

static bool s_done = false;

//  A failed CHECK exits with actors still running, and czmq's own exit
//  handler would then wait for them for ever: leave at once instead.
static void s_at_exit (void)
{
    if (!s_done)
        _exit (1);
}

//  A server that goes silent: no ping for the announced interval plus the
//  grace, then no reply to connect: each time the connection is replaced.
static void test_watchdog (void)
{
    fake_t fake;
    const char *args[] = {"--ping-ms", "1000", "--pong-timeout-ms", "5000", NULL};
    fake_start (&fake, 0, args);
    zflow_centrifugo_source_config_t config = {0};
    config.url = fake.url;
    config.token = fake.token;
    config.channels = "news";
    config.name = "watch";
    config.manual_start = true;
    config.backoff_min_ms = 50;
    config.backoff_max_ms = 100;
    config.timeout_ms = 400;
    config.ping_grace_ms = 200;
    int err;
    zflow_centrifugo_source_t *source = zflow_centrifugo_source_new (&config, &err);
    CHECK (source);
    collect_t c;
    collect_init (&c, source);
    CHECK_RC (zflow_centrifugo_source_start (source), 0);
    CHECK (WAIT_UNTIL (&c, events_of (&c, "subscribed", NULL, 0) == 1, 5000));
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"news\",\"count\":3,\"from\":0}");
    FAKE_OK (&fake, "{\"op\":\"mute\",\"on\":true}");
    int64_t muted = zclock_mono ();
    //  Silence for 1000 + 200 ms: replaced; then connect replies never come.
    CHECK (WAIT_UNTIL (&c, events_of (&c, "disconnected", NULL, 0) >= 1, 3000));
    CHECK (zclock_mono () - muted >= 1000);
    CHECK (WAIT_UNTIL (&c, events_of (&c, "disconnected", NULL, 0) >= 2, 3000));
    CHECK (stat_of (source, "connects") == 1);
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"news\",\"count\":3,\"from\":3}");
    FAKE_OK (&fake, "{\"op\":\"mute\",\"on\":false}");
    CHECK (WAIT_UNTIL (&c, events_of (&c, "subscribed", NULL, 0) == 2, 5000));
    CHECK (WAIT_UNTIL (&c, pubs_of (&c, "news") == 6, 3000));
    check_sequence (&c, "news", 1, 6, 0);
    CHECK (stat_of (source, "connects") == 2);
    zflow_centrifugo_source_destroy (&source);
    collect_destroy (&c);
    fake_stop (&fake, false);
}

//  A subscriber that does not read: the PUB's watermark bounds what waits,
//  the rest is dropped and counted, and what got through is in order.
static void test_drops (void)
{
    fake_t fake;
    fake_start (&fake, 0, NULL);
    zflow_centrifugo_source_config_t config = {0};
    config.url = fake.url;
    config.token = fake.token;
    config.channels = "news";
    config.name = "drops";
    config.manual_start = true;
    config.sndhwm = 10;
    int err;
    zflow_centrifugo_source_t *source = zflow_centrifugo_source_new (&config, &err);
    CHECK (source);
    zsock_t *stalled = zsock_new (ZMQ_SUB);
    zsock_set_rcvhwm (stalled, 10);
    zsock_set_subscribe (stalled, "centrifugo\x1f");
    CHECK (zsock_connect (stalled, "%s", zflow_centrifugo_source_endpoint (source)) == 0);
    CHECK_RC (zflow_centrifugo_source_start (source), 0);
    int64_t end = zclock_mono () + 5000;
    while (stat_of (source, "subscribed") < 1 && zclock_mono () < end)
        zclock_sleep (20);
    FAKE_OK (&fake, "{\"op\":\"publish_many\",\"channel\":\"news\",\"count\":1000,\"from\":0}");
    end = zclock_mono () + 5000;
    while (stat_of (source, "publications") + stat_of (source, "drops") < 1000 &&
           zclock_mono () < end)
        zclock_sleep (20);
    uint64_t published = stat_of (source, "publications");
    uint64_t drops = stat_of (source, "drops");
    CHECK (published + drops == 1000);
    CHECK (drops > 0 && published > 0 && published < 100);
    zsock_set_rcvtimeo (stalled, 200);
    uint64_t received = 0, last = 0;
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_meta_t *meta = zflow_meta_new ();
    zmsg_t *zmsg;
    while ((zmsg = zmsg_recv (stalled))) {
        CHECK (zflow_msg_from_zmsg (msg, &zmsg) == 0 && zflow_envelope_decode (msg, meta) == 0);
        CHECK (zflow_meta_seq (meta) > last);
        last = zflow_meta_seq (meta);
        received++;
    }
    CHECK (received == published);
    zflow_meta_destroy (&meta);
    zflow_msg_destroy (&msg);
    zsock_destroy (&stalled);
    zflow_centrifugo_source_destroy (&source);
    fake_stop (&fake, false);
}

int main (int argc, char *argv[])
{
    signal (SIGPIPE, SIG_IGN);
    zsys_init ();
    atexit (s_at_exit);
    zsys_set_logstream (stderr);
    printf ("test_centrifugo_source\n");
    RUN_IF (test_config);
    RUN_IF (test_conventions);
    RUN_IF (test_publications);
    RUN_IF (test_wrong_token);
    RUN_IF (test_restart_recovery);
    RUN_IF (test_unrecovered);
    RUN_IF (test_token_refresh);
    RUN_IF (test_token_provider);
    RUN_IF (test_server_side);
    RUN_IF (test_ping);
    RUN_IF (test_malformed_and_pushes);
    RUN_IF (test_watchdog);
    RUN_IF (test_drops);
    RUN_IF (test_lossless);
    RUN_IF (test_allow_recovery);
    RUN_IF (test_tls);
    zsys_shutdown ();
    s_done = true;
    return 0;
}
