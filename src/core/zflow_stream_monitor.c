/*  =========================================================================
    zflow_stream_monitor - a stream's socket monitor and event backlog

    libzmq publishes monitor events on an inproc PAIR it binds; we connect a
    PAIR to it and move events into a ring of fixed size, discarding the
    oldest when a reader falls behind (aiozmq's events_backlog).

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_stream_monitor.h"
#include "zflow_error.h"
#include <stdatomic.h>
#include <string.h>

struct _zflow_stream_monitor_t {
    zsock_t *pair;              //  our end of libzmq's monitor PAIR
    int user_events;            //  the events the user asked for
    zflow_stream_event_t *ring; //  the backlog, circular
    size_t capacity;            //  backlog size
    size_t head;                //  oldest event
    size_t count;               //  events in the backlog
    uint64_t discarded;         //  events dropped because the backlog was full
    bool stopped;               //  the socket is closed: no more events will come
};

//  Makes monitor endpoints unique within the process.
static atomic_uint s_monitor_id;

zflow__stream_monitor_t *zflow__stream_monitor_new (void *handle, int events, size_t backlog)
{
    zflow__stream_monitor_t *self = (zflow__stream_monitor_t *) zmalloc (sizeof (*self));
    if (!self)
        return NULL;
    char endpoint[64];
    snprintf (endpoint, sizeof (endpoint), "inproc://zflow-monitor-%u",
              atomic_fetch_add (&s_monitor_id, 1));
    self->user_events = events;
    self->capacity = backlog;
    self->ring = (zflow_stream_event_t *) calloc (backlog, sizeof (zflow_stream_event_t));
    if (!self->ring || zmq_socket_monitor (handle, endpoint, events)) {
        free (self->ring);
        free (self);
        return NULL;
    }
    self->pair = zsock_new (ZMQ_PAIR);
    if (!self->pair || zsock_connect (self->pair, "%s", endpoint)) {
        zmq_socket_monitor (handle, NULL, 0);
        zflow__stream_monitor_destroy (&self);
    }
    return self;
}

void zflow__stream_monitor_destroy (zflow__stream_monitor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow__stream_monitor_t *self = *self_p;
    zsock_destroy (&self->pair);
    free (self->ring);
    free (self);
    *self_p = NULL;
}

//  Appends an event, discarding the oldest when the backlog is full.
static void s_push (zflow__stream_monitor_t *self, const zflow_stream_event_t *event)
{
    if (self->count == self->capacity) {
        self->head = (self->head + 1) % self->capacity;
        self->count--;
        self->discarded++;
    }
    self->ring[(self->head + self->count) % self->capacity] = *event;
    self->count++;
}

//  Moves every event waiting on the PAIR into the backlog. Each event is two
//  frames: 6 bytes (uint16 event, uint32 value, host order) and the endpoint.
static void s_pull (zflow__stream_monitor_t *self)
{
    while (self->pair) {
        zmsg_t *msg = zmsg_recv_nowait (self->pair);
        if (!msg)
            return;
        zframe_t *head = zmsg_first (msg);
        zframe_t *address = zmsg_next (msg);
        if (head && zframe_size (head) == 6) {
            uint16_t type;
            uint32_t value;
            memcpy (&type, zframe_data (head), 2);
            memcpy (&value, zframe_data (head) + 2, 4);
            zflow_stream_event_t event = {type, (int) value, ""};
            if (address) {
                size_t size = zframe_size (address);
                if (size >= sizeof (event.endpoint))
                    size = sizeof (event.endpoint) - 1;
                memcpy (event.endpoint, zframe_data (address), size);
            }
            if (type & self->user_events)
                s_push (self, &event);
        }
        zmsg_destroy (&msg);
    }
}

void zflow__stream_monitor_stop (zflow__stream_monitor_t *self, void *handle)
{
    s_pull (self);
    zmq_socket_monitor (handle, NULL, 0);
    s_pull (self);
    self->stopped = true;
}

int zflow__stream_monitor_read (zflow__stream_monitor_t *self, zflow_stream_event_t *event,
                                int timeout_ms)
{
    s_pull (self);
    if (self->count == 0 && !self->stopped && timeout_ms != 0) {
        zpoller_t *poller = zpoller_new (self->pair, NULL);
        if (poller) {
            zpoller_wait (poller, timeout_ms);
            zpoller_destroy (&poller);
        }
        s_pull (self);
    }
    if (self->count == 0) {
        if (self->stopped)
            return ZFLOW_ECLOSED;
        return timeout_ms == 0 ? ZFLOW_EAGAIN : ZFLOW_ETIMEDOUT;
    }
    *event = self->ring[self->head];
    self->head = (self->head + 1) % self->capacity;
    self->count--;
    return 0;
}

uint64_t zflow__stream_monitor_discarded (zflow__stream_monitor_t *self)
{
    return self->discarded;
}

const char *zflow_stream_event_name (int type)
{
    switch (type) {
    case ZMQ_EVENT_CONNECTED:
        return "connected";
    case ZMQ_EVENT_CONNECT_DELAYED:
        return "connect_delayed";
    case ZMQ_EVENT_CONNECT_RETRIED:
        return "connect_retried";
    case ZMQ_EVENT_LISTENING:
        return "listening";
    case ZMQ_EVENT_BIND_FAILED:
        return "bind_failed";
    case ZMQ_EVENT_ACCEPTED:
        return "accepted";
    case ZMQ_EVENT_ACCEPT_FAILED:
        return "accept_failed";
    case ZMQ_EVENT_CLOSED:
        return "closed";
    case ZMQ_EVENT_CLOSE_FAILED:
        return "close_failed";
    case ZMQ_EVENT_DISCONNECTED:
        return "disconnected";
    case ZMQ_EVENT_MONITOR_STOPPED:
        return "monitor_stopped";
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        return "handshake_failed_no_detail";
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        return "handshake_succeeded";
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        return "handshake_failed_protocol";
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        return "handshake_failed_auth";
    default:
        return "unknown";
    }
}
