/*  =========================================================================
    zflow_redis_source - Redis pub/sub or a Redis Stream in, zflow
    envelopes out (see the header for the behaviour)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_redis_source.h"
#include "zflow_actor.h"
#include "zflow_envelope.h"
#include "zflow_error.h"
#include "zflow_redis_internal.h"

#define S_KEY_CACHE_MAX 10000 //  names whose key is kept, at most
#define S_HELD_RETRY_MS 1     //  how soon a held envelope is tried again

//  What the caller hands the actor at start.
typedef struct {
    const zflow_redis_config_t *config; //  the caller's configuration
    int err;                            //  set by the actor on bad config
    char *endpoint;                     //  set by the actor: the bound output (caller frees)
} s_start_t;

//  The actor's state.
typedef struct {
    zflow_actor_t *base;              //  actor base: loop, pipe, counters
    zflow_actor_counters_t *counters; //  the base's standard counters
    zflow__redis_conn_t *conn;        //  the connection
    zsock_t *pub;                     //  the output
    void *pub_handle;                 //  its libzmq handle (hot path)
    zflow_meta_t *meta;               //  reused for every envelope
    bool stream_mode;                 //  XREADGROUP (else SUBSCRIBE / PSUBSCRIBE)
    bool lossless;                    //  pubsub: hold instead of dropping
    zlist_t *channels;                //  pubsub: channels (char *)
    zlist_t *patterns;                //  pubsub: patterns (char *)
    char *stream;                     //  stream mode: the stream key
    char *group;                      //  consumer group
    char *consumer;                   //  consumer name
    char *start_id;                   //  where a new group starts
    char *field;                      //  payload field
    char *prefix;                     //  first key component, or ""
    char *separator;                  //  name splitter, or ""
    char *name;                       //  meta "source"
    char count[24];                   //  entries per read, as text
    char block[24];                   //  BLOCK ms, as text
    int ack_ms;                       //  ack batching delay
    zhashx_t *keys;                   //  name -> key wire (zframe_t), a cache
    zlist_t *held;                    //  envelopes the output refused (zmsg_t: key,
                                      //  meta, payload, then the entry ID in stream mode)
    int held_timer;                   //  retry timer for them, or -1
    zlist_t *acks;                    //  entry IDs to acknowledge (s_ack_t), oldest first
    int ack_timer;                    //  timer that sends them, or -1
    bool started;                     //  connect was asked for
    bool pending;                     //  stream: reading this consumer's pending entries
    char last_id[64];                 //  stream: the ID to read pending entries after
    bool reading;                     //  stream: an XREADGROUP awaits its reply
    uint64_t messages;                //  messages received from Redis
    uint64_t acked;                   //  entries acknowledged
    uint64_t pending_read;            //  pending entries read again
    uint64_t malformed;               //  replies or entries without a payload
    uint64_t sub_refused;             //  subscriptions or reads refused
    char reason[256];                 //  the last failure, or ""
} s_source_t;

static void s_read_next (s_source_t *self);

//  ---------------------------------------------------------------------
//  Envelopes out

//  The key for a channel or stream name, in wire form (owned by the
//  cache), or NULL.
static zframe_t *s_key (s_source_t *self, const char *name, size_t size)
{
    char text[1024];
    snprintf (text, sizeof (text), "%.*s", (int) size, name);
    zframe_t *wire = (zframe_t *) zhashx_lookup (self->keys, text);
    if (wire)
        return wire;
    const char *parts[64];
    size_t n = 0;
    if (*self->prefix)
        parts[n++] = self->prefix;
    char copy[1024];
    snprintf (copy, sizeof (copy), "%s", text);
    zflow_key_t *key = NULL;
    if (*self->separator) {
        //  strtok would skip empty parts: split by hand
        char *part = copy;
        for (; part && n < 64; n++) {
            parts[n] = part;
            char *next = strstr (part, self->separator);
            if (next) {
                *next = 0;
                next += strlen (self->separator);
            }
            part = next;
        }
        //  more than 64 components: one component too
        key = part ? NULL : zflow_key_new_array (parts, n, NULL);
        n = *self->prefix ? 1 : 0;
    }
    if (!key) { //  no separator, an empty part, too many: the name is one component
        parts[n++] = text;
        key = zflow_key_new_array (parts, n, NULL);
    }
    if (!key)
        return NULL;
    size_t wire_size;
    const void *data = zflow_key_wire (key, &wire_size);
    wire = zframe_new (data, wire_size);
    zflow_key_destroy (&key);
    if (zhashx_size (self->keys) >= S_KEY_CACHE_MAX)
        zhashx_purge (self->keys);
    zhashx_insert (self->keys, text, wire);
    return wire;
}

//  Sends a held or new envelope without blocking. Returns 0 or -1 (the
//  output refused: a subscriber is at its high-water mark).
static int s_send (s_source_t *self, zframe_t *key, const void *meta, size_t meta_size,
                   const void *payload, size_t size)
{
    if (zmq_send (self->pub_handle, zframe_data (key), zframe_size (key),
                  ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    zmq_send (self->pub_handle, meta, meta_size, ZMQ_SNDMORE);
    zmq_send (self->pub_handle, payload, size, 0);
    self->counters->msgs_out++;
    self->counters->bytes_out += size;
    return 0;
}

static int s_on_ack_timer (zloop_t *loop, int timer_id, void *arg);

//  An entry ID waiting for its XACK.
typedef struct {
    int64_t due; //  when it may go (zclock_mono): ack_ms after its handoff
    char id[48]; //  the entry ID ("ms-seq", at most 41 characters)
} s_ack_t;

//  Queues an entry ID for XACK, ack_ms from now: long enough for the
//  envelope to leave the process's own queues, so a process killed now
//  has not acknowledged what it did not pass on yet.
static void s_ack (s_source_t *self, const char *id)
{
    s_ack_t *ack = (s_ack_t *) malloc (sizeof (s_ack_t));
    if (!ack)
        return; //  stays pending: read again after a restart
    ack->due = zclock_mono () + self->ack_ms;
    snprintf (ack->id, sizeof (ack->id), "%s", id);
    zlist_append (self->acks, ack);
    if (self->ack_timer == -1)
        self->ack_timer = zloop_timer (zflow_actor_loop (self->base), (size_t) self->ack_ms, 1,
                                       s_on_ack_timer, self);
}

static void s_on_ack_reply (redisAsyncContext *ac, void *r, void *privdata)
{
    (void) ac;
    s_source_t *self = (s_source_t *) privdata;
    redisReply *reply = (redisReply *) r;
    if (reply && reply->type == REDIS_REPLY_INTEGER)
        self->acked += (uint64_t) reply->integer;
    else if (reply) {
        char text[200];
        zflow__redis_reply_text (reply, text, sizeof (text));
        snprintf (self->reason, sizeof (self->reason), "XACK: %s", text);
    }
}

#define S_ACK_MAX 1000 //  IDs per XACK command

//  Sends the due XACKs, up to S_ACK_MAX per command. Without a connection
//  they wait for the next one (their entries stay pending meanwhile).
static void s_send_acks (s_source_t *self)
{
    const char *argv[S_ACK_MAX + 3] = {"XACK", self->stream, self->group};
    s_ack_t *taken[S_ACK_MAX];
    int64_t now = zclock_mono ();
    redisAsyncContext *ac;
    while ((ac = zflow__redis_conn_ac (self->conn))) {
        size_t n = 0;
        s_ack_t *ack;
        while (n < S_ACK_MAX && (ack = (s_ack_t *) zlist_first (self->acks)) && ack->due <= now) {
            taken[n] = (s_ack_t *) zlist_pop (self->acks);
            argv[n + 3] = taken[n]->id;
            n++;
        }
        if (n)
            redisAsyncCommandArgv (ac, s_on_ack_reply, self, (int) n + 3, argv, NULL);
        for (size_t index = 0; index < n; index++)
            free (taken[index]);
        if (n < S_ACK_MAX)
            break;
    }
}

static int s_on_ack_timer (zloop_t *loop, int timer_id, void *arg)
{
    (void) timer_id;
    s_source_t *self = (s_source_t *) arg;
    self->ack_timer = -1;
    s_send_acks (self);
    zflow__redis_conn_flush (self->conn);
    s_ack_t *next = (s_ack_t *) zlist_first (self->acks);
    if (next) {
        int64_t delay = next->due - zclock_mono ();
        self->ack_timer =
            zloop_timer (loop, (size_t) (delay > 1 ? delay : 1), 1, s_on_ack_timer, self);
    }
    return 0;
}

static int s_on_held_timer (zloop_t *loop, int timer_id, void *arg);

//  Publishes one message: meta from self->meta, then held in order when
//  the output refuses (or dropped, pubsub without lossless). id: the entry
//  ID to acknowledge once it is out (stream mode), or NULL.
static void s_publish (s_source_t *self, zframe_t *key, const void *payload, size_t size,
                       const char *id)
{
    uint8_t meta[ZFLOW_META_MAX_WIRE];
    int meta_size = zflow_meta_encode (self->meta, meta, sizeof (meta));
    if (meta_size < 0) {
        self->counters->drops++;
        if (id)
            s_ack (self, id);
        return;
    }
    if (zlist_size (self->held) == 0 &&
        s_send (self, key, meta, (size_t) meta_size, payload, size) == 0) {
        if (id)
            s_ack (self, id);
        return;
    }
    if (!id && !self->lossless) {
        self->counters->drops++;
        snprintf (self->reason, sizeof (self->reason),
                  "output full (a subscriber at its high-water mark): dropped");
        return;
    }
    zmsg_t *held = zmsg_new ();
    zmsg_addmem (held, zframe_data (key), zframe_size (key));
    zmsg_addmem (held, meta, (size_t) meta_size);
    zmsg_addmem (held, payload, size);
    if (id)
        zmsg_addstr (held, id);
    zlist_append (self->held, held);
    self->counters->queue_depth = zlist_size (self->held);
    zflow__redis_conn_pause (self->conn, true); //  Redis buffers meanwhile
    if (self->held_timer == -1)
        self->held_timer =
            zloop_timer (zflow_actor_loop (self->base), S_HELD_RETRY_MS, 1, s_on_held_timer, self);
}

static int s_on_held_timer (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    s_source_t *self = (s_source_t *) arg;
    self->held_timer = -1;
    zmsg_t *held;
    while ((held = (zmsg_t *) zlist_first (self->held))) {
        zframe_t *key = zmsg_first (held);
        zframe_t *meta = zmsg_next (held);
        zframe_t *payload = zmsg_next (held);
        zframe_t *id = zmsg_next (held);
        if (s_send (self, key, zframe_data (meta), zframe_size (meta), zframe_data (payload),
                    zframe_size (payload)))
            break;
        if (id) {
            char *text = zframe_strdup (id);
            s_ack (self, text);
            free (text);
        }
        zlist_remove (self->held, held);
        zmsg_destroy (&held);
    }
    self->counters->queue_depth = zlist_size (self->held);
    if (zlist_size (self->held))
        self->held_timer = zloop_timer (loop, S_HELD_RETRY_MS, 1, s_on_held_timer, self);
    else {
        zflow__redis_conn_pause (self->conn, false);
        s_read_next (self);
    }
    zflow__redis_conn_flush (self->conn);
    return 0;
}

//  ---------------------------------------------------------------------
//  Pub/sub

static void s_on_pubsub (redisAsyncContext *ac, void *r, void *privdata)
{
    (void) ac;
    s_source_t *self = (s_source_t *) privdata;
    redisReply *reply = (redisReply *) r;
    if (!reply)
        return;
    if (reply->type == REDIS_REPLY_ERROR) {
        char text[200];
        zflow__redis_reply_text (reply, text, sizeof (text));
        self->sub_refused++;
        snprintf (self->reason, sizeof (self->reason), "SUBSCRIBE: %s", text);
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
        reply->element[0]->type != REDIS_REPLY_STRING)
        return;
    bool pmessage = streq (reply->element[0]->str, "pmessage") && reply->elements == 4;
    if (!pmessage && !streq (reply->element[0]->str, "message"))
        return; //  subscribe / psubscribe confirmations
    redisReply *channel = reply->element[pmessage ? 2 : 1];
    redisReply *payload = reply->element[pmessage ? 3 : 2];
    self->messages++;
    self->counters->msgs_in++;
    self->counters->bytes_in += payload->len;
    zframe_t *key = s_key (self, channel->str, channel->len);
    if (!key || payload->type != REDIS_REPLY_STRING) {
        self->malformed++;
        self->counters->drops++;
        return;
    }
    zflow_meta_reset (self->meta);
    zflow_meta_set_source (self->meta, self->name);
    zflow_meta_stamp (self->meta);
    zflow_meta_set (self->meta, "channel", channel->str);
    if (pmessage)
        zflow_meta_set (self->meta, "pattern", reply->element[1]->str);
    s_publish (self, key, payload->str, payload->len, NULL);
}

//  Sends one SUBSCRIBE (or PSUBSCRIBE) naming every channel (pattern).
static void s_subscribe (s_source_t *self, redisAsyncContext *ac, const char *command,
                         zlist_t *names)
{
    size_t n = zlist_size (names);
    const char **argv = n ? (const char **) malloc ((n + 1) * sizeof (char *)) : NULL;
    if (!argv)
        return;
    argv[0] = command;
    size_t index = 1;
    for (char *name = (char *) zlist_first (names); name; name = (char *) zlist_next (names))
        argv[index++] = name;
    redisAsyncCommandArgv (ac, s_on_pubsub, self, (int) n + 1, argv, NULL);
    free (argv);
}

//  ---------------------------------------------------------------------
//  Streams

//  Handles one entry [id, [field, value, ...]] of an XREADGROUP reply.
static void s_on_entry (s_source_t *self, zframe_t *key, redisReply *entry)
{
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 ||
        entry->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *id = entry->element[0]->str;
    snprintf (self->last_id, sizeof (self->last_id), "%s", id);
    self->messages++;
    self->counters->msgs_in++;
    if (self->pending)
        self->pending_read++;
    redisReply *fields = entry->element[1];
    redisReply *payload = NULL;
    for (size_t index = 0; fields->type == REDIS_REPLY_ARRAY && index + 1 < fields->elements;
         index += 2)
        if (fields->element[index]->type == REDIS_REPLY_STRING &&
            streq (fields->element[index]->str, self->field))
            payload = fields->element[index + 1];
    if (!key || !payload || payload->type != REDIS_REPLY_STRING) {
        //  deleted (nil fields) or written without our field: never deliverable
        self->malformed++;
        self->counters->drops++;
        snprintf (self->reason, sizeof (self->reason),
                  "entry %s of %.100s has no field '%.50s': acknowledged and dropped", id,
                  self->stream, self->field);
        s_ack (self, id);
        return;
    }
    self->counters->bytes_in += payload->len;
    zflow_meta_reset (self->meta);
    zflow_meta_set_source (self->meta, self->name);
    zflow_meta_stamp (self->meta);
    zflow_meta_set (self->meta, "stream", self->stream);
    zflow_meta_set (self->meta, "id", id);
    s_publish (self, key, payload->str, payload->len, id);
}

static void s_on_read (redisAsyncContext *ac, void *r, void *privdata)
{
    (void) ac;
    s_source_t *self = (s_source_t *) privdata;
    redisReply *reply = (redisReply *) r;
    self->reading = false;
    if (!reply)
        return; //  connection lost: ready reads again
    if (reply->type == REDIS_REPLY_ERROR) {
        char text[200];
        zflow__redis_reply_text (reply, text, sizeof (text));
        self->sub_refused++;
        char reason[256];
        snprintf (reason, sizeof (reason), "XREADGROUP: %s", text);
        //  NOGROUP (the stream or group was deleted): start over
        zflow__redis_conn_fail (self->conn, reason, false);
        return;
    }
    size_t entries = 0;
    //  [[stream, [entry, ...]]], or nil when BLOCK timed out
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 &&
        reply->element[0]->type == REDIS_REPLY_ARRAY && reply->element[0]->elements == 2) {
        redisReply *list = reply->element[0]->element[1];
        zframe_t *key = s_key (self, self->stream, strlen (self->stream));
        for (size_t index = 0; list->type == REDIS_REPLY_ARRAY && index < list->elements; index++)
            s_on_entry (self, key, list->element[index]);
        entries = list->type == REDIS_REPLY_ARRAY ? list->elements : 0;
    }
    if (self->pending && entries == 0) {
        self->pending = false; //  none left: new entries from now on
        if (zflow_actor_verbose (self->base))
            zsys_debug ("redis_source: pending entries read (%" PRIu64 "), now '>'",
                        self->pending_read);
    }
    s_read_next (self);
}

//  Issues the next XREADGROUP unless one is out or envelopes are held.
static void s_read_next (s_source_t *self)
{
    redisAsyncContext *ac = zflow__redis_conn_ac (self->conn);
    if (!self->stream_mode || self->reading || !ac || zlist_size (self->held))
        return;
    const char *id = self->pending ? self->last_id : ">";
    const char *argv[] = {"XREADGROUP", "GROUP",      self->group, self->consumer,
                          "COUNT",      self->count,  "BLOCK",     self->block,
                          "STREAMS",    self->stream, id};
    if (redisAsyncCommandArgv (ac, s_on_read, self, 11, argv, NULL) == REDIS_OK)
        self->reading = true;
}

static void s_on_group (redisAsyncContext *ac, void *r, void *privdata)
{
    (void) ac;
    s_source_t *self = (s_source_t *) privdata;
    redisReply *reply = (redisReply *) r;
    if (reply && reply->type == REDIS_REPLY_ERROR && strncmp (reply->str, "BUSYGROUP", 9)) {
        char text[200], reason[256];
        zflow__redis_reply_text (reply, text, sizeof (text));
        snprintf (reason, sizeof (reason), "XGROUP CREATE: %s", text);
        self->sub_refused++;
        zflow__redis_conn_fail (self->conn, reason, false);
        return;
    }
    if (reply)
        s_read_next (self);
}

//  ---------------------------------------------------------------------
//  Connection events

static void s_on_ready (zflow__redis_conn_t *conn, void *arg)
{
    (void) conn;
    s_source_t *self = (s_source_t *) arg;
    redisAsyncContext *ac = zflow__redis_conn_ac (self->conn);
    if (!self->stream_mode) {
        s_subscribe (self, ac, "SUBSCRIBE", self->channels);
        s_subscribe (self, ac, "PSUBSCRIBE", self->patterns);
        return;
    }
    //  this consumer's pending entries first, from the start
    self->pending = true;
    snprintf (self->last_id, sizeof (self->last_id), "0");
    const char *argv[] = {"XGROUP",    "CREATE",       self->stream,
                          self->group, self->start_id, "MKSTREAM"};
    redisAsyncCommandArgv (ac, s_on_group, self, 6, argv, NULL);
}

static void s_on_lost (zflow__redis_conn_t *conn, void *arg)
{
    (void) conn;
    s_source_t *self = (s_source_t *) arg;
    self->reading = false;
}

static void s_stats (zflow_actor_t *base, zmsg_t *reply, void *arg)
{
    (void) base;
    s_source_t *self = (s_source_t *) arg;
    zflow__redis_conn_stats_t *conn = zflow__redis_conn_stats (self->conn);
    zflow_actor_stats_add (reply, "connected", zflow__redis_conn_ac (self->conn) ? 1 : 0);
    zflow_actor_stats_add (reply, "connects", conn->connects);
    zflow_actor_stats_add (reply, "reconnects", conn->reconnects);
    zflow_actor_stats_add (reply, "messages", self->messages);
    zflow_actor_stats_add (reply, "held", zlist_size (self->held));
    zflow_actor_stats_add (reply, "acked", self->acked);
    zflow_actor_stats_add (reply, "pending_read", self->pending_read);
    zflow_actor_stats_add (reply, "malformed", self->malformed);
    zflow_actor_stats_add (reply, "refused", conn->refused + self->sub_refused);
    const char *reason = conn->refused ? conn->reason : *self->reason ? self->reason : conn->reason;
    if (*reason) {
        zmsg_addstr (reply, "reason");
        zmsg_addstr (reply, reason);
    }
}

static int s_command (zflow_actor_t *base, const char *command, zmsg_t *request, void *arg)
{
    (void) base;
    (void) request;
    s_source_t *self = (s_source_t *) arg;
    if (streq (command, "START")) {
        if (!self->started)
            zflow__redis_conn_start (self->conn);
        self->started = true;
        zflow__redis_conn_flush (self->conn);
        zsock_signal (zflow_actor_pipe (self->base), 0);
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Setup

static void s_source_destroy (s_source_t **self_p)
{
    s_source_t *self = *self_p;
    if (!self)
        return;
    zflow__redis_conn_destroy (&self->conn);
    while (self->held && zlist_size (self->held)) {
        zmsg_t *held = (zmsg_t *) zlist_pop (self->held);
        zmsg_destroy (&held);
        self->counters->drops++;
    }
    zlist_destroy (&self->held);
    while (self->acks && zlist_size (self->acks))
        free (zlist_pop (self->acks)); //  never acknowledged: pending in Redis
    zlist_destroy (&self->acks);
    zlist_destroy (&self->channels);
    zlist_destroy (&self->patterns);
    zhashx_destroy (&self->keys);
    zflow_meta_destroy (&self->meta);
    zsock_destroy (&self->pub);
    free (self->stream);
    free (self->group);
    free (self->consumer);
    free (self->start_id);
    free (self->field);
    free (self->prefix);
    free (self->separator);
    free (self->name);
    zflow_actor_destroy (&self->base);
    free (self);
    *self_p = NULL;
}

//  Fills list with the comma- or newline-separated names of text. Returns
//  0, or -1 for a name with a space or a control character.
static int s_names (zlist_t *list, const char *text)
{
    char *copy = strdup (text ? text : "");
    int rc = 0;
    char *save = NULL;
    for (char *name = strtok_r (copy, ",\n", &save); name; name = strtok_r (NULL, ",\n", &save)) {
        for (char *c = name; *c; c++)
            rc = (unsigned char) *c <= ' ' ? -1 : rc;
        zlist_append (list, name);
    }
    free (copy);
    return rc;
}

static char *s_dup (const char *text, const char *fallback)
{
    return strdup (text && *text ? text : fallback);
}

static int s_configure (s_source_t *self, const zflow_redis_config_t *config)
{
    self->stream_mode = config->mode == ZFLOW_REDIS_STREAM;
    self->lossless = config->lossless;
    self->channels = zlist_new ();
    self->patterns = zlist_new ();
    self->acks = zlist_new ();
    self->held = zlist_new ();
    self->keys = zhashx_new ();
    self->meta = zflow_meta_new ();
    if (!self->channels || !self->patterns || !self->acks || !self->held || !self->keys ||
        !self->meta)
        return ZFLOW_ENOMEM;
    zlist_autofree (self->channels);
    zlist_autofree (self->patterns);
    zhashx_set_destructor (self->keys, (zhashx_destructor_fn *) zframe_destroy);
    self->stream = config->stream && *config->stream ? strdup (config->stream) : NULL;
    self->group = s_dup (config->group, "zflow");
    self->consumer = s_dup (config->consumer, "zflow");
    self->start_id = s_dup (config->start_id, "$");
    self->field = s_dup (config->field, "payload");
    self->prefix = strdup (config->prefix ? config->prefix : "redis");
    self->separator = strdup (config->separator ? config->separator : ":");
    self->name = s_dup (config->name, "redis");
    snprintf (self->count, sizeof (self->count), "%zu", config->count);
    snprintf (self->block, sizeof (self->block), "%d",
              config->block_ms > 0 ? config->block_ms : ZFLOW_REDIS_BLOCK_MS);
    self->ack_ms = config->ack_ms > 0 ? config->ack_ms : 1;
    if (s_names (self->channels, config->channels) || s_names (self->patterns, config->patterns))
        return ZFLOW_ECONFIG;
    if (config->mode != ZFLOW_REDIS_PUBSUB && config->mode != ZFLOW_REDIS_STREAM)
        return ZFLOW_ECONFIG;
    if (self->stream_mode ? !self->stream || config->count == 0
                          : zlist_size (self->channels) + zlist_size (self->patterns) == 0)
        return ZFLOW_ECONFIG;
    self->conn = zflow__redis_conn_new (self->base, config, "redis_source", s_on_ready, s_on_lost,
                                        NULL, self);
    return self->conn ? 0 : ZFLOW_ECONFIG;
}

//  Binds the output: NODROP, so a full subscriber refuses instead of
//  ZeroMQ dropping silently.
static int s_bind (s_source_t *self, const zflow_redis_config_t *config)
{
    self->pub = zsock_new (ZMQ_PUB);
    if (!self->pub)
        return ZFLOW_ENOMEM;
    self->pub_handle = zsock_resolve (self->pub);
    zsock_set_sndhwm (self->pub, (int) (config->sndhwm ? config->sndhwm : ZFLOW_REDIS_SNDHWM));
    int nodrop = 1;
    zmq_setsockopt (self->pub_handle, ZMQ_XPUB_NODROP, &nodrop, sizeof (nodrop));
    //  a unique name: an inproc name is released asynchronously after its
    //  socket closed, and a new source may get the old one's address
    zuuid_t *uuid = zuuid_new ();
    int rc = -1;
    if (config->endpoint)
        rc = zsock_bind (self->pub, "%s", config->endpoint);
    else if (uuid)
        rc = zsock_bind (self->pub, "inproc://zflow-redis-source-%s", zuuid_str (uuid));
    zuuid_destroy (&uuid);
    if (rc < 0)
        zsys_error ("redis_source: cannot bind its output %s: %s",
                    config->endpoint ? config->endpoint : "inproc://", zmq_strerror (zmq_errno ()));
    return rc < 0 ? ZFLOW_EENDPOINT : 0;
}

static void s_source_actor (zsock_t *pipe, void *args)
{
    s_start_t *start = (s_start_t *) args;
    s_source_t *self = (s_source_t *) zmalloc (sizeof (s_source_t));
    self->base = zflow_actor_new (pipe, "redis_source");
    self->held_timer = self->ack_timer = -1;
    start->err = self->base ? 0 : ZFLOW_ENOMEM;
    if (!start->err) {
        self->counters = zflow_actor_counters (self->base);
        start->err = s_configure (self, start->config);
    }
    if (!start->err)
        start->err = s_bind (self, start->config);
    if (start->err) {
        zsock_signal (pipe, 0); //  as zflow_actor_ready (base, -1) would
        zsock_signal (pipe, 1);
        s_source_destroy (&self);
        return;
    }
    zflow_actor_set_stats_handler (self->base, s_stats, self);
    zflow_actor_set_command_handler (self->base, s_command, self);
    start->endpoint = zsock_last_endpoint (self->pub);
    if (!start->config->manual_start) {
        self->started = true;
        zflow__redis_conn_start (self->conn);
    }
    zflow_actor_ready (self->base, 0);
    zflow_actor_run (self->base);
    s_source_destroy (&self);
}

//  ---------------------------------------------------------------------
//  The caller's side

struct _zflow_redis_source_t {
    zactor_t *actor; //  the source actor
    char *endpoint;  //  the output's bound endpoint
};

zflow_redis_source_t *zflow_redis_source_new (const zflow_redis_config_t *config, int *err_p)
{
    int err = ZFLOW_EINVAL;
    zflow_redis_source_t *self = NULL;
    if (config) {
        s_start_t start = {config, 0, NULL};
        zactor_t *actor = zflow_actor_start (s_source_actor, &start);
        err = start.err ? start.err : ZFLOW_ENOMEM;
        self = actor ? (zflow_redis_source_t *) zmalloc (sizeof (*self)) : NULL;
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

int zflow_redis_source_start (zflow_redis_source_t *self)
{
    if (!self)
        return ZFLOW_EINVAL;
    zstr_send (self->actor, "START");
    zsock_set_rcvtimeo (self->actor, 5000);
    int rc = zsock_wait (self->actor);
    zsock_set_rcvtimeo (self->actor, -1);
    return rc == 0 ? 0 : ZFLOW_ETIMEDOUT;
}

void zflow_redis_source_destroy (zflow_redis_source_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zactor_destroy (&(*self_p)->actor);
    zstr_free (&(*self_p)->endpoint);
    free (*self_p);
    *self_p = NULL;
}

zhash_t *zflow_redis_source_stats (zflow_redis_source_t *self, int timeout_ms)
{
    return self ? zflow_actor_stats (self->actor, timeout_ms) : NULL;
}

void zflow_redis_source_set_verbose (zflow_redis_source_t *self, bool verbose)
{
    if (self)
        zflow_actor_set_verbose (self->actor, verbose);
}

const char *zflow_redis_source_endpoint (zflow_redis_source_t *self)
{
    return self ? self->endpoint : NULL;
}

zactor_t *zflow_redis_source_actor (zflow_redis_source_t *self)
{
    return self ? self->actor : NULL;
}

//  ---------------------------------------------------------------------
//  Shared configuration

void zflow_redis_config_init (zflow_redis_config_t *config)
{
    if (!config)
        return;
    memset (config, 0, sizeof (*config));
    config->host = "127.0.0.1";
    config->port = ZFLOW_REDIS_PORT;
    config->mode = ZFLOW_REDIS_PUBSUB;
    config->group = "zflow";
    config->consumer = "zflow";
    config->start_id = "$";
    config->field = "payload";
    config->prefix = "redis";
    config->separator = ":";
    config->max_payload = ZFLOW_REDIS_MAX_PAYLOAD;
    config->inflight = ZFLOW_REDIS_INFLIGHT;
    config->count = ZFLOW_REDIS_COUNT;
    config->block_ms = ZFLOW_REDIS_BLOCK_MS;
    config->ack_ms = ZFLOW_REDIS_ACK_MS;
    config->backoff_max_ms = ZFLOW_REDIS_BACKOFF_MAX_MS;
    config->connect_timeout_ms = ZFLOW_REDIS_CONNECT_TIMEOUT_MS;
    config->sndhwm = ZFLOW_REDIS_SNDHWM;
    config->resend = true;
    config->name = "redis";
}
