/*  =========================================================================
    zflow_hpfeeds_tls - TLS for the hpfeeds client with OpenSSL (internal)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_hpfeeds_tls.h"
#include "zflow_openssl.h"
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

struct _zflow_hpfeeds_tls_t {
    SSL_CTX *ctx; //  the client context
    SSL *ssl;     //  the session, or NULL
    bool verify;  //  check the certificate and the name
};

static void s_error (char *errbuf, size_t errlen, const char *what)
{
    unsigned long code = ERR_get_error ();
    char text[256] = "";
    if (code)
        ERR_error_string_n (code, text, sizeof (text));
    snprintf (errbuf, errlen, "TLS: %s%s%s", what, code ? ": " : "", text);
    ERR_clear_error ();
}

zflow_hpfeeds_tls_t *zflow__hpfeeds_tls_new (const char *ca_file, bool verify, char *errbuf,
                                             size_t errlen)
{
    zflow_hpfeeds_tls_t *self = (zflow_hpfeeds_tls_t *) calloc (1, sizeof (*self));
    if (!self)
        return NULL;
    self->verify = verify;
    zflow__openssl_init ();
    self->ctx = SSL_CTX_new (TLS_client_method ());
    bool ok = self->ctx && SSL_CTX_set_min_proto_version (self->ctx, TLS1_2_VERSION);
    if (ok && verify)
        ok = ca_file ? SSL_CTX_load_verify_locations (self->ctx, ca_file, NULL)
                     : SSL_CTX_set_default_verify_paths (self->ctx);
    if (!ok) {
        s_error (errbuf, errlen, ca_file ? "cannot load the CA file" : "cannot set up a context");
        zflow__hpfeeds_tls_destroy (&self);
        return NULL;
    }
    SSL_CTX_set_verify (self->ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    //  The outbox may move between two tries of the same write.
    SSL_CTX_set_mode (self->ctx,
                      SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return self;
}

void zflow__hpfeeds_tls_destroy (zflow_hpfeeds_tls_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow__hpfeeds_tls_stop (*self_p);
    SSL_CTX_free ((*self_p)->ctx);
    free (*self_p);
    *self_p = NULL;
}

int zflow__hpfeeds_tls_start (zflow_hpfeeds_tls_t *self, int fd, const char *host, char *errbuf,
                              size_t errlen)
{
    zflow__hpfeeds_tls_stop (self);
    self->ssl = SSL_new (self->ctx);
    if (!self->ssl || !SSL_set_fd (self->ssl, fd)) {
        s_error (errbuf, errlen, "cannot start a session");
        return -1;
    }
    unsigned char address[16];
    bool literal =
        inet_pton (AF_INET, host, address) == 1 || inet_pton (AF_INET6, host, address) == 1;
    if (!literal)
        SSL_set_tlsext_host_name (self->ssl, host); //  SNI takes names only
    if (self->verify) {
        X509_VERIFY_PARAM *param = SSL_get0_param (self->ssl);
        int ok = literal ? X509_VERIFY_PARAM_set1_ip_asc (param, host)
                         : X509_VERIFY_PARAM_set1_host (param, host, 0);
        if (!ok) {
            s_error (errbuf, errlen, "cannot set the name to verify");
            return -1;
        }
    }
    SSL_set_connect_state (self->ssl);
    return 0;
}

void zflow__hpfeeds_tls_stop (zflow_hpfeeds_tls_t *self)
{
    if (self && self->ssl) {
        SSL_free (self->ssl);
        self->ssl = NULL;
    }
}

int zflow__hpfeeds_tls_handshake (zflow_hpfeeds_tls_t *self, short *events_p, char *errbuf,
                                  size_t errlen)
{
    ERR_clear_error ();
    int rc = SSL_do_handshake (self->ssl);
    if (rc == 1)
        return 1;
    int error = SSL_get_error (self->ssl, rc);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
        *events_p = error == SSL_ERROR_WANT_READ ? ZMQ_POLLIN : ZMQ_POLLOUT;
        return 0;
    }
    long result = SSL_get_verify_result (self->ssl);
    if (result != X509_V_OK) {
        snprintf (errbuf, errlen, "TLS: certificate verify failed: %s",
                  X509_verify_cert_error_string (result));
        ERR_clear_error ();
    } else
        s_error (errbuf, errlen, "handshake failed");
    return -1;
}

//  Maps a failed SSL_read / SSL_write to errno.
static ssize_t s_fail (zflow_hpfeeds_tls_t *self, int rc)
{
    int error = SSL_get_error (self->ssl, rc);
    if (error == SSL_ERROR_ZERO_RETURN)
        return 0;
    errno = error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE ? EAGAIN : EIO;
    ERR_clear_error ();
    return -1;
}

ssize_t zflow__hpfeeds_tls_read (zflow_hpfeeds_tls_t *self, void *data, size_t size)
{
    int want = size > 1024 * 1024 ? 1024 * 1024 : (int) size;
    int rc = SSL_read (self->ssl, data, want);
    return rc > 0 ? rc : s_fail (self, rc);
}

ssize_t zflow__hpfeeds_tls_write (zflow_hpfeeds_tls_t *self, const void *data, size_t size)
{
    int want = size > 1024 * 1024 ? 1024 * 1024 : (int) size;
    int rc = SSL_write (self->ssl, data, want);
    if (rc > 0)
        return rc;
    ssize_t result = s_fail (self, rc);
    if (result == 0)
        errno = EIO; //  no "end of stream" for a write
    return -1;
}

bool zflow__hpfeeds_tls_pending (zflow_hpfeeds_tls_t *self)
{
    return self->ssl && SSL_pending (self->ssl) > 0;
}
