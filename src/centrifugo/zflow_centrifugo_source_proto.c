/*  =========================================================================
    zflow_centrifugo_source_proto - the Centrifugo client protocol (JSON,
    v2) for the source actor: commands out, replies and pushes in,
    envelopes and events out

    Centrifugo's JSON encoder leaves out fields at their zero value, so a
    missing "offset" is 0 and a missing "recovered" is false.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_centrifugo_source_internal.h"
#include <inttypes.h>
#include <string.h>

//  Largest key we build for events: prefix, separator, type.
#define S_EVENT_KEY_MAX (ZFLOW_KEY_MAX_PART * 2 + 2)

//  ---------------------------------------------------------------------
//  Out: envelopes, events, commands

int zflow__centsrc_pub_send (s_source_t *self, const void *key, size_t key_size, const void *meta,
                             size_t meta_size, const void *payload, size_t size)
{
    if (zmq_send (self->pub_handle, key, key_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    zmq_send (self->pub_handle, meta, meta_size, ZMQ_SNDMORE);
    zmq_send (self->pub_handle, payload, size, 0);
    self->counters->msgs_out++;
    self->counters->bytes_out += size;
    return 0;
}

//  Sends one envelope on the PUB without blocking. When a subscriber is at
//  its watermark the PUB refuses (XPUB_NODROP): the envelope is dropped and
//  counted, or in lossless mode held, in order, while reading pauses.
//  Returns 0 or -1 (dropped).
static int s_send_envelope (s_source_t *self, const void *key, size_t key_size, const char *payload,
                            size_t size)
{
    uint8_t meta_wire[ZFLOW_META_MAX_WIRE];
    int meta_size = zflow_meta_encode (self->meta, meta_wire, sizeof (meta_wire));
    if (meta_size < 0) {
        self->counters->drops++;
        return -1;
    }
    if (zlist_size (self->held) == 0 &&
        zflow__centsrc_pub_send (self, key, key_size, meta_wire, (size_t) meta_size, payload,
                                 size) == 0)
        return 0;
    zmsg_t *held = self->lossless ? zmsg_new () : NULL;
    if (!held) {
        self->counters->drops++;
        return -1;
    }
    zmsg_addmem (held, key, key_size);
    zmsg_addmem (held, meta_wire, (size_t) meta_size);
    zmsg_addmem (held, payload, size);
    zlist_append (self->held, held);
    zflow__centsrc_hold (self);
    return 0;
}

void zflow__centsrc_event (s_source_t *self, const char *type, json_t *details)
{
    json_t *event = details ? details : json_object ();
    if (!event)
        return;
    json_object_set_new (event, "type", json_string (type));
    char *text = json_dumps (event, JSON_COMPACT);
    json_decref (event);
    char key[S_EVENT_KEY_MAX];
    int key_size = snprintf (key, sizeof (key), "%s%c%s", self->event_prefix, ZFLOW_KEY_SEP, type);
    if (text && key_size > 0 && (size_t) key_size < sizeof (key)) {
        zflow_meta_reset (self->meta);
        zflow_meta_set_source (self->meta, self->name);
        zflow_meta_stamp (self->meta);
        zflow_meta_set_content_type (self->meta, "application/json");
        if (zflow__centsrc_verbose (self))
            zsys_debug ("zflow_centrifugo_source %s: event %s", self->name, text);
        if (s_send_envelope (self, key, (size_t) key_size, text, strlen (text)) == 0)
            self->events++;
    }
    free (text);
}

//  Sends a command (takes the reference); a secret one (with the token) is
//  not traced. Returns 0 or -1.
static int s_send_command (s_source_t *self, json_t *command, bool secret)
{
    char *text = command ? json_dumps (command, JSON_COMPACT) : NULL;
    json_decref (command);
    //  A failed write may have closed the connection under us.
    if (!zflow__ws_conn_is_open (self->conn)) {
        free (text);
        return -1;
    }
    int rc = text ? zflow__ws_conn_send (self->conn, false, text, strlen (text)) : ZFLOW_ENOMEM;
    if (rc == 0 && self->reply_deadline == 0)
        self->reply_deadline = zclock_mono () + self->timeout_ms;
    if (zflow__centsrc_verbose (self) && text)
        zsys_debug ("zflow_centrifugo_source %s: >> %s", self->name,
                    secret ? "(connect, token not shown)" : text);
    free (text);
    return rc == 0 ? 0 : -1;
}

//  The connect request's "subs": recovery positions of the server-side
//  subscriptions we had, so the server can fill their holes too.
static json_t *s_connect_subs (s_source_t *self)
{
    json_t *subs = json_object ();
    s_channel_t *channel = (s_channel_t *) zhashx_first (self->channels);
    for (; channel && subs; channel = (s_channel_t *) zhashx_next (self->channels)) {
        channel->recovering =
            channel->server_side && self->recover && channel->positioned && channel->epoch;
        if (channel->recovering)
            json_object_set_new (subs, channel->name,
                                 json_pack ("{s:b,s:I,s:s}", "recover", 1, "offset",
                                            (json_int_t) channel->offset, "epoch", channel->epoch));
    }
    return subs;
}

int zflow__centsrc_send_connect (s_source_t *self)
{
    //  The provider makes a fresh token for every connect (the last one
    //  may have expired while away); kept for the "sub" claim of the
    //  subscription tokens. Without one the given token is used.
    char *token = zflow__centsrc_make_token (self, NULL);
    if (token) {
        free (self->token);
        self->token = token;
    }
    json_t *params = json_pack ("{s:s}", "name", self->name);
    if (params && self->token)
        json_object_set_new (params, "token", json_string (self->token));
    json_t *subs = s_connect_subs (self);
    if (params && json_object_size (subs) > 0)
        json_object_set (params, "subs", subs);
    json_decref (subs);
    self->connect_id = self->next_id++;
    return s_send_command (
        self, json_pack ("{s:I,s:o}", "id", (json_int_t) self->connect_id, "connect", params),
        true);
}

int zflow__centsrc_send_refresh (s_source_t *self)
{
    if (!self->token)
        return -1;
    self->refresh_id = self->next_id++;
    self->refresh_at = 0;
    return s_send_command (self,
                           json_pack ("{s:I,s:{s:s}}", "id", (json_int_t) self->refresh_id,
                                      "refresh", "token", self->token),
                           true);
}

int zflow__centsrc_send_sub_refresh (s_source_t *self, s_channel_t *channel)
{
    char *token = zflow__centsrc_sub_token (self, channel);
    channel->refresh_at = 0;
    if (!token)
        return -1;
    channel->refresh_id = self->next_id++;
    json_t *command = json_pack ("{s:I,s:{s:s,s:s}}", "id", (json_int_t) channel->refresh_id,
                                 "sub_refresh", "channel", channel->name, "token", token);
    free (token);
    return s_send_command (self, command, true);
}

int zflow__centsrc_send_subscribe (s_source_t *self, s_channel_t *channel)
{
    json_t *params = json_pack ("{s:s}", "channel", channel->name);
    //  A channel the server refused without a token gets one (fresh each
    //  time: the last may have expired).
    char *token = channel->needs_token ? zflow__centsrc_sub_token (self, channel) : NULL;
    channel->sent_token = token != NULL;
    if (params && token)
        json_object_set_new (params, "token", json_string (token));
    free (token);
    channel->recovering = self->recover && channel->positioned && channel->epoch;
    //  A real server recovers an allow_recovery channel only for a
    //  subscription that asked to be recoverable (and positioned) from the
    //  start: without it "recover" alone is answered with no publications.
    if (params && self->recover) {
        json_object_set_new (params, "recoverable", json_true ());
        json_object_set_new (params, "positioned", json_true ());
    }
    if (params && channel->recovering) {
        json_object_set_new (params, "recover", json_true ());
        json_object_set_new (params, "offset", json_integer ((json_int_t) channel->offset));
        json_object_set_new (params, "epoch", json_string (channel->epoch));
    }
    channel->cmd_id = self->next_id++;
    channel->state = S_CHAN_SUBSCRIBING;
    return s_send_command (
        self, json_pack ("{s:I,s:o}", "id", (json_int_t) channel->cmd_id, "subscribe", params),
        channel->sent_token);
}

//  ---------------------------------------------------------------------
//  In: publications

static uint64_t s_offset (json_t *object)
{
    json_t *offset = json_object_get (object, "offset");
    return json_is_integer (offset) && json_integer_value (offset) > 0
               ? (uint64_t) json_integer_value (offset)
               : 0;
}

//  Publishes one publication of channel, dropping duplicates and noting
//  gaps when the channel has offsets. Returns 0, or -1 when dropped.
static int s_deliver (s_source_t *self, s_channel_t *channel, json_t *pub, bool recovered)
{
    uint64_t offset = s_offset (pub);
    if (channel->recoverable && channel->positioned && offset > 0) {
        if (offset <= channel->offset) {
            self->duplicates++;
            return -1;
        }
        if (offset > channel->offset + 1) {
            self->gaps++;
            zflow__centsrc_event (self, "gap",
                                  json_pack ("{s:s,s:I,s:I}", "channel", channel->name, "expected",
                                             (json_int_t) (channel->offset + 1), "offset",
                                             (json_int_t) offset));
        }
    }
    json_t *data = json_object_get (pub, "data");
    char *text = data ? json_dumps (data, JSON_COMPACT | JSON_ENCODE_ANY) : strdup ("null");
    if (!text) {
        self->counters->drops++;
        return -1;
    }
    zflow_meta_reset (self->meta);
    zflow_meta_set_source (self->meta, self->name);
    zflow_meta_set_seq (self->meta, offset);
    zflow_meta_stamp (self->meta);
    zflow_meta_set_content_type (self->meta, "application/json");
    if (channel->epoch && offset > 0)
        zflow_meta_set (self->meta, "epoch", channel->epoch);
    size_t key_size;
    const void *key = zflow_key_wire (channel->key, &key_size);
    if (offset > 0 && channel->recoverable) {
        channel->offset = offset;
        channel->positioned = channel->epoch != NULL;
    }
    int rc = s_send_envelope (self, key, key_size, text, strlen (text));
    free (text);
    if (rc == 0) {
        self->publications++;
        if (recovered)
            self->recovered++;
    }
    return rc;
}

//  ---------------------------------------------------------------------
//  In: replies

static s_channel_t *s_channel_by_id (s_source_t *self, uint32_t id)
{
    s_channel_t *channel = (s_channel_t *) zhashx_first (self->channels);
    while (channel && !(channel->state == S_CHAN_SUBSCRIBING && channel->cmd_id == id))
        channel = (s_channel_t *) zhashx_next (self->channels);
    return channel;
}

static s_channel_t *s_channel_by_refresh_id (s_source_t *self, uint32_t id)
{
    s_channel_t *channel = (s_channel_t *) zhashx_first (self->channels);
    while (channel && !(id && channel->refresh_id == id))
        channel = (s_channel_t *) zhashx_next (self->channels);
    return channel;
}

static bool s_awaiting (s_source_t *self)
{
    if (self->connect_id || self->refresh_id)
        return true;
    s_channel_t *channel = (s_channel_t *) zhashx_first (self->channels);
    for (; channel; channel = (s_channel_t *) zhashx_next (self->channels))
        if (channel->state == S_CHAN_SUBSCRIBING || channel->refresh_id)
            return true;
    return false;
}

//  A subscribe or sub_refresh result: when the subscription token expires,
//  plan its sub_refresh at three quarters of its time to live.
static void s_set_sub_expiry (s_channel_t *channel, json_t *result)
{
    json_t *ttl = json_object_get (result, "ttl");
    int64_t ttl_ms = json_is_integer (ttl) ? json_integer_value (ttl) * 1000 : 0;
    bool expires = json_is_true (json_object_get (result, "expires")) && ttl_ms > 0;
    int64_t now = zclock_mono ();
    channel->expire_at = expires ? now + ttl_ms : 0;
    channel->refresh_at = expires ? now + ttl_ms * 3 / 4 : 0;
}

static void s_on_subscribe_reply (s_source_t *self, s_channel_t *channel, json_t *result);

//  The channel of a server-side subscription, made when new. Returns it,
//  or NULL when its name cannot be a key component (counted).
static s_channel_t *s_server_channel (s_source_t *self, const char *name)
{
    s_channel_t *channel = (s_channel_t *) zhashx_lookup (self->channels, name);
    if (!channel) {
        channel = zflow__centsrc_channel_new (self, name);
        if (!channel) {
            self->unexpected++;
            return NULL;
        }
        zhashx_insert (self->channels, name, channel);
    }
    channel->server_side = true;
    channel->dropped = false;
    return channel;
}

//  A connect or refresh result: when the token expires, plan to ask for a
//  new one at three quarters of its time to live.
static void s_set_expiry (s_source_t *self, json_t *result)
{
    json_t *ttl = json_object_get (result, "ttl");
    int64_t ttl_ms = json_is_integer (ttl) ? json_integer_value (ttl) * 1000 : 0;
    bool expires = json_is_true (json_object_get (result, "expires")) && ttl_ms > 0;
    int64_t now = zclock_mono ();
    self->expire_at = expires ? now + ttl_ms : 0;
    self->refresh_at = expires ? now + ttl_ms * 3 / 4 : 0;
}

static void s_on_connect_reply (s_source_t *self, json_t *result)
{
    self->connect_id = 0;
    self->connected = true;
    self->attempt = 0;
    self->failures = 0;
    json_t *ping = json_object_get (result, "ping");
    self->ping_ms = json_is_integer (ping) ? json_integer_value (ping) * 1000 : 0;
    self->pong = json_is_true (json_object_get (result, "pong"));
    s_set_expiry (self, result);
    self->connects++;
    json_t *client = json_object_get (result, "client");
    json_t *version = json_object_get (result, "version");
    zflow__centsrc_event (
        self, "connected",
        json_pack ("{s:s,s:s}", "client", json_is_string (client) ? json_string_value (client) : "",
                   "version", json_is_string (version) ? json_string_value (version) : ""));
    //  Server-side subscriptions come with the reply, as subscribe results.
    json_t *subs = json_object_get (result, "subs");
    const char *name;
    json_t *sub;
    json_object_foreach (subs, name, sub)
    {
        s_channel_t *channel = s_server_channel (self, name);
        if (channel && json_is_object (sub))
            s_on_subscribe_reply (self, channel, sub);
    }
    s_channel_t *channel = (s_channel_t *) zhashx_first (self->channels);
    for (; channel; channel = (s_channel_t *) zhashx_next (self->channels))
        if (!channel->server_side && !channel->dropped &&
            zflow__centsrc_send_subscribe (self, channel))
            break;
}

//  Takes the subscribe reply's position; publishes the recovered
//  publications when the server filled the hole.
static void s_on_subscribe_reply (s_source_t *self, s_channel_t *channel, json_t *result)
{
    channel->state = S_CHAN_SUBSCRIBED;
    channel->cmd_id = 0;
    channel->retries = 0;
    channel->refresh_id = 0;
    s_set_sub_expiry (channel, result);
    bool was_recovering = channel->recovering;
    bool recovered = json_is_true (json_object_get (result, "recovered"));
    json_t *epoch = json_object_get (result, "epoch");
    json_t *pubs = json_object_get (result, "publications");
    size_t count = json_is_array (pubs) ? json_array_size (pubs) : 0;
    channel->recoverable =
        json_is_true (json_object_get (result, "recoverable")) && json_is_string (epoch);
    if (!channel->recoverable) {
        channel->positioned = false;
        zstr_free (&channel->epoch);
    } else if (was_recovering && recovered && streq (json_string_value (epoch), channel->epoch)) {
        for (size_t index = 0; index < count; index++)
            s_deliver (self, channel, json_array_get (pubs, index), true);
    } else {
        //  A new stream, or one the server cannot recover: start at its top.
        if (was_recovering)
            self->unrecovered++;
        zstr_free (&channel->epoch);
        channel->epoch = strdup (json_string_value (epoch));
        channel->offset = s_offset (result);
        channel->positioned = channel->epoch != NULL;
    }
    zflow__centsrc_event (
        self, "subscribed",
        json_pack ("{s:s,s:b,s:b,s:b,s:s,s:I,s:I}", "channel", channel->name, "recoverable",
                   channel->recoverable, "recovered", recovered, "was_recovering", was_recovering,
                   "epoch", channel->epoch ? channel->epoch : "", "offset",
                   (json_int_t) s_offset (result), "publications", (json_int_t) count));
}

//  Unsubscribes channel and subscribes it again (with a fresh token).
static void s_resubscribe (s_source_t *self, s_channel_t *channel)
{
    channel->needs_token = channel->needs_token || zflow__centsrc_has_provider (self);
    json_t *cmd = json_pack ("{s:I,s:{s:s}}", "id", (json_int_t) self->next_id++, "unsubscribe",
                             "channel", channel->name);
    //  The unsubscribe reply is not awaited: the subscribe after it is.
    char *dump = cmd ? json_dumps (cmd, JSON_COMPACT) : NULL;
    json_decref (cmd);
    if (dump && zflow__ws_conn_is_open (self->conn))
        zflow__ws_conn_send (self->conn, false, dump, strlen (dump));
    free (dump);
    channel->state = S_CHAN_IDLE;
    channel->refresh_at = channel->expire_at = 0;
    zflow__centsrc_send_subscribe (self, channel);
}

//  An error reply: reported; a refused connect closes the connection.
static void s_on_error_reply (s_source_t *self, uint32_t id, json_t *error)
{
    self->errors++;
    json_t *code = json_object_get (error, "code");
    json_t *message = json_object_get (error, "message");
    json_t *event =
        json_pack ("{s:I,s:s}", "code", json_is_integer (code) ? json_integer_value (code) : 0,
                   "message", json_is_string (message) ? json_string_value (message) : "");
    json_int_t value = json_integer_value (code);
    //  Temporary errors (100 internal, 111 too many requests, or marked
    //  "temporary") are retried with backoff; others are final.
    bool temporary =
        json_is_true (json_object_get (error, "temporary")) || value == 100 || value == 111;
    if (id && id == self->connect_id) {
        self->connect_id = 0;
        //  109 with a token provider: a fresh token may do (once in a row).
        if (value == 109 && zflow__centsrc_has_provider (self) && self->failures == 0) {
            zstr_free (&self->token);
            temporary = true;
        }
        json_object_set_new (event, "op", json_string ("connect"));
        json_object_set_new (event, "temporary", json_boolean (temporary));
        zflow__centsrc_event (self, "error", event);
        //  A permanent refusal (101 unauthorized, 103 permission denied,
        //  109 token expired, ...) stops the source at once: retrying with
        //  the same token cannot help. set_token restarts it.
        self->terminal = !temporary;
        self->term_code = (int) value;
        snprintf (self->term_reason, sizeof (self->term_reason), "%s",
                  json_is_string (message) ? json_string_value (message) : "");
        zflow__centsrc_drop (self, 1000, "connect refused", true);
        return;
    }
    if (id && id == self->refresh_id) {
        self->refresh_id = 0;
        json_object_set_new (event, "op", json_string ("refresh"));
        zflow__centsrc_event (self, "error", event);
        return;
    }
    s_channel_t *channel = s_channel_by_refresh_id (self, id);
    if (channel) {
        //  The subscription stays; a new subscription with a fresh token
        //  replaces one whose token the server would not refresh.
        channel->refresh_id = 0;
        json_object_set_new (event, "op", json_string ("sub_refresh"));
        json_object_set_new (event, "channel", json_string (channel->name));
        json_object_set_new (event, "temporary", json_true ());
        zflow__centsrc_event (self, "error", event);
        s_resubscribe (self, channel);
        return;
    }
    channel = s_channel_by_id (self, id);
    if (channel) {
        channel->state = S_CHAN_IDLE;
        channel->cmd_id = 0;
        json_object_set_new (event, "op", json_string ("subscribe"));
        json_object_set_new (event, "channel", json_string (channel->name));
        bool provider = zflow__centsrc_has_provider (self);
        //  103 without a token: again at once with one, when there is a
        //  provider or a token given; 109 (the token expired): again with
        //  a fresh one from the provider (a given token would not be).
        bool with_token = channel->retries < 3 &&
                          ((value == 103 && !channel->sent_token && (provider || channel->token)) ||
                           (value == 109 && provider));
        if (with_token) {
            channel->needs_token = true;
            temporary = true;
            channel->retry_at = zclock_mono ();
            channel->retries++;
        } else if (temporary)
            channel->retry_at = zclock_mono () + zflow__centsrc_backoff (self, ++channel->retries);
        if (value == 103 && !provider && !channel->token)
            json_object_set_new (event, "hint",
                                 json_string ("the channel may need a subscription token "
                                              "(token_secret, a token callback or "
                                              "set_sub_token)"));
        json_object_set_new (event, "temporary", json_boolean (temporary));
    }
    zflow__centsrc_event (self, "error", event);
}

static void s_on_reply (s_source_t *self, uint32_t id, json_t *reply)
{
    json_t *error = json_object_get (reply, "error");
    s_channel_t *refreshed = NULL;
    if (json_is_object (error))
        s_on_error_reply (self, id, error);
    else if (id == self->connect_id && json_is_object (json_object_get (reply, "connect")))
        s_on_connect_reply (self, json_object_get (reply, "connect"));
    else if (id == self->refresh_id && json_is_object (json_object_get (reply, "refresh"))) {
        self->refresh_id = 0;
        self->refreshes++;
        s_set_expiry (self, json_object_get (reply, "refresh"));
    } else if (json_is_object (json_object_get (reply, "sub_refresh")) &&
               (refreshed = s_channel_by_refresh_id (self, id))) {
        refreshed->refresh_id = 0;
        self->sub_refreshes++;
        s_set_sub_expiry (refreshed, json_object_get (reply, "sub_refresh"));
    } else if (json_is_object (json_object_get (reply, "subscribe"))) {
        s_channel_t *channel = s_channel_by_id (self, id);
        if (channel)
            s_on_subscribe_reply (self, channel, json_object_get (reply, "subscribe"));
    }
    self->reply_deadline = s_awaiting (self) ? zclock_mono () + self->timeout_ms : 0;
}

//  ---------------------------------------------------------------------
//  In: pushes

static void s_on_unsubscribe_push (s_source_t *self, s_channel_t *channel, json_t *unsub)
{
    json_t *code = json_object_get (unsub, "code");
    json_t *reason = json_object_get (unsub, "reason");
    json_int_t value = json_is_integer (code) ? json_integer_value (code) : 0;
    channel->state = S_CHAN_IDLE;
    zflow__centsrc_event (self, "unsubscribed",
                          json_pack ("{s:s,s:I,s:s}", "channel", channel->name, "code", value,
                                     "reason",
                                     json_is_string (reason) ? json_string_value (reason) : ""));
    //  Codes from 2500 on ask the client to subscribe again (its own
    //  subscriptions; the server renews server-side ones). Below 2500 (2000
    //  "server unsubscribe") the server removed it for good: a reconnect
    //  must not undo that.
    channel->dropped = value < 2500;
    if (value >= 2500 && self->connected && !channel->server_side)
        zflow__centsrc_send_subscribe (self, channel);
}

static void s_on_push (s_source_t *self, json_t *push)
{
    json_t *disconnect = json_object_get (push, "disconnect");
    if (json_is_object (disconnect)) {
        json_t *code = json_object_get (disconnect, "code");
        json_t *reason = json_object_get (disconnect, "reason");
        self->disc_code = json_is_integer (code) ? (int) json_integer_value (code) : 0;
        snprintf (self->disc_reason, sizeof (self->disc_reason), "%s",
                  json_is_string (reason) ? json_string_value (reason) : "");
        zflow__centsrc_drop (self, 1000, "disconnect push", false);
        return;
    }
    json_t *name = json_object_get (push, "channel");
    s_channel_t *channel =
        json_is_string (name)
            ? (s_channel_t *) zhashx_lookup (self->channels, json_string_value (name))
            : NULL;
    json_t *pub = json_object_get (push, "pub");
    json_t *unsub = json_object_get (push, "unsubscribe");
    json_t *sub = json_object_get (push, "subscribe");
    if (json_is_object (sub) && json_is_string (name)) {
        //  A server-side subscription made while connected.
        channel = s_server_channel (self, json_string_value (name));
        if (channel) {
            channel->recovering = false;
            s_on_subscribe_reply (self, channel, sub);
        }
    } else if (json_is_object (pub)) {
        if (channel && channel->state == S_CHAN_SUBSCRIBED)
            s_deliver (self, channel, pub, false);
        else
            self->unexpected++;
    } else if (json_is_object (unsub) && channel)
        s_on_unsubscribe_push (self, channel, unsub);
    //  join, leave, message, refresh pushes: nothing to bridge.
}

//  ---------------------------------------------------------------------
//  In: one message, one or more JSON objects separated by newlines

static void s_malformed (s_source_t *self, size_t size, const char *why)
{
    self->malformed++;
    zflow__centsrc_event (self, "malformed",
                          json_pack ("{s:I,s:s}", "size", (json_int_t) size, "error", why));
}

static void s_on_object (s_source_t *self, const char *text, size_t size)
{
    json_error_t error;
    json_t *object = json_loadb (text, size, 0, &error);
    if (!json_is_object (object)) {
        s_malformed (self, size, object ? "not a JSON object" : error.text);
        json_decref (object);
        return;
    }
    json_t *id = json_object_get (object, "id");
    json_t *push = json_object_get (object, "push");
    if (json_object_size (object) == 0) {
        //  A ping: answer with a pong when the server asked for pongs.
        self->pings++;
        if (self->pong && zflow__ws_conn_is_open (self->conn) &&
            zflow__ws_conn_send (self->conn, false, "{}", 2) == 0)
            self->pongs++;
    } else if (json_is_integer (id) && json_integer_value (id) > 0)
        s_on_reply (self, (uint32_t) json_integer_value (id), object);
    else if (json_is_object (push))
        s_on_push (self, push);
    else
        s_malformed (self, size, "neither a reply nor a push");
    json_decref (object);
}

void zflow__centsrc_on_message (s_source_t *self, const uint8_t *data, size_t size)
{
    self->counters->msgs_in++;
    self->counters->bytes_in += size;
    self->last_rx = zclock_mono ();
    if (zflow__centsrc_verbose (self))
        zsys_debug ("zflow_centrifugo_source %s: << %.*s", self->name,
                    (int) (size > 300 ? 300 : size), (const char *) data);
    const char *text = (const char *) data;
    const char *end = text + size;
    while (text < end && zflow__ws_conn_is_open (self->conn)) {
        const char *newline = memchr (text, '\n', (size_t) (end - text));
        const char *stop = newline ? newline : end;
        if (stop > text)
            s_on_object (self, text, (size_t) (stop - text));
        text = stop + 1;
    }
}
