/*  =========================================================================
    test_pipeline_chain - chained stages: the same messages and counters as
    stages on threads of their own, the own-thread flag honoured,
    backpressure and the drain at destroy kept

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include <stdio.h>
#include <string.h>

#include "zflow_testing.h"

//  A map that counts the envelopes it sees and checks their shape.
static int s_tag_map (zflow_msg_t *msg, void *arg)
{
    (*(int *) arg)++;
    return zflow_msg_size (msg) == 3 ? 0 : ZFLOW_EPROTO;
}

//  Drops every payload that says "drop".
static bool s_no_drop (const zflow_msg_t *msg, void *arg)
{
    (void) arg;
    char text[256]; //  frames are not NUL-terminated
    size_t size = zflow_msg_part_size (msg, 2);
    size = size < sizeof (text) ? size : sizeof (text) - 1;
    memcpy (text, zflow_msg_data (msg, 2), size);
    text[size] = 0;
    return !strstr (text, "drop");
}

//  source -> map -> filter (nonempty) -> rekey -> filter (C) -> sink, on
//  inproc endpoints named after tag.
static zflow_pipeline_t *s_build (const char *tag, int *mapped, int hwm)
{
    char in[64], out[64];
    snprintf (in, sizeof (in), "inproc://chain-in-%s", tag);
    snprintf (out, sizeof (out), "inproc://chain-out-%s", tag);
    zflow_pipeline_t *p =
        zflow_pipeline_new (&(zflow_pipeline_config_t){.name = tag, .hwm = hwm}, NULL);
    CHECK (p);
    CHECK (zflow_pipeline_source (p, "in", "pull", in, NULL) == 0);
    CHECK (zflow_pipeline_map (p, "tag", s_tag_map, mapped, NULL) == 0);
    CHECK (zflow_pipeline_filter_nonempty (p, "hashes", "hashes") == 0);
    CHECK (zflow_pipeline_rekey (p, "rekey", "zflow", "chained") == 0);
    CHECK (zflow_pipeline_filter (p, "nodrop", s_no_drop, NULL, NULL) == 0);
    CHECK (zflow_pipeline_sink (p, "out", "push", out, NULL) == 0);
    return p;
}

//  Sends the test events: 600, a third with hashes, a tenth saying "drop",
//  and one that is not JSON.
static void s_feed (zsock_t *push)
{
    for (int i = 0; i < 600; i++)
        zstr_sendf (push, "{\"n\":%d,\"hashes\":[%s],\"say\":\"%s\"}", i, i % 3 ? "" : "\"abc\"",
                    i % 10 ? "keep" : "drop");
    zstr_send (push, "not json");
}

//  Reads what arrives until quiet; returns "key|payload" lines, in order.
static zlistx_t *s_collect (zsock_t *pull)
{
    zlistx_t *lines = zlistx_new ();
    zlistx_set_destructor (lines, (zlistx_destructor_fn *) zstr_free);
    zsock_set_rcvtimeo (pull, 1000);
    zmsg_t *msg;
    while ((msg = zmsg_recv (pull))) {
        CHECK (zmsg_size (msg) == 3);
        char *key = zmsg_popstr (msg);
        zframe_t *meta = zmsg_pop (msg);
        char *payload = zmsg_popstr (msg);
        zlistx_add_end (lines, zsys_sprintf ("%s|%s", key, payload));
        zstr_free (&key);
        zstr_free (&payload);
        zframe_destroy (&meta);
        zmsg_destroy (&msg);
    }
    return lines;
}

//  Runs the test pipeline, chained or with every stage on its own thread.
//  Returns the messages that came out; *stats_p gets the pipeline's STATS.
static zlistx_t *s_run (const char *tag, bool own, zhash_t **stats_p)
{
    int mapped = 0;
    zflow_pipeline_t *p = s_build (tag, &mapped, 0);
    for (size_t i = 0; own && i < zflow_pipeline_size (p); i++)
        CHECK (zflow_pipeline_stage_own_thread (p, zflow_pipeline_stage_name (p, i), true) == 0);
    CHECK (zflow_pipeline_start (p) == 0);
    for (size_t i = 0; i < zflow_pipeline_size (p); i++) {
        const char *host = zflow_pipeline_stage_host (p, i);
        CHECK (host && streq (host, own ? zflow_pipeline_stage_name (p, i) : "in"));
    }
    char endpoint[64];
    snprintf (endpoint, sizeof (endpoint), ">inproc://chain-in-%s", tag);
    zsock_t *push = zsock_new_push (endpoint);
    snprintf (endpoint, sizeof (endpoint), ">inproc://chain-out-%s", tag);
    zsock_t *pull = zsock_new_pull (endpoint);
    s_feed (push);
    zlistx_t *lines = s_collect (pull);
    //  the counters follow the messages: wait for the source to count all
    zhash_t *stats = NULL;
    for (int tries = 0; tries < 50; tries++) {
        zhash_destroy (&stats);
        stats = zflow_pipeline_stats (p, 2000);
        CHECK (stats);
        if (zflow_actor_stats_get (stats, "in.msgs_in") == 601)
            break;
        zclock_sleep (50);
    }
    CHECK (mapped == 601);
    CHECK (zflow_pipeline_stop (p, 2000) == 0);
    zflow_pipeline_destroy (&p);
    zsock_destroy (&push);
    zsock_destroy (&pull);
    *stats_p = stats;
    return lines;
}

//  Chained and unchained give the same messages, in the same order, and
//  the same counters under the same names (but the timing-bound ones).
static void s_test_same_results (void)
{
    zhash_t *chained_stats, *own_stats;
    zlistx_t *chained = s_run ("chained", false, &chained_stats);
    zlistx_t *own = s_run ("own", true, &own_stats);
    CHECK (zlistx_size (chained) == 180); //  200 with hashes, 20 of them say drop
    CHECK (zlistx_size (own) == zlistx_size (chained));
    const char *b = (const char *) zlistx_first (own);
    for (const char *a = (const char *) zlistx_first (chained); a;
         a = (const char *) zlistx_next (chained), b = (const char *) zlistx_next (own))
        CHECK (streq (a, b));
    CHECK (strncmp ((const char *) zlistx_first (chained), "chained\x1fin|{\"n\":3,", 18) == 0);
    CHECK (zhash_size (chained_stats) == zhash_size (own_stats));
    for (const char *value = (const char *) zhash_first (own_stats); value;
         value = (const char *) zhash_next (own_stats)) {
        const char *name = zhash_cursor (own_stats);
        const char *mine = (const char *) zhash_lookup (chained_stats, name);
        CHECK (mine);
        if (!strstr (name, ".pauses") && !strstr (name, ".queue_depth"))
            CHECK (streq (mine, value));
    }
    CHECK (zflow_actor_stats_get (chained_stats, "tag.msgs_in") == 601);
    CHECK (zflow_actor_stats_get (chained_stats, "hashes.filtered") == 401);
    CHECK (zflow_actor_stats_get (chained_stats, "nodrop.filtered") == 20);
    CHECK (zflow_actor_stats_get (chained_stats, "out.msgs_out") == 180);
    CHECK (zhash_lookup (chained_stats, "in.drops.tag"));
    CHECK (zhash_lookup (chained_stats, "out.drops.out"));
    zlistx_destroy (&chained);
    zlistx_destroy (&own);
    zhash_destroy (&chained_stats);
    zhash_destroy (&own_stats);
    printf ("chained and own threads alike: ok\n");
}

//  One stage on its own thread splits the chain there; bad calls.
static void s_test_own_thread (void)
{
    int mapped = 0;
    zflow_pipeline_t *p = s_build ("split", &mapped, 0);
    CHECK (zflow_pipeline_stage_own_thread (NULL, "in", true) == ZFLOW_EINVAL);
    CHECK (zflow_pipeline_stage_own_thread (p, NULL, true) == ZFLOW_ENOTFOUND);
    CHECK (zflow_pipeline_stage_own_thread (p, "nosuch", true) == ZFLOW_ENOTFOUND);
    CHECK (zflow_pipeline_stage_host (p, 0) == NULL); //  not running
    //  the error above is kept for start: a fresh pipeline for the rest
    zflow_pipeline_destroy (&p);
    p = s_build ("split", &mapped, 0);
    CHECK (zflow_pipeline_stage_own_thread (p, "hashes", true) == 0);
    CHECK (zflow_pipeline_stage_own_thread (p, "nodrop", true) == 0);
    CHECK (zflow_pipeline_stage_own_thread (p, "nodrop", false) == 0);
    CHECK (zflow_pipeline_start (p) == 0);
    const char *want[] = {"in", "in", "hashes", "rekey", "rekey", "rekey"};
    for (size_t i = 0; i < 6; i++)
        CHECK (streq (zflow_pipeline_stage_host (p, i), want[i]));
    CHECK (zflow_pipeline_stage_host (p, 6) == NULL);
    CHECK (zflow_pipeline_stage_host (NULL, 0) == NULL);
    CHECK (zflow_pipeline_stage_own_thread (p, "tag", true) == ZFLOW_EINVAL); //  running
    zsock_t *push = zsock_new_push (">inproc://chain-in-split");
    zsock_t *pull = zsock_new_pull (">inproc://chain-out-split");
    s_feed (push);
    zlistx_t *lines = s_collect (pull);
    CHECK (zlistx_size (lines) == 180);
    zlistx_destroy (&lines);
    zflow_pipeline_destroy (&p);
    zsock_destroy (&push);
    zsock_destroy (&pull);
    printf ("own thread: ok\n");
}

//  Lossless through a chain: a sink nobody reads stops the source taking
//  input, so the sender blocks; once read, everything arrives in order.
static void s_test_backpressure (void)
{
    int mapped = 0;
    zflow_pipeline_t *p = s_build ("slow", &mapped, 100);
    CHECK (zflow_pipeline_start (p) == 0);
    zsock_t *push = zsock_new_push (">inproc://chain-in-slow");
    zsock_t *pull = zsock_new (ZMQ_PULL);
    zsock_set_rcvhwm (pull, 100);
    zsock_connect (pull, "inproc://chain-out-slow");
    zsock_set_sndtimeo (push, 200);
    const int total = 200000;
    int sent = 0;
    while (sent < total &&
           zstr_sendf (push, "{\"n\":%d,\"hashes\":[1],\"say\":\"keep\"}", sent) == 0)
        sent++;
    CHECK (sent < total); //  held back
    zclock_sleep (200);
    zhash_t *stats = zflow_pipeline_stats (p, 2000);
    uint64_t taken = zflow_actor_stats_get (stats, "in.msgs_in");
    zhash_destroy (&stats);
    CHECK (taken <= (uint64_t) sent);
    zsock_set_rcvtimeo (pull, 5000);
    zflow_meta_t *meta = zflow_meta_new ();
    int64_t now_us = zclock_time () * 1000;
    for (int i = 0; i < sent; i++) {
        zmsg_t *msg = zmsg_recv (pull);
        CHECK (msg && zmsg_size (msg) == 3);
        //  the source's wrap: its name, a sequence number, a timestamp
        zmsg_first (msg);
        zframe_t *frame = zmsg_next (msg);
        CHECK (zflow_meta_decode (meta, zframe_data (frame), zframe_size (frame)) == 0);
        CHECK (streq (zflow_meta_source (meta), "in"));
        CHECK (zflow_meta_seq (meta) == (uint64_t) i + 1);
        CHECK (zflow_meta_timestamp (meta) >= now_us - 1000000);
        char *payload = zframe_strdup (zmsg_last (msg));
        char want[64];
        snprintf (want, sizeof (want), "{\"n\":%d,", i);
        CHECK (strncmp (payload, want, strlen (want)) == 0);
        zstr_free (&payload);
        zmsg_destroy (&msg);
    }
    zflow_meta_destroy (&meta);
    stats = zflow_pipeline_stats (p, 2000);
    CHECK (zflow_actor_stats_get (stats, "out.drops") == 0);
    CHECK (zflow_actor_stats_get (stats, "out.msgs_out") == (uint64_t) sent);
    zhash_destroy (&stats);
    zflow_pipeline_destroy (&p);
    zsock_destroy (&push);
    zsock_destroy (&pull);
    printf ("chained backpressure: ok (sender held after %d, the chain had taken %" PRIu64 ")\n",
            sent, taken);
}

//  Destroy drains a chain: what was sent before it all arrives.
static void s_test_drain (void)
{
    int mapped = 0;
    zflow_pipeline_t *p = s_build ("drain", &mapped, 0);
    CHECK (zflow_pipeline_start (p) == 0);
    zsock_t *push = zsock_new_push (">inproc://chain-in-drain");
    zsock_t *pull = zsock_new (ZMQ_PULL);
    zsock_set_rcvhwm (pull, 10000);
    zsock_connect (pull, "inproc://chain-out-drain");
    for (int i = 0; i < 3000; i++)
        zstr_sendf (push, "{\"n\":%d,\"hashes\":[1],\"say\":\"keep\"}", i);
    zflow_pipeline_destroy (&p);
    zlistx_t *lines = s_collect (pull);
    CHECK (zlistx_size (lines) == 3000);
    CHECK (strstr ((const char *) zlistx_last (lines), "{\"n\":2999,"));
    zlistx_destroy (&lines);
    zsock_destroy (&push);
    zsock_destroy (&pull);
    printf ("drain at destroy: ok\n");
}

//  A sink callback: keeps a count; refuses (EFULL) every 10th, fails every
//  10th + 5.
static int s_count_sink (zflow_msg_t *msg, void *arg)
{
    (void) msg;
    int n = (*(int *) arg)++;
    return n % 10 == 0 ? ZFLOW_EFULL : n % 10 == 5 ? ZFLOW_EPROTO : 0;
}

//  A sink callback chained into the source's actor counts as on its own.
static void s_test_sink_fn (void)
{
    for (int own = 0; own < 2; own++) {
        int calls = 0;
        zflow_pipeline_t *p = zflow_pipeline_new (NULL, NULL);
        zflow_pipeline_source (p, "in", "pull", "inproc://chain-fn", NULL);
        zflow_pipeline_filter_nonempty (p, "hashes", "hashes");
        zflow_pipeline_sink_fn (p, "out", s_count_sink, &calls, NULL);
        if (own)
            zflow_pipeline_stage_own_thread (p, "out", true);
        CHECK (zflow_pipeline_start (p) == 0);
        CHECK (streq (zflow_pipeline_stage_host (p, 2), own ? "out" : "in"));
        zsock_t *push = zsock_new_push (">inproc://chain-fn");
        s_feed (push);
        zflow_pipeline_stop (p, 2000); //  drains what was sent
        //  the counters outlive stop only through a new start: read calls
        CHECK (calls == 200);
        zflow_pipeline_destroy (&p);
        zsock_destroy (&push);
    }
    //  and the counters, while running: one STATS request per actor, so
    //  the source and the sink chained into it agree
    int calls = 0;
    zflow_pipeline_t *p = zflow_pipeline_new (NULL, NULL);
    zflow_pipeline_source (p, "in", "pull", "inproc://chain-fn2", NULL);
    zflow_pipeline_sink_fn (p, "out", s_count_sink, &calls, NULL);
    CHECK (zflow_pipeline_start (p) == 0);
    CHECK (streq (zflow_pipeline_stage_host (p, 1), "in"));
    zsock_t *push = zsock_new_push (">inproc://chain-fn2");
    for (int i = 0; i < 100; i++)
        zstr_send (push, "{}");
    zhash_t *stats = NULL;
    for (int tries = 0; tries < 50; tries++) {
        zhash_destroy (&stats);
        stats = zflow_pipeline_stats (p, 2000);
        if (zflow_actor_stats_get (stats, "out.msgs_in") == 100)
            break;
        zclock_sleep (50);
    }
    CHECK (zflow_actor_stats_get (stats, "out.msgs_in") == 100);
    CHECK (zflow_actor_stats_get (stats, "out.msgs_out") == 80);
    CHECK (zflow_actor_stats_get (stats, "out.drops") == 10);
    CHECK (zflow_actor_stats_get (stats, "out.errors") == 10);
    CHECK (zflow_actor_stats_get (stats, "in.msgs_out") == 100);
    zhash_destroy (&stats);
    zflow_pipeline_destroy (&p);
    zsock_destroy (&push);
    printf ("chained sink callback: ok\n");
}

int main (void)
{
    s_test_same_results ();
    s_test_own_thread ();
    s_test_backpressure ();
    s_test_drain ();
    s_test_sink_fn ();
    return 0;
}
