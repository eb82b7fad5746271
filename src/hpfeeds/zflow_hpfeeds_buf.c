/*  =========================================================================
    zflow_hpfeeds_buf - a bounded byte buffer for non-blocking sockets

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_hpfeeds_buf.h"
#include "zflow_hpfeeds_proto.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void zflow__hpfeeds_buf_init (zflow_hpfeeds_buf_t *self, size_t limit)
{
    memset (self, 0, sizeof (*self));
    self->limit = limit;
}

void zflow__hpfeeds_buf_free (zflow_hpfeeds_buf_t *self)
{
    free (self->data);
    self->data = NULL;
    self->capacity = self->head = self->tail = 0;
}

uint8_t *zflow__hpfeeds_buf_reserve (zflow_hpfeeds_buf_t *self, size_t size)
{
    size_t stored = self->tail - self->head;
    if (size > self->limit || stored > self->limit - size)
        return NULL;
    if (self->capacity - self->tail >= size)
        return self->data + self->tail;
    //  Move the stored bytes to the front when that makes enough room
    //  cheaply, else grow (doubling, capped by the limit).
    if (self->capacity - stored >= size && stored <= self->capacity / 2) {
        memmove (self->data, self->data + self->head, stored);
        self->head = 0;
        self->tail = stored;
        return self->data + self->tail;
    }
    size_t capacity = self->capacity ? self->capacity : 4096;
    while (capacity < stored + size)
        capacity *= 2;
    if (capacity > self->limit)
        capacity = self->limit;
    uint8_t *data = (uint8_t *) malloc (capacity);
    if (!data)
        return NULL;
    if (stored)
        memcpy (data, self->data + self->head, stored);
    free (self->data);
    self->data = data;
    self->capacity = capacity;
    self->head = 0;
    self->tail = stored;
    return self->data + self->tail;
}

void zflow__hpfeeds_buf_commit (zflow_hpfeeds_buf_t *self, size_t size)
{
    self->tail += size;
}

int zflow__hpfeeds_buf_append (zflow_hpfeeds_buf_t *self, const void *data, size_t size)
{
    uint8_t *dst = zflow__hpfeeds_buf_reserve (self, size);
    if (!dst)
        return -1;
    if (size)
        memcpy (dst, data, size);
    self->tail += size;
    return 0;
}

void zflow__hpfeeds_buf_consume (zflow_hpfeeds_buf_t *self, size_t size)
{
    self->head += size;
    if (self->head >= self->tail)
        self->head = self->tail = 0;
}

size_t zflow__hpfeeds_buf_consume_frames (zflow_hpfeeds_buf_t *self, size_t n, size_t *left)
{
    const uint8_t *data = zflow__hpfeeds_buf_head (self);
    size_t rest = *left, done = n, frames = 0;
    while (n) {
        if (rest == 0)
            rest = zflow__hpfeeds_frame_size (data);
        size_t take = n < rest ? n : rest;
        data += take;
        n -= take;
        rest -= take;
        frames += rest == 0;
    }
    *left = rest;
    zflow__hpfeeds_buf_consume (self, done);
    return frames;
}

ssize_t zflow__hpfeeds_buf_read_fd (zflow_hpfeeds_buf_t *self, int fd, size_t want)
{
    if (want < 4096)
        want = 4096;
    size_t room = self->limit - zflow__hpfeeds_buf_size (self);
    if (room == 0) {
        errno = ENOBUFS;
        return -1;
    }
    if (want > room)
        want = room;
    //  Use what is already allocated past the tail if it is big enough.
    if (self->capacity - self->tail > want)
        want = self->capacity - self->tail;
    uint8_t *dst = zflow__hpfeeds_buf_reserve (self, want);
    if (!dst)
        return -1;
    ssize_t rc;
    do
        rc = recv (fd, dst, want, 0);
    while (rc < 0 && errno == EINTR);
    if (rc > 0)
        self->tail += (size_t) rc;
    return rc;
}

ssize_t zflow__hpfeeds_buf_write_fd (zflow_hpfeeds_buf_t *self, int fd, size_t *left)
{
    ssize_t total = 0;
    while (self->tail > self->head) {
        ssize_t rc = send (fd, self->data + self->head, self->tail - self->head, MSG_NOSIGNAL);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return -1;
        }
        if ((size_t) rc == self->tail - self->head) {
            //  all out: the buffer held whole frames, so this is a frame's end
            zflow__hpfeeds_buf_consume (self, (size_t) rc);
            *left = 0;
        } else
            zflow__hpfeeds_buf_consume_frames (self, (size_t) rc, left);
        total += rc;
    }
    return total;
}
