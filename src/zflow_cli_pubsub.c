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

//  Arguments common to pub and sub.
typedef struct {
    const char *endpoint;   //  where to connect (or bind)
    const char *type;       //  socket type name
    const char *key;        //  pub: key text
    bool bind;              //  bind instead of connect
    int64_t count;          //  sub: stop after so many (0: never)
} s_args_t;

static int
s_parse (int argc, char **argv, s_args_t *args, const char *name, const char *usage)
{
    for (int i = 0; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (streq (argv[i], "-h") || streq (argv[i], "--help")) {
            printf ("%s", usage);
            return 1;
        }
        else if (streq (argv[i], "--bind"))
            args->bind = true;
        else if (streq (argv[i], "--type") && value)
            args->type = argv[++i];
        else if (streq (argv[i], "--key") && value)
            args->key = argv[++i];
        else if (streq (argv[i], "--count") && value) {
            char *end = NULL;
            args->count = strtoll (argv[++i], &end, 10);
            if (*end || args->count < 0) {
                fprintf (stderr, "zflow %s: --count needs a non-negative number\n", name);
                return -1;
            }
        }
        else if (argv[i][0] != '-' && !args->endpoint)
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
static zsock_t *
s_open (const s_args_t *args, const char *name, const char *type_a, int sock_a, int sock_b)
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

static const char *s_pub_usage =
    "usage: zflow pub ENDPOINT [--type push|pub] [--bind] [--key a/b]\n"
    "\n"
    "Sends each line of stdin as a zflow envelope (key default zflow/pub) to\n"
    "ENDPOINT (connects; --bind to bind). Default type push.\n"
    "Exit codes: 0 ok, 1 endpoint error, 2 usage error.\n";

int
zflow_cli_pub (int argc, char **argv)
{
    s_args_t args = {NULL, "push", "zflow/pub", false, 0};
    int rc = s_parse (argc, argv, &args, "pub", s_pub_usage);
    if (rc)
        return rc > 0 ? ZFLOW_EXIT_OK : ZFLOW_EXIT_USAGE;
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
        zclock_sleep (300);     //  let subscribers join before the first line
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
    zsock_destroy (&sock);      //  lingers up to 2 s to deliver the tail
    return ZFLOW_EXIT_OK;
}

static const char *s_sub_usage =
    "usage: zflow sub ENDPOINT [--type pull|sub] [--bind] [--count N]\n"
    "\n"
    "Prints what ENDPOINT sends as JSON lines (payloads; msgpack converted) until\n"
    "Ctrl-C or N messages. Connects (--bind to bind). Default type sub.\n"
    "Exit codes: 0 ok, 1 endpoint error, 2 usage error.\n";

int
zflow_cli_sub (int argc, char **argv)
{
    s_args_t args = {NULL, "sub", NULL, false, 0};
    int rc = s_parse (argc, argv, &args, "sub", s_sub_usage);
    if (rc)
        return rc > 0 ? ZFLOW_EXIT_OK : ZFLOW_EXIT_USAGE;
    if (!streq (args.type, "pull") && !streq (args.type, "sub")) {
        fprintf (stderr, "zflow sub: bad type '%s'\n", args.type);
        return ZFLOW_EXIT_USAGE;
    }
    zsock_t *sock = s_open (&args, "sub", "sub", ZMQ_SUB, ZMQ_PULL);
    if (!sock)
        return ZFLOW_EXIT_RUNTIME;
    zsock_set_rcvtimeo (sock, 200);
    zflow_msg_t *msg = zflow_msg_new ();
    int64_t got = 0;
    while (!zsys_interrupted && (!args.count || got < args.count)) {
        zmsg_t *zmsg = zmsg_recv (sock);
        if (!zmsg)
            continue;
        zflow_msg_from_zmsg (msg, &zmsg);
        if (zflow_envelope_decode (msg, NULL) == 0)
            zflow__codec_write_line (stdout, msg);
        else {
            //  not an envelope: print its first frame
            zflow_msg_t *wrapped = zflow_msg_new ();
            zflow_envelope_encode (wrapped, "raw", 3, NULL, zflow_msg_data (msg, 0),
                                   zflow_msg_part_size (msg, 0));
            zflow__codec_write_line (stdout, wrapped);
            zflow_msg_destroy (&wrapped);
        }
        fflush (stdout);
        got++;
    }
    zflow_msg_destroy (&msg);
    zsock_destroy (&sock);
    return ZFLOW_EXIT_OK;
}
