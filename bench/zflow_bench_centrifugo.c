/*  =========================================================================
    zflow_bench_centrifugo - publish rate of the Centrifugo sink, batched
    versus one HTTP request per message, in the same run

    The sink reads envelopes from a PUSH socket and publishes them to a
    local server. Run A batches (up to 100 commands or 5 ms per request,
    over /api/batch, one kept-alive connection); run B sends one request
    per message (batch_max 1, still keep-alive); run C, for reference, one
    request and one new TCP connection per message. The ratio of A to B
    (the stricter baseline) is printed last:

        RESULT centrifugo_batch ratio=<x>

    The server side is a minimal HTTP/1.1 keep-alive responder in C, in
    this program (it answers each batch with one empty publish reply per
    command): the Python fake would measure Python, not the sink. Give
    --fake <url> to run against another server instead (e.g. the fake in
    tests/fake/). -n <count> sets the messages of run A (run B sends a
    fifth of them, run C a twentieth).

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "bench_figure.h"
#include "zflow.h"
#include "zflow_centrifugo_sink.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS 32
#define BUFFER_MAX (4 * 1024 * 1024)

//  One client connection of the responder.
typedef struct {
    int fd;       //  socket, or -1
    char *buffer; //  bytes received and not yet answered
    size_t size;  //  bytes in buffer
} s_conn_t;

//  The responder: a listening socket and its connections, one thread.
typedef struct {
    int listener;              //  listening socket
    int port;                  //  its port
    int stop[2];               //  pipe to stop the thread
    s_conn_t conns[MAX_CONNS]; //  open connections
    uint64_t requests;         //  requests answered
} s_server_t;

//  Counts the commands in a modern batch body (each is {"publish":...}).
static size_t s_count_commands (const char *body, size_t size)
{
    size_t count = 0;
    const char *needle = "{\"publish\":";
    size_t length = strlen (needle);
    for (size_t index = 0; index + length <= size; index++)
        if (body[index] == '{' && memcmp (body + index, needle, length) == 0)
            count++;
    return count;
}

static void s_write_all (int fd, const char *data, size_t size)
{
    while (size) {
        ssize_t sent = write (fd, data, size);
        if (sent <= 0)
            return;
        data += sent;
        size -= (size_t) sent;
    }
}

//  Answers every complete request in conn's buffer.
static void s_answer (s_server_t *self, s_conn_t *conn)
{
    static char reply[BUFFER_MAX];
    while (true) {
        char *end = (char *) memmem (conn->buffer, conn->size, "\r\n\r\n", 4);
        if (!end)
            return;
        size_t head = (size_t) (end - conn->buffer) + 4;
        size_t length = 0;
        for (char *line = conn->buffer; line < end; line = strstr (line, "\r\n") + 2)
            if (strncasecmp (line, "Content-Length:", 15) == 0)
                length = strtoul (line + 15, NULL, 10);
        if (conn->size < head + length)
            return;
        const char *body = conn->buffer + head;
        bool batch = strncmp (conn->buffer, "POST /api/batch", 15) == 0;
        size_t used = 0;
        if (batch) {
            size_t count = s_count_commands (body, length);
            used = (size_t) snprintf (reply, 64, "{\"replies\":[");
            for (size_t index = 0; index < count && used + 64 < sizeof (reply); index++)
                used +=
                    (size_t) snprintf (reply + used, 64, "%s{\"publish\":{}}", index ? "," : "");
            used += (size_t) snprintf (reply + used, 8, "]}");
        } else
            used = (size_t) snprintf (reply, 64, "{\"result\":{}}");
        char header[160];
        int size = snprintf (header, sizeof (header),
                             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             "Content-Length: %zu\r\n\r\n",
                             used);
        s_write_all (conn->fd, header, (size_t) size);
        s_write_all (conn->fd, reply, used);
        self->requests++;
        memmove (conn->buffer, conn->buffer + head + length, conn->size - head - length);
        conn->size -= head + length;
    }
}

static void s_accept (s_server_t *self)
{
    int fd = accept (self->listener, NULL, NULL);
    if (fd < 0)
        return;
    int one = 1;
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
    for (int index = 0; index < MAX_CONNS; index++)
        if (self->conns[index].fd < 0) {
            self->conns[index].fd = fd;
            self->conns[index].size = 0;
            return;
        }
    close (fd);
}

static void s_read (s_server_t *self, s_conn_t *conn)
{
    ssize_t got = read (conn->fd, conn->buffer + conn->size, BUFFER_MAX - conn->size);
    if (got <= 0) {
        close (conn->fd);
        conn->fd = -1;
        return;
    }
    conn->size += (size_t) got;
    s_answer (self, conn);
}

static void *s_server_thread (void *arg)
{
    s_server_t *self = (s_server_t *) arg;
    while (true) {
        struct pollfd items[MAX_CONNS + 2];
        int map[MAX_CONNS + 2];
        int n = 0;
        items[n] = (struct pollfd){self->stop[0], POLLIN, 0};
        map[n++] = -2;
        items[n] = (struct pollfd){self->listener, POLLIN, 0};
        map[n++] = -1;
        for (int index = 0; index < MAX_CONNS; index++)
            if (self->conns[index].fd >= 0) {
                items[n] = (struct pollfd){self->conns[index].fd, POLLIN, 0};
                map[n++] = index;
            }
        if (poll (items, (nfds_t) n, -1) < 0)
            continue;
        if (items[0].revents)
            break;
        for (int index = 1; index < n; index++) {
            if (!items[index].revents)
                continue;
            if (map[index] == -1)
                s_accept (self);
            else
                s_read (self, &self->conns[map[index]]);
        }
    }
    return NULL;
}

static int s_server_start (s_server_t *self, pthread_t *thread)
{
    memset (self, 0, sizeof (*self));
    for (int index = 0; index < MAX_CONNS; index++) {
        self->conns[index].fd = -1;
        self->conns[index].buffer = (char *) malloc (BUFFER_MAX);
    }
    self->listener = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof (addr);
    if (bind (self->listener, (struct sockaddr *) &addr, sizeof (addr)) ||
        listen (self->listener, 16) ||
        getsockname (self->listener, (struct sockaddr *) &addr, &len) || pipe (self->stop))
        return -1;
    self->port = ntohs (addr.sin_port);
    return pthread_create (thread, NULL, s_server_thread, self);
}

static void s_server_stop (s_server_t *self, pthread_t thread)
{
    s_write_all (self->stop[1], "x", 1);
    pthread_join (thread, NULL);
    for (int index = 0; index < MAX_CONNS; index++) {
        if (self->conns[index].fd >= 0)
            close (self->conns[index].fd);
        free (self->conns[index].buffer);
    }
    close (self->listener);
    close (self->stop[0]);
    close (self->stop[1]);
}

//  Publishes count envelopes through a sink with batch_max; returns the
//  rate in messages per second, or -1 on failure.
static double s_run (const char *address, size_t batch_max, bool keepalive, int count,
                     uint64_t *requests_p)
{
    static int runs = 0;
    char endpoint[64];
    snprintf (endpoint, sizeof (endpoint), "inproc://bench-centrifugo-%d", ++runs);
    zflow_centrifugo_sink_config_t config = {0};
    config.address = address;
    config.api_key = "bench";
    config.input_type = ZMQ_PULL;
    config.input_bind = endpoint;
    config.batch_max = batch_max;
    config.batch_ms = 5;
    config.close_connections = !keepalive;
    config.channel_rule = "{1}"; //  channel "rate" in the default namespace
    zflow_centrifugo_sink_t *sink = zflow_centrifugo_sink_new (&config, NULL);
    if (!sink)
        return -1;
    zsock_t *push = zsock_new_push (endpoint);
    zflow_key_t *key = zflow_key_new ("bench", "rate", NULL);
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_stream_t *out = zflow_stream_new_sock (&push);
    int64_t start = zclock_usecs ();
    char payload[80];
    for (int index = 0; index < count; index++) {
        int size =
            snprintf (payload, sizeof (payload), "{\"n\":%d,\"text\":\"hello world\"}", index);
        zflow_envelope_encode_key (msg, key, NULL, payload, (size_t) size);
        if (zflow_stream_write (out, msg) == ZFLOW_DRAIN)
            zflow_stream_drain (out, -1);
    }
    zflow_stream_drain (out, -1);
    uint64_t published = 0, lost = 0;
    int64_t deadline = zclock_mono () + 60000;
    while (published + lost < (uint64_t) count && zclock_mono () < deadline) {
        zhash_t *stats = zflow_centrifugo_sink_stats (sink, 5000);
        published = zflow_actor_stats_get (stats, "published");
        lost = zflow_actor_stats_get (stats, "drops");
        *requests_p = zflow_actor_stats_get (stats, "requests");
        zhash_destroy (&stats);
        if (published + lost < (uint64_t) count)
            zclock_sleep (2);
    }
    if (lost)
        fprintf (stderr, "%" PRIu64 " messages were not published (rejected or dropped)\n", lost);
    double seconds = (double) (zclock_usecs () - start) / 1e6;
    zflow_stream_destroy (&out);
    zflow_msg_destroy (&msg);
    zflow_key_destroy (&key);
    zflow_centrifugo_sink_destroy (&sink);
    return published == (uint64_t) count ? count / seconds : -1;
}

int main (int argc, char *argv[])
{
    int count = 100000;
    const char *address = NULL;
    for (int index = 1; index < argc; index++) {
        if (streq (argv[index], "-n") && index + 1 < argc)
            count = atoi (argv[++index]);
        else if (streq (argv[index], "--fake") && index + 1 < argc)
            address = argv[++index];
        else {
            fprintf (stderr, "usage: %s [-n count] [--fake api-url]\n", argv[0]);
            return 2;
        }
    }
    if (count < 100)
        count = 100;
    s_server_t server;
    pthread_t thread;
    char url[64];
    if (!address) {
        if (s_server_start (&server, &thread)) {
            fprintf (stderr, "cannot start the responder\n");
            return 1;
        }
        snprintf (url, sizeof (url), "http://127.0.0.1:%d/api", server.port);
        address = url;
    }
    uint64_t requests_a = 0, requests_b = 0, requests_c = 0;
    double batched = s_run (address, 100, true, count, &requests_a);
    double single = s_run (address, 1, true, count / 5, &requests_b);
    double fresh = s_run (address, 1, false, count / 20, &requests_c);
    if (address == url)
        s_server_stop (&server, thread);
    if (batched <= 0 || single <= 0 || fresh <= 0) {
        fprintf (stderr, "a run failed (batched %.0f, single %.0f, fresh %.0f msg/s)\n", batched,
                 single, fresh);
        return 1;
    }
    printf ("server: %s\n", address == url ? "built-in C HTTP/1.1 keep-alive responder" : address);
    printf ("batched (<=100 per request, 5 ms): %d msgs, %" PRIu64 " requests, %.0f msg/s\n", count,
            requests_a, batched);
    printf ("one request per message:           %d msgs, %" PRIu64 " requests, %.0f msg/s\n",
            count / 5, requests_b, single);
    printf ("one request and connection per msg: %d msgs, %" PRIu64 " requests, %.0f msg/s\n",
            count / 20, requests_c, fresh);
    printf ("batched / one request per message (both keep-alive): %.1f; "
            "batched / new connection per message: %.1f\n",
            batched / single, batched / fresh);
    bench_figure_print ("centrifugo", "centrifugo_sink", 0, "one request per message",
                        (bench_spread_t){single, single, single},
                        (bench_spread_t){batched, batched, batched});
    printf ("RESULT centrifugo_batch ratio=%.1f\n", batched / single);
    return 0;
}
