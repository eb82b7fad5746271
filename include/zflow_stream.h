/*  =========================================================================
    zflow_stream - a watermark-bounded stream over one ZeroMQ socket

    The C counterpart of aiozmq's ZmqStream: read, write, drain, read_event,
    close, at_closing and exception, on any ZeroMQ socket type.

    - read returns one multipart message (blocking with a timeout, or not).
    - write queues one multipart message and never blocks. A message the
      socket cannot take yet (EAGAIN at its HWM) stays in the stream's write
      buffer, never dropped; above the high write watermark write returns
      ZFLOW_DRAIN to say "call drain before writing much more".
    - drain waits until the write buffer has fallen to the low watermark.
    - read_event returns one socket-monitor event once the monitor is enabled.

    A stream serves a plain thread (blocking calls) and an actor alike: attach
    it to a zloop and the loop fills the read buffer, calls your handler, and
    flushes the write buffer when the socket is writable. When the read
    buffer is above its high watermark the stream stops taking messages from
    the socket, so ZeroMQ's own HWM pushes back on the sender, and it resumes
    once reads bring the buffer down to the low watermark.

    A stream is not thread-safe: use it from one thread at a time.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_STREAM_H_INCLUDED
#define ZFLOW_STREAM_H_INCLUDED

#include "zflow_msg.h"
#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zflow_stream_t zflow_stream_t;

//  Default watermarks, as aiozmq: high 64 KiB, low = high / 4.
#define ZFLOW_STREAM_DEFAULT_HIGH (64 * 1024)
//  Default size of the monitor event backlog (oldest events discarded beyond).
#define ZFLOW_STREAM_DEFAULT_EVENTS_BACKLOG 100

//  One socket-monitor event. A plain value the caller owns (no pointers).
typedef struct {
    int type;           //  ZMQ_EVENT_* (ZMQ_EVENT_CONNECTED, ...)
    int value;          //  the event's value (fd, errno or interval, per libzmq)
    char endpoint[256]; //  the endpoint it concerns, NUL-terminated (may be cut)
} zflow_stream_event_t;

//  Returns a static name for a ZMQ_EVENT_* type ("connected", "accepted",
//  "handshake_failed_auth", ...), "unknown" if it is not one.
const char *zflow_stream_event_name (int type);

//  Creates a stream on a new socket of type (ZMQ_PUSH, ZMQ_SUB, ...), then
//  binds to each endpoint of bind and connects to each of connect. Both are
//  comma-separated lists and may be NULL. "tcp://127.0.0.1:*" binds to a free
//  port; zflow_stream_bindings() then lists the real endpoint.
//  Returns the stream (the caller owns it; zflow_stream_destroy), or NULL
//  with *err_p (if err_p is not NULL) set to ZFLOW_ESOCKTYPE (bad type),
//  ZFLOW_EENDPOINT (a bind or connect failed; nothing is left open) or
//  ZFLOW_ENOMEM.
zflow_stream_t *zflow_stream_new (int type, const char *bind, const char *connect, int *err_p);

//  Creates a stream around an existing czmq socket, taking ownership: the
//  stream destroys it and *sock_p is set to NULL. Returns NULL (and leaves
//  *sock_p untouched) if sock_p or *sock_p is NULL or out of memory.
zflow_stream_t *zflow_stream_new_sock (zsock_t **sock_p);

//  Detaches the stream from its loop (if attached), closes the socket (if
//  still open) and frees everything; sets *self_p to NULL. Idempotent and
//  NULL-safe (self_p NULL or *self_p NULL do nothing). Safe after the loop
//  the stream was attached to is gone when that loop belonged to a
//  zflow_actor_t (see zflow_stream_attach).
void zflow_stream_destroy (zflow_stream_t **self_p);

//  Binds the socket to one more endpoint. Returns 0, ZFLOW_EENDPOINT,
//  ZFLOW_EINVAL (NULL endpoint) or ZFLOW_ECLOSED.
int zflow_stream_bind (zflow_stream_t *self, const char *endpoint);

//  Connects the socket to one more endpoint. Same returns as bind.
int zflow_stream_connect (zflow_stream_t *self, const char *endpoint);

//  Returns the czmq socket (owned by the stream), or NULL once closed. Use it
//  to set socket options or to poll it; do not read or write it directly or
//  messages will bypass the stream's buffers.
zsock_t *zflow_stream_sock (zflow_stream_t *self);

//  Returns the ZeroMQ socket type (ZMQ_PUSH, ...).
int zflow_stream_type (zflow_stream_t *self);

//  Returns the list of bound endpoints (strings, with the real port after a
//  "*" bind). Owned by the stream; do not modify or destroy.
zlistx_t *zflow_stream_bindings (zflow_stream_t *self);

//  Returns the list of connected endpoints. Owned by the stream.
zlistx_t *zflow_stream_connections (zflow_stream_t *self);

//  Sets the read watermarks in bytes. low may be 0 to mean high / 4.
//  Returns 0, or ZFLOW_EWATERMARK when high == 0 or high < low.
int zflow_stream_set_read_limits (zflow_stream_t *self, size_t high, size_t low);

//  Sets optional read watermarks in messages (0, 0 = no message limit).
//  Returns 0, or ZFLOW_EWATERMARK when high < low.
int zflow_stream_set_read_limits_msgs (zflow_stream_t *self, size_t high, size_t low);

//  Sets the write watermarks in bytes. low may be 0 to mean high / 4.
//  Returns 0, or ZFLOW_EWATERMARK when high == 0 or high < low.
int zflow_stream_set_write_limits (zflow_stream_t *self, size_t high, size_t low);

//  Reads one multipart message into msg (msg is reset first). timeout_ms: -1
//  waits forever, 0 does not wait, > 0 waits that long. Returns 0, or
//  ZFLOW_EAGAIN (timeout 0, nothing there), ZFLOW_ETIMEDOUT, ZFLOW_ECLOSED
//  (closed and the read buffer empty) or the kept transport error.
int zflow_stream_read (zflow_stream_t *self, zflow_msg_t *msg, int timeout_ms);

//  As zflow_stream_read, returning a new czmq zmsg_t the caller owns, or
//  NULL with *err_p set (if err_p is not NULL).
zmsg_t *zflow_stream_read_zmsg (zflow_stream_t *self, int timeout_ms, int *err_p);

//  Queues msg for sending without blocking; its parts are moved out and msg
//  is left empty (also on error, except ZFLOW_EINVAL). Returns 0, ZFLOW_DRAIN
//  (queued; the write buffer is above the high watermark), ZFLOW_EINVAL
//  (empty message), ZFLOW_ECLOSED, or the kept transport error.
int zflow_stream_write (zflow_stream_t *self, zflow_msg_t *msg);

//  As zflow_stream_write for a czmq message: takes ownership of *msg_p,
//  destroys it and sets it to NULL.
int zflow_stream_write_zmsg (zflow_stream_t *self, zmsg_t **msg_p);

//  Sends what it can of the write buffer and waits until it is at or below
//  the low watermark. timeout_ms as for read. Returns 0, ZFLOW_ETIMEDOUT,
//  ZFLOW_ECLOSED or the kept transport error.
int zflow_stream_drain (zflow_stream_t *self, int timeout_ms);

//  Sends the whole write buffer: waits until it is empty (a graceful close
//  calls this before zflow_stream_close). Returns as zflow_stream_drain.
int zflow_stream_flush (zflow_stream_t *self, int timeout_ms);

//  Enables the socket monitor for the ZMQ_EVENT_* bits in events (0 means
//  all events), with a backlog of backlog events (0 means the default, 100);
//  when more are unread the oldest are discarded and counted. Returns 0,
//  ZFLOW_ECLOSED, or ZFLOW_ETRANSPORT if libzmq refused.
int zflow_stream_enable_monitor (zflow_stream_t *self, int events, size_t backlog);

//  Reads one monitor event into *event. timeout_ms as for read. Returns 0,
//  ZFLOW_EAGAIN, ZFLOW_ETIMEDOUT, ZFLOW_ECLOSED (closed and no events left),
//  or ZFLOW_EINVAL if the monitor was never enabled.
int zflow_stream_read_event (zflow_stream_t *self, zflow_stream_event_t *event, int timeout_ms);

//  Closes the stream and its socket. Messages already in the read buffer can
//  still be read; unsent messages in the write buffer are discarded (and
//  counted in zflow_stream_dropped). Idempotent; NULL does nothing.
void zflow_stream_close (zflow_stream_t *self);

//  Returns true when the stream is closed and its read buffer is empty.
bool zflow_stream_at_closing (zflow_stream_t *self);

//  Returns the kept transport error (a negative zflow code), or 0. The
//  errno of libzmq at the failure is in zflow_stream_errno().
int zflow_stream_exception (zflow_stream_t *self);

//  Returns the libzmq errno that caused the kept exception, or 0.
int zflow_stream_errno (zflow_stream_t *self);

//  Returns the number of messages / bytes waiting in the read buffer.
size_t zflow_stream_read_pending (zflow_stream_t *self);
size_t zflow_stream_read_pending_bytes (zflow_stream_t *self);

//  Returns the number of messages / bytes waiting in the write buffer.
size_t zflow_stream_write_pending (zflow_stream_t *self);
size_t zflow_stream_write_pending_bytes (zflow_stream_t *self);

//  True while reading from the socket is paused by the read watermark.
bool zflow_stream_read_paused (zflow_stream_t *self);

//  Counters since creation: messages read and written, times reading was
//  paused, monitor events discarded from the backlog, and messages dropped:
//  unsent messages discarded by close, messages the socket failed to send
//  (the kept exception says why), messages written to a failed stream, and
//  messages lost to out-of-memory. Nothing is dropped for being slow.
uint64_t zflow_stream_msgs_read (zflow_stream_t *self);
uint64_t zflow_stream_msgs_written (zflow_stream_t *self);
uint64_t zflow_stream_pauses (zflow_stream_t *self);
uint64_t zflow_stream_events_discarded (zflow_stream_t *self);
uint64_t zflow_stream_dropped (zflow_stream_t *self);

//  Called by an attached stream when it has messages to read.
typedef void (zflow_stream_fn) (zflow_stream_t *stream, void *arg);

//  Attaches the stream to loop: the loop fills the read buffer when the
//  socket is readable and then calls on_readable (which should read with
//  timeout 0 until ZFLOW_EAGAIN, or leave messages in the buffer to push back);
//  it flushes the write buffer when the socket is writable, and calls
//  on_drained (may be NULL) each time the write buffer falls to its low
//  watermark after having been above high. The loop and callbacks stay owned
//  by the caller. Returns 0, ZFLOW_EINVAL (NULL self or loop, or already
//  attached) or ZFLOW_ECLOSED.
//
//  Destroy order: the loop of a zflow_actor_t may be destroyed first
//  (zflow_actor_destroy); the stream is then detached without touching the
//  loop, and keeps working in blocking mode (read, write, drain) until it
//  is destroyed. A zloop you created yourself must outlive the streams
//  attached to it, or you detach them before zloop_destroy.
int zflow_stream_attach (zflow_stream_t *self, zloop_t *loop, zflow_stream_fn *on_readable,
                         zflow_stream_fn *on_drained, void *arg);

//  Detaches the stream from its loop: removes its reader and poller (messages
//  already buffered stay readable). No-op if not attached, if its actor's
//  loop is gone, or if self is NULL.
void zflow_stream_detach (zflow_stream_t *self);

#ifdef __cplusplus
}
#endif

#endif
