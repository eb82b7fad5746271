/*  =========================================================================
    zflow_hpfeeds_pool - reused blocks for the batches the hpfeeds client
    actor hands its reader (internal)

    A batch leaves the actor as a ZeroMQ message whose data is a block of
    this pool (zmq_msg_init_data); when the reader's thread closes the
    message, libzmq returns the block here. Reusing a few blocks instead
    of allocating one per batch keeps them warm in the cache and spares
    the page faults of memory the allocator gave back to the kernel
    between two batches. At most max_cached free blocks are kept; the rest
    are freed. The pool lives until its owner has destroyed it and every
    block has come back, whichever is last, so a batch still queued in a
    socket when the client goes away is safe.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HPFEEDS_POOL_H_INCLUDED
#define ZFLOW_HPFEEDS_POOL_H_INCLUDED

#include <stddef.h>
#include <zmq.h>

typedef struct _zflow_hpfeeds_pool_t zflow_hpfeeds_pool_t;

//  Creates a pool of blocks of block_size bytes that keeps up to
//  max_cached free ones. Returns the pool (destroy it with
//  zflow__hpfeeds_pool_destroy), or NULL when memory is short.
zflow_hpfeeds_pool_t *zflow__hpfeeds_pool_new (size_t block_size, size_t max_cached);

//  Drops the owner's hold: the free blocks are freed now, the pool itself
//  once the last block in use comes back. Sets *self_p to NULL; NULL or
//  *self_p NULL is a no-op.
void zflow__hpfeeds_pool_destroy (zflow_hpfeeds_pool_t **self_p);

//  Initialises msg with a copy of size bytes of data (size up to the block
//  size) in a block of the pool; closing or sending the message gives the
//  block back in time (any thread). Returns 0, or -1 when size is over
//  the block size or memory is short (msg is then not initialised).
int zflow__hpfeeds_pool_msg (zflow_hpfeeds_pool_t *self, zmq_msg_t *msg, const void *data,
                             size_t size);

//  Returns the number of free blocks the pool keeps now (for tests).
size_t zflow__hpfeeds_pool_cached (zflow_hpfeeds_pool_t *self);

#endif
