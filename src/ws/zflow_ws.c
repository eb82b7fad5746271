/*  =========================================================================
    zflow_ws - a WebSocket feed: the caller's side of the actor

    Also the reading side of streams: zflow_ws_stream_read takes a batch
    from the stream and hands its messages out one envelope at a time,
    keeping the batch in the stream's shared state (found by the stream's
    address in a registry, since the reader gets only the zflow_stream_t).

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_ws_internal.h"

#include <endian.h>
#include <pthread.h>

//  One stream the caller holds, to name it to the actor.
typedef struct {
    zflow_stream_t *stream;           //  the caller's stream (owned by the caller)
    uint64_t id;                      //  the actor's id for it
    zflow_ws_stream_shared_t *shared; //  state shared with the actor (ours)
} s_stream_ref_t;

//  ---------------------------------------------------------------------
//  Streams of every feed, so that zflow_ws_stream_read (which gets only the
//  zflow_stream_t) finds its batch and its count of pending messages.

//  One registered stream.
typedef struct {
    zflow_stream_t *stream;           //  the caller's stream
    zflow_ws_stream_shared_t *shared; //  its state
} s_registered_t;

static pthread_mutex_t s_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static s_registered_t *s_registry = NULL;       //  registered streams (guarded by the lock)
static size_t s_registry_size = 0;              //  entries in use
static size_t s_registry_cap = 0;               //  entries allocated
static atomic_uint_fast64_t s_registry_gen = 1; //  bumped on every removal

//  Each reading thread remembers its last lookup while nothing was removed.
static _Thread_local zflow_stream_t *s_cached_stream = NULL;
static _Thread_local zflow_ws_stream_shared_t *s_cached_shared = NULL;
static _Thread_local uint_fast64_t s_cached_gen = 0;

static void s_shared_destroy (zflow_ws_stream_shared_t **shared_p);

static int s_register (zflow_stream_t *stream, zflow_ws_stream_shared_t *shared)
{
    int rc = 0;
    pthread_mutex_lock (&s_registry_lock);
    //  An orphan at this address is a stream destroyed after its feed.
    for (size_t i = 0; i < s_registry_size; i++)
        if (s_registry[i].stream == stream && atomic_load (&s_registry[i].shared->orphan)) {
            s_shared_destroy (&s_registry[i].shared);
            memmove (s_registry + i, s_registry + i + 1,
                     (--s_registry_size - i) * sizeof (*s_registry));
            i--;
        }
    if (s_registry_size == s_registry_cap) {
        size_t cap = s_registry_cap ? s_registry_cap * 2 : 16;
        s_registered_t *grown = (s_registered_t *) realloc (s_registry, cap * sizeof (*grown));
        if (grown) {
            s_registry = grown;
            s_registry_cap = cap;
        } else
            rc = ZFLOW_ENOMEM;
    }
    if (rc == 0)
        s_registry[s_registry_size++] = (s_registered_t){stream, shared};
    atomic_fetch_add (&s_registry_gen, 1); //  a cached miss for this pointer is stale
    pthread_mutex_unlock (&s_registry_lock);
    return rc;
}

static void s_unregister (zflow_ws_stream_shared_t *shared)
{
    pthread_mutex_lock (&s_registry_lock);
    for (size_t i = 0; i < s_registry_size; i++)
        if (s_registry[i].shared == shared) {
            memmove (s_registry + i, s_registry + i + 1,
                     (--s_registry_size - i) * sizeof (*s_registry));
            break;
        }
    if (s_registry_size == 0) {
        free (s_registry);
        s_registry = NULL;
        s_registry_cap = 0;
    }
    atomic_fetch_add (&s_registry_gen, 1);
    pthread_mutex_unlock (&s_registry_lock);
}

static zflow_ws_stream_shared_t *s_lookup (zflow_stream_t *stream)
{
    uint_fast64_t gen = atomic_load (&s_registry_gen);
    if (s_cached_stream == stream && s_cached_gen == gen)
        return s_cached_shared;
    zflow_ws_stream_shared_t *shared = NULL;
    pthread_mutex_lock (&s_registry_lock);
    for (size_t i = s_registry_size; i-- > 0;) //  the newest first
        if (s_registry[i].stream == stream) {
            shared = s_registry[i].shared;
            break;
        }
    gen = atomic_load (&s_registry_gen);
    pthread_mutex_unlock (&s_registry_lock);
    s_cached_stream = stream;
    s_cached_shared = shared;
    s_cached_gen = gen;
    return shared;
}

static void s_shared_destroy (zflow_ws_stream_shared_t **shared_p)
{
    zflow_ws_stream_shared_t *shared = *shared_p;
    if (!shared)
        return;
    zflow_msg_destroy (&shared->batch);
    zflow_meta_destroy (&shared->meta);
    free (shared);
    *shared_p = NULL;
}

static zflow_ws_stream_shared_t *s_shared_new (void)
{
    zflow_ws_stream_shared_t *shared =
        (zflow_ws_stream_shared_t *) calloc (1, sizeof (zflow_ws_stream_shared_t));
    if (shared) {
        shared->batch = zflow_msg_new ();
        shared->meta = zflow_meta_new ();
        if (!shared->batch || !shared->meta)
            s_shared_destroy (&shared);
    }
    return shared;
}

//  Forgets the stream of ref and frees its state (the actor no longer has
//  it). orphan: the caller may still read the stream (the feed is being
//  destroyed), so its state stays registered until the reader sees the end,
//  zflow_ws_stream_close (NULL, ...) or a new stream at the same address.
static void s_ref_destroy (s_stream_ref_t **ref_p, bool orphan)
{
    s_stream_ref_t *ref = *ref_p;
    if (!ref)
        return;
    if (ref->shared && orphan) {
        pthread_mutex_lock (&s_registry_lock);
        atomic_store (&ref->shared->orphan, true);
        pthread_mutex_unlock (&s_registry_lock);
        ref->shared = NULL;
    }
    if (ref->shared)
        s_unregister (ref->shared);
    s_shared_destroy (&ref->shared);
    free (ref);
    *ref_p = NULL;
}

//  Frees the state of a stream whose feed is gone.
static void s_orphan_free (zflow_ws_stream_shared_t *shared)
{
    if (shared && atomic_load (&shared->orphan)) {
        s_unregister (shared);
        s_shared_destroy (&shared);
    }
}

struct _zflow_ws_t {
    zactor_t *actor;          //  the feed actor
    zflow_ws_args_t args;     //  what the actor was started with
    zflow_ws_shared_t shared; //  state shared with the actor
    zsock_t *sendq;           //  PAIR to the actor for outgoing messages
    char *endpoint;           //  PUB endpoint
    zlist_t *streams;         //  s_stream_ref_t items
    bool exited;              //  zflow_ws_exit done
};

zflow_ws_t *zflow_ws_new (const char *name, zflow_ws_config_t **config_p, int *err_p)
{
    int rc = ZFLOW_EINVAL;
    zflow_ws_t *self = NULL;
    zflow_ws_config_t *config = config_p ? *config_p : NULL;
    if (config_p)
        *config_p = NULL;
    zflow_key_t *key = name ? zflow_key_new ("ws", name, NULL) : NULL;
    if (!config || !key || !*name)
        goto fail;
    rc = ZFLOW_ENOMEM;
    self = (zflow_ws_t *) calloc (1, sizeof (zflow_ws_t));
    if (!self)
        goto fail;
    self->args.name = strdup (name);
    //  A fresh name each time: libzmq frees inproc names asynchronously, so
    //  a reused name (an address malloc gave again) could still be taken.
    static atomic_uint_fast64_t s_instances = 0;
    self->args.send_endpoint = zsys_sprintf ("inproc://zflow-ws-send-%" PRIu64,
                                             (uint64_t) atomic_fetch_add (&s_instances, 1));
    self->endpoint =
        config->endpoint ? strdup (config->endpoint) : zsys_sprintf ("inproc://zflow-ws-%s", name);
    self->streams = zlist_new ();
    self->sendq = zsock_new (ZMQ_PAIR);
    if (!self->args.name || !self->args.send_endpoint || !self->endpoint || !self->streams ||
        !self->sendq)
        goto fail;
    self->shared.send_queue = config->send_queue;
    self->args.shared = &self->shared;
    self->args.config = config;
    config = NULL; //  the actor owns it from here on
    self->actor = zflow_actor_start (zflow__ws_actor, &self->args);
    rc = ZFLOW_EENDPOINT;
    if (!self->actor)
        goto fail;
    zsock_set_sndhwm (self->sendq, 0);
    if (zsock_connect (self->sendq, "%s", self->args.send_endpoint) != 0)
        goto fail;
    zflow_key_destroy (&key);
    if (err_p)
        *err_p = 0;
    return self;
fail:
    zflow_key_destroy (&key);
    zflow_ws_config_destroy (&config);
    zflow_ws_destroy (&self);
    if (err_p)
        *err_p = rc;
    return NULL;
}

void zflow_ws_destroy (zflow_ws_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_ws_t *self = *self_p;
    if (self->actor) {
        zflow_ws_exit (self);
        zactor_destroy (&self->actor);
    }
    s_stream_ref_t *ref;
    while (self->streams && (ref = (s_stream_ref_t *) zlist_pop (self->streams)))
        s_ref_destroy (&ref, true);
    zlist_destroy (&self->streams);
    zsock_destroy (&self->sendq);
    free (self->args.name);
    free (self->args.send_endpoint);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

const char *zflow_ws_endpoint (zflow_ws_t *self)
{
    return self->endpoint;
}

zactor_t *zflow_ws_actor (zflow_ws_t *self)
{
    return self->actor;
}

bool zflow_ws_present (zflow_ws_t *self)
{
    return atomic_load (&self->shared.connected);
}

uint64_t zflow_ws_connects (zflow_ws_t *self)
{
    return atomic_load (&self->shared.connects);
}

int zflow_ws_wait_connected (zflow_ws_t *self, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (!atomic_load (&self->shared.connected)) {
        if (atomic_load (&self->shared.closed))
            return ZFLOW_ECLOSED;
        if (timeout_ms >= 0 && zclock_mono () >= deadline)
            return ZFLOW_ETIMEDOUT;
        zclock_sleep (2);
    }
    return 0;
}

int zflow_ws_send (zflow_ws_t *self, const void *data, size_t size, bool binary)
{
    if (!self || (!data && size))
        return ZFLOW_EINVAL;
    if (atomic_load (&self->shared.closed) || self->exited)
        return ZFLOW_ECLOSED;
    if (!binary && !zflow__ws_utf8_valid ((const uint8_t *) data, size))
        return ZFLOW_EPROTO;
    if (atomic_fetch_add (&self->shared.send_pending, 1) >= self->shared.send_queue) {
        atomic_fetch_sub (&self->shared.send_pending, 1);
        return ZFLOW_EFULL;
    }
    zframe_t *frame = zframe_new (NULL, size + 1);
    if (!frame) {
        atomic_fetch_sub (&self->shared.send_pending, 1);
        return ZFLOW_ENOMEM;
    }
    uint8_t *bytes = zframe_data (frame);
    bytes[0] = binary ? 'B' : 'T';
    if (size)
        memcpy (bytes + 1, data, size);
    if (zframe_send (&frame, self->sendq, 0) != 0) {
        zframe_destroy (&frame);
        atomic_fetch_sub (&self->shared.send_pending, 1);
        return ZFLOW_ECLOSED;
    }
    return 0;
}

int zflow_ws_start (zflow_ws_t *self)
{
    if (self->exited)
        return ZFLOW_ECLOSED;
    zstr_send (self->actor, "START");
    int rc = ZFLOW_ECLOSED;
    zsock_recv (self->actor, "i", &rc);
    return rc;
}

int zflow_ws_reconnect (zflow_ws_t *self)
{
    if (self->exited)
        return ZFLOW_ECLOSED;
    zstr_send (self->actor, "RECONNECT");
    int rc = ZFLOW_ECLOSED;
    zsock_recv (self->actor, "i", &rc);
    return rc;
}

zflow_stream_t *zflow_ws_stream_filter (zflow_ws_t *self, const char *filter_json, size_t queue,
                                        int policy, int *err_p)
{
    int rc = ZFLOW_ECLOSED;
    zsock_t *peer = NULL;
    uint64_t id = 0;
    zflow_stream_t *stream = NULL;
    s_stream_ref_t *ref = (s_stream_ref_t *) calloc (1, sizeof (s_stream_ref_t));
    if (ref)
        ref->shared = s_shared_new ();
    if (!ref || !ref->shared)
        rc = ZFLOW_ENOMEM;
    else if (!self->exited) {
        char queue_text[32], policy_text[16];
        snprintf (queue_text, sizeof (queue_text), "%zu", queue);
        snprintf (policy_text, sizeof (policy_text), "%d", policy);
        zsock_send (self->actor, "ssssp", "STREAM", filter_json ? filter_json : "", queue_text,
                    policy_text, (void *) ref->shared);
        void *pointer = NULL;
        if (zsock_recv (self->actor, "ip8", &rc, &pointer, &id) != 0)
            rc = ZFLOW_ECLOSED;
        peer = (zsock_t *) pointer;
    }
    if (rc == 0) {
        stream = zflow_stream_new_sock (&peer);
        rc = stream ? s_register (stream, ref->shared) : ZFLOW_ENOMEM;
        if (rc) {
            //  The actor has the stream: take it back before freeing its state.
            char id_text[32];
            uint64_t drops;
            snprintf (id_text, sizeof (id_text), "%" PRIu64, id);
            zstr_sendx (self->actor, "UNSTREAM", id_text, NULL);
            zsock_recv (self->actor, "8", &drops);
            zflow_stream_destroy (&stream);
        }
    }
    if (stream) {
        ref->stream = stream;
        ref->id = id;
        zlist_append (self->streams, ref);
    } else if (ref) {
        s_shared_destroy (&ref->shared);
        free (ref);
    }
    zsock_destroy (&peer);
    if (err_p)
        *err_p = rc;
    return stream;
}

//  Reads one big-endian number of size bytes.
static uint64_t s_get_be (const uint8_t *bytes, size_t size)
{
    uint64_t value = 0;
    for (size_t i = 0; i < size; i++)
        value = (value << 8) | bytes[i];
    return value;
}

//  Takes a batch (4 frames, just read into msg) for handing out. Returns 0,
//  or ZFLOW_EPROTO when it is not a well-formed batch (msg is then reset).
static int s_batch_take (zflow_ws_stream_shared_t *shared, zflow_msg_t *msg)
{
    zflow_msg_move (shared->batch, msg);
    size_t index_size = zflow_msg_part_size (shared->batch, 2);
    const uint8_t *index = (const uint8_t *) zflow_msg_data (shared->batch, 2);
    size_t count = index_size / ZFLOW_WS_BATCH_ENTRY, total = 0;
    for (size_t i = 0; i < count; i++)
        total += s_get_be (index + i * ZFLOW_WS_BATCH_ENTRY + 8, 4);
    zflow_meta_t *meta = shared->meta;
    if (count == 0 || index_size % ZFLOW_WS_BATCH_ENTRY ||
        total != zflow_msg_part_size (shared->batch, 3) ||
        zflow_meta_decode (meta, zflow_msg_data (shared->batch, 1),
                           zflow_msg_part_size (shared->batch, 1)) != 0) {
        zflow_msg_reset (shared->batch);
        return ZFLOW_EPROTO;
    }
    //  The messages carry the batch's source and time, each its seq and type.
    char source[ZFLOW_META_MAX_TEXT + 1] = "";
    if (zflow_meta_source (meta))
        snprintf (source, sizeof (source), "%s", zflow_meta_source (meta));
    int64_t ts = zflow_meta_timestamp (meta);
    zflow_meta_reset (meta);
    zflow_meta_set_source (meta, *source ? source : NULL);
    zflow_meta_set_timestamp (meta, ts);
    shared->count = count;
    shared->next = 0;
    shared->offset = 0;
    shared->key = (const uint8_t *) zflow_msg_data (shared->batch, 0);
    shared->key_size = zflow_msg_part_size (shared->batch, 0);
    shared->index = index;
    shared->data = (const uint8_t *) zflow_msg_data (shared->batch, 3);
    memset (shared->tmpl_size, 0, sizeof (shared->tmpl_size));
    return 0;
}

//  Makes the meta template of a content type for this batch: the meta
//  encoded with seq 2^64-1, which msgpack writes as 0xcf and eight 0xff
//  bytes (nothing else in a meta can hold eight 0xff bytes: texts are
//  UTF-8, ts is below 2^63), so each message copies it and fills in its
//  seq there instead of encoding a meta. Returns 0 or -1.
static int s_template (zflow_ws_stream_shared_t *shared, int type)
{
    zflow_meta_set_seq (shared->meta, UINT64_MAX);
    zflow_meta_set_content_type (shared->meta, zflow__ws_type_name (type));
    int size = zflow_meta_encode (shared->meta, shared->tmpl[type], sizeof (shared->tmpl[type]));
    static const uint8_t marker[9] = {0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    const uint8_t *at = size > 0 ? (const uint8_t *) memmem (shared->tmpl[type], (size_t) size,
                                                             marker, sizeof (marker))
                                 : NULL;
    if (!at)
        return -1;
    shared->tmpl_seq[type] = (size_t) (at - shared->tmpl[type]) + 1;
    shared->tmpl_size[type] = (size_t) size;
    return 0;
}

//  Hands out the next message of the batch as an envelope in msg. Returns
//  0 or ZFLOW_ENOMEM.
static int s_batch_next (zflow_ws_stream_shared_t *shared, zflow_msg_t *msg)
{
    zflow_msg_reset (msg);
    const uint8_t *entry = shared->index + shared->next * ZFLOW_WS_BATCH_ENTRY;
    uint32_t size_be;
    memcpy (&size_be, entry + 8, 4);
    size_t size = be32toh (size_be);
    const uint8_t *data = shared->data + shared->offset;
    int type = entry[12] <= ZFLOW_WS_TYPE_BINARY ? entry[12] : ZFLOW_WS_TYPE_BINARY;
    int rc = 0;
    if (!shared->tmpl_size[type])
        s_template (shared, type); //  on failure each meta is encoded in full
    if (zflow_msg_add (msg, shared->key, shared->key_size))
        rc = ZFLOW_ENOMEM;
    else if (shared->tmpl_size[type]) {
        uint8_t *meta = (uint8_t *) zflow_msg_add_empty (msg, shared->tmpl_size[type]);
        if (meta) {
            memcpy (meta, shared->tmpl[type], shared->tmpl_size[type]);
            memcpy (meta + shared->tmpl_seq[type], entry, 8); //  seq, big-endian as msgpack
        } else
            rc = ZFLOW_ENOMEM;
    } else {
        uint8_t meta[512];
        zflow_meta_set_seq (shared->meta, s_get_be (entry, 8));
        zflow_meta_set_content_type (shared->meta, zflow__ws_type_name (type));
        int meta_size = zflow_meta_encode (shared->meta, meta, sizeof (meta));
        if (meta_size <= 0 || zflow_msg_add (msg, meta, (size_t) meta_size))
            rc = ZFLOW_ENOMEM;
    }
    if (rc == 0 && zflow_msg_add (msg, data, size))
        rc = ZFLOW_ENOMEM;
    if (rc)
        zflow_msg_reset (msg); //  this message is lost, the next ones are not
    shared->offset += size;
    atomic_fetch_sub (&shared->pending, 1);
    if (++shared->next == shared->count) {
        shared->count = 0;
        zflow_msg_reset (shared->batch);
    }
    return rc;
}

int zflow_ws_stream_read (zflow_stream_t *stream, zflow_msg_t *msg, int timeout_ms)
{
    if (!stream || !msg)
        return ZFLOW_EINVAL;
    zflow_ws_stream_shared_t *shared = s_lookup (stream);
    if (shared && shared->count > 0)
        return s_batch_next (shared, msg);
    if (shared && !atomic_load_explicit (&shared->batch_reader, memory_order_relaxed))
        atomic_store (&shared->batch_reader, true); //  batches from now on
    int rc = zflow_stream_read (stream, msg, timeout_ms);
    if (rc == 0 && zflow_msg_size (msg) == 1 && zflow_msg_streq (msg, 0, ZFLOW_WS_END)) {
        zflow_msg_reset (msg);
        zflow_stream_close (stream);
        s_orphan_free (shared);
        return ZFLOW_ECLOSED;
    }
    if (rc == 0 && shared && zflow_msg_size (msg) == 4) {
        rc = s_batch_take (shared, msg);
        return rc ? rc : s_batch_next (shared, msg);
    }
    if (rc == 0 && shared)
        atomic_fetch_sub (&shared->pending, 1); //  a batch of one as a plain envelope
    return rc;
}

//  Finds the caller's record of stream; removes it when take.
static s_stream_ref_t *s_find_ref (zflow_ws_t *self, zflow_stream_t *stream, bool take)
{
    s_stream_ref_t *ref = (s_stream_ref_t *) zlist_first (self->streams);
    while (ref && ref->stream != stream)
        ref = (s_stream_ref_t *) zlist_next (self->streams);
    if (ref && take)
        zlist_remove (self->streams, ref);
    return ref;
}

uint64_t zflow_ws_stream_drops (zflow_ws_t *self, zflow_stream_t *stream)
{
    s_stream_ref_t *ref = s_find_ref (self, stream, false);
    uint64_t drops = 0;
    if (ref && self->actor) {
        char id[32];
        snprintf (id, sizeof (id), "%" PRIu64, ref->id);
        zstr_sendx (self->actor, "DROPS", id, NULL);
        zsock_recv (self->actor, "8", &drops);
    }
    return drops;
}

void zflow_ws_stream_close (zflow_ws_t *self, zflow_stream_t **stream_p)
{
    if (!stream_p || !*stream_p)
        return;
    s_stream_ref_t *ref = self ? s_find_ref (self, *stream_p, true) : NULL;
    if (ref && self->actor) {
        char id[32];
        uint64_t drops;
        snprintf (id, sizeof (id), "%" PRIu64, ref->id);
        zstr_sendx (self->actor, "UNSTREAM", id, NULL);
        zsock_recv (self->actor, "8", &drops);
    }
    if (!ref)
        s_orphan_free (s_lookup (*stream_p)); //  after zflow_ws_destroy
    s_ref_destroy (&ref, false);
    zflow_stream_destroy (stream_p);
}

int zflow_ws_flush (zflow_ws_t *self, int timeout_ms)
{
    if (!self)
        return ZFLOW_EINVAL;
    int64_t deadline = zclock_mono () + timeout_ms;
    for (;;) {
        if (self->exited || atomic_load (&self->shared.closed))
            return ZFLOW_ECLOSED;
        //  sends the actor has not handed to the connection, then bytes
        //  the connection has not written
        uint64_t bytes = 1;
        if (atomic_load (&self->shared.send_pending) == 0 &&
            (zstr_send (self->actor, "PENDING") || zsock_recv (self->actor, "8", &bytes)))
            return ZFLOW_ECLOSED;
        if (atomic_load (&self->shared.send_pending) == 0 && bytes == 0)
            return 0;
        if (timeout_ms >= 0 && zclock_mono () >= deadline)
            return ZFLOW_ETIMEDOUT;
        zclock_sleep (2);
    }
}

int zflow_ws_exit (zflow_ws_t *self)
{
    if (!self || self->exited)
        return ZFLOW_ECLOSED;
    self->exited = true;
    zstr_send (self->actor, "EXIT");
    int rc = ZFLOW_ECLOSED;
    zsock_recv (self->actor, "i", &rc);
    return rc;
}
