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
#include "zflow_hpfeeds_broker.h"
#include "zflow_hpfeeds_broker_actor.h"
#include "zflow_actor.h"
#include "zflow_error.h"
#include "zflow_hpfeeds_auth.h"
#include "zflow_hpfeeds_buf.h"
#include "zflow_hpfeeds_proto.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_READ_CHUNK (256 * 1024)    //  bytes asked of the kernel per read
#define S_LINGER_MS 1000             //  longest wait for a refused peer to close
#define S_ERRLEN 600                 //  room for an error text

typedef struct _broker_t broker_t;

//  A channel someone published to or subscribed to.
typedef struct {
    char *name;               //  channel name
    zlistx_t *subscribers;    //  conn_t * subscribed now (not owned)
    uint64_t msgs;            //  publishes received
    uint64_t bytes;           //  payload bytes received
    uint64_t drops;           //  deliveries dropped for slow subscribers
} channel_t;

//  One client connection.
typedef struct {
    broker_t *broker;             //  the broker
    int fd;                       //  the TCP socket (non-blocking)
    uint64_t id;                  //  connection number
    short events;                 //  poll events registered now
    bool authed;                  //  auth accepted
    bool closing;                 //  refused: flushing the error, then close
    bool dead;                    //  closed: waits for the reaper
    bool dirty;                   //  on the broker's list of pending writes
    bool shut;                    //  shutdown (SHUT_WR) done
    bool congested;               //  BLOCK: output near its limit
    bool stalled;                 //  BLOCK: input paused until no one is congested
    int64_t closing_since;        //  when closing began (ms)
    uint8_t nonce[ZFLOW_HPFEEDS_NONCE];  //  the nonce sent in info
    char ident[ZFLOW_HPFEEDS_MAX_STR + 1];  //  authenticated ident
    zflow_hpfeeds_user_t *user;   //  its user entry (owned by the table)
    zflow_hpfeeds_buf_t in;       //  bytes read, not yet parsed
    zflow_hpfeeds_buf_t out;      //  bytes to send (bounded)
    zlistx_t *subs;               //  channel_t * subscribed (not owned)
    channel_t *last_pub;          //  cache: last channel published to (allowed)
    uint64_t msgs_in;             //  publishes received
    uint64_t msgs_out;            //  publishes delivered to it
    uint64_t drops;               //  deliveries dropped (slow)
} conn_t;

struct _broker_t {
    zflow_actor_t *base;          //  actor base (pipe, loop, counters)
    zloop_t *loop;                //  the loop (owned by base)
    char *name;                   //  name in the info frame
    zflow_hpfeeds_auth_t *auth;   //  users
    int listen_fd;                //  listening socket, or -1
    int port;                     //  its port
    zlistx_t *conns;              //  conn_t * (owned)
    zlistx_t *dirty;              //  conn_t * with output to flush (not owned)
    zlistx_t *stalled;            //  conn_t * whose input waits (BLOCK; not owned)
    int congested;                //  connections with congested set
    bool resume;                  //  congestion ended: resume the stalled
    uint64_t stalls;              //  times a publisher was stalled
    zhash_t *channels;            //  name -> channel_t (owned)
    zflow_hpfeeds_slow_policy_t policy;  //  slow subscriber policy
    size_t outbuf_limit;          //  output buffer per connection
    uint64_t next_id;             //  next connection number
    uint64_t connections_total;   //  connections accepted
    uint64_t auth_failures;       //  refused auths
    uint64_t refusals;            //  refused publish / subscribe / first message
    uint64_t slow_drops;          //  deliveries dropped (policy drop)
    uint64_t slow_disconnects;    //  connections closed (policy disconnect)
    uint64_t protocol_errors;     //  malformed or oversized frames
    uint64_t accept_pauses;       //  times accepting paused (out of file descriptors)
};

static void s_conn_flush (conn_t *conn);
static int s_on_conn (zloop_t *loop, zmq_pollitem_t *item, void *arg);

