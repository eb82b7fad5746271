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
                     body): ZFLOW_EREFUSED; code and message are kept.
                     A method the server does not have (Centrifugo v6
                     answers HTTP 404 on its path) reads as error 104
                     too, as the legacy format and batches report it
      kind DECODE    the body was not the JSON the API documents:
                     ZFLOW_EPROTO
      (and ZFLOW_EINVAL for bad arguments, ZFLOW_ENOMEM, ZFLOW_ETOOBIG
      for an answer over the size limit)

    JSON travels as text here, so this header needs no JSON library:
    params and data are JSON text the client parses (borrowed; bad JSON is
    ZFLOW_EINVAL), results come back as compact JSON text in a new string
    the caller owns and frees with free(). The same calls with jansson
    values, and typed helpers for every API method (subscribe, history,
    presence, ...), are in zflow_centrifugo_json.h, which needs jansson.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_CENTRIFUGO_H_INCLUDED
#define ZFLOW_CENTRIFUGO_H_INCLUDED

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

//  history's limit for every publication the channel keeps.
#define ZFLOW_CENTRIFUGO_HISTORY_ALL (-1)

//  Default timeouts in milliseconds (aiocent's default total is 1 s).
#define ZFLOW_CENTRIFUGO_CONNECT_TIMEOUT 1000
#define ZFLOW_CENTRIFUGO_TOTAL_TIMEOUT 5000
//  Largest answer body kept; a larger one fails with ZFLOW_ETOOBIG.
#define ZFLOW_CENTRIFUGO_MAX_BODY (64 * 1024 * 1024)

//  The client's configuration. zflow_centrifugo_config_init sets every
//  default; a zero-initialised struct means the same defaults.
typedef struct {
    const char *address;              //  the API prefix for the modern format
                                      //  ("http://127.0.0.1:8000/api"), the full
                                      //  endpoint for legacy (required)
    const char *api_key;              //  API key, or NULL (no key sent)
    zflow_centrifugo_format_t format; //  wire format (modern)
    int connect_timeout_ms;           //  connect timeout (0: ZFLOW_CENTRIFUGO_CONNECT_TIMEOUT)
    int timeout_ms;                   //  total timeout per request (0: ..._TOTAL_TIMEOUT)
    bool insecure;                    //  turn TLS certificate and host name checks off
                                      //  (aiocent's verify=False; test servers only)
    bool close_connections;           //  a new connection per request (default: keep-alive;
                                      //  for comparison in benchmarks)
    bool transport_errors;            //  ask for the transport error mode (header
                                      //  X-Centrifugo-Error-Mode: transport): errors come
                                      //  back as HTTP statuses with a bare {"code","message"}
                                      //  body, still reported as RESPONSE errors
} zflow_centrifugo_config_t;

//  Optional fields of publish and broadcast. Zero-initialise and set what
//  you need; NULL / false / 0 fields are left out of the request. Every
//  string is borrowed for the call only.
typedef struct {
    bool skip_history;           //  do not keep this publication in history
    const char *tags_json;       //  JSON object of string -> string, as text
    const char *idempotency_key; //  drop duplicates of this publish on retry
    const char *b64data;         //  binary payload in base64 (data may be NULL)
    bool delta;                  //  ask for delta compression to subscribers
    int64_t version;             //  document version (> 0 to send)
    const char *version_epoch;   //  epoch of version
} zflow_centrifugo_publish_opts_t;

//  Sets every field of config to its default (address NULL: set it).
//  config belongs to the caller; a NULL config is ignored.
void zflow_centrifugo_config_init (zflow_centrifugo_config_t *config);

//  Creates a client. Everything is copied from config (strings
//  duplicated): the caller may free or reuse config at once. No
//  connection is opened before the first call. Returns the client (the
//  caller owns it; zflow_centrifugo_destroy), or NULL with *err_p (if
//  err_p is not NULL) set to ZFLOW_EINVAL (config NULL), ZFLOW_ECONFIG
//  (address NULL or empty, a key holding CR or LF, an unknown format, a
//  negative timeout) or ZFLOW_ENOMEM (out of memory, or libcurl could not
//  start).
zflow_centrifugo_t *zflow_centrifugo_new (const zflow_centrifugo_config_t *config, int *err_p);

