/*  =========================================================================
    zflow_mqtt_sink - an actor that publishes zflow envelopes to an MQTT
    broker (see include/zflow_mqtt.h for topics, QoS and backpressure)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_error.h"
#include "zflow_key.h"
#include "zflow_mqtt_internal.h"
#include <string.h>
#include <unistd.h>

//  Messages read from the input per wake-up at most, so that the pipe and
//  the broker's acknowledgements are served in between.
#define S_INPUT_BURST 512

//  Connections lost in a row, each with messages in flight and not one
//  acknowledgement, before the sink gives up: a broker that closes the
//  connection on a packet over its max_packet_size does it again to the
//  same message after every reconnect (MQTT 3.1.1 cannot tell us why).
#define S_POISON_LOSSES 3

//  Longest topic we build from a key (MQTT allows 65535 bytes).
#define S_TOPIC_MAX 65535

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
    zsock_t *input;                   //  PULL the envelopes come in on
    void *input_handle;               //  its libzmq socket
    bool reading;                     //  input is on the loop
    bool write_blocked;               //  libmosquitto holds bytes the socket refused
    size_t inflight;                  //  QoS 1/2 published, not acknowledged
    size_t resume_at;                 //  lossless: read again at this inflight
    uint64_t published;               //  messages handed to libmosquitto
    uint64_t delivered;               //  QoS 0 written, QoS 1 PUBACKed, QoS 2 PUBCOMPed
    uint64_t oversize;                //  payloads over max_payload (dropped)
    uint64_t unmapped;                //  keys that make no topic (dropped)
    uint64_t malformed;               //  input that is no envelope (dropped)
    uint64_t not_connected;           //  lossy: dropped while disconnected
    uint64_t window_full;             //  lossy: dropped with the window full
    uint64_t rejected;                //  publish calls libmosquitto refused (dropped)
    uint64_t given_up;                //  in flight when the sink gave up (dropped)
    uint64_t delivered_at_up;         //  delivered when the connection came up
    int lost_streak;                  //  connections lost in a row with no acknowledgement
    char topic[S_TOPIC_MAX + 1];      //  the topic being built
} s_sink_t;

static int s_on_input (zloop_t *loop, zsock_t *reader, void *arg);

//  True when the sink may publish one more message now.
static bool s_can_publish (s_sink_t *self)
{
    return self->conn.connected && !self->write_blocked &&
           (self->config.qos == 0 || self->inflight < self->config.max_inflight);
}

//  Lossless: reads the input only while a message could go out at once,
//  so the PULL's watermark pushes back on the writer.
static void s_update_reading (s_sink_t *self)
{
    bool want = !self->config.lossless ||
                (s_can_publish (self) && (!self->resume_at || self->inflight <= self->resume_at));
    if (want)
        self->resume_at = 0;
    if (want == self->reading)
        return;
    if (want)
        zloop_reader (self->conn.loop, self->input, s_on_input, self);
    else {
        zloop_reader_end (self->conn.loop, self->input);
        //  resume at three quarters of the window, not at every acknowledgement
        if (self->conn.connected && self->config.qos > 0 &&
            self->inflight >= self->config.max_inflight)
            self->resume_at = self->config.max_inflight - (self->config.max_inflight + 3) / 4;
    }
    self->reading = want;
}

//  A message given up: counted, with a reason.
static void s_drop (s_sink_t *self, uint64_t *counter)
{
    (*counter)++;
    self->counters->drops++;
}

//  Writes the topic for key (wire form) into self->topic. Returns 0 or -1.
static int s_map_key (s_sink_t *self, const char *wire, size_t size)
{
    if (self->config.topic) {
        snprintf (self->topic, sizeof (self->topic), "%s", self->config.topic);
        return 0;
    }
    size_t prefix = strlen (self->config.key_prefix);
    if (size > prefix && memcmp (wire, self->config.key_prefix, prefix) == 0 &&
        wire[prefix] == ZFLOW_KEY_SEP) {
        wire += prefix + 1;
        size -= prefix + 1;
    } else if (size == prefix && memcmp (wire, self->config.key_prefix, prefix) == 0)
        return -1; //  the prefix alone names no topic
    if (size == 0 || size > S_TOPIC_MAX || memchr (wire, 0, size))
        return -1;
    for (size_t index = 0; index < size; index++)
        self->topic[index] = wire[index] == ZFLOW_KEY_SEP ? '/' : wire[index];
    self->topic[size] = 0;
    return mosquitto_pub_topic_check2 (self->topic, size) == MOSQ_ERR_SUCCESS ? 0 : -1;
}

//  Publishes one envelope (frames: key, meta, payload).
static void s_publish (s_sink_t *self, zmq_msg_t *parts, int count)
{
    size_t size = count == 3 ? zmq_msg_size (&parts[2]) : 0;
    self->counters->msgs_in++;
    self->counters->bytes_in += size;
    if (count != 3) {
        s_drop (self, &self->malformed);
        zflow__mqtt_conn_reason (&self->conn, "input of %d frames is no envelope (dropped)", count);
        return;
    }
    if (size > self->config.max_payload) {
        s_drop (self, &self->oversize);
        zflow__mqtt_conn_reason (&self->conn, "payload of %zu bytes over max_payload %zu (dropped)",
                                 size, self->config.max_payload);
        return;
    }
    if (s_map_key (self, (const char *) zmq_msg_data (&parts[0]), zmq_msg_size (&parts[0]))) {
        s_drop (self, &self->unmapped);
        zflow__mqtt_conn_reason (&self->conn, "key maps to no MQTT topic (dropped)");
        return;
    }
    if (!self->conn.connected) {
        s_drop (self, &self->not_connected);
        zflow__mqtt_conn_reason (&self->conn, "not connected to the broker (dropped)");
        return;
    }
    if (!s_can_publish (self)) {
        s_drop (self, &self->window_full);
        zflow__mqtt_conn_reason (&self->conn, "%s (dropped)",
                                 self->write_blocked ? "socket full" : "inflight window full");
        return;
    }
    int rc = mosquitto_publish (self->conn.mosq, NULL, self->topic, (int) size,
                                zmq_msg_data (&parts[2]), self->config.qos, self->config.retain);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN && rc != MOSQ_ERR_CONN_LOST) {
        s_drop (self, &self->rejected);
        zflow__mqtt_conn_reason (&self->conn, "publish to '%.100s': %s (dropped)", self->topic,
                                 mosquitto_strerror (rc));
        return;
    }
    //  a failed write leaves the message with libmosquitto (QoS 1/2: sent
    //  again after the reconnect); QoS 0 is then lost on the wire
    self->published++;
    if (self->config.qos > 0)
        self->inflight++;
    self->counters->queue_depth = self->inflight;
}

static int s_on_input (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void) loop;
    (void) reader;
    s_sink_t *self = (s_sink_t *) arg;
    zmq_msg_t parts[3];
    for (int burst = 0; burst < S_INPUT_BURST; burst++) {
        if (self->config.lossless && !s_can_publish (self))
            break;
        int count = 0, more = 1;
        for (int index = 0; index < 3; index++)
            zmq_msg_init (&parts[index]);
        while (more) {
            zmq_msg_t extra, *part = count < 3 ? &parts[count] : &extra;
            if (count >= 3)
                zmq_msg_init (&extra);
            if (zmq_msg_recv (part, self->input_handle, ZMQ_DONTWAIT) < 0) {
                more = 0;
                break;
            }
            more = zmq_msg_more (part);
            count++;
            if (part == &extra)
                zmq_msg_close (&extra);
        }
        if (count)
            s_publish (self, parts, count);
        for (int index = 0; index < 3; index++)
            zmq_msg_close (&parts[index]);
        if (!count)
            break;
        //  libmosquitto wrote the message at once unless the socket was full
        self->write_blocked = mosquitto_want_write (self->conn.mosq);
    }
    self->write_blocked = zflow__mqtt_conn_sync (&self->conn);
    s_update_reading (self);
    return 0;
}

//  QoS 0 written, QoS 1 PUBACK, QoS 2 PUBCOMP.
static void s_on_publish (struct mosquitto *mosq, void *arg, int mid)
{
    (void) mosq;
    (void) mid;
    s_sink_t *self = (s_sink_t *) ((zflow__mqtt_conn_t *) arg)->owner;
    self->delivered++;
    self->counters->msgs_out++;
    if (self->config.qos > 0 && self->inflight)
        self->inflight--;
    self->counters->queue_depth = self->inflight;
    if (!self->reading)
        s_update_reading (self);
}

static void s_on_up (void *arg)
{
    s_sink_t *self = (s_sink_t *) arg;
    self->write_blocked = false;
    self->delivered_at_up = self->delivered;
    s_update_reading (self);
}

//  A connection that was up is lost (or refused): stop reading (lossless),
//  and give up when the broker keeps closing on what we resend.
static void s_on_down (void *arg)
{
    s_sink_t *self = (s_sink_t *) arg;
    bool stuck = !self->conn.refused && self->inflight && self->delivered == self->delivered_at_up;
    self->lost_streak = stuck ? self->lost_streak + 1 : 0;
    if (self->lost_streak >= S_POISON_LOSSES) {
        self->conn.refused = true; //  no more reconnects
        self->given_up += self->inflight;
        self->counters->drops += self->inflight;
        zflow__mqtt_conn_reason (&self->conn,
                                 "the broker closed the connection %d times in a row with no "
                                 "acknowledgement (a message over its max_packet_size?): stopped, "
                                 "%zu in flight given up",
                                 self->lost_streak, self->inflight);
        self->inflight = 0;
        self->counters->queue_depth = 0;
    }
    s_update_reading (self);
}

//  The socket took what libmosquitto held: the input may come in again.
static void s_on_io (void *arg)
{
    s_sink_t *self = (s_sink_t *) arg;
    if (self->write_blocked && !mosquitto_want_write (self->conn.mosq)) {
        self->write_blocked = false;
        s_update_reading (self);
    }
}

static void s_on_stats (zflow_actor_t *base, zmsg_t *reply, void *arg)
{
    (void) base;
    s_sink_t *self = (s_sink_t *) arg;
    zflow_actor_stats_add (reply, "msgs", self->delivered);
    zflow_actor_stats_add (reply, "bytes", self->counters->bytes_in);
    zflow_actor_stats_add (reply, "published", self->published);
    zflow_actor_stats_add (reply, "delivered", self->delivered);
    zflow_actor_stats_add (reply, "inflight", self->inflight);
    zflow_actor_stats_add (reply, "oversize", self->oversize);
    zflow_actor_stats_add (reply, "unmapped", self->unmapped);
    zflow_actor_stats_add (reply, "malformed", self->malformed);
    zflow_actor_stats_add (reply, "not_connected", self->not_connected);
    zflow_actor_stats_add (reply, "window_full", self->window_full);
    zflow_actor_stats_add (reply, "rejected", self->rejected);
    zflow_actor_stats_add (reply, "given_up", self->given_up);
    zflow__mqtt_conn_stats (&self->conn, reply);
}

static void s_sink_destroy (s_sink_t **self_p)
{
    s_sink_t *self = *self_p;
    if (!self)
        return;
    zflow__mqtt_conn_close (&self->conn);
    zsock_destroy (&self->input);
    zflow_actor_destroy (&self->base);
    zflow__mqtt_config_free (&self->config);
    free (self);
    *self_p = NULL;
}

//  Checks and copies the configuration, opens the input. Returns 0 or a
//  code.
static int s_configure (s_sink_t *self, const zflow_mqtt_config_t *config)
{
    if (zflow__mqtt_config_copy (&self->config, config, "sink"))
        return ZFLOW_ENOMEM;
    const zflow_mqtt_config_t *cf = &self->config;
    zflow_key_t *prefix = zflow_key_new (cf->key_prefix, NULL);
    bool ok = prefix && *cf->key_prefix && cf->qos >= 0 && cf->qos <= 2 && cf->port > 0 &&
              cf->port <= 65535 && cf->max_inflight <= 65535 &&
              (!cf->topic || mosquitto_pub_topic_check (cf->topic) == MOSQ_ERR_SUCCESS);
    zflow_key_destroy (&prefix);
    if (!ok)
        return ZFLOW_ECONFIG;
    zsock_set_rcvhwm (self->input, (int) cf->sndhwm);
    int rc = cf->connect_input ? zsock_connect (self->input, "%s", cf->endpoint)
                               : zsock_bind (self->input, "%s", cf->endpoint);
    if (rc < 0)
        return ZFLOW_EENDPOINT;
    rc = zflow__mqtt_conn_init (&self->conn, cf, self->base, "zflow_mqtt_sink", self);
    if (rc)
        return rc;
    self->conn.on_up = s_on_up;
    self->conn.on_down = s_on_down;
    self->conn.on_io = s_on_io;
    mosquitto_publish_callback_set (self->conn.mosq, s_on_publish);
    return 0;
}

static void s_sink_actor (zsock_t *pipe, void *arg)
{
    s_start_t *start = (s_start_t *) arg;
    s_sink_t *self = (s_sink_t *) calloc (1, sizeof (s_sink_t));
    if (self) {
        self->base = zflow_actor_new (pipe, "zflow_mqtt_sink");
        self->input = zsock_new (ZMQ_PULL);
    }
    if (!self || !self->base || !self->input)
        start->err = ZFLOW_ENOMEM;
    else {
        self->counters = zflow_actor_counters (self->base);
        self->input_handle = zsock_resolve (self->input);
        start->err = s_configure (self, start->config);
    }
    if (start->err) {
        s_sink_destroy (&self);
        zsock_signal (pipe, 0); //  as zflow_actor_ready (base, -1) would
        zsock_signal (pipe, 1);
        return;
    }
    zflow_actor_set_stats_handler (self->base, s_on_stats, self);
    s_update_reading (self);
    zflow_actor_ready (self->base, 0);
    zflow__mqtt_conn_start (&self->conn);
    zflow_actor_run (self->base);
    s_sink_destroy (&self);
}

//  ---------------------------------------------------------------------
//  The public object

struct _zflow_mqtt_sink_t {
    zactor_t *actor; //  the sink actor
    char *endpoint;  //  its input endpoint
};

zflow_mqtt_sink_t *zflow_mqtt_sink_new (const zflow_mqtt_config_t *config, int *err_p)
{
    int err = ZFLOW_EINVAL;
    zflow_mqtt_sink_t *self = NULL;
    if (config) {
        self = (zflow_mqtt_sink_t *) calloc (1, sizeof (*self));
        err = ZFLOW_ENOMEM;
    }
    zflow_mqtt_config_t copy;
    if (self) {
        copy = *config;
        static uint32_t counter = 0;
        self->endpoint = config->endpoint
                             ? strdup (config->endpoint)
                             : zsys_sprintf ("inproc://zflow-mqtt-sink-%d-%u", (int) getpid (),
                                             __atomic_add_fetch (&counter, 1, __ATOMIC_RELAXED));
        copy.endpoint = self->endpoint;
    }
    if (self && self->endpoint) {
        s_start_t start = {&copy, 0};
        self->actor = zflow_actor_start (s_sink_actor, &start);
        err = start.err ? start.err : self->actor ? 0 : ZFLOW_ENOMEM;
    }
    if (err) {
        zflow_mqtt_sink_destroy (&self);
        if (err_p)
            *err_p = err;
        return NULL;
    }
    if (err_p)
        *err_p = 0;
    return self;
}

void zflow_mqtt_sink_destroy (zflow_mqtt_sink_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_mqtt_sink_t *self = *self_p;
    zactor_destroy (&self->actor);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

zhash_t *zflow_mqtt_sink_stats (zflow_mqtt_sink_t *self, int timeout_ms)
{
    return self ? zflow_actor_stats (self->actor, timeout_ms) : NULL;
}

void zflow_mqtt_sink_set_verbose (zflow_mqtt_sink_t *self, bool verbose)
{
    if (self)
        zflow_actor_set_verbose (self->actor, verbose);
}

const char *zflow_mqtt_sink_endpoint (zflow_mqtt_sink_t *self)
{
    return self ? self->endpoint : NULL;
}

zactor_t *zflow_mqtt_sink_actor (zflow_mqtt_sink_t *self)
{
    return self ? self->actor : NULL;
}
