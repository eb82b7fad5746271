/*  =========================================================================
    zflow_meta - the metadata of a zflow envelope (frame 2)

    Source, sequence number, timestamp, content type, and up to
    ZFLOW_META_MAX_EXTRA extra text fields ("ident" for hpfeeds, ...). On the
    wire it is one msgpack map (see zflow_envelope.h and docs/core.md):

        { "v": 1, "src": str, "seq": uint, "ts": int (microseconds since the
          UNIX epoch), "ct": str, <name>: str ... }

    All fields but "v" are optional. A meta object is reusable: decode into
    the same one again and again and nothing is allocated per message.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_META_H_INCLUDED
#define ZFLOW_META_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zflow_meta_t zflow_meta_t;

#define ZFLOW_META_VERSION 1
//  Longest text value (source, content type, extra names and values).
#define ZFLOW_META_MAX_TEXT 255
//  Most extra fields one meta holds.
#define ZFLOW_META_MAX_EXTRA 8
//  Largest encoded meta, in bytes.
#define ZFLOW_META_MAX_WIRE 4096

//  Creates an empty meta (no fields set). Returns NULL only when out of
//  memory. The caller owns it (zflow_meta_destroy).
zflow_meta_t *zflow_meta_new (void);

//  Destroys the meta and sets *self_p to NULL. Idempotent and NULL-safe
//  (self_p NULL or *self_p NULL do nothing).
void zflow_meta_destroy (zflow_meta_t **self_p);

//  Clears every field.
void zflow_meta_reset (zflow_meta_t *self);

//  Sets the source (who published). NULL clears it. Returns 0, or
//  ZFLOW_ETOOBIG when longer than ZFLOW_META_MAX_TEXT.
int zflow_meta_set_source (zflow_meta_t *self, const char *source);

//  Returns the source, or NULL if unset. Owned by the meta.
const char *zflow_meta_source (const zflow_meta_t *self);

//  Sets / returns the sequence number (0 and unset are the same).
void zflow_meta_set_seq (zflow_meta_t *self, uint64_t seq);
uint64_t zflow_meta_seq (const zflow_meta_t *self);

//  Sets / returns the timestamp in microseconds since the UNIX epoch (0 is
//  unset). zflow_meta_stamp sets it to now.
void zflow_meta_set_timestamp (zflow_meta_t *self, int64_t usec);
int64_t zflow_meta_timestamp (const zflow_meta_t *self);
void zflow_meta_stamp (zflow_meta_t *self);

//  Sets the content type ("application/json", ...). NULL clears it.
//  Returns 0, or ZFLOW_ETOOBIG.
int zflow_meta_set_content_type (zflow_meta_t *self, const char *content_type);

//  Returns the content type, or NULL if unset. Owned by the meta.
const char *zflow_meta_content_type (const zflow_meta_t *self);

//  Sets an extra text field (replacing one of the same name). Names "v",
//  "src", "seq", "ts", "ct" are reserved. Returns 0, ZFLOW_EINVAL (NULL or
//  reserved or empty name, NULL value), ZFLOW_ETOOBIG (text too long) or
//  ZFLOW_EFULL (ZFLOW_META_MAX_EXTRA fields already).
int zflow_meta_set (zflow_meta_t *self, const char *name, const char *value);

//  Returns the value of extra field name, or NULL. Owned by the meta.
const char *zflow_meta_get (const zflow_meta_t *self, const char *name);

//  Returns the number of extra fields, and the name / value of extra field
//  index (NULL past the end). Owned by the meta.
size_t zflow_meta_extra_count (const zflow_meta_t *self);
const char *zflow_meta_extra_name (const zflow_meta_t *self, size_t index);
const char *zflow_meta_extra_value (const zflow_meta_t *self, size_t index);

//  Encodes the meta as msgpack into buffer (capacity bytes). Returns the
//  encoded size (> 0), or ZFLOW_ETOOBIG when it does not fit.
int zflow_meta_encode (const zflow_meta_t *self, void *buffer, size_t capacity);

//  Decodes msgpack data into self (reset first). Returns 0, or ZFLOW_EPROTO
//  when the data is not a meta map of a known version (not msgpack, not a
//  map, missing or unknown "v", a field of the wrong type, trailing bytes),
//  or ZFLOW_ETOOBIG (a text over the limit, too many extras). self is left
//  reset on error.
int zflow_meta_decode (zflow_meta_t *self, const void *data, size_t size);

#ifdef __cplusplus
}
#endif

#endif
