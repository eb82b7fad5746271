/*  =========================================================================
    zflow_hpfeeds_broker - an embedded hpfeeds broker actor

    One actor, one zloop: a poller on the listening socket and one on each
    connection (POLLIN, plus POLLOUT while output is pending). A publish is
    forwarded as the very bytes received (the ident was checked to be the
    authenticated one, so they equal what the reference would re-encode),
    appended to each subscriber's bounded output buffer, and written at the
    end of the read batch so many frames share one send().

    The public wrapper is in zflow_hpfeeds_broker_api.c.

    Connections are never freed inside a poll round: a closed connection is
    marked dead, its poller ended, and it is freed by a timer, because zloop
    may still hold it for another ready item of the same round.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_error.h"
#include "zflow_hpfeeds_broker_actor.h"
#include "zflow_hpfeeds_broker_internal.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

static int s_on_conn (zloop_t *loop, zmq_pollitem_t *item, void *arg);

//  The channel table's free function.
static void s_channel_destroy (void *item)
{
    channel_t *channel = (channel_t *) item;
    free (channel->name);
    zlistx_destroy (&channel->subscribers);
    free (channel);
}

//  Returns the channel, creating it. name is NUL-terminated.
static channel_t *s_channel (broker_t *self, const char *name)
{
    channel_t *channel = (channel_t *) zhash_lookup (self->channels, name);
    if (channel)
        return channel;
    channel = (channel_t *) zmalloc (sizeof (channel_t));
    channel->name = strdup (name);
    channel->name_size = strlen (name);
    channel->subscribers = zlistx_new ();
    zhash_insert (self->channels, name, channel);
    zhash_freefn (self->channels, name, s_channel_destroy);
    return channel;
}

//  Copies a wire string to a C string; false if it holds a NUL byte.
static bool s_cstr (char *dst, const uint8_t *src, size_t size)
{
    if (size > ZFLOW_HPFEEDS_MAX_STR || memchr (src, 0, size))
        return false;
    memcpy (dst, src, size);
    dst[size] = 0;
    return true;
}

//  Registers the connection's poller for events (no-op if unchanged).
static void s_conn_poll (conn_t *conn, short events)
{
    if (conn->events == events || conn->dead)
        return;
    zmq_pollitem_t item = {NULL, conn->fd, 0, 0};
    if (conn->events)
        zloop_poller_end (conn->broker->loop, &item);
    conn->events = events;
    if (events) {
        item.events = events;
        zloop_poller (conn->broker->loop, &item, s_on_conn, conn);
        zloop_poller_set_tolerant (conn->broker->loop, &item);
    }
}

//  Marks the connection dead; the reaper frees it.
void zflow__hpfeeds_broker_conn_kill (conn_t *conn)
{
    if (conn->dead)
        return;
    s_conn_poll (conn, 0);
    conn->dead = true;
    conn->broker->live--;
    if (conn->congested) {
        conn->congested = false;
        if (--conn->broker->congested == 0)
            conn->broker->resume = true;
    }
    if (conn->stalled) {
        conn->stalled = false;
        zlistx_delete (conn->broker->stalled, zlistx_find (conn->broker->stalled, conn));
    }
    for (channel_t *channel = (channel_t *) zlistx_first (conn->subs); channel;
         channel = (channel_t *) zlistx_next (conn->subs)) {
        void *handle = zlistx_find (channel->subscribers, conn);
        if (handle)
            zlistx_delete (channel->subscribers, handle);
    }
    zlistx_purge (conn->subs);
    if (zflow_actor_verbose (conn->broker->base))
        zsys_debug ("hpfeeds broker: connection %" PRIu64 " (%s) closed", conn->id, conn->ident);
}

static void s_conn_free (conn_t **conn_p)
{
    conn_t *conn = *conn_p;
    if (conn->fd >= 0)
        close (conn->fd);
    zflow__hpfeeds_buf_free (&conn->in);
    zflow__hpfeeds_buf_free (&conn->out);
    zlistx_destroy (&conn->subs);
    free (conn);
    *conn_p = NULL;
}

//  Appends an error frame with text (at most 1024 bytes of it) to the
//  output, past the limit: it is small, and either the last or a notice.
static void s_conn_error (conn_t *conn, const char *text)
{
    if (zflow_actor_verbose (conn->broker->base))
        zsys_debug ("hpfeeds broker: connection %" PRIu64 ": ERROR: %s", conn->id, text);
    size_t size = strlen (text);
    if (size > 1024)
        size = 1024;
    uint8_t frame[ZFLOW_HPFEEDS_HEADER + 1024];
    int total = zflow__hpfeeds_encode_error (frame, text, size);
    conn->out.limit += (size_t) total;
    zflow__hpfeeds_buf_append (&conn->out, frame, (size_t) total);
}

//  Refuses: sends an error frame with text, then closes once it is out.
void zflow__hpfeeds_broker_conn_refuse (conn_t *conn, const char *text)
{
    s_conn_error (conn, text);
    conn->closing = true;
    conn->closing_since = zclock_mono ();
    zflow__hpfeeds_broker_conn_flush (conn);
}

void zflow__hpfeeds_broker_conn_notice (conn_t *conn, const char *text)
{
    s_conn_error (conn, text);
    if (!conn->dirty) {
        conn->dirty = true;
        zlistx_add_end (conn->broker->dirty, conn);
    }
}

//  Closes a subscriber that fell too far behind (DISCONNECT) and counts
//  what it is owed as lost: the copies queued and not sent (taken back
//  out of msgs_out), plus unfit copies that did not fit.
static void s_conn_slow_close (conn_t *conn, uint64_t unfit)
{
    broker_t *self = conn->broker;
    uint64_t queued =
        (conn->out_left > 0) + zflow__hpfeeds_broker_publishes (&conn->out, conn->out_left);
    zflow_actor_counters_t *counters = zflow_actor_counters (self->base);
    counters->msgs_out -= queued < counters->msgs_out ? queued : counters->msgs_out;
    conn->msgs_out -= queued < conn->msgs_out ? queued : conn->msgs_out;
    counters->drops += queued + unfit;
    conn->drops += queued + unfit;
    self->slow_lost += queued + unfit;
    self->slow_disconnects++;
    if (zflow_actor_verbose (self->base))
        zsys_debug ("hpfeeds broker: connection %" PRIu64 " too slow, closed (%" PRIu64
                    " messages lost)",
                    conn->id, queued + unfit);
    zflow__hpfeeds_broker_conn_kill (conn);
}

//  The output passed the high mark (cold): BLOCK marks the subscriber
//  congested, DISCONNECT starts its grace period.
static void s_conn_high (conn_t *conn)
{
    broker_t *self = conn->broker;
    if (self->policy == ZFLOW_HPFEEDS_SLOW_BLOCK) {
        if (!conn->congested) {
            conn->congested = true;
            self->congested++;
        }
    } else if (conn->slow_since == 0)
        conn->slow_since = self->now;
}

//  Delivers a run of publish frames (frames of them, size bytes at raw,
//  data bytes of payload in all) to a subscriber: in one copy when its
//  output has room, else frame by frame, so that the slow-subscriber
//  policy applies to whole frames.
static void s_conn_deliver (conn_t *conn, channel_t *channel, const uint8_t *raw, size_t size,
                            size_t frames, size_t data)
{
    broker_t *self = conn->broker;
    if (conn->closing || conn->dead)
        return;
    if (zflow__hpfeeds_buf_append (&conn->out, raw, size) == 0) {
        conn->msgs_out += frames;
        zflow_actor_counters_t *counters = zflow_actor_counters (self->base);
        counters->msgs_out += frames;
        counters->bytes_out += data;
        if (zflow__hpfeeds_buf_size (&conn->out) > self->out_high)
            s_conn_high (conn);
        if (!conn->dirty) {
            conn->dirty = true;
            zlistx_add_end (self->dirty, conn);
        }
        return;
    }
    if (frames > 1) {
        size_t overhead = (size - data) / frames; //  a run shares its ident and channel
        size_t offset = 0, done = 0;
        while (offset < size && !conn->dead) {
            size_t frame = zflow__hpfeeds_frame_size (raw + offset);
            s_conn_deliver (conn, channel, raw + offset, frame, 1, frame - overhead);
            offset += frame;
            done++;
        }
        if (done < frames) {
            //  closed in the middle of the run: the rest is lost with it
            uint64_t rest = frames - done;
            channel->drops += rest;
            conn->drops += rest;
            zflow_actor_counters (self->base)->drops += rest;
            self->slow_lost += rest;
        }
        return;
    }
    channel->drops++;
    if (self->policy == ZFLOW_HPFEEDS_SLOW_DROP) {
        conn->drops++;
        zflow_actor_counters (self->base)->drops++;
        self->slow_drops++;
    } else
        s_conn_slow_close (conn, 1);
}

//  Routes a run of accepted publish frames (frames of them, size bytes
//  at raw, data bytes of payload in all) to channel and counts them.
static void s_route (conn_t *conn, channel_t *channel, const uint8_t *raw, size_t size,
                     size_t frames, size_t data)
{
    broker_t *self = conn->broker;
    conn->msgs_in += frames;
    channel->msgs += frames;
    channel->bytes += data;
    zflow_actor_counters_t *counters = zflow_actor_counters (self->base);
    counters->msgs_in += frames;
    counters->bytes_in += data;
    if (zlistx_size (channel->subscribers) == 0) {
        channel->unrouted += frames; //  pub/sub: nobody to tell; counted, for loss accounts
        self->unrouted += frames;
    }
    for (conn_t *sub = (conn_t *) zlistx_first (channel->subscribers); sub;
         sub = (conn_t *) zlistx_next (channel->subscribers))
        s_conn_deliver (sub, channel, raw, size, frames, data);
}

//  Most bytes routed as one run (a single frame may be larger): under the
//  largest frame, so that BLOCK's room for one frame holds a run too.
#define S_RUN_BYTES (64 * 1024)

//  The fast path for a publisher that keeps to one channel: routes the
//  run of complete publish frames at the head of the input that carry the
//  ident and channel of the last accepted publish, without parsing them
//  in full. Returns the bytes consumed (0: the next frame is another kind).
static size_t s_route_run (conn_t *conn)
{
    const uint8_t *head = zflow__hpfeeds_buf_head (&conn->in);
    size_t size = zflow__hpfeeds_buf_size (&conn->in), run = 0, frames = 0, frame;
    while ((frame = zflow__hpfeeds_same_publish (head + run, size - run, conn->pub_prefix,
                                                 conn->pub_prefix_size)) &&
           (frames == 0 || run + frame <= S_RUN_BYTES)) {
        run += frame;
        frames++;
    }
    if (frames == 0)
        return 0;
    size_t overhead = ZFLOW_HPFEEDS_HEADER + conn->pub_prefix_size;
    s_route (conn, conn->last_pub, head, run, frames, run - frames * overhead);
    zflow__hpfeeds_buf_consume (&conn->in, run);
    return run;
}

static void s_handle_auth (conn_t *conn, const zflow_hpfeeds_frame_t *frame)
{
    broker_t *self = conn->broker;
    char ident[ZFLOW_HPFEEDS_MAX_STR + 1], text[S_ERRLEN];
    bool named = s_cstr (ident, frame->name, frame->name_size);
    zflow_hpfeeds_user_t *user = named ? zflow__hpfeeds_auth_lookup (self->auth, ident) : NULL;
    uint8_t hash[ZFLOW_HPFEEDS_HASH];
    if (user && frame->data_size == ZFLOW_HPFEEDS_HASH &&
        zflow__hpfeeds_hash (conn->nonce, sizeof (conn->nonce), user->secret, hash) == 0 &&
        CRYPTO_memcmp (hash, frame->data, ZFLOW_HPFEEDS_HASH) == 0) {
        conn->authed = true;
        conn->user = user;
        //  authenticated: frames up to the protocol's largest may come now
        conn->in.limit = ZFLOW_HPFEEDS_MAX_FRAME + S_READ_CHUNK;
        memcpy (conn->ident, ident, sizeof (ident));
        conn->ident_size = strlen (ident);
        if (zflow_actor_verbose (self->base))
            zsys_debug ("hpfeeds broker: connection %" PRIu64 " authenticated as %s", conn->id,
                        ident);
        return;
    }
    self->auth_failures++;
    snprintf (text, sizeof (text), "Authentication failed for %.*s", (int) frame->name_size,
              (const char *) frame->name);
    zflow__hpfeeds_broker_conn_refuse (conn, text);
}

static void s_handle_publish (conn_t *conn, const zflow_hpfeeds_frame_t *frame, const uint8_t *raw)
{
    broker_t *self = conn->broker;
    char name[ZFLOW_HPFEEDS_MAX_STR + 1], text[S_ERRLEN];
    if (frame->name_size != conn->ident_size ||
        memcmp (frame->name, conn->ident, frame->name_size)) {
        self->refusals++;
        snprintf (text, sizeof (text), "Invalid authkey in message, ident=%.*s",
                  (int) frame->name_size, (const char *) frame->name);
        zflow__hpfeeds_broker_conn_refuse (conn, text);
        return;
    }
    channel_t *channel = conn->last_pub;
    if (!channel || channel->name_size != frame->channel_size ||
        memcmp (channel->name, frame->channel, frame->channel_size)) {
        if (!s_cstr (name, frame->channel, frame->channel_size) ||
            !zhash_lookup (conn->user->pub, name)) {
            self->refusals++;
            snprintf (text, sizeof (text), "Authkey not allowed to pub here. ident=%s, chan=%.*s",
                      conn->ident, (int) frame->channel_size, (const char *) frame->channel);
            zflow__hpfeeds_broker_conn_refuse (conn, text);
            return;
        }
        channel = conn->last_pub = s_channel (self, name);
        //  the ident and channel strings, for s_route_run
        conn->pub_prefix_size = (size_t) (frame->data - raw) - ZFLOW_HPFEEDS_HEADER;
        memcpy (conn->pub_prefix, raw + ZFLOW_HPFEEDS_HEADER, conn->pub_prefix_size);
    }
    s_route (conn, channel, raw, frame->size, 1, frame->data_size);
}

static void s_handle_subscribe (conn_t *conn, const zflow_hpfeeds_frame_t *frame)
{
    broker_t *self = conn->broker;
    char name[ZFLOW_HPFEEDS_MAX_STR + 1], text[S_ERRLEN];
    bool subscribe = frame->op == ZFLOW_HPFEEDS_OP_SUBSCRIBE;
    if (!s_cstr (name, frame->channel, frame->channel_size) ||
        (subscribe && !zhash_lookup (conn->user->sub, name))) {
        if (!subscribe)
            return; //  never subscribed: nothing to do
        self->refusals++;
        snprintf (text, sizeof (text), "Authkey not allowed to sub here. ident=%s, chan=%.*s",
                  conn->ident, (int) frame->channel_size, (const char *) frame->channel);
        zflow__hpfeeds_broker_conn_refuse (conn, text);
        return;
    }
    //  Only a subscribe creates a channel: unsubscribes from random names
    //  must not grow the table.
    channel_t *channel =
        subscribe ? s_channel (self, name) : (channel_t *) zhash_lookup (self->channels, name);
    if (!channel)
        return;
    void *handle = zlistx_find (channel->subscribers, conn);
    if (subscribe && !handle) {
        zlistx_add_end (channel->subscribers, conn);
        zlistx_add_end (conn->subs, channel);
    } else if (!subscribe && handle) {
        zlistx_delete (channel->subscribers, handle);
        zlistx_delete (conn->subs, zlistx_find (conn->subs, channel));
    }
}

//  Handles one complete frame; raw points at its first byte.
static void s_handle_frame (conn_t *conn, const zflow_hpfeeds_frame_t *frame, const uint8_t *raw)
{
    char text[S_ERRLEN];
    if (!conn->authed) {
        if (frame->op == ZFLOW_HPFEEDS_OP_AUTH)
            s_handle_auth (conn, frame);
        else {
            conn->broker->refusals++;
            zflow__hpfeeds_broker_conn_refuse (conn, "First message was not AUTH");
        }
    } else if (frame->op == ZFLOW_HPFEEDS_OP_PUBLISH)
        s_handle_publish (conn, frame, raw);
    else if (frame->op == ZFLOW_HPFEEDS_OP_SUBSCRIBE || frame->op == ZFLOW_HPFEEDS_OP_UNSUBSCRIBE)
        s_handle_subscribe (conn, frame);
    else {
        conn->broker->protocol_errors++;
        snprintf (text, sizeof (text), "Known opcode at unexpected moment (opcode=%u, len=%u)",
                  frame->op, frame->size);
        zflow__hpfeeds_broker_conn_refuse (conn, text);
    }
}

//  Parses and handles every complete frame in the input buffer.
static void s_conn_parse (conn_t *conn)
{
    zflow_hpfeeds_frame_t frame;
    char text[S_ERRLEN];
    broker_t *self = conn->broker;
    while (!conn->closing && !conn->dead) {
        //  BLOCK: no frame is handled while a subscriber is near its limit,
        //  so every delivery has room for the largest frame.
        if (self->policy == ZFLOW_HPFEEDS_SLOW_BLOCK && self->congested > 0) {
            if (zflow__hpfeeds_buf_size (&conn->in) && !conn->stalled) {
                conn->stalled = true;
                self->stalls++;
                zlistx_add_end (self->stalled, conn);
                s_conn_poll (conn, (short) (conn->events & ~ZMQ_POLLIN));
            }
            break;
        }
        if (conn->last_pub && s_route_run (conn)) {
            conn->last_active = self->now;
            continue;
        }
        const uint8_t *raw = zflow__hpfeeds_buf_head (&conn->in);
        int rc = zflow__hpfeeds_parse (raw, zflow__hpfeeds_buf_size (&conn->in), &frame, text,
                                       sizeof (text));
        if (rc == 0) {
            if (!conn->authed && zflow__hpfeeds_buf_size (&conn->in) >= ZFLOW_HPFEEDS_HEADER &&
                raw[4] != ZFLOW_HPFEEDS_OP_AUTH) {
                //  refused from its header: the rest of a first frame that
                //  is not an auth (up to 1 MiB) is never read
                self->refusals++;
                zflow__hpfeeds_broker_conn_refuse (conn, "First message was not AUTH");
            }
            break;
        }
        if (rc < 0) {
            conn->broker->protocol_errors++;
            zflow__hpfeeds_broker_conn_refuse (conn, text);
            break;
        }
        s_handle_frame (conn, &frame, raw);
        zflow__hpfeeds_buf_consume (&conn->in, frame.size);
        conn->last_active = self->now;
    }
}

//  Writes pending output; adjusts POLLOUT; closes a drained refused peer.
void zflow__hpfeeds_broker_conn_flush (conn_t *conn)
{
    if (conn->dead)
        return;
    //  out_left: the rest of the head frame, so that DRAIN counts whole frames
    ssize_t written = zflow__hpfeeds_buf_write_fd (&conn->out, conn->fd, &conn->out_left);
    if (written < 0) {
        zflow__hpfeeds_broker_conn_kill (conn);
        return;
    }
    if (written > 0)
        conn->last_active = conn->broker->now;
    size_t queued = zflow__hpfeeds_buf_size (&conn->out);
    bool pending = queued > 0;
    if (!pending && !conn->authed)
        zflow__hpfeeds_buf_free (&conn->out); //  the info frame is out: hold nothing
    if (conn->slow_since && queued <= conn->broker->out_low)
        conn->slow_since = 0; //  caught up within its grace
    if (conn->closing && !pending && !conn->shut) {
        shutdown (conn->fd, SHUT_WR); //  the error is out: say we are done
        conn->shut = true;
    }
    if (conn->congested && zflow__hpfeeds_buf_size (&conn->out) <= conn->out.limit / 2) {
        conn->congested = false;
        if (--conn->broker->congested == 0)
            conn->broker->resume = true;
    }
    bool reading = !conn->stalled && !conn->eof;
    s_conn_poll (conn, (short) ((reading ? ZMQ_POLLIN : 0) | (pending ? ZMQ_POLLOUT : 0)));
}

void zflow__hpfeeds_broker_flush_dirty (broker_t *self)
{
    conn_t *conn;
    while ((conn = (conn_t *) zlistx_first (self->dirty))) {
        zlistx_delete (self->dirty, zlistx_cursor (self->dirty));
        conn->dirty = false;
        zflow__hpfeeds_broker_conn_flush (conn);
    }
}

//  BLOCK: once no subscriber is congested, the stalled publishers go on
//  with the input they hold (each may stall again).
static void s_resume (broker_t *self)
{
    while (self->resume && self->congested == 0 && zlistx_size (self->stalled)) {
        self->resume = false;
        zlistx_t *waiting = self->stalled;
        self->stalled = zlistx_new ();
        conn_t *conn;
        while ((conn = (conn_t *) zlistx_detach (waiting, NULL))) {
            conn->stalled = false;
            if (conn->dead)
                continue;
            zflow__hpfeeds_broker_conn_flush (conn); //  POLLIN again
            s_conn_parse (conn);
        }
        zlistx_destroy (&waiting);
        zflow__hpfeeds_broker_flush_dirty (self);
    }
    self->resume = false;
}

static int s_on_conn (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    conn_t *conn = (conn_t *) arg;
    if (conn->dead)
        return 0;
    if (item->revents & ZMQ_POLLOUT)
        zflow__hpfeeds_broker_conn_flush (conn);
    if (!conn->dead && (item->revents & (ZMQ_POLLIN | ZMQ_POLLERR))) {
        ssize_t rc = zflow__hpfeeds_buf_read_fd (&conn->in, conn->fd, S_READ_CHUNK);
        if (rc == 0 && conn->broker->draining && conn->authed && !conn->closing) {
            //  DRAIN: the peer sent its last frame; it may still be owed some
            conn->eof = true;
            zflow__hpfeeds_broker_conn_flush (conn);
        } else if (rc == 0 || (rc < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            if (zflow_actor_verbose (conn->broker->base))
                zsys_debug ("hpfeeds broker: connection %" PRIu64 ": read: %s", conn->id,
                            rc == 0 ? "end of stream" : strerror (errno));
            zflow__hpfeeds_broker_conn_kill (conn);
        } else if (conn->closing)
            zflow__hpfeeds_buf_consume (&conn->in, zflow__hpfeeds_buf_size (&conn->in));
        else if (rc > 0)
            s_conn_parse (conn);
    }
    zflow__hpfeeds_broker_flush_dirty (conn->broker);
    s_resume (conn->broker);
    return 0;
}

static void s_accept_one (broker_t *self, int fd)
{
    if (self->live >= self->max_connections) {
        //  over the limit: closed before the info frame (the peer sees the
        //  end of the stream), so that it costs nothing
        self->refused_connections++;
        close (fd);
        return;
    }
    //  TCP keepalive closes half-open connections, with the reference
    //  broker's settings (hpfeeds has no heartbeat)
    int one = 1, idle = 10, interval = 5, count = 3;
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
    setsockopt (fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof (one));
    setsockopt (fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof (idle));
    setsockopt (fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof (interval));
    setsockopt (fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof (count));
    conn_t *conn = (conn_t *) zmalloc (sizeof (conn_t));
    conn->broker = self;
    conn->fd = fd;
    conn->id = ++self->next_id;
    conn->subs = zlistx_new ();
    conn->accepted_at = zclock_mono ();
    conn->last_active = self->now;
    self->live++;
    //  Until auth only an auth frame may come: the input holds at most
    //  that (281 bytes), raised to the largest frame once authenticated.
    zflow__hpfeeds_buf_init (&conn->in, ZFLOW_HPFEEDS_MAX_INFO);
    zflow__hpfeeds_buf_init (&conn->out, self->outbuf_limit);
    if (getrandom (conn->nonce, sizeof (conn->nonce), 0) != (ssize_t) sizeof (conn->nonce))
        zsys_warning ("hpfeeds broker: getrandom failed, nonce is weak");
    uint8_t info[ZFLOW_HPFEEDS_MAX_INFO];
    int size = zflow__hpfeeds_encode_info (info, self->name, conn->nonce, sizeof (conn->nonce));
    zflow__hpfeeds_buf_append (&conn->out, info, (size_t) size);
    zlistx_add_end (self->conns, conn);
    self->connections_total++;
    if (zflow_actor_verbose (self->base))
        zsys_debug ("hpfeeds broker: connection %" PRIu64 " accepted", conn->id);
    zflow__hpfeeds_broker_conn_flush (conn);
}

static int s_on_listen (zloop_t *loop, zmq_pollitem_t *item, void *arg);

//  Listens again after a pause for lack of file descriptors.
static int s_on_listen_again (zloop_t *loop, int timer_id, void *arg)
{
    (void) timer_id;
    broker_t *self = (broker_t *) arg;
    zmq_pollitem_t item = {NULL, self->listen_fd, ZMQ_POLLIN, 0};
    zloop_poller (loop, &item, s_on_listen, self);
    zloop_poller_set_tolerant (loop, &item);
    return 0;
}

static int s_on_listen (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    (void) item;
    broker_t *self = (broker_t *) arg;
    for (int count = 0; count < 64; count++) {
        int fd = accept4 (self->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0)
            s_accept_one (self, fd);
        else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            //  The pending connection stays readable: stop listening for a
            //  moment rather than spin (counted).
            self->accept_pauses++;
            zmq_pollitem_t listen_item = {NULL, self->listen_fd, ZMQ_POLLIN, 0};
            zloop_poller_end (self->loop, &listen_item);
            zloop_timer (self->loop, 100, 1, s_on_listen_again, self);
            break;
        } else
            break; //  EAGAIN (all taken) or an aborted connection
    }
    return 0;
}

//  Applies the deadlines to a live connection: auth, idle, and the grace
//  of a slow subscriber.
static void s_conn_deadlines (conn_t *conn, int64_t now)
{
    broker_t *self = conn->broker;
    if (conn->closing || self->draining)
        return;
    if (!conn->authed) {
        if (now - conn->accepted_at >= self->auth_timeout_ms) {
            self->auth_timeouts++;
            zflow__hpfeeds_broker_conn_refuse (conn, "Authentication timeout");
        }
    } else if (self->idle_timeout_ms >= 0 && now - conn->last_active >= self->idle_timeout_ms) {
        self->idle_timeouts++;
        zflow__hpfeeds_broker_conn_refuse (conn, "Idle timeout");
    } else if (conn->slow_since && self->slow_grace_ms >= 0 &&
               now - conn->slow_since >= self->slow_grace_ms)
        s_conn_slow_close (conn, 0);
}

//  Frees dead connections, closes refused ones that linger, applies the
//  deadlines; gives memory back to the system after large frees.
static int s_on_reap (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    broker_t *self = (broker_t *) arg;
    int64_t now = self->now = zclock_mono ();
    size_t freed = 0;
    conn_t *conn = (conn_t *) zlistx_first (self->conns);
    while (conn) {
        if (conn->closing && !conn->dead && now - conn->closing_since > S_LINGER_MS)
            zflow__hpfeeds_broker_conn_kill (conn);
        if (!conn->dead)
            s_conn_deadlines (conn, now);
        if (conn->dead && !conn->dirty) {
            freed += conn->in.capacity + conn->out.capacity;
            zlistx_delete (self->conns, zlistx_cursor (self->conns));
            s_conn_free (&conn);
        }
        conn = (conn_t *) zlistx_next (self->conns);
    }
    zflow__hpfeeds_broker_flush_dirty (self);
#ifdef __GLIBC__
    //  glibc keeps freed buffers for reuse (1 MiB ones too, once its mmap
    //  threshold has grown): hand them back when much was freed
    if (freed >= 4 * 1024 * 1024)
        malloc_trim (0);
#else
    (void) freed;
#endif
    return 0;
}

int zflow__hpfeeds_broker_listen (broker_t *self, const char *host, const char *port)
{
    if (self->listen_fd >= 0)
        return ZFLOW_EINVAL;
    struct addrinfo hints = {0}, *result = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if (getaddrinfo (*host ? host : "127.0.0.1", port, &hints, &result) || !result)
        return ZFLOW_EENDPOINT;
    int fd = socket (result->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof (one));
    if (fd < 0 || bind (fd, result->ai_addr, result->ai_addrlen) || listen (fd, 128)) {
        if (fd >= 0)
            close (fd);
        freeaddrinfo (result);
        return ZFLOW_EENDPOINT;
    }
    freeaddrinfo (result);
    struct sockaddr_storage address;
    socklen_t length = sizeof (address);
    getsockname (fd, (struct sockaddr *) &address, &length);
    self->port =
        ntohs (address.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &address)->sin6_port
                                             : ((struct sockaddr_in *) &address)->sin_port);
    self->listen_fd = fd;
    zmq_pollitem_t item = {NULL, fd, ZMQ_POLLIN, 0};
    zloop_poller (self->loop, &item, s_on_listen, self);
    zloop_poller_set_tolerant (self->loop, &item);
    return self->port;
}

void zflow__hpfeeds_broker_unlisten (broker_t *self)
{
    if (self->listen_fd < 0)
        return;
    zmq_pollitem_t item = {NULL, self->listen_fd, ZMQ_POLLIN, 0};
    zloop_poller_end (self->loop, &item);
    close (self->listen_fd);
    self->listen_fd = -1;
}

void zflow__hpfeeds_broker_actor (zsock_t *pipe, void *args)
{
    const zflow_hpfeeds_broker_config_t *config = (const zflow_hpfeeds_broker_config_t *) args;
    broker_t self = {0};
    self.base = zflow_actor_new (pipe, "hpfeeds broker");
    self.name = strdup (config->name);
    self.auth = zflow__hpfeeds_auth_new ();
    self.conns = zlistx_new ();
    self.dirty = zlistx_new ();
    self.stalled = zlistx_new ();
    self.channels = zhash_new ();
    self.listen_fd = -1;
    self.drain_timer = -1;
    //  the smallest output buffers that work: 64 KiB, 4 MiB for BLOCK
    self.policy = config->slow_policy;
    self.outbuf_limit =
        config->outbuf_limit ? config->outbuf_limit : ZFLOW_HPFEEDS_BROKER_DEFAULT_OUTBUF;
    if (self.outbuf_limit < 65536)
        self.outbuf_limit = 65536;
    if (self.policy == ZFLOW_HPFEEDS_SLOW_BLOCK && self.outbuf_limit < 4 * 1024 * 1024)
        self.outbuf_limit = 4 * 1024 * 1024;
    self.slow_grace_ms =
        config->slow_grace_ms ? config->slow_grace_ms : ZFLOW_HPFEEDS_BROKER_DEFAULT_SLOW_GRACE;
    //  BLOCK: congested with no room left for the largest frame; DISCONNECT
    //  with a grace: slow above half (the rest is the grace's room), and
    //  caught up again at a quarter of that (asyncio's low-water mark,
    //  which ends the reference broker's deadline)
    self.out_high = SIZE_MAX;
    if (self.policy == ZFLOW_HPFEEDS_SLOW_BLOCK)
        self.out_high = self.outbuf_limit - ZFLOW_HPFEEDS_MAX_FRAME;
    else if (self.policy == ZFLOW_HPFEEDS_SLOW_DISCONNECT && self.slow_grace_ms >= 0)
        self.out_high = self.outbuf_limit / 2;
    self.out_low = self.out_high == SIZE_MAX ? 0 : self.out_high / 4;
    self.auth_timeout_ms = config->auth_timeout_ms ? config->auth_timeout_ms
                                                   : ZFLOW_HPFEEDS_BROKER_DEFAULT_AUTH_TIMEOUT;
    self.idle_timeout_ms = config->idle_timeout_ms ? config->idle_timeout_ms
                                                   : ZFLOW_HPFEEDS_BROKER_DEFAULT_IDLE_TIMEOUT;
    self.max_connections =
        (size_t) (config->max_connections ? config->max_connections
                                          : ZFLOW_HPFEEDS_BROKER_DEFAULT_MAX_CONNECTIONS);
    self.now = zclock_mono ();
    bool ok = self.base && self.name && self.auth && self.conns && self.dirty && self.stalled &&
              self.channels;
    if (ok) {
        self.loop = zflow_actor_loop (self.base);
        zflow_actor_set_command_handler (self.base, zflow__hpfeeds_broker_on_command, &self);
        zflow_actor_set_stats_handler (self.base, zflow__hpfeeds_broker_on_stats, &self);
        zloop_timer (self.loop, S_TICK_MS, 0, s_on_reap, &self);
        zflow_actor_ready (self.base, 0);
        zflow_actor_run (self.base);
    } else if (self.base)
        zflow_actor_ready (self.base, -1);
    conn_t *conn;
    while (self.conns && (conn = (conn_t *) zlistx_detach (self.conns, NULL)))
        s_conn_free (&conn);
    if (self.listen_fd >= 0)
        close (self.listen_fd);
    zlistx_destroy (&self.conns);
    zlistx_destroy (&self.dirty);
    zlistx_destroy (&self.stalled);
    zhash_destroy (&self.channels);
    zflow__hpfeeds_auth_destroy (&self.auth);
    free (self.name);
    zflow_actor_destroy (&self.base);
}
