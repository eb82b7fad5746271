/*  =========================================================================
    zflow_ws_batch - the batch format of feed streams (internal)

    The feed actor gathers the messages of one socket read for a stream and
    sends them to the stream's reader as one ZeroMQ message of four frames:

        key     the feed's key ("ws", name), as in every envelope
        meta    seq of the first message, ts of the read, the content type
                of the first message, and the extra field "batch" = count
        index   ZFLOW_WS_BATCH_ENTRY bytes per message: seq (8 bytes),
                size (4 bytes), type (1 byte: ZFLOW_WS_TYPE_*), flags
                (1 byte: ZFLOW_WS_FLAG_*), two zero bytes; big-endian
        data    the payloads back to back

    zflow_ws_stream_read takes a batch apart and hands out one envelope at a
    time (key, meta with that message's seq, content type and opcode,
    payload): the hand-over between threads is paid per batch, not per
    message. A stream whose reader never called zflow_ws_stream_read gets
    the same messages as plain envelopes ("singles") instead.

    This file is the whole format: the writer (zflow_ws_batch_t, used by
    the actor) and the reader (zflow_ws_unbatch_t, used by the stream).

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_WS_BATCH_H_INCLUDED
#define ZFLOW_WS_BATCH_H_INCLUDED

#include "zflow_meta.h"
#include "zflow_msg.h"
#include "zflow_ws_proto.h"
#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ZFLOW_WS_BATCH_ENTRY 16           //  bytes of one index entry
#define ZFLOW_WS_BATCH_DEFAULT 256        //  most messages in one batch by default
#define ZFLOW_WS_BATCH_BYTES (256 * 1024) //  a batch is sent once its payloads reach this

//  Content types in the index (the type byte).
#define ZFLOW_WS_TYPE_JSON 0   //  application/json
#define ZFLOW_WS_TYPE_TEXT 1   //  text/plain
#define ZFLOW_WS_TYPE_BINARY 2 //  application/octet-stream

//  Flags in the index (the flags byte).
#define ZFLOW_WS_FLAG_BINARY 0x01 //  the message came in a binary frame (else text)

//  Content type text of a type byte.
const char *zflow__ws_type_name (int type);

//  Sets the per-message fields of meta: seq, content type and the opcode
//  extra field ("text" / "binary").
void zflow__ws_meta_message (zflow_meta_t *meta, uint64_t seq, int type, bool binary);

//  ---------------------------------------------------------------------
//  Writer (the actor)

//  A batch being built for one stream.
typedef struct {
    zflow_ws_buf_t index; //  its index entries
    zflow_ws_buf_t data;  //  its payloads
    size_t count;         //  messages in it
} zflow_ws_batch_t;

//  Makes room for size more bytes in buf (the slow path of _batch_add).
//  Returns 0 or -1 (out of memory).
int zflow__ws_buf_grow (zflow_ws_buf_t *buf, size_t size);

//  Appends one message. Returns 0, or -1 when out of memory (the batch is
//  unchanged). Inline: it runs for every message and every stream.
static inline int zflow__ws_batch_add (zflow_ws_batch_t *self, uint64_t seq, int type, bool binary,
                                       const uint8_t *data, size_t size)
{
    if ((self->index.size + ZFLOW_WS_BATCH_ENTRY > self->index.cap &&
         zflow__ws_buf_grow (&self->index, ZFLOW_WS_BATCH_ENTRY)) ||
        (self->data.size + size > self->data.cap && zflow__ws_buf_grow (&self->data, size)))
        return -1;
    uint8_t *entry = self->index.data + self->index.size;
    uint64_t seq_be = htobe64 (seq);
    uint32_t size_be = htobe32 ((uint32_t) size);
    memcpy (entry, &seq_be, 8);
    memcpy (entry + 8, &size_be, 4);
    entry[12] = (uint8_t) type;
    entry[13] = binary ? ZFLOW_WS_FLAG_BINARY : 0;
    entry[14] = entry[15] = 0;
    self->index.size += ZFLOW_WS_BATCH_ENTRY;
    if (size)
        memcpy (self->data.data + self->data.size, data, size);
    self->data.size += size;
    self->count++;
    return 0;
}

//  Empties the batch (keeps its memory).
void zflow__ws_batch_reset (zflow_ws_batch_t *self);

//  Frees the batch's memory.
void zflow__ws_batch_free (zflow_ws_batch_t *self);

//  Sends the batch as one ZeroMQ message on the libzmq socket handle,
//  without blocking: key (key_size bytes), meta, index, data. meta is
//  scratch space with the source set: seq, ts, content type and "batch"
//  are written into it. Returns 0, or -1 when the socket refused it
//  (EAGAIN: full) or the meta did not encode; the batch is not emptied.
int zflow__ws_batch_send (zflow_ws_batch_t *self, void *handle, const void *key, size_t key_size,
                          zflow_meta_t *meta);

//  Sends the batch's messages as plain envelopes (key, meta, payload), from
//  the first until the socket refuses one, and keeps the rest in the
//  batch. meta is scratch space with the source set (no "batch" field).
//  Returns how many went.
size_t zflow__ws_batch_send_singles (zflow_ws_batch_t *self, void *handle, const void *key,
                                     size_t key_size, zflow_meta_t *meta);

//  ---------------------------------------------------------------------
//  Reader (zflow_ws_stream_read)

//  Most meta templates: one per content type and opcode.
#define ZFLOW_WS_TEMPLATES 6

//  A batch being handed out, one envelope at a time.
typedef struct {
    zflow_msg_t *batch;                    //  the batch (4 frames), or empty
    size_t count;                          //  messages in it
    size_t next;                           //  the next one to hand out
    size_t offset;                         //  where its payload starts in data
    const uint8_t *key;                    //  the batch's frames (they live in
    size_t key_size;                       //  batch): key, its size,
    const uint8_t *index;                  //  index,
    const uint8_t *data;                   //  and payloads
    zflow_meta_t *meta;                    //  meta of the envelopes (src, ts)
    uint8_t tmpl[ZFLOW_WS_TEMPLATES][256]; //  per type and opcode: meta encoded,
    size_t tmpl_size[ZFLOW_WS_TEMPLATES];  //  its size (0 until made for this batch),
    size_t tmpl_seq[ZFLOW_WS_TEMPLATES];   //  where seq's 8 bytes go in it
} zflow_ws_unbatch_t;

//  Prepares a reader. Returns 0 or ZFLOW_ENOMEM (then call _fini anyway).
int zflow__ws_unbatch_init (zflow_ws_unbatch_t *self);

//  Frees what the reader holds.
void zflow__ws_unbatch_fini (zflow_ws_unbatch_t *self);

//  True while messages of the batch remain to be handed out.
static inline bool zflow__ws_unbatch_more (const zflow_ws_unbatch_t *self)
{
    return self->count > 0;
}

//  True when msg (as read from the stream) is a batch: four frames.
bool zflow__ws_unbatch_is_batch (zflow_msg_t *msg);

//  Takes the batch in msg (msg is left empty). Returns the number of
//  messages in it, or ZFLOW_EPROTO when it is not a well-formed batch
//  (dropped).
int zflow__ws_unbatch_take (zflow_ws_unbatch_t *self, zflow_msg_t *msg);

//  Hands out the next message as an envelope in msg; *binary_p gets its
//  opcode. Returns 0, or ZFLOW_ENOMEM (that message is lost, msg empty).
int zflow__ws_unbatch_next (zflow_ws_unbatch_t *self, zflow_msg_t *msg, bool *binary_p);

#endif
