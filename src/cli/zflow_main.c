/*  =========================================================================
    zflow - the zflow command: run, check, help, stats, pub, sub

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_cli.h"
#include "zflow_cmd_bench.h"
#include <string.h>

//  The path this program was started as: `zflow bench` finds its suite
//  programs beside it.
static const char *s_self_path = "zflow";

//  zflow bench [SUITE...]: see src/zflow_cmd_bench.c. It parses from
//  argv[0] = "bench", which sits just before the options handed here.
static int s_bench (int argc, char **argv)
{
    return zflow__cmd_bench (argc + 1, argv - 1, s_self_path);
}

//  zflow keygen PATH: writes a CURVE key pair as czmq zcert files.
static int s_keygen (int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-') {
        bool help = argc == 1 && (streq (argv[0], "-h") || streq (argv[0], "--help"));
        fprintf (help ? stdout : stderr,
                 "usage: zflow keygen PATH\n\n"
                 "Writes a new CURVE key pair as czmq zcert files: PATH (public key, give it\n"
                 "to peers as server_key) and PATH_secret (keep it: server_cert or\n"
                 "client_cert). Exit codes: 0 ok, 1 cannot write, 2 usage error.\n");
        return help ? ZFLOW_EXIT_OK : ZFLOW_EXIT_USAGE;
    }
    zcert_t *cert = zcert_new ();
    int rc = cert ? zcert_save (cert, argv[0]) : -1;
    if (rc == 0)
        printf ("%s\n", zcert_public_txt (cert));
    else
        fprintf (stderr, "zflow keygen: cannot write %s\n", argv[0]);
    zcert_destroy (&cert);
    return rc == 0 ? ZFLOW_EXIT_OK : ZFLOW_EXIT_RUNTIME;
}

static const struct {
    const char *name;
    int (*fn) (int argc, char **argv);
    const char *summary;
} s_commands[] = {
    {"run", zflow_cli_run, "run a pipeline file, or the embedded default without one"},
    {"check", zflow_cli_check, "check a pipeline file without running it"},
    {"help", zflow_cli_help, "list stage types, or the options of one"},
    {"stats", zflow_cli_stats, "show the counters of a running zflow run, live"},
    {"broker", zflow_cli_broker, "run an hpfeeds broker"},
    {"pub", zflow_cli_pub,
     "send stdin lines to a ZeroMQ endpoint or hub, hpfeeds, WebSocket or Centrifugo"},
    {"sub", zflow_cli_sub,
     "print as JSON lines what a ZeroMQ endpoint or hub, hpfeeds, WebSocket or Centrifugo sends"},
    {"keygen", s_keygen, "write a CURVE key pair (czmq zcert files)"},
    {"bench", s_bench, "measure throughput and latency against baselines (tables, JSON, plots)"},
};

static void s_usage (FILE *file)
{
    fprintf (file, "usage: zflow COMMAND [options]   (zflow COMMAND --help for more)\n\n");
    for (size_t i = 0; i < sizeof (s_commands) / sizeof (s_commands[0]); i++)
        fprintf (file, "  %-7s %s\n", s_commands[i].name, s_commands[i].summary);
    fprintf (file, "\nWithout a command, zflow runs the embedded default (zflow run).\n"
                   "Exit codes: 0 ok, 1 runtime error, 2 usage error, 3 invalid configuration.\n");
}

int main (int argc, char **argv)
{
    //  zflow run handles SIGINT/SIGTERM itself, to drain before it exits
    zsys_handler_set (NULL);
    zsys_init ();
    zsys_set_logident ("zflow");
    zsys_set_logstream (stderr); //  stdout carries data only
    s_self_path = argv[0];
    const char *command = argc > 1 ? argv[1] : "run";
    if (streq (command, "-h") || streq (command, "--help")) {
        s_usage (stdout);
        return ZFLOW_EXIT_OK;
    }
    if (streq (command, "--version")) {
        printf ("zflow %d.%d.%d\n", ZFLOW_VERSION_MAJOR, ZFLOW_VERSION_MINOR, ZFLOW_VERSION_PATCH);
        return ZFLOW_EXIT_OK;
    }
    int first = argc > 1 ? 2 : 1;
    if (command[0] == '-') {
        //  options without a command belong to run
        command = "run";
        first = 1;
    }
    for (size_t i = 0; i < sizeof (s_commands) / sizeof (s_commands[0]); i++)
        if (streq (command, s_commands[i].name))
            return s_commands[i].fn (argc - first, argv + first);
    fprintf (stderr, "zflow: unknown command '%s'\n", command);
    s_usage (stderr);
    return ZFLOW_EXIT_USAGE;
}
