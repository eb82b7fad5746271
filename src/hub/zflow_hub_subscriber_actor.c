/*  =========================================================================
    zflow_hub_subscriber_actor - the subscriber's actor: reads its XSUB
    socket, matches keys in its trie, and feeds queue and listeners

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_actor.h"
#include "zflow_envelope.h"
#include "zflow_error.h"
#include "zflow_hub_internal.h"
#include "zflow_hub_subscriber_internal.h"
#include "zflow_hub_trie.h"
#include "zflow_msg_internal.h"
#include "zflow_stream.h"

//  Messages read from the XSUB socket per turn of the loop.
#define S_BATCH 256
//  Longest prefix, announcement or fence sent upstream (a key's wire form
//  plus uid and count).
#define S_TOPIC_MAX (ZFLOW_KEY_MAX_PARTS * (ZFLOW_KEY_MAX_PART + 1) + 128)

//  One subscription: the queue's (per pattern) or one listener.
typedef struct _s_sub_t s_sub_t;
typedef struct {
    s_sub_t *owner;            //  the actor state it belongs to
    int kind;                  //  S_QUEUE, S_SYNC or S_ACTOR
    int id;                    //  listener id (0 for the queue)
    char *wire;                //  the pattern, wire form (NUL-terminated)
    size_t wire_size;          //  its size
    zflow_hub_listener_fn *fn; //  sync listener callback
    void *arg;                 //  its argument
    zflow_stream_t *stream;    //  actor listener's PUSH stream
    bool above;                //  actor stream above its watermark
    size_t subs;               //  live subscriptions (> 1: queue pattern subscribed twice)
} s_item_t;

struct _s_sub_t {
    zflow_actor_t *base;                  //  actor base: loop, pipe, counters
    const char *uid;                      //  unique id (owned by the subscriber object)
    zsock_t *sub;                         //  XSUB socket connected to the hub
    zsock_t *queue;                       //  PAIR to the subscriber object's consume
    zflow_trie_t *trie;                   //  patterns -> s_item_t
    zhashx_t *items;                      //  "q<wire>" or "l<id>" -> s_item_t
    zflow_msg_t *msg;                     //  message being read, reused
    zflow_msg_t **ring;                   //  the queue: messages waiting for consume
    size_t head;                          //  index of the oldest in ring
    size_t count;                         //  messages in ring
    size_t limit;                         //  queue limit (ring capacity)
    int policy;                           //  zflow_hub_overflow_t
    bool reading;                         //  XSUB reader registered
    bool polling;                         //  PAIR POLLOUT poller registered
    bool queue_hit;                       //  current message matched a queue pattern
    size_t actors_above;                  //  actor listeners above their watermark
    zhashx_t *counts;                     //  pattern wire -> subscriptions to it (uint64_t *)
    char presence[ZFLOW_HUB_MAX_UID + 2]; //  presence topic "\0p" uid
    size_t presence_size;                 //  its size
    int deferred;                         //  first error of a command with no reply,
                                          //  returned (and cleared) by the next FENCE
    uint64_t delivered_queue, delivered_sync, delivered_actor; //  deliveries
    uint64_t dropped_newest, dropped_oldest;                   //  drops by policy
    uint64_t max_depth, unmatched, malformed, blocked;         //  other counters
};

static void s_update_reader (s_sub_t *self);

static void s_count_destroy (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

static void s_item_destroy (void **item_p)
{
    s_item_t *item = (s_item_t *) *item_p;
    if (!item)
        return;
    free (item->wire);
    zflow_stream_destroy (&item->stream);
    free (item);
    *item_p = NULL;
}

//  ---------------------------------------------------------------------
//  ZeroMQ-side subscriptions (literal prefixes) and announcements to the hub
//  (see zflow_hub_internal.h)

//  Sends one frame upstream through the XSUB socket: "\x01" / "\0" + topic
//  for a subscription, or an announcement as is (head + body).
static void s_upstream (s_sub_t *self, const char *head, size_t head_size, const void *body,
                        size_t size)
{
    zmq_msg_t msg;
    if (zmq_msg_init_size (&msg, head_size + size))
        return;
    memcpy (zmq_msg_data (&msg), head, head_size);
    if (size)
        memcpy ((char *) zmq_msg_data (&msg) + head_size, body, size);
    if (zmq_msg_send (&msg, zsock_resolve (self->sub), 0) < 0)
        zmq_msg_close (&msg);
}

static void s_setsub (s_sub_t *self, bool on, const void *topic, size_t size)
{
    s_upstream (self, on ? "\x01" : "", 1, topic, size);
}

//  Tells the hub that this subscriber has n subscriptions to wire.
static void s_announce (s_sub_t *self, const char *wire, uint64_t n)
{
    char body[S_TOPIC_MAX];
    int size = snprintf (body, sizeof (body), "%s%c%s%c%" PRIu64, self->uid, 0, wire, 0, n);
    if (size > 0 && (size_t) size < sizeof (body))
        s_upstream (self, "A", 1, body, (size_t) size);
}

//  Announces every pattern again (the hub asked: it has just (re)met us).
static void s_announce_all (s_sub_t *self)
{
    for (uint64_t *n = (uint64_t *) zhashx_first (self->counts); n;
         n = (uint64_t *) zhashx_next (self->counts))
        s_announce (self, (const char *) zhashx_cursor (self->counts), *n);
}

//  Adds or removes one subscription of item: prefix and count.
static void s_zmq_subscribe (s_sub_t *self, s_item_t *item, bool on)
{
    if (!on && item->subs == 0)
        return;
    char topic[S_TOPIC_MAX];
    int size = zflow__pattern_prefix_wire (item->wire, item->wire_size, topic, sizeof (topic));
    if (size >= 0)
        s_setsub (self, on, topic, (size_t) size);
    item->subs = on ? item->subs + 1 : item->subs - 1;
    const char *wire = item->wire;
    uint64_t *n = (uint64_t *) zhashx_lookup (self->counts, wire);
    if (!n) {
        n = (uint64_t *) zmalloc (sizeof (uint64_t));
        zhashx_insert (self->counts, wire, n);
    }
    *n = on ? *n + 1 : *n - 1;
    s_announce (self, wire, *n);
    if (*n == 0)
        zhashx_delete (self->counts, wire);
}

//  ---------------------------------------------------------------------
//  The queue

static void s_flush_queue (s_sub_t *self);

static int s_on_queue_writable (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    (void) item;
    s_flush_queue ((s_sub_t *) arg);
    return 0;
}

//  Sends queued messages to the subscriber object until its PAIR is full.
static void s_flush_queue (s_sub_t *self)
{
    void *handle = zsock_resolve (self->queue);
    while (self->count) {
        zflow_msg_t *msg = self->ring[self->head];
        size_t parts = zflow_msg_size (msg);
        size_t i = 0;
        for (; i < parts; i++) {
            int flags = (i + 1 < parts ? ZMQ_SNDMORE : 0) | (i == 0 ? ZMQ_DONTWAIT : 0);
            if (zmq_msg_send ((zmq_msg_t *) zflow_msg_zmq (msg, i), handle, flags) < 0)
                break;
        }
        if (i == 0)
            break; //  EAGAIN on the first part: the consumer is behind
        zflow_msg_reset (msg);
        self->head = (self->head + 1) % self->limit;
        self->count--;
        self->delivered_queue++;
    }
    zmq_pollitem_t item = {handle, 0, ZMQ_POLLOUT, 0};
    zloop_t *loop = zflow_actor_loop (self->base);
    if (self->count && !self->polling)
        self->polling = zloop_poller (loop, &item, s_on_queue_writable, self) == 0;
    else if (!self->count && self->polling) {
        zloop_poller_end (loop, &item);
        self->polling = false;
    }
    zflow_actor_counters (self->base)->queue_depth = self->count;
    s_update_reader (self);
}

//  Queues a copy of msg, by the overflow policy.
static void s_enqueue (s_sub_t *self, zflow_msg_t *msg)
{
    zflow_actor_counters_t *counters = zflow_actor_counters (self->base);
    if (self->count == self->limit) {
        counters->drops++;
        if (self->policy != ZFLOW_HUB_DROP_OLDEST) {
            self->dropped_newest++; //  (under BLOCK the reader stopped before this)
            return;
        }
        self->dropped_oldest++;
        zflow_msg_reset (self->ring[self->head]);
        self->head = (self->head + 1) % self->limit;
        self->count--;
    }
    size_t tail = (self->head + self->count) % self->limit;
    if (!self->ring[tail])
        self->ring[tail] = zflow_msg_new ();
    if (!self->ring[tail] || zflow_msg_copy (self->ring[tail], msg)) {
        counters->drops++;
        self->dropped_newest++;
        return;
    }
    self->count++;
    if (self->count > self->max_depth)
        self->max_depth = self->count;
    counters->msgs_out++;
}

//  Resizes the ring to limit (keeping the newest messages if it shrinks).
static int s_set_limit (s_sub_t *self, size_t limit)
{
    zflow_msg_t **ring = (zflow_msg_t **) calloc (limit, sizeof (zflow_msg_t *));
    if (!ring)
        return ZFLOW_ENOMEM;
    while (self->count > limit) {
        zflow_msg_reset (self->ring[self->head]);
        self->head = (self->head + 1) % self->limit;
        self->count--;
        self->dropped_oldest++;
        zflow_actor_counters (self->base)->drops++;
    }
    for (size_t i = 0; i < self->count; i++) {
        size_t at = (self->head + i) % self->limit;
        ring[i] = self->ring[at];
        self->ring[at] = NULL;
    }
    for (size_t i = 0; i < self->limit; i++)
        zflow_msg_destroy (&self->ring[i]);
    free (self->ring);
    self->ring = ring;
    self->limit = limit;
    self->head = 0;
    return 0;
}

//  ---------------------------------------------------------------------
//  Dispatch

//  Writes a copy of msg to an actor listener's stream, by the policy.
static void s_to_actor (s_sub_t *self, s_item_t *item, zflow_msg_t *msg)
{
    zflow_actor_counters_t *counters = zflow_actor_counters (self->base);
    if (item->above && self->policy != ZFLOW_HUB_BLOCK) {
        counters->drops++;
        self->dropped_newest++;
        return;
    }
    zflow_msg_t *copy = zflow_msg_new ();
    int rc = copy ? zflow_msg_copy (copy, msg) : ZFLOW_ENOMEM;
    if (rc == 0)
        rc = zflow_stream_write (item->stream, copy);
    zflow_msg_destroy (&copy);
    if (rc < 0) {
        counters->drops++;
        self->dropped_newest++;
        return;
    }
    counters->msgs_out++;
    self->delivered_actor++;
    if (rc == ZFLOW_DRAIN && !item->above) {
        item->above = true;
        self->actors_above++;
    }
}

static bool s_on_match (void *arg_item, void *arg)
{
    s_item_t *item = (s_item_t *) arg_item;
    s_sub_t *self = (s_sub_t *) arg;
    if (item->kind == S_QUEUE)
        self->queue_hit = true;
    else if (item->kind == S_SYNC) {
        item->fn (self->msg, item->arg);
        self->delivered_sync++;
        zflow_actor_counters (self->base)->msgs_out++;
    } else
        s_to_actor (self, item, self->msg);
    return true;
}

static void s_dispatch (s_sub_t *self)
{
    if (zflow_msg_size (self->msg) < 3 || zflow_msg_part_size (self->msg, 0) == 0) {
        self->malformed++;
        return;
    }
    const char *key = (const char *) zflow_msg_data (self->msg, 0);
    if (key[0] == 0) {
        //  no key starts with NUL: a hub control message ("hello" under a
        //  presence topic; an empty prefix lets other subscribers' through)
        if (zflow_msg_part_size (self->msg, 0) == self->presence_size &&
            memcmp (key, self->presence, self->presence_size) == 0)
            s_announce_all (self);
        return;
    }
    zflow_actor_counters_t *counters = zflow_actor_counters (self->base);
    counters->msgs_in++;
    counters->bytes_in += zflow_msg_content_size (self->msg);
    self->queue_hit = false;
    size_t matched = zflow__trie_match (self->trie, zflow_msg_data (self->msg, 0),
                                        zflow_msg_part_size (self->msg, 0), s_on_match, self);
    if (matched == 0)
        self->unmatched++; //  came in on a literal prefix, matched no pattern
    if (self->queue_hit)
        s_enqueue (self, self->msg);
}

//  Reads one whole message from the XSUB socket. Returns 0 or -1 (nothing).
static int s_recv (void *handle, zflow_msg_t *msg)
{
    zflow_msg_reset (msg);
    int flags = ZMQ_DONTWAIT;
    while (true) {
        zmq_msg_t *part = zflow__msg_append (msg);
        if (!part)
            return -1;
        zmq_msg_init (part);
        if (zmq_msg_recv (part, handle, flags) < 0) {
            zflow_msg_reset (msg); //  (only the first part can fail: EAGAIN)
            return -1;
        }
        if (!zmq_msg_more (part))
            return 0;
        flags = 0;
    }
}

static int s_on_sub (zloop_t *loop, zsock_t *sock, void *arg)
{
    (void) loop;
    s_sub_t *self = (s_sub_t *) arg;
    void *handle = zsock_resolve (sock);
    for (int n = 0; n < S_BATCH && self->reading; n++) {
        if (s_recv (handle, self->msg))
            break;
        s_dispatch (self);
        if (self->queue_hit)
            s_flush_queue (self); //  also stops reading when the queue is full
        else if (self->actors_above)
            s_update_reader (self);
    }
    zflow_msg_reset (self->msg);
    return 0;
}

//  Reads the XSUB socket unless a lossless destination is full.
static void s_update_reader (s_sub_t *self)
{
    bool full =
        self->policy == ZFLOW_HUB_BLOCK && (self->count >= self->limit || self->actors_above > 0);
    zloop_t *loop = zflow_actor_loop (self->base);
    if (full && self->reading) {
        zloop_reader_end (loop, self->sub);
        self->reading = false;
        self->blocked++;
    } else if (!full && !self->reading) {
        //  zmq_poll is level-triggered: what waits is read on the next turn
        self->reading = zloop_reader (loop, self->sub, s_on_sub, self) == 0;
    }
}

static void s_on_actor_drained (zflow_stream_t *stream, void *arg)
{
    (void) stream;
    s_item_t *item = (s_item_t *) arg;
    if (item->above) {
        item->above = false;
        item->owner->actors_above--;
    }
    s_update_reader (item->owner);
}

//  ---------------------------------------------------------------------
//  Commands

static int s_pop_int (zmsg_t *request)
{
    char *text = zmsg_popstr (request);
    int value = text ? atoi (text) : 0;
    zstr_free (&text);
    return value;
}

static void *s_pop_ptr (zmsg_t *request)
{
    zframe_t *frame = zmsg_pop (request);
    void *value = NULL;
    if (frame && zframe_size (frame) == sizeof (void *))
        memcpy (&value, zframe_data (frame), sizeof (void *));
    zframe_destroy (&frame);
    return value;
}

//  Decodes the pattern frame (may be empty for a listener removal) and
//  makes the item's hash key: "q" + wire for the queue, "l" + id otherwise.
static zflow_key_t *s_pattern_named (zframe_t *wire, int kind, int id, char *name, size_t capacity)
{
    zflow_key_t *pattern = wire && zframe_size (wire)
                               ? zflow_key_decode (zframe_data (wire), zframe_size (wire), NULL)
                               : NULL;
    if (kind == S_QUEUE && pattern)
        snprintf (name, capacity, "q%.*s", (int) zframe_size (wire), (char *) zframe_data (wire));
    else
        snprintf (name, capacity, "l%d", id);
    return pattern;
}

static int s_add (s_sub_t *self, zmsg_t *request, int kind, int id, char *name,
                  zflow_key_t **pattern_p)
{
    s_item_t *item = (s_item_t *) zhashx_lookup (self->items, name);
    if (!item) {
        item = (s_item_t *) zmalloc (sizeof (s_item_t));
        item->owner = self;
        item->kind = kind;
        item->id = id;
        size_t size;
        item->wire = strdup ((const char *) zflow_key_wire (*pattern_p, &size));
        item->wire_size = size;
        item->fn = (zflow_hub_listener_fn *) s_pop_ptr (request);
        item->arg = s_pop_ptr (request);
        char *endpoint = zmsg_popstr (request);
        if (kind == S_ACTOR) {
            item->stream = zflow_stream_new (ZMQ_PUSH, NULL, endpoint, NULL);
            if (item->stream)
                zflow_stream_attach (item->stream, zflow_actor_loop (self->base), NULL,
                                     s_on_actor_drained, item);
        }
        zstr_free (&endpoint);
        if ((kind == S_ACTOR && !item->stream) || !item->wire ||
            zflow__trie_insert_wire (self->trie, item->wire, item->wire_size, item)) {
            void *doomed = item;
            s_item_destroy (&doomed);
            return kind == S_ACTOR ? ZFLOW_EENDPOINT : ZFLOW_ENOMEM;
        }
        zhashx_insert (self->items, name, item);
    }
    s_zmq_subscribe (self, item, true);
    return 0;
}

//  Removes one ZeroMQ subscription of item, and the item with its last one.
static void s_remove (s_sub_t *self, s_item_t *item, const char *name)
{
    s_zmq_subscribe (self, item, false);
    if (item->subs == 0 || item->kind != S_QUEUE) {
        while (item->subs)
            s_zmq_subscribe (self, item, false);
        if (item->above)
            self->actors_above--;
        zflow__trie_remove_wire (self->trie, item->wire, item->wire_size, item);
        zhashx_delete (self->items, name);
        s_update_reader (self);
    }
}

static int s_remove_listeners (s_sub_t *self)
{
    zlistx_t *names = zhashx_keys (self->items);
    int removed = 0;
    for (const char *name = (const char *) zlistx_first (names); name;
         name = (const char *) zlistx_next (names))
        if (name[0] == 'l') {
            s_remove (self, (s_item_t *) zhashx_lookup (self->items, name), name);
            removed++;
        }
    zlistx_destroy (&names);
    return removed;
}

static void s_fence (s_sub_t *self, const char *seq)
{
    char body[S_TOPIC_MAX];
    int size = snprintf (body, sizeof (body), "%s%c%.32s", self->uid, 0, seq);
    s_upstream (self, "F", 1, body, (size_t) size);
}

static int s_on_command (zflow_actor_t *base, const char *command, zmsg_t *request, void *arg)
{
    s_sub_t *self = (s_sub_t *) arg;
    zsock_t *pipe = zflow_actor_pipe (base);
    if (streq (command, "SUB") || streq (command, "UNSUB")) {
        zframe_t *wire = zmsg_pop (request);
        int kind = s_pop_int (request);
        int id = s_pop_int (request);
        char name[S_TOPIC_MAX];
        zflow_key_t *pattern = s_pattern_named (wire, kind, id, name, sizeof (name));
        zframe_destroy (&wire);
        int rc = pattern || (kind != S_QUEUE && streq (command, "UNSUB")) ? 0 : ZFLOW_EINVAL;
        if (rc == 0 && streq (command, "SUB"))
            rc = s_add (self, request, kind, id, name, &pattern);
        else if (rc == 0) {
            s_item_t *item = (s_item_t *) zhashx_lookup (self->items, name);
            if (item && item->kind == kind)
                s_remove (self, item, name);
            else
                rc = ZFLOW_ENOTFOUND;
        }
        zflow_key_destroy (&pattern);
        if (streq (command, "UNSUB") || kind == S_ACTOR)
            zsock_send (pipe, "i", rc);
        else if (rc) {
            //  the caller did not wait for this one: its next sync hears it
            zsys_warning ("hub subscriber: subscribe failed: %s", zflow_error_text (rc));
            if (!self->deferred)
                self->deferred = rc;
        }
    } else if (streq (command, "REMOVE_LISTENERS"))
        zsock_send (pipe, "i", s_remove_listeners (self));
    else if (streq (command, "FENCE")) {
        //  the reply carries the first error since the last fence (0 if none)
        char *seq = zmsg_popstr (request);
        s_fence (self, seq ? seq : "0");
        zstr_free (&seq);
        zsock_send (pipe, "i", self->deferred);
        self->deferred = 0;
    } else if (streq (command, "QUEUE")) {
        int limit = s_pop_int (request);
        int policy = s_pop_int (request);
        if (limit > 0 && s_set_limit (self, (size_t) limit) == 0)
            self->policy = policy;
        else if (!self->deferred)
            self->deferred = ZFLOW_ENOMEM;
        s_flush_queue (self);
    }
    return 0;
}

static void s_stats (zflow_actor_t *base, zmsg_t *reply, void *arg)
{
    (void) base;
    s_sub_t *self = (s_sub_t *) arg;
    zflow_actor_stats_add (reply, "delivered_queue", self->delivered_queue);
    zflow_actor_stats_add (reply, "delivered_sync", self->delivered_sync);
    zflow_actor_stats_add (reply, "delivered_actor", self->delivered_actor);
    zflow_actor_stats_add (reply, "dropped_newest", self->dropped_newest);
    zflow_actor_stats_add (reply, "dropped_oldest", self->dropped_oldest);
    zflow_actor_stats_add (reply, "max_queue_depth", self->max_depth);
    zflow_actor_stats_add (reply, "queue_limit", self->limit);
    zflow_actor_stats_add (reply, "unmatched", self->unmatched);
    zflow_actor_stats_add (reply, "malformed", self->malformed);
    zflow_actor_stats_add (reply, "blocked", self->blocked);
    zflow_actor_stats_add (reply, "subscriptions", zflow__trie_items (self->trie));
}

static int s_setup (s_sub_t *self, const zflow_hub_sub_args_t *args)
{
    self->uid = args->uid;
    self->policy = ZFLOW_HUB_BLOCK;
    self->trie = zflow__trie_new ();
    self->items = zhashx_new ();
    self->msg = zflow_msg_new ();
    self->counts = zhashx_new ();
    self->sub = zsock_new (ZMQ_XSUB);
    self->queue = zsock_new (ZMQ_PAIR);
    if (!self->trie || !self->items || !self->counts || !self->msg || !self->sub || !self->queue ||
        s_set_limit (self, ZFLOW_HUB_DEFAULT_QUEUE))
        return -1;
    zhashx_set_destructor (self->items, s_item_destroy);
    zhashx_set_destructor (self->counts, s_count_destroy);
    //  subscriptions travel upstream as messages, and libzmq drops those that
    //  meet a full pipe: no limit on that direction, so none is ever lost
    //  (their number is the number of subscriptions the user makes)
    zsock_set_sndhwm (self->sub, 0);
    //  the queue holds at most limit messages plus the two the PAIR pipe takes
    zsock_set_sndhwm (self->queue, 1);
    if (zsock_bind (self->queue, "%s", args->queue_endpoint) != 0)
        return -1;
    const zflow_hub_curve_t *curve = args->curve;
    if (curve && curve->cert && curve->server_public) {
        zcert_apply (curve->cert, self->sub);
        zsock_set_curve_serverkey (self->sub, curve->server_public);
    }
    if (strlen (self->uid) > ZFLOW_HUB_MAX_UID ||
        zsock_connect (self->sub, "%s", args->endpoint) != 0)
        return -1;
    self->presence[0] = 0;
    self->presence[1] = args->remote ? ZFLOW_HUB_PRESENCE_REMOTE : ZFLOW_HUB_PRESENCE;
    memcpy (self->presence + 2, self->uid, strlen (self->uid));
    self->presence_size = 2 + strlen (self->uid);
    s_setsub (self, true, self->presence, self->presence_size);
    zflow_actor_set_command_handler (self->base, s_on_command, self);
    zflow_actor_set_stats_handler (self->base, s_stats, self);
    s_update_reader (self);
    return 0;
}

void zflow__hub_subscriber_actor (zsock_t *pipe, void *args)
{
    s_sub_t self = {0};
    self.base = zflow_actor_new (pipe, ((zflow_hub_sub_args_t *) args)->id);
    if (!self.base) {
        zsock_signal (pipe, 0);
        zsock_signal (pipe, 1);
        return;
    }
    if (s_setup (&self, (zflow_hub_sub_args_t *) args) == 0) {
        zflow_actor_ready (self.base, 0);
        zflow_actor_run (self.base);
    } else
        zflow_actor_ready (self.base, -1);
    zhashx_destroy (&self.items); //  closes actor listener streams
    zhashx_destroy (&self.counts);
    zflow__trie_destroy (&self.trie);
    zsock_destroy (&self.sub);
    zsock_destroy (&self.queue);
    for (size_t i = 0; i < self.limit; i++)
        zflow_msg_destroy (&self.ring[i]);
    free (self.ring);
    zflow_msg_destroy (&self.msg);
    zflow_actor_destroy (&self.base);
}
