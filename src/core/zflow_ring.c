/*  =========================================================================
    zflow_ring - internal FIFO of zmq_msg_t parts, grouped into messages

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_ring.h"
#include "zflow_msg_internal.h"
#include <stdlib.h>
#include <string.h>

#define RING_MIN_CAPACITY 64

void zflow__ring_init (zflow_ring_t *self)
{
    memset (self, 0, sizeof (*self));
}

size_t zflow__ring_destroy (zflow_ring_t *self)
{
    size_t msgs = self->msgs;
    for (size_t i = 0; i < self->count; i++)
        zmq_msg_close (&self->parts[(self->head + i) & (self->capacity - 1)]);
    free (self->parts);
    free (self->more);
    zflow__ring_init (self);
    return msgs;
}

//  Doubles the ring, keeping the parts in order from index 0. zmq_msg_t
//  must move through zmq_msg_move, never memcpy.
static int s_grow (zflow_ring_t *self)
{
    size_t capacity = self->capacity ? self->capacity * 2 : RING_MIN_CAPACITY;
    zmq_msg_t *parts = (zmq_msg_t *) malloc (capacity * sizeof (zmq_msg_t));
    bool *more = (bool *) malloc (capacity * sizeof (bool));
    if (!parts || !more) {
        free (parts);
        free (more);
        return -1;
    }
    for (size_t i = 0; i < self->count; i++) {
        size_t from = (self->head + i) & (self->capacity - 1);
        zmq_msg_init (&parts[i]);
        zmq_msg_move (&parts[i], &self->parts[from]);
        zmq_msg_close (&self->parts[from]);
        more[i] = self->more[from];
    }
    free (self->parts);
    free (self->more);
    self->parts = parts;
    self->more = more;
    self->capacity = capacity;
    self->head = 0;
    return 0;
}

zmq_msg_t *zflow__ring_slot (zflow_ring_t *self)
{
    if (self->count == self->capacity && s_grow (self))
        return NULL;
    zmq_msg_t *slot = &self->parts[(self->head + self->count) & (self->capacity - 1)];
    zmq_msg_init (slot);
    return slot;
}

void zflow__ring_commit (zflow_ring_t *self, bool more)
{
    size_t index = (self->head + self->count) & (self->capacity - 1);
    self->more[index] = more;
    self->bytes += zmq_msg_size (&self->parts[index]);
    self->count++;
    if (!more)
        self->msgs++;
}

void zflow__ring_abandon (zflow_ring_t *self)
{
    zmq_msg_close (&self->parts[(self->head + self->count) & (self->capacity - 1)]);
}

int zflow__ring_push_msg (zflow_ring_t *self, zflow_msg_t *msg)
{
    while (self->capacity - self->count < msg->count)
        if (s_grow (self))
            return -1;
    //  Ownership moves bitwise, as zmq_msg_move itself does it (copy, then
    //  forget the source): msg gives its parts up without closing them. This
    //  is the write path of a congested socket, so every call counts.
    for (size_t i = 0; i < msg->count; i++) {
        size_t index = (self->head + self->count) & (self->capacity - 1);
        memcpy (&self->parts[index], &msg->parts[i], sizeof (zmq_msg_t));
        zflow__ring_commit (self, i + 1 < msg->count);
    }
    msg->count = 0;
    return 0;
}

zmq_msg_t *zflow__ring_peek (zflow_ring_t *self, bool *more_p)
{
    if (self->count == 0)
        return NULL;
    *more_p = self->more[self->head];
    return &self->parts[self->head];
}

void zflow__ring_drop_sent (zflow_ring_t *self, bool more, size_t size)
{
    //  libzmq left the sent part empty: nothing to close
    self->bytes -= size;
    self->head = (self->head + 1) & (self->capacity - 1);
    self->count--;
    if (!more)
        self->msgs--;
}

void zflow__ring_drop_head (zflow_ring_t *self, bool more, size_t size)
{
    zmq_msg_t *head = &self->parts[self->head];
    self->bytes -= size;
    zmq_msg_close (head);
    self->head = (self->head + 1) & (self->capacity - 1);
    self->count--;
    if (!more)
        self->msgs--;
}

//  Counts the parts of the oldest message.
static size_t s_head_parts (zflow_ring_t *self)
{
    size_t parts = 1;
    while (self->more[(self->head + parts - 1) & (self->capacity - 1)])
        parts++;
    return parts;
}

int zflow__ring_pop_msg (zflow_ring_t *self, zflow_msg_t *msg)
{
    if (self->msgs == 0)
        return -1;
    zflow_msg_reset (msg);
    //  room for the whole message first: it leaves the ring whole or not at all
    if (zflow__msg_reserve (msg, s_head_parts (self)))
        return -1;
    bool more = true;
    while (more) {
        zmq_msg_t *head = zflow__ring_peek (self, &more);
        size_t size = zmq_msg_size (head);
        zmq_msg_t *part = zflow__msg_append (msg);
        zmq_msg_init (part);
        zmq_msg_move (part, head);
        self->bytes -= size;
        zmq_msg_close (head);
        self->head = (self->head + 1) & (self->capacity - 1);
        self->count--;
    }
    self->msgs--;
    return 0;
}
