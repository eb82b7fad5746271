/*  =========================================================================
    zflow_ws_tls - OpenSSL client set-up for wss:// (internal)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_WS_TLS_H_INCLUDED
#define ZFLOW_WS_TLS_H_INCLUDED

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

//  Creates a client context: TLS 1.2 or newer; when verify, peer
//  certificates are checked against the system store plus ca_file (may be
//  NULL). Returns the context (caller frees with SSL_CTX_free) or NULL with
//  a reason in err.
SSL_CTX *zflow__ws_tls_context (bool verify, const char *ca_file, char *err, size_t err_size);

//  Creates a session on fd for host: SNI (for names, not addresses) and,
//  when verify, the host-name (or IP address) check. Returns the session
//  (caller frees with SSL_free) or NULL.
SSL *zflow__ws_tls_session (SSL_CTX *ctx, int fd, const char *host, bool verify);

//  Writes "what: <first OpenSSL error>" into buf and clears the queue.
void zflow__ws_tls_error (char *buf, size_t size, const char *what);

//  Writes why a TLS handshake failed (verification result or OpenSSL error).
void zflow__ws_tls_verify_error (SSL *ssl, char *buf, size_t size);

#endif