//  The channel table's free function.
static void
s_channel_destroy (void *item)
{
    channel_t *channel = (channel_t *) item;
    free (channel->name);
    zlistx_destroy (&channel->subscribers);
    free (channel);
}

//  Returns the channel, creating it. name is NUL-terminated.
static channel_t *
s_channel (broker_t *self, const char *name)
{
    channel_t *channel = (channel_t *) zhash_lookup (self->channels, name);
    if (channel)
        return channel;
    channel = (channel_t *) zmalloc (sizeof (channel_t));
    channel->name = strdup (name);
    channel->subscribers = zlistx_new ();
    zhash_insert (self->channels, name, channel);
    zhash_freefn (self->channels, name, s_channel_destroy);
    return channel;
}

//  Copies a wire string to a C string; false if it holds a NUL byte.
static bool
s_cstr (char *dst, const uint8_t *src, size_t size)
{
    if (size > ZFLOW_HPFEEDS_MAX_STR || memchr (src, 0, size))
        return false;
    memcpy (dst, src, size);
    dst[size] = 0;
    return true;
}

//  Registers the connection's poller for events (no-op if unchanged).
static void
s_conn_poll (conn_t *conn, short events)
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
static void
s_conn_kill (conn_t *conn)
{
    if (conn->dead)
        return;
    s_conn_poll (conn, 0);
    conn->dead = true;
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

static void
s_conn_free (conn_t **conn_p)
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

//  Refuses: sends an error frame with text, then closes once it is out.
static void
s_conn_refuse (conn_t *conn, const char *text)
{
    if (zflow_actor_verbose (conn->broker->base))
        zsys_debug ("hpfeeds broker: connection %" PRIu64 ": ERROR: %s", conn->id, text);
    size_t size = strlen (text);
    if (size > 1024)
        size = 1024;
    uint8_t frame[ZFLOW_HPFEEDS_HEADER + 1024];
    int total = zflow__hpfeeds_encode_error (frame, text, size);
    //  The error goes out even past the limit: it is small and the last.
    conn->out.limit += (size_t) total;
    zflow__hpfeeds_buf_append (&conn->out, frame, (size_t) total);
    conn->closing = true;
    conn->closing_since = zclock_mono ();
    s_conn_flush (conn);
}

//  Appends a frame for a subscriber, applying the slow policy.
static void
s_conn_deliver (conn_t *conn, channel_t *channel, const uint8_t *frame, size_t size)
{
    broker_t *self = conn->broker;
    if (conn->closing || conn->dead)
        return;
    if (zflow__hpfeeds_buf_append (&conn->out, frame, size) == 0) {
        conn->msgs_out++;
        if (self->policy == ZFLOW_HPFEEDS_SLOW_BLOCK && !conn->congested
            && zflow__hpfeeds_buf_size (&conn->out) > conn->out.limit - ZFLOW_HPFEEDS_MAX_FRAME) {
            conn->congested = true;
            self->congested++;
        }
        if (!conn->dirty) {
            conn->dirty = true;
            zlistx_add_end (self->dirty, conn);
        }
        return;
    }
    conn->drops++;
    channel->drops++;
    zflow_actor_counters (self->base)->drops++;
    if (self->policy == ZFLOW_HPFEEDS_SLOW_DROP)
        self->slow_drops++;
    else {
        self->slow_disconnects++;
        if (zflow_actor_verbose (self->base))
            zsys_debug ("hpfeeds broker: connection %" PRIu64 " too slow, closed", conn->id);
        s_conn_kill (conn);
    }
}

static void
s_handle_auth (conn_t *conn, const zflow_hpfeeds_frame_t *frame)
{
    broker_t *self = conn->broker;
    char ident[ZFLOW_HPFEEDS_MAX_STR + 1], text[S_ERRLEN];
    bool named = s_cstr (ident, frame->name, frame->name_size);
    zflow_hpfeeds_user_t *user = named ? zflow__hpfeeds_auth_lookup (self->auth, ident) : NULL;
    uint8_t hash[ZFLOW_HPFEEDS_HASH];
    if (user && frame->data_size == ZFLOW_HPFEEDS_HASH
        && zflow__hpfeeds_hash (conn->nonce, sizeof (conn->nonce), user->secret, hash) == 0
        && CRYPTO_memcmp (hash, frame->data, ZFLOW_HPFEEDS_HASH) == 0) {
        conn->authed = true;
        conn->user = user;
        memcpy (conn->ident, ident, sizeof (ident));
        if (zflow_actor_verbose (self->base))
            zsys_debug ("hpfeeds broker: connection %" PRIu64 " authenticated as %s", conn->id,
                        ident);
        return;
    }
    self->auth_failures++;
    snprintf (text, sizeof (text), "Authentication failed for %.*s", (int) frame->name_size,
              (const char *) frame->name);
    s_conn_refuse (conn, text);
}

static void
s_handle_publish (conn_t *conn, const zflow_hpfeeds_frame_t *frame, const uint8_t *raw)
{
    broker_t *self = conn->broker;
    char name[ZFLOW_HPFEEDS_MAX_STR + 1], text[S_ERRLEN];
    if (frame->name_size != strlen (conn->ident)
        || memcmp (frame->name, conn->ident, frame->name_size)) {
        self->refusals++;
        snprintf (text, sizeof (text), "Invalid authkey in message, ident=%.*s",
                  (int) frame->name_size, (const char *) frame->name);
        s_conn_refuse (conn, text);
        return;
    }
    channel_t *channel = conn->last_pub;
    if (!channel || strlen (channel->name) != frame->channel_size
        || memcmp (channel->name, frame->channel, frame->channel_size)) {
        if (!s_cstr (name, frame->channel, frame->channel_size)
            || !zhash_lookup (conn->user->pub, name)) {
            self->refusals++;
            snprintf (text, sizeof (text),
                      "Authkey not allowed to pub here. ident=%s, chan=%.*s", conn->ident,
                      (int) frame->channel_size, (const char *) frame->channel);
            s_conn_refuse (conn, text);
            return;
        }
        channel = conn->last_pub = s_channel (self, name);
    }
    conn->msgs_in++;
    channel->msgs++;
    channel->bytes += frame->data_size;
    zflow_counters_t *counters = zflow_actor_counters (self->base);
    counters->msgs_in++;
    counters->bytes_in += frame->data_size;
    for (conn_t *sub = (conn_t *) zlistx_first (channel->subscribers); sub;
         sub = (conn_t *) zlistx_next (channel->subscribers)) {
        s_conn_deliver (sub, channel, raw, frame->size);
        counters->msgs_out++;
        counters->bytes_out += frame->data_size;
    }
}

static void
s_handle_subscribe (conn_t *conn, const zflow_hpfeeds_frame_t *frame)
{
    broker_t *self = conn->broker;
    char name[ZFLOW_HPFEEDS_MAX_STR + 1], text[S_ERRLEN];
    bool subscribe = frame->op == ZFLOW_HPFEEDS_OP_SUBSCRIBE;
    if (!s_cstr (name, frame->channel, frame->channel_size)
        || (subscribe && !zhash_lookup (conn->user->sub, name))) {
        if (!subscribe)
            return;     //  never subscribed: nothing to do
        self->refusals++;
        snprintf (text, sizeof (text), "Authkey not allowed to sub here. ident=%s, chan=%.*s",
                  conn->ident, (int) frame->channel_size, (const char *) frame->channel);
        s_conn_refuse (conn, text);
        return;
    }
    //  Only a subscribe creates a channel: unsubscribes from random names
    //  must not grow the table.
    channel_t *channel = subscribe ? s_channel (self, name)
                                   : (channel_t *) zhash_lookup (self->channels, name);
    if (!channel)
        return;
    void *handle = zlistx_find (channel->subscribers, conn);
    if (subscribe && !handle) {
        zlistx_add_end (channel->subscribers, conn);
        zlistx_add_end (conn->subs, channel);
    }
    else if (!subscribe && handle) {
        zlistx_delete (channel->subscribers, handle);
        zlistx_delete (conn->subs, zlistx_find (conn->subs, channel));
    }
}

//  Handles one complete frame; raw points at its first byte.
static void
s_handle_frame (conn_t *conn, const zflow_hpfeeds_frame_t *frame, const uint8_t *raw)
{
    char text[S_ERRLEN];
    if (!conn->authed) {
        if (frame->op == ZFLOW_HPFEEDS_OP_AUTH)
            s_handle_auth (conn, frame);
        else {
            conn->broker->refusals++;
            s_conn_refuse (conn, "First message was not AUTH");
        }
    }
    else if (frame->op == ZFLOW_HPFEEDS_OP_PUBLISH)
        s_handle_publish (conn, frame, raw);
    else if (frame->op == ZFLOW_HPFEEDS_OP_SUBSCRIBE || frame->op == ZFLOW_HPFEEDS_OP_UNSUBSCRIBE)
        s_handle_subscribe (conn, frame);
    else {
        conn->broker->protocol_errors++;
        snprintf (text, sizeof (text), "Known opcode at unexpected moment (opcode=%u, len=%u)",
                  frame->op, frame->size);
        s_conn_refuse (conn, text);
    }
}

//  Parses and handles every complete frame in the input buffer.
static void
s_conn_parse (conn_t *conn)
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
        const uint8_t *raw = zflow__hpfeeds_buf_head (&conn->in);
        int rc = zflow__hpfeeds_parse (raw, zflow__hpfeeds_buf_size (&conn->in), &frame, text,
                                       sizeof (text));
        if (rc == 0)
            break;
        if (rc < 0) {
            conn->broker->protocol_errors++;
            s_conn_refuse (conn, text);
            break;
        }
        s_handle_frame (conn, &frame, raw);
        zflow__hpfeeds_buf_consume (&conn->in, frame.size);
    }
}

