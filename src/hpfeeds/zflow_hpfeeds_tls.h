/*  =========================================================================
    zflow_hpfeeds_tls - TLS for the hpfeeds client over a non-blocking
    socket, with OpenSSL (internal)

    Certificate verification is on unless the caller turns it off: the
    chain against the CA file (or the system's store) and the broker's name
    or IP address against the certificate.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HPFEEDS_TLS_H_INCLUDED
#define ZFLOW_HPFEEDS_TLS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct _zflow_hpfeeds_tls_t zflow_hpfeeds_tls_t;

//  Creates a client context. ca_file: PEM CA certificates to trust (NULL:
//  the system's store). Returns NULL with a text in errbuf on failure.
zflow_hpfeeds_tls_t *zflow__hpfeeds_tls_new (const char *ca_file, bool verify, char *errbuf,
                                             size_t errlen);

//  Destroys the context and any session; sets *self_p to NULL.
void zflow__hpfeeds_tls_destroy (zflow_hpfeeds_tls_t **self_p);

//  Starts a session on the connected socket fd for host (SNI and name
//  check). Returns 0 or -1 (errbuf says why).
int zflow__hpfeeds_tls_start (zflow_hpfeeds_tls_t *self, int fd, const char *host, char *errbuf,
                              size_t errlen);

//  Ends the session (the socket stays open).
void zflow__hpfeeds_tls_stop (zflow_hpfeeds_tls_t *self);

//  Advances the handshake. Returns 1 when done, 0 when it must wait for
//  the socket (*events_p gets the poll events to wait for), -1 on failure
//  (errbuf says why, with the verification result).
int zflow__hpfeeds_tls_handshake (zflow_hpfeeds_tls_t *self, short *events_p, char *errbuf,
                                  size_t errlen);

//  Reads up to size bytes. Returns > 0, 0 at the end of the stream, or -1
//  with errno EAGAIN (nothing now) or EIO.
ssize_t zflow__hpfeeds_tls_read (zflow_hpfeeds_tls_t *self, void *data, size_t size);

//  Writes up to size bytes. Returns > 0, or -1 with errno EAGAIN or EIO.
ssize_t zflow__hpfeeds_tls_write (zflow_hpfeeds_tls_t *self, const void *data, size_t size);

//  True when decrypted bytes wait inside the session (poll will not say).
bool zflow__hpfeeds_tls_pending (zflow_hpfeeds_tls_t *self);

#endif
