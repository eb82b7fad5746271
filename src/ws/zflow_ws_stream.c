/*  =========================================================================
    zflow_ws_stream - a filtered stream of a WebSocket feed (reader's side)

    The stream owns its zflow_stream_t (the reader's end of a PAIR pipe from
    the feed actor) and the batch being handed out. What it shares with the
    actor (pending count, drops, closed / ended flags) is a counted link:
    destroying the stream marks the link closed and the actor drops its
    route at its next sweep; destroying the feed ends every route and the
    stream hands out what it already got, then ZFLOW_ECLOSED. Nothing is
    global: either side may go first.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_ws_internal.h"

struct _zflow_ws_stream_t {
    zflow_stream_t *stream;     //  the reader's end of the pipe (owned)
    zflow_ws_link_t *link;      //  shared with the actor's route (one reference is ours)
    zflow_ws_unbatch_t unbatch; //  the batch being handed out
    bool binary;                //  the last message read came in a binary frame
    bool ended;                 //  the end was read: ZFLOW_ECLOSED from now on
};

void zflow__ws_link_release (zflow_ws_link_t **link_p)
{
    if (!link_p || !*link_p)
        return;
    if (atomic_fetch_sub (&(*link_p)->refs, 1) == 1)
        free (*link_p);
    *link_p = NULL;
}

zflow_ws_stream_t *zflow_ws_stream_filter (zflow_ws_t *feed, const char *filter_json, size_t queue,
                                           int policy, int *err_p)
{
    int rc = ZFLOW_ENOMEM;
    zsock_t *peer = NULL;
    zflow_ws_stream_t *self = (zflow_ws_stream_t *) calloc (1, sizeof (zflow_ws_stream_t));
    if (self && zflow__ws_unbatch_init (&self->unbatch) == 0)
        self->link = (zflow_ws_link_t *) calloc (1, sizeof (zflow_ws_link_t));
    if (self && self->link) {
        atomic_init (&self->link->refs, 1);
        rc = feed ? zflow__ws_open_route (feed, filter_json, queue, policy, self->link, &peer)
                  : ZFLOW_EINVAL;
    }
    if (rc == 0 && !(self->stream = zflow_stream_new_sock (&peer)))
        rc = ZFLOW_ENOMEM; //  the route sees the link closed and goes
    zsock_destroy (&peer);
    if (rc)
        zflow_ws_stream_destroy (&self);
    if (err_p)
        *err_p = rc;
    return self;
}

void zflow_ws_stream_destroy (zflow_ws_stream_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_ws_stream_t *self = *self_p;
    if (self->link)
        atomic_store (&self->link->closed, true);
    zflow_stream_destroy (&self->stream);
    zflow__ws_link_release (&self->link);
    zflow__ws_unbatch_fini (&self->unbatch);
    free (self);
    *self_p = NULL;
}

zflow_stream_t *zflow_ws_stream_stream (zflow_ws_stream_t *self)
{
    return self ? self->stream : NULL;
}

uint64_t zflow_ws_stream_drops (zflow_ws_stream_t *self)
{
    return self ? atomic_load_explicit (&self->link->drops, memory_order_relaxed) : 0;
}

bool zflow_ws_stream_binary (zflow_ws_stream_t *self)
{
    return self && self->binary;
}

//  Hands out the next message of the batch in hand.
static int s_next (zflow_ws_stream_t *self, zflow_msg_t *msg)
{
    int rc = zflow__ws_unbatch_next (&self->unbatch, msg, &self->binary);
    atomic_fetch_sub_explicit (&self->link->pending, 1, memory_order_relaxed);
    return rc;
}

//  The end: the marker was read, or the feed is gone and the pipe empty.
static int s_end (zflow_ws_stream_t *self, zflow_msg_t *msg)
{
    zflow_msg_reset (msg);
    self->ended = true;
    zflow_stream_close (self->stream);
    return ZFLOW_ECLOSED;
}

//  The binary flag of a plain envelope, from its meta's opcode field
//  (decoded into the batch reader's meta: no batch is in hand).
static bool s_plain_binary (zflow_ws_stream_t *self, zflow_msg_t *msg)
{
    zflow_meta_t *meta = self->unbatch.meta;
    if (zflow_msg_size (msg) != 3 ||
        zflow_meta_decode (meta, zflow_msg_data (msg, 1), zflow_msg_part_size (msg, 1)) != 0)
        return false;
    const char *opcode = zflow_meta_get (meta, ZFLOW_WS_META_OPCODE);
    return opcode && streq (opcode, "binary");
}

int zflow_ws_stream_read (zflow_ws_stream_t *self, zflow_msg_t *msg, int timeout_ms)
{
    if (!self || !msg)
        return ZFLOW_EINVAL;
    if (zflow__ws_unbatch_more (&self->unbatch))
        return s_next (self, msg);
    if (self->ended)
        return ZFLOW_ECLOSED;
    zflow_ws_link_t *link = self->link;
    if (!atomic_load_explicit (&link->batch_reader, memory_order_relaxed))
        atomic_store (&link->batch_reader, true); //  batches from now on
    int rc = zflow_stream_read (self->stream, msg, timeout_ms);
    if ((rc == ZFLOW_EAGAIN || rc == ZFLOW_ETIMEDOUT) && atomic_load (&link->ended)) {
        //  The feed is gone and its end marker was lost (a full pipe):
        //  whatever is still in the pipe came before the end.
        rc = zflow_stream_read (self->stream, msg, 0);
        if (rc == ZFLOW_EAGAIN)
            return s_end (self, msg);
    }
    if (rc)
        return rc;
    if (zflow_msg_size (msg) == 1 && zflow_msg_streq (msg, 0, ZFLOW_WS_END))
        return s_end (self, msg);
    if (zflow__ws_unbatch_is_batch (msg)) {
        rc = zflow__ws_unbatch_take (&self->unbatch, msg);
        if (rc < 0) {
            zflow_msg_reset (msg);
            return rc;
        }
        return s_next (self, msg);
    }
    //  A batch of one as a plain envelope (sent before the first read).
    atomic_fetch_sub_explicit (&link->pending, 1, memory_order_relaxed);
    self->binary = s_plain_binary (self, msg);
    return 0;
}