//  Writes pending output; adjusts POLLOUT; closes a drained refused peer.
static void
s_conn_flush (conn_t *conn)
{
    if (conn->dead)
        return;
    if (zflow__hpfeeds_buf_write_fd (&conn->out, conn->fd) < 0) {
        s_conn_kill (conn);
        return;
    }
    bool pending = zflow__hpfeeds_buf_size (&conn->out) > 0;
    if (conn->closing && !pending && !conn->shut) {
        shutdown (conn->fd, SHUT_WR);     //  the error is out: say we are done
        conn->shut = true;
    }
    if (conn->congested && zflow__hpfeeds_buf_size (&conn->out) <= conn->out.limit / 2) {
        conn->congested = false;
        if (--conn->broker->congested == 0)
            conn->broker->resume = true;
    }
    s_conn_poll (conn, (short) ((conn->stalled ? 0 : ZMQ_POLLIN) | (pending ? ZMQ_POLLOUT : 0)));
}

static void
s_flush_dirty (broker_t *self)
{
    conn_t *conn;
    while ((conn = (conn_t *) zlistx_first (self->dirty))) {
        zlistx_delete (self->dirty, zlistx_cursor (self->dirty));
        conn->dirty = false;
        s_conn_flush (conn);
    }
}

//  BLOCK: once no subscriber is congested, the stalled publishers go on
//  with the input they hold (each may stall again).
static void
s_resume (broker_t *self)
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
            s_conn_flush (conn);        //  POLLIN again
            s_conn_parse (conn);
        }
        zlistx_destroy (&waiting);
        s_flush_dirty (self);
    }
    self->resume = false;
}

