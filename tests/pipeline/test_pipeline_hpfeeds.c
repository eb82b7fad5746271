/*  =========================================================================
    test_pipeline_hpfeeds - pipelines with hpfeeds sources and sinks,
    through a real (embedded) hpfeeds broker

    The shape of the hpfeeds seed's aiostream example: a feed publishes
    honeypot events to "events"; a bridge subscribes, keeps the events with
    hashes, re-encodes and publishes them to "hashes" and to a file; a
    plain client subscribed to "hashes" counts what arrives.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include "zflow_hpfeeds_broker.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zflow_testing.h"

static uint64_t s_stat (zflow_pipeline_t *p, size_t index, const char *name)
{
    zhash_t *stats = zflow_pipeline_stage_stats (p, index, 2000);
    uint64_t value = zflow_actor_stats_get (stats, name);
    zhash_destroy (&stats);
    return value;
}

int main (void)
{
    const uint64_t total = 600;
    zflow_hpfeeds_broker_t *broker =
        zflow_hpfeeds_broker_new (&(zflow_hpfeeds_broker_config_t){.name = "test"}, NULL);
    const char *events[] = {"events", NULL};
    const char *hashes[] = {"hashes", NULL};
    const char *both[] = {"events", "hashes", NULL};
    zflow_hpfeeds_broker_add_user (broker, "feed", "s1", events, NULL);
    zflow_hpfeeds_broker_add_user (broker, "bridge", "s2", hashes, both);
    zflow_hpfeeds_broker_add_user (broker, "watch", "s3", NULL, hashes);
    int port = zflow_hpfeeds_broker_bind (broker, "127.0.0.1", 0);
    CHECK (port > 0);

    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.port = port;

    char path[] = "/tmp/zflow-test-pipeline-hpfeeds-XXXXXX";
    int fd = mkstemp (path);
    CHECK (fd >= 0);
    close (fd);

    zflow_pipeline_t *bridge =
        zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "bridge"}, NULL);
    config.ident = "bridge";
    config.secret = "s2";
    zflow_pipeline_source_hpfeeds (bridge, "subscribe", &config, "events");
    zflow_pipeline_filter_nonempty (bridge, "hashes", "hashes");
    zflow_pipeline_encode (bridge, "reencode", ZFLOW_PIPELINE_JSON);
    zflow_pipeline_sink_hpfeeds (bridge, "republish", &config, "hashes");
    zflow_pipeline_sink_file (bridge, "file", path);
    CHECK (zflow_pipeline_start (bridge) == 0);

    config.ident = "watch";
    config.secret = "s3";
    zflow_hpfeeds_t *watch = zflow_hpfeeds_new (&config, NULL);
    zflow_hpfeeds_subscribe (watch, "hashes");

    //  wait until both subscribers are connected (and so subscribed)
    int64_t deadline = zclock_mono () + 5000;
    while ((s_stat (bridge, 0, "hpfeeds.connected") != 1 || !zflow_hpfeeds_connected (watch)) &&
           zclock_mono () < deadline)
        zclock_sleep (20);
    CHECK (s_stat (bridge, 0, "hpfeeds.connected") == 1);
    zclock_sleep (100);

    zflow_pipeline_t *feed = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "feed"}, NULL);
    config.ident = "feed";
    config.secret = "s1";
    zflow_pipeline_source_synthetic (feed, "synth", 0, total);
    zflow_pipeline_sink_hpfeeds (feed, "publish", &config, "events");
    CHECK (zflow_pipeline_start (feed) == 0);

    zflow_msg_t *msg = zflow_msg_new ();
    uint64_t received = 0;
    while (received < total / 3 && zflow_hpfeeds_read (watch, msg, 5000) == 0) {
        char channel[256], ident[256];
        const void *payload;
        size_t size;
        CHECK (zflow_hpfeeds_unpack (msg, channel, ident, &payload, &size) == 0);
        CHECK (streq (channel, "hashes") && streq (ident, "bridge"));
        CHECK (size > 10 && memmem (payload, size, "\"hashes\":[\"", 11));
        received++;
    }
    CHECK (received == total / 3);
    CHECK (zflow_pipeline_sources_done (feed));
    CHECK (s_stat (bridge, 0, "msgs_in") == total);
    CHECK (s_stat (bridge, 1, "filtered") == total - total / 3);
    CHECK (s_stat (bridge, 0, "reconnects") == 0);
    CHECK (s_stat (bridge, 0, "hpfeeds.refused") == 0);
    CHECK (zflow_pipeline_stop (feed, 2000) == 0);
    CHECK (zflow_pipeline_stop (bridge, 2000) == 0);
    zflow_pipeline_destroy (&feed);
    zflow_pipeline_destroy (&bridge);

    FILE *file = fopen (path, "r");
    char line[1024];
    uint64_t lines = 0;
    while (file && fgets (line, sizeof (line), file))
        lines++;
    if (file)
        fclose (file);
    CHECK (lines == total / 3);
    unlink (path);

    //  refusals: a wrong secret (source) and a channel the ident may not
    //  publish to (sink) are counted in hpfeeds.refused, with the broker's
    //  words in hpfeeds.reason; the refused sink's stop does not wait
    zflow_pipeline_t *refused =
        zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "refused"}, NULL);
    config.ident = "feed";
    config.secret = "wrong";
    zflow_pipeline_source_hpfeeds (refused, "in", &config, "events");
    zflow_pipeline_sink_file (refused, "out", "/dev/null");
    zflow_pipeline_source_synthetic (refused, "synth", 0, 10);
    config.ident = "watch";
    config.secret = "s3";
    zflow_pipeline_sink_hpfeeds (refused, "publish", &config, "events");
    CHECK (zflow_pipeline_start (refused) == 0);
    deadline = zclock_mono () + 5000;
    while ((s_stat (refused, 0, "hpfeeds.refused") == 0 ||
            s_stat (refused, 3, "hpfeeds.refused") == 0) &&
           zclock_mono () < deadline)
        zclock_sleep (20);
    for (size_t stage = 0; stage < 4; stage += 3) {
        zhash_t *stats = zflow_pipeline_stage_stats (refused, stage, 2000);
        const char *reason = stats ? (const char *) zhash_lookup (stats, "hpfeeds.reason") : NULL;
        CHECK (zflow_actor_stats_get (stats, "hpfeeds.refused") >= 1);
        CHECK (reason && strstr (reason, stage ? "not allowed to pub" : "Authentication failed"));
        zhash_destroy (&stats);
    }
    int64_t stopping = zclock_mono ();
    zflow_pipeline_stop (refused, 3000);
    CHECK (zclock_mono () - stopping < 2000);
    zflow_pipeline_destroy (&refused);

    //  a bad client setting (no port) makes start fail, nothing left running
    zflow_pipeline_t *bad = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "bad"}, NULL);
    config.port = 0;
    zflow_pipeline_source_hpfeeds (bad, "in", &config, "events");
    zflow_pipeline_sink_file (bad, "out", "/dev/null");
    CHECK (zflow_pipeline_start (bad) == ZFLOW_ECONFIG);
    CHECK (!zflow_pipeline_running (bad));
    zflow_pipeline_destroy (&bad);

    zflow_msg_destroy (&msg);
    zflow_hpfeeds_destroy (&watch);
    zflow_hpfeeds_broker_destroy (&broker);
    printf ("hpfeeds bridge: ok (%" PRIu64 " of %" PRIu64 " events had hashes)\n", received, total);
    return 0;
}
