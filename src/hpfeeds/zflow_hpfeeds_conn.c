/*  =========================================================================
    zflow_hpfeeds_conn - the hpfeeds client's connection (see
    zflow_hpfeeds_conn.h): connect, TLS, info and auth, reconnect, drain,
    and the writes

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_hpfeeds_conn.h"
#include "zflow_error.h"
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_STABLE_MS 1000          //  a connection this old resets the backoff
#define S_DRAIN_WAIT_MS 3000      //  longest wait for a draining broker to close
#define S_TLS_CHUNK 16384         //  bytes asked of the TLS session per read
#define S_READ_CHUNK (256 * 1024) //  bytes asked of the kernel per read (plain TCP)

static int s_on_socket (zloop_t *loop, zmq_pollitem_t *item, void *arg);
static int s_on_reconnect (zloop_t *loop, int timer_id, void *arg);

//  Sends an event (type, printf-style text) to the owner.
static void s_event (zflow_hpfeeds_conn_t *self, int type, const char *format, ...)
{
    char text[1100];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof (text), format, args);
    va_end (args);
    self->handler.event (self->arg, type, text);
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

zflow_hpfeeds_conn_t *zflow__hpfeeds_conn_new (const zflow_hpfeeds_config_t *config, zloop_t *loop,
                                               const zflow_hpfeeds_conn_handler_t *handler,
                                               void *arg)
{
    zflow_hpfeeds_conn_t *self = (zflow_hpfeeds_conn_t *) zmalloc (sizeof (*self));
    if (!self)
        return NULL;
    self->loop = loop;
    self->handler = *handler;
    self->arg = arg;
    self->cfg = *config;
    self->host = strdup (config->host);
    self->ident = strdup (config->ident);
    self->secret = strdup (config->secret);
    self->cfg.host = self->host;
    self->cfg.ident = self->ident;
    self->cfg.secret = self->secret;
    self->cfg.tls_ca_file = NULL; //  used below only
    self->fd = -1;
    self->timer_id = self->settle_timer = self->drain_timer = -1;
    self->backoff_ms = config->backoff_min_ms;
    self->channels = zlistx_new ();
    //  room for auth and every subscription at their longest
    zflow__hpfeeds_buf_init (&self->ctl, 1024 + ZFLOW_HPFEEDS_MAX_CHANNELS * 520);
    if (!self->host || !self->ident || !self->secret || !self->channels) {
        zflow__hpfeeds_conn_destroy (&self);
        return NULL;
    }
    zlistx_set_duplicator (self->channels, s_str_dup);
    zlistx_set_destructor (self->channels, s_str_free);
    zlistx_set_comparator (self->channels, s_str_cmp);
    if (config->tls) {
        char reason[512];
        self->tls = zflow__hpfeeds_tls_new (config->tls_ca_file, config->tls_verify, reason,
                                            sizeof (reason));
        if (!self->tls) {
            zsys_error ("hpfeeds client: %s", reason);
            zflow__hpfeeds_conn_destroy (&self);
        }
    }
    return self;
}

void zflow__hpfeeds_conn_destroy (zflow_hpfeeds_conn_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_hpfeeds_conn_t *self = *self_p;
    if (self->fd >= 0)
        close (self->fd);
    zlistx_destroy (&self->channels);
    zflow__hpfeeds_tls_destroy (&self->tls);
    zflow__hpfeeds_buf_free (&self->ctl);
    free (self->host);
    free (self->ident);
    free (self->secret);
    free (self);
    *self_p = NULL;
}

//  Registers the socket's poller for events (0: none).
static void s_poll (zflow_hpfeeds_conn_t *self, short events)
{
    if (self->events == events)
        return;
    zmq_pollitem_t item = {NULL, self->fd, 0, 0};
    if (self->events)
        zloop_poller_end (self->loop, &item);
    self->events = events;
    if (events) {
        item.events = events;
        zloop_poller (self->loop, &item, s_on_socket, self);
        zloop_poller_set_tolerant (self->loop, &item);
    }
}

//  Ends a timer if it runs.
static void s_timer_end (zflow_hpfeeds_conn_t *self, int *timer_p)
{
    if (*timer_p >= 0) {
        zloop_timer_end (self->loop, *timer_p);
        *timer_p = -1;
    }
}

void zflow__hpfeeds_conn_disconnect (zflow_hpfeeds_conn_t *self, const char *reason)
{
    bool was_ready = self->state == ZFLOW_HPFEEDS_CONN_READY && !self->settling;
    self->handler.down (self->arg);
    s_timer_end (self, &self->settle_timer);
    s_timer_end (self, &self->drain_timer);
    self->settling = self->draining = self->shut = false;
    if (self->fd >= 0) {
        s_poll (self, 0);
        zflow__hpfeeds_tls_stop (self->tls);
        close (self->fd);
        self->fd = -1;
    }
    self->reads_paused = false;
    self->ctl.head = self->ctl.tail = 0;
    self->tls_retry = NULL;
    if (was_ready) {
        self->disconnects++;
        if (!self->refused && zclock_mono () - self->connected_at >= S_STABLE_MS)
            self->backoff_ms = self->cfg.backoff_min_ms;
    }
    self->state = ZFLOW_HPFEEDS_CONN_IDLE;
    s_event (self, ZFLOW_HPFEEDS_EVENT_DISCONNECTED, "%s", reason);
    int delay = self->backoff_ms;
    self->backoff_ms = self->backoff_ms * 2 > self->cfg.backoff_max_ms ? self->cfg.backoff_max_ms
                                                                       : self->backoff_ms * 2;
    if (self->refused && delay < self->cfg.refused_backoff_ms)
        delay = self->cfg.refused_backoff_ms;
    delay = (int) ((int64_t) delay * (75 + random () % 51) / 100); //  +-25% jitter
    self->refused = false;
    if (self->timer_id < 0)
        self->timer_id =
            zloop_timer (self->loop, (size_t) (delay > 0 ? delay : 1), 1, s_on_reconnect, self);
}

void zflow__hpfeeds_conn_start (zflow_hpfeeds_conn_t *self)
{
    struct addrinfo hints = {0}, *result = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char port[16];
    snprintf (port, sizeof (port), "%d", self->cfg.port);
    if (getaddrinfo (self->host, port, &hints, &result) || !result) {
        zflow__hpfeeds_conn_disconnect (self, "cannot resolve the broker's host");
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
        self->state = ZFLOW_HPFEEDS_CONN_CONNECTING;
        s_poll (self, ZMQ_POLLOUT);
    } else {
        char reason[128];
        snprintf (reason, sizeof (reason), "connect: %s", strerror (errno));
        zflow__hpfeeds_conn_disconnect (self, reason);
    }
}

static int s_on_reconnect (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    zflow_hpfeeds_conn_t *self = (zflow_hpfeeds_conn_t *) arg;
    self->timer_id = -1;
    if (self->state == ZFLOW_HPFEEDS_CONN_IDLE)
        zflow__hpfeeds_conn_start (self);
    return 0;
}

//  The connection is taken as accepted: publishes may flow.
static void s_established (zflow_hpfeeds_conn_t *self)
{
    self->settling = false;
    self->connects++;
    self->connected_at = zclock_mono ();
    s_event (self, ZFLOW_HPFEEDS_EVENT_CONNECTED, "%s:%d (broker %s)", self->host, self->cfg.port,
             self->broker_name);
}

static int s_on_settled (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    zflow_hpfeeds_conn_t *self = (zflow_hpfeeds_conn_t *) arg;
    self->settle_timer = -1;
    if (self->state == ZFLOW_HPFEEDS_CONN_READY && self->settling) {
        s_established (self);
        self->handler.flush (self->arg);
    }
    return 0;
}

void zflow__hpfeeds_conn_on_info (zflow_hpfeeds_conn_t *self, const zflow_hpfeeds_frame_t *frame)
{
    uint8_t hash[ZFLOW_HPFEEDS_HASH], buf[600];
    if (zflow__hpfeeds_hash (frame->data, frame->data_size, self->secret, hash)) {
        zflow__hpfeeds_conn_disconnect (self, "cannot compute the auth hash");
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
    self->state = ZFLOW_HPFEEDS_CONN_READY;
    //  hpfeeds answers nothing to a good auth: publishes wait a moment so
    //  that a refused auth (wrong secret) loses none of them.
    if (self->cfg.auth_wait_ms > 0) {
        self->settling = true;
        self->settle_timer =
            zloop_timer (self->loop, (size_t) self->cfg.auth_wait_ms, 1, s_on_settled, self);
    } else
        s_established (self);
}

//  Writes ctl, then the outbox; returns -1 on a dead socket.
static int s_write (zflow_hpfeeds_conn_t *self, zflow_hpfeeds_outbox_t *outbox)
{
    for (;;) {
        if (self->draining && !outbox->frame_left) {
            if (!self->shut)
                shutdown (self->fd, SHUT_WR); //  the broker reads up to here
            self->shut = true;
            return 0;
        }
        zflow_hpfeeds_buf_t *buf =
            (zflow__hpfeeds_buf_size (&self->ctl) && !outbox->frame_left) || self->settling
                ? &self->ctl
                : &outbox->out;
        //  OpenSSL wants a write that could not finish retried with the
        //  same bytes: stay on that buffer (the outbox keeps them pinned).
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
            outbox->pinned = self->tls_retry == &outbox->out;
            return 0;
        }
        if (rc < 0)
            return -1;
        self->tls_retry = NULL;
        outbox->pinned = false;
        if (buf == &self->ctl)
            zflow__hpfeeds_buf_consume (buf, (size_t) rc);
        else
            zflow__hpfeeds_outbox_sent (outbox, (size_t) rc);
        if ((size_t) rc < size)
            return 0;
    }
}

int zflow__hpfeeds_conn_flush (zflow_hpfeeds_conn_t *self, zflow_hpfeeds_outbox_t *outbox)
{
    if (self->state != ZFLOW_HPFEEDS_CONN_READY)
        return 0;
    if (s_write (self, outbox)) {
        zflow__hpfeeds_conn_disconnect (self, "the connection broke while sending");
        return -1;
    }
    bool pending = self->draining ? outbox->frame_left > 0
                                  : zflow__hpfeeds_buf_size (&self->ctl) ||
                                        (!self->settling && zflow__hpfeeds_outbox_size (outbox));
    s_poll (self, (short) ((self->reads_paused ? 0 : ZMQ_POLLIN) | (pending ? ZMQ_POLLOUT : 0)));
    return pending ? 1 : 0;
}

int zflow__hpfeeds_conn_direct_fd (zflow_hpfeeds_conn_t *self)
{
    if (self->state != ZFLOW_HPFEEDS_CONN_READY || self->settling || self->draining || self->tls ||
        zflow__hpfeeds_buf_size (&self->ctl))
        return -1;
    return self->fd;
}

bool zflow__hpfeeds_conn_connected (zflow_hpfeeds_conn_t *self)
{
    return self->state == ZFLOW_HPFEEDS_CONN_READY && !self->settling;
}

ssize_t zflow__hpfeeds_conn_read (zflow_hpfeeds_conn_t *self, zflow_hpfeeds_buf_t *buf)
{
    ssize_t rc, total = 0;
    do {
        if (self->tls) {
            uint8_t *dst = zflow__hpfeeds_buf_reserve (buf, S_TLS_CHUNK);
            rc = dst ? zflow__hpfeeds_tls_read (self->tls, dst, S_TLS_CHUNK) : -1;
            if (rc > 0)
                zflow__hpfeeds_buf_commit (buf, (size_t) rc);
            else if (!dst)
                errno = EAGAIN; //  full: parse first (a frame is never larger)
        } else
            rc = zflow__hpfeeds_buf_read_fd (buf, self->fd, S_READ_CHUNK);
        if (rc > 0)
            total += rc;
    } while (rc > 0 && self->tls && zflow__hpfeeds_tls_pending (self->tls));
    if (rc == 0)
        zflow__hpfeeds_conn_disconnect (self, self->draining ? "the broker shut down (drained)"
                                                             : "the broker closed the connection");
    else if (rc < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        char reason[128];
        snprintf (reason, sizeof (reason), "read: %s", strerror (errno));
        zflow__hpfeeds_conn_disconnect (self, reason);
    } else
        return total;
    return -1;
}

bool zflow__hpfeeds_conn_more (zflow_hpfeeds_conn_t *self)
{
    return self->fd >= 0 && self->tls && !self->reads_paused &&
           zflow__hpfeeds_tls_pending (self->tls);
}

void zflow__hpfeeds_conn_pause_reads (zflow_hpfeeds_conn_t *self, bool pause)
{
    self->reads_paused = pause;
    if (self->fd >= 0)
        s_poll (self, (short) (pause ? self->events & ~ZMQ_POLLIN : self->events | ZMQ_POLLIN));
}

//  Advances the TLS handshake; on success waits for the info frame.
static void s_handshake (zflow_hpfeeds_conn_t *self)
{
    char reason[512];
    short events = 0;
    int rc = zflow__hpfeeds_tls_handshake (self->tls, &events, reason, sizeof (reason));
    if (rc == 0)
        s_poll (self, events);
    else if (rc < 0) {
        self->refused = true; //  a bad certificate will not get better soon
        s_event (self, ZFLOW_HPFEEDS_EVENT_ERROR, "%s", reason);
        zflow__hpfeeds_conn_disconnect (self, reason);
    } else {
        self->state = ZFLOW_HPFEEDS_CONN_WAIT_INFO;
        s_poll (self, ZMQ_POLLIN);
        self->handler.io (self->arg, ZMQ_POLLIN); //  the info frame may be in the session already
    }
}

//  The TCP connect finished (or failed).
static void s_on_connected (zflow_hpfeeds_conn_t *self)
{
    int error = 0;
    socklen_t length = sizeof (error);
    getsockopt (self->fd, SOL_SOCKET, SO_ERROR, &error, &length);
    char reason[512];
    if (error) {
        snprintf (reason, sizeof (reason), "connect: %s", strerror (error));
        zflow__hpfeeds_conn_disconnect (self, reason);
    } else if (self->tls) {
        if (zflow__hpfeeds_tls_start (self->tls, self->fd, self->host, reason, sizeof (reason)))
            zflow__hpfeeds_conn_disconnect (self, reason);
        else {
            self->state = ZFLOW_HPFEEDS_CONN_HANDSHAKE;
            s_handshake (self);
        }
    } else {
        self->state = ZFLOW_HPFEEDS_CONN_WAIT_INFO;
        s_poll (self, ZMQ_POLLIN);
    }
}

static int s_on_socket (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    zflow_hpfeeds_conn_t *self = (zflow_hpfeeds_conn_t *) arg;
    if (self->state == ZFLOW_HPFEEDS_CONN_CONNECTING)
        s_on_connected (self);
    else if (self->state == ZFLOW_HPFEEDS_CONN_HANDSHAKE)
        s_handshake (self);
    else
        self->handler.io (self->arg, item->revents);
    return 0;
}

int zflow__hpfeeds_conn_subscribe (zflow_hpfeeds_conn_t *self, const char *channel, bool subscribe)
{
    if (!channel || !*channel)
        return ZFLOW_EINVAL;
    if (strlen (channel) > ZFLOW_HPFEEDS_MAX_STR)
        return ZFLOW_ETOOBIG;
    void *handle = zlistx_find (self->channels, (void *) channel);
    if (subscribe == (handle != NULL))
        return 0; //  nothing changes
    if (subscribe && zlistx_size (self->channels) >= ZFLOW_HPFEEDS_MAX_CHANNELS)
        return ZFLOW_EFULL;
    if (subscribe)
        zlistx_add_end (self->channels, (void *) channel);
    else
        zlistx_delete (self->channels, handle);
    if (self->state == ZFLOW_HPFEEDS_CONN_READY) {
        uint8_t buf[600];
        int size = zflow__hpfeeds_encode_sub (
            buf, subscribe ? ZFLOW_HPFEEDS_OP_SUBSCRIBE : ZFLOW_HPFEEDS_OP_UNSUBSCRIBE, self->ident,
            channel, strlen (channel));
        zflow__hpfeeds_buf_append (&self->ctl, buf, (size_t) size);
    }
    return 0;
}

void zflow__hpfeeds_conn_refused (zflow_hpfeeds_conn_t *self, const char *text)
{
    self->refused = true;
    const char *chan = strstr (text, ", chan=");
    if (strncmp (text, "Authkey not allowed to sub here", 31) == 0 && chan) {
        void *handle = zlistx_find (self->channels, (void *) (chan + 7));
        if (handle)
            zlistx_delete (self->channels, handle);
    }
}

//  A broker that said it drains but did not close: give up on it.
static int s_on_drain_wait (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    zflow_hpfeeds_conn_t *self = (zflow_hpfeeds_conn_t *) arg;
    self->drain_timer = -1;
    if (self->draining)
        zflow__hpfeeds_conn_disconnect (self, "the broker said it shuts down but did not close");
    return 0;
}

void zflow__hpfeeds_conn_drain (zflow_hpfeeds_conn_t *self, const char *text)
{
    self->draining = true;
    self->broker_shutdowns++;
    self->drain_timer = zloop_timer (self->loop, S_DRAIN_WAIT_MS, 1, s_on_drain_wait, self);
    s_event (self, ZFLOW_HPFEEDS_EVENT_SHUTDOWN, "%s", text);
}
