/*  =========================================================================
    hpfeeds_pubsub - an embedded hpfeeds broker, a publisher and a
    subscriber in one program

        hpfeeds_pubsub [count]

    The broker listens on a free loopback port; any hpfeeds client (hpfeeds3,
    hpfeeds-client) can use it too while the program runs.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"

int main (int argc, char *argv[])
{
    int count = argc > 1 ? atoi (argv[1]) : 10;
    //  The broker: one ident that may publish and subscribe "demo".
    zflow_hpfeeds_broker_config_t broker_config;
    zflow_hpfeeds_broker_config_init (&broker_config);
    broker_config.name = "demo-broker";
    zflow_hpfeeds_broker_t *broker = zflow_hpfeeds_broker_new (&broker_config, NULL);
    const char *channels[] = {"demo", NULL};
    zflow_hpfeeds_broker_add_user (broker, "demo", "demo-secret", channels, channels);
    int port = zflow_hpfeeds_broker_bind (broker, "127.0.0.1", 0);
    if (port < 0) {
        fprintf (stderr, "bind: %s\n", zflow_error_text (port));
        return 1;
    }
    printf ("broker listening on 127.0.0.1:%d\n", port);

    //  Two clients: one subscribes, one publishes.
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.port = port;
    config.ident = "demo";
    config.secret = "demo-secret";
    zflow_hpfeeds_t *subscriber = zflow_hpfeeds_new (&config, NULL);
    zflow_hpfeeds_t *publisher = zflow_hpfeeds_new (&config, NULL);
    zflow_hpfeeds_subscribe (subscriber, "demo");
    int type;
    char *text = zflow_hpfeeds_event (subscriber, &type, 5000);
    printf ("subscriber: event %d: %s\n", type, text ? text : "(none)");
    zstr_free (&text);
    zclock_sleep (100); //  hpfeeds has no acks: let the subscription land

    for (int index = 0; index < count; index++) {
        char payload[64];
        int size = snprintf (payload, sizeof (payload), "{\"n\": %d}", index);
        zflow_hpfeeds_publish (publisher, "demo", payload, (size_t) size);
    }
    //  Every message arrives as a zflow envelope: key ("hpfeeds", channel),
    //  meta with the publisher's ident, the payload.
    zflow_msg_t *msg = zflow_msg_new ();
    for (int index = 0; index < count; index++) {
        if (zflow_hpfeeds_read (subscriber, msg, 2000))
            break;
        char channel[256], ident[256];
        const void *payload;
        size_t size;
        zflow_hpfeeds_unpack (msg, channel, ident, &payload, &size);
        printf ("%s from %s: %.*s\n", channel, ident, (int) size, (const char *) payload);
    }
    zhash_t *stats = zflow_hpfeeds_broker_stats (broker, 5000);
    printf ("broker: %s messages on demo\n", (char *) zhash_lookup (stats, "chan.demo.msgs"));
    zhash_destroy (&stats);
    zflow_msg_destroy (&msg);
    zflow_hpfeeds_destroy (&publisher);
    zflow_hpfeeds_destroy (&subscriber);
    zflow_hpfeeds_broker_destroy (&broker);
    return 0;
}
