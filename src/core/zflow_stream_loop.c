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

static void s_add_reader (zflow_stream_t *self);

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
    if (!loop || self->loop)
        return ZFLOW_EINVAL;
    if (!self->sock)
        return ZFLOW_ECLOSED;
    self->loop = loop;
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
    if (!self->loop)
        return;
    if (self->on_readable && !self->read_paused)
        zloop_reader_end (self->loop, self->sock);
    zflow__stream_stop_write_polling (self);
    self->read_paused = false;
    self->loop = NULL;
}
