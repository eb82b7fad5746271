/*  =========================================================================
    zflow_centrifugo_internal - what the client's files share (not public)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_CENTRIFUGO_INTERNAL_H_INCLUDED
#define ZFLOW_CENTRIFUGO_INTERNAL_H_INCLUDED

#include "zflow_centrifugo_json.h"

//  POSTs size bytes of body to url. Returns 0 when an answer came (any
//  HTTP status), or a REQUEST failure already recorded.
int zflow__centrifugo_post (zflow_centrifugo_t *self, const char *url, const char *body,
                            size_t size);

//  The last answer's body (owned by the client, NUL-terminated) and size.
const char *zflow__centrifugo_body (zflow_centrifugo_t *self, size_t *size_p);

//  Records obj as a RESPONSE failure if it is {"code":int,...}; returns
//  ZFLOW_EREFUSED then, else 0.
int zflow__centrifugo_error_object (zflow_centrifugo_t *self, const json_t *obj);

//  Returns 0 for HTTP 200, else records and returns the failure.
int zflow__centrifugo_check_status (zflow_centrifugo_t *self);

//  Records that the server has no API method method (HTTP 404 on its
//  modern path) as a RESPONSE failure with code 104; returns
//  ZFLOW_EREFUSED. The HTTP status stays readable.
int zflow__centrifugo_method_missing (zflow_centrifugo_t *self, const char *method);

//  Turns the last failure (a RESPONSE 104) into ZFLOW_ENOTSUP with what as
//  its message, keeping kind, code and HTTP status; returns ZFLOW_ENOTSUP.
int zflow__centrifugo_not_supported (zflow_centrifugo_t *self, const char *what);

//  Records a DECODE failure; returns ZFLOW_EPROTO.
int zflow__centrifugo_decode_failed (zflow_centrifugo_t *self, const char *what);

//  Records a USAGE failure; returns rc.
int zflow__centrifugo_usage (zflow_centrifugo_t *self, int rc, const char *what);

//  Clears the last failure.
void zflow__centrifugo_reset_error (zflow_centrifugo_t *self);

//  The address (owned by the client).
const char *zflow__centrifugo_address (zflow_centrifugo_t *self);

//  The queue of batch commands, an array owned by the client.
json_t *zflow__centrifugo_pending (zflow_centrifugo_t *self);

//  As zflow_centrifugo_json_add, sharing params (a reference is taken; the
//  caller must not change params until the batch is sent).
int zflow__centrifugo_add_shared (zflow_centrifugo_t *self, const char *method, json_t *params);

//  Runs the encoder hook on object; returns a new reference or NULL.
json_t *zflow__centrifugo_encode (zflow_centrifugo_t *self, const void *object);

#endif
