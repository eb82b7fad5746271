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
    Each connection has a bounded output buffer; a subscriber that cannot
    keep up is disconnected or loses messages (counted), by policy.

    STATS (zflow_hpfeeds_broker_stats) adds to the standard counters:
    connections, connections_total, auth_failures, refusals, slow_drops,
    slow_disconnects, protocol_errors, accept_pauses, stalls (times a
    publisher waited for a slow subscriber, BLOCK), congested (subscribers
    near their limit now), unrouted (publishes to a channel nobody was
    subscribed to: pub/sub forwards them to no one, counted so that losses
    can be accounted for), drains, drain_lost (see zflow_hpfeeds_broker_drain),
    and per channel
    "chan.<name>.msgs", "chan.<name>.bytes", "chan.<name>.drops", "chan.<name>.unrouted",
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
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zflow_hpfeeds_broker_t zflow_hpfeeds_broker_t;

//  What to do with a subscriber whose output buffer is full.
typedef enum {
    ZFLOW_HPFEEDS_SLOW_DISCONNECT = 0, //  close its connection (counted; the default)
    ZFLOW_HPFEEDS_SLOW_DROP = 1,       //  drop the message for it (counted)
    ZFLOW_HPFEEDS_SLOW_BLOCK = 2       //  lossless: stop reading publishers until it catches
                                       //  up (one stuck subscriber stalls every publisher)
} zflow_hpfeeds_slow_policy_t;

//  Default output buffer per connection, in bytes.
#define ZFLOW_HPFEEDS_BROKER_DEFAULT_OUTBUF (8 * 1024 * 1024)

//  Starts a broker actor named name (sent in the info frame; NULL means
//  "zflow"). It listens nowhere until zflow_hpfeeds_broker_bind. Returns
//  the broker (the caller owns it; zflow_hpfeeds_broker_destroy), or NULL
//  when name is over 255 bytes or out of memory.
zflow_hpfeeds_broker_t *zflow_hpfeeds_broker_new (const char *name);

//  Stops the broker at once, as a crash would: closes every connection
//  (what clients wrote and the broker had not read yet, and what it owed
//  its subscribers, is lost), frees it and sets *self_p to NULL.
//  Idempotent. Call zflow_hpfeeds_broker_drain first for a graceful stop.
void zflow_hpfeeds_broker_destroy (zflow_hpfeeds_broker_t **self_p);

//  Adds (or replaces) a user: ident, secret, and NULL-terminated arrays of
//  the channels it may publish to and subscribe to (either may be NULL for
//  none). Connected clients of that ident get the new rights at once.
//  Returns 0, or ZFLOW_EINVAL (NULL, empty or over-long strings).
int zflow_hpfeeds_broker_add_user (zflow_hpfeeds_broker_t *self, const char *ident,
                                   const char *secret, const char **pubchans,
                                   const char **subchans);

//  Loads users from a JSON file in the reference broker's format
//  ({ident: {owner, secret, pubchans: [...], subchans: [...]}}). All or
//  nothing. Returns the number of users loaded, or ZFLOW_ECONFIG with the
//  reason in errbuf (errlen bytes; errbuf may be NULL).
int zflow_hpfeeds_broker_load_json (zflow_hpfeeds_broker_t *self, const char *path, char *errbuf,
                                    size_t errlen);

//  Loads users from a ZPL file: "user" blocks with ident, secret, optional
//  owner, and repeated pubchan / subchan values. Returns as load_json.
int zflow_hpfeeds_broker_load_zpl (zflow_hpfeeds_broker_t *self, const char *path, char *errbuf,
                                   size_t errlen);

//  Sets the slow-subscriber policy and the output buffer limit per
//  connection in bytes (0 keeps the current one; at least 64 KiB is used,
//  at least 4 MiB with ZFLOW_HPFEEDS_SLOW_BLOCK).
//  Applies to connections accepted afterwards. Returns 0 or ZFLOW_EINVAL.
int zflow_hpfeeds_broker_set_slow_policy (zflow_hpfeeds_broker_t *self,
                                          zflow_hpfeeds_slow_policy_t policy, size_t outbuf_limit);

//  Listens on TCP address host ("127.0.0.1", "0.0.0.0", "::1"; NULL means
//  127.0.0.1) and port (0 picks a free port). Returns the real port (> 0),
//  or ZFLOW_EENDPOINT (bad address, port in use), or ZFLOW_EINVAL when the
//  broker already listens.
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

//  Returns the port the broker listens on, or 0.
int zflow_hpfeeds_broker_port (zflow_hpfeeds_broker_t *self);

//  Returns the counters (see above) as a hash of name -> decimal text (the
//  caller owns it; zhash_destroy), or NULL on timeout.
zhash_t *zflow_hpfeeds_broker_stats (zflow_hpfeeds_broker_t *self);

//  Turns on tracing to stderr.
void zflow_hpfeeds_broker_set_verbose (zflow_hpfeeds_broker_t *self);

//  Returns the actor (owned by the broker), for polling or zflow_actor_stats.
zactor_t *zflow_hpfeeds_broker_actor (zflow_hpfeeds_broker_t *self);

#ifdef __cplusplus
}
#endif

#endif
