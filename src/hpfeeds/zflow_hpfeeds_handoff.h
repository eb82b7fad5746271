/*  =========================================================================
    zflow_hpfeeds_handoff - what the hpfeeds client's wrapper (the
    publishing and reading threads, zflow_hpfeeds.c) and its actor share
    (internal)

    The publish hand-off: the wrapper encodes publish frames into data and
    rings the actor (an empty frame on the publish PULL socket) when data
    stops being empty; on the ring the actor's outbox swaps data for its
    own empty buffer, so one hand-off carries every frame published since.
    Frames of S_PUB_BATCH or more travel alone on the PULL socket, sent
    only while data is empty and no ring is on its way, so the order is
    kept. At most one ring is on its way (rung), but for the urgent one
    below.

    Direct writes: while the connection is plain TCP, ready, and the actor
    has nothing of its own to send (outbox and control frames empty), the
    actor sets direct_fd and the publisher writes a full data buffer to the
    socket itself (non-blocking, under the lock), which keeps the actor's
    thread out of the data path. While the publisher is that busy (it wrote
    a buffer itself between the actor's last two takes) the actor answers a
    ring by waiting up to S_PUB_LINGER_MS for the buffer to fill, then
    takes what is left; a slower publisher is answered at once, so only a
    stream of more than S_PUB_BATCH bytes per S_PUB_LINGER_MS waits, and
    then only its tail. A write the socket does not finish turns direct_fd
    off: the rest stays in data (head_sent bytes of its first frame are
    already on the wire) and an urgent ring makes the actor take it at once
    into its outbox, which keeps writing on POLLOUT. Before the actor
    writes or queues anything itself it turns direct_fd off and takes data
    (zflow__hpfeeds_outbox_direct_off), so the bytes on the wire stay whole
    frames in order.

    The reader's hand-off: the actor's receive codec sends runs of received
    publish frames as batches (one ZeroMQ frame, a block of the pool when it
    fits); unread counts the messages not read yet, and bounds them.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HPFEEDS_HANDOFF_H_INCLUDED
#define ZFLOW_HPFEEDS_HANDOFF_H_INCLUDED

#include "zflow_hpfeeds_pool.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  High watermark of each end of the publish pipe (messages: rings and
//  publishes of S_PUB_BATCH bytes or more).
#define S_INPUT_HWM 1000

//  Publish frames smaller than this go through the hand-off buffer.
#define S_PUB_BATCH (64 * 1024)

//  Direct writes: longest wait for the hand-off buffer to fill before the
//  actor takes it (only while the publisher keeps it busy: see above).
#define S_PUB_LINGER_MS 1

//  The reader's hand-off: one ZeroMQ frame holds up to this many whole
//  hpfeeds publish frames (or bytes, past one frame) exactly as received;
//  the messages not yet read are counted (unread) and bounded. Small
//  frames fill the bytes first (64 KiB of 100 B payloads is about 550):
//  each batch costs the reader a receive and, when it caught up, a wake-up,
//  so a batch takes as many as the bytes allow (but never more than the
//  unread bound, see zflow_hpfeeds_recv.c).
#define S_BATCH_MSGS 1024
#define S_BATCH_BYTES (64 * 1024)

//  Free batch blocks each client keeps (S_BATCH_BYTES each).
#define S_BATCH_POOL 16

typedef struct _zflow_hpfeeds_handoff_t {
    pthread_mutex_t lock;       //  guards the fields below but unread and pool
    pthread_cond_t taken;       //  signalled when the actor takes data (if waiting)
    uint8_t *data;              //  whole publish frames (S_PUB_BATCH bytes of room)
    size_t size;                //  bytes in data
    size_t count;               //  frames in data
    bool rung;                  //  a ring is on its way to the actor
    bool waiting;               //  the publisher waits on taken
    int direct_fd;              //  the socket the publisher may write to, or -1
    size_t head_sent;           //  bytes of data's first frame already written (direct)
    uint64_t direct_frames;     //  frames written whole by the publisher, not yet
                                //  counted by the actor (published and sent)
    uint64_t direct_writes;     //  direct writes made (the actor sees a busy publisher)
    uint64_t direct_stalls;     //  direct writes the socket did not take whole
    size_t large_pending;       //  frames sent alone on the PULL socket, not taken yet
                                //  (no direct write may pass them)
    atomic_size_t unread;       //  messages batched to the reader, not read yet (at most
                                //  2 * output_hwm, as a PUB and a SUB of output_hwm each)
    zflow_hpfeeds_pool_t *pool; //  blocks for the reader's batches (owned by the wrapper)
} zflow_hpfeeds_handoff_t;

#endif
