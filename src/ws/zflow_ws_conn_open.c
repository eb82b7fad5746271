/*  =========================================================================
    zflow_ws_conn_open - connecting a WebSocket client: TCP, TLS, handshake
    (internal; the open connection lives in zflow_ws_client.c)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_ws_conn.h"
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

//  ---------------------------------------------------------------------
//  Connecting, TLS, handshake

void zflow__ws_conn_handshake_send (zflow_ws_conn_t *self)
{
    size_t total = strlen (self->request);
    while (self->request_sent < total) {
        ssize_t n = zflow__ws_conn_io_write (self, self->request + self->request_sent,
                                             total - self->request_sent);
        if (n == -1) {
            zflow__ws_conn_set_events (self, ZMQ_POLLOUT);
            return;
        }
        if (n < 0) {
            zflow__ws_conn_fail (self, ZFLOW_ETRANSPORT, 1006, self->reason);
            return;
        }
        self->request_sent += (size_t) n;
    }
    self->state = S_RECV_HS;
    zflow__ws_conn_set_events (self, ZMQ_POLLIN);
}

void zflow__ws_conn_handshake_recv (zflow_ws_conn_t *self)
{
    while (true) {
        ssize_t n = zflow__ws_conn_io_read (self, self->response + self->response_size,
                                            S_HS_BUF - self->response_size);
        if (n == -1)
            break;
        if (n <= 0) {
            zflow__ws_conn_fail (self, n == 0 ? ZFLOW_EREFUSED : ZFLOW_ETRANSPORT, 1006,
                                 n == 0 ? "server closed the connection during the handshake"
                                        : self->reason);
            return;
        }
        self->response_size += (size_t) n;
        char err[300];
        int rc =
            zflow__ws_response (self->response, self->response_size, self->key, self->protocols,
                                self->offer_deflate, &self->accept, err, sizeof (err));
        if (rc == ZFLOW_EAGAIN)
            continue;
        if (rc) {
            zflow__ws_conn_fail (self, rc, 1006, err);
            return;
        }
        self->prefetch = self->accept.header_size;
        if (zflow__ws_conn_ws_start (self)) {
            zflow__ws_conn_fail (self, ZFLOW_ENOMEM, 1006, "out of memory");
            return;
        }
        zflow__ws_conn_stop_timer (self);
        self->state = S_OPEN;
        zflow__ws_conn_set_events (self, ZMQ_POLLIN);
        if (self->cb.on_open)
            self->cb.on_open (self, self->arg);
        if (self->prefetch < self->response_size)
            zflow__ws_conn_readable (self); //  frames came with the response
        else
            zflow__ws_conn_pump (self);
        return;
    }
    zflow__ws_conn_set_events (self, self->io_wants_write ? ZMQ_POLLOUT : ZMQ_POLLIN);
}

static void s_begin_handshake (zflow_ws_conn_t *self)
{
    self->state = S_SEND_HS;
    zflow__ws_conn_handshake_send (self);
}

void zflow__ws_conn_tls_step (zflow_ws_conn_t *self)
{
    int rc = SSL_connect (self->ssl);
    if (rc == 1) {
        s_begin_handshake (self);
        return;
    }
    int code = SSL_get_error (self->ssl, rc);
    if (code == SSL_ERROR_WANT_READ)
        zflow__ws_conn_set_events (self, ZMQ_POLLIN);
    else if (code == SSL_ERROR_WANT_WRITE)
        zflow__ws_conn_set_events (self, ZMQ_POLLOUT);
    else {
        char text[256];
        zflow__ws_tls_verify_error (self->ssl, text, sizeof (text));
        zflow__ws_conn_fail (self, ZFLOW_EREFUSED, 1015, text);
    }
}

void zflow__ws_conn_connected (zflow_ws_conn_t *self)
{
    int so_error = 0;
    socklen_t len = sizeof (so_error);
    getsockopt (self->fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
    if (so_error) {
        char text[256];
        snprintf (text, sizeof (text), "connect to %.100s:%s: %s", self->url.host, self->url.port,
                  strerror (so_error));
        zflow__ws_conn_fail (self, so_error == ECONNREFUSED ? ZFLOW_EREFUSED : ZFLOW_ETRANSPORT,
                             1006, text);
        return;
    }
    if (!self->url.tls) {
        s_begin_handshake (self);
        return;
    }
    self->ssl =
        zflow__ws_tls_session (self->ssl_ctx, self->fd, self->url.host, !self->tls_no_verify);
    if (!self->ssl) {
        zflow__ws_conn_fail (self, ZFLOW_ENOMEM, 1006, "cannot create the TLS session");
        return;
    }
    self->state = S_TLS;
    zflow__ws_conn_tls_step (self);
}

//  ---------------------------------------------------------------------
//  Public (internal) API

//  Opens the TCP socket and starts a non-blocking connect.
static int s_start_connect (zflow_ws_conn_t *self, char *err, size_t err_size)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *addrs = NULL;
    int rc = getaddrinfo (self->url.host, self->url.port, &hints, &addrs);
    if (rc != 0) {
        snprintf (err, err_size, "cannot resolve %s: %s", self->url.host, gai_strerror (rc));
        return ZFLOW_EENDPOINT;
    }
    self->fd = socket (addrs->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (self->fd < 0) {
        freeaddrinfo (addrs);
        snprintf (err, err_size, "socket: %s", strerror (errno));
        return ZFLOW_EENDPOINT;
    }
    int one = 1;
    setsockopt (self->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
    rc = connect (self->fd, addrs->ai_addr, addrs->ai_addrlen);
    freeaddrinfo (addrs);
    if (rc != 0 && errno != EINPROGRESS) {
        snprintf (err, err_size, "connect to %s:%s: %s", self->url.host, self->url.port,
                  strerror (errno));
        return errno == ECONNREFUSED ? ZFLOW_EREFUSED : ZFLOW_EENDPOINT;
    }
    self->state = S_CONNECT;
    zflow__ws_conn_set_events (self, ZMQ_POLLOUT);
    zflow__ws_conn_start_timer (self);
    return 0;
}

//  Copies config into self. Returns 0 or a zflow error with err set.
static int s_configure (zflow_ws_conn_t *self, const zflow_ws_conn_config_t *config, char *err,
                        size_t err_size)
{
    if (zflow__ws_url_parse (config->url, &self->url)) {
        snprintf (err, err_size, "bad WebSocket URL (want ws:// or wss://)");
        return ZFLOW_EINVAL;
    }
    self->headers = config->headers ? strdup (config->headers) : NULL;
    self->protocols = config->protocols ? strdup (config->protocols) : NULL;
    self->ca_file = config->ca_file ? strdup (config->ca_file) : NULL;
    self->response = malloc (S_HS_BUF + 1);
    if ((config->headers && !self->headers) || (config->protocols && !self->protocols) ||
        (config->ca_file && !self->ca_file) || !self->response)
        return ZFLOW_ENOMEM;
    self->offer_deflate = config->deflate;
    self->tls_no_verify = config->tls_no_verify;
    self->max_message = config->max_message ? config->max_message : ZFLOW_WS_DEFAULT_MAX_MESSAGE;
    self->timeout_ms = config->timeout_ms > 0 ? config->timeout_ms : ZFLOW_WS_DEFAULT_TIMEOUT;
    if (self->url.tls) {
        self->ssl_ctx = zflow__ws_tls_context (!self->tls_no_verify, self->ca_file, err, err_size);
        if (!self->ssl_ctx)
            return ZFLOW_ECONFIG;
    }
    if (zflow__ws_make_key (self->key))
        return ZFLOW_EIO;
    self->request = zflow__ws_request (&self->url, self->key, self->headers, self->protocols,
                                       self->offer_deflate);
    return self->request ? 0 : ZFLOW_ENOMEM;
}

zflow_ws_conn_t *zflow__ws_conn_new (zloop_t *loop, const zflow_ws_conn_config_t *config,
                                     const zflow_ws_conn_callbacks_t *callbacks, void *arg,
                                     int *err_p, char *err, size_t err_size)
{
    char scratch[16];
    if (!err) {
        err = scratch;
        err_size = sizeof (scratch);
    }
    err[0] = 0;
    int rc = ZFLOW_EINVAL;
    zflow_ws_conn_t *self = NULL;
    if (loop && config && config->url)
        self = (zflow_ws_conn_t *) calloc (1, sizeof (zflow_ws_conn_t));
    if (self) {
        self->loop = loop;
        self->fd = -1;
        self->timer = -1;
        self->resume_timer = -1;
        self->arg = arg;
        if (callbacks)
            self->cb = *callbacks;
        rc = s_configure (self, config, err, err_size);
        if (rc == 0)
            rc = s_start_connect (self, err, err_size);
    } else if (loop && config && config->url)
        rc = ZFLOW_ENOMEM;
    if (rc && self)
        zflow__ws_conn_destroy (&self);
    if (err_p)
        *err_p = rc;
    return self;
}
