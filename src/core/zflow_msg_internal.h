/*  zflow_msg internals, shared with zflow_stream.c (not installed). */
#ifndef ZFLOW_MSG_INTERNAL_H_INCLUDED
#define ZFLOW_MSG_INTERNAL_H_INCLUDED

#include "zflow_msg.h"
#include <zmq.h>

//  Parts kept inside the object before the array moves to the heap.
#define ZFLOW_MSG_INLINE_PARTS 4

struct _zflow_msg_t {
    zmq_msg_t *parts;                               //  the parts in order
    size_t count;                                   //  parts in use
    size_t capacity;                                //  parts allocated
    zmq_msg_t inline_parts[ZFLOW_MSG_INLINE_PARTS]; //  storage for small messages
};

//  Makes room for wanted parts in all. Returns 0 or ZFLOW_ENOMEM (nothing
//  changed).
int zflow__msg_reserve (zflow_msg_t *self, size_t wanted);

//  Appends an uninitialised part slot and returns it (the caller must
//  zmq_msg_init it), or NULL when out of memory.
zmq_msg_t *zflow__msg_append (zflow_msg_t *self);

#endif
