/*  =========================================================================
    zflow_ws_tls - OpenSSL client set-up for wss:// (internal)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_ws_tls.h"
#include "zflow_openssl.h"
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

SSL_CTX *zflow__ws_tls_context (bool verify, const char *ca_file, char *err, size_t err_size)
{
    zflow__openssl_init ();
    SSL_CTX *ctx = SSL_CTX_new (TLS_client_method ());
    if (!ctx) {
        zflow__ws_tls_error (err, err_size, "SSL_CTX_new");
        return NULL;
    }
    SSL_CTX_set_min_proto_version (ctx, TLS1_2_VERSION);
    //  wslay may retry a write from a different buffer address.
    SSL_CTX_set_mode (ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (verify) {
        SSL_CTX_set_verify (ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_default_verify_paths (ctx);
        if (ca_file && SSL_CTX_load_verify_locations (ctx, ca_file, NULL) != 1) {
            zflow__ws_tls_error (err, err_size, "cannot load the CA file");
            SSL_CTX_free (ctx);
            return NULL;
        }
    } else
        SSL_CTX_set_verify (ctx, SSL_VERIFY_NONE, NULL);
    return ctx;
}

SSL *zflow__ws_tls_session (SSL_CTX *ctx, int fd, const char *host, bool verify)
{
    SSL *ssl = SSL_new (ctx);
    if (!ssl)
        return NULL;
    unsigned char addr[16];
    bool is_ip = inet_pton (AF_INET, host, addr) == 1 || inet_pton (AF_INET6, host, addr) == 1;
    if (!is_ip)
        SSL_set_tlsext_host_name (ssl, host); //  SNI is for names only (RFC 6066)
    if (verify) {
        X509_VERIFY_PARAM *param = SSL_get0_param (ssl);
        int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc (param, host)
                       : X509_VERIFY_PARAM_set1_host (param, host, 0);
        if (ok != 1) {
            SSL_free (ssl);
            return NULL;
        }
    }
    if (SSL_set_fd (ssl, fd) != 1) {
        SSL_free (ssl);
        return NULL;
    }
    SSL_set_connect_state (ssl);
    return ssl;
}

void zflow__ws_tls_error (char *buf, size_t size, const char *what)
{
    unsigned long code = ERR_get_error ();
    char text[200] = "unknown error";
    if (code)
        ERR_error_string_n (code, text, sizeof (text));
    snprintf (buf, size, "%s: %s", what, text);
    ERR_clear_error ();
}

void zflow__ws_tls_verify_error (SSL *ssl, char *buf, size_t size)
{
    long result = SSL_get_verify_result (ssl);
    if (result != X509_V_OK) {
        snprintf (buf, size, "TLS certificate rejected: %s",
                  X509_verify_cert_error_string (result));
        ERR_clear_error ();
    } else
        zflow__ws_tls_error (buf, size, "TLS handshake failed");
}
