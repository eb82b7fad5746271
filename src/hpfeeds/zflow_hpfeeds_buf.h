/*  =========================================================================
    zflow_hpfeeds_buf - a bounded byte buffer for non-blocking sockets
    (internal to the hpfeeds client and broker)

    Bytes are appended at the tail and consumed at the head. The buffer
    grows on demand up to its limit and never beyond: a reserve that would
    pass the limit fails, and the caller applies its policy.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HPFEEDS_BUF_H_INCLUDED
#define ZFLOW_HPFEEDS_BUF_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct {
    uint8_t *data;   //  allocated storage (NULL until first use)
    size_t capacity; //  bytes allocated
    size_t head;     //  first unconsumed byte
    size_t tail;     //  end of the stored bytes
    size_t limit;    //  most bytes the buffer may hold
} zflow_hpfeeds_buf_t;

//  Sets up an empty buffer that may hold up to limit bytes.
void zflow__hpfeeds_buf_init (zflow_hpfeeds_buf_t *self, size_t limit);

//  Frees the storage; the buffer is empty and may be used again.
void zflow__hpfeeds_buf_free (zflow_hpfeeds_buf_t *self);

//  Returns the number of stored bytes.
static inline size_t zflow__hpfeeds_buf_size (const zflow_hpfeeds_buf_t *self)
{
    return self->tail - self->head;
}

//  Returns the stored bytes (valid until the buffer changes).
static inline uint8_t *zflow__hpfeeds_buf_head (const zflow_hpfeeds_buf_t *self)
{
    return self->data + self->head;
}

//  Returns room for size more bytes at the tail (moving or growing the
//  storage), or NULL when that would pass the limit or memory is short.
//  Follow with zflow__hpfeeds_buf_commit.
uint8_t *zflow__hpfeeds_buf_reserve (zflow_hpfeeds_buf_t *self, size_t size);

//  Marks size reserved bytes as stored.
void zflow__hpfeeds_buf_commit (zflow_hpfeeds_buf_t *self, size_t size);

//  Appends a copy of data. Returns 0, or -1 (over the limit, no memory).
int zflow__hpfeeds_buf_append (zflow_hpfeeds_buf_t *self, const void *data, size_t size);

//  Drops size bytes from the head.
void zflow__hpfeeds_buf_consume (zflow_hpfeeds_buf_t *self, size_t size);

//  Drops n written bytes from the head of a buffer of whole hpfeeds frames,
//  frame by frame: *left is the unsent rest of the head frame, kept across
//  calls (0: the head is at a frame start). Returns the frames completed.
size_t zflow__hpfeeds_buf_consume_frames (zflow_hpfeeds_buf_t *self, size_t n, size_t *left);

//  Reads what the socket has, at most want bytes (at least 4 KiB are
//  offered). Returns the bytes read (> 0), 0 at end of stream, -1 with
//  errno EAGAIN when nothing is there, -1 with errno ENOBUFS when the buffer
//  is at its limit, or -1 with another errno.
ssize_t zflow__hpfeeds_buf_read_fd (zflow_hpfeeds_buf_t *self, int fd, size_t want);

//  Writes as much of a buffer of whole frames as the socket takes (several
//  calls until EAGAIN), consumed with zflow__hpfeeds_buf_consume_frames
//  and left. Returns the bytes written (>= 0), or -1 with errno on a hard
//  error.
ssize_t zflow__hpfeeds_buf_write_fd (zflow_hpfeeds_buf_t *self, int fd, size_t *left);

#endif
