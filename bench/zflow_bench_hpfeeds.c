/*  =========================================================================
    zflow_bench_hpfeeds - hpfeeds throughput: client -> broker -> client

    For 100 B and 1 KiB payloads, in the same run:
    - zflow: a publishing client, the embedded broker and a subscribing
      client (its messages read as zflow envelopes), over two TCP hops on
      127.0.0.1;
    - raw relay: a minimal C relay forwarding the same hpfeeds frames over
      the same two TCP hops (publisher thread -> relay thread -> reader
      thread, blocking sockets, 64 KiB writes).
    The 100 B run is made twice: the reader takes zflow envelopes
    (zflow_hpfeeds_read; RESULT hpfeeds_100), then views into the receive
    buffer (zflow_hpfeeds_recv; RESULT hpfeeds_100_view). Each zflow run
    follows a raw run of the same kind, the pairs are repeated (5 times by
    default), and the figures are medians; the ratio is the median of the
    pairs' ratios. Progress goes to stderr.
    Both keep at most ~2 MiB in flight (the publisher waits for the reader),
    so nothing is dropped and the figures are sustained rates. Prints the
    ratio zflow / raw and ends with
        RESULT hpfeeds_100 msgs_per_s=<x> ratio=<y>

        zflow_bench_hpfeeds [messages_100B [messages_1KiB [pairs]]]

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "bench_figure.h"
#include "bench_hpfeeds.h"
#include "zflow.h"
#include "zflow_hpfeeds_proto.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define S_WINDOW_BYTES (2 * 1024 * 1024)

typedef struct {
    long count;              //  messages to send
    size_t size;             //  payload size
    long window;             //  most messages in flight
    atomic_long received;    //  messages the reader has counted
    zflow_hpfeeds_t *client; //  zflow publisher
    int fd;                  //  raw: publisher socket
} run_t;

//  Waits while more than the window is in flight. It sleeps rather than
//  spins: on two cores a spinning publisher takes the CPU the stages it
//  waits for need (the window is milliseconds of traffic, so 20 us naps
//  never starve the pipeline).
static void s_wait_window (run_t *run, long sent)
{
    struct timespec nap = {0, 20000};
    while (sent - atomic_load (&run->received) > run->window)
        nanosleep (&nap, NULL);
}

static void *s_zflow_publisher (void *arg)
{
    run_t *run = (run_t *) arg;
    char *payload = (char *) malloc (run->size);
    memset (payload, 'x', run->size);
    for (long sent = 0; sent < run->count; sent++) {
        if ((sent & 255) == 0)
            s_wait_window (run, sent);
        if (zflow_hpfeeds_publish (run->client, "bench", payload, run->size)) {
            fprintf (stderr, "publish failed\n");
            break;
        }
    }
    free (payload);
    return NULL;
}

//  view: the reader takes messages with zflow_hpfeeds_recv (views into
//  the receive buffer) instead of zflow_hpfeeds_read (zflow envelopes).
static double s_run_zflow (long count, size_t size, bool view)
{
    //  lossless end to end: the broker stalls the publisher for a slow
    //  subscriber, the clients block or pause instead of dropping
    bench_hpfeeds_t set;
    if (bench_hpfeeds_start (&set, "bench", true)) {
        fprintf (stderr, "zflow: set-up failed\n");
        return 0;
    }
    zflow_hpfeeds_t *pub = set.pub, *sub = set.sub;
    run_t run = {count, size, S_WINDOW_BYTES / (long) (size + 20), 0, pub, -1};
    zflow_msg_t *msg = zflow_msg_new ();
    pthread_t thread;
    int64_t start = zclock_usecs ();
    pthread_create (&thread, NULL, s_zflow_publisher, &run);
    long received = 0;
    zflow_hpfeeds_message_t message;
    //  the count is published every 64 messages, as the raw reader does
    //  once per recv (hundreds of messages): a store per message would
    //  bounce its cache line with the publisher's window check
    if (view)
        while (received < count && zflow_hpfeeds_recv (sub, &message, 5000) == 0) {
            if ((++received & 63) == 0 || received == count)
                atomic_store (&run.received, received);
        }
    else
        while (received < count && zflow_hpfeeds_read (sub, msg, 5000) == 0) {
            if ((++received & 63) == 0 || received == count)
                atomic_store (&run.received, received);
        }
    int64_t elapsed = zclock_usecs () - start;
    pthread_join (thread, NULL);
    if (received < count)
        fprintf (stderr, "zflow: only %ld of %ld arrived\n", received, count);
    zflow_msg_destroy (&msg);
    bench_hpfeeds_stop (&set);
    return (double) received * 1e6 / (double) elapsed;
}

//  -------------------------------------------------------------------------
//  The raw relay

static int s_listen (int *port_p)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    bind (fd, (struct sockaddr *) &address, sizeof (address));
    listen (fd, 4);
    socklen_t length = sizeof (address);
    getsockname (fd, (struct sockaddr *) &address, &length);
    *port_p = ntohs (address.sin_port);
    return fd;
}

static int s_dial (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_port = htons ((uint16_t) port);
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    connect (fd, (struct sockaddr *) &address, sizeof (address));
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
    return fd;
}

static int s_send_all (int fd, const uint8_t *data, size_t size)
{
    while (size) {
        ssize_t rc = send (fd, data, size, MSG_NOSIGNAL);
        if (rc <= 0)
            return -1;
        data += rc;
        size -= (size_t) rc;
    }
    return 0;
}

//  Publisher: encodes each frame, writes 64 KiB at a time.
static void *s_raw_publisher (void *arg)
{
    run_t *run = (run_t *) arg;
    uint8_t *buffer = (uint8_t *) malloc (65536 + ZFLOW_HPFEEDS_MAX_FRAME);
    char *payload = (char *) malloc (run->size);
    memset (payload, 'x', run->size);
    size_t used = 0;
    for (long sent = 0; sent < run->count; sent++) {
        used += (size_t) zflow__hpfeeds_encode_publish (buffer + used, "pub", 3, "bench", 5,
                                                        payload, run->size);
        if (used >= 65536 || sent + 1 == run->count || sent - run->received > run->window) {
            s_send_all (run->fd, buffer, used);
            used = 0;
            s_wait_window (run, sent);
        }
    }
    free (payload);
    free (buffer);
    return NULL;
}

typedef struct {
    int in, out; //  sockets: from the publisher, to the reader
} relay_t;

//  Relay: reads what arrived, forwards the complete frames.
static void *s_relay (void *arg)
{
    relay_t *relay = (relay_t *) arg;
    size_t capacity = 256 * 1024 + ZFLOW_HPFEEDS_MAX_FRAME, used = 0;
    uint8_t *buffer = (uint8_t *) malloc (capacity);
    zflow_hpfeeds_frame_t frame;
    for (;;) {
        ssize_t got = recv (relay->in, buffer + used, capacity - used, 0);
        if (got <= 0)
            break;
        used += (size_t) got;
        size_t offset = 0;
        while (zflow__hpfeeds_parse (buffer + offset, used - offset, &frame, NULL, 0) == 1)
            offset += frame.size;
        if (offset && s_send_all (relay->out, buffer, offset))
            break;
        memmove (buffer, buffer + offset, used - offset);
        used -= offset;
    }
    free (buffer);
    return NULL;
}

static double s_run_raw (long count, size_t size)
{
    int port, listener = s_listen (&port);
    int pub_fd = s_dial (port), relay_in = accept (listener, NULL, NULL);
    int sub_fd = s_dial (port), relay_out = accept (listener, NULL, NULL);
    int one = 1;
    setsockopt (relay_out, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
    relay_t relay = {relay_in, relay_out};
    run_t run = {count, size, S_WINDOW_BYTES / (long) (size + 20), 0, NULL, pub_fd};
    pthread_t relay_thread, pub_thread;
    pthread_create (&relay_thread, NULL, s_relay, &relay);
    size_t capacity = 256 * 1024 + ZFLOW_HPFEEDS_MAX_FRAME, used = 0;
    uint8_t *buffer = (uint8_t *) malloc (capacity);
    zflow_hpfeeds_frame_t frame;
    long received = 0;
    int64_t start = zclock_usecs ();
    pthread_create (&pub_thread, NULL, s_raw_publisher, &run);
    while (received < count) {
        ssize_t got = recv (sub_fd, buffer + used, capacity - used, 0);
        if (got <= 0)
            break;
        used += (size_t) got;
        size_t offset = 0;
        while (zflow__hpfeeds_parse (buffer + offset, used - offset, &frame, NULL, 0) == 1) {
            offset += frame.size;
            received++;
        }
        atomic_store (&run.received, received);
        memmove (buffer, buffer + offset, used - offset);
        used -= offset;
    }
    int64_t elapsed = zclock_usecs () - start;
    pthread_join (pub_thread, NULL);
    close (pub_fd);
    pthread_join (relay_thread, NULL);
    close (relay_in);
    close (relay_out);
    close (sub_fd);
    close (listener);
    free (buffer);
    return (double) received * 1e6 / (double) elapsed;
}

static int s_compare (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

//  The median, min and max of n figures (sorts them).
static bench_spread_t s_spread (double *figures, int n)
{
    qsort (figures, (size_t) n, sizeof (double), s_compare);
    return (bench_spread_t){n % 2 ? figures[n / 2] : (figures[n / 2 - 1] + figures[n / 2]) / 2,
                            figures[0], figures[n - 1]};
}

#define S_REPEATS_MAX 15

int main (int argc, char *argv[])
{
    long count_100 = argc > 1 ? atol (argv[1]) : 2000000;
    long count_1k = argc > 2 ? atol (argv[2]) : 500000;
    int repeats = argc > 3 ? atoi (argv[3]) : 5;
    if (repeats < 1 || repeats > S_REPEATS_MAX)
        repeats = 5;
    struct {
        const char *name;
        size_t size;
        long count;
        bool view;
        double zflow[S_REPEATS_MAX], raw[S_REPEATS_MAX], ratio[S_REPEATS_MAX];
    } runs[] = {{"hpfeeds_1024", 1024, count_1k, false, {0}, {0}, {0}},
                {"hpfeeds_100", 100, count_100, false, {0}, {0}, {0}},
                {"hpfeeds_100_view", 100, count_100, true, {0}, {0}, {0}}};
    //  The machine is noisy: each zflow run is paired with a raw run just
    //  before it, the pairs are repeated, and the median of the pairs'
    //  ratios is the figure.
    for (int repeat = 0; repeat < repeats; repeat++)
        for (int index = 0; index < 3; index++) {
            double raw = s_run_raw (runs[index].count, runs[index].size);
            double zflow = s_run_zflow (runs[index].count, runs[index].size, runs[index].view);
            runs[index].raw[repeat] = raw;
            runs[index].zflow[repeat] = zflow;
            runs[index].ratio[repeat] = raw > 0 ? zflow / raw : 0;
            fprintf (stderr,
                     "[%d/%d] %5zu B x %ld%s: zflow %.0f msgs/s, raw C relay %.0f msgs/s, "
                     "ratio %.2f\n",
                     repeat + 1, repeats, runs[index].size, runs[index].count,
                     runs[index].view ? " (zflow_hpfeeds_recv)" : "", zflow, raw, zflow / raw);
        }
    bench_spread_t zflow[3], raw[3], ratio[3];
    for (int index = 0; index < 3; index++) {
        zflow[index] = s_spread (runs[index].zflow, repeats);
        raw[index] = s_spread (runs[index].raw, repeats);
        ratio[index] = s_spread (runs[index].ratio, repeats);
        printf ("%5zu B x %ld%s, %d pairs: zflow %.0f msgs/s (%.1f MB/s; %.0f-%.0f), raw C relay "
                "%.0f msgs/s (%.0f-%.0f), ratio %.2f (%.2f-%.2f)\n",
                runs[index].size, runs[index].count,
                runs[index].view ? " (zflow_hpfeeds_recv)" : "", repeats, zflow[index].median,
                zflow[index].median * (double) runs[index].size / 1e6, zflow[index].min,
                zflow[index].max, raw[index].median, raw[index].min, raw[index].max,
                ratio[index].median, ratio[index].min, ratio[index].max);
    }
    //  for zflow bench: each figure beside the raw relay of the same run
    for (int index = 0; index < 3; index++)
        bench_figure_print ("hpfeeds", runs[index].name, runs[index].size, "raw C TCP relay",
                            raw[index], zflow[index]);
    for (int index = 0; index < 3; index++)
        printf ("RESULT %s msgs_per_s=%.0f ratio=%.2f\n", runs[index].name, zflow[index].median,
                ratio[index].median);
    return 0;
}
