/*  =========================================================================
    zflow_ws_batch - the batch format of feed streams: writing and reading

    The format is described in zflow_ws_batch.h. The writer runs in the
    feed actor, the reader in the thread of the stream's reader.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_ws_batch.h"
#include "zflow_error.h"
#include "zflow_ws.h"
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

const char *zflow__ws_type_name (int type)
{
    return type == ZFLOW_WS_TYPE_JSON     ? "application/json"
           : type == ZFLOW_WS_TYPE_BINARY ? "application/octet-stream"
                                          : "text/plain";
}

void zflow__ws_meta_message (zflow_meta_t *meta, uint64_t seq, int type, bool binary)
{
    zflow_meta_set_seq (meta, seq);
    zflow_meta_set_content_type (meta, zflow__ws_type_name (type));
    zflow_meta_set (meta, ZFLOW_WS_META_OPCODE, binary ? "binary" : "text");
}

//  Reads one big-endian number of size bytes.
static uint64_t s_get_be (const uint8_t *bytes, size_t size)
{
    uint64_t value = 0;
    for (size_t i = 0; i < size; i++)
        value = (value << 8) | bytes[i];
    return value;
}

//  ---------------------------------------------------------------------
//  Writer

int zflow__ws_buf_grow (zflow_ws_buf_t *buf, size_t size)
{
    if (buf->size + size <= buf->cap)
        return 0;
    size_t cap = buf->cap ? buf->cap : 4096;
    while (cap < buf->size + size)
        cap *= 2;
    uint8_t *grown = (uint8_t *) realloc (buf->data, cap);
    if (!grown)
        return -1;
    buf->data = grown;
    buf->cap = cap;
    return 0;
}

void zflow__ws_batch_reset (zflow_ws_batch_t *self)
{
    self->index.size = self->data.size = 0;
    self->count = 0;
}

void zflow__ws_batch_free (zflow_ws_batch_t *self)
{
    zflow__ws_buf_free (&self->index);
    zflow__ws_buf_free (&self->data);
    self->count = 0;
}

int zflow__ws_batch_send (zflow_ws_batch_t *self, void *handle, const void *key, size_t key_size,
                          zflow_meta_t *meta)
{
    if (self->count == 0)
        return 0;
    const uint8_t *first = self->index.data;
    zflow_meta_set_seq (meta, s_get_be (first, 8));
    zflow_meta_set_content_type (meta, zflow__ws_type_name (first[12]));
    zflow_meta_stamp (meta);
    char count[24];
    snprintf (count, sizeof (count), "%zu", self->count);
    zflow_meta_set (meta, "batch", count);
    uint8_t encoded[512];
    int size = zflow_meta_encode (meta, encoded, sizeof (encoded));
    if (size <= 0 || zmq_send (handle, key, key_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    //  libzmq takes a multipart message atomically once the first part went.
    zmq_send (handle, encoded, (size_t) size, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send (handle, self->index.data, self->index.size, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send (handle, self->data.data, self->data.size, ZMQ_DONTWAIT);
    return 0;
}

size_t zflow__ws_batch_send_singles (zflow_ws_batch_t *self, void *handle, const void *key,
                                     size_t key_size, zflow_meta_t *meta)
{
    zflow_meta_stamp (meta);
    size_t sent = 0, offset = 0;
    for (; sent < self->count; sent++) {
        const uint8_t *entry = self->index.data + sent * ZFLOW_WS_BATCH_ENTRY;
        size_t size = (size_t) s_get_be (entry + 8, 4);
        zflow__ws_meta_message (meta, s_get_be (entry, 8), entry[12],
                                entry[13] & ZFLOW_WS_FLAG_BINARY);
        uint8_t encoded[512];
        int meta_size = zflow_meta_encode (meta, encoded, sizeof (encoded));
        if (meta_size <= 0 || zmq_send (handle, key, key_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
            break;
        zmq_send (handle, encoded, (size_t) meta_size, ZMQ_SNDMORE | ZMQ_DONTWAIT);
        zmq_send (handle, self->data.data + offset, size, ZMQ_DONTWAIT);
        offset += size;
    }
    if (sent == 0)
        return 0;
    size_t left = self->count - sent;
    memmove (self->index.data, self->index.data + sent * ZFLOW_WS_BATCH_ENTRY,
             left * ZFLOW_WS_BATCH_ENTRY);
    self->index.size = left * ZFLOW_WS_BATCH_ENTRY;
    memmove (self->data.data, self->data.data + offset, self->data.size - offset);
    self->data.size -= offset;
    self->count = left;
    return sent;
}

//  ---------------------------------------------------------------------
//  Reader

int zflow__ws_unbatch_init (zflow_ws_unbatch_t *self)
{
    memset (self, 0, sizeof (*self));
    self->batch = zflow_msg_new ();
    self->meta = zflow_meta_new ();
    return self->batch && self->meta ? 0 : ZFLOW_ENOMEM;
}

void zflow__ws_unbatch_fini (zflow_ws_unbatch_t *self)
{
    zflow_msg_destroy (&self->batch);
    zflow_meta_destroy (&self->meta);
    self->count = 0;
}

bool zflow__ws_unbatch_is_batch (zflow_msg_t *msg)
{
    return zflow_msg_size (msg) == 4;
}

int zflow__ws_unbatch_take (zflow_ws_unbatch_t *self, zflow_msg_t *msg)
{
    zflow_msg_move (self->batch, msg);
    zflow_msg_t *batch = self->batch;
    size_t index_size = zflow_msg_part_size (batch, 2);
    const uint8_t *index = (const uint8_t *) zflow_msg_data (batch, 2);
    size_t count = index_size / ZFLOW_WS_BATCH_ENTRY, total = 0;
    for (size_t i = 0; i < count; i++)
        total += s_get_be (index + i * ZFLOW_WS_BATCH_ENTRY + 8, 4);
    zflow_meta_t *meta = self->meta;
    if (count == 0 || index_size % ZFLOW_WS_BATCH_ENTRY ||
        total != zflow_msg_part_size (batch, 3) ||
        zflow_meta_decode (meta, zflow_msg_data (batch, 1), zflow_msg_part_size (batch, 1)) != 0) {
        zflow_msg_reset (batch);
        self->count = 0;
        return ZFLOW_EPROTO;
    }
    //  The messages carry the batch's source and time, each its seq and type.
    char source[ZFLOW_META_MAX_TEXT + 1] = "";
    if (zflow_meta_source (meta))
        snprintf (source, sizeof (source), "%s", zflow_meta_source (meta));
    int64_t ts = zflow_meta_timestamp (meta);
    zflow_meta_reset (meta);
    zflow_meta_set_source (meta, *source ? source : NULL);
    zflow_meta_set_timestamp (meta, ts);
    self->count = count;
    self->next = 0;
    self->offset = 0;
    self->key = (const uint8_t *) zflow_msg_data (batch, 0);
    self->key_size = zflow_msg_part_size (batch, 0);
    self->index = index;
    self->data = (const uint8_t *) zflow_msg_data (batch, 3);
    memset (self->tmpl_size, 0, sizeof (self->tmpl_size));
    return (int) count;
}

//  Makes the meta template of a content type and opcode for this batch:
//  the meta encoded with seq 2^64-1, which msgpack writes as 0xcf and eight
//  0xff bytes (nothing else in a meta can hold eight 0xff bytes: texts are
//  UTF-8, ts is below 2^63), so each message copies it and fills in its seq
//  there instead of encoding a meta. Returns 0 or -1.
static int s_template (zflow_ws_unbatch_t *self, int slot, int type, bool binary)
{
    zflow__ws_meta_message (self->meta, UINT64_MAX, type, binary);
    int size = zflow_meta_encode (self->meta, self->tmpl[slot], sizeof (self->tmpl[slot]));
    static const uint8_t marker[9] = {0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    const uint8_t *at = size > 0 ? (const uint8_t *) memmem (self->tmpl[slot], (size_t) size,
                                                             marker, sizeof (marker))
                                 : NULL;
    if (!at)
        return -1;
    self->tmpl_seq[slot] = (size_t) (at - self->tmpl[slot]) + 1;
    self->tmpl_size[slot] = (size_t) size;
    return 0;
}

//  Adds the meta frame of the message entry describes to msg, encoded in
//  full (when no template could be made). Returns 0 or ZFLOW_ENOMEM.
static int s_add_meta_full (zflow_ws_unbatch_t *self, zflow_msg_t *msg, const uint8_t *entry,
                            int type, bool binary)
{
    uint8_t meta[512];
    zflow__ws_meta_message (self->meta, s_get_be (entry, 8), type, binary);
    int meta_size = zflow_meta_encode (self->meta, meta, sizeof (meta));
    if (meta_size <= 0 || zflow_msg_add (msg, meta, (size_t) meta_size))
        return ZFLOW_ENOMEM;
    return 0;
}

int zflow__ws_unbatch_next (zflow_ws_unbatch_t *self, zflow_msg_t *msg, bool *binary_p)
{
    zflow_msg_reset (msg);
    const uint8_t *entry = self->index + self->next * ZFLOW_WS_BATCH_ENTRY;
    uint32_t size_be;
    memcpy (&size_be, entry + 8, 4);
    size_t size = be32toh (size_be);
    int type = entry[12] <= ZFLOW_WS_TYPE_BINARY ? entry[12] : ZFLOW_WS_TYPE_BINARY;
    bool binary = (entry[13] & ZFLOW_WS_FLAG_BINARY) != 0;
    int rc = zflow_msg_add (msg, self->key, self->key_size) ? ZFLOW_ENOMEM : 0;
    int slot = type * 2 + (binary ? 1 : 0);
    if (rc == 0 && !self->tmpl_size[slot])
        s_template (self, slot, type, binary); //  on failure each meta is encoded in full
    if (rc == 0 && self->tmpl_size[slot]) {
        //  The template, with this message's seq (big-endian, as msgpack).
        uint8_t *meta = (uint8_t *) zflow_msg_add_empty (msg, self->tmpl_size[slot]);
        if (meta) {
            memcpy (meta, self->tmpl[slot], self->tmpl_size[slot]);
            memcpy (meta + self->tmpl_seq[slot], entry, 8);
        } else
            rc = ZFLOW_ENOMEM;
    } else if (rc == 0)
        rc = s_add_meta_full (self, msg, entry, type, binary);
    if (rc == 0 && zflow_msg_add (msg, self->data + self->offset, size))
        rc = ZFLOW_ENOMEM;
    if (rc)
        zflow_msg_reset (msg); //  this message is lost, the next ones are not
    *binary_p = binary;
    self->offset += size;
    if (++self->next == self->count) {
        self->count = 0;
        zflow_msg_reset (self->batch);
    }
    return rc;
}
