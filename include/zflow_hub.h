/*  =========================================================================
    zflow_hub - a named publish/subscribe hub with hierarchical keys

    The hub is an actor around an XSUB socket (publishers connect to it) and
    an XPUB socket (subscribers connect to it), both bound on inproc
    endpoints derived from the hub's name, so several hubs coexist in one
    process:

        publishers  --> inproc://zflow.hub.<name>.pub  (XSUB)
                        the hub actor forwards, counts, publishes notices
        subscribers <-- inproc://zflow.hub.<name>.sub  (XPUB)
        attached PUB/XPUB endpoints --> a SUB per endpoint (zflow_hub_attach)

    zflow_hub_bind adds ipc:// or tcp:// endpoints for other processes, with
    CURVE when zflow_hub_set_curve was called first.

    Trust: the hub counts subscriptions from what its peers announce. It
    bounds what any peer can claim (counts, patterns, peers, message size)
    and ignores announcements from subscribers it has not seen arrive, but
    a peer that can reach an endpoint can still misstate another's
    subscriptions: bind network endpoints only where the peers are trusted,
    or with CURVE and an allow directory.

    Hostile peers: on the endpoints of zflow_hub_bind the hub tells one
    connection from another by its socket and disconnects (counted in
    STATS) a connection that
    - sends a message larger than max_message (at its frame header, so a
      partial frame never holds more than that);
    - holds more than max_peer_subscriptions subscriptions, or holds the
      most when all remote connections together pass
      max_subscription_bytes of topics (libzmq keeps ~50 bytes of memory
      per byte of topic; the default bounds that near 50 MiB);
    - over tcp://, does not read: when the hub has been holding its
      publishers back for stall_limit_ms (a lossless subscriber is full)
      and the connection has data waiting and took none of it for as
      long, whatever it sends (pings keep ZMTP's heartbeat alive, not
      this). The hub as a whole stalls at most about stall_limit_ms plus
      a fifth of it because of one such peer. ipc:// peers are counted
      but not timed (a Unix socket does not say what its peer took); a
      local inproc subscriber is trusted (its queue policy decides).
    The limits need Linux (TCP_INFO) for the stall check.

    Keys are zflow_key_t tuples; subscription patterns may hold "*": a "*"
    matches exactly one component at its position, a trailing "*" matches
    one or more remaining components (("a","*") matches ("a","b") and
    ("a","b","c") but not ("a")). Subscribers (zflow_hub_subscriber.h)
    subscribe ZeroMQ-side to the longest literal prefix of their pattern and
    match exactly in their own actor with a trie (see docs/hub.md).

    For each subscription added or removed the hub publishes a notice under
    ("Hub", "addedSubscriber", <pattern...>) or ("Hub", "removedSubscriber",
    <pattern...>) whose payload is the msgpack map {"key": [<pattern
    components>], "currentSubscriberCount": n}; zflow_hub_notice_decode reads
    it.

    The hub object is used from one thread; zflow_hub_has_subscribers and
    zflow_hub_subscription_count may be called from any thread.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HUB_H_INCLUDED
#define ZFLOW_HUB_H_INCLUDED

#include "zflow_key.h"
#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zflow_hub_t zflow_hub_t;

//  CURVE settings. For a hub: cert is the hub's server certificate (public
//  and secret key) and allow_dir a directory of client public certificates
//  that zauth accepts (NULL accepts any client that knows the server key).
//  For a remote publisher or subscriber: server_public is the hub's public
//  key (Z85, 40 chars) and cert the client's own certificate.
typedef struct {
    zcert_t *cert;             //  own certificate (not taken over)
    const char *server_public; //  clients: the hub's public key, Z85
    const char *allow_dir;     //  hub: allowed client certificates, or NULL
} zflow_hub_curve_t;

//  Longest hub name.
#define ZFLOW_HUB_MAX_NAME 200

//  What a hub is made from. Every default is zero, so a compound literal
//  such as &(zflow_hub_config_t){.name = "events"} is a full config.
typedef struct {
    const char *name;               //  1..ZFLOW_HUB_MAX_NAME bytes of [A-Za-z0-9._-];
                                    //  NULL: a unique name "hub-<n>-<pid>" is made up
    bool verbose;                   //  trace attachments and backpressure to stderr
    const zflow_hub_curve_t *curve; //  CURVE for the endpoints zflow_hub_bind binds
                                    //  (as zflow_hub_set_curve), or NULL
    size_t max_message;             //  largest message (bytes, <= INT_MAX) a peer may
                                    //  send to a bound tcp/ipc endpoint; 0:
                                    //  ZFLOW_HUB_DEFAULT_MAX_MESSAGE
    size_t max_peer_subscriptions;  //  subscriptions one remote connection may hold
                                    //  (ZeroMQ ones and the patterns its zflow
                                    //  subscribers announce); 0:
                                    //  ZFLOW_HUB_DEFAULT_PEER_SUBSCRIPTIONS
    size_t max_subscription_bytes;  //  topics all remote connections may hold
                                    //  together, bytes; 0:
                                    //  ZFLOW_HUB_DEFAULT_SUBSCRIPTION_BYTES
    int stall_limit_ms;             //  drop a tcp subscriber that takes nothing this
                                    //  long while the hub holds publishers back; 0:
                                    //  ZFLOW_HUB_DEFAULT_STALL_LIMIT, < 0: never
} zflow_hub_config_t;

//  Defaults of the limits on remote peers (see "Hostile peers" above): 1 MiB
//  messages, 10,000 subscriptions per connection, 1 MiB of topics in all
//  (about 50 MiB of libzmq's memory), 10 s without reading while the hub
//  waits (as long as ZMTP's heartbeat timeout of the hub's endpoints).
#define ZFLOW_HUB_DEFAULT_MAX_MESSAGE (1024 * 1024)
#define ZFLOW_HUB_DEFAULT_PEER_SUBSCRIPTIONS 10000
#define ZFLOW_HUB_DEFAULT_SUBSCRIPTION_BYTES (1024 * 1024)
#define ZFLOW_HUB_DEFAULT_STALL_LIMIT 10000

//  Sets every field of config to its default (all zero / NULL: the limits
//  then take their ZFLOW_HUB_DEFAULT_ values).
void zflow_hub_config_init (zflow_hub_config_t *config);

//  Creates a hub from config (NULL: all defaults) and starts its actor,
//  bound on inproc://zflow.hub.<name>.pub and .sub. Everything needed is
//  copied (the name, the CURVE certificate and allow directory): the
//  caller keeps config and may free or reuse it at once. Returns the hub
//  (the caller owns it; zflow_hub_destroy), or NULL with *err_p (if not
//  NULL) set to ZFLOW_EINVAL (bad name, max_message over INT_MAX),
//  ZFLOW_EENDPOINT (a hub of that name already exists), ZFLOW_ECONFIG
//  (CURVE refused) or ZFLOW_ENOMEM.
zflow_hub_t *zflow_hub_new (const zflow_hub_config_t *config, int *err_p);

//  Stops the actor (and every attachment), closes its sockets and frees
//  the hub; sets *self_p to NULL. Idempotent and NULL-safe. Publishers and
//  subscribers may outlive their hub: destroying them later is safe; until
//  then publishing queues into the void (nothing is delivered), sync calls
//  of a subscriber (subscribe in sync mode, zflow_hub_subscriber_sync)
//  return ZFLOW_ECLOSED, and has_subscribers says false / 0.
void zflow_hub_destroy (zflow_hub_t **self_p);

//  Turns the hub's traces (attachments, detachments, pauses; zsys_debug)
//  on or off: the VERBOSE command of every zflow actor. Asynchronous;
//  NULL-safe.
void zflow_hub_set_verbose (zflow_hub_t *self, bool verbose);

//  The inproc endpoint of the hub's data: where it publishes every
//  envelope (its XPUB side, as zflow_hub_sub_endpoint). Owned by the hub;
//  NULL for a NULL self.
const char *zflow_hub_endpoint (zflow_hub_t *self);

//  Feeds the envelopes published on endpoint into the hub: a PUB or XPUB
//  socket (an adapter's zflow_hpfeeds_endpoint or zflow_ws_endpoint, a
//  remote tcp:// or ipc:// PUB, another hub's bound sub endpoint). The hub
//  connects a SUB socket there, subscribed to everything, and forwards
//  each envelope as it is: key, meta and payload frames untouched.
//  Messages that are not envelopes are dropped and counted (STATS:
//  attached_malformed); forwarded ones count in attached_in (and msgs_in).
//  While the hub holds its publishers back (a lossless subscriber is full)
//  it stops reading attachments too, so ZeroMQ's HWM pushes back on the
//  publisher (a PUB drops there; an XPUB with ZMQ_XPUB_NODROP, as the
//  adapters' lossless outputs, holds its sender back).
//
//  When it returns 0, the publisher has been sent the subscription:
//  - inproc: the connection is made when the call connects (the
//    publisher's socket attaches it, with the subscription, at its next
//    send or poll; an endpoint bound later attaches it when it binds).
//    libzmq lets a socket that processed its commands less than about a
//    millisecond ago send without looking at new ones, so attach also
//    waits ZFLOW_HUB_ATTACH_SETTLE ms: every message the publisher sends
//    after attach returns reaches the hub (tested: attach, then publish
//    at once, over many runs loses nothing).
//  - tcp:// and ipc://: attach waits for the ZMTP handshake (libzmq then
//    sends the subscription first on the connection), then for the
//    settle time or twice the handshake's duration, whichever is longer,
//    for the subscription to travel. That covers loopback and local
//    networks; a publisher further away than that may still drop what it
//    sends before the subscription arrives (PUB semantics: a publisher
//    cannot be asked whether it has it).
//  The hub keeps the connection (libzmq reconnects); a reconnect has the
//  same gap as any PUB/SUB reconnect.
//  Returns 0, ZFLOW_EINVAL (NULL argument, endpoint already attached),
//  ZFLOW_EENDPOINT (libzmq refused the endpoint), ZFLOW_ETIMEDOUT (no
//  handshake within timeout_ms; nothing stays attached), ZFLOW_ECLOSED
//  (the actor is gone) or ZFLOW_ENOMEM. endpoint is copied.
int zflow_hub_attach (zflow_hub_t *self, const char *endpoint, int timeout_ms);

//  How long zflow_hub_attach waits after connecting, in milliseconds.
#define ZFLOW_HUB_ATTACH_SETTLE 10

//  Stops forwarding from endpoint (as given to zflow_hub_attach) and
//  closes that connection; what its socket had received and the hub not
//  yet forwarded is discarded. Returns 0, ZFLOW_ENOTFOUND (not attached),
//  ZFLOW_EINVAL or ZFLOW_ECLOSED.
int zflow_hub_detach (zflow_hub_t *self, const char *endpoint);

//  Returns the hub's name (owned by the hub).
const char *zflow_hub_name (zflow_hub_t *self);

//  Returns the inproc endpoint publishers (XSUB side) or subscribers (XPUB
//  side) connect to. Owned by the hub.
const char *zflow_hub_pub_endpoint (zflow_hub_t *self);
const char *zflow_hub_sub_endpoint (zflow_hub_t *self);

//  Largest message accepted from an endpoint of zflow_hub_attach (64 MiB;
//  the endpoints of zflow_hub_bind take the config's max_message).
#define ZFLOW_HUB_MAX_MESSAGE (64 * 1024 * 1024)

//  Turns on CURVE for the endpoints bound after this call (inproc is not
//  affected). Starts a zauth actor that accepts the clients whose public
//  certificates are in curve->allow_dir (any client when NULL). Returns 0,
//  ZFLOW_EINVAL (no cert) or ZFLOW_ECONFIG (zauth failed).
int zflow_hub_set_curve (zflow_hub_t *self, const zflow_hub_curve_t *curve);

//  Binds the XSUB side to pub_endpoint and the XPUB side to sub_endpoint
//  (either may be NULL), e.g. "tcp://127.0.0.1:*" or "ipc:///tmp/x.sock".
//  Returns 0, or ZFLOW_EENDPOINT (nothing new is left bound).
//  zflow_hub_bound_pub / _sub then return the real endpoints.
int zflow_hub_bind (zflow_hub_t *self, const char *pub_endpoint, const char *sub_endpoint);

//  The real endpoint of the last zflow_hub_bind per side, or NULL. Owned by
//  the hub.
const char *zflow_hub_bound_pub (zflow_hub_t *self);
const char *zflow_hub_bound_sub (zflow_hub_t *self);

//  True if at least one current subscription pattern matches key (a
//  concrete key). Subscriptions count once the hub has seen them; a local
//  subscriber's subscribe call returns only after that. Thread-safe.
bool zflow_hub_has_subscribers (zflow_hub_t *self, const zflow_key_t *key);

//  Returns how many subscriptions the pattern has now (the
//  currentSubscriberCount of its last notice). Thread-safe.
size_t zflow_hub_subscription_count (zflow_hub_t *self, const zflow_key_t *pattern);

//  Asks the actor for its counters (the standard ones plus patterns,
//  subscriptions, notices, malformed, paused, attached (endpoints now),
//  attached_in, attached_malformed; of the limits on remote peers:
//  stalled_disconnects, subscription_disconnects, remote_connections,
//  remote_subscriptions, remote_subscription_bytes, refused_messages).
//  Returns a hash (the caller owns it;
//  zhash_destroy) or NULL on timeout or a NULL self. See
//  zflow_actor_stats_get.
zhash_t *zflow_hub_stats (zflow_hub_t *self, int timeout_ms);

//  Returns the hub's actor (borrowed; owned by the hub), NULL for NULL.
zactor_t *zflow_hub_actor (zflow_hub_t *self);

//  Decodes the payload of a notice. Returns 0 with *key_p (the pattern; the
//  caller owns it) and *count_p set, or ZFLOW_EPROTO (not a notice map),
//  ZFLOW_ETOOBIG or ZFLOW_EINVAL (NULL argument).
int zflow_hub_notice_decode (const void *data, size_t size, zflow_key_t **key_p, uint64_t *count_p);

#ifdef __cplusplus
}
#endif

#endif
