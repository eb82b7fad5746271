/*  =========================================================================
    test_ws_stream - feed and stream lifetimes, and the feed's conventions

    Streams destroyed before their feed (a full BACKPRESSURE one included:
    the feed must not stay paused), feeds destroyed before their streams
    (the streams hand out what they got, then ZFLOW_ECLOSED), a stream read
    from a zloop through its zflow_stream_t, the configuration copied by
    zflow_ws_new, and garbage for every public function. Meant to run under
    AddressSanitizer too (-DZFLOW_SANITIZE=ON).

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "ws_testlib.h"
#include "zflow.h"

static int s_port; //  the Python echo server

static zflow_ws_t *s_feed (const char *name, const char *path)
{
    char url[128];
    zflow_ws_config_t *config =
        zflow_ws_config_new (ws_url (url, sizeof (url), "ws", s_port, path));
    zflow_ws_config_set_name (config, name);
    zflow_ws_t *feed = zflow_ws_new (config, NULL);
    zflow_ws_config_destroy (&config);
    CHECK (feed && zflow_ws_wait_connected (feed, 3000) == 0);
    return feed;
}

static void s_send_numbers (zflow_ws_t *feed, int count)
{
    for (int i = 0; i < count; i++) {
        char text[32];
        snprintf (text, sizeof (text), "{\"n\":%d}", i);
        CHECK (zflow_ws_send (feed, text, strlen (text), false) == 0);
    }
}

//  Reads until nothing comes within ms; returns how many.
static int s_drain (zflow_ws_stream_t *stream, int ms)
{
    zflow_msg_t *msg = zflow_msg_new ();
    int count = 0;
    while (zflow_ws_stream_read (stream, msg, ms) == 0)
        count++;
    zflow_msg_destroy (&msg);
    return count;
}

//  Streams destroyed while the feed runs: the others go on, and a full
//  BACKPRESSURE stream destroyed while it holds the feed back frees it.
static void s_test_stream_first (void)
{
    zflow_ws_t *feed = s_feed ("first", "/echo");
    zflow_ws_stream_t *all = zflow_ws_stream_filter (feed, NULL, 1000, ZFLOW_WS_DROP, NULL);
    zflow_ws_stream_t *gone = zflow_ws_stream_filter (feed, NULL, 1000, ZFLOW_WS_DROP, NULL);
    zflow_ws_stream_t *full = zflow_ws_stream_filter (feed, NULL, 5, ZFLOW_WS_BACKPRESSURE, NULL);
    zflow_msg_t *msg = zflow_msg_new ();
    CHECK (zflow_ws_stream_read (full, msg, 0) == ZFLOW_EAGAIN); //  batches, counted bound
    zflow_ws_stream_destroy (&gone);
    CHECK (gone == NULL);
    zflow_ws_stream_destroy (&gone); //  idempotent
    s_send_numbers (feed, 100);      //  the full stream gets them (one batch over its bound)
    zclock_sleep (200);
    s_send_numbers (feed, 100); //  it is full: these wait, reading pauses
    zclock_sleep (200);
    zhash_t *stats = zflow_ws_stats (feed, 2000);
    CHECK (stats && zflow_actor_stats_get (stats, "pauses") >= 1);
    CHECK (stats && zflow_actor_stats_get (stats, "published") < 200);
    zhash_destroy (&stats);
    CHECK (zflow_ws_stream_read (full, msg, 1000) == 0);
    zflow_ws_stream_destroy (&full);
    CHECK (s_drain (all, 1000) == 200); //  reading resumed without the full stream
    stats = zflow_ws_stats (feed, 2000);
    CHECK (stats && zflow_actor_stats_get (stats, "published") == 200);
    zhash_destroy (&stats);
    s_send_numbers (feed, 10); //  after the sweep: only one stream left
    CHECK (s_drain (all, 500) == 10);
    CHECK (zflow_ws_stream_drops (all) == 0);
    zflow_msg_destroy (&msg);
    zflow_ws_stream_destroy (&all);
    zflow_ws_destroy (&feed);
}

//  The feed destroyed first: each stream hands out what it got (a batch
//  reader and a plain one), then ZFLOW_ECLOSED for good; drops still count.
static void s_test_feed_first (void)
{
    zflow_ws_t *feed = s_feed ("feedfirst", "/echo");
    zflow_ws_stream_t *batched = zflow_ws_stream_filter (feed, NULL, 1000, ZFLOW_WS_DROP, NULL);
    zflow_ws_stream_t *plain = zflow_ws_stream_filter (feed, NULL, 1000, ZFLOW_WS_DROP, NULL);
    zflow_ws_stream_t *small = zflow_ws_stream_filter (feed, NULL, 3, ZFLOW_WS_DROP, NULL);
    zflow_ws_stream_t *unread = zflow_ws_stream_filter (feed, NULL, 1000, ZFLOW_WS_DROP, NULL);
    zflow_msg_t *msg = zflow_msg_new ();
    CHECK (zflow_ws_stream_read (batched, msg, 0) == ZFLOW_EAGAIN);
    CHECK (zflow_ws_stream_read (small, msg, 0) == ZFLOW_EAGAIN);
    s_send_numbers (feed, 50);
    CHECK (zflow_ws_flush (feed, 2000) == 0);
    zhash_t *stats = NULL;
    for (int i = 0; i < 200; i++) {
        zhash_destroy (&stats);
        stats = zflow_ws_stats (feed, 2000);
        if (zflow_actor_stats_get (stats, "published") == 50)
            break;
        zclock_sleep (10);
    }
    CHECK (zflow_actor_stats_get (stats, "published") == 50);
    zhash_destroy (&stats);
    zflow_ws_destroy (&feed);
    CHECK (feed == NULL);
    zflow_ws_destroy (&feed); //  idempotent
    CHECK (s_drain (batched, 200) == 50);
    CHECK (zflow_ws_stream_read (batched, msg, 0) == ZFLOW_ECLOSED);
    CHECK (zflow_ws_stream_read (batched, msg, 100) == ZFLOW_ECLOSED);
    //  The plain stream's reader: envelopes, then the end marker.
    int plain_count = 0;
    while (zflow_stream_read (zflow_ws_stream_stream (plain), msg, 200) == 0 &&
           zflow_msg_size (msg) == 3)
        plain_count++;
    CHECK (plain_count == 50);
    CHECK (zflow_msg_size (msg) == 1 && zflow_msg_streq (msg, 0, "$ZFLOW_WS_END"));
    CHECK (s_drain (small, 200) == 3);
    CHECK (zflow_ws_stream_drops (small) == 47);
    CHECK (zflow_ws_stream_read (small, msg, 0) == ZFLOW_ECLOSED);
    CHECK (s_drain (unread, 200) == 50);
    zflow_msg_destroy (&msg);
    zflow_ws_stream_destroy (&batched);
    zflow_ws_stream_destroy (&plain);
    zflow_ws_stream_destroy (&small);
    zflow_ws_stream_destroy (&unread);
}

//  A stream read from a zloop: attach its zflow_stream_t, read it with
//  zflow_ws_stream_read when readable.
typedef struct {
    zflow_ws_stream_t *stream; //  what we read
    zflow_msg_t *msg;          //  scratch
    int count;                 //  messages read
    int want;                  //  stop the loop at this many
} s_looped_t;

static void s_on_readable (zflow_stream_t *stream, void *arg)
{
    (void) stream;
    s_looped_t *looped = (s_looped_t *) arg;
    while (zflow_ws_stream_read (looped->stream, looped->msg, 0) == 0)
        looped->count++;
}

static int s_on_check (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    s_looped_t *looped = (s_looped_t *) arg;
    return looped->count >= looped->want ? -1 : 0;
}

static void s_test_zloop (void)
{
    zflow_ws_t *feed = s_feed ("looped", "/echo");
    s_looped_t looped = {zflow_ws_stream_filter (feed, NULL, 1000, ZFLOW_WS_DROP, NULL),
                         zflow_msg_new (), 0, 300};
    zloop_t *loop = zloop_new ();
    CHECK (zflow_stream_attach (zflow_ws_stream_stream (looped.stream), loop, s_on_readable, NULL,
                                &looped) == 0);
    zloop_timer (loop, 5, 0, s_on_check, &looped);
    zloop_timer (loop, 5000, 1, s_on_check, &looped); //  gives up (count checked below)
    s_send_numbers (feed, 300);
    zloop_start (loop);
    CHECK (looped.count == 300);
    zflow_ws_stream_destroy (&looped.stream); //  detached by its destroy, before the loop goes
    zloop_destroy (&loop);
    zflow_msg_destroy (&looped.msg);
    zflow_ws_destroy (&feed);
}

//  zflow_ws_new copies: the configuration may be destroyed at once, or
//  changed and used again for another feed.
static void s_test_config_copy (void)
{
    char url[128];
    zflow_ws_config_t *config =
        zflow_ws_config_new (ws_url (url, sizeof (url), "ws", s_port, "/stream/4"));
    CHECK (zflow_ws_config_set_name (config, "copy1") == 0);
    CHECK (zflow_ws_config_on_connect_send (config, "{\"hello\":1}") == 0);
    CHECK (zflow_ws_config_set_rotate (config, 0, "{\"never\":true}") == 0);
    CHECK (zflow_ws_config_set_autostart (config, false) == 0);
    zflow_ws_t *one = zflow_ws_new (config, NULL);
    CHECK (zflow_ws_config_set_name (config, "copy2") == 0);
    zflow_ws_t *two = zflow_ws_new (config, NULL);
    zflow_ws_config_destroy (&config);
    CHECK (one && two);
    if (!one || !two)
        return;
    CHECK (streq (zflow_ws_endpoint (one), "inproc://zflow-ws-copy1"));
    CHECK (streq (zflow_ws_endpoint (two), "inproc://zflow-ws-copy2"));
    zflow_ws_t *feeds[2] = {one, two};
    const char *keys[2] = {"ws\x1f"
                           "copy1",
                           "ws\x1f"
                           "copy2"};
    for (int f = 0; f < 2; f++) {
        zflow_ws_stream_t *stream = zflow_ws_stream_filter (feeds[f], NULL, 0, ZFLOW_WS_DROP, NULL);
        zflow_ws_set_verbose (feeds[f], true);
        CHECK (zflow_ws_start (feeds[f]) == 0);
        zflow_msg_t *msg = zflow_msg_new ();
        int count = 0;
        //  4 from the server, then the echo of the on-connect message
        while (count < 5 && zflow_ws_stream_read (stream, msg, 2000) == 0) {
            CHECK (zflow_msg_streq (msg, 0, keys[f]));
            count++;
        }
        CHECK (count == 5 && zflow_msg_streq (msg, 2, "{\"hello\":1}"));
        zflow_ws_set_verbose (feeds[f], false);
        zhash_t *stats = zflow_ws_stats (feeds[f], 2000); //  the pipe is still in step
        CHECK (stats && zflow_actor_stats_get (stats, "published") == 5);
        zhash_destroy (&stats);
        zflow_msg_destroy (&msg);
        zflow_ws_stream_destroy (&stream);
    }
    zflow_ws_destroy (&one);
    zflow_ws_destroy (&two);
}

//  Garbage in: error codes, never a crash.
static void s_test_garbage (void)
{
    int rc = 0;
    CHECK (zflow_ws_new (NULL, &rc) == NULL && rc == ZFLOW_EINVAL);
    CHECK (zflow_ws_new (NULL, NULL) == NULL);
    CHECK (zflow_ws_config_new (NULL) == NULL);
    CHECK (zflow_ws_config_new ("http://example.org/") == NULL);
    zflow_ws_config_t *config = zflow_ws_config_new ("ws://127.0.0.1:1/");
    CHECK (zflow_ws_config_set_name (config, NULL) == ZFLOW_EINVAL);
    CHECK (zflow_ws_config_set_name (config, "") == ZFLOW_EINVAL);
    CHECK (zflow_ws_config_set_name (config, "a\x1f"
                                             "b") == ZFLOW_EINVAL);
    char long_name[300];
    memset (long_name, 'n', sizeof (long_name) - 1);
    long_name[sizeof (long_name) - 1] = 0;
    CHECK (zflow_ws_config_set_name (config, long_name) == ZFLOW_EINVAL);
    CHECK (zflow_ws_config_set_name (NULL, "x") == ZFLOW_EINVAL);
    CHECK (zflow_ws_config_on_close (NULL, NULL, NULL) == ZFLOW_EINVAL);
    //  A feed with the default name, not started.
    CHECK (zflow_ws_config_set_autostart (config, false) == 0);
    zflow_ws_t *feed = zflow_ws_new (config, &rc);
    CHECK (feed && rc == 0 && streq (zflow_ws_endpoint (feed), "inproc://zflow-ws-ws"));
    zflow_ws_t *twin = zflow_ws_new (config, &rc); //  the same endpoint
    CHECK (twin == NULL && rc == ZFLOW_EENDPOINT);
    zflow_ws_config_destroy (&config);
    zflow_ws_config_destroy (&config);
    zflow_ws_config_destroy (NULL);
    CHECK (zflow_ws_stream_filter (NULL, NULL, 0, ZFLOW_WS_DROP, &rc) == NULL &&
           rc == ZFLOW_EINVAL);
    CHECK (zflow_ws_stream_filter (feed, "{nope", 0, ZFLOW_WS_DROP, &rc) == NULL &&
           rc == ZFLOW_EINVAL);
    CHECK (zflow_ws_stream_filter (feed, NULL, 0, -1, &rc) == NULL && rc == ZFLOW_EINVAL);
    zflow_ws_stream_t *stream = zflow_ws_stream_filter (feed, NULL, 0, ZFLOW_WS_DROP, &rc);
    zflow_msg_t *msg = zflow_msg_new ();
    CHECK (zflow_ws_stream_read (NULL, msg, 0) == ZFLOW_EINVAL);
    CHECK (zflow_ws_stream_read (stream, NULL, 0) == ZFLOW_EINVAL);
    CHECK (zflow_ws_stream_read (stream, msg, 0) == ZFLOW_EAGAIN);
    CHECK (zflow_ws_stream_drops (NULL) == 0);
    CHECK (!zflow_ws_stream_binary (NULL));
    CHECK (zflow_ws_stream_stream (NULL) == NULL);
    CHECK (zflow_ws_stream_stream (stream) != NULL);
    zflow_ws_stream_destroy (NULL);
    CHECK (zflow_ws_stats (NULL, 100) == NULL);
    zflow_ws_set_verbose (NULL, true);
    CHECK (zflow_ws_endpoint (NULL) == NULL);
    CHECK (zflow_ws_actor (NULL) == NULL);
    CHECK (!zflow_ws_present (NULL));
    CHECK (zflow_ws_connects (NULL) == 0);
    CHECK (zflow_ws_wait_connected (NULL, 0) == ZFLOW_EINVAL);
    CHECK (zflow_ws_start (NULL) == ZFLOW_EINVAL);
    CHECK (zflow_ws_reconnect (NULL) == ZFLOW_EINVAL);
    CHECK (zflow_ws_send (NULL, "x", 1, false) == ZFLOW_EINVAL);
    CHECK (zflow_ws_send (feed, NULL, 1, false) == ZFLOW_EINVAL);
    CHECK (zflow_ws_exit (NULL) == ZFLOW_ECLOSED);
    CHECK (zflow_ws_flush (NULL, 0) == ZFLOW_EINVAL);
    CHECK (zflow_ws_exit (feed) == 0);
    CHECK (zflow_ws_stream_read (stream, msg, 1000) == ZFLOW_ECLOSED);
    CHECK (zflow_ws_stream_filter (feed, NULL, 0, ZFLOW_WS_DROP, &rc) == NULL &&
           rc == ZFLOW_ECLOSED);
    zflow_msg_destroy (&msg);
    zflow_ws_destroy (&feed);
    zflow_ws_destroy (NULL);
    zflow_ws_stream_destroy (&stream);
}

int main (void)
{
    zsys_init ();
    ws_server_t server;
    if (ws_python_start (&server, NULL, NULL, NULL, NULL)) {
        fprintf (stderr, "cannot start the Python websockets server\n");
        return 1;
    }
    s_port = server.port;
    s_test_stream_first ();
    s_test_feed_first ();
    s_test_zloop ();
    s_test_config_copy ();
    s_test_garbage ();
    ws_server_kill (&server);
    printf ("%s: %d failed checks\n", s_checks_failed ? "FAIL" : "OK", s_checks_failed);
    return s_checks_failed ? 1 : 0;
}
