/*  =========================================================================
    test_ws_batch - streams receive batches, readers see one message at a time

    A raw server (a child process) writes bursts of frames, each burst in
    one write, so the feed reads many messages at once. Checks the batch
    form on the pipe (key, meta with "batch", index, data), the envelopes
    zflow_ws_stream_read hands out (order and seq across batches, content
    type per message), the batch size setting (1 = plain envelopes), DROP
    accounting per message inside batches, BACKPRESSURE without loss, and
    exit with a half-read batch.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "ws_testlib.h"
#include "zflow.h"
#include "zflow_ws_internal.h"
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <sys/socket.h>

#define S_BURSTS 5
#define S_PER_BURST 100
#define S_TOTAL (S_BURSTS * S_PER_BURST)

//  Message i is JSON but for two in 50: one plain text, one empty.
static bool s_is_json (int i)
{
    return i % 50 != 49 && i % 50 != 24;
}

//  Message i: JSON {"k":i%3,"seq":i}, or plain text, or empty.
static int s_message (char *out, size_t size, int i)
{
    if (i % 50 == 24) {
        *out = 0;
        return 0;
    }
    if (i % 50 == 49)
        return snprintf (out, size, "plain text %d", i);
    return snprintf (out, size, "{\"k\":%d,\"seq\":%d}", i % 3, i);
}

//  Answers the opening handshake on fd. Returns 0 or -1.
static int s_handshake (int fd)
{
    char request[8192];
    size_t got = 0;
    while (got < sizeof (request) - 1) {
        ssize_t n = read (fd, request + got, sizeof (request) - 1 - got);
        if (n <= 0)
            return -1;
        got += (size_t) n;
        request[got] = 0;
        if (strstr (request, "\r\n\r\n"))
            break;
    }
    char *key = strcasestr (request, "Sec-WebSocket-Key:");
    if (!key)
        return -1;
    key += 18;
    while (*key == ' ')
        key++;
    char joined[128];
    snprintf (joined, sizeof (joined), "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
              (int) strcspn (key, "\r\n"), key);
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1 ((unsigned char *) joined, strlen (joined), digest);
    char accept[64];
    EVP_EncodeBlock ((unsigned char *) accept, digest, sizeof (digest));
    char response[256];
    int n = snprintf (response, sizeof (response),
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                      accept);
    return write (fd, response, (size_t) n) == n ? 0 : -1;
}

//  The child: waits for the client's first frame, writes S_BURSTS bursts
//  of S_PER_BURST frames (one write each, 30 ms apart), then a close.
static void s_server_child (int listener)
{
    int fd = accept (listener, NULL, NULL);
    char go[64];
    if (fd < 0 || s_handshake (fd) || read (fd, go, sizeof (go)) <= 0)
        _exit (1);
    uint8_t burst[S_PER_BURST * 40];
    for (int b = 0; b < S_BURSTS; b++) {
        size_t size = 0;
        for (int i = b * S_PER_BURST; i < (b + 1) * S_PER_BURST; i++) {
            char text[32];
            int n = s_message (text, sizeof (text), i);
            burst[size++] = 0x81;
            burst[size++] = (uint8_t) n;
            memcpy (burst + size, text, (size_t) n);
            size += (size_t) n;
        }
        if (write (fd, burst, size) != (ssize_t) size)
            _exit (0);
        usleep (30000);
    }
    uint8_t close_frame[4] = {0x88, 2, 1000 >> 8, 1000 & 0xff};
    if (write (fd, close_frame, 4) != 4)
        _exit (0);
    while (read (fd, go, sizeof (go)) > 0)
        ;
    _exit (0);
}

//  Starts a server child; returns its pid and the port in *port.
static pid_t s_server_start (int *port)
{
    int listener = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    socklen_t len = sizeof (addr);
    if (bind (listener, (struct sockaddr *) &addr, len) || listen (listener, 4) ||
        getsockname (listener, (struct sockaddr *) &addr, &len))
        return -1;
    *port = ntohs (addr.sin_port);
    pid_t pid = fork ();
    if (pid == 0)
        s_server_child (listener);
    close (listener);
    return pid;
}

static void s_server_stop (pid_t pid)
{
    kill (pid, SIGTERM);
    waitpid (pid, NULL, 0);
}

//  A feed on a fresh server, not started (streams first). batch 0: default.
static zflow_ws_t *s_feed (const char *name, size_t batch, pid_t *pid)
{
    int port = 0;
    *pid = s_server_start (&port);
    char url[64];
    snprintf (url, sizeof (url), "ws://127.0.0.1:%d/", port);
    zflow_ws_config_t *config = zflow_ws_config_new (url);
    zflow_ws_config_set_deflate (config, false);
    zflow_ws_config_set_backoff (config, 60000, 60000); //  one connection only
    zflow_ws_config_set_autostart (config, false);
    if (batch)
        zflow_ws_config_set_batch (config, batch);
    zflow_ws_config_set_name (config, name);
    zflow_ws_t *feed = zflow_ws_new (config, NULL);
    zflow_ws_config_destroy (&config);
    return feed;
}

static void s_go (zflow_ws_t *feed)
{
    zflow_ws_start (feed);
    CHECK (zflow_ws_wait_connected (feed, 3000) == 0);
    zflow_ws_send (feed, "go", 2, false);
}

static uint64_t s_stat (zflow_ws_t *feed, const char *name)
{
    zhash_t *stats = zflow_ws_stats (feed, 2000);
    uint64_t value = zflow_actor_stats_get (stats, name);
    zhash_destroy (&stats);
    return value;
}

//  Waits until the feed has taken every message in.
static void s_wait_published (zflow_ws_t *feed)
{
    for (int i = 0; i < 300 && s_stat (feed, "published") < S_TOTAL; i++)
        zclock_sleep (10);
    CHECK (s_stat (feed, "published") == S_TOTAL);
}

static uint64_t s_be (const uint8_t *bytes, size_t size)
{
    uint64_t value = 0;
    for (size_t i = 0; i < size; i++)
        value = (value << 8) | bytes[i];
    return value;
}

//  Checks one envelope handed out: message i with seq i + 1.
static bool s_is_message (zflow_msg_t *msg, const char *name, int i)
{
    char want[32], key[64];
    s_message (want, sizeof (want), i);
    snprintf (key, sizeof (key), "ws\x1f%s", name);
    zflow_meta_t *meta = zflow_meta_new ();
    bool ok =
        zflow_msg_size (msg) == 3 && zflow_msg_streq (msg, 0, key) &&
        zflow_msg_streq (msg, 2, want) &&
        zflow_meta_decode (meta, zflow_msg_data (msg, 1), zflow_msg_part_size (msg, 1)) == 0 &&
        zflow_meta_seq (meta) == (uint64_t) i + 1 && streq (zflow_meta_source (meta), name) &&
        zflow_meta_timestamp (meta) > 0 && zflow_meta_get (meta, "batch") == NULL &&
        streq (zflow_meta_content_type (meta), s_is_json (i) ? "application/json" : "text/plain");
    zflow_meta_destroy (&meta);
    return ok;
}

//  The envelopes: every message in order across batches, filtered ones too;
//  the pipe carries batches (read raw on a third stream).
static void s_test_order (void)
{
    pid_t pid;
    zflow_ws_t *feed = s_feed ("order", 0, &pid);
    zflow_ws_stream_t *all = zflow_ws_stream_filter (feed, NULL, 10000, ZFLOW_WS_DROP, NULL);
    zflow_ws_stream_t *ones =
        zflow_ws_stream_filter (feed, "{\"k\":1}", 10000, ZFLOW_WS_DROP, NULL);
    zflow_ws_stream_t *raw = zflow_ws_stream_filter (feed, NULL, 10000, ZFLOW_WS_DROP, NULL);
    zflow_msg_t *msg = zflow_msg_new ();
    //  A reader gets batches once it has called zflow_ws_stream_read.
    CHECK (zflow_ws_stream_read (raw, msg, 0) == ZFLOW_EAGAIN);
    s_go (feed);
    int count = 0;
    while (count < S_TOTAL && zflow_ws_stream_read (all, msg, 2000) == 0) {
        CHECK (s_is_message (msg, "order", count));
        count++;
    }
    CHECK (count == S_TOTAL);
    int expect = 1;
    while (expect < S_TOTAL && zflow_ws_stream_read (ones, msg, 500) == 0) {
        CHECK (s_is_message (msg, "order", expect));
        expect += 3;
        while (!s_is_json (expect))
            expect += 3; //  not JSON: only unfiltered streams get it
    }
    CHECK (expect >= S_TOTAL);
    //  The batch form, read as plain ZeroMQ messages.
    size_t batches = 0, biggest = 0, messages = 0;
    uint64_t next_seq = 1;
    while (zflow_stream_read (zflow_ws_stream_stream (raw), msg, 200) == 0 &&
           zflow_msg_size (msg) == 4) {
        zflow_meta_t *meta = zflow_meta_new ();
        CHECK (zflow_meta_decode (meta, zflow_msg_data (msg, 1), zflow_msg_part_size (msg, 1)) ==
               0);
        size_t n =
            (size_t) atoi (zflow_meta_get (meta, "batch") ? zflow_meta_get (meta, "batch") : "0");
        CHECK (n > 0 && zflow_msg_part_size (msg, 2) == n * ZFLOW_WS_BATCH_ENTRY);
        CHECK (zflow_meta_seq (meta) == next_seq);
        const uint8_t *index = (const uint8_t *) zflow_msg_data (msg, 2);
        size_t total = 0;
        for (size_t i = 0; i < n; i++) {
            CHECK (s_be (index + i * ZFLOW_WS_BATCH_ENTRY, 8) == next_seq++);
            total += s_be (index + i * ZFLOW_WS_BATCH_ENTRY + 8, 4);
        }
        CHECK (total == zflow_msg_part_size (msg, 3));
        zflow_meta_destroy (&meta);
        batches++;
        messages += n;
        biggest = n > biggest ? n : biggest;
    }
    CHECK (messages == S_TOTAL);
    CHECK (biggest > 1 && biggest <= ZFLOW_WS_BATCH_DEFAULT);
    CHECK (batches < S_TOTAL);
    printf ("order: %zu batches, biggest %zu\n", batches, biggest);
    zflow_msg_destroy (&msg);
    zflow_ws_stream_destroy (&all);
    zflow_ws_stream_destroy (&ones);
    zflow_ws_stream_destroy (&raw);
    zflow_ws_destroy (&feed);
    s_server_stop (pid);
}

//  set_batch: at most that many per batch; 1 gives plain envelopes.
static void s_test_batch_size (void)
{
    for (int round = 0; round < 2; round++) {
        size_t limit = round == 0 ? 7 : 1;
        pid_t pid;
        zflow_ws_t *feed = s_feed ("size", limit, &pid);
        zflow_ws_stream_t *raw = zflow_ws_stream_filter (feed, NULL, 10000, ZFLOW_WS_DROP, NULL);
        zflow_msg_t *msg = zflow_msg_new ();
        CHECK (zflow_ws_stream_read (raw, msg, 0) == ZFLOW_EAGAIN);
        s_go (feed);
        s_wait_published (feed);
        size_t messages = 0;
        bool within = true;
        while (zflow_stream_read (zflow_ws_stream_stream (raw), msg, 200) == 0 &&
               zflow_msg_size (msg) >= 3) {
            if (limit == 1) {
                within = within && zflow_msg_size (msg) == 3 &&
                         s_is_message (msg, "size", (int) messages);
                messages++;
            } else {
                size_t n = zflow_msg_part_size (msg, 2) / ZFLOW_WS_BATCH_ENTRY;
                within = within && zflow_msg_size (msg) == 4 && n >= 1 && n <= limit;
                messages += n;
            }
        }
        CHECK (within);
        CHECK (messages == S_TOTAL);
        zflow_msg_destroy (&msg);
        zflow_ws_stream_destroy (&raw);
        zflow_ws_destroy (&feed);
        s_server_stop (pid);
    }
    zflow_ws_config_t *config = zflow_ws_config_new ("ws://127.0.0.1:1/");
    CHECK (zflow_ws_config_set_batch (config, 0) == ZFLOW_EINVAL);
    CHECK (zflow_ws_config_set_batch (config, 65537) == ZFLOW_EINVAL);
    zflow_ws_config_destroy (&config);
}

//  Readers that use only zflow_stream_read get plain envelopes, as before
//  batches existed (by default, and with batches of one): the pipe bounds
//  DROP streams, BACKPRESSURE loses nothing.
static void s_test_plain_readers (size_t batch)
{
    pid_t pid;
    zflow_ws_t *feed = s_feed ("plainread", batch, &pid);
    zflow_ws_stream_t *small = zflow_ws_stream_filter (feed, NULL, 10, ZFLOW_WS_DROP, NULL);
    zflow_ws_stream_t *slow = zflow_ws_stream_filter (feed, NULL, 5, ZFLOW_WS_BACKPRESSURE, NULL);
    s_go (feed);
    zflow_msg_t *msg = zflow_msg_new ();
    int count = 0;
    while (count < S_TOTAL && zflow_stream_read (zflow_ws_stream_stream (slow), msg, 2000) == 0) {
        CHECK (s_is_message (msg, "plainread", count));
        count++;
        if (count % 20 == 0)
            zclock_sleep (10);
    }
    CHECK (count == S_TOTAL);
    int got = 0;
    while (zflow_stream_read (zflow_ws_stream_stream (small), msg, 100) == 0 &&
           zflow_msg_size (msg) == 3)
        got++;
    uint64_t drops = zflow_ws_stream_drops (small);
    CHECK (got >= 10 && got < S_TOTAL && (uint64_t) got + drops == S_TOTAL);
    CHECK (zflow_ws_stream_drops (slow) == 0);
    zflow_msg_destroy (&msg);
    zflow_ws_stream_destroy (&small);
    zflow_ws_stream_destroy (&slow);
    zflow_ws_destroy (&feed);
    s_server_stop (pid);
}

//  DROP counts per message: a queue of 10 unread keeps exactly the first
//  10 of 500, whatever the batches; BACKPRESSURE loses none, in order.
static void s_test_policies (void)
{
    pid_t pid;
    zflow_ws_t *feed = s_feed ("policies", 0, &pid);
    zflow_ws_stream_t *small = zflow_ws_stream_filter (feed, NULL, 10, ZFLOW_WS_DROP, NULL);
    zflow_ws_stream_t *slow = zflow_ws_stream_filter (feed, NULL, 10, ZFLOW_WS_BACKPRESSURE, NULL);
    zflow_msg_t *msg = zflow_msg_new ();
    //  Both readers use zflow_ws_stream_read from the start: batches, bounds
    //  counted per message.
    CHECK (zflow_ws_stream_read (small, msg, 0) == ZFLOW_EAGAIN);
    CHECK (zflow_ws_stream_read (slow, msg, 0) == ZFLOW_EAGAIN);
    s_go (feed);
    //  The slow stream holds the feed back: read it slowly, in order.
    int count = 0;
    while (count < S_TOTAL && zflow_ws_stream_read (slow, msg, 2000) == 0) {
        CHECK (s_is_message (msg, "policies", count));
        count++;
        if (count % 20 == 0)
            zclock_sleep (10); //  slower than the server: the feed must wait
    }
    CHECK (count == S_TOTAL);
    CHECK (zflow_ws_stream_drops (slow) == 0);
    CHECK (s_stat (feed, "pauses") > 0);
    int got = 0;
    while (zflow_ws_stream_read (small, msg, 100) == 0) {
        CHECK (s_is_message (msg, "policies", got));
        got++;
    }
    CHECK (got == 10);
    CHECK (zflow_ws_stream_drops (small) == S_TOTAL - 10);
    CHECK (s_stat (feed, "stream_drops") == S_TOTAL - 10);
    zflow_msg_destroy (&msg);
    zflow_ws_stream_destroy (&small);
    zflow_ws_stream_destroy (&slow);
    zflow_ws_destroy (&feed);
    s_server_stop (pid);
}

//  Exit with batches half read: the rest is handed out, then ECLOSED; a
//  stream closed with a batch half read frees it.
static void s_test_exit (void)
{
    pid_t pid;
    zflow_ws_t *feed = s_feed ("exit", 0, &pid);
    zflow_ws_stream_t *stream = zflow_ws_stream_filter (feed, NULL, 10000, ZFLOW_WS_DROP, NULL);
    zflow_ws_stream_t *other = zflow_ws_stream_filter (feed, NULL, 10000, ZFLOW_WS_DROP, NULL);
    zflow_msg_t *msg = zflow_msg_new ();
    CHECK (zflow_ws_stream_read (stream, msg, 0) == ZFLOW_EAGAIN); //  batches, please
    CHECK (zflow_ws_stream_read (other, msg, 0) == ZFLOW_EAGAIN);
    s_go (feed);
    s_wait_published (feed);
    CHECK (zflow_ws_stream_read (stream, msg, 1000) == 0 && s_is_message (msg, "exit", 0));
    CHECK (zflow_ws_stream_read (other, msg, 1000) == 0 && s_is_message (msg, "exit", 0));
    zflow_ws_stream_destroy (&other);
    CHECK (zflow_ws_exit (feed) == 0);
    int count = 1;
    int rc;
    while ((rc = zflow_ws_stream_read (stream, msg, 1000)) == 0) {
        CHECK (s_is_message (msg, "exit", count));
        count++;
    }
    CHECK (rc == ZFLOW_ECLOSED && count == S_TOTAL);
    CHECK (zflow_ws_stream_read (stream, msg, 0) == ZFLOW_ECLOSED);
    zflow_msg_destroy (&msg);
    zflow_ws_stream_destroy (&stream);
    zflow_ws_destroy (&feed);
    s_server_stop (pid);
}

static void *s_reader (void *arg)
{
    zflow_msg_t *msg = zflow_msg_new ();
    intptr_t count = 0;
    int rc;
    while ((rc = zflow_ws_stream_read ((zflow_ws_stream_t *) arg, msg, 2000)) == 0)
        if (count++ % 10 == 0)
            zclock_sleep (3); //  still reading when the feed is destroyed
    zflow_msg_destroy (&msg);
    return (void *) (rc == ZFLOW_ECLOSED ? count : -1);
}

//  The feed destroyed while a reader still works through its batches: it
//  gets every message, then ECLOSED; streams are freed after the feed.
static void s_test_destroy_while_reading (void)
{
    pid_t pid;
    zflow_ws_t *feed = s_feed ("destroy", 0, &pid);
    zflow_ws_stream_t *stream = zflow_ws_stream_filter (feed, NULL, 10000, ZFLOW_WS_DROP, NULL);
    zflow_ws_stream_t *unread = zflow_ws_stream_filter (feed, NULL, 10000, ZFLOW_WS_DROP, NULL);
    zflow_msg_t *msg = zflow_msg_new ();
    CHECK (zflow_ws_stream_read (stream, msg, 0) == ZFLOW_EAGAIN); //  batches, please
    CHECK (zflow_ws_stream_read (unread, msg, 0) == ZFLOW_EAGAIN);
    zflow_msg_destroy (&msg);
    s_go (feed);
    s_wait_published (feed);
    pthread_t thread;
    pthread_create (&thread, NULL, s_reader, stream);
    zclock_sleep (2);
    zflow_ws_destroy (&feed);
    void *result = NULL;
    pthread_join (thread, &result);
    CHECK ((intptr_t) result == S_TOTAL);
    zflow_ws_stream_destroy (&stream);
    zflow_ws_stream_destroy (&unread);
    CHECK (unread == NULL);
    s_server_stop (pid);
}

int main (void)
{
    zsys_init ();
    s_test_order ();
    s_test_batch_size ();
    s_test_policies ();
    s_test_plain_readers (0);
    s_test_plain_readers (1);
    s_test_exit ();
    s_test_destroy_while_reading ();
    printf ("%s: %d failed checks\n", s_checks_failed ? "FAIL" : "OK", s_checks_failed);
    return s_checks_failed ? 1 : 0;
}
