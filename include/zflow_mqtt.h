/*  =========================================================================
    zflow_mqtt - MQTT (3.1.1) source and sink actors over libmosquitto

    A source connects to an MQTT broker, subscribes to its topic filters
    ("+" and "#" allowed) and publishes every message on its PUB endpoint
    as a zflow envelope:

        frame 1   key (<key_prefix>, level 1, level 2, ...): topic "a/b/c"
                  becomes ("mqtt", "a", "b", "c"); an empty level (the
                  topic "a//b", or a leading "/") is kept as "" and a topic
                  of more than 31 levels or a level over 255 bytes is
                  dropped (counted in "unmapped")
        frame 2   meta: src = the client id, seq = messages received, ts =
                  time received, extras "topic" (as received), "qos" and
                  "retain" ("1" for a retained message the broker replays)
        frame 3   the payload, as it came

    A sink reads envelopes on its input endpoint (a PULL) and publishes
    each payload to a topic: the fixed topic of the configuration, or else
    the key mapped back ("mqtt" "a" "b" -> "a/b": the components after the
    key prefix joined by "/"; a key that does not start with the prefix is
    joined whole). QoS 0, 1 or 2 and the retain flag apply to every message.

    Delivery and backpressure (sink). "delivered" counts a QoS 0 message
    once libmosquitto wrote it to the socket, a QoS 1 message at its PUBACK
    and a QoS 2 one at its PUBCOMP. "inflight" is the QoS 1/2 messages
    published and not yet acknowledged; it never exceeds max_inflight (the
    stream watermark when the sink is a pipeline stage). With lossless set,
    a full window or a lost connection stops the sink reading its input
    (its PULL then pushes back on the writer) until acknowledgements come
    or the connection is back: unacknowledged messages are sent again
    after a reconnect (with DUP), so with QoS 1 and a persistent session
    (clean_session false) nothing is lost when the broker restarts. Without
    lossless the sink keeps reading and drops (counted) what finds the
    window full or the connection down.

    Source backpressure: the PUB has a send watermark (sndhwm); a message a
    subscriber has no room for is dropped and counted, or with lossless
    held while the source stops reading the broker's socket (TCP then
    pushes back on the broker, which queues per its own limits).

    Bad input: a payload over max_payload is dropped with a reason (the
    MQTT limit is 268435455 bytes; set max_payload to the broker's
    message_size_limit, since an MQTT 3.1.1 broker drops a message over it
    without telling the client). A packet over the broker's max_packet_size
    makes it close the connection: when that happens three times in a row
    with messages in flight and no acknowledgement, the sink stops as if
    refused and counts what was in flight in "given_up". A CONNACK refusal
    (bad user name or password, not authorised, identifier rejected) stops
    the client for good: "refused" becomes 1 and "reason" (in STATS as text) holds the
    broker's words; nothing is retried. A lost connection (the broker
    killed, the network) is retried with a backoff that doubles from
    backoff_min_ms to backoff_max_ms; each retry after the first connect
    counts in "reconnects"; the source subscribes again after each one.

    STATS adds (source): msgs, bytes, received, unmapped, connected,
    connects, reconnects, disconnects, refused, subscribed, held (lossless,
    waiting for the PUB); (sink): msgs, bytes, published, delivered,
    inflight, oversize, unmapped, malformed, not_connected, window_full,
    rejected, given_up, connected, connects, reconnects, disconnects,
    refused; both also "reason" (text: the last refusal or drop, or "").
    drops (standard) counts every message given up.

    Why libmosquitto runs in the actor's zloop (mosquitto_socket polled,
    mosquitto_loop_read / _write / _misc called by the loop) and not in
    the thread of mosquitto_loop_start: the actor then owns every
    libmosquitto call (no lock between the actor and a network thread), a
    PUBACK and the input read that it unblocks happen in one thread (the
    backpressure above is exact, with no queue in between), and STATS,
    $TERM and data never wait on a second thread.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_MQTT_H_INCLUDED
#define ZFLOW_MQTT_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zflow_mqtt_source_t zflow_mqtt_source_t;
typedef struct _zflow_mqtt_sink_t zflow_mqtt_sink_t;

#define ZFLOW_MQTT_PORT 1883
#define ZFLOW_MQTT_TLS_PORT 8883
#define ZFLOW_MQTT_KEEPALIVE_S 30
#define ZFLOW_MQTT_BACKOFF_MIN_MS 100
#define ZFLOW_MQTT_BACKOFF_MAX_MS 5000
#define ZFLOW_MQTT_MAX_INFLIGHT 1000
#define ZFLOW_MQTT_MAX_PAYLOAD 268435455
#define ZFLOW_MQTT_SNDHWM 1000

//  The configuration of a source or a sink (fields marked "source" or
//  "sink" apply to that one only). zflow_mqtt_config_init sets every
//  default; zero / NULL fields also take the defaults named here, except
//  the booleans (false).
typedef struct {
    const char *host;       //  broker host name or address ("127.0.0.1")
    int port;               //  broker port (1883, or 8883 with tls)
    const char *username;   //  user name, or NULL
    const char *password;   //  password (with username), or NULL
    const char *client_id;  //  client id; NULL: "zflow-<pid>-<n>" (must be set
                            //  for a persistent session to be found again)
    bool clean_session;     //  start a new session on every connect (else keep it)
    int keepalive_s;        //  MQTT keepalive, seconds (30)
    bool tls;               //  TLS (mqtts)
    const char *ca_file;    //  tls: PEM file of trusted CAs (NULL: system store)
    bool insecure;          //  tls: skip the host name check (testing only)
    int qos;                //  source: subscription QoS; sink: publish QoS (0-2)
    const char *filters;    //  source: topic filters, comma- or newline-separated
    const char *key_prefix; //  first key component ("mqtt")
    const char *topic;      //  sink: one topic for every message (NULL: from the key)
    bool retain;            //  sink: publish with the retain flag
    bool lossless;          //  push back instead of dropping (see above)
    size_t max_inflight;    //  sink: QoS 1/2 messages unacknowledged at most (1000)
    size_t max_payload;     //  sink: largest payload published (268435455)
    int backoff_min_ms;     //  first reconnect delay (100)
    int backoff_max_ms;     //  longest reconnect delay (5000)
    const char *endpoint;   //  source: PUB endpoint it binds; sink: PULL endpoint
                            //  (default "inproc://zflow-mqtt-<source|sink>-<n>")
    bool connect_input;     //  sink: connect the PULL to endpoint (else bind it)
    size_t sndhwm;          //  source: PUB send watermark; sink: PULL receive
                            //  watermark, in messages (1000)
} zflow_mqtt_config_t;

//  Sets every field of config to its default. NULL does nothing.
void zflow_mqtt_config_init (zflow_mqtt_config_t *config);

//  Starts a source actor that connects at once (and keeps retrying). Copies
//  everything it needs from config (strings duplicated): the caller may
//  free or reuse config at once. Returns the source (the caller owns it;
//  zflow_mqtt_source_destroy) or NULL with *err_p (if not NULL) set to
//  ZFLOW_EINVAL (config NULL), ZFLOW_ECONFIG (no filters, a bad filter,
//  qos not 0-2, bad key prefix, a port out of range, a CA file TLS
//  refuses), ZFLOW_EENDPOINT (the PUB endpoint cannot be bound) or
//  ZFLOW_ENOMEM.
zflow_mqtt_source_t *zflow_mqtt_source_new (const zflow_mqtt_config_t *config, int *err_p);

//  Stops the actor (disconnecting from the broker) and frees the source;
//  sets *self_p to NULL. NULL-safe and idempotent. Subscribers of its
//  endpoint may outlive it: they receive nothing more.
void zflow_mqtt_source_destroy (zflow_mqtt_source_t **self_p);

//  Returns the counters (a new hash the caller owns; zhash_destroy), or
//  NULL on timeout or for a NULL self.
zhash_t *zflow_mqtt_source_stats (zflow_mqtt_source_t *self, int timeout_ms);

//  Turns tracing to stderr on or off (VERBOSE). NULL does nothing.
void zflow_mqtt_source_set_verbose (zflow_mqtt_source_t *self, bool verbose);

//  Returns the PUB endpoint the envelopes go out on (owned by self, valid
//  until it is destroyed), or NULL for a NULL self.
const char *zflow_mqtt_source_endpoint (zflow_mqtt_source_t *self);

//  Returns the actor (borrowed: do not destroy it), or NULL for NULL self.
zactor_t *zflow_mqtt_source_actor (zflow_mqtt_source_t *self);

//  Starts a sink actor that connects at once (and keeps retrying) and
//  reads envelopes from its endpoint. Copies config like the source.
//  Returns the sink (the caller owns it; zflow_mqtt_sink_destroy) or NULL
//  with *err_p (if not NULL) set to ZFLOW_EINVAL (config NULL),
//  ZFLOW_ECONFIG (qos not 0-2, a topic with '+' or '#', max_inflight 0 or
//  over 65535, a port out of range, a CA file TLS refuses),
//  ZFLOW_EENDPOINT (the input cannot be bound or connected) or
//  ZFLOW_ENOMEM.
zflow_mqtt_sink_t *zflow_mqtt_sink_new (const zflow_mqtt_config_t *config, int *err_p);

//  Stops the actor and frees the sink; sets *self_p to NULL. NULL-safe and
//  idempotent. Messages not yet acknowledged are given up (a persistent
//  session keeps them on the broker's side only once they were sent).
void zflow_mqtt_sink_destroy (zflow_mqtt_sink_t **self_p);

//  Returns the counters (a new hash the caller owns; zhash_destroy), or
//  NULL on timeout or for a NULL self.
zhash_t *zflow_mqtt_sink_stats (zflow_mqtt_sink_t *self, int timeout_ms);

//  Turns tracing to stderr on or off (VERBOSE). NULL does nothing.
void zflow_mqtt_sink_set_verbose (zflow_mqtt_sink_t *self, bool verbose);

//  Returns the input endpoint the sink reads envelopes from (owned by
//  self), or NULL for a NULL self.
const char *zflow_mqtt_sink_endpoint (zflow_mqtt_sink_t *self);

//  Returns the actor (borrowed: do not destroy it), or NULL for NULL self.
zactor_t *zflow_mqtt_sink_actor (zflow_mqtt_sink_t *self);

#ifdef __cplusplus
}
#endif

#endif
