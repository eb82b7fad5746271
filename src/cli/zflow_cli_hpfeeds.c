/*  =========================================================================
    zflow_cli_hpfeeds - zflow broker, and zflow pub / sub on hpfeeds://

    hpfeeds addresses on the command line:

        hpfeeds://IDENT:SECRET@HOST:PORT/CHANNEL[,CHANNEL...]

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_cli.h"
#include "zflow_hpfeeds_broker.h"
#include "zflow_pipeline_codec.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>

//  How long zflow pub waits, once all is sent, for a broker's refusal.
#define S_REFUSAL_WAIT_MS 200

//  A parsed hpfeeds:// address; the strings point into text.
typedef struct {
    char text[1024];      //  a copy of the address, cut into pieces
    const char *ident;    //  ident
    const char *secret;   //  secret
    const char *host;     //  host
    int port;             //  port
    const char *channels; //  channel list
} s_address_t;

//  Parses an hpfeeds:// address. Returns 0 or -1 (reported).
static int s_parse_address (const char *url, s_address_t *address)
{
    memset (address, 0, sizeof (*address));
    if (strncmp (url, "hpfeeds://", 10) || strlen (url) >= sizeof (address->text))
        return -1;
    strcpy (address->text, url + 10);
    char *at = strrchr (address->text, '@');
    char *colon = at ? strchr (address->text, ':') : NULL;
    char *slash = at ? strchr (at, '/') : NULL;
    char *port = slash ? memchr (at, ':', (size_t) (slash - at)) : NULL;
    if (!at || !colon || colon > at || !slash || !port || !slash[1]) {
        fprintf (stderr, "zflow: '%s' is not hpfeeds://IDENT:SECRET@HOST:PORT/CHANNEL\n", url);
        return -1;
    }
    *colon = *at = *port = *slash = 0;
    char *end = NULL;
    long number = strtol (port + 1, &end, 10);
    if (*end || number <= 0 || number > 65535) {
        fprintf (stderr, "zflow: bad port in '%s'\n", url);
        return -1;
    }
    address->ident = address->text;
    address->secret = colon + 1;
    address->host = at + 1;
    address->port = (int) number;
    address->channels = slash + 1;
    return 0;
}

//  Starts a client for address. Returns it, or NULL (reported).
static zflow_hpfeeds_t *s_client (const s_address_t *address)
{
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.host = address->host;
    config.port = address->port;
    config.ident = address->ident;
    config.secret = address->secret;
    config.outbox_policy = ZFLOW_HPFEEDS_BLOCK;
    int rc = 0;
    zflow_hpfeeds_t *client = zflow_hpfeeds_new_config (&config, &rc);
    if (!client)
        fprintf (stderr, "zflow: hpfeeds client: %s\n", zflow_strerror (rc));
    return client;
}

//  Waits for the client to connect; reports a refusal. Returns 0 or -1.
static int s_wait_connected (zflow_hpfeeds_t *client, const s_address_t *address)
{
    int64_t deadline = zclock_mono () + 10000;
    while (!zflow_hpfeeds_connected (client) && zclock_mono () < deadline &&
           !zflow_cli_signalled ()) {
        int type = 0;
        char *text = zflow_hpfeeds_event (client, &type, 100);
        if (text && type == ZFLOW_HPFEEDS_EVENT_ERROR) {
            fprintf (stderr, "zflow: hpfeeds broker %s:%d refused: %s\n", address->host,
                     address->port, text);
            zstr_free (&text);
            return -1;
        }
        zstr_free (&text);
    }
    if (zflow_hpfeeds_connected (client))
        return 0;
    fprintf (stderr, "zflow: cannot connect to hpfeeds broker %s:%d\n", address->host,
             address->port);
    return -1;
}

//  Reads the client's events for up to wait_ms (0: only those already
//  there). A broker refuses a publish it does not allow (an ACL) with an
//  error frame, then closes the connection; the client would reconnect and
//  go on, so zflow pub stops at the first one. Returns true on a refusal
//  (reported).
static bool s_refused (zflow_hpfeeds_t *client, const s_address_t *address, int wait_ms)
{
    int64_t deadline = zclock_mono () + wait_ms;
    bool refused = false;
    while (!refused) {
        int64_t left = deadline - zclock_mono ();
        int type = 0;
        char *text = zflow_hpfeeds_event (client, &type, left > 0 ? (int) left : 0);
        if (!text)
            break;
        if (type == ZFLOW_HPFEEDS_EVENT_ERROR) {
            fprintf (stderr, "zflow pub: hpfeeds broker %s:%d refused: %s\n", address->host,
                     address->port, text);
            refused = true;
        }
        zstr_free (&text);
    }
    return refused;
}

int zflow_cli_hpfeeds_pub (const char *url)
{
    s_address_t address;
    if (s_parse_address (url, &address))
        return ZFLOW_EXIT_USAGE;
    zflow_hpfeeds_t *client = s_client (&address);
    if (!client || s_wait_connected (client, &address)) {
        zflow_hpfeeds_destroy (&client);
        return ZFLOW_EXIT_RUNTIME;
    }
    char *line = NULL;
    size_t capacity = 0;
    ssize_t size;
    int rc = ZFLOW_EXIT_OK;
    for (uint64_t lines = 1; rc == 0 && (size = getline (&line, &capacity, stdin)) >= 0; lines++) {
        while (size && (line[size - 1] == '\n' || line[size - 1] == '\r'))
            size--;
        int published = zflow_hpfeeds_publish (client, address.channels, line, (size_t) size);
        if (published) {
            fprintf (stderr, "zflow pub: line %" PRIu64 ": publish failed: %s\n", lines,
                     zflow_strerror (published));
            rc = ZFLOW_EXIT_RUNTIME;
        } else if (lines % 64 == 0 && s_refused (client, &address, 0))
            rc = ZFLOW_EXIT_RUNTIME;
    }
    free (line);
    //  hpfeeds acknowledges nothing: wait until the outbox is written
    int64_t deadline = zclock_mono () + 5000;
    while (rc == 0 && zclock_mono () < deadline) {
        zhash_t *stats = zflow_hpfeeds_stats (client);
        bool empty =
            zflow_actor_stats_get (stats, "outbox_pending") == 0 &&
            zflow_actor_stats_get (stats, "sent") >= zflow_actor_stats_get (stats, "published");
        zhash_destroy (&stats);
        if (empty)
            break;
        zclock_sleep (10);
    }
    //  ... nor a publish it allows: a refusal is the only answer, within a
    //  round trip. Wait that long for one (S_REFUSAL_WAIT_MS).
    if (rc == 0 && s_refused (client, &address, S_REFUSAL_WAIT_MS))
        rc = ZFLOW_EXIT_RUNTIME;
    zflow_hpfeeds_destroy (&client);
    return rc;
}

int zflow_cli_hpfeeds_sub (const char *url, int64_t count)
{
    s_address_t address;
    if (s_parse_address (url, &address))
        return ZFLOW_EXIT_USAGE;
    zflow_hpfeeds_t *client = s_client (&address);
    char *copy = strdup (address.channels), *save = NULL;
    for (char *channel = strtok_r (copy, ",", &save); client && channel;
         channel = strtok_r (NULL, ",", &save))
        zflow_hpfeeds_subscribe (client, channel);
    free (copy);
    if (!client || s_wait_connected (client, &address)) {
        zflow_hpfeeds_destroy (&client);
        return ZFLOW_EXIT_RUNTIME;
    }
    zflow_msg_t *msg = zflow_msg_new ();
    int64_t got = 0;
    while (!zflow_cli_signalled () && !zflow_cli_stdout_closed () && (!count || got < count)) {
        if (zflow_hpfeeds_read (client, msg, 200) != 0)
            continue;
        if (zflow__codec_write_line (stdout, msg) || fflush (stdout))
            break; //  stdout closed (| head): a quiet end
        got++;
    }
    zflow_msg_destroy (&msg);
    zflow_hpfeeds_destroy (&client);
    return ZFLOW_EXIT_OK;
}

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
    zflow_hpfeeds_broker_t *broker = zflow_hpfeeds_broker_new ("zflow");
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
                zhash_t *stats = zflow_hpfeeds_broker_stats (broker);
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
