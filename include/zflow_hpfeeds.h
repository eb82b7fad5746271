/*  =========================================================================
    zflow_hpfeeds - an hpfeeds client adapter actor

    The C counterpart of hpfeeds3's asyncio ClientSession: it keeps one
    connection to an hpfeeds broker (any broker speaking the reference
    protocol), publishes, subscribes, and hands every received message to
    the zflow bus as an envelope:

        frame 1   key ("hpfeeds", <channel>)  (wire form "hpfeeds\x1f<channel>")
        frame 2   meta: src "hpfeeds://<host>:<port>", extra field "ident" =
                  the publisher's ident
        frame 3   the payload, untouched

    on an inproc PUB (XPUB) socket (zflow_hpfeeds_endpoint), which any
    zflow stream or hub can subscribe to, one envelope per message; while
    nobody subscribes there the envelopes are not built. The object's own
    reader (zflow_hpfeeds_read) gets the same messages over a private
    socket in batches (one ZeroMQ frame per run of up to 256 received
    frames, up to 64 KiB past one frame) and hands them out one by one as
    the same envelopes, in order.

    The connection is kept alive: on loss the actor reconnects with
    exponential backoff and jitter, authenticates again and subscribes every
    channel again. Publishes made while disconnected wait in a bounded
    outbox (policy: drop the oldest, counted, or block the publisher).
    hpfeeds acknowledges nothing, so frames already written to a connection
    that then dies are lost; they are counted where the client can know
    (a frame cut in the middle) and the broker's counters tell the rest.
    A broker's error frame (wrong secret, refused channel) reaches the user
    as an event with the broker's text; after a refusal the next attempt
    waits the refusal backoff (no tight retry loop), and a channel the
    broker refused to subscribe is removed from the subscription set. A
    publish the broker refuses (channel outside the ident's pubchans)
    also closes the connection, as in the reference, and the frames written
    after it on that connection are lost; the client then drops that
    channel's queued publishes and every later one (counted in
    refused_drops) so the other channels do not pay again.

    In lossless mode (the default) a slow consumer of the inproc output
    stops the actor reading the TCP socket, so TCP pushes back on the
    broker; in lossy mode messages the inproc output cannot take are
    dropped and counted (inproc_drops counts each message one of the two
    outputs, the reader's or the endpoint's, could not take).

    hpfeeds answers nothing to a good auth, so after each auth the client
    holds its publishes for auth_wait_ms: a refused auth (wrong secret)
    then costs no publishes, and CONNECTED is reported when that wait ends.

    With tls set, the connection is TLS (1.2 or later) and the broker's
    certificate is verified against tls_ca_file or the system's store, and
    its name (or IP address) against host, unless tls_verify is false.

    Events (zflow_hpfeeds_event): CONNECTED (text: host:port (broker name)),
    DISCONNECTED (text: the reason; also after each failed attempt), ERROR
    (text: the broker's error frame, or a TLS verification failure),
    PROTOCOL (text: a malformed or oversized frame from the broker). Events
    the user does not read are kept up to 1000, then counted as dropped.

    A received message whose channel cannot be a key component (empty, or
    holding 0x1F or NUL) is dropped and counted in inproc_drops.

    Publishing is batched: zflow_hpfeeds_publish encodes into a 64 KiB
    buffer in the caller's thread, and the actor writes it to the broker.
    While a plain TCP connection is up and the actor has nothing queued,
    a full buffer is written by the publishing thread itself (non-blocking;
    what the socket does not take goes back to the actor's outbox). A
    publisher that keeps filling buffers that way has the tail of each
    burst sent within 1 ms; a slower one has each publish sent at once.

    STATS (zflow_hpfeeds_stats) adds: connected, connects, disconnects,
    published, sent, direct_writes (buffers the publishing thread wrote),
    direct_stalls (of those, ones the socket did not take whole), received,
    outbox_pending, outbox_drops, inflight_lost,
    inproc_drops, tcp_pauses, broker_errors, broker_shutdowns (graceful broker
    stops seen, see zflow_hpfeeds_broker_drain), protocol_errors, events_dropped,
    refused_drops.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HPFEEDS_H_INCLUDED
#define ZFLOW_HPFEEDS_H_INCLUDED

#include "zflow_msg.h"
#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zflow_hpfeeds_t zflow_hpfeeds_t;

//  What happens to a publish when the outbox is full.
typedef enum {
    ZFLOW_HPFEEDS_DROP_OLDEST = 0, //  drop the oldest queued publishes (counted; default)
    ZFLOW_HPFEEDS_BLOCK = 1        //  the publisher waits (up to publish_timeout_ms)
} zflow_hpfeeds_outbox_policy_t;

//  Event types.
typedef enum {
    ZFLOW_HPFEEDS_EVENT_CONNECTED = 1,
    ZFLOW_HPFEEDS_EVENT_DISCONNECTED = 2,
    ZFLOW_HPFEEDS_EVENT_ERROR = 3,
    ZFLOW_HPFEEDS_EVENT_PROTOCOL = 4,
    ZFLOW_HPFEEDS_EVENT_SHUTDOWN = 5 //  a zflow broker drains: the client sends its last
                                     //  whole frame, keeps the rest, and reconnects
} zflow_hpfeeds_event_type_t;

//  Client settings. Fill with zflow_hpfeeds_config_init, then set fields.
typedef struct {
    const char *host;       //  broker host (name or address; default "127.0.0.1")
    int port;               //  broker port (required)
    const char *ident;      //  ident (required, 1..255 bytes)
    const char *secret;     //  secret (required)
    int backoff_min_ms;     //  first reconnect delay (default 100)
    int backoff_max_ms;     //  longest reconnect delay (default 5000)
    int refused_backoff_ms; //  delay after a broker error frame (default 5000)
    int auth_wait_ms;       //  publishes wait this long after the auth, so that a
                            //  refused auth loses none (default 50; 0: no wait)
    size_t outbox_bytes;    //  outbox limit in bytes (default 4 MiB, at least 1.1 MiB)
    zflow_hpfeeds_outbox_policy_t outbox_policy; //  default ZFLOW_HPFEEDS_DROP_OLDEST
    int publish_timeout_ms;  //  BLOCK policy: longest wait in publish (-1 forever, default)
    bool lossless;           //  pause TCP reads when the output is full (default true)
    int output_hwm;          //  inproc output high watermark, messages (default 10000;
                             //  the reader's hand-off: in batches of up to 256)
    bool reader;             //  create the reader for zflow_hpfeeds_read (default true)
    bool tls;                //  TLS to the broker (default false)
    const char *tls_ca_file; //  PEM CA certificates to trust (NULL: the system's store)
    bool tls_verify;         //  verify the certificate and the host name (default true)
} zflow_hpfeeds_config_t;

//  Fills config with the defaults (host 127.0.0.1, no port, ident or
//  secret: set those three). config is the caller's (stack or heap).
void zflow_hpfeeds_config_init (zflow_hpfeeds_config_t *config);

//  Starts a client with config. Everything it needs is copied (strings
//  duplicated): the caller keeps config and may free or reuse it at once.
//  It connects in the background; watch the events or
//  zflow_hpfeeds_connected. Returns the client (the caller owns it and
//  destroys it with zflow_hpfeeds_destroy), or NULL with *err_p set (err_p
//  may be NULL): ZFLOW_EINVAL (NULL config - there is no default port,
//  ident or secret -, missing or over-long host, ident or secret, bad
//  port or bounds), ZFLOW_ECONFIG (TLS context: unreadable CA file) or
//  ZFLOW_ENOMEM. A certificate that fails verification is reported as an
//  ERROR event ("TLS: certificate verify failed: ...") and retried after
//  refused_backoff_ms.
zflow_hpfeeds_t *zflow_hpfeeds_new (const zflow_hpfeeds_config_t *config, int *err_p);

//  Stops the client, closes the connection (unsent publishes are
//  discarded) and frees it with everything it owns (its endpoint, actor
//  and the strings it returned views into); sets *self_p to NULL.
//  Idempotent and NULL-safe (self_p NULL or *self_p NULL do nothing).
//  Streams connected to its endpoint stay the caller's and simply stop
//  receiving.
void zflow_hpfeeds_destroy (zflow_hpfeeds_t **self_p);

//  Queues payload[0..size) for channel (both stay the caller's: the frame
//  is encoded before the call returns) into a 64 KiB hand-off buffer the
//  actor takes whole (frames of 64 KiB or more travel alone, in order).
//  With DROP_OLDEST it waits at most while the actor takes the previous
//  hand-off (the outbox drops the oldest frames); with BLOCK, it waits
//  while the outbox is full. Returns 0, ZFLOW_EINVAL (NULL self or
//  channel, NULL payload with size > 0), ZFLOW_ETOOBIG (channel over 255
//  bytes, frame over the 1 MiB limit), ZFLOW_ETIMEDOUT (BLOCK,
//  publish_timeout_ms passed), ZFLOW_ENOMEM or ZFLOW_ECLOSED. Not
//  thread-safe: publish from one thread.
int zflow_hpfeeds_publish (zflow_hpfeeds_t *self, const char *channel, const void *payload,
                           size_t size);

//  Most channels one client subscribes to.
#define ZFLOW_HPFEEDS_MAX_CHANNELS 10000

//  Subscribes to channel (copied; the caller keeps it), now and again after
//  each reconnect. Returns 0 (also when already subscribed), ZFLOW_EINVAL
//  (NULL self, NULL or empty channel), ZFLOW_ETOOBIG (over 255 bytes),
//  ZFLOW_EFULL (already ZFLOW_HPFEEDS_MAX_CHANNELS channels) or
//  ZFLOW_ECLOSED (the actor is gone).
int zflow_hpfeeds_subscribe (zflow_hpfeeds_t *self, const char *channel);

//  Unsubscribes from channel (the caller keeps it). Returns 0 (also when
//  not subscribed), ZFLOW_EINVAL, ZFLOW_ETOOBIG or ZFLOW_ECLOSED.
int zflow_hpfeeds_unsubscribe (zflow_hpfeeds_t *self, const char *channel);

//  Reads the next received message as a zflow envelope into msg (the
//  caller's, reset first; its parts are then the caller's). timeout_ms: -1
//  forever, 0 no wait. Returns 0, ZFLOW_EINVAL (NULL self or msg),
//  ZFLOW_EAGAIN (timeout 0, nothing there), ZFLOW_ETIMEDOUT, ZFLOW_ENOTSUP
//  (created with reader = false), ZFLOW_ENOMEM or ZFLOW_ECLOSED.
int zflow_hpfeeds_read (zflow_hpfeeds_t *self, zflow_msg_t *msg, int timeout_ms);

//  One received message as views into the client's receive buffer (the
//  strings are not NUL-terminated).
typedef struct {
    const char *channel; //  the channel (channel_size bytes, 1..255)
    size_t channel_size; //  its length
    const char *ident;   //  the publisher's ident (ident_size bytes)
    size_t ident_size;   //  its length
    const void *payload; //  the payload (size bytes)
    size_t size;         //  its length
} zflow_hpfeeds_message_t;

//  Reads the next received message without building an envelope (no
//  allocation, no copy): fills *message (the caller's) with pointers into
//  the client's receive buffer, owned by the client and valid until the
//  next zflow_hpfeeds_read, zflow_hpfeeds_recv or zflow_hpfeeds_destroy.
//  Reads the same sequence as zflow_hpfeeds_read (the two may be mixed).
//  Returns as zflow_hpfeeds_read (ZFLOW_EINVAL for a NULL message).
int zflow_hpfeeds_recv (zflow_hpfeeds_t *self, zflow_hpfeeds_message_t *message, int timeout_ms);

//  Splits an envelope read from a client (msg stays the caller's) into its
//  channel and ident (copied into the caller's buffers channel and ident,
//  each with room for 256 bytes; either may be NULL) and payload (*payload_p
//  points into msg, valid while msg is unchanged; *size_p bytes). Returns 0
//  or ZFLOW_EPROTO when msg is NULL or not an hpfeeds envelope.
int zflow_hpfeeds_unpack (const zflow_msg_t *msg, char *channel, char *ident,
                          const void **payload_p, size_t *size_p);

//  Returns the inproc endpoint of the output PUB socket where the client
//  publishes each received message as an envelope (owned by the client,
//  valid until zflow_hpfeeds_destroy), for any zflow SUB stream or hub to
//  connect to; NULL for a NULL self.
const char *zflow_hpfeeds_endpoint (zflow_hpfeeds_t *self);

//  Reads the next event: returns its text (the caller owns it and frees it
//  with zstr_free or free) and sets *type_p (may be NULL) to its
//  zflow_hpfeeds_event_type_t, or returns NULL on timeout (timeout_ms as
//  for read) or for a NULL self.
char *zflow_hpfeeds_event (zflow_hpfeeds_t *self, int *type_p, int timeout_ms);

//  Publishes every message arriving on a zflow stream into channel: the
//  actor connects a socket of type socktype (ZMQ_PULL or ZMQ_SUB) to
//  endpoint; for ZMQ_SUB, subscribe is the prefix to subscribe to (NULL:
//  everything). The strings are copied (the caller keeps them); the
//  stream is the client's and ends with it. A message that is a zflow
//  envelope publishes its first payload frame; any other message publishes
//  its last frame. Publishing follows the outbox policy (BLOCK pushes back
//  on the stream). The C form of publish_async_iterable. Returns 0,
//  ZFLOW_EINVAL (NULL self, endpoint or channel, empty channel, another
//  socktype), ZFLOW_ETOOBIG (channel over 255 bytes), ZFLOW_EENDPOINT (bad
//  endpoint) or ZFLOW_ECLOSED.
int zflow_hpfeeds_publish_from (zflow_hpfeeds_t *self, int socktype, const char *endpoint,
                                const char *subscribe, const char *channel);

//  True while the client is connected and its auth wait is over; false
//  for a NULL self or an actor that is gone.
bool zflow_hpfeeds_connected (zflow_hpfeeds_t *self);

//  Asks the actor for STATS and waits up to timeout_ms (-1 forever).
//  Returns the counters (see above) as a hash of name -> decimal text (the
//  caller owns it; zhash_destroy), or NULL on timeout or for a NULL self.
zhash_t *zflow_hpfeeds_stats (zflow_hpfeeds_t *self, int timeout_ms);

//  Turns the actor's tracing to stderr on or off (does not wait). NULL
//  self does nothing.
void zflow_hpfeeds_set_verbose (zflow_hpfeeds_t *self, bool verbose);

//  Returns the actor (owned by the client: do not destroy it), for polling
//  or zflow_actor_stats; NULL for a NULL self.
zactor_t *zflow_hpfeeds_actor (zflow_hpfeeds_t *self);

#ifdef __cplusplus
}
#endif

#endif
