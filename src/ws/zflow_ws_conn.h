/*  =========================================================================
    zflow_ws_conn - the state of a client connection, shared by
    zflow_ws_client.c (open connection) and zflow_ws_conn_open.c (connecting)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_WS_CONN_H_INCLUDED
#define ZFLOW_WS_CONN_H_INCLUDED

#include "zflow_error.h"
#include "zflow_ws_client.h"
#include "zflow_ws_frame.h"
#include "zflow_ws_proto.h"
#include "zflow_ws_tls.h"
#include <openssl/ssl.h>

//  Connection states, in order.
typedef enum { S_CONNECT, S_TLS, S_SEND_HS, S_RECV_HS, S_OPEN, S_CLOSING, S_DONE } s_state_t;

//  Bytes read from the socket at once (wslay asks for 4096 at a time).
#define ZFLOW_WS_READ_AHEAD (64 * 1024)
//  Bytes read from the socket in one turn of the loop at most: a peer that
//  sends without pause (a ping flood) cannot keep the loop from its other
//  sockets (the actor's pipe, STATS).
#define ZFLOW_WS_READ_TURN (1024 * 1024)
//  Bytes queued for the socket at which reading stops (a peer that sends
//  but does not read cannot make us queue replies without bound), and at
//  which it resumes once they were written.
#define ZFLOW_WS_OUT_HIGH (1024 * 1024)
#define ZFLOW_WS_OUT_LOW (256 * 1024)
//  Size of the handshake response buffer.
#define S_HS_BUF 16384

struct _zflow_ws_conn_t {
    zloop_t *loop;                     //  the caller's loop
    zflow_ws_conn_callbacks_t cb;      //  the caller's callbacks
    zflow_ws_read_end_fn *on_read_end; //  run after each socket read, or NULL
    void *arg;                         //  their argument
    s_state_t state;                   //  where we are
    int fd;                            //  the TCP socket, -1 when closed
    zmq_pollitem_t item;               //  our poller on fd
    short events;                      //  events registered (0: none)
    bool io_wants_write;               //  TLS read needs the socket writable
    int timer;                         //  connect/handshake/close timer, -1 when none
    zflow_ws_url_t url;                //  parsed URL
    char *headers;                     //  extra request headers (owned) or NULL
    char *protocols;                   //  offered subprotocols (owned) or NULL
    bool offer_deflate;                //  offer permessage-deflate
    bool tls_no_verify;                //  skip TLS checks
    char *ca_file;                     //  CA file (owned) or NULL
    size_t max_message;                //  largest message accepted
    int timeout_ms;                    //  handshake and close timeout
    SSL_CTX *ssl_ctx;                  //  TLS context (wss) or NULL
    SSL *ssl;                          //  TLS session (wss) or NULL
    char key[32];                      //  our Sec-WebSocket-Key
    char *request;                     //  handshake request (owned) while sending
    size_t request_sent;               //  bytes of it written
    char *response;                    //  handshake response buffer (S_HS_BUF + 1)
    size_t response_size;              //  bytes in it
    size_t prefetch;                   //  offset of frame bytes read with the response
    zflow_ws_accept_t accept;          //  what the server accepted
    zflow_ws_frame_t *ws;              //  the message layer (over wslay's frames) once open
    z_stream inflater;                 //  permessage-deflate receive state
    z_stream deflater;                 //  permessage-deflate send state
    bool zlib_ready;                   //  both z_streams initialised
    bool send_plain;                   //  deflate negotiated but we send uncompressed
    zflow_ws_buf_t zbuf;               //  inflated message being delivered
    zflow_ws_buf_t dbuf;               //  deflated message being sent (apart from zbuf: a
                                       //  hook may send while the message it reads is in zbuf)
    uint8_t *ahead;                    //  bytes read from the socket ahead of wslay, or NULL
    size_t ahead_pos;                  //  next byte of it to give wslay
    size_t ahead_len;                  //  bytes in it
    bool paused;                       //  reading paused by the owner
    bool out_full;                     //  reading paused: ZFLOW_WS_OUT_HIGH bytes queued
    size_t turn_read;                  //  bytes read from the socket in this turn
    bool turn_over;                    //  ZFLOW_WS_READ_TURN reached: read again next turn
    int resume_timer;                  //  one-shot read after resume, -1 when none
    bool io_failed;                    //  the socket failed or hit EOF
    bool failed;                       //  we failed the connection
    int error;                         //  zflow code of the failure
    char reason[256];                  //  failure or close reason text
};

//  Shared steps (zflow_ws_client.c).
void zflow__ws_conn_set_events (zflow_ws_conn_t *self, short events);
void zflow__ws_conn_start_timer (zflow_ws_conn_t *self);
void zflow__ws_conn_stop_timer (zflow_ws_conn_t *self);
ssize_t zflow__ws_conn_io_read (zflow_ws_conn_t *self, void *buf, size_t size);
ssize_t zflow__ws_conn_io_write (zflow_ws_conn_t *self, const void *buf, size_t size);
void zflow__ws_conn_fail (zflow_ws_conn_t *self, int error, int code, const char *text);
void zflow__ws_conn_finish (zflow_ws_conn_t *self);
int zflow__ws_conn_ws_start (zflow_ws_conn_t *self);
void zflow__ws_conn_readable (zflow_ws_conn_t *self);
void zflow__ws_conn_pump (zflow_ws_conn_t *self);
int zflow__ws_conn_on_fd (zloop_t *loop, zmq_pollitem_t *item, void *arg);

//  Connecting steps (zflow_ws_conn_open.c), run from the poller.
void zflow__ws_conn_connected (zflow_ws_conn_t *self);
void zflow__ws_conn_tls_step (zflow_ws_conn_t *self);
void zflow__ws_conn_handshake_send (zflow_ws_conn_t *self);
void zflow__ws_conn_handshake_recv (zflow_ws_conn_t *self);

#endif
