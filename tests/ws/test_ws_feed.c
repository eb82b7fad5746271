/*  =========================================================================
    test_ws_feed - the WebSocket feed actor against the Python server

    Filters over many streams, parse hooks, handlers, drop and backpressure
    policies, exit waking readers, reconnect after a kill, clean-close
    reconnect, policy reconnect without loss, send queue and rate limits,
    application pings, gzip payloads.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "ws_testlib.h"
#include "zflow.h"
#include "zflow_ws_json.h"
#include <pthread.h>
#include <zlib.h>

static int s_port; //  the shared echo server

//  Starts a feed on path of the server at port, with config tweaks done by
//  the caller on *config (may be NULL to use defaults).
static zflow_ws_t *s_feed (const char *name, int port, const char *path, zflow_ws_config_t *config)
{
    char url[128];
    ws_url (url, sizeof (url), "ws", port, path);
    if (!config)
        config = zflow_ws_config_new (url);
    int rc = zflow_ws_config_set_name (config, name);
    zflow_ws_t *feed = rc ? NULL : zflow_ws_new (config, &rc);
    zflow_ws_config_destroy (&config); //  the feed has its own copy
    if (!feed) {
        fprintf (stderr, "zflow_ws_new: %s\n", zflow_error_text (rc));
        exit (1); //  every test needs its feed
    }
    return feed;
}

static zflow_ws_config_t *s_config (int port, const char *path)
{
    char url[128];
    return zflow_ws_config_new (ws_url (url, sizeof (url), "ws", port, path));
}

//  Reads all messages available within ms; returns how many.
static int s_drain (zflow_ws_stream_t *stream, int ms, zlist_t *payloads)
{
    zflow_msg_t *msg = zflow_msg_new ();
    int count = 0;
    while (zflow_ws_stream_read (stream, msg, ms) == 0) {
        count++;
        if (payloads)
            zlist_append (payloads, zflow_msg_strdup (msg, 2));
    }
    zflow_msg_destroy (&msg);
    return count;
}

static void s_free_list (zlist_t **list_p)
{
    char *item;
    while (*list_p && (item = (char *) zlist_pop (*list_p)))
        free (item);
    zlist_destroy (list_p);
}

static uint64_t s_stat (zflow_ws_t *feed, const char *name)
{
    zhash_t *stats = zflow_ws_stats (feed, 2000);
    uint64_t value = zflow_actor_stats_get (stats, name);
    zhash_destroy (&stats);
    return value;
}

static int s_handler_calls;

static int s_handler (const void *data, size_t size, bool binary, const json_t *parsed, void *arg)
{
    (void) binary;
    (void) parsed;
    (void) arg;
    s_handler_calls++;
    return memmem (data, size, "fail", 4) ? -1 : 0;
}

//  Filters over several streams, envelope, PUB, parse errors, handlers.
static void s_test_filters (void)
{
    zflow_ws_config_t *config = s_config (s_port, "/echo");
    zflow_ws_json_add_handler (config, s_handler, NULL);
    zflow_ws_t *feed = s_feed ("filters", s_port, NULL, config);
    CHECK (feed && zflow_ws_wait_connected (feed, 3000) == 0);
    if (!feed)
        return;
    CHECK (zflow_ws_present (feed));
    zflow_ws_stream_t *all = zflow_ws_stream_filter (feed, NULL, 0, ZFLOW_WS_DROP, NULL);
    zflow_ws_stream_t *a =
        zflow_ws_stream_filter (feed, "[{\"kind\":\"a\"}]", 0, ZFLOW_WS_DROP, NULL);
    zflow_ws_stream_t *mix = zflow_ws_stream_filter (feed, "[{\"kind\":\"b\",\"i\":3},{\"i\":4}]",
                                                     0, ZFLOW_WS_DROP, NULL);
    int rc;
    CHECK (zflow_ws_stream_filter (feed, "[1,2]", 0, ZFLOW_WS_DROP, &rc) == NULL &&
           rc == ZFLOW_EINVAL);
    CHECK (zflow_ws_stream_filter (feed, NULL, 0, 7, &rc) == NULL && rc == ZFLOW_EINVAL);
    zsock_t *sub = zsock_new_sub (zflow_ws_endpoint (feed), "ws\x1f"
                                                            "filters");
    //  Many streams, one per kind.
    zflow_ws_stream_t *kinds[20];
    for (int k = 0; k < 20; k++) {
        char filter[64];
        snprintf (filter, sizeof (filter), "{\"k\":%d}", k);
        kinds[k] = zflow_ws_stream_filter (feed, filter, 0, ZFLOW_WS_DROP, NULL);
        CHECK (kinds[k]);
    }
    zclock_sleep (50); //  the SUB subscription reaches the PUB
    for (int i = 0; i < 10; i++) {
        char text[64];
        snprintf (text, sizeof (text), "{\"i\":%d,\"kind\":\"%s\"}", i, i % 2 ? "b" : "a");
        CHECK (zflow_ws_send (feed, text, strlen (text), false) == 0);
    }
    for (int i = 0; i < 200; i++) {
        char text[64];
        snprintf (text, sizeof (text), "{\"k\":%d,\"n\":%d}", i % 20, i);
        CHECK (zflow_ws_send (feed, text, strlen (text), false) == 0);
    }
    CHECK (zflow_ws_send (feed, "hello fail", 10, false) == 0);
    CHECK (zflow_ws_send (feed, "\xff", 1, false) == ZFLOW_EPROTO);

    zlist_t *payloads = zlist_new ();
    CHECK (s_drain (all, 1000, payloads) == 211);
    CHECK (streq ((char *) zlist_first (payloads), "{\"i\":0,\"kind\":\"a\"}"));
    CHECK (streq ((char *) zlist_last (payloads), "hello fail"));
    s_free_list (&payloads);
    CHECK (s_drain (a, 100, NULL) == 5);
    payloads = zlist_new ();
    CHECK (s_drain (mix, 100, payloads) == 2);
    CHECK (streq ((char *) zlist_first (payloads), "{\"i\":3,\"kind\":\"b\"}"));
    s_free_list (&payloads);
    for (int k = 0; k < 20; k++)
        CHECK (s_drain (kinds[k], 50, NULL) == 10);
    //  The PUB side: one envelope per message.
    zmsg_t *first = zmsg_recv (sub);
    CHECK (first && zmsg_size (first) == 3);
    if (first) {
        char *key = zmsg_popstr (first);
        CHECK (streq (key, "ws\x1f"
                           "filters"));
        zframe_t *meta_frame = zmsg_pop (first);
        zflow_meta_t *meta = zflow_meta_new ();
        CHECK (zflow_meta_decode (meta, zframe_data (meta_frame), zframe_size (meta_frame)) == 0);
        CHECK (zflow_meta_seq (meta) == 1 && streq (zflow_meta_source (meta), "filters"));
        CHECK (streq (zflow_meta_content_type (meta), "application/json"));
        zflow_meta_destroy (&meta);
        zframe_destroy (&meta_frame);
        zstr_free (&key);
        zmsg_destroy (&first);
    }
    CHECK (s_stat (feed, "published") == 211);
    CHECK (s_stat (feed, "parse_errors") == 1);
    CHECK (s_stat (feed, "handler_errors") == 1);
    CHECK (s_handler_calls == 211);
    zsock_destroy (&sub);
    zflow_ws_stream_destroy (&all);
    CHECK (all == NULL);
    zflow_ws_stream_destroy (&a);
    zflow_ws_stream_destroy (&mix);
    for (int k = 0; k < 20; k++)
        zflow_ws_stream_destroy (&kinds[k]);
    zflow_ws_destroy (&feed);
}

//  A full DROP stream loses only its own messages; a BACKPRESSURE stream
//  loses none.
static void s_test_policies (void)
{
    zflow_ws_t *feed = s_feed ("policies", s_port, "/echo", NULL);
    CHECK (feed && zflow_ws_wait_connected (feed, 3000) == 0);
    zflow_ws_stream_t *all = zflow_ws_stream_filter (feed, NULL, 1000, ZFLOW_WS_DROP, NULL);
    zflow_ws_stream_t *small = zflow_ws_stream_filter (feed, NULL, 5, ZFLOW_WS_DROP, NULL);
    for (int i = 0; i < 100; i++) {
        char text[32];
        snprintf (text, sizeof (text), "{\"n\":%d}", i);
        zflow_ws_send (feed, text, strlen (text), false);
    }
    CHECK (s_drain (all, 1000, NULL) == 100);
    int got = s_drain (small, 50, NULL);
    uint64_t drops = zflow_ws_stream_drops (small);
    CHECK (got >= 5 && got < 100);
    CHECK ((uint64_t) got + drops == 100);
    CHECK (s_stat (feed, "stream_drops") == drops);
    zflow_ws_stream_destroy (&small);

    zflow_ws_stream_t *slow = zflow_ws_stream_filter (feed, NULL, 5, ZFLOW_WS_BACKPRESSURE, NULL);
    for (int i = 0; i < 100; i++) {
        char text[32];
        snprintf (text, sizeof (text), "{\"n\":%d}", i);
        zflow_ws_send (feed, text, strlen (text), false);
    }
    zclock_sleep (200);
    zlist_t *payloads = zlist_new ();
    CHECK (s_drain (slow, 1000, payloads) == 100);
    int expect = 0;
    for (char *p = (char *) zlist_first (payloads); p; p = (char *) zlist_next (payloads)) {
        char want[32];
        snprintf (want, sizeof (want), "{\"n\":%d}", expect++);
        CHECK (streq (p, want));
    }
    s_free_list (&payloads);
    CHECK (zflow_ws_stream_drops (slow) == 0);
    CHECK (s_drain (all, 1000, NULL) == 100);
    zflow_ws_stream_destroy (&slow);
    zflow_ws_stream_destroy (&all);
    zflow_ws_destroy (&feed);
}

static void *s_blocked_reader (void *arg)
{
    zflow_msg_t *msg = zflow_msg_new ();
    intptr_t rc = zflow_ws_stream_read ((zflow_ws_stream_t *) arg, msg, -1);
    zflow_msg_destroy (&msg);
    return (void *) rc;
}

//  Exit closes cleanly and wakes a reader blocked forever.
static void s_test_exit (void)
{
    zflow_ws_t *feed = s_feed ("exit", s_port, "/echo", NULL);
    CHECK (feed && zflow_ws_wait_connected (feed, 3000) == 0);
    zflow_ws_stream_t *stream = zflow_ws_stream_filter (feed, NULL, 0, ZFLOW_WS_DROP, NULL);
    pthread_t thread;
    pthread_create (&thread, NULL, s_blocked_reader, stream);
    zclock_sleep (50);
    CHECK (zflow_ws_exit (feed) == 0);
    void *result = NULL;
    pthread_join (thread, &result);
    CHECK ((intptr_t) result == ZFLOW_ECLOSED);
    zflow_msg_t *msg = zflow_msg_new ();
    CHECK (zflow_ws_stream_read (stream, msg, 0) == ZFLOW_ECLOSED);
    zflow_msg_destroy (&msg);
    CHECK (!zflow_ws_present (feed));
    CHECK (zflow_ws_send (feed, "x", 1, false) == ZFLOW_ECLOSED);
    CHECK (zflow_ws_exit (feed) == ZFLOW_ECLOSED);
    CHECK (zflow_ws_stream_filter (feed, NULL, 0, ZFLOW_WS_DROP, NULL) == NULL);
    zflow_ws_stream_destroy (&stream);
    zflow_ws_destroy (&feed);
}

//  Flush: every message sent is written before it returns (the echo
//  server sends each back); without a connection it times out; after
//  exit it says closed.
static void s_test_flush (void)
{
    zflow_ws_t *feed = s_feed ("flush", s_port, "/echo", NULL);
    CHECK (feed && zflow_ws_wait_connected (feed, 3000) == 0);
    zflow_ws_stream_t *stream =
        zflow_ws_stream_filter (feed, NULL, 1000, ZFLOW_WS_BACKPRESSURE, NULL);
    CHECK (stream);
    char text[32];
    int sent = 0;
    for (int index = 0; index < 200; index++) {
        snprintf (text, sizeof (text), "{\"n\":%d}", index);
        sent += zflow_ws_send (feed, text, strlen (text), false) == 0;
    }
    CHECK (sent == 200);
    CHECK (zflow_ws_flush (feed, 3000) == 0);
    zflow_msg_t *msg = zflow_msg_new ();
    int echoed = 0;
    while (echoed < 200 && zflow_ws_stream_read (stream, msg, 2000) == 0)
        echoed++;
    CHECK (echoed == 200);
    CHECK (zflow_ws_exit (feed) == 0);
    CHECK (zflow_ws_flush (feed, 100) == ZFLOW_ECLOSED);
    CHECK (zflow_ws_flush (NULL, 100) == ZFLOW_EINVAL);
    zflow_ws_stream_destroy (&stream);
    zflow_ws_destroy (&feed);

    //  a feed not started: its sends wait, flush times out
    char url[128];
    ws_url (url, sizeof (url), "ws", s_port, "/echo");
    zflow_ws_config_t *config = zflow_ws_config_new (url);
    zflow_ws_config_set_autostart (config, false);
    feed = s_feed ("flush2", s_port, "/echo", config);
    CHECK (zflow_ws_send (feed, "x", 1, false) == 0);
    int64_t start = zclock_mono ();
    CHECK (zflow_ws_flush (feed, 100) == ZFLOW_ETIMEDOUT);
    CHECK (zclock_mono () - start >= 90);
    zflow_msg_destroy (&msg);
    zflow_ws_destroy (&feed);
}

static volatile int s_logins;
static volatile int s_queued;

static int s_count_logins (const void *data, size_t size, bool binary, const json_t *parsed,
                           void *arg)
{
    (void) data;
    (void) size;
    (void) binary;
    (void) arg;
    if (json_is_object (parsed) && json_object_get (parsed, "login"))
        s_logins++;
    if (json_is_object (parsed) && json_object_get (parsed, "queued"))
        s_queued++;
    return 0;
}

//  Without autostart the feed connects on zflow_ws_start, so a stream made
//  before sees the very first messages (the server sends 10 at once).
static void s_test_autostart (void)
{
    zflow_ws_config_t *config = s_config (s_port, "/stream/10");
    zflow_ws_config_set_autostart (config, false);
    zflow_ws_t *feed = s_feed ("autostart", s_port, NULL, config);
    zclock_sleep (50);
    CHECK (!zflow_ws_present (feed) && zflow_ws_connects (feed) == 0);
    zflow_ws_stream_t *b =
        zflow_ws_stream_filter (feed, "{\"kind\":\"b\"}", 0, ZFLOW_WS_DROP, NULL);
    CHECK (zflow_ws_start (feed) == 0);
    zlist_t *payloads = zlist_new ();
    CHECK (s_drain (b, 500, payloads) == 5);
    CHECK (zlist_size (payloads) > 0 &&
           streq ((char *) zlist_first (payloads), "{\"i\": 1, \"kind\": \"b\"}"));
    s_free_list (&payloads);
    zflow_ws_stream_destroy (&b);
    zflow_ws_destroy (&feed);
}

//  Killed and restarted server: reconnect with the on-connect message.
static void s_test_kill_restart (void)
{
    ws_server_t server;
    if (ws_python_start (&server, NULL, NULL, NULL, NULL)) {
        CHECK (!"server");
        return;
    }
    zflow_ws_config_t *config = s_config (server.port, "/echo");
    zflow_ws_config_set_backoff (config, 20, 100);
    zflow_ws_config_on_connect_send (config, "{\"login\":1}");
    //  A handler sees every message from the start (a stream made after
    //  zflow_ws_new could miss the first echo).
    s_logins = s_queued = 0;
    zflow_ws_json_add_handler (config, s_count_logins, NULL);
    zflow_ws_t *feed = s_feed ("restart", server.port, NULL, config);
    CHECK (zflow_ws_wait_connected (feed, 3000) == 0);
    for (int i = 0; i < 400 && s_logins < 1; i++)
        zclock_sleep (5); //  the first login's echo is back before the kill
    CHECK (s_logins == 1);
    int port = server.port;
    ws_server_kill (&server);
    for (int i = 0; i < 200 && zflow_ws_present (feed); i++)
        zclock_sleep (5);
    CHECK (!zflow_ws_present (feed));
    //  Sends while away are queued, then delivered after the reconnect.
    CHECK (zflow_ws_send (feed, "{\"queued\":1}", 12, false) == 0);
    char port_text[16];
    snprintf (port_text, sizeof (port_text), "%d", port);
    CHECK (ws_python_start (&server, "--port", port_text, NULL, NULL) == 0);
    for (int i = 0; i < 600 && zflow_ws_connects (feed) < 2; i++)
        zclock_sleep (5);
    CHECK (zflow_ws_connects (feed) == 2);
    for (int i = 0; i < 100 && (s_logins < 2 || s_queued < 1); i++)
        zclock_sleep (5);
    CHECK (s_logins == 2);
    CHECK (s_queued == 1); //  sent while disconnected, delivered after
    CHECK (s_stat (feed, "send_dropped") == 0);
    CHECK (s_stat (feed, "reconnects") >= 1);
    zflow_ws_destroy (&feed);
    ws_server_kill (&server);
}

//  A clean close (1000) also reconnects.
static void s_test_clean_close (void)
{
    zflow_ws_config_t *config = s_config (s_port, "/close/1000");
    zflow_ws_config_set_backoff (config, 10, 20);
    zflow_ws_t *feed = s_feed ("clean", s_port, NULL, config);
    for (int i = 0; i < 400 && zflow_ws_connects (feed) < 3; i++)
        zclock_sleep (5);
    CHECK (zflow_ws_connects (feed) >= 3);
    zflow_ws_destroy (&feed);
}

//  Policy reconnect (by call and by filter) loses nothing: the server
//  numbers messages once over all connections, and we see every number.
static void s_test_rotation (void)
{
    zflow_ws_config_t *config = s_config (s_port, "/count");
    zflow_ws_config_set_rotate (config, 0, "[{\"seq\":40}]");
    zflow_ws_t *feed = s_feed ("rotate", s_port, NULL, config);
    zflow_ws_stream_t *stream = zflow_ws_stream_filter (feed, NULL, 100000, ZFLOW_WS_DROP, NULL);
    CHECK (zflow_ws_wait_connected (feed, 3000) == 0);
    for (int i = 0; i < 3; i++) {
        zclock_sleep (150);
        CHECK (zflow_ws_reconnect (feed) == 0);
    }
    zclock_sleep (150);
    CHECK (zflow_ws_exit (feed) == 0);
    CHECK (s_stat (feed, "rotations") >= 4);
    CHECK (s_stat (feed, "reconnects") == 0);
    zlist_t *payloads = zlist_new ();
    s_drain (stream, 100, payloads);
    size_t count = zlist_size (payloads);
    char *seen = (char *) calloc (count + 2, 1);
    int min = INT32_MAX, max = 0;
    for (char *p = (char *) zlist_first (payloads); p; p = (char *) zlist_next (payloads)) {
        int n = atoi (p + 7);
        min = n < min ? n : min;
        max = n > max ? n : max;
    }
    bool distinct = true;
    for (char *p = (char *) zlist_first (payloads); p; p = (char *) zlist_next (payloads)) {
        int n = atoi (p + 7);
        if (n - min <= (int) count && !seen[n - min]++)
            continue;
        distinct = false;
    }
    CHECK (count > 100);
    CHECK (distinct);
    CHECK ((size_t) (max - min + 1) == count); //  no gap
    printf ("rotation: %zu messages, seq %d..%d\n", count, min, max);
    free (seen);
    s_free_list (&payloads);
    zflow_ws_stream_destroy (&stream);
    zflow_ws_destroy (&feed);
}

//  Send queue bound while nobody listens; connection-attempt rate limit.
static void s_test_limits (void)
{
    zflow_ws_config_t *config = zflow_ws_config_new ("ws://127.0.0.1:1/");
    zflow_ws_config_set_send_queue (config, 3);
    zflow_ws_config_set_backoff (config, 5, 5);
    zflow_ws_config_set_connect_rate (config, 200);
    zflow_ws_t *feed = s_feed ("limits", 0, NULL, config);
    for (int i = 0; i < 3; i++)
        CHECK (zflow_ws_send (feed, "m", 1, false) == 0);
    CHECK (zflow_ws_send (feed, "m", 1, false) == ZFLOW_EFULL);
    zclock_sleep (700);
    uint64_t attempts = s_stat (feed, "attempts");
    CHECK (attempts >= 2 && attempts <= 5);
    zflow_ws_exit (feed);
    CHECK (s_stat (feed, "send_dropped") == 3);
    zflow_ws_destroy (&feed);

    //  Outgoing rate: 20 per second spaces 5 messages over >= 200 ms.
    config = s_config (s_port, "/echo");
    zflow_ws_config_set_send_rate (config, 20);
    feed = s_feed ("rate", s_port, NULL, config);
    zflow_ws_stream_t *stream = zflow_ws_stream_filter (feed, NULL, 0, ZFLOW_WS_DROP, NULL);
    CHECK (zflow_ws_wait_connected (feed, 3000) == 0);
    int64_t start = zclock_mono ();
    for (int i = 0; i < 5; i++)
        zflow_ws_send (feed, "{}", 2, false);
    zflow_msg_t *msg = zflow_msg_new ();
    int got = 0;
    while (got < 5 && zflow_ws_stream_read (stream, msg, 2000) == 0)
        got++;
    int64_t elapsed = zclock_mono () - start;
    CHECK (got == 5);
    CHECK (elapsed >= 180);
    zflow_msg_destroy (&msg);
    zflow_ws_stream_destroy (&stream);
    zflow_ws_destroy (&feed);
}

//  Application pings are swallowed; gzip binary payloads are decoded.
static void s_test_app_ping_gzip (void)
{
    zflow_ws_config_t *config = s_config (s_port, "/echo");
    zflow_ws_config_set_app_ping (config, 30, "ping", "ping");
    zflow_ws_config_set_decode (config, ZFLOW_WS_DECODE_GZIP);
    zflow_ws_config_set_ping (config, 30);
    zflow_ws_t *feed = s_feed ("appping", s_port, NULL, config);
    zflow_ws_stream_t *all = zflow_ws_stream_filter (feed, NULL, 0, ZFLOW_WS_DROP, NULL);
    zflow_ws_stream_t *zipped =
        zflow_ws_stream_filter (feed, "{\"zip\":true}", 0, ZFLOW_WS_DROP, NULL);
    CHECK (zflow_ws_wait_connected (feed, 3000) == 0);
    const char *json = "{\"zip\":true,\"pad\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}";
    uint8_t packed[256];
    uLongf packed_size = sizeof (packed);
    CHECK (compress2 (packed, &packed_size, (const Bytef *) json, strlen (json), 9) == Z_OK);
    CHECK (zflow_ws_send (feed, packed, packed_size, true) == 0);
    CHECK (zflow_ws_send (feed, "\x1f\x8b garbage", 10, true) == 0);
    zlist_t *payloads = zlist_new ();
    CHECK (s_drain (zipped, 500, payloads) == 1);
    CHECK (zlist_size (payloads) == 1 && streq ((char *) zlist_first (payloads), json));
    s_free_list (&payloads);
    zclock_sleep (150);
    CHECK (s_drain (all, 100, NULL) == 2); //  no "ping" echoes
    CHECK (s_stat (feed, "app_pongs") >= 2);
    CHECK (s_stat (feed, "decode_errors") == 1);
    CHECK (zflow_ws_present (feed)); //  WebSocket pongs keep it alive
    zflow_ws_stream_destroy (&all);
    zflow_ws_stream_destroy (&zipped);
    zflow_ws_destroy (&feed);
}

//  A parser of our own: wraps text as {"text":..., "len":n}; filters see
//  and streams get the transformed value; "bad" is refused.
static json_t *s_wrap (const void *data, size_t size, bool binary, void *arg)
{
    (void) binary;
    (void) arg;
    if (size == 3 && memcmp (data, "bad", 3) == 0)
        return NULL;
    return json_pack ("{s:s%,s:i}", "text", (const char *) data, size, "len", (int) size);
}

static void s_test_parser (void)
{
    zflow_ws_config_t *config = s_config (s_port, "/echo");
    zflow_ws_json_set_parser (config, s_wrap, NULL);
    zflow_ws_t *feed = s_feed ("parser", s_port, NULL, config);
    zflow_ws_stream_t *len2 = zflow_ws_stream_filter (feed, "{\"len\":2}", 0, ZFLOW_WS_DROP, NULL);
    zflow_ws_stream_t *all = zflow_ws_stream_filter (feed, NULL, 0, ZFLOW_WS_DROP, NULL);
    CHECK (zflow_ws_wait_connected (feed, 3000) == 0);
    zflow_ws_send (feed, "ab", 2, false);
    zflow_ws_send (feed, "abc", 3, false);
    zflow_ws_send (feed, "bad", 3, false);
    zlist_t *payloads = zlist_new ();
    CHECK (s_drain (len2, 500, payloads) == 1);
    CHECK (zlist_size (payloads) == 1 &&
           streq ((char *) zlist_first (payloads), "{\"text\":\"ab\",\"len\":2}"));
    s_free_list (&payloads);
    payloads = zlist_new ();
    CHECK (s_drain (all, 200, payloads) == 3);
    CHECK (zlist_size (payloads) == 3 && streq ((char *) zlist_last (payloads), "bad"));
    s_free_list (&payloads);
    CHECK (s_stat (feed, "parse_errors") == 1);
    zflow_ws_stream_destroy (&len2);
    zflow_ws_stream_destroy (&all);
    zflow_ws_destroy (&feed);
}

//  Server application pings are answered and swallowed.
static void s_test_app_ping_reply (void)
{
    zflow_ws_config_t *config = s_config (s_port, "/apping");
    CHECK (zflow_ws_config_set_app_ping_reply (config, "ping", "pong") == 0);
    zflow_ws_config_set_autostart (config, false);
    zflow_ws_t *feed = s_feed ("appreply", s_port, NULL, config);
    zflow_ws_stream_t *all = zflow_ws_stream_filter (feed, NULL, 0, ZFLOW_WS_DROP, NULL);
    zflow_ws_start (feed);
    zlist_t *payloads = zlist_new ();
    CHECK (s_drain (all, 1000, payloads) == 1);
    CHECK (zlist_size (payloads) == 1 && streq ((char *) zlist_first (payloads), "{\"ok\": true}"));
    s_free_list (&payloads);
    CHECK (s_stat (feed, "app_pings") == 2);
    zflow_ws_stream_destroy (&all);
    zflow_ws_destroy (&feed);
}

int main (void)
{
    zsys_init ();
    ws_server_t server;
    if (ws_python_start (&server, "--deflate", NULL, NULL, NULL)) {
        fprintf (stderr, "cannot start the Python websockets server\n");
        return 1;
    }
    s_port = server.port;
    s_test_filters ();
    s_test_policies ();
    s_test_exit ();
    s_test_flush ();
    s_test_autostart ();
    s_test_kill_restart ();
    s_test_clean_close ();
    s_test_rotation ();
    s_test_limits ();
    s_test_app_ping_gzip ();
    s_test_app_ping_reply ();
    s_test_parser ();
    ws_server_kill (&server);
    printf ("%s: %d failed checks\n", s_checks_failed ? "FAIL" : "OK", s_checks_failed);
    return s_checks_failed ? 1 : 0;
}
