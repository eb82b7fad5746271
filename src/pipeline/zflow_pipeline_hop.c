/*  =========================================================================
    zflow_pipeline_hop - envelopes passed by pointer between the stages of
    one pipeline

    The links a pipeline makes between its own stage actors (inproc, in one
    process) do not carry an envelope's three frames: each message on them
    is one frame holding an array of pointers to heap envelopes (zflow_msg_t),
    each with its size (so that no stage sums its frames again), a batch of
    what the sender had ready. The frame is a zero-copy libzmq
    message whose free function destroys every envelope still in it; a
    receiver takes an envelope by setting its pointer to NULL. So an envelope
    is freed exactly once wherever its batch ends: taken and destroyed (or
    passed on) by the receiver, or with the frame when libzmq or a stream
    drops it (a stream closed with unsent batches, a pipe torn down with
    unread ones, a receiver that stops with a full read buffer).

    The last stage an envelope reaches empties it and gives it back to
    the pipeline's pool, a batch at a time, where the first takes it again:
    the envelopes cost no allocation once the pipeline runs.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_error.h"
#include "zflow_pipeline_stage.h"
#include <pthread.h>
#include <stdint.h>
#include <string.h>

//  libzmq's free function of a batch frame: hint is the number of entries.
static void s_batch_free (void *data, void *hint)
{
    zflow__hop_entry_t *batch = (zflow__hop_entry_t *) data;
    size_t count = (size_t) (uintptr_t) hint;
    for (size_t i = 0; i < count; i++)
        if (batch[i].msg) //  most often taken: NULL
            zflow_msg_destroy (&batch[i].msg);
    free (batch);
}

int zflow__hop_send (zflow_stream_t *stream, zflow_msg_t *holder, zflow__hop_entry_t *entries,
                     size_t count)
{
    size_t size = count * sizeof (zflow__hop_entry_t);
    zflow__hop_entry_t *batch = (zflow__hop_entry_t *) malloc (size);
    if (!batch) {
        for (size_t i = 0; i < count; i++)
            zflow_msg_destroy (&entries[i].msg);
        return ZFLOW_ENOMEM;
    }
    memcpy (batch, entries, size);
    memset (entries, 0, size);
    zmq_msg_t part;
    if (zmq_msg_init_data (&part, batch, size, s_batch_free, (void *) (uintptr_t) count)) {
        s_batch_free (batch, (void *) (uintptr_t) count);
        return ZFLOW_ENOMEM;
    }
    zflow_msg_reset (holder);
    int rc = zflow_msg_add_zmq (holder, &part);
    zmq_msg_close (&part); //  empty once added; frees the batch if adding failed
    //  the stream moves the frame out, also when it fails: then it closes
    //  it, and the free function destroys the envelopes
    return rc ? rc : zflow_stream_write (stream, holder);
}

zflow__hop_entry_t *zflow__hop_batch (zflow_msg_t *frame, size_t *count_p)
{
    size_t size = zflow_msg_part_size (frame, 0);
    *count_p = 0;
    if (zflow_msg_size (frame) != 1 || size == 0 || size % sizeof (zflow__hop_entry_t))
        return NULL;
    *count_p = size / sizeof (zflow__hop_entry_t);
    return (zflow__hop_entry_t *) zmq_msg_data ((zmq_msg_t *) zflow_msg_zmq (frame, 0));
}

//  ---------------------------------------------------------------------
//  The pool of envelope nodes

struct _zflow__hop_pool_t {
    pthread_mutex_t lock; //  guards the rest: stages on several threads share it
    zflow_msg_t **nodes;  //  empty envelopes, count of them
    size_t count;
    size_t capacity; //  room in nodes
};

zflow__hop_pool_t *zflow__hop_pool_new (size_t capacity)
{
    zflow__hop_pool_t *self = (zflow__hop_pool_t *) zmalloc (sizeof (zflow__hop_pool_t));
    if (!self)
        return NULL;
    self->nodes = (zflow_msg_t **) calloc (capacity ? capacity : 1, sizeof (zflow_msg_t *));
    if (!self->nodes || pthread_mutex_init (&self->lock, NULL)) {
        free (self->nodes);
        free (self);
        return NULL;
    }
    self->capacity = capacity;
    return self;
}

void zflow__hop_pool_destroy (zflow__hop_pool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow__hop_pool_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++)
        zflow_msg_destroy (&self->nodes[i]);
    pthread_mutex_destroy (&self->lock);
    free (self->nodes);
    free (self);
    *self_p = NULL;
}

size_t zflow__hop_pool_get (zflow__hop_pool_t *self, zflow_msg_t **nodes, size_t max)
{
    pthread_mutex_lock (&self->lock);
    size_t count = self->count < max ? self->count : max;
    self->count -= count;
    memcpy (nodes, self->nodes + self->count, count * sizeof (zflow_msg_t *));
    pthread_mutex_unlock (&self->lock);
    return count;
}

void zflow__hop_pool_put (zflow__hop_pool_t *self, zflow_msg_t **nodes, size_t count)
{
    pthread_mutex_lock (&self->lock);
    size_t room = self->capacity - self->count;
    size_t kept = count < room ? count : room;
    memcpy (self->nodes + self->count, nodes, kept * sizeof (zflow_msg_t *));
    self->count += kept;
    pthread_mutex_unlock (&self->lock);
    for (size_t i = kept; i < count; i++)
        zflow_msg_destroy (&nodes[i]); //  outside the lock
}
