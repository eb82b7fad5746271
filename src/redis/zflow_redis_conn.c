/*  =========================================================================
    zflow_redis_conn - hiredis's asynchronous context on a zloop, with
    AUTH, SELECT and reconnects (see zflow_redis_internal.h)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_redis_internal.h"
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>

#define S_BACKOFF_MIN_MS 100

struct _zflow__redis_conn_t {
    zloop_t *loop;                   //  the actor's loop (borrowed)
    redisAsyncContext *ac;           //  the hiredis context, or NULL when closed
    char *host;                      //  server host
    int port;                        //  server port
    char *user;                      //  ACL user, or NULL
    char *password;                  //  AUTH password, or NULL
    int db;                          //  database to SELECT, 0 for none
    char *label;                     //  trace label
    int backoff_max_ms;              //  longest reconnect delay
    int connect_timeout_ms;          //  deadline for connect + AUTH + SELECT
    int attempt;                     //  failed attempts since the last ready connection
    int timer;                       //  reconnect or connect-timeout timer, or -1
    int polled;                      //  events the loop's poller waits for (0: none)
    int fd;                          //  the socket the poller is on
    bool want_read;                  //  hiredis wants read events
    bool want_write;                 //  hiredis has output to write
    bool paused;                     //  the owner stopped reading (flow control)
    bool ready;                      //  AUTH and SELECT done
    bool failed;                     //  the setup was refused: no ready on this connection
    bool closing;                    //  destroy is under way: no reconnect
    zflow_actor_t *base;             //  the owner's actor base: its VERBOSE traces here
    zflow__redis_conn_stats_t stats; //  counters
    zflow__redis_conn_fn *on_ready;  //  owner callbacks
    zflow__redis_conn_fn *on_lost;
    zflow__redis_conn_fn *on_io;
    void *arg; //  their argument
};

static void s_connect (zflow__redis_conn_t *self);
static void s_schedule_reconnect (zflow__redis_conn_t *self);

void zflow__redis_reply_text (const redisReply *reply, char *out, size_t size)
{
    if (!reply)
        snprintf (out, size, "no reply (connection lost)");
    else if (reply->type == REDIS_REPLY_ERROR || reply->type == REDIS_REPLY_STATUS ||
             reply->type == REDIS_REPLY_STRING)
        snprintf (out, size, "%.*s", (int) reply->len, reply->str);
    else
        snprintf (out, size, "unexpected reply type %d", reply->type);
}

//  ---------------------------------------------------------------------
//  The loop's side: one poller on the socket, for the events hiredis needs

static int s_on_socket (zloop_t *loop, zmq_pollitem_t *item, void *arg);

//  Makes the poller wait for what hiredis wants now.
static void s_sync (zflow__redis_conn_t *self)
{
    int want = 0;
    if (self->ac) {
        want = (self->want_read && !self->paused ? ZMQ_POLLIN : 0) |
               (self->want_write ? ZMQ_POLLOUT : 0);
    }
    if (want == self->polled)
        return;
    if (self->polled) {
        zmq_pollitem_t item = {NULL, self->fd, 0, 0};
        zloop_poller_end (self->loop, &item);
    }
    self->polled = 0;
    if (want) {
        zmq_pollitem_t item = {NULL, self->ac->c.fd, (short) want, 0};
        if (zloop_poller (self->loop, &item, s_on_socket, self) == 0) {
            zloop_poller_set_tolerant (self->loop, &item);
            self->fd = self->ac->c.fd;
            self->polled = want;
        }
    }
}

static void s_add_read (void *arg)
{
    ((zflow__redis_conn_t *) arg)->want_read = true;
}

static void s_del_read (void *arg)
{
    ((zflow__redis_conn_t *) arg)->want_read = false;
}

static void s_add_write (void *arg)
{
    ((zflow__redis_conn_t *) arg)->want_write = true;
}

static void s_del_write (void *arg)
{
    ((zflow__redis_conn_t *) arg)->want_write = false;
}

//  hiredis frees the context after this: forget it and its poller.
static void s_cleanup (void *arg)
{
    zflow__redis_conn_t *self = (zflow__redis_conn_t *) arg;
    self->ac = NULL;
    self->want_read = self->want_write = false;
    s_sync (self);
}

static int s_on_socket (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    zflow__redis_conn_t *self = (zflow__redis_conn_t *) arg;
    if (self->ac && (item->revents & (ZMQ_POLLIN | ZMQ_POLLERR)))
        redisAsyncHandleRead (self->ac);
    if (self->ac && (item->revents & ZMQ_POLLOUT))
        redisAsyncHandleWrite (self->ac);
    if (self->on_io)
        self->on_io (self, self->arg);
    zflow__redis_conn_flush (self);
    return 0;
}

void zflow__redis_conn_flush (zflow__redis_conn_t *self)
{
    if (self->ac && self->want_write && (self->ac->c.flags & REDIS_CONNECTED))
        redisAsyncHandleWrite (self->ac); //  may free the context (cleanup)
    s_sync (self);
}

void zflow__redis_conn_pause (zflow__redis_conn_t *self, bool paused)
{
    self->paused = paused;
    s_sync (self);
}

//  ---------------------------------------------------------------------
//  Timers: reconnect and connect timeout

static int s_on_timer (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    zflow__redis_conn_t *self = (zflow__redis_conn_t *) arg;
    self->timer = -1;
    if (self->ac && !(self->ac->c.flags & REDIS_CONNECTED)) {
        //  TCP connect still pending: hiredis has no disconnect call for
        //  that, so free it here (outside any callback) and try again
        snprintf (self->stats.reason, sizeof (self->stats.reason),
                  "cannot connect to %s:%d within %d ms", self->host, self->port,
                  self->connect_timeout_ms);
        redisAsyncFree (self->ac);
        s_schedule_reconnect (self);
    } else if (self->ac) {
        //  connected, but AUTH / SELECT / CONFIG not answered in time: a
        //  disconnect would wait for those answers, so free it (its
        //  disconnect callback schedules the next attempt)
        snprintf (self->stats.reason, sizeof (self->stats.reason),
                  "no ready connection within the connect timeout (%d ms)",
                  self->connect_timeout_ms);
        self->failed = true; //  keeps that reason
        redisAsyncFree (self->ac);
    } else
        s_connect (self);
    zflow__redis_conn_flush (self);
    return 0;
}

static void s_set_timer (zflow__redis_conn_t *self, int delay_ms)
{
    if (self->timer != -1)
        zloop_timer_end (self->loop, self->timer);
    self->timer =
        zloop_timer (self->loop, (size_t) (delay_ms > 0 ? delay_ms : 1), 1, s_on_timer, self);
}

static void s_schedule_reconnect (zflow__redis_conn_t *self)
{
    if (self->closing)
        return;
    int64_t delay = S_BACKOFF_MIN_MS;
    for (int index = 0; index < self->attempt && delay < self->backoff_max_ms; index++)
        delay *= 2;
    if (delay > self->backoff_max_ms)
        delay = self->backoff_max_ms;
    self->attempt++;
    if (zflow_actor_verbose (self->base))
        zsys_debug ("%s: reconnect to %s:%d in %" PRId64 " ms", self->label, self->host, self->port,
                    delay);
    s_set_timer (self, (int) delay);
}

//  ---------------------------------------------------------------------
//  Connection setup: AUTH, SELECT, CONFIG GET proto-max-bulk-len

static void s_on_disconnect (const redisAsyncContext *ac, int status)
{
    zflow__redis_conn_t *self = (zflow__redis_conn_t *) ac->data;
    if (status != REDIS_OK && !self->failed)
        snprintf (self->stats.reason, sizeof (self->stats.reason), "connection to %s:%d lost: %s",
                  self->host, self->port, ac->errstr[0] ? ac->errstr : "closed");
    if (zflow_actor_verbose (self->base))
        zsys_debug ("%s: disconnected (%s)", self->label, self->stats.reason);
    if (self->ready)
        self->stats.reconnects++;
    self->ready = false;
    if (self->on_lost)
        self->on_lost (self, self->arg);
    s_schedule_reconnect (self);
}

static void s_on_setup_reply (redisAsyncContext *ac, void *r, void *privdata)
{
    zflow__redis_conn_t *self = (zflow__redis_conn_t *) ac->data;
    redisReply *reply = (redisReply *) r;
    const char *step = (const char *) privdata;
    if (!reply || self->failed)
        return;
    if (reply->type == REDIS_REPLY_ERROR) {
        char text[200], reason[256];
        zflow__redis_reply_text (reply, text, sizeof (text));
        bool noauth = strncmp (text, "NOAUTH", 6) == 0;
        snprintf (reason, sizeof (reason), "%s: %s", step, text);
        if (streq (step, "AUTH") || streq (step, "SELECT") || noauth) {
            zflow__redis_conn_fail (self, reason, true); //  for good
            return;
        }
        if (streq (step, "PING")) {
            //  a server loading its data set (LOADING) or busy with a
            //  script (BUSY) takes no commands yet: try again later
            zflow__redis_conn_fail (self, reason, false);
            return;
        }
        //  CONFIG may be disabled or renamed (managed servers): not fatal
    } else if (streq (step, "CONFIG") && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
               reply->element[1]->type == REDIS_REPLY_STRING)
        self->stats.max_bulk = (size_t) strtoull (reply->element[1]->str, NULL, 10);
    if (!streq (step, "PING"))
        return;
    //  the last step: ready
    self->ready = true;
    self->attempt = 0;
    self->stats.connects++;
    if (self->timer != -1) {
        zloop_timer_end (self->loop, self->timer);
        self->timer = -1;
    }
    if (zflow_actor_verbose (self->base))
        zsys_debug ("%s: ready on %s:%d", self->label, self->host, self->port);
    if (self->on_ready)
        self->on_ready (self, self->arg);
}

static void s_on_connect (const redisAsyncContext *cac, int status)
{
    redisAsyncContext *ac = (redisAsyncContext *) cac;
    zflow__redis_conn_t *self = (zflow__redis_conn_t *) ac->data;
    if (status != REDIS_OK) {
        //  hiredis frees the context after this, without a disconnect call
        snprintf (self->stats.reason, sizeof (self->stats.reason), "cannot connect to %s:%d: %s",
                  self->host, self->port, ac->errstr[0] ? ac->errstr : "refused");
        if (zflow_actor_verbose (self->base))
            zsys_debug ("%s: %s", self->label, self->stats.reason);
        s_schedule_reconnect (self);
        return;
    }
    if (self->password && self->user)
        redisAsyncCommand (ac, s_on_setup_reply, "AUTH", "AUTH %s %s", self->user, self->password);
    else if (self->password)
        redisAsyncCommand (ac, s_on_setup_reply, "AUTH", "AUTH %s", self->password);
    if (self->db)
        redisAsyncCommand (ac, s_on_setup_reply, "SELECT", "SELECT %d", self->db);
    redisAsyncCommand (ac, s_on_setup_reply, "CONFIG", "CONFIG GET proto-max-bulk-len");
    //  last: CONFIG GET works while the server loads its data, PING does not
    redisAsyncCommand (ac, s_on_setup_reply, "PING", "PING");
}

static void s_connect (zflow__redis_conn_t *self)
{
    if (self->ac || self->closing)
        return;
    self->failed = false;
    redisAsyncContext *ac = redisAsyncConnect (self->host, self->port);
    if (!ac) {
        snprintf (self->stats.reason, sizeof (self->stats.reason), "out of memory");
        s_schedule_reconnect (self);
        return;
    }
    if (ac->err) {
        snprintf (self->stats.reason, sizeof (self->stats.reason), "cannot connect to %s:%d: %s",
                  self->host, self->port, ac->errstr);
        redisAsyncFree (ac);
        s_schedule_reconnect (self);
        return;
    }
    self->ac = ac;
    ac->data = self;
    ac->ev.data = self;
    ac->ev.addRead = s_add_read;
    ac->ev.delRead = s_del_read;
    ac->ev.addWrite = s_add_write;
    ac->ev.delWrite = s_del_write;
    ac->ev.cleanup = s_cleanup;
    //  hiredis learns that the connect completed from the first write event
    redisAsyncSetConnectCallback (ac, s_on_connect);
    redisAsyncSetDisconnectCallback (ac, s_on_disconnect);
    s_set_timer (self, self->connect_timeout_ms);
    s_sync (self);
}

void zflow__redis_conn_fail (zflow__redis_conn_t *self, const char *reason, bool refused)
{
    snprintf (self->stats.reason, sizeof (self->stats.reason), "%s", reason);
    if (refused) {
        self->stats.refused++;
        self->failed = true;
    }
    if (zflow_actor_verbose (self->base))
        zsys_debug ("%s: %s", self->label, reason);
    //  inside a callback hiredis defers this to the callback's end; then
    //  the disconnect callback reconnects
    if (self->ac)
        redisAsyncDisconnect (self->ac);
}

//  ---------------------------------------------------------------------
//  Life cycle

zflow__redis_conn_t *zflow__redis_conn_new (zflow_actor_t *base, const zflow_redis_config_t *config,
                                            const char *label, zflow__redis_conn_fn *ready,
                                            zflow__redis_conn_fn *lost, zflow__redis_conn_fn *io,
                                            void *arg)
{
    if (!base || !config || !config->host || !*config->host || config->port < 1 ||
        config->port > 65535 || config->db < 0)
        return NULL;
    zflow__redis_conn_t *self = (zflow__redis_conn_t *) zmalloc (sizeof (*self));
    if (!self)
        return NULL;
    //  hiredis writes with write (2): on a connection the server closed
    //  that raises SIGPIPE, which would end the process. Blocked in this
    //  thread (the actor's: the only one writing to the socket), the write
    //  fails with EPIPE instead and the connection is reopened; the rest
    //  of the process keeps its own SIGPIPE handling.
    sigset_t pipe_signal;
    sigemptyset (&pipe_signal);
    sigaddset (&pipe_signal, SIGPIPE);
    pthread_sigmask (SIG_BLOCK, &pipe_signal, NULL);
    self->loop = zflow_actor_loop (base);
    self->base = base;
    self->host = strdup (config->host);
    self->port = config->port;
    self->user = config->user && *config->user ? strdup (config->user) : NULL;
    self->password = config->password && *config->password ? strdup (config->password) : NULL;
    self->db = config->db;
    self->label = strdup (label ? label : "redis");
    self->backoff_max_ms =
        config->backoff_max_ms > 0 ? config->backoff_max_ms : ZFLOW_REDIS_BACKOFF_MAX_MS;
    if (self->backoff_max_ms < S_BACKOFF_MIN_MS)
        self->backoff_max_ms = S_BACKOFF_MIN_MS;
    self->connect_timeout_ms = config->connect_timeout_ms > 0 ? config->connect_timeout_ms
                                                              : ZFLOW_REDIS_CONNECT_TIMEOUT_MS;
    self->timer = -1;
    self->on_ready = ready;
    self->on_lost = lost;
    self->on_io = io;
    self->arg = arg;
    return self;
}

void zflow__redis_conn_destroy (zflow__redis_conn_t **self_p)
{
    zflow__redis_conn_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    self->closing = true;
    if (self->ac)
        redisAsyncFree (self->ac); //  reply callbacks with NULL, then cleanup
    if (self->timer != -1)
        zloop_timer_end (self->loop, self->timer);
    free (self->host);
    free (self->user);
    free (self->password);
    free (self->label);
    free (self);
    *self_p = NULL;
}

void zflow__redis_conn_start (zflow__redis_conn_t *self)
{
    s_connect (self);
}

redisAsyncContext *zflow__redis_conn_ac (zflow__redis_conn_t *self)
{
    return self && self->ready && self->ac && !self->failed ? self->ac : NULL;
}

zflow__redis_conn_stats_t *zflow__redis_conn_stats (zflow__redis_conn_t *self)
{
    return &self->stats;
}
