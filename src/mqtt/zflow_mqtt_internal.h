/*  =========================================================================
    zflow_mqtt_internal - what the MQTT source and sink share: one
    libmosquitto client driven by an actor's zloop

    Internal. A zflow__mqtt_conn_t polls mosquitto_socket() with a zloop
    poller (POLLIN, plus POLLOUT only while libmosquitto has bytes it could
    not write), calls mosquitto_loop_misc on a timer (keepalive pings) and
    reconnects after a backoff when the connection is lost. The source or
    sink sets libmosquitto's message and publish callbacks itself (the
    userdata is the conn; conn->owner is theirs) and hears of connections
    through on_up and on_down.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_MQTT_INTERNAL_H_INCLUDED
#define ZFLOW_MQTT_INTERNAL_H_INCLUDED

#include "zflow_actor.h"
#include "zflow_mqtt.h"
#include <mosquitto.h>

//  Called when a CONNACK accepted the connection, and when a connection
//  that was up is lost (or refused); arg is conn->owner.
typedef void (zflow__mqtt_event_fn) (void *owner);

typedef struct {
    struct mosquitto *mosq;        //  the libmosquitto client
    zloop_t *loop;                 //  the actor's loop (borrowed)
    const zflow_mqtt_config_t *cf; //  the owner's copied configuration (borrowed)
    const char *name;              //  "zflow_mqtt_source" or "zflow_mqtt_sink", for traces
    void *owner;                   //  the source or sink
    zflow__mqtt_event_fn *on_up;   //  connection accepted
    zflow__mqtt_event_fn *on_down; //  connection lost or refused
    zflow__mqtt_event_fn *on_io;   //  the socket takes bytes again (may be NULL)
    zflow_actor_t *base;           //  the owner's actor base (its VERBOSE flag)
    int fd;                        //  socket being polled, or -1
    int events;                    //  events it is polled for
    bool paused;                   //  the owner asked not to read (lossless source)
    bool write_pending;            //  libmosquitto held bytes at the last sync
    bool connected;                //  CONNACK accepted, not lost since
    bool refused;                  //  CONNACK refused: stopped for good
    bool stopping;                 //  closing: no more reconnects
    int misc_timer;                //  id of the loop_misc timer
    int retry_timer;               //  id of the armed reconnect timer, or -1
    int backoff_ms;                //  next reconnect delay
    int64_t connect_deadline;      //  monotonic ms by which CONNACK must come, or 0
    uint64_t attempts;             //  connect attempts
    uint64_t connects;             //  CONNACKs accepted
    uint64_t reconnects;           //  attempts after the first connect
    uint64_t disconnects;          //  connections lost after a CONNACK
    char reason[256];              //  the last refusal, loss or drop, or ""
} zflow__mqtt_conn_t;

//  Sets conn up for cf (which must outlive it) on base's loop: creates the
//  libmosquitto client with user name, password and TLS. Returns 0,
//  ZFLOW_ECONFIG (TLS refused the CA file) or ZFLOW_ENOMEM.
int zflow__mqtt_conn_init (zflow__mqtt_conn_t *conn, const zflow_mqtt_config_t *cf,
                           zflow_actor_t *base, const char *name, void *owner);

//  Makes the first connect attempt (later ones follow by themselves).
void zflow__mqtt_conn_start (zflow__mqtt_conn_t *conn);

//  After the owner called libmosquitto (publish, subscribe): writes what
//  libmosquitto queued and polls for POLLOUT only if some is left. Returns
//  true while bytes wait for the socket.
bool zflow__mqtt_conn_sync (zflow__mqtt_conn_t *conn);

//  Stops (paused true) or resumes reading the socket.
void zflow__mqtt_conn_pause (zflow__mqtt_conn_t *conn, bool paused);

//  Disconnects, ends the poller and timers and frees the client.
void zflow__mqtt_conn_close (zflow__mqtt_conn_t *conn);

//  Adds connected, connects, reconnects, disconnects, refused to reply.
void zflow__mqtt_conn_stats (zflow__mqtt_conn_t *conn, zmsg_t *reply);

//  Records a reason (printf-style) in conn->reason and traces it.
void zflow__mqtt_conn_reason (zflow__mqtt_conn_t *conn, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

//  Copies src into dst with defaults for zero fields and every string
//  duplicated (NULL stays NULL). Returns 0 or ZFLOW_ENOMEM.
int zflow__mqtt_config_copy (zflow_mqtt_config_t *dst, const zflow_mqtt_config_t *src,
                             const char *role);

//  Frees the strings of a copy made by zflow__mqtt_config_copy.
void zflow__mqtt_config_free (zflow_mqtt_config_t *config);

#endif
