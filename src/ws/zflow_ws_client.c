/*  =========================================================================
    zflow_ws_client - one RFC 6455 client connection inside a zloop (internal)

    States: CONNECT (TCP in progress) -> TLS (wss only) -> SEND_HS -> RECV_HS
    -> OPEN -> CLOSING -> DONE. From OPEN on, zflow_ws_frame.c turns frames
    (parsed and built by wslay's frame layer) into messages and back; we
    own the socket, TLS, the handshake and decompression. This file runs
    the open connection; zflow_ws_conn_open.c gets it there.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_ws_conn.h"
#include <errno.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

//  ---------------------------------------------------------------------
//  Plumbing: poller, timers, raw I/O

//  Registers the events we want on fd now (re-registering only on change).
void zflow__ws_conn_set_events (zflow_ws_conn_t *self, short events)
{
    if (self->fd < 0 || events == self->events)
        return;
    if (self->events)
        zloop_poller_end (self->loop, &self->item);
    self->events = events;
    if (events) {
        self->item = (zmq_pollitem_t){NULL, self->fd, events, 0};
        zloop_poller (self->loop, &self->item, zflow__ws_conn_on_fd, self);
        zloop_poller_set_tolerant (self->loop, &self->item);
    }
}

void zflow__ws_conn_stop_timer (zflow_ws_conn_t *self)
{
    if (self->timer >= 0)
        zloop_timer_end (self->loop, self->timer);
    self->timer = -1;
}

static int s_on_timeout (zloop_t *loop, int timer_id, void *arg)
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

void zflow__ws_conn_start_timer (zflow_ws_conn_t *self)
{
    zflow__ws_conn_stop_timer (self);
    self->timer = zloop_timer (self->loop, (size_t) self->timeout_ms, 1, s_on_timeout, self);
}

//  Reads up to size bytes. Returns > 0, 0 at EOF, -1 for "try later" or
//  -2 on error (with reason set).
ssize_t zflow__ws_conn_io_read (zflow_ws_conn_t *self, void *buf, size_t size)
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
ssize_t zflow__ws_conn_io_write (zflow_ws_conn_t *self, const void *buf, size_t size)
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

//  Fails the connection: before OPEN it ends at once; once open it queues
//  a close frame with code, stops reading and lets the close handshake
//  end (the TCP connection closes once our close frame is written).
void zflow__ws_conn_fail (zflow_ws_conn_t *self, int error, int code, const char *text)
{
    if (!self->failed) {
        self->failed = true;
        self->error = error;
        snprintf (self->reason, sizeof (self->reason), "%s", text);
    }
    if (self->ws && (self->state == S_OPEN || self->state == S_CLOSING)) {
        zflow__ws_frame_close (self->ws, code, NULL, 0);
        zflow__ws_frame_stop_reading (self->ws);
        if (self->state == S_OPEN) {
            self->state = S_CLOSING;
            zflow__ws_conn_start_timer (self);
        }
    } else if (self->state < S_OPEN)
        zflow__ws_conn_finish (self);
}

//  ---------------------------------------------------------------------
//  Receiving

//  The message layer's read function: bytes of the handshake response
//  that came after its header first, then the socket, read in big chunks
//  and handed over in the pieces wslay asks for (one system call per
//  64 KiB instead of per 4 KiB). Returns 0 while paused, when the socket
//  has nothing, or at EOF / on error (then io_failed and reason are set).
static size_t s_read (void *arg, uint8_t *buf, size_t len)
{
    zflow_ws_conn_t *self = (zflow_ws_conn_t *) arg;
    if (self->paused || self->out_full || self->io_failed)
        return 0;
    if (self->prefetch < self->response_size) {
        size_t n = self->response_size - self->prefetch;
        n = n > len ? len : n;
        memcpy (buf, self->response + self->prefetch, n);
        self->prefetch += n;
        return n;
    }
    if (self->ahead_pos == self->ahead_len) {
        if (self->turn_read >= ZFLOW_WS_READ_TURN) {
            self->turn_over = true;
            return 0;
        }
        if (!self->ahead)
            self->ahead = (uint8_t *) malloc (ZFLOW_WS_READ_AHEAD);
        ssize_t n = self->ahead ? zflow__ws_conn_io_read (self, self->ahead, ZFLOW_WS_READ_AHEAD)
                                : zflow__ws_conn_io_read (self, buf, len);
        if (n == 0)
            snprintf (self->reason, sizeof (self->reason), "peer closed the TCP connection");
        if (n == 0 || n == -2)
            self->io_failed = true;
        if (n > 0)
            self->turn_read += (size_t) n;
        if (n <= 0 || !self->ahead)
            return n > 0 ? (size_t) n : 0;
        self->ahead_pos = 0;
        self->ahead_len = (size_t) n;
    }
    size_t n = self->ahead_len - self->ahead_pos;
    n = n > len ? len : n;
    memcpy (buf, self->ahead + self->ahead_pos, n);
    self->ahead_pos += n;
    return n;
}

//  A whole data message: inflates it if compressed, checks the UTF-8 of
//  inflated text (the message layer checked the rest), delivers it.
static void s_on_message (zflow_ws_conn_t *self, const zflow_ws_frame_event_t *event)
{
    //  Data that arrives after our close frame is still delivered (the
    //  peer sent it before it saw our close); after a failure it is not.
    if (self->failed)
        return;
    static const uint8_t s_empty[1] = {0};
    const uint8_t *data = event->data ? event->data : s_empty;
    size_t size = event->size;
    if (event->compressed) {
        int rc =
            zflow__ws_inflate (&self->inflater, data, size, true, self->max_message, &self->zbuf);
        if (rc == 0 && self->accept.server_no_takeover)
            inflateReset (&self->inflater);
        if (rc == ZFLOW_ETOOBIG)
            zflow__ws_conn_fail (self, rc, 1009, "message larger than the maximum (after inflate)");
        else if (rc)
            zflow__ws_conn_fail (self, ZFLOW_EPROTO, 1007, "corrupt permessage-deflate data");
        if (rc)
            return;
        data = self->zbuf.data ? self->zbuf.data : s_empty;
        size = self->zbuf.size;
        if (!event->binary && !zflow__ws_utf8_valid (data, size)) {
            zflow__ws_conn_fail (self, ZFLOW_EPROTO, 1007, "text message is not valid UTF-8");
            return;
        }
    }
    if (self->cb.on_message)
        self->cb.on_message (self, event->binary, data, size, self->arg);
}

//  The peer's close frame (checked by the message layer, which queued
//  our reply): keeps its reason unless we failed first.
static void s_on_close_frame (zflow_ws_conn_t *self, const zflow_ws_frame_event_t *event)
{
    if (!self->failed)
        snprintf (self->reason, sizeof (self->reason), "%.*s", (int) event->size,
                  (const char *) event->data);
    if (self->state == S_OPEN)
        self->state = S_CLOSING;
}

//  ---------------------------------------------------------------------
//  Open state: drive the message layer

static int s_on_resume (zloop_t *loop, int timer_id, void *arg);

//  Stops reading while ZFLOW_WS_OUT_HIGH bytes wait to be written, until
//  they are down to ZFLOW_WS_OUT_LOW; then reads at once what the poller
//  cannot see (bytes read ahead, TLS records).
static void s_out_level (zflow_ws_conn_t *self, size_t queued)
{
    if (!self->out_full && queued >= ZFLOW_WS_OUT_HIGH)
        self->out_full = true;
    else if (self->out_full && queued <= ZFLOW_WS_OUT_LOW) {
        self->out_full = false;
        if (self->resume_timer < 0 && !self->paused)
            self->resume_timer = zloop_timer (self->loop, 0, 1, s_on_resume, self);
    }
}

//  Writes what the message layer queued and sets the poll events;
//  finishes when it wants neither to read nor to write.
void zflow__ws_conn_pump (zflow_ws_conn_t *self)
{
    if (self->state != S_OPEN && self->state != S_CLOSING)
        return;
    size_t size;
    const uint8_t *out;
    while ((out = zflow__ws_frame_out (self->ws, &size))) {
        char reason[sizeof (self->reason)];
        memcpy (reason, self->reason, sizeof (reason));
        ssize_t n = zflow__ws_conn_io_write (self, out, size);
        if (n == -1)
            break;
        if (n < 0) {
            //  A peer that closed TCP right after its close frame ended
            //  the handshake its way: not a transport error, its reason stays.
            if (!self->failed && zflow__ws_frame_code_received (self->ws))
                memcpy (self->reason, reason, sizeof (reason));
            else if (!self->failed) {
                self->failed = true;
                self->error = ZFLOW_ETRANSPORT;
            }
            zflow__ws_conn_finish (self);
            return;
        }
        zflow__ws_frame_out_done (self->ws, (size_t) n);
    }
    bool want_read = zflow__ws_frame_reading (self->ws);
    bool want_write = out != NULL;
    if (!want_read && !want_write) {
        zflow__ws_conn_finish (self);
        return;
    }
    s_out_level (self, out ? size : 0);
    short events = (want_read && !self->paused && !self->out_full ? ZMQ_POLLIN : 0) |
                   (want_write || self->io_wants_write ? ZMQ_POLLOUT : 0);
    zflow__ws_conn_set_events (self, events);
}

void zflow__ws_conn_on_read_end (zflow_ws_conn_t *self, zflow_ws_read_end_fn *fn)
{
    self->on_read_end = fn;
}

//  Handles every frame that can be read now, then writes what they queued.
void zflow__ws_conn_readable (zflow_ws_conn_t *self)
{
    zflow_ws_frame_event_t event;
    zflow_ws_frame_kind_t kind;
    self->turn_read = 0;
    self->turn_over = false;
    while (self->state != S_DONE &&
           (kind = zflow__ws_frame_next (self->ws, &event)) != ZFLOW_WS_FRAME_AGAIN) {
        if (kind == ZFLOW_WS_FRAME_MESSAGE)
            s_on_message (self, &event);
        else if (kind == ZFLOW_WS_FRAME_PONG && self->cb.on_pong)
            self->cb.on_pong (self, self->arg);
        else if (kind == ZFLOW_WS_FRAME_CLOSE)
            s_on_close_frame (self, &event);
        else if (kind == ZFLOW_WS_FRAME_ERROR)
            zflow__ws_conn_fail (self, event.error, event.code, event.text);
    }
    if (self->on_read_end)
        self->on_read_end (self, self->arg);
    if (self->state == S_DONE)
        return;
    if (self->io_failed && zflow__ws_frame_reading (self->ws)) {
        //  TCP gone or failed underneath (reason set by s_read).
        if (!self->failed) {
            self->failed = true;
            self->error = ZFLOW_ETRANSPORT;
        }
        zflow__ws_conn_finish (self);
        return;
    }
    zflow__ws_conn_pump (self);
    //  More may wait where the poller cannot see it (read ahead, TLS).
    if (self->turn_over && self->state != S_DONE && self->resume_timer < 0 && !self->paused &&
        !self->out_full)
        self->resume_timer = zloop_timer (self->loop, 0, 1, s_on_resume, self);
}

//  Starts framing: the message layer and, if negotiated, zlib.
int zflow__ws_conn_ws_start (zflow_ws_conn_t *self)
{
    self->ws = zflow__ws_frame_new (s_read, self, self->max_message, self->accept.deflate);
    if (!self->ws)
        return ZFLOW_ENOMEM;
    if (self->accept.deflate) {
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

int zflow__ws_conn_on_fd (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    (void) item;
    zflow_ws_conn_t *self = (zflow_ws_conn_t *) arg;
    switch (self->state) {
    case S_CONNECT:
        zflow__ws_conn_connected (self);
        break;
    case S_TLS:
        zflow__ws_conn_tls_step (self);
        break;
    case S_SEND_HS:
        zflow__ws_conn_handshake_send (self);
        break;
    case S_RECV_HS:
        zflow__ws_conn_handshake_recv (self);
        break;
    case S_OPEN:
    case S_CLOSING:
        if ((item->revents & (ZMQ_POLLIN | ZMQ_POLLERR)) || self->io_wants_write)
            zflow__ws_conn_readable (self);
        else
            zflow__ws_conn_pump (self);
        break;
    case S_DONE:
        zflow__ws_conn_set_events (self, 0);
        break;
    }
    return 0;
}

//  Ends the connection: closes the socket and tells the owner, once.
void zflow__ws_conn_finish (zflow_ws_conn_t *self)
{
    if (self->state == S_DONE)
        return;
    bool was_open = self->ws != NULL;
    self->state = S_DONE;
    zflow__ws_conn_stop_timer (self);
    zflow__ws_conn_set_events (self, 0);
    if (self->ssl)
        SSL_shutdown (self->ssl); //  best effort close_notify
    if (self->fd >= 0)
        close (self->fd);
    self->fd = -1;
    int error = self->error;
    int received = was_open ? zflow__ws_frame_code_received (self->ws) : 0;
    int sent = was_open ? zflow__ws_frame_code_sent (self->ws) : 0;
    //  The code received; when we failed the connection, the code we sent.
    int code = received ? received : 1006;
    if (self->failed && sent && self->error != ZFLOW_ETRANSPORT)
        code = sent;
    if (!self->failed && !received)
        error = ZFLOW_ETRANSPORT;
    if (error && !self->reason[0])
        snprintf (self->reason, sizeof (self->reason), "%s", zflow_error_text (error));
    if (self->cb.on_closed)
        self->cb.on_closed (self, error, code, self->reason, self->arg);
}

//  ---------------------------------------------------------------------
//  Public (internal) API

void zflow__ws_conn_destroy (zflow_ws_conn_t **self_p)
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
        zflow__ws_frame_destroy (&self->ws);
    if (self->zlib_ready) {
        inflateEnd (&self->inflater);
        deflateEnd (&self->deflater);
    }
    zflow__ws_buf_free (&self->zbuf);
    zflow__ws_buf_free (&self->dbuf);
    free (self->ahead);
    free (self->headers);
    free (self->protocols);
    free (self->ca_file);
    free (self->request);
    free (self->response);
    free (self);
    *self_p = NULL;
}

int zflow__ws_conn_send (zflow_ws_conn_t *self, bool binary, const void *data, size_t size)
{
    if (self->state != S_OPEN)
        return ZFLOW_ECLOSED;
    if (!binary && !zflow__ws_utf8_valid (data, size))
        return ZFLOW_EPROTO;
    bool compressed = false;
    if (self->accept.deflate && !self->send_plain && size > 0) {
        int rc = zflow__ws_deflate (&self->deflater, data, size, &self->dbuf);
        if (rc)
            return rc;
        if (self->accept.client_no_takeover)
            deflateReset (&self->deflater);
        data = self->dbuf.data;
        size = self->dbuf.size;
        compressed = true;
    }
    int rc = zflow__ws_frame_send (self->ws, binary, compressed, data, size);
    if (rc)
        return rc;
    zflow__ws_conn_pump (self);
    return 0;
}

int zflow__ws_conn_ping (zflow_ws_conn_t *self, const void *data, size_t size)
{
    if (self->state != S_OPEN)
        return ZFLOW_ECLOSED;
    if (size > 125)
        return ZFLOW_ETOOBIG;
    int rc = zflow__ws_frame_ping (self->ws, data, size);
    if (rc)
        return rc;
    zflow__ws_conn_pump (self);
    return 0;
}

int zflow__ws_conn_close (zflow_ws_conn_t *self, int code, const char *reason)
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
    //  At most 120 bytes of reason, not cut inside a UTF-8 sequence.
    size_t len = reason ? strlen (reason) : 0;
    if (len > 120)
        len = zflow__ws_utf8_whole ((const uint8_t *) reason, 120);
    zflow__ws_frame_close (self->ws, code, reason, len);
    self->state = S_CLOSING;
    zflow__ws_conn_start_timer (self);
    zflow__ws_conn_pump (self);
    return 0;
}

int zflow__ws_conn_feed (zloop_t *loop, const uint8_t *data, size_t size, bool deflate,
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
        zflow__ws_conn_readable (self); //  the socket is -1: reads end at the data's end
        rc = self->failed ? self->error : 0;
    }
    zflow__ws_conn_destroy (&self);
    return rc;
}

//  After a resume: reads what arrived (TLS may hold data the poller cannot see).
static int s_on_resume (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    zflow_ws_conn_t *self = (zflow_ws_conn_t *) arg;
    self->resume_timer = -1;
    if ((self->state == S_OPEN || self->state == S_CLOSING) && !self->paused && !self->out_full)
        zflow__ws_conn_readable (self);
    return 0;
}

void zflow__ws_conn_pause (zflow_ws_conn_t *self, bool paused)
{
    if (self->paused == paused)
        return;
    self->paused = paused;
    //  Pausing only sets the flag (we may be inside a message callback); the
    //  poll events are recomputed after the current read.
    if (paused || (self->state != S_OPEN && self->state != S_CLOSING))
        return;
    zflow__ws_conn_pump (self);
    if (self->resume_timer < 0)
        self->resume_timer = zloop_timer (self->loop, 0, 1, s_on_resume, self);
}

bool zflow__ws_conn_is_open (zflow_ws_conn_t *self)
{
    return self && self->state == S_OPEN;
}

bool zflow__ws_conn_is_done (zflow_ws_conn_t *self)
{
    return !self || self->state == S_DONE;
}

const char *zflow__ws_conn_protocol (zflow_ws_conn_t *self)
{
    return self->accept.protocol;
}

bool zflow__ws_conn_deflate (zflow_ws_conn_t *self)
{
    return self->accept.deflate;
}

size_t zflow__ws_conn_queued (zflow_ws_conn_t *self)
{
    size_t size = 0;
    if (self->ws)
        zflow__ws_frame_out (self->ws, &size);
    return size;
}
