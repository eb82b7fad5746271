/*  =========================================================================
    test_pipeline_hop - envelopes passed by pointer between stage actors:
    order kept (also to two consumers and from a merge), the watermark
    bounding the envelopes in flight, and envelopes in flight freed when a
    pipeline stops before it could drain them (run it under valgrind or
    ASan: no leaks); a source's meta template gives zflow_meta_encode's
    bytes

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include "zflow_pipeline_stage.h"
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "zflow_testing.h"

//  What a checking sink saw.
typedef struct {
    atomic_int calls; //  envelopes it was called with
    int next[2];      //  the "n" it expects next, below 100000 and above
    int step;         //  the difference it expects between two (0: 1)
    int wrong;        //  envelopes out of order or malformed
    atomic_int hold;  //  while non-zero, the sink waits (a stuck consumer)
    int sleep_ms;     //  sleeps this long on each envelope
} s_sink_t;

//  Returns the "n" of the payload {"n":<n>,...} of an envelope, or -1.
static int s_number (const zflow_msg_t *msg)
{
    char text[64];
    size_t size = zflow_msg_part_size (msg, 2);
    if (zflow_msg_size (msg) != 3 || size < 6)
        return -1;
    size = size < sizeof (text) ? size : sizeof (text) - 1;
    memcpy (text, zflow_msg_data (msg, 2), size);
    text[size] = 0;
    return strncmp (text, "{\"n\":", 5) ? -1 : atoi (text + 5);
}

//  A sink callback that checks the order.
static int s_check_sink (zflow_msg_t *msg, void *arg)
{
    s_sink_t *sink = (s_sink_t *) arg;
    while (atomic_load (&sink->hold))
        zclock_sleep (1);
    if (sink->sleep_ms)
        zclock_sleep (sink->sleep_ms);
    int n = s_number (msg), from = n >= 100000;
    if (n < 0 || n != sink->next[from] + 100000 * from)
        sink->wrong++;
    sink->next[from] = n - 100000 * from + (sink->step ? sink->step : 1);
    atomic_fetch_add (&sink->calls, 1);
    return 0;
}

//  A map that counts what it passes.
static int s_count_map (zflow_msg_t *msg, void *arg)
{
    atomic_fetch_add ((atomic_int *) arg, 1);
    return zflow_msg_size (msg) == 3 ? 0 : ZFLOW_EPROTO;
}

//  Keeps every other envelope.
static bool s_even (const zflow_msg_t *msg, void *arg)
{
    (void) arg;
    return s_number (msg) % 2 == 0;
}

//  Puts every stage of p on its own thread, so that every link between
//  them is a pointer hop.
static void s_all_own (zflow_pipeline_t *p)
{
    for (size_t i = 0; i < zflow_pipeline_size (p); i++)
        CHECK (zflow_pipeline_stage_own_thread (p, zflow_pipeline_stage_name (p, i), true) == 0);
}

//  Waits until sink has seen count envelopes (10 s at most).
static void s_wait_calls (s_sink_t *sink, int count)
{
    for (int tries = 0; tries < 1000 && atomic_load (&sink->calls) < count; tries++)
        zclock_sleep (10);
}

//  source -> map -> filter -> two sinks, every stage on its own thread:
//  each sink gets the kept half in order, once.
static void s_test_order (void)
{
    atomic_int mapped = 0;
    s_sink_t one = {.step = 2}, two = {.step = 2};
    zflow_pipeline_t *p =
        zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "hop", .hwm = 50}, NULL);
    zflow_pipeline_source (p, "in", "pull", "inproc://hop-order", NULL);
    zflow_pipeline_map (p, "map", s_count_map, &mapped, NULL);
    zflow_pipeline_filter (p, "even", s_even, NULL, NULL);
    zflow_pipeline_sink_fn (p, "one", s_check_sink, &one, NULL);
    zflow_pipeline_sink_fn (p, "two", s_check_sink, &two, NULL);
    s_all_own (p);
    CHECK (zflow_pipeline_start (p) == 0);
    CHECK (streq (zflow_pipeline_stage_host (p, 3), "one"));
    zsock_t *push = zsock_new_push (">inproc://hop-order");
    const int total = 20000;
    for (int i = 0; i < total; i++)
        zstr_sendf (push, "{\"n\":%d}", i);
    s_wait_calls (&one, total / 2);
    s_wait_calls (&two, total / 2);
    //  the filter keeps 0, 2, 4 ... in that order
    CHECK (atomic_load (&one.calls) == total / 2);
    CHECK (atomic_load (&two.calls) == total / 2);
    CHECK (one.wrong == 0 && two.wrong == 0);
    CHECK (one.next[0] == total && two.next[0] == total);
    zhash_t *stats = zflow_pipeline_stats (p, 2000);
    CHECK (zflow_actor_stats_get (stats, "map.msgs_in") == (uint64_t) total);
    CHECK (zflow_actor_stats_get (stats, "even.msgs_out") == (uint64_t) total / 2);
    CHECK (zflow_actor_stats_get (stats, "even.filtered") == (uint64_t) total / 2);
    CHECK (zflow_actor_stats_get (stats, "one.msgs_in") == (uint64_t) total / 2);
    CHECK (zflow_actor_stats_get (stats, "map.errors") == 0);
    zhash_destroy (&stats);
    CHECK (zflow_pipeline_stop (p, 2000) == 0);
    zflow_pipeline_destroy (&p);
    zsock_destroy (&push);
    printf ("pointer hops keep the order, to two consumers: ok\n");
}

//  Two sources into a merge, each source's envelopes in order after it.
static void s_test_merge (void)
{
    s_sink_t sink = {0};
    zflow_pipeline_t *p = zflow_pipeline_new (NULL, NULL);
    zflow_pipeline_source (p, "a", "pull", "inproc://hop-merge-a", NULL);
    zflow_pipeline_source (p, "b", "pull", "inproc://hop-merge-b", NULL);
    zflow_pipeline_merge (p, "both");
    zflow_pipeline_sink_fn (p, "out", s_check_sink, &sink, NULL);
    CHECK (zflow_pipeline_start (p) == 0);
    zsock_t *a = zsock_new_push (">inproc://hop-merge-a");
    zsock_t *b = zsock_new_push (">inproc://hop-merge-b");
    //  a sends 0..4999 and b 100000..104999: interleaved as they come,
    //  each in its order
    for (int i = 0; i < 5000; i++) {
        zstr_sendf (a, "{\"n\":%d}", i);
        zstr_sendf (b, "{\"n\":%d}", 100000 + i);
    }
    s_wait_calls (&sink, 10000);
    CHECK (atomic_load (&sink.calls) == 10000);
    CHECK (sink.wrong == 0 && sink.next[0] == 5000 && sink.next[1] == 5000);
    zflow_pipeline_destroy (&p);
    zsock_destroy (&a);
    zsock_destroy (&b);
    printf ("pointer hops from a merge: ok\n");
}

//  A stuck consumer: the sender is held back and the envelopes between the
//  map and the sink stay within a few watermarks; once it goes on,
//  everything arrives in order.
static void s_test_watermark (void)
{
    const int hwm = 64;
    atomic_int mapped = 0;
    s_sink_t sink = {0};
    atomic_store (&sink.hold, 1);
    zflow_pipeline_t *p =
        zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "hopwm", .hwm = hwm}, NULL);
    zflow_pipeline_source (p, "in", "pull", "inproc://hop-wm", NULL);
    zflow_pipeline_map (p, "map", s_count_map, &mapped, NULL);
    zflow_pipeline_sink_fn (p, "out", s_check_sink, &sink, NULL);
    s_all_own (p);
    CHECK (zflow_pipeline_start (p) == 0);
    zsock_t *push = zsock_new (ZMQ_PUSH);
    zsock_set_sndhwm (push, hwm);
    zsock_connect (push, "inproc://hop-wm");
    zsock_set_sndtimeo (push, 300);
    const int total = 100000;
    int sent = 0;
    while (sent < total && zstr_sendf (push, "{\"n\":%d}", sent) == 0)
        sent++;
    CHECK (sent < total); //  held back
    zclock_sleep (100);
    //  after the map: its write buffer (hwm envelopes and a frame more),
    //  the link's pipe (hwm / 32 frames a side), the sink's read buffer
    //  (as many) and the frame in the stuck callback: about 4 hwm
    int after_map = atomic_load (&mapped) - atomic_load (&sink.calls);
    CHECK (after_map > 0 && after_map <= 6 * hwm);
    atomic_store (&sink.hold, 0);
    s_wait_calls (&sink, sent);
    CHECK (atomic_load (&sink.calls) == sent);
    CHECK (sink.wrong == 0 && sink.next[0] == sent);
    zflow_pipeline_destroy (&p);
    zsock_destroy (&push);
    printf ("pointer hops bound the envelopes in flight: ok (sender held after %d, %d after "
            "the map)\n",
            sent, after_map);
}

//  Stop gives up on a slow consumer: the envelopes still in write buffers,
//  pipes and read buffers are freed with their frames (valgrind, ASan).
static void s_test_freed_at_stop (void)
{
    atomic_int mapped = 0;
    s_sink_t sink = {0};
    sink.sleep_ms = 2;
    zflow_pipeline_t *p =
        zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "hopfree", .hwm = 200}, NULL);
    zflow_pipeline_source (p, "in", "pull", "inproc://hop-free", NULL);
    zflow_pipeline_map (p, "map", s_count_map, &mapped, NULL);
    zflow_pipeline_sink_fn (p, "out", s_check_sink, &sink, NULL);
    s_all_own (p);
    CHECK (zflow_pipeline_start (p) == 0);
    zsock_t *push = zsock_new_push (">inproc://hop-free");
    zsock_set_sndtimeo (push, 200);
    int sent = 0;
    while (sent < 20000 && zstr_sendf (push, "{\"n\":%d}", sent) == 0)
        sent++;
    CHECK (zflow_pipeline_stop (p, 20) == ZFLOW_ETIMEDOUT); //  could not drain
    CHECK (atomic_load (&sink.calls) < sent);
    CHECK (sink.wrong == 0);
    zflow_pipeline_destroy (&p);
    zsock_destroy (&push);
    printf ("envelopes in flight freed at stop: ok (%d of %d reached the sink)\n",
            atomic_load (&sink.calls), sent);
}

//  The meta template a source uses gives the bytes zflow_meta_encode
//  gives, for sequence numbers and timestamps of every msgpack size.
static void s_test_meta_template (void)
{
    static const uint64_t values[] = {0,
                                      1,
                                      127,
                                      128,
                                      255,
                                      256,
                                      65535,
                                      65536,
                                      4294967295ULL,
                                      4294967296ULL,
                                      1700000000000000ULL,
                                      (1ULL << 63) - 1};
    size_t count = sizeof (values) / sizeof (values[0]);
    zflow_meta_t *meta = zflow_meta_new ();
    zflow__meta_template_t template;
    for (int variant = 0; variant < 2; variant++) {
        zflow_meta_reset (meta);
        zflow_meta_set_source (meta, variant ? "a-longer-source-name" : "in");
        if (variant) {
            zflow_meta_set_content_type (meta, "application/json");
            zflow_meta_set (meta, "channel", "events");
        }
        CHECK (zflow__meta_template_init (&template, meta) == 0);
        for (size_t i = 0; i < count; i++)
            for (size_t k = 1; k < count; k++) { //  a timestamp is never 0
                zflow_meta_set_seq (meta, values[i]);
                zflow_meta_set_timestamp (meta, (int64_t) values[k]);
                char want[ZFLOW_META_MAX_WIRE], got[ZFLOW_META_MAX_WIRE];
                int size = zflow_meta_encode (meta, want, sizeof (want));
                if (values[i] == 0)
                    continue; //  seq 0 is left out of the encoding: never a source's
                CHECK (size > 0 && (size_t) size == zflow__meta_template_size (
                                                        &template, values[i], (int64_t) values[k]));
                zflow__meta_template_fill (&template, values[i], (int64_t) values[k], got);
                CHECK (memcmp (want, got, (size_t) size) == 0);
            }
    }
    zflow_meta_destroy (&meta);
    printf ("meta template: ok\n");
}

int main (void)
{
    s_test_meta_template ();
    s_test_order ();
    s_test_merge ();
    s_test_watermark ();
    s_test_freed_at_stop ();
    return 0;
}
