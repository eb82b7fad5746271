/*  =========================================================================
    hub_bridge - an hpfeeds feed on the hub, the bus of the process

    An embedded hpfeeds broker, a client "sensor" publishing to channel
    "events", and a client "reader" subscribed to it. The hub attaches the
    reader's endpoint (zflow_hub_attach), so every hpfeeds message arrives
    on the hub as an envelope with key ("hpfeeds", "events") and the
    publisher's ident in its meta; a hub subscriber on ("hpfeeds", "*") prints
    them. Runs without any outside service and exits by itself.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include "zflow_hpfeeds_broker.h"
#include <stdio.h>
#include <string.h>

//  A client of the embedded broker at port with ident and secret.
static zflow_hpfeeds_t *s_hpfeeds_client (int port, const char *ident, const char *secret)
{
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.host = "127.0.0.1";
    config.port = port;
    config.ident = ident;
    config.secret = secret;
    return zflow_hpfeeds_new (&config, NULL);
}

int main (void)
{
    //  the broker and its two users
    zflow_hpfeeds_broker_t *broker =
        zflow_hpfeeds_broker_new (&(zflow_hpfeeds_broker_config_t){.name = "example"}, NULL);
    const char *events[] = {"events", NULL};
    zflow_hpfeeds_broker_add_user (broker, "sensor", "s1", events, NULL);
    zflow_hpfeeds_broker_add_user (broker, "reader", "s2", NULL, events);
    int port = zflow_hpfeeds_broker_bind (broker, "127.0.0.1", 0);
    if (port <= 0) {
        fprintf (stderr, "hub_bridge: the broker cannot bind\n");
        return 1;
    }
    zflow_hpfeeds_t *reader = s_hpfeeds_client (port, "reader", "s2");
    zflow_hpfeeds_t *sensor = s_hpfeeds_client (port, "sensor", "s1");
    zflow_hpfeeds_subscribe (reader, "events");

    //  the hub, its subscriber on hpfeeds/*, and the reader attached
    int err = 0;
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "bridge"}, &err);
    zflow_hub_subscriber_t *subscriber = zflow_hub_subscriber_new (hub, "printer", &err);
    zflow_key_t *pattern = zflow_key_parse ("hpfeeds/*", NULL);
    err = subscriber ? zflow_hub_subscriber_subscribe (subscriber, pattern) : err;
    err = err ? err : zflow_hub_attach (hub, zflow_hpfeeds_endpoint (reader), 2000);
    if (err) {
        fprintf (stderr, "hub_bridge: %s\n", zflow_error_text (err));
        return 1;
    }
    //  publish once both clients are connected (the reader then subscribed)
    int64_t deadline = zclock_mono () + 5000;
    while ((!zflow_hpfeeds_connected (reader) || !zflow_hpfeeds_connected (sensor)) &&
           zclock_mono () < deadline)
        zclock_sleep (10);
    zclock_sleep (100);
    for (int i = 0; i < 3; i++) {
        char event[64];
        snprintf (event, sizeof (event), "{\"eventid\":\"login.failed\",\"n\":%d}", i);
        zflow_hpfeeds_publish (sensor, "events", event, strlen (event));
    }

    zflow_msg_t *envelope = zflow_msg_new ();
    zflow_meta_t *meta = zflow_meta_new ();
    int got = 0;
    while (got < 3 && zflow_hub_subscriber_consume (subscriber, envelope, 3000) == 0) {
        size_t key_size, size;
        const char *key = (const char *) zflow_envelope_key (envelope, &key_size);
        const char *payload = (const char *) zflow_envelope_payload (envelope, &size);
        zflow_key_t *parsed = zflow_key_decode (key, key_size, NULL);
        zflow_envelope_decode (envelope, meta);
        const char *ident = zflow_meta_get (meta, "ident");
        printf ("%s ident=%s %.*s\n", parsed ? zflow_key_text (parsed) : "?", ident ? ident : "?",
                (int) size, payload);
        zflow_key_destroy (&parsed);
        got++;
    }
    zhash_t *stats = zflow_hub_stats (hub, 1000);
    printf ("the hub forwarded %" PRIu64 " envelopes from attached endpoints\n",
            zflow_actor_stats_get (stats, "attached_in"));
    zhash_destroy (&stats);

    zflow_meta_destroy (&meta);
    zflow_msg_destroy (&envelope);
    zflow_key_destroy (&pattern);
    zflow_hub_subscriber_destroy (&subscriber);
    zflow_hub_destroy (&hub);
    zflow_hpfeeds_destroy (&sensor);
    zflow_hpfeeds_destroy (&reader);
    zflow_hpfeeds_broker_destroy (&broker);
    return got == 3 ? 0 : 1;
}
