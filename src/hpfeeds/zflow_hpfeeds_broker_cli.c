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
#include <stdint.h>
#include <string.h>
#include <unistd.h>

//  ---------------------------------------------------------------------
//  zflow broker

static void s_broker_usage (FILE *file)
{
    fprintf (file, "usage: zflow broker [--host H] [--port P] [--users FILE] [--user SPEC]...\n"
                   "                    [--drain-timeout MS] [--slow POLICY] [--outbuf BYTES]\n"
                   "                    [--slow-grace MS] [--auth-timeout MS] [--idle-timeout MS]\n"
                   "                    [--max-connections N] [--quiet]\n"
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
                   "\n"
                   "Slow subscribers: each connection may have --outbuf BYTES queued (suffix k,\n"
                   "m or g; default 100m). --slow disconnect (the default, as the reference\n"
                   "broker) closes a subscriber whose queue stays over half of that for\n"
                   "--slow-grace MS (default 60000; 0: only when the queue is full); --slow drop\n"
                   "drops what does not fit; --slow block stops reading the publishers until\n"
                   "it catches up (lossless). Hostile peers: a connection must authenticate\n"
                   "within --auth-timeout MS (default 10000); one that sends no frame and is\n"
                   "sent nothing for --idle-timeout MS is closed (default 3600000: hpfeeds has\n"
                   "no heartbeat; 0: never); connections past --max-connections N (default\n"
                   "10000) are closed at once. The status line each second counts messages in\n"
                   "and out, dropped, lost with slow subscribers disconnected, and unrouted\n"
                   "(published while nobody was subscribed: no hpfeeds broker can tell the\n"
                   "publisher).\n"
                   "Exit codes: 0 stopped by a signal, 1 cannot listen, 2 usage error,\n"
                   "3 invalid users file.\n");
}

//  Parses BYTES with an optional k, m or g suffix (powers of 1024) into
//  *bytes. Returns true when the whole text is a positive size.
static bool s_parse_bytes (const char *text, size_t *bytes)
{
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull (text, &end, 10);
    if (errno || end == text || *text == '-' || value == 0)
        return false;
    unsigned shift = 0;
    if (*end == 'k' || *end == 'K')
        shift = 10;
    else if (*end == 'm' || *end == 'M')
        shift = 20;
    else if (*end == 'g' || *end == 'G')
        shift = 30;
    if (shift)
        end++;
    if (*end || value > (SIZE_MAX >> shift))
        return false;
    *bytes = (size_t) (value << shift);
    return true;
}

