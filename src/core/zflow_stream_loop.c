/*  =========================================================================
    zflow_stream_loop - a stream inside an actor's zloop

    The loop fills the read buffer when the socket is readable and calls
    the owner's on_readable; at the high read watermark it removes its
    reader, so messages stay in ZeroMQ's pipe and its HWM pushes back on the
    sender, and reads that bring the buffer to the low watermark put the
    reader back. While messages wait in the write buffer a POLLOUT poller
    flushes them and on_drained says when the buffer fell to its low
    watermark.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_error.h"
#include "zflow_stream_internal.h"
#include <pthread.h>

static void s_add_reader (zflow_stream_t *self);

//  Every attached stream, in one list, so that a loop about to be destroyed
//  can let go of its streams (zflow__stream_forget_loop): without it a
//  stream destroyed after its actor would detach from a freed loop. Streams
//  attach and detach rarely, so one lock for the process is enough.
static pthread_mutex_t s_attached_lock = PTHREAD_MUTEX_INITIALIZER;
static zflow_stream_t *s_attached; //  head of the list, NULL if none

static void s_attached_unlink (zflow_stream_t *self)
{
    if (self->attached_prev)
        self->attached_prev->attached_next = self->attached_next;
    else
        s_attached = self->attached_next;
    if (self->attached_next)
        self->attached_next->attached_prev = self->attached_prev;
    self->attached_prev = self->attached_next = NULL;
}

//  Pauses or resumes the loop's reader according to the read watermarks.
void zflow__stream_update_read_polling (zflow_stream_t *self)
{
    if (!self->loop || !self->sock || !self->on_readable)
        return;
    if (!self->read_paused && zflow__stream_read_full (self)) {
        zloop_reader_end (self->loop, self->sock);
        self->read_paused = true;
        self->pauses++;
    } else if (self->read_paused && zflow__stream_read_low (self)) {
        self->read_paused = false;
        s_add_reader (self);
    }
}

static int s_on_socket_readable (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void) loop;
    (void) sock;
    zflow_stream_t *self = (zflow_stream_t *) arg;
    zflow__stream_fill (self);
    if (self->rbuf.msgs && self->on_readable)
        self->on_readable (self, self->arg);
    zflow__stream_update_read_polling (self);
    return 0;
}

static void s_add_reader (zflow_stream_t *self)
{
    zloop_reader (self->loop, self->sock, s_on_socket_readable, self);
    zloop_reader_set_tolerant (self->loop, self->sock);
}

static int s_on_socket_writable (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    (void) item;
    zflow_stream_t *self = (zflow_stream_t *) arg;
    zflow__stream_flush (self);
    zflow__stream_after_flush (self);
    return 0;
}

//  Keeps a POLLOUT poller on the loop exactly while messages are queued.
void zflow__stream_update_write_polling (zflow_stream_t *self)
{
    if (!self->loop || !self->sock)
        return;
    if (self->wbuf.count && !self->polling_out) {
        zmq_pollitem_t item = {self->handle, 0, ZMQ_POLLOUT, 0};
        zloop_poller (self->loop, &item, s_on_socket_writable, self);
        zloop_poller_set_tolerant (self->loop, &item);
        self->polling_out = true;
    } else if (!self->wbuf.count && self->polling_out)
        zflow__stream_stop_write_polling (self);
}

void zflow__stream_stop_write_polling (zflow_stream_t *self)
{
    if (self->polling_out) {
        zmq_pollitem_t item = {self->handle, 0, ZMQ_POLLOUT, 0};
        zloop_poller_end (self->loop, &item);
        self->polling_out = false;
    }
}

int zflow_stream_attach (zflow_stream_t *self, zloop_t *loop, zflow_stream_fn *on_readable,
                         zflow_stream_fn *on_drained, void *arg)
{
    if (!self || !loop || self->loop)
        return ZFLOW_EINVAL;
    if (!self->sock)
        return ZFLOW_ECLOSED;
    pthread_mutex_lock (&s_attached_lock);
    self->loop = loop;
    self->attached_next = s_attached;
    if (s_attached)
        s_attached->attached_prev = self;
    s_attached = self;
    pthread_mutex_unlock (&s_attached_lock);
    self->on_readable = on_readable;
    self->on_drained = on_drained;
    self->arg = arg;
    self->read_paused = false;
    if (on_readable)
        s_add_reader (self);
    zflow__stream_update_write_polling (self);
    return 0;
}

void zflow_stream_detach (zflow_stream_t *self)
{
    if (!self || !self->loop)
        return;
    if (self->on_readable && !self->read_paused)
        zloop_reader_end (self->loop, self->sock);
    zflow__stream_stop_write_polling (self);
    self->read_paused = false;
    pthread_mutex_lock (&s_attached_lock);
    s_attached_unlink (self);
    self->loop = NULL;
    pthread_mutex_unlock (&s_attached_lock);
}

void zflow__stream_forget_loop (zloop_t *loop)
{
    if (!loop)
        return;
    pthread_mutex_lock (&s_attached_lock);
    zflow_stream_t *stream = s_attached;
    while (stream) {
        zflow_stream_t *next = stream->attached_next;
        if (stream->loop == loop) {
            //  the loop frees its readers and pollers itself: only forget it
            s_attached_unlink (stream);
            stream->loop = NULL;
            stream->polling_out = false;
            stream->read_paused = false;
        }
        stream = next;
    }
    pthread_mutex_unlock (&s_attached_lock);
}
