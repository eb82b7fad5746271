/*  =========================================================================
    zflow_centrifugo_text - the client's calls with JSON as text

    zflow_centrifugo.h keeps jansson out of the public API: these calls
    parse the caller's JSON text, run the jansson calls of
    zflow_centrifugo_methods.c and print their results back as text.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_centrifugo_internal.h"
#include "zflow_error.h"
#include <stdlib.h>

//  Parses text (NULL gives NULL with no error) into *value_p. Returns 0 or
//  records and returns ZFLOW_EINVAL; with object set the value must be a
//  JSON object.
static int s_parse (zflow_centrifugo_t *self, const char *text, bool object, json_t **value_p)
{
    *value_p = NULL;
    if (!text)
        return 0;
    json_error_t error;
    json_t *value = json_loads (text, JSON_DECODE_ANY, &error);
    if (!value || (object && !json_is_object (value))) {
        json_decref (value);
        zflow__centrifugo_reset_error (self);
        return zflow__centrifugo_usage (
            self, ZFLOW_EINVAL, object ? "params are not a JSON object" : "data is not valid JSON");
    }
    *value_p = value;
    return 0;
}

//  Prints value (stolen) as compact text into *text_p (if text_p is not
//  NULL). Returns rc, or ZFLOW_ENOMEM when printing failed.
static int s_print (zflow_centrifugo_t *self, int rc, json_t *value, char **text_p)
{
    if (text_p && rc == 0) {
        *text_p = json_dumps (value, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!*text_p)
            rc = zflow__centrifugo_usage (self, ZFLOW_ENOMEM, "cannot print the result");
    }
    json_decref (value);
    return rc;
}

int zflow_centrifugo_call (zflow_centrifugo_t *self, const char *method, const char *params_json,
                           char **result_p)
{
    if (result_p)
        *result_p = NULL;
    if (!self)
        return ZFLOW_EINVAL;
    json_t *params;
    int rc = s_parse (self, params_json, true, &params);
    if (rc)
        return rc;
    json_t *result = NULL;
    rc = zflow_centrifugo_json_call (self, method, params, result_p ? &result : NULL);
    json_decref (params);
    return s_print (self, rc, result, result_p);
}

int zflow_centrifugo_publish (zflow_centrifugo_t *self, const char *channel, const char *data_json,
                              const zflow_centrifugo_publish_opts_t *opts, char **result_p)
{
    if (result_p)
        *result_p = NULL;
    if (!self)
        return ZFLOW_EINVAL;
    json_t *data;
    int rc = s_parse (self, data_json, false, &data);
    if (rc)
        return rc;
    json_t *result = NULL;
    rc = zflow_centrifugo_json_publish (self, channel, data, opts, result_p ? &result : NULL);
    json_decref (data);
    return s_print (self, rc, result, result_p);
}

int zflow_centrifugo_add (zflow_centrifugo_t *self, const char *method, const char *params_json)
{
    if (!self)
        return ZFLOW_EINVAL;
    json_t *params;
    int rc = s_parse (self, params_json, true, &params);
    if (rc == 0)
        rc = zflow_centrifugo_json_add (self, method, params);
    json_decref (params);
    return rc;
}

int zflow_centrifugo_send (zflow_centrifugo_t *self, bool parallel, char **replies_p)
{
    if (replies_p)
        *replies_p = NULL;
    if (!self)
        return ZFLOW_EINVAL;
    json_t *replies = NULL;
    int rc = zflow_centrifugo_json_send (self, parallel, replies_p ? &replies : NULL);
    return s_print (self, rc, replies, replies_p);
}
