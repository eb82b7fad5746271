/*  =========================================================================
    zflow_centrifugo_sink - an actor that publishes zflow envelopes into
    Centrifugo channels

    The sink reads envelopes (frame 1 key, frame 2 meta, frame 3 payload)
    from its input socket: a PULL fed by PUSH producers (for hub keys: a
    hub subscriber's actor listener on a pattern, which the hub counts and
    which is lossless under its BLOCK policy), or a SUB connected to any
    publisher's endpoint, a hub's XPUB side included (filtered by key
    prefixes; the hub does not count plain SUB sockets).
    Each envelope becomes one publish command into the channel its key maps
    to, and commands go out in batches over one kept-alive connection:
    modern format as /api/batch, legacy format newline-delimited.

    Mapping rule: a template where "{*}" is every key component joined with
    ':' and "{N}" is component N (0-based); other text is copied. The
    default "{*}" maps the key ("chat", "room1") to channel "chat:room1".
    A key without component N is counted in "unmapped" and dropped.

    Payload (only the first payload frame is used): in text mode (the
    default) a payload that is valid JSON is published as "data" as it
    is; any other UTF-8 text is published as a JSON string, so a line of
    text arrives as that text; a payload that is not UTF-8 cannot travel
    in JSON and is skipped, counted in "not_text" and
    "drops". Text mode never sends "b64data": Centrifugo closes every
    JSON-protocol subscriber of a channel that gets a binary publication
    (close code 3506) and its history API then fails. With binary set,
    every payload is published as "b64data" (base64), for channels whose
    subscribers all speak the Protobuf protocol. An empty payload is
    skipped in both modes, counted in "empty" and "drops" (the server
    refuses an empty b64data with error 107, and it is no JSON value).

    Batching: a batch goes out when batch_max commands are waiting, or
    batch_ms after the first of them arrived. One batch is in flight at a
    time (the HTTP call blocks the actor), so in-flight is bounded by
    batch_max.

    Retries: each command carries an idempotency_key ("<sink id>-<seq>"),
    kept across retries, so Centrifugo drops a duplicate when a batch that
    was applied is sent again because its answer was lost. A request error
    (refused, timeout, non-200, closed connection) or an unreadable answer
    retries the whole batch after a backoff that doubles from retry_min_ms
    to retry_max_ms; a per-command error 100 (internal) retries that
    command; other per-command errors are permanent and counted in
    "rejected" and "drops". HTTP 401 and 403 (a wrong or missing API key)
    are permanent too: the batch is dropped at once, counted in "refused"
    and "drops". max_attempts > 0 gives up on a batch after that
    many failed attempts (counted in drops); 0 retries for ever. Order
    within a channel is kept, except that a command retried alone after
    error 100 is published after the commands of its batch that succeeded.

    Backpressure: the outbox holds at most outbox_max commands. When it is
    full the sink stops reading its input (lossless, the default), so the
    input stream's watermark and ZeroMQ's HWM push back on PUSH producers;
    with lossy set it reads on and drops, counted in "drops". (A PUB
    producer drops at its own HWM, as ZeroMQ PUB/SUB always does: use
    PUSH/PULL for end-to-end lossless delivery.)

    STATS adds: published, rejected, malformed, unmapped, batches,
    requests, retries, request_errors, response_errors, outbox (commands
    waiting, the standard queue_depth too), connects (TCP connections
    opened), refused, empty, not_text, and - once something failed - reason: TEXT, not a
    number, saying why the last request or command failed ("HTTP status
    401: ... (wrong or missing API key)", "error 102: unknown channel").

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_CENTRIFUGO_SINK_H_INCLUDED
#define ZFLOW_CENTRIFUGO_SINK_H_INCLUDED

#include "zflow_centrifugo.h"
#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zflow_centrifugo_sink_t zflow_centrifugo_sink_t;

#define ZFLOW_CENTRIFUGO_SINK_BATCH_MAX 100
#define ZFLOW_CENTRIFUGO_SINK_BATCH_MS 5
#define ZFLOW_CENTRIFUGO_SINK_OUTBOX_MAX 10000
#define ZFLOW_CENTRIFUGO_SINK_RETRY_MIN_MS 10
#define ZFLOW_CENTRIFUGO_SINK_RETRY_MAX_MS 2000

//  The sink's configuration. zflow_centrifugo_sink_config_init sets every
//  default; a zero-initialised struct means the same defaults (zero / NULL
//  / false fields take the defaults named here).
typedef struct {
    const char *address;              //  API address (required), as in zflow_centrifugo_config_t
    const char *api_key;              //  API key, or NULL
    zflow_centrifugo_format_t format; //  wire format (default modern)
    bool insecure;                    //  turn TLS verification off (default: verify)
    int timeout_ms;                   //  total timeout per HTTP request (5000)
    int input_type;                   //  ZMQ_SUB (the default) or ZMQ_PULL
    const char *input_connect;        //  endpoints the input connects to (comma list)
    const char *input_bind;           //  endpoints the input binds to (comma list)
    size_t input_hwm;                 //  messages buffered on the input side: the
                                      //  socket's ZMQ_RCVHWM and the stream's read
                                      //  watermark (default: ZeroMQ's 1000 and the
                                      //  stream's 64 KiB)
    const char *subscribe;            //  SUB: key prefixes in text form, comma list
                                      //  ("hpfeeds,chat/room1"); NULL or "" for all
    const char *channel_rule;         //  key -> channel template ("{*}")
    size_t batch_max;                 //  commands per batch (100)
    int batch_ms;                     //  longest wait before a partial batch (5)
    size_t outbox_max;                //  commands waiting at most (10000)
    bool lossy;                       //  drop when the outbox is full (default: push back)
    int retry_min_ms;                 //  first retry backoff (10)
    int retry_max_ms;                 //  longest retry backoff (2000)
    int max_attempts;                 //  attempts per batch, 0 for no limit
    bool parallel;                    //  ask Centrifugo to run batch commands in parallel
    bool close_connections;           //  a new connection per request (default: keep-alive)
    bool binary;                      //  publish every payload as b64data (Protobuf-protocol
                                      //  subscribers only; default: text, see above)
} zflow_centrifugo_sink_config_t;

//  Sets every field of config to its default (address and the input
//  endpoints NULL: set them). config belongs to the caller; a NULL config
//  is ignored.
void zflow_centrifugo_sink_config_init (zflow_centrifugo_sink_config_t *config);

//  Starts the sink actor. Everything is copied from config (strings
//  duplicated) before the call returns: the caller may free or reuse
//  config at once. Returns the sink (the caller owns it;
//  zflow_centrifugo_sink_destroy), or NULL with *err_p (if err_p is not
//  NULL) set to ZFLOW_EINVAL (config NULL), ZFLOW_ECONFIG (missing
//  address or input, bad input type, bad key prefix, batch_max >
//  outbox_max, retry_min_ms > retry_max_ms, an API key holding CR or LF,
//  an unknown format), ZFLOW_EENDPOINT (bind or connect failed) or
//  ZFLOW_ENOMEM.
zflow_centrifugo_sink_t *zflow_centrifugo_sink_new (const zflow_centrifugo_sink_config_t *config,
                                                    int *err_p);

//  Stops the actor and frees the sink; sets *self_p to NULL. Before it
//  ends, the actor makes one attempt (no retries) to send what its outbox
//  still holds. Nothing happens when self_p or *self_p is NULL;
//  idempotent. Producers connected to the sink's input may outlive it:
//  their messages then wait at their own HWM (PUSH) or are dropped (PUB).
void zflow_centrifugo_sink_destroy (zflow_centrifugo_sink_t **self_p);

//  Returns the sink's actor (owned by the sink: do not destroy it), e.g.
//  to poll it, or NULL for a NULL self.
zactor_t *zflow_centrifugo_sink_actor (zflow_centrifugo_sink_t *self);

//  Returns the endpoint the sink reads envelopes on: the last endpoint of
//  input_bind as bound (a tcp:// port chosen by the system resolved), for
//  producers to connect to. Owned by the sink, valid until it is
//  destroyed. NULL when the input only connects (input_bind NULL) or for
//  a NULL self.
const char *zflow_centrifugo_sink_endpoint (zflow_centrifugo_sink_t *self);

//  Returns the sink's counters (as zflow_actor_stats: a new hash the
//  caller owns and destroys with zhash_destroy), or NULL on timeout or for
//  a NULL self.
zhash_t *zflow_centrifugo_sink_stats (zflow_centrifugo_sink_t *self, int timeout_ms);

//  Turns tracing to stderr on or off (off by default): the VERBOSE command
//  every zflow actor takes, as a pipeline sends it too; the last one sent
//  wins. Asynchronous: it takes effect before the next command the actor
//  reads. Nothing happens for a NULL self.
void zflow_centrifugo_sink_set_verbose (zflow_centrifugo_sink_t *self, bool verbose);

#ifdef __cplusplus
}
#endif

#endif
