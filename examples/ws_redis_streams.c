/*  =========================================================================
    ws_redis_streams - bridges a WebSocket feed into a Redis Stream

        ws source (WS_URL) -> redis XADD sink (STREAM, MAXLEN ~ 100000)

    Every WebSocket message becomes one stream entry (field "payload");
    the pipeline is lossless, so a slow or restarting Redis pushes back on
    the WebSocket instead of losing messages. Read the stream back with
    `zflow sub redis://HOST:PORT --mode stream --stream STREAM` (a consumer
    group: stop and restart it, it resumes where it stopped) or
    `redis-cli XRANGE STREAM - +`.

    Run it: ./ws_redis_streams WS_URL REDIS_URL STREAM [SECONDS]
        e.g. ./ws_redis_streams wss://ws.example.org/feed redis://127.0.0.1:6379 feed
    REDIS_URL is redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]. It runs for
    SECONDS (default: until Ctrl-C), then prints what went through.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include <inttypes.h>
#include <stdlib.h>

//  Fills config's server settings from a redis:// URL. Returns 0 or -1.
static int s_redis_url (const char *url, zflow_redis_config_t *config, zflow_adapter_url_t *parsed)
{
    char err[300];
    if (zflow_adapter_url_parse (url, parsed, err, sizeof (err)) ||
        strcmp (parsed->scheme, "redis") != 0) {
        fprintf (stderr, "%s\n", *err ? err : "not a redis:// URL");
        return -1;
    }
    config->host = parsed->host;
    if (parsed->port)
        config->port = parsed->port;
    if (parsed->has_password) {
        config->user = *parsed->user ? parsed->user : NULL;
        config->password = parsed->password;
    }
    config->db = parsed->path[0] == '/' ? atoi (parsed->path + 1) : 0;
    return 0;
}

int main (int argc, char *argv[])
{
    if (argc < 4) {
        fprintf (stderr, "usage: %s WS_URL REDIS_URL STREAM [SECONDS]\n", argv[0]);
        return 2;
    }
    zflow_redis_config_t redis;
    zflow_redis_config_init (&redis);
    static zflow_adapter_url_t parsed; //  config's strings point into it
    if (s_redis_url (argv[2], &redis, &parsed))
        return 2;
    redis.mode = ZFLOW_REDIS_STREAM;
    redis.stream = argv[3];
    redis.maxlen = 100000; //  keep the stream bounded: MAXLEN ~ 100000
    int64_t seconds = argc > 4 ? atoll (argv[4]) : 0;

    zflow_pipeline_t *p = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "ws2redis"}, NULL);
    zflow_pipeline_source_ws (p, "feed", argv[1], NULL, NULL);
    zflow_pipeline_sink_redis (p, "stream", &redis);
    if (zflow_pipeline_start (p)) {
        fprintf (stderr, "cannot start: %s\n", zflow_pipeline_error_text (p));
        zflow_pipeline_destroy (&p);
        return 1;
    }
    int64_t end = seconds > 0 ? zclock_mono () + seconds * 1000 : INT64_MAX;
    while (!zsys_interrupted && zclock_mono () < end)
        zclock_sleep (100);
    //  stage 1 is the sink: what Redis took, what was lost (and why)
    zhash_t *stats = zflow_pipeline_stage_stats (p, 1, 2000);
    const char *reason = stats ? (const char *) zhash_lookup (stats, "redis.reason") : NULL;
    fprintf (stderr,
             "XADDed %" PRIu64 " entries to %s, dropped %" PRIu64 ", reconnects %" PRIu64 "%s%s\n",
             zflow_actor_stats_get (stats, "redis.delivered"), argv[3],
             zflow_actor_stats_get (stats, "redis.drops"),
             zflow_actor_stats_get (stats, "redis.reconnects"), reason ? ": " : "",
             reason ? reason : "");
    zhash_destroy (&stats);
    zflow_pipeline_stop (p, 5000);
    zflow_pipeline_destroy (&p);
    return 0;
}
