/*  =========================================================================
    zflow_pipeline_ws - WebSocket feed sources and sinks for pipelines

    The stage owns one zflow_ws_t feed, created when the pipeline starts
    (not autostarted), and one feed stream with the stage's filter: the
    stream is the stage's input, so it exists before the first message
    can arrive. Lossless pipelines use ZFLOW_WS_BACKPRESSURE (a full stage
    pauses reading the WebSocket), lossy ones ZFLOW_WS_DROP (counted by the
    feed).

    A sink stage owns a feed too (autostarted) and sends each payload with
    zflow_ws_send from the stage's thread; only that thread uses the feed's
    send socket, while the pipeline's thread asks the feed's actor for
    STATS.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_actor.h"
#include "zflow_envelope.h"
#include "zflow_error.h"
#include "zflow_pipeline_stage.h"
#include "zflow_ws.h"
#include <string.h>

//  One stage's feed.
typedef struct {
    char *url;                 //  ws:// or wss:// URL
    char *filter;              //  JSON filter, or NULL for everything
    char *send;                //  text sent after every connect, or NULL
    char *endpoint;            //  the feed's PUB endpoint (unique per state)
    zflow_ws_t *feed;          //  the running feed, or NULL
    zflow_ws_stream_t *stream; //  the stage's input stream, or NULL
    bool sink;                 //  a sink (else a source)
    bool lossless;             //  sink: wait for room instead of dropping
} s_ws_t;

static void s_stop (void *arg)
{
    s_ws_t *self = (s_ws_t *) arg;
    zflow_ws_stream_destroy (&self->stream);
    zflow_ws_destroy (&self->feed);
}

static void s_free (void *arg)
{
    s_ws_t *self = (s_ws_t *) arg;
    s_stop (self);
    free (self->url);
    free (self->filter);
    free (self->send);
    free (self->endpoint);
    free (self);
}

static int s_start (void *arg, zflow__stage_t *stage)
{
    s_ws_t *self = (s_ws_t *) arg;
    zflow_ws_config_t *config = zflow_ws_config_new (self->url);
    int rc = config ? 0 : ZFLOW_ECONFIG;
    rc = rc ? rc : zflow_ws_config_set_autostart (config, false);
    rc = rc ? rc : zflow_ws_config_set_name (config, stage->name);
    rc = rc ? rc : zflow_ws_config_set_endpoint (config, self->endpoint);
    if (rc == 0 && self->send)
        rc = zflow_ws_config_on_connect_send (config, self->send);
    if (rc == 0)
        self->feed = zflow_ws_new (config, &rc);
    zflow_ws_config_destroy (&config);
    self->lossless = stage->mode == ZFLOW_PIPELINE_LOSSLESS;
    if (self->sink) {
        if (self->feed)
            rc = zflow_ws_start (self->feed);
        if (rc) {
            zsys_error ("%s: WebSocket sink %s: %s", stage->name, self->url, zflow_strerror (rc));
            s_stop (self);
        }
        return rc;
    }
    int policy = self->lossless ? ZFLOW_WS_BACKPRESSURE : ZFLOW_WS_DROP;
    if (self->feed)
        self->stream =
            zflow_ws_stream_filter (self->feed, self->filter, (size_t) stage->hwm, policy, &rc);
    if (self->stream) {
        stage->external = zflow_ws_stream_stream (self->stream);
        rc = zflow_ws_start (self->feed);
    }
    if (rc) {
        zsys_error ("%s: WebSocket feed %s: %s", stage->name, self->url, zflow_strerror (rc));
        s_stop (self);
    }
    return rc;
}

static void s_stats (void *arg, zhash_t *stats)
{
    s_ws_t *self = (s_ws_t *) arg;
    zhash_t *feed = zflow_ws_stats (self->feed, 1000);
    for (const char *value = feed ? (const char *) zhash_first (feed) : NULL; value;
         value = (const char *) zhash_next (feed)) {
        char name[300];
        snprintf (name, sizeof (name), "ws.%s", zhash_cursor (feed));
        zhash_update (stats, name, (void *) value);
    }
    const char *reconnects = feed ? (const char *) zhash_lookup (feed, "reconnects") : NULL;
    if (reconnects)
        zhash_update (stats, "reconnects", (void *) reconnects);
    zhash_destroy (&feed);
}

static const zflow__resource_ops_t s_ops = {s_start, NULL, s_stop, s_stats, s_free};

//  Sink: sends the first payload frame; text if UTF-8, else binary. A
//  full send queue waits (lossless, up to 5 s) or drops (lossy).
static int s_write (zflow_msg_t *msg, void *arg)
{
    s_ws_t *self = (s_ws_t *) arg;
    size_t size;
    const void *payload = zflow_envelope_payload (msg, &size);
    if (!payload || !self->feed)
        return ZFLOW_EPROTO;
    bool binary = false;
    int64_t deadline = zclock_mono () + 5000;
    while (true) {
        int rc = zflow_ws_send (self->feed, payload, size, binary);
        if (rc == ZFLOW_EPROTO && !binary)
            binary = true;
        else if (rc == ZFLOW_EFULL && self->lossless && zclock_mono () < deadline)
            zclock_sleep (1);
        else
            return rc;
    }
}

static int s_add (zflow_pipeline_t *self, const char *name, const char *url, const char *filter,
                  const char *send, bool sink)
{
    if (!url || (strncmp (url, "ws://", 5) && strncmp (url, "wss://", 6)))
        return zflow__pipeline_fail (self, ZFLOW_EINVAL,
                                     "stage '%s': '%s' is not a ws:// or "
                                     "wss:// URL",
                                     name ? name : "", url ? url : "(null)");
    s_ws_t *state = (s_ws_t *) zmalloc (sizeof (s_ws_t));
    if (!state)
        return zflow__pipeline_fail (self, ZFLOW_ENOMEM, "out of memory");
    state->url = strdup (url);
    state->filter = filter && *filter ? strdup (filter) : NULL;
    state->send = send && *send ? strdup (send) : NULL;
    state->endpoint = zsys_sprintf ("inproc://zflow-pipeline-ws-%p", (void *) state);
    state->sink = sink;
    //  a source's endpoint is never used: the actor reads the feed stream;
    //  a sink's callback gets the state, which the resource owns
    int rc = sink ? zflow_pipeline_sink_fn (self, name, s_write, state, NULL)
                  : zflow_pipeline_source (self, name, "pull", NULL, "inproc://unused");
    if (rc) {
        s_free (state);
        return rc;
    }
    return zflow__pipeline_add_resource (self, &s_ops, state);
}

int zflow_pipeline_source_ws (zflow_pipeline_t *self, const char *name, const char *url,
                              const char *filter, const char *send)
{
    return s_add (self, name, url, filter, send, false);
}

int zflow_pipeline_sink_ws (zflow_pipeline_t *self, const char *name, const char *url,
                            const char *send)
{
    return s_add (self, name, url, NULL, send, true);
}
