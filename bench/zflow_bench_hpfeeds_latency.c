/*  =========================================================================
    zflow_bench_hpfeeds_latency - one-way latency of hpfeeds publishes,
    client -> embedded broker -> client, at set rates

    A publishing thread stamps each 100-byte publish with the monotonic
    clock at its intended send time (so a stall counts against every
    message that waited behind it) and the reader, in the same process,
    reads it back with zflow_hpfeeds_recv. For each rate it prints the p50,
    p99 and max in microseconds; it shows what batching costs a publisher
    (zflow_hpfeeds_publish batches, and a publisher that fills 64 KiB per
    millisecond has the tail of each burst wait up to 1 ms). About 10 s.

        zflow_bench_hpfeeds_latency [rate ...]     (msgs/s; default 1000 10000 100000 1000000)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "bench_hpfeeds.h"
#include "zflow.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_SECONDS 2 //  each rate runs this long (at least 500 messages)

typedef struct {
    zflow_hpfeeds_t *client; //  the publishing client
    long gap_ns;             //  time between two publishes
    long count;              //  publishes to make
    long start_ns;           //  intended time of the first
} publisher_t;

static long s_now_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1000000000L + now.tv_nsec;
}

//  Publishes at the set rate: sleeps to each intended time when the gap
//  is long enough, spins otherwise; stamps the intended time.
static void *s_publisher (void *arg)
{
    publisher_t *self = (publisher_t *) arg;
    char payload[100] = {0};
    for (long index = 0; index < self->count; index++) {
        long due = self->start_ns + index * self->gap_ns;
        if (self->gap_ns >= 20000) {
            struct timespec at = {due / 1000000000L, due % 1000000000L};
            clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
        } else
            while (s_now_ns () < due)
                ;
        memcpy (payload, &due, sizeof (due));
        if (zflow_hpfeeds_publish (self->client, "latency", payload, sizeof (payload))) {
            fprintf (stderr, "publish failed\n");
            break;
        }
    }
    return NULL;
}

static int s_compare (const void *a, const void *b)
{
    long x = *(const long *) a, y = *(const long *) b;
    return x < y ? -1 : x > y;
}

//  Runs one rate; returns 0, or -1 when a message did not arrive.
static int s_run (zflow_hpfeeds_t *pub, zflow_hpfeeds_t *sub, long rate)
{
    long count = rate * S_SECONDS < 500 ? 500 : rate * S_SECONDS;
    long *latency = (long *) malloc (sizeof (long) * (size_t) count);
    publisher_t publisher = {pub, 1000000000L / rate, count, s_now_ns () + 1000000};
    pthread_t thread;
    pthread_create (&thread, NULL, s_publisher, &publisher);
    long received = 0;
    zflow_hpfeeds_message_t message;
    while (received < count && zflow_hpfeeds_recv (sub, &message, 5000) == 0) {
        long due;
        memcpy (&due, message.payload, sizeof (due));
        latency[received++] = s_now_ns () - due;
    }
    pthread_join (thread, NULL);
    if (received < count) {
        fprintf (stderr, "rate %ld: %ld of %ld arrived\n", rate, received, count);
        free (latency);
        return -1;
    }
    qsort (latency, (size_t) count, sizeof (long), s_compare);
    printf ("%9ld msgs/s  %7ld messages  p50 %8.1f  p99 %8.1f  max %8.1f  (us)\n", rate, count,
            (double) latency[count / 2] / 1e3, (double) latency[count * 99 / 100] / 1e3,
            (double) latency[count - 1] / 1e3);
    free (latency);
    return 0;
}

int main (int argc, char *argv[])
{
    long defaults[] = {1000, 10000, 100000, 1000000};
    bench_hpfeeds_t set;
    if (bench_hpfeeds_start (&set, "latency", false)) {
        fprintf (stderr, "zflow_bench_hpfeeds_latency: set-up failed\n");
        return 1;
    }
    int rc = 0;
    int rates = argc > 1 ? argc - 1 : 4;
    for (int index = 0; index < rates && rc == 0; index++) {
        long rate = argc > 1 ? atol (argv[index + 1]) : defaults[index];
        if (rate <= 0 || rate > 10000000) {
            fprintf (stderr, "zflow_bench_hpfeeds_latency: bad rate '%s'\n", argv[index + 1]);
            rc = 2;
        } else
            rc = s_run (set.pub, set.sub, rate);
    }
    bench_hpfeeds_stop (&set);
    return rc ? 1 : 0;
}
