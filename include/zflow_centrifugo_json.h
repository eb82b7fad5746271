/*  =========================================================================
    zflow_centrifugo_json - the Centrifugo API client with jansson values

    The calls of zflow_centrifugo.h taking and returning jansson values
    instead of JSON text, and a typed call for every server API method.
    This header includes <jansson.h>, so a program that includes it needs
    jansson's include path and library. zflow.h does not include it:
    include it yourself, and with CMake ask the package for the component,
        find_package (zflow REQUIRED COMPONENTS json)
        target_link_libraries (app PRIVATE zflow::zflow zflow::json)
    or with pkg-config add jansson:
        cc app.c $(pkg-config --cflags --libs libzflow jansson)

    Results are parsed jansson values: on success *result_p (when the
    result_p argument is not NULL) receives the "result" object of the
    reply, a new reference the caller owns and releases with json_decref.
    On failure *result_p is set to NULL. JSON arguments (data, params,
    extra) are borrowed: the client never steals or changes them. The
    return codes and the failure details are those of zflow_centrifugo.h;
    every call returns ZFLOW_EINVAL for a NULL self.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_CENTRIFUGO_JSON_H_INCLUDED
#define ZFLOW_CENTRIFUGO_JSON_H_INCLUDED

#include "zflow_centrifugo.h"
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Turns a caller's object into JSON for zflow_centrifugo_json_publish_object
//  (aiocent's json_encoder). Returns a new reference (the client releases
//  it), or NULL if the object cannot be encoded (the call then fails with
//  ZFLOW_EINVAL). object and arg belong to the caller.
typedef json_t *(zflow_centrifugo_json_encoder_fn) (const void *object, void *arg);

//  A position in a channel's history stream.
typedef struct {
    uint64_t offset;   //  offset in the stream
    const char *epoch; //  epoch of the stream (borrowed for the call)
} zflow_centrifugo_json_position_t;

//  Sets the encoder used by zflow_centrifugo_json_publish_object (NULL to
//  unset). encoder and arg stay the caller's and must outlive their use.
//  Nothing happens for a NULL self.
void zflow_centrifugo_json_set_encoder (zflow_centrifugo_t *self,
                                        zflow_centrifugo_json_encoder_fn *encoder, void *arg);

//  Calls any API method with params (an object, borrowed; NULL means {}).
//  The typed calls below are built on this one. Returns 0, ZFLOW_EINVAL
//  (bad method, params not an object) or a failure of zflow_centrifugo.h.
int zflow_centrifugo_json_call (zflow_centrifugo_t *self, const char *method, const json_t *params,
                                json_t **result_p);

//  publish: sends data (any JSON, borrowed; may be NULL when opts has
//  b64data) into channel. opts may be NULL (its tags_json, if set, must be
//  a JSON object as text, else ZFLOW_EINVAL). The result holds offset and
//  epoch when the channel keeps history.
int zflow_centrifugo_json_publish (zflow_centrifugo_t *self, const char *channel,
                                   const json_t *data, const zflow_centrifugo_publish_opts_t *opts,
                                   json_t **result_p);

//  As publish, with the data made by the encoder from object (borrowed).
//  Returns ZFLOW_EINVAL when no encoder is set or it returns NULL.
int zflow_centrifugo_json_publish_object (zflow_centrifugo_t *self, const char *channel,
                                          const void *object,
                                          const zflow_centrifugo_publish_opts_t *opts,
                                          json_t **result_p);

//  broadcast: the same data into the count channels (channels and its
//  strings borrowed). The result's "responses" array holds one publish
//  response (with its own "error" or "result") per channel. ZFLOW_EINVAL
//  for no channels or a NULL one.
int zflow_centrifugo_json_broadcast (zflow_centrifugo_t *self, const char **channels, size_t count,
                                     const json_t *data,
                                     const zflow_centrifugo_publish_opts_t *opts,
                                     json_t **result_p);

//  subscribe / unsubscribe user to / from channel. extra (an object,
//  borrowed, may be NULL) adds the optional fields: client, session, info,
//  b64info, data, b64data, recover_since, override. ZFLOW_EINVAL for a
//  NULL user or channel, or extra not an object.
int zflow_centrifugo_json_subscribe (zflow_centrifugo_t *self, const char *user,
                                     const char *channel, const json_t *extra, json_t **result_p);
int zflow_centrifugo_json_unsubscribe (zflow_centrifugo_t *self, const char *user,
                                       const char *channel, const json_t *extra, json_t **result_p);

//  disconnect / refresh user. extra may add client, session, whitelist,
//  disconnect {code, reason} (disconnect), expired, expire_at (refresh).
//  ZFLOW_EINVAL for a NULL user or extra not an object.
int zflow_centrifugo_json_disconnect (zflow_centrifugo_t *self, const char *user,
                                      const json_t *extra, json_t **result_p);
int zflow_centrifugo_json_refresh (zflow_centrifugo_t *self, const char *user, const json_t *extra,
                                   json_t **result_p);

//  presence: the result's "presence" maps client id -> client info.
//  presence_stats: the result holds num_clients and num_users.
//  ZFLOW_EINVAL for a NULL channel.
int zflow_centrifugo_json_presence (zflow_centrifugo_t *self, const char *channel,
                                    json_t **result_p);
int zflow_centrifugo_json_presence_stats (zflow_centrifugo_t *self, const char *channel,
                                          json_t **result_p);

//  history: limit publications at most; 0 asks for the stream position
//  only (no "publications"), ZFLOW_CENTRIFUGO_HISTORY_ALL (-1) for every
//  publication the channel keeps (Centrifugo's limit -1). since may be
//  NULL (borrowed; its epoch must not be NULL), reverse iterates from the
//  newest. The result holds "publications", "offset" and "epoch".
//  ZFLOW_EINVAL for a NULL channel or a limit below -1.
int zflow_centrifugo_json_history (zflow_centrifugo_t *self, const char *channel, int limit,
                                   const zflow_centrifugo_json_position_t *since, bool reverse,
                                   json_t **result_p);

//  history_remove: drops the channel's history. ZFLOW_EINVAL for a NULL
//  channel.
int zflow_centrifugo_json_history_remove (zflow_centrifugo_t *self, const char *channel,
                                          json_t **result_p);

//  channels: active channels, filtered by pattern (NULL for all). The
//  result's "channels" maps channel -> {num_clients}.
int zflow_centrifugo_json_channels (zflow_centrifugo_t *self, const char *pattern,
                                    json_t **result_p);

//  rpc: calls the server-side RPC method (borrowed) with params (an
//  object, borrowed, may be NULL). The result holds "data", what the RPC
//  returned. Open-source Centrifugo v6 registers no RPC methods: it
//  answers error 104 (ZFLOW_EREFUSED, code ZFLOW_CENTRIFUGO_NOT_FOUND) for
//  any name. ZFLOW_EINVAL for a NULL or empty method or params not an
//  object.
int zflow_centrifugo_json_rpc (zflow_centrifugo_t *self, const char *method, const json_t *params,
                               json_t **result_p);

//  connections: the connections of user (may be NULL), filtered by a CEL
//  expression (may be NULL); the result's "connections" maps client id ->
//  connection info. Centrifugo PRO only: open-source Centrifugo has no
//  such method (modern format: HTTP 404; legacy and batch: error 104),
//  and the call then returns ZFLOW_ENOTSUP, kind RESPONSE, code
//  ZFLOW_CENTRIFUGO_NOT_FOUND, and a message that says so.
int zflow_centrifugo_json_connections (zflow_centrifugo_t *self, const char *user,
                                       const char *expression, json_t **result_p);

//  info: the result's "nodes" describes the running nodes.
int zflow_centrifugo_json_info (zflow_centrifugo_t *self, json_t **result_p);

//  Queues one batch command as zflow_centrifugo_add (params borrowed and
//  copied; NULL means {}). Returns 0, ZFLOW_EINVAL or ZFLOW_ENOMEM.
int zflow_centrifugo_json_add (zflow_centrifugo_t *self, const char *method, const json_t *params);

//  Sends the queued commands as zflow_centrifugo_send; on success
//  *replies_p (if not NULL) gets the array of replies, a new reference the
//  caller owns (json_decref). Walk it with zflow_centrifugo_json_reply_error
//  and _reply_result.
int zflow_centrifugo_json_send (zflow_centrifugo_t *self, bool parallel, json_t **replies_p);

//  If reply (one element of send's replies, borrowed) carries an error,
//  returns its code (> 0; INT_MAX for a code outside 1 .. INT_MAX) and
//  sets *message_p (if not NULL) to its message, owned by reply. Returns 0
//  when the reply is a success or not an object.
int zflow_centrifugo_json_reply_error (const json_t *reply, const char **message_p);

//  Returns the result object of a successful reply (borrowed from reply:
//  no new reference), or NULL for an error reply or a reply that is not
//  an object.
json_t *zflow_centrifugo_json_reply_result (const json_t *reply);

#ifdef __cplusplus
}
#endif

#endif
