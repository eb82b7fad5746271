/*  =========================================================================
    pipeline_hpfeeds - the hpfeeds seed's aiostream example, as a zflow
    pipeline on real hpfeeds brokers

    The Python original:

        pipeline = (
            merge(*brokers) |                                   # three brokers
            map(lambda ident, channel, payload: json.loads(payload)) |
            filter(lambda payload: len(payload['hashes']) > 0) |
            map(lambda payload: json.dumps(payload).encode('utf-8'))
        )
        await output.publish_async_iterable('out-channel', pipeline)

    Here three embedded brokers stand in for the feeds and a fourth for the
    output, all on free loopback ports, so it runs with nothing else:

        in1, in2, in3 (hpfeeds "in-channel") -> merge -> hashes (non-empty)
            -> reencode (JSON) -> out (hpfeeds "out-channel") and stdout

    Run it: ./pipeline_hpfeeds

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include <string.h>

//  Starts a broker on a free port where ident may publish and subscribe
//  channel; returns it and its port in *port_p.
static zflow_hpfeeds_broker_t *s_broker (const char *channel, int *port_p)
{
    zflow_hpfeeds_broker_t *broker =
        zflow_hpfeeds_broker_new (&(zflow_hpfeeds_broker_config_t){.name = "example"}, NULL);
    const char *channels[] = {channel, NULL};
    zflow_hpfeeds_broker_add_user (broker, "ident", "secret", channels, channels);
    *port_p = zflow_hpfeeds_broker_bind (broker, "127.0.0.1", 0);
    return broker;
}

int main (void)
{
    zflow_hpfeeds_broker_t *brokers[4];
    int ports[4];
    for (int b = 0; b < 4; b++)
        brokers[b] = s_broker (b < 3 ? "in-channel" : "out-channel", &ports[b]);

    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.ident = "ident";
    config.secret = "secret";
    zflow_pipeline_t *p =
        zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "aiostream"}, NULL);
    const char *names[] = {"in1", "in2", "in3"};
    for (int b = 0; b < 3; b++) {
        config.port = ports[b];
        zflow_pipeline_source_hpfeeds (p, names[b], &config, "in-channel");
    }
    zflow_pipeline_merge (p, "merge");
    zflow_pipeline_filter_nonempty (p, "hashes", "hashes");
    zflow_pipeline_encode (p, "reencode", ZFLOW_PIPELINE_JSON);
    config.port = ports[3];
    zflow_pipeline_sink_hpfeeds (p, "out", &config, "out-channel");
    zflow_pipeline_sink_file (p, "stdout", "-");
    if (zflow_pipeline_start (p)) {
        fprintf (stderr, "cannot start: %s\n", zflow_pipeline_error_text (p));
        return 1;
    }
    //  a reader of the output channel (config's port is ports[3])
    zflow_hpfeeds_t *reader = zflow_hpfeeds_new (&config, NULL);
    zflow_hpfeeds_subscribe (reader, "out-channel");
    //  wait until the three sources and the reader are subscribed
    for (int tries = 0; tries < 500; tries++) {
        int connected = zflow_hpfeeds_connected (reader);
        for (size_t i = 0; i < 3; i++) {
            zhash_t *stats = zflow_pipeline_stage_stats (p, i, 1000);
            connected += (int) zflow_actor_stats_get (stats, "hpfeeds.connected");
            zhash_destroy (&stats);
        }
        if (connected == 4)
            break;
        zclock_sleep (10);
    }
    zclock_sleep (50);
    //  each "broker" gets four events, two of them with hashes
    for (int b = 0; b < 3; b++) {
        config.port = ports[b];
        zflow_hpfeeds_t *feed = zflow_hpfeeds_new (&config, NULL);
        for (int i = 0; i < 4; i++) {
            char event[128];
            snprintf (event, sizeof (event), "{\"broker\":%d,\"n\":%d,\"hashes\":[%s]}", b + 1, i,
                      i % 2 ? "" : "\"d41d8cd98f00b204e9800998ecf8427e\"");
            zflow_hpfeeds_publish (feed, "in-channel", event, strlen (event));
        }
        for (int tries = 0; tries < 500 && !zflow_hpfeeds_connected (feed); tries++)
            zclock_sleep (5);
        zclock_sleep (100); //  hpfeeds acknowledges nothing: let it write
        zflow_hpfeeds_destroy (&feed);
    }
    zflow_msg_t *msg = zflow_msg_new ();
    int received = 0;
    while (received < 6 && zflow_hpfeeds_read (reader, msg, 3000) == 0)
        received++;
    zflow_pipeline_stop (p, 2000);
    fprintf (stderr, "out-channel received %d of the 6 events with hashes\n", received);
    zflow_msg_destroy (&msg);
    zflow_hpfeeds_destroy (&reader);
    zflow_pipeline_destroy (&p);
    for (int b = 0; b < 4; b++)
        zflow_hpfeeds_broker_destroy (&brokers[b]);
    return received == 6 ? 0 : 1;
}
