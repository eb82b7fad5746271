/*  =========================================================================
    test_pipeline_hub - hub keys as pipeline sources and sinks

    A sub source on a hub's subscriber endpoint picks keys by prefix; a pub
    sink connected to the hub's publisher endpoint publishes back into it.
    Hub publisher -> ("events", *) -> pipeline (rekey events -> bridged)
    -> hub -> a hub subscriber on ("bridged", "*").

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include <stdio.h>
#include <string.h>

#include "zflow_testing.h"

int main (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "pipetest"}, NULL);
    CHECK (hub);
    zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new (hub, "watch", NULL);
    zflow_key_t *pattern = zflow_key_new ("bridged", "*", NULL);
    CHECK (zflow_hub_subscriber_subscribe (sub, pattern) == 0);

    zflow_pipeline_t *p = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "hub"}, NULL);
    CHECK (zflow_pipeline_source (p, "in", "sub", NULL, zflow_hub_sub_endpoint (hub)) == 0);
    CHECK (zflow_pipeline_subscribe (p, "events") == 0);
    zflow_pipeline_rekey (p, "rekey", "events", "bridged");
    zflow_pipeline_sink (p, "out", "pub", NULL, zflow_hub_pub_endpoint (hub));
    CHECK (zflow_pipeline_subscribe (p, "x") == ZFLOW_EINVAL); //  not a sub source
    zflow_pipeline_destroy (&p);

    p = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "hub"}, NULL);
    zflow_pipeline_source (p, "in", "sub", NULL, zflow_hub_sub_endpoint (hub));
    zflow_pipeline_subscribe (p, "events");
    zflow_pipeline_rekey (p, "rekey", "events", "bridged");
    zflow_pipeline_sink (p, "out", "pub", NULL, zflow_hub_pub_endpoint (hub));
    CHECK (zflow_pipeline_start (p) == 0);

    //  wait until the hub has seen the pipeline's plain prefix subscription
    zflow_key_t *probe = zflow_key_new ("events", "a", NULL);
    int64_t deadline = zclock_mono () + 5000;
    uint64_t prefixes = 0;
    while (prefixes == 0 && zclock_mono () < deadline) {
        zhash_t *stats = zflow_hub_stats (hub, 1000);
        prefixes = zflow_actor_stats_get (stats, "prefix_subscriptions");
        zhash_destroy (&stats);
        zclock_sleep (10);
    }
    CHECK (prefixes > 0);
    zclock_sleep (100); //  and the pipeline's PUB has joined the hub

    zflow_hub_publisher_t *pub = zflow_hub_publisher_new (hub, NULL, NULL);
    zflow_key_t *other = zflow_key_new ("other", "a", NULL);
    for (int i = 0; i < 100; i++) {
        char text[32];
        snprintf (text, sizeof (text), "{\"n\":%d}", i);
        zflow_hub_publisher_publish (pub, probe, text, strlen (text));
        zflow_hub_publisher_publish (pub, other, text, strlen (text));
    }
    zflow_hub_publisher_flush (pub, 2000);
    zflow_msg_t *msg = zflow_msg_new ();
    int got = 0;
    while (got < 100 && zflow_hub_subscriber_consume (sub, msg, 3000) == 0) {
        size_t size;
        const char *key = (const char *) zflow_envelope_key (msg, &size);
        CHECK (size == 9 && memcmp (key,
                                    "bridged\x1f"
                                    "a",
                                    9) == 0);
        got++;
    }
    CHECK (got == 100);
    zhash_t *stats = zflow_pipeline_stage_stats (p, 0, 1000);
    CHECK (zflow_actor_stats_get (stats, "msgs_in") == 100); //  "other" never reached it
    zhash_destroy (&stats);
    CHECK (zflow_pipeline_stop (p, 2000) == 0);
    zflow_pipeline_destroy (&p);
    zflow_msg_destroy (&msg);
    zflow_key_destroy (&probe);
    zflow_key_destroy (&other);
    zflow_key_destroy (&pattern);
    zflow_hub_publisher_destroy (&pub);
    zflow_hub_subscriber_destroy (&sub);
    zflow_hub_destroy (&hub);
    printf ("hub source and sink: ok\n");
    return 0;
}
