/*  =========================================================================
    zflow_bench_ws - WebSocket feed throughput: zflow against Node's ws

    A local server (a child process of this program) writes pre-built
    frames of 64-byte JSON text messages as fast as the socket takes them.
    We measure, in the same run, the time to receive them all:

      ws_plain     zflow (raw parse, one unfiltered stream, read by this
                   thread) against a Node ws client that counts messages
      ws_filtered  zflow (JSON parse, 10 filtered streams, each message
                   matching one) against a Node ws client that JSON.parses
                   each message

    Usage: zflow_bench_ws [messages [zflow|filtered|plain|conn]]   (default
    1000000; "zflow" skips Node, "filtered", "plain" and "conn" run only
    that zflow case: for profiling)
    Ends with RESULT ws_plain ratio=<x> and RESULT ws_filtered ratio=<y>
    (zflow rate over Node rate; 0 when Node or ws is missing).

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "bench_figure.h"
#include "zflow.h"
#include "zflow_ws_client.h"
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_FRAMES_PER_BLOCK 1000
#define S_MSG_SIZE 64

//  Builds message i: {"k":<i%10>,"seq":<i>,"pad":"xxx..."} of 64 bytes.
static void s_message (char *out, int i)
{
    int n = snprintf (out, S_MSG_SIZE + 1, "{\"k\":%d,\"seq\":%d,\"pad\":\"", i % 10, i);
    memset (out + n, 'x', (size_t) (S_MSG_SIZE - n - 2));
    out[S_MSG_SIZE - 2] = '"';
    out[S_MSG_SIZE - 1] = '}';
}

//  Answers the opening handshake on fd. Returns 0 or -1.
static int s_server_handshake (int fd)
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

//  The child: accept one client, write total messages, close, wait for EOF.
static void s_server_child (int listener, int total)
{
    int fd = accept (listener, NULL, NULL);
    if (fd < 0 || s_server_handshake (fd))
        _exit (1);
    //  Wait for the client's "go" (a small text frame): its streams exist.
    char go[64];
    if (read (fd, go, sizeof (go)) <= 0)
        _exit (1);
    size_t frame = 2 + S_MSG_SIZE;
    uint8_t *block = (uint8_t *) malloc (S_FRAMES_PER_BLOCK * frame);
    for (int i = 0; i < S_FRAMES_PER_BLOCK; i++) {
        block[i * frame] = 0x81;
        block[i * frame + 1] = S_MSG_SIZE;
        s_message ((char *) block + i * frame + 2, i);
    }
    for (int sent = 0; sent < total; sent += S_FRAMES_PER_BLOCK) {
        int count = total - sent < S_FRAMES_PER_BLOCK ? total - sent : S_FRAMES_PER_BLOCK;
        size_t size = (size_t) count * frame, off = 0;
        while (off < size) {
            ssize_t n = write (fd, block + off, size - off);
            if (n <= 0)
                _exit (0); //  the client went away
            off += (size_t) n;
        }
    }
    uint8_t close_frame[4] = {0x88, 2, 1000 >> 8, 1000 & 0xff};
    if (write (fd, close_frame, 4) != 4)
        _exit (0);
    char sink[4096];
    while (read (fd, sink, sizeof (sink)) > 0)
        ;
    _exit (0);
}

//  Starts a server child for total messages. Returns its pid, port in *port.
static pid_t s_server_start (int total, int *port)
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
        s_server_child (listener, total);
    close (listener);
    return pid;
}

static void s_server_stop (pid_t pid)
{
    kill (pid, SIGTERM);
    waitpid (pid, NULL, 0);
}

//  zflow: one unfiltered stream (raw parse) or 10 filtered ones (JSON).
//  Returns messages per second, 0 on failure.
static double s_run_zflow (int total, bool filtered)
{
    int port;
    pid_t pid = s_server_start (total, &port);
    char url[64];
    snprintf (url, sizeof (url), "ws://127.0.0.1:%d/", port);
    zflow_ws_config_t *config = zflow_ws_config_new (url);
    zflow_ws_config_set_parse (config, filtered ? ZFLOW_WS_PARSE_JSON : ZFLOW_WS_PARSE_RAW);
    zflow_ws_config_set_deflate (config, false);
    zflow_ws_config_set_backoff (config, 60000, 60000); //  one connection only
    zflow_ws_config_set_autostart (config, false);      //  streams first
    int64_t start = zclock_usecs ();
    zflow_ws_config_set_name (config, filtered ? "bench_f" : "bench_p");
    zflow_ws_t *feed = zflow_ws_new (config, NULL);
    zflow_ws_config_destroy (&config);
    int nstreams = filtered ? 10 : 1;
    zflow_ws_stream_t *streams[10];
    zmq_pollitem_t items[10];
    for (int i = 0; i < nstreams; i++) {
        char filter[32];
        snprintf (filter, sizeof (filter), "{\"k\":%d}", i);
        streams[i] = zflow_ws_stream_filter (feed, filtered ? filter : NULL, 100000,
                                             ZFLOW_WS_BACKPRESSURE, NULL);
        items[i] = (zmq_pollitem_t){
            zsock_resolve (zflow_stream_sock (zflow_ws_stream_stream (streams[i]))), 0, ZMQ_POLLIN,
            0};
    }
    zflow_msg_t *msg = zflow_msg_new ();
    for (int i = 0; i < nstreams; i++)
        zflow_ws_stream_read (streams[i], msg, 0); //  a batch reader from the first message
    zflow_ws_start (feed);
    zflow_ws_wait_connected (feed, 5000);
    zflow_ws_send (feed, "go", 2, false);
    int count = 0;
    while (count < total) {
        //  Poll, then read only the streams that have messages.
        if (zmq_poll (items, nstreams, 5000) <= 0)
            break;
        for (int i = 0; i < nstreams; i++)
            if (items[i].revents & ZMQ_POLLIN)
                while (zflow_ws_stream_read (streams[i], msg, 0) == 0)
                    count++;
    }
    double secs = (double) (zclock_usecs () - start) / 1e6;
    printf ("zflow %-8s %d messages in %.3f s: %.0f msg/s\n", filtered ? "filtered" : "plain",
            count, secs, count / secs);
    zhash_t *stats = zflow_ws_stats (feed, 2000);
    printf ("      (backpressure pauses: %" PRIu64 ", stream drops: %" PRIu64 ")\n",
            zflow_actor_stats_get (stats, "pauses"), zflow_actor_stats_get (stats, "stream_drops"));
    zhash_destroy (&stats);
    zflow_msg_destroy (&msg);
    for (int i = 0; i < nstreams; i++)
        zflow_ws_stream_destroy (&streams[i]);
    zflow_ws_destroy (&feed);
    s_server_stop (pid);
    return count == total ? count / secs : 0;
}

//  The connection alone (zflow__ws_conn in a zloop, counting messages in
//  its callback, no actor and no fan-out): the framing layer against Node.
typedef struct {
    int count;    //  messages received
    int total;    //  messages expected
    bool sent_go; //  "go" sent
} s_conn_count_t;

static void s_conn_open (zflow_ws_conn_t *conn, void *arg)
{
    ((s_conn_count_t *) arg)->sent_go = true;
    zflow__ws_conn_send (conn, false, "go", 2);
}

static void s_conn_message (zflow_ws_conn_t *conn, bool binary, const uint8_t *data, size_t size,
                            void *arg)
{
    (void) conn;
    (void) binary;
    (void) data;
    (void) size;
    ((s_conn_count_t *) arg)->count++;
}

static int s_conn_check (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    s_conn_count_t *state = (s_conn_count_t *) arg;
    return state->count >= state->total ? -1 : 0;
}

static int s_conn_give_up (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    (void) arg;
    return -1;
}

static double s_run_conn (int total)
{
    int port;
    pid_t pid = s_server_start (total, &port);
    char url[64];
    snprintf (url, sizeof (url), "ws://127.0.0.1:%d/", port);
    zloop_t *loop = zloop_new ();
    s_conn_count_t state = {0, total, false};
    zflow_ws_conn_config_t config = {.url = url};
    zflow_ws_conn_callbacks_t callbacks = {s_conn_open, s_conn_message, NULL, NULL};
    int64_t start = zclock_usecs ();
    zflow_ws_conn_t *conn = zflow__ws_conn_new (loop, &config, &callbacks, &state, NULL, NULL, 0);
    zloop_timer (loop, 1, 0, s_conn_check, &state);
    zloop_timer (loop, 30000, 1, s_conn_give_up, NULL);
    zloop_start (loop);
    double secs = (double) (zclock_usecs () - start) / 1e6;
    printf ("zflow conn     %d messages in %.3f s: %.0f msg/s (client alone, no fan-out)\n",
            state.count, secs, state.count / secs);
    zflow__ws_conn_destroy (&conn);
    zloop_destroy (&loop);
    s_server_stop (pid);
    return state.count == total ? state.count / secs : 0;
}

//  Node's ws client, counting (or JSON.parse-ing) each message.
static double s_run_node (int total, bool parse)
{
    int port;
    pid_t pid = s_server_start (total, &port);
    char cmd[1024];
    snprintf (cmd, sizeof (cmd), "node %s/bench_client.js ws://127.0.0.1:%d/ %d %s", WS_TEST_DIR,
              port, total, parse ? "parse" : "count");
    FILE *child = popen (cmd, "r");
    int count = 0;
    double secs = 0;
    if (child) {
        if (fscanf (child, "%d %lf", &count, &secs) != 2)
            count = 0;
        pclose (child);
    }
    s_server_stop (pid);
    if (count != total || secs <= 0) {
        printf ("node ws: failed\n");
        return 0;
    }
    printf ("node  %-8s %d messages in %.3f s: %.0f msg/s\n", parse ? "parse" : "plain", count,
            secs, count / secs);
    return count / secs;
}

int main (int argc, char *argv[])
{
    zsys_init ();
    zsys_set_logstream (NULL);
    int total = argc > 1 ? atoi (argv[1]) : 1000000;
    if (total <= 0)
        total = 1000000;
    //  A second argument "zflow" skips Node (for profiling).
    bool node = argc <= 2 && system ("node --version >/dev/null 2>&1") == 0;
    bool ws = access (WS_TEST_DIR "/node_modules/ws/package.json", R_OK) == 0;
    if (!node && argc > 2)
        printf ("Node skipped on request\n");
    else if (!node)
        printf ("node is not installed: Node figures skipped, ratios are 0\n");
    else if (!ws)
        printf ("Node's ws package is missing (npm install --prefix tests/ws ws): "
                "Node figures skipped, ratios are 0\n");
    const char *only = argc > 2 && !streq (argv[2], "zflow") ? argv[2] : NULL; //  profiling
    double zconn = !only || streq (only, "conn") ? s_run_conn (total) : 0;
    double zplain = !only || streq (only, "plain") ? s_run_zflow (total, false) : 0;
    double nplain = node && ws ? s_run_node (total, false) : 0;
    double zfilt = !only || streq (only, "filtered") ? s_run_zflow (total, true) : 0;
    double nparse = node && ws ? s_run_node (total, true) : 0;
    printf ("conn alone over node plain: %.2f\n", nplain > 0 ? zconn / nplain : 0);
    //  for zflow bench: each figure beside the Node client of the same run
    bench_figure_print ("websocket", "ws_plain", 64, "Node ws client",
                        (bench_spread_t){nplain, nplain, nplain},
                        (bench_spread_t){zplain, zplain, zplain});
    bench_figure_print ("websocket", "ws_filtered_10", 64, "Node ws + JSON.parse",
                        (bench_spread_t){nparse, nparse, nparse},
                        (bench_spread_t){zfilt, zfilt, zfilt});
    printf ("RESULT ws_plain ratio=%.2f\n", nplain > 0 ? zplain / nplain : 0);
    printf ("RESULT ws_filtered ratio=%.2f\n", nparse > 0 ? zfilt / nparse : 0);
    return 0;
}
