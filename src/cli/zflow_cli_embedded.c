/*  =========================================================================
    zflow_cli_embedded - what `zflow run` runs without a file

    The hpfeeds seed's aiostream example, with nothing external needed:

        broker     an embedded hpfeeds broker on a free loopback port
        feed       synthetic honeypot-style JSON events (one in three with a
                   non-empty "hashes") -> hpfeeds channel "events" (ident feed)
        bridge     hpfeeds "events" (ident bridge)
                     -> hashes (keep events whose "hashes" is non-empty)
                     -> reencode (JSON, compact)
                     -> hpfeeds channel "hashes" and stdout (JSON lines)

    The bridge is the pipeline zflow run shows (status line, stats,
    metrics); the feed starts once the bridge is subscribed, so no event
    is published before anyone listens.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_cli_embedded.h"
#include "zflow_hpfeeds_broker.h"

struct _zflow_cli_embedded_t {
    zflow_hpfeeds_broker_t *broker; //  the embedded broker
    int port;                       //  its port
    zflow_pipeline_t *feed;         //  synthetic -> hpfeeds "events"
    zflow_pipeline_t *bridge;       //  hpfeeds "events" -> ... -> "hashes", stdout
    uint64_t count;                 //  events the feed sends (0: no end)
    int64_t feed_done_at;           //  when the feed was seen done, or 0
    bool quiet;                     //  no progress on stderr
};

//  Builds the two pipelines. Returns 0 or -1 (reported).
static int s_build (zflow_cli_embedded_t *self, uint64_t rate)
{
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.port = self->port;
    config.ident = "bridge";
    config.secret = "bridge-secret";
    zflow_pipeline_t *p = self->bridge =
        zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "bridge"}, NULL);
    zflow_pipeline_source_hpfeeds (p, "subscribe", &config, "events");
    zflow_pipeline_filter_nonempty (p, "hashes", "hashes");
    zflow_pipeline_encode (p, "reencode", ZFLOW_PIPELINE_JSON);
    zflow_pipeline_sink_hpfeeds (p, "republish", &config, "hashes");
    zflow_pipeline_sink_file (p, "stdout", "-");
    config.ident = "feed";
    config.secret = "feed-secret";
    zflow_pipeline_t *f = self->feed =
        zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "feed"}, NULL);
    zflow_pipeline_source_synthetic (f, "feed", rate, self->count);
    zflow_pipeline_sink_hpfeeds (f, "publish", &config, "events");
    zflow_pipeline_t *failed = zflow_pipeline_error (p) ? p : zflow_pipeline_error (f) ? f : NULL;
    if (failed)
        fprintf (stderr, "zflow: embedded default: %s\n", zflow_pipeline_error_text (failed));
    return failed ? -1 : 0;
}

zflow_cli_embedded_t *zflow_cli_embedded_new (uint64_t rate, uint64_t count, bool quiet)
{
    zflow_cli_embedded_t *self = (zflow_cli_embedded_t *) zmalloc (sizeof (*self));
    if (!self)
        return NULL;
    self->count = count;
    self->quiet = quiet;
    self->broker =
        zflow_hpfeeds_broker_new (&(zflow_hpfeeds_broker_config_t){.name = "zflow-embedded"}, NULL);
    const char *events[] = {"events", NULL};
    const char *hashes[] = {"hashes", NULL};
    const char *both[] = {"events", "hashes", NULL};
    if (self->broker) {
        zflow_hpfeeds_broker_add_user (self->broker, "feed", "feed-secret", events, NULL);
        zflow_hpfeeds_broker_add_user (self->broker, "bridge", "bridge-secret", hashes, both);
        zflow_hpfeeds_broker_add_user (self->broker, "watch", "watch-secret", NULL, both);
        self->port = zflow_hpfeeds_broker_bind (self->broker, "127.0.0.1", 0);
    }
    if (self->port <= 0) {
        fprintf (stderr, "zflow: embedded default: cannot start the hpfeeds broker: %s\n",
                 zflow_error_text (self->port));
        zflow_cli_embedded_destroy (&self);
        return NULL;
    }
    if (s_build (self, rate)) {
        zflow_cli_embedded_destroy (&self);
        return NULL;
    }
    if (!quiet)
        fprintf (stderr,
                 "zflow: embedded default: hpfeeds broker on 127.0.0.1:%d; feed (%s) -> "
                 "\"events\" -> bridge: keep events with hashes -> re-encode -> \"hashes\" "
                 "and stdout\n"
                 "zflow: watch it: zflow sub hpfeeds://watch:watch-secret@127.0.0.1:%d/hashes\n",
                 self->port, rate ? "rate limited" : "as fast as possible", self->port);
    return self;
}

zflow_pipeline_t *zflow_cli_embedded_pipeline (zflow_cli_embedded_t *self)
{
    return self->bridge;
}

int zflow_cli_embedded_started (zflow_cli_embedded_t *self)
{
    int64_t deadline = zclock_mono () + 5000;
    bool connected = false;
    while (!connected && zclock_mono () < deadline) {
        zhash_t *stats = zflow_pipeline_stage_stats (self->bridge, 0, 1000);
        connected = zflow_actor_stats_get (stats, "hpfeeds.connected") == 1;
        zhash_destroy (&stats);
        if (!connected)
            zclock_sleep (10);
    }
    //  the subscribe frame follows the auth on the same connection; give
    //  the broker a moment to have handled it
    zclock_sleep (50);
    if (!connected || zflow_pipeline_start (self->feed)) {
        fprintf (stderr, "zflow: embedded default: %s\n",
                 connected ? zflow_pipeline_error_text (self->feed)
                           : "the bridge could not connect to the embedded broker");
        return -1;
    }
    return 0;
}

bool zflow_cli_embedded_done (zflow_cli_embedded_t *self)
{
    if (!self->feed_done_at) {
        if (!zflow_pipeline_sources_done (self->feed))
            return false;
        self->feed_done_at = zclock_mono ();
    }
    zhash_t *stats = zflow_pipeline_stage_stats (self->bridge, 0, 1000);
    bool all = zflow_actor_stats_get (stats, "msgs_in") >= self->count;
    zhash_destroy (&stats);
    return all || zclock_mono () - self->feed_done_at > 3000;
}

void zflow_cli_embedded_stopping (zflow_cli_embedded_t *self, int timeout_ms)
{
    if (zflow_pipeline_running (self->feed))
        zflow_pipeline_stop (self->feed, timeout_ms);
}

void zflow_cli_embedded_destroy (zflow_cli_embedded_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_cli_embedded_t *self = *self_p;
    zflow_pipeline_destroy (&self->feed);
    zflow_pipeline_destroy (&self->bridge);
    zflow_hpfeeds_broker_destroy (&self->broker);
    free (self);
    *self_p = NULL;
}
