/*  =========================================================================
    zflow_hub_stage - hub sources and sinks for pipelines

    A hub is named by the name it has in this process (looked up when the
    pipeline starts) or by an endpoint it bound with zflow_hub_bind (any
    text with "://": a source takes the hub's bound sub endpoint, a sink
    its bound pub endpoint).

    A source is a PULL stage bound on a private inproc endpoint; a hub
    subscriber, created at start, adds an actor listener on the key
    pattern that pushes every matching envelope there. Lossless pipelines
    use the subscriber's BLOCK policy (a full stage holds the hub back),
    lossy ones DROP_NEWEST (counted by the subscriber).

    A sink is a callback stage that forwards each envelope through a hub
    publisher (zflow_hub_publisher_forward: meta untouched, the key under
    the sink's prefix). When the hub holds back, a lossless sink waits for
    the publisher's buffer to empty (up to S_WAIT_MS per message, keeping
    the message) so the stage stops taking input; a lossy sink drops the
    messages that find the buffer above its watermark, and what waits in
    the buffer goes with the next message or at stop.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_actor.h"
#include "zflow_error.h"
#include "zflow_hub_internal.h"
#include "zflow_hub_publisher.h"
#include "zflow_hub_subscriber.h"
#include "zflow_pipeline_stage.h"
#include <string.h>

//  How long a lossless sink waits for the hub per message, and how long a
//  remote hub gets to answer at start, in milliseconds.
#define S_WAIT_MS 5000

//  One stage's hub client.
typedef struct {
    char *hub;                   //  hub name, or an endpoint with "://"
    zflow_key_t *key;            //  source: the pattern; sink: the prefix or NULL
    char *endpoint;              //  source: the stage's inproc PULL endpoint
    bool sink;                   //  a sink (else a source)
    bool lossless;               //  as the pipeline's mode, at start
    zflow_hub_t *local;          //  the hub in this process (a reference), or NULL
    zflow_hub_subscriber_t *sub; //  source: the running subscriber
    zflow_hub_publisher_t *pub;  //  sink: the running publisher
} s_hub_stage_t;

static bool s_remote (const s_hub_stage_t *self)
{
    return strstr (self->hub, "://") != NULL;
}

static void s_stop (void *arg)
{
    s_hub_stage_t *self = (s_hub_stage_t *) arg;
    zflow_hub_subscriber_destroy (&self->sub);
    zflow_hub_publisher_destroy (&self->pub);
    zflow__hub_unref (&self->local);
}

static void s_free (void *arg)
{
    s_hub_stage_t *self = (s_hub_stage_t *) arg;
    s_stop (self);
    free (self->hub);
    free (self->endpoint);
    zflow_key_destroy (&self->key);
    free (self);
}

//  Remote source: waits until the hub announces our pattern (its
//  addedSubscriber notice), so what is published after start arrives.
//  Another subscriber adding the same pattern at the same moment can end
//  the wait early; a hub that does not answer ends it after S_WAIT_MS.
static int s_wait_notice (s_hub_stage_t *self, const char *stage)
{
    zflow_hub_subscriber_set_sync (self->sub, false);
    zflow_key_t *head = zflow_key_new ("Hub", "addedSubscriber", NULL);
    zflow_key_t *notice = head ? zflow_key_join (head, self->key, NULL) : NULL;
    zflow_key_destroy (&head);
    if (!notice)
        return 0; //  a pattern too long for a notice: no wait
    int rc = zflow_hub_subscriber_subscribe (self->sub, notice);
    if (rc == 0)
        rc = zflow_hub_subscriber_add_actor_listener (self->sub, self->key, self->endpoint);
    if (rc > 0) {
        zflow_msg_t *msg = zflow_msg_new ();
        int got = msg ? zflow_hub_subscriber_consume (self->sub, msg, S_WAIT_MS) : ZFLOW_ENOMEM;
        if (got)
            zsys_warning ("%s: hub %s did not confirm the subscription yet: %s", stage, self->hub,
                          zflow_error_text (got));
        zflow_msg_destroy (&msg);
        zflow_hub_subscriber_unsubscribe (self->sub, notice);
        rc = 0;
    }
    zflow_key_destroy (&notice);
    return rc;
}

static int s_start_source (s_hub_stage_t *self, zflow__stage_t *stage)
{
    int rc = 0;
    self->sub = self->local ? zflow_hub_subscriber_new (self->local, stage->name, &rc)
                            : zflow_hub_subscriber_new_remote (self->hub, stage->name, NULL, &rc);
    if (!self->sub)
        return rc;
    size_t limit = stage->hwm > 0 ? (size_t) stage->hwm : ZFLOW_HUB_DEFAULT_QUEUE;
    rc = zflow_hub_subscriber_set_queue (self->sub, limit,
                                         self->lossless ? ZFLOW_HUB_BLOCK : ZFLOW_HUB_DROP_NEWEST);
    if (rc == 0 && self->local) {
        //  sync mode: the hub has the subscription when this returns
        rc = zflow_hub_subscriber_add_actor_listener (self->sub, self->key, self->endpoint);
        rc = rc > 0 ? 0 : rc;
    } else if (rc == 0)
        rc = s_wait_notice (self, stage->name);
    return rc;
}

static int s_start (void *arg, zflow__stage_t *stage)
{
    s_hub_stage_t *self = (s_hub_stage_t *) arg;
    self->lossless = stage->mode == ZFLOW_PIPELINE_LOSSLESS;
    int rc = 0;
    if (!s_remote (self) && !(self->local = zflow__hub_lookup (self->hub)))
        rc = ZFLOW_ENOTFOUND;
    else if (self->sink)
        self->pub = self->local ? zflow_hub_publisher_new (self->local, self->key, &rc)
                                : zflow_hub_publisher_new_remote (self->hub, self->key, NULL,
                                                                  S_WAIT_MS, &rc);
    else
        rc = s_start_source (self, stage);
    if (rc) {
        zsys_error ("%s: hub %s: %s", stage->name, self->hub,
                    rc == ZFLOW_ENOTFOUND ? "no hub of that name in this process"
                                          : zflow_error_text (rc));
        s_stop (self);
    }
    return rc;
}

//  Sink: sends what the publisher still holds.
static int s_drain (void *arg, zflow__stage_t *stage, int64_t deadline)
{
    (void) stage;
    s_hub_stage_t *self = (s_hub_stage_t *) arg;
    if (!self->pub)
        return 0;
    int64_t left = deadline - zclock_mono ();
    return zflow_hub_publisher_flush (self->pub, left > 0 ? (int) left : 0);
}

static void s_stats (void *arg, zhash_t *stats)
{
    s_hub_stage_t *self = (s_hub_stage_t *) arg;
    zhash_t *client = self->sub ? zflow_hub_subscriber_stats (self->sub, 1000) : NULL;
    for (const char *value = client ? (const char *) zhash_first (client) : NULL; value;
         value = (const char *) zhash_next (client)) {
        char name[300];
        snprintf (name, sizeof (name), "hub.%s", zhash_cursor (client));
        zhash_update (stats, name, (void *) value);
    }
    zhash_destroy (&client);
    if (self->pub) {
        zflow_stream_t *stream = zflow_hub_publisher_stream (self->pub);
        char value[32];
        snprintf (value, sizeof (value), "%zu", zflow_stream_write_pending (stream));
        zhash_update (stats, "hub.pending", value);
        snprintf (value, sizeof (value), "%" PRIu64, zflow_stream_dropped (stream));
        zhash_update (stats, "hub.dropped", value);
    }
}

static const zflow__resource_ops_t s_ops = {
    .start = s_start, .drain = s_drain, .stop = s_stop, .stats = s_stats, .free = s_free};

//  Sink callback, in the stage's thread (the publisher is used from there
//  only while the pipeline runs; s_drain uses it once the stage drained).
static int s_write (zflow_msg_t *msg, void *arg)
{
    s_hub_stage_t *self = (s_hub_stage_t *) arg;
    if (!self->pub)
        return ZFLOW_ECLOSED;
    zflow_stream_t *stream = zflow_hub_publisher_stream (self->pub);
    if (!self->lossless && zflow_stream_write_pending_bytes (stream) >= ZFLOW_STREAM_DEFAULT_HIGH)
        return ZFLOW_EFULL;
    int rc = zflow_hub_publisher_forward (self->pub, msg);
    if ((rc == 0 || rc == ZFLOW_DRAIN) && zflow_stream_write_pending (stream)) {
        //  The hub holds back and the message waits in the publisher's
        //  buffer, which moves only when the publisher is called: lossless
        //  holds the stage until the hub took it all (so nothing waits for
        //  a next message that may not come); lossy sends what it can now
        //  and leaves the rest to the next message or to stop.
        int flushed = zflow_hub_publisher_flush (self->pub, self->lossless ? S_WAIT_MS : 0);
        if (flushed && self->lossless)
            zsys_warning ("hub sink: the hub holds back: %s", zflow_error_text (flushed));
    }
    return rc == ZFLOW_DRAIN ? 0 : rc;
}

static int s_add (zflow_pipeline_t *pipeline, const char *name, const char *hub, const char *key,
                  bool sink)
{
    if (!hub || !*hub || (!sink && (!key || !*key)))
        return zflow__pipeline_fail (pipeline, ZFLOW_EINVAL, "stage '%s': no hub or no key",
                                     name ? name : "");
    int err = 0;
    zflow_key_t *parsed = key && *key ? zflow_key_parse (key, &err) : NULL;
    if (key && *key && !parsed)
        return zflow__pipeline_fail (pipeline, ZFLOW_ECONFIG, "stage '%s': bad key '%s': %s",
                                     name ? name : "", key, zflow_error_text (err));
    s_hub_stage_t *self = (s_hub_stage_t *) zmalloc (sizeof (s_hub_stage_t));
    if (self) {
        self->hub = strdup (hub);
        self->key = parsed;
        self->sink = sink;
        self->endpoint = zsys_sprintf ("inproc://zflow-pipeline-hub-%p", (void *) self);
    }
    if (!self || !self->hub || !self->endpoint) {
        if (self)
            s_free (self);
        else
            zflow_key_destroy (&parsed);
        return zflow__pipeline_fail (pipeline, ZFLOW_ENOMEM, "out of memory");
    }
    //  a sink's callback gets the state, which the resource owns
    int rc = sink ? zflow_pipeline_sink_fn (pipeline, name, s_write, self, NULL)
                  : zflow_pipeline_source (pipeline, name, "pull", self->endpoint, NULL);
    if (rc) {
        s_free (self);
        return rc;
    }
    return zflow__pipeline_add_resource (pipeline, &s_ops, self);
}

int zflow_pipeline_source_hub (zflow_pipeline_t *self, const char *name, const char *hub,
                               const char *pattern)
{
    return s_add (self, name, hub, pattern, false);
}

int zflow_pipeline_sink_hub (zflow_pipeline_t *self, const char *name, const char *hub,
                             const char *prefix)
{
    return s_add (self, name, hub, prefix, true);
}
