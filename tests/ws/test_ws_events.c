/*  =========================================================================
    test_ws_events - close events and message opcodes of a WebSocket feed

    Against the Python websockets server, or Node's ws (argument "node"):
    a server that closes with a chosen code and reason gives that close
    event to the hook and to zflow_ws_last_close; binary and text messages
    (JSON or not) carry their opcode in the meta ("opcode") and out of
    zflow_ws_stream_binary, on batch readers, plain readers and the PUB;
    a message hook sees every message in order and answers it at once.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "ws_testlib.h"
#include "zflow.h"
#include <pthread.h>

//  What the close hook saw (written in the actor thread).
typedef struct {
    pthread_mutex_t lock; //  guards the rest
    int calls;            //  close events
    int code;             //  the first one's code
    int error;            //  its error
    char reason[128];     //  its reason
} s_closes_t;

static void s_on_close (int code, const char *reason, int error, void *arg)
{
    s_closes_t *closes = (s_closes_t *) arg;
    pthread_mutex_lock (&closes->lock);
    if (closes->calls++ == 0) {
        closes->code = code;
        closes->error = error;
        snprintf (closes->reason, sizeof (closes->reason), "%s", reason);
    }
    pthread_mutex_unlock (&closes->lock);
}

static int s_calls (s_closes_t *closes)
{
    pthread_mutex_lock (&closes->lock);
    int calls = closes->calls;
    pthread_mutex_unlock (&closes->lock);
    return calls;
}

static zflow_ws_t *s_feed (const char *name, int port, const char *path, bool autostart,
                           s_closes_t *closes)
{
    char url[128];
    zflow_ws_config_t *config = zflow_ws_config_new (ws_url (url, sizeof (url), "ws", port, path));
    zflow_ws_config_set_name (config, name);
    zflow_ws_config_set_backoff (config, 60000, 60000); //  one connection only
    zflow_ws_config_set_autostart (config, autostart);
    if (closes)
        zflow_ws_config_on_close (config, s_on_close, closes);
    zflow_ws_t *feed = zflow_ws_new (config, NULL);
    zflow_ws_config_destroy (&config);
    return feed;
}

//  The server closes with 4001 "maintenance": the hook and last_close say so.
static void s_test_close_event (int port)
{
    s_closes_t closes = {.lock = PTHREAD_MUTEX_INITIALIZER};
    zflow_ws_t *feed = s_feed ("closing", port, "/close/4001/maintenance", false, &closes);
    CHECK (feed);
    if (!feed)
        return;
    char reason[64] = "x";
    CHECK (zflow_ws_last_close (feed, reason, sizeof (reason)) == 0 && streq (reason, ""));
    CHECK (zflow_ws_last_close (NULL, reason, sizeof (reason)) == ZFLOW_EINVAL);
    CHECK (zflow_ws_last_close (feed, NULL, 8) == ZFLOW_EINVAL);
    CHECK (zflow_ws_start (feed) == 0);
    for (int i = 0; i < 300 && s_calls (&closes) == 0; i++)
        zclock_sleep (10);
    CHECK (s_calls (&closes) == 1);
    CHECK (closes.code == 4001);
    CHECK (closes.error == 0); //  a clean close handshake
    CHECK (streq (closes.reason, "maintenance"));
    CHECK (zflow_ws_last_close (feed, reason, sizeof (reason)) == 4001);
    CHECK (streq (reason, "maintenance"));
    CHECK (zflow_ws_last_close (feed, reason, 4) == 4001 && streq (reason, "mai"));
    CHECK (zflow_ws_last_close (feed, NULL, 0) == 4001);
    zhash_t *stats = zflow_ws_stats (feed, 2000);
    CHECK (stats && zflow_actor_stats_get (stats, "closes") == 1);
    zhash_destroy (&stats);
    zflow_ws_destroy (&feed);
    CHECK (s_calls (&closes) == 1); //  our own exit had no connection to close
}

//  The four messages of /mixed: payload, binary, content type.
static const struct {
    const char *payload;      //  the message
    size_t size;              //  its size
    bool binary;              //  sent in a binary frame
    const char *content_type; //  what the meta says
} s_mixed[4] = {
    {"{\"b\":1}", 7, true, "application/json"},
    {"hello", 5, false, "text/plain"},
    {"\x00\x01\x02", 3, true, "application/octet-stream"},
    {"{\"t\":1}", 7, false, "application/json"},
};

//  True when msg is envelope i of /mixed with the right meta.
static bool s_is_mixed (zflow_msg_t *msg, int i)
{
    if (zflow_msg_size (msg) != 3 || zflow_msg_part_size (msg, 2) != s_mixed[i].size ||
        memcmp (zflow_msg_data (msg, 2), s_mixed[i].payload, s_mixed[i].size) != 0)
        return false;
    zflow_meta_t *meta = zflow_meta_new ();
    bool ok = zflow_meta_decode (meta, zflow_msg_data (msg, 1), zflow_msg_part_size (msg, 1)) == 0;
    const char *opcode = ok ? zflow_meta_get (meta, ZFLOW_WS_META_OPCODE) : NULL;
    ok = ok && opcode && streq (opcode, s_mixed[i].binary ? "binary" : "text") &&
         streq (zflow_meta_content_type (meta), s_mixed[i].content_type) &&
         zflow_meta_seq (meta) == (uint64_t) i + 1;
    zflow_meta_destroy (&meta);
    return ok;
}

//  One binary and one text message (and one of each more): the opcode
//  reaches batch readers, plain readers and PUB subscribers.
static void s_test_opcodes (int port)
{
    zflow_ws_t *feed = s_feed ("mixed", port, "/mixed", false, NULL);
    CHECK (feed);
    if (!feed)
        return;
    zflow_ws_stream_t *batched = zflow_ws_stream_filter (feed, NULL, 100, ZFLOW_WS_DROP, NULL);
    zflow_ws_stream_t *plain = zflow_ws_stream_filter (feed, NULL, 100, ZFLOW_WS_DROP, NULL);
    zflow_ws_stream_t *binary =
        zflow_ws_stream_filter (feed, "{\"b\":1}", 100, ZFLOW_WS_DROP, NULL);
    zsock_t *sub = zsock_new_sub (zflow_ws_endpoint (feed), "");
    zflow_msg_t *msg = zflow_msg_new ();
    CHECK (zflow_ws_stream_read (batched, msg, 0) == ZFLOW_EAGAIN); //  a batch reader
    CHECK (!zflow_ws_stream_binary (batched));
    zclock_sleep (50); //  the SUB subscription reaches the PUB
    CHECK (zflow_ws_start (feed) == 0);
    for (int i = 0; i < 4; i++) {
        CHECK (zflow_ws_stream_read (batched, msg, 2000) == 0 && s_is_mixed (msg, i));
        CHECK (zflow_ws_stream_binary (batched) == s_mixed[i].binary);
    }
    //  A reader of the plain stream (zflow_stream_read only) gets singles.
    zflow_stream_t *stream = zflow_ws_stream_stream (plain);
    for (int i = 0; i < 4; i++)
        CHECK (zflow_stream_read (stream, msg, 2000) == 0 && s_is_mixed (msg, i));
    //  A filter matches JSON in a binary frame.
    CHECK (zflow_ws_stream_read (binary, msg, 2000) == 0 && s_is_mixed (msg, 0));
    CHECK (zflow_ws_stream_binary (binary));
    CHECK (zflow_ws_stream_read (binary, msg, 100) == ZFLOW_ETIMEDOUT);
    for (int i = 0; i < 4; i++) {
        zmsg_t *published = zmsg_recv (sub);
        zflow_msg_reset (msg);
        for (zframe_t *frame = published ? zmsg_first (published) : NULL; frame;
             frame = zmsg_next (published))
            zflow_msg_add (msg, zframe_data (frame), zframe_size (frame));
        CHECK (s_is_mixed (msg, i));
        zmsg_destroy (&published);
    }
    //  Sent by us and echoed: the opcode of each way back.
    CHECK (zflow_ws_send (feed, "\xff", 1, true) == 0);
    CHECK (zflow_ws_send (feed, "text", 4, false) == 0);
    CHECK (zflow_ws_stream_read (batched, msg, 2000) == 0 && zflow_ws_stream_binary (batched));
    CHECK (zflow_ws_stream_read (batched, msg, 2000) == 0 && !zflow_ws_stream_binary (batched));
    zflow_msg_destroy (&msg);
    zsock_destroy (&sub);
    zflow_ws_stream_destroy (&batched);
    zflow_ws_stream_destroy (&plain);
    zflow_ws_stream_destroy (&binary);
    zflow_ws_destroy (&feed);
}

//  Starts Node's ws server. Returns 0, -1, or 77 when node or its ws
//  package is missing (ctest SKIP).
static int s_node_start (ws_server_t *server)
{
    if (system ("node --version >/dev/null 2>&1") != 0) {
        printf ("SKIP: node is not installed\n");
        return 77;
    }
    if (access (WS_TEST_DIR "/node_modules/ws/package.json", R_OK) != 0) {
        printf ("SKIP: Node's ws package is missing; install it with: "
                "npm install --prefix tests/ws ws\n");
        return 77;
    }
    char *argv[] = {"/usr/bin/env", "node", WS_TEST_DIR "/node_server.js", NULL};
    return ws_server_start (server, argv);
}

//  What the message hook saw (written in the actor thread, read after
//  the feed is destroyed).
typedef struct {
    int count;        //  messages seen
    bool binary[8];   //  their opcodes
    size_t size[8];   //  their sizes
    char data[8][16]; //  their first bytes
    int send_errors;  //  replies zflow_ws_out_send refused
} s_hooked_t;

//  Echoes the four messages of /mixed back from the actor thread (the
//  server echoes them again: eight in all) and refuses to answer NULL.
static int s_on_message (zflow_ws_out_t *out, const void *data, size_t size, bool binary, void *arg)
{
    s_hooked_t *hooked = (s_hooked_t *) arg;
    int i = hooked->count++;
    if (i >= 8)
        return 0;
    hooked->binary[i] = binary;
    hooked->size[i] = size;
    memcpy (hooked->data[i], data, size < 16 ? size : 16);
    if (zflow_ws_out_send (NULL, data, size, binary) != ZFLOW_EINVAL)
        hooked->send_errors++;
    if (i < 4 && zflow_ws_out_send (out, data, size, binary) != 0)
        hooked->send_errors++;
    return i == 7; //  one handler error, counted
}

//  The message hook sees every message in order with its opcode and
//  answers on the same connection.
static void s_test_message_hook (int port)
{
    CHECK (zflow_ws_config_on_message (NULL, s_on_message, NULL) == ZFLOW_EINVAL);
    s_hooked_t hooked = {0};
    char url[128];
    zflow_ws_config_t *config =
        zflow_ws_config_new (ws_url (url, sizeof (url), "ws", port, "/mixed"));
    zflow_ws_config_set_name (config, "hooked");
    CHECK (zflow_ws_config_on_message (config, s_on_message, &hooked) == 0);
    zflow_ws_t *feed = zflow_ws_new (config, NULL);
    zflow_ws_config_destroy (&config);
    CHECK (feed);
    if (!feed)
        return;
    uint64_t errors = 0;
    for (int i = 0; i < 300 && errors == 0; i++) {
        zclock_sleep (10);
        zhash_t *stats = zflow_ws_stats (feed, 2000);
        errors = stats ? zflow_actor_stats_get (stats, "handler_errors") : 0;
        zhash_destroy (&stats);
    }
    zflow_ws_destroy (&feed); //  no hook runs after this
    CHECK (errors == 1);
    CHECK (hooked.count == 8 && hooked.send_errors == 0);
    for (int i = 0; i < 8 && hooked.count == 8; i++) {
        CHECK (hooked.binary[i] == s_mixed[i % 4].binary);
        CHECK (hooked.size[i] == s_mixed[i % 4].size &&
               memcmp (hooked.data[i], s_mixed[i % 4].payload, s_mixed[i % 4].size) == 0);
    }
}

int main (int argc, char *argv[])
{
    zsys_init ();
    bool node = argc > 1 && streq (argv[1], "node");
    ws_server_t server;
    int rc = node ? s_node_start (&server) : ws_python_start (&server, NULL, NULL, NULL, NULL);
    if (rc == 77)
        return 77;
    if (rc) {
        fprintf (stderr, "cannot start the %s server\n", node ? "Node ws" : "Python");
        return 1;
    }
    s_test_close_event (server.port);
    s_test_opcodes (server.port);
    s_test_message_hook (server.port);
    ws_server_kill (&server);
    printf ("%s (%s): %d failed checks\n", s_checks_failed ? "FAIL" : "OK",
            node ? "node ws" : "python websockets", s_checks_failed);
    return s_checks_failed ? 1 : 0;
}
