/*  =========================================================================
    zflow_redis_adapter - the Redis adapter: its descriptor and its
    pipeline stages (zflow_pipeline_source_redis / sink_redis)

    Stage types redis_sub (a source) and redis_pub (a sink), or redis with
    the role given by the section; option mode picks pubsub (SUBSCRIBE /
    PSUBSCRIBE, PUBLISH) or stream (XREADGROUP + XACK, XADD). URL
    redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] for zflow pub / zflow sub.

    A source is a SUB stage on the PUB of a zflow_redis_source_t created
    when the pipeline starts and connected once the stage listens (so it
    misses nothing); a sink is a PUSH stage bound on an inproc endpoint
    that a zflow_redis_sink_t reads. At stop a sink stage waits until the
    sink has dealt with (delivered or dropped, counted) all it was passed.

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
#include "zflow_redis_sink.h"
#include "zflow_redis_source.h"
#include <string.h>

//  One stage's source or sink, and the settings to start it with.
typedef struct {
    zflow_redis_config_t config; //  settings (the strings below are ours)
    char *strings[12];           //  copies behind config's strings
    char *endpoint;              //  sink: the inproc endpoint the stage binds
    bool sink;                   //  a sink (else a source)
    zflow_redis_sink_t *out;     //  the running sink, or NULL
    zflow_redis_source_t *in;    //  the running source, or NULL
} s_redis_t;

static void s_stop (void *arg)
{
    s_redis_t *self = (s_redis_t *) arg;
    zflow_redis_sink_destroy (&self->out);
    zflow_redis_source_destroy (&self->in);
}

static void s_free (void *arg)
{
    s_redis_t *self = (s_redis_t *) arg;
    s_stop (self);
    for (size_t index = 0; index < sizeof (self->strings) / sizeof (char *); index++)
        free (self->strings[index]);
    free (self->endpoint);
    free (self);
}

static int s_start (void *arg, zflow__stage_t *stage)
{
    s_redis_t *self = (s_redis_t *) arg;
    zflow_redis_config_t config = self->config;
    int rc = 0;
    if (self->sink) {
        char input[300];
        snprintf (input, sizeof (input), ">%s", self->endpoint);
        config.input = input;
        config.lossy = stage->mode == ZFLOW_PIPELINE_LOSSY;
        self->out = zflow_redis_sink_new (&config, &rc);
    } else {
        config.lossless = stage->mode == ZFLOW_PIPELINE_LOSSLESS;
        config.name = stage->name;
        config.manual_start = true; //  connects once the stage listens
        config.endpoint = NULL;
        self->in = zflow_redis_source_new (&config, &rc);
        if (self->in) {
            free (stage->connect);
            stage->connect = strdup (zflow_redis_source_endpoint (self->in));
        }
    }
    if (!self->out && !self->in) {
        zsys_error ("%s: Redis %s %s:%d: %s", stage->name, self->sink ? "sink" : "source",
                    config.host, config.port, zflow_error_text (rc));
        return rc ? rc : ZFLOW_ECONFIG;
    }
    return 0;
}

static int s_running (void *arg, zflow__stage_t *stage)
{
    (void) stage;
    s_redis_t *self = (s_redis_t *) arg;
    return self->in ? zflow_redis_source_start (self->in) : 0;
}

//  Sink: waits until everything passed was delivered or dropped, or until
//  a server that refused us is the reason nothing moves.
static int s_drain (void *arg, zflow__stage_t *stage, int64_t deadline)
{
    s_redis_t *self = (s_redis_t *) arg;
    if (!self->out)
        return 0;
    zhash_t *stats = zflow_actor_stats (stage->actor, 1000);
    uint64_t passed = zflow_actor_stats_get (stats, "msgs_out");
    zhash_destroy (&stats);
    while (true) {
        stats = zflow_redis_sink_stats (self->out, 1000);
        uint64_t done =
            zflow_actor_stats_get (stats, "delivered") + zflow_actor_stats_get (stats, "drops");
        bool refused = zflow_actor_stats_get (stats, "refused") > 0 &&
                       !zflow_actor_stats_get (stats, "connected");
        zhash_destroy (&stats);
        if (done >= passed || refused)
            return 0;
        if (zclock_mono () >= deadline)
            return ZFLOW_ETIMEDOUT;
        zclock_sleep (2);
    }
}

static void s_stats (void *arg, zhash_t *stats)
{
    s_redis_t *self = (s_redis_t *) arg;
    zhash_t *own = self->out  ? zflow_redis_sink_stats (self->out, 1000)
                   : self->in ? zflow_redis_source_stats (self->in, 1000)
                              : NULL;
    for (const char *value = own ? (const char *) zhash_first (own) : NULL; value;
         value = (const char *) zhash_next (own)) {
        char name[300];
        snprintf (name, sizeof (name), "redis.%s", zhash_cursor (own));
        zhash_update (stats, name, (void *) value);
    }
    const char *reconnects = own ? (const char *) zhash_lookup (own, "reconnects") : NULL;
    if (reconnects)
        zhash_update (stats, "reconnects", (void *) reconnects);
    zhash_destroy (&own);
}

static const zflow__resource_ops_t s_ops = {.start = s_start,
                                            .drain = s_drain,
                                            .stop = s_stop,
                                            .stats = s_stats,
                                            .free = s_free,
                                            .running = s_running};

//  Copies config and its strings into a new state, or returns NULL.
static s_redis_t *s_new (const zflow_redis_config_t *config, bool sink)
{
    s_redis_t *self = (s_redis_t *) zmalloc (sizeof (s_redis_t));
    if (!self)
        return NULL;
    self->config = *config;
    self->sink = sink;
    const char **fields[] = {
        &self->config.host,     &self->config.user,      &self->config.password,
        &self->config.channels, &self->config.patterns,  &self->config.stream,
        &self->config.group,    &self->config.consumer,  &self->config.field,
        &self->config.prefix,   &self->config.separator, &self->config.start_id};
    for (size_t index = 0; index < sizeof (fields) / sizeof (fields[0]); index++)
        if (*fields[index]) {
            self->strings[index] = strdup (*fields[index]);
            *fields[index] = self->strings[index];
        }
    self->config.input = NULL;
    self->config.endpoint = NULL;
    self->config.name = NULL;
    return self;
}

static int s_add (zflow_pipeline_t *pipeline, const char *name, const zflow_redis_config_t *config,
                  bool sink)
{
    if (!config)
        return zflow__pipeline_fail (pipeline, ZFLOW_EINVAL, "stage '%s': no Redis settings",
                                     name ? name : "");
    const char *wrong =
        !config->host || !*config->host            ? "no host"
        : config->port < 1 || config->port > 65535 ? "port must be 1-65535"
        : sink && config->inflight == 0            ? "inflight must be at least 1"
        : !sink && config->mode == ZFLOW_REDIS_STREAM && (!config->stream || !*config->stream)
            ? "stream mode needs a stream"
        : !sink && config->mode == ZFLOW_REDIS_PUBSUB &&
                (!config->channels || !*config->channels) &&
                (!config->patterns || !*config->patterns)
            ? "pubsub mode needs a channel or a pattern"
            : NULL;
    if (wrong)
        return zflow__pipeline_fail (pipeline, ZFLOW_EINVAL, "stage '%s': Redis: %s",
                                     name ? name : "", wrong);
    s_redis_t *self = s_new (config, sink);
    zuuid_t *uuid = zuuid_new (); //  unique: inproc names are released late
    if (self && sink && uuid)
        self->endpoint = zsys_sprintf ("inproc://zflow-redis-%s", zuuid_str (uuid));
    zuuid_destroy (&uuid);
    if (!self || (sink && !self->endpoint)) {
        if (self)
            s_free (self);
        return zflow__pipeline_fail (pipeline, ZFLOW_ENOMEM, "out of memory");
    }
    //  the source's real endpoint is its PUB's, known at start
    int rc = sink ? zflow_pipeline_sink (pipeline, name, "push", self->endpoint, NULL)
                  : zflow_pipeline_source (pipeline, name, "sub", NULL, "inproc://unset");
    if (rc) {
        s_free (self);
        return rc;
    }
    return zflow__pipeline_add_resource (pipeline, &s_ops, self);
}

int zflow_pipeline_source_redis (zflow_pipeline_t *self, const char *name,
                                 const zflow_redis_config_t *config)
{
    return s_add (self, name, config, false);
}

int zflow_pipeline_sink_redis (zflow_pipeline_t *self, const char *name,
                               const zflow_redis_config_t *config)
{
    return s_add (self, name, config, true);
}

//  ---------------------------------------------------------------------
//  The descriptor

//  The options of both roles.
typedef struct {
    const char *host;       //  server host
    int64_t port;           //  server port
    const char *user;       //  ACL user
    const char *password;   //  AUTH password
    int64_t db;             //  database
    int mode;               //  0 pubsub, 1 stream
    const char *channels;   //  source: channels; sink: the channel
    const char *patterns;   //  source: patterns
    const char *stream;     //  stream key
    const char *group;      //  consumer group
    const char *consumer;   //  consumer name
    const char *start_id;   //  where a new group starts
    const char *field;      //  payload field
    int64_t maxlen;         //  XADD MAXLEN ~
    const char *prefix;     //  first key component
    const char *separator;  //  name <-> key components
    int64_t max_payload;    //  largest payload
    int64_t inflight;       //  pipelined commands
    int64_t count;          //  entries per read
    int64_t block_ms;       //  BLOCK
    int64_t ack_ms;         //  XACK delay after the handoff
    int64_t backoff_max_ms; //  longest reconnect delay
    bool resend;            //  resend what a lost connection had in flight
} s_options_t;

#define S_SINK ZFLOW_ADAPTER_SINK
#define S_SOURCE ZFLOW_ADAPTER_SOURCE

static const zflow_adapter_option_t s_options[] = {
    {"host", ZFLOW_ADAPTER_STRING, false, "127.0.0.1", NULL, "server host",
     offsetof (s_options_t, host), 0},
    {"port", ZFLOW_ADAPTER_INT, false, "6379", NULL, "server port", offsetof (s_options_t, port),
     0},
    {"user", ZFLOW_ADAPTER_STRING, false, NULL, NULL, "ACL user for AUTH (Redis 6+)",
     offsetof (s_options_t, user), 0},
    {"password", ZFLOW_ADAPTER_STRING, false, NULL, NULL, "AUTH password",
     offsetof (s_options_t, password), 0},
    {"db", ZFLOW_ADAPTER_INT, false, "0", NULL, "database number to SELECT",
     offsetof (s_options_t, db), 0},
    {"mode", ZFLOW_ADAPTER_ENUM, false, "pubsub", "pubsub|stream",
     "pubsub: SUBSCRIBE/PSUBSCRIBE, PUBLISH; stream: XREADGROUP + XACK, XADD",
     offsetof (s_options_t, mode), 0},
    {"channel", ZFLOW_ADAPTER_STRING, false, NULL, NULL,
     "pubsub: channels to SUBSCRIBE, comma-separated (--channel again for more)",
     offsetof (s_options_t, channels), S_SOURCE},
    {"pattern", ZFLOW_ADAPTER_STRING, false, NULL, NULL,
     "pubsub: patterns to PSUBSCRIBE, comma-separated", offsetof (s_options_t, patterns), S_SOURCE},
    {"channel", ZFLOW_ADAPTER_STRING, false, NULL, NULL,
     "pubsub: the channel to PUBLISH to (default: the key's components joined by separator)",
     offsetof (s_options_t, channels), S_SINK},
    {"stream", ZFLOW_ADAPTER_STRING, false, NULL, NULL, "stream: the stream to read (required)",
     offsetof (s_options_t, stream), S_SOURCE},
    {"stream", ZFLOW_ADAPTER_STRING, false, NULL, NULL,
     "stream: the stream to XADD to (default: the key's components joined by separator)",
     offsetof (s_options_t, stream), S_SINK},
    {"group", ZFLOW_ADAPTER_STRING, false, "zflow", NULL,
     "stream: consumer group (created with MKSTREAM when missing)", offsetof (s_options_t, group),
     S_SOURCE},
    {"consumer", ZFLOW_ADAPTER_STRING, false, "zflow", NULL,
     "stream: consumer name; keep it across restarts to resume its pending entries",
     offsetof (s_options_t, consumer), S_SOURCE},
    {"start_id", ZFLOW_ADAPTER_STRING, false, "$", NULL,
     "stream: where a group created now starts: $ (new entries) or 0 (the whole stream)",
     offsetof (s_options_t, start_id), S_SOURCE},
    {"field", ZFLOW_ADAPTER_STRING, false, "payload", NULL,
     "stream: the entry field of the payload", offsetof (s_options_t, field), 0},
    {"maxlen", ZFLOW_ADAPTER_INT, false, "0", NULL,
     "stream: XADD MAXLEN ~ N trims the stream (0: no trimming)", offsetof (s_options_t, maxlen),
     S_SINK},
    {"prefix", ZFLOW_ADAPTER_STRING, false, "redis", NULL, "first key component (\"\": none)",
     offsetof (s_options_t, prefix), S_SOURCE},
    {"separator", ZFLOW_ADAPTER_STRING, false, ":", NULL,
     "splits channel/stream names into key components, joins them back (\"\": one component)",
     offsetof (s_options_t, separator), 0},
    {"max_payload", ZFLOW_ADAPTER_INT, false, "536870912", NULL,
     "largest payload sent, bytes (lowered to the server's proto-max-bulk-len); larger ones are "
     "dropped and counted",
     offsetof (s_options_t, max_payload), S_SINK},
    {"inflight", ZFLOW_ADAPTER_INT, false, "1000", NULL,
     "commands pipelined awaiting their replies, at most", offsetof (s_options_t, inflight),
     S_SINK},
    {"count", ZFLOW_ADAPTER_INT, false, "100", NULL, "stream: entries per XREADGROUP",
     offsetof (s_options_t, count), S_SOURCE},
    {"block_ms", ZFLOW_ADAPTER_INT, false, "1000", NULL, "stream: XREADGROUP BLOCK, ms",
     offsetof (s_options_t, block_ms), S_SOURCE},
    {"ack_ms", ZFLOW_ADAPTER_INT, false, "100", NULL,
     "stream: an entry is XACKed this long after it was handed on, ms",
     offsetof (s_options_t, ack_ms), S_SOURCE},
    {"resend", ZFLOW_ADAPTER_BOOL, false, "true", NULL,
     "send the commands in flight when a connection broke again (at least once); false: count "
     "them as lost",
     offsetof (s_options_t, resend), S_SINK},
    {"backoff_max_ms", ZFLOW_ADAPTER_INT, false, "5000", NULL, "longest reconnect delay, ms",
     offsetof (s_options_t, backoff_max_ms), 0},
    {NULL}};

//  redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]
static int s_from_url (const char *url, int role, zconfig_t *section, char *err, size_t errsize)
{
    (void) role;
    zflow_adapter_url_t parsed;
    if (zflow_adapter_url_parse (url, &parsed, err, errsize))
        return -1;
    char *end = NULL;
    long db = parsed.path[0] == '/' && parsed.path[1] ? strtol (parsed.path + 1, &end, 10) : 0;
    const char *wrong = !streq (parsed.scheme, "redis") ? "not redis:// (rediss:// TLS is not "
                                                          "supported: hiredis 0.14 has no TLS)"
                        : end && (*end || db < 0 || db > 1000000) ? "/DB is not a number"
                        : parsed.path[0] && parsed.path[0] != '/' ? "no query or fragment here"
                                                                  : NULL;
    if (wrong) {
        snprintf (err, errsize, "'%.100s%s' is not redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] (%s)",
                  url, strlen (url) > 100 ? "..." : "", wrong);
        return -1;
    }
    char number[16];
    zconfig_put (section, "host", parsed.host);
    if (parsed.port) {
        snprintf (number, sizeof (number), "%d", parsed.port);
        zconfig_put (section, "port", number);
    }
    if (parsed.userinfo && parsed.has_password) {
        if (*parsed.user)
            zconfig_put (section, "user", parsed.user);
        zconfig_put (section, "password", parsed.password);
    }
    snprintf (number, sizeof (number), "%ld", db);
    zconfig_put (section, "db", number);
    return 0;
}

static int s_add_stage (zflow_pipeline_t *pipeline, const char *name, const void *config, bool sink,
                        char *err, size_t errsize)
{
    const s_options_t *self = (const s_options_t *) config;
    bool bad = self->port < 1 || self->port > 65535 || self->db > 1000000 ||
               self->backoff_max_ms > 3600000;
    if (sink)
        bad = bad || self->inflight < 1 || self->inflight > 1000000 || self->max_payload < 1;
    else
        bad = bad || self->count < 1 || self->count > 1000000 || self->block_ms < 1 ||
              self->block_ms > 3600000 || self->ack_ms < 1 || self->ack_ms > 3600000;
    if (bad) {
        snprintf (err, errsize,
                  "port must be 1-65535, db at most 1000000, backoff_max_ms at most 3600000, %s",
                  sink ? "inflight 1-1000000, max_payload at least 1"
                       : "count 1-1000000, block_ms and ack_ms 1-3600000");
        return -1;
    }
    zflow_redis_config_t redis;
    zflow_redis_config_init (&redis);
    redis.host = self->host;
    redis.port = (int) self->port;
    redis.user = self->user;
    redis.password = self->password;
    redis.db = (int) self->db;
    redis.mode = self->mode ? ZFLOW_REDIS_STREAM : ZFLOW_REDIS_PUBSUB;
    redis.channels = self->channels;
    redis.patterns = self->patterns;
    redis.stream = self->stream;
    redis.group = self->group;
    redis.consumer = self->consumer;
    redis.start_id = self->start_id;
    redis.field = self->field;
    redis.maxlen = self->maxlen;
    redis.prefix = self->prefix ? self->prefix : "";
    redis.separator = self->separator ? self->separator : "";
    redis.max_payload = (size_t) self->max_payload;
    redis.inflight = (size_t) self->inflight;
    redis.count = (size_t) self->count;
    redis.block_ms = (int) self->block_ms;
    redis.ack_ms = (int) self->ack_ms;
    redis.backoff_max_ms = (int) self->backoff_max_ms;
    redis.resend = self->resend;
    int rc = s_add (pipeline, name, &redis, sink);
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

const zflow_adapter_t zflow__adapter_redis = {
    .name = "redis",
    .aliases = "redis_sub=source|redis_pub=sink",
    .schemes = "redis",
    .summary = "reads Redis pub/sub channels and patterns or a Stream (consumer group, acked), "
               "or PUBLISHes / XADDs each payload",
    .url_form = "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]",
    .config_size = sizeof (s_options_t),
    .options = s_options,
    .from_url = s_from_url,
    .source = s_add_source,
    .sink = s_add_sink,
    .stats = {.connected = "redis.connected",
              .delivered = "redis.delivered",
              .dropped = "redis.drops",
              .refused = "redis.refused",
              .reason = "redis.reason",
              .all = "redis.<source or sink counter>|reconnects"}};
