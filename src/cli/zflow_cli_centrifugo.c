/*  =========================================================================
    zflow_cli_centrifugo - zflow sub centrifugo+ws[s]://...: Centrifugo
    channels to the terminal

    A Centrifugo source actor (zflow_centrifugo_source: the client protocol
    over the project's WebSocket client) subscribes to the --channel
    channels; each publication's data is printed as one JSON line, like the
    other forms of zflow sub. The source's events go to stderr (connected,
    subscribed, errors, disconnects) as they happen. Exit 1 when the first
    connection does not come within --timeout, when the server refuses the
    connection for good (a bad token) or refuses a subscription.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_cli.h"
#include "zflow_pipeline_codec.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>

//  The key prefix of the source's envelopes (events: "<prefix>.event").
#define S_PREFIX "centrifugo"

static const char *s_usage =
    "usage: zflow sub centrifugo+ws[s]://HOST:PORT/connection/websocket --channel CH\n"
    "                 [--channel CH]... [--token JWT] [--count N] [--timeout MS]\n"
    "                 [--insecure] [--ca FILE] [--quiet]\n"
    "\n"
    "Connects to Centrifugo over its client protocol (WebSocket, JSON), subscribes\n"
    "to each --channel (or a comma list) with the connection token --token, and\n"
    "prints the data of every publication as a JSON line until Ctrl-C or N\n"
    "publications. Reconnects and recovers missed publications by itself; what\n"
    "happens (errors, reconnects) is said on stderr unless --quiet.\n"
    "Exit codes: 0 ok, 1 no connection within --timeout (default 5000 ms), token\n"
    "or subscription refused, 2 usage error.\n";

//  The command line.
typedef struct {
    zflow_centrifugo_source_config_t config; //  the source's configuration
    char *channels;                          //  comma list of every --channel
    int64_t count;                           //  stop after so many (0: never)
    int64_t timeout_ms;                      //  wait for the first connection
    bool quiet;                              //  no events on stderr
} s_args_t;

//  Reads a positive number. Returns -1 when bad.
static int64_t s_number (const char *text)
{
    char *end = NULL;
    errno = 0;
    long long value = strtoll (text, &end, 10);
    return *text && !*end && !errno && value >= 0 ? value : -1;
}

//  Parses argv into args. Returns 0, 1 (help shown) or -1 (reported).
static int s_parse (int argc, char **argv, s_args_t *args)
{
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (streq (arg, "-h") || streq (arg, "--help")) {
            printf ("%s", s_usage);
            return 1;
        } else if (streq (arg, "-q") || streq (arg, "--quiet"))
            args->quiet = true;
        else if (streq (arg, "--insecure"))
            args->config.insecure = true;
        else if (value && streq (arg, "--token"))
            args->config.token = argv[++i];
        else if (value && streq (arg, "--ca"))
            args->config.ca_file = argv[++i];
        else if (value && streq (arg, "--channel")) {
            char *joined =
                args->channels ? zsys_sprintf ("%s,%s", args->channels, value) : strdup (value);
            free (args->channels);
            args->channels = joined;
            i++;
        } else if (value && streq (arg, "--count") && (args->count = s_number (value)) >= 0)
            i++;
        else if (value && streq (arg, "--timeout") && (args->timeout_ms = s_number (value)) > 0)
            i++;
        else if (strncmp (arg, "centrifugo+ws", 13) == 0 && !args->config.url)
            args->config.url = arg + strlen ("centrifugo+");
        else {
            fprintf (stderr, "zflow sub: bad argument '%s'\n%s", arg, s_usage);
            return -1;
        }
    }
    if (!args->channels) {
        fprintf (stderr, "zflow sub: Centrifugo needs --channel CHANNEL\n%s", s_usage);
        return -1;
    }
    args->config.channels = args->channels;
    return 0;
}

//  Says what an event (type, JSON details) means on stderr. Returns -1
//  when it ends the command (refused for good), 1 on "connected", else 0.
static int s_event (const char *type, const char *details, bool quiet)
{
    json_t *json = json_loads (details, 0, NULL);
    const char *op = json_string_value (json_object_get (json, "op"));
    bool temporary = json_is_true (json_object_get (json, "temporary"));
    int rc = 0;
    if (streq (type, "connected"))
        rc = 1;
    else if (streq (type, "failed"))
        rc = -1;
    else if (streq (type, "error") && op && streq (op, "subscribe") && !temporary)
        rc = -1;
    if (rc < 0 || !quiet)
        fprintf (stderr, "zflow sub: centrifugo %s %s\n", type, details);
    json_decref (json);
    return rc;
}

//  Reads the source's PUB until the end. Returns the exit code.
static int s_loop (zsock_t *sub, const s_args_t *args)
{
    const char *event_prefix = S_PREFIX ".event\x1f";
    size_t event_size = strlen (event_prefix);
    zflow_msg_t *msg = zflow_msg_new ();
    int64_t got = 0, deadline = zclock_mono () + args->timeout_ms;
    bool connected = false;
    int rc = ZFLOW_EXIT_OK;
    while (!zflow_cli_signalled () && !zflow_cli_stdout_closed () &&
           (!args->count || got < args->count)) {
        if (!connected && zclock_mono () > deadline) {
            fprintf (stderr, "zflow sub: no connection to %s within %" PRId64 " ms\n",
                     args->config.url, args->timeout_ms);
            rc = ZFLOW_EXIT_RUNTIME;
            break;
        }
        zmsg_t *zmsg = zmsg_recv (sub);
        if (!zmsg)
            continue;
        zflow_msg_from_zmsg (msg, &zmsg);
        size_t key_size = 0, size = 0;
        const char *key = (const char *) zflow_envelope_key (msg, &key_size);
        if (zflow_envelope_decode (msg, NULL) || !key)
            continue;
        if (key_size > event_size && memcmp (key, event_prefix, event_size) == 0) {
            char *type = strndup (key + event_size, key_size - event_size);
            const char *payload = (const char *) zflow_envelope_payload (msg, &size);
            char *details = strndup (payload ? payload : "", size);
            int event = s_event (type, details, args->quiet);
            free (type);
            free (details);
            connected = connected || event > 0;
            if (event < 0) {
                rc = ZFLOW_EXIT_RUNTIME;
                break;
            }
            continue;
        }
        if (zflow__codec_write_line (stdout, msg) || fflush (stdout))
            break; //  stdout closed (e.g. | head): a quiet end
        got++;
    }
    zflow_msg_destroy (&msg);
    return rc;
}

int zflow_cli_centrifugo_sub (int argc, char **argv)
{
    s_args_t args;
    memset (&args, 0, sizeof (args));
    args.timeout_ms = 5000;
    int parsed = s_parse (argc, argv, &args);
    if (parsed) {
        free (args.channels);
        return parsed > 0 ? ZFLOW_EXIT_OK : ZFLOW_EXIT_USAGE;
    }
    char endpoint[64];
    snprintf (endpoint, sizeof (endpoint), "inproc://zflow-cli-sub-centrifugo-%d", (int) getpid ());
    args.config.endpoint = endpoint;
    args.config.name = "zflow-sub";
    args.config.key_prefix = S_PREFIX;
    args.config.manual_start = true; //  our SUB is there before the first event
    args.config.lossless = true;     //  a slow terminal slows the reading, loses nothing
    int err = 0;
    zflow_centrifugo_source_t *source = zflow_centrifugo_source_new (&args.config, &err);
    if (!source) {
        fprintf (stderr, "zflow sub: centrifugo+%s: %s\n", args.config.url, zflow_strerror (err));
        free (args.channels);
        return err == ZFLOW_ECONFIG ? ZFLOW_EXIT_USAGE : ZFLOW_EXIT_RUNTIME;
    }
    zsock_t *sub = zsock_new_sub (zflow_centrifugo_source_endpoint (source), "");
    zsock_set_rcvtimeo (sub, 200);
    zflow_centrifugo_source_start (source);
    zflow_cli_catch_signals ();
    int rc = s_loop (sub, &args);
    zsock_destroy (&sub);
    zflow_centrifugo_source_destroy (&source);
    free (args.channels);
    return rc;
}
