/*  =========================================================================
    test_ws_conformance - the client fails each broken peer as RFC 6455 says

    tests/ws/conformance.py writes frames by hand: invalid UTF-8, masked
    server frames, reserved bits and opcodes, over-long and fragmented
    control frames, bad close codes and reasons, orphan continuations,
    oversized messages, bad handshakes. For each, the client must close with
    the right code (1002 protocol error, 1007 invalid data, 1009 too big),
    masked, deliver nothing, and report an error; the server records the
    close it received and returns it on /result. Invalid UTF-8 in a first
    fragment fails at once; control frames and empty fragments between
    fragments, code points split across fragments (with a ping between the
    halves) and across wslay's 4 KiB reads must be taken; a close code
    from the server is echoed.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "ws_testlib.h"
#include "zflow.h"
#include "zflow_ws_client.h"

//  What the callbacks saw.
typedef struct {
    bool opened;      //  handshake done
    bool closed;      //  on_closed ran
    int error;        //  its error
    int code;         //  its code
    int messages;     //  data messages delivered
    char last[4096];  //  the last message (its start)
    size_t last_size; //  its size
} s_seen_t;

static void s_on_open (zflow_ws_conn_t *conn, void *arg)
{
    (void) conn;
    ((s_seen_t *) arg)->opened = true;
}

static void s_on_message (zflow_ws_conn_t *conn, bool binary, const uint8_t *data, size_t size,
                          void *arg)
{
    (void) conn;
    (void) binary;
    s_seen_t *seen = (s_seen_t *) arg;
    seen->messages++;
    seen->last_size = size;
    snprintf (seen->last, sizeof (seen->last), "%.*s", (int) size, (const char *) data);
}

static void s_on_closed (zflow_ws_conn_t *conn, int error, int code, const char *reason, void *arg)
{
    (void) conn;
    (void) reason;
    s_seen_t *seen = (s_seen_t *) arg;
    seen->closed = true;
    seen->error = error;
    seen->code = code;
}

static const zflow_ws_conn_callbacks_t s_callbacks = {s_on_open, s_on_message, s_on_closed, NULL};

static int s_tick (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    s_seen_t *seen = (s_seen_t *) arg;
    return seen->closed || (seen->messages && !seen->closed && seen->code == -1) ? -1 : 0;
}

static int s_give_up (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    (void) arg;
    return -1;
}

//  Connects to path and runs until closed (at most ms).
static zflow_ws_conn_t *s_run_case (zloop_t *loop, int port, const char *path, s_seen_t *seen,
                                    size_t max_message, bool deflate, int ms)
{
    char url[128];
    memset (seen, 0, sizeof (*seen));
    zflow_ws_conn_config_t config = {.url = ws_url (url, sizeof (url), "ws", port, path),
                                     .max_message = max_message,
                                     .deflate = deflate,
                                     .protocols = "chat"};
    zflow_ws_conn_t *conn = zflow__ws_conn_new (loop, &config, &s_callbacks, seen, NULL, NULL, 0);
    int t1 = zloop_timer (loop, 2, 0, s_tick, seen);
    int t2 = zloop_timer (loop, (size_t) ms, 1, s_give_up, NULL);
    zloop_start (loop);
    zloop_timer_end (loop, t1);
    zloop_timer_end (loop, t2);
    return conn;
}

//  Fetches the server's record of the last case into buf.
static void s_result (zloop_t *loop, int port, char *buf, size_t size)
{
    s_seen_t seen;
    zflow_ws_conn_t *conn = s_run_case (loop, port, "/result", &seen, 0, false, 3000);
    snprintf (buf, size, "%.500s", seen.last);
    zflow__ws_conn_destroy (&conn);
}

//  One broken data case: the client must fail it with code.
static void s_expect_fail (zloop_t *loop, int port, const char *path, int code, size_t max,
                           bool deflate)
{
    s_seen_t seen;
    zflow_ws_conn_t *conn = s_run_case (loop, port, path, &seen, max, deflate, 3000);
    char result[512], want[64];
    s_result (loop, port, result, sizeof (result));
    snprintf (want, sizeof (want), "\"close_code\": %d", code);
    bool ok = seen.opened && seen.closed && seen.error != 0 && seen.code == code &&
              seen.messages == 0 && strstr (result, want) && strstr (result, path) &&
              strstr (result, "\"masked\": true");
    printf ("%-14s want %d: client error=%d code=%d msgs=%d; server saw %s%s\n", path, code,
            seen.error, seen.code, seen.messages, result, ok ? "" : "  <-- WRONG");
    CHECK (ok);
    zflow__ws_conn_destroy (&conn);
}

//  A broken handshake: the client must refuse before opening.
static void s_expect_refused (zloop_t *loop, int port, const char *path)
{
    s_seen_t seen;
    zflow_ws_conn_t *conn = s_run_case (loop, port, path, &seen, 0, false, 3000);
    printf ("%-14s handshake: opened=%d error=%s\n", path, seen.opened,
            zflow_error_text (seen.error));
    CHECK (!seen.opened && seen.closed && seen.error == ZFLOW_EPROTO);
    zflow__ws_conn_destroy (&conn);
}

//  Runs the loop until seen has a message, or for at most 3 s.
static void s_wait_message (zloop_t *loop, s_seen_t *seen)
{
    for (int i = 0; i < 300 && !seen->messages && !seen->closed; i++) {
        int t = zloop_timer (loop, 10, 1, s_give_up, NULL);
        zloop_start (loop);
        zloop_timer_end (loop, t);
    }
}

//  A case the client must take: one message that starts with want and has
//  size bytes, then our clean close 1000; pong: the server saw our pong.
static void s_expect_message (zloop_t *loop, int port, const char *path, const char *want,
                              size_t size, bool pong)
{
    s_seen_t seen;
    char url[128];
    memset (&seen, 0, sizeof (seen));
    seen.code = -1;
    zflow_ws_conn_config_t config = {.url = ws_url (url, sizeof (url), "ws", port, path)};
    zflow_ws_conn_t *conn = zflow__ws_conn_new (loop, &config, &s_callbacks, &seen, NULL, NULL, 0);
    s_wait_message (loop, &seen);
    bool ok = seen.messages == 1 && !seen.closed && seen.last_size == size &&
              strncmp (seen.last, want, strlen (want)) == 0;
    zflow__ws_conn_close (conn, 1000, NULL);
    seen.code = 0;
    int t = zloop_timer (loop, 2, 0, s_tick, &seen);
    int t2 = zloop_timer (loop, 3000, 1, s_give_up, NULL);
    zloop_start (loop);
    zloop_timer_end (loop, t);
    zloop_timer_end (loop, t2);
    ok = ok && seen.closed && seen.error == 0 && seen.code == 1000;
    zflow__ws_conn_destroy (&conn);
    char result[512];
    s_result (loop, port, result, sizeof (result));
    ok = ok && strstr (result, "\"close_code\": 1000") && strstr (result, path) &&
         (!pong || strstr (result, "\"pong\": true"));
    printf ("%-14s message of %zu bytes, closed %d; server saw %s%s\n", path, seen.last_size,
            seen.code, result, ok ? "" : "  <-- WRONG");
    CHECK (ok);
}

//  The server closes with 3001 and a reason: the client echoes the code
//  and reports a clean close.
static void s_expect_close_echo (zloop_t *loop, int port)
{
    s_seen_t seen;
    zflow_ws_conn_t *conn = s_run_case (loop, port, "/close3001", &seen, 0, false, 3000);
    char result[512];
    s_result (loop, port, result, sizeof (result));
    bool ok = seen.opened && seen.closed && seen.error == 0 && seen.code == 3001 &&
              strstr (result, "\"close_code\": 3001");
    printf ("/close3001     client error=%d code=%d; server saw %s%s\n", seen.error, seen.code,
            result, ok ? "" : "  <-- WRONG");
    CHECK (ok);
    zflow__ws_conn_destroy (&conn);
}

int main (void)
{
    zsys_init ();
    ws_server_t server;
    char *argv[] = {"/usr/bin/python3", WS_TEST_DIR "/conformance.py", NULL};
    if (ws_server_start (&server, argv)) {
        fprintf (stderr, "cannot start the conformance server\n");
        return 1;
    }
    zloop_t *loop = zloop_new ();
    int port = server.port;
    s_expect_fail (loop, port, "/utf8", 1007, 0, false);
    s_expect_fail (loop, port, "/utf8frag", 1007, 0, false);
    s_expect_fail (loop, port, "/closereason", 1007, 0, false);
    s_expect_fail (loop, port, "/deflatebad", 1007, 0, true);
    s_expect_fail (loop, port, "/masked", 1002, 0, false);
    s_expect_fail (loop, port, "/rsv2", 1002, 0, false);
    s_expect_fail (loop, port, "/rsv1", 1002, 0, false);
    s_expect_fail (loop, port, "/bigping", 1002, 0, false);
    s_expect_fail (loop, port, "/fragping", 1002, 0, false);
    s_expect_fail (loop, port, "/close1005", 1002, 0, false);
    s_expect_fail (loop, port, "/close999", 1002, 0, false);
    s_expect_fail (loop, port, "/close1byte", 1002, 0, false);
    s_expect_fail (loop, port, "/opcode3", 1002, 0, false);
    s_expect_fail (loop, port, "/cont", 1002, 0, false);
    s_expect_fail (loop, port, "/newmsg", 1002, 0, false);
    s_expect_fail (loop, port, "/len64", 1002, 0, false);
    s_expect_fail (loop, port, "/oversize", 1009, 1000, false);
    s_expect_refused (loop, port, "/badaccept");
    s_expect_refused (loop, port, "/noupgrade");
    s_expect_refused (loop, port, "/badext");
    s_expect_refused (loop, port, "/badproto");

    s_expect_fail (loop, port, "/fastfail", 1007, 0, false);
    s_expect_fail (loop, port, "/splitbad", 1007, 0, false);
    s_expect_fail (loop, port, "/deflatecont", 1002, 0, true);
    s_expect_fail (loop, port, "/deflateping", 1002, 0, true);
    s_expect_fail (loop, port, "/opcode11", 1002, 0, false);

    //  Control frames interleaved in a fragmented message are fine, also
    //  between two halves of a code point; so are empty fragments and
    //  code points split at every frame boundary of a long message.
    s_expect_message (loop, port, "/interleave", "interleaved", 11, true);
    s_expect_message (loop, port, "/splitping", "caf\xc3\xa9 \xe2\x82\xac!", 10, true);
    s_expect_message (loop, port, "/emptyfrag", "ab", 2, false);
    s_expect_message (loop, port, "/bigfrag", "\xc3\xa9\xc3\xa9\xc3\xa9", 20000, false);
    s_expect_close_echo (loop, port);

    zloop_destroy (&loop);
    ws_server_kill (&server);
    printf ("%s: %d failed checks\n", s_checks_failed ? "FAIL" : "OK", s_checks_failed);
    return s_checks_failed ? 1 : 0;
}
