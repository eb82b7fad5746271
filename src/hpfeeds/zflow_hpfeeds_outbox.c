/*  =========================================================================
    zflow_hpfeeds_outbox - the hpfeeds client actor's outbox, its inputs
    (publishes from the wrapper, publish_from streams), commands and STATS

    The outbox holds encoded publish frames, bounded in bytes: DROP_OLDEST
    drops whole frames from the head (never the one partly on the wire) in
    batches of at least a quarter of the outbox, so the cost of moving the
    bytes stays low; BLOCK stops reading the inputs while a frame of the
    largest size might not fit, which pushes back on the publishers.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_envelope.h"
#include "zflow_error.h"
#include "zflow_hpfeeds_client.h"
#include "zflow_hpfeeds_proto.h"
#include <assert.h>

#define S_INPUT_BATCH 4096 //  publishes taken from the PULL per wakeup

//  Bytes the outbox can still take.
static size_t s_room (client_t *self)
{
    return self->out.limit - zflow__hpfeeds_buf_size (&self->out);
}

//  Drops whole frames from the head of the outbox (never the one partly on
//  the wire) until at least need bytes, and a quarter of the outbox, are
//  free: dropping in batches keeps the cost of moving the bytes low.
static void s_drop_oldest (client_t *self, size_t need)
{
    size_t target = need > self->out.limit / 4 ? need : self->out.limit / 4;
    while (!self->frame_left && self->tls_retry != &self->out && s_room (self) < target &&
           zflow__hpfeeds_buf_size (&self->out)) {
        const uint8_t *head = zflow__hpfeeds_buf_head (&self->out);
        size_t size = zflow__hpfeeds_frame_size (head);
        zflow__hpfeeds_buf_consume (&self->out, size);
        self->outbox_drops++;
        zflow_actor_counters (self->base)->drops++;
    }
}

//  Returns room for a frame of total bytes at the outbox tail, dropping
//  old frames by policy, or NULL when it was dropped (counted).
static uint8_t *s_reserve (client_t *self, size_t total)
{
    uint8_t *dst = zflow__hpfeeds_buf_reserve (&self->out, total);
    if (!dst && self->cfg.outbox_policy == ZFLOW_HPFEEDS_DROP_OLDEST) {
        s_drop_oldest (self, total);
        dst = zflow__hpfeeds_buf_reserve (&self->out, total);
    }
    if (!dst) {
        self->outbox_drops++;
        zflow_actor_counters (self->base)->drops++;
    }
    return dst;
}

//  True when the broker refused us channel (channel_size bytes).
static bool s_refused (client_t *self, const void *channel, size_t channel_size)
{
    if (zhash_size (self->refused_pub) == 0)
        return false;
    char name[ZFLOW_HPFEEDS_MAX_STR + 1];
    memcpy (name, channel, channel_size);
    name[channel_size] = 0;
    if (!zhash_lookup (self->refused_pub, name))
        return false;
    self->refused_drops++;
    zflow_actor_counters (self->base)->drops++;
    return true;
}

void zflow__hpfeeds_client_refuse_pub (client_t *self, const char *channel)
{
    if (strlen (channel) > ZFLOW_HPFEEDS_MAX_STR)
        return;
    zflow__hpfeeds_client_direct_off (self);
    zhash_update (self->refused_pub, channel, (void *) "");
    //  Compact the outbox without that channel's frames; the head frame
    //  stays when part of it is already on the wire.
    uint8_t *base = zflow__hpfeeds_buf_head (&self->out);
    size_t size = zflow__hpfeeds_buf_size (&self->out), src = 0, dst = 0;
    if (self->frame_left || self->tls_retry == &self->out) {
        size_t keep = self->frame_left;
        if (!keep && size >= 4)
            keep = zflow__hpfeeds_frame_size (base);
        src = dst = keep < size ? keep : size;
    }
    size_t channel_size = strlen (channel);
    while (src < size) {
        zflow_hpfeeds_frame_t frame;
        if (zflow__hpfeeds_parse (base + src, size - src, &frame, NULL, 0) != 1)
            break; //  cannot happen: the outbox holds whole frames
        bool drop = frame.channel_size == channel_size &&
                    memcmp (frame.channel, channel, channel_size) == 0;
        if (drop)
            self->refused_drops++;
        else {
            if (dst != src)
                memmove (base + dst, base + src, frame.size);
            dst += frame.size;
        }
        src += frame.size;
    }
    if (src == size)
        self->out.tail = self->out.head + dst;
}

//  Puts one publish frame in the outbox. Returns 0, or -1 when it was
//  dropped (no room even after dropping old frames, or invalid).
static int s_enqueue (client_t *self, const void *channel, size_t channel_size, const void *payload,
                      size_t size)
{
    long total = zflow__hpfeeds_encode_publish (NULL, self->ident, strlen (self->ident), channel,
                                                channel_size, payload, size);
    if (total >= 0 && s_refused (self, channel, channel_size))
        return -1;
    uint8_t *dst = total < 0 ? NULL : s_reserve (self, (size_t) total);
    if (total < 0)
        self->outbox_drops++;
    if (!dst)
        return -1;
    zflow__hpfeeds_encode_publish (dst, self->ident, strlen (self->ident), channel, channel_size,
                                   payload, size);
    zflow__hpfeeds_buf_commit (&self->out, (size_t) total);
    self->published++;
    return 0;
}

//  Puts a publish frame the wrapper encoded in the outbox, after checking
//  it is one complete publish frame with our ident.
static void s_enqueue_frame (client_t *self, const uint8_t *data, size_t size)
{
    zflow_hpfeeds_frame_t frame;
    size_t ident_size = strlen (self->ident);
    if (zflow__hpfeeds_parse (data, size, &frame, NULL, 0) != 1 || frame.size != size ||
        frame.op != ZFLOW_HPFEEDS_OP_PUBLISH || frame.name_size != ident_size ||
        memcmp (frame.name, self->ident, ident_size)) {
        self->outbox_drops++; //  cannot come from the wrapper
        return;
    }
    if (s_refused (self, frame.channel, frame.channel_size))
        return;
    uint8_t *dst = s_reserve (self, size);
    if (dst) {
        memcpy (dst, data, size);
        zflow__hpfeeds_buf_commit (&self->out, size);
        self->published++;
    }
}

//  BLOCK: true while the outbox may not have room for the largest frame.
static bool s_blocked (client_t *self)
{
    return self->cfg.outbox_policy == ZFLOW_HPFEEDS_BLOCK &&
           s_room (self) < ZFLOW_HPFEEDS_MAX_FRAME;
}

//  With the hand-off locked: counts the frames the publisher wrote itself
//  as published and sent.
static void s_count_direct (client_t *self)
{
    self->published += self->handoff->direct_frames;
    self->sent += self->handoff->direct_frames;
    self->handoff->direct_frames = 0;
}

//  Takes the frames the wrapper put in the hand-off buffer (on a ring,
//  or when direct writes end). Direct writes end with it: the outbox may
//  now hold frames the actor must write first (zflow__hpfeeds_client_
//  flush turns them on again once it is empty).
static void s_take (client_t *self)
{
    zflow_hpfeeds_handoff_t *handoff = self->handoff;
    pthread_mutex_lock (&handoff->lock);
    handoff->direct_fd = -1;
    uint8_t *data = handoff->data;
    size_t size = handoff->size, count = handoff->count, head_sent = handoff->head_sent;
    s_count_direct (self);
    self->pub_busy = handoff->direct_writes != self->direct_writes_seen;
    self->direct_writes_seen = handoff->direct_writes;
    handoff->data = self->spare;
    handoff->size = handoff->count = handoff->head_sent = 0;
    handoff->rung = false;
    if (handoff->waiting)
        pthread_cond_signal (&handoff->taken);
    pthread_mutex_unlock (&handoff->lock);
    self->spare = data;
    if (head_sent) {
        //  a direct write stopped inside the first frame: its rest goes
        //  first, whatever the policy (the outbox is empty: direct writes
        //  were on, and nothing was queued before this take)
        assert (zflow__hpfeeds_buf_size (&self->out) == 0 && !self->frame_left);
        size_t first = zflow__hpfeeds_frame_size (data);
        zflow__hpfeeds_buf_append (&self->out, data + head_sent, first - head_sent);
        self->frame_left = first - head_sent;
        self->published++;
        data += first;
        size -= first;
        count--;
    }
    //  The frames are our wrapper's own: in one piece when nothing is
    //  refused and they fit, else frame by frame (policy, refusals).
    uint8_t *dst =
        zhash_size (self->refused_pub) ? NULL : zflow__hpfeeds_buf_reserve (&self->out, size);
    if (dst) {
        memcpy (dst, data, size);
        zflow__hpfeeds_buf_commit (&self->out, size);
        self->published += count;
        return;
    }
    zflow_hpfeeds_frame_t frame;
    for (size_t offset = 0; offset < size; offset += frame.size) {
        if (zflow__hpfeeds_parse (data + offset, size - offset, &frame, NULL, 0) != 1)
            break; //  cannot happen: the wrapper encodes whole frames
        s_enqueue_frame (self, data + offset, frame.size);
    }
}

void zflow__hpfeeds_client_direct_off (client_t *self)
{
    zflow_hpfeeds_handoff_t *handoff = self->handoff;
    pthread_mutex_lock (&handoff->lock);
    bool take = handoff->direct_fd >= 0 || handoff->head_sent > 0;
    handoff->direct_fd = -1;
    pthread_mutex_unlock (&handoff->lock);
    if (take)
        s_take (self);
}

void zflow__hpfeeds_client_direct_on (client_t *self)
{
    if (self->state != S_READY || self->settling || self->draining || self->tls || self->fd < 0 ||
        self->frame_left || zflow__hpfeeds_buf_size (&self->out) ||
        zflow__hpfeeds_buf_size (&self->ctl) || zhash_size (self->refused_pub))
        return;
    zflow_hpfeeds_handoff_t *handoff = self->handoff;
    pthread_mutex_lock (&handoff->lock);
    if (handoff->large_pending == 0 && handoff->head_sent == 0)
        handoff->direct_fd = self->fd;
    pthread_mutex_unlock (&handoff->lock);
}

//  Direct writes: the hand-off's wait is over, take what is there.
static int s_on_linger (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    client_t *self = (client_t *) arg;
    self->linger_timer = -1;
    if (!s_blocked (self))
        s_take (self);
    zflow__hpfeeds_client_flush (self);
    return 0;
}

//  A ring. With direct writes on and the publisher busy (it wrote a full
//  buffer itself since the take before the last), it will most likely
//  write this one too once it fills: wait for that, up to S_PUB_LINGER_MS,
//  rather than take a few frames now. Otherwise (a slower publisher, or
//  direct writes off: an urgent ring) take at once.
static void s_on_ring (client_t *self)
{
    zflow_hpfeeds_handoff_t *handoff = self->handoff;
    pthread_mutex_lock (&handoff->lock);
    bool direct = handoff->direct_fd >= 0;
    pthread_mutex_unlock (&handoff->lock);
    if (direct && self->pub_busy) {
        if (self->linger_timer < 0)
            self->linger_timer = zloop_timer (self->loop, S_PUB_LINGER_MS, 1, s_on_linger, self);
        return;
    }
    if (self->linger_timer >= 0) {
        zloop_timer_end (self->loop, self->linger_timer);
        self->linger_timer = -1;
    }
    s_take (self);
}

int zflow__hpfeeds_client_on_input (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void) loop;
    client_t *self = (client_t *) arg;
    void *sock = zsock_resolve (reader);
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    for (int count = 0; count < S_INPUT_BATCH && !s_blocked (self); count++) {
        if (zmq_msg_recv (&frame, sock, ZMQ_DONTWAIT) < 0)
            break;
        if (zmq_msg_size (&frame) == 0)
            s_on_ring (self); //  BLOCK: room for S_PUB_BATCH, as not blocked
        else {
            //  a large frame: everything published before it goes first
            zflow__hpfeeds_client_direct_off (self);
            s_enqueue_frame (self, (const uint8_t *) zmq_msg_data (&frame), zmq_msg_size (&frame));
            pthread_mutex_lock (&self->handoff->lock);
            self->handoff->large_pending--;
            pthread_mutex_unlock (&self->handoff->lock);
        }
    }
    zmq_msg_close (&frame);
    if (s_blocked (self) && !self->input_paused) {
        zloop_reader_end (self->loop, self->input);
        self->input_paused = true;
    }
    zflow__hpfeeds_client_flush (self);
    return 0;
}

static void s_on_source (zflow_stream_t *stream, void *arg)
{
    source_t *source = (source_t *) arg;
    client_t *self = source->client;
    zflow__hpfeeds_client_direct_off (self);
    while (!s_blocked (self) && zflow_stream_read (stream, source->msg, 0) == 0) {
        size_t parts = zflow_msg_size (source->msg), index = parts - 1;
        if (parts > ZFLOW_ENVELOPE_PAYLOAD && zflow_envelope_decode (source->msg, NULL) == 0)
            index = ZFLOW_ENVELOPE_PAYLOAD;
        zflow_actor_counters (self->base)->msgs_in++;
        s_enqueue (self, source->channel, strlen (source->channel),
                   zflow_msg_data (source->msg, index), zflow_msg_part_size (source->msg, index));
    }
    if (self->state == S_READY)
        zflow__hpfeeds_client_flush (self);
}

//  After the outbox drained: resume what BLOCK paused.
void zflow__hpfeeds_client_pump (client_t *self)
{
    if (s_blocked (self))
        return;
    if (self->input_paused) {
        self->input_paused = false;
        zloop_reader (self->loop, self->input, zflow__hpfeeds_client_on_input, self);
    }
    for (source_t *source = (source_t *) zlistx_first (self->sources); source;
         source = (source_t *) zlistx_next (self->sources))
        if (zflow_stream_read_pending (source->stream) && !s_blocked (self))
            s_on_source (source->stream, source);
}

void zflow__hpfeeds_client_source_destroy (source_t **source_p)
{
    zflow_stream_destroy (&(*source_p)->stream);
    zflow_msg_destroy (&(*source_p)->msg);
    free (*source_p);
    *source_p = NULL;
}

static int s_cmd_publish_from (client_t *self, zmsg_t *request)
{
    char *type = zmsg_popstr (request), *endpoint = zmsg_popstr (request);
    char *subscribe = zmsg_popstr (request), *channel = zmsg_popstr (request);
    int rc = ZFLOW_EINVAL, socktype = type ? atoi (type) : -1;
    if (endpoint && channel && *channel && strlen (channel) <= ZFLOW_HPFEEDS_MAX_STR &&
        (socktype == ZMQ_PULL || socktype == ZMQ_SUB)) {
        source_t *source = (source_t *) zmalloc (sizeof (source_t));
        source->client = self;
        source->msg = zflow_msg_new ();
        strcpy (source->channel, channel);
        source->stream = zflow_stream_new (socktype, NULL, endpoint, &rc);
        if (source->stream && socktype == ZMQ_SUB)
            zsock_set_subscribe (zflow_stream_sock (source->stream), subscribe ? subscribe : "");
        if (source->stream)
            rc = zflow_stream_attach (source->stream, self->loop, s_on_source, NULL, source);
        if (rc == 0)
            zlistx_add_end (self->sources, source);
        else
            zflow__hpfeeds_client_source_destroy (&source);
    }
    zstr_free (&type);
    zstr_free (&endpoint);
    zstr_free (&subscribe);
    zstr_free (&channel);
    return rc;
}

static int s_cmd_subscribe (client_t *self, const char *command, const char *channel)
{
    if (!channel || !*channel)
        return ZFLOW_EINVAL;
    if (strlen (channel) > ZFLOW_HPFEEDS_MAX_STR)
        return ZFLOW_ETOOBIG;
    bool subscribe = streq (command, "SUBSCRIBE");
    void *handle = zlistx_find (self->channels, (void *) channel);
    if (subscribe == (handle != NULL))
        return 0; //  nothing changes
    if (subscribe && zlistx_size (self->channels) >= ZFLOW_HPFEEDS_MAX_CHANNELS)
        return ZFLOW_EFULL;
    if (subscribe)
        zlistx_add_end (self->channels, (void *) channel);
    else
        zlistx_delete (self->channels, handle);
    if (self->state == S_READY) {
        uint8_t buf[600];
        int size = zflow__hpfeeds_encode_sub (
            buf, subscribe ? ZFLOW_HPFEEDS_OP_SUBSCRIBE : ZFLOW_HPFEEDS_OP_UNSUBSCRIBE, self->ident,
            channel, strlen (channel));
        zflow__hpfeeds_client_direct_off (self);
        zflow__hpfeeds_buf_append (&self->ctl, buf, (size_t) size);
        zflow__hpfeeds_client_flush (self);
    }
    return 0;
}

int zflow__hpfeeds_client_command (zflow_actor_t *base, const char *command, zmsg_t *request,
                                   void *arg)
{
    client_t *self = (client_t *) arg;
    zsock_t *pipe = zflow_actor_pipe (base);
    if (streq (command, "SUBSCRIBE") || streq (command, "UNSUBSCRIBE")) {
        char *channel = zmsg_popstr (request);
        zsock_send (pipe, "i", s_cmd_subscribe (self, command, channel));
        zstr_free (&channel);
    } else if (streq (command, "PUBLISH FROM"))
        zsock_send (pipe, "i", s_cmd_publish_from (self, request));
    else if (streq (command, "STATUS"))
        zsock_send (pipe, "i", self->state == S_READY && !self->settling ? 1 : 0);
    else
        zsys_warning ("hpfeeds client: unknown command '%s'", command);
    return 0;
}

void zflow__hpfeeds_client_stats (zflow_actor_t *base, zmsg_t *reply, void *arg)
{
    (void) base;
    client_t *self = (client_t *) arg;
    pthread_mutex_lock (&self->handoff->lock);
    s_count_direct (self);
    uint64_t direct_writes = self->handoff->direct_writes;
    uint64_t direct_stalls = self->handoff->direct_stalls;
    pthread_mutex_unlock (&self->handoff->lock);
    zflow_actor_counters (self->base)->queue_depth = zflow__hpfeeds_buf_size (&self->out);
    zflow_actor_stats_add (reply, "connected", self->state == S_READY && !self->settling);
    zflow_actor_stats_add (reply, "connects", self->connects);
    zflow_actor_stats_add (reply, "disconnects", self->disconnects);
    zflow_actor_stats_add (reply, "published", self->published);
    zflow_actor_stats_add (reply, "sent", self->sent);
    zflow_actor_stats_add (reply, "direct_writes", direct_writes);
    zflow_actor_stats_add (reply, "direct_stalls", direct_stalls);
    zflow_actor_stats_add (reply, "received", self->received);
    zflow_actor_stats_add (reply, "outbox_pending", zflow__hpfeeds_buf_size (&self->out));
    zflow_actor_stats_add (reply, "outbox_drops", self->outbox_drops);
    zflow_actor_stats_add (reply, "inflight_lost", self->inflight_lost);
    zflow_actor_stats_add (reply, "inproc_drops", self->inproc_drops);
    zflow_actor_stats_add (reply, "tcp_pauses", self->tcp_pauses);
    zflow_actor_stats_add (reply, "broker_errors", self->broker_errors);
    zflow_actor_stats_add (reply, "broker_shutdowns", self->broker_shutdowns);
    zflow_actor_stats_add (reply, "protocol_errors", self->protocol_errors);
    zflow_actor_stats_add (reply, "events_dropped", self->events_dropped);
    zflow_actor_stats_add (reply, "refused_drops", self->refused_drops);
}
