/*  =========================================================================
    zflow_ws_client - one RFC 6455 client connection inside a zloop (internal)

    States: CONNECT (TCP in progress) -> TLS (wss only) -> SEND_HS -> RECV_HS
    -> OPEN -> CLOSING -> DONE. wslay owns framing from OPEN on; we own the
    socket, TLS, the handshake, decompression and UTF-8 checks. This file
    runs the open connection; zflow_ws_conn_open.c gets it there.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include <errno.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include "zflow_ws_conn.h"

//  ---------------------------------------------------------------------
//  Plumbing: poller, timers, raw I/O

//  Registers the events we want on fd now (re-registering only on change).
void
zflow__ws_conn_set_events (zflow_ws_conn_t *self, short events)
{
    if (self->fd < 0 || events == self->events)
        return;
    if (self->events)
        zloop_poller_end (self->loop, &self->item);
    self->events = events;
    if (events) {
        self->item = (zmq_pollitem_t) { NULL, self->fd, events, 0 };
        zloop_poller (self->loop, &self->item, zflow__ws_conn_on_fd, self);
        zloop_poller_set_tolerant (self->loop, &self->item);
    }
}

void
zflow__ws_conn_stop_timer (zflow_ws_conn_t *self)
{
    if (self->timer >= 0)
        zloop_timer_end (self->loop, self->timer);
    self->timer = -1;
}

static int
s_on_timeout (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    zflow_ws_conn_t *self = (zflow_ws_conn_t *) arg;
    self->timer = -1;
    if (!self->failed && self->state != S_CLOSING) {
        self->failed = true;
        self->error = ZFLOW_ETIMEDOUT;
        snprintf (self->reason, sizeof (self->reason), "timed out %s",
                  self->state < S_OPEN ? "connecting" : "closing");
    }
    zflow__ws_conn_finish (self);
    return 0;
}

void
zflow__ws_conn_start_timer (zflow_ws_conn_t *self)
{
    zflow__ws_conn_stop_timer (self);
    self->timer = zloop_timer (self->loop, (size_t) self->timeout_ms, 1, s_on_timeout, self);
}

//  Reads up to size bytes. Returns > 0, 0 at EOF, -1 for "try later" or
//  -2 on error (with reason set).
ssize_t
zflow__ws_conn_io_read (zflow_ws_conn_t *self, void *buf, size_t size)
{
    self->io_wants_write = false;
    if (!self->ssl) {
        ssize_t n = recv (self->fd, buf, size, 0);
        if (n >= 0)
            return n;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return -1;
        snprintf (self->reason, sizeof (self->reason), "recv: %s", strerror (errno));
        return -2;
    }
    int n = SSL_read (self->ssl, buf, (int) (size > INT_MAX ? INT_MAX : size));
    if (n > 0)
        return n;
    int code = SSL_get_error (self->ssl, n);
    if (code == SSL_ERROR_WANT_READ)
        return -1;
    if (code == SSL_ERROR_WANT_WRITE) {
        self->io_wants_write = true;
        return -1;
    }
    if (code == SSL_ERROR_ZERO_RETURN)
        return 0;
    zflow__ws_tls_error (self->reason, sizeof (self->reason), "TLS read");
    return -2;
}

//  Writes up to size bytes. Returns > 0, -1 for "try later" or -2 on error.
ssize_t
zflow__ws_conn_io_write (zflow_ws_conn_t *self, const void *buf, size_t size)
{
    if (!self->ssl) {
        ssize_t n = send (self->fd, buf, size, MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return -1;
        snprintf (self->reason, sizeof (self->reason), "send: %s", strerror (errno));
        return -2;
    }
    int n = SSL_write (self->ssl, buf, (int) (size > INT_MAX ? INT_MAX : size));
    if (n > 0)
        return n;
    int code = SSL_get_error (self->ssl, n);
    if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE)
        return -1;
    zflow__ws_tls_error (self->reason, sizeof (self->reason), "TLS write");
    return -2;
}

//  Fails the connection: before OPEN it ends at once; once open it sends a
//  close frame with code and lets the close handshake run.
void
zflow__ws_conn_fail (zflow_ws_conn_t *self, int error, int code, const char *text)
{
    if (!self->failed) {
        self->failed = true;
        self->error = error;
        snprintf (self->reason, sizeof (self->reason), "%s", text);
    }
    if (self->ws && self->state == S_OPEN) {
        wslay_event_queue_close (self->ws, (uint16_t) code, NULL, 0);
        wslay_event_shutdown_read (self->ws);
        self->state = S_CLOSING;
        zflow__ws_conn_start_timer (self);
    }
    else if (self->state < S_OPEN)
        zflow__ws_conn_finish (self);
}

//  ---------------------------------------------------------------------
//  wslay callbacks

static ssize_t
s_ws_recv (wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *arg)
{
    (void) flags;
    zflow_ws_conn_t *self = (zflow_ws_conn_t *) arg;
    if (self->paused) {
        wslay_event_set_error (ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (self->prefetch < self->response_size) {
        size_t n = self->response_size - self->prefetch;
        if (n > len)
            n = len;
        memcpy (buf, self->response + self->prefetch, n);
        self->prefetch += n;
        return (ssize_t) n;
    }
    ssize_t n = zflow__ws_conn_io_read (self, buf, len);
    if (n > 0)
        return n;
    if (n == 0)
        snprintf (self->reason, sizeof (self->reason), "peer closed the TCP connection");
    if (n != -1)
        self->io_failed = true;
    wslay_event_set_error (ctx, n == -1 ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static ssize_t
s_ws_send (wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *arg)
{
    (void) flags;
    zflow_ws_conn_t *self = (zflow_ws_conn_t *) arg;
    ssize_t n = zflow__ws_conn_io_write (self, data, len);
    //  Conservative: a short or refused write may leave a frame half-sent.
    self->send_partial = n != (ssize_t) len;
    if (n > 0)
        return n;
    wslay_event_set_error (ctx, n == -1 ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static int
s_ws_genmask (wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *arg)
{
    (void) arg;
    if (getrandom (buf, len, 0) != (ssize_t) len) {
        wslay_event_set_error (ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return 0;
}

//  True for close codes a peer may send (RFC 6455 7.4, IANA registry).
static bool
s_close_code_valid (int code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
           || (code >= 3000 && code <= 4999);
}

//  A close frame whose payload is one byte is malformed (RFC 6455 5.5.1);
//  wslay would answer it as "no status", so we fail it before it is read.
static void
s_ws_on_frame_start (wslay_event_context_ptr ctx,
                     const struct wslay_event_on_frame_recv_start_arg *frame, void *arg)
{
    (void) ctx;
    zflow_ws_conn_t *self = (zflow_ws_conn_t *) arg;
    if (frame->opcode == WSLAY_CONNECTION_CLOSE && frame->payload_length == 1)
        zflow__ws_conn_fail (self, ZFLOW_EPROTO, 1002, "peer sent a one-byte close payload");
}

//  Handles a received close frame: checks its code and reason.
static void
s_on_close_frame (zflow_ws_conn_t *self, const struct wslay_event_on_msg_recv_arg *msg)
{
    int code = msg->status_code;
    self->close_sent_first = wslay_event_get_close_sent (self->ws);
    size_t reason_len = msg->msg_length > 2 ? msg->msg_length - 2 : 0;
    const uint8_t *reason = msg->msg + 2;
    if (msg->msg_length == 1 || (code && !s_close_code_valid (code)))
        zflow__ws_conn_fail (self, ZFLOW_EPROTO, 1002, "peer sent an invalid close code");
    else if (!zflow__ws_utf8_valid (reason, reason_len))
        zflow__ws_conn_fail (self, ZFLOW_EPROTO, 1007, "peer sent a close reason that is not UTF-8");
    else if (!self->failed)
        snprintf (self->reason, sizeof (self->reason), "%.*s", (int) reason_len, reason);
}

static void
s_ws_on_msg (wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *msg,
             void *arg)
{
    (void) ctx;
    zflow_ws_conn_t *self = (zflow_ws_conn_t *) arg;
    if (msg->opcode == WSLAY_CONNECTION_CLOSE) {
        s_on_close_frame (self, msg);
        return;
    }
    if (msg->opcode == WSLAY_PONG) {
        if (self->cb.on_pong)
            self->cb.on_pong (self, self->arg);
        return;
    }
    if (msg->opcode != WSLAY_TEXT_FRAME && msg->opcode != WSLAY_BINARY_FRAME)
        return;   //  ping: wslay queued the pong
    //  Data that arrives after our close frame is still delivered (the
    //  peer sent it before it saw our close); after a failure it is not.
    if (self->failed || (self->state != S_OPEN && self->state != S_CLOSING))
        return;
    const uint8_t *data = msg->msg;
    size_t size = msg->msg_length;
    if (msg->rsv & WSLAY_RSV1_BIT) {
        if (!self->accept.deflate) {
            zflow__ws_conn_fail (self, ZFLOW_EPROTO, 1002, "RSV1 set without permessage-deflate");
            return;
        }
        int rc = zflow__ws_inflate (&self->inflater, data, size, true, self->max_message,
                                    &self->zbuf);
        if (rc == 0 && self->accept.server_no_takeover)
            inflateReset (&self->inflater);
        if (rc == ZFLOW_ETOOBIG)
            zflow__ws_conn_fail (self, rc, 1009, "message larger than the maximum (after inflate)");
        else if (rc)
            zflow__ws_conn_fail (self, ZFLOW_EPROTO, 1007, "corrupt permessage-deflate data");
        if (rc)
            return;
        data = self->zbuf.data;
        size = self->zbuf.size;
    }
    if (msg->opcode == WSLAY_TEXT_FRAME && !zflow__ws_utf8_valid (data, size)) {
        zflow__ws_conn_fail (self, ZFLOW_EPROTO, 1007, "text message is not valid UTF-8");
        return;
    }
    if (self->cb.on_message)
        self->cb.on_message (self, msg->opcode == WSLAY_BINARY_FRAME, data, size, self->arg);
}

//  ---------------------------------------------------------------------
//  Open state: drive wslay

//  Sends what wslay has queued and sets the poll events; finishes when the
//  context wants neither to read nor to write.
void
zflow__ws_conn_pump (zflow_ws_conn_t *self)
{
    if (self->state != S_OPEN && self->state != S_CLOSING)
        return;
    if (wslay_event_want_write (self->ws) && wslay_event_send (self->ws) < 0) {
        if (!self->failed) {
            self->failed = true;
            self->error = ZFLOW_ETRANSPORT;
        }
        zflow__ws_conn_finish (self);
        return;
    }
    bool want_read = wslay_event_want_read (self->ws);
    bool want_write = wslay_event_want_write (self->ws);
    if (!want_read && !want_write) {
        zflow__ws_conn_finish (self);
        return;
    }
    short events = (want_read && !self->paused ? ZMQ_POLLIN : 0)
                   | (want_write || self->io_wants_write ? ZMQ_POLLOUT : 0);
    zflow__ws_conn_set_events (self, events);
}

//  wslay's frame layer refused a frame header (a control frame over 125
//  bytes or fragmented, a 64-bit length with the top bit set) and gave up
//  with a callback failure, queueing a close without a status code. RFC
//  6455 wants 1002 there, so we write that close frame ourselves (masked,
//  8 bytes) unless a frame of ours is half-written, then end the connection.
static void
s_fail_frame (zflow_ws_conn_t *self)
{
    self->failed = true;
    self->error = ZFLOW_EPROTO;
    snprintf (self->reason, sizeof (self->reason), "protocol error in a frame header from peer");
    if (!self->send_partial) {
        uint8_t frame[8] = { 0x88, 0x82, 0, 0, 0, 0, 1002 >> 8, 1002 & 0xff };
        if (getrandom (frame + 2, 4, 0) == 4) {
            frame[6] ^= frame[2];
            frame[7] ^= frame[3];
            if (zflow__ws_conn_io_write (self, frame, sizeof (frame)) == (ssize_t) sizeof (frame))
                self->manual_close = 1002;
        }
    }
    zflow__ws_conn_finish (self);
}

void
zflow__ws_conn_readable (zflow_ws_conn_t *self)
{
    int rc = wslay_event_recv (self->ws);
    if (rc < 0 && !self->io_failed && !wslay_event_get_close_received (self->ws)) {
        s_fail_frame (self);
        return;
    }
    if (rc < 0) {
        //  TCP gone or failed underneath (reason set by s_ws_recv).
        if (!wslay_event_get_close_received (self->ws) && !self->failed) {
            self->failed = true;
            self->error = ZFLOW_ETRANSPORT;
        }
        zflow__ws_conn_finish (self);
        return;
    }
    if (wslay_event_get_close_received (self->ws) && self->state == S_OPEN)
        self->state = S_CLOSING;
    zflow__ws_conn_pump (self);
}

//  Starts framing: the wslay context and, if negotiated, zlib.
int
zflow__ws_conn_ws_start (zflow_ws_conn_t *self)
{
    struct wslay_event_callbacks callbacks = { s_ws_recv, s_ws_send, s_ws_genmask,
                                               s_ws_on_frame_start, NULL, NULL, s_ws_on_msg };
    if (wslay_event_context_client_init (&self->ws, &callbacks, self) != 0)
        return ZFLOW_ENOMEM;
    wslay_event_config_set_max_recv_msg_length (self->ws, self->max_message);
    if (self->accept.deflate) {
        wslay_event_config_set_allowed_rsv_bits (self->ws, WSLAY_RSV1_BIT);
        int bits = self->accept.client_max_window_bits;
        if (inflateInit2 (&self->inflater, -15) != Z_OK)
            return ZFLOW_ENOMEM;
        //  zlib's raw deflate has no 8-bit window: when the server limits us
        //  to 8 bits we send uncompressed messages (RFC 7692 allows it).
        if (deflateInit2 (&self->deflater, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
                          -(bits < 9 ? 9 : bits), 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            inflateEnd (&self->inflater);
            return ZFLOW_ENOMEM;
        }
        self->send_plain = bits < 9;
        self->zlib_ready = true;
    }
    return 0;
}

int
zflow__ws_conn_on_fd (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    (void) item;
    zflow_ws_conn_t *self = (zflow_ws_conn_t *) arg;
    switch (self->state) {
        case S_CONNECT: zflow__ws_conn_connected (self); break;
        case S_TLS: zflow__ws_conn_tls_step (self); break;
        case S_SEND_HS: zflow__ws_conn_handshake_send (self); break;
        case S_RECV_HS: zflow__ws_conn_handshake_recv (self); break;
        case S_OPEN:
        case S_CLOSING:
            if ((item->revents & (ZMQ_POLLIN | ZMQ_POLLERR)) || self->io_wants_write)
                zflow__ws_conn_readable (self);
            else
                zflow__ws_conn_pump (self);
            break;
        case S_DONE: zflow__ws_conn_set_events (self, 0); break;
    }
    return 0;
}

//  Ends the connection: closes the socket and tells the owner, once.
void
zflow__ws_conn_finish (zflow_ws_conn_t *self)
{
    if (self->state == S_DONE)
        return;
    bool was_open = self->ws != NULL;
    self->state = S_DONE;
    zflow__ws_conn_stop_timer (self);
    zflow__ws_conn_set_events (self, 0);
    if (self->ssl)
        SSL_shutdown (self->ssl);   //  best effort close_notify
    if (self->fd >= 0)
        close (self->fd);
    self->fd = -1;
    int code = 1006, error = self->error;
    if (was_open && !self->failed && !self->user_close && wslay_event_get_close_sent (self->ws)
        && (self->close_sent_first || !wslay_event_get_close_received (self->ws))) {
        //  wslay failed the connection itself (protocol error, size limit).
        int sent = wslay_event_get_status_code_sent (self->ws);
        self->failed = true;
        self->error = error = sent == 1009 ? ZFLOW_ETOOBIG : ZFLOW_EPROTO;
        snprintf (self->reason, sizeof (self->reason), "%s (close %d sent)",
                  sent == 1009 ? "message larger than the maximum" : "protocol error from peer",
                  sent);
    }
    if (was_open && wslay_event_get_close_received (self->ws)) {
        code = wslay_event_get_status_code_received (self->ws);
        if (code == WSLAY_CODE_NO_STATUS_RCVD)
            code = 1005;
    }
    if (self->failed && was_open && wslay_event_get_close_sent (self->ws)
        && self->error != ZFLOW_ETRANSPORT)
        code = wslay_event_get_status_code_sent (self->ws);
    if (self->manual_close)
        code = self->manual_close;
    if (!self->failed && !(was_open && wslay_event_get_close_received (self->ws)))
        error = ZFLOW_ETRANSPORT;
    if (error && !self->reason[0])
        snprintf (self->reason, sizeof (self->reason), "%s", zflow_strerror (error));
    if (self->cb.on_closed)
        self->cb.on_closed (self, error, code, self->reason, self->arg);
}

//  ---------------------------------------------------------------------
//  Public (internal) API

void
zflow__ws_conn_destroy (zflow_ws_conn_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_ws_conn_t *self = *self_p;
    zflow__ws_conn_stop_timer (self);
    if (self->resume_timer >= 0)
        zloop_timer_end (self->loop, self->resume_timer);
    zflow__ws_conn_set_events (self, 0);
    if (self->fd >= 0)
        close (self->fd);
    if (self->ssl)
        SSL_free (self->ssl);
    if (self->ssl_ctx)
        SSL_CTX_free (self->ssl_ctx);
    if (self->ws)
        wslay_event_context_free (self->ws);
    if (self->zlib_ready) {
        inflateEnd (&self->inflater);
        deflateEnd (&self->deflater);
    }
    zflow__ws_buf_free (&self->zbuf);
    free (self->headers);
    free (self->protocols);
    free (self->ca_file);
    free (self->request);
    free (self->response);
    free (self);
    *self_p = NULL;
}

int
zflow__ws_conn_send (zflow_ws_conn_t *self, bool binary, const void *data, size_t size)
{
    if (self->state != S_OPEN)
        return ZFLOW_ECLOSED;
    if (!binary && !zflow__ws_utf8_valid (data, size))
        return ZFLOW_EPROTO;
    struct wslay_event_msg msg = { binary ? WSLAY_BINARY_FRAME : WSLAY_TEXT_FRAME, data, size };
    uint8_t rsv = WSLAY_RSV_NONE;
    if (self->accept.deflate && !self->send_plain && size > 0) {
        int rc = zflow__ws_deflate (&self->deflater, data, size, &self->zbuf);
        if (rc)
            return rc;
        if (self->accept.client_no_takeover)
            deflateReset (&self->deflater);
        msg.msg = self->zbuf.data;
        msg.msg_length = self->zbuf.size;
        rsv = WSLAY_RSV1_BIT;
    }
    if (wslay_event_queue_msg_ex (self->ws, &msg, rsv) != 0)
        return ZFLOW_ECLOSED;
    zflow__ws_conn_pump (self);
    return 0;
}

int
zflow__ws_conn_ping (zflow_ws_conn_t *self, const void *data, size_t size)
{
    if (self->state != S_OPEN)
        return ZFLOW_ECLOSED;
    if (size > 125)
        return ZFLOW_ETOOBIG;
    struct wslay_event_msg msg = { WSLAY_PING, data, size };
    if (wslay_event_queue_msg (self->ws, &msg) != 0)
        return ZFLOW_ECLOSED;
    zflow__ws_conn_pump (self);
    return 0;
}

int
zflow__ws_conn_close (zflow_ws_conn_t *self, int code, const char *reason)
{
    if (self->state == S_DONE || self->state == S_CLOSING)
        return self->state == S_DONE ? ZFLOW_ECLOSED : 0;
    if (self->state != S_OPEN) {
        snprintf (self->reason, sizeof (self->reason), "closed before the handshake completed");
        self->failed = true;
        self->error = ZFLOW_ECLOSED;
        zflow__ws_conn_finish (self);
        return 0;
    }
    size_t len = reason ? strlen (reason) : 0;
    self->user_close = true;
    wslay_event_queue_close (self->ws, (uint16_t) code, (const uint8_t *) reason,
                             len > 120 ? 120 : len);
    self->state = S_CLOSING;
    zflow__ws_conn_start_timer (self);
    zflow__ws_conn_pump (self);
    return 0;
}

int
zflow__ws_conn_feed (zloop_t *loop, const uint8_t *data, size_t size, bool deflate,
                     size_t max_message)
{
    zflow_ws_conn_t *self = (zflow_ws_conn_t *) calloc (1, sizeof (zflow_ws_conn_t));
    if (!self)
        return ZFLOW_ENOMEM;
    self->loop = loop;
    self->fd = -1;
    self->timer = self->resume_timer = -1;
    self->max_message = max_message;
    self->timeout_ms = 1000;
    self->accept.deflate = deflate;
    self->accept.client_max_window_bits = self->accept.server_max_window_bits = 15;
    self->response = (char *) malloc (size + 1);
    int rc = ZFLOW_ENOMEM;
    if (self->response && zflow__ws_conn_ws_start (self) == 0) {
        memcpy (self->response, data, size);
        self->response_size = size;
        self->state = S_OPEN;
        zflow__ws_conn_readable (self);   //  the socket is -1: reads end at the data's end
        rc = self->failed ? self->error : 0;
    }
    zflow__ws_conn_destroy (&self);
    return rc;
}

//  After a resume: reads what arrived (TLS may hold data the poller cannot see).
static int
s_on_resume (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    zflow_ws_conn_t *self = (zflow_ws_conn_t *) arg;
    self->resume_timer = -1;
    if ((self->state == S_OPEN || self->state == S_CLOSING) && !self->paused)
        zflow__ws_conn_readable (self);
    return 0;
}

void
zflow__ws_conn_pause (zflow_ws_conn_t *self, bool paused)
{
    if (self->paused == paused)
        return;
    self->paused = paused;
    //  Pausing only sets the flag (we may be inside a wslay callback); the
    //  poll events are recomputed after the current read.
    if (paused || (self->state != S_OPEN && self->state != S_CLOSING))
        return;
    zflow__ws_conn_pump (self);
    if (self->resume_timer < 0)
        self->resume_timer = zloop_timer (self->loop, 0, 1, s_on_resume, self);
}

bool
zflow__ws_conn_is_open (zflow_ws_conn_t *self)
{
    return self && self->state == S_OPEN;
}

bool
zflow__ws_conn_is_done (zflow_ws_conn_t *self)
{
    return !self || self->state == S_DONE;
}

const char *
zflow__ws_conn_protocol (zflow_ws_conn_t *self)
{
    return self->accept.protocol;
}

bool
zflow__ws_conn_deflate (zflow_ws_conn_t *self)
{
    return self->accept.deflate;
}

size_t
zflow__ws_conn_queued (zflow_ws_conn_t *self)
{
    return self->ws ? wslay_event_get_queued_msg_length (self->ws) : 0;
}
