/*  =========================================================================
    ws_feed - print the messages of a WebSocket feed that match a filter

        ws_feed URL [-f FILTER] [-s SUBSCRIBE] [-n COUNT] [-r ROTATE_MS] [-k]

    URL        ws:// or wss:// feed
    -f FILTER  JSON filter: a list of objects (or one object), e.g.
               '[{"e":"trade"},{"e":"aggTrade","s":"BTCUSDT"}]'
    -s TEXT    message sent after every (re)connect, e.g. a subscribe request
    -n COUNT   stop after COUNT matching messages (default: run until Ctrl-C)
    -r MS      policy reconnect every MS milliseconds (new connection first)
    -k         do not verify the TLS certificate (testing only)

    Example against the Python test server of the repository:
        /usr/bin/python3 tests/ws/server.py      (prints its port, say 40000)
        ws_feed ws://127.0.0.1:40000/stream/10 -f '{"kind":"a"}' -n 5

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include "zflow_ws_json.h"

//  A handler: counts every message, whatever the streams do.
static int s_count (const void *data, size_t size, bool binary, const json_t *parsed, void *arg)
{
    (void) data;
    (void) size;
    (void) binary;
    (void) parsed;
    (*(uint64_t *) arg)++;
    return 0;
}

int main (int argc, char *argv[])
{
    if (argc < 2 || argv[1][0] == '-') {
        fprintf (stderr, "usage: ws_feed URL [-f FILTER] [-s SUBSCRIBE] [-n COUNT] "
                         "[-r ROTATE_MS] [-k]\n");
        return 2;
    }
    zsys_init ();
    const char *filter = NULL;
    long count = -1;
    uint64_t seen = 0;
    zflow_ws_config_t *config = zflow_ws_config_new (argv[1]);
    if (!config) {
        fprintf (stderr, "ws_feed: %s is not a ws:// or wss:// URL\n", argv[1]);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        bool has_value = i + 1 < argc;
        if (streq (argv[i], "-f") && has_value)
            filter = argv[++i];
        else if (streq (argv[i], "-s") && has_value)
            zflow_ws_config_on_connect_send (config, argv[++i]);
        else if (streq (argv[i], "-n") && has_value)
            count = strtol (argv[++i], NULL, 10);
        else if (streq (argv[i], "-r") && has_value)
            zflow_ws_config_set_rotate (config, strtoll (argv[++i], NULL, 10), NULL);
        else if (streq (argv[i], "-k"))
            zflow_ws_config_set_tls (config, false, NULL);
        else {
            fprintf (stderr, "ws_feed: unknown or incomplete option %s\n", argv[i]);
            zflow_ws_config_destroy (&config);
            return 2;
        }
    }
    zflow_ws_json_add_handler (config, s_count, &seen);
    zflow_ws_config_set_autostart (config, false); //  the stream first, then connect
    zflow_ws_config_set_name (config, "example");
    int rc;
    zflow_ws_t *feed = zflow_ws_new (config, &rc);
    zflow_ws_config_destroy (&config); //  the feed keeps its own copy
    if (!feed) {
        fprintf (stderr, "ws_feed: %s\n", zflow_error_text (rc));
        return 1;
    }
    zflow_ws_stream_t *stream = zflow_ws_stream_filter (feed, filter, 1000, ZFLOW_WS_DROP, &rc);
    if (!stream) {
        fprintf (stderr, "ws_feed: bad filter: %s\n", zflow_error_text (rc));
        zflow_ws_destroy (&feed);
        return 2;
    }
    zflow_ws_start (feed);
    zflow_msg_t *msg = zflow_msg_new ();
    long printed = 0;
    while (!zsys_interrupted && (count < 0 || printed < count)) {
        rc = zflow_ws_stream_read (stream, msg, 500);
        if (rc == ZFLOW_ETIMEDOUT)
            continue;
        if (rc)
            break;
        size_t size;
        const char *payload = (const char *) zflow_envelope_payload (msg, &size);
        printf ("%.*s\n", (int) size, payload);
        printed++;
    }
    printf ("ws_feed: %ld printed, %" PRIu64 " received, %" PRIu64 " dropped, connected: %s\n",
            printed, seen, zflow_ws_stream_drops (stream), zflow_ws_present (feed) ? "yes" : "no");
    zflow_msg_destroy (&msg);
    zflow_ws_stream_destroy (&stream);
    zflow_ws_destroy (&feed);
    return 0;
}
