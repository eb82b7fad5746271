/*  =========================================================================
    zflow_ws_client - one RFC 6455 client connection inside a zloop (internal)

    Connects without blocking (the name lookup excepted: getaddrinfo),
    runs TLS (OpenSSL) for wss://, writes and checks the opening handshake,
    then frames with wslay's frame layer (message layer: zflow_ws_frame.c)
    over our own non-blocking socket, polled by the caller's zloop. It answers pings, runs the close
    handshake, validates UTF-8 in text messages, enforces a maximum message
    size (close 1009) and speaks permessage-deflate when the server accepts
    our offer.

    Callbacks run from the zloop. Never destroy the connection inside one
    of its callbacks: mark it and destroy it from a timer or another handler.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_WS_CLIENT_H_INCLUDED
#define ZFLOW_WS_CLIENT_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _zflow_ws_conn_t zflow_ws_conn_t;

//  Default largest message accepted (after decompression).
#define ZFLOW_WS_DEFAULT_MAX_MESSAGE (16u * 1024 * 1024)
//  Default connect + handshake timeout, and the wait for a close reply.
#define ZFLOW_WS_DEFAULT_TIMEOUT 5000

//  Connection settings. The strings are copied by zflow__ws_conn_new.
typedef struct {
    const char *url;       //  ws://host[:port]/path or wss://...
    const char *headers;   //  extra request headers, "Name: value" lines joined by CRLF
    const char *protocols; //  comma-separated subprotocols to offer, or NULL
    bool deflate;          //  offer permessage-deflate
    bool tls_no_verify;    //  wss: skip certificate and host-name checks (testing only)
    const char *ca_file;   //  wss: PEM file of trusted CAs (NULL: the system store)
    size_t max_message;    //  largest message accepted (0: the default)
    int timeout_ms;        //  connect + handshake timeout (0: the default)
} zflow_ws_conn_config_t;

//  Called once the handshake succeeded.
typedef void (zflow_ws_open_fn) (zflow_ws_conn_t *conn, void *arg);
//  Called for each complete data message (decompressed, UTF-8 checked).
typedef void (zflow_ws_conn_message_fn) (zflow_ws_conn_t *conn, bool binary, const uint8_t *data,
                                         size_t size, void *arg);
//  Called once when the connection is over. error: 0 for a clean close
//  handshake, else a zflow code; code: the close code received (or sent
//  when we failed the connection; 1006 when there was no close frame);
//  reason: a text for people (never NULL).
typedef void (zflow_ws_closed_fn) (zflow_ws_conn_t *conn, int error, int code, const char *reason,
                                   void *arg);
//  Called for each pong frame received.
typedef void (zflow_ws_pong_fn) (zflow_ws_conn_t *conn, void *arg);
//  Called after each batch of messages read from the socket in one go
//  (the messages were delivered by on_message before): a place to flush
//  work gathered per message.
typedef void (zflow_ws_read_end_fn) (zflow_ws_conn_t *conn, void *arg);

typedef struct {
    zflow_ws_open_fn *on_open;            //  may be NULL
    zflow_ws_conn_message_fn *on_message; //  may be NULL
    zflow_ws_closed_fn *on_closed;        //  may be NULL
    zflow_ws_pong_fn *on_pong;            //  may be NULL
} zflow_ws_conn_callbacks_t;

//  Starts connecting to config->url on loop (the loop stays the caller's).
//  Returns the connection (the caller owns it: zflow__ws_conn_destroy), or
//  NULL with *err_p set to ZFLOW_EINVAL (bad URL), ZFLOW_ECONFIG (bad TLS
//  settings), ZFLOW_EENDPOINT (name lookup or socket failed) or
//  ZFLOW_ENOMEM; err text (if not NULL, err_size bytes) says why.
zflow_ws_conn_t *zflow__ws_conn_new (zloop_t *loop, const zflow_ws_conn_config_t *config,
                                     const zflow_ws_conn_callbacks_t *callbacks, void *arg,
                                     int *err_p, char *err, size_t err_size);

//  Sets (or clears, fn NULL) the callback run after each read from the
//  socket, once the messages it held were delivered; arg as for the others.
void zflow__ws_conn_on_read_end (zflow_ws_conn_t *self, zflow_ws_read_end_fn *fn);

//  Closes the socket at once (no close handshake), removes it from the
//  loop, frees everything; sets *self_p to NULL. No callback runs.
void zflow__ws_conn_destroy (zflow_ws_conn_t **self_p);

//  Queues one message (binary or text; text must be UTF-8) and sends what
//  the socket takes now. Returns 0, ZFLOW_ECLOSED (not open), ZFLOW_EPROTO
//  (text not UTF-8), ZFLOW_ENOMEM or ZFLOW_EIO (no random mask key).
int zflow__ws_conn_send (zflow_ws_conn_t *self, bool binary, const void *data, size_t size);

//  Sends a ping frame with up to 125 bytes of data. Returns as send.
int zflow__ws_conn_ping (zflow_ws_conn_t *self, const void *data, size_t size);

//  Starts the close handshake with code and reason (reason may be NULL).
//  on_closed runs when it completes or after the timeout. Returns 0 or
//  ZFLOW_ECLOSED.
int zflow__ws_conn_close (zflow_ws_conn_t *self, int code, const char *reason);

//  Pauses (true) or resumes reading: while paused no message is delivered
//  and the socket is not read, so TCP pushes back on the server. At most
//  the frames already read in one go are still delivered after a pause.
void zflow__ws_conn_pause (zflow_ws_conn_t *self, bool paused);

//  True once the handshake succeeded and until a close starts.
bool zflow__ws_conn_is_open (zflow_ws_conn_t *self);

//  True once on_closed has run.
bool zflow__ws_conn_is_done (zflow_ws_conn_t *self);

//  The negotiated subprotocol ("" if none) and whether permessage-deflate
//  is on. Valid once open.
const char *zflow__ws_conn_protocol (zflow_ws_conn_t *self);
bool zflow__ws_conn_deflate (zflow_ws_conn_t *self);

//  Bytes of frames queued and not yet written to the socket.
size_t zflow__ws_conn_queued (zflow_ws_conn_t *self);

//  Fuzzing and tests only: runs data through the receive path of an open
//  connection (framing, inflate, UTF-8 and close checks) with no
//  socket. Returns 0, or the zflow error the connection failed with.
int zflow__ws_conn_feed (zloop_t *loop, const uint8_t *data, size_t size, bool deflate,
                         size_t max_message);

#endif
