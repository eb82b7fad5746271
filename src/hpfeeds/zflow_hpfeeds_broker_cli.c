/*  =========================================================================
    zflow_hpfeeds_broker_cli - the zflow broker command: an hpfeeds broker
    from the command line

    Part of the zflow program (linked into it from src/cli/), not of the
    library: it is hpfeeds-only, so it lives with hpfeeds.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_cli.h"
#include "zflow_hpfeeds_broker.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>

//  ---------------------------------------------------------------------
//  zflow broker

static void s_broker_usage (FILE *file)
{
    fprintf (file, "usage: zflow broker [--host H] [--port P] [--users FILE] [--user SPEC]...\n"
                   "                    [--drain-timeout MS] [--quiet]\n"
                   "\n"
                   "Runs an hpfeeds broker until SIGINT/SIGTERM, then stops gracefully: it tells\n"
                   "its clients (error frame \"Broker shutting down\"), forwards what they still\n"
                   "send until each has sent its last frame (zflow clients keep the rest for the\n"
                   "next broker), delivers what subscribers are owed, and closes; after\n"
                   "--drain-timeout MS (default 2000) it drops what is left and says how much.\n"
                   "--host defaults to 127.0.0.1,\n"
                   "--port to 10000 (0: a free port, announced on stderr). Users come from\n"
                   "--users FILE (the reference broker's JSON format, or ZPL if FILE ends in\n"
                   ".zpl or .cfg) and from --user IDENT:SECRET:PUBCHANS:SUBCHANS (channels\n"
                   "comma-separated, either list may be empty), in any mix.\n"
                   "Exit codes: 0 stopped by a signal, 1 cannot listen, 2 usage error,\n"
                   "3 invalid users file.\n");
}

//  Adds one --user IDENT:SECRET:PUB,..:SUB,.. Returns 0 or -1.
static int s_add_user (zflow_hpfeeds_broker_t *broker, const char *spec)
{
    char *copy = strdup (spec);
    char *fields[4] = {NULL};
    char *at = copy;
    for (int i = 0; i < 4 && at; i++) {
        fields[i] = at;
        at = i < 3 ? strchr (at, ':') : NULL;
        if (at)
            *at++ = 0;
    }
    const char *pub[64] = {NULL}, *sub[64] = {NULL};
    for (int list = 0; list < 2; list++) {
        const char **channels = list ? sub : pub;
        char *save = NULL;
        int n = 0;
        for (char *c = fields[2 + list] ? strtok_r (fields[2 + list], ",", &save) : NULL;
             c && n < 63; c = strtok_r (NULL, ",", &save))
            channels[n++] = c;
    }
    int rc = fields[1] ? zflow_hpfeeds_broker_add_user (broker, fields[0], fields[1], pub, sub)
                       : ZFLOW_EINVAL;
    if (rc)
        fprintf (stderr, "zflow broker: bad --user '%s' (IDENT:SECRET:PUBCHANS:SUBCHANS)\n", spec);
    free (copy);
    return rc ? -1 : 0;
}

int zflow_cli_broker (int argc, char **argv)
{
    const char *host = "127.0.0.1";
    long port = 10000, drain_ms = 2000;
    bool quiet = false;
    zflow_hpfeeds_broker_t *broker =
        zflow_hpfeeds_broker_new (&(zflow_hpfeeds_broker_config_t){.name = "zflow"}, NULL);
    int rc = ZFLOW_EXIT_OK;
    for (int i = 0; i < argc && rc == 0; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (streq (argv[i], "-h") || streq (argv[i], "--help")) {
            s_broker_usage (stdout);
            zflow_hpfeeds_broker_destroy (&broker);
            return ZFLOW_EXIT_OK;
        } else if (streq (argv[i], "-q") || streq (argv[i], "--quiet"))
            quiet = true;
        else if (streq (argv[i], "--host") && value)
            host = argv[++i];
        else if (streq (argv[i], "--port") && value && (port = strtol (value, &end, 10)) >= 0 &&
                 port < 65536 && !*end)
            i++;
        else if (streq (argv[i], "--drain-timeout") && value &&
                 (drain_ms = strtol (value, &end, 10)) >= 0 && drain_ms <= 3600000 && !*end)
            i++;
        else if (streq (argv[i], "--user") && value)
            rc = s_add_user (broker, argv[++i]) ? ZFLOW_EXIT_USAGE : 0;
        else if (streq (argv[i], "--users") && value) {
            char err[512] = "";
            const char *path = argv[++i];
            size_t size = strlen (path);
            bool zpl =
                size > 4 && (streq (path + size - 4, ".zpl") || streq (path + size - 4, ".cfg"));
            int loaded = zpl ? zflow_hpfeeds_broker_load_zpl (broker, path, err, sizeof (err))
                             : zflow_hpfeeds_broker_load_json (broker, path, err, sizeof (err));
            if (loaded < 0) {
                fprintf (stderr, "zflow broker: %s: %s\n", path, err);
                rc = ZFLOW_EXIT_CONFIG;
            }
        } else {
            fprintf (stderr, "zflow broker: bad argument '%s'\n", argv[i]);
            s_broker_usage (stderr);
            rc = ZFLOW_EXIT_USAGE;
        }
    }
    int bound = rc ? 0 : zflow_hpfeeds_broker_bind (broker, host, (int) port);
    if (rc == 0 && bound <= 0) {
        fprintf (stderr, "zflow broker: cannot listen on %s:%ld: %s\n", host, port,
                 zflow_strerror (bound));
        rc = ZFLOW_EXIT_RUNTIME;
    }
    if (rc == 0) {
        zflow_cli_catch_signals ();
        if (!quiet)
            fprintf (stderr, "zflow broker: hpfeeds broker listening on %s:%d\n", host, bound);
        int64_t next = zclock_mono () + 1000;
        while (!zflow_cli_signalled ()) {
            zclock_sleep (50);
            if (!quiet && zclock_mono () >= next) {
                zhash_t *stats = zflow_hpfeeds_broker_stats (broker, 5000);
                fprintf (stderr,
                         "zflow broker: %" PRIu64 " connections, %" PRIu64 " msgs in, %" PRIu64
                         " msgs out, %" PRIu64 " auth failures, %" PRIu64 " drops\n",
                         zflow_actor_stats_get (stats, "connections"),
                         zflow_actor_stats_get (stats, "msgs_in"),
                         zflow_actor_stats_get (stats, "msgs_out"),
                         zflow_actor_stats_get (stats, "auth_failures"),
                         zflow_actor_stats_get (stats, "slow_drops"));
                zhash_destroy (&stats);
                next += 1000;
            }
        }
        if (!quiet)
            fprintf (stderr, "zflow broker: stopping (signal): draining\n");
        int dropped = zflow_hpfeeds_broker_drain (broker, (int) drain_ms);
        if (!quiet && dropped >= 0)
            fprintf (stderr, "zflow broker: drained, %d publish frames dropped\n", dropped);
    }
    zflow_hpfeeds_broker_destroy (&broker);
    return rc;
}
