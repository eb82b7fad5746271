/*  =========================================================================
    zflow_mqtt_adapter - the MQTT adapter: its descriptor and its pipeline
    stages

    Stage types mqtt_sub (a source) and mqtt_pub (a sink), or mqtt with the
    role given by the section; URL mqtt[s]://[USER:PASSWORD@]HOST[:PORT]/
    TOPIC for zflow pub / zflow sub (sub: TOPIC is a filter list,
    comma-separated, "+" and "#" allowed).

    A sink is a PUSH stage bound on an inproc endpoint that a
    zflow_mqtt_sink_t, created when the pipeline starts, reads (it connects
    its PULL). Lossless pipelines make the sink lossless: its inflight
    window is the link watermark unless max_inflight is set. At stop the
    stage waits until every message it passed was delivered (QoS 0
    written, QoS 1/2 acknowledged) or dropped, or the broker refused us.

    A source is a SUB stage on the endpoint of a zflow_mqtt_source_t made
    once the stage actors run (so that the retained messages the broker
    sends right after SUBSCRIBE reach the stage).

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_actor.h"
#include "zflow_adapter_list.h"
#include "zflow_error.h"
#include "zflow_mqtt.h"
#include "zflow_pipeline_stage.h"
#include <mosquitto.h>
#include <string.h>

//  One stage's source or sink and what it needs to start it.
typedef struct {
    zflow_mqtt_config_t config; //  settings (strings below are ours)
    char *host;                 //  copies behind config's strings
    char *username;
    char *password;
    char *client_id;
    char *ca_file;
    char *filters;
    char *key_prefix;
    char *topic;
    char *endpoint;          //  the inproc endpoint between stage and client
    bool sink;               //  a sink (else a source)
    zflow_mqtt_sink_t *out;  //  the running sink, or NULL
    zflow_mqtt_source_t *in; //  the running source, or NULL
} s_mqtt_t;

static void s_stop (void *arg)
{
    s_mqtt_t *self = (s_mqtt_t *) arg;
    zflow_mqtt_sink_destroy (&self->out);
    zflow_mqtt_source_destroy (&self->in);
}

static void s_free (void *arg)
{
    s_mqtt_t *self = (s_mqtt_t *) arg;
    s_stop (self);
    char *strings[] = {self->host,       self->username, self->password,
                       self->client_id,  self->ca_file,  self->filters,
                       self->key_prefix, self->topic,    self->endpoint};
    for (size_t index = 0; index < sizeof (strings) / sizeof (strings[0]); index++)
        free (strings[index]);
    free (self);
}

static int s_start (void *arg, zflow__stage_t *stage)
{
    s_mqtt_t *self = (s_mqtt_t *) arg;
    if (!self->sink)
        return 0; //  the source starts in s_running
    zflow_mqtt_config_t config = self->config;
    config.lossless = stage->mode == ZFLOW_PIPELINE_LOSSLESS;
    config.connect_input = true;
    if (!config.max_inflight)
        config.max_inflight = stage->hwm > 0 ? (size_t) stage->hwm : ZFLOW_MQTT_MAX_INFLIGHT;
    config.sndhwm = stage->hwm > 0 ? (size_t) stage->hwm : 0;
    int rc = 0;
    self->out = zflow_mqtt_sink_new (&config, &rc);
    if (!self->out)
        zsys_error ("%s: MQTT sink %s:%d: %s", stage->name, self->host, config.port,
                    zflow_error_text (rc));
    return self->out ? 0 : (rc ? rc : ZFLOW_ECONFIG);
}

static int s_running (void *arg, zflow__stage_t *stage)
{
    s_mqtt_t *self = (s_mqtt_t *) arg;
    if (self->sink)
        return 0;
    zflow_mqtt_config_t config = self->config;
    config.lossless = stage->mode == ZFLOW_PIPELINE_LOSSLESS;
    config.sndhwm = stage->hwm > 0 ? (size_t) stage->hwm : 0;
    int rc = 0;
    self->in = zflow_mqtt_source_new (&config, &rc);
    if (!self->in)
        zsys_error ("%s: MQTT source %s:%d: %s", stage->name, self->host, config.port,
                    zflow_error_text (rc));
    return self->in ? 0 : (rc ? rc : ZFLOW_ECONFIG);
}

//  The running client's counters (a new hash), or NULL.
static zhash_t *s_client_stats (s_mqtt_t *self)
{
    return self->out  ? zflow_mqtt_sink_stats (self->out, 2000)
           : self->in ? zflow_mqtt_source_stats (self->in, 2000)
                      : NULL;
}

//  Sink: waits until the sink has dealt with what the stage passed it
//  (delivered or dropped), or the broker refused us for good.
static int s_drain (void *arg, zflow__stage_t *stage, int64_t deadline)
{
    s_mqtt_t *self = (s_mqtt_t *) arg;
    if (!self->out)
        return 0;
    zhash_t *stats = zflow_actor_stats (stage->actor, 1000);
    uint64_t passed = zflow_actor_stats_get (stats, "msgs_out");
    zhash_destroy (&stats);
    while (true) {
        stats = s_client_stats (self);
        uint64_t done =
            zflow_actor_stats_get (stats, "delivered") + zflow_actor_stats_get (stats, "drops");
        bool refused = zflow_actor_stats_get (stats, "refused") > 0;
        zhash_destroy (&stats);
        if (done >= passed || refused)
            return 0;
        if (zclock_mono () >= deadline)
            return ZFLOW_ETIMEDOUT;
        zclock_sleep (5);
    }
}

static void s_stats (void *arg, zhash_t *stats)
{
    zhash_t *client = s_client_stats ((s_mqtt_t *) arg);
    for (const char *value = client ? (const char *) zhash_first (client) : NULL; value;
         value = (const char *) zhash_next (client)) {
        char name[300];
        snprintf (name, sizeof (name), "mqtt.%s", zhash_cursor (client));
        zhash_update (stats, name, (void *) value);
    }
    const char *reconnects = client ? (const char *) zhash_lookup (client, "reconnects") : NULL;
    if (reconnects)
        zhash_update (stats, "reconnects", (void *) reconnects);
    zhash_destroy (&client);
}

static const zflow__resource_ops_t s_ops = {.start = s_start,
                                            .drain = s_drain,
                                            .stop = s_stop,
                                            .stats = s_stats,
                                            .free = s_free,
                                            .running = s_running};

//  ---------------------------------------------------------------------
//  The descriptor

//  The options of both roles.
typedef struct {
    const char *host;       //  broker host
    int64_t port;           //  broker port (0: 1883, 8883 with tls)
    const char *username;   //  user name
    const char *password;   //  password
    const char *client_id;  //  client id
    bool clean_session;     //  new session on each connect
    int64_t keepalive_s;    //  keepalive
    bool tls;               //  TLS
    const char *ca;         //  CA file
    bool insecure;          //  no host name check
    int64_t qos;            //  QoS
    const char *filters;    //  source: topic filters
    const char *key_prefix; //  first key component
    const char *topic;      //  sink: fixed topic
    bool retain;            //  sink: retain flag
    int64_t max_inflight;   //  sink: window (0: the link watermark)
    int64_t max_payload;    //  sink: largest payload
    int64_t backoff_max_ms; //  longest reconnect delay
} s_options_t;

#define S_SINK ZFLOW_ADAPTER_SINK
#define S_SOURCE ZFLOW_ADAPTER_SOURCE

static const zflow_adapter_option_t s_options[] = {
    {"host", ZFLOW_ADAPTER_STRING, false, "127.0.0.1", NULL, "broker host",
     offsetof (s_options_t, host), 0},
    {"port", ZFLOW_ADAPTER_INT, false, "0", NULL, "broker port (0: 1883, or 8883 with tls)",
     offsetof (s_options_t, port), 0},
    {"username", ZFLOW_ADAPTER_STRING, false, NULL, NULL, "user name",
     offsetof (s_options_t, username), 0},
    {"password", ZFLOW_ADAPTER_STRING, false, NULL, NULL, "password",
     offsetof (s_options_t, password), 0},
    {"client_id", ZFLOW_ADAPTER_STRING, false, NULL, NULL,
     "client id (default zflow-PID-N; set it for a persistent session)",
     offsetof (s_options_t, client_id), 0},
    {"clean_session", ZFLOW_ADAPTER_BOOL, false, "true", NULL,
     "start a new session on each connect (false: the broker keeps it, with client_id)",
     offsetof (s_options_t, clean_session), 0},
    {"keepalive_s", ZFLOW_ADAPTER_INT, false, "30", NULL, "MQTT keepalive, seconds",
     offsetof (s_options_t, keepalive_s), 0},
    {"tls", ZFLOW_ADAPTER_BOOL, false, "false", NULL, "TLS (mqtts:// sets it)",
     offsetof (s_options_t, tls), 0},
    {"ca", ZFLOW_ADAPTER_STRING, false, NULL, NULL, "tls: file of trusted CA certificates (PEM)",
     offsetof (s_options_t, ca), 0},
    {"insecure", ZFLOW_ADAPTER_BOOL, false, "false", NULL,
     "tls: skip the host name check (testing only)", offsetof (s_options_t, insecure), 0},
    {"qos", ZFLOW_ADAPTER_INT, false, "0", NULL, "QoS 0, 1 or 2 (sub: of the subscription)",
     offsetof (s_options_t, qos), 0},
    {"filters", ZFLOW_ADAPTER_STRING, true, NULL, NULL,
     "topic filters to subscribe, comma-separated, + and # allowed (--filters again for more)",
     offsetof (s_options_t, filters), S_SOURCE},
    {"key_prefix", ZFLOW_ADAPTER_STRING, false, "mqtt", NULL,
     "first key component: topic a/b is key PREFIX/a/b", offsetof (s_options_t, key_prefix), 0},
    {"topic", ZFLOW_ADAPTER_STRING, false, NULL, NULL,
     "one topic for every message (default: the key after key_prefix, '/'-joined)",
     offsetof (s_options_t, topic), S_SINK},
    {"retain", ZFLOW_ADAPTER_BOOL, false, "false", NULL, "publish with the retain flag",
     offsetof (s_options_t, retain), S_SINK},
    {"max_inflight", ZFLOW_ADAPTER_INT, false, "0", NULL,
     "QoS 1/2 messages unacknowledged at most (0: the link watermark)",
     offsetof (s_options_t, max_inflight), S_SINK},
    {"max_payload", ZFLOW_ADAPTER_INT, false, "268435455", NULL,
     "largest payload published, bytes; bigger ones are dropped (set the broker's limit)",
     offsetof (s_options_t, max_payload), S_SINK},
    {"backoff_max_ms", ZFLOW_ADAPTER_INT, false, "5000", NULL, "longest reconnect delay, ms",
     offsetof (s_options_t, backoff_max_ms), 0},
    {NULL}};

//  mqtt[s]://[USER[:PASSWORD]@]HOST[:PORT][/TOPIC]
static int s_from_url (const char *url, int role, zconfig_t *section, char *err, size_t errsize)
{
    zflow_adapter_url_t parsed;
    if (zflow_adapter_url_parse (url, &parsed, err, errsize))
        return -1;
    bool tls = streq (parsed.scheme, "mqtts");
    const char *missing =
        !tls && !streq (parsed.scheme, "mqtt") ? "not mqtt:// or mqtts://"
        : !*parsed.host                        ? "no HOST"
        : parsed.userinfo && !*parsed.user     ? "no USER before '@'"
        : role == ZFLOW_ADAPTER_SOURCE && (parsed.path[0] != '/' || !parsed.path[1])
            ? "no /TOPIC filter"
            : NULL;
    if (missing) {
        snprintf (err, errsize,
                  "'%.100s%s' is not mqtt[s]://[USER:PASSWORD@]HOST[:PORT]/TOPIC (%s)", url,
                  strlen (url) > 100 ? "..." : "", missing);
        return -1;
    }
    zconfig_put (section, "host", parsed.host);
    if (parsed.port) {
        char port[8];
        snprintf (port, sizeof (port), "%d", parsed.port);
        zconfig_put (section, "port", port);
    }
    if (parsed.userinfo) {
        zconfig_put (section, "username", parsed.user);
        if (parsed.has_password)
            zconfig_put (section, "password", parsed.password);
    }
    if (tls)
        zconfig_put (section, "tls", "true");
    if (parsed.path[0] == '/' && parsed.path[1])
        zconfig_put (section, role == ZFLOW_ADAPTER_SINK ? "topic" : "filters", parsed.path + 1);
    return 0;
}

static char *s_dup (const char *text)
{
    return text ? strdup (text) : NULL;
}

//  Checks the topic (sink) or each filter (source) as the broker would.
//  Returns 0, or -1 with err set.
static int s_check_topics (const s_options_t *options, bool sink, char *err, size_t errsize)
{
    if (sink) {
        if (options->topic && mosquitto_pub_topic_check (options->topic) != MOSQ_ERR_SUCCESS) {
            snprintf (err, errsize, "topic '%.100s' is not an MQTT topic to publish to (no + or #)",
                      options->topic);
            return -1;
        }
        return 0;
    }
    char *copy = strdup (options->filters ? options->filters : ""), *save = NULL;
    int rc = 0, count = 0;
    for (char *filter = strtok_r (copy, ",\n", &save); filter && !rc;
         filter = strtok_r (NULL, ",\n", &save)) {
        while (*filter == ' ')
            filter++;
        if (*filter && mosquitto_sub_topic_check (filter) != MOSQ_ERR_SUCCESS) {
            snprintf (err, errsize,
                      "filter '%.100s' is not an MQTT topic filter (+ and # stand for whole "
                      "levels, # only last)",
                      filter);
            rc = -1;
        }
        count += *filter != 0;
    }
    free (copy);
    if (!rc && !count) {
        snprintf (err, errsize, "no topic filter");
        rc = -1;
    }
    return rc;
}

static int s_add (zflow_pipeline_t *pipeline, const char *name, const void *config, bool sink,
                  char *err, size_t errsize)
{
    const s_options_t *options = (const s_options_t *) config;
    if (s_check_topics (options, sink, err, errsize))
        return -1;
    if (options->port < 0 || options->port > 65535 || options->qos > 2 ||
        options->max_inflight > 65535 || options->max_payload > ZFLOW_MQTT_MAX_PAYLOAD ||
        options->keepalive_s > 65535 || options->backoff_max_ms > 3600000) {
        snprintf (err, errsize,
                  "port must be 0-65535, qos 0-2, max_inflight at most 65535, max_payload at "
                  "most %d, keepalive_s at most 65535, backoff_max_ms at most 3600000",
                  ZFLOW_MQTT_MAX_PAYLOAD);
        return -1;
    }
    s_mqtt_t *self = (s_mqtt_t *) zmalloc (sizeof (s_mqtt_t));
    zflow_mqtt_config_init (&self->config);
    self->sink = sink;
    self->config.host = self->host = s_dup (options->host);
    self->config.port = (int) options->port;
    self->config.username = self->username = s_dup (options->username);
    self->config.password = self->password = s_dup (options->password);
    self->config.client_id = self->client_id = s_dup (options->client_id);
    self->config.clean_session = options->clean_session;
    self->config.keepalive_s = (int) options->keepalive_s;
    self->config.tls = options->tls;
    self->config.ca_file = self->ca_file = s_dup (options->ca);
    self->config.insecure = options->insecure;
    self->config.qos = (int) options->qos;
    self->filters = s_dup (options->filters);
    for (char *c = self->filters; c && *c; c++)
        *c = *c == '\n' ? ',' : *c; //  --filters a --filters b
    self->config.filters = self->filters;
    self->config.key_prefix = self->key_prefix = s_dup (options->key_prefix);
    self->config.topic = self->topic = s_dup (options->topic);
    self->config.retain = options->retain;
    self->config.max_inflight = (size_t) options->max_inflight;
    self->config.max_payload = (size_t) options->max_payload;
    self->config.backoff_max_ms = (int) options->backoff_max_ms;
    self->endpoint = zsys_sprintf ("inproc://zflow-pipeline-mqtt-%s-%p", sink ? "sink" : "source",
                                   (void *) self);
    self->config.endpoint = self->endpoint;
    int rc = sink ? zflow_pipeline_sink (pipeline, name, "push", self->endpoint, NULL)
                  : zflow_pipeline_source (pipeline, name, "sub", NULL, self->endpoint);
    if (rc) {
        s_free (self);
        snprintf (err, errsize, "%s", zflow_pipeline_error_text (pipeline));
        return rc;
    }
    rc = zflow__pipeline_add_resource (pipeline, &s_ops, self);
    if (rc)
        snprintf (err, errsize, "%s", zflow_pipeline_error_text (pipeline));
    return rc;
}

static int s_add_source (zflow_pipeline_t *pipeline, const char *name, const void *config,
                         char *err, size_t errsize)
{
    return s_add (pipeline, name, config, false, err, errsize);
}

static int s_add_sink (zflow_pipeline_t *pipeline, const char *name, const void *config, char *err,
                       size_t errsize)
{
    return s_add (pipeline, name, config, true, err, errsize);
}

const zflow_adapter_t zflow__adapter_mqtt = {
    .name = "mqtt",
    .aliases = "mqtt_sub=source|mqtt_pub=sink",
    .schemes = "mqtt|mqtts",
    .summary = "subscribes to MQTT topic filters (topic a/b is key mqtt/a/b), or publishes each "
               "payload to a topic (QoS 0/1/2)",
    .url_form = "mqtt[s]://[USER:PASSWORD@]HOST[:PORT]/TOPIC (sub: filters, comma-separated)",
    .config_size = sizeof (s_options_t),
    .options = s_options,
    .from_url = s_from_url,
    .source = s_add_source,
    .sink = s_add_sink,
    .stats = {.connected = "mqtt.connected",
              .delivered = "mqtt.delivered",
              .dropped = "mqtt.drops",
              .refused = "mqtt.refused",
              .reason = "mqtt.reason",
              .all = "mqtt.<source or sink counter>|reconnects"}};
