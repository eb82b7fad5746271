/*  =========================================================================
    zflow_redis_sink - PUBLISH or XADD each envelope, pipelined (see the
    header for the behaviour)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_redis_sink.h"
#include "zflow_actor.h"
#include "zflow_envelope.h"
#include "zflow_error.h"
#include "zflow_redis_internal.h"
#include "zflow_stream.h"
#include <inttypes.h>

//  Payload bytes in flight at most (besides the command count): a long
//  output buffer costs hiredis a move of what is left after every partial
//  write, and Redis a large query buffer; beyond a few round trips' worth
//  it only adds latency.
#define S_INFLIGHT_BYTES (256 * 1024)

//  What the caller hands the actor at start.
typedef struct {
    const zflow_redis_config_t *config; //  the caller's configuration
    int err;                            //  set by the actor on bad config
    char *endpoint;                     //  set by the actor: the bound input (caller frees)
} s_start_t;

//  A command awaiting its reply.
typedef struct {
    size_t payload;   //  its payload bytes
    zflow_msg_t *msg; //  with resend: its envelope (moved here, no copy), else NULL
} s_slot_t;

//  The actor's state.
typedef struct {
    zflow_actor_t *base;              //  actor base: loop, pipe, counters
    zflow_actor_counters_t *counters; //  the base's standard counters
    zflow__redis_conn_t *conn;        //  the connection
    zflow_stream_t *input;            //  the PULL input
    zflow_msg_t *msg;                 //  reused for every input message
    bool stream_mode;                 //  XADD (else PUBLISH)
    char *target;                     //  fixed channel or stream, or NULL (from the key)
    size_t target_size;               //  its length
    char *command;                    //  the command being formatted (reused)
    size_t command_size;              //  its allocated size
    char *field;                      //  XADD field name
    char maxlen[24];                  //  XADD MAXLEN ~ value as text, "" for none
    char *separator;                  //  key components joined with it
    size_t max_payload;               //  configured payload limit
    size_t inflight_max;              //  commands awaiting a reply at most
    size_t inflight;                  //  commands awaiting a reply now
    size_t inflight_bytes;            //  their payload bytes
    s_slot_t *slots;                  //  ring of them, inflight_max slots, oldest first
    size_t oldest;                    //  index of the oldest one
    bool resend;                      //  keep each command to send it again after a loss
    zlist_t *retry;                   //  envelopes to send again (zflow_msg_t *), in order
    bool closing;                     //  destroy is under way: losses are final
    uint64_t resent;                  //  commands sent again after a lost connection
    bool lossy;                       //  drop while disconnected
    uint64_t delivered;               //  commands Redis accepted
    uint64_t errors;                  //  error replies
    uint64_t unheard;                 //  PUBLISHes no subscriber received
    uint64_t oversize;                //  payloads over the limit, never sent
    uint64_t unmapped;                //  keys that name nothing
    uint64_t malformed;               //  input that was no envelope
    uint64_t lost;                    //  in flight when the connection broke
    char reason[256];                 //  the last loss, or ""
} s_sink_t;

//  The payload limit in force: the configured one, lowered to the
//  server's proto-max-bulk-len when it told us.
static size_t s_limit (s_sink_t *self)
{
    size_t server = zflow__redis_conn_stats (self->conn)->max_bulk;
    return server && server < self->max_payload ? server : self->max_payload;
}

static void s_on_reply (redisAsyncContext *ac, void *r, void *privdata)
{
    (void) ac;
    redisReply *reply = (redisReply *) r;
    s_sink_t *self = (s_sink_t *) privdata;
    //  one connection answers in order: the oldest slot is this reply's
    s_slot_t *slot = &self->slots[self->oldest];
    self->oldest = (self->oldest + 1) % self->inflight_max;
    self->inflight--;
    self->inflight_bytes -= slot->payload;
    size_t size = slot->payload;
    zflow_msg_t *again = !reply && slot->msg && !self->closing ? zflow_msg_new () : NULL;
    if (again && zflow_msg_move (again, slot->msg) == 0) {
        //  the outcome is unknown: send it again on the next connection
        //  (in order, before new input); Redis may then hold it twice
        zlist_append (self->retry, again);
    } else if (!reply) {
        zflow_msg_destroy (&again);
        self->lost++;
        self->counters->drops++;
        snprintf (self->reason, sizeof (self->reason),
                  "connection lost with commands in flight (outcome unknown, counted in lost)");
    } else if (reply->type == REDIS_REPLY_ERROR) {
        self->errors++;
        self->counters->drops++;
        char text[200];
        zflow__redis_reply_text (reply, text, sizeof (text));
        snprintf (self->reason, sizeof (self->reason), "%s: %s",
                  self->stream_mode ? "XADD" : "PUBLISH", text);
    } else {
        //  PUBLISH answers how many subscribers got it
        if (!self->stream_mode && reply->type == REDIS_REPLY_INTEGER && reply->integer == 0)
            self->unheard++;
        self->delivered++;
        self->counters->msgs_out++;
        self->counters->bytes_out += size;
    }
    if (slot->msg)
        zflow_msg_reset (slot->msg); //  settled: its frames go
    self->counters->queue_depth = self->inflight + zlist_size (self->retry);
}

//  Writes the channel or stream name for the envelope's key into out.
//  Returns its length, or 0 when the key names nothing that fits.
static size_t s_target (s_sink_t *self, const void *wire, size_t wire_size, char *out, size_t size)
{
    if (self->target) {
        if (self->target_size >= size)
            return 0;
        memcpy (out, self->target, self->target_size + 1);
        return self->target_size;
    }
    zflow_key_t *key = zflow_key_decode (wire, wire_size, NULL);
    size_t used = 0;
    for (size_t index = 0; key && index < zflow_key_size (key); index++) {
        int n = snprintf (out + used, size - used, "%s%s", index ? self->separator : "",
                          zflow_key_at (key, index));
        if (n < 0 || (size_t) n >= size - used) {
            used = 0;
            break;
        }
        used += (size_t) n;
    }
    zflow_key_destroy (&key);
    return used;
}

//  Writes the decimal digits of value at out; returns their count.
static size_t s_digits (char *out, size_t value)
{
    char text[24];
    size_t n = 0;
    do
        text[n++] = (char) ('0' + value % 10);
    while ((value /= 10));
    for (size_t index = 0; index < n; index++)
        out[index] = text[n - 1 - index];
    return n;
}

//  Formats a command in RESP (*argc, then $len and the bytes of each
//  argument) into self->command, reused: hiredis's own formatting costs an
//  allocation and a printf per argument. Returns its length, 0 when out of
//  memory.
static size_t s_format (s_sink_t *self, int argc, const char **argv, const size_t *lens)
{
    size_t need = 16;
    for (int index = 0; index < argc; index++)
        need += lens[index] + 32;
    if (need > self->command_size) {
        char *bigger = (char *) realloc (self->command, need);
        if (!bigger)
            return 0;
        self->command = bigger;
        self->command_size = need;
    }
    char *out = self->command;
    *out++ = '*';
    out += s_digits (out, (size_t) argc);
    *out++ = '\r';
    *out++ = '\n';
    for (int index = 0; index < argc; index++) {
        *out++ = '$';
        out += s_digits (out, lens[index]);
        *out++ = '\r';
        *out++ = '\n';
        memcpy (out, argv[index], lens[index]);
        out += lens[index];
        *out++ = '\r';
        *out++ = '\n';
    }
    return (size_t) (out - self->command);
}

//  Sends the envelope in self->msg as one command.
//  Formats the envelope msg as a command into name's channel or stream and
//  sends it, registered in the ring (with resend, msg's frames move into
//  the slot). Returns 0, or -1 (out of memory, or hiredis refused it).
static int s_issue (s_sink_t *self, redisAsyncContext *ac, zflow_msg_t *msg, const char *name,
                    size_t name_size)
{
    size_t size = 0;
    const void *payload = zflow_envelope_payload (msg, &size);
    if (!payload)
        return -1; //  a resend whose envelope could not be kept
    const char *argv[8];
    size_t lens[8];
    int argc = 0;
#define S_ARG(text, length) (argv[argc] = (text), lens[argc++] = (length))
    if (self->stream_mode) {
        S_ARG ("XADD", 4);
        S_ARG (name, name_size);
        if (*self->maxlen) {
            S_ARG ("MAXLEN", 6);
            S_ARG ("~", 1);
            S_ARG (self->maxlen, strlen (self->maxlen));
        }
        S_ARG ("*", 1);
        S_ARG (self->field, strlen (self->field));
    } else {
        S_ARG ("PUBLISH", 7);
        S_ARG (name, name_size);
    }
    S_ARG ((const char *) payload, size);
#undef S_ARG
    size_t length = s_format (self, argc, argv, lens);
    if (!length ||
        redisAsyncFormattedCommand (ac, s_on_reply, self, self->command, length) != REDIS_OK)
        return -1;
    s_slot_t *slot = &self->slots[(self->oldest + self->inflight) % self->inflight_max];
    slot->payload = size;
    if (slot->msg)
        zflow_msg_move (slot->msg, msg);
    self->inflight++;
    self->inflight_bytes += size;
    self->counters->queue_depth = self->inflight + zlist_size (self->retry);
    return 0;
}

//  Sends the envelope in self->msg as one command, after its checks.
static void s_send (s_sink_t *self, redisAsyncContext *ac)
{
    size_t key_size, size;
    const void *wire = zflow_envelope_key (self->msg, &key_size);
    const void *payload = zflow_envelope_payload (self->msg, &size);
    if (!payload || !wire || !key_size) {
        self->malformed++;
        self->counters->drops++;
        return;
    }
    self->counters->msgs_in++;
    self->counters->bytes_in += size;
    char name[1024];
    size_t name_size = s_target (self, wire, key_size, name, sizeof (name));
    if (!name_size) {
        self->unmapped++;
        self->counters->drops++;
        snprintf (self->reason, sizeof (self->reason), "a key that names no %s: dropped",
                  self->stream_mode ? "stream" : "channel");
        return;
    }
    size_t limit = s_limit (self);
    if (size > limit) {
        self->oversize++;
        self->counters->drops++;
        snprintf (self->reason, sizeof (self->reason),
                  "a payload of %zu bytes for %.100s is over the limit of %zu bytes "
                  "(max_payload or the server's proto-max-bulk-len): dropped",
                  size, name, limit);
        return;
    }
    if (s_issue (self, ac, self->msg, name, name_size)) {
        self->lost++;
        self->counters->drops++;
    }
}

//  Sends the oldest envelope a lost connection left, again (it passed the
//  checks already).
static void s_resend (s_sink_t *self, redisAsyncContext *ac)
{
    zflow_msg_t *again = (zflow_msg_t *) zlist_pop (self->retry);
    size_t key_size;
    const void *wire = zflow_envelope_key (again, &key_size);
    char name[1024];
    size_t name_size = s_target (self, wire, key_size, name, sizeof (name));
    if (name_size && s_issue (self, ac, again, name, name_size) == 0)
        self->resent++;
    else {
        self->lost++;
        self->counters->drops++;
    }
    zflow_msg_destroy (&again);
}

//  Takes input while Redis is ready and the inflight watermark allows
//  (lossy: drops it while disconnected).
static void s_pull (s_sink_t *self)
{
    for (int turn = 0; turn < 10000; turn++) {
        redisAsyncContext *ac = zflow__redis_conn_ac (self->conn);
        if ((!ac && !self->lossy) || self->inflight >= self->inflight_max ||
            self->inflight_bytes >= S_INFLIGHT_BYTES)
            break;
        if (ac && zlist_size (self->retry)) {
            s_resend (self, ac); //  what a lost connection left, first
            continue;
        }
        if (zflow_stream_read (self->input, self->msg, 0))
            break;
        if (ac) {
            s_send (self, ac);
            //  write every few commands: a short output buffer is cheap for
            //  hiredis, which moves what is left after every partial write
            if (turn % 32 == 31)
                zflow__redis_conn_flush (self->conn);
        } else {
            self->counters->drops++;
            snprintf (self->reason, sizeof (self->reason), "not connected (lossy): dropped");
        }
    }
    zflow__redis_conn_flush (self->conn);
}

static void s_on_input (zflow_stream_t *stream, void *arg)
{
    (void) stream;
    s_pull ((s_sink_t *) arg);
}

static void s_on_ready (zflow__redis_conn_t *conn, void *arg)
{
    (void) conn;
    s_pull ((s_sink_t *) arg);
}

//  After the socket was served: replies may have made room. Only reads
//  here: hiredis's own callbacks must not write (the loop's handler
//  flushes after this).
static void s_on_io (zflow__redis_conn_t *conn, void *arg)
{
    (void) conn;
    s_sink_t *self = (s_sink_t *) arg;
    if (self->inflight < self->inflight_max && self->inflight_bytes < S_INFLIGHT_BYTES)
        s_pull (self);
}

static void s_stats (zflow_actor_t *base, zmsg_t *reply, void *arg)
{
    (void) base;
    s_sink_t *self = (s_sink_t *) arg;
    zflow__redis_conn_stats_t *conn = zflow__redis_conn_stats (self->conn);
    zflow_actor_stats_add (reply, "connected", zflow__redis_conn_ac (self->conn) ? 1 : 0);
    zflow_actor_stats_add (reply, "connects", conn->connects);
    zflow_actor_stats_add (reply, "reconnects", conn->reconnects);
    zflow_actor_stats_add (reply, "inflight", self->inflight);
    zflow_actor_stats_add (reply, "delivered", self->delivered);
    zflow_actor_stats_add (reply, "errors", self->errors);
    zflow_actor_stats_add (reply, "unheard", self->unheard);
    zflow_actor_stats_add (reply, "oversize", self->oversize);
    zflow_actor_stats_add (reply, "unmapped", self->unmapped);
    zflow_actor_stats_add (reply, "malformed", self->malformed);
    zflow_actor_stats_add (reply, "lost", self->lost);
    zflow_actor_stats_add (reply, "resent", self->resent);
    zflow_actor_stats_add (reply, "refused", conn->refused);
    zflow_actor_stats_add (reply, "max_payload", s_limit (self));
    //  a refusal is the most useful words; else the last loss
    const char *reason = conn->refused ? conn->reason : *self->reason ? self->reason : conn->reason;
    if (*reason) {
        zmsg_addstr (reply, "reason");
        zmsg_addstr (reply, reason);
    }
}

static void s_sink_destroy (s_sink_t **self_p)
{
    s_sink_t *self = *self_p;
    if (!self)
        return;
    self->closing = true;
    zflow__redis_conn_destroy (&self->conn); //  in-flight replies: counted as lost
    while (self->retry && zlist_size (self->retry)) {
        zflow_msg_t *again = (zflow_msg_t *) zlist_pop (self->retry);
        self->lost++;
        self->counters->drops++;
        zflow_msg_destroy (&again);
    }
    zlist_destroy (&self->retry);
    for (size_t index = 0; self->slots && index < self->inflight_max; index++)
        zflow_msg_destroy (&self->slots[index].msg);
    if (self->input)
        zflow_stream_detach (self->input);
    zflow_stream_destroy (&self->input);
    zflow_msg_destroy (&self->msg);
    free (self->slots);
    free (self->command);
    free (self->target);
    free (self->field);
    free (self->separator);
    zflow_actor_destroy (&self->base);
    free (self);
    *self_p = NULL;
}

//  Opens the PULL input. Returns 0, ZFLOW_EENDPOINT or ZFLOW_ENOMEM.
static int s_open_input (s_sink_t *self, const char *endpoint)
{
    zsock_t *sock = zsock_new (ZMQ_PULL);
    if (!sock)
        return ZFLOW_ENOMEM;
    //  zsock_attach: inproc:// and tcp:// without a prefix bind, as '@'
    bool bind = *endpoint != '>';
    if (zsock_attach (sock, endpoint + (*endpoint == '@' || *endpoint == '>'), bind)) {
        zsock_destroy (&sock);
        return ZFLOW_EENDPOINT;
    }
    self->input = zflow_stream_new_sock (&sock);
    if (!self->input) {
        zsock_destroy (&sock);
        return ZFLOW_ENOMEM;
    }
    return zflow_stream_attach (self->input, zflow_actor_loop (self->base), s_on_input, NULL, self);
}

static s_sink_t *s_sink_new (zflow_actor_t *base, const zflow_redis_config_t *config, int *err_p)
{
    s_sink_t *self = (s_sink_t *) zmalloc (sizeof (s_sink_t));
    self->base = base;
    self->counters = zflow_actor_counters (base);
    self->msg = zflow_msg_new ();
    self->stream_mode = config->mode == ZFLOW_REDIS_STREAM;
    const char *target = self->stream_mode ? config->stream : config->channels;
    self->target = target && *target ? strdup (target) : NULL;
    self->target_size = self->target ? strlen (self->target) : 0;
    self->field = strdup (config->field && *config->field ? config->field : "payload");
    self->separator = strdup (config->separator ? config->separator : ":");
    if (config->maxlen > 0)
        snprintf (self->maxlen, sizeof (self->maxlen), "%" PRId64, config->maxlen);
    self->max_payload = config->max_payload ? config->max_payload : ZFLOW_REDIS_MAX_PAYLOAD;
    self->inflight_max = config->inflight;
    self->lossy = config->lossy;
    self->resend = config->resend;
    int rc = 0;
    if (!config->input || !*config->input || config->inflight == 0 ||
        (config->mode != ZFLOW_REDIS_PUBSUB && config->mode != ZFLOW_REDIS_STREAM) ||
        (self->target && strpbrk (self->target, " \r\n")))
        rc = ZFLOW_ECONFIG;
    if (rc == 0) {
        self->slots = (s_slot_t *) calloc (config->inflight, sizeof (s_slot_t));
        self->retry = zlist_new ();
        rc = self->slots && self->retry ? 0 : ZFLOW_ENOMEM;
        //  with resend each slot keeps its envelope: one message each, made once
        for (size_t index = 0; rc == 0 && self->resend && index < config->inflight; index++)
            rc = (self->slots[index].msg = zflow_msg_new ()) ? 0 : ZFLOW_ENOMEM;
    }
    if (rc == 0) {
        self->conn =
            zflow__redis_conn_new (base, config, "redis_sink", s_on_ready, NULL, s_on_io, self);
        rc = self->conn ? 0 : ZFLOW_ECONFIG;
    }
    if (rc == 0)
        rc = s_open_input (self, config->input);
    if (rc) {
        *err_p = rc;
        self->base = NULL; //  the caller keeps the base
        s_sink_destroy (&self);
    }
    return self;
}

static void s_sink_actor (zsock_t *pipe, void *args)
{
    s_start_t *start = (s_start_t *) args;
    zflow_actor_t *base = zflow_actor_new (pipe, "redis_sink");
    s_sink_t *self = base ? s_sink_new (base, start->config, &start->err) : NULL;
    if (!self) {
        if (base)
            zflow_actor_ready (base, -1);
        else {
            zsock_signal (pipe, 0);
            zsock_signal (pipe, 1);
        }
        zflow_actor_destroy (&base);
        return;
    }
    zflow_actor_set_stats_handler (self->base, s_stats, self);
    if (*start->config->input != '>')
        start->endpoint = zsock_last_endpoint (zflow_stream_sock (self->input));
    zflow__redis_conn_start (self->conn);
    zflow_actor_ready (self->base, 0);
    zflow_actor_run (self->base);
    s_sink_destroy (&self);
}

//  ---------------------------------------------------------------------
//  The caller's side

struct _zflow_redis_sink_t {
    zactor_t *actor; //  the sink actor
    char *endpoint;  //  the input's bound endpoint, or NULL
};

zflow_redis_sink_t *zflow_redis_sink_new (const zflow_redis_config_t *config, int *err_p)
{
    int err = ZFLOW_EINVAL;
    zflow_redis_sink_t *self = NULL;
    if (config) {
        s_start_t start = {config, 0, NULL};
        zactor_t *actor = zflow_actor_start (s_sink_actor, &start);
        err = start.err ? start.err : ZFLOW_ENOMEM;
        self = actor ? (zflow_redis_sink_t *) zmalloc (sizeof (*self)) : NULL;
        if (self) {
            self->actor = actor;
            self->endpoint = start.endpoint;
        } else {
            zactor_destroy (&actor);
            zstr_free (&start.endpoint);
        }
    }
    if (!self && err_p)
        *err_p = err;
    return self;
}

void zflow_redis_sink_destroy (zflow_redis_sink_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zactor_destroy (&(*self_p)->actor);
    zstr_free (&(*self_p)->endpoint);
    free (*self_p);
    *self_p = NULL;
}

zhash_t *zflow_redis_sink_stats (zflow_redis_sink_t *self, int timeout_ms)
{
    return self ? zflow_actor_stats (self->actor, timeout_ms) : NULL;
}

void zflow_redis_sink_set_verbose (zflow_redis_sink_t *self, bool verbose)
{
    if (self)
        zflow_actor_set_verbose (self->actor, verbose);
}

const char *zflow_redis_sink_endpoint (zflow_redis_sink_t *self)
{
    return self ? self->endpoint : NULL;
}

zactor_t *zflow_redis_sink_actor (zflow_redis_sink_t *self)
{
    return self ? self->actor : NULL;
}
