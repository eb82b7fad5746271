/*  =========================================================================
    test_ws_client - the RFC 6455 client connection against real servers

    Starts the Python websockets server (Debian python3-websockets) on
    127.0.0.1, with and without permessage-deflate and over TLS with a
    self-signed certificate made here, and drives zflow__ws_conn in a zloop.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "ws_testlib.h"
#include "zflow.h"
#include "zflow_ws_client.h"
#include <czmq.h>

//  What the callbacks saw.
typedef struct {
    bool opened;       //  on_open ran
    bool closed;       //  on_closed ran
    int error;         //  its error
    int code;          //  its close code
    char reason[256];  //  its reason
    int pongs;         //  pongs received
    zlist_t *messages; //  received messages as strings, "T:" or "B:" prefixed
    size_t last_size;  //  size of the last message
    bool last_binary;  //  type of the last message
    size_t want;       //  stop the loop after this many messages (0: on close)
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
    s_seen_t *seen = (s_seen_t *) arg;
    char *text = (char *) malloc (size + 3);
    text[0] = binary ? 'B' : 'T';
    text[1] = ':';
    memcpy (text + 2, data, size);
    text[size + 2] = 0;
    zlist_append (seen->messages, text);
    seen->last_size = size;
    seen->last_binary = binary;
}

static void s_on_closed (zflow_ws_conn_t *conn, int error, int code, const char *reason, void *arg)
{
    (void) conn;
    s_seen_t *seen = (s_seen_t *) arg;
    seen->closed = true;
    seen->error = error;
    seen->code = code;
    snprintf (seen->reason, sizeof (seen->reason), "%s", reason);
}

static void s_on_pong (zflow_ws_conn_t *conn, void *arg)
{
    (void) conn;
    ((s_seen_t *) arg)->pongs++;
}

static const zflow_ws_conn_callbacks_t s_callbacks = {s_on_open, s_on_message, s_on_closed,
                                                      s_on_pong};

static int s_check_done (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    s_seen_t *seen = (s_seen_t *) arg;
    if (seen->closed)
        return -1;
    if (seen->want && zlist_size (seen->messages) >= seen->want)
        return -1;
    return 0;
}

static int s_give_up (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    (void) arg;
    return -1;
}

//  Runs loop until want messages arrived (or close), at most ms.
static void s_run (zloop_t *loop, s_seen_t *seen, size_t want, int ms)
{
    seen->want = want;
    int t1 = zloop_timer (loop, 2, 0, s_check_done, seen);
    int t2 = zloop_timer (loop, (size_t) ms, 1, s_give_up, seen);
    zloop_start (loop);
    zloop_timer_end (loop, t1);
    zloop_timer_end (loop, t2);
}

static void s_seen_reset (s_seen_t *seen)
{
    if (seen->messages) {
        char *text;
        while ((text = (char *) zlist_pop (seen->messages)))
            free (text);
        zlist_destroy (&seen->messages);
    }
    memset (seen, 0, sizeof (*seen));
    seen->messages = zlist_new ();
}

//  Opens a connection and runs until it is open (or failed).
static zflow_ws_conn_t *s_open (zloop_t *loop, s_seen_t *seen, zflow_ws_conn_config_t *config)
{
    s_seen_reset (seen);
    char err[256];
    int rc;
    zflow_ws_conn_t *conn =
        zflow__ws_conn_new (loop, config, &s_callbacks, seen, &rc, err, sizeof (err));
    if (!conn) {
        fprintf (stderr, "conn_new: %s (%s)\n", zflow_error_text (rc), err);
        return NULL;
    }
    for (int i = 0; i < 500 && !seen->opened && !seen->closed; i++) {
        int t = zloop_timer (loop, 10, 1, s_give_up, NULL);
        zloop_start (loop);
        zloop_timer_end (loop, t);
    }
    return conn;
}

static const char *s_last (s_seen_t *seen)
{
    return (const char *) zlist_last (seen->messages);
}

//  Echo of text and binary, big compressible text, close 1000.
static void s_test_echo (zloop_t *loop, int port, bool deflate)
{
    char url[128];
    s_seen_t seen = {0};
    zflow_ws_conn_config_t config = {.url = ws_url (url, sizeof (url), "ws", port, "/echo"),
                                     .deflate = true};
    zflow_ws_conn_t *conn = s_open (loop, &seen, &config);
    CHECK (conn && seen.opened);
    if (!conn || !seen.opened)
        return;
    CHECK (zflow__ws_conn_deflate (conn) == deflate);
    CHECK (zflow__ws_conn_send (conn, false, "hello", 5) == 0);
    s_run (loop, &seen, 1, 3000);
    CHECK (zlist_size (seen.messages) == 1 && streq (s_last (&seen), "T:hello"));
    uint8_t bin[5] = {0, 1, 2, 0xff, 0};
    CHECK (zflow__ws_conn_send (conn, true, bin, 5) == 0);
    s_run (loop, &seen, 2, 3000);
    CHECK (seen.last_binary && seen.last_size == 5 && memcmp (s_last (&seen) + 2, bin, 5) == 0);
    //  Not UTF-8: refused locally, connection stays up.
    CHECK (zflow__ws_conn_send (conn, false, "\xff\xfe", 2) == ZFLOW_EPROTO);
    size_t big = 200000;
    char *text = (char *) malloc (big);
    for (size_t i = 0; i < big; i++)
        text[i] = (char) ('a' + (i / 7) % 26);
    CHECK (zflow__ws_conn_send (conn, false, text, big) == 0);
    CHECK (zflow__ws_conn_send (conn, false, text, big) == 0); //  context takeover
    s_run (loop, &seen, 4, 5000);
    CHECK (zlist_size (seen.messages) == 4 && seen.last_size == big &&
           memcmp (s_last (&seen) + 2, text, big) == 0);
    free (text);
    CHECK (zflow__ws_conn_ping (conn, "p", 1) == 0);
    s_run (loop, &seen, 5, 300);
    CHECK (seen.pongs == 1);
    CHECK (zflow__ws_conn_close (conn, 1000, "done") == 0);
    s_run (loop, &seen, 0, 3000);
    CHECK (seen.closed && seen.error == 0 && seen.code == 1000);
    zflow__ws_conn_destroy (&conn);
    s_seen_reset (&seen);
    zlist_destroy (&seen.messages);
}

//  Server-side behaviours: fragments, server ping, close codes, big messages.
static void s_test_server_paths (zloop_t *loop, int port)
{
    char url[128];
    s_seen_t seen = {0};
    zflow_ws_conn_config_t config = {.url = ws_url (url, sizeof (url), "ws", port, "/frag")};
    zflow_ws_conn_t *conn = s_open (loop, &seen, &config);
    s_run (loop, &seen, 1, 3000);
    CHECK (zlist_size (seen.messages) == 1 && streq (s_last (&seen), "T:fragmented"));
    zflow__ws_conn_destroy (&conn);

    config.url = ws_url (url, sizeof (url), "ws", port, "/ping");
    conn = s_open (loop, &seen, &config);
    s_run (loop, &seen, 1, 3000);
    CHECK (zlist_size (seen.messages) == 1 && streq (s_last (&seen), "T:pong-ok"));
    zflow__ws_conn_destroy (&conn);

    config.url = ws_url (url, sizeof (url), "ws", port, "/close/4001");
    conn = s_open (loop, &seen, &config);
    s_run (loop, &seen, 0, 3000);
    CHECK (seen.closed && seen.error == 0 && seen.code == 4001 && streq (seen.reason, "bye"));
    zflow__ws_conn_destroy (&conn);

    config.url = ws_url (url, sizeof (url), "ws", port, "/big/2000");
    config.max_message = 1000;
    conn = s_open (loop, &seen, &config);
    s_run (loop, &seen, 0, 3000);
    CHECK (seen.closed && seen.code == 1009 && seen.error != 0);
    CHECK (zlist_size (seen.messages) == 0);
    zflow__ws_conn_destroy (&conn);
    config.max_message = 0;

    config.url = ws_url (url, sizeof (url), "ws", port, "/big/70000");
    conn = s_open (loop, &seen, &config);
    s_run (loop, &seen, 1, 3000);
    CHECK (seen.last_size == 70000);
    zflow__ws_conn_destroy (&conn);
    s_seen_reset (&seen);
    zlist_destroy (&seen.messages);
}

//  Handshake: custom headers, subprotocols, redirects and refusals.
static void s_test_handshake (zloop_t *loop, int port)
{
    char url[128];
    s_seen_t seen = {0};
    zflow_ws_conn_config_t config = {.url = ws_url (url, sizeof (url), "ws", port, "/headers"),
                                     .headers = "X-Test: 42\r\nX-Other: yes",
                                     .protocols = "nope, chat"};
    zflow_ws_conn_t *conn = s_open (loop, &seen, &config);
    CHECK (conn && seen.opened);
    s_run (loop, &seen, 1, 3000);
    CHECK (zlist_size (seen.messages) == 1);
    if (zlist_size (seen.messages) == 1) {
        CHECK (strstr (s_last (&seen), "\"x-test\": \"42\""));
        CHECK (strstr (s_last (&seen), "\"x-other\": \"yes\""));
    }
    CHECK (conn && streq (zflow__ws_conn_protocol (conn), "chat"));
    zflow__ws_conn_destroy (&conn);

    config = (zflow_ws_conn_config_t){.url = ws_url (url, sizeof (url), "ws", port, "/redirect")};
    conn = s_open (loop, &seen, &config);
    CHECK (seen.closed && seen.error == ZFLOW_EREFUSED && strstr (seen.reason, "redirect"));
    zflow__ws_conn_destroy (&conn);

    config.url = ws_url (url, sizeof (url), "ws", port, "/forbidden");
    conn = s_open (loop, &seen, &config);
    CHECK (seen.closed && seen.error == ZFLOW_EREFUSED && strstr (seen.reason, "403"));
    zflow__ws_conn_destroy (&conn);

    //  Nobody listens on port 1.
    config.url = "ws://127.0.0.1:1/";
    conn = s_open (loop, &seen, &config);
    CHECK (seen.closed && seen.error == ZFLOW_EREFUSED);
    zflow__ws_conn_destroy (&conn);

    int rc;
    config.url = "http://127.0.0.1/";
    CHECK (zflow__ws_conn_new (loop, &config, &s_callbacks, &seen, &rc, NULL, 0) == NULL);
    CHECK (rc == ZFLOW_EINVAL);
    s_seen_reset (&seen);
    zlist_destroy (&seen.messages);
}

//  The server is killed: the client sees an abnormal close (1006).
static void s_test_killed (zloop_t *loop)
{
    ws_server_t server;
    if (ws_python_start (&server, NULL, NULL, NULL, NULL)) {
        CHECK (!"server start");
        return;
    }
    char url[128];
    s_seen_t seen = {0};
    zflow_ws_conn_config_t config = {.url = ws_url (url, sizeof (url), "ws", server.port, "/echo")};
    zflow_ws_conn_t *conn = s_open (loop, &seen, &config);
    CHECK (seen.opened);
    ws_server_kill (&server);
    s_run (loop, &seen, 0, 3000);
    CHECK (seen.closed && seen.code == 1006 && seen.error == ZFLOW_ETRANSPORT);
    zflow__ws_conn_destroy (&conn);
    s_seen_reset (&seen);
    zlist_destroy (&seen.messages);
}

//  wss:// with a self-signed certificate: trusted via ca_file, rejected
//  without it, accepted with verification off.
static void s_test_tls (zloop_t *loop)
{
    char dir[] = "/tmp/zflow-ws-tls-XXXXXX";
    if (!mkdtemp (dir) || ws_make_cert (dir, "good", "IP:127.0.0.1,DNS:localhost") ||
        ws_make_cert (dir, "other", "DNS:other.example")) {
        CHECK (!"openssl req failed");
        return;
    }
    char cert[128], key[128], url[128];
    snprintf (cert, sizeof (cert), "%s/good.pem", dir);
    snprintf (key, sizeof (key), "%s/good-key.pem", dir);
    ws_server_t server;
    if (ws_python_start (&server, "--tls", cert, key, "--deflate")) {
        CHECK (!"tls server start");
        return;
    }
    s_seen_t seen = {0};
    zflow_ws_conn_config_t config = {.url = ws_url (url, sizeof (url), "wss", server.port, "/echo"),
                                     .ca_file = cert,
                                     .deflate = true};
    zflow_ws_conn_t *conn = s_open (loop, &seen, &config);
    CHECK (seen.opened);
    CHECK (conn && zflow__ws_conn_deflate (conn));
    if (seen.opened) {
        CHECK (zflow__ws_conn_send (conn, false, "secure", 6) == 0);
        s_run (loop, &seen, 1, 3000);
        CHECK (zlist_size (seen.messages) == 1 && streq (s_last (&seen), "T:secure"));
        zflow__ws_conn_close (conn, 1000, NULL);
        s_run (loop, &seen, 0, 3000);
        CHECK (seen.closed && seen.error == 0 && seen.code == 1000);
    }
    zflow__ws_conn_destroy (&conn);

    config.ca_file = NULL; //  self-signed, not in the system store
    conn = s_open (loop, &seen, &config);
    CHECK (seen.closed && seen.error == ZFLOW_EREFUSED && strstr (seen.reason, "certificate"));
    zflow__ws_conn_destroy (&conn);

    config.url = ws_url (url, sizeof (url), "wss", server.port, "/echo");
    config.tls_no_verify = true;
    conn = s_open (loop, &seen, &config);
    CHECK (seen.opened);
    zflow__ws_conn_destroy (&conn);

    //  By name: "localhost" is in the certificate (and gets SNI).
    config = (zflow_ws_conn_config_t){
        .url = ws_url (url, sizeof (url), "wss", server.port, "/echo"), .ca_file = cert};
    char by_name[128];
    snprintf (by_name, sizeof (by_name), "wss://localhost:%d/sni", server.port);
    config.url = by_name;
    conn = s_open (loop, &seen, &config);
    CHECK (seen.opened);
    s_run (loop, &seen, 1, 3000);
    CHECK (zlist_size (seen.messages) == 1 && streq (s_last (&seen), "T:localhost"));
    zflow__ws_conn_destroy (&conn);
    config.url = ws_url (url, sizeof (url), "wss", server.port, "/sni");
    conn = s_open (loop, &seen, &config); //  an address: no SNI (RFC 6066)
    s_run (loop, &seen, 1, 3000);
    CHECK (zlist_size (seen.messages) == 1 && streq (s_last (&seen), "T:None"));
    zflow__ws_conn_destroy (&conn);
    ws_server_kill (&server);

    //  Host check: a certificate we trust, but for another name than 127.0.0.1.
    char other_cert[128], other_key[128];
    snprintf (other_cert, sizeof (other_cert), "%s/other.pem", dir);
    snprintf (other_key, sizeof (other_key), "%s/other-key.pem", dir);
    if (ws_python_start (&server, "--tls", other_cert, other_key, NULL)) {
        CHECK (!"tls server start");
        return;
    }
    config = (zflow_ws_conn_config_t){
        .url = ws_url (url, sizeof (url), "wss", server.port, "/echo"), .ca_file = other_cert};
    conn = s_open (loop, &seen, &config);
    printf ("wrong host: %s\n", seen.reason);
    CHECK (seen.closed && !seen.opened && seen.error == ZFLOW_EREFUSED &&
           strstr (seen.reason, "mismatch"));
    zflow__ws_conn_destroy (&conn);
    config.tls_no_verify = true; //  with the checks off it connects
    conn = s_open (loop, &seen, &config);
    CHECK (seen.opened);
    zflow__ws_conn_destroy (&conn);

    ws_server_kill (&server);
    s_seen_reset (&seen);
    zlist_destroy (&seen.messages);
    char cmd[256];
    snprintf (cmd, sizeof (cmd), "rm -rf %s", dir);
    CHECK (system (cmd) == 0);
}

//  Starts Node's ws server (tests/ws/node_server.js). Returns 0, -1 on
//  failure, or 77 when node or the ws package is missing (ctest SKIP).
static int s_node_start (ws_server_t *server, bool deflate)
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
    char *argv[] = {"/usr/bin/env", "node", WS_TEST_DIR "/node_server.js",
                    deflate ? "--deflate" : NULL, NULL};
    return ws_server_start (server, argv);
}

int main (int argc, char *argv[])
{
    zsys_init ();
    bool node = argc > 1 && streq (argv[1], "node");
    zloop_t *loop = zloop_new ();
    for (int deflate = 0; deflate <= 1; deflate++) {
        ws_server_t server;
        int rc = node ? s_node_start (&server, deflate)
                      : ws_python_start (&server, deflate ? "--deflate" : NULL, NULL, NULL, NULL);
        if (rc == 77) {
            zloop_destroy (&loop);
            return 77;
        }
        if (rc) {
            fprintf (stderr, "cannot start the %s server\n", node ? "Node ws" : "Python");
            return 1;
        }
        printf ("%s server, deflate=%d, port %d\n", node ? "node ws" : "python websockets", deflate,
                server.port);
        s_test_echo (loop, server.port, deflate);
        s_test_server_paths (loop, server.port);
        if (!deflate && !node)
            s_test_handshake (loop, server.port);
        ws_server_kill (&server);
    }
    if (!node) {
        s_test_killed (loop);
        s_test_tls (loop);
    }
    zloop_destroy (&loop);
    printf ("%s: %d failed checks\n", s_checks_failed ? "FAIL" : "OK", s_checks_failed);
    return s_checks_failed ? 1 : 0;
}
