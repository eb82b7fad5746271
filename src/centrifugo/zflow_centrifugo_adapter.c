/*  =========================================================================
    zflow_centrifugo_adapter - the Centrifugo adapter: its descriptor, its
    sink stage (zflow_pipeline_sink_centrifugo) and its source stage

    Stage types centrifugo_pub (a sink: the server HTTP API) and
    centrifugo_sub (a source: the client protocol over WebSocket), or
    centrifugo with the role given by the section. URLs for zflow pub:
    http[s]://HOST:PORT/api; for zflow sub:
    centrifugo+ws[s]://HOST:PORT/connection/websocket.

    Sink:

    The stage is a PUSH bound on an inproc endpoint; a
    zflow_centrifugo_sink_t created when the pipeline starts reads it
    (PULL) and publishes each envelope into the channel its key maps to.
    Lossless pipelines let a full outbox push back; lossy ones drop there
    (counted by the sink). At stop the stage waits until the sink has dealt
    with (published, rejected or dropped) everything it was passed.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_actor.h"
#include "zflow_adapter_list.h"
#include "zflow_centrifugo_sink.h"
#include "zflow_centrifugo_source.h"
#include "zflow_error.h"
#include "zflow_pipeline_stage.h"
#include <string.h>

//  Checks url is a valid URL (port 1-65535, host, no space...) of one of
//  the two schemes. Returns 0 or -1 with err set.
static int s_check_url (const char *url, const char *scheme1, const char *scheme2, char *err,
                        size_t errsize)
{
    zflow_adapter_url_t parsed;
    if (zflow_adapter_url_parse (url, &parsed, err, errsize))
        return -1;
    if (!streq (parsed.scheme, scheme1) && !streq (parsed.scheme, scheme2)) {
        snprintf (err, errsize, "'%.100s%s' is not %s:// or %s://", url,
                  strlen (url) > 100 ? "..." : "", scheme1, scheme2);
        return -1;
    }
    return 0;
}

//  One stage's Centrifugo sink.
typedef struct {
    zflow_centrifugo_sink_config_t config; //  settings (strings below are ours)
    char *address;                         //  copies behind config's strings
    char *api_key;
    char *channel_rule;
    char *endpoint;                //  the inproc endpoint it reads
    zflow_centrifugo_sink_t *sink; //  the running sink, or NULL
} s_cf_t;

static void s_stop (void *arg)
{
    zflow_centrifugo_sink_destroy (&((s_cf_t *) arg)->sink);
}

static void s_free (void *arg)
{
    s_cf_t *self = (s_cf_t *) arg;
    s_stop (self);
    free (self->address);
    free (self->api_key);
    free (self->channel_rule);
    free (self->endpoint);
    free (self);
}

static int s_start (void *arg, zflow__stage_t *stage)
{
    s_cf_t *self = (s_cf_t *) arg;
    zflow_centrifugo_sink_config_t config = self->config;
    config.input_type = ZMQ_PULL;
    config.input_connect = self->endpoint;
    config.input_bind = NULL;
    config.lossy = stage->mode == ZFLOW_PIPELINE_LOSSY;
    int rc = 0;
    self->sink = zflow_centrifugo_sink_new (&config, &rc);
    if (!self->sink)
        zsys_error ("%s: Centrifugo sink %s: %s", stage->name, self->address,
                    zflow_error_text (rc));
    return self->sink ? 0 : (rc ? rc : ZFLOW_ECONFIG);
}

//  Messages the sink has finished with, one way or another.
static uint64_t s_done (s_cf_t *self)
{
    zhash_t *stats = zflow_centrifugo_sink_stats (self->sink, 1000);
    //  unmapped and malformed messages are already counted in drops
    uint64_t done =
        zflow_actor_stats_get (stats, "published") + zflow_actor_stats_get (stats, "drops");
    zhash_destroy (&stats);
    return done;
}

static int s_drain (void *arg, zflow__stage_t *stage, int64_t deadline)
{
    s_cf_t *self = (s_cf_t *) arg;
    zhash_t *stats = zflow_actor_stats (stage->actor, 1000);
    uint64_t passed = zflow_actor_stats_get (stats, "msgs_out");
    zhash_destroy (&stats);
    while (s_done (self) < passed) {
        if (zclock_mono () >= deadline)
            return ZFLOW_ETIMEDOUT;
        zclock_sleep (5);
    }
    return 0;
}

static void s_stats (void *arg, zhash_t *stats)
{
    s_cf_t *self = (s_cf_t *) arg;
    zhash_t *sink = self->sink ? zflow_centrifugo_sink_stats (self->sink, 1000) : NULL;
    for (const char *value = sink ? (const char *) zhash_first (sink) : NULL; value;
         value = (const char *) zhash_next (sink)) {
        char name[300];
        snprintf (name, sizeof (name), "centrifugo.%s", zhash_cursor (sink));
        zhash_update (stats, name, (void *) value);
    }
    if (sink) //  HTTP requests: no connection to wait for
        zhash_update (stats, "centrifugo.connected", "1");
    zhash_destroy (&sink);
}

static const zflow__resource_ops_t s_ops = {
    .start = s_start, .drain = s_drain, .stop = s_stop, .stats = s_stats, .free = s_free};

int zflow_pipeline_sink_centrifugo (zflow_pipeline_t *self, const char *name,
                                    const zflow_centrifugo_sink_config_t *config)
{
    char err[300];
    if (!config || !config->address)
        return zflow__pipeline_fail (self, ZFLOW_EINVAL, "stage '%s': no Centrifugo address",
                                     name ? name : "");
    if (s_check_url (config->address, "http", "https", err, sizeof (err)))
        return zflow__pipeline_fail (self, ZFLOW_EINVAL, "stage '%s': %s", name ? name : "", err);
    s_cf_t *state = (s_cf_t *) zmalloc (sizeof (s_cf_t));
    if (!state)
        return zflow__pipeline_fail (self, ZFLOW_ENOMEM, "out of memory");
    state->config = *config;
    state->address = strdup (config->address);
    state->api_key = config->api_key ? strdup (config->api_key) : NULL;
    state->channel_rule = config->channel_rule ? strdup (config->channel_rule) : NULL;
    state->config.address = state->address;
    state->config.api_key = state->api_key;
    state->config.channel_rule = state->channel_rule;
    state->config.subscribe = NULL;
    state->endpoint = zsys_sprintf ("inproc://zflow-pipeline-centrifugo-%p", (void *) state);
    int rc = zflow_pipeline_sink (self, name, "push", state->endpoint, NULL);
    if (rc) {
        s_free (state);
        return rc;
    }
    return zflow__pipeline_add_resource (self, &s_ops, state);
}

//  ---------------------------------------------------------------------
//  The source stage: a SUB stage on the PUB of a zflow_centrifugo_source_t
//  created at start (it also carries the source's events, key
//  ("centrifugo.event", <type>)).

//  One source stage's state.
typedef struct {
    zflow_centrifugo_source_config_t config; //  settings (strings below are ours)
    char *url;                               //  copies behind config's strings
    char *token;
    char *channels;
    char *ca_file;
    char *token_secret;
    char *token_user;
    char *endpoint;                    //  the PUB endpoint it binds
    zflow_centrifugo_source_t *source; //  the running source, or NULL
} s_source_t;

static void s_source_stop (void *arg)
{
    zflow_centrifugo_source_destroy (&((s_source_t *) arg)->source);
}

static void s_source_free (void *arg)
{
    s_source_t *self = (s_source_t *) arg;
    s_source_stop (self);
    free (self->url);
    free (self->token);
    free (self->channels);
    free (self->ca_file);
    free (self->token_secret);
    free (self->token_user);
    free (self->endpoint);
    free (self);
}

static int s_source_start (void *arg, zflow__stage_t *stage)
{
    s_source_t *self = (s_source_t *) arg;
    zflow_centrifugo_source_config_t config = self->config;
    config.lossless = stage->mode == ZFLOW_PIPELINE_LOSSLESS;
    config.name = stage->name;
    config.manual_start = true; //  connects once the stage listens (s_source_running)
    int rc = 0;
    self->source = zflow_centrifugo_source_new (&config, &rc);
    if (!self->source) {
        zsys_error ("%s: Centrifugo source %s: %s", stage->name, self->url, zflow_error_text (rc));
        return rc ? rc : ZFLOW_ECONFIG;
    }
    free (stage->connect);
    stage->connect = strdup (zflow_centrifugo_source_endpoint (self->source));
    return 0;
}

//  The stage's SUB is connected now: connect to Centrifugo, so that the
//  first events (connected, subscribed) reach it.
static int s_source_running (void *arg, zflow__stage_t *stage)
{
    (void) stage;
    return zflow_centrifugo_source_start (((s_source_t *) arg)->source);
}

static void s_source_stats (void *arg, zhash_t *stats)
{
    s_source_t *self = (s_source_t *) arg;
    zhash_t *source = self->source ? zflow_centrifugo_source_stats (self->source, 1000) : NULL;
    for (const char *value = source ? (const char *) zhash_first (source) : NULL; value;
         value = (const char *) zhash_next (source)) {
        char name[300];
        snprintf (name, sizeof (name), "centrifugo.%s", zhash_cursor (source));
        zhash_update (stats, name, (void *) value);
    }
    if (source) {
        bool up = zflow_actor_stats_get (source, "connects") >
                  zflow_actor_stats_get (source, "disconnects");
        zhash_update (stats, "centrifugo.connected", up ? "1" : "0");
    }
    zhash_destroy (&source);
}

static const zflow__resource_ops_t s_source_ops = {.start = s_source_start,
                                                   .stop = s_source_stop,
                                                   .stats = s_source_stats,
                                                   .free = s_source_free,
                                                   .running = s_source_running};

//  ---------------------------------------------------------------------
//  The descriptor

//  The options of both roles.
typedef struct {
    const char *address;      //  sink: API address
    const char *api_key;      //  sink: API key
    const char *channel_rule; //  sink: key -> channel template
    int format;               //  sink: 0 modern, 1 legacy
    int64_t batch_max;        //  sink: commands per batch
    int64_t max_attempts;     //  sink: attempts per batch (0: no limit)
    bool binary;              //  sink: every payload as b64data
    const char *url;          //  source: client WebSocket URL
    const char *channels;     //  source: channels, comma- or line-separated
    const char *token;        //  source: connection token
    bool insecure;            //  source: wss without certificate checks
    const char *ca;           //  source: trusted CAs file
    const char *token_secret; //  source: HMAC secret to sign tokens with
    const char *token_user;   //  source: their "sub" claim
    int64_t token_ttl;        //  source: their lifetime in seconds
} s_options_t;

#define S_SINK ZFLOW_ADAPTER_SINK
#define S_SOURCE ZFLOW_ADAPTER_SOURCE

static const zflow_adapter_option_t s_options[] = {
    {"address", ZFLOW_ADAPTER_STRING, true, NULL, NULL,
     "Centrifugo API address, http(s)://host:port/api", offsetof (s_options_t, address), S_SINK},
    {"api_key", ZFLOW_ADAPTER_STRING, false, NULL, NULL, "API key", offsetof (s_options_t, api_key),
     S_SINK},
    {"channel_rule", ZFLOW_ADAPTER_STRING, false, "{*}", NULL,
     "key -> channel: {*} all components joined by ':', {N} component N",
     offsetof (s_options_t, channel_rule), S_SINK},
    {"channel", ZFLOW_ADAPTER_STRING, false, NULL, NULL,
     "one channel for every message (instead of channel_rule)",
     offsetof (s_options_t, channel_rule), S_SINK},
    {"format", ZFLOW_ADAPTER_ENUM, false, "modern", "modern|legacy",
     "server API: modern (v5+, /api/batch) or legacy (v3/v4)", offsetof (s_options_t, format),
     S_SINK},
    {"batch_max", ZFLOW_ADAPTER_INT, false, "100", NULL, "publish commands per HTTP request",
     offsetof (s_options_t, batch_max), S_SINK},
    {"max_attempts", ZFLOW_ADAPTER_INT, false, "0", NULL,
     "attempts per batch before it is dropped (0: retry for ever)",
     offsetof (s_options_t, max_attempts), S_SINK},
    {"binary", ZFLOW_ADAPTER_BOOL, false, "false", NULL,
     "publish payloads as b64data (Protobuf subscribers only; default: JSON, other text as a "
     "JSON string, non-UTF-8 skipped)",
     offsetof (s_options_t, binary), S_SINK},
    {"url", ZFLOW_ADAPTER_STRING, true, NULL, NULL,
     "client WebSocket URL, ws[s]://host:port/connection/websocket", offsetof (s_options_t, url),
     S_SOURCE},
    {"channel", ZFLOW_ADAPTER_STRING, true, NULL, NULL,
     "channels to subscribe, comma-separated (--channel again for more)",
     offsetof (s_options_t, channels), S_SOURCE},
    {"token", ZFLOW_ADAPTER_STRING, false, NULL, NULL, "connection token (JWT)",
     offsetof (s_options_t, token), S_SOURCE},
    {"insecure", ZFLOW_ADAPTER_BOOL, false, "false", NULL,
     "wss: skip the certificate checks (testing only)", offsetof (s_options_t, insecure), S_SOURCE},
    {"ca", ZFLOW_ADAPTER_STRING, false, NULL, NULL, "wss: file of trusted CA certificates",
     offsetof (s_options_t, ca), S_SOURCE},
    {"token_secret", ZFLOW_ADAPTER_STRING, false, NULL, NULL,
     "the server's HMAC secret: sign connection and subscription tokens (HS256) and refresh them",
     offsetof (s_options_t, token_secret), S_SOURCE},
    {"token_user", ZFLOW_ADAPTER_STRING, false, NULL, NULL,
     "the signed tokens' user (sub claim; default: the --token's, else anonymous)",
     offsetof (s_options_t, token_user), S_SOURCE},
    {"token_ttl", ZFLOW_ADAPTER_INT, false, "3600", NULL, "lifetime of the signed tokens, seconds",
     offsetof (s_options_t, token_ttl), S_SOURCE},
    {NULL}};

//  http[s]://... is the API address (sink); centrifugo+ws[s]://... the
//  client URL (source).
static int s_from_url (const char *url, int role, zconfig_t *section, char *err, size_t errsize)
{
    bool api = strncmp (url, "http://", 7) == 0 || strncmp (url, "https://", 8) == 0;
    bool client =
        strncmp (url, "centrifugo+ws://", 16) == 0 || strncmp (url, "centrifugo+wss://", 17) == 0;
    if (role == S_SINK && api) {
        if (s_check_url (url, "http", "https", err, errsize))
            return -1;
        zconfig_put (section, "address", url);
    } else if (role == S_SOURCE && client) {
        if (s_check_url (url, "centrifugo+ws", "centrifugo+wss", err, errsize))
            return -1;
        zconfig_put (section, "url", url + strlen ("centrifugo+"));
    } else {
        snprintf (err, errsize, "'%.100s%s': Centrifugo %s", url, strlen (url) > 100 ? "..." : "",
                  role == S_SINK ? "takes http[s]://HOST:PORT/api"
                                 : "takes centrifugo+ws[s]://HOST:PORT/connection/websocket");
        return -1;
    }
    return 0;
}

static int s_add_sink (zflow_pipeline_t *pipeline, const char *name, const void *config, char *err,
                       size_t errsize)
{
    const s_options_t *self = (const s_options_t *) config;
    if (self->batch_max < 1 || self->batch_max > 10000) {
        snprintf (err, errsize, "batch_max must be 1-10000");
        return -1;
    }
    zflow_centrifugo_sink_config_t cf;
    memset (&cf, 0, sizeof (cf));
    cf.address = self->address;
    cf.api_key = self->api_key;
    cf.channel_rule = self->channel_rule;
    cf.format = self->format ? ZFLOW_CENTRIFUGO_LEGACY : ZFLOW_CENTRIFUGO_MODERN;
    cf.batch_max = (size_t) self->batch_max;
    cf.max_attempts = self->max_attempts > 1000000 ? 1000000 : (int) self->max_attempts;
    cf.binary = self->binary;
    int rc = zflow_pipeline_sink_centrifugo (pipeline, name, &cf);
    if (rc)
        snprintf (err, errsize, "%s", zflow_pipeline_error_text (pipeline));
    return rc;
}

static int s_add_source (zflow_pipeline_t *pipeline, const char *name, const void *config,
                         char *err, size_t errsize)
{
    const s_options_t *options = (const s_options_t *) config;
    if (s_check_url (options->url, "ws", "wss", err, errsize))
        return -1;
    s_source_t *self = (s_source_t *) zmalloc (sizeof (s_source_t));
    self->url = strdup (options->url);
    self->channels = strdup (options->channels);
    for (char *c = self->channels; *c; c++)
        *c = *c == '\n' ? ',' : *c; //  --channel a --channel b
    self->token = options->token ? strdup (options->token) : NULL;
    self->ca_file = options->ca ? strdup (options->ca) : NULL;
    self->token_secret = options->token_secret ? strdup (options->token_secret) : NULL;
    self->token_user = options->token_user ? strdup (options->token_user) : NULL;
    self->config.token_secret = self->token_secret;
    self->config.token_user = self->token_user;
    self->config.token_ttl = options->token_ttl < 1         ? ZFLOW_CENTRIFUGO_SOURCE_TOKEN_TTL
                             : options->token_ttl > 1000000 ? 1000000
                                                            : (int) options->token_ttl;
    self->endpoint = zsys_sprintf ("inproc://zflow-pipeline-centrifugo-source-%p", (void *) self);
    self->config.url = self->url;
    self->config.channels = self->channels;
    self->config.token = self->token;
    self->config.ca_file = self->ca_file;
    self->config.insecure = options->insecure;
    self->config.endpoint = self->endpoint;
    self->config.key_prefix = "centrifugo";
    //  the real endpoint is the source's, set at start
    int rc = zflow_pipeline_source (pipeline, name, "sub", NULL, "inproc://unset");
    if (rc) {
        s_source_free (self);
        snprintf (err, errsize, "%s", zflow_pipeline_error_text (pipeline));
        return rc;
    }
    rc = zflow__pipeline_add_resource (pipeline, &s_source_ops, self);
    if (rc)
        snprintf (err, errsize, "%s", zflow_pipeline_error_text (pipeline));
    return rc;
}

const zflow_adapter_t zflow__adapter_centrifugo = {
    .name = "centrifugo",
    .aliases = "centrifugo_pub=sink|centrifugo_sub=source",
    .schemes = "centrifugo+ws|centrifugo+wss|http|https",
    .summary = "publishes each envelope into Centrifugo (server HTTP API), or reads its channels "
               "(client protocol)",
    .url_form = "http[s]://HOST:PORT/api (pub), "
                "centrifugo+ws[s]://HOST:PORT/connection/websocket (sub)",
    .config_size = sizeof (s_options_t),
    .options = s_options,
    .from_url = s_from_url,
    .source = s_add_source,
    .sink = s_add_sink,
    .stats = {.connected = "centrifugo.connected",
              .delivered = "centrifugo.published",
              .dropped = "centrifugo.drops",
              .events = "centrifugo.event",
              .fatal = "failed|error:subscribe",
              //  sink: a wrong API key (HTTP 401/403) is refused for good
              .refused = "centrifugo.refused",
              .reason = "centrifugo.reason",
              .all = "centrifugo.<sink or source counter>|centrifugo.connected"}};