//  Closes the connection, drops queued batch commands and frees the
//  client; sets *self_p to NULL. Nothing happens when self_p or *self_p is
//  NULL; idempotent.
void zflow_centrifugo_destroy (zflow_centrifugo_t **self_p);

//  Changes the connect and total timeouts in milliseconds (> 0) for the
//  next calls, e.g. a shorter deadline for one call. Returns 0, or
//  ZFLOW_EINVAL (NULL self, a timeout <= 0; nothing changes then).
int zflow_centrifugo_set_timeouts (zflow_centrifugo_t *self, int connect_ms, int total_ms);

//  Returns the format in use (modern for a NULL self).
zflow_centrifugo_format_t zflow_centrifugo_format (zflow_centrifugo_t *self);

//  Details of the last failure (all reset by each call):
//  kind, the Centrifugo error code (RESPONSE) or 0, the HTTP status of the
//  last answer (0 if none came), and a message (never NULL; owned by the
//  client, valid until the next call). A NULL self reads as ERR_USAGE, 0,
//  0 and a message saying so.
zflow_centrifugo_error_kind_t zflow_centrifugo_error_kind (zflow_centrifugo_t *self);
int zflow_centrifugo_error_code (zflow_centrifugo_t *self);
long zflow_centrifugo_http_status (zflow_centrifugo_t *self);
const char *zflow_centrifugo_error_message (zflow_centrifugo_t *self);

//  Number of HTTP requests sent and of new TCP connections opened so far
//  (0 for a NULL self).
uint64_t zflow_centrifugo_requests (zflow_centrifugo_t *self);
uint64_t zflow_centrifugo_connects (zflow_centrifugo_t *self);

//  Calls any API method. params_json is the method's request object as
//  JSON text (borrowed; NULL means {}). On success *result_p (if result_p
//  is not NULL) gets the reply's "result" object as compact JSON text
//  ("{}" when the reply has none), a new string the caller frees with
//  free(); on failure it is set to NULL. Returns 0, ZFLOW_EINVAL (NULL
//  self, a NULL or empty method or one holding '/', params_json not a
//  JSON object), or a failure as described above.
int zflow_centrifugo_call (zflow_centrifugo_t *self, const char *method, const char *params_json,
                           char **result_p);

//  publish: sends data_json (any JSON value as text, borrowed; may be NULL
//  when opts has b64data) into channel. opts may be NULL. The result
//  (as for zflow_centrifugo_call) holds offset and epoch when the channel
//  keeps history. Returns 0, ZFLOW_EINVAL (NULL self or channel, no data,
//  data_json or opts->tags_json not valid JSON / not an object), or a
//  failure as described above.
int zflow_centrifugo_publish (zflow_centrifugo_t *self, const char *channel, const char *data_json,
                              const zflow_centrifugo_publish_opts_t *opts, char **result_p);

//  Batches (aiocent's low-level add/send). add queues one command
//  (params_json borrowed and parsed now; NULL means {}) without sending.
//  Returns 0, ZFLOW_EINVAL (NULL self, bad method, params_json not a JSON
//  object) or ZFLOW_ENOMEM.
int zflow_centrifugo_add (zflow_centrifugo_t *self, const char *method, const char *params_json);

//  Returns the number of queued commands (0 for a NULL self).
size_t zflow_centrifugo_pending (zflow_centrifugo_t *self);

//  Drops the queued commands without sending (nothing for a NULL self).
void zflow_centrifugo_clear (zflow_centrifugo_t *self);

//  Sends the queued commands in one HTTP request (modern: /batch with
//  parallel; legacy: newline-delimited, parallel ignored) and empties the
//  queue whatever the outcome. On success *replies_p (if not NULL) gets a
//  JSON array as compact text with one reply per command, in order (a new
//  string the caller frees with free()): modern replies are
//  {"<method>":{result}} or {"error":{"code","message"}}, legacy ones
//  {"result":{...}} or {"error":{...}}. A per-command error is not a
//  failure of send. On failure *replies_p is set to NULL. Returns 0,
//  ZFLOW_EINVAL (NULL self, nothing queued), or a REQUEST / DECODE
//  failure (also when the number of replies is wrong).
int zflow_centrifugo_send (zflow_centrifugo_t *self, bool parallel, char **replies_p);

#ifdef __cplusplus
}
#endif

#endif
