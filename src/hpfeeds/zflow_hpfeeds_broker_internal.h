/*  =========================================================================
    zflow_hpfeeds_broker_internal - the hpfeeds broker actor's state, shared
    by its files (internal)

    zflow_hpfeeds_broker.c      connections: accept, read, parse, forward,
                                write, reap; the actor function
    zflow_hpfeeds_broker_cmd.c  commands on the pipe, STATS, DRAIN

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HPFEEDS_BROKER_INTERNAL_H_INCLUDED
#define ZFLOW_HPFEEDS_BROKER_INTERNAL_H_INCLUDED

#include "zflow_actor.h"
#include "zflow_hpfeeds_auth.h"
#include "zflow_hpfeeds_broker.h"
#include "zflow_hpfeeds_buf.h"
#include "zflow_hpfeeds_proto.h"

#define S_READ_CHUNK (256 * 1024) //  bytes asked of the kernel per read
#define S_LINGER_MS 1000          //  longest wait for a refused peer to close
#define S_ERRLEN 600              //  room for an error text
#define S_TICK_MS 50              //  period of the reaper, which also checks the deadlines

typedef struct _broker_t broker_t;

//  A channel someone published to or subscribed to.
typedef struct {
    char *name;            //  channel name
    size_t name_size;      //  its length
    zlistx_t *subscribers; //  conn_t * subscribed now (not owned)
    uint64_t msgs;         //  publishes received
    uint64_t bytes;        //  payload bytes received
    uint64_t drops;        //  deliveries dropped for slow subscribers
    uint64_t unrouted;     //  publishes that found no subscriber
} channel_t;

//  One client connection.
typedef struct {
    broker_t *broker;                      //  the broker
    int fd;                                //  the TCP socket (non-blocking)
    uint64_t id;                           //  connection number
    short events;                          //  poll events registered now
    bool authed;                           //  auth accepted
    bool closing;                          //  refused: flushing the error, then close
    bool dead;                             //  closed: waits for the reaper
    bool dirty;                            //  on the broker's list of pending writes
    bool shut;                             //  shutdown (SHUT_WR) done
    bool congested;                        //  BLOCK: output near its limit
    bool stalled;                          //  BLOCK: input paused until no one is congested
    bool eof;                              //  draining: the peer has finished sending
    int64_t closing_since;                 //  when closing began (ms)
    int64_t accepted_at;                   //  when accepted (ms, monotonic)
    int64_t last_active;                   //  last frame from it or bytes to it (ms, coarse)
    int64_t slow_since;                    //  DISCONNECT: output above the high mark since
                                           //  (ms, coarse), or 0
    uint8_t nonce[ZFLOW_HPFEEDS_NONCE];    //  the nonce sent in info
    char ident[ZFLOW_HPFEEDS_MAX_STR + 1]; //  authenticated ident
    size_t ident_size;                     //  its length
    zflow_hpfeeds_user_t *user;            //  its user entry (owned by the table)
    zflow_hpfeeds_buf_t in;                //  bytes read, not yet parsed
    zflow_hpfeeds_buf_t out;               //  bytes to send (bounded), whole frames
    size_t out_left;     //  unsent bytes of out's head frame (0: at a frame start)
    zlistx_t *subs;      //  channel_t * subscribed (not owned)
    channel_t *last_pub; //  cache: last channel published to (allowed)
    uint8_t pub_prefix[ZFLOW_HPFEEDS_MAX_PREFIX]; //  its publish frames' ident and channel
    size_t pub_prefix_size;                       //  bytes in pub_prefix
    uint64_t msgs_in;                             //  publishes received
    uint64_t msgs_out;                            //  publishes delivered to it
    uint64_t drops;                               //  deliveries dropped (slow)
} conn_t;

struct _broker_t {
    zflow_actor_t *base;                //  actor base (pipe, loop, counters)
    zloop_t *loop;                      //  the loop (owned by base)
    char *name;                         //  name in the info frame
    zflow_hpfeeds_auth_t *auth;         //  users
    int listen_fd;                      //  listening socket, or -1
    int port;                           //  its port
    zlistx_t *conns;                    //  conn_t * (owned)
    zlistx_t *dirty;                    //  conn_t * with output to flush (not owned)
    zlistx_t *stalled;                  //  conn_t * whose input waits (BLOCK; not owned)
    int congested;                      //  connections with congested set
    bool resume;                        //  congestion ended: resume the stalled
    uint64_t stalls;                    //  times a publisher was stalled
    zhash_t *channels;                  //  name -> channel_t (owned)
    zflow_hpfeeds_slow_policy_t policy; //  slow subscriber policy
    size_t outbuf_limit;                //  output buffer per connection
    size_t out_high;                    //  output above this: congested (BLOCK) or slow
                                        //  (DISCONNECT with a grace); SIZE_MAX: never
    size_t out_low;                     //  DISCONNECT: a slow subscriber at or below this
                                        //  has recovered
    int slow_grace_ms;                  //  DISCONNECT: grace above out_high (< 0: none)
    int auth_timeout_ms;                //  time to authenticate
    int idle_timeout_ms;                //  idle timeout (< 0: never)
    size_t max_connections;             //  most live connections
    size_t live;                        //  connections not dead now
    int64_t now;                        //  coarse monotonic clock (ms), set by the reaper
    uint64_t slow_lost;                 //  copies lost with slow disconnects
    uint64_t auth_timeouts;             //  connections closed for not authenticating in time
    uint64_t idle_timeouts;             //  connections closed for idleness
    uint64_t refused_connections;       //  connections closed at once (max_connections)
    uint64_t next_id;                   //  next connection number
    uint64_t connections_total;         //  connections accepted
    uint64_t auth_failures;             //  refused auths
    uint64_t refusals;                  //  refused publish / subscribe / first message
    uint64_t slow_drops;                //  deliveries dropped (policy drop)
    uint64_t slow_disconnects;          //  connections closed (policy disconnect)
    uint64_t protocol_errors;           //  malformed or oversized frames
    uint64_t accept_pauses;             //  times accepting paused (out of file descriptors)
    uint64_t unrouted;                  //  publishes that found no subscriber
    bool draining;                      //  DRAIN: stopping gracefully
    int64_t drain_deadline;             //  when DRAIN gives up waiting (ms, monotonic)
    int drain_timer;                    //  DRAIN's check timer, or -1
    uint64_t drains;                    //  DRAINs completed
    uint64_t drain_lost;                //  publish frames DRAIN had to drop at its deadline
};

//  Writes the connection's pending output; adjusts its poller; closes a
//  refused peer once its error is out.
void zflow__hpfeeds_broker_conn_flush (conn_t *conn);

//  Marks the connection dead (its poller ends now; the reaper frees it).
void zflow__hpfeeds_broker_conn_kill (conn_t *conn);

//  Counts the publish frames of buf from offset at (a frame start); a
//  frame cut short at the end counts as one.
uint64_t zflow__hpfeeds_broker_publishes (const zflow_hpfeeds_buf_t *buf, size_t at);

//  Sends an error frame with text, then closes the connection.
void zflow__hpfeeds_broker_conn_refuse (conn_t *conn, const char *text);

//  Queues an error frame with text (past the output limit: it is small)
//  and leaves the connection open.
void zflow__hpfeeds_broker_conn_notice (conn_t *conn, const char *text);

//  Flushes every connection with output queued in this round.
void zflow__hpfeeds_broker_flush_dirty (broker_t *self);

//  Listens on host:port (numeric service). Returns the port, or
//  ZFLOW_EENDPOINT, or ZFLOW_EINVAL when already listening.
int zflow__hpfeeds_broker_listen (broker_t *self, const char *host, const char *port);

//  Stops listening (no-op when not listening).
void zflow__hpfeeds_broker_unlisten (broker_t *self);

//  Handles a command from the pipe (zflow_actor command handler).
int zflow__hpfeeds_broker_on_command (zflow_actor_t *base, const char *command, zmsg_t *request,
                                      void *arg);

//  Adds the broker's counters to a STATS reply (zflow_actor stats handler).
void zflow__hpfeeds_broker_on_stats (zflow_actor_t *base, zmsg_t *reply, void *arg);

#endif
