/*  =========================================================================
    zflow_cli_adapters - the stage types a configuration file can use

    One const descriptor per type, each with its option table. Every
    section of a file also takes "type" (one of these names) and, for all
    but sources, "input" (the sections it reads from, comma-separated);
    the loader handles those two.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_cli.h"
#include <string.h>

//  Copies the pipeline's error text after a failed builder call.
static int s_result (zflow_pipeline_t *pipeline, int rc, char *err, size_t errsize)
{
    if (rc)
        snprintf (err, errsize, "%s", zflow_pipeline_error_text (pipeline));
    return rc;
}

//  ---------------------------------------------------------------------
//  ZeroMQ endpoints: pull, sub (sources), push, pub (sinks)

typedef struct {
    const char *bind;        //  endpoints to bind
    const char *connect;     //  endpoints to connect
    const char *server_cert; //  CURVE: zcert file when binding
    const char *client_cert; //  CURVE: zcert file when connecting
    const char *server_key;  //  CURVE: server public key (zcert file or Z85)
    const char *subscribe;   //  sub: key prefixes
} s_endpoint_t;

static const zflow_cli_option_t s_endpoint_options[] = {
    {"bind", ZFLOW_CLI_STRING, false, NULL, NULL,
     "endpoints to bind, comma-separated (tcp://127.0.0.1:*, ipc://...)",
     offsetof (s_endpoint_t, bind)},
    {"connect", ZFLOW_CLI_STRING, false, NULL, NULL, "endpoints to connect, comma-separated",
     offsetof (s_endpoint_t, connect)},
    {"server_cert", ZFLOW_CLI_STRING, false, NULL, NULL,
     "CURVE server: czmq zcert file (with its _secret file), binding side",
     offsetof (s_endpoint_t, server_cert)},
    {"client_cert", ZFLOW_CLI_STRING, false, NULL, NULL,
     "CURVE client: zcert file, connecting side (default: a new key)",
     offsetof (s_endpoint_t, client_cert)},
    {"server_key", ZFLOW_CLI_STRING, false, NULL, NULL,
     "CURVE client: server public key, zcert file or 40-char Z85",
     offsetof (s_endpoint_t, server_key)},
    {NULL}};

//  sub: the same and the key prefixes it subscribes to.
static const zflow_cli_option_t s_sub_options[] = {
    {"bind", ZFLOW_CLI_STRING, false, NULL, NULL,
     "endpoints to bind, comma-separated (tcp://127.0.0.1:*, ipc://...)",
     offsetof (s_endpoint_t, bind)},
    {"connect", ZFLOW_CLI_STRING, false, NULL, NULL,
     "endpoints to connect, comma-separated (e.g. a hub's bound sub endpoint)",
     offsetof (s_endpoint_t, connect)},
    {"subscribe", ZFLOW_CLI_STRING, false, NULL, NULL,
     "key prefixes a/b, comma-separated (default: everything)", offsetof (s_endpoint_t, subscribe)},
    {"server_cert", ZFLOW_CLI_STRING, false, NULL, NULL,
     "CURVE server: czmq zcert file (with its _secret file), binding side",
     offsetof (s_endpoint_t, server_cert)},
    {"client_cert", ZFLOW_CLI_STRING, false, NULL, NULL,
     "CURVE client: zcert file, connecting side (default: a new key)",
     offsetof (s_endpoint_t, client_cert)},
    {"server_key", ZFLOW_CLI_STRING, false, NULL, NULL,
     "CURVE client: server public key, zcert file or 40-char Z85",
     offsetof (s_endpoint_t, server_key)},
    {NULL}};

static int s_build_endpoint (zflow_pipeline_t *pipeline, const char *name, const char *type,
                             bool source, const s_endpoint_t *config, char *err, size_t errsize)
{
    if (!config->bind == !config->connect) {
        snprintf (err, errsize, "needs exactly one of 'bind' or 'connect'");
        return -1;
    }
    if ((config->server_cert && !config->bind) || (config->server_key && !config->connect)) {
        snprintf (err, errsize, "'server_cert' goes with 'bind', 'server_key' with 'connect'");
        return -1;
    }
    //  a missing key file is a configuration error, found before anything starts
    const char *files[] = {
        config->server_cert, config->client_cert,
        config->server_key && strlen (config->server_key) != 40 ? config->server_key : NULL};
    const char *names[] = {"server_cert", "client_cert", "server_key"};
    for (int i = 0; i < 3; i++) {
        char secret[1024];
        snprintf (secret, sizeof (secret), "%s_secret", files[i] ? files[i] : "");
        if (files[i] && (!zsys_file_exists (files[i]) || (i < 2 && !zsys_file_exists (secret)))) {
            snprintf (err, errsize, "'%s': no such zcert file '%s'%s", names[i], files[i],
                      i < 2 ? " (with its _secret file)" : "");
            return -1;
        }
    }
    zflow_pipeline_set_curve (pipeline, config->server_cert, config->client_cert,
                              config->server_key);
    int rc = source ? zflow_pipeline_source (pipeline, name, type, config->bind, config->connect)
                    : zflow_pipeline_sink (pipeline, name, type, config->bind, config->connect);
    zflow_pipeline_set_curve (pipeline, NULL, NULL, NULL);
    if (rc == 0 && config->subscribe)
        rc = zflow_pipeline_subscribe (pipeline, config->subscribe);
    return s_result (pipeline, rc, err, errsize);
}

#define S_ENDPOINT_BUILD(fname, type, source)                                                      \
    static int fname (zflow_pipeline_t *pipeline, const char *name, const void *config, char *err, \
                      size_t errsize)                                                              \
    {                                                                                              \
        return s_build_endpoint (pipeline, name, type, source, (const s_endpoint_t *) config, err, \
                                 errsize);                                                         \
    }
S_ENDPOINT_BUILD (s_build_pull, "pull", true)
S_ENDPOINT_BUILD (s_build_sub, "sub", true)
S_ENDPOINT_BUILD (s_build_push, "push", false)
S_ENDPOINT_BUILD (s_build_pub, "pub", false)

//  ---------------------------------------------------------------------
//  synthetic (source)

typedef struct {
    int64_t rate;  //  events per second
    int64_t count; //  events in all (0: no end)
} s_synthetic_t;

static const zflow_cli_option_t s_synthetic_options[] = {
    {"rate", ZFLOW_CLI_INT, false, "100", NULL, "events per second (0: as fast as links take)",
     offsetof (s_synthetic_t, rate)},
    {"count", ZFLOW_CLI_INT, false, "0", NULL, "events to send, then stop (0: no end)",
     offsetof (s_synthetic_t, count)},
    {NULL}};

static int s_build_synthetic (zflow_pipeline_t *pipeline, const char *name, const void *config,
                              char *err, size_t errsize)
{
    const s_synthetic_t *self = (const s_synthetic_t *) config;
    int rc = zflow_pipeline_source_synthetic (pipeline, name, (uint64_t) self->rate,
                                              (uint64_t) self->count);
    return s_result (pipeline, rc, err, errsize);
}

//  ---------------------------------------------------------------------
//  merge, filter, nonempty, rekey, encode (stages)

static const zflow_cli_option_t s_no_options[] = {{NULL}};

static int s_build_merge (zflow_pipeline_t *pipeline, const char *name, const void *config,
                          char *err, size_t errsize)
{
    (void) config;
    return s_result (pipeline, zflow_pipeline_merge (pipeline, name), err, errsize);
}

typedef struct {
    const char *match; //  JSON list of objects
} s_filter_t;

static const zflow_cli_option_t s_filter_options[] = {
    {"match", ZFLOW_CLI_STRING, true, NULL, NULL,
     "JSON list of objects; keeps a message when all pairs of one object equal its fields",
     offsetof (s_filter_t, match)},
    {NULL}};

static int s_build_filter (zflow_pipeline_t *pipeline, const char *name, const void *config,
                           char *err, size_t errsize)
{
    const s_filter_t *self = (const s_filter_t *) config;
    return s_result (pipeline, zflow_pipeline_filter_json (pipeline, name, self->match), err,
                     errsize);
}

typedef struct {
    const char *field; //  top-level field that must be non-empty
} s_nonempty_t;

static const zflow_cli_option_t s_nonempty_options[] = {
    {"field", ZFLOW_CLI_STRING, true, NULL, NULL,
     "top-level JSON field that must be present and non-empty", offsetof (s_nonempty_t, field)},
    {NULL}};

static int s_build_nonempty (zflow_pipeline_t *pipeline, const char *name, const void *config,
                             char *err, size_t errsize)
{
    const s_nonempty_t *self = (const s_nonempty_t *) config;
    return s_result (pipeline, zflow_pipeline_filter_nonempty (pipeline, name, self->field), err,
                     errsize);
}

typedef struct {
    const char *from; //  key prefix to replace
    const char *to;   //  replacement
} s_rekey_t;

static const zflow_cli_option_t s_rekey_options[] = {
    {"from", ZFLOW_CLI_STRING, false, "", NULL, "key prefix to replace, a/b (empty: every key)",
     offsetof (s_rekey_t, from)},
    {"to", ZFLOW_CLI_STRING, true, NULL, NULL, "replacement prefix, a/b (empty: remove)",
     offsetof (s_rekey_t, to)},
    {NULL}};

static int s_build_rekey (zflow_pipeline_t *pipeline, const char *name, const void *config,
                          char *err, size_t errsize)
{
    const s_rekey_t *self = (const s_rekey_t *) config;
    return s_result (pipeline, zflow_pipeline_rekey (pipeline, name, self->from, self->to), err,
                     errsize);
}

typedef struct {
    int encoding; //  0 json, 1 msgpack
} s_encode_t;

static const zflow_cli_option_t s_encode_options[] = {
    {"encoding", ZFLOW_CLI_ENUM, false, "json", "json|msgpack", "payload encoding to produce",
     offsetof (s_encode_t, encoding)},
    {NULL}};

static int s_build_encode (zflow_pipeline_t *pipeline, const char *name, const void *config,
                           char *err, size_t errsize)
{
    const s_encode_t *self = (const s_encode_t *) config;
    int rc = zflow_pipeline_encode (pipeline, name, (zflow_pipeline_encoding_t) self->encoding);
    return s_result (pipeline, rc, err, errsize);
}

//  ---------------------------------------------------------------------
//  file (sink)

typedef struct {
    const char *path; //  file, or "-" for stdout
} s_file_t;

static const zflow_cli_option_t s_file_options[] = {{"path", ZFLOW_CLI_STRING, false, "-", NULL,
                                                     "file to append JSON lines to (- is stdout)",
                                                     offsetof (s_file_t, path)},
                                                    {NULL}};

static int s_build_file (zflow_pipeline_t *pipeline, const char *name, const void *config,
                         char *err, size_t errsize)
{
    const s_file_t *self = (const s_file_t *) config;
    return s_result (pipeline, zflow_pipeline_sink_file (pipeline, name, self->path), err, errsize);
}

//  ---------------------------------------------------------------------
//  hpfeeds_sub (source), hpfeeds_pub (sink)

typedef struct {
    const char *host;       //  broker host
    int64_t port;           //  broker port
    const char *ident;      //  ident
    const char *secret;     //  secret
    const char *channels;   //  channels (source) or channel (sink)
    int64_t backoff_max_ms; //  longest reconnect delay
    int64_t outbox_kib;     //  outbox limit, KiB
} s_hpfeeds_t;

#define S_HPFEEDS_COMMON                                                                           \
    {"host",                                                                                       \
     ZFLOW_CLI_STRING,                                                                             \
     false,                                                                                        \
     "127.0.0.1",                                                                                  \
     NULL,                                                                                         \
     "broker host",                                                                                \
     offsetof (s_hpfeeds_t, host)},                                                                \
        {"port", ZFLOW_CLI_INT, true, NULL, NULL, "broker port", offsetof (s_hpfeeds_t, port)},    \
        {"ident",                                                                                  \
         ZFLOW_CLI_STRING,                                                                         \
         true,                                                                                     \
         NULL,                                                                                     \
         NULL,                                                                                     \
         "ident to authenticate with",                                                             \
         offsetof (s_hpfeeds_t, ident)},                                                           \
        {"secret",                                                                                 \
         ZFLOW_CLI_STRING,                                                                         \
         true,                                                                                     \
         NULL,                                                                                     \
         NULL,                                                                                     \
         "secret of the ident",                                                                    \
         offsetof (s_hpfeeds_t, secret)},                                                          \
        {"backoff_max_ms",                                                                         \
         ZFLOW_CLI_INT,                                                                            \
         false,                                                                                    \
         "5000",                                                                                   \
         NULL,                                                                                     \
         "longest reconnect delay, ms",                                                            \
         offsetof (s_hpfeeds_t, backoff_max_ms)},                                                  \
    {                                                                                              \
        "outbox_kib", ZFLOW_CLI_INT, false, "4096", NULL,                                          \
            "publishes kept while disconnected, KiB (at least 1126)",                              \
            offsetof (s_hpfeeds_t, outbox_kib)                                                     \
    }

static const zflow_cli_option_t s_hpfeeds_sub_options[] = {
    S_HPFEEDS_COMMON,
    {"channels", ZFLOW_CLI_STRING, true, NULL, NULL, "channels to subscribe, comma-separated",
     offsetof (s_hpfeeds_t, channels)},
    {NULL}};

static const zflow_cli_option_t s_hpfeeds_pub_options[] = {
    S_HPFEEDS_COMMON,
    {"channel", ZFLOW_CLI_STRING, true, NULL, NULL, "channel to publish each payload to",
     offsetof (s_hpfeeds_t, channels)},
    {NULL}};

static int s_build_hpfeeds (zflow_pipeline_t *pipeline, const char *name, const void *config,
                            bool sink, char *err, size_t errsize)
{
    const s_hpfeeds_t *self = (const s_hpfeeds_t *) config;
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
    int rc = sink ? zflow_pipeline_sink_hpfeeds (pipeline, name, &hpfeeds, self->channels)
                  : zflow_pipeline_source_hpfeeds (pipeline, name, &hpfeeds, self->channels);
    return s_result (pipeline, rc, err, errsize);
}

static int s_build_hpfeeds_sub (zflow_pipeline_t *pipeline, const char *name, const void *config,
                                char *err, size_t errsize)
{
    return s_build_hpfeeds (pipeline, name, config, false, err, errsize);
}

static int s_build_hpfeeds_pub (zflow_pipeline_t *pipeline, const char *name, const void *config,
                                char *err, size_t errsize)
{
    return s_build_hpfeeds (pipeline, name, config, true, err, errsize);
}

//  ---------------------------------------------------------------------
//  ws_sub (source), centrifugo_pub (sink)

typedef struct {
    const char *url;    //  ws:// or wss:// URL
    const char *filter; //  JSON filter
    const char *send;   //  text sent after every connect
} s_ws_t;

static const zflow_cli_option_t s_ws_options[] = {
    {"url", ZFLOW_CLI_STRING, true, NULL, NULL, "WebSocket URL, ws:// or wss://",
     offsetof (s_ws_t, url)},
    {"filter", ZFLOW_CLI_STRING, false, NULL, NULL,
     "JSON list of objects; only matching messages (default: all)", offsetof (s_ws_t, filter)},
    {"send", ZFLOW_CLI_STRING, false, NULL, NULL,
     "text sent after every connect (login, subscribe)", offsetof (s_ws_t, send)},
    {NULL}};

static int s_build_ws (zflow_pipeline_t *pipeline, const char *name, const void *config, char *err,
                       size_t errsize)
{
    const s_ws_t *self = (const s_ws_t *) config;
    return s_result (pipeline,
                     zflow_pipeline_source_ws (pipeline, name, self->url, self->filter, self->send),
                     err, errsize);
}

static const zflow_cli_option_t s_ws_pub_options[] = {
    {"url", ZFLOW_CLI_STRING, true, NULL, NULL, "WebSocket URL, ws:// or wss://",
     offsetof (s_ws_t, url)},
    {"send", ZFLOW_CLI_STRING, false, NULL, NULL, "text sent first after every connect (login)",
     offsetof (s_ws_t, send)},
    {NULL}};

static int s_build_ws_pub (zflow_pipeline_t *pipeline, const char *name, const void *config,
                           char *err, size_t errsize)
{
    const s_ws_t *self = (const s_ws_t *) config;
    return s_result (pipeline, zflow_pipeline_sink_ws (pipeline, name, self->url, self->send), err,
                     errsize);
}

typedef struct {
    const char *address;      //  API address
    const char *api_key;      //  API key
    const char *channel_rule; //  key -> channel template
    int format;               //  0 modern, 1 legacy
    int64_t batch_max;        //  commands per batch
} s_cf_t;

static const zflow_cli_option_t s_cf_options[] = {
    {"address", ZFLOW_CLI_STRING, true, NULL, NULL,
     "Centrifugo API address, http(s)://host:port/api", offsetof (s_cf_t, address)},
    {"api_key", ZFLOW_CLI_STRING, false, NULL, NULL, "API key", offsetof (s_cf_t, api_key)},
    {"channel_rule", ZFLOW_CLI_STRING, false, "{*}", NULL,
     "key -> channel: {*} all components joined by ':', {N} component N",
     offsetof (s_cf_t, channel_rule)},
    {"format", ZFLOW_CLI_ENUM, false, "modern", "modern|legacy",
     "server API: modern (v5+, /api/batch) or legacy (v3/v4)", offsetof (s_cf_t, format)},
    {"batch_max", ZFLOW_CLI_INT, false, "100", NULL, "publish commands per HTTP request",
     offsetof (s_cf_t, batch_max)},
    {NULL}};

static int s_build_centrifugo (zflow_pipeline_t *pipeline, const char *name, const void *config,
                               char *err, size_t errsize)
{
    const s_cf_t *self = (const s_cf_t *) config;
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
    return s_result (pipeline, zflow_pipeline_sink_centrifugo (pipeline, name, &cf), err, errsize);
}

//  ---------------------------------------------------------------------
//  The table of types, and the "zflow" section

static const zflow_cli_adapter_t s_adapters[] = {
    {"pull", "source", "reads a ZeroMQ PULL socket (envelopes pass, other messages are wrapped)",
     sizeof (s_endpoint_t), s_endpoint_options, s_build_pull},
    {"sub", "source", "reads a ZeroMQ SUB socket (a PUB, a hub), by key prefix",
     sizeof (s_endpoint_t), s_sub_options, s_build_sub},
    {"hpfeeds_sub", "source", "subscribes to hpfeeds channels (key hpfeeds/<channel>)",
     sizeof (s_hpfeeds_t), s_hpfeeds_sub_options, s_build_hpfeeds_sub},
    {"ws_sub", "source", "reads a WebSocket feed (key ws/<section>)", sizeof (s_ws_t), s_ws_options,
     s_build_ws},
    {"synthetic", "source", "generates honeypot-style JSON events, one in three with hashes",
     sizeof (s_synthetic_t), s_synthetic_options, s_build_synthetic},
    {"merge", "stage", "merges its inputs into one stream", 0, s_no_options, s_build_merge},
    {"filter", "stage", "keeps messages whose JSON fields match (as the WebSocket filters)",
     sizeof (s_filter_t), s_filter_options, s_build_filter},
    {"nonempty", "stage", "keeps messages whose JSON field is present and non-empty",
     sizeof (s_nonempty_t), s_nonempty_options, s_build_nonempty},
    {"rekey", "stage", "rewrites a key prefix", sizeof (s_rekey_t), s_rekey_options, s_build_rekey},
    {"encode", "stage", "re-encodes JSON or msgpack payloads", sizeof (s_encode_t),
     s_encode_options, s_build_encode},
    {"push", "sink", "writes envelopes to a ZeroMQ PUSH socket", sizeof (s_endpoint_t),
     s_endpoint_options, s_build_push},
    {"pub", "sink", "writes envelopes to a ZeroMQ PUB socket", sizeof (s_endpoint_t),
     s_endpoint_options, s_build_pub},
    {"hpfeeds_pub", "sink", "publishes each payload to an hpfeeds channel", sizeof (s_hpfeeds_t),
     s_hpfeeds_pub_options, s_build_hpfeeds_pub},
    {"ws_pub", "sink", "sends each payload to a WebSocket server", sizeof (s_ws_t),
     s_ws_pub_options, s_build_ws_pub},
    {"centrifugo_pub", "sink", "publishes each envelope into Centrifugo (server HTTP API)",
     sizeof (s_cf_t), s_cf_options, s_build_centrifugo},
    {"file", "sink", "writes payloads as JSON lines to a file or stdout", sizeof (s_file_t),
     s_file_options, s_build_file},
};

const zflow_cli_adapter_t *zflow_cli_adapter (const char *name)
{
    for (size_t i = 0; i < sizeof (s_adapters) / sizeof (s_adapters[0]); i++)
        if (streq (s_adapters[i].name, name))
            return &s_adapters[i];
    return NULL;
}

const zflow_cli_adapter_t *zflow_cli_adapter_at (size_t index)
{
    return index < sizeof (s_adapters) / sizeof (s_adapters[0]) ? &s_adapters[index] : NULL;
}

static const zflow_cli_option_t s_global_options[] = {
    {"mode", ZFLOW_CLI_ENUM, false, "lossless", "lossless|lossy",
     "lossless: backpressure to the sources; lossy: drop and count at full links",
     offsetof (zflow_cli_global_t, mode)},
    {"hwm", ZFLOW_CLI_INT, false, "1000", NULL, "watermark of every link, in messages",
     offsetof (zflow_cli_global_t, hwm)},
    {"control", ZFLOW_CLI_STRING, false, NULL, NULL,
     "control endpoint for zflow stats (default ipc:///tmp/zflow-<pid>.ctl)",
     offsetof (zflow_cli_global_t, control)},
    {"metrics", ZFLOW_CLI_STRING, false, NULL, NULL,
     "serve Prometheus /metrics and /health on host:port", offsetof (zflow_cli_global_t, metrics)},
    {NULL}};

const zflow_cli_adapter_t zflow_cli_global = {
    "zflow",
    "settings",
    "the optional section named zflow: settings of the whole run",
    sizeof (zflow_cli_global_t),
    s_global_options,
    NULL};