//  Parses a whole number in [low, high] into *number. Returns true if so.
static bool s_parse_long (const char *text, long low, long high, long *number)
{
    char *end = NULL;
    errno = 0;
    long value = strtol (text, &end, 10);
    if (errno || end == text || *end || value < low || value > high)
        return false;
    *number = value;
    return true;
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

//  Loads one --users FILE (JSON, or ZPL if it ends in .zpl or .cfg).
//  Returns 0 or ZFLOW_EXIT_CONFIG.
static int s_load_users (zflow_hpfeeds_broker_t *broker, const char *path)
{
    char err[512] = "";
    size_t size = strlen (path);
    bool zpl = size > 4 && (streq (path + size - 4, ".zpl") || streq (path + size - 4, ".cfg"));
    int loaded = zpl ? zflow_hpfeeds_broker_load_zpl (broker, path, err, sizeof (err))
                     : zflow_hpfeeds_broker_load_json (broker, path, err, sizeof (err));
    if (loaded >= 0)
        return 0;
    fprintf (stderr, "zflow broker: %s: %s\n", path, err);
    return ZFLOW_EXIT_CONFIG;
}

//  Parses one option of the broker's settings at argv[*i] (value: the next
//  argument or NULL) into config. Returns true when it was one and valid.
static bool s_parse_setting (zflow_hpfeeds_broker_config_t *config, char **argv, int *i,
                             const char *value)
{
    const char *option = argv[*i];
    long number = 0;
    if (!value)
        return false;
    if (streq (option, "--slow")) {
        if (streq (value, "disconnect"))
            config->slow_policy = ZFLOW_HPFEEDS_SLOW_DISCONNECT;
        else if (streq (value, "drop"))
            config->slow_policy = ZFLOW_HPFEEDS_SLOW_DROP;
        else if (streq (value, "block"))
            config->slow_policy = ZFLOW_HPFEEDS_SLOW_BLOCK;
        else
            return false;
    } else if (streq (option, "--outbuf")) {
        if (!s_parse_bytes (value, &config->outbuf_limit))
            return false;
    } else if (streq (option, "--slow-grace") && s_parse_long (value, 0, 86400000, &number))
        config->slow_grace_ms = number ? (int) number : -1; //  0: no grace
    else if (streq (option, "--auth-timeout") && s_parse_long (value, 1, 86400000, &number))
        config->auth_timeout_ms = (int) number;
    else if (streq (option, "--idle-timeout") && s_parse_long (value, 0, 604800000, &number))
        config->idle_timeout_ms = number ? (int) number : -1; //  0: never
    else if (streq (option, "--max-connections") && s_parse_long (value, 1, 1000000, &number))
        config->max_connections = (int) number;
    else
        return false;
    (*i)++;
    return true;
}

//  Prints the status line: what came in and what became of it.
static void s_status (zflow_hpfeeds_broker_t *broker)
{
    zhash_t *stats = zflow_hpfeeds_broker_stats (broker, 5000);
    fprintf (stderr,
             "zflow broker: %" PRIu64 " connections, %" PRIu64 " msgs in, %" PRIu64
             " msgs out, %" PRIu64 " dropped, %" PRIu64 " lost with %" PRIu64
             " slow disconnects, %" PRIu64 " unrouted, %" PRIu64 " auth failures, %" PRIu64
             " timeouts, %" PRIu64 " refused connections\n",
             zflow_actor_stats_get (stats, "connections"), zflow_actor_stats_get (stats, "msgs_in"),
             zflow_actor_stats_get (stats, "msgs_out"), zflow_actor_stats_get (stats, "slow_drops"),
             zflow_actor_stats_get (stats, "slow_lost"),
             zflow_actor_stats_get (stats, "slow_disconnects"),
             zflow_actor_stats_get (stats, "unrouted"),
             zflow_actor_stats_get (stats, "auth_failures"),
             zflow_actor_stats_get (stats, "auth_timeouts") +
                 zflow_actor_stats_get (stats, "idle_timeouts"),
             zflow_actor_stats_get (stats, "refused_connections"));
    zhash_destroy (&stats);
}

int zflow_cli_broker (int argc, char **argv)
{
    const char *host = "127.0.0.1";
    long port = 10000, drain_ms = 2000;
    bool quiet = false;
    zflow_hpfeeds_broker_config_t config = {.name = "zflow"};
    int rc = ZFLOW_EXIT_OK;
    //  the settings first (the broker is made with them), users after
    for (int i = 0; i < argc && rc == 0; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (streq (argv[i], "-h") || streq (argv[i], "--help")) {
            s_broker_usage (stdout);
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
        else if ((streq (argv[i], "--user") || streq (argv[i], "--users")) && value)
            i++;
        else if (!s_parse_setting (&config, argv, &i, value)) {
            fprintf (stderr, "zflow broker: bad argument '%s'\n", argv[i]);
            s_broker_usage (stderr);
            rc = ZFLOW_EXIT_USAGE;
        }
    }
    zflow_hpfeeds_broker_t *broker = rc ? NULL : zflow_hpfeeds_broker_new (&config, NULL);
    if (rc == 0 && !broker) {
        fprintf (stderr, "zflow broker: cannot start the broker\n");
        rc = ZFLOW_EXIT_RUNTIME;
    }
    for (int i = 0; i + 1 < argc && rc == 0; i++) {
        if (streq (argv[i], "--user"))
            rc = s_add_user (broker, argv[++i]) ? ZFLOW_EXIT_USAGE : 0;
        else if (streq (argv[i], "--users"))
            rc = s_load_users (broker, argv[++i]);
        else if (streq (argv[i], "--host") || streq (argv[i], "--port") ||
                 streq (argv[i], "--drain-timeout") || streq (argv[i], "--slow") ||
                 streq (argv[i], "--outbuf") || streq (argv[i], "--slow-grace") ||
                 streq (argv[i], "--auth-timeout") || streq (argv[i], "--idle-timeout") ||
                 streq (argv[i], "--max-connections"))
            i++; //  a value that may look like an option
    }
    int bound = rc ? 0 : zflow_hpfeeds_broker_bind (broker, host, (int) port);
    if (rc == 0 && bound <= 0) {
        fprintf (stderr, "zflow broker: cannot listen on %s:%ld: %s\n", host, port,
                 zflow_error_text (bound));
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
                s_status (broker);
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
