/*  =========================================================================
    zflow_hpfeeds_conn - the hpfeeds client's connection (internal): TCP,
    TLS, the broker's info frame and our auth, subscriptions, reconnects
    with backoff, a broker's drain, and the writes

    The connection owns the socket and its poller on the actor's loop, and
    the control frames (auth, subscribe, unsubscribe). It writes them and
    the outbox's publish frames (zflow__hpfeeds_conn_flush): control frames
    go first but only at an outbox frame boundary, so frames never
    interleave. It calls its owner back for socket events once the broker
    may send frames (the owner reads with zflow__hpfeeds_conn_read into its
    receive codec), when it can write again, when it is about to close,
    and with events for the user.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HPFEEDS_CONN_H_INCLUDED
#define ZFLOW_HPFEEDS_CONN_H_INCLUDED

#include "zflow_hpfeeds.h"
#include "zflow_hpfeeds_buf.h"
#include "zflow_hpfeeds_outbox.h"
#include "zflow_hpfeeds_proto.h"
#include "zflow_hpfeeds_tls.h"

//  Connection states.
typedef enum {
    ZFLOW_HPFEEDS_CONN_IDLE,       //  no socket: waiting for the reconnect timer
    ZFLOW_HPFEEDS_CONN_CONNECTING, //  TCP connect in progress
    ZFLOW_HPFEEDS_CONN_HANDSHAKE,  //  TLS handshake in progress
    ZFLOW_HPFEEDS_CONN_WAIT_INFO,  //  waiting for the broker's info frame
    ZFLOW_HPFEEDS_CONN_READY       //  auth sent: frames flow (publishes after settling)
} zflow_hpfeeds_conn_state_t;

//  What the connection calls back (each with the handler's arg).
typedef struct {
    //  socket events (ZMQ_POLLIN, ZMQ_POLLOUT, ZMQ_POLLERR) in WAIT_INFO or READY
    void (*io) (void *arg, short revents);
    //  the auth wait is over: publishes may flow, write them
    void (*flush) (void *arg);
    //  the connection is about to close: nothing may write to it from now
    void (*down) (void *arg);
    //  an event for the user (ZFLOW_HPFEEDS_EVENT_*, text)
    void (*event) (void *arg, int type, const char *text);
} zflow_hpfeeds_conn_handler_t;

typedef struct {
    zloop_t *loop;                               //  the actor's loop (poller, timers)
    zflow_hpfeeds_conn_handler_t handler;        //  callbacks to the owner
    void *arg;                                   //  their argument
    zflow_hpfeeds_config_t cfg;                  //  settings (strings owned below)
    char *host, *ident, *secret;                 //  copies of the strings
    zflow_hpfeeds_conn_state_t state;            //  connection state
    int fd;                                      //  TCP socket, or -1
    zflow_hpfeeds_tls_t *tls;                    //  TLS context and session, or NULL (TCP)
    zflow_hpfeeds_buf_t *tls_retry;              //  TLS: buffer of a write to retry
                                                 //  unchanged, or NULL
    short events;                                //  poll events registered on fd
    bool reads_paused;                           //  the owner cannot take more: no POLLIN
    zflow_hpfeeds_buf_t ctl;                     //  auth / subscribe frames to send
    zlistx_t *channels;                          //  subscribed channels (owned strings)
    int timer_id;                                //  reconnect timer, or -1
    int backoff_ms;                              //  next reconnect delay before jitter
    bool refused;                                //  the broker sent an error on this connection
    bool settling;                               //  auth sent, publishes held for auth_wait_ms
    int settle_timer;                            //  its timer, or -1
    bool draining;                               //  the broker shuts down: finish the frame,
                                                 //  then stop
    bool shut;                                   //  draining: our sending side is closed
    int drain_timer;                             //  draining: gives up on a broker that never
                                                 //  closes, or -1
    int64_t connected_at;                        //  when publishes began to flow (ms)
    char broker_name[ZFLOW_HPFEEDS_MAX_STR + 1]; //  name from the info frame
    uint64_t connects;                           //  connections that reached READY, settled
    uint64_t disconnects;                        //  established connections lost
    uint64_t broker_shutdowns;                   //  graceful broker shutdowns (drains) seen
} zflow_hpfeeds_conn_t;

//  Creates an idle connection for config (checked by the wrapper; strings
//  copied) on loop, calling handler back with arg. Returns NULL when out of
//  memory or the TLS context cannot be made (logged).
zflow_hpfeeds_conn_t *zflow__hpfeeds_conn_new (const zflow_hpfeeds_config_t *config, zloop_t *loop,
                                               const zflow_hpfeeds_conn_handler_t *handler,
                                               void *arg);

//  Closes the socket (no callbacks) and destroys the connection; sets
//  *self_p to NULL. NULL-safe.
void zflow__hpfeeds_conn_destroy (zflow_hpfeeds_conn_t **self_p);

//  Starts connecting (the first attempt; later ones follow on their own).
void zflow__hpfeeds_conn_start (zflow_hpfeeds_conn_t *self);

//  Closes the connection (handler.down first), says why in a DISCONNECTED
//  event and plans the next attempt.
void zflow__hpfeeds_conn_disconnect (zflow_hpfeeds_conn_t *self, const char *reason);

//  Reads what the socket or TLS session has into buf. Returns the bytes
//  read (>= 0; 0: nothing there or buf full), or -1 when the broker closed
//  or the socket broke (the connection is closed then).
ssize_t zflow__hpfeeds_conn_read (zflow_hpfeeds_conn_t *self, zflow_hpfeeds_buf_t *buf);

//  True when the TLS session holds decrypted bytes poll does not announce
//  (and reads are not paused): read again.
bool zflow__hpfeeds_conn_more (zflow_hpfeeds_conn_t *self);

//  Stops (pause) or restarts reading the socket (POLLIN).
void zflow__hpfeeds_conn_pause_reads (zflow_hpfeeds_conn_t *self, bool pause);

//  Handles the broker's info frame: queues the auth, then every
//  subscription; READY. The caller flushes next.
void zflow__hpfeeds_conn_on_info (zflow_hpfeeds_conn_t *self, const zflow_hpfeeds_frame_t *frame);

//  Writes what is pending if READY, control frames first at an outbox
//  frame boundary, and sets the poll events. Returns 0 when nothing waits
//  to be written (or not READY), 1 when bytes wait for POLLOUT, -1 when
//  the socket broke (the connection is closed then).
int zflow__hpfeeds_conn_flush (zflow_hpfeeds_conn_t *self, zflow_hpfeeds_outbox_t *outbox);

//  Returns the socket the publisher may write to directly (plain TCP,
//  READY and settled, not draining, no control frames waiting), or -1.
int zflow__hpfeeds_conn_direct_fd (zflow_hpfeeds_conn_t *self);

//  True while READY and past the auth wait.
bool zflow__hpfeeds_conn_connected (zflow_hpfeeds_conn_t *self);

//  Adds (subscribe true) or removes channel from the subscriptions and,
//  when READY, queues the (un)subscribe frame (the caller turns direct
//  writes off first and flushes after). Returns 0, ZFLOW_EINVAL,
//  ZFLOW_ETOOBIG or ZFLOW_EFULL.
int zflow__hpfeeds_conn_subscribe (zflow_hpfeeds_conn_t *self, const char *channel, bool subscribe);

//  The broker sent an error frame (text): the next attempt waits the
//  refusal backoff; a refused subscription is forgotten.
void zflow__hpfeeds_conn_refused (zflow_hpfeeds_conn_t *self, const char *text);

//  A draining zflow broker (its notice came while READY on plain TCP, not
//  draining yet): finish the frame on the wire, close our sending side,
//  read what we are owed until it closes (a SHUTDOWN event with text;
//  given up after 3 s). The caller turns direct writes off first and
//  flushes after.
void zflow__hpfeeds_conn_drain (zflow_hpfeeds_conn_t *self, const char *text);

#endif
