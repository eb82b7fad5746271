/*  =========================================================================
    zflow_stream - a watermark-bounded stream over one ZeroMQ socket

    Reading: when the read buffer is empty, read() receives straight from the
    socket into the caller's message, so a plain reading thread pays nothing
    for the buffer. An attached stream (an actor's zloop) fills the buffer
    when the socket is readable, up to the high watermark; there it removes
    its reader from the loop, so messages stay in ZeroMQ's pipe and its HWM
    pushes back on the sender; reads that bring the buffer to the low
    watermark put the reader back.

    Writing: write() sends at once when nothing is queued; a message the
    socket refuses with EAGAIN (its HWM reached) goes into the write buffer,
    which drain() or the loop's POLLOUT poller flushes in order. Nothing
    written is ever dropped, except by close().

    Monitor events come from libzmq's socket monitor on an inproc PAIR; they
    are moved into a bounded backlog that discards the oldest.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_stream.h"
#include "zflow_error.h"
#include "zflow_msg_internal.h"
#include "zflow_ring.h"
#include "zflow_stream_internal.h"
#include "zflow_stream_monitor.h"
#include <errno.h>
#include <string.h>

//  ---------------------------------------------------------------------
//  Construction

static zflow_stream_t *s_new (zsock_t *sock)
{
    zflow_stream_t *self = (zflow_stream_t *) zmalloc (sizeof (zflow_stream_t));
    if (!self)
        return NULL;
    self->sock = sock;
    self->handle = zsock_resolve (sock);
    self->type = zsock_type (sock);
    self->bindings = zlistx_new ();
    self->connections = zlistx_new ();
    if (!self->bindings || !self->connections) {
        zlistx_destroy (&self->bindings);
        zlistx_destroy (&self->connections);
        free (self);
        return NULL;
    }
    zlistx_set_destructor (self->bindings, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_destructor (self->connections, (zlistx_destructor_fn *) zstr_free);
    zflow__ring_init (&self->rbuf);
    zflow__ring_init (&self->wbuf);
    self->read_high = self->write_high = ZFLOW_STREAM_DEFAULT_HIGH;
    self->read_low = self->write_low = ZFLOW_STREAM_DEFAULT_HIGH / 4;
    self->rcvtimeo = -1;
    return self;
}

zflow_stream_t *zflow_stream_new_sock (zsock_t **sock_p)
{
    if (!sock_p || !*sock_p || !zsock_is (*sock_p))
        return NULL;
    zflow_stream_t *self = s_new (*sock_p);
    if (self) {
        zsock_set_rcvtimeo (self->sock, -1);
        *sock_p = NULL;
    }
    return self;
}

//  Applies each endpoint of a comma-separated list. Returns 0 or the error.
static int s_apply_list (zflow_stream_t *self, const char *list, bool bind)
{
    if (!list)
        return 0;
    char *copy = strdup (list);
    if (!copy)
        return ZFLOW_ENOMEM;
    int rc = 0;
    char *saveptr = NULL;
    for (char *ep = strtok_r (copy, ",", &saveptr); ep && rc == 0;
         ep = strtok_r (NULL, ",", &saveptr)) {
        while (*ep == ' ')
            ep++;
        rc = bind ? zflow_stream_bind (self, ep) : zflow_stream_connect (self, ep);
    }
    free (copy);
    return rc;
}

zflow_stream_t *zflow_stream_new (int type, const char *bind, const char *connect, int *err_p)
{
    int err = 0;
    zflow_stream_t *self = NULL;
    //  stable libzmq socket types are PAIR (0) .. STREAM (11)
    if (type < ZMQ_PAIR || type > ZMQ_STREAM)
        err = ZFLOW_ESOCKTYPE;
    else {
        zsock_t *sock = zsock_new (type);
        self = sock ? s_new (sock) : NULL;
        if (!self) {
            zsock_destroy (&sock);
            err = ZFLOW_ENOMEM;
        }
    }
    if (self) {
        err = s_apply_list (self, bind, true);
        if (!err)
            err = s_apply_list (self, connect, false);
        if (err)
            zflow_stream_destroy (&self);
    }
    if (err_p)
        *err_p = err;
    return self;
}

void zflow_stream_destroy (zflow_stream_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_stream_t *self = *self_p;
    zflow_stream_close (self);
    zflow__stream_monitor_destroy (&self->monitor);
    zflow__ring_destroy (&self->rbuf);
    zlistx_destroy (&self->bindings);
    zlistx_destroy (&self->connections);
    free (self);
    *self_p = NULL;
}

int zflow_stream_bind (zflow_stream_t *self, const char *endpoint)
{
    if (!endpoint || !*endpoint)
        return ZFLOW_EINVAL;
    if (!self->sock)
        return ZFLOW_ECLOSED;
    if (zmq_bind (self->handle, endpoint))
        return ZFLOW_EENDPOINT;
    //  the real endpoint, with the port the kernel chose for a "*" bind
    char real[256] = "";
    size_t size = sizeof (real);
    if (zmq_getsockopt (self->handle, ZMQ_LAST_ENDPOINT, real, &size) || !*real)
        snprintf (real, sizeof (real), "%s", endpoint);
    char *copy = strdup (real);
    if (!copy || !zlistx_add_end (self->bindings, copy)) {
        free (copy);
        zmq_unbind (self->handle, real);
        return ZFLOW_ENOMEM;
    }
    return 0;
}

int zflow_stream_connect (zflow_stream_t *self, const char *endpoint)
{
    if (!endpoint || !*endpoint)
        return ZFLOW_EINVAL;
    if (!self->sock)
        return ZFLOW_ECLOSED;
    if (zmq_connect (self->handle, endpoint))
        return ZFLOW_EENDPOINT;
    char *copy = strdup (endpoint);
    if (!copy || !zlistx_add_end (self->connections, copy)) {
        free (copy);
        zmq_disconnect (self->handle, endpoint);
        return ZFLOW_ENOMEM;
    }
    return 0;
}

zsock_t *zflow_stream_sock (zflow_stream_t *self)
{
    return self->sock;
}

int zflow_stream_type (zflow_stream_t *self)
{
    return self->type;
}

zlistx_t *zflow_stream_bindings (zflow_stream_t *self)
{
    return self->bindings;
}

zlistx_t *zflow_stream_connections (zflow_stream_t *self)
{
    return self->connections;
}

//  ---------------------------------------------------------------------
//  Watermarks

//  Checks a watermark pair; low 0 means high / 4. Returns 0 or EWATERMARK.
static int s_limits (size_t high, size_t low, size_t *high_p, size_t *low_p)
{
    if (high == 0 || high < low)
        return ZFLOW_EWATERMARK;
    *high_p = high;
    *low_p = low ? low : high / 4;
    return 0;
}

int zflow_stream_set_read_limits (zflow_stream_t *self, size_t high, size_t low)
{
    return s_limits (high, low, &self->read_high, &self->read_low);
}

int zflow_stream_set_read_limits_msgs (zflow_stream_t *self, size_t high, size_t low)
{
    if (high == 0 && low == 0) {
        self->read_high_msgs = self->read_low_msgs = 0;
        return 0;
    }
    return s_limits (high, low, &self->read_high_msgs, &self->read_low_msgs);
}

int zflow_stream_set_write_limits (zflow_stream_t *self, size_t high, size_t low)
{
    return s_limits (high, low, &self->write_high, &self->write_low);
}

//  True when the read buffer is at or above a high watermark.
bool zflow__stream_read_full (zflow_stream_t *self)
{
    return self->rbuf.bytes >= self->read_high ||
           (self->read_high_msgs && self->rbuf.msgs >= self->read_high_msgs);
}

//  True when the read buffer is at or below every low watermark.
bool zflow__stream_read_low (zflow_stream_t *self)
{
    return self->rbuf.bytes <= self->read_low &&
           (!self->read_high_msgs || self->rbuf.msgs <= self->read_low_msgs);
}

//  ---------------------------------------------------------------------
//  Errors from libzmq

//  Records a failure of the socket: ETERM and ENOTSOCK mean it is gone
//  (closed underneath); anything else is kept as the stream's exception.
static int s_fail (zflow_stream_t *self, int err)
{
    if (err == ETERM || err == ENOTSOCK) {
        zflow_stream_close (self);
        return ZFLOW_ECLOSED;
    }
    if (!self->exception) {
        self->exception = ZFLOW_ETRANSPORT;
        self->exception_errno = err;
    }
    return ZFLOW_ETRANSPORT;
}

int zflow_stream_exception (zflow_stream_t *self)
{
    return self->exception;
}

int zflow_stream_errno (zflow_stream_t *self)
{
    return self->exception_errno;
}

//  ---------------------------------------------------------------------
//  Reading

//  Receives one message from the socket into msg, reusing msg's parts:
//  zmq_msg_recv releases what a part held, so the hot path neither closes
//  nor re-initialises anything. flags: 0 or ZMQ_DONTWAIT (first part only;
//  libzmq delivers the rest of a multipart message atomically).
//  Returns 0, ZFLOW_EAGAIN (nothing there, or RCVTIMEO expired) or an error;
//  msg is empty after an error.
//  Receives the remaining parts of a message whose first part is
//  msg->parts[0] (received, with more set), reusing msg's other parts.
//  Returns 0 or an error (msg is then empty).
static int s_recv_rest (zflow_stream_t *self, zflow_msg_t *msg)
{
    size_t index = 1;
    while (true) {
        zmq_msg_t *part = &msg->parts[index];
        if (index == msg->count) {
            if (!(part = zflow__msg_append (msg))) {
                zflow_msg_reset (msg);
                return ZFLOW_ENOMEM;
            }
            zmq_msg_init (part);
        }
        //  libzmq delivers a multipart message whole: the rest is there
        if (zmq_msg_recv (part, self->handle, 0) < 0) {
            int err = zmq_errno ();
            zflow_msg_reset (msg);
            return s_fail (self, err);
        }
        index++;
        if (!zmq_msg_more (part))
            break;
    }
    //  parts left over from a longer previous message
    while (msg->count > index)
        zmq_msg_close (&msg->parts[--msg->count]);
    return 0;
}

//  Receives one message from the socket into msg, reusing msg's parts:
//  zmq_msg_recv releases what a part held, so the hot path neither closes
//  nor re-initialises anything. flags: 0 or ZMQ_DONTWAIT (first part only).
//  Returns 0, ZFLOW_EAGAIN (nothing there, or RCVTIMEO expired) or an error;
//  msg is empty after an error.
static int s_recv_msg (zflow_stream_t *self, zflow_msg_t *msg, int flags)
{
    if (msg->count == 0) {
        zmq_msg_t *part = zflow__msg_append (msg);
        if (!part)
            return ZFLOW_ENOMEM;
        zmq_msg_init (part);
    }
    if (zmq_msg_recv (&msg->parts[0], self->handle, flags) < 0) {
        int err = zmq_errno ();
        zflow_msg_reset (msg);
        return (err == EAGAIN || err == EINTR) ? ZFLOW_EAGAIN : s_fail (self, err);
    }
    if (zmq_msg_more (&msg->parts[0]))
        return s_recv_rest (self, msg);
    while (msg->count > 1)
        zmq_msg_close (&msg->parts[--msg->count]);
    return 0;
}

//  Moves whatever the socket has into the read buffer, without waiting,
//  until it is empty or the buffer reaches a high watermark.
void zflow__stream_fill (zflow_stream_t *self)
{
    while (self->sock && !zflow__stream_read_full (self)) {
        bool more = true;
        int flags = ZMQ_DONTWAIT;
        while (more) {
            zmq_msg_t *slot = zflow__ring_slot (&self->rbuf);
            if (!slot)
                return;
            if (zmq_msg_recv (slot, self->handle, flags) < 0) {
                int err = zmq_errno ();
                zflow__ring_abandon (&self->rbuf);
                if (err != EAGAIN && err != EINTR)
                    s_fail (self, err);
                return; //  flags is 0 past the first part: never EAGAIN there
            }
            more = zmq_msg_more (slot);
            zflow__ring_commit (&self->rbuf, more);
            flags = 0;
        }
    }
}

//  Sets ZMQ_RCVTIMEO only when it changes: the setsockopt is not free.
static void s_set_rcvtimeo (zflow_stream_t *self, int timeout_ms)
{
    if (self->rcvtimeo != timeout_ms) {
        zmq_setsockopt (self->handle, ZMQ_RCVTIMEO, &timeout_ms, sizeof (int));
        self->rcvtimeo = timeout_ms;
    }
}

//  The read of a healthy stream with an empty read buffer, which is every
//  read of a plain reading thread: straight into the caller's first part,
//  as little as possible between the caller and zmq_msg_recv. Returns as
//  zflow_stream_read; multipart messages go on through s_recv_msg.
static inline int s_read_direct (zflow_stream_t *self, zflow_msg_t *msg, int timeout_ms)
{
    int flags = 0;
    if (timeout_ms == 0)
        flags = ZMQ_DONTWAIT;
    else if (self->rcvtimeo != (timeout_ms < 0 ? -1 : timeout_ms))
        s_set_rcvtimeo (self, timeout_ms < 0 ? -1 : timeout_ms);
    //  one part (the last read's, in a read loop): received into in place;
    //  none or several (a multipart message before) go the general way,
    //  which reuses every part
    if (msg->count != 1) {
        int rc = s_recv_msg (self, msg, flags);
        if (rc == ZFLOW_EAGAIN && timeout_ms != 0)
            rc = ZFLOW_ETIMEDOUT;
        self->msgs_read += rc == 0;
        return rc;
    }
    zmq_msg_t *part = &msg->parts[0];
    if (zmq_msg_recv (part, self->handle, flags) < 0) {
        int err = zmq_errno ();
        zflow_msg_reset (msg);
        if (err == EAGAIN || err == EINTR)
            return timeout_ms == 0 ? ZFLOW_EAGAIN : ZFLOW_ETIMEDOUT;
        return s_fail (self, err);
    }
    if (zmq_msg_more (part)) {
        //  the start of a multipart message: take the rest the long way
        int rc = s_recv_rest (self, msg);
        self->msgs_read += rc == 0;
        return rc;
    }
    self->msgs_read++;
    return 0;
}

//  The general read. Returns as zflow_stream_read. Kept out of line, so
//  that the hot path in zflow_stream_read saves no registers for it.
__attribute__ ((noinline)) static int s_read (zflow_stream_t *self, zflow_msg_t *msg,
                                              int timeout_ms)
{
    if (!msg)
        return ZFLOW_EINVAL;
    if (self->rbuf.msgs == 0 && self->sock && !self->exception && !self->read_paused)
        return s_read_direct (self, msg, timeout_ms);
    if (zflow__ring_pop_msg (&self->rbuf, msg) == 0) {
        self->msgs_read++;
        zflow__stream_update_read_polling (self);
        return 0;
    }
    if (self->exception)
        return self->exception;
    zflow_msg_reset (msg);
    return self->sock ? ZFLOW_EAGAIN : ZFLOW_ECLOSED;
}

//  The end of a hot-path read (zflow_stream_read) that was not a single
//  part: the rest of a multipart message (received) or the receive error.
__attribute__ ((noinline)) static int s_read_hot_end (zflow_stream_t *self, zflow_msg_t *msg,
                                                      bool received)
{
    if (received) {
        int rc = s_recv_rest (self, msg);
        self->msgs_read += rc == 0;
        return rc;
    }
    int err = zmq_errno ();
    zflow_msg_reset (msg);
    //  the hot path waits (timeout_ms is not 0): nothing came in time
    return err == EAGAIN || err == EINTR ? ZFLOW_ETIMEDOUT : s_fail (self, err);
}

int zflow_stream_read (zflow_stream_t *self, zflow_msg_t *msg, int timeout_ms)
{
    //  The hot path of a reading thread, with as little as possible before
    //  zmq_msg_recv: the last read's single part to receive into, nothing
    //  buffered, a healthy socket, and the receive timeout already set (the
    //  first read sets it on the general path).
    if (msg && msg->count == 1 && self->rbuf.msgs == 0 && self->sock && !self->exception &&
        !self->read_paused && timeout_ms != 0 &&
        self->rcvtimeo == (timeout_ms < 0 ? -1 : timeout_ms)) {
        zmq_msg_t *part = &msg->parts[0];
        if (zmq_msg_recv (part, self->handle, 0) < 0)
            return s_read_hot_end (self, msg, false);
        if (zmq_msg_more (part))
            return s_read_hot_end (self, msg, true);
        self->msgs_read++;
        return 0;
    }
    return s_read (self, msg, timeout_ms);
}

zmsg_t *zflow_stream_read_zmsg (zflow_stream_t *self, int timeout_ms, int *err_p)
{
    zflow_msg_t *msg = zflow_msg_new ();
    int rc = msg ? zflow_stream_read (self, msg, timeout_ms) : ZFLOW_ENOMEM;
    zmsg_t *zmsg = NULL;
    if (rc == 0 && !(zmsg = zflow_msg_to_zmsg (msg)))
        rc = ZFLOW_ENOMEM;
    zflow_msg_destroy (&msg);
    if (err_p)
        *err_p = rc;
    return zmsg;
}

//  ---------------------------------------------------------------------
//  Writing

//  True when the socket can take a message now. A refused non-blocking
//  send does not tell: libzmq throttles the mailbox reads of send (about
//  once a millisecond), so the reader's "room again" command may be waiting
//  unread. ZMQ_EVENTS reads the mailbox at once.
static bool s_writable_now (zflow_stream_t *self)
{
    int events = 0;
    size_t size = sizeof (events);
    return zmq_getsockopt (self->handle, ZMQ_EVENTS, &events, &size) == 0 && (events & ZMQ_POLLOUT);
}

//  Sends msg now if the socket takes it. Returns 0 (sent), ZFLOW_EAGAIN (the
//  socket refused the first part: msg is untouched) or an error.
static int s_send_msg (zflow_stream_t *self, zflow_msg_t *msg)
{
    size_t last = msg->count - 1;
    for (size_t i = 0; i <= last; i++) {
        int flags = ZMQ_DONTWAIT | (i < last ? ZMQ_SNDMORE : 0);
        int rc = zmq_msg_send (&msg->parts[i], self->handle, flags);
        if (rc < 0 && i == 0 && zmq_errno () == EAGAIN && s_writable_now (self))
            rc = zmq_msg_send (&msg->parts[i], self->handle, flags);
        if (rc < 0) {
            int err = zmq_errno ();
            if (i == 0 && (err == EAGAIN || err == EINTR))
                return ZFLOW_EAGAIN;
            //  libzmq never refuses a later part once it took the first
            zflow_msg_reset (msg);
            self->dropped++;
            return s_fail (self, err);
        }
    }
    msg->count = 0; //  sent parts are empty zmq_msg_t: nothing to close
    return 0;
}

//  Drops what is left of the message at the head of the write buffer
//  (its first parts may have gone out already), counted.
static void s_drop_rest (zflow_stream_t *self)
{
    bool more = true;
    while (more && self->wbuf.count) {
        zmq_msg_t *head = zflow__ring_peek (&self->wbuf, &more);
        zflow__ring_drop_head (&self->wbuf, more, zmq_msg_size (head));
    }
    self->dropped++;
}

//  Sends queued messages in order until the socket refuses one. Returns 0,
//  or the error that stopped it.
int zflow__stream_flush (zflow_stream_t *self)
{
    while (self->sock && self->wbuf.count) {
        bool more;
        int flags = ZMQ_DONTWAIT;
        do {
            zmq_msg_t *head = zflow__ring_peek (&self->wbuf, &more);
            size_t size = zmq_msg_size (head);
            int part_flags = flags | (more ? ZMQ_SNDMORE : 0);
            int rc = zmq_msg_send (head, self->handle, part_flags);
            if (rc < 0 && flags && zmq_errno () == EAGAIN && s_writable_now (self))
                rc = zmq_msg_send (head, self->handle, part_flags);
            if (rc < 0) {
                int err = zmq_errno ();
                if (flags && (err == EAGAIN || err == EINTR))
                    return 0;
                //  the rest of this message must not go out as a message
                //  of its own with the next flush: drop it, counted
                s_drop_rest (self);
                return s_fail (self, err);
            }
            zflow__ring_drop_sent (&self->wbuf, more, size);
            flags = 0;
        } while (more);
        self->msgs_written++;
    }
    return 0;
}

//  After the write buffer shrank: tells an attached owner that it drained.
void zflow__stream_after_flush (zflow_stream_t *self)
{
    if (self->write_above && self->wbuf.bytes <= self->write_low) {
        self->write_above = false;
        if (self->loop && self->on_drained)
            self->on_drained (self, self->arg);
    }
    zflow__stream_update_write_polling (self);
}

//  The general write: whatever is queued first, then msg, queued if the
//  socket refuses it. Returns as zflow_stream_write. Kept out of line, as
//  s_read.
__attribute__ ((noinline)) static int s_write (zflow_stream_t *self, zflow_msg_t *msg)
{
    if (!msg || msg->count == 0)
        return ZFLOW_EINVAL;
    if (!self->sock || self->exception) {
        zflow_msg_reset (msg);
        self->dropped++;
        return self->sock ? self->exception : ZFLOW_ECLOSED;
    }
    //  what is queued goes first, so order is kept and the buffer empties
    //  as soon as the socket has room. A refused send costs as much as a
    //  real one, so after a refusal the next writes queue without trying.
    if (self->wbuf.count && self->flush_skip)
        self->flush_skip--;
    else if (self->wbuf.count) {
        int rc = zflow__stream_flush (self);
        if (rc) {
            zflow_msg_reset (msg);
            self->dropped++;
            return rc;
        }
        if (self->wbuf.count == 0)
            zflow__stream_after_flush (self);
        else
            self->flush_skip = 64;
    }
    if (self->wbuf.count == 0) {
        int rc = s_send_msg (self, msg);
        if (rc == 0) {
            self->msgs_written++;
            return 0;
        }
        if (rc != ZFLOW_EAGAIN)
            return rc;
    }
    if (zflow__ring_push_msg (&self->wbuf, msg)) {
        zflow_msg_reset (msg);
        self->dropped++;
        return ZFLOW_ENOMEM;
    }
    zflow__stream_update_write_polling (self);
    if (self->wbuf.bytes > self->write_high) {
        self->write_above = true;
        return ZFLOW_DRAIN;
    }
    return 0;
}

int zflow_stream_write (zflow_stream_t *self, zflow_msg_t *msg)
{
    //  The common case first, with as little as possible before the send: a
    //  single part, nothing queued, a healthy socket that takes it. A refusal
    //  goes the general way, which tries once more (see s_writable_now).
    if (msg && msg->count == 1 && self->wbuf.count == 0 && self->sock && !self->exception &&
        zmq_msg_send (&msg->parts[0], self->handle, ZMQ_DONTWAIT) >= 0) {
        msg->count = 0; //  the sent part is an empty zmq_msg_t: nothing to close
        self->msgs_written++;
        return 0;
    }
    return s_write (self, msg);
}

int zflow_stream_write_zmsg (zflow_stream_t *self, zmsg_t **msg_p)
{
    if (!msg_p || !*msg_p)
        return ZFLOW_EINVAL;
    zflow_msg_t *msg = zflow_msg_new ();
    if (!msg) {
        zmsg_destroy (msg_p);
        return ZFLOW_ENOMEM;
    }
    int rc = zflow_msg_from_zmsg (msg, msg_p);
    if (rc == 0)
        rc = zflow_stream_write (self, msg);
    zflow_msg_destroy (&msg);
    return rc;
}

//  Flushes and waits until at most target bytes (and, for target 0, no
//  message) are queued. The shared body of drain and flush.
static int s_wait_written (zflow_stream_t *self, size_t target, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? -1 : zclock_mono () + timeout_ms;
    while (true) {
        int rc = zflow__stream_flush (self);
        if (rc)
            return rc;
        if (self->wbuf.bytes <= target && (target || self->wbuf.count == 0)) {
            zflow__stream_after_flush (self);
            return 0;
        }
        if (!self->sock)
            return ZFLOW_ECLOSED;
        long wait = deadline < 0 ? -1 : (long) (deadline - zclock_mono ());
        if (deadline >= 0 && wait <= 0)
            return ZFLOW_ETIMEDOUT;
        zmq_pollitem_t item = {self->handle, 0, ZMQ_POLLOUT, 0};
        if (zmq_poll (&item, 1, wait) < 0 && zmq_errno () != EINTR)
            return s_fail (self, zmq_errno ());
    }
}

int zflow_stream_drain (zflow_stream_t *self, int timeout_ms)
{
    return s_wait_written (self, self->write_low, timeout_ms);
}

int zflow_stream_flush (zflow_stream_t *self, int timeout_ms)
{
    return s_wait_written (self, 0, timeout_ms);
}

//  ---------------------------------------------------------------------
//  Closing and counters

void zflow_stream_close (zflow_stream_t *self)
{
    if (!self || !self->sock)
        return;
    zflow_stream_detach (self);
    self->dropped += zflow__ring_destroy (&self->wbuf);
    if (self->monitor)
        zflow__stream_monitor_stop (self->monitor, self->handle);
    //  unbind first: libzmq frees endpoints only when its reaper gets to the
    //  socket, and a caller who closes a stream expects to rebind at once
    for (const char *ep = (const char *) zlistx_first (self->bindings); ep;
         ep = (const char *) zlistx_next (self->bindings))
        zmq_unbind (self->handle, ep);
    zsock_destroy (&self->sock);
    self->handle = NULL;
    self->closed = true;
}

bool zflow_stream_at_closing (zflow_stream_t *self)
{
    return self->closed && self->rbuf.msgs == 0;
}

size_t zflow_stream_read_pending (zflow_stream_t *self)
{
    return self->rbuf.msgs;
}

size_t zflow_stream_read_pending_bytes (zflow_stream_t *self)
{
    return self->rbuf.bytes;
}

size_t zflow_stream_write_pending (zflow_stream_t *self)
{
    return self->wbuf.msgs;
}

size_t zflow_stream_write_pending_bytes (zflow_stream_t *self)
{
    return self->wbuf.bytes;
}

bool zflow_stream_read_paused (zflow_stream_t *self)
{
    return self->read_paused;
}

uint64_t zflow_stream_msgs_read (zflow_stream_t *self)
{
    return self->msgs_read;
}

uint64_t zflow_stream_msgs_written (zflow_stream_t *self)
{
    return self->msgs_written;
}

uint64_t zflow_stream_pauses (zflow_stream_t *self)
{
    return self->pauses;
}

uint64_t zflow_stream_dropped (zflow_stream_t *self)
{
    return self->dropped;
}

//  ---------------------------------------------------------------------
//  Monitor

int zflow_stream_enable_monitor (zflow_stream_t *self, int events, size_t backlog)
{
    if (!self->sock)
        return ZFLOW_ECLOSED;
    if (self->monitor)
        return 0;
    self->monitor =
        zflow__stream_monitor_new (self->handle, events ? events : ZMQ_EVENT_ALL,
                                   backlog ? backlog : ZFLOW_STREAM_DEFAULT_EVENTS_BACKLOG);
    return self->monitor ? 0 : ZFLOW_ETRANSPORT;
}

int zflow_stream_read_event (zflow_stream_t *self, zflow_stream_event_t *event, int timeout_ms)
{
    if (!event)
        return ZFLOW_EINVAL;
    if (!self->monitor)
        return self->closed ? ZFLOW_ECLOSED : ZFLOW_EINVAL;
    return zflow__stream_monitor_read (self->monitor, event, timeout_ms);
}

uint64_t zflow_stream_events_discarded (zflow_stream_t *self)
{
    return self->monitor ? zflow__stream_monitor_discarded (self->monitor) : 0;
}
