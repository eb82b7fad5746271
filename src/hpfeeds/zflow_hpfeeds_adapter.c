/*  =========================================================================
    zflow_hpfeeds_adapter - the hpfeeds adapter: its descriptor and its
    pipeline stages (zflow_pipeline_source_hpfeeds / sink_hpfeeds)

    Stage types hpfeeds_sub (a source) and hpfeeds_pub (a sink), or
    hpfeeds with the role given by the section (input: a sink); URL
    hpfeeds://IDENT:SECRET@HOST:PORT/CHANNEL[,CHANNEL...] for zflow pub /
    zflow sub.

    Each stage owns one zflow_hpfeeds_t client, created when the pipeline
    starts (so building or checking a pipeline connects nowhere) and
    destroyed when it stops. A source is a SUB stage on the client's inproc
    output; a sink is a PUSH stage bound on an inproc endpoint that the
    client reads with publish_from.

    The client's events are read whenever the stage's STATS are asked for
    (and at drain): an ERROR event (the broker's error frame - a wrong
    secret, a channel the ident may not use - or a TLS verification
    failure) is counted in hpfeeds.refused and its text kept in
    hpfeeds.reason, so that zflow pub / sub can stop at once with the
    broker's words (else hpfeeds.reason says why a lossless sink dropped
    messages: only one too big for a frame can be). A sink that was refused and is not connected has
    nothing to drain: what it holds waits for a broker that said no.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_actor.h"
#include "zflow_adapter_list.h"
#include "zflow_error.h"
#include "zflow_pipeline_stage.h"
#include <pthread.h>
#include <string.h>

//  One stage's client and what it needs to start it.
typedef struct {
    zflow_hpfeeds_config_t config; //  settings (strings below are ours)
    char *host;                    //  copies behind config's strings
    char *ident;
    char *secret;
    char *channels;          //  source: channels; sink: the channel
    char *endpoint;          //  sink: the inproc endpoint it reads
    bool sink;               //  a sink (else a source)
    bool block;              //  sink: a full outbox blocks (lossless), so its only
                             //  drops are messages too big for a frame
    zflow_hpfeeds_t *client; //  the running client, or NULL
    pthread_mutex_t lock;    //  guards the reading of the client's events (STATS and
                             //  drain may come from different threads) and the two below
    uint64_t refused;        //  ERROR events seen: refusals by the broker
    char *reason;            //  the text of the last one, or NULL
} s_hpfeeds_t;

static void s_free (void *arg)
{
    s_hpfeeds_t *self = (s_hpfeeds_t *) arg;
    zflow_hpfeeds_destroy (&self->client);
    pthread_mutex_destroy (&self->lock);
    free (self->reason);
    free (self->host);
    free (self->ident);
    free (self->secret);
    free (self->channels);
    free (self->endpoint);
    free (self);
}

static int s_start (void *arg, zflow__stage_t *stage)
{
    s_hpfeeds_t *self = (s_hpfeeds_t *) arg;
    zflow_hpfeeds_config_t config = self->config;
    bool lossless = stage->mode == ZFLOW_PIPELINE_LOSSLESS;
    config.lossless = lossless;
    config.reader = false;
    if (self->sink)
        config.outbox_policy = lossless ? ZFLOW_HPFEEDS_BLOCK : ZFLOW_HPFEEDS_DROP_OLDEST;
    self->block = self->sink && lossless;
    int rc = 0;
    self->client = zflow_hpfeeds_new (&config, &rc);
    if (!self->client) {
        zsys_error ("%s: hpfeeds client refused its settings: %s", stage->name,
                    zflow_error_text (rc));
        return rc ? rc : ZFLOW_ECONFIG;
    }
    if (self->sink)
        rc = zflow_hpfeeds_publish_from (self->client, ZMQ_PULL, self->endpoint, NULL,
                                         self->channels);
    else {
        char *copy = strdup (self->channels), *save = NULL;
        for (char *channel = strtok_r (copy, ", ", &save); channel && rc == 0;
             channel = strtok_r (NULL, ", ", &save))
            rc = zflow_hpfeeds_subscribe (self->client, channel);
        free (copy);
        free (stage->connect);
        stage->connect = strdup (zflow_hpfeeds_endpoint (self->client));
    }
    if (rc) {
        zsys_error ("%s: hpfeeds: %s", stage->name, zflow_error_text (rc));
        zflow_hpfeeds_destroy (&self->client);
    }
    return rc;
}

//  Reads the client's pending events: counts the refusals (ERROR) and
//  keeps the last one's text. Returns the refusals so far.
static uint64_t s_read_events (s_hpfeeds_t *self)
{
    pthread_mutex_lock (&self->lock);
    int type = 0;
    char *text;
    while (self->client && (text = zflow_hpfeeds_event (self->client, &type, 0))) {
        if (type == ZFLOW_HPFEEDS_EVENT_ERROR) {
            self->refused++;
            free (self->reason);
            self->reason = text;
        } else
            zstr_free (&text);
    }
    uint64_t refused = self->refused;
    pthread_mutex_unlock (&self->lock);
    return refused;
}

//  Sink: waits until the client has written what the stage passed it (or
//  dropped it: too big, refused), or until a broker that refused it is gone.
static int s_drain (void *arg, zflow__stage_t *stage, int64_t deadline)
{
    s_hpfeeds_t *self = (s_hpfeeds_t *) arg;
    if (!self->sink || !self->client)
        return 0;
    zhash_t *stats = zflow_actor_stats (stage->actor, 1000);
    uint64_t passed = zflow_actor_stats_get (stats, "msgs_out");
    zhash_destroy (&stats);
    while (true) {
        stats = zflow_hpfeeds_stats (self->client, 5000);
        uint64_t sent = zflow_actor_stats_get (stats, "sent") +
                        zflow_actor_stats_get (stats, "outbox_drops") +
                        zflow_actor_stats_get (stats, "refused_drops");
        bool connected = zflow_actor_stats_get (stats, "connected") > 0;
        zhash_destroy (&stats);
        if (sent >= passed || (s_read_events (self) && !connected))
            return 0;
        if (zclock_mono () >= deadline)
            return ZFLOW_ETIMEDOUT;
        zclock_sleep (5);
    }
}

static void s_stop (void *arg)
{
    zflow_hpfeeds_destroy (&((s_hpfeeds_t *) arg)->client);
}

static void s_stats (void *arg, zhash_t *stats)
{
    s_hpfeeds_t *self = (s_hpfeeds_t *) arg;
    zhash_t *client = self->client ? zflow_hpfeeds_stats (self->client, 5000) : NULL;
    for (const char *value = client ? (const char *) zhash_first (client) : NULL; value;
         value = (const char *) zhash_next (client)) {
        char name[300];
        snprintf (name, sizeof (name), "hpfeeds.%s", zhash_cursor (client));
        zhash_update (stats, name, (void *) value);
    }
    const char *disconnects = client ? (const char *) zhash_lookup (client, "disconnects") : NULL;
    if (disconnects)
        zhash_update (stats, "reconnects", (void *) disconnects);
    if (client) {
        //  what will never reach the broker: too big, or to a refused channel
        char number[32];
        snprintf (number, sizeof (number), "%" PRIu64,
                  zflow_actor_stats_get (client, "outbox_drops") +
                      zflow_actor_stats_get (client, "refused_drops"));
        zhash_update (stats, "hpfeeds.dropped", number);
        snprintf (number, sizeof (number), "%" PRIu64, s_read_events (self));
        zhash_update (stats, "hpfeeds.refused", number);
        pthread_mutex_lock (&self->lock);
        uint64_t too_big = self->block ? zflow_actor_stats_get (client, "outbox_drops") : 0;
        if (self->reason)
            zhash_update (stats, "hpfeeds.reason", self->reason);
        else if (too_big) {
            char text[120];
            snprintf (text, sizeof (text),
                      "%" PRIu64 " message%s over the hpfeeds frame limit (1 MiB) dropped", too_big,
                      too_big > 1 ? "s" : "");
            zhash_update (stats, "hpfeeds.reason", text);
        }
        pthread_mutex_unlock (&self->lock);
    }
    zhash_destroy (&client);
}

static const zflow__resource_ops_t s_ops = {
    .start = s_start, .drain = s_drain, .stop = s_stop, .stats = s_stats, .free = s_free};

//  Copies config and the channel(s) into a new state, or returns NULL.
static s_hpfeeds_t *s_new (const zflow_hpfeeds_config_t *config, const char *channels, bool sink)
{
    s_hpfeeds_t *self = (s_hpfeeds_t *) zmalloc (sizeof (s_hpfeeds_t));
    if (!self)
        return NULL;
    self->config = *config;
    self->host = strdup (config->host ? config->host : "127.0.0.1");
    self->ident = config->ident ? strdup (config->ident) : NULL;
    self->secret = config->secret ? strdup (config->secret) : NULL;
    self->channels = strdup (channels);
    self->sink = sink;
    pthread_mutex_init (&self->lock, NULL);
    self->config.host = self->host;
    self->config.ident = self->ident;
    self->config.secret = self->secret;
    return self;
}

static int s_add (zflow_pipeline_t *pipeline, const char *name,
                  const zflow_hpfeeds_config_t *config, const char *channels, bool sink)
{
    if (!config || !channels || !*channels)
        return zflow__pipeline_fail (pipeline, ZFLOW_EINVAL, "stage '%s': no hpfeeds channel",
                                     name ? name : "");
    s_hpfeeds_t *self = s_new (config, channels, sink);
    if (self && sink)
        self->endpoint = zsys_sprintf ("inproc://zflow-hpfeeds-%p-%s", (void *) self, name);
    if (!self || (sink && !self->endpoint)) {
        if (self)
            s_free (self);
        return zflow__pipeline_fail (pipeline, ZFLOW_ENOMEM, "out of memory");
    }
    //  the source's real endpoint is the client's, known at start
    int rc = sink ? zflow_pipeline_sink (pipeline, name, "push", self->endpoint, NULL)
                  : zflow_pipeline_source (pipeline, name, "sub", NULL, "inproc://unset");
    if (rc) {
        s_free (self);
        return rc;
    }
    return zflow__pipeline_add_resource (pipeline, &s_ops, self);
}

int zflow_pipeline_source_hpfeeds (zflow_pipeline_t *self, const char *name,
                                   const zflow_hpfeeds_config_t *config, const char *channels)
{
    return s_add (self, name, config, channels, false);
}

int zflow_pipeline_sink_hpfeeds (zflow_pipeline_t *self, const char *name,
                                 const zflow_hpfeeds_config_t *config, const char *channel)
{
    return s_add (self, name, config, channel, true);
}

//  ---------------------------------------------------------------------
//  The descriptor

//  The options of both roles (channels: source, channel: sink).
typedef struct {
    const char *host;       //  broker host
    int64_t port;           //  broker port
    const char *ident;      //  ident
    const char *secret;     //  secret
    const char *channels;   //  channels (source) or channel (sink)
    int64_t backoff_max_ms; //  longest reconnect delay
    int64_t outbox_kib;     //  outbox limit, KiB
} s_options_t;

static const zflow_adapter_option_t s_options[] = {
    {"host", ZFLOW_ADAPTER_STRING, false, "127.0.0.1", NULL, "broker host",
     offsetof (s_options_t, host), 0},
    {"port", ZFLOW_ADAPTER_INT, true, NULL, NULL, "broker port", offsetof (s_options_t, port), 0},
    {"ident", ZFLOW_ADAPTER_STRING, true, NULL, NULL, "ident to authenticate with",
     offsetof (s_options_t, ident), 0},
    {"secret", ZFLOW_ADAPTER_STRING, true, NULL, NULL, "secret of the ident",
     offsetof (s_options_t, secret), 0},
    {"backoff_max_ms", ZFLOW_ADAPTER_INT, false, "5000", NULL, "longest reconnect delay, ms",
     offsetof (s_options_t, backoff_max_ms), 0},
    {"outbox_kib", ZFLOW_ADAPTER_INT, false, "4096", NULL,
     "publishes kept while disconnected, KiB (at least 1126)", offsetof (s_options_t, outbox_kib),
     0},
    {"channels", ZFLOW_ADAPTER_STRING, true, NULL, NULL, "channels to subscribe, comma-separated",
     offsetof (s_options_t, channels), ZFLOW_ADAPTER_SOURCE},
    {"channel", ZFLOW_ADAPTER_STRING, true, NULL, NULL, "channel to publish each payload to",
     offsetof (s_options_t, channels), ZFLOW_ADAPTER_SINK},
    {NULL}};

//  hpfeeds://IDENT:SECRET@HOST:PORT/CHANNEL[,CHANNEL...]; HOST may be a
//  [bracketed] IPv6 address.
static int s_from_url (const char *url, int role, zconfig_t *section, char *err, size_t errsize)
{
    zflow_adapter_url_t parsed;
    if (zflow_adapter_url_parse (url, &parsed, err, errsize))
        return -1;
    const char *missing = !streq (parsed.scheme, "hpfeeds")          ? "not hpfeeds://"
                          : !parsed.userinfo || !parsed.has_password ? "no IDENT:SECRET@"
                          : !*parsed.user                            ? "no IDENT"
                          : !parsed.port                             ? "no :PORT"
                          : parsed.path[0] != '/' || !parsed.path[1] ? "no /CHANNEL"
                                                                     : NULL;
    if (missing) {
        snprintf (err, errsize, "'%.100s%s' is not hpfeeds://IDENT:SECRET@HOST:PORT/CHANNEL (%s)",
                  url, strlen (url) > 100 ? "..." : "", missing);
        return -1;
    }
    char port[8];
    snprintf (port, sizeof (port), "%d", parsed.port);
    zconfig_put (section, "ident", parsed.user);
    zconfig_put (section, "secret", parsed.password);
    zconfig_put (section, "host", parsed.host);
    zconfig_put (section, "port", port);
    zconfig_put (section, role == ZFLOW_ADAPTER_SINK ? "channel" : "channels", parsed.path + 1);
    return 0;
}

static int s_add_stage (zflow_pipeline_t *pipeline, const char *name, const void *config, bool sink,
                        char *err, size_t errsize)
{
    const s_options_t *self = (const s_options_t *) config;
    if (self->port < 1 || self->port > 65535 || self->backoff_max_ms > 3600000 ||
        self->outbox_kib < 1126 || self->outbox_kib > 1024 * 1024) {
        snprintf (err, errsize,
                  "port must be 1-65535, backoff_max_ms at most 3600000, "
                  "outbox_kib 1126-1048576");
        return -1;
    }
    zflow_hpfeeds_config_t hpfeeds;
    zflow_hpfeeds_config_init (&hpfeeds);
    hpfeeds.host = self->host;
    hpfeeds.port = (int) self->port;
    hpfeeds.ident = self->ident;
    hpfeeds.secret = self->secret;
    hpfeeds.backoff_max_ms = (int) self->backoff_max_ms;
    hpfeeds.outbox_bytes = (size_t) self->outbox_kib * 1024;
    int rc = s_add (pipeline, name, &hpfeeds, self->channels, sink);
    if (rc)
        snprintf (err, errsize, "%s", zflow_pipeline_error_text (pipeline));
    return rc;
}

static int s_add_source (zflow_pipeline_t *pipeline, const char *name, const void *config,
                         char *err, size_t errsize)
{
    return s_add_stage (pipeline, name, config, false, err, errsize);
}

static int s_add_sink (zflow_pipeline_t *pipeline, const char *name, const void *config, char *err,
                       size_t errsize)
{
    return s_add_stage (pipeline, name, config, true, err, errsize);
}

const zflow_adapter_t zflow__adapter_hpfeeds = {
    .name = "hpfeeds",
    .aliases = "hpfeeds_sub=source|hpfeeds_pub=sink",
    .schemes = "hpfeeds",
    .summary = "subscribes to hpfeeds channels (key hpfeeds/<channel>), or publishes each payload "
               "to one",
    .url_form = "hpfeeds://IDENT:SECRET@HOST:PORT/CHANNEL[,CHANNEL...]",
    .config_size = sizeof (s_options_t),
    .options = s_options,
    .from_url = s_from_url,
    .source = s_add_source,
    .sink = s_add_sink,
    .stats = {.connected = "hpfeeds.connected",
              .delivered = "hpfeeds.sent",
              .dropped = "hpfeeds.dropped",
              .refused = "hpfeeds.refused",
              .reason = "hpfeeds.reason",
              //  hpfeeds acknowledges nothing: a refused publish is known
              //  by the error frame, within a round trip
              .settle_ms = 200,
              .all = "hpfeeds.<client counter>|hpfeeds.dropped|hpfeeds.refused|hpfeeds.reason|"
                     "reconnects"}};