static int
s_on_conn (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    conn_t *conn = (conn_t *) arg;
    if (conn->dead)
        return 0;
    if (item->revents & ZMQ_POLLOUT)
        s_conn_flush (conn);
    if (!conn->dead && (item->revents & (ZMQ_POLLIN | ZMQ_POLLERR))) {
        ssize_t rc = zflow__hpfeeds_buf_read_fd (&conn->in, conn->fd, S_READ_CHUNK);
        if (rc == 0 || (rc < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            if (zflow_actor_verbose (conn->broker->base))
                zsys_debug ("hpfeeds broker: connection %" PRIu64 ": read: %s", conn->id,
                            rc == 0 ? "end of stream" : strerror (errno));
            s_conn_kill (conn);
        }
        else if (conn->closing)
            zflow__hpfeeds_buf_consume (&conn->in, zflow__hpfeeds_buf_size (&conn->in));
        else if (rc > 0)
            s_conn_parse (conn);
    }
    s_flush_dirty (conn->broker);
    s_resume (conn->broker);
    return 0;
}

static void
s_accept_one (broker_t *self, int fd)
{
    int one = 1;
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
    conn_t *conn = (conn_t *) zmalloc (sizeof (conn_t));
    conn->broker = self;
    conn->fd = fd;
    conn->id = ++self->next_id;
    conn->subs = zlistx_new ();
    zflow__hpfeeds_buf_init (&conn->in, ZFLOW_HPFEEDS_MAX_FRAME + S_READ_CHUNK);
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
    s_conn_flush (conn);
}

static int
s_on_listen (zloop_t *loop, zmq_pollitem_t *item, void *arg);

//  Listens again after a pause for lack of file descriptors.
static int
s_on_listen_again (zloop_t *loop, int timer_id, void *arg)
{
    (void) timer_id;
    broker_t *self = (broker_t *) arg;
    zmq_pollitem_t item = {NULL, self->listen_fd, ZMQ_POLLIN, 0};
    zloop_poller (loop, &item, s_on_listen, self);
    zloop_poller_set_tolerant (loop, &item);
    return 0;
}

static int
s_on_listen (zloop_t *loop, zmq_pollitem_t *item, void *arg)
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
        }
        else
            break;      //  EAGAIN (all taken) or an aborted connection
    }
    return 0;
}

