/*  =========================================================================
    zflow_ws_route - the feed actor's side of each stream (internal)

    A route is a stream as the actor sees it: its filter, the actor's end of
    the stream's PAIR pipe, its policy, and the batch gathered for it during
    one socket read (format: zflow_ws_batch.h), sent once per read or when
    full. A stream's bound counts messages sent and not yet handed out by
    its reader (link->pending), so it holds whatever the batches.

    A route lives until its stream is destroyed (the stream marks the link
    closed; the next sweep removes the route) or the actor ends.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_ws_actor.h"

void zflow__ws_route_destroy (zflow_ws_route_t **route_p)
{
    if (!route_p || !*route_p)
        return;
    zflow_ws_route_t *route = *route_p;
    zflow__ws_batch_free (&route->batch);
    zflow__ws_cfilter_destroy (&route->cfilter);
    json_decref (route->filter);
    zsock_destroy (&route->sock);
    if (route->link) {
        atomic_store (&route->link->ended, true);
        zflow__ws_link_release (&route->link);
    }
    free (route);
    *route_p = NULL;
}

//  Makes the route's pipe: both ends here, so no message can be sent
//  before the peer is connected; the peer moves to the caller's thread.
//  Returns the peer, or NULL.
static zsock_t *s_pipe (zflow_ws_route_t *route)
{
    //  A name never used before (libzmq frees inproc names asynchronously).
    static atomic_uint_fast64_t s_pipes = 0;
    char endpoint[128];
    snprintf (endpoint, sizeof (endpoint), "inproc://zflow-ws-stream-%" PRIu64,
              (uint64_t) atomic_fetch_add (&s_pipes, 1));
    route->sock = zsock_new (ZMQ_PAIR);
    zsock_t *peer = zsock_new (ZMQ_PAIR);
    if (!route->sock || !peer) {
        zsock_destroy (&peer);
        return NULL;
    }
    //  With batches the bound is kept in messages by link->pending, and
    //  every batch holds at least one message, so the pipe never holds more
    //  batches than that; with plain envelopes the pipe's bound is the one.
    zsock_set_sndhwm (route->sock, (int) route->queue);
    zsock_set_rcvhwm (peer, 1);
    zsock_set_linger (route->sock, 0);
    if (zsock_bind (route->sock, "%s", endpoint) != 0 || zsock_connect (peer, "%s", endpoint)) {
        zsock_destroy (&peer);
        return NULL;
    }
    route->handle = zsock_resolve (route->sock);
    return peer;
}

zflow_ws_route_t *zflow__ws_route_new (zflow_ws_self_t *self, const char *filter, size_t queue,
                                       int policy, zflow_ws_link_t *link, zsock_t **peer_p,
                                       int *err_p)
{
    (void) self;
    *err_p = ZFLOW_EINVAL;
    json_t *parsed = NULL;
    if (!link || (filter && *filter && !(parsed = zflow__ws_filter_parse (filter))))
        return NULL;
    if (policy != ZFLOW_WS_DROP && policy != ZFLOW_WS_BACKPRESSURE) {
        json_decref (parsed);
        return NULL;
    }
    *err_p = ZFLOW_ENOMEM;
    zflow_ws_route_t *route = (zflow_ws_route_t *) calloc (1, sizeof (zflow_ws_route_t));
    if (!route) {
        json_decref (parsed);
        return NULL;
    }
    route->filter = parsed;
    route->cfilter = parsed ? zflow__ws_cfilter_new (parsed) : NULL;
    route->policy = policy;
    route->queue = queue ? queue : 1000;
    zsock_t *peer = NULL;
    if ((parsed && !route->cfilter) || !(peer = s_pipe (route))) {
        *err_p = route->sock ? ZFLOW_EENDPOINT : ZFLOW_ENOMEM;
        zflow__ws_route_destroy (&route);
        return NULL;
    }
    atomic_fetch_add (&link->refs, 1);
    route->link = link;
    *peer_p = peer;
    *err_p = 0;
    return route;
}

//  True when the stream gets batches: batches of more than one are on and
//  its reader uses zflow_ws_stream_read (it says so at its first read). A
//  reader that uses zflow_stream_read gets plain envelopes, as before.
static bool s_batching (zflow_ws_self_t *self, zflow_ws_route_t *route)
{
    return self->config->batch > 1 &&
           atomic_load_explicit (&route->link->batch_reader, memory_order_relaxed);
}

//  Messages sent to the stream and not yet handed out by its reader. Only
//  zflow_ws_stream_read counts them: without batches the pipe's own bound
//  (queue envelopes) decides, as sends refused.
static size_t s_pending (zflow_ws_self_t *self, zflow_ws_route_t *route)
{
    if (!s_batching (self, route))
        return 0;
    return atomic_load_explicit (&route->link->pending, memory_order_relaxed);
}

static void s_count_drops (zflow_ws_self_t *self, zflow_ws_route_t *route, size_t messages)
{
    atomic_fetch_add_explicit (&route->link->drops, messages, memory_order_relaxed);
    self->stats.stream_drops += messages;
    zflow_actor_counters (self->base)->drops += messages;
}

//  Sends the batch's messages as plain envelopes until the pipe refuses
//  one; the rest stay in the batch.
static void s_send_singles (zflow_ws_self_t *self, zflow_ws_route_t *route)
{
    size_t key_size;
    const void *key = zflow_key_wire (self->key, &key_size);
    size_t sent =
        zflow__ws_batch_send_singles (&route->batch, route->handle, key, key_size, self->meta);
    route->delivered += sent;
    atomic_fetch_add (&route->link->pending, sent);
}

//  Sends the batch in one ZeroMQ message. Returns 0, or -1 when the pipe
//  refused it (full) or on error.
static int s_send_batch (zflow_ws_self_t *self, zflow_ws_route_t *route)
{
    size_t key_size;
    const void *key = zflow_key_wire (self->key, &key_size);
    size_t count = route->batch.count;
    atomic_fetch_add (&route->link->pending, count);
    if (zflow__ws_batch_send (&route->batch, route->handle, key, key_size, self->batch_meta)) {
        atomic_fetch_sub (&route->link->pending, count);
        return -1;
    }
    route->delivered += count;
    return 0;
}

static int s_held_retry (zloop_t *loop, int timer_id, void *arg);

//  Marks a BACKPRESSURE stream full: its batch waits, reading pauses, and
//  a timer looks for room (the reader gives room back by reading).
static void s_hold (zflow_ws_self_t *self, zflow_ws_route_t *route)
{
    if (route->held)
        return;
    route->held = true;
    if (self->held_streams++ == 0) {
        self->held_timer = zloop_timer (self->loop, 1, 0, s_held_retry, self);
        zflow__ws_set_paused (self, true);
    }
}

//  Forgets a route's held batch (it went, or the route goes).
static void s_unhold (zflow_ws_self_t *self, zflow_ws_route_t *route)
{
    if (!route->held)
        return;
    route->held = false;
    if (--self->held_streams == 0) {
        zloop_timer_end (self->loop, self->held_timer);
        self->held_timer = -1;
        zflow__ws_set_paused (self, false);
    }
}

//  Sends the stream's batch if it has room (BACKPRESSURE) or at all (DROP).
static void s_flush (zflow_ws_self_t *self, zflow_ws_route_t *route)
{
    if (route->batch.count == 0)
        return;
    if (route->policy == ZFLOW_WS_BACKPRESSURE && s_pending (self, route) >= route->queue) {
        s_hold (self, route);
        return;
    }
    if (!s_batching (self, route)) {
        s_send_singles (self, route);
        if (route->batch.count && route->policy == ZFLOW_WS_BACKPRESSURE) {
            s_hold (self, route);
            return;
        }
        s_count_drops (self, route, route->batch.count);
    } else if (s_send_batch (self, route)) {
        if (route->policy == ZFLOW_WS_BACKPRESSURE) {
            s_hold (self, route);
            return;
        }
        s_count_drops (self, route, route->batch.count);
    }
    zflow__ws_batch_reset (&route->batch);
    s_unhold (self, route);
}

void zflow__ws_routes_sweep (zflow_ws_self_t *self)
{
    zflow_ws_route_t *route = (zflow_ws_route_t *) zlistx_first (self->routes);
    while (route) {
        void *handle = zlistx_cursor (self->routes);
        bool closed = atomic_load_explicit (&route->link->closed, memory_order_relaxed);
        if (closed)
            s_unhold (self, route);
        route = (zflow_ws_route_t *) zlistx_next (self->routes);
        if (closed)
            zlistx_delete (self->routes, handle);
    }
}

//  While streams are full: sends the batches that now have room.
static int s_held_retry (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    zflow_ws_self_t *self = (zflow_ws_self_t *) arg;
    zflow__ws_routes_sweep (self); //  a stream destroyed while full
    zflow_ws_route_t *route = (zflow_ws_route_t *) zlistx_first (self->routes);
    for (; route; route = (zflow_ws_route_t *) zlistx_next (self->routes))
        if (route->held)
            s_flush (self, route);
    return 0;
}

void zflow__ws_streams_flush (zflow_ws_self_t *self)
{
    zflow__ws_routes_sweep (self);
    zflow_ws_route_t *route = (zflow_ws_route_t *) zlistx_first (self->routes);
    for (; route; route = (zflow_ws_route_t *) zlistx_next (self->routes))
        if (!route->held)
            s_flush (self, route);
}

void zflow__ws_route_add (zflow_ws_self_t *self, zflow_ws_route_t *route, uint64_t seq, int type,
                          bool binary, const uint8_t *data, size_t size)
{
    if (route->policy == ZFLOW_WS_DROP &&
        s_pending (self, route) + route->batch.count >= route->queue) {
        s_count_drops (self, route, 1);
        return;
    }
    if (route->batch.count > 0 && !route->held &&
        (route->batch.count >= self->config->batch ||
         route->batch.data.size >= ZFLOW_WS_BATCH_BYTES))
        s_flush (self, route);
    if (zflow__ws_batch_add (&route->batch, seq, type, binary, data, size)) {
        s_count_drops (self, route, 1); //  out of memory
        return;
    }
    if (!route->held && !s_batching (self, route))
        s_flush (self, route);
}

void zflow__ws_streams_end (zflow_ws_self_t *self)
{
    zflow__ws_routes_sweep (self);
    zflow_ws_route_t *route = (zflow_ws_route_t *) zlistx_first (self->routes);
    for (; route; route = (zflow_ws_route_t *) zlistx_next (self->routes)) {
        //  Wait a little for room: a reader blocked in read empties the pipe.
        zsock_set_sndtimeo (route->sock, 200);
        s_unhold (self, route);
        if (route->batch.count && !s_batching (self, route)) {
            s_send_singles (self, route);
            s_count_drops (self, route, route->batch.count);
            zflow__ws_batch_reset (&route->batch);
        }
        //  The last batch goes even to a full stream (one batch over).
        if (route->batch.count && s_send_batch (self, route))
            s_count_drops (self, route, route->batch.count);
        zflow__ws_batch_reset (&route->batch);
        if (zstr_send (route->sock, ZFLOW_WS_END) != 0)
            zsys_warning ("zflow_ws %s: a stream is full, its end marker is lost", self->name);
        atomic_store (&route->link->ended, true);
    }
}
