/*  =========================================================================
    zflow_hpfeeds_broker - an embedded hpfeeds broker actor

    A broker that unchanged hpfeeds clients (hpfeeds3, the zflow client) can
    use: it sends an info frame with its name and a random 4-byte nonce,
    checks SHA-1 (nonce + secret) for the ident, and enforces each ident's
    publish and subscribe channel lists. It refuses as the reference broker
    does, with an error frame carrying a text, then closes the connection:

        first message not auth          "First message was not AUTH"
        unknown ident or wrong secret   "Authentication failed for <ident>"
        publish as another ident        "Invalid authkey in message, ident=<ident>"
        publish outside pubchans        "Authkey not allowed to pub here. ident=.., chan=.."
        subscribe outside subchans      "Authkey not allowed to sub here. ident=.., chan=.."
        malformed or oversized frame    the parser's text

    Users come from a JSON file in the reference broker's format, a ZPL file
    or the API, in any mix. All sockets are non-blocking in the actor's loop.

    Hostile or broken peers cost little and are closed in bounded time:
    before auth a connection may only send an auth frame (at most 281
    bytes: its receive buffer starts at that size), so an unauthenticated
    connection holds a few KiB; it must authenticate within auth_timeout_ms
    (closed with "Authentication timeout"); a connection that sends no frame
    and is sent nothing for idle_timeout_ms is closed ("Idle timeout"; hpfeeds
    has no heartbeat, so the default is an hour, and TCP keepalive closes
    half-open connections sooner); connections past max_connections are
    accepted and closed at once, before the info frame.

    Slow subscribers. Each connection has an output buffer of outbuf_limit
    bytes. slow_policy says what happens to a subscriber that falls behind:
    DISCONNECT (the default) does what the reference broker does: it
    buffers generously, and a subscriber whose output stays above half of
    outbuf_limit for slow_grace_ms is disconnected (one that fills the
    buffer is disconnected at once); DROP drops what does not fit; BLOCK
    stops reading the publishers. What a disconnected subscriber was owed
    is counted as lost.

    STATS (zflow_hpfeeds_broker_stats) adds to the standard counters
    (msgs_out counts copies queued for subscribers, less those lost with a
    slow disconnect; drops counts every copy a slow subscriber did not get:
    slow_drops + slow_lost):
    connections, connections_total, auth_failures, refusals, slow_drops,
    slow_disconnects, slow_lost (copies lost with those disconnects: queued
    and unsent, or not fitting), auth_timeouts, idle_timeouts,
    refused_connections (over max_connections), protocol_errors,
    accept_pauses, stalls (times a publisher waited for a slow subscriber,
    BLOCK), congested (subscribers near their limit now), unrouted
    (publishes to a channel nobody was subscribed to: pub/sub forwards them
    to no one, counted so that losses can be accounted for; nothing in the
    hpfeeds protocol can tell the publisher), drains, drain_lost (see
    zflow_hpfeeds_broker_drain), and per channel
    "chan.<name>.msgs", "chan.<name>.bytes", "chan.<name>.drops" (copies
    dropped or not fitting when delivered), "chan.<name>.unrouted",
    "chan.<name>.subscribers", and per connection "conn.<id>.<ident>.msgs_in",
    ".msgs_out", ".drops", ".out_pending".

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HPFEEDS_BROKER_H_INCLUDED
#define ZFLOW_HPFEEDS_BROKER_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zflow_hpfeeds_broker_t zflow_hpfeeds_broker_t;

//  What to do with a subscriber whose output buffer is full.
typedef enum {
    ZFLOW_HPFEEDS_SLOW_DISCONNECT = 0, //  close its connection after slow_grace_ms above half
                                       //  its buffer, or at once when full (counted; the default)
    ZFLOW_HPFEEDS_SLOW_DROP = 1,       //  drop the message for it (counted)
    ZFLOW_HPFEEDS_SLOW_BLOCK = 2       //  lossless: stop reading publishers until it catches
                                       //  up (one stuck subscriber stalls every publisher)
} zflow_hpfeeds_slow_policy_t;

//  Default output buffer per connection, in bytes: generous, as the
//  reference broker's (it starts its 60 s deadline at 50 x 1 MiB queued;
//  half of this is where ours starts).
#define ZFLOW_HPFEEDS_BROKER_DEFAULT_OUTBUF (100 * 1024 * 1024)
//  Default grace of a slow subscriber (DISCONNECT), in ms: the reference's.
#define ZFLOW_HPFEEDS_BROKER_DEFAULT_SLOW_GRACE 60000
//  Default time to authenticate after connecting, in ms.
#define ZFLOW_HPFEEDS_BROKER_DEFAULT_AUTH_TIMEOUT 10000
//  Default idle timeout, in ms (an hour: hpfeeds has no heartbeat).
#define ZFLOW_HPFEEDS_BROKER_DEFAULT_IDLE_TIMEOUT 3600000
//  Default most connections at once.
#define ZFLOW_HPFEEDS_BROKER_DEFAULT_MAX_CONNECTIONS 10000

//  Broker settings. Fill with zflow_hpfeeds_broker_config_init, then set
//  fields. A zeroed struct means the defaults too (NULL name, DISCONNECT,
//  0 for every number), so {.name = "x"} is a complete config.
typedef struct {
    const char *name;                        //  name sent in the info frame (default and
                                             //  NULL: "zflow"; else 1..255 bytes)
    zflow_hpfeeds_slow_policy_t slow_policy; //  slow subscribers (default DISCONNECT)
    size_t outbuf_limit;                     //  output buffer per connection in bytes
                                             //  (default and 0:
                                             //  ZFLOW_HPFEEDS_BROKER_DEFAULT_OUTBUF;
                                             //  at least 64 KiB is used, at least 4 MiB
                                             //  with ZFLOW_HPFEEDS_SLOW_BLOCK)
    int slow_grace_ms;   //  DISCONNECT: longest time a subscriber's output may stay above
                         //  half of outbuf_limit (default and 0:
                         //  ZFLOW_HPFEEDS_BROKER_DEFAULT_SLOW_GRACE; negative: no grace,
                         //  disconnected only when the buffer is full)
    int auth_timeout_ms; //  time to authenticate after connecting (default and 0:
                         //  ZFLOW_HPFEEDS_BROKER_DEFAULT_AUTH_TIMEOUT; checked every 100 ms)
    int idle_timeout_ms; //  a connection that sends no frame and is sent nothing for this
                         //  long is closed (default and 0:
                         //  ZFLOW_HPFEEDS_BROKER_DEFAULT_IDLE_TIMEOUT; negative: never)
    int max_connections; //  most connections at once; more are closed at once (default and
                         //  0: ZFLOW_HPFEEDS_BROKER_DEFAULT_MAX_CONNECTIONS)
} zflow_hpfeeds_broker_config_t;

//  Fills config (the caller's) with the defaults.
void zflow_hpfeeds_broker_config_init (zflow_hpfeeds_broker_config_t *config);

//  Starts a broker actor with config (NULL: all defaults). Everything it
//  needs is copied: the caller keeps config and may free or reuse it at
//  once. It listens nowhere until zflow_hpfeeds_broker_bind and has no
//  users until zflow_hpfeeds_broker_add_user or a load. Returns the broker
//  (the caller owns it and destroys it with zflow_hpfeeds_broker_destroy),
//  or NULL with *err_p set (err_p may be NULL): ZFLOW_EINVAL (empty or
//  over-long name, unknown slow_policy, negative auth_timeout_ms or
//  max_connections) or ZFLOW_ENOMEM.
zflow_hpfeeds_broker_t *zflow_hpfeeds_broker_new (const zflow_hpfeeds_broker_config_t *config,
                                                  int *err_p);

//  Stops the broker at once, as a crash would: closes every connection
//  (what clients wrote and the broker had not read yet, and what it owed
//  its subscribers, is lost), frees it with its actor and sets *self_p to
//  NULL. Idempotent and NULL-safe (self_p NULL or *self_p NULL do nothing).
//  Clients connected to it are independent objects: they see the
//  connection close and keep reconnecting. Call zflow_hpfeeds_broker_drain
//  first for a graceful stop.
void zflow_hpfeeds_broker_destroy (zflow_hpfeeds_broker_t **self_p);

//  Adds (or replaces) a user: ident, secret, and NULL-terminated arrays of
//  the channels it may publish to and subscribe to (either may be NULL for
//  none). Everything is copied; the caller keeps the strings and arrays.
//  Connected clients of that ident get the new rights at once. Returns 0,
//  ZFLOW_EINVAL (NULL self, NULL, empty or over-long strings) or
//  ZFLOW_ECLOSED (the actor is gone).
int zflow_hpfeeds_broker_add_user (zflow_hpfeeds_broker_t *self, const char *ident,
                                   const char *secret, const char **pubchans,
                                   const char **subchans);

//  Loads users from a JSON file at path in the reference broker's format
//  ({ident: {owner, secret, pubchans: [...], subchans: [...]}}). All or
//  nothing. Returns the number of users loaded, ZFLOW_EINVAL (NULL self or
//  path), ZFLOW_ECLOSED, or ZFLOW_ECONFIG with the reason written into the
//  caller's errbuf (errlen bytes, NUL-terminated; errbuf may be NULL).
int zflow_hpfeeds_broker_load_json (zflow_hpfeeds_broker_t *self, const char *path, char *errbuf,
                                    size_t errlen);

//  Loads users from a ZPL file: "user" blocks with ident, secret, optional
//  owner, and repeated pubchan / subchan values. Returns as load_json.
int zflow_hpfeeds_broker_load_zpl (zflow_hpfeeds_broker_t *self, const char *path, char *errbuf,
                                   size_t errlen);

//  Listens on TCP address host ("127.0.0.1", "0.0.0.0", "::1"; NULL means
//  127.0.0.1; the caller keeps it) and port (0 picks a free port). Returns
//  the real port (> 0), or ZFLOW_EENDPOINT (bad address, port in use),
//  ZFLOW_EINVAL (NULL self, port out of range, the broker already listens)
//  or ZFLOW_ECLOSED.
int zflow_hpfeeds_broker_bind (zflow_hpfeeds_broker_t *self, const char *host, int port);

//  Stops the broker gracefully, losing nothing with zflow clients: it stops
//  listening, sends every authenticated connection an error frame with the
//  text "Broker shutting down", and goes on reading and forwarding
//  publishes until each client has closed its sending side after its last
//  whole frame (the zflow client does so at once, keeps what it had not
//  sent for its next connection, and reconnects), then writes out what
//  each subscriber is owed and closes every connection. Other clients
//  (hpfeeds3) see an ordinary error and keep the broker waiting until
//  timeout_ms; whatever is still queued then is dropped and counted.
//  Blocks until done. Returns the number of publish frames dropped (0 when
//  nothing was lost; also added to the "drain_lost" counter), or
//  ZFLOW_EINVAL (NULL, negative timeout) or ZFLOW_ECLOSED (the actor is
//  gone). The broker stays alive (stats can be read) and listens nowhere;
//  zflow_hpfeeds_broker_bind starts it again.
int zflow_hpfeeds_broker_drain (zflow_hpfeeds_broker_t *self, int timeout_ms);

//  Returns the port the broker listens on, or 0 (not listening, NULL self).
int zflow_hpfeeds_broker_port (zflow_hpfeeds_broker_t *self);

//  Asks the actor for STATS and waits up to timeout_ms (-1 forever).
//  Returns the counters (see above) as a hash of name -> decimal text (the
//  caller owns it; zhash_destroy), or NULL on timeout or for a NULL self.
zhash_t *zflow_hpfeeds_broker_stats (zflow_hpfeeds_broker_t *self, int timeout_ms);

//  Turns the actor's tracing to stderr on or off (does not wait). NULL
//  self does nothing.
void zflow_hpfeeds_broker_set_verbose (zflow_hpfeeds_broker_t *self, bool verbose);

//  The broker's data does not flow over ZeroMQ (its clients speak hpfeeds
//  over TCP: see zflow_hpfeeds_broker_port), so it has no inproc endpoint:
//  always returns NULL. Present so that every actor class answers the
//  same calls.
const char *zflow_hpfeeds_broker_endpoint (zflow_hpfeeds_broker_t *self);

//  Returns the actor (owned by the broker: do not destroy it), for polling
//  or zflow_actor_stats; NULL for a NULL self.
zactor_t *zflow_hpfeeds_broker_actor (zflow_hpfeeds_broker_t *self);

#ifdef __cplusplus
}
#endif

#endif
