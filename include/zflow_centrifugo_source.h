/*  =========================================================================
    zflow_centrifugo_source - an actor that brings Centrifugo channels into
    zflow over Centrifugo's bidirectional client protocol

    The source is a Centrifugo client: it opens a WebSocket (the project's
    own client, ws:// or wss://) to a Centrifugo server, connects with a
    token, subscribes to its channels and publishes every publication on
    its PUB endpoint as a zflow envelope:

        frame 1   key (<key_prefix>, <channel>), by default ("centrifugo", ..)
        frame 2   meta: src = the client name, seq = the publication's offset
                  (0 in a channel without history), ts = time received,
                  ct = "application/json", extra "epoch" = the stream epoch
        frame 3   the publication's "data", as compact JSON

    It speaks the JSON client protocol v2 (Centrifugo v4, v5, v6):
    {"id":N,"connect":{"token":..,"name":..}}, {"id":N,"subscribe":
    {"channel":..}}, pushes {"push":{"channel":..,"pub":{"data":..,
    "offset":N}}}, and answers the server's ping {} with a pong {} when the
    connect reply asks for it. When no message at all arrives for the
    advertised ping interval plus ping_grace_ms, the connection is taken as
    dead and replaced.

    Recovery: every subscribe says "recoverable":true and
    "positioned":true (unless no_recover), so that namespaces with only
    allow_recovery keep the stream's position for it. The source
    remembers per channel the last offset and epoch it
    published. After any reconnect (or an unsubscribe push with a code of
    2500 or more) it subscribes again with "recover":true, offset and epoch
    when the server said the channel is recoverable. The publications in
    the subscribe reply are published first, in order, then the live
    pushes. A publication at or below the last offset is a duplicate and
    is dropped (counted); an offset past the next one is a gap (counted and
    reported); a reply with "recovered" false means the server could not
    fill the hole (epoch changed or history too short): reported as an
    event, counted in "unrecovered".

    Server-side subscriptions (channels the server subscribes the
    connection to, e.g. from the token's "channels" claim) are bridged the
    same way: the connect reply's "subs" and subscribe pushes add them, and
    after a reconnect the connect request's "subs" asks to recover them
    from their last offset and epoch.

    Events: everything a user may want to react to is published on the same
    PUB as an envelope with key (<key_prefix>.event, <type>) and a JSON
    object payload with "type" and details:
        connected      {"client","version"}
        disconnected   {"code","reason","reconnect"[,"error"]}  (code 1006: no
                       close frame; "error" only when one occurred; only for
                       connections that were open)
        error          {"op","channel","code","message","temporary"}  a reply's
                       error object; a temporary subscribe error (100, 111 or
                       marked "temporary") is retried with the backoff
        subscribed     {"channel","recoverable","recovered","was_recovering",
                        "epoch","offset","publications"}
        unsubscribed   {"channel","code","reason"}
        malformed      {"size","error"}  a server message that is not JSON or
                       not a protocol object (counted; the connection goes on)
        gap            {"channel","expected","offset"}
        token_expiring {"expires_in_ms"[,"channel"]}  the connect (or
                       subscribe) reply said the token expires ("expires",
                       "ttl"), three quarters of its time is gone and no
                       token provider gave a new one: call
                       zflow_centrifugo_source_set_token
        failed         {"failures","code","reason"}  stopped: a terminal close
                       code, a permanent connect error (its code), or
                       max_failures temporary refusals in a row

    Reconnects: after a close, an error or a refused handshake the source
    tries again after a backoff that doubles from backoff_min_ms to
    backoff_max_ms (a random point between half of it and all of it).
    Close codes 3000..3499 and 4000..4499 reconnect; 3500..3999 and
    4500..4999 (3500 "invalid token", 3503 "force disconnect", ...) mean
    "do not reconnect": the source stops at once and reports "failed".
    3014 "state invalidated" reconnects without recovery: every channel
    starts again at the top of its stream. An error reply to connect that
    is temporary (100, or marked "temporary") reconnects with the backoff
    (at most max_failures times in a row when max_failures >= 0; by
    default forever); any other (101 unauthorized, 103 permission denied,
    109 token expired, ...) stops the source at once and reports "failed"
    with the code. Use zflow_centrifugo_source_set_token to give a new
    token: on a connection whose token expires it is sent at once in a
    refresh command (no reconnect); it is used for every later connect,
    and it restarts a source that stopped (so a token provider reacts to
    "token_expiring", or to "failed" with code 109).

    Tokens: a token provider (token_fn, a callback, or token_secret,
    the server's HMAC secret with which the source signs HS256 JWTs with
    claims "sub" = token_user, "exp" = now + token_ttl and, for a
    subscription, "channel") gives a fresh connection token for every
    connect (when it gives none, e.g. a callback returning 0 for the
    connection, the configured token is used), and a new one before the
    connection's expires: sent in a refresh command (no "token_expiring"
    event then); a connect refused with 109 "token expired" is retried at
    once with a fresh token (once in a row).
    Subscription tokens: a channel is subscribed without a token first;
    when the server refuses it with 103 "permission denied" (a namespace
    without allow_subscribe_for_client) and a provider is there, the
    source subscribes again with a subscription token and keeps using
    tokens for that channel. Without a provider,
    zflow_centrifugo_source_set_sub_token gives a channel its token (and
    answers the "token_expiring" event naming the channel: sent in a
    sub_refresh); without either, the 103 error event (permanent) says
    that a subscription token may be needed. A subscribe reply with
    "expires" and "ttl" is refreshed at three quarters of the ttl with a
    sub_refresh command carrying a new token (counted in "sub_refreshes");
    a subscribe refused with 109 "token expired" is retried with a fresh
    token, and so is a sub_refresh refused (unsubscribe, subscribe again).
    A server that gave up on an unrefreshed subscription unsubscribes it
    with code 2501 "subscription expired": subscribed again, with a fresh
    token. The "sub" claim of a subscription token must be the
    connection's user (else the server closes with 3500): with no
    token_user the source signs with the "sub" claim of the current
    connection token (the configured one at first), else anonymously.

    Unsubscribe pushes: a code from 2500 on subscribes again (with
    recovery); a lower one (2000 "server unsubscribe") removes the
    channel for good on this source: not subscribed again after a
    reconnect (zflow_centrifugo_source_unsubscribe and _subscribe add it
    back).

    Bounded memory: the PUB has a send watermark (sndhwm); when a subscriber
    is that far behind, the publication is dropped for all and counted in
    "drops" (the offset still advances, so a drop is not recovered). With
    lossless set nothing is dropped: what the PUB refuses waits, in order,
    while the source stops reading the WebSocket (TCP then pushes back on
    the server) and retries every 2 ms; queue_depth counts what waits (at
    most what was read in one go). A server may close a connection that
    stays paused too long (no pong, slow); the source then reconnects and
    recovers from where it stood.

    STATS adds: publications, recovered, duplicates, gaps, unrecovered,
    malformed, errors, events, connects, attempts, disconnects, failures,
    pings, pongs, channels, subscribed, unexpected (pushes for a channel
    that is not subscribed), refreshes, sub_refreshes.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_CENTRIFUGO_SOURCE_H_INCLUDED
#define ZFLOW_CENTRIFUGO_SOURCE_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zflow_centrifugo_source_t zflow_centrifugo_source_t;

//  A token provider, called in the source's actor thread: writes a
//  NUL-terminated token (JWT) for channel, or for the connection when
//  channel is NULL, into token (size bytes). Returns the token's length
//  (> 0), or 0 (or a negative value) when it has none to give: the
//  connect or subscribe then goes without one. channel is borrowed for the
//  call; arg is the config's token_arg.
typedef int (zflow_centrifugo_source_token_fn) (const char *channel, char *token, size_t size,
                                                void *arg);

#define ZFLOW_CENTRIFUGO_SOURCE_BACKOFF_MIN_MS 100
#define ZFLOW_CENTRIFUGO_SOURCE_BACKOFF_MAX_MS 10000
#define ZFLOW_CENTRIFUGO_SOURCE_MAX_FAILURES -1
#define ZFLOW_CENTRIFUGO_SOURCE_TIMEOUT_MS 5000
#define ZFLOW_CENTRIFUGO_SOURCE_PING_GRACE_MS 10000
#define ZFLOW_CENTRIFUGO_SOURCE_SNDHWM 1000
#define ZFLOW_CENTRIFUGO_SOURCE_TOKEN_TTL 3600

//  The source's configuration. zflow_centrifugo_source_config_init sets
//  every default; a zero-initialised struct means the same defaults (zero
//  / NULL / false fields take the defaults named here).
typedef struct {
    const char *url;        //  ws[s]://host:port/connection/websocket (required)
    const char *token;      //  connection token (JWT), or NULL
    const char *name;       //  client name sent in connect and meta "src" ("zflow")
    const char *channels;   //  channels to subscribe, comma list (may be NULL)
    const char *endpoint;   //  PUB endpoint to bind ("inproc://zflow-centrifugo-<name>")
    const char *key_prefix; //  first key component ("centrifugo")
    bool no_recover;        //  resubscribe without asking for recovery
    bool manual_start;      //  connect only on zflow_centrifugo_source_start
    bool lossless;          //  a full subscriber pauses reading (default: drop)
    int backoff_min_ms;     //  first reconnect delay (100)
    int backoff_max_ms;     //  longest reconnect delay (10000)
    int max_failures;       //  temporary connect refusals in a row before giving up (-1: never)
    int timeout_ms;         //  handshake and command reply timeout (5000)
    int ping_grace_ms;      //  wait past the ping interval before a reconnect (10000)
    size_t sndhwm;          //  PUB send watermark in messages (1000)
    bool insecure;          //  wss: skip certificate checks (testing only)
    const char *ca_file;    //  wss: PEM file of trusted CAs, or NULL (system store)
    size_t max_message;     //  largest WebSocket message (0: 16 MiB)
    //  Token provider (see "Tokens" above): token_fn wins over token_secret.
    const char *token_secret;                   //  HMAC secret: sign HS256 tokens here, or NULL
    const char *token_user;                     //  their "sub" claim (NULL: the connection token's)
    int token_ttl;                              //  their lifetime in seconds (3600)
    zflow_centrifugo_source_token_fn *token_fn; //  token callback, or NULL
    void *token_arg;                            //  its argument (borrowed)
} zflow_centrifugo_source_config_t;

//  Sets every field of config to its default (url, token and channels
//  NULL: set them). config belongs to the caller; a NULL config is
//  ignored.
void zflow_centrifugo_source_config_init (zflow_centrifugo_source_config_t *config);

//  Starts the source actor; it connects at once unless manual_start.
//  Everything is copied from config (strings duplicated) before the call
//  returns: the caller may free or reuse config at once. Returns the
//  source (the caller owns it; zflow_centrifugo_source_destroy), or NULL
//  with *err_p (if not NULL) set to ZFLOW_EINVAL (config NULL),
//  ZFLOW_ECONFIG (no or bad url, bad channel name or key prefix),
//  ZFLOW_EENDPOINT (the PUB endpoint cannot be bound) or ZFLOW_ENOMEM.
zflow_centrifugo_source_t *
zflow_centrifugo_source_new (const zflow_centrifugo_source_config_t *config, int *err_p);

//  Stops the actor (the WebSocket is closed at once) and frees the source;
//  sets *self_p to NULL. Nothing happens when self_p or *self_p is NULL;
//  idempotent. Subscribers connected to the endpoint may outlive the
//  source: they simply receive nothing more.
void zflow_centrifugo_source_destroy (zflow_centrifugo_source_t **self_p);

//  Returns the PUB endpoint the envelopes and events go out on, for
//  subscribers to connect to. Owned by the source, valid until it is
//  destroyed; NULL for a NULL self.
const char *zflow_centrifugo_source_endpoint (zflow_centrifugo_source_t *self);

//  Returns the actor (owned by the source: do not destroy it), e.g. for
//  zflow_actor_stats or to poll it; NULL for a NULL self.
zactor_t *zflow_centrifugo_source_actor (zflow_centrifugo_source_t *self);

//  Connects a source made with manual_start (a no-op otherwise). Returns 0
//  or ZFLOW_ECLOSED (NULL self, or the actor is gone).
int zflow_centrifugo_source_start (zflow_centrifugo_source_t *self);

//  Adds a channel and subscribes to it now if connected. channel and
//  epoch are borrowed (copied by the actor). With epoch not NULL the first
//  subscribe recovers from that position (offset, epoch), e.g. one saved
//  by zflow_centrifugo_source_position. Returns 0, ZFLOW_EINVAL (NULL,
//  empty or bad channel name), ZFLOW_ENOTSUP (already there) or
//  ZFLOW_ECLOSED (NULL self, or the actor is gone).
int zflow_centrifugo_source_subscribe (zflow_centrifugo_source_t *self, const char *channel,
                                       uint64_t offset, const char *epoch);

//  Unsubscribes from a channel (borrowed) and forgets it. Returns 0,
//  ZFLOW_ENOTFOUND (NULL or unknown channel) or ZFLOW_ECLOSED (NULL self,
//  or the actor is gone).
int zflow_centrifugo_source_unsubscribe (zflow_centrifugo_source_t *self, const char *channel);

//  Replaces the token (borrowed, copied; NULL or "" for none): sent at
//  once in a refresh command when the current connection's token expires,
//  used for every later connect, and restarts a source that gave up.
//  Returns 0 or ZFLOW_ECLOSED (NULL self, or the actor is gone).
int zflow_centrifugo_source_set_token (zflow_centrifugo_source_t *self, const char *token);

//  Gives channel (borrowed; one of the source's) a subscription token
//  (borrowed, copied; NULL or "" forgets it), for a channel that needs
//  one when there is no token provider: used for its subscribes from now
//  on; sent at once in a sub_refresh when its subscription expires, and
//  subscribes it at once when it is not subscribed (e.g. refused with 103
//  for want of a token). A provider's tokens, when there is one, come
//  first. Answer a "token_expiring" event that names a channel with it.
//  Returns 0, ZFLOW_ENOTFOUND (NULL or unknown channel) or ZFLOW_ECLOSED
//  (NULL self, or the actor is gone).
int zflow_centrifugo_source_set_sub_token (zflow_centrifugo_source_t *self, const char *channel,
                                           const char *token);

//  The last position published for channel (borrowed): *offset_p (if
//  offset_p is not NULL) and the epoch copied into the caller's buffer
//  epoch (epoch_size bytes, may be 0; truncated to fit). Returns 0,
//  ZFLOW_ENOTFOUND (NULL channel, no such channel or no position yet) or
//  ZFLOW_ECLOSED (NULL self, or the actor is gone).
int zflow_centrifugo_source_position (zflow_centrifugo_source_t *self, const char *channel,
                                      uint64_t *offset_p, char *epoch, size_t epoch_size);

//  The counters (a new hash the caller owns and destroys with
//  zhash_destroy), or NULL on timeout or for a NULL self.
zhash_t *zflow_centrifugo_source_stats (zflow_centrifugo_source_t *self, int timeout_ms);

//  Turns tracing to stderr on or off (off by default): the VERBOSE command
//  every zflow actor takes, as a pipeline sends it too; the last one sent
//  wins. Asynchronous: it takes effect before the next command the actor
//  reads. Nothing happens for a NULL self.
void zflow_centrifugo_source_set_verbose (zflow_centrifugo_source_t *self, bool verbose);

#ifdef __cplusplus
}
#endif

#endif
