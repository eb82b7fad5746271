/*  =========================================================================
    mqtt_bridge - an hpfeeds channel bridged into an MQTT broker

        mqtt_bridge [HOST [PORT]]      (default 127.0.0.1 1883)

    An embedded hpfeeds broker and a client "sensor" publishing to channel
    "events"; a pipeline reads that channel (key ("hpfeeds", "events")) and
    its MQTT sink publishes each event with QoS 1 to the broker given on
    the command line, under the topic its key maps to: "hpfeeds/events". A
    zflow MQTT source subscribed to "hpfeeds/#" on the same broker prints
    what comes back (key ("mqtt", "hpfeeds", "events")). Ends by itself;
    exit 1 when the broker cannot be reached or not all events came back.
    Try it with Debian's mosquitto running, and watch with
    `mosquitto_sub -t 'hpfeeds/#' -v`.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include "zflow_hpfeeds_broker.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENTS 5

//  The MQTT source that watches the broker: prints what arrives. Returns
//  how many arrived within timeout_ms.
static int s_watch (zsock_t *watch, int want, int timeout_ms)
{
    int got = 0;
    zsock_set_rcvtimeo (watch, timeout_ms);
    zmsg_t *msg;
    while (got < want && (msg = zmsg_recv (watch))) {
        zframe_t *key = zmsg_first (msg);
        zflow_key_t *parsed = zflow_key_decode (zframe_data (key), zframe_size (key), NULL);
        zframe_t *payload = zmsg_last (msg);
        printf ("%s %.*s\n", parsed ? zflow_key_text (parsed) : "?", (int) zframe_size (payload),
                (const char *) zframe_data (payload));
        zflow_key_destroy (&parsed);
        zmsg_destroy (&msg);
        got++;
    }
    return got;
}

int main (int argc, char *argv[])
{
    const char *host = argc > 1 ? argv[1] : "127.0.0.1";
    int port = argc > 2 ? atoi (argv[2]) : 1883;

    //  the hpfeeds side: a broker, its sensor
    zflow_hpfeeds_broker_t *broker =
        zflow_hpfeeds_broker_new (&(zflow_hpfeeds_broker_config_t){.name = "example"}, NULL);
    const char *events[] = {"events", NULL};
    zflow_hpfeeds_broker_add_user (broker, "sensor", "s1", events, NULL);
    zflow_hpfeeds_broker_add_user (broker, "bridge", "s2", NULL, events);
    int hpfeeds_port = zflow_hpfeeds_broker_bind (broker, "127.0.0.1", 0);
    zflow_hpfeeds_config_t hpfeeds;
    zflow_hpfeeds_config_init (&hpfeeds);
    hpfeeds.port = hpfeeds_port;
    hpfeeds.ident = "sensor";
    hpfeeds.secret = "s1";
    zflow_hpfeeds_t *sensor = zflow_hpfeeds_new (&hpfeeds, NULL);

    //  the MQTT side: a sink the pipeline writes to, a source to watch
    zflow_mqtt_config_t mqtt;
    zflow_mqtt_config_init (&mqtt);
    mqtt.host = host;
    mqtt.port = port;
    mqtt.qos = 1;
    mqtt.lossless = true;
    mqtt.filters = "hpfeeds/#";
    int err = 0;
    zflow_mqtt_source_t *source = zflow_mqtt_source_new (&mqtt, &err);
    zflow_mqtt_sink_t *sink = source ? zflow_mqtt_sink_new (&mqtt, &err) : NULL;
    if (!sink) {
        fprintf (stderr, "mqtt_bridge: %s\n", zflow_error_text (err));
        return 1;
    }
    zsock_t *watch = zsock_new_sub (zflow_mqtt_source_endpoint (source), "");

    //  the pipeline: hpfeeds "events" -> the MQTT sink's input
    zflow_pipeline_t *pipeline = zflow_pipeline_new (NULL, NULL);
    hpfeeds.ident = "bridge";
    hpfeeds.secret = "s2";
    zflow_pipeline_source_hpfeeds (pipeline, "feed", &hpfeeds, "events");
    zflow_pipeline_sink (pipeline, "to_mqtt", "push", NULL, zflow_mqtt_sink_endpoint (sink));
    if (zflow_pipeline_start (pipeline)) {
        fprintf (stderr, "mqtt_bridge: %s\n", zflow_pipeline_error_text (pipeline));
        return 1;
    }

    //  publish once the MQTT clients are connected and the sensor is up
    int64_t deadline = zclock_mono () + 5000;
    bool ready = false;
    while (!ready && zclock_mono () < deadline) {
        zhash_t *in = zflow_mqtt_source_stats (source, 1000);
        zhash_t *out = zflow_mqtt_sink_stats (sink, 1000);
        ready = zflow_actor_stats_get (in, "subscribed") &&
                zflow_actor_stats_get (out, "connected") && zflow_hpfeeds_connected (sensor);
        zhash_destroy (&in);
        zhash_destroy (&out);
        zclock_sleep (10);
    }
    if (!ready)
        fprintf (stderr, "mqtt_bridge: no MQTT broker at %s:%d (or hpfeeds not up)\n", host, port);
    zclock_sleep (200); //  the bridge client's subscription reaches the hpfeeds broker
    for (int i = 0; ready && i < EVENTS; i++) {
        char event[64];
        snprintf (event, sizeof (event), "{\"eventid\":\"login.failed\",\"n\":%d}", i);
        zflow_hpfeeds_publish (sensor, "events", event, strlen (event));
    }
    int got = ready ? s_watch (watch, EVENTS, 5000) : 0;
    zhash_t *stats = zflow_mqtt_sink_stats (sink, 1000);
    printf ("MQTT sink: %" PRIu64 " delivered (PUBACK), %" PRIu64 " dropped\n",
            zflow_actor_stats_get (stats, "delivered"), zflow_actor_stats_get (stats, "drops"));
    zhash_destroy (&stats);

    zflow_pipeline_destroy (&pipeline);
    zsock_destroy (&watch);
    zflow_mqtt_sink_destroy (&sink);
    zflow_mqtt_source_destroy (&source);
    zflow_hpfeeds_destroy (&sensor);
    zflow_hpfeeds_broker_destroy (&broker);
    return got == EVENTS ? 0 : 1;
}
