/*  =========================================================================
    test_hub_stage - pipelines reading from and writing to hubs by key

    hub publisher -> ("events", *) -> pipeline (rekey events -> bridged)
    -> the same hub -> a hub subscriber on ("bridged", "*"): in process (the
    hub by name) and over tcp (its bound endpoints); the meta of every
    envelope survives the trip, nothing is lost, and publishing may start
    as soon as the pipeline started.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "zflow_testing.h"

//  Publishes n envelopes under ("events", "a") with meta ident and n.
static void s_publish (zflow_hub_publisher_t *pub, int n)
{
    zflow_key_t *key = zflow_key_new ("events", "a", NULL);
    zflow_meta_t *meta = zflow_meta_new ();
    zflow_meta_set (meta, "ident", "sensor-1");
    zflow_msg_t *msg = zflow_msg_new ();
    for (int i = 0; i < n; i++) {
        char text[32];
        snprintf (text, sizeof (text), "{\"n\":%d}", i);
        zflow_meta_set_seq (meta, (uint64_t) i + 1);
        CHECK (zflow_envelope_encode_key (msg, key, meta, text, strlen (text)) == 0);
        int rc = zflow_hub_publisher_forward (pub, msg);
        CHECK (rc == 0 || rc == ZFLOW_DRAIN);
        if (rc == ZFLOW_DRAIN)
            CHECK (zflow_hub_publisher_drain (pub, 10000) == 0);
    }
    CHECK (zflow_hub_publisher_flush (pub, 10000) == 0);
    zflow_msg_destroy (&msg);
    zflow_meta_destroy (&meta);
    zflow_key_destroy (&key);
}

//  Publishing from its own thread, so the test can hold consumers back.
typedef struct {
    zflow_hub_publisher_t *pub; //  used by the thread only while it runs
    int n;                      //  envelopes to publish
} s_job_t;

static void *s_publisher_thread (void *arg)
{
    s_job_t *job = (s_job_t *) arg;
    s_publish (job->pub, job->n);
    return NULL;
}

//  Takes n envelopes from sub: key wire, meta and order as published.
static void s_expect (zflow_hub_subscriber_t *sub, const char *wire, int n)
{
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_meta_t *meta = zflow_meta_new ();
    for (int i = 0; i < n; i++) {
        int rc = zflow_hub_subscriber_consume (sub, msg, 5000);
        if (rc)
            fprintf (stderr, "after %d of %d: %s\n", i, n, zflow_error_text (rc));
        CHECK (rc == 0);
        CHECK (zflow_envelope_decode (msg, meta) == 0);
        size_t size;
        const char *key = (const char *) zflow_envelope_key (msg, &size);
        CHECK (size == strlen (wire) && memcmp (key, wire, size) == 0);
        CHECK (streq (zflow_meta_get (meta, "ident"), "sensor-1"));
        CHECK (zflow_meta_seq (meta) == (uint64_t) i + 1);
    }
    CHECK (zflow_hub_subscriber_consume (sub, msg, 50) == ZFLOW_ETIMEDOUT);
    zflow_meta_destroy (&meta);
    zflow_msg_destroy (&msg);
}

//  Runs hub -> pipeline -> hub with the hub named by source / sink.
static void s_bridge (zflow_hub_t *hub, const char *source, const char *sink, const char *prefix,
                      const char *wire, int n, int slow_ms, zflow_pipeline_mode_t mode)
{
    zflow_hub_subscriber_t *watch = zflow_hub_subscriber_new (hub, "watch", NULL);
    zflow_key_t *pattern = zflow_key_new ("*", "bridged", "*", NULL);
    zflow_key_t *plain = zflow_key_new ("bridged", "*", NULL);
    CHECK (zflow_hub_subscriber_subscribe (watch, prefix ? pattern : plain) == 0);
    CHECK (zflow_hub_subscriber_set_queue (watch, 100, ZFLOW_HUB_BLOCK) == 0);

    zflow_pipeline_t *p =
        zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "hubstage", .mode = mode}, NULL);
    CHECK (p != NULL);
    CHECK_RC (zflow_pipeline_source_hub (p, "in", source, "events/*"), 0);
    CHECK_RC (zflow_pipeline_rekey (p, "rekey", "events", "bridged"), 0);
    CHECK_RC (zflow_pipeline_sink_hub (p, "out", sink, prefix), 0);
    CHECK_RC (zflow_pipeline_start (p), 0);

    //  publish at once: the source's subscription is in effect already
    zflow_hub_publisher_t *pub = zflow_hub_publisher_new (hub, NULL, NULL);
    zhash_t *stats = zflow_hub_stats (hub, 2000);
    uint64_t pauses = zflow_actor_stats_get (stats, "paused");
    zhash_destroy (&stats);
    s_job_t job = {pub, n};
    pthread_t thread;
    CHECK (pthread_create (&thread, NULL, s_publisher_thread, &job) == 0);
    if (slow_ms)
        zclock_sleep (slow_ms); //  the watcher's queue fills: all wait
    s_expect (watch, wire, n);
    pthread_join (thread, NULL);
    stats = zflow_hub_stats (hub, 2000);
    if (slow_ms) //  the hub did hold its publishers back
        CHECK (zflow_actor_stats_get (stats, "paused") > pauses);
    zhash_destroy (&stats);

    stats = zflow_pipeline_stage_stats (p, 0, 2000);
    CHECK (zflow_actor_stats_get (stats, "msgs_in") == (uint64_t) n);
    CHECK (zflow_actor_stats_get (stats, "hub.delivered_actor") == (uint64_t) n);
    zhash_destroy (&stats);
    CHECK_RC (zflow_pipeline_stop (p, 2000), 0);
    zflow_pipeline_destroy (&p);
    zflow_hub_publisher_destroy (&pub);
    zflow_key_destroy (&pattern);
    zflow_key_destroy (&plain);
    zflow_hub_subscriber_destroy (&watch);
}

//  The key wires the watcher expects.
#define S_BRIDGED                                                                                  \
    "bridged\x1f"                                                                                  \
    "a"
#define S_AGAIN "again\x1f" S_BRIDGED
#define S_REMOTE "remote\x1f" S_BRIDGED

static void test_in_process (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "stage"}, NULL);
    s_bridge (hub, "stage", "stage", NULL, S_BRIDGED, 500, 0, ZFLOW_PIPELINE_LOSSLESS);
    //  lossy: the same path with the drop policies (nothing to drop here)
    s_bridge (hub, "stage", "stage", NULL, S_BRIDGED, 500, 0, ZFLOW_PIPELINE_LOSSY);
    //  lossless under a slow subscriber: the hub, the sink, the stages and
    //  the source's subscriber all wait, nothing is lost
    s_bridge (hub, "stage", "stage", "again", S_AGAIN, 20000, 300, ZFLOW_PIPELINE_LOSSLESS);
    zflow_hub_destroy (&hub);
}

static void test_over_tcp (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "stage-tcp"}, NULL);
    CHECK (zflow_hub_bind (hub, "tcp://127.0.0.1:*", "tcp://127.0.0.1:*") == 0);
    char *sub = strdup (zflow_hub_bound_sub (hub));
    char *pub = strdup (zflow_hub_bound_pub (hub));
    s_bridge (hub, sub, pub, "remote", S_REMOTE, 500, 0, ZFLOW_PIPELINE_LOSSLESS);
    free (sub);
    free (pub);
    zflow_hub_destroy (&hub);
}

static void test_bad_input (void)
{
    zflow_pipeline_t *p = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "bad"}, NULL);
    CHECK_RC (zflow_pipeline_source_hub (p, "in", NULL, "a/*"), ZFLOW_EINVAL);
    CHECK_RC (zflow_pipeline_source_hub (p, "in", "", "a/*"), ZFLOW_EINVAL);
    CHECK_RC (zflow_pipeline_source_hub (p, "in", "hub", NULL), ZFLOW_EINVAL);
    CHECK_RC (zflow_pipeline_source_hub (p, "in", "hub",
                                         "a/b\x1f"
                                         "c"),
              ZFLOW_ECONFIG);
    CHECK_RC (zflow_pipeline_sink_hub (p, "out", NULL, NULL), ZFLOW_EINVAL);
    zflow_pipeline_destroy (&p);

    //  no hub of that name: start fails, nothing left running
    p = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "nohub"}, NULL);
    CHECK_RC (zflow_pipeline_source_hub (p, "in", "no-such-hub", "a/*"), 0);
    CHECK_RC (zflow_pipeline_sink_file (p, "out", "/dev/null"), 0);
    CHECK_RC (zflow_pipeline_start (p), ZFLOW_ECONFIG);
    CHECK (!zflow_pipeline_running (p));
    zflow_pipeline_destroy (&p);
    p = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "nohub"}, NULL);
    zflow_pipeline_source_synthetic (p, "in", 0, 1);
    CHECK_RC (zflow_pipeline_sink_hub (p, "out", "no-such-hub", NULL), 0);
    CHECK_RC (zflow_pipeline_start (p), ZFLOW_ECONFIG);
    zflow_pipeline_destroy (&p);
}

int main (void)
{
    printf ("test_hub_stage:\n");
    RUN (test_bad_input);
    RUN (test_in_process);
    RUN (test_over_tcp);
    return 0;
}
