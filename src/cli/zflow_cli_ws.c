/*  =========================================================================
    zflow_cli_ws - zflow pub ws[s]://...: stdin lines as WebSocket messages

    Each line of stdin (without its end of line) goes out as one text
    message, or one binary message with --binary, through the project's
    WebSocket feed (zflow_ws). zflow_ws_send queues up to a watermark; a
    full queue makes us wait (backpressure on stdin), never drop.

    Before closing (1000) we wait until the feed has written every line to
    its socket (zflow_ws_flush, up to --timeout). Lines the feed still
    drops at exit are counted by it (send_dropped) and reported, as is a
    connection lost on the way (lines in flight on it may be lost): exit 1
    in both cases.

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

//  Most lines queued in the feed at once (its send watermark).
#define S_SEND_QUEUE 256

//  The command line of zflow pub / sub ws://.
typedef struct {
    const char *name;    //  "pub" or "sub"
    const char *usage;   //  its usage text
    const char *url;     //  ws[s]://HOST[:PORT]/PATH
    bool binary;         //  pub: send binary messages
    int64_t count;       //  sub: stop after so many messages (0: never)
    bool insecure;       //  wss: no certificate checks
    const char *ca_file; //  wss: trusted CAs, or NULL
    int64_t timeout_ms;  //  connect timeout, and the longest wait to send the rest at the end
} s_ws_args_t;

static const char *s_pub_usage =
    "usage: zflow pub ws[s]://HOST[:PORT]/PATH [--binary] [--header 'Name: value']...\n"
    "                 [--subprotocol P[,P..]] [--insecure] [--ca FILE] [--timeout MS]\n"
    "\n"
    "Sends each line of stdin as one WebSocket text message (--binary: binary\n"
    "messages), then closes the connection (1000). Waits while the send queue is\n"
    "full. --timeout bounds the connect (default 5000 ms). --insecure skips the\n"
    "certificate checks of wss (testing only).\n"
    "Exit codes: 0 every line sent, 1 cannot connect or a line not sent (said on\n"
    "stderr), 2 usage error.\n";

static const char *s_sub_usage =
    "usage: zflow sub ws[s]://HOST[:PORT]/PATH [--count N] [--header 'Name: value']...\n"
    "                 [--subprotocol P[,P..]] [--insecure] [--ca FILE] [--timeout MS]\n"
    "\n"
    "Prints each message of the WebSocket as a JSON line (JSON as compact JSON,\n"
    "other text as a string) until Ctrl-C or N messages; reconnects by itself.\n"
    "--timeout bounds each connect and close (default 5000 ms).\n"
    "Exit codes: 0 ok, 2 usage error.\n";

//  Applies one option to config or args. Returns the number of arguments
//  used (1 or 2), or 0 when arg is not one of ours or bad.
static int s_option (zflow_ws_config_t *config, s_ws_args_t *args, const char *arg,
                     const char *value)
{
    if (streq (arg, "--binary") && streq (args->name, "pub"))
        return args->binary = true, 1;
    if (streq (arg, "--insecure"))
        return args->insecure = true, 1;
    if (!value)
        return 0;
    if (streq (arg, "--subprotocol"))
        return zflow_ws_config_set_protocols (config, value) ? 0 : 2;
    if (streq (arg, "--ca"))
        return args->ca_file = value, 2;
    if (streq (arg, "--count") && streq (args->name, "sub")) {
        char *end = NULL;
        args->count = strtoll (value, &end, 10);
        return *end || args->count < 0 ? 0 : 2;
    }
    if (streq (arg, "--timeout")) {
        char *end = NULL;
        args->timeout_ms = strtoll (value, &end, 10);
        return *end || args->timeout_ms <= 0 || args->timeout_ms > 3600000 ? 0 : 2;
    }
    if (streq (arg, "--header")) {
        const char *colon = strchr (value, ':');
        if (!colon || colon == value)
            return 0;
        char *name = strndup (value, (size_t) (colon - value));
        const char *text = colon + 1 + strspn (colon + 1, " \t");
        int rc = zflow_ws_config_set_header (config, name, text);
        free (name);
        return rc ? 0 : 2;
    }
    return 0;
}

//  Builds the feed's configuration from the command line. Returns it, or
//  NULL (reported: a usage error).
static zflow_ws_config_t *s_config (int argc, char **argv, s_ws_args_t *args)
{
    for (int i = 0; i < argc && !args->url; i++)
        if (strncmp (argv[i], "ws://", 5) == 0 || strncmp (argv[i], "wss://", 6) == 0)
            args->url = argv[i];
    zflow_ws_config_t *config = args->url ? zflow_ws_config_new (args->url) : NULL;
    if (!config) {
        fprintf (stderr, "zflow %s: '%s' is not a ws:// or wss:// URL\n%s", args->name,
                 args->url ? args->url : "", args->usage);
        return NULL;
    }
    for (int i = 0; i < argc; i++) {
        int used = argv[i] == args->url
                       ? 1
                       : s_option (config, args, argv[i], i + 1 < argc ? argv[i + 1] : NULL);
        if (!used) {
            fprintf (stderr, "zflow %s: bad argument '%s'\n%s", args->name, argv[i], args->usage);
            zflow_ws_config_destroy (&config);
            return NULL;
        }
        i += used - 1;
    }
    int rc = zflow_ws_config_set_tls (config, !args->insecure, args->ca_file);
    rc = rc ? rc : zflow_ws_config_set_timeout (config, (int) args->timeout_ms);
    rc = rc ? rc : zflow_ws_config_set_backoff (config, 100, 1000);
    char endpoint[64];
    snprintf (endpoint, sizeof (endpoint), "inproc://zflow-cli-%s-ws-%d", args->name,
              (int) getpid ());
    rc = rc ? rc : zflow_ws_config_set_endpoint (config, endpoint);
    if (rc) {
        fprintf (stderr, "zflow %s: %s: %s\n", args->name, args->url, zflow_strerror (rc));
        zflow_ws_config_destroy (&config);
    }
    return config;
}

//  Builds the feed from the command line and waits for its connection.
//  Returns it, or NULL with *exit_p set (reported).
static zflow_ws_t *s_feed (int argc, char **argv, s_ws_args_t *args, int *exit_p)
{
    *exit_p = ZFLOW_EXIT_USAGE;
    zflow_ws_config_t *config = s_config (argc, argv, args);
    int rc = config ? zflow_ws_config_set_parse (config, ZFLOW_WS_PARSE_RAW) : ZFLOW_EINVAL;
    rc = rc ? rc : zflow_ws_config_set_send_queue (config, S_SEND_QUEUE);
    rc = rc ? rc : zflow_ws_config_set_name (config, "pub");
    zflow_ws_t *feed = rc ? NULL : zflow_ws_new (config, &rc);
    zflow_ws_config_destroy (&config);
    if (!feed) {
        if (args->url && rc != ZFLOW_EINVAL)
            fprintf (stderr, "zflow pub: %s: %s\n", args->url, zflow_strerror (rc));
        *exit_p = rc == ZFLOW_EINVAL ? ZFLOW_EXIT_USAGE : ZFLOW_EXIT_RUNTIME;
        return NULL;
    }
    *exit_p = ZFLOW_EXIT_RUNTIME;
    if (zflow_ws_wait_connected (feed, (int) args->timeout_ms)) {
        fprintf (stderr, "zflow pub: cannot connect to %s within %" PRId64 " ms\n", args->url,
                 args->timeout_ms);
        zflow_ws_destroy (&feed);
    }
    return feed;
}

//  Sends one line, waiting while the queue is full (up to the timeout
//  without a connection). Returns 0, or an error (reported).
static int s_send (zflow_ws_t *feed, const s_ws_args_t *args, const char *line, size_t size,
                   uint64_t number)
{
    int64_t lost_since = 0;
    int rc;
    while ((rc = zflow_ws_send (feed, line, size, args->binary)) == ZFLOW_EFULL) {
        if (zflow_ws_present (feed))
            lost_since = 0;
        else if (!lost_since)
            lost_since = zclock_mono ();
        else if (zclock_mono () - lost_since > args->timeout_ms)
            break;
        zclock_sleep (1);
    }
    if (rc == ZFLOW_EPROTO)
        fprintf (stderr, "zflow pub: line %" PRIu64 " not sent: not UTF-8 text (use --binary)\n",
                 number);
    else if (rc)
        fprintf (stderr, "zflow pub: line %" PRIu64 " not sent: %s\n", number,
                 rc == ZFLOW_EFULL ? "no connection" : zflow_strerror (rc));
    return rc;
}

//  True (after printing usage) when the command line asks for help.
static bool s_help (int argc, char **argv, const char *usage)
{
    for (int i = 0; i < argc; i++)
        if (streq (argv[i], "-h") || streq (argv[i], "--help")) {
            printf ("%s", usage);
            return true;
        }
    return false;
}

int zflow_cli_ws_pub (int argc, char **argv)
{
    if (s_help (argc, argv, s_pub_usage))
        return ZFLOW_EXIT_OK;
    s_ws_args_t args = {.name = "pub", .usage = s_pub_usage, .timeout_ms = 5000};
    int exit_code;
    zflow_ws_t *feed = s_feed (argc, argv, &args, &exit_code);
    if (!feed)
        return exit_code;
    char *line = NULL;
    size_t capacity = 0;
    ssize_t size;
    uint64_t lines = 0, failed = 0;
    int rc = 0;
    while (rc != ZFLOW_ECLOSED && rc != ZFLOW_EFULL &&
           (size = getline (&line, &capacity, stdin)) >= 0) {
        while (size && (line[size - 1] == '\n' || line[size - 1] == '\r'))
            size--;
        rc = s_send (feed, &args, line, (size_t) size, ++lines);
        failed += rc != 0;
    }
    free (line);
    //  every line written to the socket before the close (--timeout at most)
    if (zflow_ws_flush (feed, (int) args.timeout_ms) == ZFLOW_ETIMEDOUT)
        fprintf (stderr, "zflow pub: lines still unsent after %d ms\n", (int) args.timeout_ms);
    bool open = zflow_ws_present (feed);
    zflow_ws_exit (feed); //  close 1000, waiting for the server's close
    zhash_t *stats = zflow_ws_stats (feed, 1000);
    uint64_t dropped = zflow_actor_stats_get (stats, "send_dropped");
    uint64_t connects = zflow_ws_connects (feed);
    zhash_destroy (&stats);
    zflow_ws_destroy (&feed);
    if (dropped)
        fprintf (stderr, "zflow pub: %" PRIu64 " of %" PRIu64 " lines not sent (connection lost)\n",
                 dropped, lines);
    if (connects > 1)
        fprintf (stderr,
                 "zflow pub: the connection was lost %" PRIu64
                 " times; lines in flight then may be lost\n",
                 connects - 1);
    if (!open)
        fprintf (stderr, "zflow pub: the connection was not open at the end\n");
    return failed || dropped || connects > 1 || !open ? ZFLOW_EXIT_RUNTIME : ZFLOW_EXIT_OK;
}

int zflow_cli_ws_sub (int argc, char **argv)
{
    if (s_help (argc, argv, s_sub_usage))
        return ZFLOW_EXIT_OK;
    s_ws_args_t args = {.name = "sub", .usage = s_sub_usage, .timeout_ms = 5000};
    zflow_ws_config_t *config = s_config (argc, argv, &args);
    //  streams first, then the connection: no message is missed
    int rc = config ? zflow_ws_config_set_autostart (config, false) : ZFLOW_EINVAL;
    rc = rc ? rc : zflow_ws_config_set_name (config, "sub");
    zflow_ws_t *feed = rc == 0 ? zflow_ws_new (config, &rc) : NULL;
    zflow_ws_config_destroy (&config);
    zflow_ws_stream_t *stream =
        feed ? zflow_ws_stream_filter (feed, NULL, 1000, ZFLOW_WS_BACKPRESSURE, &rc) : NULL;
    if (!stream) {
        if (args.url && rc != ZFLOW_EINVAL)
            fprintf (stderr, "zflow sub: %s: %s\n", args.url, zflow_strerror (rc));
        zflow_ws_destroy (&feed);
        return rc == ZFLOW_EINVAL ? ZFLOW_EXIT_USAGE : ZFLOW_EXIT_RUNTIME;
    }
    zflow_ws_start (feed);
    zflow_msg_t *msg = zflow_msg_new ();
    int64_t got = 0;
    while (!zflow_cli_signalled () && !zflow_cli_stdout_closed () &&
           (!args.count || got < args.count)) {
        rc = zflow_ws_stream_read (stream, msg, 200);
        if (rc == ZFLOW_ECLOSED)
            break;
        if (rc)
            continue;
        if (zflow__codec_write_line (stdout, msg) || fflush (stdout))
            break; //  stdout closed (| head): a quiet end
        got++;
    }
    zflow_msg_destroy (&msg);
    zflow_ws_stream_destroy (&stream);
    zflow_ws_destroy (&feed);
    return ZFLOW_EXIT_OK;
}
