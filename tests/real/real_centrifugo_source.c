/*  =========================================================================
    real_centrifugo_source - the Centrifugo source's tokens against a real
    Centrifugo, through the C API

    Run by test_real_centrifugo.py with the client URL, API address, API
    key and HMAC secret of the Centrifugo v6 it started (a 1 s expiry close
    delay and presence_update_interval, so that an unrefreshed token is
    acted on within seconds). Channel "closed:..." is in a namespace
    without allow_subscribe_for_client:
      - without a token provider: refused with 103, reported as a
        permanent error event with a hint; nothing subscribed;
      - with a token callback (HS256 signed here) whose tokens live 3 s:
        the channel is subscribed with a subscription token, the
        subscription and the connection are refreshed (sub_refresh,
        refresh) before they expire, and publications made long after the
        first tokens' exp still arrive, all of them, on the one
        subscription;
      - with a callback whose first tokens already expired: the connect
        and the subscribe refused with 109 are retried with fresh tokens;
      - no provider, tokens given with set_sub_token: subscribes a channel
        refused with 103; a "token_expiring" event names the channel, and
        the next token given goes in a sub_refresh.
    Prints one ok/FAIL line per check; exits 1 if any failed.

        real_centrifugo_source WS_URL API_ADDRESS API_KEY SECRET

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int s_failures = 0;

static void s_check (bool cond, const char *what)
{
    printf ("%s%s\n", cond ? "ok   " : "FAIL ", what);
    fflush (stdout);
    s_failures += cond ? 0 : 1;
}

//  What the source published: publications' data of the channel, events.
typedef struct {
    zsock_t *sub;   //  SUB on the source's endpoint
    json_t *pubs;   //  array of the publications' data
    json_t *events; //  array of event objects
} s_collect_t;

static void s_pump (s_collect_t *c, int ms)
{
    int64_t end = zclock_mono () + ms;
    zpoller_t *poller = zpoller_new (c->sub, NULL);
    while (zclock_mono () < end) {
        if (!zpoller_wait (poller, (int) (end - zclock_mono ())))
            continue;
        zmsg_t *msg = zmsg_recv (c->sub);
        zframe_t *key = zmsg_first (msg);
        zmsg_next (msg);
        zframe_t *payload = zmsg_next (msg);
        if (key && payload) {
            json_t *json = json_loadb ((const char *) zframe_data (payload), zframe_size (payload),
                                       JSON_DECODE_ANY, NULL);
            bool event =
                zframe_size (key) > 16 && memcmp (zframe_data (key), "centrifugo.event", 16) == 0;
            if (json)
                json_array_append_new (event ? c->events : c->pubs, json);
            if (event)
                printf ("     event %.*s\n", (int) zframe_size (payload),
                        (const char *) zframe_data (payload));
        }
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
}

//  Events of type (with field code equal to code when code > 0).
static size_t s_events (s_collect_t *c, const char *type, int code)
{
    size_t count = 0, index;
    json_t *event;
    json_array_foreach (c->events, index, event)
    {
        bool match = streq (json_string_value (json_object_get (event, "type")), type);
        if (match && (code <= 0 || json_integer_value (json_object_get (event, "code")) == code))
            count++;
    }
    return count;
}

static bool s_wait_event (s_collect_t *c, const char *type, int code, size_t count, int ms)
{
    int64_t end = zclock_mono () + ms;
    while (s_events (c, type, code) < count && zclock_mono () < end)
        s_pump (c, 50);
    return s_events (c, type, code) >= count;
}

static uint64_t s_stat (zflow_centrifugo_source_t *source, const char *name)
{
    zhash_t *stats = zflow_centrifugo_source_stats (source, 2000);
    uint64_t value = zflow_actor_stats_get (stats, name);
    zhash_destroy (&stats);
    return value;
}

//  base64url without padding.
static void s_b64url (const unsigned char *data, size_t size, char *out)
{
    int length = EVP_EncodeBlock ((unsigned char *) out, data, (int) size);
    while (length > 0 && out[length - 1] == '=')
        length--;
    out[length] = 0;
    for (char *c = out; *c; c++)
        *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
}

//  The token callback's state.
typedef struct {
    const char *secret; //  HMAC secret
    int ttl;            //  token lifetime, seconds
    int conn_calls;     //  connection tokens made
    int sub_calls;      //  subscription tokens made
    bool stale_first;   //  the first token of each kind expired 10 s ago
} s_tokens_t;

//  Signs HS256 tokens for user "cuser" (both kinds).
static int s_token_fn (const char *channel, char *token, size_t size, void *arg)
{
    s_tokens_t *self = (s_tokens_t *) arg;
    char claims[512], head[128], body[768], sig[128];
    bool stale = self->stale_first && (channel ? self->sub_calls : self->conn_calls) == 0;
    long exp = (long) time (NULL) + (stale ? -10 : self->ttl);
    if (channel)
        snprintf (claims, sizeof (claims), "{\"sub\":\"cuser\",\"exp\":%ld,\"channel\":\"%s\"}",
                  exp, channel);
    else
        snprintf (claims, sizeof (claims), "{\"sub\":\"cuser\",\"exp\":%ld}", exp);
    const char *header = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    s_b64url ((const unsigned char *) header, strlen (header), head);
    s_b64url ((const unsigned char *) claims, strlen (claims), body);
    char input[1024];
    snprintf (input, sizeof (input), "%s.%s", head, body);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_size = 0;
    HMAC (EVP_sha256 (), self->secret, (int) strlen (self->secret), (unsigned char *) input,
          strlen (input), mac, &mac_size);
    s_b64url (mac, mac_size, sig);
    if (channel)
        self->sub_calls++;
    else
        self->conn_calls++;
    return snprintf (token, size, "%s.%s", input, sig);
}

static zflow_centrifugo_source_t *s_source (const char *url, const char *channels,
                                            s_tokens_t *tokens, s_collect_t *c)
{
    zflow_centrifugo_source_config_t config;
    zflow_centrifugo_source_config_init (&config);
    config.url = url;
    config.channels = channels;
    config.manual_start = true;
    config.name = tokens ? "withtok" : "notok";
    config.token_fn = tokens ? s_token_fn : NULL;
    config.token_arg = tokens;
    int rc = 0;
    zflow_centrifugo_source_t *source = zflow_centrifugo_source_new (&config, &rc);
    c->sub = zsock_new_sub (zflow_centrifugo_source_endpoint (source), "");
    c->pubs = json_array ();
    c->events = json_array ();
    zclock_sleep (50);
    zflow_centrifugo_source_start (source);
    return source;
}

static void s_collect_destroy (s_collect_t *c)
{
    zsock_destroy (&c->sub);
    json_decref (c->pubs);
    json_decref (c->events);
}

static void s_publish (zflow_centrifugo_t *api, const char *channel, int n)
{
    char data[64];
    snprintf (data, sizeof (data), "{\"n\":%d}", n);
    if (zflow_centrifugo_publish (api, channel, data, NULL, NULL))
        printf ("     publish %d: %s\n", n, zflow_centrifugo_error_message (api));
}

int main (int argc, char *argv[])
{
    if (argc != 5) {
        fprintf (stderr, "usage: real_centrifugo_source WS_URL API_ADDRESS API_KEY SECRET\n");
        return 2;
    }
    const char *url = argv[1];
    zflow_centrifugo_config_t api_config;
    zflow_centrifugo_config_init (&api_config);
    api_config.address = argv[2];
    api_config.api_key = argv[3];
    zflow_centrifugo_t *api = zflow_centrifugo_new (&api_config, NULL);

    s_tokens_t conn_only = {argv[4], 600, 0, 0, false};
    s_collect_t c;
    //  1. A token only for the connection (set as config token): 103 on
    //  the closed namespace, permanent, with a hint.
    char conn_token[1024];
    s_token_fn (NULL, conn_token, sizeof (conn_token), &conn_only);
    zflow_centrifugo_source_config_t config;
    zflow_centrifugo_source_config_init (&config);
    config.url = url;
    config.token = conn_token;
    config.channels = "closed:ctok";
    config.manual_start = true;
    config.name = "notok";
    zflow_centrifugo_source_t *source = zflow_centrifugo_source_new (&config, NULL);
    c.sub = zsock_new_sub (zflow_centrifugo_source_endpoint (source), "");
    c.pubs = json_array ();
    c.events = json_array ();
    zclock_sleep (50);
    zflow_centrifugo_source_start (source);
    s_check (s_wait_event (&c, "error", 103, 1, 5000),
             "without a token provider: closed:ctok refused with 103");
    json_t *error = json_array_get (c.events, json_array_size (c.events) - 1);
    s_check (json_is_false (json_object_get (error, "temporary")) &&
                 json_is_string (json_object_get (error, "hint")),
             "reported as permanent, with a hint about subscription tokens");
    s_pump (&c, 500);
    s_check (s_events (&c, "subscribed", 0) == 0 && s_stat (source, "subscribed") == 0,
             "and not subscribed");
    zflow_centrifugo_source_destroy (&source);
    s_collect_destroy (&c);

    //  2. A token callback, tokens of 3 s: subscribed with a subscription
    //  token, refreshed before expiry, publications keep flowing.
    s_tokens_t tokens = {argv[4], 3, 0, 0, false};
    source = s_source (url, "closed:ctok", &tokens, &c);
    s_check (s_wait_event (&c, "subscribed", 0, 1, 5000),
             "with a token callback: closed:ctok subscribed");
    s_check (tokens.conn_calls >= 1 && tokens.sub_calls >= 1,
             "the callback gave the connection token and a subscription token");
    int64_t t0 = zclock_mono ();
    int sent = 0;
    while (zclock_mono () - t0 < 9000) {
        s_publish (api, "closed:ctok", sent++);
        s_pump (&c, 500);
    }
    s_pump (&c, 1000);
    s_check (json_array_size (c.pubs) == (size_t) sent,
             "every publication arrived, 9 s after tokens of 3 s were first given");
    char what[200];
    snprintf (what, sizeof (what), "sub_refreshes %" PRIu64 " >= 2, refreshes %" PRIu64 " >= 2",
              s_stat (source, "sub_refreshes"), s_stat (source, "refreshes"));
    s_check (s_stat (source, "sub_refreshes") >= 2 && s_stat (source, "refreshes") >= 2, what);
    s_check (s_events (&c, "subscribed", 0) == 1 && s_events (&c, "connected", 0) == 1 &&
                 s_events (&c, "unsubscribed", 0) == 0 && s_events (&c, "disconnected", 0) == 0,
             "on the one connection and subscription (no expiry, no resubscribe)");
    zflow_centrifugo_source_destroy (&source);
    s_collect_destroy (&c);

    //  3. The callback's first tokens already expired: the connect and the
    //  subscribe are refused with 109, retried at once with fresh tokens.
    s_tokens_t stale = {argv[4], 600, 0, 0, true};
    source = s_source (url, "closed:stale", &stale, &c);
    s_check (s_wait_event (&c, "subscribed", 0, 1, 5000),
             "first tokens expired: closed:stale subscribed all the same");
    s_check (s_events (&c, "error", 109) == 2 && s_events (&c, "failed", 0) == 0,
             "after one 109 for the connect and one for the subscribe, both retried");
    s_check (stale.conn_calls == 2 && stale.sub_calls == 2, "each with a fresh token");
    s_publish (api, "closed:stale", 1);
    s_pump (&c, 1000);
    s_check (json_array_size (c.pubs) == 1, "and its publication arrives");
    zflow_centrifugo_source_destroy (&source);
    s_collect_destroy (&c);

    //  4. No provider, tokens given directly: refused with 103 at first,
    //  subscribed once set_sub_token gives a token (3 s), which expires:
    //  "token_expiring" names the channel, the next token given is sent in
    //  a sub_refresh, and publications go on past the first token's exp.
    s_tokens_t direct = {argv[4], 3, 0, 0, false};
    config.channels = "closed:direct";
    config.name = "direct";
    source = zflow_centrifugo_source_new (&config, NULL);
    c.sub = zsock_new_sub (zflow_centrifugo_source_endpoint (source), "");
    c.pubs = json_array ();
    c.events = json_array ();
    zclock_sleep (50);
    zflow_centrifugo_source_start (source);
    s_check (s_wait_event (&c, "error", 103, 1, 5000), "direct: refused with 103 without a token");
    char sub_token[1024];
    s_token_fn ("closed:direct", sub_token, sizeof (sub_token), &direct);
    s_check (zflow_centrifugo_source_set_sub_token (source, "closed:direct", sub_token) == 0 &&
                 s_wait_event (&c, "subscribed", 0, 1, 5000),
             "direct: set_sub_token subscribes it");
    s_check (s_wait_event (&c, "token_expiring", 0, 1, 5000),
             "direct: token_expiring before the 3 s token expires");
    json_t *expiring = json_array_get (c.events, json_array_size (c.events) - 1);
    s_check (streq (json_string_value (json_object_get (expiring, "channel"))
                        ? json_string_value (json_object_get (expiring, "channel"))
                        : "",
                    "closed:direct"),
             "direct: the event names the channel");
    direct.ttl = 60;
    s_token_fn ("closed:direct", sub_token, sizeof (sub_token), &direct);
    zflow_centrifugo_source_set_sub_token (source, "closed:direct", sub_token);
    s_pump (&c, 4000);
    s_check (s_stat (source, "sub_refreshes") == 1, "direct: the new token went in a sub_refresh");
    s_publish (api, "closed:direct", 7);
    s_pump (&c, 1000);
    s_check (json_array_size (c.pubs) == 1 && s_events (&c, "unsubscribed", 0) == 0 &&
                 s_events (&c, "subscribed", 0) == 1,
             "direct: past the first token's exp, still subscribed, the publication arrives");
    zflow_centrifugo_source_destroy (&source);
    s_collect_destroy (&c);
    zflow_centrifugo_destroy (&api);
    printf ("failures: %d\n", s_failures);
    return s_failures ? 1 : 0;
}
