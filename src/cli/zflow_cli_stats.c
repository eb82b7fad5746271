/*  =========================================================================
    zflow_cli_stats - zflow stats: each stage's counters, live, from a
    running zflow run through its control endpoint

    The control endpoint is a REP socket. "STATS" gets one frame of text,
    one line per counter: "stage kind counter value". "PING" gets "PONG".

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_cli.h"
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

//  Finds the one ipc:///tmp/zflow-<pid>.ctl endpoint. Returns it (the
//  caller frees it), or NULL after saying why.
static char *s_find_control (void)
{
    DIR *dir = opendir ("/tmp");
    char *found = NULL;
    int count = 0;
    struct dirent *entry;
    while (dir && (entry = readdir (dir))) {
        int pid;
        char tail[8];
        if (sscanf (entry->d_name, "zflow-%d.ct%1s", &pid, tail) == 2 && streq (tail, "l") &&
            kill (pid, 0) == 0) {
            count++;
            free (found);
            found = zsys_sprintf ("ipc:///tmp/%s", entry->d_name);
        }
    }
    if (dir)
        closedir (dir);
    if (count != 1) {
        fprintf (stderr, "zflow stats: %s running zflow found under /tmp; use --control ENDPOINT\n",
                 count ? "more than one" : "no");
        zstr_free (&found);
    }
    return found;
}

//  Prints one STATS reply as a table.
static void s_print (const char *text, bool clear)
{
    static const char *columns[] = {"msgs_in", "msgs_out",    "drops",  "filtered",
                                    "errors",  "queue_depth", "pauses", "reconnects"};
    if (clear)
        printf ("\033[H\033[J");
    printf ("%-16s %-7s %12s %12s %9s %9s %7s %6s %7s %7s\n", "STAGE", "KIND", "IN", "OUT", "DROPS",
            "FILTERED", "ERRORS", "QUEUE", "PAUSES", "RECONN");
    char *copy = strdup (text);
    char stage[128] = "", kind[16] = "";
    uint64_t values[8] = {0};
    bool any = false;
    char *save = NULL;
    for (char *line = strtok_r (copy, "\n", &save);; line = strtok_r (NULL, "\n", &save)) {
        char name[128] = "", k[16] = "", counter[300] = "";
        unsigned long long value = 0;
        bool parsed = line && sscanf (line, "%127s %15s %299s %llu", name, k, counter, &value) == 4;
        if (any && (!line || (parsed && !streq (name, stage)))) {
            printf ("%-16s %-7s %12" PRIu64 " %12" PRIu64 " %9" PRIu64 " %9" PRIu64 " %7" PRIu64
                    " %6" PRIu64 " %7" PRIu64 " %7" PRIu64 "\n",
                    stage, kind, values[0], values[1], values[2], values[3], values[4], values[5],
                    values[6], values[7]);
            memset (values, 0, sizeof (values));
        }
        if (!line)
            break;
        if (!parsed)
            continue;
        snprintf (stage, sizeof (stage), "%s", name);
        snprintf (kind, sizeof (kind), "%s", k);
        any = true;
        for (int c = 0; c < 8; c++)
            if (streq (counter, columns[c]))
                values[c] = value;
    }
    free (copy);
    fflush (stdout);
}

static void s_usage (FILE *file)
{
    fprintf (file, "usage: zflow stats [--control ENDPOINT] [--once] [--interval S] [--raw]\n"
                   "\n"
                   "Attaches to a running zflow run through its control endpoint and shows each\n"
                   "stage's counters, refreshed every S seconds (default 1) until Ctrl-C.\n"
                   "Without --control it uses the one ipc:///tmp/zflow-<pid>.ctl it finds.\n"
                   "  --once      print once and exit\n"
                   "  --raw       print the raw lines \"stage kind counter value\"\n"
                   "Exit codes: 0 ok, 1 no answer from the control endpoint, 2 usage error.\n");
}

int zflow_cli_stats (int argc, char **argv)
{
    const char *control = NULL;
    bool once = false, raw = false;
    long interval = 1;
    for (int i = 0; i < argc; i++) {
        if (streq (argv[i], "-h") || streq (argv[i], "--help")) {
            s_usage (stdout);
            return ZFLOW_EXIT_OK;
        } else if (streq (argv[i], "--once"))
            once = true;
        else if (streq (argv[i], "--raw"))
            raw = true;
        else if (streq (argv[i], "--control") && i + 1 < argc)
            control = argv[++i];
        else if (streq (argv[i], "--interval") && i + 1 < argc &&
                 (interval = strtol (argv[++i], NULL, 10)) > 0 && interval <= 3600)
            ;
        else {
            fprintf (stderr, "zflow stats: bad argument '%s'\n", argv[i]);
            s_usage (stderr);
            return ZFLOW_EXIT_USAGE;
        }
    }
    char *found = control ? NULL : s_find_control ();
    if (!control && !found)
        return ZFLOW_EXIT_RUNTIME;
    int rc = ZFLOW_EXIT_OK;
    signal (SIGPIPE, SIG_IGN); //  a closed stdout ends the loop, quietly
    while (!zsys_interrupted) {
        //  a fresh REQ each time: a dead peer cannot wedge the next round
        zsock_t *req = zsock_new (ZMQ_REQ);
        zsock_set_rcvtimeo (req, 2000);
        zsock_connect (req, "%s", control ? control : found);
        char *reply = zstr_send (req, "STATS") == 0 ? zstr_recv (req) : NULL;
        zsock_destroy (&req);
        if (!reply) {
            fprintf (stderr, "zflow stats: no answer from %s\n", control ? control : found);
            rc = ZFLOW_EXIT_RUNTIME;
            break;
        }
        if (raw)
            printf ("%s", reply);
        else
            s_print (reply, !once && isatty (1));
        zstr_free (&reply);
        if (once || fflush (stdout))
            break; //  stdout closed (| head): a quiet end
        zclock_sleep ((int) interval * 1000);
    }
    free (found);
    return rc;
}
