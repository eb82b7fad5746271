/*  =========================================================================
    zflow_ring - internal FIFO of zmq_msg_t parts, grouped into messages

    The stream's read and write buffers. A ring of parts with a "more" flag
    per part, so queueing a message moves its zmq_msg_t parts (no byte copy,
    no allocation once the ring has grown). Not installed; not thread-safe.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_RING_H_INCLUDED
#define ZFLOW_RING_H_INCLUDED

#include "zflow_msg.h"
#include <stdbool.h>
#include <stddef.h>
#include <zmq.h>

typedef struct {
    zmq_msg_t *parts; //  circular array of parts
    bool *more;       //  more[i]: part i is followed by another of its message
    size_t capacity;  //  slots allocated (a power of two)
    size_t head;      //  index of the oldest part
    size_t count;     //  parts queued
    size_t msgs;      //  whole messages queued
    size_t bytes;     //  payload bytes queued
} zflow_ring_t;

//  Sets up an empty ring (allocates on first push).
void zflow__ring_init (zflow_ring_t *self);

//  Closes every queued part and frees the storage. Returns the number of
//  messages that were still queued.
size_t zflow__ring_destroy (zflow_ring_t *self);

//  Returns a fresh slot at the tail (already zmq_msg_init'ed) for the caller
//  to fill, or NULL when out of memory. more tells whether another part of
//  the same message follows. Call zflow__ring_commit after filling.
zmq_msg_t *zflow__ring_slot (zflow_ring_t *self);

//  Accounts for the slot just filled: more = false ends a message.
void zflow__ring_commit (zflow_ring_t *self, bool more);

//  Drops the slot returned by the last zflow__ring_slot (never committed).
void zflow__ring_abandon (zflow_ring_t *self);

//  Moves all parts of msg into the ring as one message. Returns 0 or -1
//  (out of memory; msg unchanged).
int zflow__ring_push_msg (zflow_ring_t *self, zflow_msg_t *msg);

//  Moves the oldest whole message into msg (reset first). Returns 0, or -1
//  when the ring holds no whole message or msg cannot grow to hold it (out
//  of memory: the message stays in the ring).
int zflow__ring_pop_msg (zflow_ring_t *self, zflow_msg_t *msg);

//  Returns the oldest part (still queued), or NULL when empty; *more_p
//  tells whether it is followed by another of its message.
zmq_msg_t *zflow__ring_peek (zflow_ring_t *self, bool *more_p);

//  Removes the oldest part after zmq_msg_send took it (libzmq leaves a sent
//  zmq_msg_t empty, so it is not closed). size as before the send.
void zflow__ring_drop_sent (zflow_ring_t *self, bool more, size_t size);

//  Removes the oldest part, whose payload size was size before it was sent
//  or moved out (a sent zmq_msg_t reads as empty). more as from peek.
void zflow__ring_drop_head (zflow_ring_t *self, bool more, size_t size);

#endif
