/*  =========================================================================
    zflow_centrifugo - a blocking client for Centrifugo's server HTTP API

    One client object holds one libcurl easy handle, reused from call to
    call so the TCP (and TLS) connection is kept alive. Every call blocks
    until the answer, the total timeout or an error, so the client serves a
    plain thread and an actor alike. A client is not thread-safe: use one
    per thread.

    Two wire formats:
      modern (Centrifugo v5/v6): POST <address>/<method> with the method's
        JSON request as the body and the header "X-API-Key: <key>";
        batches go to <address>/batch as {"commands":[...],"parallel":b}.
      legacy (Centrifugo v3/v4): POST <address> with
        {"method":<method>,"params":{...}} and "Authorization: apikey
        <key>"; several commands are sent newline-delimited in one body
        and the server answers one reply per line.

    Every call returns 0 or a negative zflow code, and the client keeps the
    details of the last failure (zflow_centrifugo_error_kind and friends):

      kind REQUEST   the HTTP exchange failed: ZFLOW_EENDPOINT (connection
                     refused, name not resolved), ZFLOW_ETIMEDOUT (connect
                     or total timeout), ZFLOW_ETRANSPORT (TLS failure,
                     connection closed without an answer, an HTTP status
                     other than 200, including 401 for a wrong key)
      kind RESPONSE  Centrifugo answered with an error object
                     {"error":{"code","message"}} (or, in transport error
                     mode, an HTTP status with a bare {"code","message"}
                     body): ZFLOW_EREFUSED; code and message are kept
      kind DECODE    the body was not the JSON the API documents:
                     ZFLOW_EPROTO
      (and ZFLOW_EINVAL for bad arguments, ZFLOW_ENOMEM, ZFLOW_ETOOBIG
      for an answer over the size limit)

    Results are parsed jansson values: on success *result_p (when the
    result_p argument is not NULL) receives the "result" object of the
    reply, a new reference the caller owns and releases with json_decref.
    On failure *result_p is set to NULL. JSON arguments (data, extra, tags)
    are borrowed: the client never steals or changes them.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_CENTRIFUGO_H_INCLUDED
#define ZFLOW_CENTRIFUGO_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zflow_centrifugo_t zflow_centrifugo_t;

//  The API wire format.
typedef enum {
    ZFLOW_CENTRIFUGO_MODERN = 0, //  v5/v6: one path per method, X-API-Key
    ZFLOW_CENTRIFUGO_LEGACY = 1  //  v3/v4: {"method","params"}, Authorization: apikey
} zflow_centrifugo_format_t;

//  What kind of failure the last call had.
typedef enum {
    ZFLOW_CENTRIFUGO_ERR_NONE = 0,     //  the last call succeeded
    ZFLOW_CENTRIFUGO_ERR_REQUEST = 1,  //  the HTTP request failed
    ZFLOW_CENTRIFUGO_ERR_RESPONSE = 2, //  Centrifugo answered with an error
    ZFLOW_CENTRIFUGO_ERR_DECODE = 3,   //  the answer was not the expected JSON
    ZFLOW_CENTRIFUGO_ERR_USAGE = 4     //  bad argument or out of memory
} zflow_centrifugo_error_kind_t;

//  Centrifugo's documented server API error codes.
#define ZFLOW_CENTRIFUGO_INTERNAL 100        //  internal server error
#define ZFLOW_CENTRIFUGO_UNKNOWN_CHANNEL 102 //  namespace not found
#define ZFLOW_CENTRIFUGO_NOT_FOUND 104       //  method (or item) not found
#define ZFLOW_CENTRIFUGO_BAD_REQUEST 107     //  malformed request
#define ZFLOW_CENTRIFUGO_NOT_AVAILABLE 108   //  feature off for the channel
#define ZFLOW_CENTRIFUGO_UNRECOVERABLE 112   //  history position not recoverable
#define ZFLOW_CENTRIFUGO_CONFLICT 113        //  conflicting state

//  Default timeouts in milliseconds (aiocent's default total is 1 s).
#define ZFLOW_CENTRIFUGO_CONNECT_TIMEOUT 1000
#define ZFLOW_CENTRIFUGO_TOTAL_TIMEOUT 5000
//  Largest answer body kept; a larger one fails with ZFLOW_ETOOBIG.
#define ZFLOW_CENTRIFUGO_MAX_BODY (64 * 1024 * 1024)

//  Turns a caller's object into JSON for the *_object calls (aiocent's
//  json_encoder). Returns a new reference (the client releases it), or
//  NULL if the object cannot be encoded (the call then fails with
//  ZFLOW_EINVAL). object and arg belong to the caller.
typedef json_t *(zflow_centrifugo_encoder_fn) (const void *object, void *arg);

//  Optional fields of publish and broadcast. Zero-initialise and set what
//  you need; NULL / false / 0 fields are left out of the request.
typedef struct {
    bool skip_history;           //  do not keep this publication in history
    const json_t *tags;          //  object of string -> string (borrowed)
    const char *idempotency_key; //  drop duplicates of this publish on retry
    const char *b64data;         //  binary payload in base64 (data may be NULL)
    bool delta;                  //  ask for delta compression to subscribers
    int64_t version;             //  document version (> 0 to send)
    const char *version_epoch;   //  epoch of version
} zflow_centrifugo_publish_opts_t;

//  A position in a channel's history stream.
typedef struct {
    uint64_t offset;   //  offset in the stream
    const char *epoch; //  epoch of the stream
} zflow_centrifugo_position_t;

//  Creates a client for the API at address: the API prefix for the modern
//  format ("http://127.0.0.1:8000/api"), the full endpoint for legacy.
//  api_key may be NULL (no key sent). Defaults: modern format, TLS
//  verification on, keep-alive on, connect timeout
//  ZFLOW_CENTRIFUGO_CONNECT_TIMEOUT, total ZFLOW_CENTRIFUGO_TOTAL_TIMEOUT.
//  Returns the client (the caller owns it; zflow_centrifugo_destroy), or
//  NULL on a NULL or empty address, a key holding CR or LF, or when out of
//  memory.
zflow_centrifugo_t *zflow_centrifugo_new (const char *address, const char *api_key);

//  Closes the connection and frees the client; sets *self_p to NULL.
//  Idempotent.
void zflow_centrifugo_destroy (zflow_centrifugo_t **self_p);

//  Sets the API format. Returns 0 or ZFLOW_EINVAL.
int zflow_centrifugo_set_format (zflow_centrifugo_t *self, zflow_centrifugo_format_t format);

//  Sets the connect and total timeouts in milliseconds (> 0). Returns 0
//  or ZFLOW_EINVAL.
int zflow_centrifugo_set_timeouts (zflow_centrifugo_t *self, int connect_ms, int total_ms);

//  Turns TLS certificate and host name verification on (the default) or
//  off (aiocent's verify=False; for test servers only).
void zflow_centrifugo_set_verify (zflow_centrifugo_t *self, bool verify);

//  Asks for the transport error mode (header X-Centrifugo-Error-Mode:
//  transport): errors come back as HTTP statuses with a bare
//  {"code","message"} body. They are still reported as RESPONSE errors
//  with their code and message. Off by default.
void zflow_centrifugo_set_transport_errors (zflow_centrifugo_t *self, bool on);

//  Keeps connections alive between calls (the default) or opens a fresh
//  one per request (for comparison in benchmarks).
void zflow_centrifugo_set_keepalive (zflow_centrifugo_t *self, bool on);

//  Sets the encoder used by the *_object calls (NULL to unset).
void zflow_centrifugo_set_encoder (zflow_centrifugo_t *self, zflow_centrifugo_encoder_fn *encoder,
                                   void *arg);

//  Returns the format in use.
zflow_centrifugo_format_t zflow_centrifugo_format (zflow_centrifugo_t *self);

//  Details of the last failure (all reset by each call):
//  kind, the Centrifugo error code (RESPONSE) or 0, the HTTP status of the
//  last answer (0 if none came), and a message (never NULL; owned by the
//  client, valid until the next call).
zflow_centrifugo_error_kind_t zflow_centrifugo_error_kind (zflow_centrifugo_t *self);
int zflow_centrifugo_error_code (zflow_centrifugo_t *self);
long zflow_centrifugo_http_status (zflow_centrifugo_t *self);
const char *zflow_centrifugo_error_message (zflow_centrifugo_t *self);

//  Number of HTTP requests sent and of new TCP connections opened so far.
uint64_t zflow_centrifugo_requests (zflow_centrifugo_t *self);
uint64_t zflow_centrifugo_connects (zflow_centrifugo_t *self);

//  Calls any API method with params (an object, borrowed; NULL means {}).
//  The other calls are built on this one. Returns as described above.
int zflow_centrifugo_call (zflow_centrifugo_t *self, const char *method, const json_t *params,
                           json_t **result_p);

//  publish: sends data (any JSON, borrowed; may be NULL when opts has
//  b64data) into channel. opts may be NULL. The result holds offset and
//  epoch when the channel keeps history.
int zflow_centrifugo_publish (zflow_centrifugo_t *self, const char *channel, const json_t *data,
                              const zflow_centrifugo_publish_opts_t *opts, json_t **result_p);

//  As publish, with the data made by the encoder from object.
int zflow_centrifugo_publish_object (zflow_centrifugo_t *self, const char *channel,
                                     const void *object,
                                     const zflow_centrifugo_publish_opts_t *opts,
                                     json_t **result_p);

//  broadcast: the same data into the count channels. The result's
//  "responses" array holds one publish response (with its own "error" or
//  "result") per channel.
int zflow_centrifugo_broadcast (zflow_centrifugo_t *self, const char **channels, size_t count,
                                const json_t *data, const zflow_centrifugo_publish_opts_t *opts,
                                json_t **result_p);

//  subscribe / unsubscribe user to / from channel. extra (an object,
//  borrowed, may be NULL) adds the optional fields: client, session, info,
//  b64info, data, b64data, recover_since, override.
int zflow_centrifugo_subscribe (zflow_centrifugo_t *self, const char *user, const char *channel,
                                const json_t *extra, json_t **result_p);
int zflow_centrifugo_unsubscribe (zflow_centrifugo_t *self, const char *user, const char *channel,
                                  const json_t *extra, json_t **result_p);

//  disconnect / refresh user. extra may add client, session, whitelist,
//  disconnect {code, reason} (disconnect), expired, expire_at (refresh).
int zflow_centrifugo_disconnect (zflow_centrifugo_t *self, const char *user, const json_t *extra,
                                 json_t **result_p);
int zflow_centrifugo_refresh (zflow_centrifugo_t *self, const char *user, const json_t *extra,
                              json_t **result_p);

//  presence: the result's "presence" maps client id -> client info.
//  presence_stats: the result holds num_clients and num_users.
int zflow_centrifugo_presence (zflow_centrifugo_t *self, const char *channel, json_t **result_p);
int zflow_centrifugo_presence_stats (zflow_centrifugo_t *self, const char *channel,
                                     json_t **result_p);

//  history: limit < 0 leaves it out (only the stream position comes
//  back), since may be NULL, reverse iterates from the newest. The result
//  holds "publications", "offset" and "epoch".
int zflow_centrifugo_history (zflow_centrifugo_t *self, const char *channel, int limit,
                              const zflow_centrifugo_position_t *since, bool reverse,
                              json_t **result_p);

//  history_remove: drops the channel's history.
int zflow_centrifugo_history_remove (zflow_centrifugo_t *self, const char *channel,
                                     json_t **result_p);

//  channels: active channels, filtered by pattern (NULL for all). The
//  result's "channels" maps channel -> {num_clients}.
int zflow_centrifugo_channels (zflow_centrifugo_t *self, const char *pattern, json_t **result_p);

//  info: the result's "nodes" describes the running nodes.
int zflow_centrifugo_info (zflow_centrifugo_t *self, json_t **result_p);

//  Batches (aiocent's low-level add/send). add queues one command (params
//  borrowed and copied; NULL means {}) without sending. Returns 0,
//  ZFLOW_EINVAL or ZFLOW_ENOMEM.
int zflow_centrifugo_add (zflow_centrifugo_t *self, const char *method, const json_t *params);

//  Returns the number of queued commands.
size_t zflow_centrifugo_pending (zflow_centrifugo_t *self);

//  Drops the queued commands without sending.
void zflow_centrifugo_clear (zflow_centrifugo_t *self);

//  Sends the queued commands in one HTTP request (modern: /batch with
//  parallel; legacy: newline-delimited, parallel ignored) and empties the
//  queue whatever the outcome. On success *replies_p (if not NULL) gets an
//  array with one reply per command, in order (a new reference the caller
//  owns): modern replies are {"<method>":{result}} or {"error":{...}},
//  legacy ones {"result":{...}} or {"error":{...}}; walk them with
//  zflow_centrifugo_reply_error / _reply_result. A per-command error is
//  not a failure of send. Returns 0, ZFLOW_EINVAL (nothing queued), or a
//  REQUEST / DECODE failure (also when the number of replies is wrong).
int zflow_centrifugo_send (zflow_centrifugo_t *self, bool parallel, json_t **replies_p);

//  If reply (one element of send's replies) carries an error, returns its
//  code (> 0; INT_MAX for a code outside 1 .. INT_MAX) and sets *message_p
//  (if not NULL) to its message, owned by reply. Returns 0 when the reply
//  is a success.
int zflow_centrifugo_reply_error (const json_t *reply, const char **message_p);

//  Returns the result object of a successful reply (borrowed from reply),
//  or NULL for an error reply.
json_t *zflow_centrifugo_reply_result (const json_t *reply);

#ifdef __cplusplus
}
#endif

#endif
