/*  =========================================================================
    zflow_hpfeeds_outbox - the hpfeeds client's outbox: publish frames
    waiting for the connection (see zflow_hpfeeds_outbox.h)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_hpfeeds_outbox.h"
#include "zflow_hpfeeds_proto.h"
#include <assert.h>

#define S_INPUT_BATCH 4096 //  publishes taken from the PULL per wakeup

static int s_on_input (zloop_t *loop, zsock_t *reader, void *arg);

zflow_hpfeeds_outbox_t *zflow__hpfeeds_outbox_new (const zflow_hpfeeds_config_t *config,
                                                   zloop_t *loop, zflow_actor_counters_t *counters,
                                                   const char *input,
                                                   zflow_hpfeeds_handoff_t *handoff,
                                                   zflow_hpfeeds_outbox_fn *on_frames, void *arg)
{
    zflow_hpfeeds_outbox_t *self = (zflow_hpfeeds_outbox_t *) zmalloc (sizeof (*self));
    if (!self)
        return NULL;
    self->loop = loop;
    self->counters = counters;
    self->on_frames = on_frames;
    self->arg = arg;
    snprintf (self->ident, sizeof (self->ident), "%s", config->ident);
    self->ident_size = strlen (self->ident);
    self->policy = config->outbox_policy;
    zflow__hpfeeds_buf_init (&self->out, config->outbox_bytes);
    self->handoff = handoff;
    self->linger_timer = -1;
    self->refused = zhash_new ();
    self->spare = (uint8_t *) malloc (S_PUB_BATCH);
    self->input = zsock_new_pull (input);
    if (!self->refused || !self->spare || !self->input) {
        zflow__hpfeeds_outbox_destroy (&self);
        return NULL;
    }
    zsock_set_rcvhwm (self->input, S_INPUT_HWM);
    zloop_reader (loop, self->input, s_on_input, self);
    return self;
}

void zflow__hpfeeds_outbox_destroy (zflow_hpfeeds_outbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_hpfeeds_outbox_t *self = *self_p;
    if (self->input && !self->input_paused)
        zloop_reader_end (self->loop, self->input);
    if (self->linger_timer >= 0)
        zloop_timer_end (self->loop, self->linger_timer);
    zsock_destroy (&self->input);
    zhash_destroy (&self->refused);
    zflow__hpfeeds_buf_free (&self->out);
    free (self->spare);
    free (self);
    *self_p = NULL;
}

//  Bytes the outbox can still take.
static size_t s_room (zflow_hpfeeds_outbox_t *self)
{
    return self->out.limit - zflow__hpfeeds_buf_size (&self->out);
}

//  Drops whole frames from the head of the outbox (never the one partly on
//  the wire) until at least need bytes, and a quarter of the outbox, are
//  free: dropping in batches keeps the cost of moving the bytes low.
static void s_drop_oldest (zflow_hpfeeds_outbox_t *self, size_t need)
{
    size_t target = need > self->out.limit / 4 ? need : self->out.limit / 4;
    while (!self->frame_left && !self->pinned && s_room (self) < target &&
           zflow__hpfeeds_buf_size (&self->out)) {
        const uint8_t *head = zflow__hpfeeds_buf_head (&self->out);
        size_t size = zflow__hpfeeds_frame_size (head);
        zflow__hpfeeds_buf_consume (&self->out, size);
        self->drops++;
        self->counters->drops++;
    }
}

//  Returns room for a frame of total bytes at the outbox tail, dropping
//  old frames by policy, or NULL when it was dropped (counted).
static uint8_t *s_reserve (zflow_hpfeeds_outbox_t *self, size_t total)
{
    uint8_t *dst = zflow__hpfeeds_buf_reserve (&self->out, total);
    if (!dst && self->policy == ZFLOW_HPFEEDS_DROP_OLDEST) {
        s_drop_oldest (self, total);
        dst = zflow__hpfeeds_buf_reserve (&self->out, total);
    }
    if (!dst) {
        self->drops++;
        self->counters->drops++;
    }
    return dst;
}

//  True when the broker refused us channel (channel_size bytes).
static bool s_refused (zflow_hpfeeds_outbox_t *self, const void *channel, size_t channel_size)
{
    if (zhash_size (self->refused) == 0)
        return false;
    char name[ZFLOW_HPFEEDS_MAX_STR + 1];
    memcpy (name, channel, channel_size);
    name[channel_size] = 0;
    if (!zhash_lookup (self->refused, name))
        return false;
    self->refused_drops++;
    self->counters->drops++;
    return true;
}

void zflow__hpfeeds_outbox_sent (zflow_hpfeeds_outbox_t *self, size_t size)
{
    self->sent += zflow__hpfeeds_buf_consume_frames (&self->out, size, &self->frame_left);
}

void zflow__hpfeeds_outbox_refuse (zflow_hpfeeds_outbox_t *self, const char *channel)
{
    if (strlen (channel) > ZFLOW_HPFEEDS_MAX_STR)
        return;
    zflow__hpfeeds_outbox_direct_off (self);
    zhash_update (self->refused, channel, (void *) "");
    //  Compact the outbox without that channel's frames; the head frame
    //  stays when part of it is already on the wire.
    uint8_t *base = zflow__hpfeeds_buf_head (&self->out);
    size_t size = zflow__hpfeeds_buf_size (&self->out), src = 0, dst = 0;
    if (self->frame_left || self->pinned) {
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

int zflow__hpfeeds_outbox_enqueue (zflow_hpfeeds_outbox_t *self, const void *channel,
                                   size_t channel_size, const void *payload, size_t size)
{
    long total = zflow__hpfeeds_encode_publish (NULL, self->ident, self->ident_size, channel,
                                                channel_size, payload, size);
    if (total >= 0 && s_refused (self, channel, channel_size))
        return -1;
    uint8_t *dst = total < 0 ? NULL : s_reserve (self, (size_t) total);
    if (total < 0)
        self->drops++;
    if (!dst)
        return -1;
    zflow__hpfeeds_encode_publish (dst, self->ident, self->ident_size, channel, channel_size,
                                   payload, size);
    zflow__hpfeeds_buf_commit (&self->out, (size_t) total);
    self->published++;
    return 0;
}

//  Puts a publish frame the wrapper encoded in the outbox, after checking
//  it is one complete publish frame with our ident.
static void s_enqueue_frame (zflow_hpfeeds_outbox_t *self, const uint8_t *data, size_t size)
{
    zflow_hpfeeds_frame_t frame;
    if (zflow__hpfeeds_parse (data, size, &frame, NULL, 0) != 1 || frame.size != size ||
        frame.op != ZFLOW_HPFEEDS_OP_PUBLISH || frame.name_size != self->ident_size ||
        memcmp (frame.name, self->ident, self->ident_size)) {
        self->drops++; //  cannot come from the wrapper
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

bool zflow__hpfeeds_outbox_blocked (zflow_hpfeeds_outbox_t *self)
{
    return self->policy == ZFLOW_HPFEEDS_BLOCK && s_room (self) < ZFLOW_HPFEEDS_MAX_FRAME;
}

//  With the hand-off locked: counts the frames the publisher wrote itself
//  as published and sent.
static void s_count_direct (zflow_hpfeeds_outbox_t *self)
{
    self->published += self->handoff->direct_frames;
    self->sent += self->handoff->direct_frames;
    self->handoff->direct_frames = 0;
}

void zflow__hpfeeds_outbox_count_direct (zflow_hpfeeds_outbox_t *self, uint64_t *writes_p,
                                         uint64_t *stalls_p)
{
    pthread_mutex_lock (&self->handoff->lock);
    s_count_direct (self);
    *writes_p = self->handoff->direct_writes;
    *stalls_p = self->handoff->direct_stalls;
    pthread_mutex_unlock (&self->handoff->lock);
}

//  Takes the frames the wrapper put in the hand-off buffer (on a ring,
//  or when direct writes end). Direct writes end with it: the outbox may
//  now hold frames the actor must write first (the owner's flush turns
//  them on again once everything is written).
static void s_take (zflow_hpfeeds_outbox_t *self)
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
        zhash_size (self->refused) ? NULL : zflow__hpfeeds_buf_reserve (&self->out, size);
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

void zflow__hpfeeds_outbox_direct_off (zflow_hpfeeds_outbox_t *self)
{
    zflow_hpfeeds_handoff_t *handoff = self->handoff;
    pthread_mutex_lock (&handoff->lock);
    bool take = handoff->direct_fd >= 0 || handoff->head_sent > 0;
    handoff->direct_fd = -1;
    pthread_mutex_unlock (&handoff->lock);
    if (take)
        s_take (self);
}

void zflow__hpfeeds_outbox_direct_on (zflow_hpfeeds_outbox_t *self, int fd)
{
    if (fd < 0 || self->frame_left || zflow__hpfeeds_buf_size (&self->out) ||
        zhash_size (self->refused))
        return;
    zflow_hpfeeds_handoff_t *handoff = self->handoff;
    pthread_mutex_lock (&handoff->lock);
    if (handoff->large_pending == 0 && handoff->head_sent == 0)
        handoff->direct_fd = fd;
    pthread_mutex_unlock (&handoff->lock);
}

void zflow__hpfeeds_outbox_disconnected (zflow_hpfeeds_outbox_t *self)
{
    //  what the publisher left (a frame cut on the wire too) joins the outbox
    zflow__hpfeeds_outbox_direct_off (self);
    if (self->linger_timer >= 0) {
        zloop_timer_end (self->loop, self->linger_timer);
        self->linger_timer = -1;
    }
    self->pinned = false;
    if (self->frame_left) {
        zflow__hpfeeds_buf_consume (&self->out, self->frame_left);
        self->frame_left = 0;
        self->inflight_lost++;
    }
}

//  Direct writes: the hand-off's wait is over, take what is there.
static int s_on_linger (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    zflow_hpfeeds_outbox_t *self = (zflow_hpfeeds_outbox_t *) arg;
    self->linger_timer = -1;
    if (!zflow__hpfeeds_outbox_blocked (self))
        s_take (self);
    self->on_frames (self->arg);
    return 0;
}

//  A ring. With direct writes on and the publisher busy (it wrote a full
//  buffer itself since the take before the last), it will most likely
//  write this one too once it fills: wait for that, up to S_PUB_LINGER_MS,
//  rather than take a few frames now. Otherwise (a slower publisher, or
//  direct writes off: an urgent ring) take at once.
static void s_on_ring (zflow_hpfeeds_outbox_t *self)
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

//  Reader of the publish PULL socket: rings and large frames.
static int s_on_input (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void) loop;
    zflow_hpfeeds_outbox_t *self = (zflow_hpfeeds_outbox_t *) arg;
    void *sock = zsock_resolve (reader);
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    for (int count = 0; count < S_INPUT_BATCH && !zflow__hpfeeds_outbox_blocked (self); count++) {
        if (zmq_msg_recv (&frame, sock, ZMQ_DONTWAIT) < 0)
            break;
        if (zmq_msg_size (&frame) == 0)
            s_on_ring (self); //  BLOCK: room for S_PUB_BATCH, as not blocked
        else {
            //  a large frame: everything published before it goes first
            zflow__hpfeeds_outbox_direct_off (self);
            s_enqueue_frame (self, (const uint8_t *) zmq_msg_data (&frame), zmq_msg_size (&frame));
            pthread_mutex_lock (&self->handoff->lock);
            self->handoff->large_pending--;
            pthread_mutex_unlock (&self->handoff->lock);
        }
    }
    zmq_msg_close (&frame);
    if (zflow__hpfeeds_outbox_blocked (self) && !self->input_paused) {
        zloop_reader_end (self->loop, self->input);
        self->input_paused = true;
    }
    self->on_frames (self->arg);
    return 0;
}

void zflow__hpfeeds_outbox_resume (zflow_hpfeeds_outbox_t *self)
{
    if (self->input_paused && !zflow__hpfeeds_outbox_blocked (self)) {
        self->input_paused = false;
        zloop_reader (self->loop, self->input, s_on_input, self);
    }
}
