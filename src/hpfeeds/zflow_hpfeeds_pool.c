/*  =========================================================================
    zflow_hpfeeds_pool - reused blocks for the batches the hpfeeds client
    actor hands its reader (see zflow_hpfeeds_pool.h)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_hpfeeds_pool.h"
#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct _zflow_hpfeeds_pool_t {
    pthread_mutex_t lock; //  guards free_blocks, cached and closed
    size_t block_size;    //  bytes per block
    size_t max_cached;    //  most free blocks kept
    void **free_blocks;   //  the free blocks kept (max_cached slots)
    size_t cached;        //  how many there are
    bool closed;          //  the owner destroyed the pool: keep nothing
    atomic_size_t refs;   //  the owner's hold (1 until destroy) + blocks in use
};

zflow_hpfeeds_pool_t *zflow__hpfeeds_pool_new (size_t block_size, size_t max_cached)
{
    assert (block_size > 0);
    zflow_hpfeeds_pool_t *self = (zflow_hpfeeds_pool_t *) calloc (1, sizeof (*self));
    if (!self)
        return NULL;
    self->free_blocks = (void **) calloc (max_cached ? max_cached : 1, sizeof (void *));
    if (!self->free_blocks) {
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    self->block_size = block_size;
    self->max_cached = max_cached;
    atomic_init (&self->refs, 1);
    return self;
}

//  Drops one hold; the last frees the pool.
static void s_unref (zflow_hpfeeds_pool_t *self)
{
    if (atomic_fetch_sub (&self->refs, 1) != 1)
        return;
    pthread_mutex_destroy (&self->lock);
    free (self->free_blocks);
    free (self);
}

void zflow__hpfeeds_pool_destroy (zflow_hpfeeds_pool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_hpfeeds_pool_t *self = *self_p;
    *self_p = NULL;
    pthread_mutex_lock (&self->lock);
    self->closed = true;
    while (self->cached)
        free (self->free_blocks[--self->cached]);
    pthread_mutex_unlock (&self->lock);
    s_unref (self);
}

//  libzmq's free function for a message's block (called in whichever
//  thread drops the message's last reference).
static void s_give_back (void *block, void *hint)
{
    zflow_hpfeeds_pool_t *self = (zflow_hpfeeds_pool_t *) hint;
    pthread_mutex_lock (&self->lock);
    if (!self->closed && self->cached < self->max_cached) {
        self->free_blocks[self->cached++] = block;
        block = NULL;
    }
    pthread_mutex_unlock (&self->lock);
    free (block);
    s_unref (self);
}

int zflow__hpfeeds_pool_msg (zflow_hpfeeds_pool_t *self, zmq_msg_t *msg, const void *data,
                             size_t size)
{
    assert (self && msg);
    if (size > self->block_size)
        return -1;
    void *block = NULL;
    pthread_mutex_lock (&self->lock);
    if (self->cached)
        block = self->free_blocks[--self->cached];
    pthread_mutex_unlock (&self->lock);
    if (!block && !(block = malloc (self->block_size)))
        return -1;
    if (size)
        memcpy (block, data, size);
    atomic_fetch_add (&self->refs, 1);
    if (zmq_msg_init_data (msg, block, size, s_give_back, self)) {
        atomic_fetch_sub (&self->refs, 1);
        free (block);
        return -1;
    }
    return 0;
}

size_t zflow__hpfeeds_pool_cached (zflow_hpfeeds_pool_t *self)
{
    pthread_mutex_lock (&self->lock);
    size_t cached = self->cached;
    pthread_mutex_unlock (&self->lock);
    return cached;
}
