/*  =========================================================================
    test_pipeline - pipelines built through the public API, fed and counted

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

//  Sums one counter over every stage.
static uint64_t s_sum (zflow_pipeline_t *p, const char *counter)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < zflow_pipeline_size (p); i++) {
        zhash_t *stats = zflow_pipeline_stage_stats (p, i, 2000);
        CHECK (stats);
        sum += zflow_actor_stats_get (stats, counter);
        zhash_destroy (&stats);
    }
    return sum;
}

//  Returns counter of stage index.
static uint64_t s_stat (zflow_pipeline_t *p, size_t index, const char *counter)
{
    zhash_t *stats = zflow_pipeline_stage_stats (p, index, 2000);
    CHECK (stats);
    uint64_t value = zflow_actor_stats_get (stats, counter);
    zhash_destroy (&stats);
    return value;
}

//  Reads every message a PULL gets until it is quiet for quiet_ms; returns
//  how many, checking each is an envelope with a JSON payload.
static size_t s_drain_pull (zsock_t *pull, int quiet_ms)
{
    size_t count = 0;
    zsock_set_rcvtimeo (pull, quiet_ms);
    zmsg_t *msg;
    while ((msg = zmsg_recv (pull))) {
        CHECK (zmsg_size (msg) >= 3);
        zmsg_destroy (&msg);
        count++;
    }
    return count;
}

//  Bad settings, and a NULL config (all defaults); NULL-safe calls.
static void s_test_config (void)
{
    int err = 1;
    zflow_pipeline_config_t config;
    zflow_pipeline_config_init (&config);
    CHECK (streq (config.name, "pipeline") && config.mode == ZFLOW_PIPELINE_LOSSLESS);
    CHECK (config.hwm == ZFLOW_PIPELINE_DEFAULT_HWM && !config.verbose);
    config.mode = (zflow_pipeline_mode_t) 7;
    CHECK (zflow_pipeline_new (&config, &err) == NULL);
    CHECK_RC (err, ZFLOW_EINVAL);
    zflow_pipeline_config_init (&config);
    config.hwm = -1;
    err = 1;
    CHECK (zflow_pipeline_new (&config, &err) == NULL);
    CHECK_RC (err, ZFLOW_EINVAL);
    CHECK (zflow_pipeline_new (&config, NULL) == NULL);
    //  NULL config: the defaults; the config is copied (its name may go)
    zflow_pipeline_t *p = zflow_pipeline_new (NULL, &err);
    CHECK (p && err == 0);
    zflow_pipeline_destroy (&p);
    char *name = strdup ("copied");
    zflow_pipeline_config_init (&config);
    config.name = name;
    p = zflow_pipeline_new (&config, &err);
    CHECK (p && err == 0);
    free (name); //  the pipeline has its own copy (ASan would see a use)
    zflow_pipeline_config_init (NULL);
    //  not running: no stats; NULL self: no stats, nothing set
    CHECK (zflow_pipeline_stats (p, 100) == NULL);
    CHECK (zflow_pipeline_stage_stats (p, 0, 100) == NULL);
    CHECK (zflow_pipeline_stats (NULL, 100) == NULL);
    CHECK (zflow_pipeline_stage_stats (NULL, 0, 100) == NULL);
    zflow_pipeline_set_verbose (NULL, true);
    zflow_pipeline_set_verbose (p, true);
    zflow_pipeline_set_verbose (p, false);
    zflow_pipeline_destroy (&p);
    CHECK (p == NULL);
    zflow_pipeline_destroy (&p);
    zflow_pipeline_destroy (NULL);
    printf ("config: ok\n");
}

//  Builder errors: bad names, nothing before a filter, bad types.
static void s_test_builder_errors (void)
{
    zflow_pipeline_t *p = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "errors"}, NULL);
    CHECK (zflow_pipeline_filter_nonempty (p, "f", "hashes") == ZFLOW_EINVAL);
    CHECK (strstr (zflow_pipeline_error_text (p), "nothing before it"));
    CHECK (zflow_pipeline_start (p) == ZFLOW_EINVAL);
    zflow_pipeline_destroy (&p);

    p = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "errors"}, NULL);
    CHECK (zflow_pipeline_source (p, "in", "push", "inproc://x", NULL) == ZFLOW_EINVAL);
    CHECK (strstr (zflow_pipeline_error_text (p), "pull or sub"));
    zflow_pipeline_destroy (&p);

    p = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "errors"}, NULL);
    CHECK (zflow_pipeline_source (p, "in", "pull", NULL, NULL) == ZFLOW_EINVAL);
    CHECK (zflow_pipeline_source (p, "bad name", "pull", "inproc://x", NULL) == ZFLOW_EINVAL);
    zflow_pipeline_destroy (&p);

    p = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "errors"}, NULL);
    CHECK (zflow_pipeline_source (p, "in", "pull", "inproc://x", NULL) == 0);
    CHECK (zflow_pipeline_source (p, "in", "pull", "inproc://y", NULL) == ZFLOW_EINVAL);
    CHECK (strstr (zflow_pipeline_error_text (p), "duplicate"));
    zflow_pipeline_destroy (&p);

    //  a source nobody reads
    p = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "errors"}, NULL);
    CHECK (zflow_pipeline_source (p, "in", "pull", "inproc://x", NULL) == 0);
    CHECK (zflow_pipeline_start (p) == ZFLOW_ECONFIG);
    CHECK (strstr (zflow_pipeline_error_text (p), "nothing reads its output"));
    zflow_pipeline_destroy (&p);

    //  a bind that fails stops the start, and nothing is left running
    p = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "errors"}, NULL);
    zflow_pipeline_source (p, "in", "pull", "tcp://256.1.1.1:1", NULL);
    zflow_pipeline_sink_file (p, "out", "/dev/null");
    CHECK (zflow_pipeline_start (p) == ZFLOW_ECONFIG);
    CHECK (strstr (zflow_pipeline_error_text (p), "'in' failed to start"));
    CHECK (!zflow_pipeline_running (p));
    zflow_pipeline_destroy (&p);
    printf ("builder errors: ok\n");
}

//  A source reading raw JSON, a filter on "hashes", a sink to a PULL peer.
static void s_test_filter_bridge (void)
{
    zflow_pipeline_t *p = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "bridge"}, NULL);
    zflow_pipeline_source (p, "in", "pull", "tcp://127.0.0.1:*", NULL);
    zflow_pipeline_filter_nonempty (p, "hashes", "hashes");
    zflow_pipeline_sink (p, "out", "push", "tcp://127.0.0.1:*", NULL);
    CHECK (zflow_pipeline_start (p) == 0);
    CHECK (zflow_pipeline_size (p) == 3);
    CHECK (streq (zflow_pipeline_stage_kind (p, 1), "filter"));
    char *in = zflow_pipeline_stage_bindings (p, 0);
    char *out = zflow_pipeline_stage_bindings (p, 2);
    CHECK (in && out && strncmp (in, "tcp://127.0.0.1:", 16) == 0);
    CHECK (zflow_pipeline_stage_bindings (p, 1) == NULL);

    zsock_t *push = zsock_new (ZMQ_PUSH);
    zsock_t *pull = zsock_new (ZMQ_PULL);
    CHECK (zsock_connect (push, "%s", in) == 0);
    CHECK (zsock_connect (pull, "%s", out) == 0);
    for (int i = 0; i < 300; i++)
        zstr_sendf (push, "{\"n\":%d,\"hashes\":[%s]}", i, i % 3 ? "" : "\"abc\"");
    zstr_send (push, "not json at all");
    zsock_set_rcvtimeo (pull, 5000);
    for (int i = 0; i < 100; i++) {
        zmsg_t *msg = zmsg_recv (pull);
        CHECK (msg && zmsg_size (msg) == 3);
        char *key = zmsg_popstr (msg);
        CHECK (streq (key, "zflow\x1fin"));
        zframe_t *meta = zmsg_pop (msg);
        char *payload = zmsg_popstr (msg);
        char want[64];
        snprintf (want, sizeof (want), "{\"n\":%d,\"hashes\":[\"abc\"]}", i * 3);
        CHECK (streq (payload, want));
        zstr_free (&key);
        zstr_free (&payload);
        zframe_destroy (&meta);
        zmsg_destroy (&msg);
    }
    //  all stages' counters in one hash, named <stage>.<counter>; the source
    //  takes in all 301 messages (poll: counters follow the messages)
    zhash_t *all = NULL;
    for (int tries = 0; tries < 50; tries++) {
        zhash_destroy (&all);
        all = zflow_pipeline_stats (p, 2000);
        CHECK (all);
        if (zflow_actor_stats_get (all, "in.msgs_in") == 301)
            break;
        zclock_sleep (100);
    }
    CHECK (zflow_actor_stats_get (all, "in.msgs_in") == 301);
    CHECK (zhash_lookup (all, "hashes.filtered") && zhash_lookup (all, "out.msgs_out"));
    CHECK (zflow_actor_stats_get (all, "out.msgs_out") == 100);
    CHECK (zhash_lookup (all, "msgs_in") == NULL);
    zhash_destroy (&all);
    zflow_pipeline_set_verbose (p, true);
    zflow_pipeline_set_verbose (p, false);
    CHECK (zflow_pipeline_stop (p, 2000) == 0);
    CHECK (!zflow_pipeline_running (p));
    CHECK (zflow_pipeline_stats (p, 100) == NULL);
    zflow_pipeline_destroy (&p);
    zsock_destroy (&push);
    zsock_destroy (&pull);
    zstr_free (&in);
    zstr_free (&out);
    printf ("filter bridge: ok\n");
}

//  Two sources merged, then two sinks that each get every message.
static void s_test_merge_fanout (void)
{
    zflow_pipeline_t *p = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "fan"}, NULL);
    zflow_pipeline_source (p, "a", "pull", "inproc://test-merge-a", NULL);
    zflow_pipeline_source (p, "b", "pull", "inproc://test-merge-b", NULL);
    zflow_pipeline_merge (p, "merge");
    zflow_pipeline_rekey (p, "rekey", "zflow", "bridged");
    zflow_pipeline_sink (p, "out1", "push", "inproc://test-fan-1", NULL);
    zflow_pipeline_sink (p, "out2", "push", "inproc://test-fan-2", NULL);
    CHECK (zflow_pipeline_start (p) == 0);
    zsock_t *a = zsock_new_push (">inproc://test-merge-a");
    zsock_t *b = zsock_new_push (">inproc://test-merge-b");
    zsock_t *out1 = zsock_new_pull (">inproc://test-fan-1");
    zsock_t *out2 = zsock_new_pull (">inproc://test-fan-2");
    for (int i = 0; i < 500; i++) {
        zstr_sendf (a, "{\"from\":\"a\",\"n\":%d}", i);
        zstr_sendf (b, "{\"from\":\"b\",\"n\":%d}", i);
    }
    //  each sink gets all 1000, keys rewritten zflow/<src> -> bridged/<src>
    zsock_set_rcvtimeo (out1, 5000);
    zmsg_t *first = zmsg_recv (out1);
    CHECK (first);
    char *key = zmsg_popstr (first);
    CHECK (streq (key, "bridged\x1f"
                       "a") ||
           streq (key, "bridged\x1f"
                       "b"));
    zstr_free (&key);
    zmsg_destroy (&first);
    CHECK (1 + s_drain_pull (out1, 500) == 1000);
    CHECK (s_drain_pull (out2, 500) == 1000);
    CHECK (s_stat (p, 2, "msgs_in") == 1000);
    CHECK (s_stat (p, 3, "msgs_out") == 1000);
    CHECK (s_stat (p, 3, "drops.out1") == 0);
    zflow_pipeline_destroy (&p);
    zsock_destroy (&a);
    zsock_destroy (&b);
    zsock_destroy (&out1);
    zsock_destroy (&out2);
    printf ("merge and fan-out: ok\n");
}

//  Lossless: a sink nobody reads holds the synthetic source back; once
//  read, every event arrives, in order, none lost.
static void s_test_lossless (void)
{
    const uint64_t total = 20000;
    zflow_pipeline_t *p =
        zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "lossless", .hwm = 100}, NULL);
    zflow_pipeline_source_synthetic (p, "synth", 0, total);
    zflow_pipeline_encode (p, "pack", ZFLOW_PIPELINE_MSGPACK);
    zflow_pipeline_sink (p, "out", "push", "inproc://test-lossless", NULL);
    CHECK (zflow_pipeline_start (p) == 0);
    zsock_t *pull = zsock_new (ZMQ_PULL);
    zsock_set_rcvhwm (pull, 100);
    zsock_connect (pull, "inproc://test-lossless");
    zclock_sleep (300);
    uint64_t generated = s_stat (p, 0, "generated");
    CHECK (generated > 0 && generated < total); //  held back
    zclock_sleep (200);
    CHECK (s_stat (p, 0, "generated") == generated); //  and stays held
    CHECK (!zflow_pipeline_sources_done (p));
    //  now read everything, slowly at first
    zsock_set_rcvtimeo (pull, 5000);
    zflow_meta_t *meta = zflow_meta_new ();
    for (uint64_t i = 0; i < total; i++) {
        zmsg_t *msg = zmsg_recv (pull);
        CHECK (msg);
        zframe_t *key = zmsg_pop (msg);
        zframe_t *frame = zmsg_pop (msg);
        CHECK (zflow_meta_decode (meta, zframe_data (frame), zframe_size (frame)) == 0);
        CHECK (zflow_meta_seq (meta) == i + 1);
        CHECK (streq (zflow_meta_content_type (meta), "application/msgpack"));
        zframe_destroy (&key);
        zframe_destroy (&frame);
        zmsg_destroy (&msg);
        if (i < 50)
            zclock_sleep (1);
    }
    CHECK (zflow_pipeline_sources_done (p));
    CHECK (s_sum (p, "drops") == 0);
    CHECK (s_sum (p, "errors") == 0);
    CHECK (zflow_pipeline_stop (p, 2000) == 0);
    zflow_meta_destroy (&meta);
    zflow_pipeline_destroy (&p);
    zsock_destroy (&pull);
    printf ("lossless backpressure: ok (held at %" PRIu64 " of %" PRIu64 ")\n", generated, total);
}

//  Lossy: the same slow sink; the source runs to the end, drops are
//  counted, and received + dropped == generated.
static void s_test_lossy (void)
{
    const uint64_t total = 20000;
    zflow_pipeline_config_t config;
    zflow_pipeline_config_init (&config);
    config.name = "lossy";
    config.mode = ZFLOW_PIPELINE_LOSSY;
    config.hwm = 100;
    zflow_pipeline_t *p = zflow_pipeline_new (&config, NULL);
    zflow_pipeline_source_synthetic (p, "synth", 0, total);
    zflow_pipeline_merge (p, "pass");
    zflow_pipeline_sink (p, "out", "push", "inproc://test-lossy", NULL);
    CHECK (zflow_pipeline_start (p) == 0);
    zsock_t *pull = zsock_new (ZMQ_PULL);
    zsock_set_rcvhwm (pull, 100);
    zsock_connect (pull, "inproc://test-lossy");
    int64_t deadline = zclock_mono () + 10000;
    while (!zflow_pipeline_sources_done (p) && zclock_mono () < deadline)
        zclock_sleep (20);
    CHECK (zflow_pipeline_sources_done (p));
    zclock_sleep (300); //  every stage has dealt with its input by now
    uint64_t drops = s_sum (p, "drops");
    uint64_t named =
        s_stat (p, 0, "drops.pass") + s_stat (p, 1, "drops.out") + s_stat (p, 2, "drops.out");
    CHECK (drops == named);
    size_t received = s_drain_pull (pull, 300);
    CHECK (zflow_pipeline_stop (p, 2000) == 0);
    received += s_drain_pull (pull, 300);
    zflow_pipeline_destroy (&p);
    zsock_destroy (&pull);
    printf ("lossy: received %zu, dropped %" PRIu64 " of %" PRIu64 "\n", received, drops, total);
    CHECK (drops > 0);
    CHECK (received + drops == total);
    CHECK (received < total);
}

//  A user sink: takes three, drops (EFULL) the fourth, fails the fifth.
static int s_user_sink (zflow_msg_t *msg, void *arg)
{
    int *calls = (int *) arg;
    CHECK (zflow_envelope_decode (msg, NULL) == 0);
    int n = ++*calls % 5;
    return n == 4 ? ZFLOW_EFULL : n == 0 ? ZFLOW_EIO : 0;
}

static void s_test_sink_fn (void)
{
    int calls = 0;
    zflow_pipeline_t *p = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "sinkfn"}, NULL);
    zflow_pipeline_source (p, "in", "pull", "inproc://test-sink-fn", NULL);
    zflow_pipeline_sink_fn (p, "user", s_user_sink, &calls, NULL);
    CHECK (zflow_pipeline_start (p) == 0);
    CHECK (streq (zflow_pipeline_stage_kind (p, 1), "sink"));
    zsock_t *push = zsock_new_push (">inproc://test-sink-fn");
    for (int i = 0; i < 100; i++)
        zstr_sendf (push, "{\"n\":%d}", i);
    int64_t deadline = zclock_mono () + 5000;
    while (s_stat (p, 1, "msgs_in") < 100 && zclock_mono () < deadline)
        zclock_sleep (10);
    CHECK (s_stat (p, 1, "msgs_out") == 60);
    CHECK (s_stat (p, 1, "drops") == 20);
    CHECK (s_stat (p, 1, "errors") == 20);
    CHECK (zflow_pipeline_stop (p, 2000) == 0);
    CHECK (calls == 100);
    zflow_pipeline_destroy (&p);
    zsock_destroy (&push);
    printf ("user sink: ok\n");
}

int main (void)
{
    s_test_config ();
    s_test_builder_errors ();
    s_test_filter_bridge ();
    s_test_merge_fanout ();
    s_test_lossless ();
    s_test_lossy ();
    s_test_sink_fn ();
    return 0;
}
