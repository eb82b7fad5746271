/*  =========================================================================
    zflow_hpfeeds_client - the hpfeeds client actor: the connection's
    lifecycle (connect, TLS, info and auth, reconnect) and the write side

    One zloop holds: the pipe, the publish PULL socket, a poller on the TCP
    socket (POLLIN, plus POLLOUT while bytes wait), the
    reconnect timer, a 1 ms retry timer while TCP reading is paused, and the
    streams of publish_from. The outbox and the inputs are in
    zflow_hpfeeds_outbox.c, the receive side in zflow_hpfeeds_client_recv.c.

    Output has two byte buffers: ctl (auth, subscribe, unsubscribe) and the
    outbox (publish frames). ctl goes first but only at an outbox frame
    boundary, so frames never interleave; frame_left tracks how much of the
    outbox's head frame is already on the wire.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_hpfeeds_client.h"
#include "zflow_actor.h"
#include "zflow_envelope.h"
#include "zflow_error.h"
#include "zflow_hpfeeds_buf.h"
#include "zflow_hpfeeds_proto.h"
#include "zflow_hpfeeds_tls.h"
#include "zflow_meta.h"
#include "zflow_stream.h"
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_STABLE_MS 1000 //  a connection this old resets the backoff

static int s_on_tcp (zloop_t *loop, zmq_pollitem_t *item, void *arg);
static int s_on_settled (zloop_t *loop, int timer_id, void *arg);

void zflow__hpfeeds_client_event (client_t *self, int type, const char *format, ...)
{
    char text[1100];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof (text), format, args);
    va_end (args);
    if (zflow_actor_verbose (self->base))
        zsys_debug ("hpfeeds client %s: event %d: %s", self->ident, type, text);
    void *sock = zsock_resolve (self->events_sock);
    char number[8];
    snprintf (number, sizeof (number), "%d", type);
    if (zmq_send (sock, number, strlen (number), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        self->events_dropped++;
    else
        zmq_send (sock, text, strlen (text), 0);
}

void zflow__hpfeeds_client_poll (client_t *self, short events)
{
    if (self->events == events)
        return;
    zmq_pollitem_t item = {NULL, self->fd, 0, 0};
    if (self->events)
        zloop_poller_end (self->loop, &item);
    self->events = events;
    if (events) {
        item.events = events;
        zloop_poller (self->loop, &item, s_on_tcp, self);
        zloop_poller_set_tolerant (self->loop, &item);
    }
}

static int s_on_timer (zloop_t *loop, int timer_id, void *arg);

//  Closes the connection and plans the next attempt.
void zflow__hpfeeds_client_disconnect (client_t *self, const char *reason)
{
    bool was_ready = self->state == S_READY && !self->settling;
    //  what the publisher left (a frame cut on the wire too) joins the outbox
    zflow__hpfeeds_client_direct_off (self);
    if (self->linger_timer >= 0) {
        zloop_timer_end (self->loop, self->linger_timer);
        self->linger_timer = -1;
    }
    if (self->settle_timer >= 0) {
        zloop_timer_end (self->loop, self->settle_timer);
        self->settle_timer = -1;
    }
    self->settling = false;
    self->draining = self->shut = false;
    if (self->drain_timer >= 0) {
        zloop_timer_end (self->loop, self->drain_timer);
        self->drain_timer = -1;
    }
    if (self->fd >= 0) {
        zflow__hpfeeds_client_poll (self, 0);
        zflow__hpfeeds_tls_stop (self->tls);
        close (self->fd);
        self->fd = -1;
    }
    if (self->pause_timer >= 0) {
        zloop_timer_end (self->loop, self->pause_timer);
        self->pause_timer = -1;
    }
    self->tcp_paused = false;
    //  The rest of a frame cut in the middle cannot be sent again alone.
    if (self->frame_left) {
        zflow__hpfeeds_buf_consume (&self->out, self->frame_left);
        self->frame_left = 0;
        self->inflight_lost++;
    }
    self->in.head = self->in.tail = 0;
    //  a run paused half-way was received (the reader has it)
    if (self->run_batched || self->run_pub_offset)
        self->received += self->run_frames;
    self->run_bytes = self->run_frames = self->run_data = self->run_pub_offset = 0;
    self->run_batched = false;
    self->ctl.head = self->ctl.tail = 0;
    self->tls_retry = NULL;
    if (was_ready) {
        self->disconnects++;
        if (!self->refused && zclock_mono () - self->connected_at >= S_STABLE_MS)
            self->backoff_ms = self->cfg.backoff_min_ms;
    }
    self->state = S_IDLE;
    zflow__hpfeeds_client_event (self, ZFLOW_HPFEEDS_EVENT_DISCONNECTED, "%s", reason);
    int delay = self->backoff_ms;
    self->backoff_ms = self->backoff_ms * 2 > self->cfg.backoff_max_ms ? self->cfg.backoff_max_ms
                                                                       : self->backoff_ms * 2;
    if (self->refused && delay < self->cfg.refused_backoff_ms)
        delay = self->cfg.refused_backoff_ms;
    delay = (int) ((int64_t) delay * (75 + random () % 51) / 100); //  +-25% jitter
    self->refused = false;
    if (self->timer_id < 0)
        self->timer_id =
            zloop_timer (self->loop, (size_t) (delay > 0 ? delay : 1), 1, s_on_timer, self);
}

static void s_connect (client_t *self)
{
    struct addrinfo hints = {0}, *result = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char port[16];
    snprintf (port, sizeof (port), "%d", self->cfg.port);
    if (getaddrinfo (self->host, port, &hints, &result) || !result) {
        zflow__hpfeeds_client_disconnect (self, "cannot resolve the broker's host");
        return;
    }
    self->fd = socket (result->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = -1;
    if (self->fd >= 0) {
        int one = 1;
        setsockopt (self->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
        rc = connect (self->fd, result->ai_addr, result->ai_addrlen);
    }
    freeaddrinfo (result);
    if (rc == 0 || errno == EINPROGRESS) {
        self->state = S_CONNECTING;
        zflow__hpfeeds_client_poll (self, ZMQ_POLLOUT);
    } else {
        char reason[128];
        snprintf (reason, sizeof (reason), "connect: %s", strerror (errno));
        zflow__hpfeeds_client_disconnect (self, reason);
    }
}

static int s_on_timer (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    client_t *self = (client_t *) arg;
    self->timer_id = -1;
    if (self->state == S_IDLE)
        s_connect (self);
    return 0;
}

//  The connection is taken as accepted: publishes may flow.
static void s_established (client_t *self)
{
    self->settling = false;
    self->connects++;
    self->connected_at = zclock_mono ();
    zflow__hpfeeds_client_event (self, ZFLOW_HPFEEDS_EVENT_CONNECTED, "%s:%d (broker %s)",
                                 self->host, self->cfg.port, self->broker_name);
}

static int s_on_settled (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    client_t *self = (client_t *) arg;
    self->settle_timer = -1;
    if (self->state == S_READY && self->settling) {
        s_established (self);
        zflow__hpfeeds_client_flush (self);
    }
    return 0;
}

//  The info frame: answer with auth, then subscribe every channel.
void zflow__hpfeeds_client_on_info (client_t *self, const zflow_hpfeeds_frame_t *frame)
{
    uint8_t hash[ZFLOW_HPFEEDS_HASH], buf[600];
    if (zflow__hpfeeds_hash (frame->data, frame->data_size, self->secret, hash)) {
        zflow__hpfeeds_client_disconnect (self, "cannot compute the auth hash");
        return;
    }
    int size = zflow__hpfeeds_encode_auth (buf, self->ident, hash);
    zflow__hpfeeds_buf_append (&self->ctl, buf, (size_t) size);
    snprintf (self->broker_name, sizeof (self->broker_name), "%.*s", (int) frame->name_size,
              (const char *) frame->name);
    for (const char *channel = (const char *) zlistx_first (self->channels); channel;
         channel = (const char *) zlistx_next (self->channels)) {
        size = zflow__hpfeeds_encode_sub (buf, ZFLOW_HPFEEDS_OP_SUBSCRIBE, self->ident, channel,
                                          strlen (channel));
        zflow__hpfeeds_buf_append (&self->ctl, buf, (size_t) size);
    }
    self->state = S_READY;
    //  hpfeeds answers nothing to a good auth: publishes wait a moment so
    //  that a refused auth (wrong secret) loses none of them.
    if (self->cfg.auth_wait_ms > 0) {
        self->settling = true;
        self->settle_timer =
            zloop_timer (self->loop, (size_t) self->cfg.auth_wait_ms, 1, s_on_settled, self);
    } else
        s_established (self);
    zflow__hpfeeds_client_flush (self);
}

//  Writes ctl, then the outbox; returns -1 on a dead socket.
static int s_write (client_t *self)
{
    for (;;) {
        if (self->draining && !self->frame_left) {
            if (!self->shut)
                shutdown (self->fd, SHUT_WR); //  the broker reads up to here
            self->shut = true;
            return 0;
        }
        zflow_hpfeeds_buf_t *buf =
            (zflow__hpfeeds_buf_size (&self->ctl) && !self->frame_left) || self->settling
                ? &self->ctl
                : &self->out;
        //  OpenSSL wants a write that could not finish retried with the
        //  same bytes: stay on that buffer (the outbox keeps them, see
        //  s_drop_oldest).
        if (self->tls_retry)
            buf = self->tls_retry;
        size_t size = zflow__hpfeeds_buf_size (buf);
        if (size == 0)
            return 0;
        ssize_t rc = self->tls
                         ? zflow__hpfeeds_tls_write (self->tls, zflow__hpfeeds_buf_head (buf), size)
                         : send (self->fd, zflow__hpfeeds_buf_head (buf), size, MSG_NOSIGNAL);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            self->tls_retry = self->tls ? buf : NULL;
            return 0;
        }
        if (rc < 0)
            return -1;
        self->tls_retry = NULL;
        if (buf == &self->ctl)
            zflow__hpfeeds_buf_consume (buf, (size_t) rc);
        else
            self->sent +=
                zflow__hpfeeds_buf_consume_frames (&self->out, (size_t) rc, &self->frame_left);
        if ((size_t) rc < size)
            return 0;
    }
}

void zflow__hpfeeds_client_flush (client_t *self)
{
    if (self->state == S_READY) {
        if (s_write (self)) {
            zflow__hpfeeds_client_disconnect (self, "the connection broke while sending");
            return;
        }
        bool pending = self->draining
                           ? self->frame_left > 0
                           : zflow__hpfeeds_buf_size (&self->ctl) ||
                                 (!self->settling && zflow__hpfeeds_buf_size (&self->out));
        short events = (short) ((self->tcp_paused ? 0 : ZMQ_POLLIN) | (pending ? ZMQ_POLLOUT : 0));
        zflow__hpfeeds_client_poll (self, events);
        if (!pending)
            zflow__hpfeeds_client_direct_on (self);
    }
    zflow__hpfeeds_client_pump (self);
}

//  Advances the TLS handshake; on success waits for the info frame.
static void s_handshake (client_t *self)
{
    char reason[512];
    short events = 0;
    int rc = zflow__hpfeeds_tls_handshake (self->tls, &events, reason, sizeof (reason));
    if (rc == 0)
        zflow__hpfeeds_client_poll (self, events);
    else if (rc < 0) {
        self->refused = true; //  a bad certificate will not get better soon
        zflow__hpfeeds_client_event (self, ZFLOW_HPFEEDS_EVENT_ERROR, "%s", reason);
        zflow__hpfeeds_client_disconnect (self, reason);
    } else {
        self->state = S_WAIT_INFO;
        zflow__hpfeeds_client_poll (self, ZMQ_POLLIN);
        zflow__hpfeeds_client_read (self); //  the info frame may be in the session already
    }
}

//  The TCP connect finished (or failed).
static void s_on_connected (client_t *self)
{
    int error = 0;
    socklen_t length = sizeof (error);
    getsockopt (self->fd, SOL_SOCKET, SO_ERROR, &error, &length);
    char reason[512];
    if (error) {
        snprintf (reason, sizeof (reason), "connect: %s", strerror (error));
        zflow__hpfeeds_client_disconnect (self, reason);
    } else if (self->tls) {
        if (zflow__hpfeeds_tls_start (self->tls, self->fd, self->host, reason, sizeof (reason)))
            zflow__hpfeeds_client_disconnect (self, reason);
        else {
            self->state = S_HANDSHAKE;
            s_handshake (self);
        }
    } else {
        self->state = S_WAIT_INFO;
        zflow__hpfeeds_client_poll (self, ZMQ_POLLIN);
    }
}

static int s_on_tcp (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    client_t *self = (client_t *) arg;
    if (self->state == S_CONNECTING)
        s_on_connected (self);
    else if (self->state == S_HANDSHAKE)
        s_handshake (self);
    else {
        if ((item->revents & ZMQ_POLLOUT) && self->state == S_READY)
            zflow__hpfeeds_client_flush (self);
        if (self->fd >= 0 && (item->revents & (ZMQ_POLLIN | ZMQ_POLLERR)) && !self->tcp_paused)
            zflow__hpfeeds_client_read (self);
    }
    return 0;
}

//  The channel list holds its own string copies.
static void *s_str_dup (const void *item)
{
    return strdup ((const char *) item);
}

static void s_str_free (void **item)
{
    free (*item);
    *item = NULL;
}

static int s_str_cmp (const void *a, const void *b)
{
    return strcmp ((const char *) a, (const char *) b);
}

//  Sets up the sockets and buffers; returns 0 or -1.
static int s_client_init (client_t *self, zsock_t *pipe, const zflow_hpfeeds_args_t *args)
{
    self->base = zflow_actor_new (pipe, "hpfeeds client");
    self->cfg = args->config;
    self->host = strdup (args->config.host);
    self->ident = strdup (args->config.ident);
    self->secret = strdup (args->config.secret);
    self->cfg.host = self->host;
    self->cfg.ident = self->ident;
    self->cfg.secret = self->secret;
    snprintf (self->source_name, sizeof (self->source_name), "hpfeeds://%.200s:%d", self->host,
              self->cfg.port);
    self->fd = -1;
    self->timer_id = -1;
    self->pause_timer = -1;
    self->settle_timer = -1;
    self->linger_timer = -1;
    self->drain_timer = -1;
    self->backoff_ms = self->cfg.backoff_min_ms;
    self->channels = zlistx_new ();
    self->refused_pub = zhash_new ();
    self->sources = zlistx_new ();
    self->meta = zflow_meta_new ();
    zflow__hpfeeds_buf_init (&self->in, ZFLOW_HPFEEDS_MAX_FRAME + S_READ_CHUNK);
    //  room for auth and every subscription at their longest
    zflow__hpfeeds_buf_init (&self->ctl, 1024 + ZFLOW_HPFEEDS_MAX_CHANNELS * 520);
    zflow__hpfeeds_buf_init (&self->out, self->cfg.outbox_bytes);
    self->input = zsock_new_pull (args->input);
    self->handoff = args->handoff;
    self->spare = (uint8_t *) malloc (S_PUB_BATCH);
    if (!self->spare)
        return -1;
    if (self->cfg.tls) {
        char reason[512];
        self->tls = zflow__hpfeeds_tls_new (args->config.tls_ca_file, self->cfg.tls_verify, reason,
                                            sizeof (reason));
        if (!self->tls) {
            zsys_error ("hpfeeds client: %s", reason);
            return -1;
        }
    }
    self->output = zsock_new (ZMQ_XPUB);
    if (args->batch) {
        self->batch = zsock_new (ZMQ_PUSH);
        //  handoff->unread bounds the messages; a batch holds at least one
        if (!self->batch || (zsock_set_sndhwm (self->batch, self->cfg.output_hwm), 0) ||
            zsock_bind (self->batch, "%s", args->batch))
            return -1;
    }
    self->events_sock = zsock_new (ZMQ_PUSH);
    if (!self->base || !self->host || !self->ident || !self->secret || !self->channels ||
        !self->refused_pub || !self->sources || !self->meta || !self->input || !self->output ||
        !self->events_sock)
        return -1;
    zlistx_set_duplicator (self->channels, s_str_dup);
    zlistx_set_destructor (self->channels, s_str_free);
    zlistx_set_comparator (self->channels, s_str_cmp);
    int nodrop = 1;
    zsock_set_sndhwm (self->output, self->cfg.output_hwm);
    zmq_setsockopt (zsock_resolve (self->output), ZMQ_XPUB_NODROP, &nodrop, sizeof (nodrop));
    zsock_set_sndhwm (self->events_sock, 1000);
    zsock_set_rcvhwm (self->input, S_INPUT_HWM);
    if (zsock_bind (self->output, "%s", args->output) ||
        zsock_connect (self->events_sock, "%s", args->events))
        return -1;
    self->loop = zflow_actor_loop (self->base);
    zloop_reader (self->loop, self->input, zflow__hpfeeds_client_on_input, self);
    zloop_reader (self->loop, self->output, zflow__hpfeeds_client_on_output_note, self);
    zflow_actor_set_command_handler (self->base, zflow__hpfeeds_client_command, self);
    zflow_actor_set_stats_handler (self->base, zflow__hpfeeds_client_stats, self);
    return 0;
}

void zflow__hpfeeds_client_actor (zsock_t *pipe, void *args)
{
    client_t self_struct, *self = &self_struct;
    memset (self, 0, sizeof (*self));
    if (s_client_init (self, pipe, (const zflow_hpfeeds_args_t *) args) == 0) {
        zflow_actor_ready (self->base, 0);
        s_connect (self);
        zflow_actor_run (self->base);
    } else if (self->base)
        zflow_actor_ready (self->base, -1);
    else {
        zsock_signal (pipe, 0); //  as zflow_actor_ready (pipe, -1) would
        zsock_signal (pipe, 1);
    }
    if (self->fd >= 0)
        close (self->fd);
    source_t *source;
    while (self->sources && (source = (source_t *) zlistx_detach (self->sources, NULL)))
        zflow__hpfeeds_client_source_destroy (&source);
    zlistx_destroy (&self->sources);
    zlistx_destroy (&self->channels);
    zhash_destroy (&self->refused_pub);
    zflow_meta_destroy (&self->meta);
    zflow__hpfeeds_tls_destroy (&self->tls);
    zflow__hpfeeds_buf_free (&self->in);
    zflow__hpfeeds_buf_free (&self->ctl);
    zflow__hpfeeds_buf_free (&self->out);
    zsock_destroy (&self->input);
    free (self->spare);
    zsock_destroy (&self->output);
    zsock_destroy (&self->batch);
    zsock_destroy (&self->events_sock);
    free (self->host);
    free (self->ident);
    free (self->secret);
    zflow_actor_destroy (&self->base);
}
