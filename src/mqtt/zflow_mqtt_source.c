/*  =========================================================================
    zflow_mqtt_source - an actor that subscribes to MQTT topic filters and
    publishes what arrives as zflow envelopes (see include/zflow_mqtt.h)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_envelope.h"
#include "zflow_error.h"
#include "zflow_key.h"
#include "zflow_meta.h"
#include "zflow_mqtt_internal.h"
#include <string.h>
#include <unistd.h>

//  How often held envelopes (lossless, PUB full) are offered again.
#define S_HOLD_RETRY_MS 2

//  Longest key wire: every component at its limit, with separators.
#define S_KEY_MAX (ZFLOW_KEY_MAX_PARTS * (ZFLOW_KEY_MAX_PART + 1))

//  What the caller hands the actor; the actor copies what it keeps.
typedef struct {
    const zflow_mqtt_config_t *config; //  the caller's configuration
    int err;                           //  set by the actor on bad configuration
} s_start_t;

//  The actor's state.
typedef struct {
    zflow_actor_t *base;              //  actor base: loop, pipe, counters
    zflow_actor_counters_t *counters; //  the base's standard counters
    zflow_mqtt_config_t config;       //  our copy of the configuration
    zflow__mqtt_conn_t conn;          //  the libmosquitto client in our loop
    zsock_t *pub;                     //  where envelopes go out
    void *pub_handle;                 //  its libzmq socket
    zflow_meta_t *meta;               //  reused for every envelope
    char **filters;                   //  topic filters (owned), filter_count of them
    int filter_count;                 //  how many
    zlist_t *held;                    //  lossless: envelopes (zmsg_t) the PUB refused
    int hold_timer;                   //  id of the armed retry timer, or -1
    uint64_t received;                //  messages from the broker
    uint64_t unmapped;                //  topics no key can hold (dropped)
    uint64_t subscribed;              //  SUBACKs received
    uint64_t refused_filters;         //  filters a SUBACK refused (0x80)
    char wire[S_KEY_MAX];             //  the key being built
} s_source_t;

//  Sends a held or new envelope; returns 0 or -1 when the PUB has no room.
static int s_send (s_source_t *self, zmsg_t *msg)
{
    zframe_t *frame = zmsg_first (msg);
    for (int part = 0; frame; part++) {
        zframe_t *next = zmsg_next (msg);
        int flags = (next ? ZMQ_SNDMORE : 0) | (part == 0 ? ZMQ_DONTWAIT : 0);
        if (zmq_send (self->pub_handle, zframe_data (frame), zframe_size (frame), flags) < 0)
            return -1; //  only the first part can fail (a multipart is all or nothing)
        frame = next;
    }
    return 0;
}

static int s_on_hold (zloop_t *loop, int timer_id, void *arg);

//  Offers held envelopes again; reads the broker again once none is left.
static void s_flush_held (s_source_t *self)
{
    zmsg_t *msg;
    while ((msg = (zmsg_t *) zlist_first (self->held)) && s_send (self, msg) == 0) {
        zlist_pop (self->held);
        self->counters->msgs_out++;
        self->counters->bytes_out += zframe_size (zmsg_last (msg));
        zmsg_destroy (&msg);
    }
    self->counters->queue_depth = zlist_size (self->held);
    bool empty = zlist_size (self->held) == 0;
    if (!empty && self->hold_timer < 0)
        self->hold_timer = zloop_timer (self->conn.loop, S_HOLD_RETRY_MS, 1, s_on_hold, self);
    zflow__mqtt_conn_pause (&self->conn, !empty);
}

static int s_on_hold (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    s_source_t *self = (s_source_t *) arg;
    self->hold_timer = -1;
    s_flush_held (self);
    return 0;
}

//  Writes the key for topic into wire (size bytes): prefix, then one
//  component per level ("a//b" has an empty one). Returns its size, or -1
//  when no key can hold the topic.
static int s_map_topic (const char *prefix, const char *topic, char *wire, size_t size)
{
    size_t used = 0, parts = 0, length = strlen (prefix);
    const char *level = prefix, *rest = topic;
    while (true) {
        if (length > ZFLOW_KEY_MAX_PART || ++parts > ZFLOW_KEY_MAX_PARTS ||
            used + length + 1 > size || memchr (level, ZFLOW_KEY_SEP, length))
            return -1;
        if (parts > 1)
            wire[used++] = ZFLOW_KEY_SEP;
        memcpy (wire + used, level, length);
        used += length;
        if (!rest)
            return (int) used;
        const char *slash = strchr (rest, '/');
        level = rest;
        length = slash ? (size_t) (slash - rest) : strlen (rest);
        rest = slash ? slash + 1 : NULL;
    }
}

static void s_on_message (struct mosquitto *mosq, void *arg, const struct mosquitto_message *m)
{
    (void) mosq;
    s_source_t *self = (s_source_t *) ((zflow__mqtt_conn_t *) arg)->owner;
    self->received++;
    self->counters->msgs_in++;
    self->counters->bytes_in += (uint64_t) m->payloadlen;
    char *wire = self->wire;
    int key_size = s_map_topic (self->config.key_prefix, m->topic, wire, sizeof (self->wire));
    zflow_meta_reset (self->meta);
    zflow_meta_set_source (self->meta, self->config.client_id);
    zflow_meta_set_seq (self->meta, self->received);
    zflow_meta_stamp (self->meta);
    zflow_meta_set (self->meta, "topic", m->topic);
    zflow_meta_set (self->meta, "qos", m->qos == 2 ? "2" : m->qos == 1 ? "1" : "0");
    zflow_meta_set (self->meta, "retain", m->retain ? "1" : "0");
    uint8_t meta[ZFLOW_META_MAX_WIRE];
    int meta_size = key_size < 0 ? -1 : zflow_meta_encode (self->meta, meta, sizeof (meta));
    if (meta_size < 0) {
        self->unmapped++;
        self->counters->drops++;
        zflow__mqtt_conn_reason (&self->conn, "topic '%.100s' maps to no key (dropped)", m->topic);
        return;
    }
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, wire, (size_t) key_size);
    zmsg_addmem (msg, meta, (size_t) meta_size);
    zmsg_addmem (msg, m->payload, (size_t) m->payloadlen);
    if (zlist_size (self->held) == 0 && s_send (self, msg) == 0) {
        self->counters->msgs_out++;
        self->counters->bytes_out += (uint64_t) m->payloadlen;
        zmsg_destroy (&msg);
    } else if (self->config.lossless) {
        zlist_append (self->held, msg);
        s_flush_held (self);
    } else {
        zmsg_destroy (&msg);
        self->counters->drops++;
    }
}

static void s_on_subscribe (struct mosquitto *mosq, void *arg, int mid, int count,
                            const int *granted)
{
    (void) mosq;
    (void) mid;
    s_source_t *self = (s_source_t *) ((zflow__mqtt_conn_t *) arg)->owner;
    self->subscribed++;
    for (int index = 0; index < count; index++)
        if (granted[index] == 0x80) {
            self->refused_filters++;
            zflow__mqtt_conn_reason (&self->conn, "the broker refused the subscription to '%s'",
                                     index < self->filter_count ? self->filters[index] : "?");
        }
}

//  Connected: subscribe (again) to every filter, in one SUBSCRIBE.
static void s_on_up (void *arg)
{
    s_source_t *self = (s_source_t *) arg;
    int rc = mosquitto_subscribe_multiple (self->conn.mosq, NULL, self->filter_count, self->filters,
                                           self->config.qos, 0, NULL);
    if (rc != MOSQ_ERR_SUCCESS)
        zflow__mqtt_conn_reason (&self->conn, "subscribe: %s", mosquitto_strerror (rc));
}

static void s_on_down (void *arg)
{
    (void) arg;
}

static void s_on_stats (zflow_actor_t *base, zmsg_t *reply, void *arg)
{
    (void) base;
    s_source_t *self = (s_source_t *) arg;
    zflow_actor_stats_add (reply, "msgs", self->counters->msgs_out);
    zflow_actor_stats_add (reply, "bytes", self->counters->bytes_out);
    zflow_actor_stats_add (reply, "received", self->received);
    zflow_actor_stats_add (reply, "unmapped", self->unmapped);
    zflow_actor_stats_add (reply, "subscribed", self->subscribed);
    zflow_actor_stats_add (reply, "refused_filters", self->refused_filters);
    zflow_actor_stats_add (reply, "held", zlist_size (self->held));
    zflow__mqtt_conn_stats (&self->conn, reply);
}

//  Splits the filters (comma or newline separated) and checks each.
//  Returns 0 or ZFLOW_ECONFIG.
static int s_parse_filters (s_source_t *self)
{
    char *copy = strdup (self->config.filters ? self->config.filters : "");
    char *save = NULL;
    int rc = 0;
    for (char *filter = strtok_r (copy, ",\n", &save); filter && !rc;
         filter = strtok_r (NULL, ",\n", &save)) {
        while (*filter == ' ')
            filter++;
        if (!*filter)
            continue;
        char **grown =
            (char **) realloc (self->filters, sizeof (char *) * (size_t) (self->filter_count + 1));
        if (!grown || mosquitto_sub_topic_check (filter) != MOSQ_ERR_SUCCESS) {
            if (grown)
                self->filters = grown;
            rc = ZFLOW_ECONFIG;
            break;
        }
        self->filters = grown;
        self->filters[self->filter_count++] = strdup (filter);
    }
    free (copy);
    return rc ? rc : self->filter_count ? 0 : ZFLOW_ECONFIG;
}

static void s_source_destroy (s_source_t **self_p)
{
    s_source_t *self = *self_p;
    if (!self)
        return;
    zflow__mqtt_conn_close (&self->conn);
    for (int index = 0; index < self->filter_count; index++)
        free (self->filters[index]);
    free (self->filters);
    zmsg_t *msg;
    while (self->held && (msg = (zmsg_t *) zlist_pop (self->held)))
        zmsg_destroy (&msg);
    zlist_destroy (&self->held);
    zflow_meta_destroy (&self->meta);
    zsock_destroy (&self->pub);
    zflow_actor_destroy (&self->base);
    zflow__mqtt_config_free (&self->config);
    free (self);
    *self_p = NULL;
}

//  Checks and copies the configuration, binds the PUB. Returns 0 or a code.
static int s_configure (s_source_t *self, const zflow_mqtt_config_t *config)
{
    if (zflow__mqtt_config_copy (&self->config, config, "source"))
        return ZFLOW_ENOMEM;
    const zflow_mqtt_config_t *cf = &self->config;
    zflow_key_t *prefix = zflow_key_new (cf->key_prefix, NULL);
    bool ok = prefix && *cf->key_prefix && cf->qos >= 0 && cf->qos <= 2 && cf->port > 0 &&
              cf->port <= 65535;
    zflow_key_destroy (&prefix);
    if (!ok || s_parse_filters (self))
        return ZFLOW_ECONFIG;
    zsock_set_sndhwm (self->pub, (int) cf->sndhwm);
    int nodrop = 1; //  a full subscriber refuses (EAGAIN): we drop or hold, and count
    zmq_setsockopt (self->pub_handle, ZMQ_XPUB_NODROP, &nodrop, sizeof (nodrop));
    if (zsock_bind (self->pub, "%s", cf->endpoint) < 0)
        return ZFLOW_EENDPOINT;
    int rc = zflow__mqtt_conn_init (&self->conn, cf, self->base, "zflow_mqtt_source", self);
    if (rc)
        return rc;
    self->conn.on_up = s_on_up;
    self->conn.on_down = s_on_down;
    mosquitto_message_callback_set (self->conn.mosq, s_on_message);
    mosquitto_subscribe_callback_set (self->conn.mosq, s_on_subscribe);
    return 0;
}

static void s_source_actor (zsock_t *pipe, void *arg)
{
    s_start_t *start = (s_start_t *) arg;
    s_source_t *self = (s_source_t *) calloc (1, sizeof (s_source_t));
    if (self) {
        self->hold_timer = -1;
        self->base = zflow_actor_new (pipe, "zflow_mqtt_source");
        self->pub = zsock_new (ZMQ_PUB);
        self->meta = zflow_meta_new ();
        self->held = zlist_new ();
    }
    if (!self || !self->base || !self->pub || !self->meta || !self->held)
        start->err = ZFLOW_ENOMEM;
    else {
        self->counters = zflow_actor_counters (self->base);
        self->pub_handle = zsock_resolve (self->pub);
        start->err = s_configure (self, start->config);
    }
    if (start->err) {
        s_source_destroy (&self);
        zsock_signal (pipe, 0); //  as zflow_actor_ready (base, -1) would
        zsock_signal (pipe, 1);
        return;
    }
    zflow_actor_set_stats_handler (self->base, s_on_stats, self);
    zflow_actor_ready (self->base, 0);
    zflow__mqtt_conn_start (&self->conn);
    zflow_actor_run (self->base);
    s_source_destroy (&self);
}

//  ---------------------------------------------------------------------
//  The public object

struct _zflow_mqtt_source_t {
    zactor_t *actor; //  the source actor
    char *endpoint;  //  its PUB endpoint
};

zflow_mqtt_source_t *zflow_mqtt_source_new (const zflow_mqtt_config_t *config, int *err_p)
{
    int err = ZFLOW_EINVAL;
    zflow_mqtt_source_t *self = NULL;
    if (config) {
        self = (zflow_mqtt_source_t *) calloc (1, sizeof (*self));
        err = ZFLOW_ENOMEM;
    }
    zflow_mqtt_config_t copy;
    if (self) {
        copy = *config;
        static uint32_t counter = 0;
        self->endpoint = config->endpoint
                             ? strdup (config->endpoint)
                             : zsys_sprintf ("inproc://zflow-mqtt-source-%d-%u", (int) getpid (),
                                             __atomic_add_fetch (&counter, 1, __ATOMIC_RELAXED));
        copy.endpoint = self->endpoint;
    }
    if (self && self->endpoint) {
        s_start_t start = {&copy, 0};
        self->actor = zflow_actor_start (s_source_actor, &start);
        err = start.err ? start.err : self->actor ? 0 : ZFLOW_ENOMEM;
    }
    if (err) {
        zflow_mqtt_source_destroy (&self);
        if (err_p)
            *err_p = err;
        return NULL;
    }
    if (err_p)
        *err_p = 0;
    return self;
}

void zflow_mqtt_source_destroy (zflow_mqtt_source_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_mqtt_source_t *self = *self_p;
    zactor_destroy (&self->actor);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

zhash_t *zflow_mqtt_source_stats (zflow_mqtt_source_t *self, int timeout_ms)
{
    return self ? zflow_actor_stats (self->actor, timeout_ms) : NULL;
}

void zflow_mqtt_source_set_verbose (zflow_mqtt_source_t *self, bool verbose)
{
    if (self)
        zflow_actor_set_verbose (self->actor, verbose);
}

const char *zflow_mqtt_source_endpoint (zflow_mqtt_source_t *self)
{
    return self ? self->endpoint : NULL;
}

zactor_t *zflow_mqtt_source_actor (zflow_mqtt_source_t *self)
{
    return self ? self->actor : NULL;
}
