/*  =========================================================================
    centrifugo_source - print what a Centrifugo source brings into zflow

        centrifugo_source url token channels [seconds]

    url is the client WebSocket endpoint
    (ws://127.0.0.1:8000/connection/websocket), token a connection JWT,
    channels a comma list. It prints every publication (key, offset, epoch,
    data) and every event until Ctrl-C or the given number of seconds, then
    the source's counters. Without a real Centrifugo, the fake the tests use
    prints a port and a token it accepts, and takes publications on stdin:

        /usr/bin/python3 tests/fake/centrifugo_ws_fake.py --secret s --port 8000
        PORT 8000 TOKEN eyJ... EXPIRED ...
        {"op":"publish","channel":"news","data":{"text":"hello"}}

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include <stdio.h>

//  Prints one envelope: key, offset and epoch, payload.
static void s_print (zflow_msg_t *msg, zflow_meta_t *meta)
{
    size_t key_size, size;
    const char *key = (const char *) zflow_envelope_key (msg, &key_size);
    const char *payload = (const char *) zflow_envelope_payload (msg, &size);
    int err;
    zflow_key_t *parsed = zflow_key_decode (key, key_size, &err);
    if (!parsed || zflow_envelope_decode (msg, meta)) {
        printf ("(not an envelope)\n");
        zflow_key_destroy (&parsed);
        return;
    }
    const char *epoch = zflow_meta_get (meta, "epoch");
    printf ("%-30s offset %-6llu epoch %-10s %.*s\n", zflow_key_text (parsed),
            (unsigned long long) zflow_meta_seq (meta), epoch ? epoch : "-", (int) size,
            payload ? payload : "");
    zflow_key_destroy (&parsed);
}

int main (int argc, char *argv[])
{
    if (argc < 4) {
        fprintf (stderr, "usage: centrifugo_source url token channels [seconds]\n");
        return 2;
    }
    zflow_centrifugo_source_config_t config = {0};
    config.url = argv[1];
    config.token = argv[2];
    config.channels = argv[3];
    config.name = "example";
    config.manual_start = true; //  subscribe to the PUB before anything arrives
    int err;
    zflow_centrifugo_source_t *source = zflow_centrifugo_source_new (&config, &err);
    if (!source) {
        fprintf (stderr, "centrifugo_source: %s\n", zflow_error_text (err));
        return 1;
    }
    zsock_t *sub = zsock_new (ZMQ_SUB);
    zsock_set_subscribe (sub, "");
    zsock_connect (sub, "%s", zflow_centrifugo_source_endpoint (source));
    zflow_centrifugo_source_start (source);

    int64_t end = argc > 4 ? zclock_mono () + atoi (argv[4]) * 1000 : INT64_MAX;
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_meta_t *meta = zflow_meta_new ();
    zpoller_t *poller = zpoller_new (sub, NULL);
    while (!zsys_interrupted && zclock_mono () < end) {
        if (!zpoller_wait (poller, 200))
            continue;
        zmsg_t *zmsg = zmsg_recv (sub);
        if (zmsg && zflow_msg_from_zmsg (msg, &zmsg) == 0)
            s_print (msg, meta);
        zmsg_destroy (&zmsg);
    }
    zhash_t *stats = zflow_centrifugo_source_stats (source, 1000);
    for (const char *value = stats ? (const char *) zhash_first (stats) : NULL; value;
         value = (const char *) zhash_next (stats))
        printf ("%s=%s\n", zhash_cursor (stats), value);
    zhash_destroy (&stats);
    zpoller_destroy (&poller);
    zflow_meta_destroy (&meta);
    zflow_msg_destroy (&msg);
    zsock_destroy (&sub);
    zflow_centrifugo_source_destroy (&source);
    return 0;
}
