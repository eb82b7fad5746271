/*  =========================================================================
    zflow_centrifugo_source - Centrifugo channels into zflow over the
    client protocol (see the header for the behaviour)

    One zloop: the pipe (commands), the WebSocket connection's socket (the
    project's client, zflow_ws_client), a reconnect timer, a reaper for
    closed connections and a watchdog for late replies and missing pings.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_centrifugo_source_internal.h"
#include <inttypes.h>
#include <string.h>

//  Watchdog period: how often late replies and missing pings are checked.
#define S_WATCH_MS 100

struct _zflow_centrifugo_source_t {
    zactor_t *actor; //  the source actor
    char *endpoint;  //  the PUB endpoint
};

//  What the caller hands the actor at start; the actor copies what it keeps.
typedef struct {
    const zflow_centrifugo_source_config_t *config; //  the caller's configuration
    const char *endpoint;                           //  PUB endpoint to bind
    int err;                                        //  set by the actor on failure
} s_start_t;

static void s_connect (s_source_t *self);

bool zflow__centsrc_verbose (s_source_t *self)
{
    return zflow_actor_verbose (self->base);
}

//  ---------------------------------------------------------------------
//  Channels

s_channel_t *zflow__centsrc_channel_new (s_source_t *self, const char *name)
{
    if (!name || !*name)
        return NULL;
    s_channel_t *channel = (s_channel_t *) calloc (1, sizeof (s_channel_t));
    if (!channel)
        return NULL;
    channel->name = strdup (name);
    channel->key = zflow_key_new (self->key_prefix, name, NULL);
    if (!channel->name || !channel->key)
        zflow__centsrc_channel_destroy (&channel);
    return channel;
}

void zflow__centsrc_channel_destroy (s_channel_t **self_p)
{
    s_channel_t *self = *self_p;
    if (!self)
        return;
    free (self->name);
    free (self->epoch);
    free (self->token);
    zflow_key_destroy (&self->key);
    free (self);
    *self_p = NULL;
}

//  Adds a channel (position: offset/epoch when epoch is not NULL).
//  Returns 0, ZFLOW_EINVAL, ZFLOW_ENOTSUP (already there) or ZFLOW_ENOMEM.
static int s_channel_add (s_source_t *self, const char *name, uint64_t offset, const char *epoch)
{
    if (name && zhashx_lookup (self->channels, name))
        return ZFLOW_ENOTSUP;
    s_channel_t *channel = zflow__centsrc_channel_new (self, name);
    if (!channel)
        return ZFLOW_EINVAL;
    if (epoch && *epoch) {
        channel->epoch = strdup (epoch);
        channel->offset = offset;
        channel->positioned = channel->epoch != NULL;
    }
    zhashx_insert (self->channels, name, channel);
    if (self->connected)
        zflow__centsrc_send_subscribe (self, channel);
    return 0;
}

//  ---------------------------------------------------------------------
//  Lossless mode: envelopes the PUB refused wait here, reading paused

static int s_on_flush (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    s_source_t *self = (s_source_t *) arg;
    zmsg_t *msg;
    while ((msg = (zmsg_t *) zlist_first (self->held))) {
        zframe_t *key = zmsg_first (msg);
        zframe_t *meta = zmsg_next (msg);
        zframe_t *payload = zmsg_next (msg);
        if (zflow__centsrc_pub_send (self, zframe_data (key), zframe_size (key), zframe_data (meta),
                                     zframe_size (meta), zframe_data (payload),
                                     zframe_size (payload)))
            break;
        zlist_pop (self->held);
        zmsg_destroy (&msg);
    }
    self->counters->queue_depth = zlist_size (self->held);
    if (zlist_size (self->held) == 0) {
        zloop_timer_end (self->loop, self->flush_timer);
        self->flush_timer = -1;
        if (self->conn)
            zflow__ws_conn_pause (self->conn, false);
    }
    return 0;
}

void zflow__centsrc_hold (s_source_t *self)
{
    self->counters->queue_depth = zlist_size (self->held);
    if (self->flush_timer >= 0)
        return;
    if (self->conn)
        zflow__ws_conn_pause (self->conn, true);
    self->flush_timer = zloop_timer (self->loop, 2, 0, s_on_flush, self);
}

//  ---------------------------------------------------------------------
//  Connection life cycle

static int s_on_reap (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    s_source_t *self = (s_source_t *) arg;
    self->reap_timer = -1;
    zflow_ws_conn_t *conn;
    while ((conn = (zflow_ws_conn_t *) zlist_pop (self->dead)))
        zflow__ws_conn_destroy (&conn);
    return 0;
}

static int s_on_reconnect_timer (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    s_source_t *self = (s_source_t *) arg;
    self->reconnect_timer = -1;
    if (!self->conn && !self->failed)
        s_connect (self);
    return 0;
}

int zflow__centsrc_backoff (s_source_t *self, int attempt)
{
    int64_t delay = self->backoff_min_ms;
    for (int i = 1; i < attempt && delay < self->backoff_max_ms; i++)
        delay *= 2;
    if (delay > self->backoff_max_ms)
        delay = self->backoff_max_ms;
    delay = delay / 2 + randof ((int) (delay / 2) + 1);
    return delay < 1 ? 1 : (int) delay;
}

//  Arms the reconnect timer.
static void s_schedule (s_source_t *self)
{
    if (self->reconnect_timer >= 0)
        return;
    int delay = zflow__centsrc_backoff (self, self->attempt);
    self->reconnect_timer = zloop_timer (self->loop, (size_t) delay, 1, s_on_reconnect_timer, self);
    if (zflow__centsrc_verbose (self))
        zsys_debug ("zflow_centrifugo_source %s: reconnect in %d ms", self->name, delay);
}

void zflow__centsrc_drop (s_source_t *self, int code, const char *reason, bool refused)
{
    if (!zflow__ws_conn_is_open (self->conn))
        return;
    self->refused = self->refused || refused;
    zflow__ws_conn_close (self->conn, code, reason);
}

static void s_on_open (zflow_ws_conn_t *conn, void *arg)
{
    s_source_t *self = (s_source_t *) arg;
    self->last_rx = zclock_mono ();
    self->opened = true;
    if (zlist_size (self->held))
        zflow__ws_conn_pause (conn, true); //  lossless: still waiting for the PUB
    if (zflow__centsrc_send_connect (self))
        zflow__ws_conn_close (conn, 1011, "cannot send connect");
}

static void s_on_message (zflow_ws_conn_t *conn, bool binary, const uint8_t *data, size_t size,
                          void *arg)
{
    (void) conn;
    (void) binary;
    zflow__centsrc_on_message ((s_source_t *) arg, data, size);
}

//  Forgets the connection's state; every channel needs a new subscribe.
static void s_reset_session (s_source_t *self)
{
    self->conn = NULL;
    self->opened = false;
    self->connected = false;
    self->connect_id = 0;
    self->reply_deadline = 0;
    self->refresh_at = self->expire_at = 0;
    self->refresh_id = 0;
    self->ping_ms = 0;
    s_channel_t *channel = (s_channel_t *) zhashx_first (self->channels);
    for (; channel; channel = (s_channel_t *) zhashx_next (self->channels)) {
        channel->state = S_CHAN_IDLE;
        channel->cmd_id = 0;
        channel->retry_at = 0;
        channel->refresh_at = channel->expire_at = 0;
        channel->refresh_id = 0;
    }
}

static void s_on_closed (zflow_ws_conn_t *conn, int error, int code, const char *reason, void *arg)
{
    s_source_t *self = (s_source_t *) arg;
    zlist_append (self->dead, conn);
    if (self->reap_timer < 0)
        self->reap_timer = zloop_timer (self->loop, 1, 1, s_on_reap, self);
    if (conn != self->conn)
        return;
    if (self->disc_code) {
        code = self->disc_code;
        reason = self->disc_reason;
    }
    //  3500..3999 and 4500..4999: the server says "do not reconnect"
    //  (invalid token, force disconnect, ...); so does a permanent error
    //  in the connect reply. Both stop the source at once. A temporary
    //  connect error reconnects with the backoff, max_failures times in a
    //  row at most when that is set (>= 0).
    bool terminal =
        self->terminal || (code >= 3500 && code <= 3999) || (code >= 4500 && code <= 4999);
    bool refused = self->refused || terminal;
    if (refused) {
        self->failures++;
        self->failures_total++;
    }
    bool reconnect =
        !terminal && !(refused && self->max_failures >= 0 && self->failures >= self->max_failures);
    if (code == 3014 && !terminal) {
        //  State invalidated: the server asks for a new session, not a
        //  recovery from where it stood; the channels start at the top
        //  of their streams again.
        s_channel_t *channel = (s_channel_t *) zhashx_first (self->channels);
        for (; channel; channel = (s_channel_t *) zhashx_next (self->channels)) {
            channel->positioned = false;
            zstr_free (&channel->epoch);
        }
    }
    //  A handshake that failed (server down, HTTP error) is only traced.
    if (self->opened) {
        self->disconnects++;
        json_t *event = json_pack ("{s:i,s:s,s:b}", "code", code, "reason", reason ? reason : "",
                                   "reconnect", reconnect);
        if (event && error) //  "error" only when there was one
            json_object_set_new (event, "error", json_string (zflow_error_text (error)));
        zflow__centsrc_event (self, "disconnected", event);
    } else if (zflow__centsrc_verbose (self))
        zsys_debug ("zflow_centrifugo_source %s: connection failed: %s", self->name,
                    reason ? reason : "");
    s_reset_session (self);
    self->attempt++;
    if (reconnect)
        s_schedule (self);
    else {
        self->failed = true;
        //  code: the close code, or the connect reply's error code
        int why = self->terminal ? self->term_code : code;
        if (self->terminal)
            reason = self->term_reason;
        zsys_warning ("zflow_centrifugo_source %s: giving up after %d refusals (last %d %s)",
                      self->name, self->failures, why, reason ? reason : "");
        zflow__centsrc_event (self, "failed",
                              json_pack ("{s:i,s:i,s:s}", "failures", self->failures, "code", why,
                                         "reason", reason ? reason : ""));
    }
}

static const zflow_ws_conn_callbacks_t s_callbacks = {s_on_open, s_on_message, s_on_closed, NULL};

static void s_connect (s_source_t *self)
{
    self->attempts++;
    self->refused = false;
    self->terminal = false;
    self->term_code = 0;
    self->term_reason[0] = 0;
    self->disc_code = 0;
    self->disc_reason[0] = 0;
    char err[256];
    int rc;
    self->conn = zflow__ws_conn_new (self->loop, &self->conn_config, &s_callbacks, self, &rc, err,
                                     sizeof (err));
    if (!self->conn) {
        zsys_warning ("zflow_centrifugo_source %s: cannot connect: %s", self->name, err);
        self->attempt++;
        s_schedule (self);
    }
}

//  Subscribes again to channels whose last subscribe failed for a while.
static void s_retry_subscribes (s_source_t *self, int64_t now)
{
    s_channel_t *channel = (s_channel_t *) zhashx_first (self->channels);
    for (; channel; channel = (s_channel_t *) zhashx_next (self->channels))
        if (channel->state == S_CHAN_IDLE && channel->retry_at && now >= channel->retry_at) {
            channel->retry_at = 0;
            if (zflow__centsrc_send_subscribe (self, channel))
                break;
        }
}

//  Sends sub_refresh for subscriptions whose token is about to expire.
static void s_refresh_subscriptions (s_source_t *self, int64_t now)
{
    s_channel_t *channel = (s_channel_t *) zhashx_first (self->channels);
    for (; channel; channel = (s_channel_t *) zhashx_next (self->channels)) {
        if (channel->state != S_CHAN_SUBSCRIBED || !channel->refresh_at ||
            now < channel->refresh_at || channel->refresh_id)
            continue;
        //  Without a provider the user is asked (set_sub_token): the token
        //  given last is the one expiring.
        if (!zflow__centsrc_has_provider (self) ||
            (zflow__centsrc_send_sub_refresh (self, channel) && !channel->refresh_id)) {
            channel->refresh_at = 0;
            zflow__centsrc_event (self, "token_expiring",
                                  json_pack ("{s:I,s:s}", "expires_in_ms",
                                             (json_int_t) (channel->expire_at - now), "channel",
                                             channel->name));
        }
        if (!zflow__ws_conn_is_open (self->conn))
            break;
    }
}

//  Replaces a connection that went silent or does not answer; retries
//  subscribes that failed for a while.
static int s_on_watch (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    s_source_t *self = (s_source_t *) arg;
    if (!zflow__ws_conn_is_open (self->conn))
        return 0;
    int64_t now = zclock_mono ();
    if (self->connected)
        s_retry_subscribes (self, now);
    if (self->connected && self->refresh_at && now >= self->refresh_at) {
        //  The token runs out: the provider makes a new one, or the user
        //  is asked for one (set_token).
        self->refresh_at = 0;
        char *token = zflow__centsrc_make_token (self, NULL);
        if (token) {
            free (self->token);
            self->token = token;
            zflow__centsrc_send_refresh (self);
        } else
            zflow__centsrc_event (
                self, "token_expiring",
                json_pack ("{s:I}", "expires_in_ms", (json_int_t) (self->expire_at - now)));
    }
    if (self->connected)
        s_refresh_subscriptions (self, now);
    if (self->reply_deadline && now > self->reply_deadline) {
        zsys_info ("zflow_centrifugo_source %s: no reply in %d ms, reconnecting", self->name,
                   self->timeout_ms);
        zflow__centsrc_drop (self, 1000, "reply timeout", false);
    } else if (self->connected && self->ping_ms > 0 &&
               now - self->last_rx > self->ping_ms + self->ping_grace_ms) {
        zsys_info ("zflow_centrifugo_source %s: no ping, reconnecting", self->name);
        zflow__centsrc_drop (self, 1000, "no ping", false);
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Commands

static int s_cmd_position (s_source_t *self, const char *name)
{
    s_channel_t *channel = name ? (s_channel_t *) zhashx_lookup (self->channels, name) : NULL;
    if (!channel || !channel->positioned)
        return zsock_send (zflow_actor_pipe (self->base), "i8s", ZFLOW_ENOTFOUND, (uint64_t) 0, "");
    return zsock_send (zflow_actor_pipe (self->base), "i8s", 0, channel->offset, channel->epoch);
}

//  Unsubscribes (when subscribed) and forgets the channel. Returns 0 or
//  ZFLOW_ENOTFOUND.
static int s_cmd_unsubscribe (s_source_t *self, const char *name)
{
    s_channel_t *channel = name ? (s_channel_t *) zhashx_lookup (self->channels, name) : NULL;
    if (!channel)
        return ZFLOW_ENOTFOUND;
    if (channel->state != S_CHAN_IDLE && zflow__ws_conn_is_open (self->conn)) {
        json_t *cmd = json_pack ("{s:I,s:{s:s}}", "id", (json_int_t) self->next_id++, "unsubscribe",
                                 "channel", name);
        char *dump = cmd ? json_dumps (cmd, JSON_COMPACT) : NULL;
        if (dump)
            zflow__ws_conn_send (self->conn, false, dump, strlen (dump));
        free (dump);
        json_decref (cmd);
    }
    zhashx_delete (self->channels, name);
    return 0;
}

//  Takes a subscription token for a channel: refreshes its subscription
//  when that expires, subscribes it when it is not (e.g. refused for want
//  of a token). Returns 0 or ZFLOW_ENOTFOUND.
static int s_cmd_sub_token (s_source_t *self, const char *name, const char *token)
{
    s_channel_t *channel = name ? (s_channel_t *) zhashx_lookup (self->channels, name) : NULL;
    if (!channel)
        return ZFLOW_ENOTFOUND;
    zstr_free (&channel->token);
    channel->token = token && *token ? strdup (token) : NULL;
    channel->needs_token = channel->token != NULL || channel->needs_token;
    if (!self->connected || !channel->token)
        return 0;
    if (channel->state == S_CHAN_SUBSCRIBED && channel->expire_at && !channel->refresh_id)
        zflow__centsrc_send_sub_refresh (self, channel);
    else if (channel->state == S_CHAN_IDLE && !channel->dropped && !channel->server_side) {
        channel->retries = 0;
        channel->retry_at = 0;
        zflow__centsrc_send_subscribe (self, channel);
    }
    return 0;
}

//  Takes a new token: refreshes a connection whose token expires, and
//  restarts a source that gave up.
static void s_cmd_token (s_source_t *self, const char *token)
{
    zstr_free (&self->token);
    self->token = token && *token ? strdup (token) : NULL;
    if (self->connected && self->expire_at && !self->refresh_id)
        zflow__centsrc_send_refresh (self);
    if (self->failed) {
        self->failed = false;
        self->failures = 0;
        self->attempt = 0;
        if (self->started && !self->conn)
            s_connect (self);
    }
}

static int s_on_command (zflow_actor_t *base, const char *command, zmsg_t *request, void *arg)
{
    s_source_t *self = (s_source_t *) arg;
    zsock_t *pipe = zflow_actor_pipe (base);
    char *first = zmsg_popstr (request);
    int rc = 0;
    if (streq (command, "START")) {
        if (!self->started) {
            self->started = true;
            s_connect (self);
        }
    } else if (streq (command, "SUBSCRIBE")) {
        char *offset = zmsg_popstr (request);
        char *epoch = zmsg_popstr (request);
        rc = s_channel_add (self, first, offset ? strtoull (offset, NULL, 10) : 0, epoch);
        zstr_free (&offset);
        zstr_free (&epoch);
    } else if (streq (command, "UNSUBSCRIBE"))
        rc = s_cmd_unsubscribe (self, first);
    else if (streq (command, "TOKEN"))
        s_cmd_token (self, first);
    else if (streq (command, "SUBTOKEN")) {
        char *token = zmsg_popstr (request);
        rc = s_cmd_sub_token (self, first, token);
        zstr_free (&token);
    } else if (streq (command, "POSITION")) {
        s_cmd_position (self, first);
        zstr_free (&first);
        return 0;
    } else {
        zsys_warning ("zflow_centrifugo_source %s: unknown command %s", self->name, command);
        rc = ZFLOW_EINVAL;
    }
    zstr_free (&first);
    zsock_send (pipe, "i", rc);
    return 0;
}

static void s_on_stats (zflow_actor_t *base, zmsg_t *reply, void *arg)
{
    (void) base;
    s_source_t *self = (s_source_t *) arg;
    uint64_t subscribed = 0;
    s_channel_t *channel = (s_channel_t *) zhashx_first (self->channels);
    for (; channel; channel = (s_channel_t *) zhashx_next (self->channels))
        subscribed += channel->state == S_CHAN_SUBSCRIBED;
    zflow_actor_stats_add (reply, "publications", self->publications);
    zflow_actor_stats_add (reply, "recovered", self->recovered);
    zflow_actor_stats_add (reply, "duplicates", self->duplicates);
    zflow_actor_stats_add (reply, "gaps", self->gaps);
    zflow_actor_stats_add (reply, "unrecovered", self->unrecovered);
    zflow_actor_stats_add (reply, "malformed", self->malformed);
    zflow_actor_stats_add (reply, "errors", self->errors);
    zflow_actor_stats_add (reply, "events", self->events);
    zflow_actor_stats_add (reply, "connects", self->connects);
    zflow_actor_stats_add (reply, "attempts", self->attempts);
    zflow_actor_stats_add (reply, "disconnects", self->disconnects);
    zflow_actor_stats_add (reply, "failures", self->failures_total);
    zflow_actor_stats_add (reply, "pings", self->pings);
    zflow_actor_stats_add (reply, "pongs", self->pongs);
    zflow_actor_stats_add (reply, "channels", zhashx_size (self->channels));
    zflow_actor_stats_add (reply, "subscribed", subscribed);
    zflow_actor_stats_add (reply, "unexpected", self->unexpected);
    zflow_actor_stats_add (reply, "refreshes", self->refreshes);
    zflow_actor_stats_add (reply, "sub_refreshes", self->sub_refreshes);
}

//  ---------------------------------------------------------------------
//  The actor

static void s_source_destroy (s_source_t **self_p)
{
    s_source_t *self = *self_p;
    if (!self)
        return;
    zflow__ws_conn_destroy (&self->conn);
    zflow_ws_conn_t *conn;
    while (self->dead && (conn = (zflow_ws_conn_t *) zlist_pop (self->dead)))
        zflow__ws_conn_destroy (&conn);
    zlist_destroy (&self->dead);
    zmsg_t *msg;
    while (self->held && (msg = (zmsg_t *) zlist_pop (self->held)))
        zmsg_destroy (&msg);
    zlist_destroy (&self->held);
    zhashx_destroy (&self->channels);
    zsock_destroy (&self->pub);
    zflow_meta_destroy (&self->meta);
    free (self->url);
    free (self->token);
    free (self->token_secret);
    free (self->token_user);
    free (self->name);
    free (self->key_prefix);
    free (self->event_prefix);
    free (self->endpoint);
    free ((char *) self->conn_config.ca_file);
    zflow_actor_destroy (&self->base);
    free (self);
    *self_p = NULL;
}

static char *s_strdup_or (const char *text, const char *fallback)
{
    return strdup (text && *text ? text : fallback);
}

static int s_int_or (int value, int fallback)
{
    return value > 0 ? value : fallback;
}

//  Copies the configuration. Returns 0, or a zflow error.
static int s_source_configure (s_source_t *self, const zflow_centrifugo_source_config_t *config,
                               const char *endpoint)
{
    if (!config->url || (strncmp (config->url, "ws://", 5) && strncmp (config->url, "wss://", 6)))
        return ZFLOW_ECONFIG;
    self->url = strdup (config->url);
    self->token = config->token && *config->token ? strdup (config->token) : NULL;
    self->name = s_strdup_or (config->name, "zflow");
    self->key_prefix = s_strdup_or (config->key_prefix, "centrifugo");
    self->event_prefix = self->key_prefix ? zsys_sprintf ("%s.event", self->key_prefix) : NULL;
    self->endpoint = strdup (endpoint);
    self->recover = !config->no_recover;
    self->lossless = config->lossless;
    self->backoff_min_ms =
        s_int_or (config->backoff_min_ms, ZFLOW_CENTRIFUGO_SOURCE_BACKOFF_MIN_MS);
    self->backoff_max_ms =
        s_int_or (config->backoff_max_ms, ZFLOW_CENTRIFUGO_SOURCE_BACKOFF_MAX_MS);
    self->max_failures =
        config->max_failures ? config->max_failures : ZFLOW_CENTRIFUGO_SOURCE_MAX_FAILURES;
    self->timeout_ms = s_int_or (config->timeout_ms, ZFLOW_CENTRIFUGO_SOURCE_TIMEOUT_MS);
    self->ping_grace_ms = s_int_or (config->ping_grace_ms, ZFLOW_CENTRIFUGO_SOURCE_PING_GRACE_MS);
    self->token_ttl = s_int_or (config->token_ttl, ZFLOW_CENTRIFUGO_SOURCE_TOKEN_TTL);
    self->token_fn = config->token_fn;
    self->token_arg = config->token_arg;
    if (config->token_secret && *config->token_secret &&
        !(self->token_secret = strdup (config->token_secret)))
        return ZFLOW_ENOMEM;
    if (config->token_user && !(self->token_user = strdup (config->token_user)))
        return ZFLOW_ENOMEM;
    if (!self->url || (config->token && *config->token && !self->token) || !self->name ||
        !self->key_prefix || !self->event_prefix || !self->endpoint)
        return ZFLOW_ENOMEM;
    if (self->backoff_max_ms < self->backoff_min_ms)
        self->backoff_max_ms = self->backoff_min_ms;
    self->conn_config = (zflow_ws_conn_config_t){self->url,
                                                 NULL,
                                                 NULL,
                                                 true,
                                                 config->insecure,
                                                 config->ca_file ? strdup (config->ca_file) : NULL,
                                                 config->max_message,
                                                 self->timeout_ms};
    //  Both key prefixes must be valid key components.
    zflow_key_t *probe = zflow_key_new (self->key_prefix, self->event_prefix, NULL);
    if (!probe)
        return ZFLOW_ECONFIG;
    zflow_key_destroy (&probe);
    char *list = config->channels ? strdup (config->channels) : NULL;
    int rc = 0;
    for (char *save = NULL, *name = list ? strtok_r (list, ",", &save) : NULL; name && !rc;
         name = strtok_r (NULL, ",", &save)) {
        while (*name == ' ')
            name++;
        rc = s_channel_add (self, name, 0, NULL);
    }
    free (list);
    return rc ? ZFLOW_ECONFIG : 0;
}

//  Binds the PUB. Returns 0 or ZFLOW_EENDPOINT.
static int s_source_bind (s_source_t *self, size_t sndhwm)
{
    zsock_set_sndhwm (self->pub, (int) (sndhwm ? sndhwm : ZFLOW_CENTRIFUGO_SOURCE_SNDHWM));
    int nodrop = 1;
    zmq_setsockopt (self->pub_handle, ZMQ_XPUB_NODROP, &nodrop, sizeof (nodrop));
    //  The same inproc name just released may still be held a moment.
    int rc = -1;
    for (int i = 0; i < 50 && rc < 0; i++) {
        rc = zsock_bind (self->pub, "%s", self->endpoint);
        if (rc < 0 && zmq_errno () == EADDRINUSE && strncmp (self->endpoint, "inproc://", 9) == 0)
            zclock_sleep (10);
        else
            break;
    }
    return rc < 0 ? ZFLOW_EENDPOINT : 0;
}

static s_source_t *s_source_new (zsock_t *pipe, s_start_t *start)
{
    s_source_t *self = (s_source_t *) calloc (1, sizeof (s_source_t));
    if (!self) {
        start->err = ZFLOW_ENOMEM;
        return NULL;
    }
    self->reconnect_timer = self->reap_timer = self->watch_timer = self->flush_timer = -1;
    self->next_id = 1;
    self->base = zflow_actor_new (pipe, "zflow_centrifugo_source");
    self->channels = zhashx_new ();
    self->dead = zlist_new ();
    self->held = zlist_new ();
    self->meta = zflow_meta_new ();
    self->pub = zsock_new (ZMQ_PUB);
    if (!self->base || !self->channels || !self->dead || !self->held || !self->meta || !self->pub) {
        start->err = ZFLOW_ENOMEM;
        s_source_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->channels, (zhashx_destructor_fn *) zflow__centsrc_channel_destroy);
    self->pub_handle = zsock_resolve (self->pub);
    self->counters = zflow_actor_counters (self->base);
    self->loop = zflow_actor_loop (self->base);
    start->err = s_source_configure (self, start->config, start->endpoint);
    if (!start->err)
        start->err = s_source_bind (self, start->config->sndhwm);
    if (start->err) {
        s_source_destroy (&self);
        return NULL;
    }
    zflow_actor_set_command_handler (self->base, s_on_command, self);
    zflow_actor_set_stats_handler (self->base, s_on_stats, self);
    self->watch_timer = zloop_timer (self->loop, S_WATCH_MS, 0, s_on_watch, self);
    return self;
}

static void s_source_actor (zsock_t *pipe, void *arg)
{
    s_start_t *start = (s_start_t *) arg;
    s_source_t *self = s_source_new (pipe, start);
    if (!self) {
        zsock_signal (pipe, 0); //  as zflow_actor_ready (base, -1) would
        zsock_signal (pipe, 1);
        return;
    }
    bool manual = start->config->manual_start;
    zflow_actor_ready (self->base, 0);
    if (!manual) {
        self->started = true;
        s_connect (self);
    }
    zflow_actor_run (self->base);
    s_source_destroy (&self);
}

//  ---------------------------------------------------------------------
//  The public object

void zflow_centrifugo_source_config_init (zflow_centrifugo_source_config_t *config)
{
    if (!config)
        return;
    memset (config, 0, sizeof (*config));
    config->name = "zflow";
    config->key_prefix = "centrifugo";
    config->backoff_min_ms = ZFLOW_CENTRIFUGO_SOURCE_BACKOFF_MIN_MS;
    config->backoff_max_ms = ZFLOW_CENTRIFUGO_SOURCE_BACKOFF_MAX_MS;
    config->max_failures = ZFLOW_CENTRIFUGO_SOURCE_MAX_FAILURES;
    config->timeout_ms = ZFLOW_CENTRIFUGO_SOURCE_TIMEOUT_MS;
    config->ping_grace_ms = ZFLOW_CENTRIFUGO_SOURCE_PING_GRACE_MS;
    config->sndhwm = ZFLOW_CENTRIFUGO_SOURCE_SNDHWM;
    config->token_ttl = ZFLOW_CENTRIFUGO_SOURCE_TOKEN_TTL;
}

zflow_centrifugo_source_t *
zflow_centrifugo_source_new (const zflow_centrifugo_source_config_t *config, int *err_p)
{
    int err = ZFLOW_EINVAL;
    zflow_centrifugo_source_t *self = NULL;
    if (config) {
        self = (zflow_centrifugo_source_t *) calloc (1, sizeof (*self));
        err = ZFLOW_ENOMEM;
    }
    if (self) {
        self->endpoint =
            config->endpoint && *config->endpoint
                ? strdup (config->endpoint)
                : zsys_sprintf ("inproc://zflow-centrifugo-%s",
                                config->name && *config->name ? config->name : "zflow");
        s_start_t start = {config, self->endpoint, ZFLOW_ENOMEM};
        if (self->endpoint)
            self->actor = zflow_actor_start (s_source_actor, &start);
        err = start.err;
        if (!self->actor)
            zflow_centrifugo_source_destroy (&self);
    }
    if (err_p)
        *err_p = self ? 0 : err;
    return self;
}

void zflow_centrifugo_source_destroy (zflow_centrifugo_source_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_centrifugo_source_t *self = *self_p;
    zactor_destroy (&self->actor);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

const char *zflow_centrifugo_source_endpoint (zflow_centrifugo_source_t *self)
{
    return self ? self->endpoint : NULL;
}

zactor_t *zflow_centrifugo_source_actor (zflow_centrifugo_source_t *self)
{
    return self ? self->actor : NULL;
}

//  Sends a command and waits for its status. Returns it or ZFLOW_ECLOSED.
static int s_call (zflow_centrifugo_source_t *self, const char *command, const char *a1,
                   const char *a2, const char *a3)
{
    if (!self || !self->actor)
        return ZFLOW_ECLOSED;
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, command);
    const char *args[3] = {a1, a2, a3};
    for (int i = 0; i < 3 && args[i]; i++)
        zmsg_addstr (msg, args[i]);
    if (zmsg_send (&msg, self->actor)) {
        zmsg_destroy (&msg);
        return ZFLOW_ECLOSED;
    }
    int rc = ZFLOW_ECLOSED;
    if (zsock_recv (self->actor, "i", &rc))
        return ZFLOW_ECLOSED;
    return rc;
}

int zflow_centrifugo_source_start (zflow_centrifugo_source_t *self)
{
    return s_call (self, "START", NULL, NULL, NULL);
}

int zflow_centrifugo_source_subscribe (zflow_centrifugo_source_t *self, const char *channel,
                                       uint64_t offset, const char *epoch)
{
    if (!channel || !*channel)
        return ZFLOW_EINVAL;
    char number[24];
    snprintf (number, sizeof (number), "%" PRIu64, offset);
    return s_call (self, "SUBSCRIBE", channel, number, epoch ? epoch : "");
}

int zflow_centrifugo_source_unsubscribe (zflow_centrifugo_source_t *self, const char *channel)
{
    if (!channel)
        return ZFLOW_ENOTFOUND;
    return s_call (self, "UNSUBSCRIBE", channel, NULL, NULL);
}

int zflow_centrifugo_source_set_token (zflow_centrifugo_source_t *self, const char *token)
{
    return s_call (self, "TOKEN", token ? token : "", NULL, NULL);
}

int zflow_centrifugo_source_set_sub_token (zflow_centrifugo_source_t *self, const char *channel,
                                           const char *token)
{
    if (!channel)
        return ZFLOW_ENOTFOUND;
    return s_call (self, "SUBTOKEN", channel, token ? token : "", NULL);
}

int zflow_centrifugo_source_position (zflow_centrifugo_source_t *self, const char *channel,
                                      uint64_t *offset_p, char *epoch, size_t epoch_size)
{
    if (!self || !self->actor)
        return ZFLOW_ECLOSED;
    if (!channel)
        return ZFLOW_ENOTFOUND;
    if (zstr_sendm (self->actor, "POSITION") || zstr_send (self->actor, channel))
        return ZFLOW_ECLOSED;
    int rc = ZFLOW_ECLOSED;
    uint64_t offset = 0;
    char *text = NULL;
    if (zsock_recv (self->actor, "i8s", &rc, &offset, &text))
        return ZFLOW_ECLOSED;
    if (rc == 0) {
        if (offset_p)
            *offset_p = offset;
        if (epoch && epoch_size)
            snprintf (epoch, epoch_size, "%s", text ? text : "");
    }
    zstr_free (&text);
    return rc;
}

zhash_t *zflow_centrifugo_source_stats (zflow_centrifugo_source_t *self, int timeout_ms)
{
    return self && self->actor ? zflow_actor_stats (self->actor, timeout_ms) : NULL;
}

void zflow_centrifugo_source_set_verbose (zflow_centrifugo_source_t *self, bool verbose)
{
    if (self)
        zflow_actor_set_verbose (self->actor, verbose);
}
