/*  =========================================================================
    zflow_hpfeeds_broker_cmd - the hpfeeds broker actor's commands, STATS
    and DRAIN (the graceful stop)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_error.h"
#include "zflow_hpfeeds_broker_internal.h"
#include <inttypes.h>
#include <limits.h>
#include <sys/socket.h>

//  After users change, connections point at the current entries; an ident
//  that is gone is refused.
static void s_refresh_users (broker_t *self)
{
    for (conn_t *conn = (conn_t *) zlistx_first (self->conns); conn;
         conn = (conn_t *) zlistx_next (self->conns)) {
        if (!conn->authed || conn->dead)
            continue;
        conn->user = zflow__hpfeeds_auth_lookup (self->auth, conn->ident);
        conn->last_pub = NULL;
        if (!conn->user) {
            conn->authed = false;
            zflow__hpfeeds_broker_conn_refuse (conn, "Authentication failed: ident removed");
        }
    }
}

//  ---------------------------------------------------------------------
//  DRAIN: a graceful stop. hpfeeds acknowledges nothing, so a broker that
//  just closes loses what its clients wrote and it had not read yet, and
//  what it owed its subscribers. Instead: stop listening; tell every
//  client with an error frame (ZFLOW_HPFEEDS_SHUTDOWN_TEXT); go on reading
//  and forwarding until each client has closed its sending side after its
//  last whole frame (zflow clients do so at once and keep the rest of
//  their outbox for the next connection), write out what each is owed,
//  then close. What is still queued at the deadline is counted (frames).

uint64_t zflow__hpfeeds_broker_publishes (const zflow_hpfeeds_buf_t *buf, size_t at)
{
    const uint8_t *data = zflow__hpfeeds_buf_head (buf);
    size_t size = zflow__hpfeeds_buf_size (buf);
    uint64_t count = 0;
    while (at < size) {
        if (size - at < ZFLOW_HPFEEDS_HEADER)
            return count + 1;
        size_t length = zflow__hpfeeds_frame_size (data + at);
        if (length < ZFLOW_HPFEEDS_HEADER || length > size - at)
            return count + 1;
        count += data[at + 4] == ZFLOW_HPFEEDS_OP_PUBLISH;
        at += length;
    }
    return count;
}

//  True when every connection has sent its last frame and has been sent
//  everything it is owed.
static bool s_drained (broker_t *self)
{
    for (conn_t *conn = (conn_t *) zlistx_first (self->conns); conn;
         conn = (conn_t *) zlistx_next (self->conns))
        if (!conn->dead && (!conn->eof || conn->stalled || zflow__hpfeeds_buf_size (&conn->out)))
            return false;
    return true;
}

//  Ends DRAIN: closes every connection, counts what it could not deliver,
//  answers the command.
static void s_drain_end (broker_t *self)
{
    uint64_t lost = 0;
    for (conn_t *conn = (conn_t *) zlistx_first (self->conns); conn;
         conn = (conn_t *) zlistx_next (self->conns)) {
        if (conn->dead)
            continue;
        lost += (conn->out_left > 0) +
                zflow__hpfeeds_broker_publishes (&conn->out, conn->out_left) +
                zflow__hpfeeds_broker_publishes (&conn->in, 0);
        shutdown (conn->fd, SHUT_WR);
        zflow__hpfeeds_broker_conn_kill (conn);
    }
    zloop_timer_end (self->loop, self->drain_timer);
    self->drain_timer = -1;
    self->draining = false;
    self->drains++;
    self->drain_lost += lost;
    if (zflow_actor_verbose (self->base))
        zsys_debug ("hpfeeds broker: drained, %" PRIu64 " frames undelivered", lost);
    zsock_send (zflow_actor_pipe (self->base), "i", lost > INT_MAX ? INT_MAX : (int) lost);
}

static int s_on_drain_tick (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    broker_t *self = (broker_t *) arg;
    if (s_drained (self) || zclock_mono () >= self->drain_deadline)
        s_drain_end (self);
    return 0;
}

static void s_drain_begin (broker_t *self, int timeout_ms)
{
    zflow__hpfeeds_broker_unlisten (self);
    self->draining = true;
    self->drain_deadline = zclock_mono () + (timeout_ms > 0 ? timeout_ms : 0);
    for (conn_t *conn = (conn_t *) zlistx_first (self->conns); conn;
         conn = (conn_t *) zlistx_next (self->conns)) {
        if (conn->dead)
            continue;
        if (!conn->authed || conn->closing)
            zflow__hpfeeds_broker_conn_kill (conn); //  owed nothing, sends nothing we keep
        else
            zflow__hpfeeds_broker_conn_notice (conn, ZFLOW_HPFEEDS_SHUTDOWN_TEXT);
    }
    zflow__hpfeeds_broker_flush_dirty (self);
    if (self->drain_timer < 0)
        self->drain_timer = zloop_timer (self->loop, 5, 0, s_on_drain_tick, self);
}

//  ADD USER: ident, secret, owner, npub, pub..., sub...
static int s_cmd_add_user (broker_t *self, zmsg_t *request)
{
    char *ident = zmsg_popstr (request);
    char *secret = zmsg_popstr (request);
    char *count = zmsg_popstr (request);
    size_t npub = count ? (size_t) strtoul (count, NULL, 10) : 0;
    size_t total = zmsg_size (request);
    const char **names = (const char **) calloc (total + 1, sizeof (char *));
    for (size_t index = 0; names && index < total; index++)
        names[index] = zmsg_popstr (request);
    int rc = !names ? ZFLOW_ENOMEM
             : npub > total
                 ? ZFLOW_EINVAL
                 : zflow__hpfeeds_auth_add (self->auth, ident, secret ? secret : "", NULL, names,
                                            npub, names + npub, total - npub);
    for (size_t index = 0; names && index < total; index++)
        free ((char *) names[index]);
    free (names);
    zstr_free (&ident);
    zstr_free (&secret);
    zstr_free (&count);
    if (rc == 0)
        s_refresh_users (self);
    return rc;
}

int zflow__hpfeeds_broker_on_command (zflow_actor_t *base, const char *command, zmsg_t *request,
                                      void *arg)
{
    broker_t *self = (broker_t *) arg;
    zsock_t *pipe = zflow_actor_pipe (base);
    char errbuf[512] = "";
    if (streq (command, "ADD USER"))
        zsock_send (pipe, "i", s_cmd_add_user (self, request));
    else if (streq (command, "LOAD JSON") || streq (command, "LOAD ZPL")) {
        char *path = zmsg_popstr (request);
        int rc = !path ? ZFLOW_EINVAL
                 : streq (command, "LOAD JSON")
                     ? zflow__hpfeeds_auth_load_json (self->auth, path, errbuf, sizeof (errbuf))
                     : zflow__hpfeeds_auth_load_zpl (self->auth, path, errbuf, sizeof (errbuf));
        if (rc >= 0)
            s_refresh_users (self);
        zsock_send (pipe, "is", rc, errbuf);
        zstr_free (&path);
    } else if (streq (command, "DRAIN")) {
        char *timeout = zmsg_popstr (request);
        s_drain_begin (self, timeout ? atoi (timeout) : 0); //  it answers when done
        zstr_free (&timeout);
    } else if (streq (command, "BIND")) {
        char *host = zmsg_popstr (request);
        char *port = zmsg_popstr (request);
        zsock_send (pipe, "i",
                    zflow__hpfeeds_broker_listen (self, host ? host : "", port ? port : "0"));
        zstr_free (&host);
        zstr_free (&port);
    } else
        zsys_warning ("hpfeeds broker: unknown command '%s'", command);
    return 0;
}

void zflow__hpfeeds_broker_on_stats (zflow_actor_t *base, zmsg_t *reply, void *arg)
{
    (void) base;
    broker_t *self = (broker_t *) arg;
    size_t live = 0;
    char name[ZFLOW_HPFEEDS_MAX_STR + 64];
    for (conn_t *conn = (conn_t *) zlistx_first (self->conns); conn;
         conn = (conn_t *) zlistx_next (self->conns)) {
        if (conn->dead)
            continue;
        live++;
        const char *ident = conn->authed ? conn->ident : "-";
        snprintf (name, sizeof (name), "conn.%" PRIu64 ".%s.msgs_in", conn->id, ident);
        zflow_actor_stats_add (reply, name, conn->msgs_in);
        snprintf (name, sizeof (name), "conn.%" PRIu64 ".%s.msgs_out", conn->id, ident);
        zflow_actor_stats_add (reply, name, conn->msgs_out);
        snprintf (name, sizeof (name), "conn.%" PRIu64 ".%s.drops", conn->id, ident);
        zflow_actor_stats_add (reply, name, conn->drops);
        snprintf (name, sizeof (name), "conn.%" PRIu64 ".%s.out_pending", conn->id, ident);
        zflow_actor_stats_add (reply, name, zflow__hpfeeds_buf_size (&conn->out));
    }
    for (channel_t *channel = (channel_t *) zhash_first (self->channels); channel;
         channel = (channel_t *) zhash_next (self->channels)) {
        snprintf (name, sizeof (name), "chan.%s.msgs", channel->name);
        zflow_actor_stats_add (reply, name, channel->msgs);
        snprintf (name, sizeof (name), "chan.%s.bytes", channel->name);
        zflow_actor_stats_add (reply, name, channel->bytes);
        snprintf (name, sizeof (name), "chan.%s.drops", channel->name);
        zflow_actor_stats_add (reply, name, channel->drops);
        snprintf (name, sizeof (name), "chan.%s.unrouted", channel->name);
        zflow_actor_stats_add (reply, name, channel->unrouted);
        snprintf (name, sizeof (name), "chan.%s.subscribers", channel->name);
        zflow_actor_stats_add (reply, name, zlistx_size (channel->subscribers));
    }
    zflow_actor_stats_add (reply, "connections", live);
    zflow_actor_stats_add (reply, "connections_total", self->connections_total);
    zflow_actor_stats_add (reply, "auth_failures", self->auth_failures);
    zflow_actor_stats_add (reply, "refusals", self->refusals);
    zflow_actor_stats_add (reply, "slow_drops", self->slow_drops);
    zflow_actor_stats_add (reply, "slow_disconnects", self->slow_disconnects);
    zflow_actor_stats_add (reply, "slow_lost", self->slow_lost);
    zflow_actor_stats_add (reply, "auth_timeouts", self->auth_timeouts);
    zflow_actor_stats_add (reply, "idle_timeouts", self->idle_timeouts);
    zflow_actor_stats_add (reply, "refused_connections", self->refused_connections);
    zflow_actor_stats_add (reply, "protocol_errors", self->protocol_errors);
    zflow_actor_stats_add (reply, "accept_pauses", self->accept_pauses);
    zflow_actor_stats_add (reply, "stalls", self->stalls);
    zflow_actor_stats_add (reply, "congested", (uint64_t) self->congested);
    zflow_actor_stats_add (reply, "unrouted", self->unrouted);
    zflow_actor_stats_add (reply, "drains", self->drains);
    zflow_actor_stats_add (reply, "drain_lost", self->drain_lost);
}
