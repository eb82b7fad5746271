/*  =========================================================================
    zflow_ws_actor - the feed actor: connections, reconnects, sends, commands

    One zloop: the pipe (commands), the send PAIR (outgoing data), the
    connections' sockets, and timers for reconnect, rotation, pings and
    the send rate. No thread per connection, no busy polling.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_ws_actor.h"

struct _zflow_ws_out_t {
    zflow_ws_conn_t *conn; //  the connection being set up, or that delivered the message
};

static void s_connect (zflow_ws_self_t *self, bool rotation);
static void s_flush_sends (zflow_ws_self_t *self);

//  ---------------------------------------------------------------------
//  Small helpers

//  True when connections and reconnects are logged: the VERBOSE command of
//  every zflow actor (zflow_ws_set_verbose sends it).
static bool s_verbose (zflow_ws_self_t *self)
{
    return zflow_actor_verbose (self->base);
}

static void s_timer_stop (zflow_ws_self_t *self, int *timer)
{
    if (*timer >= 0)
        zloop_timer_end (self->loop, *timer);
    *timer = -1;
}

int zflow_ws_out_send (zflow_ws_out_t *out, const void *data, size_t size, bool binary)
{
    if (!out || (!data && size))
        return ZFLOW_EINVAL;
    return zflow__ws_conn_send (out->conn, binary, data, size);
}

void zflow__ws_set_paused (zflow_ws_self_t *self, bool paused)
{
    if (paused && !self->paused)
        self->stats.pauses++;
    self->paused = paused;
    if (self->conn)
        zflow__ws_conn_pause (self->conn, paused);
    if (self->next)
        zflow__ws_conn_pause (self->next, paused);
}

//  The delay before the next attempt: doubling backoff with jitter, and
//  never sooner than the connection-attempt rate limit allows.
static int s_next_delay (zflow_ws_self_t *self)
{
    zflow_ws_config_t *config = self->config;
    int64_t delay = config->backoff_initial_ms;
    for (int i = 0; i < self->attempt && delay < config->backoff_max_ms; i++)
        delay *= 2;
    if (delay > config->backoff_max_ms)
        delay = config->backoff_max_ms;
    delay = delay / 2 + randof ((int) (delay / 2) + 1);
    int64_t earliest = self->last_attempt + config->connect_interval_ms - zclock_mono ();
    if (config->connect_interval_ms && earliest > delay)
        delay = earliest;
    return (int) (delay > 0 ? delay : 1);
}

static int s_on_reconnect_timer (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    zflow_ws_self_t *self = (zflow_ws_self_t *) arg;
    self->reconnect_timer = -1;
    bool rotation = self->rotate_pending;
    self->rotate_pending = false;
    if (rotation)
        zflow__ws_rotate (self);
    else if (!self->conn && !self->exiting)
        s_connect (self, false);
    return 0;
}

static void s_schedule (zflow_ws_self_t *self, bool rotation)
{
    if (self->exiting || self->reconnect_timer >= 0)
        return;
    int delay = s_next_delay (self);
    self->rotate_pending = rotation;
    self->reconnect_timer = zloop_timer (self->loop, (size_t) delay, 1, s_on_reconnect_timer, self);
    if (s_verbose (self))
        zsys_debug ("zflow_ws %s: %s in %d ms", self->name, rotation ? "rotation" : "reconnect",
                    delay);
}

static int s_on_reap (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    zflow_ws_self_t *self = (zflow_ws_self_t *) arg;
    self->reap_timer = -1;
    zflow_ws_conn_t *conn;
    while ((conn = (zflow_ws_conn_t *) zlist_pop (self->dead)))
        zflow__ws_conn_destroy (&conn);
    return 0;
}

//  ---------------------------------------------------------------------
//  Exit

static void s_exit_finish (zflow_ws_self_t *self)
{
    if (self->exited || self->conn || self->next)
        return;
    self->exited = true;
    zflow__ws_streams_end (self);
    atomic_store (&self->shared->connected, false);
    atomic_store (&self->shared->closed, true);
    zsock_send (self->pipe, "i", 0);
}

static void s_exit_begin (zflow_ws_self_t *self)
{
    self->exiting = true;
    s_timer_stop (self, &self->reconnect_timer);
    s_timer_stop (self, &self->rotate_timer);
    s_timer_stop (self, &self->ping_timer);
    s_timer_stop (self, &self->app_ping_timer);
    s_timer_stop (self, &self->send_timer);
    zframe_t *frame;
    while ((frame = (zframe_t *) zlist_pop (self->outq))) {
        zframe_destroy (&frame);
        self->stats.send_dropped++;
        atomic_fetch_sub (&self->shared->send_pending, 1);
    }
    if (self->next)
        zflow__ws_conn_close (self->next, 1000, "exit");
    if (self->conn)
        zflow__ws_conn_close (self->conn, 1000, "exit");
    s_exit_finish (self);
}

//  ---------------------------------------------------------------------
//  Connection callbacks

//  Runs the on-connect messages and hook. Returns 0 or -1.
static int s_on_connect_hook (zflow_ws_self_t *self, zflow_ws_conn_t *conn)
{
    char *text = (char *) zlist_first (self->config->connect_msgs);
    for (; text; text = (char *) zlist_next (self->config->connect_msgs))
        if (zflow__ws_conn_send (conn, false, text, strlen (text)))
            return -1;
    if (self->config->on_connect) {
        zflow_ws_out_t out = {conn};
        if (self->config->on_connect (&out, self->config->on_connect_arg)) {
            zsys_warning ("zflow_ws %s: on-connect hook failed", self->name);
            return -1;
        }
    }
    return 0;
}

static void s_on_open (zflow_ws_conn_t *conn, void *arg)
{
    zflow_ws_self_t *self = (zflow_ws_self_t *) arg;
    if (s_on_connect_hook (self, conn)) {
        zflow__ws_conn_close (conn, 1011, "on-connect hook failed");
        return;
    }
    if (self->paused)
        zflow__ws_conn_pause (conn, true);
    if (conn == self->next) {
        //  Make before break: the new connection serves, the old one closes.
        zflow_ws_conn_t *old = self->conn;
        self->conn = conn;
        self->next = NULL;
        self->stats.rotations++;
        if (old)
            zflow__ws_conn_close (old, 1000, "replaced");
    }
    self->attempt = 0;
    self->last_pong = zclock_mono ();
    self->stats.connects++;
    atomic_fetch_add (&self->shared->connects, 1);
    atomic_store (&self->shared->connected, true);
    if (s_verbose (self))
        zsys_debug ("zflow_ws %s: connected (deflate %d, protocol '%s')", self->name,
                    zflow__ws_conn_deflate (conn), zflow__ws_conn_protocol (conn));
    s_flush_sends (self);
}

static void s_on_message (zflow_ws_conn_t *conn, bool binary, const uint8_t *data, size_t size,
                          void *arg)
{
    zflow_ws_self_t *self = (zflow_ws_self_t *) arg;
    if (self->config->on_message) {
        //  Before the fan-out, so a reply is queued before the next frame is read.
        zflow_ws_out_t out = {conn};
        if (self->config->on_message (&out, data, size, binary, self->config->on_message_arg))
            self->stats.handler_errors++;
    }
    self->rx = conn; //  application pings are answered on the connection they came on
    zflow__ws_fanout (self, binary, data, size);
    self->rx = NULL;
}

static void s_on_pong (zflow_ws_conn_t *conn, void *arg)
{
    (void) conn;
    ((zflow_ws_self_t *) arg)->last_pong = zclock_mono ();
}

static void s_on_closed (zflow_ws_conn_t *conn, int error, int code, const char *reason, void *arg)
{
    zflow_ws_self_t *self = (zflow_ws_self_t *) arg;
    zlist_append (self->dead, conn);
    if (self->reap_timer < 0)
        self->reap_timer = zloop_timer (self->loop, 1, 1, s_on_reap, self);
    if (error && !self->exiting)
        zsys_info ("zflow_ws %s: connection closed (%d): %s: %s", self->name, code,
                   zflow_error_text (error), reason);
    //  The close event: kept for zflow_ws_last_close, given to the hook.
    self->stats.closes++;
    self->last_code = code;
    snprintf (self->last_reason, sizeof (self->last_reason), "%s", reason);
    if (self->config->on_close)
        self->config->on_close (code, reason, error, self->config->on_close_arg);
    if (conn == self->conn) {
        self->conn = self->next; //  a replacement still opening takes over
        self->next = NULL;
        atomic_store (&self->shared->connected, zflow__ws_conn_is_open (self->conn));
        if (!self->conn) {
            if (!self->exiting)
                self->stats.reconnects++;
            self->attempt++;
            s_schedule (self, false);
        }
    } else if (conn == self->next) {
        self->next = NULL;
        self->attempt++;
        s_schedule (self, true);
    }
    if (self->exiting)
        s_exit_finish (self);
}

//  The messages of one socket read are gathered per stream: send them.
static void s_on_read_end (zflow_ws_conn_t *conn, void *arg)
{
    (void) conn;
    zflow__ws_streams_flush ((zflow_ws_self_t *) arg);
}

static const zflow_ws_conn_callbacks_t s_callbacks = {s_on_open, s_on_message, s_on_closed,
                                                      s_on_pong};

//  Starts a connection attempt (as the replacement when rotation).
static void s_connect (zflow_ws_self_t *self, bool rotation)
{
    self->last_attempt = zclock_mono ();
    self->stats.attempts++;
    char err[256];
    int rc;
    zflow_ws_conn_t *conn = zflow__ws_conn_new (self->loop, &self->conn_config, &s_callbacks, self,
                                                &rc, err, sizeof (err));
    if (!conn) {
        zsys_warning ("zflow_ws %s: cannot connect: %s", self->name, err);
        self->attempt++;
        s_schedule (self, rotation);
        return;
    }
    zflow__ws_conn_on_read_end (conn, s_on_read_end);
    if (rotation)
        self->next = conn;
    else
        self->conn = conn;
}

void zflow__ws_rotate (zflow_ws_self_t *self)
{
    if (self->exiting || self->next || !zflow__ws_conn_is_open (self->conn))
        return;
    int64_t wait = self->last_attempt + self->config->connect_interval_ms - zclock_mono ();
    if (self->config->connect_interval_ms && wait > 0) {
        s_schedule (self, true);
        return;
    }
    s_connect (self, true);
}

//  ---------------------------------------------------------------------
//  Timers: rotation, pings, send rate

static int s_on_rotate_timer (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    zflow__ws_rotate ((zflow_ws_self_t *) arg);
    return 0;
}

static int s_on_ping_timer (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    zflow_ws_self_t *self = (zflow_ws_self_t *) arg;
    if (!zflow__ws_conn_is_open (self->conn))
        return 0;
    if (zclock_mono () - self->last_pong > 2 * (int64_t) self->config->ping_ms) {
        zsys_info ("zflow_ws %s: no pong for %d ms, closing", self->name,
                   2 * self->config->ping_ms);
        zflow__ws_conn_close (self->conn, 1001, "ping timeout");
    } else
        zflow__ws_conn_ping (self->conn, "zflow", 5);
    return 0;
}

static int s_on_app_ping_timer (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    zflow_ws_self_t *self = (zflow_ws_self_t *) arg;
    if (!zflow__ws_conn_is_open (self->conn))
        return 0;
    const char *template = self->config->app_ping_text;
    char text[512];
    const char *mark = strstr (template, "%T");
    if (mark)
        snprintf (text, sizeof (text), "%.*s%" PRId64 "%s", (int) (mark - template), template,
                  zclock_time (), mark + 2);
    else
        snprintf (text, sizeof (text), "%s", template);
    zflow__ws_conn_send (self->conn, false, text, strlen (text));
    return 0;
}

static int s_on_send_timer (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    zflow_ws_self_t *self = (zflow_ws_self_t *) arg;
    self->send_timer = -1;
    s_flush_sends (self);
    return 0;
}

//  Sends queued messages while a connection is open and the rate allows.
static void s_flush_sends (zflow_ws_self_t *self)
{
    double rate = self->config->send_rate;
    while (zlist_size (self->outq) > 0 && zflow__ws_conn_is_open (self->conn)) {
        int64_t now = zclock_usecs ();
        if (rate > 0 && now < self->next_send_at) {
            if (self->send_timer < 0)
                self->send_timer =
                    zloop_timer (self->loop, (size_t) ((self->next_send_at - now) / 1000 + 1), 1,
                                 s_on_send_timer, self);
            return;
        }
        zframe_t *frame = (zframe_t *) zlist_pop (self->outq);
        const uint8_t *data = zframe_data (frame);
        if (zflow__ws_conn_send (self->conn, data[0] == 'B', data + 1, zframe_size (frame) - 1) ==
            ZFLOW_ENOMEM) {
            zlist_push (self->outq, frame);
            return;
        }
        zframe_destroy (&frame);
        atomic_fetch_sub (&self->shared->send_pending, 1);
        if (rate > 0)
            self->next_send_at = now + (int64_t) (1e6 / rate);
    }
}

//  A message from zflow_ws_send: flag byte ('T' or 'B') + payload.
static int s_on_sendq (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void) loop;
    zflow_ws_self_t *self = (zflow_ws_self_t *) arg;
    zframe_t *frame = zframe_recv (reader);
    if (!frame)
        return 0;
    if (self->exiting || zframe_size (frame) == 0) {
        zframe_destroy (&frame);
        self->stats.send_dropped++;
        atomic_fetch_sub (&self->shared->send_pending, 1);
        return 0;
    }
    zlist_append (self->outq, frame);
    s_flush_sends (self);
    return 0;
}

//  A subscription change on the XPUB: byte 1 subscribes, byte 0 leaves
//  (XPUB passes one per topic, so this counts distinct topics).
static int s_on_subscription (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void) loop;
    zflow_ws_self_t *self = (zflow_ws_self_t *) arg;
    zframe_t *frame = zframe_recv (reader);
    if (frame && zframe_size (frame) > 0)
        self->topics += zframe_data (frame)[0] == 1 ? 1 : zframe_data (frame)[0] == 0 ? -1 : 0;
    zframe_destroy (&frame);
    return 0;
}

//  ---------------------------------------------------------------------
//  Commands

//  STREAM filter queue policy link: a new route; replies rc and the
//  stream's end of the pipe (for the caller to own).
static void s_cmd_stream (zflow_ws_self_t *self, zmsg_t *request)
{
    char *filter = zmsg_popstr (request);
    char *queue = zmsg_popstr (request);
    char *policy = zmsg_popstr (request);
    zframe_t *pointer = zmsg_pop (request);
    zflow_ws_link_t *link = NULL;
    if (pointer && zframe_size (pointer) == sizeof (link))
        memcpy (&link, zframe_data (pointer), sizeof (link));
    zframe_destroy (&pointer);
    zsock_t *peer = NULL;
    int rc = ZFLOW_ECLOSED;
    zflow_ws_route_t *route = NULL;
    zflow__ws_routes_sweep (self);
    if (!self->exiting && filter && queue && policy)
        route = zflow__ws_route_new (self, filter, strtoul (queue, NULL, 10),
                                     (int) strtol (policy, NULL, 10), link, &peer, &rc);
    if (route && !zlistx_add_end (self->routes, route)) {
        zflow__ws_route_destroy (&route);
        zsock_destroy (&peer);
        rc = ZFLOW_ENOMEM;
    }
    zsock_send (self->pipe, "ip", rc, (void *) peer);
    zstr_free (&filter);
    zstr_free (&queue);
    zstr_free (&policy);
}

static int s_on_command (zflow_actor_t *base, const char *command, zmsg_t *request, void *arg)
{
    (void) base;
    zflow_ws_self_t *self = (zflow_ws_self_t *) arg;
    if (streq (command, "STREAM"))
        s_cmd_stream (self, request);
    else if (streq (command, "LAST CLOSE"))
        zsock_send (self->pipe, "is", self->last_code, self->last_reason);
    else if (streq (command, "START")) {
        if (!self->started && !self->exiting) {
            self->started = true;
            s_connect (self, false);
        }
        zsock_send (self->pipe, "i", self->exiting ? ZFLOW_ECLOSED : 0);
    } else if (streq (command, "RECONNECT")) {
        zflow__ws_rotate (self);
        zsock_send (self->pipe, "i", self->exiting ? ZFLOW_ECLOSED : 0);
    } else if (streq (command, "PENDING")) //  bytes the connection has yet to write
        zsock_send (self->pipe, "8",
                    (uint64_t) (self->conn ? zflow__ws_conn_queued (self->conn) : 0));
    else if (streq (command, "EXIT")) {
        if (self->exited)
            zsock_send (self->pipe, "i", ZFLOW_ECLOSED);
        else if (!self->exiting)
            s_exit_begin (self);
    } else
        zsys_warning ("zflow_ws %s: unknown command %s", self->name, command);
    return 0;
}

static void s_on_stats (zflow_actor_t *base, zmsg_t *reply, void *arg)
{
    (void) base;
    zflow_ws_stats_t *stats = &((zflow_ws_self_t *) arg)->stats;
    zflow_actor_stats_add (reply, "published", stats->published);
    zflow_actor_stats_add (reply, "parse_errors", stats->parse_errors);
    zflow_actor_stats_add (reply, "decode_errors", stats->decode_errors);
    zflow_actor_stats_add (reply, "handler_errors", stats->handler_errors);
    zflow_actor_stats_add (reply, "connects", stats->connects);
    zflow_actor_stats_add (reply, "reconnects", stats->reconnects);
    zflow_actor_stats_add (reply, "attempts", stats->attempts);
    zflow_actor_stats_add (reply, "rotations", stats->rotations);
    zflow_actor_stats_add (reply, "app_pongs", stats->app_pongs);
    zflow_actor_stats_add (reply, "app_pings", stats->app_pings);
    zflow_actor_stats_add (reply, "send_dropped", stats->send_dropped);
    zflow_actor_stats_add (reply, "stream_drops", stats->stream_drops);
    zflow_actor_stats_add (reply, "pauses", stats->pauses);
    zflow_actor_stats_add (reply, "closes", stats->closes);
}

//  ---------------------------------------------------------------------
//  The actor

static void s_self_destroy (zflow_ws_self_t **self_p)
{
    zflow_ws_self_t *self = *self_p;
    if (!self)
        return;
    zflow__ws_conn_destroy (&self->conn);
    zflow__ws_conn_destroy (&self->next);
    zflow_ws_conn_t *conn;
    while (self->dead && (conn = (zflow_ws_conn_t *) zlist_pop (self->dead)))
        zflow__ws_conn_destroy (&conn);
    zlist_destroy (&self->dead);
    zlistx_destroy (&self->routes);
    zframe_t *frame;
    while (self->outq && (frame = (zframe_t *) zlist_pop (self->outq)))
        zframe_destroy (&frame);
    zlist_destroy (&self->outq);
    zsock_destroy (&self->pub);
    zsock_destroy (&self->sendq);
    zflow_key_destroy (&self->key);
    zflow_meta_destroy (&self->meta);
    zflow_meta_destroy (&self->batch_meta);
    zflow__ws_cfilter_destroy (&self->rotate_cfilter);
    zflow__ws_cfilter_destroy (&self->pong_cfilter);
    if (self->decoder_ready)
        inflateEnd (&self->decoder);
    zflow__ws_buf_free (&self->dbuf);
    zflow_ws_config_destroy (&self->config);
    zflow_actor_destroy (&self->base);
    free (self);
    *self_p = NULL;
}

//  Builds the actor state. Returns it, or NULL on bad configuration.
static zflow_ws_self_t *s_self_new (zsock_t *pipe, zflow_ws_args_t *args)
{
    zflow_ws_self_t *self = (zflow_ws_self_t *) calloc (1, sizeof (zflow_ws_self_t));
    if (!self) {
        zflow_ws_config_destroy (&args->config);
        return NULL;
    }
    self->config = args->config;
    self->name = self->config->name;
    self->shared = args->shared;
    self->pipe = pipe;
    self->reconnect_timer = self->rotate_timer = self->ping_timer = -1;
    self->app_ping_timer = self->send_timer = self->reap_timer = self->held_timer = -1;
    self->base = zflow_actor_new (pipe, "zflow_ws");
    self->dead = zlist_new ();
    self->routes = zlistx_new ();
    self->outq = zlist_new ();
    self->key = zflow_key_new ("ws", self->name, NULL);
    self->meta = zflow_meta_new ();
    self->batch_meta = zflow_meta_new ();
    self->pub = zsock_new (ZMQ_XPUB);
    self->sendq = zsock_new (ZMQ_PAIR);
    if (!self->base || !self->dead || !self->routes || !self->outq || !self->key || !self->meta ||
        !self->batch_meta || !self->pub || !self->sendq) {
        s_self_destroy (&self);
        return NULL;
    }
    zlistx_set_destructor (self->routes, (zlistx_destructor_fn *) zflow__ws_route_destroy);
    zflow_meta_set_source (self->meta, self->name);
    zflow_meta_set_source (self->batch_meta, self->name);
    //  Handlers, a parser and ping replies need jansson's value; filters
    //  alone can work on a scan of the text.
    self->fast_json = self->config->parse_mode == ZFLOW_WS_PARSE_JSON && !self->config->parser &&
                      self->config->nhandlers == 0 && !self->config->reply_ping;
    //  (NULL when there is no such filter or no memory: jansson matches.)
    self->rotate_cfilter = zflow__ws_cfilter_new (self->config->rotate_filter);
    self->pong_cfilter = zflow__ws_cfilter_new (self->config->app_pong_filter);
    self->pub_handle = zsock_resolve (self->pub);
    zflow_ws_config_t *config = self->config;
    self->conn_config = (zflow_ws_conn_config_t){
        config->url,         config->headers, config->protocols,   config->deflate,
        !config->tls_verify, config->ca_file, config->max_message, config->timeout_ms};
    return self;
}

//  Binds the sockets and registers handlers and timers. Returns 0 or -1.
static int s_self_start (zflow_ws_self_t *self, zflow_ws_args_t *args)
{
    char endpoint[300];
    if (self->config->endpoint)
        snprintf (endpoint, sizeof (endpoint), "%s", self->config->endpoint);
    else
        snprintf (endpoint, sizeof (endpoint), "inproc://zflow-ws-%s", self->name);
    zsock_set_sndhwm (self->sendq, 0);
    zsock_set_rcvhwm (self->sendq, 0);
    //  The same feed name just destroyed may hold its inproc name for a
    //  moment (libzmq releases it asynchronously): retry briefly.
    int rc = -1;
    for (int i = 0; i < 50 && rc < 0; i++)
        if ((rc = zsock_bind (self->pub, "%s", endpoint)) < 0 && zmq_errno () == EADDRINUSE &&
            strncmp (endpoint, "inproc://", 9) == 0)
            zclock_sleep (10);
        else
            break;
    if (rc < 0 || zsock_bind (self->sendq, "%s", args->send_endpoint) < 0) {
        zsys_error ("zflow_ws %s: cannot bind %s", self->name, endpoint);
        return -1;
    }
    self->loop = zflow_actor_loop (self->base);
    zflow_actor_set_command_handler (self->base, s_on_command, self);
    zflow_actor_set_stats_handler (self->base, s_on_stats, self);
    zloop_reader (self->loop, self->sendq, s_on_sendq, self);
    zloop_reader (self->loop, self->pub, s_on_subscription, self);
    zflow_ws_config_t *config = self->config;
    if (config->rotate_ms > 0)
        self->rotate_timer =
            zloop_timer (self->loop, (size_t) config->rotate_ms, 0, s_on_rotate_timer, self);
    if (config->ping_ms > 0)
        self->ping_timer =
            zloop_timer (self->loop, (size_t) config->ping_ms, 0, s_on_ping_timer, self);
    if (config->app_ping_ms > 0)
        self->app_ping_timer =
            zloop_timer (self->loop, (size_t) config->app_ping_ms, 0, s_on_app_ping_timer, self);
    return 0;
}

void zflow__ws_actor (zsock_t *pipe, void *arg)
{
    zflow_ws_args_t *args = (zflow_ws_args_t *) arg;
    zflow_ws_self_t *self = s_self_new (pipe, args);
    if (!self) {
        zsock_signal (pipe, 1);
        zsock_signal (pipe, 1);
        return;
    }
    if (s_self_start (self, args)) {
        zflow_actor_ready (self->base, -1);
        s_self_destroy (&self);
        return;
    }
    zflow_actor_ready (self->base, 0);
    if (!self->config->manual_start) {
        self->started = true;
        s_connect (self, false);
    }
    zflow_actor_run (self->base);
    s_self_destroy (&self);
}
