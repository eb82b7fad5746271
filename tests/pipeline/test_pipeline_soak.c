/*  =========================================================================
    test_pipeline_soak - hpfeeds -> filter -> hpfeeds with the broker
    restarted 5 times in the middle (label soak)

    A feed publishes ZFLOW_SOAK_COUNT synthetic events (default 60000; the
    issue's full size is 1000000) into "events"; a lossless bridge keeps
    the events with hashes and publishes them to "hashes"; a watcher counts
    what arrives, except for 200 ms in the middle when it unsubscribes
    (pub/sub: what is published meanwhile reaches no one; the broker
    counts it). Five times while events flow, the broker is stopped the
    way `zflow broker` stops on SIGTERM (zflow_hpfeeds_broker_drain: the
    clients send their last whole frame and keep the rest) and a new one is
    started on the same port. Checks: the run finishes; every client
    reconnects each time; no event arrives twice; memory stays bounded; and
    the loss measured end to end equals the loss zflow counts:

        lost     = (events generated - events that reached the filter)
                 + (events the filter passed - events the watcher got)
        counted  = publishes the brokers routed to no one (a client had
                   not subscribed again yet) + frames dropped by a drain
                 + every client's inflight_lost, outbox_drops,
                   inproc_drops and refused_drops

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

#include "zflow_testing.h"

static zflow_hpfeeds_broker_t *s_broker (int port, int *port_p)
{
    zflow_hpfeeds_broker_t *broker =
        zflow_hpfeeds_broker_new (&(zflow_hpfeeds_broker_config_t){.name = "soak"}, NULL);
    const char *events[] = {"events", NULL};
    const char *hashes[] = {"hashes", NULL};
    zflow_hpfeeds_broker_add_user (broker, "feed", "s1", events, NULL);
    zflow_hpfeeds_broker_add_user (broker, "bridge", "s2", hashes, events);
    zflow_hpfeeds_broker_add_user (broker, "watch", "s3", NULL, hashes);
    //  the old listener may linger a moment: retry the same port
    for (int tries = 0; tries < 100; tries++) {
        *port_p = zflow_hpfeeds_broker_bind (broker, "127.0.0.1", port);
        if (*port_p > 0)
            break;
        zclock_sleep (20);
    }
    CHECK (*port_p > 0);
    return broker;
}

static uint64_t s_stat (zflow_pipeline_t *p, size_t index, const char *name)
{
    zhash_t *stats = zflow_pipeline_stage_stats (p, index, 2000);
    uint64_t value = zflow_actor_stats_get (stats, name);
    zhash_destroy (&stats);
    return value;
}

//  What a broker counted as lost: publishes it routed to no one, frames a
//  drain dropped.
static uint64_t s_broker_counted (zflow_hpfeeds_broker_t *broker)
{
    zhash_t *stats = zflow_hpfeeds_broker_stats (broker, 5000);
    CHECK (stats);
    uint64_t counted =
        zflow_actor_stats_get (stats, "unrouted") + zflow_actor_stats_get (stats, "drain_lost");
    zhash_destroy (&stats);
    return counted;
}

static long s_rss_kib (void)
{
    FILE *file = fopen ("/proc/self/status", "r");
    char line[256];
    long kib = 0;
    while (file && fgets (line, sizeof (line), file))
        if (strncmp (line, "VmRSS:", 6) == 0)
            kib = strtol (line + 6, NULL, 10);
    if (file)
        fclose (file);
    return kib;
}

//  Reads what the watcher has, marking seqs; returns how many it read.
static uint64_t s_watch (zflow_hpfeeds_t *watch, zflow_msg_t *msg, byte *seen, uint64_t total,
                         uint64_t *duplicates, int timeout_ms)
{
    uint64_t got = 0;
    while (zflow_hpfeeds_read (watch, msg, timeout_ms) == 0) {
        const void *payload;
        size_t size;
        CHECK (zflow_hpfeeds_unpack (msg, NULL, NULL, &payload, &size) == 0);
        const char *at = memmem (payload, size, "\"seq\":", 6);
        CHECK (at);
        uint64_t seq = strtoull (at + 6, NULL, 10);
        CHECK (seq < total && seq % 3 == 0); //  only events with hashes
        if (seen[seq])
            (*duplicates)++;
        seen[seq] = 1;
        got++;
        timeout_ms = 0;
    }
    return got;
}

int main (void)
{
    const char *env = getenv ("ZFLOW_SOAK_COUNT");
    uint64_t total = env ? strtoull (env, NULL, 10) : 60000;
    CHECK (total >= 600);
    int port = 0;
    zflow_hpfeeds_broker_t *broker = s_broker (0, &port);

    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.port = port;
    config.backoff_min_ms = 20;
    config.backoff_max_ms = 100;
    config.ident = "bridge";
    config.secret = "s2";
    zflow_pipeline_t *bridge =
        zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "bridge"}, NULL);
    zflow_pipeline_source_hpfeeds (bridge, "subscribe", &config, "events");
    zflow_pipeline_filter_nonempty (bridge, "hashes", "hashes");
    zflow_pipeline_sink_hpfeeds (bridge, "republish", &config, "hashes");
    CHECK (zflow_pipeline_start (bridge) == 0);

    zflow_hpfeeds_config_t watch_config = config;
    watch_config.ident = "watch";
    watch_config.secret = "s3";
    zflow_hpfeeds_t *watch = zflow_hpfeeds_new (&watch_config, NULL);
    zflow_hpfeeds_subscribe (watch, "hashes");
    int64_t deadline = zclock_mono () + 5000;
    while ((s_stat (bridge, 0, "hpfeeds.connected") != 1 || !zflow_hpfeeds_connected (watch)) &&
           zclock_mono () < deadline)
        zclock_sleep (10);
    zclock_sleep (100);

    config.ident = "feed";
    config.secret = "s1";
    zflow_pipeline_t *feed = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "feed"}, NULL);
    zflow_pipeline_source_synthetic (feed, "synth", 20000, total);
    zflow_pipeline_sink_hpfeeds (feed, "publish", &config, "events");
    CHECK (zflow_pipeline_start (feed) == 0);

    byte *seen = (byte *) zmalloc (total);
    uint64_t received = 0, duplicates = 0, restarts = 0, broker_counted = 0;
    zflow_msg_t *msg = zflow_msg_new ();
    long rss_start = s_rss_kib (), rss_peak = rss_start;
    int64_t left = 0; //  when the watcher left (0: not yet; -1: back)
    //  restart the broker each time another sixth of the events went out
    while (!zflow_pipeline_sources_done (feed)) {
        received += s_watch (watch, msg, seen, total, &duplicates, 20);
        uint64_t generated = s_stat (feed, 0, "generated");
        if (restarts < 5 && generated >= (restarts + 1) * total / 6) {
            CHECK (zflow_hpfeeds_broker_drain (broker, 5000) >= 0);
            broker_counted += s_broker_counted (broker);
            zflow_hpfeeds_broker_destroy (&broker);
            broker = s_broker (port, &port);
            restarts++;
        }
        //  between the 2nd and 3rd restart the watcher leaves for 200 ms:
        //  what is published to "hashes" meanwhile reaches no one (counted)
        if (restarts == 2 && !left && generated >= 5 * total / 12) {
            CHECK (zflow_hpfeeds_unsubscribe (watch, "hashes") == 0);
            left = zclock_mono ();
        }
        if (left > 0 && zclock_mono () - left >= 200) {
            CHECK (zflow_hpfeeds_subscribe (watch, "hashes") == 0);
            left = -1;
        }
        long rss = s_rss_kib ();
        rss_peak = rss > rss_peak ? rss : rss_peak;
    }
    CHECK (restarts == 5);
    //  let the tail through: until the watcher has been quiet for a second
    uint64_t got;
    do
        received += (got = s_watch (watch, msg, seen, total, &duplicates, 1000));
    while (got);

    uint64_t unique = 0;
    for (uint64_t seq = 0; seq < total; seq++)
        unique += seen[seq];
    uint64_t expected = (total + 2) / 3;
    zhash_t *feed_stats = zflow_pipeline_stage_stats (feed, 1, 2000);
    zhash_t *in_stats = zflow_pipeline_stage_stats (bridge, 0, 2000);
    zhash_t *filter_stats = zflow_pipeline_stage_stats (bridge, 1, 2000);
    zhash_t *out_stats = zflow_pipeline_stage_stats (bridge, 2, 2000);
    zhash_t *watch_stats = zflow_hpfeeds_stats (watch, 5000);
    CHECK (feed_stats && in_stats && filter_stats && out_stats && watch_stats);
    uint64_t filter_in = zflow_actor_stats_get (filter_stats, "msgs_in");
    uint64_t filter_out = zflow_actor_stats_get (filter_stats, "msgs_out");
    CHECK (filter_in <= total && filter_out <= filter_in && unique <= filter_out);
    uint64_t lost = (total - filter_in) + (filter_out - unique);
    uint64_t counted = broker_counted + s_broker_counted (broker);
    const char *names[] = {"hpfeeds.inflight_lost", "hpfeeds.outbox_drops", "hpfeeds.inproc_drops",
                           "hpfeeds.refused_drops"};
    for (int n = 0; n < 4; n++)
        counted += zflow_actor_stats_get (feed_stats, names[n]) +
                   zflow_actor_stats_get (in_stats, names[n]) +
                   zflow_actor_stats_get (out_stats, names[n]) +
                   zflow_actor_stats_get (watch_stats, names[n] + 8);
    printf ("soak: %" PRIu64 " events, %" PRIu64 " with hashes, %" PRIu64 " reached the filter, "
            "%" PRIu64 " passed, %" PRIu64 " arrived; lost around 5 broker restarts: %" PRIu64
            " measured, %" PRIu64 " counted by zflow; %" PRIu64
            " duplicates; reconnects feed %" PRIu64 " bridge %" PRIu64 "+%" PRIu64 " watch %" PRIu64
            "; RSS %ld -> peak %ld KiB\n",
            total, expected, filter_in, filter_out, unique, lost, counted, duplicates,
            zflow_actor_stats_get (feed_stats, "reconnects"),
            zflow_actor_stats_get (in_stats, "reconnects"),
            zflow_actor_stats_get (out_stats, "reconnects"),
            zflow_actor_stats_get (watch_stats, "disconnects"), rss_start, rss_peak);
    CHECK (duplicates == 0);
    CHECK (received == unique);
    CHECK (zflow_actor_stats_get (feed_stats, "reconnects") >= 5);
    CHECK (zflow_actor_stats_get (in_stats, "reconnects") >= 5);
    CHECK (zflow_actor_stats_get (out_stats, "reconnects") >= 5);
    CHECK (zflow_actor_stats_get (watch_stats, "disconnects") >= 5);
    CHECK (zflow_actor_stats_get (watch_stats, "broker_shutdowns") == 5); //  each stop was a drain
    CHECK (left == -1 && lost > 0);           //  the watcher's absence cost something
    CHECK (lost == counted);                  //  every loss is accounted for
    CHECK (unique > expected / 2);            //  the restarts cost a little, not most
    CHECK (rss_peak - rss_start < 64 * 1024); //  bounded memory
    zhash_destroy (&feed_stats);
    zhash_destroy (&in_stats);
    zhash_destroy (&filter_stats);
    zhash_destroy (&out_stats);
    zhash_destroy (&watch_stats);
    CHECK (zflow_pipeline_stop (feed, 2000) == 0);
    zflow_pipeline_stop (bridge, 2000);
    zflow_pipeline_destroy (&feed);
    zflow_pipeline_destroy (&bridge);
    zflow_hpfeeds_destroy (&watch);
    zflow_hpfeeds_broker_destroy (&broker);
    zflow_msg_destroy (&msg);
    free (seen);
    return 0;
}