//  Frees dead connections and closes refused ones that linger.
static int
s_on_reap (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    broker_t *self = (broker_t *) arg;
    int64_t now = zclock_mono ();
    conn_t *conn = (conn_t *) zlistx_first (self->conns);
    while (conn) {
        if (conn->closing && !conn->dead && now - conn->closing_since > S_LINGER_MS)
            s_conn_kill (conn);
        if (conn->dead && !conn->dirty) {
            zlistx_delete (self->conns, zlistx_cursor (self->conns));
            s_conn_free (&conn);
        }
        conn = (conn_t *) zlistx_next (self->conns);
    }
    return 0;
}

//  After users change, connections point at the current entries; an ident
//  that is gone is refused.
static void
s_refresh_users (broker_t *self)
{
    for (conn_t *conn = (conn_t *) zlistx_first (self->conns); conn;
         conn = (conn_t *) zlistx_next (self->conns)) {
        if (!conn->authed || conn->dead)
            continue;
        conn->user = zflow__hpfeeds_auth_lookup (self->auth, conn->ident);
        conn->last_pub = NULL;
        if (!conn->user) {
            conn->authed = false;
            s_conn_refuse (conn, "Authentication failed: ident removed");
        }
    }
}

static int
s_bind (broker_t *self, const char *host, const char *port)
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
    self->port = ntohs (address.ss_family == AF_INET6
                            ? ((struct sockaddr_in6 *) &address)->sin6_port
                            : ((struct sockaddr_in *) &address)->sin_port);
    self->listen_fd = fd;
    zmq_pollitem_t item = {NULL, fd, ZMQ_POLLIN, 0};
    zloop_poller (self->loop, &item, s_on_listen, self);
    zloop_poller_set_tolerant (self->loop, &item);
    return self->port;
}

