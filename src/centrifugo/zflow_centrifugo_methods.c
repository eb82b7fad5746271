/*  =========================================================================
    zflow_centrifugo_methods - the server API methods and batches

    Each method builds its documented request object and hands it to
    zflow_centrifugo_json_call, which frames it for the wire format in use and
    classifies the answer.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_centrifugo_internal.h"
#include "zflow_error.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Serialises value compactly and POSTs it to url.
static int s_post_json (zflow_centrifugo_t *self, const char *url, const json_t *value)
{
    char *body = json_dumps (value, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!body)
        return zflow__centrifugo_usage (self, ZFLOW_ENOMEM, "cannot serialise the request");
    int rc = zflow__centrifugo_post (self, url, body, strlen (body));
    free (body);
    return rc;
}

//  Turns one reply object {"result":..} / {"error":..} into the outcome of
//  a call. Returns 0 with *result_p set (new reference), or a failure.
static int s_take_reply (zflow_centrifugo_t *self, json_t *reply, json_t **result_p)
{
    if (!json_is_object (reply))
        return zflow__centrifugo_decode_failed (self, "the reply is not a JSON object");
    json_t *error = json_object_get (reply, "error");
    if (error) {
        int rc = zflow__centrifugo_error_object (self, error);
        return rc ? rc : zflow__centrifugo_decode_failed (self, "malformed error object");
    }
    json_t *result = json_object_get (reply, "result");
    if (result && !json_is_object (result))
        return zflow__centrifugo_decode_failed (self, "\"result\" is not an object");
    if (result_p)
        *result_p = result ? json_incref (result) : json_object ();
    return 0;
}

//  Parses the whole body of the last answer as one JSON value.
static json_t *s_parse_body (zflow_centrifugo_t *self)
{
    size_t size;
    const char *body = zflow__centrifugo_body (self, &size);
    return json_loadb (body, size, 0, NULL);
}

int zflow_centrifugo_json_call (zflow_centrifugo_t *self, const char *method, const json_t *params,
                                json_t **result_p)
{
    if (result_p)
        *result_p = NULL;
    if (!self)
        return ZFLOW_EINVAL;
    zflow__centrifugo_reset_error (self);
    if (!method || !*method || strchr (method, '/') || (params && !json_is_object (params)))
        return zflow__centrifugo_usage (self, ZFLOW_EINVAL, "bad method or params");
    json_t *empty = params ? NULL : json_object ();
    const json_t *args = params ? params : empty;
    const char *address = zflow__centrifugo_address (self);
    int rc;
    if (zflow_centrifugo_format (self) == ZFLOW_CENTRIFUGO_MODERN) {
        char *url = (char *) malloc (strlen (address) + strlen (method) + 2);
        if (!url) {
            json_decref (empty);
            return zflow__centrifugo_usage (self, ZFLOW_ENOMEM, "out of memory");
        }
        sprintf (url, "%s/%s", address, method);
        rc = s_post_json (self, url, args);
        free (url);
    } else {
        json_t *command = json_pack ("{s:s, s:O}", "method", method, "params", args);
        rc = command ? s_post_json (self, address, command)
                     : zflow__centrifugo_usage (self, ZFLOW_ENOMEM, "out of memory");
        json_decref (command);
    }
    json_decref (empty);
    if (rc == 0)
        rc = zflow__centrifugo_check_status (self);
    if (rc && zflow_centrifugo_format (self) == ZFLOW_CENTRIFUGO_MODERN &&
        zflow_centrifugo_error_kind (self) == ZFLOW_CENTRIFUGO_ERR_REQUEST &&
        zflow_centrifugo_http_status (self) == 404)
        //  The modern API has one path per method: a server without the
        //  method answers a plain HTTP 404 (Centrifugo v6), where the legacy
        //  format and a batch say error 104. Report all three alike.
        rc = zflow__centrifugo_method_missing (self, method);
    if (rc)
        return rc;
    json_t *reply = s_parse_body (self);
    if (!reply)
        return zflow__centrifugo_decode_failed (self, "body is not JSON");
    rc = s_take_reply (self, reply, result_p);
    json_decref (reply);
    return rc;
}

//  Adds the optional publish / broadcast fields of opts to params.
static int s_add_publish_opts (json_t *params, const zflow_centrifugo_publish_opts_t *opts)
{
    if (!opts)
        return 0;
    int rc = 0;
    if (opts->skip_history)
        rc |= json_object_set_new (params, "skip_history", json_true ());
    if (opts->tags_json) {
        json_t *tags = json_loads (opts->tags_json, 0, NULL);
        if (!json_is_object (tags)) {
            json_decref (tags);
            return -1;
        }
        rc |= json_object_set_new (params, "tags", tags);
    }
    if (opts->idempotency_key)
        rc |= json_object_set_new (params, "idempotency_key", json_string (opts->idempotency_key));
    if (opts->b64data)
        rc |= json_object_set_new (params, "b64data", json_string (opts->b64data));
    if (opts->delta)
        rc |= json_object_set_new (params, "delta", json_true ());
    if (opts->version > 0)
        rc |= json_object_set_new (params, "version", json_integer (opts->version));
    if (opts->version_epoch)
        rc |= json_object_set_new (params, "version_epoch", json_string (opts->version_epoch));
    return rc;
}

//  Calls method with params (stolen), unless building them failed.
static int s_call_owned (zflow_centrifugo_t *self, const char *method, json_t *params, int build_rc,
                         json_t **result_p)
{
    if (result_p)
        *result_p = NULL;
    if (!self) {
        json_decref (params);
        return ZFLOW_EINVAL;
    }
    if (!params || build_rc) {
        json_decref (params);
        zflow__centrifugo_reset_error (self);
        return zflow__centrifugo_usage (self, ZFLOW_EINVAL, "bad arguments");
    }
    int rc = zflow_centrifugo_json_call (self, method, params, result_p);
    json_decref (params);
    return rc;
}

//  Copies the fields of extra (an object or NULL) into params.
static int s_merge_extra (json_t *params, const json_t *extra)
{
    if (!extra)
        return 0;
    if (!json_is_object (extra))
        return -1;
    return json_object_update (params, (json_t *) extra);
}

int zflow_centrifugo_json_publish (zflow_centrifugo_t *self, const char *channel,
                                   const json_t *data, const zflow_centrifugo_publish_opts_t *opts,
                                   json_t **result_p)
{
    int rc = (!channel || (!data && !(opts && opts->b64data))) ? -1 : 0;
    json_t *params = json_object ();
    if (params && rc == 0) {
        rc |= json_object_set_new (params, "channel", json_string (channel));
        if (data)
            rc |= json_object_set_new (params, "data", json_deep_copy (data));
        rc |= s_add_publish_opts (params, opts);
    }
    return s_call_owned (self, "publish", params, rc, result_p);
}

int zflow_centrifugo_json_publish_object (zflow_centrifugo_t *self, const char *channel,
                                          const void *object,
                                          const zflow_centrifugo_publish_opts_t *opts,
                                          json_t **result_p)
{
    if (!self) {
        if (result_p)
            *result_p = NULL;
        return ZFLOW_EINVAL;
    }
    json_t *data = zflow__centrifugo_encode (self, object);
    if (!data) {
        if (result_p)
            *result_p = NULL;
        zflow__centrifugo_reset_error (self);
        return zflow__centrifugo_usage (self, ZFLOW_EINVAL, "no encoder, or it refused the object");
    }
    int rc = zflow_centrifugo_json_publish (self, channel, data, opts, result_p);
    json_decref (data);
    return rc;
}

int zflow_centrifugo_json_broadcast (zflow_centrifugo_t *self, const char **channels, size_t count,
                                     const json_t *data,
                                     const zflow_centrifugo_publish_opts_t *opts, json_t **result_p)
{
    int rc = (!channels || !count || (!data && !(opts && opts->b64data))) ? -1 : 0;
    json_t *params = json_object ();
    json_t *list = json_array ();
    for (size_t index = 0; rc == 0 && list && index < count; index++)
        rc = channels[index] ? json_array_append_new (list, json_string (channels[index])) : -1;
    if (params && list && rc == 0) {
        rc |= json_object_set (params, "channels", list);
        if (data)
            rc |= json_object_set_new (params, "data", json_deep_copy (data));
        rc |= s_add_publish_opts (params, opts);
    }
    json_decref (list);
    return s_call_owned (self, "broadcast", params, rc || !list, result_p);
}

//  Builds {"user":user, "channel":channel, extra...}; channel may be NULL.
static json_t *s_user_params (const char *user, const char *channel, const json_t *extra, int *rc_p)
{
    json_t *params = json_object ();
    *rc_p = (!user || !params) ? -1 : 0;
    if (*rc_p == 0) {
        *rc_p |= json_object_set_new (params, "user", json_string (user));
        if (channel)
            *rc_p |= json_object_set_new (params, "channel", json_string (channel));
        *rc_p |= s_merge_extra (params, extra);
    }
    return params;
}

int zflow_centrifugo_json_subscribe (zflow_centrifugo_t *self, const char *user,
                                     const char *channel, const json_t *extra, json_t **result_p)
{
    int rc;
    json_t *params = s_user_params (user, channel, extra, &rc);
    return s_call_owned (self, "subscribe", params, rc || !channel, result_p);
}

int zflow_centrifugo_json_unsubscribe (zflow_centrifugo_t *self, const char *user,
                                       const char *channel, const json_t *extra, json_t **result_p)
{
    int rc;
    json_t *params = s_user_params (user, channel, extra, &rc);
    return s_call_owned (self, "unsubscribe", params, rc || !channel, result_p);
}

int zflow_centrifugo_json_disconnect (zflow_centrifugo_t *self, const char *user,
                                      const json_t *extra, json_t **result_p)
{
    int rc;
    json_t *params = s_user_params (user, NULL, extra, &rc);
    return s_call_owned (self, "disconnect", params, rc, result_p);
}

int zflow_centrifugo_json_refresh (zflow_centrifugo_t *self, const char *user, const json_t *extra,
                                   json_t **result_p)
{
    int rc;
    json_t *params = s_user_params (user, NULL, extra, &rc);
    return s_call_owned (self, "refresh", params, rc, result_p);
}

//  Calls a method whose only field is "channel".
static int s_channel_call (zflow_centrifugo_t *self, const char *method, const char *channel,
                           json_t **result_p)
{
    json_t *params = channel ? json_pack ("{s:s}", "channel", channel) : NULL;
    return s_call_owned (self, method, params, 0, result_p);
}

int zflow_centrifugo_json_presence (zflow_centrifugo_t *self, const char *channel,
                                    json_t **result_p)
{
    return s_channel_call (self, "presence", channel, result_p);
}

int zflow_centrifugo_json_presence_stats (zflow_centrifugo_t *self, const char *channel,
                                          json_t **result_p)
{
    return s_channel_call (self, "presence_stats", channel, result_p);
}

int zflow_centrifugo_json_history_remove (zflow_centrifugo_t *self, const char *channel,
                                          json_t **result_p)
{
    return s_channel_call (self, "history_remove", channel, result_p);
}

int zflow_centrifugo_json_history (zflow_centrifugo_t *self, const char *channel, int limit,
                                   const zflow_centrifugo_json_position_t *since, bool reverse,
                                   json_t **result_p)
{
    json_t *params = channel ? json_pack ("{s:s}", "channel", channel) : NULL;
    int rc = (since && !since->epoch) ? -1 : 0;
    if (params && rc == 0) {
        if (limit < ZFLOW_CENTRIFUGO_HISTORY_ALL)
            rc = -1;
        else if (limit != 0)
            rc |= json_object_set_new (params, "limit", json_integer (limit));
        if (since)
            rc |=
                json_object_set_new (params, "since",
                                     json_pack ("{s:I, s:s}", "offset", (json_int_t) since->offset,
                                                "epoch", since->epoch));
        if (reverse)
            rc |= json_object_set_new (params, "reverse", json_true ());
    }
    return s_call_owned (self, "history", params, rc, result_p);
}

int zflow_centrifugo_json_rpc (zflow_centrifugo_t *self, const char *method, const json_t *params,
                               json_t **result_p)
{
    json_t *args = method && *method ? json_pack ("{s:s}", "method", method) : NULL;
    int rc = (params && !json_is_object (params)) ? -1 : 0;
    if (args && params && rc == 0)
        rc = json_object_set_new (args, "params", json_deep_copy (params));
    return s_call_owned (self, "rpc", args, rc, result_p);
}

int zflow_centrifugo_json_connections (zflow_centrifugo_t *self, const char *user,
                                       const char *expression, json_t **result_p)
{
    json_t *params = json_object ();
    int rc = 0;
    if (params && user)
        rc |= json_object_set_new (params, "user", json_string (user));
    if (params && expression)
        rc |= json_object_set_new (params, "expression", json_string (expression));
    rc = s_call_owned (self, "connections", params, rc, result_p);
    if (rc == ZFLOW_EREFUSED && zflow_centrifugo_error_code (self) == ZFLOW_CENTRIFUGO_NOT_FOUND)
        //  Open-source Centrifugo has no connections method (PRO only): say
        //  so, rather than a bare "not found" the caller must interpret.
        rc = zflow__centrifugo_not_supported (
            self, "connections: this Centrifugo has no such API method (PRO only)");
    return rc;
}

int zflow_centrifugo_json_channels (zflow_centrifugo_t *self, const char *pattern,
                                    json_t **result_p)
{
    json_t *params = pattern ? json_pack ("{s:s}", "pattern", pattern) : json_object ();
    return s_call_owned (self, "channels", params, 0, result_p);
}

int zflow_centrifugo_json_info (zflow_centrifugo_t *self, json_t **result_p)
{
    return s_call_owned (self, "info", json_object (), 0, result_p);
}

//  ---------------------------------------------------------------------
//  Batches

int zflow_centrifugo_json_add (zflow_centrifugo_t *self, const char *method, const json_t *params)
{
    if (!self || !method || !*method || strchr (method, '/') ||
        (params && !json_is_object (params)))
        return ZFLOW_EINVAL;
    json_t *copy = params ? json_deep_copy (params) : json_object ();
    json_t *command = copy ? json_pack ("{s:s, s:o}", "method", method, "params", copy) : NULL;
    if (!command || json_array_append_new (zflow__centrifugo_pending (self), command))
        return ZFLOW_ENOMEM;
    return 0;
}

int zflow__centrifugo_add_shared (zflow_centrifugo_t *self, const char *method, json_t *params)
{
    json_t *command = json_pack ("{s:s, s:O}", "method", method, "params", params);
    if (!command || json_array_append_new (zflow__centrifugo_pending (self), command))
        return ZFLOW_ENOMEM;
    return 0;
}

size_t zflow_centrifugo_pending (zflow_centrifugo_t *self)
{
    return self ? json_array_size (zflow__centrifugo_pending (self)) : 0;
}

void zflow_centrifugo_clear (zflow_centrifugo_t *self)
{
    if (self)
        json_array_clear (zflow__centrifugo_pending (self));
}

//  Modern batch: {"commands":[{method:params}...],"parallel":b} to /batch;
//  the answer is {"replies":[...]}.
static int s_send_modern (zflow_centrifugo_t *self, json_t *pending, bool parallel,
                          json_t **replies_p)
{
    json_t *commands = json_array ();
    size_t index;
    json_t *command;
    json_array_foreach (pending, index, command)
    {
        json_t *one = json_object ();
        json_object_set (one, json_string_value (json_object_get (command, "method")),
                         json_object_get (command, "params"));
        json_array_append_new (commands, one);
    }
    json_t *batch = json_pack ("{s:o, s:b}", "commands", commands, "parallel", parallel);
    const char *address = zflow__centrifugo_address (self);
    char *url = (char *) malloc (strlen (address) + sizeof ("/batch"));
    int rc = (batch && url) ? 0 : zflow__centrifugo_usage (self, ZFLOW_ENOMEM, "out of memory");
    if (rc == 0) {
        sprintf (url, "%s/batch", address);
        rc = s_post_json (self, url, batch);
    }
    free (url);
    json_decref (batch);
    if (rc == 0)
        rc = zflow__centrifugo_check_status (self);
    if (rc)
        return rc;
    json_t *answer = s_parse_body (self);
    json_t *replies = json_object_get (answer, "replies");
    if (!answer)
        rc = zflow__centrifugo_decode_failed (self, "body is not JSON");
    else if (json_object_get (answer, "error")) {
        rc = zflow__centrifugo_error_object (self, json_object_get (answer, "error"));
        rc = rc ? rc : zflow__centrifugo_decode_failed (self, "malformed error object");
    } else if (!json_is_array (replies))
        rc = zflow__centrifugo_decode_failed (self, "no \"replies\" array");
    else if (json_array_size (replies) != json_array_size (pending))
        rc = zflow__centrifugo_decode_failed (self, "wrong number of replies");
    else if (replies_p)
        *replies_p = json_incref (replies);
    json_decref (answer);
    return rc;
}

//  Legacy batch: one {"method","params"} per line; one reply per line.
static int s_send_legacy (zflow_centrifugo_t *self, json_t *pending, json_t **replies_p)
{
    size_t index;
    json_t *command;
    char *body = NULL;
    size_t size = 0;
    FILE *stream = open_memstream (&body, &size);
    if (!stream)
        return zflow__centrifugo_usage (self, ZFLOW_ENOMEM, "out of memory");
    json_array_foreach (pending, index, command)
    {
        if (index)
            fputc ('\n', stream);
        json_dumpf (command, stream, JSON_COMPACT);
    }
    fclose (stream);
    int rc = body ? zflow__centrifugo_post (self, zflow__centrifugo_address (self), body, size)
                  : zflow__centrifugo_usage (self, ZFLOW_ENOMEM, "out of memory");
    free (body);
    if (rc == 0)
        rc = zflow__centrifugo_check_status (self);
    if (rc)
        return rc;
    json_t *replies = json_array ();
    const char *line = zflow__centrifugo_body (self, &size);
    const char *end = line + size;
    while (line < end && rc == 0) {
        const char *next = memchr (line, '\n', (size_t) (end - line));
        size_t length = next ? (size_t) (next - line) : (size_t) (end - line);
        if (length && !(length == 1 && line[0] == '\r')) {
            json_t *reply = json_loadb (line, length, 0, NULL);
            if (!json_is_object (reply))
                rc = zflow__centrifugo_decode_failed (self, "a reply line is not a JSON object");
            json_array_append_new (replies, reply ? reply : json_null ());
        }
        line += length + 1;
    }
    if (rc == 0 && json_array_size (replies) != json_array_size (pending))
        rc = zflow__centrifugo_decode_failed (self, "wrong number of replies");
    if (rc == 0 && replies_p)
        *replies_p = json_incref (replies);
    json_decref (replies);
    return rc;
}

int zflow_centrifugo_json_send (zflow_centrifugo_t *self, bool parallel, json_t **replies_p)
{
    if (replies_p)
        *replies_p = NULL;
    if (!self)
        return ZFLOW_EINVAL;
    zflow__centrifugo_reset_error (self);
    json_t *pending = zflow__centrifugo_pending (self);
    if (json_array_size (pending) == 0)
        return zflow__centrifugo_usage (self, ZFLOW_EINVAL, "no commands queued");
    json_t *commands = json_incref (pending);
    int rc = zflow_centrifugo_format (self) == ZFLOW_CENTRIFUGO_MODERN
                 ? s_send_modern (self, commands, parallel, replies_p)
                 : s_send_legacy (self, commands, replies_p);
    json_array_clear (commands);
    json_decref (commands);
    return rc;
}

int zflow_centrifugo_json_reply_error (const json_t *reply, const char **message_p)
{
    json_t *error = json_is_object (reply) ? json_object_get (reply, "error") : NULL;
    json_t *code = json_object_get (error, "code");
    if (!json_is_integer (code))
        return 0;
    if (message_p) {
        json_t *message = json_object_get (error, "message");
        *message_p = json_is_string (message) ? json_string_value (message) : "";
    }
    //  an error object is an error whatever its code says: a code outside
    //  1 .. INT_MAX (none of Centrifugo's) still reads as one, never as success
    json_int_t value = json_integer_value (code);
    return value > 0 && value <= INT_MAX ? (int) value : INT_MAX;
}

json_t *zflow_centrifugo_json_reply_result (const json_t *reply)
{
    if (!json_is_object (reply) || zflow_centrifugo_json_reply_error (reply, NULL))
        return NULL;
    json_t *result = json_object_get (reply, "result");
    if (result)
        return result;
    //  Modern batch replies name the method: {"publish":{...}}.
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) reply, key, value)
    {
        if (strcmp (key, "error") && json_is_object (value))
            return value;
    }
    return NULL;
}
