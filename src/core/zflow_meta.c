/*  =========================================================================
    zflow_meta - envelope metadata and its msgpack codec

    The only file in zflow that includes msgpack.h. Encoding packs into the
    caller's buffer through a bounded write callback (no allocation);
    decoding uses one msgpack zone per meta object, cleared between
    messages, so a reused meta allocates nothing per message.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_meta.h"
#include "zflow_error.h"
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define TEXT_SIZE (ZFLOW_META_MAX_TEXT + 1)

struct _zflow_meta_t {
    bool has_source;                                   //  source is set
    char source[TEXT_SIZE];                            //  who published
    uint64_t seq;                                      //  sequence number (0 = unset)
    int64_t ts;                                        //  microseconds since the epoch (0 = unset)
    bool has_content_type;                             //  content_type is set
    char content_type[TEXT_SIZE];                      //  MIME-like type of the payload
    size_t extras;                                     //  extra fields in use
    char extra_name[ZFLOW_META_MAX_EXTRA][TEXT_SIZE];  //  their names
    char extra_value[ZFLOW_META_MAX_EXTRA][TEXT_SIZE]; //  and values
    msgpack_zone zone;                                 //  decoding arena, reused
};

zflow_meta_t *zflow_meta_new (void)
{
    zflow_meta_t *self = (zflow_meta_t *) calloc (1, sizeof (zflow_meta_t));
    if (self && !msgpack_zone_init (&self->zone, 2048)) {
        free (self);
        self = NULL;
    }
    return self;
}

void zflow_meta_destroy (zflow_meta_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    msgpack_zone_destroy (&(*self_p)->zone);
    free (*self_p);
    *self_p = NULL;
}

void zflow_meta_reset (zflow_meta_t *self)
{
    self->has_source = self->has_content_type = false;
    self->seq = 0;
    self->ts = 0;
    self->extras = 0;
}

//  Copies a text field of size bytes, checking the limit.
static int s_set_text (char *target, bool *has, const char *value, size_t size)
{
    if (size > ZFLOW_META_MAX_TEXT)
        return ZFLOW_ETOOBIG;
    memcpy (target, value, size);
    target[size] = 0;
    *has = true;
    return 0;
}

int zflow_meta_set_source (zflow_meta_t *self, const char *source)
{
    if (!source) {
        self->has_source = false;
        return 0;
    }
    return s_set_text (self->source, &self->has_source, source, strlen (source));
}

const char *zflow_meta_source (const zflow_meta_t *self)
{
    return self->has_source ? self->source : NULL;
}

void zflow_meta_set_seq (zflow_meta_t *self, uint64_t seq)
{
    self->seq = seq;
}

uint64_t zflow_meta_seq (const zflow_meta_t *self)
{
    return self->seq;
}

void zflow_meta_set_timestamp (zflow_meta_t *self, int64_t usec)
{
    self->ts = usec;
}

int64_t zflow_meta_timestamp (const zflow_meta_t *self)
{
    return self->ts;
}

void zflow_meta_stamp (zflow_meta_t *self)
{
    struct timeval now;
    gettimeofday (&now, NULL);
    self->ts = (int64_t) now.tv_sec * 1000000 + now.tv_usec;
}

int zflow_meta_set_content_type (zflow_meta_t *self, const char *content_type)
{
    if (!content_type) {
        self->has_content_type = false;
        return 0;
    }
    return s_set_text (self->content_type, &self->has_content_type, content_type,
                       strlen (content_type));
}

const char *zflow_meta_content_type (const zflow_meta_t *self)
{
    return self->has_content_type ? self->content_type : NULL;
}

static bool s_reserved (const char *name, size_t size)
{
    static const char *reserved[] = {"v", "src", "seq", "ts", "ct"};
    for (size_t i = 0; i < sizeof (reserved) / sizeof (reserved[0]); i++)
        if (strlen (reserved[i]) == size && memcmp (reserved[i], name, size) == 0)
            return true;
    return false;
}

//  Sets extra field (name, value) given with sizes. Shared by set and decode.
static int s_set_extra (zflow_meta_t *self, const char *name, size_t name_size, const char *value,
                        size_t value_size)
{
    if (name_size == 0 || s_reserved (name, name_size))
        return ZFLOW_EINVAL;
    if (name_size > ZFLOW_META_MAX_TEXT || value_size > ZFLOW_META_MAX_TEXT)
        return ZFLOW_ETOOBIG;
    size_t index = 0;
    while (index < self->extras && !(strlen (self->extra_name[index]) == name_size &&
                                     memcmp (self->extra_name[index], name, name_size) == 0))
        index++;
    if (index == ZFLOW_META_MAX_EXTRA)
        return ZFLOW_EFULL;
    bool unused;
    s_set_text (self->extra_name[index], &unused, name, name_size);
    s_set_text (self->extra_value[index], &unused, value, value_size);
    if (index == self->extras)
        self->extras++;
    return 0;
}

int zflow_meta_set (zflow_meta_t *self, const char *name, const char *value)
{
    if (!name || !value)
        return ZFLOW_EINVAL;
    return s_set_extra (self, name, strlen (name), value, strlen (value));
}

const char *zflow_meta_get (const zflow_meta_t *self, const char *name)
{
    for (size_t i = 0; name && i < self->extras; i++)
        if (strcmp (self->extra_name[i], name) == 0)
            return self->extra_value[i];
    return NULL;
}

size_t zflow_meta_extra_count (const zflow_meta_t *self)
{
    return self->extras;
}

const char *zflow_meta_extra_name (const zflow_meta_t *self, size_t index)
{
    return index < self->extras ? self->extra_name[index] : NULL;
}

const char *zflow_meta_extra_value (const zflow_meta_t *self, size_t index)
{
    return index < self->extras ? self->extra_value[index] : NULL;
}

//  ---------------------------------------------------------------------
//  Encoding

typedef struct {
    char *data;      //  the caller's buffer
    size_t capacity; //  its size
    size_t size;     //  bytes written so far
    bool overflow;   //  a write did not fit
} s_buffer_t;

static int s_buffer_write (void *data, const char *buf, size_t len)
{
    s_buffer_t *buffer = (s_buffer_t *) data;
    //  once one write failed, later small ones must not land after the gap
    if (buffer->overflow || buffer->size + len > buffer->capacity) {
        buffer->overflow = true;
        return -1;
    }
    memcpy (buffer->data + buffer->size, buf, len);
    buffer->size += len;
    return 0;
}

static void s_pack_str (msgpack_packer *pk, const char *string)
{
    size_t size = strlen (string);
    msgpack_pack_str (pk, size);
    msgpack_pack_str_body (pk, string, size);
}

int zflow_meta_encode (const zflow_meta_t *self, void *buffer, size_t capacity)
{
    s_buffer_t out = {(char *) buffer, capacity, 0, false};
    msgpack_packer pk;
    msgpack_packer_init (&pk, &out, s_buffer_write);
    size_t fields = 1 + self->has_source + (self->seq != 0) + (self->ts != 0) +
                    self->has_content_type + self->extras;
    msgpack_pack_map (&pk, fields);
    s_pack_str (&pk, "v");
    msgpack_pack_uint8 (&pk, ZFLOW_META_VERSION);
    if (self->has_source) {
        s_pack_str (&pk, "src");
        s_pack_str (&pk, self->source);
    }
    if (self->seq) {
        s_pack_str (&pk, "seq");
        msgpack_pack_uint64 (&pk, self->seq);
    }
    if (self->ts) {
        s_pack_str (&pk, "ts");
        msgpack_pack_int64 (&pk, self->ts);
    }
    if (self->has_content_type) {
        s_pack_str (&pk, "ct");
        s_pack_str (&pk, self->content_type);
    }
    for (size_t i = 0; i < self->extras; i++) {
        s_pack_str (&pk, self->extra_name[i]);
        s_pack_str (&pk, self->extra_value[i]);
    }
    return out.overflow ? ZFLOW_ETOOBIG : (int) out.size;
}

//  ---------------------------------------------------------------------
//  Decoding

//  The standard fields, told apart by length and bytes without strlen: this
//  runs for every field of every message read.
typedef enum { FIELD_EXTRA, FIELD_V, FIELD_SRC, FIELD_SEQ, FIELD_TS, FIELD_CT } field_t;

static field_t s_field (const msgpack_object *key)
{
    const char *name = key->via.str.ptr;
    switch (key->via.str.size) {
    case 1:
        return name[0] == 'v' ? FIELD_V : FIELD_EXTRA;
    case 2:
        if (name[0] == 't' && name[1] == 's')
            return FIELD_TS;
        return name[0] == 'c' && name[1] == 't' ? FIELD_CT : FIELD_EXTRA;
    case 3:
        if (memcmp (name, "src", 3) == 0)
            return FIELD_SRC;
        return memcmp (name, "seq", 3) == 0 ? FIELD_SEQ : FIELD_EXTRA;
    default:
        return FIELD_EXTRA;
    }
}

//  Decodes one text field (source, content type or an extra).
static int s_decode_text (zflow_meta_t *self, field_t field, const msgpack_object *key,
                          const msgpack_object *value)
{
    if (value->type != MSGPACK_OBJECT_STR)
        return ZFLOW_EPROTO;
    const char *text = value->via.str.ptr;
    size_t size = value->via.str.size;
    if (memchr (text, 0, size))
        return ZFLOW_EPROTO; //  texts are handed out as C strings
    if (field == FIELD_SRC)
        return s_set_text (self->source, &self->has_source, text, size);
    if (field == FIELD_CT)
        return s_set_text (self->content_type, &self->has_content_type, text, size);
    if (memchr (key->via.str.ptr, 0, key->via.str.size))
        return ZFLOW_EPROTO;
    int rc = s_set_extra (self, key->via.str.ptr, key->via.str.size, text, size);
    return rc == ZFLOW_EFULL ? ZFLOW_ETOOBIG : rc;
}

//  Decodes one map entry into self. Returns 0 or an error code.
static int s_decode_field (zflow_meta_t *self, const msgpack_object *key,
                           const msgpack_object *value, bool *version_seen)
{
    if (key->type != MSGPACK_OBJECT_STR)
        return ZFLOW_EPROTO;
    bool is_uint = value->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
    bool is_int = is_uint || value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
    field_t field = s_field (key);
    switch (field) {
    case FIELD_V:
        if (!is_uint || value->via.u64 != ZFLOW_META_VERSION)
            return ZFLOW_EPROTO;
        *version_seen = true;
        return 0;
    case FIELD_SEQ:
        if (!is_uint)
            return ZFLOW_EPROTO;
        self->seq = value->via.u64;
        return 0;
    case FIELD_TS:
        if (!is_int || (is_uint && value->via.u64 > INT64_MAX))
            return ZFLOW_EPROTO;
        self->ts = value->via.i64;
        return 0;
    default:
        return s_decode_text (self, field, key, value);
    }
}

int zflow_meta_decode (zflow_meta_t *self, const void *data, size_t size)
{
    zflow_meta_reset (self);
    if (!data || size == 0 || size > ZFLOW_META_MAX_WIRE)
        return size > ZFLOW_META_MAX_WIRE ? ZFLOW_ETOOBIG : ZFLOW_EPROTO;
    msgpack_zone_clear (&self->zone);
    msgpack_object root;
    size_t offset = 0;
    msgpack_unpack_return ret =
        msgpack_unpack ((const char *) data, size, &offset, &self->zone, &root);
    int rc = 0;
    if (ret != MSGPACK_UNPACK_SUCCESS || offset != size || root.type != MSGPACK_OBJECT_MAP)
        rc = ZFLOW_EPROTO;
    bool version_seen = false;
    for (uint32_t i = 0; rc == 0 && i < root.via.map.size; i++)
        rc = s_decode_field (self, &root.via.map.ptr[i].key, &root.via.map.ptr[i].val,
                             &version_seen);
    if (rc == 0 && !version_seen)
        rc = ZFLOW_EPROTO;
    if (rc)
        zflow_meta_reset (self);
    return rc;
}