//  ADD USER: ident, secret, owner, npub, pub..., sub...
static int
s_cmd_add_user (broker_t *self, zmsg_t *request)
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

static int
s_on_command (zflow_actor_t *base, const char *command, zmsg_t *request, void *arg)
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
    }
    else if (streq (command, "POLICY")) {
        char *policy = zmsg_popstr (request);
        char *limit = zmsg_popstr (request);
        self->policy = policy && streq (policy, "1")   ? ZFLOW_HPFEEDS_SLOW_DROP
                       : policy && streq (policy, "2") ? ZFLOW_HPFEEDS_SLOW_BLOCK
                                                       : ZFLOW_HPFEEDS_SLOW_DISCONNECT;
        size_t bytes = limit ? (size_t) strtoull (limit, NULL, 10) : 0;
        if (bytes)
            self->outbuf_limit = bytes < 65536 ? 65536 : bytes;
        if (self->policy == ZFLOW_HPFEEDS_SLOW_BLOCK && self->outbuf_limit < 4 * 1024 * 1024)
            self->outbuf_limit = 4 * 1024 * 1024;
        zstr_free (&policy);
        zstr_free (&limit);
        zsock_send (pipe, "i", 0);
    }
    else if (streq (command, "BIND")) {
        char *host = zmsg_popstr (request);
        char *port = zmsg_popstr (request);
        zsock_send (pipe, "i", s_bind (self, host ? host : "", port ? port : "0"));
        zstr_free (&host);
        zstr_free (&port);
    }
    else
        zsys_warning ("hpfeeds broker: unknown command '%s'", command);
    return 0;
}

static void
s_on_stats (zflow_actor_t *base, zmsg_t *reply, void *arg)
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
        snprintf (name, sizeof (name), "chan.%s.subscribers", channel->name);
        zflow_actor_stats_add (reply, name, zlistx_size (channel->subscribers));
    }
    zflow_actor_stats_add (reply, "connections", live);
    zflow_actor_stats_add (reply, "connections_total", self->connections_total);
    zflow_actor_stats_add (reply, "auth_failures", self->auth_failures);
    zflow_actor_stats_add (reply, "refusals", self->refusals);
    zflow_actor_stats_add (reply, "slow_drops", self->slow_drops);
    zflow_actor_stats_add (reply, "slow_disconnects", self->slow_disconnects);
    zflow_actor_stats_add (reply, "protocol_errors", self->protocol_errors);
    zflow_actor_stats_add (reply, "accept_pauses", self->accept_pauses);
    zflow_actor_stats_add (reply, "stalls", self->stalls);
    zflow_actor_stats_add (reply, "congested", (uint64_t) self->congested);
}

void
zflow__hpfeeds_broker_actor (zsock_t *pipe, void *args)
{
    broker_t self = {0};
    self.base = zflow_actor_new (pipe, "hpfeeds broker");
    self.name = strdup (args ? (const char *) args : "zflow");
    self.auth = zflow__hpfeeds_auth_new ();
    self.conns = zlistx_new ();
    self.dirty = zlistx_new ();
    self.stalled = zlistx_new ();
    self.channels = zhash_new ();
    self.listen_fd = -1;
    self.outbuf_limit = ZFLOW_HPFEEDS_BROKER_DEFAULT_OUTBUF;
    bool ok = self.base && self.name && self.auth && self.conns && self.dirty && self.stalled
              && self.channels;
    if (ok) {
        self.loop = zflow_actor_loop (self.base);
        zflow_actor_set_command_handler (self.base, s_on_command, &self);
        zflow_actor_set_stats_handler (self.base, s_on_stats, &self);
        zloop_timer (self.loop, 100, 0, s_on_reap, &self);
        zflow_actor_ready (self.base, 0);
        zflow_actor_run (self.base);
    }
    else if (self.base)
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
