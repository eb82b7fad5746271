/*  =========================================================================
    zflow_hub_guard - the hub's limits on its remote subscribers

    See zflow_hub_guard.h. Connections are kept in an array indexed by file
    descriptor (descriptors are small and reused), grown on demand.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_hub_guard.h"
#include "zflow_actor.h"
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__linux__) && defined(TCP_INFO)
//  Linux's struct tcp_info grows only at its end (it is kernel ABI); glibc's
//  copy stops before the bytes a peer acknowledged (Linux 4.1), so this
//  names the fields that follow it.
typedef struct {
    struct tcp_info base;     //  what glibc declares
    uint64_t pacing_rate;     //  tcpi_pacing_rate
    uint64_t max_pacing_rate; //  tcpi_max_pacing_rate
    uint64_t bytes_acked;     //  tcpi_bytes_acked: what the peer has taken
} s_tcp_info_t;
_Static_assert(offsetof (s_tcp_info_t, bytes_acked) == 120, "tcp_info layout");
#define S_HAVE_TCP_INFO 1
#endif

//  How often closed connections are forgotten, in milliseconds.
#define S_SWEEP_IVL 1000

//  One connection a remote peer made to the XPUB side.
typedef struct {
    ino_t ino;            //  its socket's inode (0: the slot is free)
    bool tcp;             //  a TCP socket: bytes taken are known
    bool dropped;         //  shut down by the guard: its messages are ignored
    size_t subscriptions; //  subscriptions it holds now
    size_t bytes;         //  their topics' size
    uint64_t acked;       //  bytes it had taken at the last check
    int64_t progress;     //  when it last took something or had nothing waiting
    int64_t pause;        //  the pause (its start) acked and progress belong to
} s_conn_t;

struct _zflow_hub_guard_t {
    s_conn_t *conns;           //  by file descriptor
    size_t size;               //  slots in conns
    size_t max_subscriptions;  //  per connection
    size_t max_bytes;          //  of topics, all connections together
    int64_t stall_limit;       //  ms; 0: never drop a stalled subscriber
    size_t bytes;              //  of topics, all connections together
    int64_t swept;             //  when closed connections were last forgotten
    uint64_t stalled;          //  connections dropped: took nothing for too long
    uint64_t over_limit;       //  connections dropped: too many subscriptions
    uint64_t refused_messages; //  messages ignored from dropped connections
};

zflow_hub_guard_t *zflow__hub_guard_new (size_t max_peer_subscriptions, size_t max_bytes,
                                         int stall_limit_ms)
{
    zflow_hub_guard_t *self = (zflow_hub_guard_t *) zmalloc (sizeof (zflow_hub_guard_t));
    if (!self)
        return NULL;
    self->max_subscriptions = max_peer_subscriptions;
    self->max_bytes = max_bytes;
    self->stall_limit = stall_limit_ms > 0 ? stall_limit_ms : 0;
    self->swept = zclock_mono ();
    return self;
}

void zflow__hub_guard_destroy (zflow_hub_guard_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->conns);
        free (*self_p);
        *self_p = NULL;
    }
}

int zflow__hub_guard_interval (zflow_hub_guard_t *self)
{
    //  a tenth of the limit: a stalled subscriber goes within 120 % of it
    //  (one interval to the first look, one to the look past the limit)
    int64_t interval = self->stall_limit ? self->stall_limit / 10 : S_SWEEP_IVL;
    return (int) (interval < 20 ? 20 : interval > S_SWEEP_IVL ? S_SWEEP_IVL : interval);
}

//  The inode of the socket on fd, 0 if fd is no socket (closed).
static ino_t s_inode (int fd)
{
    struct stat status;
    return fstat (fd, &status) == 0 && S_ISSOCK (status.st_mode) ? status.st_ino : 0;
}

//  Bytes the peer of a TCP socket has taken (acknowledged) so far, and in
//  *waiting_p whether data waits for it. False when unknown.
static bool s_acked (int fd, uint64_t *acked_p, bool *waiting_p)
{
#ifdef S_HAVE_TCP_INFO
    s_tcp_info_t info;
    socklen_t size = sizeof (info);
    memset (&info, 0, sizeof (info));
    int queued = 0;
    if (getsockopt (fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0 || size < sizeof (info) ||
        ioctl (fd, TIOCOUTQ, &queued) != 0)
        return false;
    *acked_p = info.bytes_acked;
    *waiting_p = queued > 0;
    return true;
#else
    (void) fd, (void) acked_p, (void) waiting_p;
    return false;
#endif
}

//  The connection on fd now (a new one when the socket there changed), or
//  NULL when fd is closed or out of memory.
static s_conn_t *s_conn (zflow_hub_guard_t *self, int fd)
{
    ino_t ino = s_inode (fd);
    if (!ino)
        return NULL;
    if ((size_t) fd >= self->size) {
        size_t size = self->size ? self->size : 64;
        while (size <= (size_t) fd)
            size *= 2;
        s_conn_t *conns = (s_conn_t *) realloc (self->conns, size * sizeof (s_conn_t));
        if (!conns)
            return NULL;
        memset (conns + self->size, 0, (size - self->size) * sizeof (s_conn_t));
        self->conns = conns;
        self->size = size;
    }
    s_conn_t *conn = &self->conns[fd];
    if (conn->ino != ino) {
        self->bytes -= conn->bytes;
        memset (conn, 0, sizeof (*conn));
        conn->ino = ino;
        uint64_t acked;
        bool waiting;
        conn->tcp = s_acked (fd, &acked, &waiting);
    }
    return conn;
}

//  Breaks the connection off under libzmq, which sees it fail, closes it
//  and unsubscribes all it held. A TCP socket is disconnected (connect to
//  AF_UNSPEC: a reset, both queues discarded, at once: a peer still
//  flooding the hub is cut off now, not once what it sent is read);
//  another is shut down (a Unix socket's peer then fails to send).
static void s_drop (zflow_hub_guard_t *self, s_conn_t *conn)
{
    int fd = (int) (conn - self->conns);
    struct sockaddr unspecified;
    memset (&unspecified, 0, sizeof (unspecified));
    unspecified.sa_family = AF_UNSPEC;
    if (!conn->tcp || connect (fd, &unspecified, sizeof (unspecified)) != 0)
        shutdown (fd, SHUT_RDWR);
    conn->dropped = true;
    self->bytes -= conn->bytes;
    conn->bytes = 0;
    conn->subscriptions = 0;
}

//  Forgets connections whose socket is closed (or replaced).
static void s_sweep (zflow_hub_guard_t *self)
{
    for (size_t fd = 0; fd < self->size; fd++) {
        s_conn_t *conn = &self->conns[fd];
        if (conn->ino && s_inode ((int) fd) != conn->ino) {
            self->bytes -= conn->bytes;
            memset (conn, 0, sizeof (*conn));
        }
    }
    self->swept = zclock_mono ();
}

//  All connections hold too much: drops the one holding the most. Returns
//  it (NULL if none: what was counted is gone).
static s_conn_t *s_drop_biggest (zflow_hub_guard_t *self)
{
    s_sweep (self);
    if (self->bytes <= self->max_bytes)
        return NULL;
    s_conn_t *biggest = NULL;
    for (size_t fd = 0; fd < self->size; fd++)
        if (self->conns[fd].ino && (!biggest || self->conns[fd].bytes > biggest->bytes))
            biggest = &self->conns[fd];
    if (biggest)
        s_drop (self, biggest);
    return biggest;
}

bool zflow__hub_guard_account (zflow_hub_guard_t *self, void *zmq_msg, int delta, size_t size)
{
    int fd = zmq_msg_get ((zmq_msg_t *) zmq_msg, ZMQ_SRCFD);
    s_conn_t *conn = fd >= 0 ? s_conn (self, fd) : NULL;
    if (!conn)
        return true;
    if (conn->dropped) {
        self->refused_messages++;
        return false;
    }
    if (delta > 0) {
        conn->subscriptions++;
        conn->bytes += size;
        self->bytes += size;
    } else if (delta < 0 && conn->subscriptions) {
        size = size < conn->bytes ? size : conn->bytes;
        conn->subscriptions--;
        conn->bytes -= size;
        self->bytes -= size;
    }
    if (conn->subscriptions > self->max_subscriptions) {
        s_drop (self, conn);
        self->over_limit++;
        return false;
    }
    if (self->bytes > self->max_bytes) {
        s_conn_t *dropped = s_drop_biggest (self);
        if (dropped)
            self->over_limit++;
        return dropped != conn;
    }
    return true;
}

//  Drops conn (on fd) when it had data waiting and took none of it for the
//  stall limit, during the pause that began at paused_since.
static void s_check_stall (zflow_hub_guard_t *self, s_conn_t *conn, int fd, int64_t paused_since,
                           int64_t now)
{
    uint64_t acked;
    bool waiting;
    if (!s_acked (fd, &acked, &waiting))
        return;
    if (conn->pause != paused_since || acked != conn->acked || !waiting) {
        //  a new pause (what it took before this first look is unknown: count
        //  from now), or it took something, or nothing waits for it
        conn->progress = now;
        conn->pause = paused_since;
        conn->acked = acked;
    }
    if (waiting && now - conn->progress >= self->stall_limit) {
        s_drop (self, conn);
        self->stalled++;
    }
}

void zflow__hub_guard_check (zflow_hub_guard_t *self, int64_t paused_since)
{
    int64_t now = zclock_mono ();
    if (now - self->swept >= S_SWEEP_IVL)
        s_sweep (self);
    if (!self->stall_limit || !paused_since)
        return;
    for (size_t fd = 0; fd < self->size; fd++) {
        s_conn_t *conn = &self->conns[fd];
        if (conn->ino && conn->tcp && !conn->dropped && s_inode ((int) fd) == conn->ino)
            s_check_stall (self, conn, (int) fd, paused_since, now);
    }
}

void zflow__hub_guard_stats (zflow_hub_guard_t *self, zmsg_t *reply)
{
    uint64_t connections = 0, subscriptions = 0;
    for (size_t fd = 0; fd < self->size; fd++)
        if (self->conns[fd].ino && !self->conns[fd].dropped) {
            connections++;
            subscriptions += self->conns[fd].subscriptions;
        }
    zflow_actor_stats_add (reply, "stalled_disconnects", self->stalled);
    zflow_actor_stats_add (reply, "subscription_disconnects", self->over_limit);
    zflow_actor_stats_add (reply, "remote_connections", connections);
    zflow_actor_stats_add (reply, "remote_subscriptions", subscriptions);
    zflow_actor_stats_add (reply, "remote_subscription_bytes", self->bytes);
    zflow_actor_stats_add (reply, "refused_messages", self->refused_messages);
}
