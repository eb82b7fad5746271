/*  =========================================================================
    hpfeeds_merge - merge the feeds of three brokers, keep the events that
    have hashes, publish them to a fourth broker

    The C form of the aiostream example of hpfeeds3's asyncio client:

        merge(*brokers) | map(json.loads) | filter(len(hashes) > 0)
                        | map(json.dumps) -> publish_async_iterable('out-channel')

    Here: three clients (one per broker) publish their messages on inproc
    PUB sockets; one zflow SUB stream connected to all three is the merge;
    the filter decodes and re-encodes with jansson; the kept events go to a
    PUSH stream that the output client publishes from
    (zflow_hpfeeds_publish_from). The four brokers are embedded, with a
    small synthetic feed on each input broker.

        hpfeeds_merge [events per input broker]

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include <jansson.h>

static zflow_hpfeeds_broker_t *s_broker (int *port_p)
{
    zflow_hpfeeds_broker_t *broker = zflow_hpfeeds_broker_new (NULL, NULL);
    const char *channels[] = {"in-channel", "out-channel", NULL};
    zflow_hpfeeds_broker_add_user (broker, "ident", "secret", channels, channels);
    *port_p = zflow_hpfeeds_broker_bind (broker, "127.0.0.1", 0);
    return broker;
}

static zflow_hpfeeds_t *s_client (int port, bool reader)
{
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.port = port;
    config.ident = "ident";
    config.secret = "secret";
    config.reader = reader;
    zflow_hpfeeds_t *client = zflow_hpfeeds_new (&config, NULL);
    while (!zflow_hpfeeds_connected (client))
        zclock_sleep (10);
    return client;
}

//  The filter: JSON in, JSON out if "hashes" is a non-empty list, else NULL.
static char *s_keep_with_hashes (const void *payload, size_t size)
{
    json_error_t error;
    json_t *event = json_loadb ((const char *) payload, size, 0, &error);
    json_t *hashes = event ? json_object_get (event, "hashes") : NULL;
    char *out = NULL;
    if (json_is_array (hashes) && json_array_size (hashes) > 0)
        out = json_dumps (event, JSON_COMPACT);
    json_decref (event);
    return out;
}

int main (int argc, char *argv[])
{
    int count = argc > 1 ? atoi (argv[1]) : 5;
    int ports[4];
    zflow_hpfeeds_broker_t *brokers[4];
    for (int index = 0; index < 4; index++)
        brokers[index] = s_broker (&ports[index]);

    //  Inputs: one client per input broker; their outputs merged by one SUB.
    zflow_stream_t *merged = zflow_stream_new (ZMQ_SUB, NULL, NULL, NULL);
    zsock_set_subscribe (zflow_stream_sock (merged), "hpfeeds\x1fin-channel");
    zflow_hpfeeds_t *inputs[3], *feeders[3];
    for (int index = 0; index < 3; index++) {
        inputs[index] = s_client (ports[index], false);
        zflow_hpfeeds_subscribe (inputs[index], "in-channel");
        zflow_stream_connect (merged, zflow_hpfeeds_endpoint (inputs[index]));
        feeders[index] = s_client (ports[index], false);
    }
    //  Output: whatever is written to the PUSH goes to out-channel.
    const char *out = "inproc://hpfeeds-merge-out";
    zflow_stream_t *filtered = zflow_stream_new (ZMQ_PUSH, out, NULL, NULL);
    zflow_hpfeeds_t *output = s_client (ports[3], false);
    zflow_hpfeeds_publish_from (output, ZMQ_PULL, out, NULL, "out-channel");
    zflow_hpfeeds_t *watcher = s_client (ports[3], true);
    zflow_hpfeeds_subscribe (watcher, "out-channel");
    zclock_sleep (200);

    //  The synthetic feeds: every other event has hashes.
    for (int index = 0; index < count * 3; index++) {
        char event[200];
        int size =
            snprintf (event, sizeof (event), "{\"broker\": %d, \"n\": %d, \"hashes\": [%s]}",
                      index % 3, index, index % 2 ? "" : "\"d41d8cd98f00b204e9800998ecf8427e\"");
        zflow_hpfeeds_publish (feeders[index % 3], "in-channel", event, (size_t) size);
    }
    //  The pipeline: merged -> filter -> filtered.
    zflow_msg_t *msg = zflow_msg_new ();
    int seen = 0, kept = 0;
    while (seen < count * 3 && zflow_stream_read (merged, msg, 2000) == 0) {
        size_t size;
        const void *payload = zflow_envelope_payload (msg, &size);
        seen++;
        char *json = s_keep_with_hashes (payload, size);
        if (json) {
            zflow_msg_reset (msg);
            zflow_msg_addstr (msg, json);
            zflow_stream_write (filtered, msg);
            free (json);
            kept++;
        }
    }
    printf ("merged %d events from 3 brokers, kept %d with hashes\n", seen, kept);
    for (int index = 0; index < kept; index++) {
        if (zflow_hpfeeds_read (watcher, msg, 2000))
            break;
        const void *payload;
        size_t size;
        zflow_hpfeeds_unpack (msg, NULL, NULL, &payload, &size);
        printf ("out-channel: %.*s\n", (int) size, (const char *) payload);
    }
    zflow_msg_destroy (&msg);
    zflow_hpfeeds_destroy (&watcher);
    zflow_hpfeeds_destroy (&output);
    zflow_stream_destroy (&filtered);
    zflow_stream_destroy (&merged);
    for (int index = 0; index < 3; index++) {
        zflow_hpfeeds_destroy (&feeders[index]);
        zflow_hpfeeds_destroy (&inputs[index]);
    }
    for (int index = 0; index < 4; index++)
        zflow_hpfeeds_broker_destroy (&brokers[index]);
    return 0;
}
