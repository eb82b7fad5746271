/*  =========================================================================
    real_centrifugo_api - the server API client against a real Centrifugo

    Run by test_real_centrifugo_sink.py with the API address and key of the
    Centrifugo v6 it started: history with limit -1 (all), 0 (position
    only) and a bad limit, skip_history, the typed rpc (open source has no
    RPC methods: 104), connections (PRO only: HTTP 404, reported as
    ZFLOW_ENOTSUP) and an unknown method (modern: HTTP 404, read as 104;
    legacy: HTTP 400), in both wire formats. Prints one ok/FAIL line per
    check; exits 1 if any failed.

        real_centrifugo_api ADDRESS KEY

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include "zflow_centrifugo_json.h"
#include <stdio.h>
#include <string.h>

static int s_failures = 0;

static void s_check (bool cond, const char *what, zflow_centrifugo_t *client)
{
    printf ("%s%s (%s)\n", cond ? "ok   " : "FAIL ", what,
            client ? zflow_centrifugo_error_message (client) : "");
    s_failures += cond ? 0 : 1;
}

static json_int_t s_int (const json_t *obj, const char *name)
{
    json_t *value = json_object_get (obj, name);
    return json_is_integer (value) ? json_integer_value (value) : -1;
}

static void s_run (const char *address, const char *key, zflow_centrifugo_format_t format)
{
    zflow_centrifugo_config_t config;
    zflow_centrifugo_config_init (&config);
    config.address = address;
    config.api_key = key;
    config.format = format;
    zflow_centrifugo_t *client = zflow_centrifugo_new (&config, NULL);
    bool modern = format == ZFLOW_CENTRIFUGO_MODERN;
    const char *channel = modern ? "rec:api-m" : "rec:api-l";
    printf ("-- %s format\n", modern ? "modern" : "legacy");

    json_t *data = json_pack ("{s:s}", "text", "h\xc3\xa9llo");
    json_t *result = NULL;
    for (int n = 0; n < 3; n++)
        s_check (zflow_centrifugo_json_publish (client, channel, data, NULL, NULL) == 0,
                 "publish into a namespace with history", client);
    zflow_centrifugo_publish_opts_t skip = {.skip_history = true};
    int rc = zflow_centrifugo_json_publish (client, channel, data, &skip, &result);
    s_check (rc == 0 && json_object_size (result) == 0, "skip_history: success, result {}", client);
    json_decref (result);

    rc = zflow_centrifugo_json_history (client, channel, ZFLOW_CENTRIFUGO_HISTORY_ALL, NULL, false,
                                        &result);
    json_t *pubs = json_object_get (result, "publications");
    s_check (rc == 0 && json_array_size (pubs) == 3 &&
                 json_equal (json_object_get (json_array_get (pubs, 0), "data"), data),
             "history limit -1: all three publications", client);
    json_decref (result);
    rc = zflow_centrifugo_json_history (client, channel, 0, NULL, false, &result);
    s_check (rc == 0 && s_int (result, "offset") == 3 &&
                 json_array_size (json_object_get (result, "publications")) == 0,
             "history limit 0: the position only (skip_history took no offset)", client);
    json_decref (result);
    rc = zflow_centrifugo_json_history (client, channel, 2, NULL, true, &result);
    pubs = json_object_get (result, "publications");
    s_check (rc == 0 && json_array_size (pubs) == 2 &&
                 s_int (json_array_get (pubs, 0), "offset") == 3,
             "history limit 2, reverse: the newest two", client);
    json_decref (result);
    s_check (zflow_centrifugo_json_history (client, channel, -2, NULL, false, &result) ==
                     ZFLOW_EINVAL &&
                 result == NULL,
             "history limit -2: ZFLOW_EINVAL, nothing sent", client);

    rc = zflow_centrifugo_json_rpc (client, "getUserStatus", NULL, &result);
    s_check (rc == ZFLOW_EREFUSED && result == NULL &&
                 zflow_centrifugo_error_code (client) == ZFLOW_CENTRIFUGO_NOT_FOUND,
             "rpc: open source has no RPC methods: error 104", client);
    json_t *params = json_pack ("{s:s}", "user", "u1");
    rc = zflow_centrifugo_json_rpc (client, "anything", params, NULL);
    json_decref (params);
    s_check (rc == ZFLOW_EREFUSED && zflow_centrifugo_error_code (client) == 104,
             "rpc with params: error 104 too", client);
    s_check (zflow_centrifugo_json_rpc (client, NULL, NULL, NULL) == ZFLOW_EINVAL,
             "rpc without a method: ZFLOW_EINVAL", client);

    rc = zflow_centrifugo_json_connections (client, "u1", NULL, &result);
    s_check (rc == ZFLOW_ENOTSUP && result == NULL &&
                 zflow_centrifugo_error_code (client) == ZFLOW_CENTRIFUGO_NOT_FOUND &&
                 strstr (zflow_centrifugo_error_message (client), "PRO") &&
                 zflow_centrifugo_http_status (client) == (modern ? 404 : 200),
             "connections: PRO only, ZFLOW_ENOTSUP saying so", client);

    rc = zflow_centrifugo_json_call (client, "no_such_method", NULL, NULL);
    if (!modern) //  the legacy endpoint cannot even decode an unknown method name
        s_check (rc == ZFLOW_ETRANSPORT && zflow_centrifugo_http_status (client) == 400,
                 "legacy: an unknown method is HTTP 400 for the request", client);
    else {
        s_check (rc == ZFLOW_EREFUSED && zflow_centrifugo_error_code (client) == 104 &&
                     zflow_centrifugo_error_kind (client) == ZFLOW_CENTRIFUGO_ERR_RESPONSE &&
                     zflow_centrifugo_http_status (client) == 404,
                 "modern: an unknown method (HTTP 404) reads as error 104", client);
        //  in a batch the server itself says 104
        zflow_centrifugo_json_add (client, "connections", NULL);
        zflow_centrifugo_json_add (client, "rpc", NULL);
        json_t *replies = NULL;
        rc = zflow_centrifugo_json_send (client, false, &replies);
        s_check (rc == 0 &&
                     zflow_centrifugo_json_reply_error (json_array_get (replies, 0), NULL) == 104 &&
                     zflow_centrifugo_json_reply_error (json_array_get (replies, 1), NULL) ==
                         ZFLOW_CENTRIFUGO_BAD_REQUEST,
                 "batch: connections 104, rpc without method 107", client);
        json_decref (replies);
    }
    json_decref (data);
    zflow_centrifugo_destroy (&client);
}

int main (int argc, char *argv[])
{
    if (argc != 3) {
        fprintf (stderr, "usage: real_centrifugo_api ADDRESS KEY\n");
        return 2;
    }
    s_run (argv[1], argv[2], ZFLOW_CENTRIFUGO_MODERN);
    s_run (argv[1], argv[2], ZFLOW_CENTRIFUGO_LEGACY);
    printf ("failures: %d\n", s_failures);
    return s_failures ? 1 : 0;
}
