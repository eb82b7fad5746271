/*  =========================================================================
    zflow_ws_adapter - the WebSocket adapter: its descriptor and its
    pipeline stages (zflow_pipeline_source_ws / sink_ws)

    Stage types ws_sub (a source) and ws_pub (a sink), or ws / wss with the
    role given by the section; URL ws[s]://HOST[:PORT]/PATH for zflow pub /
    zflow sub, with the same options as --name value.

    The stage owns one zflow_ws_t feed, created when the pipeline starts
    (not autostarted), and one feed stream with the stage's filter: the
    stream is the stage's input, so it exists before the first message
    can arrive. Lossless pipelines use ZFLOW_WS_BACKPRESSURE (a full stage
    pauses reading the WebSocket), lossy ones ZFLOW_WS_DROP (counted by the
    feed).

    A sink stage owns a feed too (autostarted) and sends each payload with
    zflow_ws_send from the stage's thread; only that thread uses the feed's
    send socket, while the pipeline's thread asks the feed's actor for
    STATS.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_actor.h"
#include "zflow_adapter_list.h"
#include "zflow_envelope.h"
#include "zflow_error.h"
#include "zflow_pipeline_stage.h"
#include "zflow_ws.h"
#include <string.h>

//  One stage's feed.
typedef struct {
    char *url;                 //  ws:// or wss:// URL
    char *filter;              //  JSON filter, or NULL for everything
    char *send;                //  text sent after every connect, or NULL
    char *endpoint;            //  the feed's PUB endpoint (unique per state)
    zflow_ws_t *feed;          //  the running feed, or NULL
    zflow_ws_stream_t *stream; //  the stage's input stream, or NULL
    bool sink;                 //  a sink (else a source)
    bool lossless;             //  sink: wait for room instead of dropping
    char *headers;             //  extra request headers, "Name: value" lines, or NULL
    char *protocols;           //  subprotocols offered, comma-separated, or NULL
    bool insecure;             //  wss: no certificate checks
    char *ca_file;             //  wss: trusted CAs, or NULL
    int timeout_ms;            //  connect (and close) timeout, 0: the feed's default
    bool binary;               //  sink: every message binary (else text when UTF-8)
} s_ws_t;

static void s_stop (void *arg)
{
    s_ws_t *self = (s_ws_t *) arg;
    zflow_ws_stream_destroy (&self->stream);
    zflow_ws_destroy (&self->feed);
}

static void s_free (void *arg)
{
    s_ws_t *self = (s_ws_t *) arg;
    s_stop (self);
    free (self->url);
    free (self->filter);
    free (self->send);
    free (self->endpoint);
    free (self->headers);
    free (self->protocols);
    free (self->ca_file);
    free (self);
}

//  Applies the command-line-style options to config. Returns 0 or a code.
static int s_configure (s_ws_t *self, zflow_ws_config_t *config)
{
    int rc = zflow_ws_config_set_autostart (config, false);
    rc = rc ? rc : zflow_ws_config_set_endpoint (config, self->endpoint);
    if (rc == 0 && self->send)
        rc = zflow_ws_config_on_connect_send (config, self->send);
    if (rc == 0 && self->protocols)
        rc = zflow_ws_config_set_protocols (config, self->protocols);
    if (rc == 0 && (self->insecure || self->ca_file))
        rc = zflow_ws_config_set_tls (config, !self->insecure, self->ca_file);
    if (rc == 0 && self->timeout_ms)
        rc = zflow_ws_config_set_timeout (config, self->timeout_ms);
    for (char *line = self->headers, *next; rc == 0 && line && *line; line = next) {
        next = strchr (line, '\n');
        char *colon = strchr (line, ':');
        size_t size = next ? (size_t) (next - line) : strlen (line);
        if (!colon || colon == line || (next && colon > next))
            return ZFLOW_ECONFIG;
        char *name = strndup (line, (size_t) (colon - line));
        char *value = strndup (colon + 1, size - (size_t) (colon + 1 - line));
        rc = zflow_ws_config_set_header (config, name, value + strspn (value, " \t"));
        free (name);
        free (value);
        next = next ? next + 1 : NULL;
    }
    return rc;
}

static int s_start (void *arg, zflow__stage_t *stage)
{
    s_ws_t *self = (s_ws_t *) arg;
    zflow_ws_config_t *config = zflow_ws_config_new (self->url);
    int rc = config ? s_configure (self, config) : ZFLOW_ECONFIG;
    rc = rc ? rc : zflow_ws_config_set_name (config, stage->name);
    if (rc == 0)
        self->feed = zflow_ws_new (config, &rc);
    zflow_ws_config_destroy (&config);
    self->lossless = stage->mode == ZFLOW_PIPELINE_LOSSLESS;
    if (self->sink) {
        if (self->feed)
            rc = zflow_ws_start (self->feed);
        if (rc) {
            zsys_error ("%s: WebSocket sink %s: %s", stage->name, self->url, zflow_error_text (rc));
            s_stop (self);
        }
        return rc;
    }
    int policy = self->lossless ? ZFLOW_WS_BACKPRESSURE : ZFLOW_WS_DROP;
    if (self->feed)
        self->stream =
            zflow_ws_stream_filter (self->feed, self->filter, (size_t) stage->hwm, policy, &rc);
    if (self->stream) {
        stage->external = zflow_ws_stream_stream (self->stream);
        rc = zflow_ws_start (self->feed);
    }
    if (rc) {
        zsys_error ("%s: WebSocket feed %s: %s", stage->name, self->url, zflow_error_text (rc));
        s_stop (self);
    }
    return rc;
}

static void s_stats (void *arg, zhash_t *stats)
{
    s_ws_t *self = (s_ws_t *) arg;
    zhash_t *feed = zflow_ws_stats (self->feed, 1000);
    for (const char *value = feed ? (const char *) zhash_first (feed) : NULL; value;
         value = (const char *) zhash_next (feed)) {
        char name[300];
        snprintf (name, sizeof (name), "ws.%s", zhash_cursor (feed));
        zhash_update (stats, name, (void *) value);
    }
    const char *reconnects = feed ? (const char *) zhash_lookup (feed, "reconnects") : NULL;
    if (reconnects)
        zhash_update (stats, "reconnects", (void *) reconnects);
    if (self->feed)
        zhash_update (stats, "ws.connected", zflow_ws_present (self->feed) ? "1" : "0");
    zhash_destroy (&feed);
}

//  Sink: waits until the feed has written what it was given, then closes
//  the connection (1000), so that a server sees a clean end.
static int s_drain (void *arg, zflow__stage_t *stage, int64_t deadline)
{
    (void) stage;
    s_ws_t *self = (s_ws_t *) arg;
    if (!self->sink || !self->feed)
        return 0;
    int64_t left = deadline - zclock_mono ();
    int rc = zflow_ws_flush (self->feed, left > 0 ? (int) left : 1);
    zflow_ws_exit (self->feed);
    return rc == ZFLOW_ETIMEDOUT ? rc : 0;
}

static const zflow__resource_ops_t s_ops = {
    .start = s_start, .drain = s_drain, .stop = s_stop, .stats = s_stats, .free = s_free};

//  Sink: sends the first payload frame; text if UTF-8, else binary. A
//  full send queue waits (lossless, up to 5 s) or drops (lossy).
static int s_write (zflow_msg_t *msg, void *arg)
{
    s_ws_t *self = (s_ws_t *) arg;
    size_t size;
    const void *payload = zflow_envelope_payload (msg, &size);
    if (!payload || !self->feed)
        return ZFLOW_EPROTO;
    bool binary = self->binary;
    int64_t deadline = zclock_mono () + 5000;
    while (true) {
        int rc = zflow_ws_send (self->feed, payload, size, binary);
        if (rc == ZFLOW_EPROTO && !binary)
            binary = true;
        else if (rc == ZFLOW_EFULL && self->lossless && zclock_mono () < deadline)
            zclock_sleep (1);
        else
            return rc;
    }
}

//  The options of the descriptor (both roles unless said).
typedef struct {
    const char *url;         //  ws:// or wss:// URL
    const char *filter;      //  source: JSON filter
    const char *send;        //  text sent after every connect
    const char *headers;     //  "Name: value" lines
    const char *subprotocol; //  subprotocols offered, comma-separated
    bool insecure;           //  wss: no certificate checks
    const char *ca;          //  wss: trusted CAs file
    int64_t timeout_ms;      //  connect timeout
    bool binary;             //  sink: send binary messages
} s_options_t;

//  Checks url is a valid ws:// or wss:// URL (port 1-65535, host, no
//  space...). Returns 0 or -1 with err set.
static int s_check_url (const char *url, char *err, size_t errsize)
{
    zflow_adapter_url_t parsed;
    if (zflow_adapter_url_parse (url, &parsed, err, errsize))
        return -1;
    if (!streq (parsed.scheme, "ws") && !streq (parsed.scheme, "wss")) {
        snprintf (err, errsize, "'%.100s%s' is not a ws:// or wss:// URL", url,
                  strlen (url) > 100 ? "..." : "");
        return -1;
    }
    if (parsed.userinfo) {
        snprintf (err, errsize,
                  "'%.100s%s': a WebSocket URL takes no USER@ (send credentials with --header)",
                  url, strlen (url) > 100 ? "..." : "");
        return -1;
    }
    return 0;
}

static int s_add (zflow_pipeline_t *self, const char *name, const s_options_t *options, bool sink)
{
    const char *url = options->url;
    char err[300];
    if (s_check_url (url, err, sizeof (err)))
        return zflow__pipeline_fail (self, ZFLOW_EINVAL, "stage '%s': %s", name ? name : "", err);
    s_ws_t *state = (s_ws_t *) zmalloc (sizeof (s_ws_t));
    if (!state)
        return zflow__pipeline_fail (self, ZFLOW_ENOMEM, "out of memory");
    state->url = strdup (url);
    state->filter = options->filter && *options->filter ? strdup (options->filter) : NULL;
    state->send = options->send && *options->send ? strdup (options->send) : NULL;
    state->headers = options->headers && *options->headers ? strdup (options->headers) : NULL;
    state->protocols =
        options->subprotocol && *options->subprotocol ? strdup (options->subprotocol) : NULL;
    state->ca_file = options->ca && *options->ca ? strdup (options->ca) : NULL;
    state->insecure = options->insecure;
    state->timeout_ms = (int) options->timeout_ms;
    state->binary = options->binary;
    state->endpoint = zsys_sprintf ("inproc://zflow-pipeline-ws-%p", (void *) state);
    state->sink = sink;
    //  a source's endpoint is never used: the actor reads the feed stream;
    //  a sink's callback gets the state, which the resource owns
    int rc = sink ? zflow_pipeline_sink_fn (self, name, s_write, state, NULL)
                  : zflow_pipeline_source (self, name, "pull", NULL, "inproc://unused");
    if (rc) {
        s_free (state);
        return rc;
    }
    return zflow__pipeline_add_resource (self, &s_ops, state);
}

int zflow_pipeline_source_ws (zflow_pipeline_t *self, const char *name, const char *url,
                              const char *filter, const char *send)
{
    s_options_t options = {.url = url, .filter = filter, .send = send};
    return s_add (self, name, &options, false);
}

int zflow_pipeline_sink_ws (zflow_pipeline_t *self, const char *name, const char *url,
                            const char *send)
{
    s_options_t options = {.url = url, .send = send};
    return s_add (self, name, &options, true);
}

//  ---------------------------------------------------------------------
//  The descriptor

static const zflow_adapter_option_t s_options[] = {
    {"url", ZFLOW_ADAPTER_STRING, true, NULL, NULL, "WebSocket URL, ws:// or wss://",
     offsetof (s_options_t, url), 0},
    {"filter", ZFLOW_ADAPTER_STRING, false, NULL, NULL,
     "JSON list of objects; only matching messages (default: all)", offsetof (s_options_t, filter),
     ZFLOW_ADAPTER_SOURCE},
    {"send", ZFLOW_ADAPTER_STRING, false, NULL, NULL,
     "text sent after every connect (login, subscribe)", offsetof (s_options_t, send), 0},
    {"header", ZFLOW_ADAPTER_STRING, false, NULL, NULL,
     "extra request header 'Name: value' (one per line; --header again for more)",
     offsetof (s_options_t, headers), 0},
    {"subprotocol", ZFLOW_ADAPTER_STRING, false, NULL, NULL,
     "subprotocols to offer, comma-separated", offsetof (s_options_t, subprotocol), 0},
    {"insecure", ZFLOW_ADAPTER_BOOL, false, "false", NULL,
     "wss: skip the certificate checks (testing only)", offsetof (s_options_t, insecure), 0},
    {"ca", ZFLOW_ADAPTER_STRING, false, NULL, NULL, "wss: file of trusted CA certificates",
     offsetof (s_options_t, ca), 0},
    {"timeout", ZFLOW_ADAPTER_INT, false, NULL, NULL,
     "connect and close timeout, ms (default: the feed's)", offsetof (s_options_t, timeout_ms), 0},
    {"binary", ZFLOW_ADAPTER_BOOL, false, "false", NULL,
     "send every message binary (default: text when UTF-8, else binary)",
     offsetof (s_options_t, binary), ZFLOW_ADAPTER_SINK},
    {NULL}};

static int s_from_url (const char *url, int role, zconfig_t *section, char *err, size_t errsize)
{
    (void) role;
    if (s_check_url (url, err, errsize))
        return -1;
    zconfig_put (section, "url", url);
    return 0;
}

static int s_add_stage (zflow_pipeline_t *pipeline, const char *name, const void *config, bool sink,
                        char *err, size_t errsize)
{
    const s_options_t *options = (const s_options_t *) config;
    //  every header line is "Name: value"
    for (const char *line = options->headers; line && *line;) {
        size_t size = strcspn (line, "\n");
        const char *colon = memchr (line, ':', size);
        if (!colon || colon == line) {
            snprintf (err, errsize, "bad header '%.*s' (not 'Name: value')", (int) size, line);
            return -1;
        }
        line = line[size] ? line + size + 1 : NULL;
    }
    if (options->timeout_ms > 3600000) {
        snprintf (err, errsize, "timeout must be at most 3600000 ms");
        return -1;
    }
    int rc = s_add (pipeline, name, options, sink);
    if (rc)
        snprintf (err, errsize, "%s", zflow_pipeline_error_text (pipeline));
    return rc;
}

static int s_add_source (zflow_pipeline_t *pipeline, const char *name, const void *config,
                         char *err, size_t errsize)
{
    return s_add_stage (pipeline, name, config, false, err, errsize);
}

static int s_add_sink (zflow_pipeline_t *pipeline, const char *name, const void *config, char *err,
                       size_t errsize)
{
    return s_add_stage (pipeline, name, config, true, err, errsize);
}

const zflow_adapter_t zflow__adapter_ws = {
    .name = "ws",
    .aliases = "ws_sub=source|ws_pub=sink",
    .schemes = "ws|wss",
    .summary = "reads a WebSocket feed (key ws/<section>), or sends each payload to a server",
    .url_form = "ws[s]://HOST[:PORT]/PATH",
    .config_size = sizeof (s_options_t),
    .options = s_options,
    .from_url = s_from_url,
    .source = s_add_source,
    .sink = s_add_sink,
    .stats = {.connected = "ws.connected",
              .delivered = NULL,
              .dropped = "ws.send_dropped",
              .all = "ws.<feed counter>|ws.connected|reconnects"}};
