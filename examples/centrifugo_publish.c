/*  =========================================================================
    centrifugo_publish - publish to Centrifugo with the client and the sink

        centrifugo_publish [api-url [api-key [legacy]]]

    Defaults: http://127.0.0.1:8000/api and key "secret". Without a real
    Centrifugo, start the fake that the tests use:

        python3 tests/fake/centrifugo_fake.py --port 8000 --key secret &

    It publishes one message with the blocking client, reads it back from
    history, then starts a sink actor, feeds it ten envelopes over a PUSH
    socket and prints the sink's counters.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include "zflow_centrifugo_sink.h"
#include <stdio.h>

static const char *s_kind (zflow_centrifugo_error_kind_t kind)
{
    return kind == ZFLOW_CENTRIFUGO_ERR_REQUEST    ? "request error"
           : kind == ZFLOW_CENTRIFUGO_ERR_RESPONSE ? "response error"
           : kind == ZFLOW_CENTRIFUGO_ERR_DECODE   ? "decode error"
                                                   : "error";
}

//  Publishes one message with the client and prints the channel's history.
static int s_client_demo (const char *address, const char *key, zflow_centrifugo_format_t format)
{
    zflow_centrifugo_config_t config;
    zflow_centrifugo_config_init (&config);
    config.address = address;
    config.api_key = key;
    config.format = format;
    int rc = 0;
    zflow_centrifugo_t *client = zflow_centrifugo_new (&config, &rc);
    if (!client)
        return rc;
    //  JSON goes in and comes out as text: no JSON library needed here.
    char *result = NULL;
    rc = zflow_centrifugo_publish (client, "chat:example", "{\"text\":\"hello from zflow\"}", NULL,
                                   &result);
    if (rc == 0) {
        printf ("publish: %s\n", result);
        free (result);
        rc = zflow_centrifugo_call (client, "history",
                                    "{\"channel\":\"chat:example\",\"limit\":3,\"reverse\":true}",
                                    &result);
    }
    if (rc == 0) {
        printf ("history (newest 3): %s\n", result);
        free (result);
    } else
        fprintf (stderr, "centrifugo: %s %d (%s): %s\n",
                 s_kind (zflow_centrifugo_error_kind (client)),
                 zflow_centrifugo_error_code (client), zflow_error_text (rc),
                 zflow_centrifugo_error_message (client));
    zflow_centrifugo_destroy (&client);
    return rc;
}

//  Feeds ten envelopes to a sink and prints its counters.
static int s_sink_demo (const char *address, const char *key, zflow_centrifugo_format_t format)
{
    zflow_centrifugo_sink_config_t config = {0};
    config.address = address;
    config.api_key = key;
    config.format = format;
    config.input_type = ZMQ_PULL;
    config.input_bind = "inproc://example-centrifugo";
    config.channel_rule = "{*}"; //  key ("chat", "sensors") -> channel "chat:sensors"
    int err = 0;
    zflow_centrifugo_sink_t *sink = zflow_centrifugo_sink_new (&config, &err);
    if (!sink) {
        fprintf (stderr, "sink: %s\n", zflow_error_text (err));
        return -1;
    }
    zflow_stream_t *out = zflow_stream_new (ZMQ_PUSH, NULL, "inproc://example-centrifugo", NULL);
    zflow_key_t *channel_key = zflow_key_new ("chat", "sensors", NULL);
    zflow_msg_t *msg = zflow_msg_new ();
    for (int index = 0; index < 10; index++) {
        char payload[64];
        int size = snprintf (payload, sizeof (payload), "{\"reading\":%d}", index);
        zflow_envelope_encode_key (msg, channel_key, NULL, payload, (size_t) size);
        zflow_stream_write (out, msg);
    }
    zflow_stream_drain (out, 1000);
    //  Wait (up to 3 s) for the sink to publish or give up.
    zhash_t *stats = NULL;
    for (int tries = 0; tries < 300; tries++) {
        zhash_destroy (&stats);
        stats = zflow_centrifugo_sink_stats (sink, 1000);
        if (zflow_actor_stats_get (stats, "published") + zflow_actor_stats_get (stats, "drops") >=
            10)
            break;
        zclock_sleep (10);
    }
    const char *names[] = {"msgs_in", "published", "batches", "requests", "retries", "drops"};
    for (size_t index = 0; index < sizeof (names) / sizeof (names[0]); index++)
        printf ("sink %s=%" PRIu64 "\n", names[index], zflow_actor_stats_get (stats, names[index]));
    int rc = zflow_actor_stats_get (stats, "published") == 10 ? 0 : -1;
    zhash_destroy (&stats);
    zflow_msg_destroy (&msg);
    zflow_key_destroy (&channel_key);
    zflow_stream_destroy (&out);
    zflow_centrifugo_sink_destroy (&sink);
    return rc;
}

int main (int argc, char *argv[])
{
    const char *address = argc > 1 ? argv[1] : "http://127.0.0.1:8000/api";
    const char *key = argc > 2 ? argv[2] : "secret";
    zflow_centrifugo_format_t format =
        argc > 3 && streq (argv[3], "legacy") ? ZFLOW_CENTRIFUGO_LEGACY : ZFLOW_CENTRIFUGO_MODERN;
    if (s_client_demo (address, key, format))
        return 1;
    return s_sink_demo (address, key, format) ? 1 : 0;
}
