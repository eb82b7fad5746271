/*  =========================================================================
    test_centrifugo - the server API client against the fake Centrifugo

    Every method in both formats, batches, each error class (request,
    response, decode, transport error mode), timeouts, a refused
    connection, TLS verification, keep-alive and the encoder hook.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "test_centrifugo_fake.h"
#include "zflow.h"
#include "zflow_centrifugo_json.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  CHECK counts and goes on (unlike zflow_testing.h's, which exits) so the
//  fake server process is always stopped at the end.
static int s_failures = 0;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf (stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);              \
            s_failures++;                                                                          \
        }                                                                                          \
    } while (0)

#define KEY "secret-key"

static test_fake_t s_fake;

//  A configuration for address with key, in format.
static zflow_centrifugo_config_t s_config (const char *address, const char *key,
                                           zflow_centrifugo_format_t format)
{
    zflow_centrifugo_config_t config;
    zflow_centrifugo_config_init (&config);
    config.address = address;
    config.api_key = key;
    config.format = format;
    return config;
}

//  A client of config, checked.
static zflow_centrifugo_t *s_new (const zflow_centrifugo_config_t *config)
{
    int err = 0;
    zflow_centrifugo_t *client = zflow_centrifugo_new (config, &err);
    CHECK (client && err == 0);
    return client;
}

static zflow_centrifugo_t *s_client (zflow_centrifugo_format_t format)
{
    zflow_centrifugo_config_t config = s_config (s_fake.api, KEY, format);
    config.connect_timeout_ms = 2000;
    config.timeout_ms = 5000;
    zflow_centrifugo_t *client = s_new (&config);
    CHECK (zflow_centrifugo_format (client) == format);
    return client;
}

//  Returns integer field name of obj, or -1.
static json_int_t s_int (const json_t *obj, const char *name)
{
    json_t *value = json_object_get (obj, name);
    return json_is_integer (value) ? json_integer_value (value) : -1;
}

static void test_publish_and_history (zflow_centrifugo_format_t format)
{
    zflow_centrifugo_t *client = s_client (format);
    const char *channel = format == ZFLOW_CENTRIFUGO_MODERN ? "chat:m" : "chat:l";
    json_t *data = json_pack ("{s:s}", "text", "hello");
    json_t *result = NULL;
    CHECK (zflow_centrifugo_json_publish (client, channel, data, NULL, &result) == 0);
    CHECK (zflow_centrifugo_error_kind (client) == ZFLOW_CENTRIFUGO_ERR_NONE);
    CHECK (s_int (result, "offset") == 1);
    CHECK (json_is_string (json_object_get (result, "epoch")));
    char epoch[64];
    snprintf (epoch, sizeof (epoch), "%s", json_string_value (json_object_get (result, "epoch")));
    json_decref (result);

    //  Optional fields: tags, idempotency key (a retry is dropped), b64data.
    json_t *tags = json_pack ("{s:s}", "kind", "test");
    zflow_centrifugo_publish_opts_t opts = {.tags_json = "{\"kind\": \"test\"}",
                                            .idempotency_key = "k1"};
    CHECK (zflow_centrifugo_json_publish (client, channel, data, &opts, &result) == 0);
    CHECK (s_int (result, "offset") == 2);
    json_decref (result);
    CHECK (zflow_centrifugo_json_publish (client, channel, data, &opts, &result) == 0);
    CHECK (s_int (result, "offset") == 2); //  same answer, not published again
    json_decref (result);
    zflow_centrifugo_publish_opts_t bin = {.b64data = "AAEC", .delta = true};
    CHECK (zflow_centrifugo_json_publish (client, channel, NULL, &bin, NULL) == 0);
    //  skip_history: published, but no position to report (as Centrifugo v6)
    zflow_centrifugo_publish_opts_t skip = {.skip_history = true};
    CHECK (zflow_centrifugo_json_publish (client, channel, data, &skip, &result) == 0);
    CHECK (json_is_object (result) && json_object_size (result) == 0);
    json_decref (result);
    //  an empty b64data is a bad request (107), as the real server says
    zflow_centrifugo_publish_opts_t empty = {.b64data = ""};
    CHECK (zflow_centrifugo_json_publish (client, channel, NULL, &empty, NULL) == ZFLOW_EREFUSED);
    CHECK (zflow_centrifugo_error_code (client) == ZFLOW_CENTRIFUGO_BAD_REQUEST);

    //  history: position only, all, a limit, since, reverse; a bad limit.
    CHECK (zflow_centrifugo_json_history (client, channel, 0, NULL, false, &result) == 0);
    CHECK (s_int (result, "offset") == 3); //  skip_history took no offset
    CHECK (json_array_size (json_object_get (result, "publications")) == 0);
    json_decref (result);
    CHECK (zflow_centrifugo_json_history (client, channel, ZFLOW_CENTRIFUGO_HISTORY_ALL, NULL,
                                          false, &result) == 0);
    CHECK (json_array_size (json_object_get (result, "publications")) == 3);
    json_decref (result);
    CHECK (zflow_centrifugo_json_history (client, channel, -2, NULL, false, &result) ==
           ZFLOW_EINVAL);
    CHECK (result == NULL);
    CHECK (zflow_centrifugo_error_kind (client) == ZFLOW_CENTRIFUGO_ERR_USAGE);
    CHECK (zflow_centrifugo_json_history (client, channel, 10, NULL, false, &result) == 0);
    json_t *pubs = json_object_get (result, "publications");
    CHECK (json_array_size (pubs) == 3);
    json_t *first = json_array_get (pubs, 0);
    CHECK (json_equal (json_object_get (first, "data"), data));
    CHECK (json_equal (json_object_get (json_array_get (pubs, 1), "tags"), tags));
    CHECK (json_is_string (json_object_get (json_array_get (pubs, 2), "b64data")));
    json_decref (result);
    zflow_centrifugo_json_position_t since = {.offset = 1, .epoch = epoch};
    CHECK (zflow_centrifugo_json_history (client, channel, 10, &since, true, &result) == 0);
    pubs = json_object_get (result, "publications");
    CHECK (json_array_size (pubs) == 2);
    CHECK (s_int (json_array_get (pubs, 0), "offset") == 3);
    json_decref (result);

    //  112: a position from another epoch cannot be recovered.
    zflow_centrifugo_json_position_t stale = {.offset = 1, .epoch = "nope"};
    CHECK (zflow_centrifugo_json_history (client, channel, 10, &stale, false, &result) ==
           ZFLOW_EREFUSED);
    CHECK (result == NULL);
    CHECK (zflow_centrifugo_error_code (client) == ZFLOW_CENTRIFUGO_UNRECOVERABLE);

    CHECK (zflow_centrifugo_json_history_remove (client, channel, NULL) == 0);
    CHECK (zflow_centrifugo_json_history (client, channel, 10, NULL, false, &result) == 0);
    CHECK (json_array_size (json_object_get (result, "publications")) == 0);
    CHECK (s_int (result, "offset") == 3); //  the position stays
    json_decref (result);
    json_decref (tags);
    json_decref (data);
    zflow_centrifugo_destroy (&client);
    CHECK (client == NULL);
}

static void test_users_and_presence (zflow_centrifugo_format_t format)
{
    zflow_centrifugo_t *client = s_client (format);
    CHECK (test_fake_control (&s_fake, "{\"reset\":true}") == 0);
    CHECK (test_fake_control (&s_fake, "{\"connect\":{\"channel\":\"chat:room\",\"user\":\"42\","
                                       "\"client\":\"c1\"}}") == 0);
    CHECK (test_fake_control (&s_fake, "{\"connect\":{\"channel\":\"chat:room\",\"user\":\"43\","
                                       "\"client\":\"c2\"}}") == 0);
    json_t *result = NULL;
    CHECK (zflow_centrifugo_json_presence (client, "chat:room", &result) == 0);
    json_t *presence = json_object_get (result, "presence");
    CHECK (json_object_size (presence) == 2);
    CHECK (streq (json_string_value (json_object_get (json_object_get (presence, "c1"), "user")),
                  "42"));
    json_decref (result);
    CHECK (zflow_centrifugo_json_presence_stats (client, "chat:room", &result) == 0);
    CHECK (s_int (result, "num_clients") == 2 && s_int (result, "num_users") == 2);
    json_decref (result);

    //  subscribe user 42 to a second channel, then channels with a pattern.
    json_t *extra = json_pack ("{s:{s:s}}", "data", "welcome", "yes");
    CHECK (zflow_centrifugo_json_subscribe (client, "42", "news:today", extra, NULL) == 0);
    json_decref (extra);
    CHECK (zflow_centrifugo_json_channels (client, NULL, &result) == 0);
    CHECK (json_object_size (json_object_get (result, "channels")) == 2);
    json_decref (result);
    CHECK (zflow_centrifugo_json_channels (client, "news:*", &result) == 0);
    json_t *channels = json_object_get (result, "channels");
    CHECK (json_object_size (channels) == 1);
    CHECK (s_int (json_object_get (channels, "news:today"), "num_clients") == 1);
    json_decref (result);
    CHECK (zflow_centrifugo_json_unsubscribe (client, "42", "news:today", NULL, NULL) == 0);
    CHECK (zflow_centrifugo_json_channels (client, "news:*", &result) == 0);
    CHECK (json_object_size (json_object_get (result, "channels")) == 0);
    json_decref (result);

    //  refresh (expired closes the connection), disconnect with whitelist.
    CHECK (zflow_centrifugo_json_refresh (client, "42", NULL, NULL) == 0);
    CHECK (zflow_centrifugo_json_presence_stats (client, "chat:room", &result) == 0);
    CHECK (s_int (result, "num_clients") == 2);
    json_decref (result);
    extra = json_pack ("{s:[s]}", "whitelist", "c2");
    CHECK (zflow_centrifugo_json_disconnect (client, "43", extra, NULL) == 0);
    json_decref (extra);
    CHECK (zflow_centrifugo_json_presence_stats (client, "chat:room", &result) == 0);
    CHECK (s_int (result, "num_clients") == 2);
    json_decref (result);
    extra = json_pack ("{s:b}", "expired", 1);
    CHECK (zflow_centrifugo_json_refresh (client, "42", extra, NULL) == 0);
    json_decref (extra);
    CHECK (zflow_centrifugo_json_disconnect (client, "43", NULL, NULL) == 0);
    CHECK (zflow_centrifugo_json_presence_stats (client, "chat:room", &result) == 0);
    CHECK (s_int (result, "num_clients") == 0);
    json_decref (result);

    //  108: presence is off in the "nohistory" namespace.
    CHECK (zflow_centrifugo_json_presence (client, "nohistory:x", &result) == ZFLOW_EREFUSED);
    CHECK (zflow_centrifugo_error_code (client) == ZFLOW_CENTRIFUGO_NOT_AVAILABLE);

    CHECK (zflow_centrifugo_json_info (client, &result) == 0);
    CHECK (json_array_size (json_object_get (result, "nodes")) == 1);
    json_decref (result);
    zflow_centrifugo_destroy (&client);
}

static void test_broadcast_and_batch (zflow_centrifugo_format_t format)
{
    zflow_centrifugo_t *client = s_client (format);
    json_t *data = json_pack ("{s:i}", "n", 7);
    const char *channels[] = {"news:a", "bad:b"};
    json_t *result = NULL;
    CHECK (zflow_centrifugo_json_broadcast (client, channels, 2, data, NULL, &result) == 0);
    json_t *responses = json_object_get (result, "responses");
    CHECK (json_array_size (responses) == 2);
    CHECK (zflow_centrifugo_json_reply_error (json_array_get (responses, 0), NULL) == 0);
    CHECK (zflow_centrifugo_json_reply_error (json_array_get (responses, 1), NULL) ==
           ZFLOW_CENTRIFUGO_UNKNOWN_CHANNEL);
    json_decref (result);

    //  A batch of three: two good publishes and one to an unknown namespace.
    CHECK (zflow_centrifugo_json_send (client, false, &result) == ZFLOW_EINVAL);
    json_t *params = json_pack ("{s:s, s:O}", "channel", "news:batch", "data", data);
    CHECK (zflow_centrifugo_json_add (client, "publish", params) == 0);
    CHECK (zflow_centrifugo_json_add (client, "publish", params) == 0);
    json_object_set_new (params, "channel", json_string ("nowhere:x"));
    CHECK (zflow_centrifugo_json_add (client, "publish", params) == 0);
    json_decref (params);
    CHECK (zflow_centrifugo_pending (client) == 3);
    json_t *replies = NULL;
    CHECK (zflow_centrifugo_json_send (client, true, &replies) == 0);
    CHECK (zflow_centrifugo_pending (client) == 0);
    CHECK (json_array_size (replies) == 3);
    CHECK (s_int (zflow_centrifugo_json_reply_result (json_array_get (replies, 0)), "offset") == 1);
    CHECK (s_int (zflow_centrifugo_json_reply_result (json_array_get (replies, 1)), "offset") == 2);
    const char *message = NULL;
    CHECK (zflow_centrifugo_json_reply_error (json_array_get (replies, 2), &message) ==
           ZFLOW_CENTRIFUGO_UNKNOWN_CHANNEL);
    CHECK (message && streq (message, "unknown channel"));
    CHECK (zflow_centrifugo_json_reply_result (json_array_get (replies, 2)) == NULL);
    json_decref (replies);

    //  A failed send empties the queue all the same.
    CHECK (zflow_centrifugo_json_add (client, "info", NULL) == 0);
    CHECK (test_fake_control (&s_fake, "{\"fault\":\"status\",\"count\":1,\"status\":502}") == 0);
    CHECK (zflow_centrifugo_json_send (client, false, &replies) == ZFLOW_ETRANSPORT);
    CHECK (replies == NULL);
    CHECK (zflow_centrifugo_http_status (client) == 502);
    CHECK (zflow_centrifugo_pending (client) == 0);
    CHECK (zflow_centrifugo_json_add (client, NULL, NULL) == ZFLOW_EINVAL);
    //  A batch answer with a reply missing is a decode error.
    CHECK (zflow_centrifugo_json_add (client, "info", NULL) == 0);
    CHECK (zflow_centrifugo_json_add (client, "info", NULL) == 0);
    CHECK (test_fake_control (&s_fake, "{\"fault\":\"short\",\"count\":1}") == 0);
    CHECK (zflow_centrifugo_json_send (client, false, &replies) == ZFLOW_EPROTO);
    CHECK (zflow_centrifugo_error_kind (client) == ZFLOW_CENTRIFUGO_ERR_DECODE);
    CHECK (strstr (zflow_centrifugo_error_message (client), "number of replies") != NULL);
    json_decref (data);
    zflow_centrifugo_destroy (&client);
}

static void test_response_errors (zflow_centrifugo_format_t format)
{
    zflow_centrifugo_t *client = s_client (format);
    json_t *data = json_pack ("{s:i}", "n", 1);
    json_t *result = json_object ();
    json_t *sentinel = result;
    //  102 unknown namespace; the result pointer is cleared.
    CHECK (zflow_centrifugo_json_publish (client, "unknown:chat", data, NULL, &result) ==
           ZFLOW_EREFUSED);
    CHECK (result == NULL);
    json_decref (sentinel);
    CHECK (zflow_centrifugo_error_kind (client) == ZFLOW_CENTRIFUGO_ERR_RESPONSE);
    CHECK (zflow_centrifugo_error_code (client) == ZFLOW_CENTRIFUGO_UNKNOWN_CHANNEL);
    CHECK (streq (zflow_centrifugo_error_message (client), "unknown channel"));
    CHECK (zflow_centrifugo_http_status (client) == 200);
    //  104 unknown method (modern: the server's HTTP 404 read as 104; the
    //  legacy endpoint refuses the request with HTTP 400), 107 bad request
    //  (no channel).
    if (format == ZFLOW_CENTRIFUGO_MODERN) {
        CHECK (zflow_centrifugo_json_call (client, "no_such_method", NULL, NULL) == ZFLOW_EREFUSED);
        CHECK (zflow_centrifugo_error_code (client) == ZFLOW_CENTRIFUGO_NOT_FOUND);
        CHECK (zflow_centrifugo_error_kind (client) == ZFLOW_CENTRIFUGO_ERR_RESPONSE);
        CHECK (zflow_centrifugo_http_status (client) == 404);
    } else {
        CHECK (zflow_centrifugo_json_call (client, "no_such_method", NULL, NULL) ==
               ZFLOW_ETRANSPORT);
        CHECK (zflow_centrifugo_http_status (client) == 400);
    }
    //  rpc: open source has no RPC methods (104); no method is bad usage.
    CHECK (zflow_centrifugo_json_rpc (client, "getUserStatus", NULL, &result) == ZFLOW_EREFUSED);
    CHECK (result == NULL);
    CHECK (zflow_centrifugo_error_code (client) == ZFLOW_CENTRIFUGO_NOT_FOUND);
    CHECK (zflow_centrifugo_json_rpc (client, NULL, NULL, NULL) == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_json_rpc (client, "", NULL, NULL) == ZFLOW_EINVAL);
    json_t *not_params = json_integer (3);
    CHECK (zflow_centrifugo_json_rpc (client, "m", not_params, NULL) == ZFLOW_EINVAL);
    json_decref (not_params);
    CHECK (zflow_centrifugo_json_rpc (NULL, "m", NULL, NULL) == ZFLOW_EINVAL);
    //  connections: Centrifugo PRO only, said clearly.
    CHECK (zflow_centrifugo_json_connections (client, "42", NULL, &result) == ZFLOW_ENOTSUP);
    CHECK (result == NULL);
    CHECK (zflow_centrifugo_error_code (client) == ZFLOW_CENTRIFUGO_NOT_FOUND);
    CHECK (strstr (zflow_centrifugo_error_message (client), "PRO") != NULL);
    CHECK (zflow_centrifugo_json_connections (NULL, NULL, NULL, NULL) == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_json_call (client, "publish", NULL, NULL) == ZFLOW_EREFUSED);
    CHECK (zflow_centrifugo_error_code (client) == ZFLOW_CENTRIFUGO_BAD_REQUEST);
    //  108 history off; a stale version skipped (success, same offset);
    //  100 internal.
    CHECK (zflow_centrifugo_json_history (client, "nohistory:x", 1, NULL, false, NULL) ==
           ZFLOW_EREFUSED);
    CHECK (zflow_centrifugo_error_code (client) == ZFLOW_CENTRIFUGO_NOT_AVAILABLE);
    const char *channel = format == ZFLOW_CENTRIFUGO_MODERN ? "versions:m" : "versions:l";
    channel = strchr (channel, ':') + 1; //  default namespace
    zflow_centrifugo_publish_opts_t versioned = {.version = 5};
    CHECK (zflow_centrifugo_json_publish (client, channel, data, &versioned, &result) == 0);
    json_int_t offset = s_int (result, "offset");
    CHECK (offset > 0);
    json_decref (result);
    CHECK (zflow_centrifugo_json_publish (client, channel, data, &versioned, &result) == 0);
    CHECK (s_int (result, "offset") == offset);
    json_decref (result);
    CHECK (test_fake_control (&s_fake, "{\"fault\":\"internal\",\"count\":1}") == 0);
    CHECK (zflow_centrifugo_json_info (client, NULL) == ZFLOW_EREFUSED);
    CHECK (zflow_centrifugo_error_code (client) == ZFLOW_CENTRIFUGO_INTERNAL);
    //  The next call succeeds and clears the error.
    CHECK (zflow_centrifugo_json_info (client, NULL) == 0);
    CHECK (zflow_centrifugo_error_kind (client) == ZFLOW_CENTRIFUGO_ERR_NONE);
    CHECK (zflow_centrifugo_error_code (client) == 0);
    //  Bad arguments never reach the server.
    CHECK (zflow_centrifugo_json_publish (client, NULL, data, NULL, NULL) == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_json_publish (client, "chat:x", NULL, NULL, NULL) == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_error_kind (client) == ZFLOW_CENTRIFUGO_ERR_USAGE);
    json_t *not_object = json_string ("x");
    CHECK (zflow_centrifugo_json_call (client, "info", not_object, NULL) == ZFLOW_EINVAL);
    json_decref (not_object);
    json_decref (data);
    zflow_centrifugo_destroy (&client);
}

static void test_transport_error_mode (void)
{
    zflow_centrifugo_config_t config = s_config (s_fake.api, KEY, ZFLOW_CENTRIFUGO_MODERN);
    config.transport_errors = true;
    zflow_centrifugo_t *client = s_new (&config);
    json_t *data = json_pack ("{s:i}", "n", 1);
    CHECK (zflow_centrifugo_json_publish (client, "unknown:chat", data, NULL, NULL) ==
           ZFLOW_EREFUSED);
    CHECK (zflow_centrifugo_error_kind (client) == ZFLOW_CENTRIFUGO_ERR_RESPONSE);
    CHECK (zflow_centrifugo_error_code (client) == ZFLOW_CENTRIFUGO_UNKNOWN_CHANNEL);
    CHECK (zflow_centrifugo_http_status (client) == 404);
    CHECK (zflow_centrifugo_json_call (client, "publish", NULL, NULL) == ZFLOW_EREFUSED);
    CHECK (zflow_centrifugo_error_code (client) == ZFLOW_CENTRIFUGO_BAD_REQUEST);
    CHECK (zflow_centrifugo_http_status (client) == 400);
    CHECK (zflow_centrifugo_json_publish (client, "chat:ok", data, NULL, NULL) == 0);
    //  A plain 503 is still a request error, not a response error.
    CHECK (test_fake_control (&s_fake, "{\"fault\":\"status\",\"count\":1}") == 0);
    CHECK (zflow_centrifugo_json_info (client, NULL) == ZFLOW_ETRANSPORT);
    CHECK (zflow_centrifugo_error_kind (client) == ZFLOW_CENTRIFUGO_ERR_REQUEST);
    CHECK (zflow_centrifugo_http_status (client) == 503);
    json_decref (data);
    zflow_centrifugo_destroy (&client);
}

static void test_request_errors (void)
{
    json_t *result = NULL;
    //  401: wrong key, in both formats (X-API-Key / Authorization: apikey).
    for (int format = 0; format < 2; format++) {
        zflow_centrifugo_config_t config =
            s_config (s_fake.api, "wrong", (zflow_centrifugo_format_t) format);
        zflow_centrifugo_t *client = s_new (&config);
        CHECK (zflow_centrifugo_json_info (client, &result) == ZFLOW_ETRANSPORT);
        CHECK (result == NULL);
        CHECK (zflow_centrifugo_error_kind (client) == ZFLOW_CENTRIFUGO_ERR_REQUEST);
        CHECK (zflow_centrifugo_http_status (client) == 401);
        CHECK (strstr (zflow_centrifugo_error_message (client), "401") != NULL);
        zflow_centrifugo_destroy (&client);
    }
    zflow_centrifugo_t *client = s_client (ZFLOW_CENTRIFUGO_MODERN);
    //  Connection closed without an answer.
    CHECK (test_fake_control (&s_fake, "{\"fault\":\"close\",\"count\":1}") == 0);
    CHECK (zflow_centrifugo_json_info (client, NULL) == ZFLOW_ETRANSPORT);
    CHECK (zflow_centrifugo_error_kind (client) == ZFLOW_CENTRIFUGO_ERR_REQUEST);
    //  A body that is not JSON is a decode error.
    CHECK (test_fake_control (&s_fake, "{\"fault\":\"malformed\",\"count\":1}") == 0);
    CHECK (zflow_centrifugo_json_info (client, &result) == ZFLOW_EPROTO);
    CHECK (result == NULL);
    CHECK (zflow_centrifugo_error_kind (client) == ZFLOW_CENTRIFUGO_ERR_DECODE);
    CHECK (strstr (zflow_centrifugo_error_message (client), "not JSON") != NULL);
    //  And in a batch.
    CHECK (test_fake_control (&s_fake, "{\"fault\":\"malformed\",\"count\":1}") == 0);
    CHECK (zflow_centrifugo_json_add (client, "info", NULL) == 0);
    CHECK (zflow_centrifugo_json_send (client, false, &result) == ZFLOW_EPROTO);
    //  A server that never answers: the total timeout.
    CHECK (zflow_centrifugo_set_timeouts (client, 1000, 300) == 0);
    CHECK (test_fake_control (&s_fake, "{\"fault\":\"hang\",\"count\":1}") == 0);
    int64_t start = zclock_mono ();
    CHECK (zflow_centrifugo_json_info (client, NULL) == ZFLOW_ETIMEDOUT);
    int64_t took = zclock_mono () - start;
    CHECK (took >= 250 && took < 3000);
    CHECK (zflow_centrifugo_error_kind (client) == ZFLOW_CENTRIFUGO_ERR_REQUEST);
    CHECK (zflow_centrifugo_http_status (client) == 0);
    //  ...and the client recovers with a new connection.
    CHECK (zflow_centrifugo_json_info (client, NULL) == 0);
    CHECK (zflow_centrifugo_set_timeouts (client, 0, 5) == ZFLOW_EINVAL);
    zflow_centrifugo_destroy (&client);

    //  A refused connection.
    int fd = -1;
    int port = test_refused_port (&fd);
    CHECK (port > 0);
    char url[64];
    snprintf (url, sizeof (url), "http://127.0.0.1:%d/api", port);
    zflow_centrifugo_config_t config = s_config (url, KEY, ZFLOW_CENTRIFUGO_MODERN);
    client = s_new (&config);
    CHECK (zflow_centrifugo_json_info (client, NULL) == ZFLOW_EENDPOINT);
    CHECK (zflow_centrifugo_error_kind (client) == ZFLOW_CENTRIFUGO_ERR_REQUEST);
    zflow_centrifugo_destroy (&client);
    close (fd);

    //  TLS spoken to a plain HTTP server fails as a request error.
    snprintf (url, sizeof (url), "https://127.0.0.1:%d/api", s_fake.port);
    config = s_config (url, KEY, ZFLOW_CENTRIFUGO_MODERN);
    client = s_new (&config);
    CHECK (zflow_centrifugo_json_info (client, NULL) == ZFLOW_ETRANSPORT);
    CHECK (zflow_centrifugo_error_kind (client) == ZFLOW_CENTRIFUGO_ERR_REQUEST);
    zflow_centrifugo_destroy (&client);
}

//  zflow_centrifugo_new: bad configurations, copying, NULL-safe calls.
static void test_new (void)
{
    int err = 0;
    CHECK (zflow_centrifugo_new (NULL, &err) == NULL);
    CHECK (err == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_new (NULL, NULL) == NULL); //  err_p may be NULL
    zflow_centrifugo_config_t config = s_config (NULL, KEY, ZFLOW_CENTRIFUGO_MODERN);
    err = 0;
    CHECK (zflow_centrifugo_new (&config, &err) == NULL);
    CHECK (err == ZFLOW_ECONFIG);
    config.address = "";
    err = 0;
    CHECK (zflow_centrifugo_new (&config, &err) == NULL);
    CHECK (err == ZFLOW_ECONFIG);
    config = s_config (s_fake.api, "key\r\nX-Evil: 1", ZFLOW_CENTRIFUGO_MODERN);
    err = 0;
    CHECK (zflow_centrifugo_new (&config, &err) == NULL);
    CHECK (err == ZFLOW_ECONFIG);
    config = s_config (s_fake.api, KEY, (zflow_centrifugo_format_t) 7);
    err = 0;
    CHECK (zflow_centrifugo_new (&config, &err) == NULL);
    CHECK (err == ZFLOW_ECONFIG);
    config = s_config (s_fake.api, KEY, ZFLOW_CENTRIFUGO_MODERN);
    config.timeout_ms = -1;
    err = 0;
    CHECK (zflow_centrifugo_new (&config, &err) == NULL);
    CHECK (err == ZFLOW_ECONFIG);

    //  config_init sets the documented defaults; a zeroed config works too.
    zflow_centrifugo_config_init (&config);
    CHECK (config.address == NULL && config.api_key == NULL);
    CHECK (config.format == ZFLOW_CENTRIFUGO_MODERN);
    CHECK (config.connect_timeout_ms == ZFLOW_CENTRIFUGO_CONNECT_TIMEOUT);
    CHECK (config.timeout_ms == ZFLOW_CENTRIFUGO_TOTAL_TIMEOUT);
    CHECK (!config.insecure && !config.close_connections && !config.transport_errors);
    zflow_centrifugo_config_init (NULL);

    //  The strings are copied: the caller's buffers may change at once.
    char address[128], key[32];
    snprintf (address, sizeof (address), "%s", s_fake.api);
    snprintf (key, sizeof (key), "%s", KEY);
    zflow_centrifugo_config_t zeroed = {0};
    zeroed.address = address;
    zeroed.api_key = key;
    zflow_centrifugo_t *client = s_new (&zeroed);
    memset (address, 'x', sizeof (address) - 1);
    memset (key, 'y', sizeof (key) - 1);
    CHECK (zflow_centrifugo_json_info (client, NULL) == 0);
    zflow_centrifugo_destroy (&client);
    CHECK (client == NULL);
    zflow_centrifugo_destroy (&client); //  idempotent
    zflow_centrifugo_destroy (NULL);

    //  A NULL client is refused, never dereferenced.
    CHECK (zflow_centrifugo_set_timeouts (NULL, 10, 10) == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_format (NULL) == ZFLOW_CENTRIFUGO_MODERN);
    CHECK (zflow_centrifugo_error_kind (NULL) == ZFLOW_CENTRIFUGO_ERR_USAGE);
    CHECK (zflow_centrifugo_error_code (NULL) == 0);
    CHECK (zflow_centrifugo_http_status (NULL) == 0);
    CHECK (zflow_centrifugo_error_message (NULL) != NULL);
    CHECK (zflow_centrifugo_requests (NULL) == 0 && zflow_centrifugo_connects (NULL) == 0);
    char *text = (char *) "sentinel";
    CHECK (zflow_centrifugo_call (NULL, "info", NULL, &text) == ZFLOW_EINVAL);
    CHECK (text == NULL);
    CHECK (zflow_centrifugo_publish (NULL, "chat:x", "1", NULL, NULL) == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_add (NULL, "info", NULL) == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_send (NULL, false, NULL) == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_pending (NULL) == 0);
    zflow_centrifugo_clear (NULL);
    CHECK (zflow_centrifugo_json_info (NULL, NULL) == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_json_call (NULL, "info", NULL, NULL) == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_json_publish_object (NULL, "chat:x", "x", NULL, NULL) == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_json_add (NULL, "info", NULL) == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_json_send (NULL, false, NULL) == ZFLOW_EINVAL);
    zflow_centrifugo_json_set_encoder (NULL, NULL, NULL);
}

//  The calls of zflow_centrifugo.h, with JSON as text.
static void test_text (zflow_centrifugo_format_t format)
{
    zflow_centrifugo_t *client = s_client (format);
    const char *channel = format == ZFLOW_CENTRIFUGO_MODERN ? "chat:textm" : "chat:textl";
    char *result = NULL;
    CHECK (zflow_centrifugo_publish (client, channel, "{\"text\": \"hi\"}", NULL, &result) == 0);
    json_t *parsed = result ? json_loads (result, 0, NULL) : NULL;
    CHECK (s_int (parsed, "offset") == 1);
    CHECK (result && !strchr (result, ' ')); //  compact
    json_decref (parsed);
    free (result);
    //  Any JSON value is data; tags must be an object.
    CHECK (zflow_centrifugo_publish (client, channel, "42", NULL, NULL) == 0);
    zflow_centrifugo_publish_opts_t tagged = {.tags_json = "{\"k\":\"v\"}"};
    CHECK (zflow_centrifugo_publish (client, channel, "\"s\"", &tagged, NULL) == 0);
    zflow_centrifugo_publish_opts_t bad_tags = {.tags_json = "[1]"};
    CHECK (zflow_centrifugo_publish (client, channel, "1", &bad_tags, NULL) == ZFLOW_EINVAL);
    bad_tags.tags_json = "{";
    CHECK (zflow_centrifugo_publish (client, channel, "1", &bad_tags, NULL) == ZFLOW_EINVAL);

    //  call: params as text, the result as text.
    char params[64];
    snprintf (params, sizeof (params), "{\"channel\":\"%s\",\"limit\":5}", channel);
    CHECK (zflow_centrifugo_call (client, "history", params, &result) == 0);
    parsed = result ? json_loads (result, 0, NULL) : NULL;
    json_t *pubs = json_object_get (parsed, "publications");
    CHECK (json_array_size (pubs) == 3);
    CHECK (json_integer_value (json_object_get (json_array_get (pubs, 1), "data")) == 42);
    CHECK (streq (json_string_value (
                      json_object_get (json_object_get (json_array_get (pubs, 2), "tags"), "k")),
                  "v"));
    json_decref (parsed);
    free (result);
    CHECK (zflow_centrifugo_call (client, "info", NULL, NULL) == 0);
    CHECK (zflow_centrifugo_call (client, "info", NULL, &result) == 0);
    CHECK (result && result[0] == '{');
    free (result);

    //  Garbage is refused before anything is sent, with a USAGE error.
    uint64_t requests = zflow_centrifugo_requests (client);
    result = (char *) "sentinel";
    CHECK (zflow_centrifugo_publish (client, channel, "{\"unterminated\"", NULL, &result) ==
           ZFLOW_EINVAL);
    CHECK (result == NULL);
    CHECK (zflow_centrifugo_error_kind (client) == ZFLOW_CENTRIFUGO_ERR_USAGE);
    CHECK (zflow_centrifugo_publish (client, channel, "", NULL, NULL) == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_publish (client, channel, NULL, NULL, NULL) == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_publish (client, NULL, "1", NULL, NULL) == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_call (client, "info", "[1,2]", NULL) == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_call (client, "info", "not json", NULL) == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_call (client, "a/b", NULL, NULL) == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_call (client, NULL, NULL, NULL) == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_requests (client) == requests);
    //  A Centrifugo error comes back as with the jansson calls.
    CHECK (zflow_centrifugo_publish (client, "unknown:x", "1", NULL, &result) == ZFLOW_EREFUSED);
    CHECK (result == NULL);
    CHECK (zflow_centrifugo_error_code (client) == ZFLOW_CENTRIFUGO_UNKNOWN_CHANNEL);

    //  Batches with text params; the replies come back as one JSON array.
    CHECK (zflow_centrifugo_add (client, "publish", "{\"channel\":\"chat:textb\",\"data\":1}") ==
           0);
    CHECK (zflow_centrifugo_add (client, "publish", "{\"channel\":\"nowhere:b\",\"data\":2}") == 0);
    CHECK (zflow_centrifugo_add (client, "publish", "{\"channel\"") == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_add (client, "publish", "\"text\"") == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_add (client, "", NULL) == ZFLOW_EINVAL);
    CHECK (zflow_centrifugo_pending (client) == 2);
    char *replies = NULL;
    CHECK (zflow_centrifugo_send (client, false, &replies) == 0);
    CHECK (zflow_centrifugo_pending (client) == 0);
    json_t *array = replies ? json_loads (replies, 0, NULL) : NULL;
    CHECK (json_array_size (array) == 2);
    CHECK (zflow_centrifugo_json_reply_error (json_array_get (array, 0), NULL) == 0);
    CHECK (zflow_centrifugo_json_reply_error (json_array_get (array, 1), NULL) ==
           ZFLOW_CENTRIFUGO_UNKNOWN_CHANNEL);
    json_decref (array);
    free (replies);
    replies = (char *) "sentinel";
    CHECK (zflow_centrifugo_send (client, false, &replies) == ZFLOW_EINVAL); //  nothing queued
    CHECK (replies == NULL);
    CHECK (zflow_centrifugo_add (client, "info", NULL) == 0);
    zflow_centrifugo_clear (client);
    CHECK (zflow_centrifugo_pending (client) == 0);
    zflow_centrifugo_destroy (&client);
}

static void test_tls_verify (void)
{
    char dir[] = "/tmp/zflow_centrifugo_tlsXXXXXX";
    if (!mkdtemp (dir) || test_make_cert (dir)) {
        fprintf (stderr, "test_tls_verify: cannot make a certificate\n");
        s_failures++;
        return;
    }
    test_fake_t tls;
    CHECK (test_fake_start_tls (&tls, KEY, dir) == 0);
    zflow_centrifugo_config_t config = s_config (tls.api, KEY, ZFLOW_CENTRIFUGO_MODERN);
    zflow_centrifugo_t *client = s_new (&config);
    //  Verification is on by default: a self-signed certificate fails.
    CHECK (zflow_centrifugo_json_info (client, NULL) == ZFLOW_ETRANSPORT);
    CHECK (zflow_centrifugo_error_kind (client) == ZFLOW_CENTRIFUGO_ERR_REQUEST);
    zflow_centrifugo_destroy (&client);
    config.insecure = true;
    client = s_new (&config);
    CHECK (zflow_centrifugo_json_info (client, NULL) == 0);
    zflow_centrifugo_destroy (&client);
    test_fake_stop (&tls);
    char command[256];
    snprintf (command, sizeof (command), "rm -rf %s", dir);
    CHECK (system (command) == 0);
}

static void test_keepalive (void)
{
    CHECK (test_fake_control (&s_fake, "{\"reset\":true}") == 0);
    zflow_centrifugo_t *client = s_client (ZFLOW_CENTRIFUGO_MODERN);
    for (int index = 0; index < 20; index++)
        CHECK (zflow_centrifugo_json_info (client, NULL) == 0);
    CHECK (zflow_centrifugo_requests (client) == 20);
    CHECK (zflow_centrifugo_connects (client) == 1);
    json_t *state = test_fake_state (&s_fake);
    //  One connection for the client (the control requests use their own).
    CHECK (s_int (state, "requests") == 20);
    json_int_t connections = s_int (state, "connections");
    json_decref (state);
    zflow_centrifugo_destroy (&client);
    zflow_centrifugo_config_t config = s_config (s_fake.api, KEY, ZFLOW_CENTRIFUGO_MODERN);
    config.close_connections = true;
    client = s_new (&config);
    for (int index = 0; index < 5; index++)
        CHECK (zflow_centrifugo_json_info (client, NULL) == 0);
    //  Each request opens its own connection and closes it after it.
    CHECK (zflow_centrifugo_connects (client) == 5);
    state = test_fake_state (&s_fake);
    CHECK (s_int (state, "connections") >= connections + 5);
    json_decref (state);
    zflow_centrifugo_destroy (&client);
}

typedef struct {
    const char *name;
    int score;
} player_t;

static json_t *s_encode_player (const void *object, void *arg)
{
    int *calls = (int *) arg;
    (*calls)++;
    const player_t *player = (const player_t *) object;
    return player->name ? json_pack ("{s:s, s:i}", "name", player->name, "score", player->score)
                        : NULL;
}

static void test_encoder (void)
{
    zflow_centrifugo_t *client = s_client (ZFLOW_CENTRIFUGO_MODERN);
    player_t player = {"ann", 12};
    CHECK (zflow_centrifugo_json_publish_object (client, "chat:players", &player, NULL, NULL) ==
           ZFLOW_EINVAL); //  no encoder yet
    int calls = 0;
    zflow_centrifugo_json_set_encoder (client, s_encode_player, &calls);
    CHECK (zflow_centrifugo_json_publish_object (client, "chat:players", &player, NULL, NULL) == 0);
    CHECK (calls == 1);
    player_t nameless = {NULL, 0};
    CHECK (zflow_centrifugo_json_publish_object (client, "chat:players", &nameless, NULL, NULL) ==
           ZFLOW_EINVAL);
    json_t *result = NULL;
    CHECK (zflow_centrifugo_json_history (client, "chat:players", 5, NULL, false, &result) == 0);
    json_t *pub = json_array_get (json_object_get (result, "publications"), 0);
    json_t *data = json_object_get (pub, "data");
    CHECK (streq (json_string_value (json_object_get (data, "name")), "ann"));
    CHECK (s_int (data, "score") == 12);
    CHECK (json_array_size (json_object_get (result, "publications")) == 1);
    json_decref (result);
    zflow_centrifugo_destroy (&client);
}

//  The client from a plain thread while another thread uses its own.
static void *s_thread (void *arg)
{
    zflow_centrifugo_config_t config = s_config (s_fake.api, KEY, ZFLOW_CENTRIFUGO_MODERN);
    zflow_centrifugo_t *client = zflow_centrifugo_new (&config, NULL);
    json_t *data = json_pack ("{s:s}", "from", (const char *) arg);
    int *failures = (int *) calloc (1, sizeof (int));
    for (int index = 0; index < 20; index++)
        if (zflow_centrifugo_json_publish (client, "news:threads", data, NULL, NULL))
            (*failures)++;
    json_decref (data);
    zflow_centrifugo_destroy (&client);
    return failures;
}

static void test_threads (void)
{
    pthread_t a, b;
    pthread_create (&a, NULL, s_thread, "a");
    pthread_create (&b, NULL, s_thread, "b");
    void *fa, *fb;
    pthread_join (a, &fa);
    pthread_join (b, &fb);
    CHECK (*(int *) fa == 0 && *(int *) fb == 0);
    free (fa);
    free (fb);
    zflow_centrifugo_t *client = s_client (ZFLOW_CENTRIFUGO_MODERN);
    json_t *result = NULL;
    CHECK (zflow_centrifugo_json_history (client, "news:threads", 0, NULL, false, &result) == 0);
    CHECK (s_int (result, "offset") == 40);
    json_decref (result);
    zflow_centrifugo_destroy (&client);
}

int main (void)
{
    if (test_fake_start (&s_fake, KEY)) {
        fprintf (stderr, "cannot start the fake Centrifugo\n");
        return 1;
    }
    for (int format = 0; format < 2; format++) {
        test_publish_and_history ((zflow_centrifugo_format_t) format);
        test_users_and_presence ((zflow_centrifugo_format_t) format);
        test_broadcast_and_batch ((zflow_centrifugo_format_t) format);
        test_response_errors ((zflow_centrifugo_format_t) format);
        test_text ((zflow_centrifugo_format_t) format);
    }
    test_new ();
    test_transport_error_mode ();
    test_request_errors ();
    test_tls_verify ();
    test_keepalive ();
    test_encoder ();
    test_threads ();
    test_fake_stop (&s_fake);
    if (s_failures)
        fprintf (stderr, "test_centrifugo: %d check(s) failed\n", s_failures);
    else
        printf ("test_centrifugo: OK\n");
    return s_failures ? 1 : 0;
}
