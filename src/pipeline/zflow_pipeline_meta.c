/*  =========================================================================
    zflow_pipeline_meta - a source's meta frame from a template

    A source wraps every message with the same meta but for its sequence
    number and timestamp, and encoding it field by field with msgpack was
    a twelfth of a chained pipeline's work. The template is the encoding of
    the source's meta with two marker values in place of those two fields;
    each message copies the bytes around them and encodes only the two
    integers, as msgpack-c does (the smallest form). The template checks
    itself against zflow_meta_encode on a few values at setup and is not
    used when any differs, so the bytes on the wire are the same either way.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_pipeline_stage.h"
#include <string.h>

//  Marker values: large enough to take msgpack's 9-byte form, unlikely
//  anywhere else in a meta.
#define S_SEQ_MARK 0xF1E2D3C4B5A69788ULL
#define S_TS_MARK 0x71E2D3C4B5A69799LL

//  Returns the offset of the 8-byte big-endian value in wire, or -1.
static long s_find (const char *wire, size_t size, uint64_t value)
{
    unsigned char pattern[8];
    for (int i = 0; i < 8; i++)
        pattern[i] = (unsigned char) (value >> (56 - 8 * i));
    for (size_t at = 1; at + 8 <= size; at++)
        if (memcmp (wire + at, pattern, 8) == 0)
            return (long) at;
    return -1;
}

//  Returns the bytes of msgpack's smallest unsigned form of value.
static inline size_t s_uint_size (uint64_t value)
{
    return value < 128 ? 1 : value < 256 ? 2 : value < 65536 ? 3 : value < (1ULL << 32) ? 5 : 9;
}

//  Writes value in msgpack's smallest unsigned form to out. Returns the
//  bytes written.
static inline size_t s_pack_uint (uint64_t value, char *out)
{
    size_t size = s_uint_size (value);
    if (size == 1) {
        out[0] = (char) value;
        return 1;
    }
    unsigned char *at = (unsigned char *) out;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (size == 9) { //  a timestamp's: one store
        at[0] = 0xcf;
        uint64_t big = __builtin_bswap64 (value);
        memcpy (at + 1, &big, 8);
        return 9;
    }
#endif
    at[0] = size == 2 ? 0xcc : size == 3 ? 0xcd : size == 5 ? 0xce : 0xcf;
    for (size_t i = size - 1; i >= 1; i--, value >>= 8)
        at[i] = (unsigned char) value; //  big-endian
    return size;
}

size_t zflow__meta_template_size (const zflow__meta_template_t *self, uint64_t seq, int64_t ts)
{
    return self->size - 18 + s_uint_size (seq) + s_uint_size ((uint64_t) ts);
}

void zflow__meta_template_fill (const zflow__meta_template_t *self, uint64_t seq, int64_t ts,
                                char *out)
{
    const char *wire = self->wire;
    memcpy (out, wire, self->seq_at);
    out += self->seq_at;
    out += s_pack_uint (seq, out);
    size_t middle = self->ts_at - self->seq_at - 9;
    memcpy (out, wire + self->seq_at + 9, middle);
    out += middle;
    out += s_pack_uint ((uint64_t) ts, out);
    memcpy (out, wire + self->ts_at + 9, self->size - self->ts_at - 9);
}

//  True when the template gives what zflow_meta_encode gives for seq, ts.
static bool s_same (const zflow__meta_template_t *self, zflow_meta_t *meta, uint64_t seq,
                    int64_t ts)
{
    zflow_meta_set_seq (meta, seq);
    zflow_meta_set_timestamp (meta, ts);
    char want[ZFLOW_META_MAX_WIRE], got[ZFLOW_META_MAX_WIRE];
    int size = zflow_meta_encode (meta, want, sizeof (want));
    if (size < 0 || (size_t) size != zflow__meta_template_size (self, seq, ts))
        return false;
    zflow__meta_template_fill (self, seq, ts, got);
    return memcmp (want, got, (size_t) size) == 0;
}

int zflow__meta_template_init (zflow__meta_template_t *self, zflow_meta_t *meta)
{
    memset (self, 0, sizeof (*self));
    zflow_meta_set_seq (meta, S_SEQ_MARK);
    zflow_meta_set_timestamp (meta, S_TS_MARK);
    int size = zflow_meta_encode (meta, self->wire, sizeof (self->wire));
    long seq_at = size > 0 ? s_find (self->wire, (size_t) size, S_SEQ_MARK) - 1 : -1;
    long ts_at = size > 0 ? s_find (self->wire, (size_t) size, (uint64_t) S_TS_MARK) - 1 : -1;
    //  each marker in its 9-byte form, seq before ts, as zflow_meta_encode
    //  writes them
    if (seq_at < 0 || ts_at < seq_at + 9 || (unsigned char) self->wire[seq_at] != 0xcf ||
        (unsigned char) self->wire[ts_at] != 0xcf)
        return -1;
    self->size = (size_t) size;
    self->seq_at = (size_t) seq_at;
    self->ts_at = (size_t) ts_at;
    int64_t now = zclock_time () * 1000;
    if (!s_same (self, meta, 1, now) || !s_same (self, meta, 200, now) ||
        !s_same (self, meta, 70000, 1) || !s_same (self, meta, 1ULL << 40, 300) ||
        !s_same (self, meta, 127, 65535))
        return -1;
    return 0;
}
