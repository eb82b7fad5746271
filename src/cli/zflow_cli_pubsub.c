/*  =========================================================================
    zflow_cli_pubsub - zflow pub / zflow sub: from and to the terminal

    pub reads lines from stdin and sends each as a zflow envelope; sub
    prints what it receives as JSON lines. Both speak plain ZeroMQ
    endpoints (PUSH/PULL or PUB/SUB), so they talk to zflow run's pull,
    sub, push and pub stages.

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

//  Arguments common to pub and sub.
typedef struct {
    const char *endpoint; //  where to connect (or bind)
    const char *type;     //  socket type name
    const char *key;      //  pub: key text
    bool bind;            //  bind instead of connect
    int64_t count;        //  sub: stop after so many (0: never)
    const char *channel;  //  Centrifugo: the channel
    const char *api_key;  //  Centrifugo: the API key
} s_args_t;

static int s_parse (int argc, char **argv, s_args_t *args, const char *name, const char *usage)
{
    for (int i = 0; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (streq (argv[i], "-h") || streq (argv[i], "--help")) {
            printf ("%s", usage);
            return 1;
        } else if (streq (argv[i], "--bind"))
            args->bind = true;
        else if (streq (argv[i], "--type") && value)
            args->type = argv[++i];
        else if (streq (argv[i], "--key") && value)
            args->key = argv[++i];
        else if (streq (argv[i], "--channel") && value)
            args->channel = argv[++i];
        else if (streq (argv[i], "--api-key") && value)
            args->api_key = argv[++i];
        else if (streq (argv[i], "--count") && value) {
            char *end = NULL;
            args->count = strtoll (argv[++i], &end, 10);
            if (*end || args->count < 0) {
                fprintf (stderr, "zflow %s: --count needs a non-negative number\n", name);
                return -1;
            }
        } else if (argv[i][0] != '-' && !args->endpoint)
            args->endpoint = argv[i];
        else {
            fprintf (stderr, "zflow %s: bad argument '%s'\n%s", name, argv[i], usage);
            return -1;
        }
    }
    if (!args->endpoint) {
        fprintf (stderr, "zflow %s: which endpoint?\n%s", name, usage);
        return -1;
    }
    return 0;
}

//  Opens the socket. Returns it, or NULL (reported).
static zsock_t *s_open (const s_args_t *args, const char *name, const char *type_a, int sock_a,
                        int sock_b)
{
    int type = streq (args->type, type_a) ? sock_a : sock_b;
    zsock_t *sock = zsock_new (type);
    if (type == ZMQ_SUB)
        zsock_set_subscribe (sock, "");
    zsock_set_linger (sock, 2000);
    int rc = args->bind ? zsock_bind (sock, "%s", args->endpoint)
                        : zsock_connect (sock, "%s", args->endpoint);
    if (rc < 0) {
        fprintf (stderr, "zflow %s: cannot %s %s: %s\n", name, args->bind ? "bind" : "connect",
                 args->endpoint, zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
    }
    return sock;
}

//  Publishes stdin lines into a Centrifugo channel through a pipeline
//  (pull -> Centrifugo sink), whose stop waits until all were handled.
static int s_pub_centrifugo (const s_args_t *args)
{
    if (!args->channel) {
        fprintf (stderr, "zflow pub: Centrifugo needs --channel CHANNEL\n");
        return ZFLOW_EXIT_USAGE;
    }
    zflow_centrifugo_sink_config_t config;
    memset (&config, 0, sizeof (config));
    config.address = args->endpoint;
    config.api_key = args->api_key;
    config.channel_rule = args->channel; //  no {..}: every message goes there
    config.max_attempts = 5;
    char endpoint[64];
    snprintf (endpoint, sizeof (endpoint), "inproc://zflow-cli-pub-%d", (int) getpid ());
    zflow_pipeline_t *p = zflow_pipeline_new ("pub");
    zflow_pipeline_source (p, "stdin", "pull", endpoint, NULL);
    zflow_pipeline_sink_centrifugo (p, "centrifugo", &config);
    if (zflow_pipeline_start (p)) {
        fprintf (stderr, "zflow pub: %s\n", zflow_pipeline_error_text (p));
        zflow_pipeline_destroy (&p);
        return ZFLOW_EXIT_RUNTIME;
    }
    zsock_t *push = zsock_new (ZMQ_PUSH);
    zsock_connect (push, "%s", endpoint);
    char *line = NULL;
    size_t capacity = 0;
    ssize_t size;
    uint64_t lines = 0;
    while ((size = getline (&line, &capacity, stdin)) >= 0) {
        while (size && (line[size - 1] == '\n' || line[size - 1] == '\r'))
            size--;
        zmq_send (zsock_resolve (push), line, (size_t) size, 0);
        lines++;
    }
    free (line);
    //  wait until Centrifugo has answered for every line
    uint64_t published = 0, done = 0;
    for (int64_t deadline = zclock_mono () + 30000; done < lines && zclock_mono () < deadline;) {
        zhash_t *stats = zflow_pipeline_stats (p, 1, 1000);
        published = zflow_actor_stats_get (stats, "centrifugo.published");
        done = published + zflow_actor_stats_get (stats, "centrifugo.drops") +
               zflow_actor_stats_get (stats, "centrifugo.unmapped") +
               zflow_actor_stats_get (stats, "centrifugo.malformed");
        zhash_destroy (&stats);
        if (done < lines)
            zclock_sleep (10);
    }
    int rc = zflow_pipeline_stop (p, 5000) || published < lines;
    zsock_destroy (&push);
    zflow_pipeline_destroy (&p);
    if (rc)
        fprintf (stderr, "zflow pub: Centrifugo took %" PRIu64 " of %" PRIu64 " lines\n", published,
                 lines);
    return rc ? ZFLOW_EXIT_RUNTIME : ZFLOW_EXIT_OK;
}

static const char *s_pub_usage =
    "usage: zflow pub ENDPOINT [--type push|pub] [--bind] [--key a/b]\n"
    "       zflow pub hpfeeds://IDENT:SECRET@HOST:PORT/CHANNEL\n"
    "       zflow pub http[s]://HOST:PORT/api --channel CHANNEL [--api-key KEY]\n"
    "       zflow pub ws[s]://HOST[:PORT]/PATH [--binary] [--header 'N: v'] ... (zflow pub ws:// "
    "-h)\n"
    "\n"
    "Sends each line of stdin as a zflow envelope (key default zflow/pub) to\n"
    "ENDPOINT (connects; --bind to bind; default type push), publishes it to\n"
    "an hpfeeds channel (exit 1 when the broker refuses the auth or a publish:\n"
    "hpfeeds acknowledges nothing, so it waits 200 ms for a refusal at the end),\n"
    "into a Centrifugo channel (server HTTP API; exit 1 unless Centrifugo\n"
    "accepted every line), or as WebSocket messages.\n"
    "Exit codes: 0 ok, 1 endpoint error, 2 usage error.\n";

//  The first argument that starts with one of the prefixes (NULL-ended), or
//  NULL: which form of pub / sub the command line asks for.
static const char *s_find (int argc, char **argv, const char *a, const char *b)
{
    for (int i = 0; i < argc; i++)
        if (strncmp (argv[i], a, strlen (a)) == 0 || strncmp (argv[i], b, strlen (b)) == 0)
            return argv[i];
    return NULL;
}

int zflow_cli_pub (int argc, char **argv)
{
    if (s_find (argc, argv, "ws://", "wss://"))
        return zflow_cli_ws_pub (argc, argv);
    s_args_t args = {NULL, "push", "zflow/pub", false, 0, NULL, NULL};
    int rc = s_parse (argc, argv, &args, "pub", s_pub_usage);
    if (rc)
        return rc > 0 ? ZFLOW_EXIT_OK : ZFLOW_EXIT_USAGE;
    if (strncmp (args.endpoint, "hpfeeds://", 10) == 0)
        return zflow_cli_hpfeeds_pub (args.endpoint);
    if (strncmp (args.endpoint, "http://", 7) == 0 || strncmp (args.endpoint, "https://", 8) == 0)
        return s_pub_centrifugo (&args);
    zflow_key_t *key = zflow_key_parse (args.key, NULL);
    if (!key || (!streq (args.type, "push") && !streq (args.type, "pub"))) {
        fprintf (stderr, "zflow pub: bad key '%s' or type '%s'\n", args.key, args.type);
        zflow_key_destroy (&key);
        return ZFLOW_EXIT_USAGE;
    }
    zsock_t *sock = s_open (&args, "pub", "pub", ZMQ_PUB, ZMQ_PUSH);
    if (!sock) {
        zflow_key_destroy (&key);
        return ZFLOW_EXIT_RUNTIME;
    }
    if (streq (args.type, "pub"))
        zclock_sleep (300); //  let subscribers join before the first line
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_meta_t *meta = zflow_meta_new ();
    zflow_meta_set_source (meta, "zflow-pub");
    char *line = NULL;
    size_t capacity = 0;
    ssize_t size;
    uint64_t seq = 0;
    while ((size = getline (&line, &capacity, stdin)) >= 0) {
        while (size && (line[size - 1] == '\n' || line[size - 1] == '\r'))
            size--;
        zflow_meta_set_seq (meta, ++seq);
        zflow_meta_stamp (meta);
        zflow_envelope_encode_key (msg, key, meta, line, (size_t) size);
        zmsg_t *zmsg = zflow_msg_to_zmsg (msg);
        zmsg_send (&zmsg, sock);
    }
    free (line);
    zflow_msg_destroy (&msg);
    zflow_meta_destroy (&meta);
    zflow_key_destroy (&key);
    zsock_destroy (&sock); //  lingers up to 2 s to deliver the tail
    return ZFLOW_EXIT_OK;
}

static const char *s_sub_usage =
    "usage: zflow sub ENDPOINT [--type pull|sub] [--bind] [--count N] [--key a/b]\n"
    "       zflow sub hpfeeds://IDENT:SECRET@HOST:PORT/CHANNEL[,CHANNEL...] [--count N]\n"
    "       zflow sub ws[s]://HOST[:PORT]/PATH [--count N] [--header 'N: v'] ... (zflow sub ws:// "
    "-h)\n"
    "       zflow sub centrifugo+ws[s]://HOST:PORT/connection/websocket --channel CH\n"
    "                 [--channel CH]... [--token JWT] [--count N] (zflow sub centrifugo+ws:// -h)\n"
    "\n"
    "Prints what ENDPOINT sends as JSON lines (payloads; msgpack converted) until\n"
    "Ctrl-C or N messages; ends quietly when stdout is closed (| head). Connects\n"
    "(--bind to bind). Default type sub. --key keeps the envelopes whose key is\n"
    "a/b or below it. A zflow hub's bound endpoints work too: pub --type pub to\n"
    "its publishers' side, sub to its subscribers' side.\n"
    "Exit codes: 0 ok, 1 endpoint error, 2 usage error.\n";

//  True when msg's key (frame 1, wire form) is wire or below it.
static bool s_key_below (const zflow_msg_t *msg, const char *wire, size_t size)
{
    size_t key_size = 0;
    const char *key = (const char *) zflow_envelope_key (msg, &key_size);
    return key && key_size >= size && memcmp (key, wire, size) == 0 &&
           (key_size == size || key[size] == 0x1F);
}

int zflow_cli_sub (int argc, char **argv)
{
    if (s_find (argc, argv, "centrifugo+ws://", "centrifugo+wss://"))
        return zflow_cli_centrifugo_sub (argc, argv);
    if (s_find (argc, argv, "ws://", "wss://")) {
        zflow_cli_catch_signals ();
        return zflow_cli_ws_sub (argc, argv);
    }
    zflow_cli_catch_signals (); //  and SIGPIPE: a closed stdout ends the loop quietly
    s_args_t args = {NULL, "sub", NULL, false, 0, NULL, NULL};
    int rc = s_parse (argc, argv, &args, "sub", s_sub_usage);
    if (rc)
        return rc > 0 ? ZFLOW_EXIT_OK : ZFLOW_EXIT_USAGE;
    if (strncmp (args.endpoint, "hpfeeds://", 10) == 0)
        return zflow_cli_hpfeeds_sub (args.endpoint, args.count);
    if (!streq (args.type, "pull") && !streq (args.type, "sub")) {
        fprintf (stderr, "zflow sub: bad type '%s'\n", args.type);
        return ZFLOW_EXIT_USAGE;
    }
    //  --key a/b: only envelopes whose key is a/b or below it
    zflow_key_t *key = args.key ? zflow_key_parse (args.key, NULL) : NULL;
    if (args.key && !key) {
        fprintf (stderr, "zflow sub: bad key '%s'\n", args.key);
        return ZFLOW_EXIT_USAGE;
    }
    zsock_t *sock = s_open (&args, "sub", "sub", ZMQ_SUB, ZMQ_PULL);
    if (!sock) {
        zflow_key_destroy (&key);
        return ZFLOW_EXIT_RUNTIME;
    }
    size_t wire_size = 0;
    const char *wire = key ? (const char *) zflow_key_wire (key, &wire_size) : NULL;
    if (key && streq (args.type, "sub")) {
        zsock_set_unsubscribe (sock, "");
        char *prefix = strndup (wire, wire_size);
        zsock_set_subscribe (sock, prefix);
        free (prefix);
    }
    zsock_set_rcvtimeo (sock, 200);
    zflow_msg_t *msg = zflow_msg_new ();
    int64_t got = 0;
    int written = 0;
    while (!zflow_cli_signalled () && !zflow_cli_stdout_closed () && !written &&
           (!args.count || got < args.count)) {
        zmsg_t *zmsg = zmsg_recv (sock);
        if (!zmsg)
            continue;
        zflow_msg_from_zmsg (msg, &zmsg);
        if (key && !s_key_below (msg, wire, wire_size))
            continue;
        if (zflow_envelope_decode (msg, NULL) == 0)
            written = zflow__codec_write_line (stdout, msg);
        else {
            //  not an envelope: print its first frame
            zflow_msg_t *wrapped = zflow_msg_new ();
            zflow_envelope_encode (wrapped, "raw", 3, NULL, zflow_msg_data (msg, 0),
                                   zflow_msg_part_size (msg, 0));
            written = zflow__codec_write_line (stdout, wrapped);
            zflow_msg_destroy (&wrapped);
        }
        written = written || fflush (stdout); //  stdout closed (| head): a quiet end
        got++;
    }
    zflow_msg_destroy (&msg);
    zsock_destroy (&sock);
    zflow_key_destroy (&key);
    return ZFLOW_EXIT_OK;
}
